//! The tenants crate's tables Relay's `node(id:)` looks ids up in (see `clientele_kernel::nodes`).

use clientele_kernel::nodes::{NodeTable, kinds_of};
use clientele_kernel::{AppResult, TenantCtx};

/// Kinds are the GraphQL types the rows are shown as; a supplier's customers are the
/// organisations whose parent it is.
const TABLES: &[NodeTable] = &[
    NodeTable { kind: "User", table: "users", scope: "tenant_id" },
    NodeTable { kind: "CustomerOrganisation", table: "organisations", scope: "parent_id" },
];

/// The kind of each of `ids` that is a user or customer of the caller's tenant, in one statement.
pub async fn node_kinds(ctx: &TenantCtx, ids: &[uuid::Uuid]) -> AppResult<Vec<(uuid::Uuid, &'static str)>> {
    let tx = ctx.read().await?;
    let found = kinds_of(&tx, TABLES, ids).await?;
    tx.commit().await?;
    Ok(found)
}
