//! Personal data (FEATURES.md §10): the export of everything stored about a client (GDP-06),
//! irreversible anonymisation, single or bulk (GDP-03, GDP-05, Q-12), and the lists of clients
//! to anonymise or to regularise first (GDP-04).
//!
//! Each table holding personal data is a [`PersonalDataSource`]: the core tables are
//! registered here, plugins add theirs with [`GdprService::with_source`].

mod records;
mod sources;

use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Map, Value, json};

use crate::clients::entity::client;
use crate::clients::fields::FIELDS;
use crate::clients::model::{Client, ConsentStatus};
use crate::clients::service::{balance, load, load_for_update, record_consents, save};
use crate::clients::validate;
use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::ClientId;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

/// Something that stores personal data about clients (a core table, a plugin's records):
/// asked for its part of an export and to erase it when a client is anonymised.
#[async_trait::async_trait]
pub trait PersonalDataSource: Send + Sync {
    /// The key of this source's part of the export (`contacts`, `pets`…).
    fn section(&self) -> &'static str;

    /// Everything this source stores about `client`.
    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value>;

    /// Erases it for good. Returns what was erased for the audit log, never the values
    /// themselves (`{"deleted": 2}`), or `null` when this source keeps its records (ledger).
    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value>;
}

/// The two candidate lists of GDP-04.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalanceFilter {
    /// Balance exactly zero: may be anonymised.
    Zero,
    /// Anything else: to regularise by hand first.
    NonZero,
}

/// At most this many clients per bulk anonymisation.
pub const MAX_BULK: usize = 100;

pub struct GdprService {
    handles: Arc<Handles>,
    sources: Vec<Arc<dyn PersonalDataSource>>,
}

impl GdprService {
    /// The service with the core tables' sources.
    pub fn new(handles: Arc<Handles>) -> Self {
        let mut sources = sources::core();
        sources.push(Arc::new(crate::files::FilesSource::new(handles.clone())));
        Self { handles, sources }
    }

