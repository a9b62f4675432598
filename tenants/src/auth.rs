//! Sign-in, session and API-token resolution, sign-out, one-time set-password links.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::token::{self, SecretKind};
use clientele_kernel::{
    Actor, ApiTokenId, AppError, AppResult, ErrorCode, OneTimeTokenId, OrgKind, TenantCtx, TenantId, TokenScope,
    UserId, ids::SessionId, tenancy::Principal,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};
use serde_json::json;

use crate::entity::{credential, one_time_token, organisation, session, user};
use crate::model::{Session, User, UserStatus, parse_stored};
use crate::{password, system_ctx, throttle};

#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub session_ttl: Duration,
    pub set_password_ttl: Duration,
    /// Lifetime of a "forgot password" link: shorter, since nobody vouched for the request.
    pub reset_password_ttl: Duration,
    /// The address people reach the server at, the base of mailed links.
    pub public_url: String,
    pub oidc: crate::oidc::OidcSettings,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::hours(12),
            set_password_ttl: Duration::hours(72),
            reset_password_ttl: Duration::hours(1),
            public_url: "http://127.0.0.1:8080".to_owned(),
            oidc: crate::oidc::OidcSettings::default(),
        }
    }
}

impl AuthSettings {
    /// The page a one-time link opens: `{public_url}/set-password?token=…`.
    pub fn set_password_link(&self, token: &str) -> String {
        format!("{}/set-password?token={token}", self.public_url.trim_end_matches('/'))
    }
}

/// Who is calling, as the HTTP layer saw it.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub addr: Option<String>,
    pub user_agent: Option<String>,
    /// Password hashes this HTTP request may still make (shared by its clones).
    pub hashes: crate::password::HashBudget,
}

/// A resolved bearer credential.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub ctx: TenantCtx,
    /// Bumped whenever the tenant's schema-relevant configuration changes.
    pub config_version: i64,
    /// The user has not approved the current terms of use: only reading and answering them is allowed.
    pub terms_pending: bool,
}

/// A new session: show `token` to the user once.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub session: Session,
    pub user: User,
}

pub struct AuthService {
    handles: Arc<Handles>,
    settings: AuthSettings,
    /// What every write of a resolved caller's context confirms first.
    standing: Arc<dyn clientele_kernel::tenancy::Standing>,
}

const SESSION_SQLITE: &str = "SELECT s.id AS session_id, s.user_id, s.expires_at, s.revoked_at, u.role, \
     u.status AS user_status, o.kind AS org_kind, o.status AS org_status, o.config_version, \
     o.blocked AS org_blocked, o.valid_from AS org_valid_from, o.terms_version, u.terms_accepted_version, \
     s.impersonator_tenant_id, s.impersonator_user_id \
     FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id \
     JOIN organisations o ON o.id = s.tenant_id WHERE s.tenant_id = $1 AND s.token_hash = $2";
const SESSION_PG: &str = "SELECT * FROM clientele_resolve_session($1, $2)";

const API_TOKEN_SQLITE: &str = "UPDATE api_tokens SET last_used_at = $3 \
     WHERE tenant_id = $1 AND token_hash = $2 AND (last_used_at IS NULL OR last_used_at < $4)";
const API_TOKEN_SQLITE_SELECT: &str = "SELECT t.id AS token_id, t.scope, t.expires_at, t.revoked_at, \
     o.kind AS org_kind, o.status AS org_status, o.config_version, o.blocked AS org_blocked, o.valid_from AS org_valid_from \
     FROM api_tokens t JOIN organisations o ON o.id = t.tenant_id WHERE t.tenant_id = $1 AND t.token_hash = $2";
const API_TOKEN_PG: &str = "SELECT * FROM clientele_resolve_api_token($1, $2, $3)";

/// Most organisations an e-mail can belong to before sign-in asks which one.
const MAX_CANDIDATES: u64 = 20;

