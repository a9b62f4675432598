//! Saved selections (SRC-14): a named list filter with its order, and optionally the clients
//! ticked in the list, personal to the user who saved it or shared with the organisation. A
//! list, a search, an export or a birthday list uses one through `ClientFilter::selection`:
//! its clients are those of the saved filter (and ticked, when some were) that the given filter
//! also keeps.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, SqlErr,
};
use serde_json::{Value, json};

use crate::clients::entity::saved_selection;
use crate::clients::lookups::label_or_name;
use crate::clients::query::{ClientFilter, ClientOrder};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{ClientId, SelectionId, UserId};
use clientele_kernel::tenancy::{Actor, Permission, TenantCtx, TenantTx};

/// Clients one selection may tick: beyond, save the filter that finds them instead.
pub const MAX_TICKED: usize = 10_000;

/// One saved selection.
#[derive(Clone, Debug)]
pub struct Selection {
    pub id: SelectionId,
    pub name: String,
    /// The user it belongs to; `None`: shared with the organisation.
    pub owner: Option<UserId>,
    pub filter: ClientFilter,
    pub order: ClientOrder,
    /// The clients ticked in the list; `None`: every client the filter keeps.
    pub clients: Option<Vec<ClientId>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creates or changes a selection; `None` keeps a value (or takes its default on create).
#[derive(Clone, Debug, Default)]
pub struct SelectionInput {
    pub name: Option<String>,
    /// Shared with the organisation (default) or the caller's own.
    pub shared: Option<bool>,
    pub filter: Option<ClientFilter>,
    pub order: Option<ClientOrder>,
    /// `Some(None)` clears the ticked clients: the selection is then its filter alone.
    pub clients: Option<Option<Vec<ClientId>>>,
}

impl TryFrom<saved_selection::Model> for Selection {
    type Error = AppError;
    fn try_from(r: saved_selection::Model) -> AppResult<Self> {
        let bad = |what: &str| AppError::internal(format!("bad stored saved_selections.{what} of {}", r.id));
        let order: ClientOrder = r.order_by.parse().map_err(|_| bad("order_by"))?;
        let filter = serde_json::from_value(r.filter.clone()).map_err(|_| bad("filter"))?;
        let clients = r.client_ids.clone().map(serde_json::from_value).transpose().map_err(|_| bad("client_ids"))?;
        Ok(Self {
            id: r.id,
            name: r.name,
            owner: r.owner_id,
            filter,
            order,
            clients,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn view(s: &Selection) -> Value {
    json!({
        "name": s.name,
        "shared": s.owner.is_none(),
        "filter": s.filter,
        "order": <&str>::from(s.order),
        "ticked": s.clients.as_ref().map(Vec::len),
    })
}

/// The selections `actor` sees: shared ones and its own.
fn visible_to(actor: &Actor) -> Condition {
    let shared = Condition::any().add(saved_selection::Column::OwnerId.is_null());
    match actor.user() {
        Some(user) => shared.add(saved_selection::Column::OwnerId.eq(user)),
        None => shared,
    }
}

/// Selection `id` as `actor` sees it (`NOT_FOUND` when it is someone else's), read in `tx`.
pub(crate) async fn visible(tx: &TenantTx, actor: &Actor, id: SelectionId) -> AppResult<Selection> {
    let row = saved_selection::Entity::find()
        .filter(saved_selection::Column::TenantId.eq(tx.tenant()))
        .filter(saved_selection::Column::Id.eq(id))
        .filter(visible_to(actor))
        .one(tx.conn())
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No saved selection has this id."))?;
    Selection::try_from(row)
}

pub struct SelectionService {
    handles: Arc<Handles>,
}

impl SelectionService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// The caller's selections and the shared ones, by name.
    pub async fn list(&self, ctx: &TenantCtx) -> AppResult<Vec<Selection>> {
        let tx = ctx.read().await?;
        let rows = saved_selection::Entity::find()
            .filter(saved_selection::Column::TenantId.eq(ctx.tenant()))
            .filter(visible_to(ctx.actor()))
            .order_by_asc(saved_selection::Column::Name)
            .order_by_asc(saved_selection::Column::Id)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Selection::try_from).collect()
    }

    pub async fn get(&self, ctx: &TenantCtx, id: SelectionId) -> AppResult<Selection> {
        let tx = ctx.read().await?;
        let found = visible(&tx, ctx.actor(), id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Creates (`id = None`) or changes a selection. Writers only; a personal selection needs a
    /// signed-in user (an API token saves shared ones), and only its owner changes it.
    pub async fn save(&self, ctx: &TenantCtx, id: Option<SelectionId>, input: SelectionInput) -> AppResult<Selection> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let now = self.handles.now();
        let before = match id {
            Some(id) => Some(visible(&tx, ctx.actor(), id).await?),
            None => None,
        };
        let mut after = before.clone().unwrap_or_else(|| Selection {
            id: SelectionId(self.handles.new_id()),
            name: String::new(),
            owner: None,
            filter: ClientFilter::default(),
            order: ClientOrder::Name,
            clients: None,
            created_at: now,
            updated_at: now,
        });
        let mut errors = Vec::new();
        if let Some(name) = input.name {
            name.trim().clone_into(&mut after.name);
        }
        label_or_name(&mut errors, "name", &after.name);
        if let Some(shared) = input.shared {
            after.owner = if shared { None } else { ctx.actor().user() };
            if !shared && after.owner.is_none() {
                errors.push(AppError::invalid("shared", "An API token saves shared selections only."));
            }
        }
        if let Some(filter) = input.filter {
            if filter.selection.is_some() {
                errors.push(AppError::invalid("filter.selection", "A selection cannot be made of another one."));
            }
            after.filter = filter;
        }
        if let Some(order) = input.order {
            after.order = order;
        }
        if let Some(clients) = input.clients {
            after.clients = clients.map(|mut ids| {
                ids.sort_unstable();
                ids.dedup();
                ids
            });
            if after.clients.as_ref().is_some_and(|ids| ids.len() > MAX_TICKED) {
                errors.push(AppError::invalid(
                    "client_ids",
                    format!("Tick at most {MAX_TICKED} clients; save the filter that finds them instead."),
                ));
            }
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        after.updated_at = now;
        let filter = serde_json::to_value(&after.filter).map_err(AppError::internal)?;
        let ticked = after.clients.as_ref().map(serde_json::to_value).transpose().map_err(AppError::internal)?;
        let mut model = saved_selection::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            name: Set(after.name.clone()),
            owner_id: Set(after.owner),
            filter: Set(filter),
            order_by: Set(<&str>::from(after.order).to_owned()),
            client_ids: Set(ticked),
            created_by: Set(ctx.actor().user()),
            created_at: Set(after.created_at),
            updated_at: Set(now),
        };
        let saved = if before.is_some() {
            model.created_by = sea_orm::ActiveValue::NotSet;
            model.update(tx.conn()).await
        } else {
            model.insert(tx.conn()).await
        };
        saved.map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::conflict("name", "Another selection of the organisation already has this name.")
            }
            _ => err.into(),
        })?;
        let changes = audit::diff(&before.as_ref().map_or(Value::Null, view), &view(&after));
        let action = if before.is_some() { "selection.update" } else { "selection.create" };
        audit::record(&tx, ctx, AuditEntry::new(action, "selection", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a selection the caller sees (writers only).
    pub async fn delete(&self, ctx: &TenantCtx, id: SelectionId) -> AppResult<SelectionId> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = visible(&tx, ctx.actor(), id).await?;
        saved_selection::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&view(&before), &Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("selection.delete", "selection", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }
}
