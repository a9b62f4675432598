//! The clients list (search from the first character, «Vide Initial», filters, sort, keyset
//! pages), the client page (details, addresses and contacts, ledger with posting) and the new
//! individual / company form with its duplicate warning.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use clientele_kernel::page::PageRequest;
use clientele_kernel::{AppError, ClientId, GroupId, Money, SelectionId};
use clientele_records::clients::{
    Address, Client, ClientFilter, ClientInput, ClientKind, ClientOrder, Contact, EntryFilter, EntryInput,
    ExportFormat, Group, LedgerKind, NewClient, SelectionInput, TrashFilter,
};
use clientele_records::search::Matching;
use serde::Deserialize;

use crate::session::Signed;
use crate::view::{self, Base, FieldErrors, redirect};
use crate::{Console, Lang};

/// Rows per page of the list.
const PAGE: i64 = 50;

/// The list's parameters, as the form sends them (every one optional; unknown values ignored).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ListQuery {
    q: String,
    kind: String,
    sort: String,
    /// `only`: the trash.
    trash: String,
    /// `1`: blocked clients only.
    blocked: String,
    /// `1`: dormant clients too.
    dormant: String,
    /// `1`: «Vide Initial», nothing until something is typed.
    empty: String,
    /// A group's id: its clients only.
    group: String,
    /// `prefix` or `exact`; anything else: contains.
    mode: String,
    /// `1`: phone digits match French numbers only.
    fr: String,
    /// A saved selection's id (SRC-14): its clients only.
    sel: String,
    after: String,
}

impl ListQuery {
    fn filter(&self) -> ClientFilter {
        let mut filter = ClientFilter { kind: self.kind.parse::<ClientKind>().ok(), ..ClientFilter::default() };
        if self.trash == "only" {
            filter.trash = TrashFilter::Only;
        }
        if self.blocked == "1" {
            filter.blocked = Some(true);
        }
        filter.group = self.group.parse::<uuid::Uuid>().ok().map(GroupId);
        filter.selection = self.sel.parse::<uuid::Uuid>().ok().map(SelectionId);
        if self.dormant == "1" {
            use clientele_records::clients::ClientStatus;
            filter.statuses = Some(vec![ClientStatus::Active, ClientStatus::Dormant]);
        }
        filter
    }

    /// «Début» (prefix), «Validation» (exact) or contains; «FR>» French numbers only.
    fn matching(&self) -> Matching {
        Matching { mode: self.mode.parse().unwrap_or_default(), french_phones: self.fr == "1" }
    }

    fn order(&self) -> ClientOrder {
        match self.sort.as_str() {
            "number" => ClientOrder::Number,
            "created" => ClientOrder::CreatedAt,
            _ => ClientOrder::Name,
        }
    }

    /// The query string of this list, after `after` (the next page's link).
    fn with_after(&self, after: &str) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("kind", &self.kind),
            ("sort", &self.sort),
            ("trash", &self.trash),
            ("blocked", &self.blocked),
            ("dormant", &self.dormant),
            ("empty", &self.empty),
            ("group", &self.group),
            ("mode", &self.mode),
            ("fr", &self.fr),
            ("sel", &self.sel),
            ("after", after),
        ];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

/// One row of the list.
pub(crate) struct Row {
    pub(crate) id: String,
    href: String,
    number: String,
    code: String,
    name: String,
    kind: String,
    email: String,
    phone: String,
    blocked: bool,
}

impl Row {
    pub(crate) fn of(c: &Client, t: Lang) -> Self {
        Self {
            id: c.id.to_string(),
            href: format!("/clients/{}", c.id),
            number: t.number(c.number),
            code: c.code.clone(),
            name: c.display_name(),
            kind: t.s(kind_key(c.kind)),
            email: c.email.clone().unwrap_or_default(),
            phone: c
                .mobile
                .as_ref()
                .or(c.work_phone.as_ref())
                .or(c.home_phone.as_ref())
                .map(|p| p.typed.clone())
                .unwrap_or_default(),
            blocked: c.blocked,
        }
    }
}

