//! Organisations: a supplier's customers, its catalogue, direct login into a customer.

pub mod catalogue;
pub mod customers;
pub mod direct_login;
