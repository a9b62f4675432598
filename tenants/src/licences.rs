//! Licences of customer organisations (ORG-25, USR-07): seats that users consume. Creating or
//! reactivating a user takes a seat in the same transaction, with the licence rows locked, so
//! concurrent creations can never exceed the quantity.

use std::sync::Arc;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{AppError, AppResult, ErrorCode, OrgKind, TenantCtx, TenantId, TenantTx};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::customers::{CustomerService, acting_in};
use crate::entity::{licence, user};

/// Who a licence's seats are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum LicenceKind {
    CustomerUser,
    SupplierUser,
}

#[derive(Clone, Debug)]
pub struct Licence {
    pub id: uuid::Uuid,
    pub organisation: TenantId,
    pub title: String,
    pub description: Option<String>,
    pub kind: LicenceKind,
    pub quantity: i32,
    /// seats delegated elsewhere.
    pub transmitted: i32,
    /// Seats taken: active users of the organisation (customer-user licences).
    pub used: i64,
}

impl Licence {
    /// Seats left: quantity − transmitted − used (shared across licences of a kind, shown per licence).
    pub fn free(&self) -> i64 {
        (i64::from(self.quantity) - i64::from(self.transmitted) - self.used).max(0)
    }
}

#[derive(Clone, Debug, Default)]
pub struct LicenceInput {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub kind: Option<LicenceKind>,
    pub quantity: Option<i32>,
    pub transmitted: Option<i32>,
}

pub struct LicenceService {
    handles: Arc<Handles>,
}

