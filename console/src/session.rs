//! The console's session and CSRF protection.
//!
//! The session cookie holds the API's own session secret (`cls_…`, the one `signIn` returns),
//! `HttpOnly`, `SameSite=Lax`, `Secure` behind https; it is resolved through the server's door
//! on every request, so a revoked session ends at once. CSRF: every state-changing request
//! carries a token (form field `_csrf` or header `X-CSRF-Token`) that is the HMAC-SHA256 of a
//! fixed label keyed by the cookie's secret (OWASP's "signed, session-bound" token), masked with a
//! fresh pad on every page: a page of another origin can neither read the cookie nor compute it.
//! Before sign-in the secret is a random pre-session cookie, so the sign-in form is protected too.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use clientele_kernel::{ErrorCode, Permission};
use clientele_tenants::{Authenticated, ClientInfo};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::view::{self, redirect};
use crate::{Console, Lang};

pub(crate) const SESSION: &str = "clientele_session";
pub(crate) const PRESESSION: &str = "clientele_presession";
pub(crate) const LANG: &str = "clientele_lang";
const CSRF_LABEL: &[u8] = b"clientele-console-csrf-v1";
/// The most a console form may send (uploads have their own routes).
const MAX_FORM: usize = 256 << 10;
/// The most an import upload may send: the import's own file cap and room for the form.
const MAX_UPLOAD: usize = clientele_records::clients::import::MAX_FILE_BYTES + (64 << 10);

/// The value of cookie `name`, if the request sent it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name && !v.is_empty()).then_some(v))
}

/// A `Set-Cookie` value: `max_age` `None` for a browser-session cookie, `Some(0)` to remove it.
pub(crate) fn set_cookie(console: &Console, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        let _ = write!(c, "; Max-Age={age}");
    }
    if console.secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn mac(secret: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(CSRF_LABEL);
    Some(mac)
}

/// The CSRF token of a cookie secret, masked afresh for each page: a random pad, then the MAC
/// XOR the pad. A compressed page thus never repeats it, so its size cannot leak it to a guesser
/// who injects text into the same page (BREACH).
pub(crate) fn csrf_token(secret: &str) -> String {
    let Some(mac) = mac(secret) else { return String::new() };
    let pad: [u8; 32] = rand::random();
    let mut token = pad.to_vec();
    token.extend(mac.finalize().into_bytes().iter().zip(pad).map(|(m, p)| m ^ p));
    hex(&token)
}

fn csrf_valid(secret: &str, token: &str) -> bool {
    let Some(bytes) = unhex(token).filter(|b| b.len() == 64) else { return false };
    let (pad, masked) = bytes.split_at(32);
    let tag: Vec<u8> = masked.iter().zip(pad).map(|(m, p)| m ^ p).collect();
    mac(secret).is_some_and(|m| m.verify_slice(&tag).is_ok())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The language of a request: the console's cookie (set at sign-in from the user's language,
/// then the organisation's, and by the switch), else the browser's, else French.
pub(crate) fn lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG)
        .and_then(Lang::parse)
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept))
        .unwrap_or_default()
}

/// Whether htmx asks for a fragment (its history restore wants the whole page).
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request") && !headers.contains_key("hx-history-restore-request")
}

/// Refuses a state-changing request whose CSRF token does not match its cookie secret, before
/// any handler runs. The form body is read here (capped) and handed on unchanged.
pub(crate) async fn csrf_guard(State(console): State<Arc<Console>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let lang = lang(&parts.headers);
    let refuse = |status: StatusCode, code: ErrorCode| view::error_page(&console, lang, status, code);
    // An upload (the import wizard) is multipart: its token rides in the query string, which
    // another origin can no more compute than the form field.
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let cap = if multipart { MAX_UPLOAD } else { MAX_FORM };
    let Ok(bytes) = axum::body::to_bytes(body, cap).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge);
    };
    let secret = cookie(&parts.headers, SESSION).or_else(|| cookie(&parts.headers, PRESESSION));
    let header_token = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let fields = if multipart { parts.uri.query().unwrap_or("").as_bytes() } else { &bytes[..] };
    let token = header_token.or_else(|| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(fields)
            .ok()?
            .into_iter()
            .find_map(|(k, v)| (k == "_csrf").then_some(v))
    });
    match (secret, token) {
        (Some(secret), Some(token)) if csrf_valid(secret, &token) => {
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        _ => refuse(StatusCode::FORBIDDEN, ErrorCode::Forbidden),
    }
}

/// A signed-in caller of a console page, resolved through the door; pending terms of use send
/// every page but the terms screen (and sign-out) to it.
pub(crate) struct Signed {
    pub auth: Authenticated,
    pub lang: Lang,
    pub csrf: String,
    pub htmx: bool,
    /// In a supplier's direct-login session: what every page says about it.
    pub banner: Option<String>,
    /// The caller's address and user agent, as the door reads them.
    pub client: ClientInfo,
    /// The organisation's turn, held while the page is made.
    _turn: tokio::sync::OwnedSemaphorePermit,
}

