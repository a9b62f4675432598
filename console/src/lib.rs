//! The web console: server-rendered HTML for the people who use Clientele all day, served by
//! the same binary at `/` beside the API (`/graphql`).
//!
//! One more adapter over the domain: handlers take the caller the server's request door
//! resolves ([`Door`]), call the same services as the GraphQL resolvers
//! ([`RecordServices`], [`TenantServices`]) and render askama templates (`templates/`,
//! compile-time, auto-escaping). With htmx a control asks for a fragment (`HX-Request`); every
//! control is also a plain link or form answered with a full page. Strings come from Fluent
//! (`locales/`, French and English). The session secret is the API's own, in an `HttpOnly`
//! cookie; every state-changing request carries a CSRF token bound to it ([`session`]).

mod account;
mod audit;
mod catalogue;
mod clients;
mod direct_login;
mod i18n;
mod imports;
mod lists;
mod organisation_tabs;
mod organisations;
mod pages;
mod plugin_tabs;
mod plugins;
mod record;
mod session;
mod settings;
mod suppliers;
mod terms_of_use;
mod tokens;
mod users;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::http::request::Parts;
use axum::routing::{get, post};
use clientele_kernel::AppError;
use clientele_kernel::ports::Entropy;
use clientele_records::clients::RecordServices;
use clientele_tenants::{Authenticated, ClientInfo, TenantServices};

pub use i18n::Lang;

/// The server's request door, as the console uses it: the same resolution and gates as a
/// bearer credential on the API (implemented by the `clientele` binary in `src/door.rs`), and
/// the one check of the GraphQL layer the console needs.
#[async_trait::async_trait]
pub trait Door: Send + Sync {
    /// The caller's address and user agent, and the request id, as the door reads them.
    fn meta(&self, parts: &Parts) -> (ClientInfo, Option<Arc<str>>);

    /// Resolves a session secret into the caller, exactly as the door resolves a bearer one.
    async fn resolve(&self, secret: &str, rid: Option<Arc<str>>) -> Result<Authenticated, AppError>;

