//! The page a one-time set-password link opens: a plain form posting back to the server.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::door::Meta;

#[derive(serde::Deserialize)]
pub struct LinkParams {
    token: String,
}

#[derive(serde::Deserialize)]
pub struct SetPasswordForm {
    token: String,
    password: String,
    confirm: String,
}

/// Tokens are base64url with a short prefix; anything else is refused, so the token can be
/// echoed into the form without escaping.
pub(crate) fn well_formed(token: &str) -> bool {
    !token.is_empty() && token.len() < 200 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Clientele</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head><body style=\"font-family:sans-serif;max-width:28rem;margin:4rem auto\">\
         <h1>Clientele</h1>{body}</body></html>"
    );
    (status, [("cache-control", "no-store"), ("referrer-policy", "no-referrer")], Html(html)).into_response()
}

fn form_body(token: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p role=\"alert\" style=\"color:#b00\">{e}</p>")).unwrap_or_default();
    format!(
        "<p>Choose your password (at least {min} characters).</p>{error}\
         <form method=\"post\" action=\"/set-password\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <p><label>New password<br><input type=\"password\" name=\"password\" autocomplete=\"new-password\" required minlength=\"{min}\"></label></p>\
         <p><label>Confirm<br><input type=\"password\" name=\"confirm\" autocomplete=\"new-password\" required minlength=\"{min}\"></label></p>\
         <p><button type=\"submit\">Set password</button></p></form>",
        min = clientele_tenants::password::MIN_LEN
    )
}

pub async fn form(params: Result<Query<LinkParams>, axum::extract::rejection::QueryRejection>) -> Response {
    match params {
        Ok(Query(p)) if well_formed(&p.token) => page(StatusCode::OK, &form_body(&p.token, None)),
        _ => page(StatusCode::BAD_REQUEST, "<p>This link is invalid or has expired.</p>"),
    }
}

pub async fn submit(State(state): State<Arc<AppState>>, meta: Meta, Form(input): Form<SetPasswordForm>) -> Response {
    if !well_formed(&input.token) {
        return page(StatusCode::BAD_REQUEST, "<p>This link is invalid or has expired.</p>");
    }
    if input.password != input.confirm {
        return page(StatusCode::UNPROCESSABLE_ENTITY, &form_body(&input.token, Some("The two passwords differ.")));
    }
    // Throttled per client address like the GraphQL mutation: the form is no way around it.
    match state.services.auth.set_password_with_token(&input.token, &input.password, &meta.client).await {
        Ok(_) => page(StatusCode::OK, "<p>Your password is set. You can now sign in.</p>"),
        Err(err) if err.is_user_error() => {
            page(StatusCode::UNPROCESSABLE_ENTITY, &form_body(&input.token, Some(err.public_message())))
        }
        Err(err) => {
            if err.code() == clientele_kernel::ErrorCode::Internal {
                tracing::error!(error = %err, "set password failed");
            }
            page(StatusCode::BAD_REQUEST, &format!("<p>{}</p>", err.code().default_message()))
        }
    }
}
