//! User management inside one organisation, by its super-admins.

use std::sync::Arc;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::{AppError, AppResult, Language, Permission, Reason, Role, TenantCtx, TenantTx, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, SqlErr,
};
use serde_json::json;

use crate::auth::{end_sessions, normalise_email, store_password};
use crate::entity::{organisation, session, user};
use crate::model::{User, UserStatus, parse_stored};
use crate::password;

const REACTIVATE: &str = "user.reactivate";

/// Input of `createUser`.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    /// USR-02: a second name to sign in with.
    pub username: Option<String>,
    pub display_name: String,
    pub role: Role,
    /// `None`: the organisation's language.
    pub language: Option<Language>,
    /// Optional initial password (USR-03); otherwise the user sets one through a link.
    pub password: Option<String>,
}

/// Input of `updateUser`: only the given fields change.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    /// `Some(None)` clears the username.
    pub username: Option<Option<String>>,
    pub display_name: Option<String>,
    pub language: Option<Language>,
}

pub struct UserService {
    handles: Arc<Handles>,
}

/// Re-reads the acting user's role inside the writing transaction: a role revoked a moment
/// ago must not slip through on a stale request context.
pub(crate) async fn authorize(tx: &TenantTx, ctx: &TenantCtx, permission: Permission) -> AppResult<()> {
    ctx.require(permission)?;
    if let Some(actor) = ctx.actor().user() {
        let row =
            user::Entity::find_by_id((ctx.tenant(), actor)).one(tx.conn()).await?.ok_or_else(AppError::forbidden)?;
        let current = clientele_kernel::Actor { role: parse_stored("role", &row.role)?, ..*ctx.actor() };
        if row.status != "active" || !permission.allows(&current) {
            return Err(AppError::forbidden());
        }
    }
    Ok(())
}

pub(crate) fn validate_email(field: &str, email: &str) -> AppResult<String> {
    let email = normalise_email(email);
    if clientele_kernel::person::is_email(&email) { Ok(email) } else { Err(AppError::refused(field, Reason::Email)) }
}

pub(crate) fn validate_display_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::refused(field, Reason::NameLength { max: 200 }));
    }
    Ok(name.to_owned())
}

/// USR-02: 3 to 64 ASCII letters, digits, `.`, `_` or `-`, folded to lower case as e-mails are.
/// Never an `@`, so what someone signs in with is either an e-mail or a username, never both.
pub(crate) fn validate_username(field: &str, username: &str) -> AppResult<String> {
    let username = normalise_email(username);
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b".-_".contains(&b);
    if (3..=64).contains(&username.len()) && username.bytes().all(allowed) {
        Ok(username)
    } else {
        Err(AppError::refused(field, Reason::Username))
    }
}

fn email_taken_error() -> AppError {
    AppError::conflict("email", "A user with this e-mail already exists in this organisation.")
}

fn username_taken_error() -> AppError {
    AppError::conflict("username", "A user with this username already exists in this organisation.")
}

/// A unique index refused the row: which one its message names tells the field.
fn taken(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(index)) if index.contains("username") => username_taken_error(),
        Some(SqlErr::UniqueConstraintViolation(_)) => email_taken_error(),
        _ => err.into(),
    }
}

