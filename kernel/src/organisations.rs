//! The [`Organisations`] port: what other crates may know of organisations and users, whose
//! tables the tenants crate owns (it implements the port). No crate reads another's tables.

use crate::audit::trail::{ActorNames, ActorQuery, SupplierNames};
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

    /// Names who acted in audit entries of the transaction's tenant: its users and API
    /// tokens, and the direct-login sessions supplier users held in it. Leaves the supplier
    /// maps empty (see [`Organisations::suppliers`]).
    async fn actors(&self, tx: &TenantTx, query: &ActorQuery) -> AppResult<ActorNames>;

    /// The names of supplier organisations and of their users named as acting on behalf of in
    /// `ctx`'s tenant's audit entries, read inside each supplier (the tenant cannot see them).
    async fn suppliers(&self, ctx: &TenantCtx, users: &[(TenantId, UserId)]) -> AppResult<SupplierNames>;
}
