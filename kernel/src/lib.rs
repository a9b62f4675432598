//! Clientele's kernel: typed ids, the error-code table, the tenant context that is the only
//! door to tenant data, the audit writer, pagination, opaque secrets, money, field types, the
//! ports every service uses (clock, entropy, blobs, mail, organisations), and a contact person's
//! details, which clients and organisations share. It knows no other domain.

/// A Rust enum stored as its `snake_case` name (`strum`), with `as_str`.
#[macro_export]
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter,
                 serde::Serialize, serde::Deserialize)]
        #[strum(serialize_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str { self.into() }
        }
    };
}

pub mod audit;
pub mod blobs;
pub mod db;
pub mod error;
pub mod fields;
pub mod ids;
pub mod language;
pub mod mail;
pub mod money;
pub mod nodes;
pub mod organisations;
pub mod page;
pub mod person;
pub mod ports;
pub mod tenancy;
pub mod token;

pub use error::{AppError, AppResult, ErrorCode, Reason};
pub use fields::FieldType;
pub use ids::*;
pub use language::Language;
pub use money::Money;
pub use organisations::Organisations;
pub use tenancy::{Actor, OrgKind, Permission, Role, TenantCtx, TenantTx, TokenScope, WriteTx};
