//! Consent history (GDP-01, GDP-02): every change of a channel's consent, with who made it,
//! when, and where it came from (web form, shop, phone…).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::clients::entity::consent;
use crate::clients::model::{Client, ConsentChannel, ConsentStatus};
use crate::clients::service::{ClientService, load_for_update, record_consents, save};
use crate::clients::validate;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{ClientId, UserId};
use clientele_kernel::tenancy::{Permission, TenantCtx};

/// One entry of a client's consent history.
#[derive(Clone, Debug)]
pub struct ConsentChange {
    pub id: uuid::Uuid,
    pub client: ClientId,
    pub channel: ConsentChannel,
    pub status: ConsentStatus,
    /// Where the decision came from; erased when the client is anonymised.
    pub source: Option<String>,
    /// The user who recorded it (none for API tokens and the system).
    pub actor: Option<UserId>,
    pub at: DateTime<Utc>,
}

impl ConsentChange {
    pub(crate) fn from_row(r: consent::Model) -> AppResult<Self> {
        let bad =
            |column: &str, value: &str| AppError::internal(format!("bad stored client_consents.{column}: {value}"));
        Ok(Self {
            id: r.id,
            client: r.client_id,
            channel: r.channel.parse().map_err(|_| bad("channel", &r.channel))?,
            status: r.status.parse().map_err(|_| bad("status", &r.status))?,
            source: r.source,
            actor: r.actor_user_id.map(UserId),
            at: r.at,
        })
    }
}

impl ClientService {
    /// The consent histories of `ids`, newest first (GDP-01).
    pub async fn consent_history(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<ConsentChange>> {
        let tx = ctx.read().await?;
        let rows = consent::Entity::find()
            .filter(consent::Column::TenantId.eq(ctx.tenant()))
            .filter(consent::Column::ClientId.is_in(ids.iter().map(|i| i.0)))
            .order_by_desc(consent::Column::At)
            .order_by_desc(consent::Column::Id)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(ConsentChange::from_row).collect()
    }

    /// Records a consent decision on one channel with its source (GDP-01); a refusal is the
    /// right to object (GDP-02). The decision is kept in the history even when it confirms the
    /// current status: its source and time are evidence.
    pub async fn set_consent(
        &self,
        ctx: &TenantCtx,
        id: ClientId,
        channel: ConsentChannel,
        status: ConsentStatus,
        source: &str,
    ) -> AppResult<Client> {
        ctx.require(Permission::Write)?;
        let source = validate::clean(Some(source.to_owned()));
        let mut errors = Vec::new();
        validate::text(&mut errors, "source", source.as_deref(), 200, false);
        if source.is_none() {
            errors.push(AppError::invalid("source", "Say where the decision came from (form, shop, phone…)."));
        }
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let tx = ctx.begin().await?;
        let before = load_for_update(&tx, id).await?;
        crate::clients::service::ensure_not_trashed(&before)?;
        if before.anonymised_at.is_some() {
            return Err(AppError::new(ErrorCode::Validation, "An anonymised client cannot be changed."));
        }
        let now = self.handles.now();
        let mut after = before.clone();
        let current = match channel {
            ConsentChannel::Email => &mut after.consent_email,
            ConsentChannel::Sms => &mut after.consent_sms,
        };
        let changed = *current != status;
        *current = status;
        if changed {
            after.version += 1;
            after.updated_at = now;
            save(&tx, &after).await?;
        }
        let pair = match channel {
            ConsentChannel::Email => (Some(status), None),
            ConsentChannel::Sms => (None, Some(status)),
        };
        record_consents(&tx, ctx, id, pair, source.as_deref(), now).await?;
        let field = format!("consent_{}", channel.as_str());
        let changes = json!({
            field: { "before": before_status(&before, channel).as_str(), "after": status.as_str() },
            "source": source,
        });
        audit::record(&tx, ctx, AuditEntry::new("client.consent", "client", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }
}

fn before_status(c: &Client, channel: ConsentChannel) -> ConsentStatus {
    match channel {
        ConsentChannel::Email => c.consent_email,
        ConsentChannel::Sms => c.consent_sms,
    }
}