    /// Registers another source of personal data (plugins).
    #[must_use]
    pub fn with_source(mut self, source: Arc<dyn PersonalDataSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Everything stored about a client, as one JSON document (GDP-06). Admins only: it holds
    /// the audit entries about the client. The export itself is audited.
    pub async fn export(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<Value> {
        ctx.require(Permission::ViewUsers)?;
        let tx = ctx.begin().await?;
        let client = load(&tx, id).await?;
        let mut doc = Map::new();
        doc.insert("format".into(), json!("clientele.client-export.v1"));
        doc.insert("exported_at".into(), json!(self.handles.now()));
        doc.insert("client".into(), record_view(&client));
        for source in &self.sources {
            doc.insert(source.section().into(), source.export(&tx, id).await?);
        }
        let sections: Vec<&str> = doc.keys().map(String::as_str).collect();
        audit::record(&tx, ctx, AuditEntry::new("client.export", "client", id, json!({ "sections": sections })))
            .await?;
        tx.commit().await?;
        Ok(Value::Object(doc))
    }

    /// Anonymises one client for good (GDP-03). Refused unless `confirm`, and unless the balance
    /// is exactly zero; a super-admin may `force` it with a reason.
    pub async fn anonymise(
        &self,
        ctx: &TenantCtx,
        id: ClientId,
        confirm: bool,
        force_reason: Option<&str>,
    ) -> AppResult<Client> {
        ctx.require(Permission::Purge)?;
        confirmed(confirm)?;
        let reason = match force_reason {
            None => None,
            Some(raw) => {
                let reason = validate::clean(Some(raw.to_owned()));
                let mut errors = Vec::new();
                validate::text(&mut errors, "reason", reason.as_deref(), 500, false);
                if reason.is_none() {
                    errors.push(AppError::invalid("reason", "Say why the balance is left unsettled."));
                }
                if let Some(err) = AppError::all(errors) {
                    return Err(err);
                }
                reason
            }
        };
        let tx = ctx.begin().await?;
        let client = self.anonymise_in(&tx, ctx, id, reason.as_deref()).await?;
        tx.commit().await?;
        // The photo and attachments are personal data: their blobs go now (FIL-07).
        crate::files::sweep_after_commit(ctx).await;
        Ok(client)
    }

    /// Anonymises several clients at once, all or none (GDP-03); never forced.
    pub async fn anonymise_many(&self, ctx: &TenantCtx, ids: &[ClientId], confirm: bool) -> AppResult<Vec<Client>> {
        ctx.require(Permission::Purge)?;
        confirmed(confirm)?;
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() || unique.len() > MAX_BULK {
            return Err(AppError::invalid("ids", format!("Give 1 to {MAX_BULK} clients.")));
        }
        let tx = ctx.begin().await?;
        let mut done = Vec::with_capacity(unique.len());
        for id in unique {
            done.push(self.anonymise_in(&tx, ctx, id, None).await?);
        }
        tx.commit().await?;
        crate::files::sweep_after_commit(ctx).await;
        Ok(done)
    }

    async fn anonymise_in(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        id: ClientId,
        force_reason: Option<&str>,
    ) -> AppResult<Client> {
        let before = load_for_update(tx, id).await?;
        if before.anonymised_at.is_some() {
            return Err(AppError::new(ErrorCode::Validation, "This client is already anonymised."));
        }
        let balance = balance(tx, id).await?;
        if balance != Money(0) && force_reason.is_none() {
            return Err(AppError::new(
                ErrorCode::BalanceNotZero,
                format!("Client {} has a balance of {}: settle it first.", before.number, balance.to_decimal_string()),
            ));
        }
        let now = self.handles.now();
        let mut after = before.clone();
        let mut erased = erase_record(&mut after);
        let code = free_code(tx, &after).await?;
        if code != after.code {
            after.code = code;
            erased.push("code");
        }
        let mut records = Map::new();
        for source in &self.sources {
            let summary = source.erase(tx, id).await?;
            if !summary.is_null() {
                records.insert(source.section().into(), summary);
            }
        }
        // GDP-02: a forgotten person is never contacted again; the history keeps the statuses.
        let refused = |s: ConsentStatus| (s != ConsentStatus::Refused).then_some(ConsentStatus::Refused);
        let changed = (refused(after.consent_email), refused(after.consent_sms));
        record_consents(tx, ctx, id, changed, Some("anonymisation"), now).await?;
        (after.consent_email, after.consent_sms) = (ConsentStatus::Refused, ConsentStatus::Refused);
        after.anonymised_at = Some(now);
        after.updated_at = now;
        after.version += 1;
        save(tx, &after).await?;
        // Names of what was erased, never the values: the audit log must not keep them.
        let mut changes = json!({
            "erased": erased,
            "records": records,
            "consent_email": { "before": before.consent_email.as_str(), "after": "refused" },
            "consent_sms": { "before": before.consent_sms.as_str(), "after": "refused" },
            "anonymised_at": { "before": null, "after": now },
        });
        if let Some(reason) = force_reason {
            changes["forced"] = json!({ "reason": reason, "balance": balance.to_decimal_string() });
        }
        audit::record(tx, ctx, AuditEntry::new("client.anonymise", "client", id, changes)).await?;
        Ok(after)
    }

    /// Clients not yet anonymised whose balance is zero (to anonymise) or not (to regularise
    /// by hand first), GDP-04; trashed and dormant ones included. In creation order.
    pub async fn candidates(
        &self,
        ctx: &TenantCtx,
        filter: BalanceFilter,
        page: PageRequest,
    ) -> AppResult<Page<Client>> {
        let sum = "COALESCE((SELECT SUM(l.amount_minor) FROM ledger_entries l \
                   WHERE l.tenant_id = clients.tenant_id AND l.client_id = clients.id), 0)";
        let condition = match filter {
            BalanceFilter::Zero => Expr::cust(format!("{sum} = 0")),
            BalanceFilter::NonZero => Expr::cust(format!("{sum} <> 0")),
        };
        let tx = ctx.read().await?;
        let base = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::AnonymisedAt.is_null())
            .filter(condition);
        let rows = page.by_id(base.clone(), client::Column::Id, true).all(tx.conn()).await?;
        let total = base.count(tx.conn()).await?;
        tx.commit().await?;
        let clients = rows.into_iter().map(Client::from_row).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(clients, &page, total))
    }
}

fn confirmed(confirm: bool) -> AppResult<()> {
    if confirm {
        Ok(())
    } else {
        Err(AppError::invalid("confirm", "Anonymisation cannot be undone: confirm it explicitly."))
    }
}

