//! Accounts: sign-in, sessions, users, API tokens, invitations, terms of use, OIDC, settings.

pub mod invitations;
pub mod oidc;
pub mod query;
pub mod settings;
pub mod terms;
pub mod types;
pub mod users;
