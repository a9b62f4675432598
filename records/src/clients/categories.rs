//! Client categories (CAT-01..05) and client groups (CAT-06, CAT-07): small tenant lists.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr};
use serde_json::json;

use crate::clients::entity::{category, client, group, lookup};
use crate::clients::validate;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, Reason};
use clientele_kernel::ids::{CategoryId, ClientId, GroupId, LookupId};
use clientele_kernel::tenancy::{Permission, TenantCtx};

#[derive(Clone, Debug)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub description: Option<String>,
    /// CAT-05: default discount in hundredths of a percent.
    pub default_discount_bp: Option<i32>,
    pub tariff: Option<LookupId>,
    /// CAT-04: the till refuses to put a sale on hold for this category.
    pub hold_forbidden: bool,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: Option<String>,
}

/// Input of category mutations; `None` keeps a value on update.
#[derive(Clone, Debug, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub default_discount: Option<Option<String>>,
    pub tariff: Option<Option<LookupId>>,
    pub hold_forbidden: Option<bool>,
}

impl From<category::Model> for Category {
    fn from(r: category::Model) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            default_discount_bp: r.default_discount_bp,
            tariff: r.tariff_id.map(LookupId),
            hold_forbidden: r.hold_forbidden,
        }
    }
}

impl From<group::Model> for Group {
    fn from(r: group::Model) -> Self {
        Self { id: r.id, name: r.name, description: r.description }
    }
}

fn name_taken(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict("name", "This name is already used."),
        _ => err.into(),
    }
}

fn check_name(errors: &mut Vec<AppError>, name: &str) {
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(AppError::refused("name", Reason::NameLength { max: 100 }));
    }
}

pub struct CategoryService {
    handles: Arc<Handles>,
}

