//! Tenant lists (BIL-15): tariffs, payment terms, shipping terms, payment methods,
//! cross-discount categories. Entries that records point at are deactivated, never deleted.

use std::sync::Arc;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    SqlErr,
};
use serde_json::{Value, json};

use crate::clients::entity::{category, client, lookup};
use crate::clients::validate;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode, Reason};
use clientele_kernel::ids::LookupId;
use clientele_kernel::tenancy::{Permission, TenantCtx};

/// Which list an entry belongs to; stored as snake case in `lookups.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum LookupKind {
    Tariff,
    PaymentTerms,
    ShippingTerms,
    PaymentMethod,
    CrossDiscount,
}

impl LookupKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One entry of a tenant list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub id: LookupId,
    pub kind: LookupKind,
    /// Short code, unique per list (`30J`, `CB`).
    pub code: String,
    pub label: String,
    /// Display order inside the list.
    pub position: i32,
    pub active: bool,
}

/// Creates or changes a list entry; `None` keeps a value (or takes its default on create).
#[derive(Clone, Debug, Default)]
pub struct LookupInput {
    /// Set at creation; an entry never moves to another list.
    pub kind: Option<LookupKind>,
    pub code: Option<String>,
    pub label: Option<String>,
    pub position: Option<i32>,
    pub active: Option<bool>,
}

impl TryFrom<lookup::Model> for Lookup {
    type Error = AppError;
    fn try_from(r: lookup::Model) -> AppResult<Self> {
        let kind = r.kind.parse().map_err(|_| AppError::internal(format!("bad stored lookups.kind: {}", r.kind)))?;
        Ok(Self { id: r.id, kind, code: r.code, label: r.label, position: r.position, active: r.active })
    }
}

fn lookup_view(l: &Lookup) -> Value {
    json!({ "kind": l.kind.as_str(), "code": l.code, "label": l.label, "position": l.position, "active": l.active })
}

pub(crate) fn label_or_name(errors: &mut Vec<AppError>, field: &str, value: &str) {
    if value.is_empty() {
        errors.push(AppError::refused(field, Reason::Length { max: 100 }));
    }
    validate::text(errors, field, Some(value), 100, false);
}

/// Tenant lists and, in `staff`, the staff directory.
pub struct LookupService {
    pub(crate) handles: Arc<Handles>,
}

impl LookupService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// One list, in display order; inactive entries only when `active_only` is false.
    pub async fn lookups(&self, ctx: &TenantCtx, kind: LookupKind, active_only: bool) -> AppResult<Vec<Lookup>> {
        let tx = ctx.read().await?;
        let mut query = lookup::Entity::find()
            .filter(lookup::Column::TenantId.eq(ctx.tenant()))
            .filter(lookup::Column::Kind.eq(kind.as_str()));
        if active_only {
            query = query.filter(lookup::Column::Active.eq(true));
        }
        let rows = query
            .order_by_asc(lookup::Column::Position)
            .order_by_asc(lookup::Column::Label)
            .order_by_asc(lookup::Column::Id)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Lookup::try_from).collect()
    }

    /// Entries by id, whatever their list, for batched loading; unknown ids are absent.
    pub async fn lookups_by_ids(&self, ctx: &TenantCtx, ids: &[LookupId]) -> AppResult<Vec<Lookup>> {
        let tx = ctx.read().await?;
        let rows = lookup::Entity::find()
            .filter(lookup::Column::TenantId.eq(ctx.tenant()))
            .filter(lookup::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Lookup::try_from).collect()
    }

    /// Creates (`id = None`) or changes a list entry.
    pub async fn save_lookup(&self, ctx: &TenantCtx, id: Option<LookupId>, input: LookupInput) -> AppResult<Lookup> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let now = self.handles.now();
        let existing = match id {
            Some(id) => Some(
                lookup::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let before = existing.clone().map(Lookup::try_from).transpose()?;
        let mut errors = Vec::new();
        let mut after = match &before {
            Some(before) => {
                if input.kind.is_some_and(|k| k != before.kind) {
                    errors.push(AppError::invalid("kind", "An entry stays in its list; create a new one instead."));
                }
                before.clone()
            }
            None => Lookup {
                id: LookupId(self.handles.new_id()),
                kind: input.kind.unwrap_or(LookupKind::Tariff),
                code: String::new(),
                label: String::new(),
                position: 0,
                active: true,
            },
        };
        if before.is_none() && input.kind.is_none() {
            errors.push(AppError::invalid("kind", "Choose the list this entry belongs to."));
        }
        if let Some(code) = input.code {
            code.trim().clone_into(&mut after.code);
        }
        validate::code(&mut errors, "code", Some(&after.code));
        if let Some(label) = input.label {
            label.trim().clone_into(&mut after.label);
        }
        label_or_name(&mut errors, "label", &after.label);
        if let Some(position) = input.position {
            after.position = position;
        }
        if let Some(active) = input.active {
            after.active = active;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = lookup::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            kind: Set(after.kind.as_str().to_owned()),
            code: Set(after.code.clone()),
            label: Set(after.label.clone()),
            position: Set(after.position),
            active: Set(after.active),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() { model.update(tx.conn()).await } else { model.insert(tx.conn()).await }.map_err(
            |err| match err.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => {
                    AppError::conflict("code", "Another entry of this list already has this code.")
                }
                _ => err.into(),
            },
        )?;
        let changes = audit::diff(&before.as_ref().map_or(Value::Null, lookup_view), &lookup_view(&after));
        let action = if existing.is_some() { "lookup.update" } else { "lookup.create" };
        audit::record(&tx, ctx, AuditEntry::new(action, "lookup", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an entry nothing points at; a referenced one is refused (`LINKED_RECORDS`):
    /// deactivate it instead.
    pub async fn delete_lookup(&self, ctx: &TenantCtx, id: LookupId) -> AppResult<LookupId> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let row =
            lookup::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let before = Lookup::try_from(row)?;
        let clients = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(
                Condition::any()
                    .add(client::Column::Tariff.eq(id.0))
                    .add(client::Column::CrossDiscount.eq(id.0))
                    .add(client::Column::PaymentTerms.eq(id.0))
                    .add(client::Column::ShippingTerms.eq(id.0))
                    .add(client::Column::PaymentMethod.eq(id.0)),
            )
            .count(tx.conn())
            .await?;
        let categories = category::Entity::find()
            .filter(category::Column::TenantId.eq(ctx.tenant()))
            .filter(category::Column::TariffId.eq(id.0))
            .count(tx.conn())
            .await?;
        if clients + categories > 0 {
            return Err(AppError::new(
                ErrorCode::LinkedRecords,
                format!("{clients} client(s) and {categories} category(ies) use this entry: deactivate it instead."),
            ));
        }
        lookup::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&lookup_view(&before), &Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("lookup.delete", "lookup", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }
}
