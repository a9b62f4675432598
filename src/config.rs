//! Layered configuration: defaults < `clientele.toml` < `CLIENTELE_SECTION__KEY` environment
//! variables; any key may instead be read from a file named by `<KEY>_FILE` (secrets).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clientele_adapters::mail;
use clientele_adapters::{OpendalBlobStore, S3Config};
use clientele_kernel::blobs::BlobStore;
use clientele_kernel::mail::Mailer;
use clientele_kernel::ports::Entropy;
use clientele_records::files::{ContentLimits, FileSettings, UrlSigner};
use clientele_records::search::SearchIndex;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment_file_provider_adapter::FileAdapter;
use serde::{Deserialize, Serialize};

/// A secret string: never printed by `Debug`, trimmed of the newline secret files end with.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        self.0.trim()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the SQLite file, local files and the search index live.
    pub data_dir: PathBuf,
    /// Development mode. No effect since GraphiQL became `server.graphiql`; kept so existing
    /// configurations still load.
    pub dev: bool,
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub log: LogSettings,
    pub auth: AuthConfig,
    pub retention: RetentionSettings,
    pub mail: MailSettings,
    pub search: SearchSettings,
    pub files: FilesConfig,
    pub oidc: OidcConfig,
    /// Plugin quotas (`[plugins.quotas]`) and breaker (`[plugins.breaker]`), issue 17.
    pub plugins: clientele_plugins::PluginSettings,
}

/// Keys of the OIDC client secrets stored per organisation (encrypted at rest).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Base64 of 32 random bytes; new secrets are sealed with it. When absent, one is generated
    /// into `<data_dir>/oidc-secret.key` (the embedded default; set it when replicas share a database).
    pub secret_key: Option<Secret>,
    /// Retired keys, base64, separated by commas or white space: still opened, never written.
    pub old_secret_keys: Option<Secret>,
}

/// Which search index serves `searchClients`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchEngine {
    /// Embedded in the process, under the data directory (one process writes it).
    Tantivy,
    /// A Meilisearch server, shared by every replica.
    Meilisearch,
}

/// Where file contents live.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FilesBackend {
    /// The local filesystem, under `files.dir` (the embedded default).
    Fs,
    /// An S3 bucket (AWS or any S3-compatible store).
    S3,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchSettings {
    pub engine: SearchEngine,
    /// Where the tantivy index lives; defaults to `<data_dir>/search`.
    pub dir: Option<PathBuf>,
    pub meilisearch_url: String,
    pub meilisearch_api_key: Option<Secret>,
    /// The Meilisearch index holding every tenant's clients.
    pub meilisearch_index: String,
    /// How often the worker looks for changes to index (update to searchable in about this).
    pub poll_interval_ms: u64,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            engine: SearchEngine::Tantivy,
            dir: None,
            meilisearch_url: "http://127.0.0.1:7700".to_owned(),
            meilisearch_api_key: None,
            meilisearch_index: "clientele_clients".to_owned(),
            poll_interval_ms: 200,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    pub backend: FilesBackend,
    /// Root of the filesystem backend; defaults to `<data_dir>/files`.
    pub dir: Option<PathBuf>,
    /// e.g. `https://s3.eu-west-3.amazonaws.com` or a `MinIO` URL.
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_access_key_id: Option<Secret>,
    pub s3_secret_access_key: Option<Secret>,
    /// Address the bucket as `<bucket>.<endpoint>` (AWS) rather than `<endpoint>/<bucket>`.
    pub s3_virtual_host_style: bool,
    /// Largest upload accepted; larger ones answer 413.
    pub max_upload_bytes: usize,
    /// Largest image decoded, in pixels (width × height): bigger ones are refused.
    pub max_image_pixels: u64,
    /// Longest side of thumbnails, in pixels.
    pub thumbnail_side: u32,
    /// Lifetime of download links, at most 300 s.
    pub url_ttl_seconds: i64,
    /// HMAC key of download links (at least 32 bytes), the same on every replica. When unset
    /// one is generated into `<data_dir>/url-signing.key` (the embedded default only).
    pub url_signing_key: Option<Secret>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            backend: FilesBackend::Fs,
            dir: None,
            s3_endpoint: String::new(),
            s3_bucket: String::new(),
            s3_region: "us-east-1".to_owned(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_virtual_host_style: false,
            max_upload_bytes: 10 << 20,
            max_image_pixels: 40_000_000,
            thumbnail_side: 256,
            url_ttl_seconds: 300,
            url_signing_key: None,
        }
    }
}

