//! The tenant context: the only way to open a transaction on tenant data.

use std::sync::Arc;

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement, TransactionOptions,
};

use crate::db::Handles;
use crate::error::{AppError, AppResult};
use crate::ids::{ApiTokenId, SessionId, TenantId, UserId};

/// What an organisation is in the tree: platform → supplier → customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum OrgKind {
    Platform,
    Supplier,
    Customer,
}

/// A user's role inside their organisation. What it grants depends on the organisation kind:
/// a platform super-admin is a platform admin; suppliers have super-admins and admins;
/// customers have all four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    Admin,
    Member,
    ReadOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Roles an organisation of this kind may hand out.
    pub fn allowed_in(self, kind: OrgKind) -> bool {
        match kind {
            OrgKind::Platform | OrgKind::Supplier => matches!(self, Self::SuperAdmin | Self::Admin),
            OrgKind::Customer => true,
        }
    }
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses a stored value; `None` for anything unknown.
    pub fn from_stored(value: &str) -> Option<Self> {
        value.parse().ok()
    }
}

/// Scope of the credential the request came with; sessions are always read-write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum TokenScope {
    Read,
    ReadWrite,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Who is acting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in user, through a session.
    User { user: UserId, session: SessionId },
    /// An organisation's API token.
    ApiToken(ApiTokenId),
    /// The server itself (bootstrap, sign-in, background jobs); never reachable from a request.
    System,
}

/// The acting identity with its effective role and scope.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub principal: Principal,
    pub role: Role,
    pub scope: TokenScope,
    /// The supplier user acting inside this organisation through a direct login.
    pub on_behalf_of: Option<(TenantId, UserId)>,
}

impl Actor {
    pub fn system() -> Self {
        Self { principal: Principal::System, role: Role::SuperAdmin, scope: TokenScope::ReadWrite, on_behalf_of: None }
    }

    pub fn user(&self) -> Option<UserId> {
        match self.principal {
            Principal::User { user, .. } => Some(user),
            _ => None,
        }
    }

    pub fn session(&self) -> Option<SessionId> {
        match self.principal {
            Principal::User { session, .. } => Some(session),
            _ => None,
        }
    }

    pub fn api_token(&self) -> Option<ApiTokenId> {
        match self.principal {
            Principal::ApiToken(id) => Some(id),
            _ => None,
        }
    }
}

/// What an operation needs; checked by services, never by resolvers.
///
/// A direct-login session (`Actor::on_behalf_of` is `Some`: a supplier user acting inside its
/// customer) works on the customer's records and settings, but never touches who may get in:
/// it holds none of [`ManageUsers`](Self::ManageUsers), [`ManageApiTokens`](Self::ManageApiTokens)
/// and [`ManageConsent`](Self::ManageConsent), so it mints no credential that could outlive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Change tenant data.
    Write,
    /// Create, update, deactivate users, change roles, set passwords and issue set-password
    /// links, configure sign-in (OIDC), revoke other people's sessions.
    ManageUsers,
    /// Create and revoke the organisation's API tokens (users only: a token cannot mint tokens).
    ManageApiTokens,
    /// List users and audit entries.
    ViewUsers,
    /// Change the organisation's settings: custom fields, categories, groups, lookups.
    ManageSettings,
    /// Irreversible operations on records: purge from the trash, anonymise.
    Purge,
    /// A supplier's administration of its customer organisations.
    ManageCustomers,
    /// The organisation's consents (whether its supplier may log in directly): only its own
    /// super-admins, signed in as themselves.
    ManageConsent,
}

impl Permission {
    pub fn allows(self, actor: &Actor) -> bool {
        let writes = actor.scope == TokenScope::ReadWrite && actor.role != Role::ReadOnly;
        let person = actor.api_token().is_none();
        // Who may get in is decided by the organisation's own people, never by a supplier
        // acting through a direct login.
        let in_person = person && actor.on_behalf_of.is_none();
        match self {
            Self::Write => writes,
            // Purge too: what the customer forgets is the customer's decision.
            Self::ManageUsers | Self::ManageConsent | Self::Purge => {
                writes && actor.role == Role::SuperAdmin && in_person
            }
            Self::ManageApiTokens => writes && matches!(actor.role, Role::SuperAdmin | Role::Admin) && in_person,
            Self::ViewUsers => matches!(actor.role, Role::SuperAdmin | Role::Admin),
            Self::ManageSettings | Self::ManageCustomers => {
                writes && matches!(actor.role, Role::SuperAdmin | Role::Admin)
            }
        }
    }
}

