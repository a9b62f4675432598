//! Sign-in, sign-out, the terms-of-use screen and the language switch.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use clientele_kernel::{ErrorCode, TenantId};
use serde::Deserialize;

use crate::session::{self, LANG, SESSION, Signed, Visitor};
use crate::view::{self, Base, redirect};
use crate::{Console, Lang, account, organisations};

/// `GET /`: the clients list, or the sign-in page.
pub(crate) async fn home(headers: HeaderMap) -> Response {
    let to = if session::cookie(&headers, SESSION).is_some() { "/clients" } else { "/sign-in" };
    redirect(to, session::is_htmx(&headers))
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    base: Base,
    email: String,
    error: Option<String>,
    /// The organisation the page is for (`?organisation=<id>`), empty for any.
    organisation: String,
    /// The host of the organisation's OIDC provider, when it has one: a "sign in with" button.
    oidc: Option<String>,
    /// `return_to` of that button, URL-encoded.
    oidc_return: &'static str,
}

impl SignInPage {
    /// The page for `organisation` (its OIDC button when it has a provider).
    async fn new(console: &Console, visitor: &Visitor, organisation: Option<TenantId>) -> Self {
        let oidc = match organisation {
            Some(org) => console.tenants.oidc.sign_in_offer(org).await.unwrap_or_else(|err| {
                tracing::error!(error = %err, "console: reading the organisation's OIDC provider failed");
                None
            }),
            None => None,
        };
        Self {
            base: Base::visitor(console, visitor.lang, &visitor.csrf, "/sign-in"),
            email: String::new(),
            error: None,
            organisation: organisation.map(|o| o.to_string()).unwrap_or_default(),
            oidc,
            oidc_return: "%2Fsign-in%2Foidc",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SignInParams {
    organisation: String,
}

/// `GET /sign-in[?organisation=<id>]`: e-mail and password, and the organisation's OIDC
/// provider when it has one.
pub(crate) async fn sign_in_form(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    params: Result<Query<SignInParams>, QueryRejection>,
) -> Response {
    let org = params.ok().and_then(|Query(p)| account::organisation(&p.organisation));
    let page = SignInPage::new(&console, &visitor, org).await;
    visitor.keep(view::ok(&page))
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    organisation: String,
}

/// `POST /sign-in`: the API's own password sign-in; its session secret goes into the cookie.
pub(crate) async fn sign_in(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    let lang = visitor.lang;
    let org = account::organisation(&form.organisation);
    match console.tenants.auth.sign_in(&form.email, &form.password, org, &visitor.client).await {
        // The user's own language first; the browser's otherwise (then French).
        Ok(signed) => account::with_session(&console, redirect("/clients", false), &signed),
        Err(err) => {
            let code = err.code();
            if code == ErrorCode::Internal {
                tracing::error!(error = %err, "console: sign-in failed");
            }
            let status = match code {
                ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            let mut page = SignInPage::new(&console, &visitor, org).await;
            page.email = form.email;
            // Several organisations hold the address: say what to do, not just "invalid".
            page.error = Some(if err.field() == Some("organisation") {
                lang.s("account-several-organisations")
            } else {
                lang.error(code)
            });
            visitor.keep(view::html(status, &page))
        }
    }
}

/// `POST /sign-out`: revokes the session (every replica sees it at once) and drops the cookie.
/// `POST /sign-out`. Ending a direct login the console opened brings its supplier back to its
/// own session (kept aside by `organisations::direct_login`), on the organisation's page.
pub(crate) async fn sign_out(State(console): State<Arc<Console>>, caller: Signed, headers: HeaderMap) -> Response {
    let own =
        session::cookie(&headers, organisations::RETURN).filter(|_| caller.auth.ctx.actor().on_behalf_of.is_some());
    signed_out(&console, caller, own).await
}

/// Ends the caller's session; `own`: the supplier's session to go back to.
async fn signed_out(console: &Console, caller: Signed, own: Option<&str>) -> Response {
    if let Err(err) = console.tenants.auth.sign_out(&caller.auth.ctx).await {
        return view::failed(console, &caller, &err);
    }
    let mut to = match own {
        Some(_) => redirect(&format!("/organisations/{}", caller.auth.ctx.tenant()), caller.htmx),
        None => redirect("/sign-in", caller.htmx),
    };
    let cookies = to.headers_mut();
    let session = own.map_or_else(
        || session::set_cookie(console, SESSION, "", Some(0)),
        |own| session::set_cookie(console, SESSION, own, None),
    );
    cookies.append(header::SET_COOKIE, session);
    cookies.append(header::SET_COOKIE, session::set_cookie(console, organisations::RETURN, "", Some(0)));
    to
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    base: Base,
    title: String,
    body: String,
    version: i32,
    published: String,
}

/// `GET /terms`: the current terms of use, to approve or refuse (pending terms send every page here).
pub(crate) async fn terms(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    let current = match console.tenants.terms.current(&caller.auth.ctx).await {
        Ok(current) => current,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let Some(terms) = current else { return redirect("/clients", caller.htmx) };
    let page = TermsPage {
        base: Base::of(&console, &caller, "/terms"),
        published: caller.lang.date(terms.published_at.date_naive()),
        title: terms.title,
        body: terms.body,
        version: terms.version,
    };
    view::ok(&page)
}

#[derive(Deserialize)]
pub(crate) struct TermsForm {
    version: i32,
    answer: String,
}

/// `POST /terms`: approving opens the console; refusing signs out (the user stays blocked).
pub(crate) async fn answer_terms(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(form): axum::Form<TermsForm>,
) -> Response {
    let approve = form.answer == "approve";
    if let Err(err) = console.tenants.terms.respond(&caller.auth.ctx, form.version, approve).await {
        return view::failed(&console, &caller, &err);
    }
    if approve { redirect("/clients", caller.htmx) } else { signed_out(&console, caller, None).await }
}

#[derive(Deserialize)]
pub(crate) struct LanguageForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /language`: switches the console's language and comes back to the same page.
pub(crate) async fn language(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LanguageForm>,
) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or_default();
    // Only a path of this server: never an open redirect.
    let back = Some(form.back.as_str())
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or("/");
    let mut to = redirect(back, session::is_htmx(&headers));
    to.headers_mut().append(header::SET_COOKIE, session::set_cookie(&console, LANG, lang.tag(), Some(31_536_000)));
    to
}