impl AuthService {
    pub fn new(handles: Arc<Handles>, settings: AuthSettings) -> Self {
        let standing = Arc::new(crate::standing::CredentialStanding { clock: handles.clock.clone() });
        Self { handles, settings, standing }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Resolves a bearer token (session or API token) in one statement into a tenant context.
    pub async fn resolve(&self, bearer: &str) -> AppResult<Authenticated> {
        let unauthenticated = || AppError::code_only(ErrorCode::Unauthenticated);
        match token::kind_of(bearer) {
            Some(SecretKind::Session) => {
                let (tenant, hash) = token::parse(SecretKind::Session, bearer).ok_or_else(unauthenticated)?;
                self.resolve_session(tenant, hash).await
            }
            Some(SecretKind::ApiToken) => {
                let (tenant, hash) = token::parse(SecretKind::ApiToken, bearer).ok_or_else(unauthenticated)?;
                self.resolve_api_token(tenant, hash).await
            }
            _ => Err(unauthenticated()),
        }
    }

    async fn resolve_session(&self, tenant: TenantId, hash: Vec<u8>) -> AppResult<Authenticated> {
        let db = &self.handles.db;
        let backend = db.get_database_backend();
        let sql = if backend == DbBackend::Postgres { SESSION_PG } else { SESSION_SQLITE };
        let row = db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, [tenant.0.into(), hash.into()]))
            .await?
            .ok_or(ErrorCode::Unauthenticated)?;
        let get_str = |c: &str| row.try_get::<String>("", c);
        let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
        let revoked_at: Option<DateTime<Utc>> = row.try_get("", "revoked_at")?;
        let user_status: UserStatus = parse_stored("status", &get_str("user_status")?)?;
        if revoked_at.is_some() || expires_at <= self.handles.now() || user_status != UserStatus::Active {
            return Err(ErrorCode::Unauthenticated.into());
        }
        self.check_org(&get_str("org_status")?, row.try_get("", "org_blocked")?, row.try_get("", "org_valid_from")?)?;
        let impersonator: (Option<uuid::Uuid>, Option<uuid::Uuid>) =
            (row.try_get("", "impersonator_tenant_id")?, row.try_get("", "impersonator_user_id")?);
        let actor = Actor {
            principal: Principal::User {
                user: UserId(row.try_get("", "user_id")?),
                session: SessionId(row.try_get("", "session_id")?),
            },
            role: parse_stored("role", &get_str("role")?)?,
            scope: TokenScope::ReadWrite,
            on_behalf_of: match impersonator {
                (Some(t), Some(u)) => Some((TenantId(t), UserId(u))),
                _ => None,
            },
        };
        let kind: OrgKind = parse_stored("kind", &get_str("org_kind")?)?;
        let required: i32 = row.try_get("", "terms_version")?;
        let accepted: i32 = row.try_get("", "terms_accepted_version")?;
        Ok(Authenticated {
            ctx: TenantCtx::new(self.handles.clone(), tenant, kind, actor).with_standing(self.standing.clone()),
            config_version: row.try_get("", "config_version")?,
            // A supplier acting through a direct login is not asked the customer's terms.
            terms_pending: accepted < required && actor.on_behalf_of.is_none(),
        })
    }

    async fn resolve_api_token(&self, tenant: TenantId, hash: Vec<u8>) -> AppResult<Authenticated> {
        let db = &self.handles.db;
        let backend = db.get_database_backend();
        let now = self.handles.now();
        let row = if backend == DbBackend::Postgres {
            let values = [tenant.0.into(), hash.into(), now.into()];
            db.query_one_raw(Statement::from_sql_and_values(backend, API_TOKEN_PG, values)).await?
        } else {
            let stale = now - Duration::seconds(60);
            let values = [tenant.0.into(), hash.clone().into(), now.into(), stale.into()];
            db.execute_raw(Statement::from_sql_and_values(backend, API_TOKEN_SQLITE, values)).await?;
            let values = [tenant.0.into(), hash.into()];
            db.query_one_raw(Statement::from_sql_and_values(backend, API_TOKEN_SQLITE_SELECT, values)).await?
        }
        .ok_or(ErrorCode::Unauthenticated)?;
        let expires_at: Option<DateTime<Utc>> = row.try_get("", "expires_at")?;
        let revoked_at: Option<DateTime<Utc>> = row.try_get("", "revoked_at")?;
        if revoked_at.is_some() || expires_at.is_some_and(|at| at <= now) {
            return Err(ErrorCode::Unauthenticated.into());
        }
        self.check_org(
            &row.try_get::<String>("", "org_status")?,
            row.try_get("", "org_blocked")?,
            row.try_get("", "org_valid_from")?,
        )?;
        let scope: TokenScope = parse_stored("scope", &row.try_get::<String>("", "scope")?)?;
        let actor = Actor {
            principal: Principal::ApiToken(ApiTokenId(row.try_get("", "token_id")?)),
            // A token acts for the organisation: read-write tokens as an admin, read tokens read-only.
            role: if scope == TokenScope::ReadWrite {
                clientele_kernel::Role::Admin
            } else {
                clientele_kernel::Role::ReadOnly
            },
            scope,
            on_behalf_of: None,
        };
        let kind: OrgKind = parse_stored("kind", &row.try_get::<String>("", "org_kind")?)?;
        Ok(Authenticated {
            ctx: TenantCtx::new(self.handles.clone(), tenant, kind, actor).with_standing(self.standing.clone()),
            config_version: row.try_get("", "config_version")?,
            terms_pending: false,
        })
    }

    /// USR-08: an inactive, blocked or not-yet-valid organisation cannot be used; its data stays.
    pub(crate) fn check_org(
        &self,
        status: &str,
        blocked: bool,
        valid_from: Option<chrono::NaiveDate>,
    ) -> AppResult<()> {
        crate::model::check_available(status, blocked, valid_from, self.handles.now().date_naive())
    }

    /// Password sign-in with the e-mail or the username (USR-02) as `login`. Unknown account,
    /// wrong password and inactive user give the same answer in the same time; failures are
    /// throttled per account and per client address.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        organisation: Option<TenantId>,
        client: &ClientInfo,
    ) -> AppResult<SignedIn> {
        // Over budget nothing is counted or checked: the request asked for more than it may.
        client.hashes.spend()?;
        // Usernames fold as e-mails do, and hold no '@': one normal form serves both.
        let login = normalise_email(login);
        let db = &self.handles.db;
        let now = self.handles.now();
        // Counted before any password is checked: concurrent guesses queue on the count.
        let address_key = client.addr.as_deref().map(throttle::address_key);
        if let Some(key) = &address_key
            && throttle::attempt(db, key, throttle::ADDRESS, now).await? == throttle::Verdict::Locked
        {
            return Err(ErrorCode::TooManyAttempts.into());
        }
        let pair_key = throttle::pair_key(&login, client.addr.as_deref());
        if throttle::attempt(db, &pair_key, throttle::ACCOUNT, now).await? == throttle::Verdict::Locked {
            return Err(ErrorCode::TooManyAttempts.into());
        }
        // Past the per-account ceiling (guesses from many addresses) attempts only slow down.
        let ceiling_key = throttle::account_key(&login);
        if throttle::attempt(db, &ceiling_key, throttle::ACCOUNT_CEILING, now).await? == throttle::Verdict::Locked {
            tokio::time::sleep(throttle::CEILING_DELAY).await;
        }

        let mut matched = Vec::new();
        let candidates = self.candidates(&login, organisation).await?;
        if candidates.is_empty() {
            password::verify(password.to_owned(), None).await?;
        }
        for (tenant, user_id) in candidates {
            if let Some(found) = self.check_password(tenant, user_id, password).await? {
                matched.push(found);
            }
        }

        let Some((ctx, user, org_available)) = matched.pop() else {
            return Err(ErrorCode::InvalidCredentials.into());
        };
        if !matched.is_empty() {
            return Err(AppError::invalid(
                "organisation",
                "This e-mail address or username belongs to several organisations: say which one.",
            ));
        }
        org_available?;
        throttle::clear(db, pair_key).await?;
        throttle::forgive(db, &ceiling_key).await?;
        if let Some(key) = &address_key {
            throttle::forgive(db, key).await?;
        }
        self.open_session(&ctx, user, client, "password").await
    }

    /// `(tenant, user)` pairs holding this normalised e-mail, or this username when it has no
    /// '@' (USR-02), seen through the matching sign-in policy only.
    pub(crate) async fn candidates(
        &self,
        login: &str,
        organisation: Option<TenantId>,
    ) -> AppResult<Vec<(TenantId, UserId)>> {
        let (setting, column) = if login.contains('@') {
            ("app.sign_in_email", user::Column::Email)
        } else {
            ("app.sign_in_username", user::Column::Username)
        };
        let tx = self.handles.db.begin().await?;
        if tx.get_database_backend() == DbBackend::Postgres {
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT set_config($1, $2, true)",
                [setting.into(), login.into()],
            ))
            .await?;
        }
        let mut query = user::Entity::find().filter(column.eq(login));
        if let Some(org) = organisation {
            query = query.filter(user::Column::TenantId.eq(org));
        }
        let rows = query.limit(MAX_CANDIDATES).all(&tx).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(|u| (u.tenant_id, u.id)).collect())
    }

    /// Verifies the password inside the user's tenant; `Some` only when it matches an active user.
    async fn check_password(
        &self,
        tenant: TenantId,
        user_id: UserId,
        password: &str,
    ) -> AppResult<Option<(TenantCtx, User, AppResult<()>)>> {
        let ctx = system_ctx(&self.handles, tenant, OrgKind::Customer);
        let tx = ctx.read().await?;
        let org = organisation::Entity::find_by_id(tenant).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let user = user::Entity::find_by_id((tenant, user_id)).one(tx.conn()).await?;
        let hash = credential::Entity::find_by_id((tenant, user_id)).one(tx.conn()).await?.map(|c| c.password_hash);
        tx.commit().await?;
        let has_hash = hash.is_some();
        let verified = password::verify(password.to_owned(), hash).await?;
        let Some(user) = user.map(User::from_row).transpose()? else { return Ok(None) };
        if !(verified && has_hash && user.status == UserStatus::Active) {
            return Ok(None);
        }
        let kind: OrgKind = parse_stored("kind", &org.kind)?;
        let available = self.check_org(&org.status, org.blocked, org.valid_from);
        Ok(Some((system_ctx(&self.handles, tenant, kind), user, available)))
    }

    /// Creates a session for `user` in the context's tenant, audited as the user; `via` names
    /// how they proved who they are (`password`, `one_time_link`, `oidc`).
    pub(crate) async fn open_session(
        &self,
        ctx: &TenantCtx,
        user: User,
        client: &ClientInfo,
        via: &str,
    ) -> AppResult<SignedIn> {
        let now = self.handles.now();
        let id = SessionId(self.handles.new_id());
        let secret = token::mint(SecretKind::Session, ctx.tenant(), self.handles.entropy.as_ref());
        let actor = Actor {
            principal: Principal::User { user: user.id, session: id },
            role: user.role,
            scope: TokenScope::ReadWrite,
            on_behalf_of: None,
        };
        let as_user = TenantCtx::new(self.handles.clone(), ctx.tenant(), ctx.kind(), actor)
            .with_request_id(ctx.request_id().map(Into::into));
        let tx = as_user.begin().await?;
        let row = session::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(id),
            user_id: Set(user.id),
            token_hash: Set(secret.hash),
            created_at: Set(now),
            expires_at: Set(now + self.settings.session_ttl),
            revoked_at: Set(None),
            client_addr: Set(client.addr.clone()),
            user_agent: Set(client.user_agent.as_ref().map(|ua| ua.chars().take(256).collect())),
            ..Default::default()
        }
        .insert(tx.conn())
        .await?;
        user::Entity::update_many()
            .col_expr(user::Column::LastSignInAt, sea_orm::sea_query::Expr::value(now))
            .filter(user::Column::TenantId.eq(ctx.tenant()))
            .filter(user::Column::Id.eq(user.id))
            .exec(tx.conn())
            .await?;
        audit::record(
            &tx,
            &as_user,
            AuditEntry::new("session.create", "session", id, json!({ "user_id": user.id, "via": via })),
        )
        .await?;
        tx.commit().await?;
        Ok(SignedIn { token: secret.plain, session: row.into(), user: User { last_sign_in_at: Some(now), ..user } })
    }

    /// Revokes a session: the caller's own, or any session of the organisation for a super-admin.
    pub async fn revoke_session(&self, ctx: &TenantCtx, id: SessionId) -> AppResult<Session> {
        let mut tx = ctx.begin().await?;
        let row = session::Entity::find_by_id((ctx.tenant(), id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        // The impersonated super-admin's own sessions are not the impersonator's to end.
        let own = ctx.actor().session() == Some(id)
            || (ctx.actor().user() == Some(row.user_id) && ctx.actor().on_behalf_of.is_none());
        if !own {
            crate::users::authorize(&tx, ctx, clientele_kernel::Permission::ManageUsers).await?;
        }
        let now = self.handles.now();
        let was_open = row.revoked_at.is_none() && row.expires_at > now;
        let revoked_at = row.revoked_at.unwrap_or(now);
        let mut active: session::ActiveModel = row.into();
        active.revoked_at = Set(Some(revoked_at));
        let row = active.update(tx.conn()).await?;
        if row.impersonator_user_id.is_some() {
            crate::direct_login::record_end(&mut tx, ctx, &row, was_open).await?;
        } else {
            audit::record(&tx, ctx, AuditEntry::new("session.revoke", "session", id, json!({}))).await?;
        }
        tx.commit().await?;
        Ok(row.into())
    }

    /// Ends the caller's current session.
    pub async fn sign_out(&self, ctx: &TenantCtx) -> AppResult<()> {
        let session = ctx.actor().session().ok_or_else(|| {
            AppError::new(ErrorCode::Validation, "Only a session can sign out; revoke API tokens instead.")
        })?;
        self.revoke_session(ctx, session).await.map(|_| ())
    }

    /// Ends the caller's other sessions ("sign out everywhere else"), keeping the current one;
    /// returns how many ended. Direct-login sessions acting as the user are not the user's.
    pub async fn sign_out_others(&self, ctx: &TenantCtx) -> AppResult<u64> {
        let invalid =
            || AppError::new(ErrorCode::Validation, "Only a session can sign out; revoke API tokens instead.");
        let session = ctx.actor().session().ok_or_else(invalid)?;
        let user = ctx.actor().user().ok_or_else(invalid)?;
        if ctx.actor().on_behalf_of.is_some() {
            return Err(ErrorCode::Forbidden.into());
        }
        let tx = ctx.begin().await?;
        let ended = end_sessions(&tx, user, Some(session), self.handles.now()).await?;
        audit::record(&tx, ctx, AuditEntry::new("session.revoke_others", "user", user, json!({ "ended": ended })))
            .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// The caller's sessions that are still valid, newest first. Direct-login sessions belong
    /// to the supplier user who opened them, not to the super-admin they act as.
    pub async fn my_sessions(&self, ctx: &TenantCtx) -> AppResult<Vec<Session>> {
        let Some(user) = ctx.actor().user() else { return Ok(Vec::new()) };
        let impersonator = match ctx.actor().on_behalf_of {
            Some((_, by)) => session::Column::ImpersonatorUserId.eq(by.0),
            None => session::Column::ImpersonatorUserId.is_null(),
        };
        let tx = ctx.read().await?;
        let rows = session::Entity::find()
            .filter(session::Column::TenantId.eq(ctx.tenant()))
            .filter(session::Column::UserId.eq(user))
            .filter(impersonator)
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(self.handles.now()))
            .order_by_desc(session::Column::CreatedAt)
            .limit(100)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Mints a single-use link for `user`: a first password (valid for the configured time),
    /// or a reset (short-lived, and audited as one) when the user already has a password.
    pub async fn issue_set_password_token(&self, ctx: &TenantCtx, user: UserId) -> AppResult<String> {
        let tx = ctx.begin().await?;
        crate::users::authorize(&tx, ctx, clientele_kernel::Permission::ManageUsers).await?;
        user::Entity::find_by_id((ctx.tenant(), user)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let (secret, purpose) = self.issue_link(&tx, user).await?;
        let entry = AuditEntry::new("one_time_token.create", "user", user, json!({ "purpose": purpose }));
        audit::record(&tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Stores a credentials link for `user` in the transaction's tenant: `set_password` for a
    /// user without a password, otherwise `reset_password` with the short lifetime, replacing
    /// the user's older reset links. Returns the secret and the purpose.
    pub(crate) async fn issue_link(
        &self,
        tx: &clientele_kernel::TenantTx,
        user: UserId,
    ) -> AppResult<(String, &'static str)> {
        let has_password = credential::Entity::find_by_id((tx.tenant(), user)).one(tx.conn()).await?.is_some();
        if !has_password {
            let secret =
                insert_one_time_token(tx, &self.handles, user, SET_PASSWORD, self.settings.set_password_ttl).await?;
            return Ok((secret, SET_PASSWORD));
        }
        burn_links(tx, user, RESET_PASSWORD, self.handles.now()).await?;
        let secret =
            insert_one_time_token(tx, &self.handles, user, RESET_PASSWORD, self.settings.reset_password_ttl).await?;
        Ok((secret, RESET_PASSWORD))
    }

    /// The lifetime of links of `purpose`.
    pub(crate) fn link_ttl(&self, purpose: &str) -> Duration {
        if purpose == RESET_PASSWORD { self.settings.reset_password_ttl } else { self.settings.set_password_ttl }
    }

    /// Redeems a set-password link: sets the password, burns the link, ends the user's other
    /// sessions and signs the user in. The link is checked before any hashing, and redemptions
    /// are throttled per client address, so guessing links costs no argon2.
    pub async fn set_password_with_token(
        &self,
        presented: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> AppResult<SignedIn> {
        password::validate("password", new_password)?;
        let invalid = || AppError::code_only(ErrorCode::TokenInvalid);
        let now = self.handles.now();
        if let Some(addr) = client.addr.as_deref() {
            let key = throttle::link_address_key(addr);
            if throttle::attempt(&self.handles.db, &key, throttle::LINK_ADDRESS, now).await?
                == throttle::Verdict::Locked
            {
                return Err(ErrorCode::TooManyAttempts.into());
            }
        }
        let (tenant, hash) = token::parse(SecretKind::OneTime, presented).ok_or_else(invalid)?;
        let usable = |t: &one_time_token::Model| {
            t.used_at.is_none() && t.expires_at > now && [SET_PASSWORD, RESET_PASSWORD].contains(&&*t.purpose)
        };
        let org = {
            let ctx = system_ctx(&self.handles, tenant, OrgKind::Customer);
            let tx = ctx.read().await?;
            let org = organisation::Entity::find_by_id(tenant).one(tx.conn()).await?;
            let link = one_time_token::Entity::find()
                .filter(one_time_token::Column::TenantId.eq(tenant))
                .filter(one_time_token::Column::TokenHash.eq(hash.clone()))
                .one(tx.conn())
                .await?;
            tx.commit().await?;
            link.filter(usable).ok_or_else(invalid)?;
            org.ok_or_else(invalid)?
        };
        let ctx = system_ctx(&self.handles, tenant, parse_stored("kind", &org.kind)?);
        client.hashes.spend()?;
        let password_hash = password::hash(new_password.to_owned(), self.handles.entropy.as_ref()).await?;
        let now = self.handles.now();
        let tx = ctx.begin().await?;
        // Checked again under lock: two requests with one link, one wins.
        let link = one_time_token::Entity::find()
            .filter(one_time_token::Column::TenantId.eq(tenant))
            .filter(one_time_token::Column::TokenHash.eq(hash))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .filter(|t| t.expires_at > now && usable(t))
            .ok_or_else(invalid)?;
        let user = user::Entity::find_by_id((tenant, link.user_id)).one(tx.conn()).await?.ok_or_else(invalid)?;
        let user = User::from_row(user)?;
        let purpose = link.purpose.clone();
        let mut burnt: one_time_token::ActiveModel = link.into();
        burnt.used_at = Set(Some(now));
        burnt.update(tx.conn()).await?;
        store_password(&tx, tenant, user.id, password_hash, now).await?;
        // Whoever held a session of this user (or knew the old password) is signed out.
        let ended = end_sessions(&tx, user.id, None, now).await?;
        let entry =
            AuditEntry::new("user.set_password", "user", user.id, json!({ "via": purpose, "sessions_ended": ended }));
        audit::record(&tx, &ctx, entry).await?;
        tx.commit().await?;
        // The address's count is of links that did not work.
        if let Some(addr) = client.addr.as_deref() {
            throttle::forgive(&self.handles.db, &throttle::link_address_key(addr)).await?;
        }
        self.check_org(&org.status, org.blocked, org.valid_from)?;
        if user.status != UserStatus::Active {
            return Err(ErrorCode::InvalidCredentials.into());
        }
        self.open_session(&ctx, user, client, "one_time_link").await
    }
}

/// Ends the open sessions of `user` in the transaction's tenant, but `keep` (the caller's own
/// when they change their own password); returns how many. Direct-login sessions acting as the
/// user are not the user's: they belong to the supplier user and end by their own rules.
pub(crate) async fn end_sessions(
    tx: &clientele_kernel::TenantTx,
    user: UserId,
    keep: Option<SessionId>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut query = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(session::Column::TenantId.eq(tx.tenant()))
        .filter(session::Column::UserId.eq(user))
        .filter(session::Column::ImpersonatorUserId.is_null())
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        query = query.filter(session::Column::Id.ne(keep));
    }
    Ok(query.exec(tx.conn()).await?.rows_affected)
}

/// Burns the unused links of `purpose` of `user`: only the newest one works.
pub(crate) async fn burn_links(
    tx: &clientele_kernel::TenantTx,
    user: UserId,
    purpose: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(one_time_token::Column::TenantId.eq(tx.tenant()))
        .filter(one_time_token::Column::UserId.eq(user))
        .filter(one_time_token::Column::Purpose.eq(purpose))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Purposes of one-time links: a first password (invitation, access data, registration) and a
/// "forgot password" reset. Both are redeemed by `set_password_with_token`.
pub(crate) const SET_PASSWORD: &str = "set_password";
pub(crate) const RESET_PASSWORD: &str = "reset_password";

/// Stores a single-use link for `user` of the transaction's tenant (hashed) and returns its secret.
pub(crate) async fn insert_one_time_token(
    tx: &clientele_kernel::TenantTx,
    handles: &Handles,
    user: UserId,
    purpose: &str,
    ttl: Duration,
) -> AppResult<String> {
    let now = handles.now();
    let secret = token::mint(SecretKind::OneTime, tx.tenant(), handles.entropy.as_ref());
    one_time_token::ActiveModel {
        tenant_id: Set(tx.tenant()),
        id: Set(OneTimeTokenId(handles.new_id())),
        user_id: Set(user),
        purpose: Set(purpose.to_owned()),
        token_hash: Set(secret.hash),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
    }
    .insert(tx.conn())
    .await?;
    Ok(secret.plain)
}

/// Inserts or replaces a user's password hash.
pub(crate) async fn store_password(
    tx: &clientele_kernel::TenantTx,
    tenant: TenantId,
    user: UserId,
    password_hash: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let existing = credential::Entity::find_by_id((tenant, user)).one(tx.conn()).await?;
    let model = credential::ActiveModel {
        tenant_id: Set(tenant),
        user_id: Set(user),
        password_hash: Set(password_hash),
        updated_at: Set(now),
    };
    if existing.is_some() {
        model.update(tx.conn()).await?;
    } else {
        model.insert(tx.conn()).await?;
    }
    Ok(())
}

/// E-mail addresses (USR-01) and usernames (USR-02) compare trimmed and case-insensitively.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}
