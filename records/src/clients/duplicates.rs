//! The clients a new one may duplicate: same e-mail, code, barcode or phone (compared in E.164,
//! however it was typed), or same last name at the same postcode. `createClient` and the console
//! warn with them before creating (issue 19); imports match rows with [`sharing_keys`].

use std::collections::HashSet;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::clients::entity::{address, client};
use crate::clients::model::Client;
use crate::search::text::fold;
use clientele_kernel::error::AppResult;
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::TenantTx;

/// The most possible duplicates a creation reports.
const MAX_REPORTED: u8 = 10;

/// A client's phones in E.164, the form they are compared in.
pub(crate) fn phones(c: &Client) -> impl Iterator<Item = &str> {
    [&c.mobile, &c.home_phone, &c.work_phone].into_iter().flatten().filter_map(|p| p.e164.as_deref())
}

/// Clients of the tenant within `scope` sharing an e-mail, code, barcode or phone with any of
/// `rows`, in that order (then by number), at most `limit` per column. One query per column: an
/// OR across columns would make SQLite scan the whole tenant.
pub(crate) async fn sharing_keys<'a>(
    tx: &TenantTx,
    rows: impl Iterator<Item = &'a Client>,
    scope: Condition,
    limit: Option<u64>,
) -> AppResult<Vec<Client>> {
    let (mut emails, mut codes, mut barcodes, mut phone_keys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in rows {
        emails.extend(c.email.clone());
        codes.extend(Some(c.code.clone()).filter(|s| !s.is_empty()));
        barcodes.extend(c.barcode.clone());
        phone_keys.extend(phones(c).map(str::to_owned));
    }
    let (mut found, mut seen) = (Vec::new(), HashSet::new());
    for (column, values) in [
        (client::Column::Email, &emails),
        (client::Column::Code, &codes),
        (client::Column::Barcode, &barcodes),
        (client::Column::MobileE164, &phone_keys),
        (client::Column::HomePhoneE164, &phone_keys),
        (client::Column::WorkPhoneE164, &phone_keys),
    ] {
        if values.is_empty() {
            continue;
        }
        let mut rows = client::Entity::find()
            .filter(client::Column::TenantId.eq(tx.tenant()))
            .filter(column.is_in(values.iter().cloned()))
            .filter(scope.clone())
            .limit(limit)
            .all(tx.conn())
            .await?;
        rows.sort_by_key(|r| r.number);
        for row in rows {
            if seen.insert(row.id) {
                found.push(Client::from_row(row)?);
            }
        }
    }
    Ok(found)
}

/// The clients outside the trash that `new` (validated, not saved) may duplicate: those sharing
/// a unique value or a phone with it, then those of its last name (case and accents aside) with
/// an address at `postcode`; the strongest first, at most ten.
pub(crate) async fn possible(tx: &TenantTx, new: &Client, postcode: Option<&str>) -> AppResult<Vec<Client>> {
    let live = Condition::all().add(client::Column::DeletedAt.is_null());
    let mut found = sharing_keys(tx, std::iter::once(new), live, Some(u64::from(MAX_REPORTED))).await?;
    let postcode = postcode.map(str::trim).filter(|p| !p.is_empty());
    if let (Some(name), Some(postcode)) = (new.last_name.as_deref(), postcode) {
        for c in same_name_at(tx, name, postcode).await? {
            if found.iter().all(|f| f.id != c.id) {
                found.push(c);
            }
        }
    }
    found.truncate(usize::from(MAX_REPORTED));
    Ok(found)
}

/// Clients outside the trash with an address at `postcode` whose last name folds to `name`'s.
/// SQL cannot fold accents: the names at that postcode are read and compared here.
async fn same_name_at(tx: &TenantTx, name: &str, postcode: &str) -> AppResult<Vec<Client>> {
    let at_postcode = Query::select()
        .column(address::Column::ClientId)
        .from(address::Entity)
        .and_where(address::Column::TenantId.eq(tx.tenant()))
        .and_where(address::Column::Postcode.eq(postcode))
        .to_owned();
    let names: Vec<(ClientId, Option<String>)> = client::Entity::find()
        .select_only()
        .columns([client::Column::Id, client::Column::LastName])
        .filter(client::Column::TenantId.eq(tx.tenant()))
        .filter(client::Column::DeletedAt.is_null())
        .filter(client::Column::Id.in_subquery(at_postcode))
        .order_by_asc(client::Column::Number)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let name = fold(name);
    let ids = names.into_iter().filter(|(_, last)| last.as_deref().map(fold).is_some_and(|l| l == name));
    let ids: Vec<ClientId> = ids.map(|(id, _)| id).take(usize::from(MAX_REPORTED)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client::Entity::find()
        .filter(client::Column::TenantId.eq(tx.tenant()))
        .filter(client::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .order_by_asc(client::Column::Number)
        .all(tx.conn())
        .await?;
    rows.into_iter().map(Client::from_row).collect()
}
