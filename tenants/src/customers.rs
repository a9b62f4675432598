//! Customer organisations administered by their supplier (ORG-01..ORG-23): master data,
//! numbering, search, status, blocking, validity, contact persons and the first super-admin.

use std::sync::Arc;

use chrono::NaiveDate;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::person::{ContactDetails, check_email};
use clientele_kernel::{
    AppError, AppResult, Language, OrgKind, Permission, Reason, Role, TenantCtx, TenantId, TenantTx, UserId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};

use crate::entity::{licence, org_category_link, org_contact, organisation, user};
use crate::model::{OrganisationStatus, parse_stored};

/// A text field of the organisation's master data: `None` keeps, `Some(None)` clears.
pub type Patch<T> = Option<Option<T>>;

/// The supplier-editable master data of a customer organisation.
#[derive(Clone, Debug, Default)]
pub struct CustomerInput {
    pub name: Option<String>,
    pub texts: Vec<(OrgText, Option<String>)>,
    pub status: Option<OrganisationStatus>,
    pub language: Option<Language>,
    pub blocked: Option<bool>,
    pub valid_from: Patch<NaiveDate>,
    pub direct_login_allowed: Option<bool>,
}

/// Free-text master-data fields (ORG-04..ORG-10, ORG-22, ORG-23), one column each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum OrgText {
    LegalForm,
    Street,
    PoBox,
    Postcode,
    City,
    Country,
    Phone,
    Fax,
    Email,
    Homepage,
    NotificationEmail,
    Remarks,
    BankName,
    BankCity,
    BankStreet,
    BankCountry,
    BankBic,
    BankCode,
    BankAccount,
    PaymentTerms,
    DeliveryTerms,
    NumberAtCustomer,
    VatId,
    TaxNumber,
    RegistrationNumber,
    RegistrationCourt,
    SettingsTemplate,
    ShopUrl,
}

impl OrgText {
    pub fn column(self) -> organisation::Column {
        use organisation::Column as C;
        match self {
            Self::LegalForm => C::LegalForm,
            Self::Street => C::Street,
            Self::PoBox => C::PoBox,
            Self::Postcode => C::Postcode,
            Self::City => C::City,
            Self::Country => C::Country,
            Self::Phone => C::Phone,
            Self::Fax => C::Fax,
            Self::Email => C::Email,
            Self::Homepage => C::Homepage,
            Self::NotificationEmail => C::NotificationEmail,
            Self::Remarks => C::Remarks,
            Self::BankName => C::BankName,
            Self::BankCity => C::BankCity,
            Self::BankStreet => C::BankStreet,
            Self::BankCountry => C::BankCountry,
            Self::BankBic => C::BankBic,
            Self::BankCode => C::BankCode,
            Self::BankAccount => C::BankAccount,
            Self::PaymentTerms => C::PaymentTerms,
            Self::DeliveryTerms => C::DeliveryTerms,
            Self::NumberAtCustomer => C::NumberAtCustomer,
            Self::VatId => C::VatId,
            Self::TaxNumber => C::TaxNumber,
            Self::RegistrationNumber => C::RegistrationNumber,
            Self::RegistrationCourt => C::RegistrationCourt,
            Self::SettingsTemplate => C::SettingsTemplate,
            Self::ShopUrl => C::ShopUrl,
        }
    }

    /// Reads the field off a row.
    pub fn get(self, row: &organisation::Model) -> Option<&str> {
        match self {
            Self::LegalForm => row.legal_form.as_deref(),
            Self::Street => row.street.as_deref(),
            Self::PoBox => row.po_box.as_deref(),
            Self::Postcode => row.postcode.as_deref(),
            Self::City => row.city.as_deref(),
            Self::Country => row.country.as_deref(),
            Self::Phone => row.phone.as_deref(),
            Self::Fax => row.fax.as_deref(),
            Self::Email => row.email.as_deref(),
            Self::Homepage => row.homepage.as_deref(),
            Self::NotificationEmail => row.notification_email.as_deref(),
            Self::Remarks => row.remarks.as_deref(),
            Self::BankName => row.bank_name.as_deref(),
            Self::BankCity => row.bank_city.as_deref(),
            Self::BankStreet => row.bank_street.as_deref(),
            Self::BankCountry => row.bank_country.as_deref(),
            Self::BankBic => row.bank_bic.as_deref(),
            Self::BankCode => row.bank_code.as_deref(),
            Self::BankAccount => row.bank_account.as_deref(),
            Self::PaymentTerms => row.payment_terms.as_deref(),
            Self::DeliveryTerms => row.delivery_terms.as_deref(),
            Self::NumberAtCustomer => row.number_at_customer.as_deref(),
            Self::VatId => row.vat_id.as_deref(),
            Self::TaxNumber => row.tax_number.as_deref(),
            Self::RegistrationNumber => row.registration_number.as_deref(),
            Self::RegistrationCourt => row.registration_court.as_deref(),
            Self::SettingsTemplate => row.settings_template.as_deref(),
            Self::ShopUrl => row.shop_url.as_deref(),
        }
    }