/// How outgoing mail leaves: files under the data directory (default) or SMTP.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTlsMode {
    None,
    Starttls,
    Tls,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// Sender of every message, e.g. `Clientele <no-reply@example.com>`.
    pub from: String,
    /// Where the file transport writes `.eml` files; defaults to `<data_dir>/mail`.
    pub dir: Option<PathBuf>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTlsMode,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
    pub smtp_timeout_seconds: u64,
    /// How often unsent messages are retried.
    pub retry_interval_seconds: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: MailTransport::File,
            from: "Clientele <no-reply@localhost>".to_owned(),
            dir: None,
            smtp_host: "localhost".to_owned(),
            smtp_port: 587,
            smtp_tls: SmtpTlsMode::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_timeout_seconds: 10,
            retry_interval_seconds: 60,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Trashed clients are purged after this many days.
    pub trash_days: u32,
    /// How often the retention job runs.
    pub interval_minutes: u64,
    /// Run background jobs inside `serve` (the embedded default); off when a worker runs them.
    pub in_process: bool,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { trash_days: 30, interval_minutes: 60, in_process: true }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/clientele.db`.
    pub url: Option<Secret>,
    /// The schema owner's URL for migrations on PostgreSQL; defaults to `url`.
    pub migration_url: Option<Secret>,
    pub max_connections: u32,
    /// Run pending migrations when `serve` starts (the embedded default).
    pub migrate_on_start: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// The address people reach the server at; used in links printed or mailed.
    pub public_url: String,
    pub request_timeout_ms: u64,
    /// Signed-in requests of one organisation running at once on this server; more wait their
    /// turn until their deadline (then `TOO_MANY_REQUESTS`), so a flood from one organisation
    /// takes its share of the cores, not its neighbours'.
    pub requests_per_organisation: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Serve `/metrics` on this address only (e.g. an internal interface), not on `bind`.
    pub metrics_bind: Option<SocketAddr>,
    /// Serve GraphiQL at `/graphiql` (every file from the binary; it needs the user's credential
    /// like any client).
    pub graphiql: bool,
    /// Origins (`https://console.example.com`) whose pages may call the API from a browser
    /// (CORS). None by default: only same-origin pages.
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info,clientele=debug`.
    pub filter: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub session_ttl_minutes: i64,
    pub set_password_ttl_minutes: i64,
    pub reset_password_ttl_minutes: i64,
    /// How long an OIDC sign-in may take between leaving for the provider and coming back.
    pub oidc_flow_minutes: i64,
    /// Accept `http://` OIDC issuers: only for tests against a provider on loopback.
    pub oidc_allow_http_issuers: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            dev: false,
            database: DatabaseSettings::default(),
            server: ServerSettings::default(),
            log: LogSettings::default(),
            auth: AuthConfig::default(),
            retention: RetentionSettings::default(),
            mail: MailSettings::default(),
            search: SearchSettings::default(),
            files: FilesConfig::default(),
            oidc: OidcConfig::default(),
            plugins: clientele_plugins::PluginSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, migration_url: None, max_connections: 16, migrate_on_start: true }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_owned(),
            request_timeout_ms: 10_000,
            requests_per_organisation: 4,
            trust_forwarded_for: false,
            metrics_bind: None,
            graphiql: true,
            cors_allowed_origins: Vec::new(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Pretty, filter: "info".to_owned() }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_minutes: 12 * 60,
            set_password_ttl_minutes: 72 * 60,
            reset_password_ttl_minutes: 60,
            oidc_flow_minutes: 10,
            oidc_allow_http_issuers: false,
        }
    }
}