fn kind_key(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Individual => "kind-individual",
        ClientKind::Company => "kind-company",
    }
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ListPage {
    base: Base,
    q: ListQuery,
    /// The group filter's choices: id and name.
    groups: Vec<(String, String)>,
    /// The saved selections the caller sees: id and name.
    selections: Vec<(String, String)>,
    /// This list's query string, saved by «Enregistrer la sélection».
    query: String,
    results: Results,
}

/// The part of the list htmx replaces as you type.
#[derive(Template)]
#[template(path = "clients_results.html")]
struct Results {
    t: Lang,
    csrf: String,
    /// The organisation's groups, when the caller may put clients in them.
    groups: Vec<Group>,
    /// This list's query string: where a bulk assignment comes back to.
    back: String,
    /// The export links' query string: the list's filters (not the search text, which the
    /// index answers, nor the page).
    export: Option<String>,
    rows: Vec<Row>,
    /// The next page's query string, when there is one.
    next: Option<String>,
    /// «Vide Initial» and nothing typed yet.
    waiting: bool,
    searching: bool,
}

/// `GET /clients`: the list, or (to htmx) only its results.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    // The platform has no clients: its administrators land on its suppliers.
    if crate::suppliers::sees_suppliers(&caller) {
        return redirect("/suppliers", caller.htmx);
    }
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let t = caller.lang;
    let ctx = &caller.auth.ctx;
    let records = &console.records;
    let filter = q.filter();
    let after = Some(q.after.as_str()).filter(|a| !a.is_empty());
    let text = q.q.trim();
    let groups = if caller.can_write() {
        match records.categories.groups(ctx).await {
            Ok(groups) => groups,
            Err(err) => return view::failed(&console, &caller, &err),
        }
    } else {
        Vec::new()
    };
    let export =
        text.is_empty().then(|| ListQuery { q: String::new(), empty: String::new(), ..q.clone() }.with_after(""));
    let mut results = Results {
        t,
        csrf: caller.csrf.clone(),
        groups,
        back: q.with_after(&q.after),
        export,
        rows: Vec::new(),
        next: None,
        waiting: false,
        searching: !text.is_empty(),
    };
    let page = match PageRequest::parse(Some(PAGE), after.map(str::to_owned), None, None) {
        Ok(page) => page,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    if !text.is_empty() {
        match records.search.search(ctx, &records.clients, text, q.matching(), &filter, page).await {
            Ok(page) => {
                results.rows = page.hits.iter().map(|h| Row::of(&h.client, t)).collect();
                results.next = page.has_next_page.then(|| page.hits.last().map(|h| q.with_after(&h.cursor))).flatten();
            }
            Err(err) => return view::failed(&console, &caller, &err),
        }
    } else if q.empty == "1" {
        results.waiting = true;
    } else {
        match records.clients.list_page(ctx, &filter, q.order(), page, false).await {
            Ok((page, cursors)) => {
                results.rows = page.items.iter().map(|c| Row::of(c, t)).collect();
                results.next = page.has_next_page.then(|| cursors.last().map(|c| q.with_after(c))).flatten();
            }
            Err(err) => return view::failed(&console, &caller, &err),
        }
    }
    if caller.htmx {
        return view::ok(&results);
    }
    let back = format!("/clients?{}", q.with_after(&q.after));
    let groups = results.groups.iter().map(|g| (g.id.to_string(), g.name.clone())).collect();
    let selections = match records.selections.list(ctx).await {
        Ok(list) => list.into_iter().map(|s| (s.id.to_string(), s.name)).collect(),
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let query = q.with_after("");
    view::ok(&ListPage { base: Base::of(&console, &caller, &back), q, groups, selections, query, results })
}

/// The form of «Enregistrer la sélection»: a name, shared or personal, and the list's query.
#[derive(Deserialize)]
pub(crate) struct SaveSelection {
    name: String,
    #[serde(default)]
    shared: String,
    #[serde(default)]
    query: String,
}

/// `POST /clients/selections` (SRC-14): saves the list's filter and order under a name, then
/// shows the list of that selection.
pub(crate) async fn save_selection(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(form): axum::Form<SaveSelection>,
) -> Response {
    let q: ListQuery = serde_urlencoded::from_str(&form.query).unwrap_or_default();
    let input = SelectionInput {
        name: Some(form.name),
        shared: Some(form.shared == "1"),
        filter: Some(q.filter()),
        order: Some(q.order()),
        clients: None,
    };
    match console.records.selections.save(&caller.auth.ctx, None, input).await {
        Ok(saved) => redirect(&format!("/clients?sel={}", saved.id), caller.htmx),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// A labelled value of the details tab.
pub(crate) struct Item {
    label: String,
    value: String,
}

impl Item {
    pub(crate) fn new(label: String, value: String) -> Self {
        Self { label, value }
    }
}

/// A ledger entry as shown.
pub(crate) struct EntryRow {
    date: String,
    kind: String,
    amount: String,
    document: String,
    note: String,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    base: Base,
    id: String,
    name: String,
    kind: String,
    alert: Option<String>,
    tab: Tab,
}

/// One tab of the client page: a full page shows it inside the page, htmx swaps it alone.
#[derive(Template)]
#[template(path = "client_tab.html")]
pub(crate) struct Tab {
    t: Lang,
    id: String,
    csrf: String,
    can_write: bool,
    pub(crate) which: &'static str,
    details: Vec<Item>,
    addresses: Vec<Address>,
    contacts: Vec<Contact>,
    entries: Vec<EntryRow>,
    balance: String,
    credit_limit: String,
    entry_form: EntryForm,
    pub(crate) record: crate::record::RecordTab,
    /// The tabs the organisation's plugins add, and the one shown when `which` is `plugin`.
    plugin_tabs: Vec<crate::plugin_tabs::TabLink>,
    pub(crate) plugin: crate::plugin_tabs::PluginTab,
}

/// The posting form's values and messages.
#[derive(Default)]
pub(crate) struct EntryForm {
    kind: String,
    amount: String,
    date: String,
    document_ref: String,
    note: String,
    errors: FieldErrors,
}

impl Tab {
    fn error(&self, field: &str) -> Option<&str> {
        self.entry_form.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TabQuery {
    tab: String,
}

pub(crate) fn parse_id(raw: &str) -> Result<ClientId, AppError> {
    raw.parse::<uuid::Uuid>().map(ClientId).map_err(|_| AppError::not_found())
}

/// `GET /clients/{id}`: another tenant's id is not found, like one that does not exist (404).
pub(crate) async fn show(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    query: Result<Query<TabQuery>, QueryRejection>,
) -> Response {
    let which = query.map(|Query(q)| q.tab).unwrap_or_default();
    let result = async {
        let id = parse_id(&id)?;
        let client = console.records.clients.get(&caller.auth.ctx, id).await?;
        let tab = tab(&console, &caller, &client, &which, EntryForm::default()).await?;
        Ok::<_, AppError>((client, tab))
    }
    .await;
    match result {
        Ok((client, tab)) => page(&console, &caller, &client, tab, StatusCode::OK),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

pub(crate) fn page(console: &Console, caller: &Signed, client: &Client, tab: Tab, status: StatusCode) -> Response {
    if caller.htmx {
        return view::html(status, &tab);
    }
    let page = ClientPage {
        base: Base::of(console, caller, &format!("/clients/{}?tab={}", client.id, tab.which)),
        id: client.id.to_string(),
        name: client.display_name(),
        kind: caller.lang.s(kind_key(client.kind)),
        alert: client.alert.clone(),
        tab,
    };
    view::html(status, &page)
}

pub(crate) async fn tab(
    console: &Console,
    caller: &Signed,
    client: &Client,
    which: &str,
    form: EntryForm,
) -> Result<Tab, AppError> {
    let t = caller.lang;
    let ctx = &caller.auth.ctx;
    let records = &console.records;
    let mut tab = Tab {
        t,
        id: client.id.to_string(),
        csrf: caller.csrf.clone(),
        can_write: caller.can_write(),
        which: "details",
        details: Vec::new(),
        addresses: Vec::new(),
        contacts: Vec::new(),
        entries: Vec::new(),
        balance: String::new(),
        credit_limit: t.money(client.credit_limit),
        entry_form: form,
        record: crate::record::RecordTab::default(),
        plugin_tabs: Vec::new(),
        plugin: crate::plugin_tabs::PluginTab::default(),
    };
    let installed = console.plugins.registry.enabled(ctx, caller.auth.config_version).await?;
    tab.plugin_tabs = crate::plugin_tabs::links(&installed);
    if which.contains('.') {
        tab.which = "plugin";
        tab.plugin = crate::plugin_tabs::load(console, caller, client, &installed, which, None)
            .await?
            .ok_or_else(AppError::not_found)?;
        return Ok(tab);
    }
    if let Some(which) = crate::record::TABS.iter().find(|w| **w == which) {
        tab.which = which;
        tab.record = crate::record::RecordTab::load(console, caller, client, which).await?;
        return Ok(tab);
    }
    match which {
        "addresses" => {
            tab.which = "addresses";
            tab.addresses = records.addresses.by_clients(ctx, &[client.id]).await?;
            tab.contacts = records.contacts.by_clients(ctx, &[client.id]).await?;
        }
        "ledger" => {
            tab.which = "ledger";
            let page = records
                .ledger
                .entries(ctx, client.id, &EntryFilter::default(), PageRequest::new(Some(100), None, None, None)?)
                .await?;
            tab.entries = page
                .items
                .iter()
                .map(|e| EntryRow {
                    date: t.date(e.date),
                    kind: t.s(&format!("ledger-{}", e.kind.as_str())),
                    amount: t.money(e.amount),
                    document: e.document_ref.clone().unwrap_or_default(),
                    note: e.note.clone().unwrap_or_default(),
                })
                .collect();
            let balances = records.ledger.balances(ctx, &[client.id]).await?;
            tab.balance = t.money(balances.get(&client.id).copied().unwrap_or(Money(0)));
        }
        _ => {
            tab.details = details(client, t);
            tab.details.extend(crate::plugin_tabs::details(console, caller, client, &installed).await?);
        }
    }
    Ok(tab)
}

fn details(c: &Client, t: Lang) -> Vec<Item> {
    let mut items = vec![
        (t.s("field-number"), t.number(c.number)),
        (t.s("field-code"), c.code.clone()),
        (t.s("field-kind"), t.s(kind_key(c.kind))),
    ];
    let mut add = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            items.push((t.s(key), v));
        }
    };
    match c.kind {
        ClientKind::Company => {
            add("field-company_name", c.company_name.clone());
            add("field-legal_form", c.legal_form.clone());
            add("field-siret", c.siret.clone());
        }
        ClientKind::Individual => {
            add("field-last_name", c.last_name.clone());
            add("field-first_name", c.first_name.clone());
            add("field-birth_date", c.birth_date.map(|d| t.date(d)));
        }
    }
    add("field-email", c.email.clone());
    add("field-mobile", c.mobile.as_ref().map(|p| p.typed.clone()));
    add("field-work_phone", c.work_phone.as_ref().map(|p| p.typed.clone()));
    add("field-home_phone", c.home_phone.as_ref().map(|p| p.typed.clone()));
    add("field-credit_limit", Some(t.money(c.credit_limit)));
    add("field-notes", c.notes.clone());
    for (key, value) in &c.custom_fields {
        let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        items.push((key.clone(), shown));
    }
    items.into_iter().map(|(label, value)| Item { label, value }).collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EntryFields {
    kind: String,
    amount: String,
    date: String,
    document_ref: String,
    note: String,
}

fn ledger_kind(raw: &str) -> Option<LedgerKind> {
    raw.parse().ok()
}

pub(crate) fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /clients/{id}/ledger`: posts an entry; the ledger tab again, with the messages of a refusal.
pub(crate) async fn post_entry(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(fields): axum::Form<EntryFields>,
) -> Response {
    let t = caller.lang;
    let ctx = &caller.auth.ctx;
    let client = match async { console.records.clients.get(ctx, parse_id(&id)?).await }.await {
        Ok(client) => client,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let mut errors = Vec::new();
    let kind = ledger_kind(&fields.kind);
    if kind.is_none() {
        errors.push(AppError::invalid("kind", "Choose the kind of entry."));
    }
    let date = opt(&fields.date).and_then(|d| {
        let parsed = NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok();
        if parsed.is_none() {
            errors.push(AppError::invalid("date", "Enter a date."));
        }
        parsed
    });
    let result = match (AppError::all(errors), kind) {
        (None, Some(kind)) => {
            let input = EntryInput {
                kind,
                // A French decimal comma is a decimal point.
                amount: fields.amount.trim().replace(',', "."),
                date,
                document_ref: opt(&fields.document_ref),
                note: opt(&fields.note),
                beneficiary: None,
                card: None,
            };
            console.records.ledger.post(ctx, client.id, input).await.map(|_| ())
        }
        (err, _) => Err(err.unwrap_or_else(|| AppError::invalid("kind", "Choose the kind of entry."))),
    };
    match result {
        Ok(()) if caller.htmx => match tab(&console, &caller, &client, "ledger", EntryForm::default()).await {
            Ok(tab) => view::ok(&tab),
            Err(err) => view::failed(&console, &caller, &err),
        },
        Ok(()) => redirect(&format!("/clients/{}?tab=ledger", client.id), false),
        Err(err) if err.is_user_error() => {
            let form = EntryForm {
                errors: FieldErrors::of(&err, t),
                kind: fields.kind,
                amount: fields.amount,
                date: fields.date,
                document_ref: fields.document_ref,
                note: fields.note,
            };
            match tab(&console, &caller, &client, "ledger", form).await {
                Ok(tab) => page(&console, &caller, &client, tab, StatusCode::UNPROCESSABLE_ENTITY),
                Err(err) => view::failed(&console, &caller, &err),
            }
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct NewQuery {
    kind: String,
}

/// The new-client form's values.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ClientFields {
    kind: String,
    company_name: String,
    legal_form: String,
    siret: String,
    last_name: String,
    first_name: String,
    birth_date: String,
    email: String,
    mobile: String,
    work_phone: String,
    code: String,
    notes: String,
    /// `1`: saved although it looks like a duplicate.
    confirmed: String,
}

impl ClientFields {
    fn is_company(&self) -> bool {
        self.kind == "company"
    }
}

#[derive(Template)]
#[template(path = "client_new.html")]
struct NewPage {
    base: Base,
    f: ClientFields,
    errors: FieldErrors,
    duplicates: Vec<Row>,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

/// `GET /clients/new?kind=company|individual`.
pub(crate) async fn new_form(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<NewQuery>, QueryRejection>,
) -> Response {
    let kind = query.ok().map(|Query(q)| q.kind).filter(|k| k == "company").unwrap_or_else(|| "individual".to_owned());
    let f = ClientFields { kind, ..ClientFields::default() };
    let back = format!("/clients/new?kind={}", f.kind);
    view::ok(&NewPage {
        base: Base::of(&console, &caller, &back),
        f,
        errors: FieldErrors::default(),
        duplicates: Vec::new(),
    })
}

fn input_of(f: &ClientFields) -> Result<ClientInput, AppError> {
    let text = |s: &str| Some(opt(s));
    let mut input = ClientInput {
        kind: Some(if f.is_company() { ClientKind::Company } else { ClientKind::Individual }),
        email: text(&f.email),
        mobile: text(&f.mobile),
        work_phone: text(&f.work_phone),
        notes: text(&f.notes),
        code: opt(&f.code),
        ..ClientInput::default()
    };
    if f.is_company() {
        input.company_name = text(&f.company_name);
        input.legal_form = text(&f.legal_form);
        input.siret = text(&f.siret);
    } else {
        input.last_name = text(&f.last_name);
        input.first_name = text(&f.first_name);
        input.birth_date = match opt(&f.birth_date) {
            None => None,
            Some(d) => Some(Some(
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| AppError::invalid("birth_date", "Enter a date."))?,
            )),
        };
    }
    Ok(input)
}

/// `POST /clients`: creates the client, after showing possible duplicates once.
pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<ClientFields>,
) -> Response {
    let t = caller.lang;
    let again = |errors: FieldErrors, duplicates: Vec<Row>, f: ClientFields| {
        let base = Base::of(&console, &caller, &format!("/clients/new?kind={}", f.kind));
        view::html(StatusCode::UNPROCESSABLE_ENTITY, &NewPage { base, f, errors, duplicates })
    };
    let input = match input_of(&f) {
        Ok(input) => input,
        Err(err) => return again(FieldErrors::of(&err, t), Vec::new(), f),
    };
    let clients = &console.records.clients;
    let created = if f.confirmed == "1" {
        clients.create(&caller.auth.ctx, input).await.map(NewClient::Created)
    } else {
        clients.create_unless_duplicate(&caller.auth.ctx, input, None).await
    };
    match created {
        Ok(NewClient::Created(client)) => redirect(&format!("/clients/{}", client.id), caller.htmx),
        Ok(NewClient::PossibleDuplicates(found)) => {
            let rows = found.iter().map(|c| Row::of(c, t)).collect();
            again(FieldErrors::default(), rows, ClientFields { confirmed: "1".to_owned(), ..f })
        }
        Err(err) if err.is_user_error() => again(FieldErrors::of(&err, t), Vec::new(), f),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// `POST /clients/group`: puts the ticked clients of the list in a group (or out of any, with
/// the empty choice), then shows the same list again.
pub(crate) async fn assign_group(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str());
    let back = Some(value("back")).filter(|b| !b.contains(['\\', '/', '#'])).unwrap_or("");
    let assigned = async {
        let group = match value("group") {
            "" => None,
            raw => Some(GroupId(raw.parse::<uuid::Uuid>().map_err(|_| AppError::not_found())?)),
        };
        let ids = pairs
            .iter()
            .filter(|(k, _)| k == "ids")
            .map(|(_, v)| v.parse::<uuid::Uuid>().map(ClientId).map_err(|_| AppError::not_found()))
            .collect::<Result<Vec<_>, _>>()?;
        console.records.categories.assign_group(&caller.auth.ctx, group, &ids).await
    }
    .await;
    match assigned {
        Ok(_) => redirect(&format!("/clients?{back}"), caller.htmx),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// `GET /clients/export.xlsx`: the list's filters as a workbook. It is written to a temp file
/// (a workbook is a zip: it cannot be streamed as it is read), opened, then unlinked, so nothing
/// stays on disk whatever happens to the download; the service writes the audit row.
pub(crate) async fn export_xlsx(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let written = async {
        let file = view::temp_file(&console).await?;
        let dir = &console.tmp_dir;
        let (list, language) = ((&q.filter(), q.order()), caller.lang.language());
        console.records.clients.export_xlsx(&caller.auth.ctx, list, language, file.path(), dir).await?;
        view::workbook(file, "clients.xlsx").await
    }
    .await;
    written.unwrap_or_else(|err| view::failed(&console, &caller, &err))
}

/// `GET /clients/export.csv`: the list's filters as a CSV download, streamed page by page (a
/// large list never sits in memory); the service writes the audit row.
pub(crate) async fn export_csv(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    use axum::http::{HeaderValue, header};
    use clientele_records::clients::export::{csv_bytes, csv_stream};

    let q = query.map(|Query(q)| q).unwrap_or_default();
    let ctx = caller.auth.ctx.clone();
    let started = async {
        let (clients, language) = (&console.records.clients, caller.lang.language());
        let export = clients.start_export(&ctx, &q.filter(), q.order(), ExportFormat::Csv, language).await?;
        let header = csv_bytes(Some(export.headers()), &[])?;
        Ok::<_, AppError>((export, header))
    }
    .await;
    let (export, header) = match started {
        Ok(started) => started,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let pages = csv_stream(console.records.clone(), ctx, export, header);
    let mut response = Response::new(axum::body::Body::from_stream(pages));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"clients.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
