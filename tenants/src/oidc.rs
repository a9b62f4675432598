//! OIDC sign-in per organisation: its super-admins configure one OpenID provider; its users
//! then sign in there (authorization code flow with PKCE, state and nonce, see [`flow`]) and are
//! linked to an existing active user of that organisation by a verified e-mail address only.

mod flow;
pub mod outbound;
pub mod secrets;

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{AppError, AppResult, ErrorCode, Permission, Reason, TenantCtx};
use openidconnect::url::Url;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::auth::AuthService;
use crate::entity::oidc_provider;
use crate::users::authorize;

pub use flow::{Callback, OidcSignedIn, safe_return_to};
pub use secrets::SecretKeys;

/// Server-wide OIDC settings.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// Where people reach the server: redirect URIs are `{public_url}/oidc/{organisation}/callback`.
    pub public_url: String,
    /// Accept `http://` issuers and loopback addresses. Only for tests against a provider on
    /// loopback: in production an issuer must be `https://` on a public address.
    pub allow_http_issuers: bool,
    /// How long a started sign-in may take to come back.
    pub flow_ttl: Duration,
    /// Longest wait for one call to a provider, answer included.
    pub http_timeout: std::time::Duration,
    /// Longest wait for a provider to accept a connection.
    pub connect_timeout: std::time::Duration,
    /// The keys of client secrets at rest (`oidc.secret_key`, `oidc.old_secret_keys`).
    pub secret_keys: SecretKeys,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            allow_http_issuers: false,
            flow_ttl: Duration::minutes(10),
            http_timeout: std::time::Duration::from_secs(10),
            connect_timeout: std::time::Duration::from_secs(3),
            secret_keys: SecretKeys::default(),
        }
    }
}

impl OidcSettings {
    /// The callback address registered at the provider for `organisation`.
    pub fn redirect_uri(&self, organisation: clientele_kernel::TenantId) -> String {
        format!("{}/oidc/{organisation}/callback", self.public_url.trim_end_matches('/'))
    }
}

/// An organisation's provider as its super-admins see it: the client secret never leaves.
#[derive(Clone, Debug)]
pub struct OidcProvider {
    pub id: uuid::Uuid,
    pub issuer: String,
    pub client_id: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<oidc_provider::Model> for OidcProvider {
    fn from(row: oidc_provider::Model) -> Self {
        Self {
            id: row.id,
            issuer: row.issuer,
            client_id: row.client_id,
            enabled: row.enabled,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Input of `configureOidcProvider`; a missing secret keeps the stored one.
#[derive(Clone, Debug)]
pub struct ProviderInput {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub enabled: bool,
}

pub struct OidcService {
    handles: Arc<Handles>,
    settings: OidcSettings,
    auth: Arc<AuthService>,
    http: OnceLock<outbound::Outbound>,
}

fn clean_text(field: &str, value: &str, max: usize, errors: &mut Vec<AppError>) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        errors.push(AppError::refused(field, Reason::Length { max }));
    }
    value.to_owned()
}

/// An issuer is an absolute `https://` URL without query or fragment (`http://` only when allowed).
/// Where it points is checked by [`OidcService::check_address`].
fn validate_issuer(raw: &str, allow_http: bool) -> Result<String, AppError> {
    let invalid = || AppError::invalid("issuer", "Enter the provider's issuer URL, e.g. https://login.example.com.");
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|_| invalid())?;
    let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
    if !scheme_ok || url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() || raw.len() > 500 {
        return Err(invalid());
    }
    Ok(raw.to_owned())
}

impl OidcService {
    pub fn new(handles: Arc<Handles>, settings: OidcSettings, auth: Arc<AuthService>) -> Self {
        Self { handles, settings, auth, http: OnceLock::new() }
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The HTTP client for providers, built on first use (the TLS provider is installed by then):
    /// guarded addresses, no redirects, bounded time and size (see [`outbound`]).
    pub(crate) fn http(&self) -> AppResult<&outbound::Outbound> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let s = &self.settings;
        let client =
            outbound::Outbound::new(s.allow_http_issuers, s.connect_timeout, s.http_timeout).map_err(|err| {
                tracing::error!(error = %err, "building the OIDC HTTP client failed");
                AppError::code_only(ErrorCode::OidcProviderUnavailable)
            })?;
        Ok(self.http.get_or_init(|| client))
    }

    /// Refuses a URL the server must not call: not https, or a host that is or resolves to an
    /// internal address. A name that does not resolve (yet) passes here; it is checked again,
    /// on the addresses actually connected to, at every call.
    pub(crate) async fn check_address(&self, url: &Url) -> AppResult<()> {
        let allow = self.settings.allow_http_issuers;
        let refused = |why: &dyn std::fmt::Display| {
            tracing::info!(url = %why, "OIDC address refused");
            AppError::code_only(ErrorCode::OidcIssuerRefused)
        };
        outbound::check_url(url, allow).map_err(|e| refused(&e))?;
        if let Some(openidconnect::url::Host::Domain(host)) = url.host() {
            outbound::GuardedResolver { allow_loopback: allow }.lookup(host).await.map_err(|e| refused(&e))?;
        }
        Ok(())
    }

