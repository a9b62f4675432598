//! The client as services hand it out, and the input that creates or changes one.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use clientele_kernel::Money;
use clientele_kernel::ids::{CategoryId, ClientId, GroupId, LookupId, StaffId};
use clientele_kernel::language::Language;

stored_enum!(
    /// CLI-01: individual («particulier») or company («entreprise»); switchable later.
    ClientKind { Individual, Company }
);
stored_enum!(
    /// CLI-04, Q-18.
    Civility { Mr, Mrs, Ms, Mx, Dr }
);
stored_enum!(
    /// LIF-02: dormant clients stay but are hidden from lists unless asked for.
    ClientStatus { Active, Dormant }
);
stored_enum!(
    /// LED-01: no account, a prepaid deposit account, or a credit account.
    AccountKind { None, Deposit, Credit }
);
stored_enum!(
    /// GDP-01: consent per channel.
    ConsentStatus { Unknown, Granted, Refused }
);
stored_enum!(
    /// GDP-01: the channels a client consents to separately.
    ConsentChannel { Email, Sms }
);

/// A phone number as typed, and its E.164 form when it parses (digits for search, Q-21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    pub typed: String,
    pub e164: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: ClientId,
    pub number: i64,
    pub code: String,
    pub barcode: Option<String>,
    pub kind: ClientKind,
    pub civility: Option<Civility>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub company_name: Option<String>,
    pub legal_form: Option<String>,
    pub head_office: Option<String>,
    pub siren: Option<String>,
    pub siret: Option<String>,
    pub naf_code: Option<String>,
    pub vat_number: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<Phone>,
    pub home_phone: Option<Phone>,
    pub work_phone: Option<Phone>,
    pub manager_mobile: Option<String>,
    pub language: Language,
    pub birth_date: Option<NaiveDate>,
    pub alert: Option<String>,
    pub notes: Option<String>,
    pub establishment: Option<String>,
    pub status: ClientStatus,
    pub blocked: bool,
    pub blocked_reason: Option<String>,
    pub category: Option<CategoryId>,
    pub group: Option<GroupId>,
    pub sponsor: Option<ClientId>,
    pub representative: Option<StaffId>,
    pub vat_exempt: bool,
    pub bill_excl_tax: bool,
    pub accounting_code: Option<String>,
    pub anonymous_accounting: bool,
    pub multi_tariff: bool,
    pub tariff: Option<LookupId>,
    pub no_tiered_prices: bool,
    /// Hundredths of a percent (1250 = 12.50 %).
    pub discount_bp: Option<i32>,
    pub cross_discount: Option<LookupId>,
    pub payment_terms: Option<LookupId>,
    pub shipping_terms: Option<LookupId>,
    pub payment_method: Option<LookupId>,
    pub alcohol_tax_exempt: bool,
    pub account_kind: AccountKind,
    pub credit_limit: Money,
    pub bank_name: Option<String>,
    pub bank_iban: Option<String>,
    pub bank_bic: Option<String>,
    pub bank_holder: Option<String>,
    pub loyalty: bool,
    pub wallet: bool,
    pub email_receipts: bool,
    pub consent_email: ConsentStatus,
    pub consent_sms: ConsentStatus,
    pub billing_uses_delivery: bool,
    pub custom_fields: Map<String, Value>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub anonymised_at: Option<DateTime<Utc>>,
}

impl Client {
    /// A new individual with every field at its default, before input is applied.
    pub fn blank(id: ClientId, now: DateTime<Utc>) -> Self {
        Self {
            id,
            number: 0,
            code: String::new(),
            barcode: None,
            kind: ClientKind::Individual,
            civility: None,
            last_name: None,
            first_name: None,
            company_name: None,
            legal_form: None,
            head_office: None,
            siren: None,
            siret: None,
            naf_code: None,
            vat_number: None,
            email: None,
            mobile: None,
            home_phone: None,
            work_phone: None,
            manager_mobile: None,
            language: clientele_kernel::Language::Fr,
            birth_date: None,
            alert: None,
            notes: None,
            establishment: None,
            status: ClientStatus::Active,
            blocked: false,
            blocked_reason: None,
            category: None,
            group: None,
            sponsor: None,
            representative: None,
            vat_exempt: false,
            bill_excl_tax: false,
            accounting_code: None,
            anonymous_accounting: false,
            multi_tariff: false,
            tariff: None,
            no_tiered_prices: false,
            discount_bp: None,
            cross_discount: None,
            payment_terms: None,
            shipping_terms: None,
            payment_method: None,
            alcohol_tax_exempt: false,
            account_kind: AccountKind::None,
            credit_limit: Money(0),
            bank_name: None,
            bank_iban: None,
            bank_bic: None,
            bank_holder: None,
            loyalty: false,
            wallet: false,
            email_receipts: false,
            consent_email: ConsentStatus::Unknown,
            consent_sms: ConsentStatus::Unknown,
            billing_uses_delivery: false,
            custom_fields: Map::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            anonymised_at: None,
        }
    }

