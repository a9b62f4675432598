//! Contacts of a client (CON-02, CON-03), optionally attached to one of its sites; the
//! person's details are the kernel's [`ContactDetails`], shared with organisations' contact
//! persons. The listing across clients lives in `contact_list`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value, json};

use crate::clients::custom_fields::{CustomEntity, CustomFieldService, merge_values};
use crate::clients::entity::{address, contact};
use crate::clients::model::Patch;
use crate::clients::{service, validate};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{AddressId, ClientId, ContactId};
use clientele_kernel::person::{ContactDetails, ContactPatch};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

/// A person to reach at a client (CON-03).
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub id: ContactId,
    pub client: ClientId,
    /// CON-02: the site (an address of the same client) this contact belongs to.
    pub site: Option<AddressId>,
    /// Who the contact is and how to reach them.
    pub details: ContactDetails,
    pub custom_fields: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creates or changes a contact: `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct ContactInput {
    pub site: Patch<AddressId>,
    /// The person's details; the last name is required on creation.
    pub details: ContactPatch,
    /// Custom field values by key; `null` clears one.
    pub custom_fields: Option<Map<String, Value>>,
}

/// CON-05: which contacts a listing holds. Contacts of trashed clients never appear.
#[derive(Clone, Debug, Default)]
pub struct ContactFilter {
    /// Case-insensitive prefix of the last or first name.
    pub name_prefix: Option<String>,
    pub client: Option<ClientId>,
    pub has_email: Option<bool>,
}

impl From<contact::Model> for Contact {
    fn from(r: contact::Model) -> Self {
        Self {
            id: r.id,
            client: r.client_id,
            site: r.address_id,
            details: ContactDetails {
                title: r.title,
                first_name: r.first_name,
                last_name: r.last_name,
                job_title: r.job_title,
                department: r.department,
                phone: r.phone,
                fax: r.fax,
                mobile: r.mobile,
                email: r.email,
                remark: r.remark,
            },
            custom_fields: match r.custom_fields {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Contact {
    fn to_active(&self, tenant: clientele_kernel::TenantId) -> contact::ActiveModel {
        let d = &self.details;
        contact::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(self.id),
            client_id: Set(self.client),
            address_id: Set(self.site),
            title: Set(d.title.clone()),
            first_name: Set(d.first_name.clone()),
            last_name: Set(d.last_name.clone()),
            job_title: Set(d.job_title.clone()),
            department: Set(d.department.clone()),
            phone: Set(d.phone.clone()),
            fax: Set(d.fax.clone()),
            mobile: Set(d.mobile.clone()),
            email: Set(d.email.clone()),
            remark: Set(d.remark.clone()),
            custom_fields: Set((!self.custom_fields.is_empty()).then(|| Value::Object(self.custom_fields.clone()))),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
        }
    }

    fn audit_view(&self) -> Value {
        let d = &self.details;
        json!({
            "client": self.client, "site": self.site, "title": d.title, "first_name": d.first_name,
            "last_name": d.last_name, "job_title": d.job_title, "department": d.department,
            "phone": d.phone, "fax": d.fax, "mobile": d.mobile, "email": d.email,
            "remark": d.remark, "custom_fields": self.custom_fields,
        })
    }

    /// Applies and validates everything but the site and custom fields.
    fn apply(&mut self, input: &ContactInput, errors: &mut Vec<AppError>) {
        let patch = &input.details;
        patch.apply(&mut self.details);
        self.details.validate("", errors);
        // CLI-07: a phone given here must be a number (kept as typed), once it passed the above.
        let d = &self.details;
        for (field, given, value) in
            [("phone", &patch.phone, &d.phone), ("fax", &patch.fax, &d.fax), ("mobile", &patch.mobile, &d.mobile)]
        {
            if given.is_some() && !errors.iter().any(|e| e.field() == Some(field)) {
                validate::phone(errors, field, value.clone());
            }
        }
    }
}

pub struct ContactService {
    handles: Arc<Handles>,
}

impl ContactService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Contacts of several clients in one statement, by name.
    pub async fn by_clients(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<Contact>> {
        self.where_in(ctx, contact::Column::ClientId.is_in(ids.iter().copied())).await
    }

    /// Contacts of several sites in one statement (CON-02), by name.
    pub async fn by_sites(&self, ctx: &TenantCtx, ids: &[AddressId]) -> AppResult<Vec<Contact>> {
        self.where_in(ctx, contact::Column::AddressId.is_in(ids.iter().copied())).await
    }

    async fn where_in(&self, ctx: &TenantCtx, condition: sea_orm::sea_query::SimpleExpr) -> AppResult<Vec<Contact>> {
        let tx = ctx.read().await?;
        let rows = contact::Entity::find()
            .filter(contact::Column::TenantId.eq(ctx.tenant()))
            .filter(condition)
            .order_by_asc(contact::Column::LastName)
            .order_by_asc(contact::Column::Id)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Contact::from).collect())
    }

    pub async fn get(&self, ctx: &TenantCtx, id: ContactId) -> AppResult<Contact> {
        let tx = ctx.read().await?;
        let row = find(&tx, id).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn create(&self, ctx: &TenantCtx, client: ClientId, input: ContactInput) -> AppResult<Contact> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let owner = service::load(&tx, client).await?;
        service::ensure_not_trashed(&owner)?;
        let now = self.handles.now();
        let contact = Contact {
            id: ContactId(self.handles.new_id()),
            client: owner.id,
            site: None,
            details: ContactDetails::default(),
            custom_fields: Map::new(),
            created_at: now,
            updated_at: now,
        };
        let contact = self.save_in(&tx, ctx, None, contact, input, owner.anonymised_at.is_some()).await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn update(&self, ctx: &TenantCtx, id: ContactId, input: ContactInput) -> AppResult<Contact> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        let owner = service::load(&tx, before.client).await?;
        service::ensure_not_trashed(&owner)?;
        let after = Contact { updated_at: self.handles.now(), ..before.clone() };
        let contact = self.save_in(&tx, ctx, Some(before), after, input, owner.anonymised_at.is_some()).await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn delete(&self, ctx: &TenantCtx, id: ContactId) -> AppResult<ContactId> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        service::ensure_not_trashed(&service::load(&tx, before.client).await?)?;
        contact::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        crate::search::touch(&tx, before.client).await?;
        let changes = audit::diff(&before.audit_view(), &Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("contact.delete", "contact", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn save_in(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        before: Option<Contact>,
        mut after: Contact,
        input: ContactInput,
        anonymised: bool,
    ) -> AppResult<Contact> {
        if anonymised {
            return Err(AppError::new(ErrorCode::Validation, "An anonymised client cannot be changed."));
        }
        let mut errors = Vec::new();
        after.apply(&input, &mut errors);
        if let Some(site) = input.site {
            if let Some(id) = site {
                let found = address::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
                if found.is_none_or(|a| a.client_id != after.client) {
                    errors.push(AppError::invalid("site", "No such address for this client."));
                }
            }
            after.site = site;
        }
        let defs: Vec<_> =
            CustomFieldService::list_in(tx).await?.into_iter().filter(|d| d.entity == CustomEntity::Contact).collect();
        match merge_values(&defs, &after.custom_fields, input.custom_fields.as_ref(), before.is_none()) {
            Ok(values) => after.custom_fields = values,
            Err(mut more) => errors.append(&mut more),
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let model = after.to_active(tx.tenant());
        let (action, before) = if let Some(before) = before {
            model.update(tx.conn()).await?;
            ("contact.update", before.audit_view())
        } else {
            model.insert(tx.conn()).await?;
            ("contact.create", Value::Null)
        };
        crate::search::touch(tx, after.client).await?;
        let changes = audit::diff(&before, &after.audit_view());
        audit::record(tx, ctx, AuditEntry::new(action, "contact", after.id, changes)).await?;
        Ok(after)
    }
}

async fn find(tx: &TenantTx, id: ContactId) -> AppResult<Contact> {
    let row = contact::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
    Ok(Contact::from(row.ok_or_else(AppError::not_found)?))
}