    /// Associated data of a provider's sealed secret: it opens in its own row only.
    fn secret_aad(tenant: clientele_kernel::TenantId, provider: uuid::Uuid) -> String {
        format!("oidc_providers:{tenant}:{provider}")
    }

    /// The organisation's provider, for its super-admins.
    pub async fn provider(&self, ctx: &TenantCtx) -> AppResult<Option<OidcProvider>> {
        ctx.require(Permission::ManageUsers)?;
        let tx = ctx.read().await?;
        let row = oidc_provider::Entity::find()
            .filter(oidc_provider::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(oidc_provider::Column::CreatedAt)
            .one(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(row.map(Into::into))
    }

    /// Creates or replaces the organisation's provider (one per organisation).
    pub async fn configure(&self, ctx: &TenantCtx, input: ProviderInput) -> AppResult<OidcProvider> {
        ctx.require(Permission::ManageUsers)?;
        let mut errors = Vec::new();
        let issuer = validate_issuer(&input.issuer, self.settings.allow_http_issuers).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });
        let client_id = clean_text("client_id", &input.client_id, 255, &mut errors);
        let secret = input.client_secret.map(|s| clean_text("client_secret", &s, 1000, &mut errors));
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        // Before the transaction: no network wait while it holds a connection.
        let issuer_url =
            Url::parse(&issuer).map_err(|_| AppError::invalid("issuer", "Enter the provider's issuer URL."))?;
        self.check_address(&issuer_url).await.map_err(|e| {
            AppError::new(e.code(), "This issuer is not allowed: use the provider's public https address.")
        })?;
        let now = self.handles.now();
        let tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        let existing = oidc_provider::Entity::find()
            .filter(oidc_provider::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(oidc_provider::Column::CreatedAt)
            .one(tx.conn())
            .await?;
        let view = |issuer: &str, client_id: &str, enabled: bool| json!({ "issuer": issuer, "client_id": client_id, "enabled": enabled });
        let (row, action, mut changes) = if let Some(row) = existing {
            let before = view(&row.issuer, &row.client_id, row.enabled);
            let id = row.id;
            let mut active: oidc_provider::ActiveModel = row.into();
            active.issuer = Set(issuer.clone());
            active.client_id = Set(client_id.clone());
            active.enabled = Set(input.enabled);
            if let Some(secret) = &secret {
                let aad = Self::secret_aad(ctx.tenant(), id);
                active.client_secret =
                    Set(self.settings.secret_keys.seal(secret, &aad, self.handles.entropy.as_ref())?);
            }
            active.updated_at = Set(now);
            let row = active.update(tx.conn()).await?;
            (row, "oidc_provider.update", audit::diff(&before, &view(&issuer, &client_id, input.enabled)))
        } else {
            let Some(secret) = &secret else {
                return Err(AppError::invalid("client_secret", "Enter the client secret."));
            };
            let id = self.handles.new_id();
            let aad = Self::secret_aad(ctx.tenant(), id);
            let sealed = self.settings.secret_keys.seal(secret, &aad, self.handles.entropy.as_ref())?;
            let row = oidc_provider::ActiveModel {
                tenant_id: Set(ctx.tenant()),
                id: Set(id),
                issuer: Set(issuer.clone()),
                client_id: Set(client_id.clone()),
                client_secret: Set(sealed),
                enabled: Set(input.enabled),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(tx.conn())
            .await?;
            (row, "oidc_provider.create", audit::created(&view(&issuer, &client_id, input.enabled)))
        };
        // The secret itself is never audited, only that it changed.
        if secret.is_some()
            && let Some(map) = changes.as_object_mut()
        {
            map.insert("client_secret".into(), json!({ "before": null, "after": "(changed)" }));
        }
        audit::record(&tx, ctx, AuditEntry::new(action, "oidc_provider", row.id, changes)).await?;
        tx.commit().await?;
        Ok(row.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_https_unless_allowed() {
        assert!(validate_issuer("https://login.example.com", false).is_ok());
        assert!(validate_issuer("http://127.0.0.1:4000", false).is_err());
        assert!(validate_issuer("http://127.0.0.1:4000", true).is_ok());
        for bad in ["", "login.example.com", "https://x.test/?a=1", "https://x.test/#f", "ftp://x.test", "https://"] {
            assert!(validate_issuer(bad, true).is_err(), "{bad}");
        }
    }
}