impl Settings {
    /// Loads the layers; `file` defaults to `./clientele.toml` when it exists.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        Self::figment(file).extract().map_err(Box::new)
    }

    pub fn figment(file: Option<&Path>) -> Figment {
        let file = file.map_or_else(|| PathBuf::from("clientele.toml"), Path::to_path_buf);
        // `CLIENTELE_DATABASE__URL` and `CLIENTELE__DATABASE__URL` both mean `database.url`.
        // `CLIENTELE_CONFIG` names the file; `CLIENTELE_TEST_*` belongs to the test suite and
        // `CLIENTELE_GUEST_TARGET` to scripts/build-guests.
        let env = Env::prefixed("CLIENTELE_")
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                key != "config" && key != "guest_target" && !key.starts_with("test_")
            })
            .map(|key| key.as_str().trim_start_matches('_').replace("__", ".").into());
        Figment::from(Serialized::defaults(Self::default()))
            .merge(FileAdapter::wrap(Toml::file(file)))
            .merge(FileAdapter::wrap(env))
    }

    /// The application database URL: the configured one or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("clientele.db").display()),
        }
    }

    pub fn migration_url(&self) -> String {
        self.database.migration_url.as_ref().map_or_else(|| self.database_url(), |u| u.expose().to_owned())
    }

    pub fn auth_settings(&self) -> clientele_tenants::AuthSettings {
        clientele_tenants::AuthSettings {
            session_ttl: chrono::Duration::minutes(self.auth.session_ttl_minutes),
            set_password_ttl: chrono::Duration::minutes(self.auth.set_password_ttl_minutes),
            reset_password_ttl: chrono::Duration::minutes(self.auth.reset_password_ttl_minutes),
            public_url: self.server.public_url.clone(),
            oidc: clientele_tenants::oidc::OidcSettings {
                public_url: self.server.public_url.clone(),
                allow_http_issuers: self.auth.oidc_allow_http_issuers,
                flow_ttl: chrono::Duration::minutes(self.auth.oidc_flow_minutes),
                ..clientele_tenants::oidc::OidcSettings::default()
            },
        }
    }

    /// The configured search index adapter.
    pub fn search_index(&self) -> Result<std::sync::Arc<dyn SearchIndex>, clientele_kernel::AppError> {
        Ok(match self.search.engine {
            SearchEngine::Tantivy => {
                let dir = self.search.dir.clone().unwrap_or_else(|| self.data_dir.join("search"));
                std::sync::Arc::new(clientele_adapters::TantivyIndex::open(&dir)?)
            }
            SearchEngine::Meilisearch => std::sync::Arc::new(clientele_adapters::MeiliIndex::new(
                &self.search.meilisearch_url,
                self.search.meilisearch_api_key.as_ref().map(Secret::expose),
                &self.search.meilisearch_index,
            )?),
        })
    }

    /// The configured blob store.
    pub fn blob_store(&self) -> Result<std::sync::Arc<dyn BlobStore>, clientele_kernel::AppError> {
        let f = &self.files;
        Ok(match f.backend {
            FilesBackend::Fs => {
                let dir = f.dir.clone().unwrap_or_else(|| self.data_dir.join("files"));
                std::sync::Arc::new(OpendalBlobStore::fs(&dir)?)
            }
            FilesBackend::S3 => std::sync::Arc::new(OpendalBlobStore::s3(&S3Config {
                endpoint: f.s3_endpoint.clone(),
                bucket: f.s3_bucket.clone(),
                region: f.s3_region.clone(),
                access_key_id: f.s3_access_key_id.as_ref().map(|s| s.expose().to_owned()),
                secret_access_key: f.s3_secret_access_key.as_ref().map(|s| s.expose().to_owned()),
                virtual_host_style: f.s3_virtual_host_style,
            })?),
        })
    }

    /// The download-link signer: the configured key, or on the filesystem backend one kept in
    /// the data directory (made on first start).
    pub fn url_signer(&self, entropy: &dyn Entropy) -> Result<UrlSigner, clientele_kernel::AppError> {
        use clientele_kernel::AppError;
        if let Some(key) = &self.files.url_signing_key {
            return UrlSigner::new(key.expose().as_bytes().to_vec());
        }
        if self.files.backend != FilesBackend::Fs {
            return Err(AppError::internal("files.url_signing_key is required with the s3 backend"));
        }
        let path = self.data_dir.join("url-signing.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return UrlSigner::new(existing.trim().as_bytes().to_vec());
        }
        let mut raw = [0u8; 32];
        entropy.fill(&mut raw);
        let key = raw.iter().fold(String::with_capacity(64), |mut key, b| {
            use std::fmt::Write as _;
            let _ = write!(key, "{b:02x}");
            key
        });
        std::fs::create_dir_all(&self.data_dir).map_err(AppError::internal)?;
        std::fs::write(&path, &key).map_err(AppError::internal)?;
        UrlSigner::new(key.into_bytes())
    }

    /// The keys of OIDC client secrets: the configured ones, or one kept in the data directory
    /// (made on first start), as the download-link key is.
    pub fn oidc_secret_keys(
        &self,
        entropy: &dyn Entropy,
    ) -> Result<clientele_tenants::oidc::SecretKeys, clientele_kernel::AppError> {
        use base64::Engine as _;
        use clientele_kernel::AppError;
        use clientele_tenants::oidc::secrets::parse_key;
        let old = self.oidc.old_secret_keys.as_ref().map_or("", Secret::expose);
        let old = old
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(|k| parse_key("oidc.old_secret_keys", k))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(key) = &self.oidc.secret_key {
            return Ok(clientele_tenants::oidc::SecretKeys::new(parse_key("oidc.secret_key", key.expose())?, &old));
        }
        let path = self.data_dir.join("oidc-secret.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(clientele_tenants::oidc::SecretKeys::new(
                parse_key(&path.display().to_string(), &existing)?,
                &old,
            ));
        }
        if self.database_url().starts_with("postgres") {
            tracing::warn!(
                path = %path.display(),
                "oidc.secret_key is not set: generating one in the data directory; replicas sharing this database need the same key"
            );
        }
        let mut raw = [0u8; 32];
        entropy.fill(&mut raw);
        std::fs::create_dir_all(&self.data_dir).map_err(AppError::internal)?;
        let mut file = {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(&path).map_err(AppError::internal)?
        };
        std::io::Write::write_all(&mut file, base64::engine::general_purpose::STANDARD.encode(raw).as_bytes())
            .map_err(AppError::internal)?;
        Ok(clientele_tenants::oidc::SecretKeys::new(raw, &old))
    }

    /// Limits and links of the file service.
    pub fn file_settings(&self) -> FileSettings {
        FileSettings {
            max_upload_bytes: self.files.max_upload_bytes,
            limits: ContentLimits {
                max_pixels: self.files.max_image_pixels,
                thumbnail_side: self.files.thumbnail_side.max(16),
            },
            url_ttl_seconds: self.files.url_ttl_seconds,
            public_url: self.server.public_url.clone(),
        }
    }

    /// The configured mail adapter.
    pub fn mailer(&self) -> Result<std::sync::Arc<dyn Mailer>, clientele_kernel::AppError> {
        let from = mail::parse_sender(&self.mail.from)?;
        Ok(match self.mail.transport {
            MailTransport::File => {
                let dir = self.mail.dir.clone().unwrap_or_else(|| self.data_dir.join("mail"));
                std::sync::Arc::new(mail::FileMailer::new(dir, from)?)
            }
            MailTransport::Smtp => {
                let config = mail::SmtpConfig {
                    host: self.mail.smtp_host.clone(),
                    port: self.mail.smtp_port,
                    tls: match self.mail.smtp_tls {
                        SmtpTlsMode::None => mail::SmtpTls::None,
                        SmtpTlsMode::Starttls => mail::SmtpTls::StartTls,
                        SmtpTlsMode::Tls => mail::SmtpTls::Tls,
                    },
                    username: self.mail.smtp_username.clone(),
                    password: self.mail.smtp_password.as_ref().map(|p| p.expose().to_owned()),
                    timeout: std::time::Duration::from_secs(self.mail.smtp_timeout_seconds.max(1)),
                };
                std::sync::Arc::new(mail::SmtpMailer::new(&config, from)?)
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_overrides_defaults_and_file_secrets_are_read() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "clientele.toml",
                "dev = true\n[server]\nbind = \"0.0.0.0:9000\"\nrequest_timeout_ms = 5\n",
            )?;
            jail.create_file("db-url", "postgres://app:secret@db/clientele\n")?;
            jail.set_env("CLIENTELE_SERVER__REQUEST_TIMEOUT_MS", "7");
            jail.set_env("CLIENTELE__LOG__FORMAT", "json");
            jail.set_env("CLIENTELE_DATABASE__URL_FILE", "db-url");
            jail.set_env("CLIENTELE_TEST_SOMETHING", "ignored");
            jail.set_env("CLIENTELE_GUEST_TARGET", "/tmp/ignored");
            jail.set_env("CLIENTELE_CONFIG", "clientele.toml");
            jail.create_file("smtp-password", "hunter2 hunter2\n")?;
            jail.set_env("CLIENTELE_MAIL__TRANSPORT", "smtp");
            jail.set_env("CLIENTELE_MAIL__SMTP_TLS", "none");
            jail.set_env("CLIENTELE_MAIL__SMTP_PASSWORD_FILE", "smtp-password");
            let settings = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!((settings.mail.transport, settings.mail.smtp_tls), (MailTransport::Smtp, SmtpTlsMode::None));
            assert_eq!(settings.mail.smtp_password.as_ref().map(Secret::expose), Some("hunter2 hunter2"));
            assert!(!format!("{settings:?}").contains("hunter2"));
            assert!(settings.dev);
            assert_eq!(settings.server.bind, SocketAddr::from(([0, 0, 0, 0], 9000)));
            assert_eq!(settings.server.request_timeout_ms, 7);
            assert_eq!(settings.log.format, LogFormat::Json);
            assert_eq!(settings.database_url(), "postgres://app:secret@db/clientele");
            assert!(!format!("{settings:?}").contains("secret@"));
            Ok(())
        });
    }

    #[test]
    fn meilisearch_is_chosen_with_its_key_from_a_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "clientele.toml",
                "[search]\nengine = \"meilisearch\"\nmeilisearch_url = \"http://ms:7700\"\n",
            )?;
            jail.create_file("ms-key", "s3cret-key\n")?;
            jail.set_env("CLIENTELE_SEARCH__MEILISEARCH_API_KEY_FILE", "ms-key");
            let settings = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(settings.search.engine, SearchEngine::Meilisearch);
            assert_eq!(settings.search.meilisearch_api_key.as_ref().map(Secret::expose), Some("s3cret-key"));
            assert!(!format!("{settings:?}").contains("s3cret"));
            assert_eq!(Settings::default().search.engine, SearchEngine::Tantivy);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("clientele.toml", "[server]\nbnid = \"0.0.0.0:9000\"\n")?;
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn file_storage_secrets_are_read_from_files() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("s3-secret", "very secret\n")?;
            jail.create_file("url-key", "0123456789abcdef0123456789abcdef\n")?;
            jail.set_env("CLIENTELE_FILES__BACKEND", "s3");
            jail.set_env("CLIENTELE_FILES__S3_BUCKET", "clientele");
            jail.set_env("CLIENTELE_FILES__S3_SECRET_ACCESS_KEY_FILE", "s3-secret");
            let settings = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(settings.files.backend, FilesBackend::S3);
            assert_eq!(settings.files.s3_secret_access_key.as_ref().map(Secret::expose), Some("very secret"));
            assert!(!format!("{settings:?}").contains("very secret"));
            let entropy = clientele_kernel::ports::SeededEntropy::new(1);
            assert!(settings.url_signer(&entropy).is_err(), "S3 needs a shared signing key");
            jail.set_env("CLIENTELE_FILES__URL_SIGNING_KEY_FILE", "url-key");
            let settings = Settings::load(None).map_err(|e| e.to_string())?;
            assert!(settings.url_signer(&entropy).is_ok());
            Ok(())
        });
    }

    #[test]
    fn the_embedded_signing_key_is_made_once_and_kept() {
        use clientele_kernel::ports::SeededEntropy;
        use clientele_records::files::Variant;
        figment::Jail::expect_with(|_| {
            let settings = Settings::default();
            let first = settings.url_signer(&SeededEntropy::new(1)).map_err(|e| e.to_string())?;
            let again = settings.url_signer(&SeededEntropy::new(2)).map_err(|e| e.to_string())?;
            let (t, f) = (clientele_kernel::TenantId(uuid::Uuid::nil()), clientele_kernel::FileId(uuid::Uuid::nil()));
            assert_eq!(first.sign(t, f, Variant::Original, 1), again.sign(t, f, Variant::Original, 1));
            Ok(())
        });
    }

    // issue 12 #8
    #[test]
    fn oidc_secret_keys_come_from_files_or_the_data_dir() {
        use base64::Engine as _;
        use clientele_kernel::ports::SeededEntropy;
        figment::Jail::expect_with(|jail| {
            let (current, old) = ([3u8; 32], [4u8; 32]);
            let b64 = |k: &[u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
            jail.create_file("oidc-key", &format!("{}\n", b64(&current)))?;
            jail.set_env("CLIENTELE_OIDC__SECRET_KEY_FILE", "oidc-key");
            jail.set_env("CLIENTELE_OIDC__OLD_SECRET_KEYS", format!("{}, {}", b64(&old), b64(&[5u8; 32])));
            let settings = Settings::load(None).map_err(|e| *e)?;
            let keys = settings.oidc_secret_keys(&SeededEntropy::new(1)).map_err(|e| e.to_string())?;
            let expected = clientele_tenants::oidc::SecretKeys::new(current, &[]);
            assert_eq!(keys.current_id(), expected.current_id());
            // A retired key still opens what it sealed.
            let sealed = clientele_tenants::oidc::SecretKeys::new(old, &[])
                .seal("s", "aad", &SeededEntropy::new(2))
                .map_err(|e| e.to_string())?;
            assert_eq!(keys.open(&sealed, "aad").map_err(|e| e.to_string())?.secret, "s");
            jail.set_env("CLIENTELE_OIDC__SECRET_KEY", "too short");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert!(settings.oidc_secret_keys(&SeededEntropy::new(1)).is_err());
            Ok(())
        });
        // Without a key, one is generated once into the data directory and kept.
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
        let first = settings.oidc_secret_keys(&clientele_kernel::ports::SeededEntropy::new(1)).unwrap();
        let again = settings.oidc_secret_keys(&clientele_kernel::ports::SeededEntropy::new(2)).unwrap();
        assert_eq!(first.current_id(), again.current_id());
        assert!(dir.path().join("oidc-secret.key").exists());
    }

    // issue 14
    #[test]
    fn cors_origins_and_graphiql_are_configured() {
        figment::Jail::expect_with(|jail| {
            assert!(Settings::load(None).map_err(|e| *e)?.server.cors_allowed_origins.is_empty(), "none by default");
            assert!(Settings::default().server.graphiql);
            jail.set_env("CLIENTELE_SERVER__CORS_ALLOWED_ORIGINS", "[https://a.example, https://b.example]");
            jail.set_env("CLIENTELE_SERVER__GRAPHIQL", "false");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.server.cors_allowed_origins, ["https://a.example", "https://b.example"]);
            assert!(!settings.server.graphiql);
            Ok(())
        });
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        assert_eq!(Settings::default().database_url(), "sqlite://./data/clientele.db?mode=rwc");
    }
}
