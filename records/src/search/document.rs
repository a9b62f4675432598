//! Builds clients' search documents from the database as it is now: core fields, contacts,
//! addresses, searchable custom fields, and what registered contributors (plugins) add.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::clients::custom_fields::{CustomEntity, CustomFieldService};
use crate::clients::entity::{address, client, contact};
use crate::clients::model::{Client, Phone};
use crate::search::{DocField, SearchDocument, text};
use clientele_kernel::error::AppResult;
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::TenantTx;

/// Another source of searchable text about clients (a plugin's searchable fields). Registered
/// with [`SearchService::with_contributor`](super::SearchService::with_contributor); whoever
/// changes that text calls [`touch`](super::touch) in the same transaction.
#[async_trait::async_trait]
pub trait SearchContributor: Send + Sync {
    /// Fields to add to the documents of `clients` (named e.g. `plugin.pets.name`).
    async fn fields(&self, tx: &TenantTx, clients: &[ClientId]) -> AppResult<Vec<(ClientId, DocField)>>;
}

/// What the worker does for each pending client.
pub(super) enum Outcome {
    Index(SearchDocument),
    /// In the trash (`purged: false`) or gone for good: no document.
    Remove {
        id: ClientId,
        purged: bool,
    },
}

fn field(name: &str, value: Option<&str>, primary: bool) -> Option<DocField> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    Some(DocField { name: name.to_owned(), value: value.to_owned(), primary })
}

/// A phone number in `doc`: shown as typed, found by its digit forms.
fn add_phone(doc: &mut SearchDocument, name: &str, typed: &str, e164: Option<&str>) {
    doc.fields.extend(field(name, Some(typed), false));
    doc.phones.extend(text::phone_forms(typed, e164));
    doc.french_phones.extend(text::french_phone(typed, e164));
}

/// The text of a custom field value: strings and numbers as they are, lists joined.
fn custom_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(items.iter().filter_map(custom_text).collect::<Vec<_>>().join(" ")),
        _ => None,
    }
}

/// Documents (or removals) for `pending` clients at the versions given, read in `tx`.
pub(super) async fn build(
    tx: &TenantTx,
    pending: &[(ClientId, i64)],
    contributors: &[Arc<dyn SearchContributor>],
) -> AppResult<Vec<Outcome>> {
    let ids: Vec<uuid::Uuid> = pending.iter().map(|(id, _)| id.0).collect();
    let tenant = tx.tenant();
    let clients: HashMap<ClientId, Client> = client::Entity::find()
        .filter(client::Column::TenantId.eq(tenant))
        .filter(client::Column::Id.is_in(ids.clone()))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|row| Client::from_row(row).map(|c| (c.id, c)))
        .collect::<AppResult<_>>()?;
    let contacts = contact::Entity::find()
        .filter(contact::Column::TenantId.eq(tenant))
        .filter(contact::Column::ClientId.is_in(ids.clone()))
        .all(tx.conn())
        .await?;
    let addresses = address::Entity::find()
        .filter(address::Column::TenantId.eq(tenant))
        .filter(address::Column::ClientId.is_in(ids))
        .all(tx.conn())
        .await?;
    let searchable: Vec<_> = CustomFieldService::list_in(tx)
        .await?
        .into_iter()
        .filter(|d| d.entity == CustomEntity::Client && d.searchable && d.active)
        .collect();
    let live: Vec<ClientId> = clients.values().filter(|c| c.deleted_at.is_none()).map(|c| c.id).collect();
    let mut extra: HashMap<ClientId, Vec<DocField>> = HashMap::new();
    if !live.is_empty() {
        for contributor in contributors {
            for (id, f) in contributor.fields(tx, &live).await? {
                extra.entry(id).or_default().push(f);
            }
        }
    }

    let mut out = Vec::with_capacity(pending.len());
    for &(id, version) in pending {
        let Some(c) = clients.get(&id).filter(|c| c.deleted_at.is_none()) else {
            out.push(Outcome::Remove { id, purged: !clients.contains_key(&id) });
            continue;
        };
        let mut doc = SearchDocument {
            tenant,
            client: id,
            version,
            fields: Vec::new(),
            phones: Vec::new(),
            french_phones: Vec::new(),
        };
        let number = c.number.to_string();
        doc.fields.extend(
            [
                field("lastName", c.last_name.as_deref(), true),
                field("firstName", c.first_name.as_deref(), true),
                field("companyName", c.company_name.as_deref(), true),
                field("code", Some(&c.code), true),
                field("number", Some(number.as_str()).filter(|n| *n != c.code), true),
                field("barcode", c.barcode.as_deref(), true),
                field("email", c.email.as_deref(), false),
                field("notes", c.notes.as_deref(), false), // SRC-06
                field("alert", c.alert.as_deref(), false),
            ]
            .into_iter()
            .flatten(),
        );
        let [mobile, home, work, contact_phone] = DocField::PHONES;
        for (name, phone) in [(mobile, &c.mobile), (home, &c.home_phone), (work, &c.work_phone)] {
            if let Some(Phone { typed, e164 }) = phone {
                add_phone(&mut doc, name, typed, e164.as_deref());
            }
        }
        for k in contacts.iter().filter(|k| k.client_id == id) {
            let name = [k.first_name.as_deref(), Some(k.last_name.as_str())].into_iter().flatten().collect::<Vec<_>>();
            doc.fields.extend(field("contact", Some(&name.join(" ")), false));
            doc.fields.extend(field("contactEmail", k.email.as_deref(), false));
            for phone in [&k.phone, &k.mobile].into_iter().flatten() {
                add_phone(&mut doc, contact_phone, phone, None);
            }
        }
        for a in addresses.iter().filter(|a| a.client_id == id) {
            doc.fields.extend(field("city", a.city.as_deref(), false));
            doc.fields.extend(field("postcode", a.postcode.as_deref(), false));
        }
        for def in &searchable {
            if let Some(value) = c.custom_fields.get(&def.key).and_then(custom_text) {
                doc.fields.extend(field(&format!("custom.{}", def.key), Some(&value), false));
            }
        }
        doc.fields.extend(extra.remove(&id).unwrap_or_default());
        doc.fields.dedup();
        for phones in [&mut doc.phones, &mut doc.french_phones] {
            phones.sort();
            phones.dedup();
        }
        out.push(Outcome::Index(doc));
    }
    Ok(out)
}
