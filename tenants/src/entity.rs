//! sea-orm entities of the tables this crate owns.

pub mod api_token;
pub mod catalogue_item;
pub mod catalogue_view;
pub mod credential;
pub mod customer_group;
pub mod licence;
pub mod mail_outbox;
pub mod oidc_flow;
pub mod oidc_provider;
pub mod one_time_token;
pub mod org_category;
pub mod org_category_link;
pub mod org_contact;
pub mod organisation;
pub mod registration_link;
pub mod session;
pub mod sign_in_throttle;
pub mod terms_document;
pub mod terms_response;
pub mod user;
pub mod view_assignment;
