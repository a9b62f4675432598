//! The account pages: choosing a password from a one-time link (invitation, bootstrap, reset),
//! the forgotten-password request, the signed-in user's sessions, and the landing of an OIDC
//! sign-in that turns it into the console's session cookie.
//!
//! Every form is CSRF-checked like the rest of the console ([`crate::session`]); before sign-in
//! the token is bound to the pre-session cookie. The handlers call the same services as the
//! GraphQL mutations (`setPassword`, `requestPasswordReset`, `revokeSession`), which throttle
//! them exactly as they throttle the API.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use clientele_kernel::{AppError, ErrorCode, SessionId, TenantId};
use clientele_tenants::SignedIn;
use clientele_tenants::password::{MAX_LEN, MIN_LEN};
use serde::Deserialize;

use crate::session::{self, LANG, SESSION, Signed, Visitor};
use crate::view::{self, Base, redirect};
use crate::{Console, Lang};

/// The cookie `GET /oidc/{organisation}/callback` leaves the new session's secret in
/// (`HttpOnly`, `SameSite=Strict`, two minutes), and the path it is scoped to: the console's
/// hand-off lives under that path so the browser sends it there and nowhere else.
const OIDC_COOKIE: &str = "clientele_oidc";
const OIDC_COOKIE_PATH: &str = "/oidc/session";
/// Where an OIDC sign-in started from the console comes back to.
pub(crate) const OIDC_LANDING: &str = "/sign-in/oidc";

