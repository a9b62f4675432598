//! The read side of the audit log (issue 16, item 7): one organisation's entries, newest first,
//! filtered and keyset-paged, each with who acted named. Names live in the tenants crate's
//! tables, so they come through the [`Organisations`](crate::Organisations) port.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use super::entity::{self, Column};
use crate::error::{AppError, AppResult};
use crate::ids::{ApiTokenId, AuditId, TenantId, UserId};
use crate::page::{Page, PageRequest};
use crate::tenancy::{Permission, TenantCtx};

const MAX_FILTER: usize = 200;

/// What to list; every part optional, all given ones must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// A user who acted, in person or as the supplier user behind a direct login.
    pub actor: Option<UserId>,
    /// An exact action (`client.update`), or a prefix when it ends with a dot (`client.`).
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Drops blank parts and refuses oversized ones and an empty period.
    fn validated(&self) -> AppResult<Self> {
        let text = |field: &'static str, value: &Option<String>| -> AppResult<Option<String>> {
            let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
            if value.chars().count() > MAX_FILTER || value.chars().any(char::is_control) {
                return Err(AppError::invalid(field, format!("Give at most {MAX_FILTER} characters.")));
            }
            Ok(Some(value.to_owned()))
        };
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to <= from
        {
            return Err(AppError::invalid("to", "The end of the period must come after its start."));
        }
        Ok(Self {
            actor: self.actor,
            action: text("action", &self.action)?,
            entity_type: text("entity_type", &self.entity_type)?,
            entity_id: text("entity_id", &self.entity_id)?,
            from: self.from,
            to: self.to,
        })
    }

    fn condition(&self, tenant: TenantId) -> Condition {
        let mut cond = Condition::all().add(Column::TenantId.eq(tenant));
        if let Some(user) = self.actor {
            cond =
                cond.add(Condition::any().add(Column::ActorUserId.eq(user.0)).add(Column::OnBehalfOfUserId.eq(user.0)));
        }
        match self.action.as_deref() {
            Some(prefix) if prefix.ends_with('.') => {
                let pattern = LikeExpr::new(crate::db::like_prefix(prefix)).escape('\\');
                cond = cond.add(Expr::col(Column::Action).like(pattern));
            }
            Some(action) => cond = cond.add(Column::Action.eq(action)),
            None => {}
        }
        if let Some(t) = &self.entity_type {
            cond = cond.add(Column::EntityType.eq(t.as_str()));
        }
        if let Some(id) = &self.entity_id {
            cond = cond.add(Column::EntityId.eq(id.as_str()));
        }
        if let Some(from) = self.from {
            cond = cond.add(Column::At.gte(from));
        }
        if let Some(to) = self.to {
            cond = cond.add(Column::At.lt(to));
        }
        cond
    }
}

/// A user as the trail names them; `email` and `display_name` are empty when the user is
/// gone or not known here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}

impl Person {
    fn unknown(id: UserId) -> Self {
        Self { id, email: String::new(), display_name: String::new() }
    }
}

/// Who wrote an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditActor {
    User(Person),
    /// An API token of the organisation, with its name when it still exists.
    ApiToken {
        id: ApiTokenId,
        name: Option<String>,
    },
    /// The server itself (bootstrap, sign-in, background jobs).
    System,
}

/// The supplier identity behind an entry: a supplier user's direct login, or the supplier
/// administering its customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnBehalfOf {
    pub supplier: TenantId,
    pub supplier_name: String,
    pub user: Person,
    /// The reason given when the direct-login session the entry was written in opened.
    pub reason: Option<String>,
}

/// One changed field: `before` is null for a value that appeared (or a detail of the event).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// One entry of the trail.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub actor: AuditActor,
    pub on_behalf_of: Option<OnBehalfOf>,
    pub changes: Vec<AuditChange>,
    pub request_id: Option<String>,
}

/// What the trail asks the [`Organisations`](crate::Organisations) port to name.
#[derive(Clone, Debug, Default)]
pub struct ActorQuery {
    /// Users of the transaction's tenant.
    pub users: Vec<UserId>,
    pub api_tokens: Vec<ApiTokenId>,
    /// Supplier users who acted inside the transaction's tenant.
    pub supplier_users: Vec<(TenantId, UserId)>,
    /// The earliest entry of the page: direct logins that ended before it do not matter.
    pub since: Option<DateTime<Utc>>,
}

/// The port's answer to an [`ActorQuery`]; anything not found is simply absent.
#[derive(Clone, Debug, Default)]
pub struct ActorNames {
    pub users: HashMap<UserId, Person>,
    pub api_tokens: HashMap<ApiTokenId, String>,
    pub direct_logins: Vec<DirectLoginWindow>,
    pub suppliers: SupplierNames,
}

/// Supplier organisations and users, as named inside each supplier.
#[derive(Clone, Debug, Default)]
pub struct SupplierNames {
    pub organisations: HashMap<TenantId, String>,
    pub users: HashMap<(TenantId, UserId), Person>,
}

/// A direct-login session of a supplier user inside the tenant, for the reason of the entries
/// written during it.
#[derive(Clone, Debug)]
pub struct DirectLoginWindow {
    pub supplier: TenantId,
    pub user: UserId,
    pub opened_at: DateTime<Utc>,
    /// When it was revoked, or else when it expired.
    pub ended_at: DateTime<Utc>,
    pub reason: String,
}

/// Reads the organisation's audit trail; super-admins and admins (`ViewUsers`).
#[derive(Debug, Default)]
pub struct AuditTrail;

