//! Direct login (ORG-21, DESIGN.md §3): a supplier super-admin holding the direct-login right
//! opens a session inside one of its customer organisations as that organisation's super-admin.
//! The session carries both identities (so every audit row written during it names both), a
//! reason, and lasts at most an hour; it cannot open another one. The customer can forbid it,
//! list these sessions and end them; opening and ending are audited on both sides.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::token::{self, SecretKind};
use clientele_kernel::{
    Actor, AppError, AppResult, ErrorCode, OrgKind, Permission, Role, SessionId, TenantCtx, TenantId, TenantTx,
    TokenScope, UserId, tenancy::Principal,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::auth::ClientInfo;
use crate::customers::CustomerService;
use crate::entity::{organisation, session, user};
use crate::model::{Organisation, Session, User, UserStatus};
use crate::system_ctx;
use crate::users::authorize;

/// The longest a direct-login session lasts (shorter when sessions are configured shorter).
pub fn max_duration() -> Duration {
    Duration::minutes(60)
}

const MAX_REASON: usize = 500;

/// A freshly opened direct-login session: show `token` to the supplier user once.
#[derive(Debug)]
pub struct DirectLogin {
    pub token: String,
    pub session: Session,
    pub organisation: TenantId,
    /// The customer's super-admin the session acts as.
    pub acting_as: UserId,
}

/// The supplier user behind a direct login, as the customer sees them.
#[derive(Clone, Debug)]
pub struct SupplierUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}

/// A direct-login session, for the customer's list and the `viewer` banner.
#[derive(Clone, Debug)]
pub struct DirectLoginSession {
    pub id: SessionId,
    pub supplier: TenantId,
    pub supplier_name: String,
    pub supplier_user: SupplierUser,
    pub acting_as: UserId,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct DirectLoginService {
    handles: Arc<Handles>,
    session_ttl: Duration,
}

fn validate_reason(reason: &str) -> AppResult<String> {
    let reason = reason.trim();
    let len = reason.chars().count();
    if len == 0 || len > MAX_REASON || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid("reason", format!("Give a reason of 1 to {MAX_REASON} characters.")));
    }
    Ok(reason.to_owned())
}

/// The same rule as sign-in (USR-08): inactive, blocked or not-yet-valid organisations are closed.
fn check_available(org: &organisation::Model, now: DateTime<Utc>) -> AppResult<()> {
    crate::model::check_available(&org.status, org.blocked, org.valid_from, now.date_naive())
}

impl DirectLoginService {
    pub fn new(handles: Arc<Handles>, session_ttl: Duration) -> Self {
        Self { handles, session_ttl }
    }