/// Confirms, inside a writing transaction, that the credential a context was built from still
/// stands with the role the context carries (not revoked, not expired, user still active, role
/// unchanged), and holds it until the transaction ends. Implemented by the auth layer, which
/// owns users, sessions and tokens; every [`TenantCtx::begin`] of a context it built runs it,
/// so a permission checked on the context is checked against the actor's current role.
#[async_trait::async_trait]
pub trait Standing: Send + Sync {
    async fn confirm(&self, tx: &TenantTx, actor: &Actor) -> AppResult<()>;
}

/// A capability bound to one tenant and one actor. Only the auth layer (clientele-tenants)
/// builds one; services take it to reach tenant tables.
#[derive(Clone)]
pub struct TenantCtx {
    handles: Arc<Handles>,
    tenant: TenantId,
    kind: OrgKind,
    actor: Actor,
    request_id: Option<Arc<str>>,
    shared_reads: Option<SharedReads>,
    standing: Option<Arc<dyn Standing>>,
}

/// Attempts of [`TenantCtx::write`] before a conflict with concurrent writers is reported.
const WRITE_ATTEMPTS: u32 = 4;

/// One read transaction shared by the reads of a request that only reads (a GraphQL query):
/// a page and the relations its loaders fetch then cost one `BEGIN`/`COMMIT` instead of one
/// per loader, and see one snapshot. A read that finds it busy (loaders run concurrently)
/// opens its own transaction rather than wait, so a read nested in another can never
/// deadlock. Never used for writes: a mutation must see what it just committed.
#[derive(Clone, Default)]
pub struct SharedReads(Arc<tokio::sync::Mutex<Option<SharedTx>>>);

/// The shared transaction and the tenant its statements are confined to right now (a read
/// may re-scope it to a customer with [`TenantTx::scope_to`]; the next read scopes it back).
#[derive(Debug)]
struct SharedTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
}

impl SharedReads {
    /// Ends the shared transaction, if a read opened it.
    pub async fn finish(&self) -> AppResult<()> {
        let shared = self.0.lock().await.take();
        match shared {
            Some(shared) => crate::db::commit_detached(shared.tx).await,
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for TenantCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCtx").field("tenant", &self.tenant).field("actor", &self.actor).finish_non_exhaustive()
    }
}

impl TenantCtx {
    /// For the auth layer only: every other crate receives a context, it never makes one.
    #[doc(hidden)]
    pub fn new(handles: Arc<Handles>, tenant: TenantId, kind: OrgKind, actor: Actor) -> Self {
        Self { handles, tenant, kind, actor, request_id: None, shared_reads: None, standing: None }
    }

    /// For the auth layer only: this context's writes first confirm the credential stands.
    #[doc(hidden)]
    #[must_use]
    pub fn with_standing(mut self, standing: Arc<dyn Standing>) -> Self {
        self.standing = Some(standing);
        self
    }

    /// A context in another tenant sharing this one's handles and request id. For the auth
    /// layer only, after it proved the actor may act there (a supplier in its customer).
    #[doc(hidden)]
    #[must_use]
    pub fn derive(&self, tenant: TenantId, kind: OrgKind, actor: Actor) -> Self {
        Self {
            handles: self.handles.clone(),
            tenant,
            kind,
            actor,
            request_id: self.request_id.clone(),
            shared_reads: None,
            // The caller proved the right to act there in this request's transaction.
            standing: None,
        }
    }

    #[must_use]
    pub fn with_request_id(mut self, request_id: Option<Arc<str>>) -> Self {
        self.request_id = request_id;
        self
    }

    /// This context with its reads sharing one transaction (see [`SharedReads`]); the caller
    /// ends it with [`SharedReads::finish`] once the request is answered.
    #[must_use]
    pub fn with_shared_reads(mut self) -> (Self, SharedReads) {
        let shared = SharedReads::default();
        self.shared_reads = Some(shared.clone());
        (self, shared)
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn kind(&self) -> OrgKind {
        self.kind
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn handles(&self) -> &Handles {
        &self.handles
    }

    pub fn can(&self, permission: Permission) -> bool {
        permission.allows(&self.actor)
    }

    /// Fails with `FORBIDDEN` unless the actor holds `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.can(permission) { Ok(()) } else { Err(AppError::forbidden()) }
    }

    /// A writing transaction scoped to this tenant. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so concurrent writers queue instead of failing on lock upgrade.
    /// For a caller's context, the credential is confirmed first, inside it ([`Standing`]).
    pub async fn begin(&self) -> AppResult<TenantTx> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let tx = self.open(options).await?;
        if let Some(standing) = &self.standing {
            standing.confirm(&tx, &self.actor).await?;
        }
        Ok(tx)
    }

