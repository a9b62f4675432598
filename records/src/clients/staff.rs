//! The staff directory (OTH-04): representatives (BIL-12), delivery persons (ADR-06) and
//! salespeople. Former staff are deactivated, never deleted: records keep pointing at them.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::clients::entity::staff;
use crate::clients::lookups::{LookupService, label_or_name};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{StaffId, UserId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

/// A member of the staff directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub id: StaffId,
    pub name: String,
    /// BIL-12: may look after clients.
    pub is_representative: bool,
    /// ADR-06: may be attached to delivery addresses.
    pub is_delivery_person: bool,
    pub is_salesperson: bool,
    pub active: bool,
    /// The user account of this person, if they sign in.
    pub user: Option<UserId>,
}

/// Creates or changes a staff member; `None` keeps a value, `Some(None)` clears the user link.
#[derive(Clone, Debug, Default)]
pub struct StaffInput {
    pub name: Option<String>,
    pub is_representative: Option<bool>,
    pub is_delivery_person: Option<bool>,
    pub is_salesperson: Option<bool>,
    pub active: Option<bool>,
    pub user: Option<Option<UserId>>,
}

impl From<staff::Model> for StaffMember {
    fn from(r: staff::Model) -> Self {
        Self {
            id: r.id,
            name: r.name,
            is_representative: r.is_representative,
            is_delivery_person: r.is_delivery_person,
            is_salesperson: r.is_salesperson,
            active: r.active,
            user: r.user_id.map(UserId),
        }
    }
}

fn staff_view(s: &StaffMember) -> Value {
    json!({ "name": s.name, "is_representative": s.is_representative, "is_delivery_person": s.is_delivery_person,
            "is_salesperson": s.is_salesperson, "active": s.active, "user": s.user })
}

impl LookupService {
    /// The staff directory by name; former staff only when `active_only` is false.
    pub async fn staff(&self, ctx: &TenantCtx, active_only: bool) -> AppResult<Vec<StaffMember>> {
        let tx = ctx.read().await?;
        let mut query = staff::Entity::find().filter(staff::Column::TenantId.eq(ctx.tenant()));
        if active_only {
            query = query.filter(staff::Column::Active.eq(true));
        }
        let rows = query.order_by_asc(staff::Column::Name).order_by_asc(staff::Column::Id).all(tx.conn()).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Staff members by id, for batched loading; unknown ids are absent.
    pub async fn staff_by_ids(&self, ctx: &TenantCtx, ids: &[StaffId]) -> AppResult<Vec<StaffMember>> {
        let tx = ctx.read().await?;
        let rows = staff::Entity::find()
            .filter(staff::Column::TenantId.eq(ctx.tenant()))
            .filter(staff::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Creates (`id = None`) or changes a staff member.
    pub async fn save_staff(&self, ctx: &TenantCtx, id: Option<StaffId>, input: StaffInput) -> AppResult<StaffMember> {
        ctx.require(Permission::ManageSettings)?;
        let tx = ctx.begin().await?;
        let now = self.handles.now();
        let existing = match id {
            Some(id) => Some(
                staff::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?,
            ),
            None => None,
        };
        let before = existing.clone().map(StaffMember::from);
        let mut after = before.clone().unwrap_or(StaffMember {
            id: StaffId(self.handles.new_id()),
            name: String::new(),
            is_representative: false,
            is_delivery_person: false,
            is_salesperson: false,
            active: true,
            user: None,
        });
        if let Some(name) = input.name {
            name.trim().clone_into(&mut after.name);
        }
        let mut errors = Vec::new();
        label_or_name(&mut errors, "name", &after.name);
        for (target, value) in [
            (&mut after.is_representative, input.is_representative),
            (&mut after.is_delivery_person, input.is_delivery_person),
            (&mut after.is_salesperson, input.is_salesperson),
            (&mut after.active, input.active),
        ] {
            if let Some(v) = value {
                *target = v;
            }
        }
        if let Some(user) = input.user {
            if let Some(u) = user
                && !ctx.handles().orgs.user_exists(&tx, u).await?
            {
                errors.push(AppError::invalid("user", "No such user in this organisation."));
            }
            after.user = user;
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let changes = audit::diff(&before.as_ref().map_or(Value::Null, staff_view), &staff_view(&after));
        write_staff(&tx, &after, existing.as_ref().map_or(now, |e| e.created_at), now, existing.is_some()).await?;
        let action = if existing.is_some() { "staff.update" } else { "staff.create" };
        audit::record(&tx, ctx, AuditEntry::new(action, "staff", after.id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Marks a staff member as gone: records keep pointing at them, new ones cannot choose them.
    pub async fn deactivate_staff(&self, ctx: &TenantCtx, id: StaffId) -> AppResult<StaffMember> {
        self.save_staff(ctx, Some(id), StaffInput { active: Some(false), ..StaffInput::default() }).await
    }

    /// Whether a delivery person may be newly attached to an address (ADR-06).
    pub(crate) async fn is_active_delivery_person(tx: &TenantTx, id: StaffId) -> AppResult<bool> {
        let row = staff::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
        Ok(row.is_some_and(|s| s.active && s.is_delivery_person))
    }
}

async fn write_staff(
    tx: &TenantTx,
    s: &StaffMember,
    created_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    exists: bool,
) -> AppResult<()> {
    let model = staff::ActiveModel {
        tenant_id: Set(tx.tenant()),
        id: Set(s.id),
        name: Set(s.name.clone()),
        is_representative: Set(s.is_representative),
        is_delivery_person: Set(s.is_delivery_person),
        is_salesperson: Set(s.is_salesperson),
        active: Set(s.active),
        user_id: Set(s.user.map(UserId::uuid)),
        created_at: Set(created_at),
        updated_at: Set(now),
    };
    if exists {
        model.update(tx.conn()).await?;
    } else {
        model.insert(tx.conn()).await?;
    }
    Ok(())
}
