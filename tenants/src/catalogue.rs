//! The supplier's catalogue (ORG-13..ORG-16): items, named views selecting items by category
//! or one by one, views assigned to customer organisations with exactly one default, and
//! customer groups whose discount gives each customer its effective price.

use std::sync::Arc;

use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{
    Actor, AppError, AppResult, OrgKind, Permission, Reason, Role, TenantCtx, TenantId, TenantTx, TokenScope,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr};
use serde_json::json;

use crate::customers::CustomerService;
use crate::entity::{catalogue_item, catalogue_view, customer_group, organisation, view_assignment};

#[derive(Clone, Debug)]
pub struct CatalogueItem {
    pub id: uuid::Uuid,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub unit_price: Money,
    pub currency: String,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct CatalogueView {
    pub id: uuid::Uuid,
    pub name: String,
    pub description: Option<String>,
    pub categories: Vec<String>,
    pub items: Vec<uuid::Uuid>,
    /// ORG-14: applies to customers with no view of their own.
    pub supplier_default: bool,
}

#[derive(Clone, Debug)]
pub struct CustomerGroup {
    pub id: uuid::Uuid,
    pub name: String,
    /// Hundredths of a percent.
    pub discount_bp: i32,
    /// ORG-15: the supplier's own conditions apply (no group discount).
    pub same_as_supplier: bool,
}

/// A view as assigned to one organisation.
#[derive(Clone, Debug)]
pub struct AssignedView {
    pub view: CatalogueView,
    pub is_default: bool,
}

/// An item with the price this customer pays.
#[derive(Clone, Debug)]
pub struct PricedItem {
    pub item: CatalogueItem,
    pub discount_bp: i32,
    pub effective_price: Money,
}

/// What a customer user sees: its views (or the supplier's default) and their items.
#[derive(Clone, Debug)]
pub struct CustomerCatalogue {
    pub views: Vec<AssignedView>,
    pub items: Vec<PricedItem>,
    /// The views are the organisation's own; false: none is, and these are its supplier's default.
    pub own_views: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ItemInput {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub unit_price: Option<String>,
    pub currency: Option<String>,
    pub active: Option<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct ViewInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub categories: Option<Vec<String>>,
    pub items: Option<Vec<uuid::Uuid>>,
    pub supplier_default: Option<bool>,
}

fn item(r: catalogue_item::Model) -> CatalogueItem {
    CatalogueItem {
        id: r.id,
        sku: r.sku,
        name: r.name,
        description: r.description,
        category: r.category,
        unit_price: Money(r.unit_price_minor),
        currency: r.currency,
        active: r.active,
    }
}

fn view(r: catalogue_view::Model) -> CatalogueView {
    CatalogueView {
        id: r.id,
        name: r.name,
        description: r.description,
        categories: serde_json::from_value(r.categories).unwrap_or_default(),
        items: serde_json::from_value(r.item_ids).unwrap_or_default(),
        supplier_default: r.is_supplier_default,
    }
}

/// Price after a discount in hundredths of a percent, rounded half away from zero to the cent.
pub fn discounted(price: Money, discount_bp: i32) -> Money {
    let value = i128::from(price.0) * i128::from(10_000 - discount_bp);
    let rounded = (value + value.signum() * 5_000) / 10_000;
    Money(i64::try_from(rounded).unwrap_or(i64::MAX))
}

fn taken(field: &str, what: &str) -> impl Fn(sea_orm::DbErr) -> AppError {
    let (field, what) = (field.to_owned(), what.to_owned());
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict(&field, format!("This {what} is already used."))
        }
        _ => err.into(),
    }
}

fn text(errors: &mut Vec<AppError>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() || value.chars().count() > max {
        errors.push(AppError::refused(field, Reason::Length { max }));
    }
}

pub struct CatalogueService {
    handles: Arc<Handles>,
}

