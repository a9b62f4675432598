//! Merging duplicates: the kept client takes over the other's contacts, addresses, ledger
//! entries, sponsees, consent history, beneficiaries, cards, documents and referral reward uses
//! and fills its own blanks from it; the duplicate goes to the trash. One transaction, one audit row holding what it takes to undo it.

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::clients::entity::{address, client, consent, contact, ledger_entry};
use crate::clients::fields::FIELDS;
use crate::clients::gdpr::record_view;
use crate::clients::model::{Client, ConsentStatus};
use crate::clients::service::{ClientService, check_references, load_for_update, record_consents, save};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

/// Ids of the rows a merge moved, for the undo data.
#[derive(Debug, Default)]
struct Moved {
    contacts: Vec<uuid::Uuid>,
    addresses: Vec<uuid::Uuid>,
    /// Moved addresses that lost their default flag to one of the kept client's.
    address_defaults_cleared: Vec<uuid::Uuid>,
    ledger_entries: Vec<uuid::Uuid>,
    consents: Vec<uuid::Uuid>,
    sponsees: Vec<uuid::Uuid>,
    beneficiaries: Vec<uuid::Uuid>,
    cards: Vec<uuid::Uuid>,
    documents: Vec<uuid::Uuid>,
    referral_reward_uses: Vec<uuid::Uuid>,
}

impl ClientService {
    /// Merges the duplicate `merge_id` into `keep_id` and returns the kept client. Both must be
    /// live (neither trashed nor anonymised) clients of the caller's organisation.
    pub async fn merge(&self, ctx: &TenantCtx, keep_id: ClientId, merge_id: ClientId) -> AppResult<Client> {
        ctx.require(Permission::Write)?;
        if keep_id == merge_id {
            return Err(AppError::invalid("merge_id", "A client cannot be merged with itself."));
        }
        let tx = ctx.begin().await?;
        // Lock in id order, so two opposite merges cannot deadlock.
        let (keep, merged) = if keep_id < merge_id {
            let keep = load_for_update(&tx, keep_id).await?;
            (keep, load_for_update(&tx, merge_id).await?)
        } else {
            let merged = load_for_update(&tx, merge_id).await?;
            (load_for_update(&tx, keep_id).await?, merged)
        };
        for (field, c) in [("keep_id", &keep), ("merge_id", &merged)] {
            if c.deleted_at.is_some() {
                return Err(AppError::invalid(field, "This client is in the trash: restore it first."));
            }
            if c.anonymised_at.is_some() {
                return Err(AppError::invalid(field, "An anonymised client cannot be merged."));
            }
        }
        let now = self.handles.now();
        let moved = move_records(&tx, keep.id, merged.id, now).await?;
        let (mut kept, mut gone) = (keep.clone(), merged.clone());
        let consents = fill_blanks(&mut kept, &mut gone);
        let mut errors = Vec::new();
        // A moved sponsee may close a referral cycle. References taken over from the duplicate were
        // already held by a record of this tenant, so they count as kept.
        check_references(&tx, &kept, &kept.references(), &mut errors).await?;
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let consents_added = record_consents(&tx, ctx, keep.id, consents, Some("merge"), now).await?;
        gone.deleted_at = Some(now);
        gone.version += 1;
        gone.updated_at = now;
        save(&tx, &gone).await?; // first: frees the e-mail and barcode the kept client takes over
        kept.version += 1;
        kept.updated_at = now;
        save(&tx, &kept).await?;
        if let Some(reason) = self.deletion_blocker(&tx, merged.id).await? {
            return Err(AppError::new(ErrorCode::LinkedRecords, reason));
        }
        let changes = json!({
            "merged_id": merged.id,
            "merged_before": record_view(&merged),
            "merged_changes": audit::diff(&record_view(&merged), &record_view(&gone)),
            "kept_changes": audit::diff(&record_view(&keep), &record_view(&kept)),
            "moved": {
                "contacts": moved.contacts,
                "addresses": moved.addresses,
                "address_defaults_cleared": moved.address_defaults_cleared,
                "ledger_entries": moved.ledger_entries,
                "consents": moved.consents,
                "sponsees": moved.sponsees,
                "beneficiaries": moved.beneficiaries,
                "cards": moved.cards,
                "documents": moved.documents,
                "referral_reward_uses": moved.referral_reward_uses,
            },
            "consents_added": consents_added,
        });
        audit::record(&tx, ctx, AuditEntry::new("client.merge", "client", keep.id, changes)).await?;
        tx.commit().await?;
        Ok(kept)
    }
}

