//! Custom fields (CF-01..04): typed definitions per tenant and entity, values validated on
//! every write and stored as JSON on the record. Every change of a definition bumps the
//! tenant's config version, so its GraphQL schema is rebuilt on the next request.

use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr,
    Statement,
};
use serde_json::{Map, Value, json};

use crate::clients::entity::custom_field;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::fields::{FieldType, ValueRules, Wording, check_value};
use clientele_kernel::ids::CustomFieldId;
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

stored_enum!(
    /// Which record type a definition extends.
    CustomEntity { Client, Contact }
);

/// The field types a custom field may have, in the order the schema lists them.
pub const CUSTOM_FIELD_TYPES: &[FieldType] = &[
    FieldType::Text,
    FieldType::LongText,
    FieldType::Integer,
    FieldType::Decimal,
    FieldType::Boolean,
    FieldType::Date,
    FieldType::Choice,
    FieldType::MultiChoice,
];

/// How custom-field values are checked.
const RULES: ValueRules = ValueRules {
    text_max: 255,
    long_text_max: 10_000,
    decimal_digits: None,
    as_written: false,
    wording: Wording::Enter,
};

/// One custom field definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomFieldDef {
    pub id: CustomFieldId,
    pub entity: CustomEntity,
    /// camelCase, becomes the GraphQL field name; never changes.
    pub key: String,
    pub label: String,
    pub kind: FieldType,
    /// Allowed values of choice fields: GraphQL enum names (`LEFT`, `RIGHT`).
    pub choices: Vec<String>,
    pub position: i32,
    pub required: bool,
    pub searchable: bool,
    pub active: bool,
}

impl CustomFieldDef {
    fn from_row(row: custom_field::Model) -> AppResult<Self> {
        let parse_err = |c: &str| AppError::internal(format!("bad stored custom field {c}"));
        Ok(Self {
            id: row.id,
            entity: row.entity.parse().map_err(|_| parse_err("entity"))?,
            kind: row.kind.parse().ok().filter(|k| CUSTOM_FIELD_TYPES.contains(k)).ok_or_else(|| parse_err("kind"))?,
            choices: serde_json::from_value(row.choices).map_err(|_| parse_err("choices"))?,
            key: row.key,
            label: row.label,
            position: row.position,
            required: row.required,
            searchable: row.searchable,
            active: row.active,
        })
    }
}

/// Input of `createCustomField` / `updateCustomField`; on update `None` keeps a value.
#[derive(Clone, Debug, Default)]
pub struct CustomFieldInput {
    pub entity: Option<CustomEntity>,
    pub key: Option<String>,
    pub label: Option<String>,
    pub kind: Option<FieldType>,
    pub choices: Option<Vec<String>>,
    pub position: Option<i32>,
    pub required: Option<bool>,
    pub searchable: Option<bool>,
    pub active: Option<bool>,
}

fn is_graphql_name(value: &str, first_lower: bool) -> bool {
    let mut chars = value.chars();
    chars.next().is_some_and(|c| if first_lower { c.is_ascii_lowercase() } else { c.is_ascii_alphabetic() || c == '_' })
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && value.len() <= 40
}

fn check_definition(def: &CustomFieldDef) -> Vec<AppError> {
    let mut errors = Vec::new();
    if !is_graphql_name(&def.key, true) || def.key.contains('_') {
        errors.push(AppError::invalid("key", "Use camelCase letters and digits, starting with a lower-case letter."));
    }
    let label_len = def.label.trim().chars().count();
    if label_len == 0 || label_len > 100 {
        errors.push(AppError::invalid("label", "Enter a label of 1 to 100 characters."));
    }
    if !CUSTOM_FIELD_TYPES.contains(&def.kind) {
        errors.push(AppError::invalid("kind", format!("Custom fields cannot be of type {}.", def.kind.as_str())));
    }
    let is_choice = def.kind.has_choices();
    if is_choice && def.choices.is_empty() {
        errors.push(AppError::invalid("choices", "A choice field needs at least one value."));
    }
    if !is_choice && !def.choices.is_empty() {
        errors.push(AppError::invalid("choices", "Only choice fields have a list of values."));
    }
    let mut seen = std::collections::HashSet::new();
    if def.choices.iter().any(|c| !is_graphql_name(c, false) || !seen.insert(c.as_str()) || c.len() > 40) {
        errors.push(AppError::invalid(
            "choices",
            "Values are distinct names of letters, digits and underscores (e.g. LEFT).",
        ));
    }
    errors
}

