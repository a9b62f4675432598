//! What plugins add to the client page (issue 15, screen 2), generated from their manifests,
//! never written per plugin: each collection of an enabled plugin whose records attach to a
//! client is a tab (its records in a table, a form for a new one built from the field types,
//! delete), and the plugin's client custom fields show in the details tab. Through the same
//! service as the API's plugin fields (`clientele_plugins::PluginRecords`), which checks the
//! data against the manifest and asks the plugin to validate it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, ClientId, FieldType, PluginRecordId};
use clientele_plugins::manifest::{Collection, FieldDef, Parent};
use clientele_plugins::records::{CLIENT_FIELDS, PluginRecord};
use clientele_plugins::registry::Installed;
use clientele_records::clients::Client;
use serde_json::{Map, Value};

use crate::clients::{self, EntryForm, Item, parse_id};
use crate::session::Signed;
use crate::view::{self, FieldErrors, redirect};
use crate::{Console, Lang};

/// A tab a plugin adds: `tab=<plugin>.<collection>` in the client page's address.
pub(crate) struct TabLink {
    pub key: String,
    pub label: String,
}

/// One field of a collection's form and table.
pub(crate) struct Field {
    pub name: String,
    pub label: String,
    pub hint: String,
    /// `text`, `long_text`, `integer`, `decimal`, `boolean`, `date`, `datetime`, `choice`, `reference`.
    pub ty: &'static str,
    pub required: bool,
    pub choices: Vec<String>,
    /// What the form shows (what a refused form sent).
    pub value: String,
    pub error: Option<String>,
}

impl Field {
    /// The id of what describes the input: its message, or its hint.
    pub fn described(&self) -> String {
        match (&self.error, self.hint.is_empty()) {
            (Some(_), _) => format!("plugin-{}-error", self.name),
            (None, false) => format!("plugin-{}-hint", self.name),
            (None, true) => String::new(),
        }
    }
}

/// A record as a table row: its id and a cell per field.
pub(crate) struct Row {
    pub id: String,
    pub cells: Vec<String>,
}

/// A plugin collection's tab.
#[derive(Default)]
pub(crate) struct PluginTab {
    pub key: String,
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
    pub rows: Vec<Row>,
    /// A refusal without a field.
    pub error: Option<String>,
}

/// `birthDate` → `Birth date`: plugin fields have names, not translated labels.
pub(crate) fn label(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn client_collections(plugin: &Installed) -> impl Iterator<Item = &Collection> {
    plugin.manifest.collections.iter().filter(|c| c.parent == Parent::Client)
}

/// The tabs the organisation's enabled plugins add.
pub(crate) fn links(installed: &[Installed]) -> Vec<TabLink> {
    installed
        .iter()
        .flat_map(|p| {
            client_collections(p).map(|c| TabLink { key: format!("{}.{}", p.name, c.name), label: label(&c.plural) })
        })
        .collect()
}

/// The plugin and collection a tab key names, among those enabled.
fn find<'a>(installed: &'a [Installed], key: &str) -> Option<(&'a Installed, &'a Collection)> {
    let (plugin, collection) = key.split_once('.')?;
    let plugin = installed.iter().find(|p| p.name == plugin)?;
    Some((plugin, client_collections(plugin).find(|c| c.name == collection)?))
}

/// A stored value as text for people.
fn shown(value: Option<&Value>, ty: FieldType, t: Lang) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => t.s(if *b { "yes" } else { "no" }),
        Some(Value::String(s)) if ty == FieldType::Date => {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.clone(), |d| t.date(d))
        }
        Some(Value::String(s)) if ty == FieldType::Datetime => chrono::DateTime::parse_from_rfc3339(s)
            .map_or_else(|_| s.clone(), |d| t.date_time(d.with_timezone(&chrono::Utc))),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub(crate) fn field(def: &FieldDef, value: String, error: Option<String>) -> Field {
    Field {
        name: def.name.clone(),
        label: label(&def.name),
        hint: def.description.clone(),
        ty: def.ty.into(),
        required: def.required,
        choices: def.choices.clone(),
        value,
        error,
    }
}