/// Points every row of `from` at `to`.
async fn move_records(
    tx: &TenantTx,
    to: ClientId,
    from: ClientId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Moved> {
    let t = tx.tenant();
    let mut moved = Moved::default();

    let contacts = contact::Entity::find()
        .filter(contact::Column::TenantId.eq(t))
        .filter(contact::Column::ClientId.eq(from))
        .all(tx.conn())
        .await?;
    moved.contacts = contacts.iter().map(|c| c.id.0).collect();
    contact::Entity::update_many()
        .col_expr(contact::Column::ClientId, Expr::value(to.0))
        .filter(contact::Column::TenantId.eq(t))
        .filter(contact::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;

    // The kept client's default address of each kind stays the default.
    let kept_defaults: HashSet<String> = address::Entity::find()
        .filter(address::Column::TenantId.eq(t))
        .filter(address::Column::ClientId.eq(to))
        .filter(address::Column::IsDefault.eq(true))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|a| a.kind)
        .collect();
    let addresses = address::Entity::find()
        .filter(address::Column::TenantId.eq(t))
        .filter(address::Column::ClientId.eq(from))
        .all(tx.conn())
        .await?;
    moved.addresses = addresses.iter().map(|a| a.id.0).collect();
    moved.address_defaults_cleared =
        addresses.iter().filter(|a| a.is_default && kept_defaults.contains(&a.kind)).map(|a| a.id.0).collect();
    if !moved.address_defaults_cleared.is_empty() {
        address::Entity::update_many()
            .col_expr(address::Column::IsDefault, Expr::value(false))
            .filter(address::Column::TenantId.eq(t))
            .filter(address::Column::Id.is_in(moved.address_defaults_cleared.clone()))
            .exec(tx.conn())
            .await?;
    }
    address::Entity::update_many()
        .col_expr(address::Column::ClientId, Expr::value(to.0))
        .filter(address::Column::TenantId.eq(t))
        .filter(address::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;

    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(t))
        .filter(ledger_entry::Column::ClientId.eq(from))
        .all(tx.conn())
        .await?;
    moved.ledger_entries = entries.iter().map(|e| e.id.0).collect();
    ledger_entry::Entity::update_many()
        .col_expr(ledger_entry::Column::ClientId, Expr::value(to.0))
        .filter(ledger_entry::Column::TenantId.eq(t))
        .filter(ledger_entry::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;

    let consents = consent::Entity::find()
        .filter(consent::Column::TenantId.eq(t))
        .filter(consent::Column::ClientId.eq(from))
        .all(tx.conn())
        .await?;
    moved.consents = consents.iter().map(|c| c.id).collect();
    consent::Entity::update_many()
        .col_expr(consent::Column::ClientId, Expr::value(to.0))
        .filter(consent::Column::TenantId.eq(t))
        .filter(consent::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;

    // The kept client itself, if sponsored by the duplicate, is handled by `fill_blanks`.
    let sponsees = client::Entity::find()
        .filter(client::Column::TenantId.eq(t))
        .filter(client::Column::Sponsor.eq(from.0))
        .filter(client::Column::Id.ne(to))
        .all(tx.conn())
        .await?;
    moved.sponsees = sponsees.iter().map(|c| c.id.0).collect();
    if !moved.sponsees.is_empty() {
        client::Entity::update_many()
            .col_expr(client::Column::Sponsor, Expr::value(to.0))
            .col_expr(client::Column::Version, Expr::col(client::Column::Version).add(1))
            .col_expr(client::Column::UpdatedAt, Expr::value(now))
            .filter(client::Column::TenantId.eq(t))
            .filter(client::Column::Id.is_in(moved.sponsees.clone()))
            .exec(tx.conn())
            .await?;
    }
    (moved.beneficiaries, moved.cards) = crate::clients::cards::move_holders(tx, to, from).await?;
    moved.documents = crate::clients::client_documents::move_documents(tx, to, from).await?;
    moved.referral_reward_uses = crate::clients::referral::move_uses(tx, to, from).await?;
    Ok(moved)
}

/// Fills the kept client's empty fields from the duplicate, never overwriting, as each field's
/// line in the client table says (unique values such as e-mail and barcode move rather than
/// copy); the fields merged by hand follow. Returns the consents taken over, for the history.
fn fill_blanks(kept: &mut Client, gone: &mut Client) -> (Option<ConsentStatus>, Option<ConsentStatus>) {
    for spec in FIELDS {
        (spec.take_over)(kept, gone, spec.merge);
    }
    for (target, from) in [
        (&mut kept.mobile, &gone.mobile),
        (&mut kept.home_phone, &gone.home_phone),
        (&mut kept.work_phone, &gone.work_phone),
    ] {
        if target.is_none() {
            target.clone_from(from);
        }
    }
    // Pairs validated together come together.
    if kept.siren.is_none() && kept.siret.is_none() {
        (kept.siren, kept.siret) = (gone.siren.clone(), gone.siret.clone());
    }
    if kept.bank_iban.is_none() && kept.bank_bic.is_none() {
        (kept.bank_iban, kept.bank_bic) = (gone.bank_iban.clone(), gone.bank_bic.clone());
    }
    if kept.multi_tariff && kept.tariff.is_none() {
        kept.tariff = gone.tariff;
    }
    // The duplicate leaves: whoever sponsored it sponsors the kept client, never itself.
    if kept.sponsor.is_none() || kept.sponsor == Some(gone.id) {
        kept.sponsor = gone.sponsor.filter(|s| *s != kept.id);
    }
    for (key, value) in &gone.custom_fields {
        if kept.custom_fields.get(key).is_none_or(Value::is_null) {
            kept.custom_fields.insert(key.clone(), value.clone());
        }
    }
    let take_consent = |target: &mut ConsentStatus, from: ConsentStatus| {
        (*target == ConsentStatus::Unknown && from != ConsentStatus::Unknown).then(|| {
            *target = from;
            from
        })
    };
    (take_consent(&mut kept.consent_email, gone.consent_email), take_consent(&mut kept.consent_sms, gone.consent_sms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(n: u128) -> Client {
        let mut c = Client::blank(ClientId(uuid::Uuid::from_u128(n)), chrono::DateTime::UNIX_EPOCH);
        c.last_name = Some(format!("Name{n}"));
        c.first_name = Some("X".into());
        c
    }

    #[test]
    fn blanks_are_filled_and_nothing_is_overwritten() {
        let (mut kept, mut gone) = (client(1), client(2));
        kept.notes = Some("kept note".into());
        gone.notes = Some("gone note".into());
        gone.email = Some("dup@example.test".into());
        gone.alert = Some("Pays cash".into());
        gone.siret = Some("12002701600357".into());
        gone.consent_email = ConsentStatus::Refused;
        kept.consent_sms = ConsentStatus::Granted;
        gone.consent_sms = ConsentStatus::Refused;
        gone.custom_fields.insert("size".into(), json!(42));
        kept.custom_fields.insert("colour".into(), json!("red"));
        gone.custom_fields.insert("colour".into(), json!("blue"));
        let consents = fill_blanks(&mut kept, &mut gone);
        assert_eq!(kept.last_name.as_deref(), Some("Name1"));
        assert_eq!(kept.notes.as_deref(), Some("kept note"));
        assert_eq!(kept.alert.as_deref(), Some("Pays cash"));
        assert_eq!(kept.siret.as_deref(), Some("12002701600357"));
        assert_eq!(kept.email.as_deref(), Some("dup@example.test"));
        assert_eq!(gone.email, None, "the unique e-mail moves");
        assert_eq!(consents, (Some(ConsentStatus::Refused), None));
        assert_eq!((kept.consent_email, kept.consent_sms), (ConsentStatus::Refused, ConsentStatus::Granted));
        assert_eq!(kept.custom_fields.get("size"), Some(&json!(42)));
        assert_eq!(kept.custom_fields.get("colour"), Some(&json!("red")));
    }

    #[test]
    fn the_sponsor_of_the_duplicate_takes_over_never_the_kept_client_itself() {
        let (mut kept, mut gone) = (client(1), client(2));
        kept.sponsor = Some(gone.id);
        gone.sponsor = Some(ClientId(uuid::Uuid::from_u128(3)));
        fill_blanks(&mut kept, &mut gone);
        assert_eq!(kept.sponsor, Some(ClientId(uuid::Uuid::from_u128(3))));
        let (mut kept, mut gone) = (client(1), client(2));
        gone.sponsor = Some(kept.id);
        fill_blanks(&mut kept, &mut gone);
        assert_eq!(kept.sponsor, None);
    }
}
