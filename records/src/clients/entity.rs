//! sea-orm entities of the customer-record tables.

pub mod address;
pub mod beneficiary;
pub mod card;
pub mod category;
pub mod client;
pub mod client_document;
pub mod consent;
pub mod contact;
pub mod counter;
pub mod custom_field;
pub mod group;
pub mod import_job;
pub mod ledger_entry;
pub mod ledger_holder;
pub mod lookup;
pub mod referral_settings;
pub mod referral_use;
pub mod saved_selection;
pub mod staff;
