//! Addresses of a client (ADR-01..06): its main address, billing addresses and delivery
//! addresses, the latter being its sites (CON-01). Each kind has exactly one default while any
//! address of that kind exists.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::clients::entity::{address, client_document as doc, contact};
use crate::clients::lookups::LookupService;
use crate::clients::model::{Client, ClientKind, Patch};
use crate::clients::{service, validate};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{AddressId, ClientId, StaffId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

/// What an address is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum AddressKind {
    /// ADR-01: the client's own postal address, printed on A4 documents.
    Main,
    /// ADR-04: where invoices go, when not the delivery address.
    Billing,
    /// ADR-03, CON-01: a site goods are delivered to.
    Delivery,
}

impl AddressKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One address of a client (ADR-02).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub id: AddressId,
    pub client: ClientId,
    pub kind: AddressKind,
    pub label: Option<String>,
    pub company: Option<String>,
    pub street: Option<String>,
    pub complement: Option<String>,
    pub po_box: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: Option<String>,
    /// ADR-05: shown to the customer's side at delivery (opening hours, unloading point).
    pub remark: Option<String>,
    pub is_default: bool,
    /// ADR-06: the staff member who delivers here.
    pub delivery_person: Option<StaffId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creates or changes an address: `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct AddressInput {
    /// Required on creation; an address never changes kind.
    pub kind: Option<AddressKind>,
    pub label: Patch<String>,
    pub company: Patch<String>,
    pub street: Patch<String>,
    pub complement: Patch<String>,
    pub po_box: Patch<String>,
    pub postcode: Patch<String>,
    pub city: Patch<String>,
    pub country: Patch<String>,
    pub remark: Patch<String>,
    /// `true` makes this the default of its kind (the previous default stops being one).
    pub is_default: Option<bool>,
    pub delivery_person: Patch<StaffId>,
}

impl TryFrom<address::Model> for Address {
    type Error = AppError;
    fn try_from(r: address::Model) -> AppResult<Self> {
        let kind = r.kind.parse().map_err(|_| AppError::internal(format!("bad stored addresses.kind: {}", r.kind)))?;
        Ok(Self {
            id: r.id,
            client: r.client_id,
            kind,
            label: r.label,
            company: r.company,
            street: r.street,
            complement: r.complement,
            po_box: r.po_box,
            postcode: r.postcode,
            city: r.city,
            country: r.country,
            remark: r.remark,
            is_default: r.is_default,
            delivery_person: r.delivery_person_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Address {
    fn to_active(&self, tenant: clientele_kernel::TenantId) -> address::ActiveModel {
        address::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(self.id),
            client_id: Set(self.client),
            kind: Set(self.kind.as_str().to_owned()),
            label: Set(self.label.clone()),
            company: Set(self.company.clone()),
            street: Set(self.street.clone()),
            complement: Set(self.complement.clone()),
            po_box: Set(self.po_box.clone()),
            postcode: Set(self.postcode.clone()),
            city: Set(self.city.clone()),
            country: Set(self.country.clone()),
            remark: Set(self.remark.clone()),
            is_default: Set(self.is_default),
            delivery_person_id: Set(self.delivery_person),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
        }
    }

    pub(crate) fn audit_view(&self) -> Value {
        json!({
            "client": self.client, "kind": self.kind.as_str(), "label": self.label, "company": self.company,
            "street": self.street, "complement": self.complement, "po_box": self.po_box, "postcode": self.postcode,
            "city": self.city, "country": self.country, "remark": self.remark, "is_default": self.is_default,
            "delivery_person": self.delivery_person,
        })
    }

    /// Applies and validates `input`; every problem is reported.
    fn apply(&mut self, input: AddressInput, errors: &mut Vec<AppError>) {
        let clean = |p: Patch<String>| p.map(validate::clean);
        for (target, value) in [
            (&mut self.label, input.label),
            (&mut self.company, input.company),
            (&mut self.street, input.street),
            (&mut self.complement, input.complement),
            (&mut self.po_box, input.po_box),
            (&mut self.postcode, input.postcode),
            (&mut self.city, input.city),
            (&mut self.remark, input.remark),
        ] {
            if let Some(v) = clean(value) {
                *target = v;
            }
        }
        if let Some(country) = clean(input.country) {
            self.country = validate::country(errors, "country", country.as_deref());
        }
        for (field, value, max, multiline) in [
            ("label", &self.label, 100, false),
            ("company", &self.company, 200, false),
            ("street", &self.street, 200, false),
            ("complement", &self.complement, 200, false),
            ("po_box", &self.po_box, 40, false),
            ("city", &self.city, 100, false),
            ("remark", &self.remark, 2000, true),
        ] {
            validate::text(errors, field, value.as_deref(), max, multiline);
        }
        validate::postcode(errors, "postcode", self.postcode.as_deref(), self.country.as_deref());
        if [&self.company, &self.street, &self.po_box, &self.postcode, &self.city].iter().all(|v| v.is_none()) {
            errors.push(AppError::invalid("street", "Enter at least a street, PO box, postcode, city or company."));
        }
        if let Some(person) = input.delivery_person {
            self.delivery_person = person;
        }
        if self.kind == AddressKind::Billing && self.delivery_person.is_some() {
            errors.push(AppError::invalid("delivery_person", "Nothing is delivered to a billing address."));
        }
    }
}

pub struct AddressService {
    handles: Arc<Handles>,
}

impl AddressService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Addresses of several clients in one statement, defaults first, then oldest first.
    pub async fn by_clients(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<Address>> {
        let tx = ctx.read().await?;
        let rows = of_clients(&tx, ids).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Addresses by id, for batched loading; unknown ids are absent.
    pub async fn by_ids(&self, ctx: &TenantCtx, ids: &[AddressId]) -> AppResult<Vec<Address>> {
        let tx = ctx.read().await?;
        let rows = address::Entity::find()
            .filter(address::Column::TenantId.eq(ctx.tenant()))
            .filter(address::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Address::try_from).collect()
    }

    pub async fn create(&self, ctx: &TenantCtx, client: ClientId, input: AddressInput) -> AppResult<Address> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let owner = lock_client(&tx, client).await?;
        let address = self.save_in(&tx, ctx, &owner, None, input).await?;
        tx.commit().await?;
        Ok(address)
    }

    pub async fn update(&self, ctx: &TenantCtx, id: AddressId, input: AddressInput) -> AppResult<Address> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let existing = find(&tx, id).await?;
        let owner = lock_client(&tx, existing.client).await?;
        let address = self.save_in(&tx, ctx, &owner, Some(existing), input).await?;
        tx.commit().await?;
        Ok(address)
    }

    /// Deletes an address no contact or document is attached to (else `LINKED_RECORDS`); when it
    /// was the default of its kind, the oldest other address of that kind becomes the default.
    pub async fn delete(&self, ctx: &TenantCtx, id: AddressId) -> AppResult<AddressId> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let existing = find(&tx, id).await?;
        let owner = lock_client(&tx, existing.client).await?;
        let contacts = contact::Entity::find()
            .filter(contact::Column::TenantId.eq(ctx.tenant()))
            .filter(contact::Column::AddressId.eq(id))
            .count(tx.conn())
            .await?;
        if contacts > 0 {
            return Err(AppError::new(
                ErrorCode::LinkedRecords,
                format!("{contacts} contact(s) belong to this site: move or delete them first."),
            ));
        }
        let documents = doc::Entity::find()
            .filter(doc::Column::TenantId.eq(ctx.tenant()))
            .filter(doc::Column::SiteId.eq(id))
            .count(tx.conn())
            .await?;
        if documents > 0 {
            return Err(AppError::new(
                ErrorCode::LinkedRecords,
                format!("{documents} document(s) were made out for this site: it cannot be deleted."),
            ));
        }
        address::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        crate::search::touch(&tx, owner.id).await?;
        if existing.is_default {
            let siblings = of_kind(&tx, owner.id, existing.kind).await?;
            if let Some(next) = siblings.into_iter().next() {
                set_default(&tx, &next, self.handles.now()).await?;
            }
        }
        let changes = audit::diff(&existing.audit_view(), &Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("address.delete", "address", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// CON-04 «Recopier les Informations Générales»: a new address of `kind` holding the
    /// client's name and its default main address.
    pub async fn copy_client(&self, ctx: &TenantCtx, client: ClientId, kind: AddressKind) -> AppResult<Address> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let owner = lock_client(&tx, client).await?;
        let main = of_kind(&tx, client, AddressKind::Main).await?.into_iter().find(|a| a.is_default);
        let name = match owner.kind {
            ClientKind::Company => owner.company_name.clone(),
            ClientKind::Individual => Some(owner.display_name()).filter(|n| !n.is_empty()),
        };
        let copy = |v: Option<&String>| Some(v.cloned());
        let input = AddressInput {
            kind: Some(kind),
            company: Some(name),
            street: copy(main.as_ref().and_then(|m| m.street.as_ref())),
            complement: copy(main.as_ref().and_then(|m| m.complement.as_ref())),
            po_box: copy(main.as_ref().and_then(|m| m.po_box.as_ref())),
            postcode: copy(main.as_ref().and_then(|m| m.postcode.as_ref())),
            city: copy(main.as_ref().and_then(|m| m.city.as_ref())),
            country: copy(main.as_ref().and_then(|m| m.country.as_ref())),
            ..AddressInput::default()
        };
        let address = self.save_in(&tx, ctx, &owner, None, input).await?;
        tx.commit().await?;
        Ok(address)
    }

    /// Validates and writes one address of `owner` (locked by the caller), keeping one default
    /// per kind, and audits it.
    pub(crate) async fn save_in(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        owner: &Client,
        existing: Option<Address>,
        input: AddressInput,
    ) -> AppResult<Address> {
        if owner.anonymised_at.is_some() {
            return Err(AppError::new(ErrorCode::Validation, "An anonymised client cannot be changed."));
        }
        let now = self.handles.now();
        let mut errors = Vec::new();
        let wants_default = input.is_default;
        let mut after = match &existing {
            Some(before) => {
                if input.kind.is_some_and(|k| k != before.kind) {
                    errors.push(AppError::invalid("kind", "An address keeps its kind; create a new one instead."));
                }
                Address { updated_at: now, ..before.clone() }
            }
            None => Address {
                id: AddressId(self.handles.new_id()),
                client: owner.id,
                kind: input.kind.unwrap_or(AddressKind::Main),
                label: None,
                company: None,
                street: None,
                complement: None,
                po_box: None,
                postcode: None,
                city: None,
                country: None,
                remark: None,
                is_default: false,
                delivery_person: None,
                created_at: now,
                updated_at: now,
            },
        };
        if existing.is_none() && input.kind.is_none() {
            errors.push(AppError::invalid("kind", "Choose MAIN, BILLING or DELIVERY."));
        }
        let new_person =
            input.delivery_person.flatten().filter(|p| existing.as_ref().and_then(|e| e.delivery_person) != Some(*p));
        after.apply(input, &mut errors);
        if let Some(person) = new_person
            && !LookupService::is_active_delivery_person(tx, person).await?
        {
            errors.push(AppError::invalid("delivery_person", "Choose an active delivery person."));
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let siblings: Vec<Address> =
            of_kind(tx, owner.id, after.kind).await?.into_iter().filter(|a| a.id != after.id).collect();
        // The only address of a kind is its default; unsetting the default hands it on.
        after.is_default = siblings.is_empty() || wants_default.unwrap_or(after.is_default);
        if after.is_default {
            address::Entity::update_many()
                .col_expr(address::Column::IsDefault, Expr::value(false))
                .col_expr(address::Column::UpdatedAt, Expr::value(now))
                .filter(address::Column::TenantId.eq(tx.tenant()))
                .filter(address::Column::ClientId.eq(owner.id))
                .filter(address::Column::Kind.eq(after.kind.as_str()))
                .filter(address::Column::IsDefault.eq(true))
                .filter(address::Column::Id.ne(after.id))
                .exec(tx.conn())
                .await?;
        } else if existing.as_ref().is_some_and(|e| e.is_default)
            && let Some(next) = siblings.first()
        {
            set_default(tx, next, now).await?;
        }
        let model = after.to_active(tx.tenant());
        let before = if let Some(before) = existing {
            model.update(tx.conn()).await?;
            before.audit_view()
        } else {
            model.insert(tx.conn()).await?;
            Value::Null
        };
        crate::search::touch(tx, owner.id).await?;
        let action = if before.is_null() { "address.create" } else { "address.update" };
        let changes = audit::diff(&before, &after.audit_view());
        audit::record(tx, ctx, AuditEntry::new(action, "address", after.id, changes)).await?;
        Ok(after)
    }
}

/// Locks the client row: address changes of one client queue, so "one default" holds. A client
/// in the trash keeps its addresses as they were.
pub(crate) async fn lock_client(tx: &TenantTx, id: ClientId) -> AppResult<Client> {
    let client = service::load_for_update(tx, id).await?;
    service::ensure_not_trashed(&client)?;
    Ok(client)
}

async fn find(tx: &TenantTx, id: AddressId) -> AppResult<Address> {
    let row = address::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
    Address::try_from(row.ok_or_else(AppError::not_found)?)
}

pub(crate) async fn of_clients(tx: &TenantTx, ids: &[ClientId]) -> AppResult<Vec<Address>> {
    address::Entity::find()
        .filter(address::Column::TenantId.eq(tx.tenant()))
        .filter(address::Column::ClientId.is_in(ids.iter().copied()))
        .order_by_desc(address::Column::IsDefault)
        .order_by_asc(address::Column::CreatedAt)
        .order_by_asc(address::Column::Id)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(Address::try_from)
        .collect()
}

/// One client's addresses of one kind, oldest first.
async fn of_kind(tx: &TenantTx, client: ClientId, kind: AddressKind) -> AppResult<Vec<Address>> {
    address::Entity::find()
        .filter(address::Column::TenantId.eq(tx.tenant()))
        .filter(address::Column::ClientId.eq(client))
        .filter(address::Column::Kind.eq(kind.as_str()))
        .order_by_asc(address::Column::CreatedAt)
        .order_by_asc(address::Column::Id)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(Address::try_from)
        .collect()
}

async fn set_default(tx: &TenantTx, address: &Address, now: DateTime<Utc>) -> AppResult<()> {
    address::Entity::update_many()
        .col_expr(address::Column::IsDefault, Expr::value(true))
        .col_expr(address::Column::UpdatedAt, Expr::value(now))
        .filter(address::Column::TenantId.eq(tx.tenant()))
        .filter(address::Column::Id.eq(address.id))
        .exec(tx.conn())
        .await?;
    Ok(())
}