    /// Grants or revokes a supplier user's direct-login right; only the supplier's super-admins may.
    pub async fn set_permission(&self, ctx: &TenantCtx, id: UserId, allowed: bool) -> AppResult<User> {
        if ctx.kind() != OrgKind::Supplier {
            return Err(AppError::forbidden());
        }
        let mut tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        let row = user::Entity::find_by_id((ctx.tenant(), id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let before = row.can_direct_login;
        let mut active: user::ActiveModel = row.into();
        active.can_direct_login = Set(allowed);
        active.updated_at = Set(self.handles.now());
        let row = active.update(tx.conn()).await?;
        let changes = audit::diff(&json!({ "can_direct_login": before }), &json!({ "can_direct_login": allowed }));
        audit::record(&tx, ctx, AuditEntry::new("user.direct_login_permission", "user", id, changes)).await?;
        // Taking the right away ends the sessions it opened, in this transaction.
        if !allowed {
            end_all_opened_by(&mut tx, ctx, id).await?;
        }
        tx.commit().await?;
        User::from_row(row)
    }

    /// Opens a direct-login session in the supplier's customer `customer`, as its first active
    /// super-admin. Everything (both audit rows and the session) commits in one transaction.
    pub async fn open(
        &self,
        ctx: &TenantCtx,
        customer: TenantId,
        reason: &str,
        client: &ClientInfo,
    ) -> AppResult<DirectLogin> {
        // A direct-login session never opens another one, whatever organisation it is in.
        if ctx.actor().on_behalf_of.is_some() || ctx.kind() != OrgKind::Supplier {
            return Err(AppError::forbidden());
        }
        let Some(by) = ctx.actor().user() else { return Err(AppError::forbidden()) };
        ctx.require(Permission::ManageUsers)?;
        let reason = validate_reason(reason)?;
        let supplier = ctx.tenant();
        let now = self.handles.now();

        let mut tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        let me = user::Entity::find_by_id((supplier, by)).one(tx.conn()).await?.ok_or_else(AppError::forbidden)?;
        if !me.can_direct_login {
            return Err(AppError::forbidden());
        }
        let org = CustomerService::load_child(&tx, supplier, customer).await?;
        check_available(&org, now)?;
        if !org.direct_login_allowed {
            return Err(ErrorCode::DirectLoginNotAllowed.into());
        }
        let id = SessionId(self.handles.new_id());
        let expires_at = now + self.session_ttl.min(max_duration());
        let opened =
            json!({ "session_id": id, "organisation_id": customer, "reason": reason, "expires_at": expires_at });
        audit::record(&tx, ctx, AuditEntry::new("direct_login.open", "organisation", customer, opened)).await?;

        // From here on the transaction works inside the customer, which RLS then confines it to.
        tx.scope_to(customer).await?;
        let target = user::Entity::find()
            .filter(user::Column::TenantId.eq(customer))
            .filter(user::Column::Role.eq(Role::SuperAdmin.as_str()))
            .filter(user::Column::Status.eq(<&str>::from(UserStatus::Active)))
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .one(tx.conn())
            .await?
            .ok_or_else(|| {
                AppError::new(ErrorCode::OrganisationUnavailable, "This organisation has no active super-admin.")
            })?;
        let secret = token::mint(SecretKind::Session, customer, self.handles.entropy.as_ref());
        let row = session::ActiveModel {
            tenant_id: Set(customer),
            id: Set(id),
            user_id: Set(target.id),
            token_hash: Set(secret.hash),
            created_at: Set(now),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            client_addr: Set(client.addr.clone()),
            user_agent: Set(client.user_agent.as_ref().map(|ua| ua.chars().take(256).collect())),
            impersonator_tenant_id: Set(Some(supplier.0)),
            impersonator_user_id: Set(Some(by.0)),
            impersonation_reason: Set(Some(reason.clone())),
        }
        .insert(tx.conn())
        .await?;
        // Audited in the customer as the session itself will act: its super-admin, on behalf of us.
        let actor = Actor {
            principal: Principal::User { user: target.id, session: id },
            role: Role::SuperAdmin,
            scope: TokenScope::ReadWrite,
            on_behalf_of: Some((supplier, by)),
        };
        let inside = ctx.derive(customer, OrgKind::Customer, actor);
        let changes = json!({ "reason": reason, "expires_at": expires_at, "user_id": target.id });
        audit::record(&tx, &inside, AuditEntry::new("direct_login.open", "session", id, changes)).await?;
        tx.commit().await?;
        Ok(DirectLogin { token: secret.plain, session: row.into(), organisation: customer, acting_as: target.id })
    }

    /// The direct-login session the caller is in, for the `viewer` banner; `None` otherwise.
    pub async fn current(&self, ctx: &TenantCtx) -> AppResult<Option<DirectLoginSession>> {
        let (Some(_), Some(id)) = (ctx.actor().on_behalf_of, ctx.actor().session()) else { return Ok(None) };
        let tx = ctx.read().await?;
        let row = session::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?;
        tx.commit().await?;
        Ok(self.describe(row.into_iter().collect()).await?.pop())
    }

    /// The organisation's direct-login sessions, newest first, for its super-admins.
    pub async fn list(&self, ctx: &TenantCtx, page: PageRequest) -> AppResult<Page<DirectLoginSession>> {
        ctx.require(Permission::ManageUsers)?;
        let tx = ctx.read().await?;
        let base = session::Entity::find()
            .filter(session::Column::TenantId.eq(ctx.tenant()))
            .filter(session::Column::ImpersonatorUserId.is_not_null());
        let total = base.clone().count(tx.conn()).await?;
        // Ids are UUID v7: ordering by id is ordering by opening time.
        let rows = page.by_id(base, session::Column::Id, false).all(tx.conn()).await?;
        tx.commit().await?;
        Ok(Page::from_overfetch(self.describe(rows).await?, &page, total))
    }

    /// Ends one of the organisation's direct-login sessions (its super-admins only).
    pub async fn revoke(&self, ctx: &TenantCtx, id: SessionId) -> AppResult<DirectLoginSession> {
        let mut tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageUsers).await?;
        let row = session::Entity::find_by_id((ctx.tenant(), id))
            .filter(session::Column::ImpersonatorUserId.is_not_null())
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let row = self.end(&mut tx, ctx, row).await?;
        tx.commit().await?;
        self.describe(vec![row]).await?.pop().ok_or_else(AppError::not_found)
    }

    /// Lets the customer's super-admins allow or forbid direct login; forbidding ends the
    /// direct-login sessions still open.
    pub async fn set_allowed(&self, ctx: &TenantCtx, allowed: bool) -> AppResult<Organisation> {
        if ctx.kind() != OrgKind::Customer {
            return Err(AppError::forbidden());
        }
        let mut tx = ctx.begin().await?;
        // Consent is the customer's: its own super-admins, never its supplier (issue 12 #4).
        authorize(&tx, ctx, Permission::ManageConsent).await?;
        let org = organisation::Entity::find_by_id(ctx.tenant())
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let before = org.direct_login_allowed;
        let mut active: organisation::ActiveModel = org.into();
        active.direct_login_allowed = Set(allowed);
        active.updated_at = Set(self.handles.now());
        let org = active.update(tx.conn()).await?;
        let changes =
            audit::diff(&json!({ "direct_login_allowed": before }), &json!({ "direct_login_allowed": allowed }));
        audit::record(&tx, ctx, AuditEntry::new("organisation.consent", "organisation", ctx.tenant(), changes)).await?;
        if !allowed {
            let open = session::Entity::find()
                .filter(session::Column::TenantId.eq(ctx.tenant()))
                .filter(session::Column::ImpersonatorUserId.is_not_null())
                .filter(session::Column::RevokedAt.is_null())
                .filter(session::Column::ExpiresAt.gt(self.handles.now()))
                .lock_exclusive()
                .all(tx.conn())
                .await?;
            for row in open {
                self.end(&mut tx, ctx, row).await?;
            }
        }
        tx.commit().await?;
        Organisation::from_row(org)
    }

    async fn end(&self, tx: &mut TenantTx, ctx: &TenantCtx, row: session::Model) -> AppResult<session::Model> {
        let now = self.handles.now();
        let was_open = row.revoked_at.is_none() && row.expires_at > now;
        let mut active: session::ActiveModel = row.clone().into();
        active.revoked_at = Set(Some(row.revoked_at.unwrap_or(now)));
        let row = active.update(tx.conn()).await?;
        record_end(tx, ctx, &row, was_open).await?;
        Ok(row)
    }

    /// Names the supplier and its user behind each session. The customer cannot see its
    /// supplier's rows, so they are read inside the supplier, which each session row names.
    async fn describe(&self, rows: Vec<session::Model>) -> AppResult<Vec<DirectLoginSession>> {
        let mut wanted: HashMap<TenantId, Vec<uuid::Uuid>> = HashMap::new();
        for row in &rows {
            if let (Some(t), Some(u)) = (row.impersonator_tenant_id, row.impersonator_user_id) {
                wanted.entry(TenantId(t)).or_default().push(u);
            }
        }
        let mut names = HashMap::new();
        let mut people = HashMap::new();
        for (supplier, ids) in wanted {
            let ctx = system_ctx(&self.handles, supplier, OrgKind::Supplier);
            let tx = ctx.read().await?;
            let org = organisation::Entity::find_by_id(supplier).one(tx.conn()).await?;
            let users = user::Entity::find()
                .filter(user::Column::TenantId.eq(supplier))
                .filter(user::Column::Id.is_in(ids))
                .all(tx.conn())
                .await?;
            tx.commit().await?;
            names.insert(supplier, org.map(|o| o.name).unwrap_or_default());
            for u in users {
                people
                    .insert((supplier, u.id), SupplierUser { id: u.id, email: u.email, display_name: u.display_name });
            }
        }
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let supplier = TenantId(row.impersonator_tenant_id?);
                let by = UserId(row.impersonator_user_id?);
                Some(DirectLoginSession {
                    id: row.id,
                    supplier_name: names.get(&supplier).cloned().unwrap_or_default(),
                    supplier_user: people.get(&(supplier, by)).cloned().unwrap_or(SupplierUser {
                        id: by,
                        email: String::new(),
                        display_name: String::new(),
                    }),
                    supplier,
                    acting_as: row.user_id,
                    reason: row.impersonation_reason.unwrap_or_default(),
                    created_at: row.created_at,
                    expires_at: row.expires_at,
                    revoked_at: row.revoked_at,
                })
            })
            .collect())
    }
}

