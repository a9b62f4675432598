//! Entity of `referral_settings`: one row per tenant.

use sea_orm::entity::prelude::*;

use clientele_kernel::TenantId;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    pub enabled: bool,
    pub reward_kind: String,
    pub reward_value: i64,
    pub skip_discount_forbidden: bool,
    pub offer_text: Option<String>,
    pub print_on_receipt: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
