//! The audit trail (issue 16, item 7), for super-admins and admins: who did what, when, on which
//! record, each changed field before → after, a supplier's direct login shown apart; filters
//! (actor, action, entity, period) as a GET form, keyset pages both ways, and the filtered
//! trail as a streamed CSV. Same service as the API's `auditEntries`.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clientele_kernel::audit::trail::{AuditActor, AuditFilter, AuditRecord};
use clientele_kernel::page::{PageRequest, encode_cursor};
use clientele_kernel::{AppError, AppResult, Permission, TenantCtx, UserId};
use serde::Deserialize;

use crate::session::Signed;
use crate::view::{self, Base, FieldErrors};
use crate::{Console, Lang};

/// Entries per page, and per chunk of the CSV.
const PAGE: i64 = 50;
const CSV_CHUNK: u64 = 100;

/// The filters and the page, as the GET form sends them.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct AuditQuery {
    actor: String,
    action: String,
    entity_type: String,
    entity_id: String,
    /// `YYYY-MM-DD`, inclusive.
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    to: String,
    after: String,
    before: String,
}

fn day(field: &'static str, raw: &str) -> AppResult<Option<DateTime<Utc>>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, "Enter a date as YYYY-MM-DD."))?;
    Ok(Some(date.and_time(NaiveTime::MIN).and_utc()))
}

impl AuditQuery {
    fn filter(&self) -> AppResult<AuditFilter> {
        let actor = self.actor.trim();
        let actor = if actor.is_empty() {
            None
        } else {
            Some(actor.parse::<UserId>().map_err(|_| AppError::invalid("actor", "Choose a user from the list."))?)
        };
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(AuditFilter {
            actor,
            action: text(&self.action),
            entity_type: text(&self.entity_type),
            entity_id: text(&self.entity_id),
            from: day("from", &self.from)?,
            // The whole last day: entries before the next midnight.
            to: day("to", &self.to)?.map(|d| d + chrono::Duration::days(1)),
        })
    }

    /// The filters as a query string (without the page), for the pager and the export.
    fn filters(&self) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("entity_type", &self.entity_type),
            ("entity_id", &self.entity_id),
            ("from", &self.from),
            ("to", &self.to),
        ];
        serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.trim().is_empty()).collect::<Vec<_>>())
            .unwrap_or_default()
    }
}

/// The action in words when the console has them, else as stored.
fn action_words(t: Lang, action: &str) -> String {
    let key = format!("audit-action-{}", action.replace(['.', '_'], "-"));
    let words = t.s(&key);
    if words == key { action.to_owned() } else { words }
}

/// A stored value as people read it: text without quotes, nothing for null.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn actor_text(t: Lang, actor: &AuditActor) -> String {
    match actor {
        AuditActor::User(p) if !p.display_name.is_empty() => p.display_name.clone(),
        AuditActor::User(p) if !p.email.is_empty() => p.email.clone(),
        AuditActor::User(p) => p.id.to_string(),
        AuditActor::ApiToken { name: Some(name), .. } => t.arg("audit-api-token", "name", name),
        AuditActor::ApiToken { id, .. } => t.arg("audit-api-token", "name", &id.to_string()),
        AuditActor::System => t.s("audit-system"),
    }
}

/// One changed field of a row.
pub(crate) struct ChangeRow {
    field: String,
    before: String,
    after: String,
}

/// One row of the table.
pub(crate) struct EntryRow {
    when: String,
    who: String,
    who_email: String,
    /// "via supplier X: Y", when the supplier acted.
    via: Option<String>,
    reason: Option<String>,
    action: String,
    raw_action: String,
    entity: String,
    /// A link to the client, when the entry is about one.
    link: Option<String>,
    changes: Vec<ChangeRow>,
}

