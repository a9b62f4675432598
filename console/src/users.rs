//! The users of the caller's organisation: the list (super-admins and admins), and for
//! super-admins an invitation (the user is created without a password and mailed a
//! set-password link), role changes, deactivation and reactivation, each refused with the
//! last-super-admin rule as a plain message.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::page::{PageRequest, encode_cursor};
use clientele_kernel::{AppError, ErrorCode, Language, OrgKind, Permission, Role, UserId};
use clientele_tenants::users::NewUser;
use clientele_tenants::{User, UserStatus};
use serde::Deserialize;

use crate::Console;
use crate::session::Signed;
use crate::view::{self, Base, FieldErrors, redirect};

/// Users per page.
const PAGE: i64 = 100;
const ROLES: [Role; 4] = [Role::SuperAdmin, Role::Admin, Role::Member, Role::ReadOnly];

/// One row of the list.
pub(crate) struct UserRow {
    id: String,
    name: String,
    email: String,
    username: Option<String>,
    role: &'static str,
    role_label: String,
    active: bool,
    status: String,
    last_sign_in: String,
    is_me: bool,
}

impl UserRow {
    fn of(u: &User, caller: &Signed) -> Self {
        let t = caller.lang;
        Self {
            id: u.id.to_string(),
            name: u.display_name.clone(),
            email: u.email.clone(),
            username: u.username.clone(),
            role: u.role.as_str(),
            role_label: t.s(&format!("role-{}", u.role.as_str())),
            active: u.status == UserStatus::Active,
            status: t.s(&format!("status-{}", <&str>::from(u.status))),
            last_sign_in: u.last_sign_in_at.map_or_else(|| t.s("never"), |at| t.date(at.date_naive())),
            is_me: caller.auth.ctx.actor().user() == Some(u.id),
        }
    }
}

/// The invitation form's values.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct InviteFields {
    email: String,
    display_name: String,
    /// Optional (USR-02): left empty, the user has none.
    username: String,
    role: String,
    language: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    base: Base,
    rows: Vec<UserRow>,
    /// The roles this kind of organisation hands out: value and label.
    roles: Vec<(&'static str, String)>,
    can_manage: bool,
    /// A customer's super-admin: the link to its supplier's direct logins.
    sees_direct_login: bool,
    /// The link to the organisation's API tokens (those who may manage them).
    sees_tokens: bool,
    notice: Option<String>,
    /// Why the last change was refused.
    refusal: Option<String>,
    f: InviteFields,
    errors: FieldErrors,
    next: Option<String>,
}

impl UsersPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct UsersQuery {
    after: String,
    /// The address an invitation was just sent to.
    invited: String,
}

/// What the page shows besides the list.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    refusal: Option<String>,
    f: InviteFields,
    errors: FieldErrors,
}

async fn page(console: &Console, caller: &Signed, after: &str, extras: Extras, status: StatusCode) -> Response {
    let t = caller.lang;
    let ctx = &caller.auth.ctx;
    let after = Some(after.to_owned()).filter(|a| !a.is_empty());
    let listed = async {
        let request = PageRequest::new(Some(PAGE), after, None, None)?;
        console.tenants.users.list(ctx, request).await
    }
    .await;
    let users = match listed {
        Ok(users) => users,
        Err(err) => return view::failed(console, caller, &err),
    };
    let next = users.has_next_page.then(|| users.items.last().map(|u| encode_cursor(u.id.0))).flatten();
    let roles = ROLES
        .into_iter()
        .filter(|r| r.allowed_in(ctx.kind()))
        .map(|r| (r.as_str(), t.s(&format!("role-{}", r.as_str()))))
        .collect();
    let f = if extras.f.role.is_empty() { InviteFields { role: "member".to_owned(), ..extras.f } } else { extras.f };
    let page = UsersPage {
        base: Base::of(console, caller, "/users"),
        rows: users.items.iter().map(|u| UserRow::of(u, caller)).collect(),
        roles,
        can_manage: ctx.can(Permission::ManageUsers),
        sees_direct_login: ctx.kind() == OrgKind::Customer && ctx.can(Permission::ManageUsers),
        sees_tokens: ctx.can(Permission::ManageApiTokens),
        notice: extras.notice,
        refusal: extras.refusal,
        f,
        errors: extras.errors,
        next,
    };
    view::html(status, &page)
}

