//! The supplier's catalogue (issue 16, screen 5; ORG-13..ORG-16): its items, its catalogue
//! views (by category or item by item, one of them the default for customers without a view of
//! their own) and its customer groups with their discount; and on an organisation's page the
//! «Vues catalogue et conditions» tab: the views assigned to it with its one default, its
//! customer group, and the items it sees at the price it pays. Same `CatalogueService` as the
//! API's catalogue mutations.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, AppResult, Money, TenantId};
use clientele_tenants::catalogue::{CatalogueItem, CatalogueView, CustomerGroup, ItemInput, ViewInput};
use serde::Deserialize;

use crate::clients::opt;
use crate::organisations::{self, parse_org, require_customers};
use crate::session::Signed;
use crate::view::{self, Base, FieldErrors};
use crate::{Console, Lang};

/// An item in the list.
pub(crate) struct ItemRow {
    id: String,
    sku: String,
    name: String,
    category: String,
    price: String,
    active: bool,
}

impl ItemRow {
    fn of(i: &CatalogueItem, t: Lang) -> Self {
        Self {
            id: i.id.to_string(),
            sku: i.sku.clone(),
            name: i.name.clone(),
            category: i.category.clone().unwrap_or_default(),
            price: price(i.unit_price, &i.currency, t),
            active: i.active,
        }
    }
}

/// A view in the list.
pub(crate) struct ViewRow {
    pub id: String,
    pub name: String,
    pub categories: String,
    pub items: usize,
    pub supplier_default: bool,
}

impl ViewRow {
    pub(crate) fn of(v: &CatalogueView) -> Self {
        Self {
            id: v.id.to_string(),
            name: v.name.clone(),
            categories: v.categories.join(", "),
            items: v.items.len(),
            supplier_default: v.supplier_default,
        }
    }
}

/// A customer group in the list.
pub(crate) struct GroupRow {
    pub id: String,
    pub name: String,
    pub discount: String,
    pub same_as_supplier: bool,
}

impl GroupRow {
    pub(crate) fn of(g: &CustomerGroup, t: Lang) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name.clone(),
            discount: percent(g.discount_bp, t),
            same_as_supplier: g.same_as_supplier,
        }
    }
}

/// A price in the item's currency: the locale's money format for euros, else the amount and code.
pub(crate) fn price(amount: Money, currency: &str, t: Lang) -> String {
    if currency == "EUR" { t.money(amount) } else { format!("{} {currency}", amount.to_decimal_string()) }
}

/// Hundredths of a percent as a percentage for people (`12,5 %`, `12.5%`).
pub(crate) fn percent(bp: i32, t: Lang) -> String {
    let text = Money(i64::from(bp)).to_decimal_string();
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match t {
        Lang::Fr => format!("{}\u{a0}%", text.replace('.', ",")),
        Lang::En => format!("{text}%"),
    }
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    base: Base,
    items: Vec<ItemRow>,
    views: Vec<ViewRow>,
    groups: Vec<GroupRow>,
    /// The form that was sent (`item`, `view`, `group`) and its values, when refused.
    failed: &'static str,
    sent: Vec<(String, String)>,
    notice: Option<String>,
    errors: FieldErrors,
}

impl CataloguePage {
    fn error(&self, form: &str, field: &str) -> Option<&str> {
        if self.failed == form { self.errors.get(field) } else { None }
    }

    fn general(&self, form: &str) -> Option<&str> {
        if self.failed == form { self.errors.general.as_deref() } else { None }
    }

    /// What a refused form sent for `field`, to show it again.
    fn sent(&self, form: &str, field: &str) -> &str {
        let value = self.sent.iter().find(|(k, _)| k == field).map(|(_, v)| v.as_str());
        if self.failed == form { value.unwrap_or_default() } else { "" }
    }

    fn ticked(&self, form: &str, field: &str, value: &str) -> bool {
        self.failed == form && self.sent.iter().any(|(k, v)| k == field && v == value)
    }
}

async fn page(
    console: &Console,
    caller: &Signed,
    failed: &'static str,
    sent: Vec<(String, String)>,
    done: AppResult<String>,
) -> Response {
    let t = caller.lang;
    let (notice, errors, status) = match done {
        Ok(notice) if notice.is_empty() => (None, FieldErrors::default(), StatusCode::OK),
        Ok(notice) => (Some(notice), FieldErrors::default(), StatusCode::OK),
        Err(err) if err.is_user_error() => (None, FieldErrors::of(&err, t), StatusCode::UNPROCESSABLE_ENTITY),
        Err(err) => return view::failed(console, caller, &err),
    };
    let ctx = &caller.auth.ctx;
    let catalogue = &console.tenants.catalogue;
    let loaded = async {
        require_customers(caller)?;
        Ok::<_, AppError>((catalogue.items(ctx).await?, catalogue.views(ctx).await?, catalogue.groups(ctx).await?))
    }
    .await;
    let (items, views, groups) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => return view::failed(console, caller, &err),
    };
    let page = CataloguePage {
        base: Base::of(console, caller, "/catalogue"),
        items: items.iter().map(|i| ItemRow::of(i, t)).collect(),
        views: views.iter().map(ViewRow::of).collect(),
        groups: groups.iter().map(|g| GroupRow::of(g, t)).collect(),
        failed,
        sent,
        notice,
        errors,
    };
    view::html(status, &page)
}