/// One-time link secrets are base64url with a short prefix; anything else is refused before it
/// reaches a service (and is never echoed).
fn well_formed(token: &str) -> bool {
    !token.is_empty() && token.len() < 200 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The organisation a sign-in page is for (`?organisation=<id>`), when it names a valid one.
pub(crate) fn organisation(raw: &str) -> Option<TenantId> {
    raw.trim().parse().ok()
}

/// `to` with the cookies of a new session: the session itself and the user's own language.
pub(crate) fn with_session(console: &Console, mut to: Response, signed: &SignedIn) -> Response {
    let h = to.headers_mut();
    h.append(header::SET_COOKIE, session::set_cookie(console, SESSION, &signed.token, None));
    if let Some(own) = Lang::of(signed.user.language) {
        h.append(header::SET_COOKIE, session::set_cookie(console, LANG, own.tag(), Some(31_536_000)));
    }
    to
}

fn log_internal(err: &AppError, what: &str) {
    if err.code() == ErrorCode::Internal {
        tracing::error!(error = %err, "console: {what} failed");
    }
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TokenInvalid | ErrorCode::InvalidId => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::OrganisationUnavailable | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A page that only says something (and offers where to go next).
#[derive(Template)]
#[template(path = "account_notice.html")]
struct NoticePage {
    base: Base,
    title: String,
    message: String,
    /// `role="alert"` for a failure, `role="status"` otherwise.
    alert: bool,
    link: Option<(String, String)>,
}

fn notice(
    console: &Console,
    visitor: &Visitor,
    status: StatusCode,
    title: &str,
    message: String,
    link: Option<(&str, &str)>,
) -> Response {
    let t = visitor.lang;
    let page = NoticePage {
        base: Base::visitor(console, t, &visitor.csrf, "/sign-in"),
        title: t.s(title),
        message,
        alert: !status.is_success(),
        link: link.map(|(href, key)| (href.to_owned(), t.s(key))),
    };
    visitor.keep(view::html(status, &page))
}

/// The page of a link that is malformed, used, or expired: ask for a new one.
fn invalid_link(console: &Console, visitor: &Visitor) -> Response {
    let message = visitor.lang.s("account-link-invalid");
    let link = Some(("/forgot-password", "account-forgot-new-link"));
    notice(console, visitor, StatusCode::BAD_REQUEST, "account-set-password", message, link)
}

// --- Set password -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account_set_password.html")]
struct SetPasswordPage {
    base: Base,
    token: String,
    rules: String,
    min: usize,
    error: Option<String>,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LinkParams {
    #[serde(default)]
    token: String,
}

fn set_password_page(visitor: &Visitor, status: StatusCode, page: &SetPasswordPage) -> Response {
    visitor.keep(view::html(status, page))
}

fn blank_form(console: &Console, visitor: &Visitor, token: String) -> SetPasswordPage {
    let t = visitor.lang;
    SetPasswordPage {
        base: Base::visitor(console, t, &visitor.csrf, "/sign-in"),
        token,
        rules: t.arg("account-password-rules", "min", &MIN_LEN.to_string()),
        min: MIN_LEN,
        error: None,
        password_error: None,
        confirm_error: None,
    }
}

/// `GET /set-password?token=…`: the page the invitation, bootstrap and reset mails link to.
pub(crate) async fn set_password_form(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    params: Result<Query<LinkParams>, QueryRejection>,
) -> Response {
    match params {
        Ok(Query(p)) if well_formed(&p.token) => {
            let page = blank_form(&console, &visitor, p.token);
            set_password_page(&visitor, StatusCode::OK, &page)
        }
        _ => invalid_link(&console, &visitor),
    }
}

#[derive(Deserialize)]
pub(crate) struct SetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /set-password`: sets the password (the link is single use), signs the user in and
/// opens the console; a rule broken is said next to its field.
pub(crate) async fn set_password(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    axum::Form(form): axum::Form<SetPasswordForm>,
) -> Response {
    if !well_formed(&form.token) {
        return invalid_link(&console, &visitor);
    }
    let t = visitor.lang;
    let mut page = blank_form(&console, &visitor, form.token.clone());
    // The service checks the same rules; here they are said in the reader's language.
    if form.password.chars().count() < MIN_LEN {
        page.password_error = Some(t.arg("account-password-too-short", "min", &MIN_LEN.to_string()));
    } else if form.password.len() > MAX_LEN {
        page.password_error = Some(t.arg("account-password-too-long", "max", &MAX_LEN.to_string()));
    } else if form.password != form.confirm {
        page.confirm_error = Some(t.s("account-password-mismatch"));
    }
    if page.password_error.is_some() || page.confirm_error.is_some() {
        return set_password_page(&visitor, StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match console.tenants.auth.set_password_with_token(&form.token, &form.password, &visitor.client).await {
        Ok(signed) => visitor.keep(with_session(&console, redirect("/clients", false), &signed)),
        Err(err) if err.code() == ErrorCode::TokenInvalid => invalid_link(&console, &visitor),
        Err(err) if err.field() == Some("password") => {
            page.password_error = Some(t.error(err.code()));
            set_password_page(&visitor, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(err) if err.code() == ErrorCode::TooManyAttempts => {
            page.error = Some(t.error(err.code()));
            set_password_page(&visitor, StatusCode::TOO_MANY_REQUESTS, &page)
        }
        // The password is set, but the account or organisation may not sign in now.
        Err(err) => {
            log_internal(&err, "setting a password");
            let status = status_of(err.code());
            notice(
                &console,
                &visitor,
                status,
                "account-set-password",
                t.error(err.code()),
                Some(("/sign-in", "sign-in")),
            )
        }
    }
}

// --- Forgotten password ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account_forgot.html")]
struct ForgotPage {
    base: Base,
    email: String,
    organisation: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct OrganisationParam {
    organisation: String,
}

/// `GET /forgot-password`: asks the e-mail address to send a reset link to.
pub(crate) async fn forgot_form(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    params: Result<Query<OrganisationParam>, QueryRejection>,
) -> Response {
    let raw = params.map(|Query(p)| p.organisation).unwrap_or_default();
    let page = ForgotPage {
        base: Base::visitor(&console, visitor.lang, &visitor.csrf, "/forgot-password"),
        email: String::new(),
        organisation: organisation(&raw).map(|o| o.to_string()).unwrap_or_default(),
        error: None,
    };
    visitor.keep(view::ok(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ForgotForm {
    email: String,
    organisation: String,
}

/// `POST /forgot-password`: the same answer whether or not an account holds the address (the
/// mail, if any, is sent after the answer); throttled per address and per e-mail like the API.
pub(crate) async fn forgot(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    axum::Form(form): axum::Form<ForgotForm>,
) -> Response {
    let t = visitor.lang;
    let org = organisation(&form.organisation);
    match console.tenants.access.request_password_reset(&form.email, org, &visitor.client).await {
        Ok(()) => notice(
            &console,
            &visitor,
            StatusCode::OK,
            "account-forgot",
            t.s("account-reset-sent"),
            Some(("/sign-in", "account-back-to-sign-in")),
        ),
        Err(err) => {
            log_internal(&err, "a password reset request");
            let page = ForgotPage {
                base: Base::visitor(&console, t, &visitor.csrf, "/forgot-password"),
                email: form.email,
                organisation: org.map(|o| o.to_string()).unwrap_or_default(),
                error: Some(t.error(err.code())),
            };
            visitor.keep(view::html(status_of(err.code()), &page))
        }
    }
}

// --- Sessions -------------------------------------------------------------------------------

pub(crate) struct SessionRow {
    id: String,
    created: String,
    expires: String,
    addr: String,
    user_agent: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account_sessions.html")]
struct SessionsPage {
    base: Base,
    rows: Vec<SessionRow>,
    others: bool,
    notice: Option<String>,
    /// A direct-login session acts for somebody else: it can end only itself.
    direct_login: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SessionsParams {
    ended: Option<u64>,
}

/// `GET /account/sessions`: the signed-in user's open sessions, this one marked.
pub(crate) async fn sessions(
    State(console): State<Arc<Console>>,
    caller: Signed,
    params: Result<Query<SessionsParams>, QueryRejection>,
) -> Response {
    let list = match console.tenants.auth.my_sessions(&caller.auth.ctx).await {
        Ok(list) => list,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let t = caller.lang;
    let current = caller.auth.ctx.actor().session();
    let none = t.s("account-unknown");
    let rows: Vec<SessionRow> = list
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            created: t.date_time(s.created_at),
            expires: t.date_time(s.expires_at),
            addr: s.client_addr.unwrap_or_else(|| none.clone()),
            user_agent: s.user_agent.unwrap_or_else(|| none.clone()),
            current: Some(s.id) == current,
        })
        .collect();
    let ended = params.ok().and_then(|Query(p)| p.ended);
    let page = SessionsPage {
        base: Base::of(&console, &caller, "/account/sessions"),
        others: rows.iter().any(|r| !r.current),
        rows,
        notice: ended.map(|n| t.arg("account-sessions-ended", "count", &n.to_string())),
        direct_login: caller.auth.ctx.actor().on_behalf_of.is_some(),
    };
    view::ok(&page)
}

/// `POST /account/sessions/{id}/revoke`: ends one of the user's sessions; ending this one is
/// signing out.
pub(crate) async fn revoke(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<uuid::Uuid>().map(SessionId) else {
        return view::failed(&console, &caller, &AppError::not_found());
    };
    // Only one's own: a super-admin ends others' sessions from the users screen, not here.
    let mine = match console.tenants.auth.my_sessions(&caller.auth.ctx).await {
        Ok(list) => list.iter().any(|s| s.id == id),
        Err(err) => return view::failed(&console, &caller, &err),
    };
    if !mine {
        return view::failed(&console, &caller, &AppError::not_found());
    }
    if let Err(err) = console.tenants.auth.revoke_session(&caller.auth.ctx, id).await {
        return view::failed(&console, &caller, &err);
    }
    if caller.auth.ctx.actor().session() == Some(id) {
        let mut to = redirect("/sign-in", caller.htmx);
        to.headers_mut().append(header::SET_COOKIE, session::set_cookie(&console, SESSION, "", Some(0)));
        return to;
    }
    redirect("/account/sessions?ended=1", caller.htmx)
}

/// `POST /account/sessions/others`: signs out everywhere else.
pub(crate) async fn revoke_others(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    match console.tenants.auth.sign_out_others(&caller.auth.ctx).await {
        Ok(ended) => redirect(&format!("/account/sessions?ended={ended}"), caller.htmx),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

// --- OIDC -----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account_oidc.html")]
struct OidcLandingPage {
    base: Base,
}

/// `GET /sign-in/oidc`: where the provider's callback sends the browser. The new session's
/// secret waits in the callback's `HttpOnly`, `SameSite=Strict` cookie, which a browser sends
/// only on a same-site request: this page posts it on (`console.js` submits the form at once;
/// without script the reader presses the button).
pub(crate) async fn oidc_landing(State(console): State<Arc<Console>>, visitor: Visitor) -> Response {
    let page = OidcLandingPage { base: Base::visitor(&console, visitor.lang, &visitor.csrf, OIDC_LANDING) };
    visitor.keep(view::ok(&page))
}

/// `POST /oidc/session/console`: turns the finished OIDC sign-in into the console's session
/// cookie, server-side (no page script ever holds the secret), and clears the hand-off cookie.
pub(crate) async fn oidc_finish(State(console): State<Arc<Console>>, visitor: Visitor, headers: HeaderMap) -> Response {
    let secret = session::cookie(&headers, OIDC_COOKIE).map(str::to_owned);
    let resolved = match &secret {
        Some(secret) => console.door.resolve(secret, None).await.map(|_| ()),
        None => Err(ErrorCode::Unauthenticated.into()),
    };
    let mut response = match (resolved, secret) {
        (Ok(()), Some(secret)) => {
            let mut to = redirect("/clients", false);
            to.headers_mut().append(header::SET_COOKIE, session::set_cookie(&console, SESSION, &secret, None));
            visitor.keep(to)
        }
        (Err(err), _) => {
            log_internal(&err, "finishing an OIDC sign-in");
            let t = visitor.lang;
            let message =
                if err.code() == ErrorCode::Internal { t.error(err.code()) } else { t.s("account-oidc-failed") };
            notice(
                &console,
                &visitor,
                status_of(err.code()),
                "sign-in",
                message,
                Some(("/sign-in", "account-back-to-sign-in")),
            )
        }
        (Ok(()), None) => {
            notice(&console, &visitor, StatusCode::UNAUTHORIZED, "sign-in", visitor.lang.s("account-oidc-failed"), None)
        }
    };
    let mut clear = format!("{OIDC_COOKIE}=; Path={OIDC_COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict");
    if console.secure {
        clear.push_str("; Secure");
    }
    if let Ok(value) = header::HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 15 (the keys of account.ftl in both languages: i18n's test of every file)
    #[test]
    fn account_strings_come_from_their_own_file() {
        assert_eq!(Lang::En.s("account-sessions"), "Sessions");
        assert_eq!(Lang::Fr.s("account-forgot"), "Mot de passe oublié");
    }

    // issue 15
    #[test]
    fn only_well_formed_link_secrets_and_organisation_ids_pass() {
        assert!(well_formed("clo_abc-DEF_123"));
        assert!(!well_formed("") && !well_formed("<script>") && !well_formed(&"a".repeat(200)));
        assert!(organisation("not an id").is_none());
        assert!(organisation(&uuid::Uuid::nil().to_string()).is_some());
    }
}
