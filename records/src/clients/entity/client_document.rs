//! Entity of `client_documents`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{AddressId, ClientDocumentId, ClientId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "client_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ClientDocumentId,
    pub client_id: ClientId,
    pub kind: String,
    pub number: String,
    pub document_date: Date,
    pub amount_minor: i64,
    pub site_id: Option<AddressId>,
    pub invoiced: bool,
    pub ordered: bool,
    pub delivered: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
