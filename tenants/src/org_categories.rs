//! Organisation categories of a supplier (CAT-08): a title (required) and a description,
//! several per customer organisation.

use std::sync::Arc;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{AppError, AppResult, OrgKind, Permission, TenantCtx, TenantId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::customers::CustomerService;
use crate::entity::{org_category, org_category_link};

#[derive(Clone, Debug)]
pub struct OrgCategory {
    pub id: uuid::Uuid,
    pub title: String,
    pub description: Option<String>,
}

fn category(r: org_category::Model) -> OrgCategory {
    OrgCategory { id: r.id, title: r.title, description: r.description }
}

pub struct OrgCategoryService {
    handles: Arc<Handles>,
}

impl OrgCategoryService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    fn require_supplier(ctx: &TenantCtx) -> AppResult<()> {
        ctx.require(Permission::ManageCustomers)?;
        if ctx.kind() == OrgKind::Supplier { Ok(()) } else { Err(AppError::forbidden()) }
    }

    pub async fn list(&self, ctx: &TenantCtx) -> AppResult<Vec<OrgCategory>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let rows = org_category::Entity::find()
            .filter(org_category::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(org_category::Column::Title)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(category).collect())
    }

    /// Creates (`id = None`) or changes a category; the title is required.
    pub async fn save(
        &self,
        ctx: &TenantCtx,
        id: Option<uuid::Uuid>,
        title: Option<String>,
        description: Option<Option<String>>,
    ) -> AppResult<OrgCategory> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        let existing = match id {
            Some(id) => Some(
                org_category::Entity::find_by_id((ctx.tenant(), id))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let now = self.handles.now();
        let before = existing.clone().map(category);
        let mut after = before.clone().unwrap_or(OrgCategory {
            id: self.handles.new_id(),
            title: String::new(),
            description: None,
        });
        if let Some(title) = title {
            after.title = title.trim().to_owned();
        }
        if let Some(description) = description {
            after.description = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        }
        let mut errors = Vec::new();
        if after.title.is_empty() || after.title.chars().count() > 100 {
            errors.push(AppError::invalid("title", "A category needs a title of 1 to 100 characters."));
        }
        if after.description.as_ref().is_some_and(|d| d.chars().count() > 2000) {
            errors.push(AppError::invalid("description", "Use at most 2000 characters."));
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = org_category::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            title: Set(after.title.clone()),
            description: Set(after.description.clone()),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() {
            model.update(tx.conn()).await?
        } else {
            model.insert(tx.conn()).await?
        };
        let view = |c: &OrgCategory| json!({ "title": c.title, "description": c.description });
        let changes = audit::diff(&before.as_ref().map_or(serde_json::Value::Null, view), &view(&after));
        audit::record(&tx, ctx, AuditEntry::new("org_category.save", "org_category", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The categories of one of the supplier's customers.
    pub async fn of(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<Vec<OrgCategory>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        let links = org_category_link::Entity::find()
            .filter(org_category_link::Column::TenantId.eq(ctx.tenant()))
            .filter(org_category_link::Column::OrganisationId.eq(org))
            .all(tx.conn())
            .await?;
        let rows = org_category::Entity::find()
            .filter(org_category::Column::TenantId.eq(ctx.tenant()))
            .filter(org_category::Column::Id.is_in(links.iter().map(|l| l.category_id)))
            .order_by_asc(org_category::Column::Title)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(category).collect())
    }

    /// Replaces the categories of one of the supplier's customers.
    pub async fn set_for(
        &self,
        ctx: &TenantCtx,
        org: TenantId,
        categories: &[uuid::Uuid],
    ) -> AppResult<Vec<OrgCategory>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        let mut wanted: Vec<uuid::Uuid> = categories.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let found = org_category::Entity::find()
            .filter(org_category::Column::TenantId.eq(ctx.tenant()))
            .filter(org_category::Column::Id.is_in(wanted.clone()))
            .all(tx.conn())
            .await?;
        if found.len() != wanted.len() {
            return Err(AppError::not_found());
        }
        org_category_link::Entity::delete_many()
            .filter(org_category_link::Column::TenantId.eq(ctx.tenant()))
            .filter(org_category_link::Column::OrganisationId.eq(org))
            .exec(tx.conn())
            .await?;
        for category_id in &wanted {
            org_category_link::ActiveModel {
                tenant_id: Set(ctx.tenant()),
                organisation_id: Set(org),
                category_id: Set(*category_id),
            }
            .insert(tx.conn())
            .await?;
        }
        audit::record(
            &tx,
            ctx,
            AuditEntry::new("organisation.set_categories", "organisation", org, json!({ "categories": wanted })),
        )
        .await?;
        tx.commit().await?;
        let mut out: Vec<OrgCategory> = found.into_iter().map(category).collect();
        out.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(out)
    }
}