    /// "Last First" for individuals, the company name for companies (sorting, exports).
    pub fn display_name(&self) -> String {
        match (self.kind, &self.company_name) {
            (ClientKind::Company, Some(company)) => company.clone(),
            _ => [self.last_name.as_deref(), self.first_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// The staff member and list entries a client points at, in the order tariff, cross discount,
/// payment terms, shipping terms, payment method.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientReferences {
    pub representative: Option<StaffId>,
    pub lookups: [Option<LookupId>; 5],
}

impl Client {
    pub(crate) fn references(&self) -> ClientReferences {
        ClientReferences {
            representative: self.representative,
            lookups: [self.tariff, self.cross_discount, self.payment_terms, self.shipping_terms, self.payment_method],
        }
    }
}

/// A field that may be left alone, cleared, or set.
pub type Patch<T> = Option<Option<T>>;

/// Creates or changes a client: `None` leaves a field as it is (or at its default on create);
/// `Some(None)` clears a nullable field.
#[derive(Clone, Debug, Default)]
pub struct ClientInput {
    pub code: Option<String>,
    pub barcode: Patch<String>,
    pub kind: Option<ClientKind>,
    pub civility: Patch<Civility>,
    pub last_name: Patch<String>,
    pub first_name: Patch<String>,
    pub company_name: Patch<String>,
    pub legal_form: Patch<String>,
    pub head_office: Patch<String>,
    pub siren: Patch<String>,
    pub siret: Patch<String>,
    pub naf_code: Patch<String>,
    pub vat_number: Patch<String>,
    pub email: Patch<String>,
    pub mobile: Patch<String>,
    pub home_phone: Patch<String>,
    pub work_phone: Patch<String>,
    pub manager_mobile: Patch<String>,
    pub language: Option<Language>,
    pub birth_date: Patch<NaiveDate>,
    pub alert: Patch<String>,
    pub notes: Patch<String>,
    pub establishment: Patch<String>,
    pub status: Option<ClientStatus>,
    pub category: Patch<CategoryId>,
    pub group: Patch<GroupId>,
    pub sponsor: Patch<ClientId>,
    pub representative: Patch<StaffId>,
    pub vat_exempt: Option<bool>,
    pub bill_excl_tax: Option<bool>,
    pub accounting_code: Patch<String>,
    pub anonymous_accounting: Option<bool>,
    pub multi_tariff: Option<bool>,
    pub tariff: Patch<LookupId>,
    pub no_tiered_prices: Option<bool>,
    /// Percent as a decimal string, 0–100 with two decimals.
    pub discount: Patch<String>,
    pub cross_discount: Patch<LookupId>,
    pub payment_terms: Patch<LookupId>,
    pub shipping_terms: Patch<LookupId>,
    pub payment_method: Patch<LookupId>,
    pub alcohol_tax_exempt: Option<bool>,
    pub account_kind: Option<AccountKind>,
    /// Decimal string in the tenant currency.
    pub credit_limit: Option<String>,
    pub bank_name: Patch<String>,
    pub bank_iban: Patch<String>,
    pub bank_bic: Patch<String>,
    pub bank_holder: Patch<String>,
    pub loyalty: Option<bool>,
    pub wallet: Option<bool>,
    pub email_receipts: Option<bool>,
    pub consent_email: Option<ConsentStatus>,
    pub consent_sms: Option<ConsentStatus>,
    pub billing_uses_delivery: Option<bool>,
    /// Custom field values by key; `null` clears one.
    pub custom_fields: Option<Map<String, Value>>,
    /// Optimistic concurrency (CLI-19): the update fails if the record moved on.
    pub expected_version: Option<i64>,
}