/// `GET /catalogue`.
pub(crate) async fn show(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    page(&console, &caller, "", Vec::new(), Ok(String::new())).await
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn ticked(form: &[(String, String)], name: &str) -> bool {
    field(form, name) == Some("1")
}

fn parse_id(raw: &str) -> AppResult<uuid::Uuid> {
    raw.parse().map_err(|_| AppError::not_found())
}

/// `POST /catalogue/items`: a new item.
pub(crate) async fn create_item(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let text = |name: &str| field(&form, name).map(str::to_owned);
    let input = ItemInput {
        sku: text("sku"),
        name: text("name"),
        description: Some(field(&form, "description").and_then(opt)),
        category: Some(field(&form, "category").and_then(opt)),
        // French readers write decimals with a comma.
        unit_price: text("unit_price").map(|p| p.replace(',', ".")),
        currency: text("currency"),
        active: Some(true),
    };
    let saved = console.tenants.catalogue.save_item(&caller.auth.ctx, None, input).await;
    let done = saved.map(|i| caller.lang.arg("catalogue-item-added", "name", &i.name));
    page(&console, &caller, "item", form, done).await
}

/// `POST /catalogue/items/{id}/active`: offers (`active=1`) or withdraws an item.
pub(crate) async fn set_item_active(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let done = async {
        let input = ItemInput { active: Some(ticked(&form, "active")), ..ItemInput::default() };
        let item = console.tenants.catalogue.save_item(&caller.auth.ctx, Some(parse_id(&id)?), input).await?;
        let key = if item.active { "catalogue-item-offered" } else { "catalogue-item-withdrawn" };
        Ok(caller.lang.arg(key, "name", &item.name))
    }
    .await;
    page(&console, &caller, "", Vec::new(), done).await
}

/// `POST /catalogue/views`: a new view of categories (comma-separated) and ticked items.
pub(crate) async fn create_view(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let done = async {
        let items = form.iter().filter(|(k, _)| k == "item").map(|(_, v)| parse_id(v)).collect::<AppResult<_>>()?;
        let categories = field(&form, "categories").unwrap_or_default().split(',').map(str::to_owned).collect();
        let input = ViewInput {
            name: field(&form, "name").map(str::to_owned),
            description: Some(field(&form, "description").and_then(opt)),
            categories: Some(categories),
            items: Some(items),
            supplier_default: Some(ticked(&form, "supplier_default")),
        };
        let saved = console.tenants.catalogue.save_view(&caller.auth.ctx, None, input).await?;
        Ok(caller.lang.arg("catalogue-view-added", "name", &saved.name))
    }
    .await;
    page(&console, &caller, "view", form, done).await
}

/// `POST /catalogue/groups`: a new customer group and its discount.
pub(crate) async fn create_group(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let text = |name: &str| field(&form, name).map(str::to_owned);
    let saved = console
        .tenants
        .catalogue
        .save_group(
            &caller.auth.ctx,
            None,
            text("name"),
            text("discount").map(|d| d.replace(',', ".")),
            Some(ticked(&form, "same_as_supplier")),
        )
        .await;
    let done = saved.map(|g| caller.lang.arg("catalogue-group-added", "name", &g.name));
    page(&console, &caller, "group", form, done).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AssignFields {
    view: String,
    default: String,
}

/// `POST /organisations/{id}/views` (ORG-13): assigns a view to the organisation, as its
/// default when ticked (the first one always is).
pub(crate) async fn assign_view(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AssignFields>,
) -> Response {
    let Ok(org) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let done = async {
        let view = f.view.parse().map_err(|_| AppError::invalid("view", "Choose a view."))?;
        console.tenants.catalogue.assign_view(&caller.auth.ctx, org, view, f.default == "1").await
    }
    .await;
    tab_answer(&console, &caller, org, done.map(|_| "catalogue-view-assigned")).await
}

/// `POST /organisations/{id}/views/{view}/unassign`: takes the view away; another assigned
/// view becomes the default if it was.
pub(crate) async fn unassign_view(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path((id, view)): Path<(String, String)>,
) -> Response {
    let Ok(org) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let done = async { console.tenants.catalogue.unassign_view(&caller.auth.ctx, org, parse_id(&view)?).await }.await;
    tab_answer(&console, &caller, org, done.map(|_| "catalogue-view-unassigned")).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct GroupFields {
    group: String,
}

/// `POST /organisations/{id}/customer-group` (ORG-15): the organisation's customer group, or none.
pub(crate) async fn set_customer_group(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<GroupFields>,
) -> Response {
    let Ok(org) = parse_org(&id) else { return view::failed(&console, &caller, &AppError::not_found()) };
    let done = async {
        let group =
            opt(&f.group).map(|g| g.parse().map_err(|_| AppError::invalid("group", "Choose a group."))).transpose()?;
        console.tenants.catalogue.set_customer_group(&caller.auth.ctx, org, group).await
    }
    .await;
    tab_answer(&console, &caller, org, done.map(|()| "catalogue-group-set")).await
}

async fn tab_answer(console: &Console, caller: &Signed, org: TenantId, done: AppResult<&str>) -> Response {
    organisations::action_answer(console, caller, org, "catalogue", done, Vec::new()).await
}
