//! The customer-record tables Relay's `node(id:)` looks ids up in (see `clientele_kernel::nodes`).

use clientele_kernel::error::AppResult;
use clientele_kernel::nodes::{NodeTable, kinds_of};
use clientele_kernel::tenancy::TenantCtx;

/// Kinds are the GraphQL types the rows are shown as.
const TABLES: &[NodeTable] = &[
    NodeTable { kind: "Client", table: "clients", scope: "tenant_id" },
    NodeTable { kind: "Contact", table: "contacts", scope: "tenant_id" },
    NodeTable { kind: "Address", table: "addresses", scope: "tenant_id" },
    NodeTable { kind: "Beneficiary", table: "beneficiaries", scope: "tenant_id" },
    NodeTable { kind: "Card", table: "cards", scope: "tenant_id" },
    NodeTable { kind: "ClientDocument", table: "client_documents", scope: "tenant_id" },
    NodeTable { kind: "ImportJob", table: "import_jobs", scope: "tenant_id" },
];

/// The kind of each of `ids` that is a customer record of the caller's tenant, in one statement.
pub async fn node_kinds(ctx: &TenantCtx, ids: &[uuid::Uuid]) -> AppResult<Vec<(uuid::Uuid, &'static str)>> {
    let tx = ctx.read().await?;
    let found = kinds_of(&tx, TABLES, ids).await?;
    tx.commit().await?;
    Ok(found)
}