/// Checks `patch` against the definitions and merges it into `current`. `creating` enforces
/// required fields that the patch leaves empty.
pub fn merge_values(
    defs: &[CustomFieldDef],
    current: &Map<String, Value>,
    patch: Option<&Map<String, Value>>,
    creating: bool,
) -> Result<Map<String, Value>, Vec<AppError>> {
    let mut merged = current.clone();
    let mut errors = Vec::new();
    for (key, value) in patch.into_iter().flatten() {
        let field = format!("custom_fields.{key}");
        let Some(def) = defs.iter().find(|d| &d.key == key && d.active) else {
            errors.push(AppError::invalid(&field, "There is no such custom field."));
            continue;
        };
        match check_value(def.kind, &def.choices, value, &RULES) {
            Ok(Value::Null) => {
                merged.remove(key);
            }
            Ok(value) => {
                merged.insert(key.clone(), value);
            }
            Err(message) => errors.push(AppError::invalid(&field, message)),
        }
    }
    let touched = |key: &str| patch.is_some_and(|p| p.contains_key(key));
    let invalid = |key: &str| errors.iter().any(|e| e.field() == Some(&format!("custom_fields.{key}")));
    let mut missing = Vec::new();
    for def in defs.iter().filter(|d| d.active && d.required && !invalid(&d.key)) {
        if !merged.contains_key(&def.key) && (creating || touched(&def.key)) {
            missing
                .push(AppError::invalid(&format!("custom_fields.{}", def.key), format!("{} is required.", def.label)));
        }
    }
    errors.append(&mut missing);
    if errors.is_empty() { Ok(merged) } else { Err(errors) }
}

pub struct CustomFieldService {
    handles: Arc<Handles>,
}

