#![recursion_limit = "256"] // the audit view of a client is one large `json!`
//! The customer-record domain: clients and everything around them (custom fields, categories
//! and groups, addresses and contacts, ledger, GDPR, merge), their files, their search
//! documents and index port, and imports and exports. Built on `clientele-kernel`.

#[macro_use]
extern crate clientele_kernel;

pub mod clients;
pub mod files;
pub mod search;
