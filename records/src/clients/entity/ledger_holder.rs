//! Entity of `ledger_entry_holders`: the beneficiary and card an entry was posted for.

use sea_orm::entity::prelude::*;

use clientele_kernel::{BeneficiaryId, CardId, LedgerEntryId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entry_holders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// The ledger entry's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LedgerEntryId,
    pub beneficiary_id: Option<BeneficiaryId>,
    pub card_id: Option<CardId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
