//! sea-orm entities of the customer-record tables.

pub mod address;
pub mod category;
pub mod client;
pub mod consent;
pub mod contact;
pub mod counter;
pub mod custom_field;
pub mod group;
pub mod import_job;
pub mod ledger_entry;
pub mod lookup;
pub mod staff;
