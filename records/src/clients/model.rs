//! The client as services hand it out, and the input that creates or changes one.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::clients::fields::{FieldType, client_fields, input_type};
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

/// A client: the hand-written fields (see `clients::fields` for why each is special) and one
/// per line of the client table.
macro_rules! client_struct {
    ($($(#[$column:meta])* $name:ident : $ty:ty $(as $input:ty)? = $spec:expr),* $(,)?) => {
        #[derive(Clone, Debug)]
        pub struct Client {
            pub id: ClientId,
            pub number: i64,
            pub code: String,
            pub kind: ClientKind,
            pub mobile: Option<Phone>,
            pub home_phone: Option<Phone>,
            pub work_phone: Option<Phone>,
            pub custom_fields: Map<String, Value>,
            pub version: i64,
            pub created_at: DateTime<Utc>,
            pub updated_at: DateTime<Utc>,
            pub deleted_at: Option<DateTime<Utc>>,
            pub anonymised_at: Option<DateTime<Utc>>,
            $(pub $name: $ty,)*
        }

        impl Client {
            /// A new individual with every field at its default, before input is applied.
            pub fn blank(id: ClientId, now: DateTime<Utc>) -> Self {
                Self {
                    id,
                    number: 0,
                    code: String::new(),
                    kind: ClientKind::Individual,
                    mobile: None,
                    home_phone: None,
                    work_phone: None,
                    custom_fields: Map::new(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                    anonymised_at: None,
                    $($name: <$ty as FieldType>::blank(),)*
                }
            }
        }

        /// Creates or changes a client: `None` leaves a field as it is (or at its default on
        /// create); `Some(None)` clears a nullable field.
        #[derive(Clone, Debug, Default)]
        pub struct ClientInput {
            pub code: Option<String>,
            pub kind: Option<ClientKind>,
            pub mobile: Patch<String>,
            pub home_phone: Patch<String>,
            pub work_phone: Patch<String>,
            /// Custom field values by key; `null` clears one.
            pub custom_fields: Option<Map<String, Value>>,
            /// Optimistic concurrency (CLI-19): the update fails if the record moved on.
            pub expected_version: Option<i64>,
            $(pub $name: Option<input_type!($ty $(, $input)?)>,)*
        }
    };
}
client_fields!(client_struct);

impl Client {
    /// "Last First" for individuals, the company name for companies (sorting, exports); an
    /// anonymised client, whose names are erased, by its number.
    pub fn display_name(&self) -> String {
        if self.anonymised_at.is_some() {
            return format!("Anonymised client #{}", self.number);
        }
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
