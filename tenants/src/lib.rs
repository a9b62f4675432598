//! Organisations, users, roles, credentials, sessions and API tokens: who may act in which
//! tenant. This crate is the auth layer: the only one that builds a [`TenantCtx`].

pub mod access;
pub mod api_tokens;
pub mod auth;
pub mod catalogue;
pub mod customers;
pub mod direct_login;
mod directory;
pub mod entity;
pub mod licences;
pub mod mail;
pub mod model;
pub mod nodes;
pub mod oidc;
pub mod org_categories;
pub mod organisations;
pub mod password;
pub mod registration;
mod standing;
pub mod suppliers;
pub mod terms;
mod throttle;
pub mod users;

use std::sync::Arc;

use clientele_kernel::db::Handles;
use clientele_kernel::mail::Mailer;
use clientele_kernel::{Actor, OrgKind, TenantCtx, TenantId};

pub use api_tokens::ApiTokenService;
pub use auth::{AuthService, AuthSettings, Authenticated, ClientInfo, SignedIn};
pub use directory::OrganisationDirectory;
pub use model::{ApiToken, Organisation, OrganisationStatus, Session, User, UserStatus};
pub use organisations::OrganisationService;
pub use users::UserService;

/// A context for work the server does on its own behalf inside one tenant.
pub(crate) fn system_ctx(handles: &Arc<Handles>, tenant: TenantId, kind: OrgKind) -> TenantCtx {
    TenantCtx::new(handles.clone(), tenant, kind, Actor::system())
}

/// Every service of this crate, built once at start.
#[derive(Clone)]
pub struct TenantServices {
    pub auth: Arc<AuthService>,
    pub customers: Arc<customers::CustomerService>,
    pub catalogue: Arc<catalogue::CatalogueService>,
    pub org_categories: Arc<org_categories::OrgCategoryService>,
    pub direct_login: Arc<direct_login::DirectLoginService>,
    pub oidc: Arc<oidc::OidcService>,
    pub licences: Arc<licences::LicenceService>,
    pub users: Arc<UserService>,
    pub api_tokens: Arc<ApiTokenService>,
    pub organisations: Arc<OrganisationService>,
    pub access: Arc<access::AccessService>,
    pub registration: Arc<registration::RegistrationService>,
    pub suppliers: Arc<suppliers::SupplierService>,
    pub terms: Arc<terms::TermsService>,
    pub outbox: Arc<mail::MailOutbox>,
    /// The organisation's audit trail (read side; the kernel owns the log).
    pub audit: Arc<clientele_kernel::audit::trail::AuditTrail>,
}

impl TenantServices {
    pub fn new(handles: Arc<Handles>, settings: AuthSettings, mailer: Arc<dyn Mailer>) -> Self {
        let auth = Arc::new(AuthService::new(handles.clone(), settings.clone()));
        let customers = Arc::new(customers::CustomerService::new(handles.clone()));
        let outbox = Arc::new(mail::MailOutbox::new(handles.clone(), mailer));
        let oidc = Arc::new(oidc::OidcService::new(handles.clone(), settings.oidc, auth.clone()));
        let access = Arc::new(access::AccessService::new(handles.clone(), auth.clone(), outbox.clone()));
        Self {
            oidc,
            suppliers: Arc::new(suppliers::SupplierService::new(handles.clone(), access.clone())),
            access,
            registration: Arc::new(registration::RegistrationService::new(
                handles.clone(),
                auth.clone(),
                customers.clone(),
                outbox.clone(),
            )),
            terms: Arc::new(terms::TermsService::new(handles.clone())),
            outbox,
            audit: Arc::default(),
            auth,
            customers,
            catalogue: Arc::new(catalogue::CatalogueService::new(handles.clone())),
            org_categories: Arc::new(org_categories::OrgCategoryService::new(handles.clone())),
            direct_login: Arc::new(direct_login::DirectLoginService::new(handles.clone(), settings.session_ttl)),
            licences: Arc::new(licences::LicenceService::new(handles.clone())),
            users: Arc::new(UserService::new(handles.clone())),
            api_tokens: Arc::new(ApiTokenService::new(handles.clone())),
            organisations: Arc::new(OrganisationService::new(handles)),
        }
    }
}
