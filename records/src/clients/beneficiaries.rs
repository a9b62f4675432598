//! Beneficiaries of a client (CRD-01..04): people attached to the client's account who may
//! hold cards, with their loyalty and wallet flags (LED-15, LED-16). Their names and contact
//! details are personal data, exported and erased with the client's (GDP-03, GDP-06, Q-12).

use std::sync::Arc;

use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::clients::entity::{beneficiary, card, ledger_holder};
use crate::clients::{service, validate};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{BeneficiaryId, ClientId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

use crate::clients::service::ensure_live;

mod model;

pub use model::{Beneficiary, BeneficiaryInput};

pub(crate) async fn find(tx: &TenantTx, id: BeneficiaryId) -> AppResult<Beneficiary> {
    let row = beneficiary::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
    Beneficiary::try_from(row.ok_or_else(AppError::not_found)?)
}

/// Every beneficiary of `clients`, by name.
pub(crate) async fn of_clients(tx: &TenantTx, clients: &[ClientId]) -> AppResult<Vec<Beneficiary>> {
    use sea_orm::QueryOrder;
    let rows = beneficiary::Entity::find()
        .filter(beneficiary::Column::TenantId.eq(tx.tenant()))
        .filter(beneficiary::Column::ClientId.is_in(clients.iter().copied()))
        .order_by_asc(beneficiary::Column::LastName)
        .order_by_asc(beneficiary::Column::FirstName)
        .order_by_asc(beneficiary::Column::Id)
        .all(tx.conn())
        .await?;
    rows.into_iter().map(Beneficiary::try_from).collect()
}

pub struct BeneficiaryService {
    handles: Arc<Handles>,
}

impl BeneficiaryService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Beneficiaries of several clients in one statement (CRD-01), by name.
    pub async fn by_clients(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<Beneficiary>> {
        let tx = ctx.read().await?;
        let rows = of_clients(&tx, ids).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Beneficiaries by id, for batched loading; unknown ids are absent.
    pub async fn by_ids(&self, ctx: &TenantCtx, ids: &[BeneficiaryId]) -> AppResult<Vec<Beneficiary>> {
        let tx = ctx.read().await?;
        let rows = beneficiary::Entity::find()
            .filter(beneficiary::Column::TenantId.eq(ctx.tenant()))
            .filter(beneficiary::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Beneficiary::try_from).collect()
    }

    pub async fn get(&self, ctx: &TenantCtx, id: BeneficiaryId) -> AppResult<Beneficiary> {
        let tx = ctx.read().await?;
        let found = find(&tx, id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// CRD-02: adds a beneficiary to a client.
    pub async fn create(&self, ctx: &TenantCtx, client: ClientId, input: BeneficiaryInput) -> AppResult<Beneficiary> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let owner = service::load(&tx, client).await?;
        ensure_live(&owner)?;
        let now = self.handles.now();
        let mut created = Beneficiary::blank(BeneficiaryId(self.handles.new_id()), owner.id, now);
        created.apply(input)?;
        created.to_active(ctx.tenant()).insert(tx.conn()).await?;
        let changes = audit::created(&created.view());
        audit::record(&tx, ctx, AuditEntry::new("beneficiary.create", "beneficiary", created.id, changes)).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// CRD-03: changes a beneficiary.
    pub async fn update(&self, ctx: &TenantCtx, id: BeneficiaryId, input: BeneficiaryInput) -> AppResult<Beneficiary> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        let mut after = Beneficiary { updated_at: self.handles.now(), ..before.clone() };
        after.apply(input)?;
        after.to_active(ctx.tenant()).update(tx.conn()).await?;
        let changes = audit::diff(&before.view(), &after.view());
        audit::record(&tx, ctx, AuditEntry::new("beneficiary.update", "beneficiary", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// CRD-03: deletes a beneficiary with its cards, unless ledger entries were posted for it
    /// or one of its cards (`LINKED_RECORDS`): the accounts keep naming them.
    pub async fn delete(&self, ctx: &TenantCtx, id: BeneficiaryId) -> AppResult<BeneficiaryId> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        let cards = card::Entity::find()
            .filter(card::Column::TenantId.eq(ctx.tenant()))
            .filter(card::Column::BeneficiaryId.eq(id))
            .all(tx.conn())
            .await?;
        let entries = ledger_holder::Entity::find()
            .filter(ledger_holder::Column::TenantId.eq(ctx.tenant()))
            .filter(
                Condition::any()
                    .add(ledger_holder::Column::BeneficiaryId.eq(id))
                    .add(ledger_holder::Column::CardId.is_in(cards.iter().map(|c| c.id))),
            )
            .count(tx.conn())
            .await?;
        if entries > 0 {
            return Err(AppError::new(
                ErrorCode::LinkedRecords,
                format!("{entries} ledger entry(ies) name this beneficiary or its cards: block it instead."),
            ));
        }
        // Its cards go with it (the foreign key cascades); the audit names them.
        let cards: Vec<String> = cards.into_iter().map(|c| c.number).collect();
        beneficiary::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let mut changes = audit::diff(&before.view(), &Value::Null);
        changes["cards_deleted"] = json!(cards);
        audit::record(&tx, ctx, AuditEntry::new("beneficiary.delete", "beneficiary", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// CRD-04: blocks a beneficiary (a reason is required) or unblocks it (`None`).
    pub async fn set_blocked(
        &self,
        ctx: &TenantCtx,
        id: BeneficiaryId,
        reason: Option<String>,
    ) -> AppResult<Beneficiary> {
        ctx.require(Permission::Write)?;
        let blocking = reason.is_some();
        let reason = validate::clean(reason);
        let mut errors = Vec::new();
        if blocking && reason.is_none() {
            errors.push(AppError::invalid("reason", "Say why the beneficiary is blocked."));
        }
        validate::text(&mut errors, "reason", reason.as_deref(), 500, false);
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        let after = Beneficiary {
            blocked: reason.is_some(),
            blocked_reason: reason,
            updated_at: self.handles.now(),
            ..before.clone()
        };
        after.to_active(ctx.tenant()).update(tx.conn()).await?;
        let action = if after.blocked { "beneficiary.block" } else { "beneficiary.unblock" };
        let changes = audit::diff(&before.view(), &after.view());
        audit::record(&tx, ctx, AuditEntry::new(action, "beneficiary", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }
}
