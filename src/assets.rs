//! Browser assets compiled into the binary (listed once, in `assets/embed.json`; embedded by
//! `build.rs`): served under content-hashed names at `/assets/<name>.<hash>.<ext>`, cached by
//! browsers for a year (`immutable`), so a new build's files never meet an old build's cache.
//! `/graphiql` is built from them, and the web console (`clientele-console`) links to its own.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The name `embed.json` gives it (`graphiql.js`).
    pub name: &'static str,
    /// The name it is served under, with the hash of its content (`graphiql.0123abcd.js`).
    pub file: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded asset `embed.json` calls `name` (`licences.txt` is always there).
pub fn named(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The path an asset is served at, relative to the server's root (`assets/graphiql.0123abcd.js`).
pub fn href(name: &str) -> String {
    named(name).map_or_else(String::new, |a| format!("assets/{}", a.file))
}

/// The files a console page links to, by absolute path (console pages live at any depth).
pub fn console() -> clientele_console::Assets {
    let at = |name: &str| format!("/{}", href(name));
    clientele_console::Assets {
        htmx: at("htmx.js"),
        css: at("pico.css"),
        console_css: at("console.css"),
        console_js: at("console.js"),
    }
}

/// `GET /assets/{file}`: an embedded file by its hashed name.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.file == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    (headers, asset.bytes).into_response()
}

/// Nothing but this server's own files: no CDN, no inline script, no frames, no forms.
const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static GRAPHIQL_PAGE: LazyLock<String> = LazyLock::new(|| {
    let mut page = include_str!("../assets/graphiql/index.html").to_owned();
    for asset in ASSETS {
        page = page.replace(&format!("{{{{{}}}}}", asset.name), &href(asset.name));
    }
    page
});

/// `GET /graphiql`: GraphiQL, entirely from the binary (see `assets/graphiql/page.js` for how
/// it signs in).
pub async fn graphiql() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(GRAPHIQL_CSP)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (headers, GRAPHIQL_PAGE.as_str()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 14
    #[test]
    fn the_page_names_only_embedded_files() {
        assert!(!GRAPHIQL_PAGE.contains("{{"), "every placeholder is an embedded asset");
        assert!(!GRAPHIQL_PAGE.contains("http"), "no other origin");
        for asset in ASSETS {
            assert!(asset.file.starts_with(asset.name.rsplit_once('.').map_or("", |(stem, _)| stem)));
            assert!(!asset.bytes.is_empty(), "{}", asset.name);
        }
        assert!(named("licences.txt").is_some_and(|l| std::str::from_utf8(l.bytes).is_ok_and(|t| t.contains("MIT"))));
    }
}