    fn max_len(self) -> usize {
        match self {
            Self::Remarks => 4000,
            Self::Homepage | Self::ShopUrl => 2000,
            _ => 200,
        }
    }
}

/// A contact person of an organisation (ORG-18): the kernel's person details and, for the
/// first one, the login it became (ORG-19).
#[derive(Clone, Debug)]
pub struct OrgContact {
    pub id: uuid::Uuid,
    pub organisation: TenantId,
    pub details: ContactDetails,
    pub user: Option<UserId>,
}

/// A new customer: its data, contact persons (the first becomes its super-admin, ORG-19) and
/// the seats of its first licence.
#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    pub data: CustomerInput,
    pub contacts: Vec<ContactDetails>,
    pub seats: i32,
}

impl NewCustomer {
    /// Seats of the first licence when the supplier gives none (and of a self-registered one).
    pub const DEFAULT_SEATS: i32 = 1;
}

/// A customer organisation as its supplier sees it.
#[derive(Clone, Debug)]
pub struct CustomerOrg {
    pub row: organisation::Model,
}

impl CustomerOrg {
    pub fn status(&self) -> OrganisationStatus {
        parse_stored("status", &self.row.status).unwrap_or(OrganisationStatus::Inactive)
    }

    pub fn language(&self) -> Language {
        parse_stored("language", &self.row.language).unwrap_or_default()
    }

    fn audit_view(&self) -> Value {
        let mut view = serde_json::Map::new();
        view.insert("name".into(), json!(self.row.name));
        view.insert("status".into(), json!(self.row.status));
        view.insert("language".into(), json!(self.row.language));
        view.insert("blocked".into(), json!(self.row.blocked));
        view.insert("valid_from".into(), json!(self.row.valid_from));
        view.insert("direct_login_allowed".into(), json!(self.row.direct_login_allowed));
        for field in <OrgText as strum::IntoEnumIterator>::iter() {
            view.insert(<&str>::from(field).into(), json!(field.get(&self.row)));
        }
        Value::Object(view)
    }
}

/// Filters of the supplier's customer list (SRC-16).
#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Words matched against number, company, complement, street, country, postcode, city, remark.
    pub query: Option<String>,
    pub status: Option<OrganisationStatus>,
    /// Organisations in this category of the supplier's (ORG-23).
    pub category: Option<uuid::Uuid>,
    pub language: Option<Language>,
    pub blocked: Option<bool>,
}

pub struct CustomerService {
    handles: Arc<Handles>,
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Applies and validates the master data on `row`.
fn apply(row: &mut organisation::ActiveModel, input: CustomerInput) -> AppResult<()> {
    let mut errors = Vec::new();
    if let Some(name) = input.name {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(AppError::invalid("name", "Enter a company name of 1 to 200 characters."));
        }
        row.name = Set(name);
    }
    for (field, value) in input.texts {
        let value = clean(value);
        let name: &str = field.into();
        if let Some(v) = &value
            && (v.chars().count() > field.max_len() || v.chars().any(|c| c.is_control() && c != '\n'))
        {
            errors.push(AppError::refused(name, Reason::TooLong { max: field.max_len() }));
        }
        match field {
            OrgText::Email | OrgText::NotificationEmail => check_email(&mut errors, name, value.as_deref()),
            OrgText::Country | OrgText::BankCountry
                if value.as_ref().is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) =>
            {
                errors.push(AppError::invalid(name, "Use an ISO 3166 country code such as FR or DE."));
            }
            OrgText::Homepage | OrgText::ShopUrl
                if value.as_ref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://"))) =>
            {
                errors.push(AppError::invalid(name, "Use an http(s):// address."));
            }
            _ => {}
        }
        row.set(field.column(), value.into());
    }
    if let Some(status) = input.status {
        row.status = Set(<&str>::from(status).to_owned());
    }
    if let Some(language) = input.language {
        row.language = Set(language.tag().to_owned());
    }
    if let Some(blocked) = input.blocked {
        row.blocked = Set(blocked);
    }
    if let Some(valid_from) = input.valid_from {
        row.valid_from = Set(valid_from);
    }
    if let Some(allowed) = input.direct_login_allowed {
        row.direct_login_allowed = Set(allowed);
    }
    AppError::all(errors).map_or(Ok(()), Err)
}

