//! Entity of `beneficiaries`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{BeneficiaryId, ClientId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "beneficiaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BeneficiaryId,
    pub client_id: ClientId,
    pub civility: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub street: Option<String>,
    pub complement: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub mobile: Option<String>,
    pub mobile_e164: Option<String>,
    pub email: Option<String>,
    pub loyalty: bool,
    pub wallet: bool,
    pub blocked: bool,
    pub blocked_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
