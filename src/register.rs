//! The page a registration link opens (ORG-02, USR-05): a plain form that registers a customer
//! organisation under the link's supplier; its first user is mailed a set-password link.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use clientele_kernel::person::ContactDetails;
use clientele_kernel::{ErrorCode, Language};
use clientele_tenants::customers::{CustomerInput, OrgText};
use clientele_tenants::registration::Registration;

use crate::AppState;

/// Link secrets are base64url with a short prefix; anything else is refused, so the token can
/// be echoed into the form without escaping.
fn well_formed(token: &str) -> bool {
    !token.is_empty() && token.len() < 200 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A plain page around `body`.
fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Clientele</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head><body style=\"font-family:sans-serif;max-width:28rem;margin:4rem auto\">\
         <h1>Clientele</h1>{body}</body></html>"
    );
    (status, [("cache-control", "no-store"), ("referrer-policy", "no-referrer")], Html(html)).into_response()
}

#[derive(serde::Deserialize)]
pub struct LinkParams {
    token: String,
}

/// What the form posts; every field comes back into the form when something is wrong.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    token: String,
    name: String,
    street: String,
    postcode: String,
    city: String,
    country: String,
    language: String,
    first_name: String,
    last_name: String,
    email: String,
}

/// Offered in the form: the languages messages are written in.
const LANGUAGES: [(Language, &str); 3] =
    [(Language::EnUs, "English"), (Language::Fr, "Français"), (Language::De, "Deutsch")];

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn form_body(form: &RegisterForm, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p role=\"alert\" style=\"color:#b00\">{}</p>", escape(e))).unwrap_or_default();
    let input = |label: &str, name: &str, value: &str, extra: &str| {
        format!("<p><label>{label}<br><input name=\"{name}\" value=\"{}\" {extra}></label></p>", escape(value))
    };
    let mut languages = String::new();
    for (language, label) in LANGUAGES {
        let selected = if form.language == language.tag() { " selected" } else { "" };
        let _ = write!(languages, "<option value=\"{}\"{selected}>{label}</option>", language.tag());
    }
    format!(
        "<p>Register your organisation.</p>{error}<form method=\"post\" action=\"/register\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">{name}{street}{postcode}{city}{country}\
         <p><label>Language<br><select name=\"language\">{languages}</select></label></p>\
         <h2>You</h2>{first}{last}{email}<p><button type=\"submit\">Register</button></p></form>",
        token = escape(&form.token),
        name = input("Organisation", "name", &form.name, "required"),
        street = input("Street", "street", &form.street, ""),
        postcode = input("Postcode", "postcode", &form.postcode, ""),
        city = input("City", "city", &form.city, ""),
        country = input("Country (ISO code, e.g. FR)", "country", &form.country, "maxlength=\"2\""),
        first = input("First name", "first_name", &form.first_name, ""),
        last = input("Last name", "last_name", &form.last_name, "required"),
        email = input("E-mail", "email", &form.email, "type=\"email\" required"),
    )
}

fn invalid_link() -> Response {
    page(StatusCode::BAD_REQUEST, "<p>This link is invalid or has expired.</p>")
}

pub async fn form(params: Result<Query<LinkParams>, axum::extract::rejection::QueryRejection>) -> Response {
    match params {
        Ok(Query(p)) if well_formed(&p.token) => {
            page(StatusCode::OK, &form_body(&RegisterForm { token: p.token, ..RegisterForm::default() }, None))
        }
        _ => invalid_link(),
    }
}

fn text(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

pub async fn submit(State(state): State<Arc<AppState>>, Form(form): Form<RegisterForm>) -> Response {
    if !well_formed(&form.token) {
        return invalid_link();
    }
    let texts = [
        (OrgText::Street, &form.street),
        (OrgText::Postcode, &form.postcode),
        (OrgText::City, &form.city),
        (OrgText::Country, &form.country),
    ]
    .into_iter()
    .filter_map(|(field, value)| text(value).map(|v| (field, Some(v))))
    .collect();
    let registration = Registration {
        organisation: CustomerInput {
            name: Some(form.name.clone()),
            texts,
            language: Some(form.language.parse().unwrap_or_default()),
            ..CustomerInput::default()
        },
        contact: ContactDetails {
            first_name: text(&form.first_name),
            last_name: form.last_name.clone(),
            email: text(&form.email),
            ..ContactDetails::default()
        },
    };
    match state.services.registration.register(&form.token, registration).await {
        Ok(done) => page(
            StatusCode::OK,
            &format!("<p>Thank you. We sent a link to choose your password to {}.</p>", escape(&done.email)),
        ),
        Err(err) if err.is_user_error() => {
            let messages: Vec<&str> = err.each().map(clientele_kernel::AppError::public_message).collect();
            page(StatusCode::UNPROCESSABLE_ENTITY, &form_body(&form, Some(&messages.join(" "))))
        }
        Err(err) if err.code() == ErrorCode::TokenInvalid => invalid_link(),
        Err(err) => {
            if err.code() == ErrorCode::Internal {
                tracing::error!(error = %err, "registration failed");
            }
            page(StatusCode::BAD_REQUEST, &format!("<p>{}</p>", err.code().default_message()))
        }
    }
}
