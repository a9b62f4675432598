//! The contacts listing across clients (CON-05, «Listing Contacts»): filters and keyset pages
//! by last name. Contacts of trashed clients never appear, so no marketing audience built on
//! it reaches them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::clients::contacts::{Contact, ContactFilter, ContactService};
use crate::clients::entity::{client, contact};
use crate::clients::service;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::TenantCtx;

impl ContactService {
    /// CON-05: one page of contacts across clients, by last name, beyond the page's cursor;
    /// the total is counted only when `with_total` (else it is 0).
    pub async fn list(
        &self,
        ctx: &TenantCtx,
        filter: &ContactFilter,
        page: PageRequest<String>,
        with_total: bool,
    ) -> AppResult<(Page<Contact>, Vec<String>)> {
        let request = page.decode(decode_cursor)?;
        let tx = ctx.read().await?;
        if let Some(id) = filter.client {
            service::load(&tx, id).await?; // another tenant's client is NOT_FOUND, not an empty list
        }
        let base =
            contact::Entity::find().filter(contact::Column::TenantId.eq(ctx.tenant())).filter(condition(ctx, filter));
        let key = request.cursor.clone().map(|(name, id)| vec![name.into(), id.into()]);
        let rows = request
            .keyset(base.clone(), [contact::Column::LastName, contact::Column::Id], key, true)
            .all(tx.conn())
            .await?;
        let total = if with_total { base.count(tx.conn()).await? } else { 0 };
        tx.commit().await?;
        let page = Page::from_overfetch(rows.into_iter().map(Contact::from).collect(), &request, total);
        let cursors = page.items.iter().map(encode_cursor).collect();
        Ok((page, cursors))
    }
}

fn condition(ctx: &TenantCtx, f: &ContactFilter) -> Condition {
    // Contacts of trashed clients leave every listing (and every marketing audience).
    let live_clients = Query::select()
        .column(client::Column::Id)
        .from(client::Entity)
        .and_where(client::Column::TenantId.eq(ctx.tenant()))
        .and_where(client::Column::DeletedAt.is_null())
        .to_owned();
    let mut cond = Condition::all().add(contact::Column::ClientId.in_subquery(live_clients));
    if let Some(prefix) = f.name_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        let pattern = clientele_kernel::db::like_prefix(prefix);
        let like = |col: contact::Column| {
            Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        cond = cond.add(Condition::any().add(like(contact::Column::LastName)).add(like(contact::Column::FirstName)));
    }
    if let Some(id) = f.client {
        cond = cond.add(contact::Column::ClientId.eq(id));
    }
    match f.has_email {
        Some(true) => cond = cond.add(contact::Column::Email.is_not_null()),
        Some(false) => cond = cond.add(contact::Column::Email.is_null()),
        None => {}
    }
    cond
}

/// A keyset cursor: the last name and id of the last contact of the previous page.
fn encode_cursor(c: &Contact) -> String {
    URL_SAFE_NO_PAD.encode(json!([c.details.last_name, c.id.0]).to_string())
}

fn decode_cursor(raw: &str, field: &'static str) -> AppResult<(String, uuid::Uuid)> {
    let invalid = || AppError::invalid(field, "This cursor is not valid.");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::Map;

    use super::*;
    use clientele_kernel::ids::{ClientId, ContactId};
    use clientele_kernel::person::ContactDetails;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let contact = Contact {
            id: ContactId(uuid::Uuid::from_u128(7)),
            client: ClientId(uuid::Uuid::nil()),
            site: None,
            details: ContactDetails { last_name: "Lefèvre".into(), ..ContactDetails::default() },
            custom_fields: Map::new(),
            created_at: at,
            updated_at: at,
        };
        let (name, id) = decode_cursor(&encode_cursor(&contact), "after").unwrap();
        assert_eq!((name.as_str(), id), ("Lefèvre", uuid::Uuid::from_u128(7)));
        assert!(decode_cursor("garbage", "after").is_err());
    }
}
