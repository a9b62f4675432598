//! Relay's `node(id:)` over UUID ids: which table of the caller's tenant holds each id, asked
//! in one statement of primary-key lookups (`UNION ALL`), read through the tenant's
//! transaction (RLS on PostgreSQL) like every read.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, Value};

use crate::error::AppResult;
use crate::tenancy::TenantTx;

/// One table of node ids: the kind it answers, the table, and the column that must hold the
/// caller's tenant (`tenant_id`, or `parent_id` for a supplier's customer organisations).
#[derive(Clone, Copy, Debug)]
pub struct NodeTable {
    pub kind: &'static str,
    pub table: &'static str,
    pub scope: &'static str,
}

/// The kind of every id of `ids` found in `tables`; ids found nowhere are left out.
pub async fn kinds_of(
    tx: &TenantTx,
    tables: &[NodeTable],
    ids: &[uuid::Uuid],
) -> AppResult<Vec<(uuid::Uuid, &'static str)>> {
    let selects = tables.iter().map(|t| {
        Query::select()
            // Kinds are our own constants, never input.
            .expr_as(Expr::cust(format!("'{}'", t.kind)), Alias::new("kind"))
            .column(Alias::new("id"))
            .from(Alias::new(t.table))
            .and_where(Expr::col(Alias::new(t.scope)).eq(Value::from(tx.tenant().0)))
            .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
            .to_owned()
    });
    let Some(union) = selects.reduce(|mut all: SelectStatement, next| {
        all.union(UnionType::All, next);
        all
    }) else {
        return Ok(Vec::new());
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let statement = tx.conn().get_database_backend().build(&union);
    let rows = tx.conn().query_all_raw(statement).await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let id: uuid::Uuid = row.try_get("", "id")?;
        let kind: String = row.try_get("", "kind")?;
        if let Some(t) = tables.iter().find(|t| t.kind == kind) {
            found.push((id, t.kind));
        }
    }
    Ok(found)
}
