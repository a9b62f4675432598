//! The organisation tree (platform → suppliers → customers) and first-run bootstrap.

use std::sync::Arc;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{AppError, AppResult, ErrorCode, Language, OrgKind, Role, TenantCtx, TenantId, UserId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::auth::AuthService;
use crate::entity::organisation;
use crate::model::Organisation;
use crate::system_ctx;
use crate::users::{NewUser, UserService};

/// There is one platform per deployment; a fixed id makes bootstrap idempotent.
pub const PLATFORM_ID: TenantId = TenantId(uuid::Uuid::from_u128(1));

/// What `clientele bootstrap` made.
#[derive(Debug)]
pub struct Bootstrapped {
    pub supplier: TenantId,
    pub super_admin: UserId,
    /// Single-use set-password link secret for the new super-admin.
    pub set_password_token: String,
}

pub struct OrganisationService {
    handles: Arc<Handles>,
}

impl OrganisationService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// The caller's own organisation.
    pub async fn current(&self, ctx: &TenantCtx) -> AppResult<Organisation> {
        let tx = ctx.read().await?;
        let row = organisation::Entity::find_by_id(ctx.tenant()).one(tx.conn()).await?;
        tx.commit().await?;
        Organisation::from_row(row.ok_or_else(AppError::not_found)?)
    }

    /// A system context inside `tenant`, for work a verified capability allows without a
    /// session (a signed download link). `NOT_FOUND` for an unknown organisation.
    pub async fn system_ctx_for(&self, tenant: TenantId) -> AppResult<TenantCtx> {
        // Any kind opens the tenant's own row; the real one is read from it.
        let probe = system_ctx(&self.handles, tenant, OrgKind::Customer);
        let tx = probe.read().await?;
        let row = organisation::Entity::find_by_id(tenant).one(tx.conn()).await?;
        tx.commit().await?;
        let row = row.ok_or_else(AppError::not_found)?;
        Ok(system_ctx(&self.handles, tenant, crate::model::parse_stored("kind", &row.kind)?))
    }

    /// A system context for every organisation of the tree (platform, suppliers, customers),
    /// for background jobs. Each level is read inside its parent's tenant, so RLS holds.
    pub async fn all_tenants(&self) -> AppResult<Vec<TenantCtx>> {
        let mut found = vec![system_ctx(&self.handles, PLATFORM_ID, OrgKind::Platform)];
        let mut next = 0;
        while next < found.len() {
            let parent = found[next].clone();
            next += 1;
            let tx = parent.read().await?;
            let children = organisation::Entity::find()
                .filter(organisation::Column::ParentId.eq(parent.tenant()))
                .all(tx.conn())
                .await?;
            tx.commit().await?;
            for child in children {
                found.push(system_ctx(&self.handles, child.id, crate::model::parse_stored("kind", &child.kind)?));
            }
        }
        Ok(found)
    }

    /// Creates the platform (once), a supplier and its super-admin, and returns a set-password
    /// link for that super-admin. Refuses when a supplier exists unless `force`.
    pub async fn bootstrap(
        &self,
        auth: &AuthService,
        users: &UserService,
        supplier_name: &str,
        email: &str,
        force: bool,
    ) -> AppResult<Bootstrapped> {
        let name = supplier_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::invalid("supplier", "Enter a supplier name of 1 to 200 characters."));
        }
        let platform = system_ctx(&self.handles, PLATFORM_ID, OrgKind::Platform);
        let tx = platform.begin().await?;
        let now = self.handles.now();
        ensure_platform(&tx, &platform, now).await?;
        let suppliers = organisation::Entity::find()
            .filter(organisation::Column::ParentId.eq(PLATFORM_ID))
            .filter(organisation::Column::Kind.eq(OrgKind::Supplier.as_str()))
            .all(tx.conn())
            .await?;
        if !suppliers.is_empty() && !force {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "Clientele is already bootstrapped; pass --force to add another supplier.",
            ));
        }
        let supplier = TenantId(self.handles.new_id());
        insert_org(&tx, supplier, OrgKind::Supplier, Some(PLATFORM_ID), name, Language::default(), now).await?;
        let changes = audit::created(&json!({ "kind": "supplier", "name": name }));
        audit::record(&tx, &platform, AuditEntry::new("organisation.create", "organisation", supplier, changes))
            .await?;
        tx.commit().await?;

        let ctx = system_ctx(&self.handles, supplier, OrgKind::Supplier);
        let (super_admin, set_password_token) = first_super_admin(auth, users, &ctx, email).await?;
        Ok(Bootstrapped { supplier, super_admin, set_password_token })
    }

    /// Creates the platform (once) and a platform administrator, who runs the suppliers in the
    /// console; returns their id and a set-password link secret.
    pub async fn platform_admin(
        &self,
        auth: &AuthService,
        users: &UserService,
        email: &str,
    ) -> AppResult<(UserId, String)> {
        let platform = system_ctx(&self.handles, PLATFORM_ID, OrgKind::Platform);
        let tx = platform.begin().await?;
        ensure_platform(&tx, &platform, self.handles.now()).await?;
        tx.commit().await?;
        first_super_admin(auth, users, &platform, email).await
    }
}

/// A super-admin of `ctx`'s organisation named after `email`, and their set-password link secret.
async fn first_super_admin(
    auth: &AuthService,
    users: &UserService,
    ctx: &TenantCtx,
    email: &str,
) -> AppResult<(UserId, String)> {
    let new_user = NewUser {
        email: email.to_owned(),
        username: None,
        display_name: email.split('@').next().unwrap_or(email).to_owned(),
        role: Role::SuperAdmin,
        language: Some(Language::default()),
        password: None,
    };
    let admin = users.create(ctx, new_user).await?;
    Ok((admin.id, auth.issue_set_password_token(ctx, admin.id).await?))
}

/// Creates the platform's row the first time.
async fn ensure_platform(
    tx: &clientele_kernel::TenantTx,
    platform: &TenantCtx,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if organisation::Entity::find_by_id(PLATFORM_ID).one(tx.conn()).await?.is_none() {
        insert_org(tx, PLATFORM_ID, OrgKind::Platform, None, "Clientele platform", Language::default(), now).await?;
        let entry = AuditEntry::new("organisation.create", "organisation", PLATFORM_ID, json!({}));
        audit::record(tx, platform, entry).await?;
    }
    Ok(())
}

/// Inserts a platform or supplier row (a customer has its own, with its number).
pub(crate) async fn insert_org(
    tx: &clientele_kernel::TenantTx,
    id: TenantId,
    kind: OrgKind,
    parent: Option<TenantId>,
    name: &str,
    language: Language,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<organisation::Model> {
    let row = organisation::ActiveModel {
        id: Set(id),
        kind: Set(kind.as_str().to_owned()),
        parent_id: Set(parent),
        name: Set(name.to_owned()),
        status: Set("active".to_owned()),
        language: Set(language.tag().to_owned()),
        config_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    Ok(row)
}
