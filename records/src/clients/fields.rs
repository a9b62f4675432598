//! The client record described once. [`client_fields!`] is the table of a client's plain fields:
//! one line per field gives its Rust name and type (the `clients` column has the same name and
//! type unless an attribute says otherwise), and a [`FieldSpec`] built from its [`Kind`] saying
//! how input is read and checked, how GraphQL shows it, whether it is personal (GDPR erasure),
//! what a merge does with it, and whether imports and exports know it.
//!
//! The table generates the entity's columns (`entity/client.rs`), the fields of [`Client`] and
//! [`ClientInput`] (`model.rs`) and the row mapping, and [`FIELDS`] drives input, validation,
//! the audit view, merge, erasure, access export, import and export columns and the GraphQL
//! `Client` and `ClientInput` fields. A new core field is one line here plus a migration.
//!
//! Fields with behaviour of their own stay hand-written beside the table: `id` and `number`
//! (allocated), `code` (defaults to the number), `kind` (switches the rules of the record), the
//! phones (two columns each: as typed and E.164), `custom_fields` (JSON checked against the
//! tenant's definitions), `version` and the timestamps (set by the service, never input).

use chrono::NaiveDate;
use serde_json::{Value as Json, json};

use crate::clients::model::{AccountKind, Civility, Client, ClientInput, ClientStatus, ConsentStatus};
use crate::clients::validate;
use clientele_kernel::Money;
use clientele_kernel::error::{AppError, Reason};
use clientele_kernel::ids::{CategoryId, ClientId, GroupId, LookupId, StaffId};
use clientele_kernel::language::Language;

/// The table. Each line: `name: Type [as InputType] = spec`, where the input type (what
/// `ClientInput` holds when it differs from the stored type) is parsed by [`Accept`].
macro_rules! client_fields {
    ($then:ident) => {
        $then! {
            barcode: Option<String> = code().personal().moves().import().export(2, "Barcode", "Code-barres"),
            civility: Option<Civility> = choice("Civility").personal().import().export(4, "Civility", "Civilité"),
            last_name: Option<String> = text(100).personal().import().export(5, "Last name", "Nom"),
            first_name: Option<String> = text(100).personal().import().export(6, "First name", "Prénom"),
            company_name: Option<String> = text(200).personal().import().export(7, "Company", "Raison sociale"),
            legal_form: Option<String> = text(100).import(),
            head_office: Option<String> = text(200).personal().import(),
            siren: Option<String> = of(Kind::Siren).personal().by_hand().import(),
            siret: Option<String> = of(Kind::Siret).personal().by_hand().import(),
            naf_code: Option<String> = text(10).import(),
            vat_number: Option<String> = text(20).personal().import(),
            email: Option<String> = of(Kind::Email).personal().moves().import().export(8, "E-mail", "E-mail"),
            manager_mobile: Option<String> = text(40).personal().import(),
            fax: Option<String> = text(40).personal().import(),
            language: Language = choice("Language").import().export(13, "Language", "Langue"),
            birth_date: Option<NaiveDate> = of(Kind::PastDate).personal().import().export(12, "Birth date", "Date de naissance"),
            alert: Option<String> = long_text(2000).personal().import().about("CLI-13: shown whenever the client is called up."),
            notes: Option<String> = long_text(20_000).personal().import(),
            establishment: Option<String> = text(100).import().export(16, "Establishment", "Établissement"),
            status: ClientStatus = choice("ClientStatus").import().export(17, "Status", "Statut"),
            blocked: bool = flag().read_only().export(18, "Blocked", "Bloqué"),
            blocked_reason: Option<String> = text(500).read_only().by_hand(),
            #[sea_orm(column_name = "category_id")]
            category: Option<CategoryId> = refers(Target::Category).import().export(14, "Category", "Catégorie"),
            #[sea_orm(column_name = "group_id")]
            group: Option<GroupId> = refers(Target::Group).import().export(15, "Group", "Groupe"),
            #[sea_orm(column_name = "sponsor_id")]
            sponsor: Option<ClientId> = refers(Target::Client).by_hand(),
            #[sea_orm(column_name = "representative_id")]
            representative: Option<StaffId> = refers(Target::Staff),
            vat_exempt: bool = flag().import(),
            bill_excl_tax: bool = flag().import(),
            accounting_code: Option<String> = text(40).import().export(19, "Accounting code", "Code comptable"),
            anonymous_accounting: bool = flag().import().export(20, "Anonymous accounting", "Code comptable anonyme"),
            multi_tariff: bool = flag(),
            #[sea_orm(column_name = "tariff_id")]
            tariff: Option<LookupId> = refers(Target::Lookup).by_hand(),
            no_tiered_prices: bool = flag(),
            #[sea_orm(column_name = "discount_bp")]
            discount: Option<i32> as Option<String> = of(Kind::Percent).import().about("Permanent discount in percent."),
            #[sea_orm(column_name = "cross_discount_id")]
            cross_discount: Option<LookupId> = refers(Target::Lookup),
            #[sea_orm(column_name = "payment_terms_id")]
            payment_terms: Option<LookupId> = refers(Target::Lookup),
            #[sea_orm(column_name = "shipping_terms_id")]
            shipping_terms: Option<LookupId> = refers(Target::Lookup),
            #[sea_orm(column_name = "payment_method_id")]
            payment_method: Option<LookupId> = refers(Target::Lookup),
            alcohol_tax_exempt: bool = flag(),
            account_kind: AccountKind = choice("AccountKind").import(),
            #[sea_orm(column_name = "credit_limit_minor")]
            credit_limit: Money as String = of(Kind::Money).import(),
            bank_name: Option<String> = text(100).personal().import(),
            bank_iban: Option<String> = of(Kind::Iban).personal().by_hand().import(),
            bank_bic: Option<String> = of(Kind::Bic).personal().by_hand().import(),
            bank_holder: Option<String> = text(100).personal().import(),
            loyalty: bool = flag().import(),
            wallet: bool = flag().import(),
            email_receipts: bool = flag().import(),
            consent_email: ConsentStatus = choice("ConsentStatus").by_hand().import(),
            consent_sms: ConsentStatus = choice("ConsentStatus").by_hand().import(),
            billing_uses_delivery: bool = flag(),
        }
    };
}
pub(crate) use client_fields;