impl CatalogueService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    fn require_supplier(ctx: &TenantCtx) -> AppResult<()> {
        ctx.require(Permission::ManageCustomers)?;
        if ctx.kind() == OrgKind::Supplier { Ok(()) } else { Err(AppError::forbidden()) }
    }

    pub async fn items(&self, ctx: &TenantCtx) -> AppResult<Vec<CatalogueItem>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let rows = catalogue_item::Entity::find()
            .filter(catalogue_item::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(catalogue_item::Column::Sku)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(item).collect())
    }

    /// Creates (`id = None`) or changes an item.
    pub async fn save_item(
        &self,
        ctx: &TenantCtx,
        id: Option<uuid::Uuid>,
        input: ItemInput,
    ) -> AppResult<CatalogueItem> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        let existing = match id {
            Some(id) => Some(
                catalogue_item::Entity::find_by_id((ctx.tenant(), id))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let now = self.handles.now();
        let before = existing.clone().map(item);
        let mut after = before.clone().unwrap_or(CatalogueItem {
            id: self.handles.new_id(),
            sku: String::new(),
            name: String::new(),
            description: None,
            category: None,
            unit_price: Money(0),
            currency: "EUR".to_owned(),
            active: true,
        });
        let mut errors = Vec::new();
        if let Some(sku) = input.sku {
            after.sku = sku.trim().to_owned();
        }
        text(&mut errors, "sku", &after.sku, 64);
        if let Some(name) = input.name {
            after.name = name.trim().to_owned();
        }
        text(&mut errors, "name", &after.name, 200);
        if let Some(d) = input.description {
            after.description = d.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        }
        if let Some(c) = input.category {
            after.category = c.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        }
        if let Some(price) = input.unit_price {
            match Money::parse(&price) {
                Some(m) if m.0 >= 0 => after.unit_price = m,
                _ => errors.push(AppError::refused("unit_price", Reason::PositiveAmount)),
            }
        }
        if let Some(currency) = input.currency {
            let currency = currency.trim().to_uppercase();
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                errors.push(AppError::invalid("currency", "Use an ISO 4217 code such as EUR."));
            }
            after.currency = currency;
        }
        if let Some(active) = input.active {
            after.active = active;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = catalogue_item::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            sku: Set(after.sku.clone()),
            name: Set(after.name.clone()),
            description: Set(after.description.clone()),
            category: Set(after.category.clone()),
            unit_price_minor: Set(after.unit_price.0),
            currency: Set(after.currency.clone()),
            active: Set(after.active),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() { model.update(tx.conn()).await } else { model.insert(tx.conn()).await }
            .map_err(taken("sku", "SKU"))?;
        let v = |i: &CatalogueItem| json!({ "sku": i.sku, "name": i.name, "category": i.category, "unit_price": i.unit_price.to_decimal_string(), "active": i.active });
        let changes = audit::diff(&before.as_ref().map_or(serde_json::Value::Null, v), &v(&after));
        audit::record(&tx, ctx, AuditEntry::new("catalogue_item.save", "catalogue_item", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn views(&self, ctx: &TenantCtx) -> AppResult<Vec<CatalogueView>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let views = load_views(&tx).await?;
        tx.commit().await?;
        Ok(views)
    }

    /// Creates or changes a view; its items must be the supplier's own.
    pub async fn save_view(
        &self,
        ctx: &TenantCtx,
        id: Option<uuid::Uuid>,
        input: ViewInput,
    ) -> AppResult<CatalogueView> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        let existing = match id {
            Some(id) => Some(
                catalogue_view::Entity::find_by_id((ctx.tenant(), id))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let now = self.handles.now();
        let before = existing.clone().map(view);
        let mut after = before.clone().unwrap_or(CatalogueView {
            id: self.handles.new_id(),
            name: String::new(),
            description: None,
            categories: Vec::new(),
            items: Vec::new(),
            supplier_default: false,
        });
        let mut errors = Vec::new();
        if let Some(name) = input.name {
            after.name = name.trim().to_owned();
        }
        text(&mut errors, "name", &after.name, 100);
        if let Some(d) = input.description {
            after.description = d.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        }
        if let Some(categories) = input.categories {
            after.categories = categories.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
        }
        if let Some(items) = input.items {
            after.items = items;
            after.items.sort_unstable();
            after.items.dedup();
        }
        if after.items.len() > 10_000 || after.categories.len() > 500 {
            errors.push(AppError::invalid("items", "A view selects at most 10000 items and 500 categories."));
        }
        if !after.items.is_empty() {
            let found = catalogue_item::Entity::find()
                .filter(catalogue_item::Column::TenantId.eq(ctx.tenant()))
                .filter(catalogue_item::Column::Id.is_in(after.items.clone()))
                .all(tx.conn())
                .await?;
            if found.len() != after.items.len() {
                errors.push(AppError::invalid("items", "Some items are not in your catalogue."));
            }
        }
        if let Some(default) = input.supplier_default {
            after.supplier_default = default;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        if after.supplier_default {
            catalogue_view::Entity::update_many()
                .col_expr(catalogue_view::Column::IsSupplierDefault, sea_orm::sea_query::Expr::value(false))
                .filter(catalogue_view::Column::TenantId.eq(ctx.tenant()))
                .filter(catalogue_view::Column::Id.ne(after.id))
                .exec(tx.conn())
                .await?;
        }
        let model = catalogue_view::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            name: Set(after.name.clone()),
            description: Set(after.description.clone()),
            categories: Set(json!(after.categories)),
            item_ids: Set(json!(after.items)),
            is_supplier_default: Set(after.supplier_default),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() { model.update(tx.conn()).await } else { model.insert(tx.conn()).await }?;
        let v = |x: &CatalogueView| json!({ "name": x.name, "categories": x.categories, "items": x.items, "supplier_default": x.supplier_default });
        let changes = audit::diff(&before.as_ref().map_or(serde_json::Value::Null, v), &v(&after));
        audit::record(&tx, ctx, AuditEntry::new("catalogue_view.save", "catalogue_view", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn groups(&self, ctx: &TenantCtx) -> AppResult<Vec<CustomerGroup>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let rows = customer_group::Entity::find()
            .filter(customer_group::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(customer_group::Column::Name)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(group).collect())
    }

    /// Creates or changes a customer group and its discount (0–100 %).
    pub async fn save_group(
        &self,
        ctx: &TenantCtx,
        id: Option<uuid::Uuid>,
        name: Option<String>,
        discount: Option<String>,
        same_as_supplier: Option<bool>,
    ) -> AppResult<CustomerGroup> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        let existing = match id {
            Some(id) => Some(
                customer_group::Entity::find_by_id((ctx.tenant(), id))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let now = self.handles.now();
        let before = existing.clone().map(group);
        let mut after = before.clone().unwrap_or(CustomerGroup {
            id: self.handles.new_id(),
            name: String::new(),
            discount_bp: 0,
            same_as_supplier: false,
        });
        let mut errors = Vec::new();
        if let Some(name) = name {
            after.name = name.trim().to_owned();
        }
        text(&mut errors, "name", &after.name, 100);
        if let Some(discount) = discount {
            match Money::parse(&discount).and_then(|m| i32::try_from(m.0).ok()).filter(|bp| (0..=10_000).contains(bp)) {
                Some(bp) => after.discount_bp = bp,
                None => errors.push(AppError::invalid("discount", "Enter a percentage from 0 to 100.")),
            }
        }
        if let Some(same) = same_as_supplier {
            after.same_as_supplier = same;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = customer_group::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(after.id),
            name: Set(after.name.clone()),
            discount_bp: Set(after.discount_bp),
            same_as_supplier: Set(after.same_as_supplier),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        if existing.is_some() { model.update(tx.conn()).await } else { model.insert(tx.conn()).await }
            .map_err(taken("name", "name"))?;
        let v = |g: &CustomerGroup| json!({ "name": g.name, "discount_bp": g.discount_bp, "same_as_supplier": g.same_as_supplier });
        let changes = audit::diff(&before.as_ref().map_or(serde_json::Value::Null, v), &v(&after));
        audit::record(&tx, ctx, AuditEntry::new("customer_group.save", "customer_group", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Puts a customer organisation in a customer group (or none).
    pub async fn set_customer_group(
        &self,
        ctx: &TenantCtx,
        org: TenantId,
        group_id: Option<uuid::Uuid>,
    ) -> AppResult<()> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        let current = CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        if let Some(g) = group_id {
            customer_group::Entity::find_by_id((ctx.tenant(), g))
                .one(tx.conn())
                .await?
                .ok_or_else(AppError::not_found)?;
        }
        let mut row: organisation::ActiveModel = current.clone().into();
        row.customer_group_id = Set(group_id);
        row.update(tx.conn()).await?;
        let changes = audit::diff(
            &json!({ "customer_group": current.customer_group_id }),
            &json!({ "customer_group": group_id }),
        );
        audit::record(&tx, ctx, AuditEntry::new("organisation.set_customer_group", "organisation", org, changes))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a view to a customer; `default` makes it the one default (ORG-13). The first view
    /// assigned is the default whatever `default` says: there is always exactly one.
    pub async fn assign_view(
        &self,
        ctx: &TenantCtx,
        org: TenantId,
        view_id: uuid::Uuid,
        default: bool,
    ) -> AppResult<Vec<AssignedView>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        catalogue_view::Entity::find_by_id((ctx.tenant(), view_id))
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let current = assignments(&tx, org).await?;
        let default = default || current.iter().all(|a| !a.is_default);
        if default {
            view_assignment::Entity::update_many()
                .col_expr(view_assignment::Column::IsDefault, sea_orm::sea_query::Expr::value(false))
                .filter(view_assignment::Column::TenantId.eq(ctx.tenant()))
                .filter(view_assignment::Column::OrganisationId.eq(org))
                .exec(tx.conn())
                .await?;
        }
        let row = view_assignment::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            organisation_id: Set(org),
            view_id: Set(view_id),
            is_default: Set(default),
        };
        if current.iter().any(|a| a.view_id == view_id) {
            row.update(tx.conn()).await?
        } else {
            row.insert(tx.conn()).await?
        };
        audit::record(
            &tx,
            ctx,
            AuditEntry::new(
                "catalogue_view.assign",
                "organisation",
                org,
                json!({ "view": view_id, "default": default }),
            ),
        )
        .await?;
        let views = assigned_views(&tx, org).await?;
        tx.commit().await?;
        Ok(views)
    }

    /// Takes a view away from a customer; if it was the default, another assigned view becomes it.
    pub async fn unassign_view(
        &self,
        ctx: &TenantCtx,
        org: TenantId,
        view_id: uuid::Uuid,
    ) -> AppResult<Vec<AssignedView>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        let current = assignments(&tx, org).await?;
        let removed = current.iter().find(|a| a.view_id == view_id).ok_or_else(AppError::not_found)?;
        view_assignment::Entity::delete_by_id((ctx.tenant(), org, view_id)).exec(tx.conn()).await?;
        if removed.is_default
            && let Some(next) = current.iter().find(|a| a.view_id != view_id)
        {
            let mut row: view_assignment::ActiveModel = next.clone().into();
            row.is_default = Set(true);
            row.update(tx.conn()).await?;
        }
        audit::record(
            &tx,
            ctx,
            AuditEntry::new("catalogue_view.unassign", "organisation", org, json!({ "view": view_id })),
        )
        .await?;
        let views = assigned_views(&tx, org).await?;
        tx.commit().await?;
        Ok(views)
    }

    /// The views assigned to one of the supplier's customers.
    pub async fn views_of(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<Vec<AssignedView>> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        let views = assigned_views(&tx, org).await?;
        tx.commit().await?;
        Ok(views)
    }

    /// The caller's catalogue: its organisation's views (or its supplier's default view,
    /// ORG-14) and their active items at the price its customer group gives (ORG-15).
    pub async fn my_catalogue(&self, ctx: &TenantCtx) -> AppResult<CustomerCatalogue> {
        let (own, supplier) = {
            let tx = ctx.read().await?;
            let own =
                organisation::Entity::find_by_id(ctx.tenant()).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
            tx.commit().await?;
            let (Some(OrgKind::Customer), Some(supplier)) = (OrgKind::from_stored(&own.kind), own.parent_id) else {
                return Ok(CustomerCatalogue { views: Vec::new(), items: Vec::new(), own_views: false });
            };
            (own, supplier)
        };
        // Read the supplier's catalogue inside the supplier's tenant, read-only, for this customer only.
        let reader = Actor { role: Role::ReadOnly, scope: TokenScope::Read, ..Actor::system() };
        let supplier_ctx = ctx.derive(supplier, OrgKind::Supplier, reader);
        let tx = supplier_ctx.read().await?;
        let catalogue = priced(&tx, &own).await?;
        tx.commit().await?;
        Ok(catalogue)
    }

    /// What one of the supplier's customers sees of its catalogue, at its prices (ORG-13..15).
    pub async fn catalogue_of(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<CustomerCatalogue> {
        Self::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let own = CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        let catalogue = priced(&tx, &own).await?;
        tx.commit().await?;
        Ok(catalogue)
    }
}

/// The views of `own` (or its supplier's default view, ORG-14) and their active items at the
/// price its customer group gives (ORG-15), read in its supplier's tenant (`tx`).
async fn priced(tx: &TenantTx, own: &organisation::Model) -> AppResult<CustomerCatalogue> {
    let supplier = tx.tenant();
    let mut views = assigned_views(tx, own.id).await?;
    let own_views = !views.is_empty();
    if !own_views {
        views = load_views(tx)
            .await?
            .into_iter()
            .filter(|v| v.supplier_default)
            .map(|view| AssignedView { view, is_default: true })
            .collect();
    }
    let discount_bp = match own.customer_group_id {
        Some(g) => customer_group::Entity::find_by_id((supplier, g))
            .one(tx.conn())
            .await?
            .filter(|g| !g.same_as_supplier)
            .map_or(0, |g| g.discount_bp),
        None => 0,
    };
    let items = catalogue_item::Entity::find()
        .filter(catalogue_item::Column::TenantId.eq(supplier))
        .filter(catalogue_item::Column::Active.eq(true))
        .order_by_asc(catalogue_item::Column::Sku)
        .all(tx.conn())
        .await?;
    // Items come in SKU order, each once, however many views select it.
    let visible: Vec<PricedItem> = items
        .into_iter()
        .filter(|i| {
            views.iter().any(|v| {
                v.view.items.contains(&i.id) || i.category.as_ref().is_some_and(|c| v.view.categories.contains(c))
            })
        })
        .map(|i| {
            let item = item(i);
            PricedItem { effective_price: discounted(item.unit_price, discount_bp), discount_bp, item }
        })
        .collect();
    Ok(CustomerCatalogue { views, items: visible, own_views })
}

fn group(r: customer_group::Model) -> CustomerGroup {
    CustomerGroup { id: r.id, name: r.name, discount_bp: r.discount_bp, same_as_supplier: r.same_as_supplier }
}

async fn load_views(tx: &TenantTx) -> AppResult<Vec<CatalogueView>> {
    let rows = catalogue_view::Entity::find()
        .filter(catalogue_view::Column::TenantId.eq(tx.tenant()))
        .order_by_asc(catalogue_view::Column::Name)
        .all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(view).collect())
}

async fn assignments(tx: &TenantTx, org: TenantId) -> AppResult<Vec<view_assignment::Model>> {
    Ok(view_assignment::Entity::find()
        .filter(view_assignment::Column::TenantId.eq(tx.tenant()))
        .filter(view_assignment::Column::OrganisationId.eq(org))
        .all(tx.conn())
        .await?)
}

async fn assigned_views(tx: &TenantTx, org: TenantId) -> AppResult<Vec<AssignedView>> {
    let assigned = assignments(tx, org).await?;
    let views = load_views(tx).await?;
    Ok(views
        .into_iter()
        .filter_map(|view| {
            assigned.iter().find(|a| a.view_id == view.id).map(|a| AssignedView { is_default: a.is_default, view })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounts_round_to_the_cent() {
        assert_eq!(discounted(Money(1999), 1000), Money(1799)); // 17.991 → 17.99
        assert_eq!(discounted(Money(1000), 1250), Money(875));
        assert_eq!(discounted(Money(5), 5000), Money(3)); // 2.5 cents → 3
        assert_eq!(discounted(Money(1234), 0), Money(1234));
    }
}
