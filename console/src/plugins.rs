//! The supplier's plugins (issue 16, screen 6), for a supplier's super-admins and admins: the
//! plugins it uploaded, a new version's upload (each refusal shown on its own: a forbidden
//! import, a manifest problem, a name that clashes, with the manifest field it comes from), and
//! each plugin's page: its versions, the organisations running it with their version and the
//! breaker's state and recent failures, enabling it for chosen organisations with their config
//! (a form made of the manifest's config fields), upgrading every organisation to a version,
//! disabling it in one organisation or in all at once (kill switch). Same registry as the API's
//! plugin mutations.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::page::PageRequest;
use clientele_kernel::{AppError, AppResult, PluginId, TenantId};
use clientele_plugins::breaker::State as BreakerState;
use clientele_plugins::registry::{Installation, PluginSummary};
use clientele_tenants::customers::CustomerFilter;
use serde::Deserialize;

use crate::clients::opt;
use crate::organisations::{parse_org, require_customers};
use crate::plugin_tabs::{Field, data_of, field};
use crate::session::Signed;
use crate::view::{self, Base, FieldErrors};
use crate::{Console, Lang};

/// Organisations offered at once in the enable form (a search narrows them).
const OFFERED: i64 = 50;

/// One plugin in the list.
pub(crate) struct PluginRow {
    id: String,
    name: String,
    newest: String,
    description: String,
    versions: usize,
}

#[derive(Template)]
#[template(path = "plugins.html")]
struct ListPage {
    base: Base,
    rows: Vec<PluginRow>,
    notice: Option<String>,
    errors: FieldErrors,
}

/// One uploaded version.
pub(crate) struct VersionRow {
    version: String,
    uploaded: String,
    sha256: String,
}

/// A recent failure of the plugin in one organisation.
pub(crate) struct FailureRow {
    at: String,
    call: String,
    reason: String,
    detail: String,
}

/// The plugin in one organisation.
pub(crate) struct InstallRow {
    org: String,
    name: String,
    version: String,
    enabled: bool,
    /// `closed`, `open` or `half_open`.
    breaker: &'static str,
    failures: Vec<FailureRow>,
}

/// An organisation the enable form offers.
pub(crate) struct Offered {
    id: String,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "plugin.html")]
struct PluginPage {
    base: Base,
    id: String,
    name: String,
    description: String,
    versions: Vec<VersionRow>,
    installs: Vec<InstallRow>,
    offered: Vec<Offered>,
    /// More organisations match than are offered.
    more: bool,
    q: String,
    /// The config form, from the chosen version's manifest.
    config: Vec<Field>,
    /// The version the enable form sends (empty: the newest).
    chosen: String,
    notice: Option<String>,
    errors: FieldErrors,
    /// The form the errors are about: `enable`, `upgrade` or `disable`.
    failed: &'static str,
}

impl PluginPage {
    fn error(&self, form: &str, field: &str) -> Option<&str> {
        if self.failed == form { self.errors.get(field) } else { None }
    }

    fn general(&self, form: &str) -> Option<&str> {
        if self.failed == form { self.errors.general.as_deref() } else { None }
    }
}

/// The supplier's plugin `id` with its versions, newest first.
async fn summary(console: &Console, caller: &Signed, id: PluginId) -> AppResult<PluginSummary> {
    let plugins = console.plugins.registry.list(&caller.auth.ctx).await?;
    plugins.into_iter().find(|p| p.id == id).ok_or_else(AppError::not_found)
}

fn parse_plugin(raw: &str) -> AppResult<PluginId> {
    raw.parse::<uuid::Uuid>().map(PluginId).map_err(|_| AppError::not_found())
}

async fn list_page(
    console: &Console,
    caller: &Signed,
    notice: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let listed = async {
        require_customers(caller)?;
        console.plugins.registry.list(&caller.auth.ctx).await
    }
    .await;
    let plugins = match listed {
        Ok(plugins) => plugins,
        Err(err) => return view::failed(console, caller, &err),
    };
    let row = |p: PluginSummary| {
        let newest = p.versions.first();
        PluginRow {
            id: p.id.to_string(),
            newest: newest.map(|v| v.version.clone()).unwrap_or_default(),
            description: newest.map(|v| v.manifest.description.clone()).unwrap_or_default(),
            versions: p.versions.len(),
            name: p.name,
        }
    };
    let page = ListPage {
        base: Base::of(console, caller, "/plugins"),
        rows: plugins.into_iter().map(row).collect(),
        notice,
        errors,
    };
    view::html(status, &page)
}

/// `GET /plugins`.
pub(crate) async fn list(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    list_page(&console, &caller, None, FieldErrors::default(), StatusCode::OK).await
}