/// The type `ClientInput` holds for a field: its own, or the one the table names.
macro_rules! input_type {
    ($ty:ty) => {
        $ty
    };
    ($ty:ty, $input:ty) => {
        $input
    };
}
pub(crate) use input_type;

/// How a field's values are read, checked and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Trimmed text of at most `max` characters; `multiline` allows newlines and tabs.
    Text {
        max: usize,
        multiline: bool,
    },
    /// An e-mail address, stored lower-case.
    Email,
    /// A scanned code: printable ASCII without spaces.
    Code,
    /// CLI-11: checked with the SIRET (`validate::siren_siret`).
    Siren,
    Siret,
    /// BIL-14: checked with the BIC (`validate::bank`).
    Iban,
    Bic,
    /// A date, not in the future.
    PastDate,
    Bool,
    /// A stored enum; the name of its GraphQL enum.
    Choice(&'static str),
    /// Another record of the tenant (its existence is checked by `service::check_references`).
    Ref(Target),
    /// Hundredths of a percent, given as a decimal percent from 0 to 100 (BIL-07).
    Percent,
    /// A positive amount in the tenant currency.
    Money,
}

/// What a reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Category,
    Group,
    Client,
    Staff,
    Lookup,
}

/// What a merge does with a field of the kept client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Keeps its value; a blank is filled from the duplicate (nullable fields only).
    Fill,
    /// Like `Fill`, but the value moves: unique values (e-mail, barcode) leave the duplicate.
    Move,
    /// Keeps its value whatever the duplicate has.
    Keep,
    /// `merge::fill_blanks` decides by hand (pairs, cycles, consent history).
    ByHand,
}