/// `GET /users`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    caller: Signed,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let notice = Some(q.invited).filter(|e| !e.is_empty()).map(|e| caller.lang.arg("user-invited", "email", &e));
    page(&console, &caller, &q.after, Extras { notice, ..Extras::default() }, StatusCode::OK).await
}

fn language_of(raw: &str) -> Language {
    match raw {
        "en" => Language::EnUs,
        _ => Language::Fr,
    }
}

fn parse_id(raw: &str) -> Result<UserId, AppError> {
    raw.parse::<uuid::Uuid>().map(UserId).map_err(|_| AppError::not_found())
}

/// A refused change: the rule that refused it shown above the list (the last super-admin, a
/// seat limit), anything else as the error page.
async fn refused(console: &Console, caller: &Signed, err: &AppError) -> Response {
    match err.code() {
        code @ (ErrorCode::LastSuperAdmin | ErrorCode::SeatLimitReached) => {
            let extras = Extras { refusal: Some(caller.lang.error(code)), ..Extras::default() };
            page(console, caller, "", extras, StatusCode::CONFLICT).await
        }
        _ => view::failed(console, caller, err),
    }
}

/// `POST /users`: creates the user without a password and mails them the set-password link.
pub(crate) async fn invite(
    State(console): State<Arc<Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<InviteFields>,
) -> Response {
    let ctx = &caller.auth.ctx;
    let created = async {
        let role = f.role.parse::<Role>().map_err(|_| AppError::invalid("role", "Choose a role."))?;
        let input = NewUser {
            email: f.email.clone(),
            username: Some(f.username.trim()).filter(|u| !u.is_empty()).map(str::to_owned),
            display_name: f.display_name.clone(),
            role,
            language: Some(language_of(&f.language)),
            password: None,
        };
        console.tenants.users.create(ctx, input).await
    }
    .await;
    let user = match created {
        Ok(user) => user,
        Err(err) if err.is_user_error() && err.code() != ErrorCode::SeatLimitReached => {
            let extras = Extras { errors: FieldErrors::of(&err, caller.lang), f, ..Extras::default() };
            return page(&console, &caller, "", extras, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(err) => return refused(&console, &caller, &err).await,
    };
    match console.tenants.access.invite(ctx, user.id).await {
        Ok(sent) => {
            let query = serde_urlencoded::to_string([("invited", sent.recipient.as_str())]).unwrap_or_default();
            redirect(&format!("/users?{query}"), caller.htmx)
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RoleForm {
    role: String,
}

/// `POST /users/{id}/role`.
pub(crate) async fn change_role(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<RoleForm>,
) -> Response {
    let changed = async {
        let role = form.role.parse::<Role>().map_err(|_| AppError::invalid("role", "Choose a role."))?;
        console.tenants.users.change_role(&caller.auth.ctx, parse_id(&id)?, role).await
    }
    .await;
    match changed {
        Ok(_) => redirect("/users", caller.htmx),
        Err(err) => refused(&console, &caller, &err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StatusForm {
    /// `deactivate`, `reactivate` or `invite` (the access data again).
    action: String,
}

/// `POST /users/{id}/status`.
pub(crate) async fn change_status(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<StatusForm>,
) -> Response {
    let ctx = &caller.auth.ctx;
    let users = &console.tenants.users;
    let done = async {
        let id = parse_id(&id)?;
        match form.action.as_str() {
            "deactivate" => users.deactivate(ctx, id).await.map(|_| None),
            "reactivate" => users.reactivate(ctx, id).await.map(|_| None),
            "invite" => console.tenants.access.invite(ctx, id).await.map(|sent| Some(sent.recipient)),
            _ => Err(AppError::invalid("action", "Choose what to do.")),
        }
    }
    .await;
    match done {
        Ok(None) => redirect("/users", caller.htmx),
        Ok(Some(recipient)) => {
            let query = serde_urlencoded::to_string([("invited", recipient.as_str())]).unwrap_or_default();
            redirect(&format!("/users?{query}"), caller.htmx)
        }
        Err(err) => refused(&console, &caller, &err).await,
    }
}
