//! Entity of `clients`.

use sea_orm::entity::prelude::*;

use clientele_kernel::{ClientId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ClientId,
    pub number: i64,
    pub code: String,
    pub barcode: Option<String>,
    pub kind: String,
    pub civility: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub company_name: Option<String>,
    pub sort_name: String,
    pub legal_form: Option<String>,
    pub head_office: Option<String>,
    pub siren: Option<String>,
    pub siret: Option<String>,
    pub naf_code: Option<String>,
    pub vat_number: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub mobile_e164: Option<String>,
    pub home_phone: Option<String>,
    pub home_phone_e164: Option<String>,
    pub work_phone: Option<String>,
    pub work_phone_e164: Option<String>,
    pub manager_mobile: Option<String>,
    pub language: String,
    pub birth_date: Option<Date>,
    pub birth_mmdd: Option<i32>,
    pub alert: Option<String>,
    pub notes: Option<String>,
    pub establishment: Option<String>,
    pub status: String,
    pub blocked: bool,
    pub blocked_reason: Option<String>,
    pub category_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub sponsor_id: Option<Uuid>,
    pub representative_id: Option<Uuid>,
    pub vat_exempt: bool,
    pub bill_excl_tax: bool,
    pub accounting_code: Option<String>,
    pub anonymous_accounting: bool,
    pub multi_tariff: bool,
    pub tariff_id: Option<Uuid>,
    pub no_tiered_prices: bool,
    pub discount_bp: Option<i32>,
    pub cross_discount_id: Option<Uuid>,
    pub payment_terms_id: Option<Uuid>,
    pub shipping_terms_id: Option<Uuid>,
    pub payment_method_id: Option<Uuid>,
    pub alcohol_tax_exempt: bool,
    pub account_kind: String,
    pub credit_limit_minor: i64,
    pub bank_name: Option<String>,
    pub bank_iban: Option<String>,
    pub bank_bic: Option<String>,
    pub bank_holder: Option<String>,
    pub loyalty: bool,
    pub wallet: bool,
    pub email_receipts: bool,
    pub consent_email: String,
    pub consent_sms: String,
    pub billing_uses_delivery: bool,
    pub custom_fields: Option<Json>,
    pub version: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub anonymised_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