/// Checks a new customer before anything is written, trimming its contact persons' details;
/// `contacts.{i}.` prefixes contact fields.
pub(crate) fn validate_new(new: &mut NewCustomer, first_prefix: &str) -> AppResult<()> {
    let mut errors = Vec::new();
    for (i, contact) in new.contacts.iter_mut().enumerate() {
        let prefix = if i == 0 { first_prefix.to_owned() } else { format!("contacts.{i}.") };
        contact.validate(&prefix, &mut errors);
    }
    if !(0..=100_000).contains(&new.seats) {
        errors.push(AppError::invalid("seats", "Give 0 to 100000 seats."));
    }
    if new.data.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        errors.push(AppError::invalid("name", "Enter the company name."));
    }
    AppError::all(errors).map_or(Ok(()), Err)
}

impl CustomerService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    pub(crate) fn require_supplier(ctx: &TenantCtx) -> AppResult<()> {
        ctx.require(Permission::ManageCustomers)?;
        if ctx.kind() == OrgKind::Supplier { Ok(()) } else { Err(AppError::forbidden()) }
    }

    /// The one way a supplier's transaction moves into one of its customers: proves the caller
    /// administers a supplier and `customer` is its own (`NOT_FOUND` otherwise), re-scopes `tx`
    /// there (RLS then confines every later statement to the customer) and returns the context
    /// to audit with inside it (the supplier user acting on behalf).
    pub(crate) async fn enter(ctx: &TenantCtx, tx: &mut TenantTx, customer: TenantId) -> AppResult<TenantCtx> {
        Self::require_supplier(ctx)?;
        Self::load_child(tx, ctx.tenant(), customer).await?;
        tx.scope_to(customer).await?;
        Ok(acting_in(ctx, customer))
    }

    /// The supplier's customer `id`, or `NOT_FOUND` (also for another supplier's customers).
    pub async fn load_child(tx: &TenantTx, supplier: TenantId, id: TenantId) -> AppResult<organisation::Model> {
        organisation::Entity::find_by_id(id)
            .filter(organisation::Column::ParentId.eq(supplier))
            .filter(organisation::Column::Kind.eq(OrgKind::Customer.as_str()))
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)
    }

    /// Creates a customer organisation with its number, first licence, contact persons and
    /// super-admin (the first contact, ORG-19), in one transaction.
    pub async fn create(&self, ctx: &TenantCtx, mut new: NewCustomer) -> AppResult<(CustomerOrg, Option<UserId>)> {
        Self::require_supplier(ctx)?;
        validate_new(&mut new, "contacts.0.")?;
        let mut tx = ctx.begin().await?;
        let created = self.provision(&mut tx, ctx, new).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The body of [`create`](Self::create) inside the supplier's writing transaction `tx`, for
    /// callers that checked the right to create (a supplier user, or a registration link) and
    /// passed `new` through [`validate_new`]. On return `tx` runs in the new customer's tenant;
    /// the caller commits.
    pub(crate) async fn provision(
        &self,
        tx: &mut TenantTx,
        ctx: &TenantCtx,
        new: NewCustomer,
    ) -> AppResult<(CustomerOrg, Option<UserId>)> {
        let now = self.handles.now();
        let id = TenantId(self.handles.new_id());
        let supplier = ctx.tenant();
        let number = next_customer_number(tx).await?;
        let template = blank_customer(id, supplier, number, now);
        let mut row = sea_orm::ActiveModelTrait::reset_all(organisation::ActiveModel::from(template));
        apply(&mut row, new.data)?;
        // The customer inherits the terms version its supplier currently publishes.
        row.terms_version = Set(supplier_terms_version(tx, supplier).await?);
        let created = CustomerOrg { row: row.insert(tx.conn()).await? };
        audit::record(
            tx,
            ctx,
            AuditEntry::new("organisation.create", "organisation", id, audit::created(&created.audit_view())),
        )
        .await?;

        // Everything below belongs to the new customer: the transaction now runs in its tenant.
        tx.scope_to(id).await?;
        let child = acting_in(ctx, id);
        licence::ActiveModel {
            tenant_id: Set(id),
            id: Set(self.handles.new_id()),
            title: Set("Users".to_owned()),
            description: Set(None),
            kind: Set("customer_user".to_owned()),
            quantity: Set(new.seats),
            transmitted: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(tx.conn())
        .await?;
        let mut super_admin = None;
        for (i, contact) in new.contacts.into_iter().enumerate() {
            let user = match (i, contact.email.as_deref()) {
                (0, Some(email)) => {
                    let name = [contact.first_name.as_deref(), Some(contact.last_name.as_str())]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let user = insert_user(tx, &self.handles, id, email, &name, Role::SuperAdmin, created.language())
                        .await?
                        .id;
                    super_admin = Some(user);
                    Some(user)
                }
                _ => None,
            };
            insert_contact(tx, &self.handles, id, &contact, user).await?;
        }
        // ORG-19: without a first contact who can sign in, a default super-admin signs in with the
        // organisation's own e-mail; without either, nobody could ever administer it.
        if super_admin.is_none() {
            let Some(email) = created.row.email.clone() else {
                return Err(AppError::invalid(
                    "contacts",
                    "Give the first contact an e-mail, or the organisation one: its super-admin signs in with it.",
                ));
            };
            let name = created.row.name.clone();
            let user = insert_user(tx, &self.handles, id, &email, &name, Role::SuperAdmin, created.language()).await?;
            super_admin = Some(user.id);
        }
        if new.seats < 1 {
            return Err(AppError::invalid("seats", "The super-admin is a user: give at least one seat."));
        }
        audit::record(
            tx,
            &child,
            AuditEntry::new("organisation.provision", "organisation", id, json!({ "seats": new.seats })),
        )
        .await?;
        Ok((created, super_admin))
    }

    pub async fn get(&self, ctx: &TenantCtx, id: TenantId) -> AppResult<CustomerOrg> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let row = Self::load_child(&tx, ctx.tenant(), id).await?;
        tx.commit().await?;
        Ok(CustomerOrg { row })
    }

    /// The names of the supplier's customers among `ids`, in one query (others are left out).
    pub async fn names(&self, ctx: &TenantCtx, ids: &[TenantId]) -> AppResult<Vec<(TenantId, String)>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let rows: Vec<(TenantId, String)> = organisation::Entity::find()
            .select_only()
            .columns([organisation::Column::Id, organisation::Column::Name])
            .filter(organisation::Column::ParentId.eq(ctx.tenant()))
            .filter(organisation::Column::Kind.eq(OrgKind::Customer.as_str()))
            .filter(organisation::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn update(&self, ctx: &TenantCtx, id: TenantId, input: CustomerInput) -> AppResult<CustomerOrg> {
        Self::require_supplier(ctx)?;
        // Whether the supplier may log in is the customer's consent, never the supplier's to
        // give (issue 12 #4): the customer's super-admins set it with `setDirectLoginAllowed`.
        if input.direct_login_allowed.is_some() {
            return Err(AppError::new(
                clientele_kernel::ErrorCode::Forbidden,
                "Only the organisation's own super-admins allow or forbid direct login.",
            ));
        }
        let tx = ctx.begin().await?;
        let current = Self::load_child(&tx, ctx.tenant(), id).await?;
        let before = CustomerOrg { row: current.clone() };
        let mut row: organisation::ActiveModel = current.clone().into();
        apply(&mut row, input)?;
        row.updated_at = Set(self.handles.now());
        let after = CustomerOrg { row: row.update(tx.conn()).await? };
        let changes = audit::diff(&before.audit_view(), &after.audit_view());
        audit::record(&tx, ctx, AuditEntry::new("organisation.update", "organisation", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The supplier's customers, newest number last, searched over SRC-16's fields.
    pub async fn list(
        &self,
        ctx: &TenantCtx,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> AppResult<Page<CustomerOrg>> {
        Self::require_supplier(ctx)?;
        let mut cond = Condition::all()
            .add(organisation::Column::ParentId.eq(ctx.tenant()))
            .add(organisation::Column::Kind.eq(OrgKind::Customer.as_str()));
        if let Some(status) = filter.status {
            cond = cond.add(organisation::Column::Status.eq(<&str>::from(status)));
        }
        if let Some(language) = filter.language {
            cond = cond.add(organisation::Column::Language.eq(language.tag()));
        }
        if let Some(blocked) = filter.blocked {
            cond = cond.add(organisation::Column::Blocked.eq(blocked));
        }
        if let Some(category) = filter.category {
            let linked = sea_orm::sea_query::Query::select()
                .column(org_category_link::Column::OrganisationId)
                .from(org_category_link::Entity)
                .and_where(org_category_link::Column::TenantId.eq(ctx.tenant()))
                .and_where(org_category_link::Column::CategoryId.eq(category))
                .to_owned();
            cond = cond.add(organisation::Column::Id.in_subquery(linked));
        }
        for word in filter.query.as_deref().unwrap_or_default().split_whitespace().take(5) {
            let pattern =
                format!("%{}%", word.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            let like = |col: organisation::Column| {
                Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            let mut any = Condition::any();
            for col in [
                organisation::Column::Name,
                organisation::Column::LegalForm,
                organisation::Column::Street,
                organisation::Column::Country,
                organisation::Column::Postcode,
                organisation::Column::City,
                organisation::Column::Remarks,
            ] {
                any = any.add(like(col));
            }
            if let Ok(number) = word.parse::<i64>() {
                any = any.add(organisation::Column::Number.eq(number));
            }
            cond = cond.add(any);
        }
        let tx = ctx.read().await?;
        let base = organisation::Entity::find().filter(cond);
        let total = base.clone().count(tx.conn()).await?;
        let rows = page.by_id(base, organisation::Column::Id, true).all(tx.conn()).await?;
        tx.commit().await?;
        Ok(Page::from_overfetch(rows.into_iter().map(|row| CustomerOrg { row }).collect(), &page, total))
    }

    /// Contact persons of a customer (ORG-17).
    pub async fn contacts(&self, ctx: &TenantCtx, id: TenantId) -> AppResult<Vec<OrgContact>> {
        let mut tx = ctx.read().await?;
        Self::enter(ctx, &mut tx, id).await?;
        let rows = org_contact::Entity::find()
            .filter(org_contact::Column::TenantId.eq(id))
            .order_by_asc(org_contact::Column::Id)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(contact_from_row).collect())
    }

    pub async fn add_contact(&self, ctx: &TenantCtx, id: TenantId, mut input: ContactDetails) -> AppResult<OrgContact> {
        Self::require_supplier(ctx)?;
        let mut errors = Vec::new();
        input.validate("", &mut errors);
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let mut tx = ctx.begin().await?;
        let child = Self::enter(ctx, &mut tx, id).await?;
        let contact = insert_contact(&tx, &self.handles, id, &input, None).await?;
        let changes = audit::created(&json!({ "last_name": input.last_name, "email": input.email }));
        audit::record(&tx, &child, AuditEntry::new("org_contact.create", "org_contact", contact.id, changes)).await?;
        tx.commit().await?;
        Ok(contact)
    }
}

/// A context for the supplier's user acting inside its customer: audit rows there record the
/// supplier identity as acting-on-behalf-of.
pub(crate) fn acting_in(ctx: &TenantCtx, customer: TenantId) -> TenantCtx {
    acting_in_child(ctx, customer, OrgKind::Customer)
}

/// The context to audit with inside `child`, an organisation of `kind` under the caller's:
/// the same actor, acting on behalf of the caller's own user.
pub(crate) fn acting_in_child(ctx: &TenantCtx, child: TenantId, kind: OrgKind) -> TenantCtx {
    let mut actor = *ctx.actor();
    actor.on_behalf_of = ctx.actor().user().map(|u| (ctx.tenant(), u));
    ctx.derive(child, kind, actor)
}

fn contact_from_row(r: org_contact::Model) -> OrgContact {
    OrgContact {
        id: r.id,
        organisation: r.tenant_id,
        user: r.user_id.map(UserId),
        details: ContactDetails {
            title: r.title,
            first_name: r.first_name,
            last_name: r.last_name,
            job_title: r.job_title,
            department: r.department,
            phone: r.phone,
            fax: r.fax,
            mobile: r.mobile,
            email: r.email,
            remark: r.remark,
        },
    }
}

/// Inserts a contact person whose details were validated.
async fn insert_contact(
    tx: &TenantTx,
    handles: &Handles,
    org: TenantId,
    c: &ContactDetails,
    user: Option<UserId>,
) -> AppResult<OrgContact> {
    let now = handles.now();
    let row = org_contact::ActiveModel {
        tenant_id: Set(org),
        id: Set(handles.new_id()),
        title: Set(c.title.clone()),
        first_name: Set(c.first_name.clone()),
        last_name: Set(c.last_name.clone()),
        job_title: Set(c.job_title.clone()),
        department: Set(c.department.clone()),
        phone: Set(c.phone.clone()),
        fax: Set(c.fax.clone()),
        mobile: Set(c.mobile.clone()),
        email: Set(c.email.clone()),
        remark: Set(c.remark.clone()),
        user_id: Set(user.map(|u| u.0)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx.conn())
    .await?;
    Ok(contact_from_row(row))
}

/// Inserts an active user without a password (they set it through their access data).
pub(crate) async fn insert_user(
    tx: &TenantTx,
    handles: &Handles,
    org: TenantId,
    email: &str,
    name: &str,
    role: Role,
    language: Language,
) -> AppResult<user::Model> {
    let now = handles.now();
    let id = UserId(handles.new_id());
    let row = user::ActiveModel {
        tenant_id: Set(org),
        id: Set(id),
        email: Set(email.to_owned()),
        display_name: Set(if name.trim().is_empty() { email.to_owned() } else { name.trim().to_owned() }),
        role: Set(role.as_str().to_owned()),
        status: Set("active".to_owned()),
        language: Set(language.tag().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        last_sign_in_at: Set(None),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    Ok(row)
}

/// A customer row with no master data yet.
fn blank_customer(
    id: TenantId,
    supplier: TenantId,
    number: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> organisation::Model {
    organisation::Model {
        id,
        kind: OrgKind::Customer.as_str().to_owned(),
        parent_id: Some(supplier),
        name: String::new(),
        status: "active".to_owned(),
        config_version: 0,
        created_at: now,
        updated_at: now,
        number: Some(number),
        legal_form: None,
        street: None,
        po_box: None,
        postcode: None,
        city: None,
        country: None,
        phone: None,
        fax: None,
        email: None,
        homepage: None,
        notification_email: None,
        remarks: None,
        bank_name: None,
        bank_city: None,
        bank_street: None,
        bank_country: None,
        bank_bic: None,
        bank_code: None,
        bank_account: None,
        payment_terms: None,
        delivery_terms: None,
        number_at_customer: None,
        vat_id: None,
        tax_number: None,
        registration_number: None,
        registration_court: None,
        language: Language::default().tag().to_owned(),
        customer_group_id: None,
        settings_template: None,
        blocked: false,
        valid_from: None,
        shop_url: None,
        direct_login_allowed: true,
        terms_version: 0,
    }
}

/// ORG-03: customer numbers count up per supplier, allocated in the writing transaction.
async fn next_customer_number(tx: &TenantTx) -> AppResult<i64> {
    clientele_kernel::db::next_counter(tx, "supplier_counters", "last_customer_number").await
}

/// The terms version the supplier currently requires of its own organisation.
async fn supplier_terms_version(tx: &TenantTx, supplier: TenantId) -> AppResult<i32> {
    let row = organisation::Entity::find_by_id(supplier).one(tx.conn()).await?;
    Ok(row.map_or(0, |r| r.terms_version))
}
