use clientele_kernel::TenantId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TenantId,
    pub kind: String,
    pub parent_id: Option<TenantId>,
    pub name: String,
    pub status: String,
    pub config_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub number: Option<i64>,
    pub legal_form: Option<String>,
    pub street: Option<String>,
    pub po_box: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub homepage: Option<String>,
    pub notification_email: Option<String>,
    pub remarks: Option<String>,
    pub bank_name: Option<String>,
    pub bank_city: Option<String>,
    pub bank_street: Option<String>,
    pub bank_country: Option<String>,
    pub bank_bic: Option<String>,
    pub bank_code: Option<String>,
    pub bank_account: Option<String>,
    pub payment_terms: Option<String>,
    pub delivery_terms: Option<String>,
    pub number_at_customer: Option<String>,
    pub vat_id: Option<String>,
    pub tax_number: Option<String>,
    pub registration_number: Option<String>,
    pub registration_court: Option<String>,
    pub language: String,
    pub customer_group_id: Option<Uuid>,
    pub settings_template: Option<String>,
    pub blocked: bool,
    pub valid_from: Option<Date>,
    pub shop_url: Option<String>,
    pub direct_login_allowed: bool,
    pub terms_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
