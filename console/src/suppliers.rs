//! The platform admin's screen (issue 16, screen 8): the suppliers, a new supplier with its
//! super-admin (mailed a set-password link), and blocking or unblocking one, through
//! [`clientele_tenants::suppliers::SupplierService`]. The first platform administrator comes
//! from `clientele platform-admin`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, OrgKind, Permission, TenantId};
use clientele_tenants::suppliers::{NewSupplier, Supplier};
use serde::Deserialize;

use crate::Console;
use crate::organisations::{BlockFields, languages, parse_org};
use crate::session::Signed;
use crate::view::{self, Base, FieldErrors};

/// Whether the caller administers the platform: its suppliers instead of clients.
pub(crate) fn sees_suppliers(caller: &Signed) -> bool {
    let ctx = &caller.auth.ctx;
    ctx.kind() == OrgKind::Platform && ctx.can(Permission::ManageCustomers)
}

pub(crate) struct SupplierRow {
    id: String,
    name: String,
    blocked: bool,
    created: String,
}

/// The new-supplier form's values.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct NewFields {
    name: String,
    admin_name: String,
    email: String,
    language: String,
}

#[derive(Template)]
#[template(path = "suppliers.html")]
struct SuppliersPage {
    base: Base,
    rows: Vec<SupplierRow>,
    languages: Vec<&'static str>,
    f: NewFields,
    notice: Option<String>,
    errors: FieldErrors,
}

impl SuppliersPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

async fn page(
    console: &Console,
    caller: &Signed,
    f: NewFields,
    notice: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let suppliers = match console.tenants.suppliers.list(&caller.auth.ctx).await {
        Ok(suppliers) => suppliers,
        Err(err) => return view::failed(console, caller, &err),
    };
    let t = caller.lang;
    let row = |s: Supplier| SupplierRow {
        id: s.id.to_string(),
        name: s.name,
        blocked: s.blocked,
        created: t.date(s.created_at.date_naive()),
    };
    let page = SuppliersPage {
        base: Base::of(console, caller, "/suppliers"),
        rows: suppliers.into_iter().map(row).collect(),
        languages: languages(),
        f,
        notice,
        errors,
    };
    view::html(status, &page)
}

fn blank(caller: &Signed) -> NewFields {
    NewFields { language: caller.lang.tag().to_owned(), ..NewFields::default() }
}

/// `GET /suppliers`.
pub(crate) async fn list(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    page(&console, &caller, blank(&caller), None, FieldErrors::default(), StatusCode::OK).await
}

/// `POST /suppliers`: the supplier and its super-admin, who gets their access data by mail.
pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<NewFields>,
) -> Response {
    let t = caller.lang;
    let made = async {
        let language = f.language.parse().map_err(|_| AppError::invalid("language", "Choose a language."))?;
        let new = NewSupplier {
            name: f.name.clone(),
            admin_name: f.admin_name.clone(),
            admin_email: f.email.clone(),
            language,
        };
        console.tenants.suppliers.create(&caller.auth.ctx, new).await
    }
    .await;
    match made {
        Ok((supplier, _)) => {
            let notice = t.args("supplier-created", &[("name", &supplier.name), ("email", f.email.trim())]);
            page(&console, &caller, blank(&caller), Some(notice), FieldErrors::default(), StatusCode::CREATED).await
        }
        Err(err) if err.is_user_error() => {
            let errors = FieldErrors::of(&err, t);
            page(&console, &caller, f, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// `POST /suppliers/{id}/blocked`: blocks (`blocked=1`) or unblocks the supplier.
pub(crate) async fn set_blocked(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<BlockFields>,
) -> Response {
    let blocked = f.block();
    let done = async {
        let id: TenantId = parse_org(&id)?;
        console.tenants.suppliers.set_blocked(&caller.auth.ctx, id, blocked).await
    }
    .await;
    match done {
        Ok(supplier) => {
            let key = if blocked { "supplier-blocked" } else { "supplier-unblocked" };
            let notice = caller.lang.arg(key, "name", &supplier.name);
            page(&console, &caller, blank(&caller), Some(notice), FieldErrors::default(), StatusCode::OK).await
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}
