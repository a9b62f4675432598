//! Entity of `custom_field_definitions`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{CustomFieldId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_field_definitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CustomFieldId,
    pub entity: String,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub choices: Json,
    pub position: i32,
    pub required: bool,
    pub searchable: bool,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
