//! The supplier's portal (issue 16, screens 1–3), for a supplier's super-admins and admins: the
//! customer organisations (search over SRC-16's fields, status filter, pages, a registration
//! link for a prospect, a new organisation with its super-admin and first licence), and each
//! organisation's page with the seed's tabs («Données de base», «Avancé», settings, contact
//! persons, licences with used and free seats) and its toolbar: direct login, send access data,
//! block or unblock. Same services as the API's supplier mutations.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDate;
use clientele_kernel::page::{PageRequest, encode_cursor};
use clientele_kernel::person::ContactDetails;
use clientele_kernel::{AppError, AppResult, ErrorCode, Language, OrgKind, Permission, TenantId};
use clientele_tenants::OrganisationStatus;
use clientele_tenants::customers::{CustomerFilter, CustomerInput, CustomerOrg, NewCustomer, OrgText};
use clientele_tenants::licences::{Licence, LicenceInput};
use clientele_tenants::registration::{NewRegistrationLink, Prospect};
use clientele_tenants::terms::UserLogin;
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::catalogue::{GroupRow, ViewRow, price};
use crate::clients::opt;
use crate::record::{FileRow, file_rows};
use crate::session::{self, SESSION, Signed};
use crate::view::{self, Base, FieldErrors, redirect};
use crate::{Console, Lang};

/// Organisations per page.
const PAGE: i64 = 50;

/// Organisations read per query by the export (the largest page).
const EXPORT_PAGE: i64 = 100;

/// The cookie that keeps the supplier's own session while it is inside a customer.
pub(crate) const RETURN: &str = "clientele_return";

/// Whether the caller runs customer organisations: a supplier's super-admin or admin, in person.
pub(crate) fn sees_customers(caller: &Signed) -> bool {
    let ctx = &caller.auth.ctx;
    ctx.kind() == OrgKind::Supplier && ctx.can(Permission::ManageCustomers) && ctx.actor().on_behalf_of.is_none()
}

/// `FORBIDDEN` unless the caller runs customer organisations ([`sees_customers`]).
pub(crate) fn require_customers(caller: &Signed) -> AppResult<()> {
    if sees_customers(caller) { Ok(()) } else { Err(AppError::forbidden()) }
}

pub(crate) fn parse_org(raw: &str) -> AppResult<TenantId> {
    raw.parse::<uuid::Uuid>().map(TenantId).map_err(|_| AppError::not_found())
}

/// One row of the list.
pub(crate) struct OrgRow {
    id: String,
    number: String,
    name: String,
    city: String,
    status: String,
    blocked: bool,
}

