//! Cards (CRD-05): numbered cards held by a client or by one of its beneficiaries. A card
//! number is unique in the tenant (it is scanned at the till); a blocked client gets no new
//! card (LIF-01), nor does a blocked beneficiary (CRD-04).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, SqlErr,
};
use serde_json::{Value, json};

use crate::clients::beneficiaries;
use crate::clients::entity::{card, ledger_holder};
use crate::clients::model::Patch;
use crate::clients::service::ensure_live;
use crate::clients::{service, validate};
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{BeneficiaryId, CardId, ClientId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

stored_enum!(
    /// CRD-05: whether a card may be used.
    CardStatus { Active, Blocked }
);

/// Who a new card is for: the client itself or one of its beneficiaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardHolder {
    Client(ClientId),
    Beneficiary(BeneficiaryId),
}

/// A card (CRD-05). `client` is the account it belongs to, whoever holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub id: CardId,
    pub client: ClientId,
    /// The holder when it is a beneficiary of the client; `None`: the client holds it.
    pub beneficiary: Option<BeneficiaryId>,
    pub number: String,
    pub status: CardStatus,
    pub issued_on: NaiveDate,
    /// After `issued_on`; `None`: the card does not expire.
    pub expires_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creates or changes a card; `None` keeps a field (or takes its default on creation).
#[derive(Clone, Debug, Default)]
pub struct CardInput {
    /// Required on creation.
    pub number: Option<String>,
    /// Default: active.
    pub status: Option<CardStatus>,
    /// Default: today.
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Patch<NaiveDate>,
}

impl TryFrom<card::Model> for Card {
    type Error = AppError;
    fn try_from(r: card::Model) -> AppResult<Self> {
        let status =
            r.status.parse().map_err(|_| AppError::internal(format!("bad stored card status: {}", r.status)))?;
        Ok(Self {
            id: r.id,
            client: r.client_id,
            beneficiary: r.beneficiary_id,
            number: r.number,
            status,
            issued_on: r.issued_on,
            expires_on: r.expires_on,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Card {
    fn to_active(&self, tenant: clientele_kernel::TenantId) -> card::ActiveModel {
        card::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(self.id),
            client_id: Set(self.client),
            beneficiary_id: Set(self.beneficiary),
            number: Set(self.number.clone()),
            status: Set(self.status.as_str().to_owned()),
            issued_on: Set(self.issued_on),
            expires_on: Set(self.expires_on),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
        }
    }

    pub(crate) fn view(&self) -> Value {
        json!({
            "client": self.client, "beneficiary": self.beneficiary, "number": self.number,
            "status": self.status.as_str(), "issued_on": self.issued_on.to_string(),
            "expires_on": self.expires_on.map(|d| d.to_string()),
        })
    }

    /// Whether the card has expired by `today` (it is valid through its expiry date).
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires_on.is_some_and(|d| d < today)
    }

    fn apply(&mut self, input: CardInput) -> AppResult<()> {
        let mut errors = Vec::new();
        if let Some(number) = input.number {
            number.trim().clone_into(&mut self.number);
        }
        validate::code(&mut errors, "number", Some(&self.number));
        if let Some(status) = input.status {
            self.status = status;
        }
        if let Some(issued) = input.issued_on {
            self.issued_on = issued;
        }
        if let Some(expires) = input.expires_on {
            self.expires_on = expires;
        }
        if self.expires_on.is_some_and(|d| d <= self.issued_on) {
            errors.push(AppError::invalid("expires_on", "A card expires after the day it was issued."));
        }
        AppError::all(errors).map_or(Ok(()), Err)
    }
}

fn unique_number(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict("number", "Another card already has this number.")
        }
        _ => err.into(),
    }
}

pub(crate) async fn find(tx: &TenantTx, id: CardId) -> AppResult<Card> {
    let row = card::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
    Card::try_from(row.ok_or_else(AppError::not_found)?)
}

/// Every card of the accounts of `clients` (theirs and their beneficiaries'), by number.
pub(crate) async fn of_clients(tx: &TenantTx, clients: &[ClientId]) -> AppResult<Vec<Card>> {
    let rows = card::Entity::find()
        .filter(card::Column::TenantId.eq(tx.tenant()))
        .filter(card::Column::ClientId.is_in(clients.iter().copied()))
        .order_by_asc(card::Column::Number)
        .all(tx.conn())
        .await?;
    rows.into_iter().map(Card::try_from).collect()
}

