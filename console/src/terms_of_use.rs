//! The supplier's terms of use (issue 16, screen 4; ORG-24, Q-20): the versions it published
//! with their languages, and a form that publishes a new version (every user of the supplier
//! and of its customers must approve it again before going on) or a translation of a published
//! one (nobody is asked again). Who answered what is on each organisation's users tab.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, AppResult, Language};
use clientele_tenants::terms::PublishTerms;
use serde::Deserialize;

use crate::Console;
use crate::organisations::{languages, sees_customers};
use crate::session::Signed;
use crate::view::{self, Base, FieldErrors};

/// One published text in the list.
pub(crate) struct TextRow {
    version: i32,
    language: &'static str,
    title: String,
    published: String,
}

/// The publishing form's values.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct PublishFields {
    /// Empty for a new version, else the version translated.
    version: String,
    language: String,
    title: String,
    body: String,
}

#[derive(Template)]
#[template(path = "terms_of_use.html")]
struct TermsPage {
    base: Base,
    texts: Vec<TextRow>,
    /// The published versions, newest first, for the translation choice.
    versions: Vec<i32>,
    languages: Vec<&'static str>,
    f: PublishFields,
    notice: Option<String>,
    errors: FieldErrors,
}

impl TermsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

async fn page(
    console: &Console,
    caller: &Signed,
    f: PublishFields,
    notice: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    if !sees_customers(caller) {
        return view::failed(console, caller, &AppError::forbidden());
    }
    let texts = match console.tenants.terms.published(&caller.auth.ctx).await {
        Ok(texts) => texts,
        Err(err) => return view::failed(console, caller, &err),
    };
    let t = caller.lang;
    let mut versions: Vec<i32> = texts.iter().map(|x| x.version).collect();
    versions.dedup();
    let page = TermsPage {
        base: Base::of(console, caller, "/terms-of-use"),
        texts: texts
            .into_iter()
            .map(|x| TextRow {
                version: x.version,
                language: x.language.tag(),
                title: x.title,
                published: t.date_time(x.published_at),
            })
            .collect(),
        versions,
        languages: languages(),
        f,
        notice,
        errors,
    };
    view::html(status, &page)
}

/// `GET /terms-of-use`.
pub(crate) async fn show(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    let f = PublishFields { language: caller.lang.tag().to_owned(), ..PublishFields::default() };
    page(&console, &caller, f, None, FieldErrors::default(), StatusCode::OK).await
}

fn input_of(f: &PublishFields) -> AppResult<PublishTerms> {
    let version = match f.version.trim() {
        "" => None,
        v => Some(v.parse().map_err(|_| AppError::invalid("version", "Translate a version that was published."))?),
    };
    let language: Language = f.language.parse().map_err(|_| AppError::invalid("language", "Choose a language."))?;
    Ok(PublishTerms { language, title: f.title.clone(), body: f.body.clone(), version })
}

/// `POST /terms-of-use`: publishes the text; the list again, with what it did or why not.
pub(crate) async fn publish(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<PublishFields>,
) -> Response {
    let published = async { console.tenants.terms.publish(&caller.auth.ctx, input_of(&f)?).await }.await;
    let t = caller.lang;
    match published {
        Ok(text) => {
            let version = text.version.to_string();
            let key = if f.version.trim().is_empty() { "terms-admin-published" } else { "terms-admin-translated" };
            let notice = t.args(key, &[("version", &version), ("language", text.language.tag())]);
            let fresh = PublishFields { language: f.language, ..PublishFields::default() };
            page(&console, &caller, fresh, Some(notice), FieldErrors::default(), StatusCode::CREATED).await
        }
        Err(err) if err.is_user_error() => {
            let errors = FieldErrors::of(&err, t);
            page(&console, &caller, f, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}
