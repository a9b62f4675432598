//! The API by area: each folder holds one part of the schema (its types, root fields, fields
//! added to `Client`, and the loaders it needs).

pub mod accounts;
pub mod audit;
pub mod clients;
pub mod contacts;
pub mod ledger;
pub mod lookups;
pub mod nodes;
pub mod organisations;
pub mod plugins;