/// Points the beneficiaries and cards of `from` at `to` (merging duplicates); returns their ids.
pub(crate) async fn move_holders(
    tx: &TenantTx,
    to: ClientId,
    from: ClientId,
) -> AppResult<(Vec<uuid::Uuid>, Vec<uuid::Uuid>)> {
    use crate::clients::entity::beneficiary;
    use sea_orm::sea_query::Expr;
    let moved_beneficiaries =
        beneficiaries::of_clients(tx, &[from]).await?.into_iter().map(|b| b.id.0).collect::<Vec<_>>();
    let moved_cards = of_clients(tx, &[from]).await?.into_iter().map(|c| c.id.0).collect::<Vec<_>>();
    beneficiary::Entity::update_many()
        .col_expr(beneficiary::Column::ClientId, Expr::value(to.0))
        .filter(beneficiary::Column::TenantId.eq(tx.tenant()))
        .filter(beneficiary::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;
    card::Entity::update_many()
        .col_expr(card::Column::ClientId, Expr::value(to.0))
        .filter(card::Column::TenantId.eq(tx.tenant()))
        .filter(card::Column::ClientId.eq(from))
        .exec(tx.conn())
        .await?;
    Ok((moved_beneficiaries, moved_cards))
}

pub struct CardService {
    handles: Arc<Handles>,
}

impl CardService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Cards of several clients' accounts in one statement: the clients' own and their
    /// beneficiaries' (CRD-05).
    pub async fn by_clients(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<Card>> {
        let tx = ctx.read().await?;
        let rows = of_clients(&tx, ids).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Cards of several beneficiaries in one statement, by number.
    pub async fn by_beneficiaries(&self, ctx: &TenantCtx, ids: &[BeneficiaryId]) -> AppResult<Vec<Card>> {
        let tx = ctx.read().await?;
        let rows = card::Entity::find()
            .filter(card::Column::TenantId.eq(ctx.tenant()))
            .filter(card::Column::BeneficiaryId.is_in(ids.iter().copied()))
            .order_by_asc(card::Column::Number)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Card::try_from).collect()
    }

    pub async fn get(&self, ctx: &TenantCtx, id: CardId) -> AppResult<Card> {
        let tx = ctx.read().await?;
        let found = find(&tx, id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// CRD-05: issues a card to a client or to one of its beneficiaries. Refused with
    /// `CLIENT_BLOCKED` (LIF-01) or `BENEFICIARY_BLOCKED` (CRD-04).
    pub async fn create(&self, ctx: &TenantCtx, holder: CardHolder, input: CardInput) -> AppResult<Card> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let (client, beneficiary) = match holder {
            CardHolder::Client(id) => (id, None),
            CardHolder::Beneficiary(id) => {
                let b = beneficiaries::find(&tx, id).await?;
                (b.client, Some(b))
            }
        };
        let owner = service::load(&tx, client).await?;
        ensure_live(&owner)?;
        if owner.blocked {
            return Err(AppError::new(ErrorCode::ClientBlocked, "This client is blocked: it gets no new card."));
        }
        if beneficiary.as_ref().is_some_and(|b| b.blocked) {
            return Err(AppError::new(
                ErrorCode::BeneficiaryBlocked,
                "This beneficiary is blocked: it gets no new card.",
            ));
        }
        let now = self.handles.now();
        let mut created = Card {
            id: CardId(self.handles.new_id()),
            client: owner.id,
            beneficiary: beneficiary.map(|b| b.id),
            number: String::new(),
            status: CardStatus::Active,
            issued_on: now.date_naive(),
            expires_on: None,
            created_at: now,
            updated_at: now,
        };
        created.apply(input)?;
        created.to_active(ctx.tenant()).insert(tx.conn()).await.map_err(unique_number)?;
        let changes = audit::created(&created.view());
        audit::record(&tx, ctx, AuditEntry::new("card.create", "card", created.id, changes)).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes a card's number, status or dates; its holder never changes.
    pub async fn update(&self, ctx: &TenantCtx, id: CardId, input: CardInput) -> AppResult<Card> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        let mut after = Card { updated_at: self.handles.now(), ..before.clone() };
        after.apply(input)?;
        after.to_active(ctx.tenant()).update(tx.conn()).await.map_err(unique_number)?;
        let action = match (before.status, after.status) {
            (CardStatus::Active, CardStatus::Blocked) => "card.block",
            (CardStatus::Blocked, CardStatus::Active) => "card.unblock",
            _ => "card.update",
        };
        let changes = audit::diff(&before.view(), &after.view());
        audit::record(&tx, ctx, AuditEntry::new(action, "card", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a card no ledger entry names (else `LINKED_RECORDS`: block it instead).
    pub async fn delete(&self, ctx: &TenantCtx, id: CardId) -> AppResult<CardId> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = find(&tx, id).await?;
        ensure_live(&service::load(&tx, before.client).await?)?;
        let entries = ledger_holder::Entity::find()
            .filter(ledger_holder::Column::TenantId.eq(ctx.tenant()))
            .filter(ledger_holder::Column::CardId.eq(id))
            .count(tx.conn())
            .await?;
        if entries > 0 {
            return Err(AppError::new(
                ErrorCode::LinkedRecords,
                format!("{entries} ledger entry(ies) name this card: block it instead."),
            ));
        }
        card::Entity::delete_by_id((ctx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&before.view(), &Value::Null);
        audit::record(&tx, ctx, AuditEntry::new("card.delete", "card", id, changes)).await?;
        tx.commit().await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Card {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        Card {
            id: CardId(uuid::Uuid::nil()),
            client: ClientId(uuid::Uuid::nil()),
            beneficiary: None,
            number: String::new(),
            status: CardStatus::Active,
            issued_on: at.date_naive(),
            expires_on: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    // CRD-05
    fn cards_need_a_scannable_number_and_expire_after_issue() {
        let err = card().apply(CardInput::default()).unwrap_err();
        assert_eq!(err.field(), Some("number"));
        let input = CardInput {
            number: Some(" 4000 12 ".into()),
            issued_on: Some(day("2026-01-10")),
            expires_on: Some(Some(day("2026-01-10"))),
            ..CardInput::default()
        };
        let err = card().apply(input).unwrap_err();
        assert_eq!(err.each().filter_map(AppError::field).collect::<Vec<_>>(), ["number", "expires_on"]);
        let mut ok = card();
        let input = CardInput {
            number: Some(" 400012 ".into()),
            issued_on: Some(day("2026-01-10")),
            expires_on: Some(Some(day("2028-01-31"))),
            status: Some(CardStatus::Blocked),
        };
        ok.apply(input).unwrap();
        assert_eq!((ok.number.as_str(), ok.status), ("400012", CardStatus::Blocked));
        assert!(!ok.is_expired(day("2028-01-31")) && ok.is_expired(day("2028-02-01")));
    }
}
