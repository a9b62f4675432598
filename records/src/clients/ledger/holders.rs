//! The beneficiary and card an entry was posted for (LED-07), kept beside the entry in
//! `ledger_entry_holders`, so each beneficiary has its own statement (LED-13, CRD-06).

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::clients::entity::ledger_holder;
use crate::clients::model::Client;
use crate::clients::{beneficiaries, cards};
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{BeneficiaryId, CardId, LedgerEntryId, TenantId};
use clientele_kernel::tenancy::TenantTx;

/// Who an entry concerns besides the client's account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holder {
    pub beneficiary: Option<BeneficiaryId>,
    pub card: Option<CardId>,
}

impl Holder {
    fn is_empty(self) -> bool {
        self.beneficiary.is_none() && self.card.is_none()
    }
}

/// Checks what a posting names: a beneficiary and card of `client`, the card usable
/// (`CARD_BLOCKED`, expired) and its holder not blocked (`BENEFICIARY_BLOCKED`). A card alone
/// names its holder too.
pub(super) async fn resolve(tx: &TenantTx, client: &Client, asked: Holder, today: NaiveDate) -> AppResult<Holder> {
    let mut holder = asked;
    if let Some(id) = asked.card {
        let card = match cards::find(tx, id).await {
            Ok(card) if card.client == client.id => card,
            Ok(_) => return Err(AppError::invalid("card", "No such card for this client.")),
            Err(err) if err.code() == ErrorCode::NotFound => {
                return Err(AppError::invalid("card", "No such card for this client."));
            }
            Err(err) => return Err(err),
        };
        if asked.beneficiary.is_some_and(|b| card.beneficiary != Some(b)) {
            return Err(AppError::invalid("card", "This card is not the beneficiary's."));
        }
        if card.status == cards::CardStatus::Blocked {
            return Err(AppError::code_only(ErrorCode::CardBlocked));
        }
        if card.is_expired(today) {
            return Err(AppError::invalid("card", "This card has expired."));
        }
        holder.beneficiary = card.beneficiary;
    }
    if let Some(id) = holder.beneficiary {
        let beneficiary = match beneficiaries::find(tx, id).await {
            Ok(b) if b.client == client.id => b,
            Ok(_) => return Err(AppError::invalid("beneficiary", "No such beneficiary for this client.")),
            Err(err) if err.code() == ErrorCode::NotFound => {
                return Err(AppError::invalid("beneficiary", "No such beneficiary for this client."));
            }
            Err(err) => return Err(err),
        };
        if beneficiary.blocked {
            return Err(AppError::code_only(ErrorCode::BeneficiaryBlocked)); // CRD-04
        }
    }
    Ok(holder)
}

/// Stores `holder` for the entry `id` (nothing when it names no one).
pub(super) async fn record(tx: &TenantTx, id: LedgerEntryId, holder: Holder) -> AppResult<()> {
    if holder.is_empty() {
        return Ok(());
    }
    ledger_holder::Entity::insert(ledger_holder::ActiveModel {
        tenant_id: Set(tx.tenant()),
        id: Set(id),
        beneficiary_id: Set(holder.beneficiary),
        card_id: Set(holder.card),
    })
    .exec(tx.conn())
    .await?;
    Ok(())
}

/// The holders of `ids`, in one statement; entries naming no one are absent.
pub(super) async fn of_entries(tx: &TenantTx, ids: &[LedgerEntryId]) -> AppResult<HashMap<LedgerEntryId, Holder>> {
    let rows = ledger_holder::Entity::find()
        .filter(ledger_holder::Column::TenantId.eq(tx.tenant()))
        .filter(ledger_holder::Column::Id.is_in(ids.iter().copied()))
        .all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, Holder { beneficiary: r.beneficiary_id, card: r.card_id })).collect())
}

/// `SELECT id FROM ledger_entry_holders WHERE …`: the entries posted for one beneficiary.
pub(super) fn entries_of(tenant: TenantId, beneficiary: BeneficiaryId) -> SelectStatement {
    Query::select()
        .column(ledger_holder::Column::Id)
        .from(ledger_holder::Entity)
        .and_where(ledger_holder::Column::TenantId.eq(tenant))
        .and_where(ledger_holder::Column::BeneficiaryId.eq(beneficiary))
        .to_owned()
}
