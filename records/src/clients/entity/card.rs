//! Entity of `cards`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{BeneficiaryId, CardId, ClientId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CardId,
    pub client_id: ClientId,
    pub beneficiary_id: Option<BeneficiaryId>,
    pub number: String,
    pub status: String,
    pub issued_on: Date,
    pub expires_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