impl UserService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    pub async fn list(&self, ctx: &TenantCtx, page: PageRequest) -> AppResult<Page<User>> {
        ctx.require(Permission::ViewUsers)?;
        let tx = ctx.read().await?;
        let base = user::Entity::find().filter(user::Column::TenantId.eq(ctx.tenant()));
        let total = base.clone().count(tx.conn()).await?;
        let rows = page.by_id(base, user::Column::Id, true).all(tx.conn()).await?;
        tx.commit().await?;
        let users = rows.into_iter().map(User::from_row).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(users, &page, total))
    }

    /// One user of the caller's organisation; members may read only themselves.
    pub async fn get(&self, ctx: &TenantCtx, id: UserId) -> AppResult<User> {
        if ctx.actor().user() != Some(id) {
            ctx.require(Permission::ViewUsers)?;
        }
        let tx = ctx.read().await?;
        let row = user::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?;
        tx.commit().await?;
        User::from_row(row.ok_or_else(AppError::not_found)?)
    }

    pub async fn create(&self, ctx: &TenantCtx, input: NewUser) -> AppResult<User> {
        let email = validate_email("email", &input.email)?;
        let display_name = validate_display_name("display_name", &input.display_name)?;
        let username = input.username.as_deref().map(|u| validate_username("username", u)).transpose()?;
        if !input.role.allowed_in(ctx.kind()) {
            return Err(AppError::invalid("role", "This role does not exist in this kind of organisation."));
        }
        let password_hash = match input.password {
            Some(pw) => {
                password::validate("password", &pw)?;
                Some(password::hash(pw, self.handles.entropy.as_ref()).await?)
            }
            None => None,
        };
        let tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        // A taken e-mail or username is the answer even in a full organisation: a free seat
        // would not help.
        let same = |column: user::Column, value: &str| {
            user::Entity::find().filter(user::Column::TenantId.eq(ctx.tenant())).filter(column.eq(value)).one(tx.conn())
        };
        if same(user::Column::Email, &email).await?.is_some() {
            return Err(email_taken_error());
        }
        if let Some(username) = &username
            && same(user::Column::Username, username).await?.is_some()
        {
            return Err(username_taken_error());
        }
        crate::licences::take_seat(&tx, ctx.kind()).await?;
        let language = if let Some(language) = input.language {
            language
        } else {
            let org = organisation::Entity::find_by_id(ctx.tenant()).one(tx.conn()).await?;
            parse_stored("language", &org.ok_or_else(AppError::not_found)?.language)?
        };
        let now = self.handles.now();
        let row = user::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(UserId(self.handles.new_id())),
            email: Set(email),
            username: Set(username),
            display_name: Set(display_name),
            role: Set(input.role.as_str().to_owned()),
            status: Set("active".to_owned()),
            language: Set(language.tag().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            last_sign_in_at: Set(None),
            ..Default::default()
        }
        .insert(tx.conn())
        .await
        .map_err(taken)?;
        let created = User::from_row(row)?;
        if let Some(hash) = password_hash {
            store_password(&tx, ctx.tenant(), created.id, hash, now).await?;
        }
        audit::record(
            &tx,
            ctx,
            AuditEntry::new("user.create", "user", created.id, audit::created(&created.audit_view())),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn update(&self, ctx: &TenantCtx, id: UserId, patch: UserPatch) -> AppResult<User> {
        let email = patch.email.as_deref().map(|e| validate_email("email", e)).transpose()?;
        let username =
            patch.username.map(|u| u.as_deref().map(|u| validate_username("username", u)).transpose()).transpose()?;
        let display_name =
            patch.display_name.as_deref().map(|n| validate_display_name("display_name", n)).transpose()?;
        self.change(ctx, id, "user.update", |_, row| {
            if let Some(email) = email {
                row.email = Set(email);
            }
            if let Some(username) = username {
                row.username = Set(username);
            }
            if let Some(name) = display_name {
                row.display_name = Set(name);
            }
            if let Some(language) = patch.language {
                row.language = Set(language.tag().to_owned());
            }
            Ok(())
        })
        .await
    }

    pub async fn change_role(&self, ctx: &TenantCtx, id: UserId, role: Role) -> AppResult<User> {
        if !role.allowed_in(ctx.kind()) {
            return Err(AppError::invalid("role", "This role does not exist in this kind of organisation."));
        }
        self.change(ctx, id, "user.change_role", |current, row| {
            if current.role == Role::SuperAdmin && role != Role::SuperAdmin {
                current.guard_last_super_admin()?;
            }
            row.role = Set(role.as_str().to_owned());
            Ok(())
        })
        .await
    }

    /// Deactivates a user and revokes their sessions at once.
    pub async fn deactivate(&self, ctx: &TenantCtx, id: UserId) -> AppResult<User> {
        let user = self
            .change(ctx, id, "user.deactivate", |current, row| {
                if current.role == Role::SuperAdmin {
                    current.guard_last_super_admin()?;
                }
                row.status = Set("inactive".to_owned());
                Ok(())
            })
            .await?;
        Ok(user)
    }

    pub async fn reactivate(&self, ctx: &TenantCtx, id: UserId) -> AppResult<User> {
        self.change(ctx, id, REACTIVATE, |current, row| {
            if current.seat_needed {
                return Err(clientele_kernel::ErrorCode::SeatLimitReached.into());
            }
            row.status = Set("active".to_owned());
            Ok(())
        })
        .await
    }

    /// A super-admin sets another user's password (USR-03).
    pub async fn set_password(&self, ctx: &TenantCtx, id: UserId, new_password: String) -> AppResult<User> {
        password::validate("password", &new_password)?;
        let hash = password::hash(new_password, self.handles.entropy.as_ref()).await?;
        let tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        let row = user::Entity::find_by_id((ctx.tenant(), id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let now = self.handles.now();
        store_password(&tx, ctx.tenant(), id, hash, now).await?;
        // The user's other sessions end (issue 12 #11); a super-admin setting their own keeps
        // the session they are using.
        let keep = if ctx.actor().user() == Some(id) { ctx.actor().session() } else { None };
        let ended = end_sessions(&tx, id, keep, now).await?;
        let changes = json!({ "via": "admin", "sessions_ended": ended });
        audit::record(&tx, ctx, AuditEntry::new("user.set_password", "user", id, changes)).await?;
        tx.commit().await?;
        User::from_row(row)
    }

    /// Loads the user under lock, applies `edit`, writes it and the audit row, in one transaction.
    async fn change(
        &self,
        ctx: &TenantCtx,
        id: UserId,
        action: &'static str,
        edit: impl FnOnce(&Current, &mut user::ActiveModel) -> AppResult<()>,
    ) -> AppResult<User> {
        let mut tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        let row = user::Entity::find_by_id((ctx.tenant(), id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let before = User::from_row(row.clone())?;
        // Reactivating takes a seat: checked with the licences locked, like a creation.
        let seat_needed = if before.status == UserStatus::Inactive && action == REACTIVATE {
            match crate::licences::take_seat(&tx, ctx.kind()).await {
                Ok(()) => false,
                Err(err) if err.code() == clientele_kernel::ErrorCode::SeatLimitReached => true,
                Err(err) => return Err(err),
            }
        } else {
            false
        };
        let current = Current {
            role: before.role,
            other_active_super_admins: self.other_super_admins(&tx, id).await?,
            seat_needed,
        };
        let mut active: user::ActiveModel = row.into();
        edit(&current, &mut active)?;
        active.updated_at = Set(self.handles.now());
        let after = User::from_row(active.update(tx.conn()).await.map_err(taken)?)?;
        if after.status == UserStatus::Inactive && before.status == UserStatus::Active {
            session::Entity::update_many()
                .col_expr(session::Column::RevokedAt, sea_orm::sea_query::Expr::value(self.handles.now()))
                .filter(session::Column::TenantId.eq(ctx.tenant()))
                .filter(session::Column::UserId.eq(id))
                .filter(session::Column::RevokedAt.is_null())
                .exec(tx.conn())
                .await?;
            // A deactivated supplier user's direct logins end with it, in this transaction.
            crate::direct_login::end_all_opened_by(&mut tx, ctx, id).await?;
        }
        let changes = audit::diff(&before.audit_view(), &after.audit_view());
        audit::record(&tx, ctx, AuditEntry::new(action, "user", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Active super-admins other than `id`, locked so two concurrent demotions cannot both pass.
    async fn other_super_admins(&self, tx: &TenantTx, id: UserId) -> AppResult<usize> {
        let rows = user::Entity::find()
            .filter(user::Column::TenantId.eq(tx.tenant()))
            .filter(user::Column::Role.eq(Role::SuperAdmin.as_str()))
            .filter(user::Column::Status.eq("active"))
            .filter(user::Column::Id.ne(id))
            .lock_exclusive()
            .all(tx.conn())
            .await?;
        Ok(rows.len())
    }
}

/// What an edit may look at: the user's current role and whether other super-admins remain.
struct Current {
    role: Role,
    other_active_super_admins: usize,
    seat_needed: bool,
}

impl Current {
    fn guard_last_super_admin(&self) -> AppResult<()> {
        if self.other_active_super_admins == 0 {
            return Err(AppError::new(
                clientele_kernel::ErrorCode::LastSuperAdmin,
                "The organisation must keep at least one active super-admin.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(validate_email("email", "  Ann@Example.COM ").ok().as_deref(), Some("ann@example.com"));
        for bad in ["", "ann", "ann@", "@example.com", "ann@example", "a b@example.com", "ann@.com"] {
            assert!(validate_email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_folded_and_never_look_like_an_email() {
        assert_eq!(validate_username("username", " Ann.Smith_2-b ").ok().as_deref(), Some("ann.smith_2-b"));
        assert!(validate_username("username", &"a".repeat(64)).is_ok());
        for bad in ["", "ab", "ann@example.com", "ann smith", "anné", "ann+1", &"a".repeat(65)] {
            assert!(validate_username("username", bad).is_err(), "{bad}");
        }
    }
}
