//! A client's contacts and addresses.

pub mod addresses;
pub mod contact;
