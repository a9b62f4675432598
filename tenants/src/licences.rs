//! Licences of customer organisations (ORG-25, USR-07): seats that users consume. Creating or
//! reactivating a user takes a seat in the same transaction, with the licence rows locked, so
//! concurrent creations can never exceed the quantity.
//!
//! Users are not assigned to a licence. The organisation's active users fill its customer-user
//! licences one after the other, oldest first (creation time, then id), each up to its seats
//! (quantity less transmitted); supplier-user licences hold none of them. So each licence's
//! `used` is its own share, the shares add up to the active users, and one more user fits
//! exactly when some customer-user licence shows a free seat: the check on creation reads the
//! same numbers the licences show.

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
    /// This licence's seats held by active users (see the module's rule).
    pub used: i64,
}

impl Licence {
    /// Seats it offers: quantity − transmitted.
    fn seats(&self) -> i64 {
        (i64::from(self.quantity) - i64::from(self.transmitted)).max(0)
    }

    /// Seats of this licence left: quantity − transmitted − used.
    pub fn free(&self) -> i64 {
        self.seats() - self.used
    }

    fn of(row: licence::Model) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            organisation: row.tenant_id,
            title: row.title,
            kind: crate::model::parse_stored("kind", &row.kind)?,
            description: row.description,
            quantity: row.quantity,
            transmitted: row.transmitted,
            used: 0,
        })
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

/// Gives `active` users their seats, licence after licence in the order given (the module's
/// rule); returns how many found none.
fn fill(licences: &mut [Licence], mut active: i64) -> i64 {
    for licence in licences.iter_mut().filter(|l| l.kind == LicenceKind::CustomerUser) {
        licence.used = active.min(licence.seats());
        active -= licence.used;
    }
    active
}

/// The organisation's licences in the order their seats fill, each with its seats in use, and
/// the active users left without a seat (none while the limits hold). `lock`: the licence rows
/// stay locked until the transaction ends, so concurrent seat takers queue.
async fn filled(tx: &TenantTx, lock: bool) -> AppResult<(Vec<Licence>, i64)> {
    let mut query = licence::Entity::find()
        .filter(licence::Column::TenantId.eq(tx.tenant()))
        .order_by_asc(licence::Column::CreatedAt)
        .order_by_asc(licence::Column::Id);
    if lock {
        query = query.lock_exclusive();
    }
    let mut licences = query.all(tx.conn()).await?.into_iter().map(Licence::of).collect::<AppResult<Vec<_>>>()?;
    let unseated = fill(&mut licences, active_users(tx).await?);
    Ok((licences, unseated))
}

/// Takes a seat for one more active user of a customer organisation, or `SEAT_LIMIT_REACHED`.
/// Platforms and suppliers are not licensed.
pub(crate) async fn take_seat(tx: &TenantTx, kind: OrgKind) -> AppResult<()> {
    if kind != OrgKind::Customer {
        return Ok(());
    }
    let (licences, _) = filled(tx, true).await?;
    if !licences.iter().any(|l| l.kind == LicenceKind::CustomerUser && l.free() > 0) {
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

    /// The customer's licences, oldest first: the order their seats fill.
    pub async fn list(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<Vec<Licence>> {
        let tx = Self::in_customer(ctx, org, false).await?;
        let (licences, _) = filled(&tx, false).await?;
        tx.commit().await?;
        Ok(licences)
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
        let licence = with_id(filled(&tx, false).await?.0, row.id)?;
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
        let licence = with_id(ensure_capacity(&tx).await?, id)?;
        let after = json!({ "title": row.title, "quantity": row.quantity, "transmitted": row.transmitted });
        audit::record(
            &tx,
            &acting_in(ctx, org),
            AuditEntry::new("licence.update", "licence", id, audit::diff(&before, &after)),
        )
        .await?;
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

/// After a change to the licences: every active user must still have a seat (the transaction
/// rolls back otherwise). Returns the licences as they now are.
async fn ensure_capacity(tx: &TenantTx) -> AppResult<Vec<Licence>> {
    let (licences, unseated) = filled(tx, true).await?;
    if unseated > 0 {
        return Err(ErrorCode::LicenceInUse.into());
    }
    Ok(licences)
}

fn with_id(licences: Vec<Licence>, id: uuid::Uuid) -> AppResult<Licence> {
    licences.into_iter().find(|l| l.id == id).ok_or_else(AppError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn licence(kind: LicenceKind, quantity: i32, transmitted: i32) -> Licence {
        let organisation = TenantId(uuid::Uuid::nil());
        let (id, title, description, used) = (uuid::Uuid::nil(), String::new(), None, 0);
        Licence { id, organisation, title, description, kind, quantity, transmitted, used }
    }

    // ORG-25
    #[test]
    fn active_users_fill_customer_licences_in_order() {
        let mut licences = [
            licence(LicenceKind::CustomerUser, 3, 1),
            licence(LicenceKind::SupplierUser, 5, 0),
            licence(LicenceKind::CustomerUser, 4, 0),
        ];
        assert_eq!(fill(&mut licences, 3), 0);
        let shown = licences.iter().map(|l| (l.used, l.free())).collect::<Vec<_>>();
        assert_eq!(shown, [(2, 0), (0, 5), (1, 3)]);
        assert_eq!(fill(&mut licences, 8), 2, "past every seat");
        assert_eq!(licences.iter().map(|l| l.used).collect::<Vec<_>>(), [2, 0, 4]);
    }
}