impl OrgRow {
    fn of(org: &CustomerOrg, t: Lang) -> Self {
        let r = &org.row;
        let place = [r.postcode.as_deref(), r.city.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        Self {
            id: r.id.to_string(),
            number: r.number.map(|n| t.number(n)).unwrap_or_default(),
            name: r.name.clone(),
            city: place,
            status: t.s(&format!("org-status-{}", <&str>::from(org.status()))),
            blocked: r.blocked,
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ListQuery {
    q: String,
    status: String,
    category: String,
    language: String,
    /// `1` blocked only, `0` not blocked, empty both.
    blocked: String,
    after: String,
}

impl ListQuery {
    fn filter(&self) -> AppResult<CustomerFilter> {
        Ok(CustomerFilter {
            query: opt(&self.q),
            status: parsed(&self.status, "status", "Choose a status.")?,
            category: parsed(&self.category, "category", "Choose a category.")?,
            language: parsed(&self.language, "language", "Choose a language.")?,
            blocked: match self.blocked.as_str() {
                "" => None,
                "1" => Some(true),
                "0" => Some(false),
                _ => return Err(AppError::invalid("blocked", "Choose blocked or not.")),
            },
        })
    }

    /// The filters as a query string (no page), for the export and next-page links.
    fn filters(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("status", &self.status),
            ("category", &self.category),
            ("language", &self.language),
            ("blocked", &self.blocked),
        ];
        serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>()).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct ListPage {
    base: Base,
    q: ListQuery,
    statuses: Vec<(&'static str, String)>,
    /// The supplier's organisation categories: (id, title).
    categories: Vec<(String, String)>,
    languages: Vec<&'static str>,
    /// The list's filters as a query string, for the export link.
    filters: String,
    rows: Vec<OrgRow>,
    /// How many organisations match, for people.
    total: String,
    next: Option<String>,
    /// The registration link just made, shown this once.
    link: Option<String>,
    link_errors: FieldErrors,
}

fn statuses(t: Lang) -> Vec<(&'static str, String)> {
    OrganisationStatus::iter().map(<&str>::from).map(|s| (s, t.s(&format!("org-status-{s}")))).collect()
}

async fn list_page(
    console: &Console,
    caller: &Signed,
    q: ListQuery,
    link: (Option<String>, FieldErrors),
    status: StatusCode,
) -> Response {
    let ctx = &caller.auth.ctx;
    let listed = async {
        let request = PageRequest::new(Some(PAGE), opt(&q.after), None, None)?;
        let orgs = console.tenants.customers.list(ctx, &q.filter()?, request).await?;
        Ok::<_, AppError>((orgs, console.tenants.org_categories.list(ctx).await?))
    }
    .await;
    let (orgs, categories) = match listed {
        Ok(orgs) => orgs,
        Err(err) => return view::failed(console, caller, &err),
    };
    let t = caller.lang;
    let page = ListPage {
        base: Base::of(console, caller, "/organisations"),
        statuses: statuses(t),
        categories: categories.into_iter().map(|c| (c.id.to_string(), c.title)).collect(),
        languages: languages(),
        filters: q.filters(),
        rows: orgs.items.iter().map(|o| OrgRow::of(o, t)).collect(),
        total: t.number(i64::try_from(orgs.total_count).unwrap_or(i64::MAX)),
        next: orgs.has_next_page.then(|| orgs.items.last().map(|o| encode_cursor(o.row.id.0))).flatten(),
        link: link.0,
        link_errors: link.1,
        q,
    };
    view::html(status, &page)
}

/// A filter's value: none when left empty, else parsed (refused with `message` at `field`).
fn parsed<T: std::str::FromStr>(raw: &str, field: &str, message: &str) -> AppResult<Option<T>> {
    opt(raw).map(|v| v.parse().map_err(|_| AppError::invalid(field, message))).transpose()
}

/// The export's columns: number, company, the address and communication fields, status,
/// language, blocked, valid from.
const EXPORTED: [OrgText; 7] = [
    OrgText::LegalForm,
    OrgText::Street,
    OrgText::Postcode,
    OrgText::City,
    OrgText::Country,
    OrgText::Phone,
    OrgText::Email,
];

/// `GET /organisations/export.xlsx` (issue 16, screen 1): the organisations the list's filters
/// find, every page of them, as a workbook written to a temp file and sent from there.
pub(crate) async fn export_xlsx(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    use clientele_records::clients::export::{Cell, XlsxSheet};

    let q = query.map(|Query(q)| q).unwrap_or_default();
    let t = caller.lang;
    let ctx = &caller.auth.ctx;
    let written = async {
        let filter = q.filter()?;
        let file = view::temp_file(&console).await?;
        let dir = &console.tmp_dir;
        let mut headers = vec![t.s("field-number"), t.s("org-field-name")];
        headers.extend(EXPORTED.iter().map(|&f| t.s(&format!("org-field-{}", <&str>::from(f)))));
        headers.extend(["field-status", "org-field-language", "org-blocked", "org-field-valid_from"].map(|k| t.s(k)));
        let mut sheet = XlsxSheet::new(dir, &t.s("nav-organisations"), &headers)?;
        let mut after = None;
        loop {
            let page = console
                .tenants
                .customers
                .list(ctx, &filter, PageRequest::new(Some(EXPORT_PAGE), after, None, None)?)
                .await?;
            let rows: Vec<Vec<Cell>> = page
                .items
                .iter()
                .map(|o| {
                    let r = &o.row;
                    let mut cells = vec![r.number.map_or(Cell::Empty, Cell::Int), Cell::Text(r.name.clone())];
                    cells.extend(EXPORTED.iter().map(|f| f.get(r).map_or(Cell::Empty, |v| Cell::Text(v.to_owned()))));
                    cells.push(Cell::Text(t.s(&format!("org-status-{}", <&str>::from(o.status())))));
                    cells.push(Cell::Text(o.language().tag().to_owned()));
                    cells.push(Cell::Bool(r.blocked));
                    cells.push(r.valid_from.map_or(Cell::Empty, Cell::Date));
                    cells
                })
                .collect();
            sheet.write_rows(&rows)?;
            match page.items.last() {
                Some(last) if page.has_next_page => after = Some(encode_cursor(last.row.id.0)),
                _ => break,
            }
        }
        sheet.save(file.path().to_owned()).await?;
        view::workbook(file, "organisations.xlsx").await
    }
    .await;
    written.unwrap_or_else(|err| view::failed(&console, &caller, &err))
}

/// `GET /organisations`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    list_page(&console, &caller, q, Default::default(), StatusCode::OK).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LinkFields {
    days: String,
    note: String,
    /// A prospect's address to mail the link to, and its language.
    send_to: String,
    language: String,
}

/// `POST /organisations/registration-link` (ORG-02): a link for a prospect to register, shown once.
pub(crate) async fn registration_link(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<LinkFields>,
) -> Response {
    let made = async {
        let days = f.days.trim().parse::<i64>().ok().filter(|d| (1..=90).contains(d));
        let days = days.ok_or_else(|| AppError::invalid("days", "Give 1 to 90 days."))?;
        let expires_at = caller.auth.ctx.handles().now() + chrono::Duration::days(days);
        let send_to = match opt(&f.send_to) {
            Some(email) => Some(Prospect {
                email,
                language: parsed(&f.language, "language", "Choose a language.")?.unwrap_or_default(),
            }),
            None => None,
        };
        let input = NewRegistrationLink { expires_at, max_uses: Some(1), note: opt(&f.note), send_to };
        console.tenants.registration.create_link(&caller.auth.ctx, input).await
    }
    .await;
    match made {
        Ok(created) => {
            // The link is shown once either way; a mailed one is said to be on its way.
            let shown = (Some(created.url), FieldErrors::default());
            list_page(&console, &caller, ListQuery::default(), shown, StatusCode::CREATED).await
        }
        Err(err) if err.is_user_error() => {
            let shown = (None, FieldErrors::of(&err, caller.lang));
            list_page(&console, &caller, ListQuery::default(), shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// The new-organisation form's values.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct NewFields {
    name: String,
    language: String,
    seats: String,
    first_name: String,
    last_name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "organisation_new.html")]
struct NewPage {
    base: Base,
    f: NewFields,
    languages: Vec<&'static str>,
    errors: FieldErrors,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

pub(crate) fn languages() -> Vec<&'static str> {
    Language::iter().map(Language::tag).collect()
}

fn new_page(console: &Console, caller: &Signed, f: NewFields, errors: FieldErrors, status: StatusCode) -> Response {
    let page = NewPage { base: Base::of(console, caller, "/organisations/new"), f, languages: languages(), errors };
    view::html(status, &page)
}

/// `GET /organisations/new`.
pub(crate) async fn new_form(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    if !sees_customers(&caller) {
        return view::failed(&console, &caller, &AppError::forbidden());
    }
    let f = NewFields { language: caller.lang.tag().to_owned(), seats: "1".to_owned(), ..NewFields::default() };
    new_page(&console, &caller, f, FieldErrors::default(), StatusCode::OK)
}

fn language(raw: &str) -> AppResult<Language> {
    raw.parse().map_err(|_| AppError::invalid("language", "Choose a language."))
}

/// `POST /organisations`: the organisation, its super-admin (the contact) and its first licence.
pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<NewFields>,
) -> Response {
    let made = async {
        let seats = f.seats.trim().parse().map_err(|_| AppError::invalid("seats", "Give 0 to 100000 seats."))?;
        let contact = ContactDetails {
            first_name: opt(&f.first_name),
            last_name: f.last_name.trim().to_owned(),
            email: opt(&f.email),
            ..ContactDetails::default()
        };
        let data = CustomerInput { name: opt(&f.name), language: Some(language(&f.language)?), ..Default::default() };
        let new = NewCustomer { data, contacts: vec![contact], seats };
        console.tenants.customers.create(&caller.auth.ctx, new).await
    }
    .await;
    match made {
        Ok((org, _)) => redirect(&format!("/organisations/{}", org.row.id), caller.htmx),
        Err(err) if err.is_user_error() => {
            // The service names the first contact's fields `contacts.0.…`; the form has them plain.
            let mut errors = FieldErrors::of(&err, caller.lang);
            for (field, _) in &mut errors.fields {
                if let Some(plain) = field.strip_prefix("contacts.0.") {
                    *field = plain.to_owned();
                }
            }
            new_page(&console, &caller, f, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// The tabs of an organisation's page, by their `?tab=` name.
const TABS: [&str; 9] =
    ["basic", "advanced", "settings", "catalogue", "files", "contacts", "licences", "users", "plugins"];

/// The master-data fields each form tab edits.
fn tab_fields(tab: &str) -> &'static [OrgText] {
    use OrgText as T;
    match tab {
        "basic" => &[
            T::LegalForm,
            T::Street,
            T::PoBox,
            T::Postcode,
            T::City,
            T::Country,
            T::Phone,
            T::Fax,
            T::Email,
            T::Homepage,
            T::NotificationEmail,
            T::Remarks,
        ],
        "advanced" => &[
            T::BankName,
            T::BankStreet,
            T::BankCity,
            T::BankCountry,
            T::BankBic,
            T::BankCode,
            T::BankAccount,
            T::PaymentTerms,
            T::DeliveryTerms,
            T::NumberAtCustomer,
            T::VatId,
            T::TaxNumber,
            T::RegistrationNumber,
            T::RegistrationCourt,
        ],
        _ => &[],
    }
}

/// One input of a form tab.
pub(crate) struct Input {
    name: &'static str,
    label: String,
    value: String,
    long: bool,
    error: Option<String>,
}

pub(crate) struct ContactRow {
    name: String,
    email: String,
    phone: String,
    /// The first contact: the organisation's super-admin.
    super_admin: bool,
}

/// ORG-26: one of the organisation's users, with their answer to the current terms of use.
pub(crate) struct UserRow {
    name: String,
    email: String,
    role: String,
    status: String,
    last_sign_in: String,
    terms: String,
    terms_at: String,
}

impl UserRow {
    fn of(login: &UserLogin, t: Lang) -> Self {
        let u = &login.user;
        Self {
            name: u.display_name.clone(),
            email: u.email.clone(),
            role: t.s(&format!("role-{}", u.role.as_str())),
            status: t.s(&format!("status-{}", <&str>::from(u.status))),
            last_sign_in: u.last_sign_in_at.map(|at| t.date(at.date_naive())).unwrap_or_default(),
            terms: t.s(&format!("terms-status-{}", <&str>::from(login.terms_status))),
            terms_at: login.terms_responded_at.map(|at| t.date(at.date_naive())).unwrap_or_default(),
        }
    }
}

pub(crate) struct LicenceRow {
    title: String,
    kind: String,
    quantity: String,
    used: String,
    free: String,
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrgPage {
    base: Base,
    id: String,
    name: String,
    number: String,
    blocked: bool,
    direct_login_allowed: bool,
    which: &'static str,
    tabs: Vec<(&'static str, String)>,
    inputs: Vec<Input>,
    /// The settings tab's values.
    status: &'static str,
    statuses: Vec<(&'static str, String)>,
    language: &'static str,
    languages: Vec<&'static str>,
    valid_from: String,
    contacts: Vec<ContactRow>,
    licences: Vec<LicenceRow>,
    users: Vec<UserRow>,
    /// The catalogue tab: what it shows of the supplier's catalogue for this organisation.
    catalogue: Option<OrgCatalogue>,
    /// The settings tab's categories: (id, title, the organisation's).
    categories: Vec<(String, String, bool)>,
    files: Vec<FileRow>,
    /// The plugins tab: the supplier's plugins installed here.
    plugins: Vec<OrgPlugin>,
    /// What the last toolbar action or form did, or why it was refused.
    notice: Option<String>,
    errors: FieldErrors,
}

impl OrgPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

/// A plugin installed in the organisation.
pub(crate) struct OrgPlugin {
    id: String,
    name: String,
    version: String,
    enabled: bool,
    breaker: &'static str,
    failures: usize,
}

/// An organisation's catalogue and conditions (ORG-13..ORG-15).
pub(crate) struct OrgCatalogue {
    /// The views assigned to it: (id, name, is its default).
    assigned: Vec<(String, String, bool)>,
    /// Every view of the supplier, to assign.
    views: Vec<ViewRow>,
    groups: Vec<GroupRow>,
    /// Its customer group's id, empty for none.
    group: String,
    /// The items it sees: (SKU, name, list price, its price).
    items: Vec<(String, String, String, String)>,
}

async fn org_catalogue(console: &Console, caller: &Signed, org: &CustomerOrg) -> AppResult<OrgCatalogue> {
    let (ctx, t, catalogue) = (&caller.auth.ctx, caller.lang, &console.tenants.catalogue);
    let seen = catalogue.catalogue_of(ctx, org.row.id).await?;
    let assigned = seen.views.iter().filter(|_| seen.own_views);
    Ok(OrgCatalogue {
        assigned: assigned.map(|a| (a.view.id.to_string(), a.view.name.clone(), a.is_default)).collect(),
        views: catalogue.views(ctx).await?.iter().map(ViewRow::of).collect(),
        groups: catalogue.groups(ctx).await?.iter().map(|g| GroupRow::of(g, t)).collect(),
        group: org.row.customer_group_id.map(|g| g.to_string()).unwrap_or_default(),
        items: seen
            .items
            .iter()
            .map(|p| {
                let currency = &p.item.currency;
                (
                    p.item.sku.clone(),
                    p.item.name.clone(),
                    price(p.item.unit_price, currency, t),
                    price(p.effective_price, currency, t),
                )
            })
            .collect(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TabQuery {
    tab: String,
}

/// The page's tab, `basic` for an unknown one.
fn which(raw: &str) -> &'static str {
    TABS.iter().find(|t| **t == raw).copied().unwrap_or("basic")
}

/// What a form or action leaves on the page it comes back to.
#[derive(Default)]
struct Shown {
    /// The values sent, when the form is shown again.
    sent: Vec<(String, String)>,
    notice: Option<String>,
    errors: FieldErrors,
}

/// What the tab shown needs beside the organisation, as rows for people (the other tabs' stay empty).
#[derive(Default)]
struct TabRows {
    contacts: Vec<ContactRow>,
    licences: Vec<LicenceRow>,
    users: Vec<UserRow>,
    catalogue: Option<OrgCatalogue>,
    categories: Vec<(String, String, bool)>,
    files: Vec<FileRow>,
    plugins: Vec<OrgPlugin>,
}

async fn tab_rows(console: &Console, caller: &Signed, org: &CustomerOrg, which: &str) -> AppResult<TabRows> {
    let (t, ctx, id) = (caller.lang, &caller.auth.ctx, org.row.id);
    let mut rows = TabRows::default();
    match which {
        "contacts" => {
            let contacts = console.tenants.customers.contacts(ctx, id).await?;
            rows.contacts = contacts
                .iter()
                .enumerate()
                .map(|(i, c)| ContactRow {
                    name: [c.details.first_name.as_deref(), Some(c.details.last_name.as_str())]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                    email: c.details.email.clone().unwrap_or_default(),
                    phone: c.details.phone.clone().or_else(|| c.details.mobile.clone()).unwrap_or_default(),
                    super_admin: i == 0,
                })
                .collect();
        }
        "licences" => {
            rows.licences = console.tenants.licences.list(ctx, id).await?.iter().map(|l| licence_row(l, t)).collect();
        }
        "users" => {
            rows.users = console.tenants.terms.user_logins(ctx, id).await?.iter().map(|u| UserRow::of(u, t)).collect();
        }
        "catalogue" => rows.catalogue = Some(org_catalogue(console, caller, org).await?),
        "settings" => {
            let mine: Vec<uuid::Uuid> =
                console.tenants.org_categories.of(ctx, id).await?.iter().map(|c| c.id).collect();
            let all = console.tenants.org_categories.list(ctx).await?;
            rows.categories = all.into_iter().map(|c| (c.id.to_string(), c.title, mine.contains(&c.id))).collect();
        }
        "files" => rows.files = file_rows(console, t, &console.records.files.of_organisation(ctx, id).await?),
        "plugins" => {
            let installed = console.plugins.registry.installed_in(ctx, id).await?;
            rows.plugins = installed
                .into_iter()
                .map(|i| OrgPlugin {
                    id: i.installed.plugin.to_string(),
                    name: i.installed.name,
                    version: i.installed.version,
                    enabled: i.installed.enabled,
                    breaker: crate::plugins::breaker_state(i.breaker.state),
                    failures: i.breaker.failures.len(),
                })
                .collect();
        }
        _ => {}
    }
    Ok(rows)
}

async fn org_page(console: &Console, caller: &Signed, id: TenantId, which: &'static str, shown: Shown) -> Response {
    let t = caller.lang;
    let loaded = async {
        let org = console.tenants.customers.get(&caller.auth.ctx, id).await?;
        let rows = tab_rows(console, caller, &org, which).await?;
        Ok::<_, AppError>((org, rows))
    }
    .await;
    let (org, rows) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => return view::failed(console, caller, &err),
    };
    let status = if shown.errors.fields.is_empty() && shown.errors.general.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let sent = |name: &str| shown.sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut inputs: Vec<Input> = tab_fields(which)
        .iter()
        .map(|&field| {
            let name: &'static str = field.into();
            Input {
                name,
                label: t.s(&format!("org-field-{name}")),
                value: sent(name).unwrap_or_else(|| field.get(&org.row).unwrap_or_default().to_owned()),
                long: matches!(field, OrgText::Remarks | OrgText::PaymentTerms | OrgText::DeliveryTerms),
                error: shown.errors.get(name).map(str::to_owned),
            }
        })
        .collect();
    if which == "basic" {
        let name = Input {
            name: "name",
            label: t.s("org-field-name"),
            value: sent("name").unwrap_or_else(|| org.row.name.clone()),
            long: false,
            error: shown.errors.get("name").map(str::to_owned),
        };
        inputs.insert(0, name);
    }
    let TabRows { contacts, licences, users, catalogue, categories, files, plugins } = rows;
    let page = OrgPage {
        base: Base::of(console, caller, &format!("/organisations/{id}?tab={which}")),
        id: id.to_string(),
        name: org.row.name.clone(),
        number: org.row.number.map(|n| t.number(n)).unwrap_or_default(),
        blocked: org.row.blocked,
        direct_login_allowed: org.row.direct_login_allowed,
        which,
        tabs: TABS.iter().map(|w| (*w, t.s(&format!("org-tab-{w}")))).collect(),
        inputs,
        status: org.status().into(),
        statuses: statuses(t),
        language: org.language().tag(),
        languages: languages(),
        valid_from: org.row.valid_from.map(|d| d.to_string()).unwrap_or_default(),
        contacts,
        licences,
        users,
        catalogue,
        categories,
        files,
        plugins,
        notice: shown.notice,
        errors: shown.errors,
    };
    view::html(status, &page)
}

fn licence_row(l: &Licence, t: Lang) -> LicenceRow {
    LicenceRow {
        title: l.title.clone(),
        kind: t.s(&format!("licence-kind-{}", <&str>::from(l.kind))),
        quantity: t.number(i64::from(l.quantity)),
        used: t.number(l.used),
        free: t.number(l.free()),
    }
}

/// `GET /organisations/{id}?tab=…`.
pub(crate) async fn show(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    query: Result<Query<TabQuery>, QueryRejection>,
) -> Response {
    let tab = query.map(|Query(q)| q.tab).unwrap_or_default();
    match parse_org(&id) {
        Ok(id) => org_page(&console, &caller, id, which(&tab), Shown::default()).await,
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// The input of a form tab: its master-data fields, and the settings.
fn input_of(which: &str, form: &[(String, String)]) -> AppResult<CustomerInput> {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut input = CustomerInput {
        texts: tab_fields(which).iter().map(|&f| (f, get(f.into()).and_then(opt))).collect(),
        ..CustomerInput::default()
    };
    match which {
        "basic" => input.name = Some(get("name").unwrap_or_default().to_owned()),
        "settings" => {
            let status = get("status").unwrap_or_default();
            input.status = Some(status.parse().map_err(|_| AppError::invalid("status", "Choose a status."))?);
            input.language = Some(language(get("language").unwrap_or_default())?);
            let valid_from = get("valid_from").and_then(opt);
            let valid_from = valid_from
                .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                .transpose()
                .map_err(|_| AppError::invalid("valid_from", "Enter a date as YYYY-MM-DD."))?;
            input.valid_from = Some(valid_from);
        }
        _ => {}
    }
    Ok(input)
}

/// `POST /organisations/{id}?tab=…`: saves the tab's form; the tab again, saved or with its messages.
pub(crate) async fn save(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    query: Result<Query<TabQuery>, QueryRejection>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let which = which(&query.map(|Query(q)| q.tab).unwrap_or_default());
    let Ok(id) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let saved = async {
        let input = input_of(which, &form)?;
        console.tenants.customers.update(&caller.auth.ctx, id, input).await
    }
    .await;
    let t = caller.lang;
    let shown = match saved {
        Ok(_) => Shown { notice: Some(t.s("org-saved")), ..Shown::default() },
        Err(err) if err.is_user_error() => Shown { sent: form, errors: FieldErrors::of(&err, t), notice: None },
        Err(err) => return view::failed(&console, &caller, &err),
    };
    org_page(&console, &caller, id, which, shown).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ContactFields {
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
}

/// `POST /organisations/{id}/contacts` (ORG-17): a new contact person.
pub(crate) async fn add_contact(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ContactFields>,
) -> Response {
    let Ok(id) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let details = ContactDetails {
        first_name: opt(&f.first_name),
        last_name: f.last_name.trim().to_owned(),
        email: opt(&f.email),
        phone: opt(&f.phone),
        ..ContactDetails::default()
    };
    let added = console.tenants.customers.add_contact(&caller.auth.ctx, id, details).await;
    let sent = vec![
        ("first_name".to_owned(), f.first_name),
        ("last_name".to_owned(), f.last_name),
        ("email".to_owned(), f.email),
        ("phone".to_owned(), f.phone),
    ];
    action_answer(&console, &caller, id, "contacts", added.map(|_| "org-contact-added"), sent).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LicenceFields {
    title: String,
    quantity: String,
}

/// `POST /organisations/{id}/licences` (ORG-11): a new licence of customer-user seats.
pub(crate) async fn add_licence(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<LicenceFields>,
) -> Response {
    let Ok(id) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let added = async {
        let quantity =
            f.quantity.trim().parse().map_err(|_| AppError::invalid("quantity", "Give 0 to 100000 seats."))?;
        let input = LicenceInput { title: opt(&f.title), quantity: Some(quantity), ..LicenceInput::default() };
        console.tenants.licences.create(&caller.auth.ctx, id, input).await
    }
    .await;
    let sent = vec![("title".to_owned(), f.title), ("quantity".to_owned(), f.quantity)];
    action_answer(&console, &caller, id, "licences", added.map(|_| "org-licence-added"), sent).await
}

/// The tab again after an action: its notice, or the refusal's messages beside the form.
pub(crate) async fn action_answer(
    console: &Console,
    caller: &Signed,
    id: TenantId,
    which: &'static str,
    done: AppResult<&str>,
    sent: Vec<(String, String)>,
) -> Response {
    let t = caller.lang;
    let shown = match done {
        Ok(key) => Shown { notice: Some(t.s(key)), ..Shown::default() },
        Err(err) if err.is_user_error() => Shown { sent, errors: FieldErrors::of(&err, t), notice: None },
        Err(err) if matches!(err.code(), ErrorCode::Internal | ErrorCode::NotFound | ErrorCode::Forbidden) => {
            return view::failed(console, caller, &err);
        }
        // A refusal of the action itself (the customer forbids direct login, no recipient…).
        Err(err) => {
            let errors = FieldErrors { general: Some(FieldErrors::of(&err, t).summary()), ..FieldErrors::default() };
            Shown { errors, ..Shown::default() }
        }
    };
    org_page(console, caller, id, which, shown).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BlockFields {
    blocked: String,
}

impl BlockFields {
    /// Whether the form asks to block (`blocked=1`) rather than unblock.
    pub(crate) fn block(&self) -> bool {
        self.blocked == "1"
    }
}

/// `POST /organisations/{id}/blocked` (ORG-13): blocks (`blocked=1`) or unblocks the organisation.
pub(crate) async fn set_blocked(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<BlockFields>,
) -> Response {
    let Ok(id) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let blocked = f.block();
    let input = CustomerInput { blocked: Some(blocked), ..CustomerInput::default() };
    let done = console.tenants.customers.update(&caller.auth.ctx, id, input).await;
    let key = if blocked { "org-blocked-done" } else { "org-unblocked-done" };
    action_answer(&console, &caller, id, "settings", done.map(|_| key), Vec::new()).await
}

/// `POST /organisations/{id}/access-data` (ORG-20): mails the super-admin its login and a
/// set-password link, at its own address.
pub(crate) async fn send_access_data(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let sent = console.tenants.access.send_access_data(&caller.auth.ctx, id, None).await;
    let t = caller.lang;
    let done = sent.map(|s| s.recipient);
    let shown = match done {
        Ok(to) => Shown { notice: Some(t.arg("org-access-sent", "email", &to)), ..Shown::default() },
        Err(err) => return action_answer(&console, &caller, id, "contacts", Err(err), Vec::new()).await,
    };
    org_page(&console, &caller, id, "contacts", shown).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct DirectLoginFields {
    reason: String,
}

/// `POST /organisations/{id}/direct-login` (ORG-21): opens a direct login into the customer
/// (reason required, at most 60 minutes, refused when the customer forbids it); the browser's
/// session becomes it and the supplier's own waits in a cookie until the banner ends it.
pub(crate) async fn direct_login(
    State(console): State<Arc<Console>>,
    caller: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<DirectLoginFields>,
) -> Response {
    let Ok(id) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let Some(own) = session::cookie(&headers, SESSION).map(str::to_owned) else {
        return redirect("/sign-in", caller.htmx);
    };
    let opened = console.tenants.direct_login.open(&caller.auth.ctx, id, &f.reason, &caller.client).await;
    match opened {
        Ok(inside) => {
            let mut to = redirect("/clients", caller.htmx);
            let cookies = to.headers_mut();
            cookies.append(header::SET_COOKIE, session::set_cookie(&console, RETURN, &own, None));
            cookies.append(header::SET_COOKIE, session::set_cookie(&console, SESSION, &inside.token, None));
            to
        }
        Err(err) => {
            let sent = vec![("reason".to_owned(), f.reason)];
            action_answer(&console, &caller, id, "basic", Err(err), sent).await
        }
    }
}

#[cfg(test)]
mod tests {
    use clientele_tenants::licences::LicenceKind;
    use clientele_tenants::terms::TermsStatus;

    use super::*;

    // issue 16: every label the organisation pages build from a name has its words.
    #[test]
    fn every_field_tab_status_and_licence_kind_has_its_words() {
        let mut keys: Vec<String> = OrgText::iter().map(|f| format!("org-field-{}", <&str>::from(f))).collect();
        keys.extend(TABS.iter().map(|t| format!("org-tab-{t}")));
        keys.extend(OrganisationStatus::iter().map(|s| format!("org-status-{}", <&str>::from(s))));
        keys.extend(LicenceKind::iter().map(|k| format!("licence-kind-{}", <&str>::from(k))));
        keys.extend(TermsStatus::iter().map(|s| format!("terms-status-{}", <&str>::from(s))));
        for key in keys {
            assert_ne!(Lang::Fr.s(&key), key, "{key} in French");
            assert_ne!(Lang::En.s(&key), key, "{key} in English");
        }
    }
}