    /// The caller's organisation's turn for one request that reached the door at `arrived`
    /// (its share of the requests running on the server), held while the page is made.
    async fn turn(
        &self,
        auth: &Authenticated,
        arrived: tokio::time::Instant,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, AppError>;

    /// The upload check of a plugin's GraphQL names against the API's and the supplier's other
    /// plugins' (`others`), which the GraphQL layer makes by building the schemas it compares.
    fn check_plugin_names(
        &self,
        manifest: &clientele_plugins::Manifest,
        others: &[clientele_plugins::Manifest],
    ) -> Result<(), AppError>;
}

/// The embedded files a console page links to (paths from the server's root).
#[derive(Clone, Debug, Default)]
pub struct Assets {
    pub htmx: String,
    pub css: String,
    pub console_css: String,
    pub console_js: String,
}

/// Everything a console handler reaches.
pub struct Console {
    pub tenants: TenantServices,
    pub records: Arc<RecordServices>,
    pub plugins: Arc<clientele_plugins::Plugins>,
    door: Arc<dyn Door>,
    entropy: Arc<dyn Entropy>,
    assets: Assets,
    /// Where exports are written before they are sent (the server's `<data_dir>/tmp`).
    tmp_dir: std::path::PathBuf,
    /// Cookies get `Secure` when the server is reached over https.
    secure: bool,
}

impl Console {
    pub fn new(
        tenants: TenantServices,
        records: Arc<RecordServices>,
        plugins: Arc<clientele_plugins::Plugins>,
        door: Arc<dyn Door>,
        entropy: Arc<dyn Entropy>,
        assets: Assets,
        tmp_dir: std::path::PathBuf,
    ) -> Self {
        let secure = tenants.auth.settings().public_url.starts_with("https://");
        Self { tenants, records, plugins, door, entropy, assets, tmp_dir, secure }
    }
}

/// The console's routes, for any outer router state (the server merges them at `/`).
pub fn router<S: Clone + Send + Sync + 'static>(console: Arc<Console>) -> Router<S> {
    Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(pages::sign_in_form).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route("/set-password", get(account::set_password_form).post(account::set_password))
        .route("/forgot-password", get(account::forgot_form).post(account::forgot))
        .route(account::OIDC_LANDING, get(account::oidc_landing))
        .route("/oidc/session/console", post(account::oidc_finish))
        .route("/account/sessions", get(account::sessions))
        .route("/account/sessions/others", post(account::revoke_others))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route("/terms", get(pages::terms).post(pages::answer_terms))
        .route("/language", post(pages::language))
        .route("/clients", get(clients::list).post(clients::create))
        .route("/clients/new", get(clients::new_form))
        .route("/clients/group", post(clients::assign_group))
        .route("/clients/selections", post(clients::save_selection))
        .route("/clients/export.csv", get(clients::export_csv))
        .route("/clients/export.xlsx", get(clients::export_xlsx))
        .route("/clients/{id}", get(clients::show))
        .route("/clients/{id}/ledger", post(clients::post_entry))
        .route("/clients/{id}/consent", post(record::set_consent))
        .route("/clients/{id}/files", post(record::upload))
        .route("/clients/{id}/trash", post(record::trash))
        .route("/clients/{id}/restore", post(record::restore))
        .route("/clients/{id}/purge", post(record::purge))
        .route("/clients/{id}/anonymise", post(record::anonymise))
        .route("/clients/{id}/merge", post(record::merge))
        .route("/clients/{id}/export.json", get(record::gdpr_export))
        .route("/clients/{id}/plugins/{tab}", post(plugin_tabs::create))
        .route("/clients/{id}/plugins/{tab}/{record}/delete", post(plugin_tabs::delete))
        .route("/users", get(users::list).post(users::invite))
        .route("/audit", get(audit::list))
        .route("/audit/export.csv", get(audit::export_csv))
        .route("/users/tokens", get(tokens::list).post(tokens::create))
        .route("/users/tokens/{id}/revoke", post(tokens::revoke))
        .route("/users/{id}/role", post(users::change_role))
        .route("/users/{id}/status", post(users::change_status))
        .route("/import", get(imports::new_form).post(imports::start))
        .route("/import/columns", post(imports::columns))
        .route("/import/{id}", get(imports::show))
        .route("/settings", get(settings::show))
        .route("/settings/categories", post(settings::create_category))
        .route("/settings/categories/{id}/delete", post(settings::delete_category))
        .route("/settings/groups", post(settings::create_group))
        .route("/settings/groups/{id}/delete", post(settings::delete_group))
        .route("/settings/fields", post(settings::create_field))
        .route("/settings/fields/{id}/active", post(settings::set_field_active))
        .route("/settings/fields/{id}/move", post(settings::move_field))
        .route("/settings/lists", get(lists::lists).post(lists::add_lookup))
        .route("/settings/lists/{id}/active", post(lists::set_lookup_active))
        .route("/settings/staff", post(lists::add_staff))
        .route("/settings/staff/{id}/active", post(lists::set_staff_active))
        .route("/settings/referral", get(lists::referral).post(lists::save_referral))
        .route("/organisations", get(organisations::list).post(organisations::create))
        .route("/organisations/new", get(organisations::new_form))
        .route("/organisations/export.xlsx", get(organisations::export_xlsx))
        .route("/organisations/registration-link", post(organisations::registration_link))
        .route("/organisations/{id}", get(organisations::show).post(organisations::save))
        .route("/organisations/{id}/contacts", post(organisations::add_contact))
        .route("/organisations/{id}/licences", post(organisations::add_licence))
        .route("/organisations/{id}/blocked", post(organisations::set_blocked))
        .route("/organisations/{id}/access-data", post(organisations::send_access_data))
        .route("/organisations/{id}/direct-login", post(organisations::direct_login))
        .route("/organisations/{id}/categories", post(organisation_tabs::set_categories))
        .route("/organisations/{id}/files", post(organisation_tabs::upload))
        .route("/organisations/{id}/files/{file}/delete", post(organisation_tabs::delete_file))
        .route("/organisations/{id}/views", post(catalogue::assign_view))
        .route("/organisations/{id}/views/{view}/unassign", post(catalogue::unassign_view))
        .route("/organisations/{id}/customer-group", post(catalogue::set_customer_group))
        .route("/catalogue", get(catalogue::show))
        .route("/catalogue/items", post(catalogue::create_item))
        .route("/catalogue/items/{id}/active", post(catalogue::set_item_active))
        .route("/catalogue/views", post(catalogue::create_view))
        .route("/catalogue/groups", post(catalogue::create_group))
        .route("/suppliers", get(suppliers::list).post(suppliers::create))
        .route("/suppliers/{id}/blocked", post(suppliers::set_blocked))
        .route("/plugins", get(plugins::list).post(plugins::upload))
        .route("/plugins/{id}", get(plugins::show))
        .route("/plugins/{id}/enable", post(plugins::enable))
        .route("/plugins/{id}/upgrade", post(plugins::upgrade))
        .route("/plugins/{id}/disable", post(plugins::disable))
        .route("/terms-of-use", get(terms_of_use::show).post(terms_of_use::publish))
        .route("/direct-login", get(direct_login::list))
        .route("/direct-login/allowed", post(direct_login::set_allowed))
        .route("/direct-login/{id}/revoke", post(direct_login::revoke))
        .route_layer(axum::middleware::from_fn_with_state(console.clone(), session::csrf_guard))
        .with_state(console)
}
