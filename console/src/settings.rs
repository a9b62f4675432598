//! The organisation's settings (issue 15, screen 5): client categories and groups (create,
//! delete) and custom fields (create, order, deactivate, reactivate), through the same services as the
//! API's settings mutations; everyone sees them, only those who may manage settings get the
//! controls.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, CategoryId, CustomFieldId, FieldType, GroupId, Permission};
use clientele_records::clients::{Category, CategoryInput, CustomFieldDef, CustomFieldInput, Group};
use serde::Deserialize;

use crate::session::Signed;
use crate::view::{self, Base, FieldErrors, redirect};
use crate::{Console, Lang};

/// The field types the form offers (choice lists are defined through the API).
const FORM_TYPES: [FieldType; 6] =
    [FieldType::Text, FieldType::LongText, FieldType::Integer, FieldType::Decimal, FieldType::Boolean, FieldType::Date];

/// A custom field as listed.
pub(crate) struct FieldRow {
    id: String,
    label: String,
    key: String,
    kind: String,
    required: bool,
    active: bool,
    /// Another field of its record type comes before it (it can move up), after it (down).
    earlier: bool,
    later: bool,
}

impl FieldRow {
    /// The rows of `defs` (in display order), each knowing whether it can move.
    fn all(defs: &[CustomFieldDef], t: Lang) -> Vec<Self> {
        let of_entity = |i: usize| defs.iter().enumerate().filter(move |(j, d)| *j != i && d.entity == defs[i].entity);
        (0..defs.len())
            .map(|i| Self {
                earlier: of_entity(i).any(|(j, _)| j < i),
                later: of_entity(i).any(|(j, _)| j > i),
                ..Self::of(&defs[i], t)
            })
            .collect()
    }

    fn of(d: &CustomFieldDef, t: Lang) -> Self {
        Self {
            id: d.id.to_string(),
            label: d.label.clone(),
            key: d.key.clone(),
            kind: t.s(&format!("type-{}", <&str>::from(d.kind))),
            required: d.required,
            active: d.active,
            earlier: false,
            later: false,
        }
    }
}

/// Which form was sent, and what it held: shown again with its messages after a refusal.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct SettingsFields {
    name: String,
    description: String,
    label: String,
    key: String,
    kind: String,
    required: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    base: Base,
    can_manage: bool,
    categories: Vec<Category>,
    groups: Vec<Group>,
    fields: Vec<FieldRow>,
    types: Vec<(&'static str, String)>,
    /// The form of the last refusal (`category`, `group`, `field`), its values and messages.
    form: &'static str,
    f: SettingsFields,
    errors: FieldErrors,
}

impl SettingsPage {
    /// The message for `field` of form `form`, when that form was the one refused.
    fn error(&self, form: &str, field: &str) -> Option<&str> {
        (self.form == form).then(|| self.errors.get(field)).flatten()
    }

    /// The value to show in `form`'s `field`: what was sent when that form was refused.
    fn value(&self, form: &str, field: &str) -> &str {
        if self.form != form {
            return "";
        }
        match field {
            "name" => &self.f.name,
            "description" => &self.f.description,
            "label" => &self.f.label,
            "key" => &self.f.key,
            _ => "",
        }
    }
}

async fn page(
    console: &Console,
    caller: &Signed,
    form: &'static str,
    f: SettingsFields,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let ctx = &caller.auth.ctx;
    let records = &console.records;
    let read = async {
        let categories = records.categories.categories(ctx).await?;
        let groups = records.categories.groups(ctx).await?;
        let fields = records.custom_fields.list(ctx).await?;
        Ok::<_, AppError>((categories, groups, fields))
    }
    .await;
    let (categories, groups, fields) = match read {
        Ok(read) => read,
        Err(err) => return view::failed(console, caller, &err),
    };
    let t = caller.lang;
    let page = SettingsPage {
        base: Base::of(console, caller, "/settings"),
        can_manage: ctx.can(Permission::ManageSettings),
        categories,
        groups,
        fields: FieldRow::all(&fields, t),
        types: FORM_TYPES.iter().map(|k| (<&str>::from(*k), t.s(&format!("type-{}", <&str>::from(*k))))).collect(),
        form,
        f,
        errors,
    };
    view::html(status, &page)
}

