//! A customer's view of its supplier's direct logins (issue 15, screen 7): who entered, when,
//! why and until when, each open session ended on demand, and direct login allowed or
//! forbidden (forbidding ends the open sessions). The banner every page shows during such a
//! session is built by the `Signed` extractor.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use clientele_kernel::page::{PageRequest, encode_cursor};
use clientele_kernel::{AppError, SessionId};
use clientele_tenants::direct_login::DirectLoginSession;
use serde::Deserialize;

use crate::session::Signed;
use crate::view::{self, Base, redirect};
use crate::{Console, Lang};

const PAGE: i64 = 50;

/// One direct-login session as listed.
pub(crate) struct SessionRow {
    id: String,
    supplier: String,
    user: String,
    email: String,
    reason: String,
    opened: String,
    /// «until …» while it may be open, «ended …» once revoked.
    state: String,
    revoked: bool,
}

impl SessionRow {
    fn of(s: &DirectLoginSession, t: Lang) -> Self {
        let state = match s.revoked_at {
            Some(at) => t.arg("direct-login-ended", "at", &t.date_time(at)),
            None => t.arg("direct-login-until", "at", &t.date_time(s.expires_at)),
        };
        Self {
            id: s.id.to_string(),
            supplier: s.supplier_name.clone(),
            user: s.supplier_user.display_name.clone(),
            email: s.supplier_user.email.clone(),
            reason: s.reason.clone(),
            opened: t.date_time(s.created_at),
            state,
            revoked: s.revoked_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "direct_login.html")]
struct DirectLoginPage {
    base: Base,
    allowed: bool,
    rows: Vec<SessionRow>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ListQuery {
    after: String,
}

/// `GET /direct-login`: the organisation's direct-login sessions, newest first (super-admins).
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let after = query.map(|Query(q)| q.after).unwrap_or_default();
    let ctx = &caller.auth.ctx;
    let read = async {
        let request = PageRequest::new(Some(PAGE), Some(after).filter(|a| !a.is_empty()), None, None)?;
        let sessions = console.tenants.direct_login.list(ctx, request).await?;
        let org = console.tenants.organisations.current(ctx).await?;
        Ok::<_, AppError>((sessions, org))
    }
    .await;
    let (sessions, org) = match read {
        Ok(read) => read,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let next = sessions.has_next_page.then(|| sessions.items.last().map(|s| encode_cursor(s.id.0))).flatten();
    view::ok(&DirectLoginPage {
        base: Base::of(&console, &caller, "/direct-login"),
        allowed: org.direct_login_allowed,
        rows: sessions.items.iter().map(|s| SessionRow::of(s, caller.lang)).collect(),
        next,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AllowForm {
    /// `1` allows direct login, anything else forbids it.
    allowed: String,
}

/// `POST /direct-login/allowed`: the customer's consent; forbidding ends the open sessions.
pub(crate) async fn set_allowed(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(form): axum::Form<AllowForm>,
) -> Response {
    match console.tenants.direct_login.set_allowed(&caller.auth.ctx, form.allowed == "1").await {
        Ok(_) => redirect("/direct-login", caller.htmx),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// `POST /direct-login/{id}/revoke`: ends one session at once.
pub(crate) async fn revoke(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let ended = async {
        let id = id.parse::<uuid::Uuid>().map(SessionId).map_err(|_| AppError::not_found())?;
        console.tenants.direct_login.revoke(&caller.auth.ctx, id).await
    }
    .await;
    match ended {
        Ok(_) => redirect("/direct-login", caller.htmx),
        Err(err) => view::failed(&console, &caller, &err),
    }
}
