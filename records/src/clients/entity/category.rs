//! Entity of `categories`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{CategoryId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CategoryId,
    pub name: String,
    pub description: Option<String>,
    pub default_discount_bp: Option<i32>,
    pub tariff_id: Option<Uuid>,
    pub hold_forbidden: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
