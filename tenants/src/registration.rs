//! Self-registration (ORG-02, USR-05): a supplier hands out a secret link; whoever holds it
//! registers a customer organisation under that supplier and becomes its super-admin.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::person::{ContactDetails, check_email};
use clientele_kernel::token::{self, SecretKind};
use clientele_kernel::{AppError, AppResult, ErrorCode, Language, OrgKind, TenantCtx, TenantId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::json;

use crate::auth::{AuthService, SET_PASSWORD, insert_one_time_token};
use crate::customers::{CustomerInput, CustomerService, NewCustomer, validate_new};
use crate::entity::{organisation, registration_link};
use crate::mail::{Letter, MailKind, MailOutbox, render};
use crate::system_ctx;

/// Where a link stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum LinkStatus {
    Active,
    Expired,
    Revoked,
    UsedUp,
}

#[derive(Clone, Debug)]
pub struct RegistrationLink {
    pub id: uuid::Uuid,
    pub note: Option<String>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub status: LinkStatus,
}

impl RegistrationLink {
    fn from_row(row: registration_link::Model, now: DateTime<Utc>) -> Self {
        let status = if row.revoked_at.is_some() {
            LinkStatus::Revoked
        } else if row.expires_at <= now {
            LinkStatus::Expired
        } else if row.max_uses.is_some_and(|max| row.uses >= max) {
            LinkStatus::UsedUp
        } else {
            LinkStatus::Active
        };
        Self {
            id: row.id,
            note: row.note,
            max_uses: row.max_uses,
            uses: row.uses,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            status,
        }
    }
}

/// A new link: until when, how many organisations (none: unlimited), and a note for the supplier.
#[derive(Clone, Debug)]
pub struct NewRegistrationLink {
    pub expires_at: DateTime<Utc>,
    pub max_uses: Option<i32>,
    pub note: Option<String>,
    /// A prospect to mail the link to (ORG-02), in its language.
    pub send_to: Option<Prospect>,
}

/// Who a registration link is mailed to.
#[derive(Clone, Debug)]
pub struct Prospect {
    pub email: String,
    pub language: Language,
}

/// A link as created: its secret is shown this once.
#[derive(Clone, Debug)]
pub struct CreatedLink {
    pub link: RegistrationLink,
    pub token: String,
    pub url: String,
}

/// What a prospect enters: the organisation's master data and its first contact, who becomes
/// the super-admin and must give an e-mail address.
#[derive(Clone, Debug)]
pub struct Registration {
    pub organisation: CustomerInput,
    pub contact: ContactDetails,
}

/// The organisation a registration created, and where its set-password link went.
#[derive(Clone, Debug)]
pub struct Registered {
    pub organisation: TenantId,
    pub email: String,
}

pub struct RegistrationService {
    handles: Arc<Handles>,
    auth: Arc<AuthService>,
    customers: Arc<CustomerService>,
    outbox: Arc<MailOutbox>,
}

impl RegistrationService {
    pub fn new(
        handles: Arc<Handles>,
        auth: Arc<AuthService>,
        customers: Arc<CustomerService>,
        outbox: Arc<MailOutbox>,
    ) -> Self {
        Self { handles, auth, customers, outbox }
    }

    pub async fn create_link(&self, ctx: &TenantCtx, input: NewRegistrationLink) -> AppResult<CreatedLink> {
        CustomerService::require_supplier(ctx)?;
        let now = self.handles.now();
        let note = input.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let mut errors = Vec::new();
        if input.expires_at <= now || input.expires_at > now + chrono::Duration::days(366) {
            errors.push(AppError::invalid("expires_at", "Choose an expiry within the next year."));
        }
        if input.max_uses.is_some_and(|m| !(1..=100_000).contains(&m)) {
            errors.push(AppError::invalid("max_uses", "Allow 1 to 100000 registrations, or leave it empty."));
        }
        if note.as_ref().is_some_and(|n| n.chars().count() > 200 || n.chars().any(char::is_control)) {
            errors.push(AppError::invalid("note", "Use at most 200 characters on one line."));
        }
        let send_to = input.send_to.map(|p| Prospect { email: p.email.trim().to_lowercase(), ..p });
        if let Some(p) = &send_to {
            check_email(&mut errors, "send_to", Some(&p.email));
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let secret = token::mint(SecretKind::Registration, ctx.tenant(), self.handles.entropy.as_ref());
        let tx = ctx.begin().await?;
        let row = registration_link::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(self.handles.new_id()),
            token_hash: Set(secret.hash),
            note: Set(note),
            max_uses: Set(input.max_uses),
            uses: Set(0),
            created_by: Set(ctx.actor().user().map(|u| u.0)),
            created_at: Set(now),
            expires_at: Set(input.expires_at),
            revoked_at: Set(None),
        }
        .insert(tx.conn())
        .await?;
        let url = format!("{}/register?token={}", self.auth.settings().public_url.trim_end_matches('/'), secret.plain);
        let sent_to = send_to.as_ref().map(|p| p.email.clone());
        let changes = audit::created(
            &json!({ "note": row.note, "max_uses": row.max_uses, "expires_at": row.expires_at, "sent_to": sent_to }),
        );
        audit::record(&tx, ctx, AuditEntry::new("registration_link.create", "registration_link", row.id, changes))
            .await?;
        let mail = match &send_to {
            Some(prospect) => {
                let supplier = organisation::Entity::find_by_id(ctx.tenant())
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?;
                let letter = Letter {
                    name: "",
                    organisation: &supplier.name,
                    login: &prospect.email,
                    link: &url,
                    valid_hours: (input.expires_at - now).num_hours(),
                };
                let mail = render(MailKind::RegistrationInvite, prospect.language, &prospect.email, &letter);
                Some(self.outbox.enqueue(&tx, MailKind::RegistrationInvite, mail).await?)
            }
            None => None,
        };
        tx.commit().await?;
        if let Some(mail) = mail {
            self.outbox.deliver_soon(ctx.tenant(), vec![mail]);
        }
        Ok(CreatedLink { link: RegistrationLink::from_row(row, now), token: secret.plain, url })
    }

