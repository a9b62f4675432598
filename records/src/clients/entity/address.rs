//! Entity of `addresses`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{AddressId, ClientId, StaffId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AddressId,
    pub client_id: ClientId,
    pub kind: String,
    pub label: Option<String>,
    pub company: Option<String>,
    pub street: Option<String>,
    pub complement: Option<String>,
    pub po_box: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub remark: Option<String>,
    pub is_default: bool,
    pub delivery_person_id: Option<StaffId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