impl Signed {
    pub fn can_write(&self) -> bool {
        self.auth.ctx.can(Permission::Write)
    }
}

impl FromRequestParts<Arc<Console>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Response> {
        let lang = lang(&parts.headers);
        let htmx = is_htmx(&parts.headers);
        let Some(secret) = cookie(&parts.headers, SESSION).map(str::to_owned) else {
            return Err(redirect("/sign-in", htmx));
        };
        let arrived = tokio::time::Instant::now();
        let (client, rid) = console.door.meta(parts);
        let auth = match console.door.resolve(&secret, rid).await {
            Ok(auth) => auth,
            Err(err) if err.code() == ErrorCode::Internal => {
                tracing::error!(error = %err, "console: resolving the session failed");
                return Err(view::error_page(console, lang, StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal));
            }
            // Revoked, expired, organisation unavailable: the cookie is of no use any more.
            Err(_) => {
                let mut to = redirect("/sign-in", htmx);
                to.headers_mut().append(header::SET_COOKIE, set_cookie(console, SESSION, "", Some(0)));
                return Err(to);
            }
        };
        let path = parts.uri.path();
        if auth.terms_pending && path != "/terms" && path != "/sign-out" {
            return Err(redirect("/terms", htmx));
        }
        // Only a direct-login session costs the look-up.
        let banner = if auth.ctx.actor().on_behalf_of.is_some() {
            match console.tenants.direct_login.current(&auth.ctx).await {
                Ok(session) => session.map(|s| {
                    let until = lang.date_time(s.expires_at);
                    let values = [
                        ("supplier", s.supplier_name.as_str()),
                        ("user", s.supplier_user.display_name.as_str()),
                        ("until", until.as_str()),
                    ];
                    lang.args("direct-login-banner", &values)
                }),
                Err(err) => {
                    tracing::error!(error = %err, "console: reading the direct-login session failed");
                    let status = StatusCode::INTERNAL_SERVER_ERROR;
                    return Err(view::error_page(console, lang, status, ErrorCode::Internal));
                }
            }
        } else {
            None
        };
        let turn = match console.door.turn(&auth, arrived).await {
            Ok(turn) => turn,
            Err(err) => {
                let status = if err.code() == ErrorCode::Internal {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::TOO_MANY_REQUESTS
                };
                return Err(view::error_page(console, lang, status, err.code()));
            }
        };
        Ok(Self { auth, lang, csrf: csrf_token(&secret), htmx, banner, client, _turn: turn })
    }
}

/// A caller before sign-in: its language, and the CSRF token of its pre-session cookie (made
/// here when missing, then set on the answer).
pub(crate) struct Visitor {
    pub lang: Lang,
    pub csrf: String,
    pub client: ClientInfo,
    /// The cookie to set when the pre-session is new.
    pub new_cookie: Option<HeaderValue>,
}

impl FromRequestParts<Arc<Console>> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        let (client, _) = console.door.meta(parts);
        let (secret, new_cookie) = if let Some(secret) = cookie(&parts.headers, PRESESSION) {
            (secret.to_owned(), None)
        } else {
            let mut bytes = [0u8; 32];
            console.entropy.fill(&mut bytes);
            let secret = hex(&bytes);
            let set = set_cookie(console, PRESESSION, &secret, None);
            (secret, Some(set))
        };
        // The guard checks against the session cookie when there is one (a signed-in user on a
        // page for visitors, such as a set-password link): the token follows the same secret.
        let bound = cookie(&parts.headers, SESSION).unwrap_or(secret.as_str());
        Ok(Self { lang: lang(&parts.headers), csrf: csrf_token(bound), client, new_cookie })
    }
}

impl Visitor {
    /// `response` with the new pre-session cookie, if one was made.
    pub fn keep(&self, mut response: Response) -> Response {
        if let Some(c) = &self.new_cookie {
            response.headers_mut().append(header::SET_COOKIE, c.clone());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 15
    #[test]
    fn a_csrf_token_holds_only_for_its_own_secret() {
        let token = csrf_token("cls_secret-one");
        assert!(csrf_valid("cls_secret-one", &token));
        assert!(!csrf_valid("cls_secret-two", &token));
        assert!(!csrf_valid("cls_secret-one", ""));
        assert!(!csrf_valid("cls_secret-one", &token[..10]));
        assert!(!csrf_valid("cls_secret-one", "zz"));
        let again = csrf_token("cls_secret-one");
        assert_ne!(token, again, "each page gets its own mask");
        assert!(csrf_valid("cls_secret-one", &again));
    }

    // issue 15
    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; clientele_session=cls_x; clientele_lang=en"));
        assert_eq!(cookie(&headers, SESSION), Some("cls_x"));
        assert_eq!(lang(&headers), Lang::En);
        assert_eq!(cookie(&headers, PRESESSION), None);
    }
}
