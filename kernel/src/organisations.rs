//! The [`Organisations`] port: what other crates may know of organisations and users, whose
//! tables the tenants crate owns (it implements the port). No crate reads another's tables.

use crate::error::AppResult;
use crate::ids::{TenantId, UserId};
use crate::tenancy::{OrgKind, TenantCtx, TenantTx};

#[async_trait::async_trait]
pub trait Organisations: Send + Sync {
    /// Marks the transaction's tenant's schema-shaping configuration (custom fields, enabled
    /// plugins) as changed, so the GraphQL schema cache builds its schema again.
    async fn bump_config_version(&self, tx: &TenantTx) -> AppResult<()>;

    /// The ids of a supplier's customer organisations, in id order. Runs in the supplier's scope.
    async fn customers_of(&self, tx: &TenantTx, supplier: TenantId) -> AppResult<Vec<TenantId>>;

    /// Whether `user` is a user of the transaction's tenant.
    async fn user_exists(&self, tx: &TenantTx, user: UserId) -> AppResult<bool>;

    /// The kind of the transaction's tenant, `None` if it has no organisation row.
    async fn kind(&self, tx: &TenantTx) -> AppResult<Option<OrgKind>>;

    /// Proves the caller administers `customer`, re-scopes `tx` to it and returns the context
    /// to audit with there (acting on behalf of the supplier user). `NOT_FOUND` otherwise.
    async fn enter(&self, ctx: &TenantCtx, tx: &mut TenantTx, customer: TenantId) -> AppResult<TenantCtx>;
}