/// The tab `key` for `client`; `None` when no enabled plugin has that collection.
pub(crate) async fn load(
    console: &Console,
    caller: &Signed,
    client: &Client,
    installed: &[Installed],
    key: &str,
    sent: Option<(&[(String, String)], &FieldErrors)>,
) -> Result<Option<PluginTab>, AppError> {
    let Some((plugin, collection)) = find(installed, key) else { return Ok(None) };
    let t = caller.lang;
    let records =
        console.plugins.records.by_parents(&caller.auth.ctx, plugin, &collection.name, &[client.id.0]).await?;
    let rows = records
        .iter()
        .map(|r: &PluginRecord| Row {
            id: r.id.to_string(),
            cells: collection.fields.iter().map(|f| shown(r.data.get(&f.name), f.ty, t)).collect(),
        })
        .collect();
    let value = |name: &str| {
        sent.and_then(|(form, _)| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap_or_default()
    };
    let error = |name: &str| sent.and_then(|(_, errors)| errors.get(name).map(str::to_owned));
    Ok(Some(PluginTab {
        key: key.to_owned(),
        title: label(&collection.plural),
        description: collection.description.clone(),
        fields: collection.fields.iter().map(|f| field(f, value(&f.name), error(&f.name))).collect(),
        rows,
        error: sent.and_then(|(_, errors)| errors.general.clone()),
    }))
}

/// The plugins' client custom fields, as details items.
pub(crate) async fn details(
    console: &Console,
    caller: &Signed,
    client: &Client,
    installed: &[Installed],
) -> Result<Vec<Item>, AppError> {
    let mut items = Vec::new();
    for plugin in installed {
        let defs: Vec<&FieldDef> = plugin.manifest.client_fields().collect();
        if defs.is_empty() {
            continue;
        }
        let stored =
            console.plugins.records.by_parents(&caller.auth.ctx, plugin, CLIENT_FIELDS, &[client.id.0]).await?;
        let Some(record) = stored.first() else { continue };
        for def in defs {
            let value = shown(record.data.get(&def.name), def.ty, caller.lang);
            if !value.is_empty() {
                items.push(Item::new(label(&def.name), value));
            }
        }
    }
    Ok(items)
}

/// The form's text as the JSON a field takes; an unparsable number goes as text, for the
/// manifest check to name the problem. `None`: left empty.
fn json_of(def: &FieldDef, raw: Option<&str>) -> Option<Value> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if def.ty == FieldType::Boolean {
        return Some(Value::Bool(raw == "1"));
    }
    if raw.is_empty() {
        return None;
    }
    Some(match def.ty {
        FieldType::Integer => raw.parse::<i64>().map_or_else(|_| Value::from(raw), Value::from),
        FieldType::Decimal => Value::from(raw.replace(',', ".")),
        // `datetime-local` sends `2026-12-03T10:30`, in UTC as the console shows times.
        FieldType::Datetime if raw.len() == 16 => Value::from(format!("{raw}:00Z")),
        _ => Value::from(raw),
    })
}

/// The values a form sent for `fields`, as the JSON object they take.
pub(crate) fn data_of<'a>(fields: impl IntoIterator<Item = &'a FieldDef>, form: &[(String, String)]) -> Value {
    let sent = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let data: Map<String, Value> =
        fields.into_iter().filter_map(|f| Some((f.name.clone(), json_of(f, sent(&f.name))?))).collect();
    Value::Object(data)
}