/// Erases the personal fields of the record (Q-12, the client table's `personal` fields, the
/// phones and the custom fields) and returns their names. Kept: number, kind, category, group,
/// account settings, accounting code and flags.
fn erase_record(c: &mut Client) -> Vec<&'static str> {
    let mut erased = Vec::new();
    for spec in FIELDS.iter().filter(|f| f.personal) {
        if (spec.erase)(c) {
            erased.push(spec.name);
        }
    }
    for (name, value) in
        [("mobile", &mut c.mobile), ("home_phone", &mut c.home_phone), ("work_phone", &mut c.work_phone)]
    {
        if value.take().is_some() {
            erased.push(name);
        }
    }
    // The reason may name the person; a blocked client stays blocked.
    if c.blocked_reason.as_deref().is_some_and(|r| !r.is_empty()) {
        erased.push("blocked_reason");
    }
    c.blocked_reason = c.blocked.then(String::new);
    if !c.custom_fields.is_empty() {
        c.custom_fields.clear();
        erased.push("custom_fields");
    }
    erased
}

/// The client code after anonymisation: the number (CLI-03's default), unless another client
/// already uses it as code; then a code derived from the id, unique by construction.
async fn free_code(tx: &TenantTx, c: &Client) -> AppResult<String> {
    let number = c.number.to_string();
    if c.code == number {
        return Ok(number);
    }
    let taken = client::Entity::find()
        .filter(client::Column::TenantId.eq(tx.tenant()))
        .filter(client::Column::Code.eq(number.as_str()))
        .filter(client::Column::Id.ne(c.id))
        .count(tx.conn())
        .await?;
    Ok(if taken == 0 { number } else { format!("anon-{}", c.id.0.simple()) })
}

/// Every stored field of a client: the export's record and the merge's undo data.
pub(crate) fn record_view(c: &Client) -> Value {
    let mut view = c.audit_view();
    if let Value::Object(map) = &mut view {
        let phone_e164 = |p: Option<&crate::clients::Phone>| p.and_then(|p| p.e164.clone());
        for (key, value) in [
            ("id", json!(c.id)),
            ("number", json!(c.number)),
            ("mobile_e164", json!(phone_e164(c.mobile.as_ref()))),
            ("home_phone_e164", json!(phone_e164(c.home_phone.as_ref()))),
            ("work_phone_e164", json!(phone_e164(c.work_phone.as_ref()))),
            ("version", json!(c.version)),
            ("created_at", json!(c.created_at)),
            ("updated_at", json!(c.updated_at)),
            ("anonymised_at", json!(c.anonymised_at)),
        ] {
            map.insert(key.into(), value);
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::model::{Civility, Phone};

    fn sample() -> Client {
        let mut c = Client::blank(ClientId(uuid::Uuid::nil()), chrono::DateTime::UNIX_EPOCH);
        c.number = 7;
        c.civility = Some(Civility::Mrs);
        c.last_name = Some("Dupont".into());
        c.first_name = Some("Anne".into());
        c.email = Some("anne@example.test".into());
        c.mobile = Some(Phone { typed: "06 12 34 56 78".into(), e164: Some("+33612345678".into()) });
        c.bank_iban = Some("FR7630006000011234567890189".into());
        c.notes = Some("Prefers mornings".into());
        c.blocked = true;
        c.blocked_reason = Some("Anne never pays".into());
        c.custom_fields.insert("shoe".into(), json!(38));
        c
    }

    #[test]
    fn erasing_names_fields_but_keeps_no_values() {
        let mut c = sample();
        let erased = erase_record(&mut c);
        assert_eq!(
            erased,
            [
                "civility",
                "last_name",
                "first_name",
                "email",
                "notes",
                "bank_iban",
                "mobile",
                "blocked_reason",
                "custom_fields"
            ]
        );
        assert!(c.last_name.is_none() && c.email.is_none() && c.mobile.is_none() && c.bank_iban.is_none());
        assert!(c.custom_fields.is_empty());
        assert_eq!((c.blocked, c.blocked_reason.as_deref()), (true, Some("")), "still blocked, reason gone");
        assert_eq!(c.number, 7, "the number stays");
        let view = c.audit_view().to_string();
        for value in ["Dupont", "Anne", "anne@example", "06 12", "FR76", "mornings", "never pays"] {
            assert!(!view.contains(value), "{value} survived: {view}");
        }
    }

    #[test]
    fn erasing_twice_erases_nothing_more() {
        let mut c = sample();
        erase_record(&mut c);
        assert!(erase_record(&mut c).is_empty());
    }
}