/// One field of the table.
#[derive(Clone, Copy)]
pub struct FieldSpec {
    /// The Rust field name, the domain name errors and the audit log use.
    pub name: &'static str,
    pub kind: Kind,
    /// Whether the field may be null.
    pub nullable: bool,
    /// Whether `ClientInput` sets it (else only services do).
    pub input: bool,
    /// GDP-03: erased by anonymisation.
    pub personal: bool,
    pub merge: Merge,
    /// Whether imports may set it.
    pub import: bool,
    /// The export column: its place among the core columns and its header.
    pub export: Option<(u8, Header)>,
    /// The description of the GraphQL field.
    pub about: Option<&'static str>,
    pub(crate) get: fn(&Client) -> FieldValue,
    pub(crate) accept: fn(&mut Client, &mut ClientInput, &FieldSpec, &mut Vec<AppError>),
    pub(crate) set: fn(&mut ClientInput, FieldValue) -> Result<(), String>,
    pub(crate) erase: fn(&mut Client) -> bool,
    pub(crate) take_over: fn(&mut Client, &mut Client, Merge),
}

/// A spec under construction: the table's lines are chains of these `const` builders.
#[derive(Clone, Copy)]
pub struct Spec {
    kind: Kind,
    input: bool,
    personal: bool,
    merge: Option<Merge>,
    import: bool,
    export: Option<(u8, Header)>,
    about: Option<&'static str>,
}

/// An export column's header in English and in French (EXP-01: the file speaks its reader's
/// language; imports recognise both).
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub en: &'static str,
    pub fr: &'static str,
}

impl Header {
    /// French for French readers, English for everyone else.
    pub fn get(self, language: Language) -> &'static str {
        if language == Language::Fr { self.fr } else { self.en }
    }
}

const fn of(kind: Kind) -> Spec {
    Spec { kind, input: true, personal: false, merge: None, import: false, export: None, about: None }
}
const fn text(max: usize) -> Spec {
    of(Kind::Text { max, multiline: false })
}
const fn long_text(max: usize) -> Spec {
    of(Kind::Text { max, multiline: true })
}
const fn code() -> Spec {
    of(Kind::Code)
}
const fn flag() -> Spec {
    of(Kind::Bool)
}
const fn choice(graphql_enum: &'static str) -> Spec {
    of(Kind::Choice(graphql_enum))
}
const fn refers(target: Target) -> Spec {
    of(Kind::Ref(target))
}

impl Spec {
    const fn personal(self) -> Self {
        Self { personal: true, ..self }
    }
    const fn moves(self) -> Self {
        Self { merge: Some(Merge::Move), ..self }
    }
    const fn by_hand(self) -> Self {
        Self { merge: Some(Merge::ByHand), ..self }
    }
    const fn read_only(self) -> Self {
        Self { input: false, ..self }
    }
    const fn import(self) -> Self {
        Self { import: true, ..self }
    }
    const fn export(self, position: u8, en: &'static str, fr: &'static str) -> Self {
        Self { export: Some((position, Header { en, fr })), ..self }
    }
    const fn about(self, text: &'static str) -> Self {
        Self { about: Some(text), ..self }
    }
}

/// Builds [`FIELDS`] from the table.
macro_rules! field_specs {
    ($($(#[$column:meta])* $name:ident : $ty:ty $(as $input:ty)? = $spec:expr),* $(,)?) => {
        /// Every plain field of a client, in the order of the GraphQL `Client` type.
        pub const FIELDS: &[FieldSpec] = &[$({
            let spec: Spec = $spec;
            FieldSpec {
                name: stringify!($name),
                kind: spec.kind,
                nullable: <$ty as FieldType>::NULLABLE,
                input: spec.input,
                personal: spec.personal,
                merge: match spec.merge {
                    Some(merge) => merge,
                    None if <$ty as FieldType>::NULLABLE => Merge::Fill,
                    None => Merge::Keep,
                },
                import: spec.import,
                export: spec.export,
                about: spec.about,
                get: |c| c.$name.value(),
                accept: |c, input, spec, errors| {
                    if let Some(value) = input.$name.take() {
                        c.$name.accept(value, spec, errors);
                    }
                },
                set: |input, value| {
                    input.$name = Some(<input_type!($ty $(, $input)?) as FromValue>::from_value(value)?);
                    Ok(())
                },
                erase: |c| c.$name.erase(),
                take_over: |kept, gone, merge| take_over(&mut kept.$name, &mut gone.$name, merge),
            }
        }),*];
    };
}
client_fields!(field_specs);

impl FieldSpec {
    /// The field's value on `c`.
    pub fn value(&self, c: &Client) -> FieldValue {
        (self.get)(c)
    }

    /// Sets the field in `input`; the error says what the value should be.
    pub fn set_input(&self, input: &mut ClientInput, value: FieldValue) -> Result<(), String> {
        (self.set)(input, value)
    }
}

/// The spec of the field named `name`.
pub fn spec(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.name == name)
}

/// A field's value, whatever its type: what GraphQL, the audit log and exports read, and what
/// GraphQL and imports hand in.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    Date(NaiveDate),
    /// Out: the stored value (`en-US`); in: that or the GraphQL name (`EN_US`), any case.
    Choice(String),
    Id(uuid::Uuid),
    /// An exact decimal (amounts).
    Decimal(String),
}