/// The client's page on the tab `key` after a change: htmx gets the tab, a browser a redirect;
/// a user error shows the tab with the form as sent and each message by its field (422).
async fn answer(
    console: &Console,
    caller: &Signed,
    client: &Client,
    installed: &[Installed],
    key: &str,
    form: &[(String, String)],
    result: Result<(), AppError>,
) -> Response {
    let errors = match result {
        Ok(()) if !caller.htmx => return redirect(&format!("/clients/{}?tab={key}", client.id), false),
        Ok(()) => None,
        Err(err) if err.is_user_error() => Some(FieldErrors::of(&err, caller.lang)),
        Err(err) => return view::failed(console, caller, &err),
    };
    let sent = errors.as_ref().map(|e| (form, e));
    let built = async {
        let mut tab = clients::tab(console, caller, client, "details", EntryForm::default()).await?;
        tab.which = "plugin";
        tab.plugin = load(console, caller, client, installed, key, sent).await?.ok_or_else(AppError::not_found)?;
        Ok::<_, AppError>(tab)
    }
    .await;
    let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    match built {
        Ok(tab) => clients::page(console, caller, client, tab, status),
        Err(err) => view::failed(console, caller, &err),
    }
}

/// The client of the path, the enabled plugins and the tab's plugin and collection.
async fn target(
    console: &Console,
    caller: &Signed,
    id: &str,
    key: &str,
) -> Result<(Client, Arc<Vec<Installed>>), AppError> {
    let client: ClientId = parse_id(id)?;
    let client = console.records.clients.get(&caller.auth.ctx, client).await?;
    let installed = console.plugins.registry.enabled(&caller.auth.ctx, caller.auth.config_version).await?;
    find(&installed, key).ok_or_else(AppError::not_found)?;
    Ok((client, installed))
}

/// `POST /clients/{id}/plugins/{tab}`: a new record of the tab's collection for the client.
pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path((id, key)): Path<(String, String)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (client, installed) = match target(&console, &caller, &id, &key).await {
        Ok(found) => found,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let result = async {
        let (plugin, collection) = find(&installed, &key).ok_or_else(AppError::not_found)?;
        let data = data_of(&collection.fields, &form);
        let records = &console.plugins.records;
        records.create(&caller.auth.ctx, plugin, &collection.name, Some(client.id.0), &data).await.map(|_| ())
    }
    .await;
    answer(&console, &caller, &client, &installed, &key, &form, result).await
}

/// `POST /clients/{id}/plugins/{tab}/{record}/delete`: deletes one of the client's records.
pub(crate) async fn delete(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path((id, key, record)): Path<(String, String, String)>,
) -> Response {
    let (client, installed) = match target(&console, &caller, &id, &key).await {
        Ok(found) => found,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let result = async {
        let (plugin, collection) = find(&installed, &key).ok_or_else(AppError::not_found)?;
        let record = record.parse::<uuid::Uuid>().map(PluginRecordId).map_err(|_| AppError::not_found())?;
        let records = &console.plugins.records;
        // Only the client's own: another client's record id is not found here.
        let found = records.get(&caller.auth.ctx, plugin, &collection.name, record).await?;
        if found.client_id != Some(client.id) {
            return Err(AppError::not_found());
        }
        records.delete(&caller.auth.ctx, plugin, &collection.name, record).await.map(|_| ())
    }
    .await;
    answer(&console, &caller, &client, &installed, &key, &[], result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_labels() {
        assert_eq!(label("birthDate"), "Birth date");
        assert_eq!(label("pets"), "Pets");
    }

    #[test]
    fn form_text_becomes_the_field_types_json() {
        let def = |ty| FieldDef::plain("f", ty);
        assert_eq!(json_of(&def(FieldType::Integer), Some("12")), Some(Value::from(12)));
        assert_eq!(json_of(&def(FieldType::Integer), Some("douze")), Some(Value::from("douze")));
        assert_eq!(json_of(&def(FieldType::Decimal), Some("12,50")), Some(Value::from("12.50")));
        assert_eq!(json_of(&def(FieldType::Boolean), None), Some(Value::Bool(false)));
        assert_eq!(
            json_of(&def(FieldType::Datetime), Some("2026-12-03T10:30")),
            Some(Value::from("2026-12-03T10:30:00Z"))
        );
        assert_eq!(json_of(&def(FieldType::Text), Some("  ")), None);
    }
}