    /// Runs `work` in a writing transaction that first checks `permission` against the
    /// actor's current standing, and commits when it succeeds. A transaction the database
    /// refused because of a concurrent one (PostgreSQL serialization failure or deadlock) is
    /// rolled back and run again, up to four times, so `work` must only touch the database.
    /// `work` gets the transaction as an owned handle (its futures are then plainly `Send`);
    /// it must not keep a clone of it past its end.
    pub async fn write<T, F, Fut>(&self, permission: Permission, mut work: F) -> AppResult<T>
    where
        F: FnMut(WriteTx) -> Fut,
        Fut: std::future::Future<Output = AppResult<T>>,
    {
        self.require(permission)?;
        let mut attempt = 1;
        loop {
            let tx = WriteTx(Arc::new(self.begin().await?));
            let done = match work(tx.clone()).await {
                Ok(value) => match Arc::try_unwrap(tx.0) {
                    Ok(tx) => tx.commit().await.map(|()| value),
                    Err(_) => Err(AppError::internal("a write kept its transaction past its end")),
                },
                Err(err) => Err(err), // dropping `tx` rolls it back
            };
            match done {
                Err(err) if err.is_retryable() && attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(attempt, error = %err, "write conflicted with a concurrent one; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    /// A read-only transaction scoped to this tenant: the request's shared one when it has one
    /// and it is free.
    pub async fn read(&self) -> AppResult<TenantTx> {
        if let Some(shared) = &self.shared_reads
            && let Ok(mut slot) = shared.0.clone().try_lock_owned()
        {
            if slot.is_none() {
                let tx = self.open(Self::read_options()).await?.into_owned()?;
                *slot = Some(SharedTx { tx, tenant: self.tenant });
            }
            if let Ok(shared) = tokio::sync::OwnedMutexGuard::try_map(slot, Option::as_mut) {
                let mut tx = TenantTx { tx: Handle::Shared(shared), tenant: self.tenant };
                tx.scope_to(self.tenant).await?;
                return Ok(tx);
            }
        }
        self.open(Self::read_options()).await
    }

    fn read_options() -> TransactionOptions {
        TransactionOptions { access_mode: Some(AccessMode::ReadOnly), ..TransactionOptions::default() }
    }

    async fn open(&self, options: TransactionOptions) -> AppResult<TenantTx> {
        let db: &DatabaseConnection = &self.handles.db;
        let backend = db.get_database_backend();
        // SQLite has no READ ONLY transactions; on PostgreSQL the mode is set below with the
        // tenant, in one round trip instead of sea-orm's separate `SET TRANSACTION`.
        let read_only = options.access_mode == Some(AccessMode::ReadOnly);
        let tx = crate::db::begin_detached(db, TransactionOptions { access_mode: None, ..options }).await?;
        if backend == DbBackend::Postgres {
            // SET LOCAL semantics: the tenant dies at COMMIT/ROLLBACK and never leaks through the pool.
            let sql = if read_only {
                "SELECT set_config('app.tenant_id', $1, true), set_config('transaction_read_only', 'on', true)"
            } else {
                "SELECT set_config('app.tenant_id', $1, true)"
            };
            tx.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [self.tenant.to_string().into()]))
                .await?;
        }
        Ok(TenantTx { tx: Handle::Own(tx), tenant: self.tenant })
    }
}

/// A transaction of its own, or the request's shared read transaction (see [`SharedReads`]).
#[derive(Debug)]
enum Handle {
    Own(DatabaseTransaction),
    Shared(tokio::sync::OwnedMappedMutexGuard<Option<SharedTx>, SharedTx>),
}

/// The transaction of one attempt of [`TenantCtx::write`]; derefs to [`TenantTx`].
#[derive(Clone, Debug)]
pub struct WriteTx(Arc<TenantTx>);

impl std::ops::Deref for WriteTx {
    type Target = TenantTx;
    fn deref(&self) -> &TenantTx {
        &self.0
    }
}

/// A transaction bound to one tenant; every repository query takes it.
#[derive(Debug)]
pub struct TenantTx {
    tx: Handle,
    tenant: TenantId,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn conn(&self) -> &DatabaseTransaction {
        match &self.tx {
            Handle::Own(tx) => tx,
            Handle::Shared(shared) => &shared.tx,
        }
    }

    fn into_owned(self) -> AppResult<DatabaseTransaction> {
        match self.tx {
            Handle::Own(tx) => Ok(tx),
            Handle::Shared(_) => Err(AppError::internal("a shared read transaction has no single owner")),
        }
    }

    /// Re-scopes the rest of this transaction to `tenant`. Only for an organisation the caller
    /// has just proven to administer (a supplier's own customer): RLS then confines every
    /// following statement to that customer, and the whole change commits atomically.
    pub async fn scope_to(&mut self, tenant: TenantId) -> AppResult<()> {
        let current = match &self.tx {
            Handle::Own(_) => self.tenant,
            Handle::Shared(shared) => shared.tenant,
        };
        if current != tenant && self.conn().get_database_backend() == DbBackend::Postgres {
            self.conn()
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT set_config('app.tenant_id', $1, true)",
                    [tenant.to_string().into()],
                ))
                .await?;
        }
        if let Handle::Shared(shared) = &mut self.tx {
            shared.tenant = tenant;
        }
        self.tenant = tenant;
        Ok(())
    }

