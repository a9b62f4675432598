//! Entity of `contacts`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{AddressId, ClientId, ContactId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ContactId,
    pub client_id: ClientId,
    pub address_id: Option<AddressId>,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub remark: Option<String>,
    pub custom_fields: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
