//! Beneficiaries, cards and document references as personal-data sources. Beneficiaries are
//! erased in place, so their cards and ledger entries keep pointing at them; documents lose
//! only their site, whose address is about to be deleted.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::PersonalDataSource;
use crate::clients::beneficiaries;
use crate::clients::cards::of_clients as cards_of;
use crate::clients::entity::{beneficiary, client_document as doc};
use clientele_kernel::error::AppResult;
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::TenantTx;

async fn documents_of(tx: &TenantTx, client: ClientId) -> AppResult<Vec<doc::Model>> {
    Ok(doc::Entity::find()
        .filter(doc::Column::TenantId.eq(tx.tenant()))
        .filter(doc::Column::ClientId.eq(client))
        .order_by_asc(doc::Column::DocumentDate)
        .order_by_asc(doc::Column::Id)
        .all(tx.conn())
        .await?)
}

/// Ids of the client's beneficiaries, cards and documents: their audit entries are the client's.
pub(super) async fn related_ids(tx: &TenantTx, client: ClientId) -> AppResult<Vec<String>> {
    let mut ids: Vec<String> =
        beneficiaries::of_clients(tx, &[client]).await?.iter().map(|b| b.id.to_string()).collect();
    ids.extend(cards_of(tx, &[client]).await?.iter().map(|c| c.id.to_string()));
    ids.extend(documents_of(tx, client).await?.iter().map(|d| d.id.to_string()));
    Ok(ids)
}

/// Beneficiaries (CRD-01): names, address, mobile, e-mail. Erased in place.
pub(super) struct Beneficiaries;

#[async_trait::async_trait]
impl PersonalDataSource for Beneficiaries {
    fn section(&self) -> &'static str {
        "beneficiaries"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = beneficiaries::of_clients(tx, &[client]).await?;
        Ok(rows
            .iter()
            .map(|b| {
                let mut view = b.view();
                view["id"] = json!(b.id);
                view["created_at"] = json!(b.created_at);
                view["updated_at"] = json!(b.updated_at);
                view
            })
            .collect())
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let none = || Expr::value(Option::<String>::None);
        let mut update = beneficiary::Entity::update_many();
        for column in [
            beneficiary::Column::Civility,
            beneficiary::Column::LastName,
            beneficiary::Column::FirstName,
            beneficiary::Column::Street,
            beneficiary::Column::Complement,
            beneficiary::Column::Postcode,
            beneficiary::Column::City,
            beneficiary::Column::Country,
            beneficiary::Column::Mobile,
            beneficiary::Column::MobileE164,
            beneficiary::Column::Email,
        ] {
            update = update.col_expr(column, none());
        }
        // The reason may name the person; a blocked beneficiary stays blocked.
        let done = update
            .col_expr(beneficiary::Column::BlockedReason, Expr::cust("CASE WHEN blocked THEN '' ELSE NULL END"))
            .filter(beneficiary::Column::TenantId.eq(tx.tenant()))
            .filter(beneficiary::Column::ClientId.eq(client))
            .exec(tx.conn())
            .await?;
        Ok(json!({ "erased": done.rows_affected }))
    }
}

/// Cards (CRD-05) of the client and its beneficiaries. Kept: a card names no one by itself.
pub(super) struct Cards;

#[async_trait::async_trait]
impl PersonalDataSource for Cards {
    fn section(&self) -> &'static str {
        "cards"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = cards_of(tx, &[client]).await?;
        Ok(rows
            .iter()
            .map(|c| {
                let mut view = c.view();
                view["id"] = json!(c.id);
                view["created_at"] = json!(c.created_at);
                view
            })
            .collect())
    }

    async fn erase(&self, _tx: &TenantTx, _client: ClientId) -> AppResult<Value> {
        Ok(Value::Null)
    }
}

/// Document references (OTH-01). Kept (GDP-05); their sites go with the addresses.
pub(super) struct Documents;

#[async_trait::async_trait]
impl PersonalDataSource for Documents {
    fn section(&self) -> &'static str {
        "documents"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = documents_of(tx, client).await?;
        Ok(rows
            .into_iter()
            .map(|d| {
                json!({
                    "id": d.id, "kind": d.kind, "number": d.number, "date": d.document_date,
                    "amount": clientele_kernel::Money(d.amount_minor).to_decimal_string(), "site_id": d.site_id,
                    "invoiced": d.invoiced, "ordered": d.ordered, "delivered": d.delivered,
                    "created_at": d.created_at, "updated_at": d.updated_at,
                })
            })
            .collect())
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let done = doc::Entity::update_many()
            .col_expr(doc::Column::SiteId, Expr::value(Option::<uuid::Uuid>::None))
            .filter(doc::Column::TenantId.eq(tx.tenant()))
            .filter(doc::Column::ClientId.eq(client))
            .filter(doc::Column::SiteId.is_not_null())
            .exec(tx.conn())
            .await?;
        Ok(json!({ "site_links_cleared": done.rows_affected }))
    }
}
