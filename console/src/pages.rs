//! Sign-in, sign-out, the terms-of-use screen and the language switch.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use clientele_kernel::ErrorCode;
use serde::Deserialize;

use crate::session::{self, LANG, SESSION, Signed, Visitor};
use crate::view::{self, Base, redirect};
use crate::{Console, Lang};

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
}

pub(crate) async fn sign_in_form(State(console): State<Arc<Console>>, visitor: Visitor) -> Response {
    let page = SignInPage {
        base: Base::visitor(&console, visitor.lang, &visitor.csrf, "/sign-in"),
        email: String::new(),
        error: None,
    };
    visitor.keep(view::ok(&page))
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /sign-in`: the API's own password sign-in; its session secret goes into the cookie.
pub(crate) async fn sign_in(
    State(console): State<Arc<Console>>,
    visitor: Visitor,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    let lang = visitor.lang;
    match console.tenants.auth.sign_in(&form.email, &form.password, None, &visitor.client).await {
        Ok(signed) => {
            let mut to = redirect("/clients", false);
            let h = to.headers_mut();
            h.append(header::SET_COOKIE, session::set_cookie(&console, SESSION, &signed.token, None));
            // The user's own language first; the browser's otherwise (then French).
            if let Some(own) = Lang::of(signed.user.language) {
                h.append(header::SET_COOKIE, session::set_cookie(&console, LANG, own.tag(), Some(31_536_000)));
            }
            to
        }
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
            let page = SignInPage {
                base: Base::visitor(&console, lang, &visitor.csrf, "/sign-in"),
                email: form.email,
                error: Some(lang.error(code)),
            };
            visitor.keep(view::html(status, &page))
        }
    }
}

/// `POST /sign-out`: revokes the session (every replica sees it at once) and drops the cookie.
pub(crate) async fn sign_out(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    if let Err(err) = console.tenants.auth.sign_out(&caller.auth.ctx).await {
        return view::failed(&console, &caller, &err);
    }
    let mut to = redirect("/sign-in", caller.htmx);
    to.headers_mut().append(header::SET_COOKIE, session::set_cookie(&console, SESSION, "", Some(0)));
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
    if approve { redirect("/clients", caller.htmx) } else { sign_out(State(console), caller).await }
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
