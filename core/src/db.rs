//! Database connection and the kernel every service shares.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};

use crate::error::AppResult;
use crate::files::BlobStore;
use crate::ports::{Clock, Entropy};

/// Shared handles: the pool, the clock, the entropy source and the blob store.
pub struct Kernel {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    /// Where file contents live; any path that forgets a file may sweep its blobs after commit.
    pub blobs: Arc<dyn BlobStore>,
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

/// Takes the next value of a per-tenant counter row (`table.column`, keyed by `tenant_id`) in
/// the writing transaction: the upsert locks the row, so concurrent writers get distinct
/// values, and a value is never given out twice.
pub async fn next_counter(tx: &crate::TenantTx, table: &str, column: &str) -> AppResult<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = format!(
        "INSERT INTO {table} (tenant_id, {column}) VALUES ($1, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET {column} = {table}.{column} + 1 RETURNING {column}"
    );
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(tx.get_database_backend(), sql, [tx.tenant().0.into()]))
        .await?
        .ok_or_else(|| crate::AppError::internal(format!("counter {table} returned no row")))?;
    Ok(row.try_get("", column)?)
}
