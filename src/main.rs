//! `clientele`: serve, run the background jobs, migrate, bootstrap, print the schema.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clientele::config::{LogFormat, Settings};
use clientele::{AppState, install_crypto_provider, migrate, router};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "clientele", version, about = "Multi-tenant customer records with a GraphQL API")]
struct Cli {
    /// Configuration file (default: ./clientele.toml when present).
    #[arg(long, global = true, env = "CLIENTELE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (embedded mode migrates the database first).
    Serve,
    /// Run the background jobs until SIGTERM; any number may run at once. Serves `/metrics` on
    /// `server.metrics_bind` when set.
    Worker,
    /// Apply pending database migrations with the owner URL.
    Migrate,
    /// Create the platform, a first supplier and its super-admin; prints a set-password link.
    Bootstrap {
        #[arg(long)]
        supplier: String,
        #[arg(long)]
        email: String,
        /// Add another supplier although one exists.
        #[arg(long)]
        force: bool,
    },
    /// Create the platform (once) and a platform administrator, who runs the suppliers in the
    /// console (`/suppliers`); prints a set-password link.
    PlatformAdmin {
        #[arg(long)]
        email: String,
    },
    /// Print the GraphQL SDL of an organisation's schema (its custom fields and enabled plugins,
    /// as `GET /graphql/schema.graphql` gives its users), or without `--tenant` of the reference
    /// tenant (sample custom fields of every kind, the example plugins: graphql/schema.graphql).
    Schema {
        /// The organisation id (a supplier's or a customer's).
        #[arg(long)]
        tenant: Option<clientele_kernel::TenantId>,
    },
    /// Rebuild the search index of one organisation, or of all. With the embedded (tantivy)
    /// index, stop `serve` first: one process writes it.
    Reindex {
        /// The organisation id; all organisations when absent.
        #[arg(long)]
        tenant: Option<clientele_kernel::TenantId>,
    },
    /// Manage WebAssembly plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Check a plugin component and upload it as a new version of a supplier's plugin.
    Install {
        /// The component (`cargo build --release --target wasm32-wasip2` output).
        file: PathBuf,
        /// The supplier organisation's id.
        #[arg(long)]
        supplier: clientele_kernel::TenantId,
    },
}

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match settings.log.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    install_crypto_provider();
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Worker => {
            let state = AppState::start(settings).await?;
            serve_metrics(&state).await?;
            tracing::info!("worker started");
            clientele::jobs::run_until(state, shutdown_signal()).await;
            tracing::info!("worker stopped");
            Ok(())
        }
        Command::Migrate => Ok(migrate(&settings).await?),
        Command::Bootstrap { supplier, email, force } => {
            let state = AppState::start(settings).await?;
            let s = &state.services;
            let done = s.organisations.bootstrap(&s.auth, &s.users, &supplier, &email, force).await?;
            println!("Supplier {supplier} created (organisation {}).", done.supplier);
            println!("Super-admin {email} created (user {}).", done.super_admin);
            print_set_password(&state, &done.set_password_token);
            Ok(())
        }
        Command::PlatformAdmin { email } => {
            let state = AppState::start(settings).await?;
            let s = &state.services;
            let (user, token) = s.organisations.platform_admin(&s.auth, &s.users, &email).await?;
            println!("Platform administrator {email} created (user {user}).");
            print_set_password(&state, &token);
            Ok(())
        }
        Command::Reindex { tenant } => {
            let state = AppState::start(settings).await?;
            let tenants = match tenant {
                Some(tenant) => vec![tenant],
                None => state
                    .services
                    .organisations
                    .all_tenants()
                    .await?
                    .iter()
                    .map(clientele_kernel::TenantCtx::tenant)
                    .collect(),
            };
            for tenant in tenants {
                let n = state.records.search.reindex_tenant(tenant).await?;
                println!("{tenant}: {n} client(s) indexed");
            }
            Ok(())
        }
        Command::Plugin { command: PluginCommand::Install { file, supplier } } => {
            let bytes = std::fs::read(&file)?;
            let state = AppState::start(settings).await?;
            let done = clientele::install_plugin(&state, supplier, bytes).await?;
            println!(
                "Plugin {} version {} uploaded (id {}, sha256 {}).",
                done.name, done.version, done.plugin, done.sha256
            );
            println!("Enable it for customer organisations with the enablePlugin mutation.");
            Ok(())
        }
        Command::Schema { tenant: None } => {
            print!("{}", clientele_graphql::GraphqlService::sdl(&clientele_graphql::schema::SchemaShape::reference())?);
            Ok(())
        }
        Command::Schema { tenant: Some(tenant) } => {
            let state = AppState::start(settings).await?;
            print!("{}", clientele::tenant_sdl(&state, tenant).await?);
            Ok(())
        }
    }
}

/// Prints the single-use set-password link of a new account, and its GraphQL form.
fn print_set_password(state: &AppState, token: &str) {
    let base = state.settings.server.public_url.trim_end_matches('/');
    println!("Set the password once, within {} hours:", state.settings.auth.set_password_ttl_minutes / 60);
    println!("  {base}/set-password?token={token}");
    println!(
        "or through GraphQL: mutation {{ setPassword(input: {{ token: \"{token}\", password: \"…\" }}) {{ token }} }}"
    );
}

async fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let bind = settings.server.bind;
    let state = AppState::start(settings).await?;
    if state.settings.retention.in_process {
        clientele::jobs::spawn_in_process(state.clone());
    }
    serve_metrics(&state).await?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `/metrics` on `server.metrics_bind` when set: beside `serve`'s own listener, and the
/// worker's only listener (its job and outbox families).
async fn serve_metrics(state: &std::sync::Arc<AppState>) -> std::io::Result<()> {
    if let Some(metrics_bind) = state.settings.server.metrics_bind {
        let listener = tokio::net::TcpListener::bind(metrics_bind).await?;
        tracing::info!(address = %listener.local_addr()?, "metrics listening");
        let metrics = clientele::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, metrics).await {
                tracing::error!(error = %err, "metrics listener failed");
            }
        });
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then drain before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
