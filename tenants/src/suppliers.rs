//! The platform's suppliers (issue 16, screen 8): a platform administrator lists them, creates
//! one with its super-admin (what `clientele bootstrap` does for the first), who is mailed a
//! set-password link, and blocks or unblocks one (its users can then no longer sign in, USR-08).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{AppError, AppResult, Language, OrgKind, Permission, Role, TenantCtx, TenantId, UserId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::access::AccessService;
use crate::customers::{acting_in_child, insert_user};
use crate::entity::organisation;
use crate::model::User;
use crate::organisations::{PLATFORM_ID, insert_org};
use crate::users::{authorize, validate_display_name, validate_email};

/// One supplier, as the platform's list shows it.
#[derive(Clone, Debug)]
pub struct Supplier {
    pub id: TenantId,
    pub name: String,
    pub blocked: bool,
    pub created_at: DateTime<Utc>,
}

impl Supplier {
    fn of(row: organisation::Model) -> Self {
        Self { id: row.id, name: row.name, blocked: row.blocked, created_at: row.created_at }
    }
}

/// A new supplier and the person who becomes its super-admin.
#[derive(Clone, Debug)]
pub struct NewSupplier {
    pub name: String,
    pub admin_name: String,
    pub admin_email: String,
    pub language: Language,
}

pub struct SupplierService {
    handles: Arc<Handles>,
    access: Arc<AccessService>,
}

/// Refuses anyone but a platform administrator.
fn require_platform(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(Permission::ManageCustomers)?;
    if ctx.kind() == OrgKind::Platform && ctx.tenant() == PLATFORM_ID { Ok(()) } else { Err(AppError::forbidden()) }
}

impl SupplierService {
    pub fn new(handles: Arc<Handles>, access: Arc<AccessService>) -> Self {
        Self { handles, access }
    }

    /// Every supplier of the platform, by name (at most 1000).
    pub async fn list(&self, ctx: &TenantCtx) -> AppResult<Vec<Supplier>> {
        require_platform(ctx)?;
        let tx = ctx.read().await?;
        let rows = organisation::Entity::find()
            .filter(organisation::Column::ParentId.eq(PLATFORM_ID))
            .filter(organisation::Column::Kind.eq(OrgKind::Supplier.as_str()))
            .order_by_asc(organisation::Column::Name)
            .order_by_asc(organisation::Column::Id)
            .limit(1000)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Supplier::of).collect())
    }

    /// Creates the supplier and its super-admin in one transaction, and mails the super-admin
    /// their login and a set-password link (at their own address).
    pub async fn create(&self, ctx: &TenantCtx, new: NewSupplier) -> AppResult<(Supplier, UserId)> {
        require_platform(ctx)?;
        let name = new.name.trim().to_owned();
        let mut errors = Vec::new();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            errors.push(AppError::invalid("name", "Enter a supplier name of 1 to 200 characters."));
        }
        let email = validate_email("email", &new.admin_email).map_err(|e| errors.push(e)).ok();
        let admin_name = match new.admin_name.trim() {
            "" => email.as_deref().and_then(|e| e.split('@').next()).unwrap_or_default().to_owned(),
            given => given.to_owned(),
        };
        let admin_name = validate_display_name("admin_name", &admin_name).map_err(|e| errors.push(e)).ok();
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let (email, admin_name) = (email.unwrap_or_default(), admin_name.unwrap_or_default());
        let now = self.handles.now();
        let mut tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageCustomers).await?;
        let id = TenantId(self.handles.new_id());
        let created = insert_org(&tx, id, OrgKind::Supplier, Some(PLATFORM_ID), &name, new.language, now).await?;
        let language = new.language.tag();
        let changes = audit::created(&json!({ "kind": "supplier", "name": name, "language": language }));
        audit::record(&tx, ctx, AuditEntry::new("organisation.create", "organisation", id, changes)).await?;

        // The super-admin belongs to the new supplier: the transaction now runs in its tenant,
        // and what happens there is audited as the platform administrator acting on its behalf.
        tx.scope_to(id).await?;
        let inside = acting_in_child(ctx, id, OrgKind::Supplier);
        let admin = insert_user(&tx, &self.handles, id, &email, &admin_name, Role::SuperAdmin, new.language).await?;
        let admin = User::from_row(admin)?;
        let entry = AuditEntry::new("user.create", "user", admin.id, audit::created(&admin.audit_view()));
        audit::record(&tx, &inside, entry).await?;
        let mail = self.access.queue_access_data(&tx, &inside, &name, &admin).await?;
        tx.commit().await?;
        self.access.deliver_soon(id, mail);
        Ok((Supplier::of(created), admin.id))
    }

    /// Blocks (`true`) or unblocks a supplier; a blocked supplier's users cannot sign in.
    pub async fn set_blocked(&self, ctx: &TenantCtx, id: TenantId, blocked: bool) -> AppResult<Supplier> {
        require_platform(ctx)?;
        let tx = ctx.begin().await?;
        authorize(&tx, ctx, Permission::ManageCustomers).await?;
        let row = organisation::Entity::find_by_id(id)
            .filter(organisation::Column::ParentId.eq(PLATFORM_ID))
            .filter(organisation::Column::Kind.eq(OrgKind::Supplier.as_str()))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let before = row.blocked;
        let mut active: organisation::ActiveModel = row.into();
        active.blocked = Set(blocked);
        active.updated_at = Set(self.handles.now());
        let row = active.update(tx.conn()).await?;
        let changes = audit::diff(&json!({ "blocked": before }), &json!({ "blocked": blocked }));
        audit::record(&tx, ctx, AuditEntry::new("organisation.update", "organisation", id, changes)).await?;
        tx.commit().await?;
        Ok(Supplier::of(row))
    }
}
