//! The `search_outbox` table: one row per client, its `version` bumped by every change in the
//! changing transaction, its `indexed_version` set by the worker once the index holds it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};

use clientele_kernel::error::AppResult;
use clientele_kernel::ids::{ClientId, TenantId};
use clientele_kernel::tenancy::TenantTx;

pub(super) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "search_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: clientele_kernel::TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub client_id: clientele_kernel::ClientId,
        pub version: i64,
        pub indexed_version: i64,
        pub indexed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Marks `client` as changed, in the transaction that changes it: the one call every write
/// path of an indexed record makes (client, contacts, addresses, custom field values, and
/// plugin records that contribute fields).
pub async fn touch(tx: &TenantTx, client: ClientId) -> AppResult<()> {
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "INSERT INTO search_outbox (tenant_id, client_id, version, indexed_version) VALUES ($1, $2, 1, 0) \
         ON CONFLICT (tenant_id, client_id) DO UPDATE SET version = search_outbox.version + 1",
        [tx.tenant().0.into(), client.0.into()],
    ))
    .await?;
    Ok(())
}

/// [`touch`] for many clients in few statements (imports).
pub async fn touch_many(tx: &TenantTx, clients: &[ClientId]) -> AppResult<()> {
    let mut ids = clients.to_vec();
    ids.sort_unstable();
    ids.dedup(); // one statement may not upsert a row twice
    for chunk in ids.chunks(500) {
        let rows: Vec<String> = (0..chunk.len()).map(|i| format!("($1, ${}, 1, 0)", i + 2)).collect();
        let mut values: Vec<sea_orm::Value> = vec![tx.tenant().0.into()];
        values.extend(chunk.iter().map(|c| sea_orm::Value::from(c.0)));
        tx.execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            format!(
                "INSERT INTO search_outbox (tenant_id, client_id, version, indexed_version) VALUES {} \
                 ON CONFLICT (tenant_id, client_id) DO UPDATE SET version = search_outbox.version + 1",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Marks every client of the tenant as changed (a rebuild, or a change of which custom fields
/// are searchable).
pub async fn touch_all(tx: &TenantTx) -> AppResult<u64> {
    let done = tx
        .execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "INSERT INTO search_outbox (tenant_id, client_id, version, indexed_version) \
             SELECT tenant_id, id, 1, 0 FROM clients WHERE tenant_id = $1 \
             ON CONFLICT (tenant_id, client_id) DO UPDATE SET version = search_outbox.version + 1",
            [tx.tenant().0.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}

/// Up to `limit` pending rows of the tenant: `(client, version)`.
pub(super) async fn pending(tx: &TenantTx, limit: u64) -> AppResult<Vec<(ClientId, i64)>> {
    let rows = entity::Entity::find()
        .filter(entity::Column::TenantId.eq(tx.tenant()))
        .filter(Expr::col(entity::Column::IndexedVersion).lt(Expr::col(entity::Column::Version)))
        .limit(limit)
        .all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|r| (r.client_id, r.version)).collect())
}

/// Records that the index holds `client` at `version`; a newer change keeps its row pending.
pub(super) async fn mark_indexed(tx: &TenantTx, client: ClientId, version: i64, at: DateTime<Utc>) -> AppResult<()> {
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "UPDATE search_outbox SET indexed_version = $3, indexed_at = $4 \
         WHERE tenant_id = $1 AND client_id = $2 AND indexed_version < $3",
        [tx.tenant().0.into(), client.0.into(), version.into(), at.into()],
    ))
    .await?;
    Ok(())
}

/// Forgets a purged client once its document is gone, unless it changed again meanwhile.
pub(super) async fn forget(tx: &TenantTx, client: ClientId, version: i64) -> AppResult<()> {
    entity::Entity::delete_many()
        .filter(entity::Column::TenantId.eq(tx.tenant()))
        .filter(entity::Column::ClientId.eq(client))
        .filter(entity::Column::Version.eq(version))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// How many rows of the tenant wait, and when the last one was indexed.
pub(super) async fn status(tx: &TenantTx) -> AppResult<(u64, Option<DateTime<Utc>>)> {
    let pending = entity::Entity::find()
        .filter(entity::Column::TenantId.eq(tx.tenant()))
        .filter(Expr::col(entity::Column::IndexedVersion).lt(Expr::col(entity::Column::Version)))
        .count(tx.conn())
        .await?;
    let last = entity::Entity::find()
        .filter(entity::Column::TenantId.eq(tx.tenant()))
        .filter(entity::Column::IndexedAt.is_not_null())
        .order_by_desc(entity::Column::IndexedAt)
        .one(tx.conn())
        .await?;
    Ok((pending, last.and_then(|r| r.indexed_at)))
}

/// Tenants with pending rows, across all tenants: the one statement the worker polls with.
///
/// On PostgreSQL `search_outbox` has, beside the tenant policy, a SELECT-only policy open when
/// `app.search_worker` is on for the transaction (as sign-in's `app.sign_in_email`). It shows
/// ids and versions only, never a client's data; the worker then reads each tenant's rows and
/// clients inside that tenant.
pub(super) async fn pending_tenants(db: &DatabaseConnection, limit: u64) -> AppResult<Vec<TenantId>> {
    let backend = db.get_database_backend();
    let tx = db.begin().await?;
    if backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_string(backend, "SELECT set_config('app.search_worker', 'on', true)")).await?;
    }
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            "SELECT DISTINCT tenant_id FROM search_outbox WHERE indexed_version < version LIMIT $1",
            [i64::try_from(limit).unwrap_or(i64::MAX).into()],
        ))
        .await?;
    tx.commit().await?;
    rows.iter().map(|r| Ok(TenantId(r.try_get::<uuid::Uuid>("", "tenant_id")?))).collect()
}

/// Rows waiting for the index across all tenants (for `/metrics`), read as
/// [`pending_tenants`] reads them: under the worker's SELECT policy, ids and versions only.
pub(super) async fn pending_total(db: &DatabaseConnection) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let tx = db.begin().await?;
    if backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_string(backend, "SELECT set_config('app.search_worker', 'on', true)")).await?;
    }
    let row = tx
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM search_outbox WHERE indexed_version < version",
        ))
        .await?;
    tx.commit().await?;
    let n = row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}