impl FieldValue {
    /// The value in the audit log and the access export.
    pub fn to_json(&self) -> Json {
        match self {
            Self::Null => Json::Null,
            Self::Text(s) | Self::Choice(s) | Self::Decimal(s) => json!(s),
            Self::Bool(b) => json!(b),
            Self::Int(n) => json!(n),
            Self::Date(d) => json!(d),
            Self::Id(id) => json!(id),
        }
    }

    fn text(self) -> Result<String, String> {
        match self {
            Self::Text(s) | Self::Choice(s) | Self::Decimal(s) => Ok(s),
            _ => Err("Enter text.".into()),
        }
    }
}

/// A type a field of the table may have.
pub trait FieldType {
    const NULLABLE: bool = false;
    /// The value of a new client.
    fn blank() -> Self;
    fn value(&self) -> FieldValue;
    /// Empties the value; `true` when there was one (GDPR erasure).
    fn erase(&mut self) -> bool {
        false
    }
    fn is_blank(&self) -> bool {
        false
    }
}

impl<T: FieldType> FieldType for Option<T> {
    const NULLABLE: bool = true;
    fn blank() -> Self {
        None
    }
    fn value(&self) -> FieldValue {
        self.as_ref().map_or(FieldValue::Null, FieldType::value)
    }
    fn erase(&mut self) -> bool {
        self.take().is_some()
    }
    fn is_blank(&self) -> bool {
        self.is_none()
    }
}

impl FieldType for String {
    fn blank() -> Self {
        String::new()
    }
    fn value(&self) -> FieldValue {
        FieldValue::Text(self.clone())
    }
}
impl FieldType for bool {
    fn blank() -> Self {
        false
    }
    fn value(&self) -> FieldValue {
        FieldValue::Bool(*self)
    }
}
impl FieldType for i32 {
    fn blank() -> Self {
        0
    }
    fn value(&self) -> FieldValue {
        FieldValue::Int(i64::from(*self))
    }
}
impl FieldType for NaiveDate {
    fn blank() -> Self {
        NaiveDate::default()
    }
    fn value(&self) -> FieldValue {
        FieldValue::Date(*self)
    }
}
impl FieldType for Money {
    fn blank() -> Self {
        Money(0)
    }
    fn value(&self) -> FieldValue {
        FieldValue::Decimal(self.to_decimal_string())
    }
}

/// How `ClientInput` values are read from a [`FieldValue`] (GraphQL and import cells).
pub trait FromValue: Sized {
    fn from_value(value: FieldValue) -> Result<Self, String>;
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: FieldValue) -> Result<Self, String> {
        match value {
            FieldValue::Null => Ok(None),
            value => T::from_value(value).map(Some),
        }
    }
}
impl FromValue for String {
    fn from_value(value: FieldValue) -> Result<Self, String> {
        value.text()
    }
}
impl FromValue for bool {
    fn from_value(value: FieldValue) -> Result<Self, String> {
        match value {
            FieldValue::Bool(b) => Ok(b),
            _ => Err("Use true or false.".into()),
        }
    }
}
impl FromValue for NaiveDate {
    fn from_value(value: FieldValue) -> Result<Self, String> {
        match value {
            FieldValue::Date(d) => Ok(d),
            other => {
                NaiveDate::parse_from_str(&other.text()?, "%Y-%m-%d").map_err(|_| "Use a date as YYYY-MM-DD.".into())
            }
        }
    }
}