    /// The supplier's links, oldest first.
    pub async fn links(&self, ctx: &TenantCtx, page: PageRequest) -> AppResult<Page<RegistrationLink>> {
        CustomerService::require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let base = registration_link::Entity::find().filter(registration_link::Column::TenantId.eq(ctx.tenant()));
        let total = base.clone().count(tx.conn()).await?;
        let rows = page.by_id(base, registration_link::Column::Id, true).all(tx.conn()).await?;
        tx.commit().await?;
        let now = self.handles.now();
        let links = rows.into_iter().map(|r| RegistrationLink::from_row(r, now)).collect();
        Ok(Page::from_overfetch(links, &page, total))
    }

    /// Stops a link at once; revoking twice keeps the first time.
    pub async fn revoke_link(&self, ctx: &TenantCtx, id: uuid::Uuid) -> AppResult<RegistrationLink> {
        CustomerService::require_supplier(ctx)?;
        let tx = ctx.begin().await?;
        let row = registration_link::Entity::find_by_id((ctx.tenant(), id))
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let now = self.handles.now();
        let before = row.revoked_at;
        let mut active: registration_link::ActiveModel = row.into();
        active.revoked_at = Set(Some(before.unwrap_or(now)));
        let row = active.update(tx.conn()).await?;
        let changes = audit::diff(&json!({ "revoked_at": before }), &json!({ "revoked_at": row.revoked_at }));
        audit::record(&tx, ctx, AuditEntry::new("registration_link.revoke", "registration_link", id, changes)).await?;
        tx.commit().await?;
        Ok(RegistrationLink::from_row(row, now))
    }

    /// Registers a customer organisation through a link. The link row is locked while its use
    /// is counted, so concurrent registrations never exceed its maximum; an unknown, revoked,
    /// expired or used-up link is `TOKEN_INVALID`. The new super-admin is mailed a
    /// set-password link.
    pub async fn register(&self, presented: &str, registration: Registration) -> AppResult<Registered> {
        let invalid = || AppError::code_only(ErrorCode::TokenInvalid);
        let (supplier, hash) = token::parse(SecretKind::Registration, presented).ok_or_else(invalid)?;
        let email = registration.contact.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let Some(email) = email.map(str::to_lowercase) else {
            return Err(AppError::invalid("contact.email", "Enter the e-mail address you will sign in with."));
        };
        // Anyone holding a link may post here: the contact's details are bounded like any other's.
        let mut new = NewCustomer {
            data: registration.organisation,
            contacts: vec![registration.contact],
            seats: NewCustomer::DEFAULT_SEATS,
        };
        validate_new(&mut new, "contact.")?;

        // Nobody is signed in: the server acts for the supplier whose link this is.
        let ctx = system_ctx(&self.handles, supplier, OrgKind::Supplier);
        let mut tx = ctx.begin().await?;
        let owner = organisation::Entity::find_by_id(supplier).one(tx.conn()).await?.ok_or_else(invalid)?;
        if owner.kind != OrgKind::Supplier.as_str()
            || self.auth.check_org(&owner.status, owner.blocked, owner.valid_from).is_err()
        {
            return Err(invalid());
        }
        let now = self.handles.now();
        let link = registration_link::Entity::find()
            .filter(registration_link::Column::TenantId.eq(supplier))
            .filter(registration_link::Column::TokenHash.eq(hash))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .filter(|l| RegistrationLink::from_row(l.clone(), now).status == LinkStatus::Active)
            .ok_or_else(invalid)?;
        let link_id = link.id;
        let uses = link.uses + 1;
        let mut counted: registration_link::ActiveModel = link.into();
        counted.uses = Set(uses);
        counted.update(tx.conn()).await?;
        let entry = AuditEntry::new("registration_link.use", "registration_link", link_id, json!({ "uses": uses }));
        audit::record(&tx, &ctx, entry).await?;

        let (org, admin) = self.customers.provision(&mut tx, &ctx, new).await?;
        let admin = admin.ok_or_else(|| AppError::internal("registration created no super-admin"))?;
        // `tx` now runs in the new organisation: its link and mail belong to it.
        let settings = self.auth.settings();
        let token = insert_one_time_token(&tx, &self.handles, admin, SET_PASSWORD, settings.set_password_ttl).await?;
        let link = settings.set_password_link(&token);
        let name = crate::entity::user::Entity::find_by_id((org.row.id, admin))
            .one(tx.conn())
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let letter = Letter {
            name: &name,
            organisation: &org.row.name,
            login: &email,
            link: &link,
            valid_hours: settings.set_password_ttl.num_hours().max(1),
        };
        let mail = render(MailKind::Registered, org.language(), &email, &letter);
        let mail_id = self.outbox.enqueue(&tx, MailKind::Registered, mail).await?;
        tx.commit().await?;
        self.outbox.deliver_soon(org.row.id, vec![mail_id]);
        Ok(Registered { organisation: org.row.id, email })
    }
}