impl AuditTrail {
    /// One page of the caller's organisation's entries, newest first.
    pub async fn list(&self, ctx: &TenantCtx, filter: &AuditFilter, page: PageRequest) -> AppResult<Page<AuditRecord>> {
        ctx.require(Permission::ViewUsers)?;
        let filter = filter.validated()?;
        let tx = ctx.read().await?;
        let base = entity::Entity::find().filter(filter.condition(ctx.tenant()));
        let total = base.clone().count(tx.conn()).await?;
        // Ids are UUID v7: id order is writing order.
        let rows = page.keyset(base, [Column::Id], page.cursor.map(|c| vec![c.into()]), false).all(tx.conn()).await?;
        let query = actor_query(&rows);
        let orgs = &ctx.handles().orgs;
        let mut names = orgs.actors(&tx, &query).await?;
        tx.commit().await?;
        // After the commit: naming suppliers reads inside each of them, on a transaction of its own.
        if !query.supplier_users.is_empty() {
            names.suppliers = orgs.suppliers(ctx, &query.supplier_users).await?;
        }
        let records = rows.into_iter().map(|row| record(row, &names)).collect();
        Ok(Page::from_overfetch(records, &page, total))
    }
}

fn actor_query(rows: &[entity::Model]) -> ActorQuery {
    let mut users = HashSet::new();
    let mut tokens = HashSet::new();
    let mut suppliers = HashSet::new();
    for row in rows {
        users.extend(row.actor_user_id.map(UserId));
        tokens.extend(row.actor_api_token_id.map(ApiTokenId));
        if let (Some(t), Some(u)) = (row.on_behalf_of_tenant_id, row.on_behalf_of_user_id) {
            suppliers.insert((TenantId(t), UserId(u)));
        }
    }
    ActorQuery {
        users: users.into_iter().collect(),
        api_tokens: tokens.into_iter().collect(),
        supplier_users: suppliers.into_iter().collect(),
        since: rows.iter().map(|r| r.at).min(),
    }
}

fn record(row: entity::Model, names: &ActorNames) -> AuditRecord {
    let on_behalf_of = match (row.on_behalf_of_tenant_id, row.on_behalf_of_user_id) {
        (Some(t), Some(u)) => {
            let (supplier, user) = (TenantId(t), UserId(u));
            let reason = names
                .direct_logins
                .iter()
                .filter(|w| w.supplier == supplier && w.user == user && w.opened_at <= row.at && row.at <= w.ended_at)
                .max_by_key(|w| w.opened_at)
                .map(|w| w.reason.clone());
            Some(OnBehalfOf {
                supplier,
                supplier_name: names.suppliers.organisations.get(&supplier).cloned().unwrap_or_default(),
                user: names.suppliers.users.get(&(supplier, user)).cloned().unwrap_or_else(|| Person::unknown(user)),
                reason,
            })
        }
        _ => None,
    };
    let actor = match (row.actor_user_id, row.actor_api_token_id) {
        (Some(u), _) => {
            let id = UserId(u);
            // A supplier administering its customer writes there as its own user.
            let person = names
                .users
                .get(&id)
                .cloned()
                .or_else(|| on_behalf_of.as_ref().filter(|o| o.user.id == id).map(|o| o.user.clone()));
            AuditActor::User(person.unwrap_or_else(|| Person::unknown(id)))
        }
        (None, Some(t)) => {
            let id = ApiTokenId(t);
            AuditActor::ApiToken { id, name: names.api_tokens.get(&id).cloned() }
        }
        (None, None) => AuditActor::System,
    };
    AuditRecord {
        id: row.id,
        at: row.at,
        action: row.action,
        entity_type: row.entity_type,
        entity_id: row.entity_id,
        actor,
        on_behalf_of,
        changes: changes(row.changes),
        request_id: row.request_id,
    }
}

/// The stored `{field: {before, after}}` (see [`super::diff`]) as a list; a value of another
/// shape (an event's details) is shown as its `after`.
pub fn changes(stored: Value) -> Vec<AuditChange> {
    let Value::Object(fields) = stored else { return Vec::new() };
    fields
        .into_iter()
        .map(|(field, value)| match value {
            Value::Object(mut pair) if pair.len() == 2 && pair.contains_key("before") && pair.contains_key("after") => {
                let before = pair.remove("before").unwrap_or(Value::Null);
                let after = pair.remove("after").unwrap_or(Value::Null);
                AuditChange { field, before, after }
            }
            other => AuditChange { field, before: Value::Null, after: other },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_read_diffs_and_event_details() {
        let stored = json!({"name": {"before": "A", "after": "B"}, "reason": "ticket 4"});
        let list = changes(stored);
        assert_eq!(list.len(), 2);
        assert!(list.contains(&AuditChange { field: "name".into(), before: json!("A"), after: json!("B") }));
        assert!(list.contains(&AuditChange { field: "reason".into(), before: Value::Null, after: json!("ticket 4") }));
        assert!(changes(json!(null)).is_empty());
    }

    #[test]
    fn filters_refuse_empty_periods_and_drop_blanks() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let empty = AuditFilter { from: Some(at), to: Some(at), ..AuditFilter::default() };
        assert!(empty.validated().is_err_and(|e| e.field() == Some("to")));
        let blank = AuditFilter { action: Some("  ".into()), ..AuditFilter::default() };
        assert!(blank.validated().is_ok_and(|f| f.action.is_none()));
        let long = AuditFilter { entity_id: Some("x".repeat(201)), ..AuditFilter::default() };
        assert!(long.validated().is_err());
    }
}