/// Stored enums: read by stored value or GraphQL name, shown by stored value.
macro_rules! choice_types {
    ($($ty:ident: $blank:ident),*) => {$(
        impl FieldType for $ty {
            fn blank() -> Self {
                $ty::$blank
            }
            fn value(&self) -> FieldValue {
                FieldValue::Choice(<&'static str>::from(*self).to_owned())
            }
        }
        impl FromValue for $ty {
            fn from_value(value: FieldValue) -> Result<Self, String> {
                choice_of(&value.text()?)
            }
        }
    )*};
}
choice_types!(Civility: Mr, ClientStatus: Active, AccountKind: None, ConsentStatus: Unknown, Language: Fr);

/// A value of `E` by its stored value or GraphQL name, in any case (`EN_US`, `en-us`).
pub(crate) fn choice_of<E>(raw: &str) -> Result<E, String>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    let norm = |s: &str| s.trim().replace('-', "_").to_lowercase();
    let wanted = norm(raw);
    E::iter().find(|v| norm((*v).into()) == wanted).ok_or_else(|| {
        let names: Vec<String> = E::iter().map(|v| v.into().replace('-', "_").to_uppercase()).collect();
        format!("Use one of {}.", names.join(", "))
    })
}

macro_rules! id_types {
    ($($ty:ident),*) => {$(
        impl FieldType for $ty {
            fn blank() -> Self {
                $ty(uuid::Uuid::nil())
            }
            fn value(&self) -> FieldValue {
                FieldValue::Id(self.0)
            }
        }
        impl FromValue for $ty {
            fn from_value(value: FieldValue) -> Result<Self, String> {
                match value {
                    FieldValue::Id(id) => Ok($ty(id)),
                    other => other.text()?.trim().parse().map_err(|_| "This is not a valid id.".into()),
                }
            }
        }
    )*};
}
id_types!(CategoryId, GroupId, ClientId, StaffId, LookupId);

/// How an input value lands on the client: normalised (trimmed, cased) and parsed by kind.
/// Checks that need the whole record run afterwards, in [`check`].
pub trait Accept<I> {
    fn accept(&mut self, input: I, spec: &FieldSpec, errors: &mut Vec<AppError>);
}

macro_rules! accepted_as_given {
    ($($ty:ty),*) => {$(
        impl Accept<$ty> for $ty {
            fn accept(&mut self, input: $ty, _: &FieldSpec, _: &mut Vec<AppError>) {
                *self = input;
            }
        }
    )*};
}
accepted_as_given!(
    bool,
    Language,
    ClientStatus,
    AccountKind,
    ConsentStatus,
    Option<Civility>,
    Option<NaiveDate>,
    Option<CategoryId>,
    Option<GroupId>,
    Option<ClientId>,
    Option<StaffId>,
    Option<LookupId>
);

