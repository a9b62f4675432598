//! Outgoing mail: the [`Mailer`] port (its lettre adapters live in `clientele-adapters`).
//! Services never send directly: they write `mail_outbox` rows in the transaction that
//! decides to send, and the outbox hands committed rows to a [`Mailer`].

use crate::error::AppResult;
use crate::ids::TenantId;

/// One plain-text message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Delivers a message on behalf of a tenant (adapters may log or route by it).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, tenant: TenantId, mail: &Mail) -> AppResult<()>;
}