/// Ends the open direct-login sessions that `by`, a user of the supplier `ctx` works in, holds
/// in any of the supplier's customers (the user was deactivated or lost the right), audited on
/// both sides; returns how many. `tx` runs in the supplier and is left there. The sessions are
/// found through the supplier's own `direct_login.open` audit rows of the last hour (no session
/// lasts longer), so the work is bounded by what the user opened, not by the customer count.
pub(crate) async fn end_all_opened_by(tx: &mut TenantTx, ctx: &TenantCtx, by: UserId) -> AppResult<usize> {
    use clientele_kernel::audit::entity as audit_log;
    if ctx.kind() != OrgKind::Supplier {
        return Ok(0);
    }
    let supplier = ctx.tenant();
    let now = ctx.handles().now();
    let opened = audit_log::Entity::find()
        .filter(audit_log::Column::TenantId.eq(supplier.0))
        .filter(audit_log::Column::Action.eq("direct_login.open"))
        .filter(audit_log::Column::ActorUserId.eq(by.0))
        .filter(audit_log::Column::At.gt(now - max_duration()))
        .all(tx.conn())
        .await?;
    let mut customers: Vec<TenantId> = opened.iter().filter_map(|r| r.entity_id.parse().ok()).map(TenantId).collect();
    customers.sort_by_key(|c| c.0);
    customers.dedup();
    let mut ended = 0;
    for customer in customers {
        // Only the supplier's own customers: the audit row named one, proven again here.
        if CustomerService::load_child(tx, supplier, customer).await.is_err() {
            continue;
        }
        tx.scope_to(customer).await?;
        let open = session::Entity::find()
            .filter(session::Column::TenantId.eq(customer))
            .filter(session::Column::ImpersonatorTenantId.eq(supplier.0))
            .filter(session::Column::ImpersonatorUserId.eq(by.0))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .lock_exclusive()
            .all(tx.conn())
            .await?;
        let inside = crate::customers::acting_in(ctx, customer);
        for row in open {
            let mut active: session::ActiveModel = row.into();
            active.revoked_at = Set(Some(now));
            let row = active.update(tx.conn()).await?;
            record_end(tx, &inside, &row, true).await?;
            ended += 1;
        }
        tx.scope_to(supplier).await?;
    }
    Ok(ended)
}

