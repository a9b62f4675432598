//! Entity of `ledger_entries`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{ClientId, LedgerEntryId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LedgerEntryId,
    pub client_id: ClientId,
    pub entry_date: Date,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub document_ref: Option<String>,
    pub note: Option<String>,
    pub author_user_id: Option<Uuid>,
    pub reverses_id: Option<LedgerEntryId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