/// `GET /settings`.
pub(crate) async fn show(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    page(&console, &caller, "", SettingsFields::default(), FieldErrors::default(), StatusCode::OK).await
}

fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// After a change: back to the list, or the refused form with its messages.
async fn done<T>(
    console: &Console,
    caller: &Signed,
    form: &'static str,
    f: SettingsFields,
    result: Result<T, AppError>,
) -> Response {
    match result {
        Ok(_) => redirect("/settings", caller.htmx),
        Err(err) if err.is_user_error() => {
            let errors = FieldErrors::of(&err, caller.lang);
            page(console, caller, form, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => view::failed(console, caller, &err),
    }
}

/// `POST /settings/categories`.
pub(crate) async fn create_category(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<SettingsFields>,
) -> Response {
    let input = CategoryInput {
        name: Some(f.name.trim().to_owned()),
        description: Some(text(&f.description)),
        ..CategoryInput::default()
    };
    let result = console.records.categories.save_category(&caller.auth.ctx, None, input).await;
    done(&console, &caller, "category", f, result).await
}

/// `POST /settings/groups`.
pub(crate) async fn create_group(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<SettingsFields>,
) -> Response {
    let name = Some(f.name.trim().to_owned());
    let result = console.records.categories.save_group(&caller.auth.ctx, None, name, Some(text(&f.description))).await;
    done(&console, &caller, "group", f, result).await
}

/// `POST /settings/fields`.
pub(crate) async fn create_field(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<SettingsFields>,
) -> Response {
    let result = async {
        let kind = f.kind.parse::<FieldType>().map_err(|_| AppError::invalid("kind", "Choose a type."))?;
        let input = CustomFieldInput {
            key: Some(f.key.clone()),
            label: Some(f.label.clone()),
            kind: Some(kind),
            required: Some(f.required == "1"),
            ..CustomFieldInput::default()
        };
        console.records.custom_fields.create(&caller.auth.ctx, input).await
    }
    .await;
    done(&console, &caller, "field", f, result).await
}

fn parse<T>(raw: &str, make: fn(uuid::Uuid) -> T) -> Result<T, AppError> {
    raw.parse::<uuid::Uuid>().map(make).map_err(|_| AppError::not_found())
}

/// `POST /settings/categories/{id}/delete`.
pub(crate) async fn delete_category(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
) -> Response {
    let result = async { console.records.categories.delete_category(&caller.auth.ctx, parse(&id, CategoryId)?).await };
    done(&console, &caller, "", SettingsFields::default(), result.await).await
}

/// `POST /settings/groups/{id}/delete`.
pub(crate) async fn delete_group(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
) -> Response {
    let result = async { console.records.categories.delete_group(&caller.auth.ctx, parse(&id, GroupId)?).await };
    done(&console, &caller, "", SettingsFields::default(), result.await).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActiveForm {
    /// `1` reactivates, anything else deactivates.
    active: String,
}

/// `POST /settings/fields/{id}/active`: deactivates or reactivates a custom field.
pub(crate) async fn set_field_active(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActiveForm>,
) -> Response {
    let result = async {
        let input = CustomFieldInput { active: Some(form.active == "1"), ..CustomFieldInput::default() };
        console.records.custom_fields.update(&caller.auth.ctx, parse(&id, CustomFieldId)?, input).await
    };
    done(&console, &caller, "", SettingsFields::default(), result.await).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MoveForm {
    /// `up` or `down`.
    to: String,
}

/// `POST /settings/fields/{id}/move`: one place earlier or later among its record type's fields.
pub(crate) async fn move_field(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<MoveForm>,
) -> Response {
    let result = async {
        let earlier = match form.to.as_str() {
            "up" => true,
            "down" => false,
            _ => return Err(AppError::invalid("to", "Choose up or down.")),
        };
        console.records.custom_fields.step(&caller.auth.ctx, parse(&id, CustomFieldId)?, earlier).await
    };
    done(&console, &caller, "", SettingsFields::default(), result.await).await
}