fn without_spaces(value: &str) -> String {
    value.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Accept<Option<String>> for Option<String> {
    fn accept(&mut self, input: Option<String>, spec: &FieldSpec, _: &mut Vec<AppError>) {
        let value = validate::clean(input);
        *self = match spec.kind {
            Kind::Email => value.map(|v| v.to_lowercase()),
            Kind::Siren | Kind::Siret => value.map(|v| without_spaces(&v)),
            Kind::Iban | Kind::Bic => value.map(|v| without_spaces(&v).to_uppercase()),
            _ => value,
        };
    }
}

impl Accept<Option<String>> for Option<i32> {
    fn accept(&mut self, input: Option<String>, spec: &FieldSpec, errors: &mut Vec<AppError>) {
        *self = validate::percent(errors, spec.name, validate::clean(input).as_deref());
    }
}

impl Accept<String> for Money {
    fn accept(&mut self, input: String, spec: &FieldSpec, errors: &mut Vec<AppError>) {
        match Money::parse(&input) {
            Some(m) if m.0 >= 0 => *self = m,
            _ => errors.push(AppError::refused(spec.name, Reason::PositiveAmount)),
        }
    }
}

/// Applies every plain field `input` sets to `c`.
pub(crate) fn apply(c: &mut Client, input: &mut ClientInput, errors: &mut Vec<AppError>) {
    for spec in FIELDS.iter().filter(|f| f.input) {
        (spec.accept)(c, input, spec, errors);
    }
}

/// The checks of each field on its own, by kind (pairs such as SIREN/SIRET are checked
/// together by the service).
pub(crate) fn check(c: &Client, today: NaiveDate, errors: &mut Vec<AppError>) {
    for spec in FIELDS {
        let value = (spec.get)(c);
        match (spec.kind, &value) {
            (Kind::Text { max, multiline }, FieldValue::Text(s)) => {
                validate::text(errors, spec.name, Some(s), max, multiline);
            }
            (Kind::Email, FieldValue::Text(s)) => validate::email(errors, spec.name, Some(s)),
            (Kind::Code, FieldValue::Text(s)) => validate::code(errors, spec.name, Some(s)),
            (Kind::PastDate, FieldValue::Date(d)) if *d > today => {
                errors.push(AppError::invalid(spec.name, "The date cannot be in the future."));
            }
            _ => {}
        }
    }
}

/// Merges one field of the duplicate into the kept client.
fn take_over<T: FieldType + Clone>(kept: &mut T, gone: &mut T, merge: Merge) {
    match merge {
        Merge::Fill if kept.is_blank() => kept.clone_from(gone),
        Merge::Move if kept.is_blank() => std::mem::swap(kept, gone),
        _ => {}
    }
}

/// Every plain field by name, as JSON: the audit view's part of the table.
pub(crate) fn json_view(c: &Client) -> serde_json::Map<String, Json> {
    FIELDS.iter().map(|f| (f.name.to_owned(), (f.get)(c).to_json())).collect()
}

/// `credit_limit` → `creditLimit`: the GraphQL name of a domain name.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for ch in name.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.push(ch.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_line_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(FIELDS.iter().all(|f| seen.insert(f.name)));
        let mut places: Vec<u8> = FIELDS.iter().filter_map(|f| f.export.map(|(p, _)| p)).collect();
        places.sort_unstable();
        places.dedup();
        assert_eq!(places.len(), FIELDS.iter().filter(|f| f.export.is_some()).count(), "export places are unique");
        assert!(FIELDS.iter().filter(|f| f.merge == Merge::Move).all(|f| f.nullable));
    }

    #[test]
    fn inputs_are_normalised_by_kind() {
        let mut c = Client::blank(ClientId(uuid::Uuid::nil()), chrono::DateTime::UNIX_EPOCH);
        let mut input = ClientInput::default();
        for (name, value) in [
            ("email", FieldValue::Text(" Ann@Example.TEST ".into())),
            ("bank_iban", FieldValue::Text("fr76 3000".into())),
            ("discount", FieldValue::Text("12.5".into())),
            ("credit_limit", FieldValue::Text("-1".into())),
            ("status", FieldValue::Choice("DORMANT".into())),
            ("language", FieldValue::Choice("EN_US".into())),
        ] {
            (spec(name).unwrap().set)(&mut input, value).unwrap();
        }
        let mut errors = Vec::new();
        apply(&mut c, &mut input, &mut errors);
        assert_eq!(c.email.as_deref(), Some("ann@example.test"));
        assert_eq!(c.bank_iban.as_deref(), Some("FR763000"));
        assert_eq!(c.discount, Some(1250));
        assert_eq!((c.status, c.language), (ClientStatus::Dormant, Language::EnUs));
        assert_eq!(errors.iter().map(|e| e.field().unwrap_or("")).collect::<Vec<_>>(), ["credit_limit"]);
        assert!((spec("status").unwrap().set)(&mut input, FieldValue::Text("robot".into())).is_err());
        assert_eq!(camel("bank_iban"), "bankIban");
    }
}
