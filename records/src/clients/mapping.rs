//! Conversions between the `clients` row and the domain [`Client`].

use sea_orm::ActiveValue::Set;
use serde_json::{Map, Value};

use crate::clients::entity::client;
use crate::clients::model::{AccountKind, Client, ClientKind, ClientStatus, ConsentStatus, Phone};
use clientele_kernel::Money;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{CategoryId, ClientId, GroupId, LookupId, StaffId};
use clientele_kernel::language::Language;

fn parse<T: std::str::FromStr>(column: &str, value: &str) -> AppResult<T> {
    value.parse().map_err(|_| AppError::internal(format!("bad stored clients.{column}: {value}")))
}

fn phone(typed: Option<String>, e164: Option<String>) -> Option<Phone> {
    typed.map(|typed| Phone { typed, e164 })
}

/// The key records sort by by default (SRC-09): last name then first name, or the company.
pub fn sort_name(c: &Client) -> String {
    c.display_name().to_lowercase()
}

/// Month * 100 + day of a birth date (year ignored).
pub fn mmdd(date: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    i32::try_from(date.month() * 100 + date.day()).unwrap_or_default()
}

impl Client {
    pub(crate) fn from_row(r: client::Model) -> AppResult<Self> {
        Ok(Self {
            id: r.id,
            number: r.number,
            kind: parse::<ClientKind>("kind", &r.kind)?,
            civility: r.civility.as_deref().map(|c| parse("civility", c)).transpose()?,
            language: parse::<Language>("language", &r.language)?,
            status: parse::<ClientStatus>("status", &r.status)?,
            account_kind: parse::<AccountKind>("account_kind", &r.account_kind)?,
            consent_email: parse::<ConsentStatus>("consent_email", &r.consent_email)?,
            consent_sms: parse::<ConsentStatus>("consent_sms", &r.consent_sms)?,
            mobile: phone(r.mobile, r.mobile_e164),
            home_phone: phone(r.home_phone, r.home_phone_e164),
            work_phone: phone(r.work_phone, r.work_phone_e164),
            category: r.category_id.map(CategoryId),
            group: r.group_id.map(GroupId),
            sponsor: r.sponsor_id.map(ClientId),
            custom_fields: match r.custom_fields {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            },
            credit_limit: Money(r.credit_limit_minor),
            code: r.code,
            barcode: r.barcode,
            last_name: r.last_name,
            first_name: r.first_name,
            company_name: r.company_name,
            legal_form: r.legal_form,
            head_office: r.head_office,
            siren: r.siren,
            siret: r.siret,
            naf_code: r.naf_code,
            vat_number: r.vat_number,
            email: r.email,
            manager_mobile: r.manager_mobile,
            birth_date: r.birth_date,
            alert: r.alert,
            notes: r.notes,
            establishment: r.establishment,
            blocked: r.blocked,
            blocked_reason: r.blocked_reason,
            representative: r.representative_id.map(StaffId),
            vat_exempt: r.vat_exempt,
            bill_excl_tax: r.bill_excl_tax,
            accounting_code: r.accounting_code,
            anonymous_accounting: r.anonymous_accounting,
            multi_tariff: r.multi_tariff,
            tariff: r.tariff_id.map(LookupId),
            no_tiered_prices: r.no_tiered_prices,
            discount_bp: r.discount_bp,
            cross_discount: r.cross_discount_id.map(LookupId),
            payment_terms: r.payment_terms_id.map(LookupId),
            shipping_terms: r.shipping_terms_id.map(LookupId),
            payment_method: r.payment_method_id.map(LookupId),
            alcohol_tax_exempt: r.alcohol_tax_exempt,
            bank_name: r.bank_name,
            bank_iban: r.bank_iban,
            bank_bic: r.bank_bic,
            bank_holder: r.bank_holder,
            loyalty: r.loyalty,
            wallet: r.wallet,
            email_receipts: r.email_receipts,
            billing_uses_delivery: r.billing_uses_delivery,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            anonymised_at: r.anonymised_at,
        })
    }

