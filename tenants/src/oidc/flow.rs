//! The authorization code flow with PKCE (S256), state and nonce: `start` stores the flow and
//! sends the user to the provider; `finish` takes the provider's answer back to a session.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clientele_kernel::token;
use clientele_kernel::{AppError, AppResult, ErrorCode, OrgKind, TenantCtx, TenantId};
use openidconnect::DiscoveryError;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::url::Url;
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::OidcService;
use super::outbound::OutboundError;
use crate::auth::{ClientInfo, SignedIn, normalise_email};
use crate::entity::{oidc_flow, oidc_provider, organisation, user};
use crate::model::{User, UserStatus, parse_stored};
use crate::system_ctx;

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// What the provider sent back to the callback.
#[derive(Clone, Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set when the provider refused (`access_denied`, …); never shown to the user.
    pub error: Option<String>,
    /// The issuer, when the provider names itself in the answer (RFC 9207).
    pub iss: Option<String>,
}

/// A finished OIDC sign-in: the session and where to send the browser.
#[derive(Debug)]
pub struct OidcSignedIn {
    pub signed_in: SignedIn,
    pub return_to: String,
}

fn code(code: ErrorCode) -> AppError {
    AppError::code_only(code)
}

/// `return_to` must be a path on our own origin (`/clients?x=1`): never another host, never a
/// scheme-relative `//host` or a backslash some browsers read as a slash. Absent means `/`.
pub fn safe_return_to(raw: Option<&str>) -> AppResult<String> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok("/".to_owned()) };
    let invalid = || AppError::invalid("return_to", "Give a path on this site, starting with a single /.");
    let shaped = raw.len() <= 2000
        && raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
    // Belt and braces: resolved against a base, it must stay on that base's origin.
    let base = Url::parse("https://origin.invalid/").map_err(AppError::internal)?;
    let same_origin = base.join(raw).is_ok_and(|u| u.origin() == base.origin());
    if shaped && same_origin { Ok(raw.to_owned()) } else { Err(invalid()) }
}

impl OidcService {
    fn random(&self) -> String {
        let mut bytes = [0u8; 32];
        self.handles.entropy.fill(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A system context inside `org` once it exists and may be used (USR-08).
    async fn organisation(&self, org: TenantId) -> AppResult<TenantCtx> {
        let ctx = system_ctx(&self.handles, org, OrgKind::Customer);
        let tx = ctx.read().await?;
        let row = organisation::Entity::find_by_id(org).one(tx.conn()).await?;
        tx.commit().await?;
        let row = row.ok_or_else(AppError::not_found)?;
        crate::model::check_available(&row.status, row.blocked, row.valid_from, self.handles.now().date_naive())?;
        Ok(system_ctx(&self.handles, org, parse_stored("kind", &row.kind)?))
    }

    /// The organisation's enabled provider (`id`: the one a flow was started with).
    async fn enabled_provider(&self, ctx: &TenantCtx, id: Option<uuid::Uuid>) -> AppResult<oidc_provider::Model> {
        let tx = ctx.read().await?;
        let mut query = oidc_provider::Entity::find()
            .filter(oidc_provider::Column::TenantId.eq(ctx.tenant()))
            .filter(oidc_provider::Column::Enabled.eq(true));
        if let Some(id) = id {
            query = query.filter(oidc_provider::Column::Id.eq(id));
        }
        let row = query.order_by_asc(oidc_provider::Column::CreatedAt).one(tx.conn()).await?;
        tx.commit().await?;
        row.ok_or_else(AppError::not_found)
    }

    /// The provider's client secret, opened; a plaintext one (stored before encryption) or one
    /// under a retired key is written again under the current key (lazy re-encryption).
    async fn client_secret(&self, ctx: &TenantCtx, provider: &oidc_provider::Model) -> AppResult<String> {
        let keys = &self.settings.secret_keys;
        let aad = Self::secret_aad(ctx.tenant(), provider.id);
        let opened = keys.open(&provider.client_secret, &aad)?;
        if opened.stale && keys.current_id().is_some() {
            let sealed = keys.seal(&opened.secret, &aad, self.handles.entropy.as_ref())?;
            let tx = ctx.begin().await?;
            // Only if nobody changed it meanwhile: a newer secret must not be overwritten.
            oidc_provider::Entity::update_many()
                .col_expr(oidc_provider::Column::ClientSecret, sea_orm::sea_query::Expr::value(sealed))
                .filter(oidc_provider::Column::TenantId.eq(ctx.tenant()))
                .filter(oidc_provider::Column::Id.eq(provider.id))
                .filter(oidc_provider::Column::ClientSecret.eq(provider.client_secret.clone()))
                .exec(tx.conn())
                .await?;
            tx.commit().await?;
        }
        Ok(opened.secret)
    }

    /// Discovers the provider (metadata and signing keys) and builds its client. Every call goes
    /// through the guarded client; every endpoint the metadata names is checked too, including
    /// the authorization endpoint we only send browsers to.
    async fn client(&self, ctx: &TenantCtx, provider: &oidc_provider::Model, org: TenantId) -> AppResult<Client> {
        let unavailable = |what: &str, err: &dyn std::fmt::Debug| {
            tracing::warn!(issuer = %provider.issuer, error = ?err, "OIDC {what} failed");
            code(ErrorCode::OidcProviderUnavailable)
        };
        let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(|e| unavailable("issuer", &e))?;
        self.check_address(issuer.url()).await?;
        let metadata = CoreProviderMetadata::discover_async(issuer, self.http()?).await.map_err(|e| match e {
            DiscoveryError::Request(OutboundError::Refused(url)) => {
                tracing::info!(issuer = %provider.issuer, url = %url, "OIDC discovery refused");
                code(ErrorCode::OidcIssuerRefused)
            }
            other => unavailable("discovery", &other),
        })?;
        let mut endpoints = vec![metadata.authorization_endpoint().url(), metadata.jwks_uri().url()];
        endpoints.extend(metadata.token_endpoint().map(openidconnect::TokenUrl::url));
        endpoints.extend(metadata.userinfo_endpoint().map(openidconnect::UserInfoUrl::url));
        for endpoint in endpoints {
            self.check_address(endpoint).await?;
        }
        let redirect =
            RedirectUrl::new(self.settings.redirect_uri(org)).map_err(|e| unavailable("redirect URI", &e))?;
        let secret = self.client_secret(ctx, provider).await?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect))
    }

