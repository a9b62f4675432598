//! Database connection and the [`Handles`] every service shares.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, TransactionOptions, TransactionTrait,
};

use crate::blobs::BlobStore;
use crate::error::AppResult;
use crate::organisations::Organisations;
use crate::ports::{Clock, Entropy};

/// What every service holds: the pool, the clock, the entropy source, the blob store and the
/// organisations port.
pub struct Handles {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    /// Where file contents live; any path that forgets a file may sweep its blobs after commit.
    pub blobs: Arc<dyn BlobStore>,
    /// Organisations and users, owned by the tenants crate.
    pub orgs: Arc<dyn Organisations>,
}

impl Handles {
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

/// Begins a transaction on a task of its own, so that a request cancelled while `BEGIN` is
/// in flight (a client hanging up, a deadline) cannot leave a pooled connection inside a
/// transaction the driver does not know about: the task always sees the answer, and a
/// transaction nobody receives is dropped, which queues its `ROLLBACK` before the connection
/// serves anything else. Statements inside need no such care: dropping the transaction
/// mid-statement rolls it back the same way.
pub async fn begin_detached(db: &DatabaseConnection, options: TransactionOptions) -> AppResult<DatabaseTransaction> {
    let db = db.clone();
    tokio::spawn(async move { db.begin_with_options(options).await })
        .await
        .map_err(crate::error::AppError::internal)?
        .map_err(Into::into)
}

/// Commits on a task of its own, for the same reason as [`begin_detached`]: a cancelled
/// `COMMIT` must not be followed by a `ROLLBACK` of a transaction that is already over.
pub async fn commit_detached(tx: DatabaseTransaction) -> AppResult<()> {
    tokio::spawn(tx.commit()).await.map_err(crate::error::AppError::internal)?.map_err(Into::into)
}

/// Rows a SQLite connection's worker thread may read ahead of its caller. sqlx's default (50)
/// makes every row past the 50th a thread hand-off (a full channel wakes the worker for each row
/// taken: two context switches per row), which cost a page of 100 plugin records 1 ms; a page
/// or a batch of ours fits in this many, so a query's rows cross in a few hand-offs.
const ROW_BUFFER: usize = 1024;

/// Opens a pool. SQLite runs in WAL mode with a busy timeout so readers never block writers.
pub async fn connect(url: &str, max_connections: u32) -> AppResult<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // A ping on every checkout is a round trip per transaction (a worker-thread hop on
        // SQLite); a connection is checked only after it sat idle long enough to be dropped.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .create_if_missing(true)
                .row_buffer_size(ROW_BUFFER)
        });
    Ok(Database::connect(options).await?)
}

/// Takes the next value of a per-tenant counter row (`table.column`, keyed by `tenant_id`) in
/// the writing transaction: the upsert locks the row, so concurrent writers get distinct
/// values, and a value is never given out twice.
pub async fn next_counter(tx: &crate::TenantTx, table: &str, column: &str) -> AppResult<i64> {
    next_counters(tx, table, column, 1).await.map(|values| *values.start())
}

/// As [`next_counter`], `count` consecutive values at once (imports).
pub async fn next_counters(
    tx: &crate::TenantTx,
    table: &str,
    column: &str,
    count: i64,
) -> AppResult<std::ops::RangeInclusive<i64>> {
    use sea_orm::Statement;
    let sql = format!(
        "INSERT INTO {table} (tenant_id, {column}) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET {column} = {table}.{column} + $2 RETURNING {column}"
    );
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            sql,
            [tx.tenant().0.into(), count.into()],
        ))
        .await?
        .ok_or_else(|| crate::AppError::internal(format!("counter {table} returned no row")))?;
    let last: i64 = row.try_get("", column)?;
    Ok(last - count + 1..=last)
}

/// Inserts `rows`, `chunk` to a statement, moving every value into the statement: sea-orm's
/// `insert_many` copies each one, which bulk imports of wide rows feel. Every column must be set.
pub async fn insert_moving<A>(conn: &impl ConnectionTrait, rows: Vec<A>, chunk: usize) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    use sea_orm::sea_query::{Expr, Query};
    use sea_orm::{ColumnTrait, EntityName, Iterable};
    let columns: Vec<_> = <<A::Entity as EntityTrait>::Column as Iterable>::iter().collect();
    let mut rows = rows.into_iter();
    loop {
        let batch: Vec<A> = rows.by_ref().take(chunk).collect();
        if batch.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert();
        insert.into_table(A::Entity::default().table_ref()).columns(columns.iter().copied());
        for mut row in batch {
            let values = columns
                .iter()
                .map(|c| {
                    let value =
                        row.take(*c).into_value().ok_or_else(|| DbErr::Custom("insert of an unset column".into()))?;
                    Ok(c.save_as(Expr::val(value)))
                })
                .collect::<Result<Vec<_>, DbErr>>()?;
            insert.values(values).map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        conn.execute(&insert).await?;
    }
}

/// The `LIKE … ESCAPE '\'` pattern of values starting with `prefix`, compared lower-cased. Control
/// characters are dropped: stored text never holds them (inputs refuse them), and PostgreSQL
/// refuses a NUL in a query parameter.
pub fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.to_lowercase().chars().filter(|c| !c.is_control()) {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_prefixes_escape_wildcards_and_drop_control_characters() {
        assert_eq!(super::like_prefix("Du_p%o\\nt\u{0}"), "du\\_p\\%o\\\\nt%");
    }
}
