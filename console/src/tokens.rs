//! The organisation's API tokens (issue 15, screen 6), for super-admins and admins: the list
//! (name, scope, created, expires, last used, revoked), a new token whose secret is shown once on
//! the answer to its form (never stored, so never shown again), and revocation. Same service as
//! the API's `createApiToken` and `revokeApiToken`.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, NaiveTime};
use clientele_kernel::page::{PageRequest, encode_cursor};
use clientele_kernel::{ApiTokenId, AppError, TokenScope};
use clientele_tenants::ApiToken;
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::Console;
use crate::session::Signed;
use crate::view::{self, Base, FieldErrors, redirect};

/// Tokens per page.
const PAGE: i64 = 50;

/// One row of the list.
pub(crate) struct TokenRow {
    id: String,
    name: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    /// Revoked or expired: the row says so and has no revoke button.
    ended: Option<String>,
}

impl TokenRow {
    fn of(token: &ApiToken, caller: &Signed, now: chrono::DateTime<chrono::Utc>) -> Self {
        let t = caller.lang;
        let ended = match (token.revoked_at, token.expires_at) {
            (Some(at), _) => Some(t.arg("token-revoked-on", "date", &t.date(at.date_naive()))),
            (None, Some(at)) if at <= now => Some(t.s("token-expired")),
            _ => None,
        };
        Self {
            id: token.id.to_string(),
            name: token.name.clone(),
            scope: t.s(&format!("token-scope-{}", token.scope.as_str())),
            created: t.date(token.created_at.date_naive()),
            expires: token.expires_at.map_or_else(|| t.s("token-no-expiry"), |at| t.date(at.date_naive())),
            last_used: token.last_used_at.map_or_else(|| t.s("never"), |at| t.date_time(at)),
            ended,
        }
    }
}

/// The new-token form's values.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct TokenFields {
    name: String,
    scope: String,
    /// `YYYY-MM-DD`, the last day the token works; empty for no expiry.
    expires_at: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    base: Base,
    rows: Vec<TokenRow>,
    scopes: Vec<(&'static str, String)>,
    /// The secret of the token just created, shown this once.
    created: Option<(String, String)>,
    f: TokenFields,
    errors: FieldErrors,
    next: Option<String>,
}

impl TokensPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TokensQuery {
    after: String,
}

async fn page(
    console: &Console,
    caller: &Signed,
    after: &str,
    shown: (Option<(String, String)>, TokenFields, FieldErrors),
    status: StatusCode,
) -> Response {
    let t = caller.lang;
    let after = Some(after.to_owned()).filter(|a| !a.is_empty());
    let listed = async {
        let request = PageRequest::new(Some(PAGE), after, None, None)?;
        console.tenants.api_tokens.list(&caller.auth.ctx, request).await
    }
    .await;
    let tokens = match listed {
        Ok(tokens) => tokens,
        Err(err) => return view::failed(console, caller, &err),
    };
    let now = caller.auth.ctx.handles().now();
    let (created, f, errors) = shown;
    let page = TokensPage {
        base: Base::of(console, caller, "/users/tokens"),
        rows: tokens.items.iter().map(|token| TokenRow::of(token, caller, now)).collect(),
        scopes: TokenScope::iter().map(|s| (s.as_str(), t.s(&format!("token-scope-{}", s.as_str())))).collect(),
        created,
        f: if f.scope.is_empty() { TokenFields { scope: TokenScope::Read.as_str().to_owned(), ..f } } else { f },
        errors,
        next: tokens.has_next_page.then(|| tokens.items.last().map(|token| encode_cursor(token.id.0))).flatten(),
    };
    view::html(status, &page)
}

/// `GET /users/tokens`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<TokensQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    page(&console, &caller, &q.after, Default::default(), StatusCode::OK).await
}

/// The end of the last day the token works, as its expiry instant.
fn expiry(raw: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| AppError::invalid("expires_at", "Enter a date as YYYY-MM-DD, or nothing for no expiry."))?;
    Ok(Some(day.and_time(NaiveTime::MIN).and_utc() + chrono::Duration::days(1)))
}

/// `POST /users/tokens`: the page again, with the new secret shown once above the list.
pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<TokenFields>,
) -> Response {
    let created = async {
        let scope = f.scope.parse::<TokenScope>().map_err(|_| AppError::invalid("scope", "Choose a scope."))?;
        let expires_at = expiry(&f.expires_at)?;
        console.tenants.api_tokens.create(&caller.auth.ctx, &f.name, scope, expires_at).await
    }
    .await;
    match created {
        Ok((token, secret)) => {
            let shown = (Some((token.name, secret)), TokenFields::default(), FieldErrors::default());
            page(&console, &caller, "", shown, StatusCode::CREATED).await
        }
        Err(err) if err.is_user_error() => {
            let errors = FieldErrors::of(&err, caller.lang);
            page(&console, &caller, "", (None, f, errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// `POST /users/tokens/{id}/revoke`.
pub(crate) async fn revoke(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let revoked = async {
        let id = id.parse::<uuid::Uuid>().map(ApiTokenId).map_err(|_| AppError::not_found())?;
        console.tenants.api_tokens.revoke(&caller.auth.ctx, id).await
    }
    .await;
    match revoked {
        Ok(_) => redirect("/users/tokens", caller.htmx),
        Err(err) => view::failed(&console, &caller, &err),
    }
}
