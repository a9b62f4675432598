//! The core tables as personal-data sources. Erasing order matters: contacts and documents
//! before the addresses they may point at.

use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::PersonalDataSource;
use crate::clients::entity::{address, client, consent, contact, ledger_entry};
use clientele_kernel::Money;
use clientele_kernel::audit::entity as audit_log;
use clientele_kernel::error::AppResult;
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::TenantTx;

pub(super) fn core() -> Vec<Arc<dyn PersonalDataSource>> {
    vec![
        Arc::new(Contacts),
        Arc::new(super::records::Beneficiaries),
        Arc::new(super::records::Cards),
        Arc::new(super::records::Documents),
        Arc::new(Addresses),
        Arc::new(ConsentHistory),
        Arc::new(LedgerEntries),
        Arc::new(Referrals),
        Arc::new(AuditEntries),
    ]
}

async fn contacts_of(tx: &TenantTx, client: ClientId) -> AppResult<Vec<contact::Model>> {
    Ok(contact::Entity::find()
        .filter(contact::Column::TenantId.eq(tx.tenant()))
        .filter(contact::Column::ClientId.eq(client))
        .order_by_asc(contact::Column::Id)
        .all(tx.conn())
        .await?)
}

async fn addresses_of(tx: &TenantTx, client: ClientId) -> AppResult<Vec<address::Model>> {
    Ok(address::Entity::find()
        .filter(address::Column::TenantId.eq(tx.tenant()))
        .filter(address::Column::ClientId.eq(client))
        .order_by_asc(address::Column::Id)
        .all(tx.conn())
        .await?)
}

async fn ledger_of(tx: &TenantTx, client: ClientId) -> AppResult<Vec<ledger_entry::Model>> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
        .filter(ledger_entry::Column::ClientId.eq(client))
        .order_by_asc(ledger_entry::Column::EntryDate)
        .order_by_asc(ledger_entry::Column::Id)
        .all(tx.conn())
        .await?)
}

/// Contacts (CON-02): people, phones, e-mails. Erased: deleted.
struct Contacts;

#[async_trait::async_trait]
impl PersonalDataSource for Contacts {
    fn section(&self) -> &'static str {
        "contacts"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = contacts_of(tx, client).await?;
        Ok(rows
            .into_iter()
            .map(|c| {
                json!({
                    "id": c.id, "address_id": c.address_id, "title": c.title, "first_name": c.first_name,
                    "last_name": c.last_name, "job_title": c.job_title, "department": c.department,
                    "phone": c.phone, "fax": c.fax, "mobile": c.mobile, "email": c.email, "remark": c.remark,
                    "custom_fields": c.custom_fields, "created_at": c.created_at, "updated_at": c.updated_at,
                })
            })
            .collect())
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let done = contact::Entity::delete_many()
            .filter(contact::Column::TenantId.eq(tx.tenant()))
            .filter(contact::Column::ClientId.eq(client))
            .exec(tx.conn())
            .await?;
        Ok(json!({ "deleted": done.rows_affected }))
    }
}

/// Addresses and delivery sites (ADR-*). Erased: deleted.
struct Addresses;

#[async_trait::async_trait]
impl PersonalDataSource for Addresses {
    fn section(&self) -> &'static str {
        "addresses"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = addresses_of(tx, client).await?;
        Ok(rows
            .into_iter()
            .map(|a| {
                json!({
                    "id": a.id, "kind": a.kind, "label": a.label, "company": a.company, "street": a.street,
                    "complement": a.complement, "po_box": a.po_box, "postcode": a.postcode, "city": a.city,
                    "country": a.country, "remark": a.remark, "is_default": a.is_default,
                    "delivery_person_id": a.delivery_person_id, "created_at": a.created_at,
                    "updated_at": a.updated_at,
                })
            })
            .collect())
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let ids: Vec<_> = addresses_of(tx, client).await?.into_iter().map(|a| a.id).collect();
        if ids.is_empty() {
            return Ok(json!({ "deleted": 0 }));
        }
        // Another client's contact may point at one of these sites: it loses the link, not its data.
        contact::Entity::update_many()
            .col_expr(contact::Column::AddressId, Expr::value(Option::<uuid::Uuid>::None))
            .filter(contact::Column::TenantId.eq(tx.tenant()))
            .filter(contact::Column::AddressId.is_in(ids.iter().map(|i| i.0)))
            .exec(tx.conn())
            .await?;
        let done = address::Entity::delete_many()
            .filter(address::Column::TenantId.eq(tx.tenant()))
            .filter(address::Column::ClientId.eq(client))
            .exec(tx.conn())
            .await?;
        Ok(json!({ "deleted": done.rows_affected }))
    }
}

/// Consent history (GDP-01). Erased: the sources; the statuses stay as evidence of refusal.
struct ConsentHistory;