/// Audits the end of a direct-login session (signed out, or revoked by the customer) in the
/// customer, as `ctx`, and in the supplier that opened it. `tx` runs in the customer and is left
/// there. A session that simply expires needs no row: its end was audited when it opened.
pub(crate) async fn record_end(
    tx: &mut TenantTx,
    ctx: &TenantCtx,
    row: &session::Model,
    was_open: bool,
) -> AppResult<()> {
    let (Some(supplier), Some(by)) = (row.impersonator_tenant_id, row.impersonator_user_id) else { return Ok(()) };
    let (supplier, by) = (TenantId(supplier), UserId(by));
    let ended_by = if ctx.actor().on_behalf_of.is_some() { "supplier" } else { "organisation" };
    let changes = json!({ "ended_by": ended_by, "was_open": was_open, "supplier_user_id": by });
    audit::record(tx, ctx, AuditEntry::new("direct_login.end", "session", row.id, changes)).await?;
    // The supplier's row names its own user when they ended it; when the customer did, its
    // actor is the customer's user, whose organisation the changes name.
    let actor = match ctx.actor().on_behalf_of {
        Some((_, supplier_user)) => Actor {
            principal: Principal::User { user: supplier_user, session: row.id },
            role: Role::SuperAdmin,
            scope: TokenScope::ReadWrite,
            on_behalf_of: None,
        },
        None => *ctx.actor(),
    };
    let in_supplier = ctx.derive(supplier, OrgKind::Supplier, actor);
    let changes = json!({
        "session_id": row.id, "organisation_id": row.tenant_id, "ended_by": ended_by, "was_open": was_open,
        "supplier_user_id": by,
    });
    tx.scope_to(supplier).await?;
    audit::record(tx, &in_supplier, AuditEntry::new("direct_login.end", "organisation", row.tenant_id, changes))
        .await?;
    tx.scope_to(row.tenant_id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_required_and_bounded() {
        assert!(validate_reason("  ").is_err());
        assert!(validate_reason(&"x".repeat(501)).is_err());
        assert!(validate_reason("bell\u{7}").is_err());
        assert_eq!(validate_reason("  ticket 42: wrong VAT  ").ok().as_deref(), Some("ticket 42: wrong VAT"));
        assert!(validate_reason(&"é".repeat(500)).is_ok());
    }

    #[test]
    fn direct_logins_last_at_most_an_hour() {
        assert_eq!(Duration::hours(12).min(max_duration()), Duration::minutes(60));
        assert_eq!(Duration::minutes(20).min(max_duration()), Duration::minutes(20));
    }
}