impl CategoryService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    pub async fn categories(&self, ctx: &TenantCtx) -> AppResult<Vec<Category>> {
        let tx = ctx.read().await?;
        let rows = category::Entity::find()
            .filter(category::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(category::Column::Name)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn categories_by_ids(&self, ctx: &TenantCtx, ids: &[CategoryId]) -> AppResult<Vec<Category>> {
        let tx = ctx.read().await?;
        let rows = category::Entity::find()
            .filter(category::Column::TenantId.eq(ctx.tenant()))
            .filter(category::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn groups(&self, ctx: &TenantCtx) -> AppResult<Vec<Group>> {
        let tx = ctx.read().await?;
        let rows = group::Entity::find()
            .filter(group::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(group::Column::Name)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn groups_by_ids(&self, ctx: &TenantCtx, ids: &[GroupId]) -> AppResult<Vec<Group>> {
        let tx = ctx.read().await?;
        let rows = group::Entity::find()
            .filter(group::Column::TenantId.eq(ctx.tenant()))
            .filter(group::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Creates (`id = None`) or changes a category.
    pub async fn save_category(
        &self,
        ctx: &TenantCtx,
        id: Option<CategoryId>,
        input: CategoryInput,
    ) -> AppResult<Category> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let now = self.handles.now();
        let existing = match id {
            Some(id) => Some(
                category::Entity::find_by_id((ctx.tenant(), id))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let mut errors = Vec::new();
        let before = existing.clone().map(Category::from);
        let mut after = before.clone().unwrap_or(Category {
            id: CategoryId(self.handles.new_id()),
            name: String::new(),
            description: None,
            default_discount_bp: None,
            tariff: None,
            hold_forbidden: false,
        });
        if let Some(name) = input.name {
            name.trim().clone_into(&mut after.name);
        }
        check_name(&mut errors, &after.name);
        if let Some(description) = input.description {
            after.description = validate::clean(description);
        }
        validate::text(&mut errors, "description", after.description.as_deref(), 2000, true);
        if let Some(discount) = input.default_discount {
            after.default_discount_bp =
                validate::percent(&mut errors, "default_discount", validate::clean(discount).as_deref());
        }
        if let Some(tariff) = input.tariff {
            after.tariff = tariff;
        }
        if let Some(t) = after.tariff {
            let found = lookup::Entity::find_by_id((ctx.tenant(), t)).one(tx.conn()).await?;
            if found.is_none_or(|l| l.kind != "tariff") {
                errors.push(AppError::invalid("tariff", "No such tariff."));
            }
        }
        if let Some(hold) = input.hold_forbidden {
            after.hold_forbidden = hold;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = category::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            name: Set(after.name.clone()),
            description: Set(after.description.clone()),
            default_discount_bp: Set(after.default_discount_bp),
            tariff_id: Set(after.tariff.map(LookupId::uuid)),
            hold_forbidden: Set(after.hold_forbidden),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() { model.update(tx.conn()).await } else { model.insert(tx.conn()).await }
            .map_err(name_taken)?;
        let view = |c: &Category| {
            json!({ "name": c.name, "description": c.description, "default_discount_bp": c.default_discount_bp,
                    "tariff": c.tariff, "hold_forbidden": c.hold_forbidden })
        };
        let changes = audit::diff(&before.as_ref().map_or(serde_json::Value::Null, view), &view(&after));
        let action = if existing.is_some() { "category.update" } else { "category.create" };
        audit::record(&tx, ctx, AuditEntry::new(action, "category", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a category; its clients keep their data and lose the category.
    pub async fn delete_category(&self, ctx: &TenantCtx, id: CategoryId) -> AppResult<CategoryId> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let row =
            category::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        client::Entity::update_many()
            .col_expr(client::Column::Category, Expr::value(Option::<uuid::Uuid>::None))
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Category.eq(id.0))
            .exec(tx.conn())
            .await?;
        category::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&json!({ "name": row.name }), &serde_json::Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("category.delete", "category", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn save_group(
        &self,
        ctx: &TenantCtx,
        id: Option<GroupId>,
        name: Option<String>,
        description: Option<Option<String>>,
    ) -> AppResult<Group> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let now = self.handles.now();
        let existing = match id {
            Some(id) => Some(
                group::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let before = existing.clone().map(Group::from);
        let mut after = before.clone().unwrap_or(Group {
            id: GroupId(self.handles.new_id()),
            name: String::new(),
            description: None,
        });
        if let Some(name) = name {
            name.trim().clone_into(&mut after.name);
        }
        if let Some(description) = description {
            after.description = validate::clean(description);
        }
        let mut errors = Vec::new();
        check_name(&mut errors, &after.name);
        validate::text(&mut errors, "description", after.description.as_deref(), 2000, true);
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = group::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            name: Set(after.name.clone()),
            description: Set(after.description.clone()),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() { model.update(tx.conn()).await } else { model.insert(tx.conn()).await }
            .map_err(name_taken)?;
        let view = |g: &Group| json!({ "name": g.name, "description": g.description });
        let changes = audit::diff(&before.as_ref().map_or(serde_json::Value::Null, view), &view(&after));
        let action = if existing.is_some() { "group.update" } else { "group.create" };
        audit::record(&tx, ctx, AuditEntry::new(action, "group", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_group(&self, ctx: &TenantCtx, id: GroupId) -> AppResult<GroupId> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let row =
            group::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        client::Entity::update_many()
            .col_expr(client::Column::Group, Expr::value(Option::<uuid::Uuid>::None))
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Group.eq(id.0))
            .exec(tx.conn())
            .await?;
        group::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&json!({ "name": row.name }), &serde_json::Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("group.delete", "group", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// CAT-07: puts several clients in a group at once (`None` takes them out of any group).
    pub async fn assign_group(
        &self,
        ctx: &TenantCtx,
        group_id: Option<GroupId>,
        clients: &[ClientId],
    ) -> AppResult<u64> {
        ctx.require(Permission::Write)?;
        if clients.is_empty() || clients.len() > 1000 {
            return Err(AppError::invalid("clients", "Give 1 to 1000 clients."));
        }
        let tx = ctx.begin().await?;
        if let Some(id) = group_id {
            group::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        }
        let found = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Id.is_in(clients.iter().map(|c| c.0)))
            .all(tx.conn())
            .await?;
        if found.len() != clients.iter().collect::<std::collections::HashSet<_>>().len() {
            return Err(AppError::not_found());
        }
        let result = client::Entity::update_many()
            .col_expr(client::Column::Group, Expr::value(group_id.map(|g| g.0)))
            .col_expr(client::Column::Version, Expr::col(client::Column::Version).add(1))
            .col_expr(client::Column::UpdatedAt, Expr::value(self.handles.now()))
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Id.is_in(clients.iter().map(|c| c.0)))
            .exec(tx.conn())
            .await?;
        for row in found {
            let changes = audit::diff(&json!({ "group": row.group }), &json!({ "group": group_id }));
            audit::record(&tx, ctx, AuditEntry::new("client.assign_group", "client", row.id, changes)).await?;
        }
        tx.commit().await?;
        Ok(result.rows_affected)
    }
}
