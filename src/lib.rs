//! The `clientele` server: configuration, wiring of services, HTTP router.

mod assets;
pub mod config;
mod door;
mod exports;
mod files;
mod http;
pub mod jobs;
pub mod metrics;
mod oidc;
mod register;
mod turns;

use std::sync::Arc;

use clientele_graphql::{GraphqlService, Limits};
use clientele_kernel::db::{self, Handles};
use clientele_kernel::ports::{Clock, Entropy, SystemClock, SystemEntropy};
use clientele_migrations::{Migrator, MigratorTrait};
use clientele_records::files::FileService;
use clientele_tenants::TenantServices;
use metrics_exporter_prometheus::PrometheusHandle;

pub use config::Settings;
pub use http::{metrics_router, router};

/// mimalloc for every program that runs the server (the binary, the tests, the benches): its
/// per-thread free lists suit a server's many short allocations (issue 18; `bench/records_list.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Installs process-wide defaults every entry point (binary, tests) needs first.
pub fn install_crypto_provider() {
    // Ignore the error: a second call (tests) finds the provider already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // opendal's S3 service sends its requests through this transport (later calls are ignored).
    opendal::HttpTransporter::install_default(opendal_http_transport_reqwest::ReqwestTransport::default());
}

/// Sees every SQL statement the server's pool runs, with its duration.
pub type StatementObserver = Arc<dyn Fn(&sea_orm::metric::Info<'_>) + Send + Sync>;

/// Shared state of one server process.
pub struct AppState {
    pub settings: Settings,
    pub handles: Arc<Handles>,
    pub services: TenantServices,
    pub records: Arc<clientele_records::clients::RecordServices>,
    /// The WebAssembly plugin platform.
    pub plugins: Arc<clientele_plugins::Plugins>,
    pub graphql: GraphqlService,
    pub metrics: PrometheusHandle,
    /// Keeps two runs of a background job apart inside this process (see [`jobs`]).
    pub job_locks: jobs::JobLocks,
    /// Each organisation's share of the requests running here (`turns`).
    turns: turns::Turns,
}

/// Where the npm packages of the embedded assets were installed at build time: the browser
/// tests inject the test-only axe-core from there (it is never served).
#[doc(hidden)]
pub const ASSETS_NODE_MODULES: &str = assets::NODE_MODULES;

/// The web console over this server's services, entering through its door.
fn console(state: &Arc<AppState>) -> Arc<clientele_console::Console> {
    Arc::new(clientele_console::Console::new(
        state.services.clone(),
        state.records.clone(),
        state.plugins.clone(),
        Arc::new(door::ConsoleDoor(state.clone())),
        state.handles.entropy.clone(),
        assets::console(),
        state.settings.data_dir.join("tmp"),
    ))
}

/// Runs pending migrations with the owner URL.
pub async fn migrate(settings: &Settings) -> Result<(), clientele_kernel::AppError> {
    if settings.database.url.is_none() {
        std::fs::create_dir_all(&settings.data_dir).map_err(clientele_kernel::AppError::internal)?;
    }
    let owner = db::connect(&settings.migration_url(), 2).await?;
    Migrator::up(&owner, None).await?;
    owner.close().await?;
    Ok(())
}

impl AppState {
    /// Connects (migrating first when configured) and builds every service.
    pub async fn start(settings: Settings) -> Result<Arc<Self>, clientele_kernel::AppError> {
        Self::start_with(settings, Arc::new(SystemClock), Arc::new(SystemEntropy)).await
    }

    /// As [`start`](Self::start), with an injected clock and entropy (tests).
    pub async fn start_with(
        settings: Settings,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Result<Arc<Self>, clientele_kernel::AppError> {
        Self::start_observed(settings, clock, entropy, None).await
    }

    /// As [`start_with`](Self::start_with), reporting every statement the pool runs to
    /// `observer` (tests count the statements a query costs).
    pub async fn start_observed(
        settings: Settings,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        observer: Option<StatementObserver>,
    ) -> Result<Arc<Self>, clientele_kernel::AppError> {
        if settings.database.migrate_on_start {
            migrate(&settings).await?;
        }
        let mut db = db::connect(&settings.database_url(), settings.database.max_connections).await?;
        if let Some(observer) = observer {
            db.set_metric_callback(move |info| observer(info));
        }
        let blobs = settings.blob_store()?;
        let signer = settings.url_signer(entropy.as_ref())?;
        let mut auth = settings.auth_settings();
        auth.oidc.secret_keys = settings.oidc_secret_keys(entropy.as_ref())?;
        let orgs = Arc::new(clientele_tenants::OrganisationDirectory);
        let handles = Arc::new(Handles { db, clock, entropy, blobs, orgs });
        let turns = turns::Turns::new(settings.server.requests_per_organisation);
        let services = TenantServices::new(handles.clone(), auth, settings.mailer()?);
        let files = FileService::new(handles.clone(), settings.file_settings(), signer);
        let mut records = clientele_records::clients::RecordServices::new(&handles, settings.search_index()?, files);
        // GDP-03, GDP-06: plugin records marked personal are exported and erased with the client.
        records.gdpr = clientele_records::clients::GdprService::new(handles.clone())
            .with_source(Arc::new(clientele_plugins::RecordsSource));
        records.search.add_contributor(Arc::new(clientele_plugins::SearchFields)); // searchable plugin fields
        match records.search.index().stale().await {
            Ok(false) => {}
            Ok(true) => {
                for ctx in services.organisations.all_tenants().await? {
                    records.search.rebuild_later(ctx.tenant()).await?;
                }
            }
            // The index may be down at start: searches and the worker then report it.
            Err(err) => tracing::warn!(error = %err, "could not tell whether the search index is current"),
        }
        let records = Arc::new(records);
        let plugins = Arc::new(clientele_plugins::Plugins::new(
            &handles,
            clientele_plugins::CallLimits::default(),
            settings.plugins,
            Some(settings.data_dir.join("plugin-cache")),
        )?);
        let graphql = GraphqlService::new(services.clone(), records.clone(), plugins.clone(), Limits::default());
        Ok(Arc::new(Self {
            settings,
            handles,
            services,
            records,
            plugins,
            graphql,
            metrics: metrics::handle(),
            job_locks: jobs::JobLocks::default(),
            turns,
        }))
    }
}

/// Uploads a plugin component for a supplier from the command line, as the system acting in
/// the supplier's organisation (audited there); refused unless the organisation is a supplier.
pub async fn install_plugin(
    state: &AppState,
    supplier: clientele_kernel::TenantId,
    bytes: Vec<u8>,
) -> Result<clientele_plugins::UploadedVersion, clientele_kernel::AppError> {
    use clientele_kernel::{AppError, OrgKind};
    let ctx = match system_ctx(state, supplier).await? {
        Some(ctx) if ctx.kind() == OrgKind::Supplier => ctx,
        _ => return Err(AppError::new(clientele_kernel::ErrorCode::NotFound, "No supplier organisation has this id.")),
    };
    state.plugins.registry.upload(&ctx, bytes, clientele_graphql::GraphqlService::check_plugin_names).await
}

/// The SDL of an organisation's own schema (`clientele schema --tenant`), as its users get it
/// from `GET /graphql/schema.graphql`.
pub async fn tenant_sdl(state: &AppState, tenant: clientele_kernel::TenantId) -> clientele_kernel::AppResult<String> {
    let ctx = system_ctx(state, tenant).await?.ok_or_else(|| {
        clientele_kernel::AppError::new(clientele_kernel::ErrorCode::NotFound, "No organisation has this id.")
    })?;
    state.graphql.tenant_sdl(&ctx).await
}

/// The system acting in an organisation, of the kind stored for it; `None` when no
/// organisation has this id.
async fn system_ctx(
    state: &AppState,
    tenant: clientele_kernel::TenantId,
) -> clientele_kernel::AppResult<Option<clientele_kernel::TenantCtx>> {
    use clientele_kernel::{Actor, OrgKind, TenantCtx};
    let probe = TenantCtx::new(state.handles.clone(), tenant, OrgKind::Customer, Actor::system());
    let tx = probe.read().await?;
    let kind = state.handles.orgs.kind(&tx).await?;
    tx.commit().await?;
    Ok(kind.map(|kind| TenantCtx::new(state.handles.clone(), tenant, kind, Actor::system())))
}
