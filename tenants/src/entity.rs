//! sea-orm entities of the tables this crate owns.

pub mod api_token;
pub mod credential;
pub mod licence;
pub mod oidc_flow;
pub mod oidc_provider;
pub mod one_time_token;
pub mod org_contact;
pub mod organisation;
pub mod session;
pub mod sign_in_throttle;
pub mod user;