async fn active_users(tx: &TenantTx) -> AppResult<i64> {
    let n = user::Entity::find()
        .filter(user::Column::TenantId.eq(tx.tenant()))
        .filter(user::Column::Status.eq("active"))
        .count(tx.conn())
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Capacity of the customer-user licences, with their rows locked until the transaction ends.
async fn locked_capacity(tx: &TenantTx) -> AppResult<i64> {
    let rows = licence::Entity::find()
        .filter(licence::Column::TenantId.eq(tx.tenant()))
        .filter(licence::Column::Kind.eq(<&str>::from(LicenceKind::CustomerUser)))
        .lock_exclusive()
        .all(tx.conn())
        .await?;
    Ok(rows.iter().map(|l| i64::from(l.quantity) - i64::from(l.transmitted)).sum())
}

/// Takes a seat for one more active user of a customer organisation, or `SEAT_LIMIT_REACHED`.
/// Platforms and suppliers are not licensed.
pub(crate) async fn take_seat(tx: &TenantTx, kind: OrgKind) -> AppResult<()> {
    if kind != OrgKind::Customer {
        return Ok(());
    }
    let capacity = locked_capacity(tx).await?;
    if active_users(tx).await? >= capacity {
        return Err(ErrorCode::SeatLimitReached.into());
    }
    Ok(())
}

fn validate(input: &LicenceInput) -> AppResult<()> {
    let mut errors = Vec::new();
    if input.title.as_deref().is_some_and(|t| t.trim().is_empty() || t.chars().count() > 100) {
        errors.push(AppError::invalid("title", "Enter a title of 1 to 100 characters."));
    }
    if input.quantity.is_some_and(|q| !(0..=100_000).contains(&q)) {
        errors.push(AppError::invalid("quantity", "Give 0 to 100000 seats."));
    }
    if input.transmitted.is_some_and(|q| !(0..=100_000).contains(&q)) {
        errors.push(AppError::invalid("transmitted", "Give 0 to 100000 seats."));
    }
    AppError::all(errors).map_or(Ok(()), Err)
}

impl LicenceService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Opens a writing transaction in the supplier's customer `org`, checked to be its own.
    async fn in_customer(ctx: &TenantCtx, org: TenantId, write: bool) -> AppResult<TenantTx> {
        CustomerService::require_supplier(ctx)?;
        let mut tx = if write { ctx.begin().await? } else { ctx.read().await? };
        CustomerService::enter(ctx, &mut tx, org).await?;
        Ok(tx)
    }

    async fn view(tx: &TenantTx, row: licence::Model) -> AppResult<Licence> {
        let kind: LicenceKind = crate::model::parse_stored("kind", &row.kind)?;
        let used = if kind == LicenceKind::CustomerUser { active_users(tx).await? } else { 0 };
        Ok(Licence {
            id: row.id,
            organisation: row.tenant_id,
            title: row.title,
            description: row.description,
            kind,
            quantity: row.quantity,
            transmitted: row.transmitted,
            used,
        })
    }

    pub async fn list(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<Vec<Licence>> {
        let tx = Self::in_customer(ctx, org, false).await?;
        let rows = licence::Entity::find()
            .filter(licence::Column::TenantId.eq(org))
            .order_by_asc(licence::Column::Id)
            .all(tx.conn())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(Self::view(&tx, row).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn create(&self, ctx: &TenantCtx, org: TenantId, input: LicenceInput) -> AppResult<Licence> {
        validate(&input)?;
        if input.title.is_none() {
            return Err(AppError::invalid("title", "Enter a title."));
        }
        let tx = Self::in_customer(ctx, org, true).await?;
        let now = self.handles.now();
        let row = licence::ActiveModel {
            tenant_id: Set(org),
            id: Set(self.handles.new_id()),
            title: Set(input.title.unwrap_or_default().trim().to_owned()),
            description: Set(input.description.flatten()),
            kind: Set(<&str>::from(input.kind.unwrap_or(LicenceKind::CustomerUser)).to_owned()),
            quantity: Set(input.quantity.unwrap_or(0)),
            transmitted: Set(input.transmitted.unwrap_or(0)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(tx.conn())
        .await?;
        let changes = audit::created(&json!({ "title": row.title, "kind": row.kind, "quantity": row.quantity }));
        audit::record(&tx, &acting_in(ctx, org), AuditEntry::new("licence.create", "licence", row.id, changes)).await?;
        let licence = Self::view(&tx, row).await?;
        tx.commit().await?;
        Ok(licence)
    }

    /// Changes a licence; lowering it below the seats in use is refused (`LICENCE_IN_USE`).
    pub async fn update(
        &self,
        ctx: &TenantCtx,
        org: TenantId,
        id: uuid::Uuid,
        input: LicenceInput,
    ) -> AppResult<Licence> {
        validate(&input)?;
        let tx = Self::in_customer(ctx, org, true).await?;
        let row = licence::Entity::find_by_id((org, id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let before = json!({ "title": row.title, "quantity": row.quantity, "transmitted": row.transmitted });
        let mut active: licence::ActiveModel = row.into();
        if let Some(title) = input.title {
            active.title = Set(title.trim().to_owned());
        }
        if let Some(description) = input.description {
            active.description = Set(description);
        }
        if let Some(q) = input.quantity {
            active.quantity = Set(q);
        }
        if let Some(t) = input.transmitted {
            active.transmitted = Set(t);
        }
        if input.kind.is_some() {
            return Err(AppError::invalid("kind", "A licence's kind cannot change; create another one."));
        }
        active.updated_at = Set(self.handles.now());
        let row = active.update(tx.conn()).await?;
        ensure_capacity(&tx).await?;
        let after = json!({ "title": row.title, "quantity": row.quantity, "transmitted": row.transmitted });
        audit::record(
            &tx,
            &acting_in(ctx, org),
            AuditEntry::new("licence.update", "licence", id, audit::diff(&before, &after)),
        )
        .await?;
        let licence = Self::view(&tx, row).await?;
        tx.commit().await?;
        Ok(licence)
    }

    /// Deletes a licence unless its seats are needed by the organisation's active users.
    pub async fn delete(&self, ctx: &TenantCtx, org: TenantId, id: uuid::Uuid) -> AppResult<uuid::Uuid> {
        let tx = Self::in_customer(ctx, org, true).await?;
        let row = licence::Entity::find_by_id((org, id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        licence::Entity::delete_by_id((org, id)).exec(tx.conn()).await?;
        ensure_capacity(&tx).await?;
        let changes = audit::diff(&json!({ "title": row.title, "quantity": row.quantity }), &serde_json::Value::Null);
        audit::record(&tx, &acting_in(ctx, org), AuditEntry::new("licence.delete", "licence", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// After a change to the licences: active users must still fit (the transaction rolls back otherwise).
async fn ensure_capacity(tx: &TenantTx) -> AppResult<()> {
    if active_users(tx).await? > locked_capacity(tx).await? {
        return Err(ErrorCode::LicenceInUse.into());
    }
    Ok(())
}
