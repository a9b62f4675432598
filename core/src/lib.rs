#![recursion_limit = "256"] // the audit view of a client is one large `json!`
//! Clientele's kernel: typed ids, the error-code table, the tenant context that is the only
//! door to tenant data, the audit writer, and the ports (clock, entropy, mail) every service uses.

/// A Rust enum stored as its `snake_case` name (`strum`), with `as_str`.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str { self.into() }
        }
    };
}

pub mod audit;
pub mod clients;
pub mod db;
pub mod error;
pub mod files;
pub mod ids;
pub mod language;
pub mod mail;
pub mod page;
pub mod ports;
pub mod search;
pub mod tenancy;
pub mod token;

pub use error::{AppError, AppResult, ErrorCode};
pub use ids::*;
pub use language::Language;
pub use tenancy::{Actor, OrgKind, Permission, Role, TenantCtx, TenantTx, TokenScope, WriteTx};