    /// Commits a transaction of its own; a shared read transaction is only released, and ends
    /// with the request.
    pub async fn commit(self) -> AppResult<()> {
        match self.tx {
            Handle::Own(tx) => crate::db::commit_detached(tx).await,
            Handle::Shared(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for TenantTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        self.conn()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, scope: TokenScope, token: bool) -> Actor {
        let principal = if token {
            Principal::ApiToken(ApiTokenId(uuid::Uuid::nil()))
        } else {
            Principal::User { user: UserId(uuid::Uuid::nil()), session: SessionId(uuid::Uuid::nil()) }
        };
        Actor { principal, role, scope, on_behalf_of: None }
    }

    #[test]
    fn read_only_roles_and_read_tokens_cannot_write() {
        assert!(!Permission::Write.allows(&actor(Role::ReadOnly, TokenScope::ReadWrite, false)));
        assert!(!Permission::Write.allows(&actor(Role::Admin, TokenScope::Read, true)));
        assert!(Permission::Write.allows(&actor(Role::Member, TokenScope::ReadWrite, false)));
    }

    #[test]
    fn only_super_admin_users_manage_users() {
        assert!(Permission::ManageUsers.allows(&actor(Role::SuperAdmin, TokenScope::ReadWrite, false)));
        assert!(!Permission::ManageUsers.allows(&actor(Role::Admin, TokenScope::ReadWrite, false)));
        assert!(!Permission::ManageUsers.allows(&actor(Role::SuperAdmin, TokenScope::ReadWrite, true)));
    }

    fn direct_login() -> Actor {
        Actor {
            on_behalf_of: Some((TenantId(uuid::Uuid::nil()), UserId(uuid::Uuid::nil()))),
            ..actor(Role::SuperAdmin, TokenScope::ReadWrite, false)
        }
    }

    // issue 12 #3
    #[test]
    fn direct_login_sessions_work_on_records_but_mint_no_credentials() {
        let inside = direct_login();
        for allowed in [Permission::Write, Permission::ManageSettings, Permission::ViewUsers] {
            assert!(allowed.allows(&inside), "{allowed:?}");
        }
        let denied_inside =
            [Permission::ManageUsers, Permission::ManageApiTokens, Permission::ManageConsent, Permission::Purge];
        for denied in denied_inside {
            assert!(!denied.allows(&inside), "{denied:?}");
            assert!(denied.allows(&actor(Role::SuperAdmin, TokenScope::ReadWrite, false)), "{denied:?}");
        }
    }

    // issue 12 #4
    #[test]
    fn only_super_admins_in_person_change_consent() {
        assert!(Permission::ManageConsent.allows(&actor(Role::SuperAdmin, TokenScope::ReadWrite, false)));
        assert!(!Permission::ManageConsent.allows(&actor(Role::Admin, TokenScope::ReadWrite, false)));
        assert!(!Permission::ManageConsent.allows(&actor(Role::SuperAdmin, TokenScope::ReadWrite, true)));
        assert!(!Permission::ManageConsent.allows(&actor(Role::Admin, TokenScope::ReadWrite, true)));
    }

    #[test]
    fn platform_and_suppliers_have_no_member_roles() {
        assert!(!Role::Member.allowed_in(OrgKind::Supplier));
        assert!(Role::ReadOnly.allowed_in(OrgKind::Customer));
    }
}