#[async_trait::async_trait]
impl PersonalDataSource for ConsentHistory {
    fn section(&self) -> &'static str {
        "consent_history"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = consent::Entity::find()
            .filter(consent::Column::TenantId.eq(tx.tenant()))
            .filter(consent::Column::ClientId.eq(client))
            .order_by_desc(consent::Column::At)
            .order_by_desc(consent::Column::Id)
            .all(tx.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|c| {
                json!({
                    "id": c.id, "channel": c.channel, "status": c.status, "source": c.source,
                    "actor_user_id": c.actor_user_id, "at": c.at,
                })
            })
            .collect())
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let done = consent::Entity::update_many()
            .col_expr(consent::Column::Source, Expr::value(Option::<String>::None))
            .filter(consent::Column::TenantId.eq(tx.tenant()))
            .filter(consent::Column::ClientId.eq(client))
            .filter(consent::Column::Source.is_not_null())
            .exec(tx.conn())
            .await?;
        Ok(json!({ "sources_erased": done.rows_affected }))
    }
}

/// Account ledger (LED-*). Kept on anonymisation: accounting records (GDP-05).
struct LedgerEntries;

#[async_trait::async_trait]
impl PersonalDataSource for LedgerEntries {
    fn section(&self) -> &'static str {
        "ledger_entries"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = ledger_of(tx, client).await?;
        Ok(rows
            .into_iter()
            .map(|e| {
                json!({
                    "id": e.id, "entry_date": e.entry_date, "kind": e.kind,
                    "amount": Money(e.amount_minor).to_decimal_string(), "currency": e.currency,
                    "document_ref": e.document_ref, "note": e.note, "author_user_id": e.author_user_id,
                    "reverses_id": e.reverses_id, "created_at": e.created_at,
                })
            })
            .collect())
    }

    async fn erase(&self, _tx: &TenantTx, _client: ClientId) -> AppResult<Value> {
        Ok(Value::Null)
    }
}

/// Referral links (REF-04): the sponsor and the sponsees, by id and number only (the other
/// clients' data is theirs). Links are kept on anonymisation.
struct Referrals;

#[async_trait::async_trait]
impl PersonalDataSource for Referrals {
    fn section(&self) -> &'static str {
        "referrals"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let t = tx.tenant();
        let link = |c: &client::Model| json!({ "id": c.id, "number": c.number });
        let sponsor_id = client::Entity::find_by_id((t, client)).one(tx.conn()).await?.and_then(|c| c.sponsor);
        let sponsor = match sponsor_id {
            Some(id) => client::Entity::find_by_id((t, id)).one(tx.conn()).await?.map(|c| link(&c)),
            None => None,
        };
        let sponsees = client::Entity::find()
            .filter(client::Column::TenantId.eq(t))
            .filter(client::Column::Sponsor.eq(client.0))
            .order_by_asc(client::Column::Number)
            .all(tx.conn())
            .await?;
        Ok(json!({ "sponsor": sponsor, "sponsees": sponsees.iter().map(link).collect::<Vec<_>>() }))
    }

    async fn erase(&self, _tx: &TenantTx, _client: ClientId) -> AppResult<Value> {
        Ok(Value::Null)
    }
}

/// Audit entries about the client and its contacts, addresses, ledger entries, beneficiaries,
/// cards and documents. The log is append-only: kept on anonymisation.
struct AuditEntries;

#[async_trait::async_trait]
impl PersonalDataSource for AuditEntries {
    fn section(&self) -> &'static str {
        "audit_entries"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let mut ids = vec![client.to_string()];
        ids.extend(contacts_of(tx, client).await?.iter().map(|c| c.id.to_string()));
        ids.extend(addresses_of(tx, client).await?.iter().map(|a| a.id.to_string()));
        ids.extend(ledger_of(tx, client).await?.iter().map(|e| e.id.to_string()));
        ids.extend(super::records::related_ids(tx, client).await?);
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::TenantId.eq(tx.tenant()))
            .filter(audit_log::Column::EntityId.is_in(ids))
            .order_by_asc(audit_log::Column::At)
            .order_by_asc(audit_log::Column::Id)
            .all(tx.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|a| {
                json!({
                    "id": a.id, "at": a.at, "action": a.action, "entity_type": a.entity_type,
                    "entity_id": a.entity_id, "actor_user_id": a.actor_user_id,
                    "actor_api_token_id": a.actor_api_token_id, "on_behalf_of_user_id": a.on_behalf_of_user_id,
                    "changes": a.changes, "request_id": a.request_id,
                })
            })
            .collect())
    }

    async fn erase(&self, _tx: &TenantTx, _client: ClientId) -> AppResult<Value> {
        Ok(Value::Null)
    }
}
