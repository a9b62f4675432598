//! Database connection and the kernel every service shares.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};

use crate::error::AppResult;
use crate::ports::{Clock, Entropy};

/// Shared handles: the pool, the clock and the entropy source.
pub struct Kernel {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
}

impl Kernel {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// A fresh UUID v7.
    pub fn new_id(&self) -> uuid::Uuid {
        self.entropy.uuid_v7(self.clock.now())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}

/// Opens a pool. SQLite runs in WAL mode with a busy timeout so readers never block writers.
pub async fn connect(url: &str, max_connections: u32) -> AppResult<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    Ok(Database::connect(options).await?)
}