    /// What a sign-in page offers for `org`: the host of its enabled provider (for a "sign in
    /// with …" button), or `None` when it has none or is unavailable. Nothing secret: starting
    /// a sign-in there tells as much.
    pub async fn sign_in_offer(&self, org: TenantId) -> AppResult<Option<String>> {
        let ctx = match self.organisation(org).await {
            Ok(ctx) => ctx,
            Err(err) if err.code() == ErrorCode::Internal => return Err(err),
            Err(_) => return Ok(None),
        };
        match self.enabled_provider(&ctx, None).await {
            Ok(provider) => {
                let host = Url::parse(&provider.issuer).ok().and_then(|u| u.host_str().map(str::to_owned));
                Ok(Some(host.unwrap_or(provider.issuer)))
            }
            Err(err) if err.code() == ErrorCode::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Starts a sign-in at `org`'s provider; returns the provider URL to send the browser to.
    pub async fn start(&self, org: TenantId, return_to: Option<&str>) -> AppResult<String> {
        let return_to = safe_return_to(return_to)?;
        let ctx = self.organisation(org).await?;
        let provider = self.enabled_provider(&ctx, None).await?;
        let client = self.client(&ctx, &provider, org).await?;
        let (state, nonce, verifier) = (self.random(), self.random(), self.random());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.clone()));
        let (state_for_url, nonce_for_url) = (state.clone(), nonce.clone());
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_for_url),
                move || Nonce::new(nonce_for_url),
            )
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let now = self.handles.now();
        let tx = ctx.begin().await?;
        // Old flows are useless: drop them as new ones come.
        oidc_flow::Entity::delete_many()
            .filter(oidc_flow::Column::TenantId.eq(org))
            .filter(oidc_flow::Column::ExpiresAt.lt(now))
            .exec(tx.conn())
            .await?;
        oidc_flow::ActiveModel {
            tenant_id: Set(org),
            id: Set(self.handles.new_id()),
            provider_id: Set(provider.id),
            // Only the state's hash is kept: a leaked table cannot answer a pending callback.
            state_hash: Set(token::hash(&state)),
            nonce: Set(nonce),
            pkce_verifier: Set(verifier),
            return_to: Set(Some(return_to)),
            created_at: Set(now),
            expires_at: Set(now + self.settings.flow_ttl),
            used_at: Set(None),
        }
        .insert(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(url.to_string())
    }

    /// Burns the flow `state` names: single use, even when the rest of the callback fails.
    async fn take_flow(&self, ctx: &TenantCtx, state: &str) -> AppResult<oidc_flow::Model> {
        let now = self.handles.now();
        let tx = ctx.begin().await?;
        let flow = oidc_flow::Entity::find()
            .filter(oidc_flow::Column::TenantId.eq(ctx.tenant()))
            .filter(oidc_flow::Column::StateHash.eq(token::hash(state)))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .filter(|f| f.used_at.is_none() && f.expires_at > now)
            .ok_or_else(|| code(ErrorCode::OidcStateInvalid))?;
        let mut burnt: oidc_flow::ActiveModel = flow.clone().into();
        burnt.used_at = Set(Some(now));
        // The verifier and nonce are spent: keep no copy of them.
        burnt.pkce_verifier = Set(String::new());
        burnt.nonce = Set(String::new());
        burnt.update(tx.conn()).await?;
        tx.commit().await?;
        Ok(flow)
    }

    /// Finishes a sign-in: checks the state, exchanges the code with the PKCE verifier,
    /// verifies the ID token (signature, issuer, audience, expiry, nonce, access-token hash)
    /// and opens a session for the organisation's active user with that verified e-mail.
    pub async fn finish(&self, org: TenantId, callback: Callback, client: &ClientInfo) -> AppResult<OidcSignedIn> {
        let ctx = self.organisation(org).await?;
        let state = callback.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 200);
        let flow = self.take_flow(&ctx, state.ok_or_else(|| code(ErrorCode::OidcStateInvalid))?).await?;
        if let Some(error) = &callback.error {
            tracing::info!(organisation = %org, error = %error.chars().take(100).collect::<String>(), "OIDC provider refused");
            return Err(code(ErrorCode::OidcSignInRefused));
        }
        let auth_code = callback.code.filter(|c| !c.is_empty()).ok_or_else(|| code(ErrorCode::OidcSignInRefused))?;
        let provider = self.enabled_provider(&ctx, Some(flow.provider_id)).await?;
        // An answer naming another issuer is a mix-up: it was not meant for this flow.
        if callback.iss.as_deref().is_some_and(|iss| iss != provider.issuer) {
            return Err(code(ErrorCode::OidcSignInRefused));
        }
        let oidc = self.client(&ctx, &provider, org).await?;
        let response = oidc
            .exchange_code(AuthorizationCode::new(auth_code))
            .map_err(|_| code(ErrorCode::OidcProviderUnavailable))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier))
            .request_async(self.http()?)
            .await
            .map_err(|err| match err {
                RequestTokenError::Request(OutboundError::Refused(url)) => {
                    tracing::info!(organisation = %org, url = %url, "OIDC token endpoint refused");
                    code(ErrorCode::OidcIssuerRefused)
                }
                RequestTokenError::ServerResponse(answer) => {
                    tracing::info!(organisation = %org, error = %answer.error(), "OIDC code exchange refused");
                    code(ErrorCode::OidcSignInRefused)
                }
                other => {
                    tracing::warn!(organisation = %org, error = %other, "OIDC code exchange failed");
                    code(ErrorCode::OidcProviderUnavailable)
                }
            })?;
        let token_invalid = |why: &dyn std::fmt::Display| {
            tracing::info!(organisation = %org, error = %why, "OIDC ID token refused");
            code(ErrorCode::OidcTokenInvalid)
        };
        let id_token = response.id_token().ok_or_else(|| token_invalid(&"no ID token"))?;
        let handles = self.handles.clone();
        let verifier = oidc.id_token_verifier().set_time_fn(move || handles.now());
        let claims = id_token.claims(&verifier, &Nonce::new(flow.nonce)).map_err(|e| token_invalid(&e))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| token_invalid(&e))?;
            let key = id_token.signing_key(&verifier).map_err(|e| token_invalid(&e))?;
            let actual =
                AccessTokenHash::from_token(response.access_token(), alg, key).map_err(|e| token_invalid(&e))?;
            if actual != *expected {
                return Err(token_invalid(&"access-token hash mismatch"));
            }
        }
        let email = match (claims.email(), claims.email_verified()) {
            (Some(email), Some(true)) => normalise_email(email.as_str()),
            _ => return Err(code(ErrorCode::OidcEmailNotVerified)),
        };
        let user = self.account(&ctx, &email).await?;
        let signed_in = self.auth.open_session(&ctx, user, client, "oidc").await?;
        // Checked when the flow started; checked again in case the stored value was tampered with.
        let return_to = safe_return_to(flow.return_to.as_deref()).unwrap_or_else(|_| "/".to_owned());
        Ok(OidcSignedIn { signed_in, return_to })
    }

    /// The active user of this organisation (and only this one) with `email`.
    async fn account(&self, ctx: &TenantCtx, email: &str) -> AppResult<User> {
        let tx = ctx.read().await?;
        let row = user::Entity::find()
            .filter(user::Column::TenantId.eq(ctx.tenant()))
            .filter(user::Column::Email.eq(email))
            .one(tx.conn())
            .await?;
        tx.commit().await?;
        let user = row.map(User::from_row).transpose()?.filter(|u| u.status == UserStatus::Active);
        user.ok_or_else(|| code(ErrorCode::OidcAccountNotFound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_our_origin() {
        assert_eq!(safe_return_to(None).ok().as_deref(), Some("/"));
        assert_eq!(safe_return_to(Some("")).ok().as_deref(), Some("/"));
        for good in ["/", "/clients", "/clients/42?tab=ledger#top", "/a/b/../c"] {
            assert_eq!(safe_return_to(Some(good)).ok().as_deref(), Some(good), "{good}");
        }
        for bad in [
            "https://evil.test/",
            "//evil.test/x",
            "/\\evil.test",
            "\\\\evil.test",
            "evil.test",
            "javascript:alert(1)",
            "/%0d%0aSet-Cookie:x",
            "/ spaced",
            "/\nnext",
            "http:/evil.test",
        ] {
            let verdict = safe_return_to(Some(bad));
            // `/%0d%0a…` is a harmless encoded path on our origin; everything else is refused.
            if bad.starts_with("/%") {
                assert!(verdict.is_ok(), "{bad}");
            } else {
                assert!(verdict.is_err(), "{bad}");
            }
        }
    }
}
