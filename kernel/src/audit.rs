//! The audit writer every mutation uses. Rows are append-only (on PostgreSQL the app role
//! may only INSERT and SELECT them) and commit with the change they describe.

use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Map, Value, json};

use crate::error::AppResult;
use crate::ids::AuditId;
use crate::tenancy::{TenantCtx, TenantTx};

pub mod trail;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: crate::TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::AuditId,
        pub at: DateTimeUtc,
        pub actor_user_id: Option<Uuid>,
        pub actor_api_token_id: Option<Uuid>,
        pub on_behalf_of_tenant_id: Option<Uuid>,
        pub on_behalf_of_user_id: Option<Uuid>,
        pub action: String,
        pub entity_type: String,
        pub entity_id: String,
        pub changes: Json,
        pub request_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One audited change: `action` is `entity.verb` (`user.create`), `changes` maps each changed
/// field to `{before, after}` (see [`diff`]).
#[derive(Debug)]
pub struct AuditEntry {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub changes: Value,
}

impl AuditEntry {
    pub fn new(
        action: &'static str,
        entity_type: &'static str,
        entity_id: impl std::fmt::Display,
        changes: Value,
    ) -> Self {
        Self { action, entity_type, entity_id: entity_id.to_string(), changes }
    }
}

/// Writes `entry` in `tx`, stamped with the actor, the impersonator, the request id and the time.
pub async fn record(tx: &TenantTx, ctx: &TenantCtx, entry: AuditEntry) -> AppResult<AuditId> {
    let handles = ctx.handles();
    let id = AuditId(handles.new_id());
    let actor = ctx.actor();
    entity::ActiveModel {
        tenant_id: Set(tx.tenant()),
        id: Set(id),
        at: Set(handles.now()),
        actor_user_id: Set(actor.user().map(|u| u.0)),
        actor_api_token_id: Set(actor.api_token().map(|t| t.0)),
        on_behalf_of_tenant_id: Set(actor.on_behalf_of.map(|(t, _)| t.0)),
        on_behalf_of_user_id: Set(actor.on_behalf_of.map(|(_, u)| u.0)),
        action: Set(entry.action.to_owned()),
        entity_type: Set(entry.entity_type.to_owned()),
        entity_id: Set(entry.entity_id),
        changes: Set(entry.changes),
        request_id: Set(ctx.request_id().map(str::to_owned)),
    }
    .insert(tx.conn())
    .await?;
    Ok(id)
}

/// Writes many entries at once (imports), stamped like [`record`].
pub async fn record_many(tx: &TenantTx, ctx: &TenantCtx, entries: Vec<AuditEntry>) -> AppResult<()> {
    // 12 columns a row: 1000 rows stay under SQLite's 32766 bound parameters.
    const CHUNK: usize = 1000;
    let handles = ctx.handles();
    let actor = ctx.actor();
    let at = handles.now();
    let rows = entries
        .into_iter()
        .map(|entry| entity::ActiveModel {
            tenant_id: Set(tx.tenant()),
            id: Set(AuditId(handles.new_id())),
            at: Set(at),
            actor_user_id: Set(actor.user().map(|u| u.0)),
            actor_api_token_id: Set(actor.api_token().map(|t| t.0)),
            on_behalf_of_tenant_id: Set(actor.on_behalf_of.map(|(t, _)| t.0)),
            on_behalf_of_user_id: Set(actor.on_behalf_of.map(|(_, u)| u.0)),
            action: Set(entry.action.to_owned()),
            entity_type: Set(entry.entity_type.to_owned()),
            entity_id: Set(entry.entity_id),
            changes: Set(entry.changes),
            request_id: Set(ctx.request_id().map(str::to_owned)),
        })
        .collect();
    Ok(crate::db::insert_moving(tx.conn(), rows, CHUNK).await?)
}

/// `{field: {before, after}}` for every top-level field whose value differs.
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        let (old, new) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
        if old != new {
            out.insert(key.clone(), json!({ "before": old, "after": new }));
        }
    }
    Value::Object(out)
}

/// A whole record appearing: every field goes from null to its value.
pub fn created(after: &Value) -> Value {
    diff(&Value::Null, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_only_changed_fields() {
        let d = diff(&json!({"a": 1, "b": "x", "c": true}), &json!({"a": 1, "b": "y", "d": 2}));
        assert_eq!(
            d,
            json!({
                "b": {"before": "x", "after": "y"},
                "c": {"before": true, "after": null},
                "d": {"before": null, "after": 2},
            })
        );
        assert_eq!(created(&json!({"a": 1})), json!({"a": {"before": null, "after": 1}}));
    }
}