impl EntryRow {
    fn of(t: Lang, e: &AuditRecord) -> Self {
        let via = e.on_behalf_of.as_ref().map(|o| {
            let who = if o.user.display_name.is_empty() { o.user.email.as_str() } else { o.user.display_name.as_str() };
            t.args("audit-via-supplier", &[("supplier", o.supplier_name.as_str()), ("user", who)])
        });
        Self {
            when: t.date_time(e.at),
            who: actor_text(t, &e.actor),
            who_email: match &e.actor {
                AuditActor::User(p) if !p.display_name.is_empty() => p.email.clone(),
                _ => String::new(),
            },
            via,
            reason: e.on_behalf_of.as_ref().and_then(|o| o.reason.clone()),
            action: action_words(t, &e.action),
            raw_action: e.action.clone(),
            entity: format!("{} {}", e.entity_type, e.entity_id),
            link: (e.entity_type == "client").then(|| format!("/clients/{}", e.entity_id)),
            changes: e
                .changes
                .iter()
                .map(|c| ChangeRow {
                    field: c.field.clone(),
                    before: value_text(&c.before),
                    after: value_text(&c.after),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    base: Base,
    rows: Vec<EntryRow>,
    /// `(id, name)` of the organisation's users, for the actor filter.
    users: Vec<(String, String)>,
    q: AuditQuery,
    errors: FieldErrors,
    total: u64,
    newer: Option<String>,
    older: Option<String>,
    export: String,
}

impl AuditPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

async fn users(console: &Console, ctx: &TenantCtx) -> AppResult<Vec<(String, String)>> {
    let page = console.tenants.users.list(ctx, PageRequest::first(100)).await?;
    Ok(page.items.into_iter().map(|u| (u.id.to_string(), format!("{} ({})", u.display_name, u.email))).collect())
}

/// `GET /audit`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let ctx = &caller.auth.ctx;
    if let Err(err) = ctx.require(Permission::ViewUsers) {
        return view::failed(&console, &caller, &err);
    }
    let t = caller.lang;
    let cursor = |raw: &str| Some(raw.to_owned()).filter(|c| !c.is_empty());
    let listed = async {
        let filter = q.filter()?;
        let request = if q.before.is_empty() {
            PageRequest::new(Some(PAGE), cursor(&q.after), None, None)?
        } else {
            PageRequest::new(None, None, Some(PAGE), cursor(&q.before))?
        };
        console.tenants.audit.list(ctx, &filter, request).await
    }
    .await;
    let (page, errors) = match listed {
        Ok(page) => (Some(page), FieldErrors::default()),
        Err(err) if err.code() == clientele_kernel::ErrorCode::Validation => (None, FieldErrors::of(&err, t)),
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let users = match users(&console, ctx).await {
        Ok(users) => users,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let filters = q.filters();
    let with = |key: &str, cursor: String| {
        if filters.is_empty() { format!("/audit?{key}={cursor}") } else { format!("/audit?{filters}&{key}={cursor}") }
    };
    let (rows, total, newer, older) = match page {
        Some(page) => {
            let first = page.items.first().map(|e| encode_cursor(e.id.0));
            let last = page.items.last().map(|e| encode_cursor(e.id.0));
            let newer = first.filter(|_| page.has_previous_page).map(|c| with("before", c));
            let older = last.filter(|_| page.has_next_page).map(|c| with("after", c));
            (page.items.iter().map(|e| EntryRow::of(t, e)).collect(), page.total_count, newer, older)
        }
        None => (Vec::new(), 0, None, None),
    };
    let status = if errors.fields.is_empty() && errors.general.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AuditPage {
        base: Base::of(&console, &caller, "/audit"),
        rows,
        users,
        export: if filters.is_empty() {
            "/audit/export.csv".to_owned()
        } else {
            format!("/audit/export.csv?{filters}")
        },
        q,
        errors,
        total,
        newer,
        older,
    };
    view::html(status, &page)
}

fn csv_line(out: &mut Vec<u8>, cells: &[String]) {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            // A leading formula character is neutralised, so a spreadsheet never runs a cell.
            let c = if c.starts_with(['=', '+', '-', '@']) { format!("'{c}") } else { c.clone() };
            format!("\"{}\"", c.replace('"', "\"\""))
        })
        .collect();
    out.extend_from_slice(quoted.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn csv_rows(t: Lang, entries: &[AuditRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let row = EntryRow::of(t, e);
        let changes: Vec<String> =
            row.changes.iter().map(|c| format!("{}: {} → {}", c.field, c.before, c.after)).collect();
        let cells = [
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            row.who,
            row.who_email,
            row.via.unwrap_or_default(),
            row.reason.unwrap_or_default(),
            row.raw_action,
            e.entity_type.clone(),
            e.entity_id.clone(),
            changes.join("; "),
        ];
        csv_line(&mut out, &cells);
    }
    out
}

/// Where the CSV stream is: the next page's cursor, or the header still to send.
struct CsvCursor {
    console: Arc<Console>,
    ctx: TenantCtx,
    filter: AuditFilter,
    next: Option<uuid::Uuid>,
    header: Option<Vec<u8>>,
    t: Lang,
}

/// `GET /audit/export.csv`: the filtered trail, newest first, a page at a time.
pub(crate) async fn export_csv(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    use futures_util::StreamExt as _;

    let q = query.map(|Query(q)| q).unwrap_or_default();
    let t = caller.lang;
    let ctx = caller.auth.ctx.clone();
    let filter = match ctx.require(Permission::ViewUsers).and_then(|()| q.filter()) {
        Ok(filter) => filter,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    // The first page before answering: a refusal is a page, not a broken download.
    let first = match console.tenants.audit.list(&ctx, &filter, PageRequest::first(CSV_CHUNK)).await {
        Ok(page) => page,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let mut header = "\u{feff}".as_bytes().to_vec();
    let titles = [
        "audit-when",
        "audit-who",
        "field-email",
        "audit-via",
        "audit-reason",
        "audit-action",
        "audit-entity-type",
        "audit-entity-id",
        "audit-changes",
    ];
    csv_line(&mut header, &titles.map(|k| t.s(k)));
    header.extend(csv_rows(t, &first.items));

    let next = first.items.last().map(|e| e.id.0).filter(|_| first.has_next_page);
    let state = CsvCursor { console: console.clone(), ctx, filter, next, header: Some(header), t };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        if let Some(header) = s.header.take() {
            return Some((Ok(header), s));
        }
        let cursor = s.next.take()?;
        let request = PageRequest { size: CSV_CHUNK, cursor: Some(cursor), backward: false };
        match s.console.tenants.audit.list(&s.ctx, &s.filter, request).await {
            Ok(page) => {
                s.next = page.items.last().map(|e| e.id.0).filter(|_| page.has_next_page);
                Some((Ok(csv_rows(s.t, &page.items)), s))
            }
            Err(err) => {
                tracing::error!(error = %err, "audit CSV export failed mid-way");
                Some((Err(std::io::Error::other("export failed")), s))
            }
        }
    })
    .boxed();
    let mut response = Response::new(axum::body::Body::from_stream(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        let mut out = Vec::new();
        csv_line(&mut out, &["a \"b\"".into(), "=1+1".into()]);
        assert_eq!(String::from_utf8(out).ok().as_deref(), Some("\"a \"\"b\"\"\",\"'=1+1\"\r\n"));
    }

    #[test]
    fn the_last_day_of_the_period_is_included() {
        let q = AuditQuery { from: "2026-01-02".into(), to: "2026-01-02".into(), ..AuditQuery::default() };
        let f = q.filter().ok();
        let span = f.and_then(|f| Some(f.to? - f.from?));
        assert_eq!(span, Some(chrono::Duration::days(1)));
        let bad = AuditQuery { from: "02/01/2026".into(), ..AuditQuery::default() };
        assert!(bad.filter().is_err_and(|e| e.field() == Some("from")));
    }
}