    /// Every column set from the domain value (inserts and full updates).
    pub(crate) fn to_active(
        &self,
        tenant: clientele_kernel::TenantId,
        created_by: Option<uuid::Uuid>,
    ) -> client::ActiveModel {
        let (mobile, mobile_e164) = split_phone(self.mobile.as_ref());
        let (home_phone, home_phone_e164) = split_phone(self.home_phone.as_ref());
        let (work_phone, work_phone_e164) = split_phone(self.work_phone.as_ref());
        client::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(self.id),
            number: Set(self.number),
            code: Set(self.code.clone()),
            barcode: Set(self.barcode.clone()),
            kind: Set(self.kind.as_str().to_owned()),
            civility: Set(self.civility.map(|c| c.as_str().to_owned())),
            last_name: Set(self.last_name.clone()),
            first_name: Set(self.first_name.clone()),
            company_name: Set(self.company_name.clone()),
            sort_name: Set(sort_name(self)),
            legal_form: Set(self.legal_form.clone()),
            head_office: Set(self.head_office.clone()),
            siren: Set(self.siren.clone()),
            siret: Set(self.siret.clone()),
            naf_code: Set(self.naf_code.clone()),
            vat_number: Set(self.vat_number.clone()),
            email: Set(self.email.clone()),
            mobile: Set(mobile),
            mobile_e164: Set(mobile_e164),
            home_phone: Set(home_phone),
            home_phone_e164: Set(home_phone_e164),
            work_phone: Set(work_phone),
            work_phone_e164: Set(work_phone_e164),
            manager_mobile: Set(self.manager_mobile.clone()),
            language: Set(self.language.tag().to_owned()),
            birth_date: Set(self.birth_date),
            birth_mmdd: Set(self.birth_date.map(mmdd)),
            alert: Set(self.alert.clone()),
            notes: Set(self.notes.clone()),
            establishment: Set(self.establishment.clone()),
            status: Set(self.status.as_str().to_owned()),
            blocked: Set(self.blocked),
            blocked_reason: Set(self.blocked_reason.clone()),
            category_id: Set(self.category.map(|c| c.0)),
            group_id: Set(self.group.map(|g| g.0)),
            sponsor_id: Set(self.sponsor.map(|s| s.0)),
            representative_id: Set(self.representative.map(StaffId::uuid)),
            vat_exempt: Set(self.vat_exempt),
            bill_excl_tax: Set(self.bill_excl_tax),
            accounting_code: Set(self.accounting_code.clone()),
            anonymous_accounting: Set(self.anonymous_accounting),
            multi_tariff: Set(self.multi_tariff),
            tariff_id: Set(self.tariff.map(LookupId::uuid)),
            no_tiered_prices: Set(self.no_tiered_prices),
            discount_bp: Set(self.discount_bp),
            cross_discount_id: Set(self.cross_discount.map(LookupId::uuid)),
            payment_terms_id: Set(self.payment_terms.map(LookupId::uuid)),
            shipping_terms_id: Set(self.shipping_terms.map(LookupId::uuid)),
            payment_method_id: Set(self.payment_method.map(LookupId::uuid)),
            alcohol_tax_exempt: Set(self.alcohol_tax_exempt),
            account_kind: Set(self.account_kind.as_str().to_owned()),
            credit_limit_minor: Set(self.credit_limit.0),
            bank_name: Set(self.bank_name.clone()),
            bank_iban: Set(self.bank_iban.clone()),
            bank_bic: Set(self.bank_bic.clone()),
            bank_holder: Set(self.bank_holder.clone()),
            loyalty: Set(self.loyalty),
            wallet: Set(self.wallet),
            email_receipts: Set(self.email_receipts),
            consent_email: Set(self.consent_email.as_str().to_owned()),
            consent_sms: Set(self.consent_sms.as_str().to_owned()),
            billing_uses_delivery: Set(self.billing_uses_delivery),
            custom_fields: Set((!self.custom_fields.is_empty()).then(|| Value::Object(self.custom_fields.clone()))),
            version: Set(self.version),
            created_by: Set(created_by),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
            deleted_at: Set(self.deleted_at),
            anonymised_at: Set(self.anonymised_at),
        }
    }

    /// What the audit log records of a client: every field but free-text notes in full.
    pub(crate) fn audit_view(&self) -> Value {
        serde_json::json!({
            "code": self.code, "barcode": self.barcode, "kind": self.kind.as_str(),
            "civility": self.civility.map(super::model::Civility::as_str), "last_name": self.last_name, "first_name": self.first_name,
            "company_name": self.company_name, "legal_form": self.legal_form, "siren": self.siren, "siret": self.siret,
            "vat_number": self.vat_number, "email": self.email,
            "mobile": self.mobile.as_ref().map(|p| &p.typed), "home_phone": self.home_phone.as_ref().map(|p| &p.typed),
            "work_phone": self.work_phone.as_ref().map(|p| &p.typed), "language": self.language.tag(),
            "birth_date": self.birth_date, "alert": self.alert, "notes": self.notes, "establishment": self.establishment,
            "status": self.status.as_str(), "blocked": self.blocked, "blocked_reason": self.blocked_reason,
            "category": self.category, "group": self.group, "sponsor": self.sponsor, "representative": self.representative,
            "vat_exempt": self.vat_exempt, "bill_excl_tax": self.bill_excl_tax, "accounting_code": self.accounting_code,
            "anonymous_accounting": self.anonymous_accounting, "multi_tariff": self.multi_tariff, "tariff": self.tariff,
            "no_tiered_prices": self.no_tiered_prices, "discount_bp": self.discount_bp,
            "payment_terms": self.payment_terms, "shipping_terms": self.shipping_terms,
            "payment_method": self.payment_method, "alcohol_tax_exempt": self.alcohol_tax_exempt,
            "account_kind": self.account_kind.as_str(), "credit_limit": self.credit_limit.to_decimal_string(),
            "bank_name": self.bank_name, "bank_iban": self.bank_iban, "bank_bic": self.bank_bic,
            "bank_holder": self.bank_holder, "loyalty": self.loyalty, "wallet": self.wallet,
            "email_receipts": self.email_receipts, "consent_email": self.consent_email.as_str(),
            "consent_sms": self.consent_sms.as_str(), "custom_fields": self.custom_fields,
            "deleted_at": self.deleted_at,
        })
    }
}

fn split_phone(phone: Option<&Phone>) -> (Option<String>, Option<String>) {
    phone.map_or((None, None), |p| (Some(p.typed.clone()), p.e164.clone()))
}