/// `POST /plugins` (multipart, its CSRF token in the query): checks and stores a new version;
/// its plugin's page, or the list with every refusal.
pub(crate) async fn upload(State(console): State<Arc<Console>>, caller: Signed, request: Request) -> Response {
    let uploaded = async {
        require_customers(&caller)?;
        let parts = view::multipart(request, "component").await?;
        let (_, bytes) = view::file_part(parts, "component", "Choose a .wasm component.")?;
        let check = |manifest: &_, others: &_| console.door.check_plugin_names(manifest, others);
        console.plugins.registry.upload(&caller.auth.ctx, bytes, check).await
    }
    .await;
    let t = caller.lang;
    match uploaded {
        Ok(v) => {
            let notice = t.args("plugins-uploaded", &[("name", &v.name), ("version", &v.version)]);
            let shown = Shown { notice: Some(notice), status: StatusCode::CREATED, ..Shown::default() };
            plugin_page(&console, &caller, v.plugin, PageQuery::default(), shown).await
        }
        Err(err) if err.is_user_error() => {
            list_page(&console, &caller, None, FieldErrors::of(&err, t), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// The plugin page's query: a search among the organisations, the version to enable.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct PageQuery {
    q: String,
    version: String,
}

/// What a plugin page shows besides the plugin: a notice, or a refused form as it was sent.
struct Shown {
    notice: Option<String>,
    errors: FieldErrors,
    failed: &'static str,
    form: Vec<(String, String)>,
    status: StatusCode,
}

impl Default for Shown {
    fn default() -> Self {
        Self { notice: None, errors: FieldErrors::default(), failed: "", form: Vec::new(), status: StatusCode::OK }
    }
}

/// A breaker's state as its key (`plugins-breaker-<state>`).
pub(crate) fn breaker_state(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
    }
}

fn install_row(i: Installation, names: &[(TenantId, String)], t: Lang) -> InstallRow {
    let name = names.iter().find(|(id, _)| *id == i.customer).map(|(_, n)| n.clone()).unwrap_or_default();
    InstallRow {
        org: i.customer.to_string(),
        name,
        version: i.installed.version,
        enabled: i.installed.enabled,
        breaker: breaker_state(i.breaker.state),
        failures: i
            .breaker
            .failures
            .into_iter()
            .rev()
            .map(|f| FailureRow { at: t.date_time(f.at), call: f.call, reason: f.reason, detail: f.detail })
            .collect(),
    }
}

async fn plugin_page(console: &Console, caller: &Signed, id: PluginId, q: PageQuery, shown: Shown) -> Response {
    let ctx = &caller.auth.ctx;
    let loaded = async {
        require_customers(caller)?;
        let registry = &console.plugins.registry;
        let plugin = summary(console, caller, id).await?;
        let installs = registry.installations(ctx, id).await?;
        let ids: Vec<TenantId> = installs.iter().map(|i| i.customer).collect();
        let names = console.tenants.customers.names(ctx, &ids).await?;
        let filter = CustomerFilter { query: opt(&q.q), ..CustomerFilter::default() };
        let offered = console.tenants.customers.list(ctx, &filter, PageRequest::new(Some(OFFERED), None, None, None)?);
        Ok::<_, AppError>((plugin, installs, names, offered.await?))
    }
    .await;
    let (plugin, installs, names, offered) = match loaded {
        Ok(found) => found,
        Err(err) => return view::failed(console, caller, &err),
    };
    let t = caller.lang;
    let sent = |name: &str| shown.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let chosen = sent("version").unwrap_or(q.version.clone());
    let manifest =
        plugin.versions.iter().find(|v| v.version == chosen).or(plugin.versions.first()).map(|v| &v.manifest);
    let config = manifest
        .into_iter()
        .flat_map(clientele_plugins::Manifest::config_fields)
        .map(|f| {
            let error = (shown.failed == "enable").then(|| shown.errors.get(&format!("config.{}", f.name))).flatten();
            field(f, sent(&f.name).unwrap_or_default(), error.map(str::to_owned))
        })
        .collect();
    let checked: Vec<String> = shown.form.iter().filter(|(k, _)| k == "organisation").map(|(_, v)| v.clone()).collect();
    let page = PluginPage {
        base: Base::of(console, caller, &format!("/plugins/{id}")),
        id: id.to_string(),
        description: plugin.versions.first().map(|v| v.manifest.description.clone()).unwrap_or_default(),
        versions: plugin
            .versions
            .iter()
            .map(|v| VersionRow {
                version: v.version.clone(),
                uploaded: t.date_time(v.created_at),
                sha256: v.sha256.chars().take(12).collect(),
            })
            .collect(),
        installs: installs.into_iter().map(|i| install_row(i, &names, t)).collect(),
        offered: offered
            .items
            .iter()
            .map(|o| {
                let id = o.row.id.to_string();
                Offered { checked: checked.contains(&id), name: o.row.name.clone(), id }
            })
            .collect(),
        more: offered.has_next_page,
        q: q.q,
        config,
        chosen,
        name: plugin.name,
        notice: shown.notice,
        errors: shown.errors,
        failed: shown.failed,
    };
    view::html(shown.status, &page)
}

/// `GET /plugins/{id}`.
pub(crate) async fn show(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    match parse_plugin(&id) {
        Ok(id) => plugin_page(&console, &caller, id, q, Shown::default()).await,
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// The plugin page after one of its forms: what it did, or the form as sent with its errors.
async fn after(
    console: &Console,
    caller: &Signed,
    id: PluginId,
    form: (&'static str, Vec<(String, String)>),
    done: AppResult<String>,
) -> Response {
    let (failed, form) = form;
    let shown = match done {
        Ok(notice) => Shown { notice: Some(notice), ..Shown::default() },
        Err(err) if err.is_user_error() => Shown {
            errors: FieldErrors::of(&err, caller.lang),
            failed,
            form,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            ..Shown::default()
        },
        Err(err) => return view::failed(console, caller, &err),
    };
    plugin_page(console, caller, id, PageQuery::default(), shown).await
}

fn organisations(form: &[(String, String)]) -> AppResult<Vec<TenantId>> {
    form.iter().filter(|(k, _)| k == "organisation").map(|(_, v)| parse_org(v)).collect()
}

fn version_of(form: &[(String, String)]) -> Option<String> {
    form.iter().find(|(k, _)| k == "version").and_then(|(_, v)| opt(v))
}

/// `POST /plugins/{id}/enable`: the plugin, at the chosen version (or its newest), in the
/// organisations ticked, with the config its manifest's fields describe.
pub(crate) async fn enable(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Ok(plugin) = parse_plugin(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let ctx = &caller.auth.ctx;
    let done = async {
        require_customers(&caller)?;
        let registry = &console.plugins.registry;
        let wanted = version_of(&form);
        let found = summary(&console, &caller, plugin).await?;
        let version = match &wanted {
            Some(v) => found.versions.iter().find(|x| &x.version == v),
            None => found.versions.first(),
        };
        let version = version.ok_or_else(|| AppError::invalid("version", "Choose a version of this plugin."))?;
        let config = data_of(version.manifest.config_fields(), &form);
        let orgs = organisations(&form)?;
        if orgs.is_empty() {
            return Err(AppError::invalid("organisation", "Tick at least one organisation."));
        }
        let done = registry.enable(ctx, plugin, Some(version.version.as_str()), &orgs, Some(config)).await?;
        let count = done.len().to_string();
        Ok(caller.lang.args("plugins-enabled", &[("version", &version.version), ("count", &count)]))
    }
    .await;
    after(&console, &caller, plugin, ("enable", form), done).await
}

/// `POST /plugins/{id}/upgrade`: every organisation running the plugin moves to the version.
pub(crate) async fn upgrade(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Ok(plugin) = parse_plugin(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let done = async {
        require_customers(&caller)?;
        let version = version_of(&form).ok_or_else(|| AppError::invalid("version", "Choose a version."))?;
        let moved = console.plugins.registry.upgrade(&caller.auth.ctx, plugin, &version).await?;
        let count = moved.len().to_string();
        Ok(caller.lang.args("plugins-upgraded", &[("version", &version), ("count", &count)]))
    }
    .await;
    after(&console, &caller, plugin, ("upgrade", form), done).await
}

/// `POST /plugins/{id}/disable`: in one organisation (`organisation`), or in all of them at
/// once (`all=1`, the kill switch, with `confirm=1`). Records stay, hidden.
pub(crate) async fn disable(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Ok(plugin) = parse_plugin(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let sent = |name: &str| form.iter().any(|(k, v)| k == name && v == "1");
    let done = async {
        require_customers(&caller)?;
        let orgs = organisations(&form)?;
        let all = sent("all");
        if all && !sent("confirm") {
            return Err(AppError::invalid("confirm", "Tick the box to confirm."));
        }
        if !all && orgs.is_empty() {
            return Err(AppError::invalid("organisation", "Name the organisation."));
        }
        let which = (!all).then_some(orgs.as_slice());
        let done = console.plugins.registry.disable(&caller.auth.ctx, plugin, which).await?;
        let count = done.len().to_string();
        Ok(caller.lang.arg(if all { "plugins-killed" } else { "plugins-disabled" }, "count", &count))
    }
    .await;
    after(&console, &caller, plugin, ("disable", form), done).await
}
