//! The `clientele` server: configuration, wiring of services, HTTP router.

pub mod config;
mod door;
mod exports;
mod files;
mod http;
pub mod jobs;
mod oidc;
mod register;
mod set_password;

use std::sync::{Arc, OnceLock};

use clientele_core::db::{self, Kernel};
use clientele_core::files::FileService;
use clientele_core::ports::{Clock, Entropy, SystemClock, SystemEntropy};
use clientele_graphql::{GraphqlService, Limits};
use clientele_migrations::{Migrator, MigratorTrait};
use clientele_tenants::TenantServices;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub use config::Settings;
pub use http::{metrics_router, router};

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
    pub kernel: Arc<Kernel>,
    pub services: TenantServices,
    pub records: Arc<clientele_core::clients::RecordServices>,
    /// The WebAssembly plugin platform.
    pub plugins: Arc<clientele_plugins::Plugins>,
    pub graphql: GraphqlService,
    pub metrics: PrometheusHandle,
    /// Keeps two runs of a background job apart inside this process (see [`jobs`]).
    pub job_locks: jobs::JobLocks,
}

/// The Prometheus recorder is process-global; install it once.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed, in which case ours stays unused.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Runs pending migrations with the owner URL.
pub async fn migrate(settings: &Settings) -> Result<(), clientele_core::AppError> {
    if settings.database.url.is_none() {
        std::fs::create_dir_all(&settings.data_dir).map_err(clientele_core::AppError::internal)?;
    }
    let owner = db::connect(&settings.migration_url(), 2).await?;
    Migrator::up(&owner, None).await?;
    owner.close().await?;
    Ok(())
}

impl AppState {
    /// Connects (migrating first when configured) and builds every service.
    pub async fn start(settings: Settings) -> Result<Arc<Self>, clientele_core::AppError> {
        Self::start_with(settings, Arc::new(SystemClock), Arc::new(SystemEntropy)).await
    }

    /// As [`start`](Self::start), with an injected clock and entropy (tests).
    pub async fn start_with(
        settings: Settings,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Result<Arc<Self>, clientele_core::AppError> {
        Self::start_observed(settings, clock, entropy, None).await
    }

    /// As [`start_with`](Self::start_with), reporting every statement the pool runs to
    /// `observer` (tests count the statements a query costs).
    pub async fn start_observed(
        settings: Settings,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        observer: Option<StatementObserver>,
    ) -> Result<Arc<Self>, clientele_core::AppError> {
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
        let kernel = Arc::new(Kernel { db, clock, entropy, blobs });
        let services = TenantServices::new(kernel.clone(), auth, settings.mailer()?);
        let files = FileService::new(kernel.clone(), settings.file_settings(), signer)
            .with_organisations(Arc::new(clientele_tenants::customer_files::CustomerFiles));
        let mut records = clientele_core::clients::RecordServices::new(&kernel, settings.search_index()?, files);
        // GDP-03, GDP-06: plugin records marked personal are exported and erased with the client.
        records.gdpr = clientele_core::clients::GdprService::new(kernel.clone())
            .with_source(Arc::new(clientele_plugins::RecordsSource));
        records.search.add_contributor(Arc::new(clientele_plugins::SearchFields)); // searchable plugin fields
        let records = Arc::new(records);
        let plugins = Arc::new(clientele_plugins::Plugins::new(
            &kernel,
            clientele_plugins::CallLimits::default(),
            Some(settings.data_dir.join("plugin-cache")),
        )?);
        let graphql = GraphqlService::new(services.clone(), records.clone(), plugins.clone(), Limits::default());
        Ok(Arc::new(Self {
            settings,
            kernel,
            services,
            records,
            plugins,
            graphql,
            metrics: metrics_handle(),
            job_locks: jobs::JobLocks::default(),
        }))
    }
}

/// Uploads a plugin component for a supplier from the command line, as the system acting in
/// the supplier's organisation (audited there); refused unless the organisation is a supplier.
pub async fn install_plugin(
    state: &AppState,
    supplier: clientele_core::TenantId,
    bytes: Vec<u8>,
) -> Result<clientele_plugins::UploadedVersion, clientele_core::AppError> {
    use clientele_core::{Actor, AppError, OrgKind, TenantCtx};
    use sea_orm::ConnectionTrait;
    let ctx = TenantCtx::new(state.kernel.clone(), supplier, OrgKind::Supplier, Actor::system());
    let tx = ctx.read().await?;
    let backend = tx.get_database_backend();
    let row = tx
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            "SELECT kind FROM organisations WHERE id = $1",
            [supplier.0.into()],
        ))
        .await?;
    tx.commit().await?;
    let kind: Option<String> = row.map(|r| r.try_get("", "kind")).transpose()?;
    if kind.as_deref() != Some(OrgKind::Supplier.as_str()) {
        return Err(AppError::new(clientele_core::ErrorCode::NotFound, "No supplier organisation has this id."));
    }
    state.plugins.registry.upload(&ctx, bytes, clientele_graphql::GraphqlService::check_plugin_names).await
}
