//! Getting people in: a supplier sends a customer's user their access data (ORG-20, Q-19), and
//! anyone may ask for a password-reset link (USR-04). Both mail a single-use set-password link,
//! never a password.

use std::sync::Arc;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{
    AppError, AppResult, ErrorCode, OrgKind, Permission, Role, TenantCtx, TenantId, TenantTx, UserId,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::auth::{AuthService, ClientInfo, RESET_PASSWORD, burn_links, insert_one_time_token, normalise_email};
use crate::customers::{CustomerService, acting_in};
use crate::entity::{org_contact, organisation, user};
use crate::mail::{Letter, MailKind, MailOutbox, render};
use crate::model::{User, UserStatus};
use crate::{system_ctx, throttle};

/// Where the access data went.
#[derive(Clone, Debug)]
pub struct AccessDataSent {
    pub user: UserId,
    pub recipient: String,
}

#[derive(Clone)]
pub struct AccessService {
    handles: Arc<Handles>,
    auth: Arc<AuthService>,
    outbox: Arc<MailOutbox>,
}

fn hours(ttl: chrono::Duration) -> i64 {
    ttl.num_hours().max(1)
}

impl AccessService {
    pub fn new(handles: Arc<Handles>, auth: Arc<AuthService>, outbox: Arc<MailOutbox>) -> Self {
        Self { handles, auth, outbox }
    }

    /// ORG-20: mails the super-admin of the supplier's customer `org` (or the user of
    /// `contact`) a welcome with their login and a set-password link, at the user's own
    /// address only (issue 12 #5: the supplier never receives a customer user's credential).
    pub async fn send_access_data(
        &self,
        ctx: &TenantCtx,
        org: TenantId,
        contact: Option<uuid::Uuid>,
    ) -> AppResult<AccessDataSent> {
        CustomerService::require_supplier(ctx)?;
        let mut tx = ctx.begin().await?;
        let org_row = CustomerService::load_child(&tx, ctx.tenant(), org).await?;
        tx.scope_to(org).await?;
        let row = match contact {
            Some(id) => {
                let contact =
                    org_contact::Entity::find_by_id((org, id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
                let Some(user_id) = contact.user_id else {
                    return Err(AppError::invalid("contact", "This contact has no login."));
                };
                user::Entity::find_by_id((org, UserId(user_id))).one(tx.conn()).await?
            }
            None => {
                user::Entity::find()
                    .filter(user::Column::TenantId.eq(org))
                    .filter(user::Column::Role.eq(Role::SuperAdmin.as_str()))
                    .filter(user::Column::Status.eq(<&str>::from(UserStatus::Active)))
                    .order_by_asc(user::Column::CreatedAt)
                    .order_by_asc(user::Column::Id)
                    .one(tx.conn())
                    .await?
            }
        };
        let Some(user) = row.map(User::from_row).transpose()? else {
            return Err(AppError::invalid("organisation", "The organisation has no active super-admin."));
        };
        if user.status != UserStatus::Active {
            return Err(AppError::invalid("contact", "This contact's login is inactive."));
        }
        let mail_id = self.queue_access_data(&tx, &acting_in(ctx, org), &org_row.name, &user).await?;
        tx.commit().await?;
        self.outbox.deliver_soon(org, vec![mail_id]);
        Ok(AccessDataSent { user: user.id, recipient: user.email })
    }

    /// A super-admin's invitation: mails an active user of the caller's own organisation their
    /// access data (login and a set-password link; a reset link when they have a password), at
    /// their own address, like [`send_access_data`](Self::send_access_data) does for a supplier.
    pub async fn invite(&self, ctx: &TenantCtx, user_id: UserId) -> AppResult<AccessDataSent> {
        let tx = ctx.begin().await?;
        crate::users::authorize(&tx, ctx, Permission::ManageUsers).await?;
        let org =
            organisation::Entity::find_by_id(ctx.tenant()).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        // Locked: two invitations at once leave exactly one working reset link.
        let row = user::Entity::find_by_id((ctx.tenant(), user_id))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let user = User::from_row(row)?;
        if user.status != UserStatus::Active {
            return Err(AppError::invalid("user", "This user is inactive."));
        }
        let mail_id = self.queue_access_data(&tx, ctx, &org.name, &user).await?;
        tx.commit().await?;
        self.outbox.deliver_soon(ctx.tenant(), vec![mail_id]);
        Ok(AccessDataSent { user: user.id, recipient: user.email })
    }

    /// Queues `user`'s access data in `tx` (their login and a one-time link: set-password, or a
    /// short-lived reset when they have a password), audited as `audit_ctx`; the mail to deliver.
    pub(crate) async fn queue_access_data(
        &self,
        tx: &TenantTx,
        audit_ctx: &TenantCtx,
        organisation: &str,
        user: &User,
    ) -> AppResult<uuid::Uuid> {
        // A credentials link goes to the user's own address only: never to the organisation's
        // notification address, which the supplier can set, nor to anything else it can set.
        let recipient = user.email.as_str();
        let (token, purpose) = self.auth.issue_link(tx, user.id).await?;
        let link = self.auth.settings().set_password_link(&token);
        let letter = Letter {
            name: &user.display_name,
            organisation,
            login: &user.email,
            link: &link,
            valid_hours: hours(self.auth.link_ttl(purpose)),
        };
        let mail = render(MailKind::AccessData, user.language, recipient, &letter);
        let mail_id = self.outbox.enqueue(tx, MailKind::AccessData, mail).await?;
        let entry = AuditEntry::new(
            "user.send_access_data",
            "user",
            user.id,
            json!({ "recipient": recipient, "mail_id": mail_id, "purpose": purpose }),
        );
        audit::record(tx, audit_ctx, entry).await?;
        Ok(mail_id)
    }

    /// Delivers a mail queued in a committed transaction of `tenant` without waiting.
    pub(crate) fn deliver_soon(&self, tenant: TenantId, mail: uuid::Uuid) {
        self.outbox.deliver_soon(tenant, vec![mail]);
    }

    /// USR-04: mails a reset link to every active account holding `email` (in `organisation`
    /// when given). The answer is the same whether or not an account exists; requests are
    /// throttled per e-mail and per client address like sign-in.
    pub async fn request_password_reset(
        &self,
        email: &str,
        organisation: Option<TenantId>,
        client: &ClientInfo,
    ) -> AppResult<()> {
        let email = normalise_email(email);
        let db = &self.handles.db;
        let now = self.handles.now();
        // Every request counts, known account or not, so the limit reveals nothing either.
        let address_key = client.addr.as_deref().map(throttle::reset_address_key);
        if let Some(key) = &address_key
            && throttle::attempt(db, key, throttle::ADDRESS, now).await? == throttle::Verdict::Locked
        {
            return Err(ErrorCode::TooManyAttempts.into());
        }
        if throttle::attempt(db, &throttle::reset_key(&email), throttle::ACCOUNT, now).await?
            == throttle::Verdict::Locked
        {
            return Err(ErrorCode::TooManyAttempts.into());
        }
        if email.len() > 254 || !email.contains('@') {
            return Ok(());
        }
        // Minting and queueing happen after the answer, so its timing does not tell either.
        let this = self.clone();
        tokio::spawn(async move {
            let sent = async {
                for (tenant, user) in this.auth.candidates(&email, organisation).await? {
                    this.mail_reset_link(tenant, user).await?;
                }
                AppResult::Ok(())
            };
            if let Err(err) = sent.await {
                tracing::error!(error = %err, "password reset failed");
            }
        });
        Ok(())
    }

    /// Mints a reset link for an active user of an available organisation and queues its mail.
    async fn mail_reset_link(&self, tenant: TenantId, user_id: UserId) -> AppResult<()> {
        // The server acts here on an anonymous request: the audit row names no user.
        let ctx = system_ctx(&self.handles, tenant, OrgKind::Customer);
        let tx = ctx.begin().await?;
        let Some(org) = organisation::Entity::find_by_id(tenant).one(tx.conn()).await? else { return Ok(()) };
        // Locked: concurrent requests for one user queue, so exactly the newest link survives.
        let Some(user) = user::Entity::find_by_id((tenant, user_id)).lock_exclusive().one(tx.conn()).await? else {
            return Ok(());
        };
        let user = User::from_row(user)?;
        if user.status != UserStatus::Active || self.auth.check_org(&org.status, org.blocked, org.valid_from).is_err() {
            return Ok(());
        }
        // Only the newest reset link works.
        burn_links(&tx, user.id, RESET_PASSWORD, self.handles.now()).await?;
        let settings = self.auth.settings();
        let token =
            insert_one_time_token(&tx, &self.handles, user.id, RESET_PASSWORD, settings.reset_password_ttl).await?;
        let link = settings.set_password_link(&token);
        let letter = Letter {
            name: &user.display_name,
            organisation: &org.name,
            login: &user.email,
            link: &link,
            valid_hours: hours(settings.reset_password_ttl),
        };
        let mail = render(MailKind::PasswordReset, user.language, &user.email, &letter);
        let mail_id = self.outbox.enqueue(&tx, MailKind::PasswordReset, mail).await?;
        let entry = AuditEntry::new("user.request_password_reset", "user", user.id, json!({ "mail_id": mail_id }));
        audit::record(&tx, &ctx, entry).await?;
        tx.commit().await?;
        self.outbox.deliver_soon(tenant, vec![mail_id]);
        Ok(())
    }
}