impl CustomFieldService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Every definition of the tenant (active or not), in display order.
    pub async fn list(&self, ctx: &TenantCtx) -> AppResult<Vec<CustomFieldDef>> {
        let tx = ctx.read().await?;
        let defs = Self::list_in(&tx).await?;
        tx.commit().await?;
        Ok(defs)
    }

    pub async fn list_in(tx: &TenantTx) -> AppResult<Vec<CustomFieldDef>> {
        custom_field::Entity::find()
            .filter(custom_field::Column::TenantId.eq(tx.tenant()))
            .order_by_asc(custom_field::Column::Position)
            .order_by_asc(custom_field::Column::Key)
            .all(tx.conn())
            .await?
            .into_iter()
            .map(CustomFieldDef::from_row)
            .collect()
    }

    pub async fn create(&self, ctx: &TenantCtx, input: CustomFieldInput) -> AppResult<CustomFieldDef> {
        ctx.require(Permission::ManageSettings)?;
        let def = CustomFieldDef {
            id: CustomFieldId(self.handles.new_id()),
            entity: input.entity.unwrap_or(CustomEntity::Client),
            key: input.key.unwrap_or_default().trim().to_owned(),
            label: input.label.unwrap_or_default().trim().to_owned(),
            kind: input.kind.unwrap_or(FieldType::Text),
            choices: input.choices.unwrap_or_default(),
            position: input.position.unwrap_or(0),
            required: input.required.unwrap_or(false),
            searchable: input.searchable.unwrap_or(false),
            active: input.active.unwrap_or(true),
        };
        if let Some(err) = AppError::all(check_definition(&def)) {
            return Err(err);
        }
        let now = self.handles.now();
        let tx = ctx.begin().await?;
        custom_field::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(def.id),
            entity: Set(def.entity.as_str().to_owned()),
            key: Set(def.key.clone()),
            label: Set(def.label.clone()),
            kind: Set(def.kind.as_str().to_owned()),
            choices: Set(json!(def.choices)),
            position: Set(def.position),
            required: Set(def.required),
            searchable: Set(def.searchable),
            active: Set(def.active),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(tx.conn())
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::conflict("key", "A custom field with this key exists.")
            }
            _ => e.into(),
        })?;
        self.handles.orgs.bump_config_version(&tx).await?;
        let changes = audit::created(&json!({ "key": def.key, "kind": def.kind.as_str(), "label": def.label }));
        audit::record(&tx, ctx, AuditEntry::new("custom_field.create", "custom_field", def.id, changes)).await?;
        tx.commit().await?;
        Ok(def)
    }

    /// Changes label, values, order, flags. Key, entity and kind never change, so stored values
    /// stay valid; removing a choice value that records use is refused.
    pub async fn update(
        &self,
        ctx: &TenantCtx,
        id: CustomFieldId,
        input: CustomFieldInput,
    ) -> AppResult<CustomFieldDef> {
        ctx.require(Permission::ManageSettings)?;
        if input.key.is_some() || input.kind.is_some() || input.entity.is_some() {
            return Err(AppError::invalid("key", "The key, entity and type of a custom field cannot change."));
        }
        let tx = ctx.begin().await?;
        let row = custom_field::Entity::find_by_id((ctx.tenant(), id))
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let before = CustomFieldDef::from_row(row.clone())?;
        let after = CustomFieldDef {
            label: input.label.map_or(before.label.clone(), |l| l.trim().to_owned()),
            choices: input.choices.unwrap_or_else(|| before.choices.clone()),
            position: input.position.unwrap_or(before.position),
            required: input.required.unwrap_or(before.required),
            searchable: input.searchable.unwrap_or(before.searchable),
            active: input.active.unwrap_or(before.active),
            ..before.clone()
        };
        if let Some(err) = AppError::all(check_definition(&after)) {
            return Err(err);
        }
        let removed: Vec<&String> = before.choices.iter().filter(|c| !after.choices.contains(c)).collect();
        if !removed.is_empty() && values_in_use(&tx, &after, &removed).await? {
            return Err(AppError::invalid("choices", "Records still use a value you removed; change them first."));
        }
        let mut active: custom_field::ActiveModel = row.into();
        active.label = Set(after.label.clone());
        active.choices = Set(json!(after.choices));
        active.position = Set(after.position);
        active.required = Set(after.required);
        active.searchable = Set(after.searchable);
        active.active = Set(after.active);
        active.updated_at = Set(self.handles.now());
        active.update(tx.conn()).await?;
        self.handles.orgs.bump_config_version(&tx).await?;
        let indexed = |d: &CustomFieldDef| d.entity == CustomEntity::Client && d.searchable && d.active;
        if indexed(&before) != indexed(&after) {
            crate::search::touch_all(&tx).await?; // the field enters or leaves every document
        }
        let view = |d: &CustomFieldDef| {
            json!({ "label": d.label, "choices": d.choices, "position": d.position, "required": d.required,
                    "searchable": d.searchable, "active": d.active })
        };
        let changes = audit::diff(&view(&before), &view(&after));
        audit::record(&tx, ctx, AuditEntry::new("custom_field.update", "custom_field", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a definition one place earlier or later among those of its entity (the order records
    /// show them in): the entity's fields are numbered again 1, 2, 3… with the two swapped, so
    /// fields created with the same position get a distinct one. At either end it stays put.
    pub async fn step(&self, ctx: &TenantCtx, id: CustomFieldId, earlier: bool) -> AppResult<Vec<CustomFieldDef>> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let all = Self::list_in(&tx).await?;
        let entity = all.iter().find(|d| d.id == id).ok_or_else(AppError::not_found)?.entity;
        let mut defs: Vec<CustomFieldDef> = all.into_iter().filter(|d| d.entity == entity).collect();
        let before: Vec<String> = defs.iter().map(|d| d.key.clone()).collect();
        let at = defs.iter().position(|d| d.id == id).ok_or_else(AppError::not_found)?;
        let other = if earlier { at.checked_sub(1) } else { Some(at + 1).filter(|&n| n < defs.len()) };
        if let Some(other) = other {
            defs.swap(at, other);
        }
        let now = self.handles.now();
        for (n, def) in (1..).zip(defs.iter_mut()) {
            if def.position != n {
                def.position = n;
                custom_field::Entity::update_many()
                    .col_expr(custom_field::Column::Position, Expr::value(n))
                    .col_expr(custom_field::Column::UpdatedAt, Expr::value(now))
                    .filter(custom_field::Column::TenantId.eq(ctx.tenant()))
                    .filter(custom_field::Column::Id.eq(def.id))
                    .exec(tx.conn())
                    .await?;
            }
        }
        let after: Vec<String> = defs.iter().map(|d| d.key.clone()).collect();
        if before != after {
            self.handles.orgs.bump_config_version(&tx).await?;
            let changes = audit::diff(&json!({ "order": before }), &json!({ "order": after }));
            audit::record(&tx, ctx, AuditEntry::new("custom_field.reorder", "custom_field", id, changes)).await?;
        }
        tx.commit().await?;
        Ok(defs)
    }
}

/// Whether any record of the definition's entity holds one of `values`.
async fn values_in_use(tx: &TenantTx, def: &CustomFieldDef, values: &[&String]) -> AppResult<bool> {
    let table = match def.entity {
        CustomEntity::Client => "clients",
        CustomEntity::Contact => "contacts",
    };
    // Scans the tenant's JSON values; definitions change rarely.
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            format!("SELECT custom_fields FROM {table} WHERE tenant_id = $1 AND custom_fields IS NOT NULL"),
            [tx.tenant().0.into()],
        ))
        .await?;
    for row in rows {
        let fields: Option<Value> = row.try_get("", "custom_fields")?;
        let used = fields.as_ref().and_then(|f| f.get(&def.key)).is_some_and(|v| match v {
            Value::String(s) => values.contains(&s),
            Value::Array(items) => items.iter().any(|i| i.as_str().is_some_and(|s| values.iter().any(|x| *x == s))),
            _ => false,
        });
        if used {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(key: &str, kind: FieldType, choices: &[&str], required: bool) -> CustomFieldDef {
        CustomFieldDef {
            id: CustomFieldId(uuid::Uuid::nil()),
            entity: CustomEntity::Client,
            key: key.into(),
            label: key.into(),
            kind,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            position: 0,
            required,
            searchable: false,
            active: true,
        }
    }

    #[test]
    // CF-04
    fn values_are_checked_against_type_and_list() {
        let defs = [
            def("laterality", FieldType::Choice, &["LEFT", "RIGHT"], false),
            def("shoeSize", FieldType::Integer, &[], false),
            def("since", FieldType::Date, &[], true),
            def("ratio", FieldType::Decimal, &[], false),
        ];
        let patch = json!({ "laterality": "LEFT", "shoeSize": 42, "since": "2020-02-29", "ratio": "1.50" });
        let merged = merge_values(&defs, &Map::new(), patch.as_object(), true).unwrap();
        assert_eq!(merged["ratio"], "1.5");
        let bad = json!({ "laterality": "UP", "shoeSize": "big", "since": "2021-02-29", "nope": 1 });
        let errors = merge_values(&defs, &Map::new(), bad.as_object(), true).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field().unwrap_or_default().to_owned()).collect();
        assert_eq!(
            fields,
            ["custom_fields.laterality", "custom_fields.nope", "custom_fields.shoeSize", "custom_fields.since"]
        );
        let missing = merge_values(&defs, &Map::new(), None, true).unwrap_err();
        assert_eq!(missing[0].field(), Some("custom_fields.since"));
    }

    #[test]
    fn definitions_need_graphql_safe_keys_and_values() {
        assert!(check_definition(&def("laterality", FieldType::Choice, &["LEFT"], false)).is_empty());
        assert_eq!(check_definition(&def("Bad Key", FieldType::Text, &[], false)).len(), 1);
        assert_eq!(check_definition(&def("x", FieldType::Choice, &[], false)).len(), 1);
        assert_eq!(check_definition(&def("x", FieldType::Choice, &["a b"], false)).len(), 1);
        for other in [FieldType::Datetime, FieldType::Reference] {
            let errors = check_definition(&def("x", other, &[], false));
            assert_eq!(errors.iter().map(AppError::field).collect::<Vec<_>>(), [Some("kind")]);
        }
    }
}
