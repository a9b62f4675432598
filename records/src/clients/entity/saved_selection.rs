//! Entity of `saved_selections`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{SelectionId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "saved_selections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SelectionId,
    pub name: String,
    pub owner_id: Option<UserId>,
    pub filter: Json,
    pub order_by: String,
    pub client_ids: Option<Json>,
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
