//! The client account ledger (LED-01..LED-17, LIF-01): append-only signed entries, the posting
//! rules, reversals and dotations. Reading (balances, lists, statements, operations) is in
//! `ledger/read.rs`.
//!
//! Sign convention (LED-02, Q-6): an entry's amount is what it does to the balance, and the
//! balance is the sum of the entries. Below 0 the client owes the business, above 0 the business
//! owes the client (prepaid money, account credit), 0 is settled. So an invoice is negative and
//! a payment positive; callers type a positive amount and the kind gives the sign, except for
//! OPENING and ADJUSTMENT, which are typed signed.
//!
//! Account kinds (LED-01): a deposit account never goes below 0 (LED-05); a credit account never
//! below −credit limit (LED-04); an account of kind NONE has no prepaid or credit facility, so
//! it takes documents and their settlement (`OPENING`, `INVOICE`, `CREDIT_NOTE`, `PAYMENT`,
//! `ADJUSTMENT`) but no account-credit movements or dotations, and no limit applies to its debt.
//!
//! Entries are never changed or deleted: a mistake is corrected by a reversal, an entry of the
//! same kind and reference with the opposite amount that points at the original (`reverses`).

mod holders;
mod read;
mod rules;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::clients::entity::ledger_entry;
use crate::clients::model::{AccountKind, Client};
use crate::clients::service::{balance, load_for_update};
use crate::clients::validate;
use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode, Reason};
use clientele_kernel::ids::{BeneficiaryId, CardId, ClientId, LedgerEntryId, UserId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

pub use holders::Holder;
pub(crate) use read::balances;
pub use read::{EntryFilter, Operation, Statement};
pub use rules::{LedgerKind, after_posting, available_credit, floor};

/// The currency of every entry. Amounts are in the tenant currency and tenants carry no
/// currency setting yet; the column keeps the door open for one.
pub const CURRENCY: &str = "EUR";

/// One ledger entry as services hand it out.
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    pub id: LedgerEntryId,
    pub client: ClientId,
    pub date: NaiveDate,
    pub kind: LedgerKind,
    /// Signed (LED-02).
    pub amount: Money,
    pub currency: String,
    pub document_ref: Option<String>,
    pub note: Option<String>,
    /// The user who posted it; none for API tokens (the audit row names the token).
    pub author: Option<UserId>,
    /// The entry this one cancels.
    pub reverses: Option<LedgerEntryId>,
    /// The entry that cancels this one (filled by list reads).
    pub reversed_by: Option<LedgerEntryId>,
    /// The beneficiary it was posted for (LED-07, CRD-06).
    pub beneficiary: Option<BeneficiaryId>,
    /// The card it was posted with.
    pub card: Option<CardId>,
    pub created_at: DateTime<Utc>,
}

impl LedgerEntry {
    fn from_row(r: ledger_entry::Model, reversed_by: Option<LedgerEntryId>) -> AppResult<Self> {
        let kind = r.kind.parse().map_err(|_| AppError::internal(format!("bad stored ledger kind: {}", r.kind)))?;
        Ok(Self {
            id: r.id,
            client: r.client_id,
            date: r.entry_date,
            kind,
            amount: Money(r.amount_minor),
            currency: r.currency,
            document_ref: r.document_ref,
            note: r.note,
            author: r.author_user_id.map(UserId),
            reverses: r.reverses_id,
            reversed_by,
            beneficiary: None,
            card: None,
            created_at: r.created_at,
        })
    }

    fn with_holder(self, holder: Holder) -> Self {
        Self { beneficiary: holder.beneficiary, card: holder.card, ..self }
    }

    fn audit_view(&self) -> serde_json::Value {
        json!({
            "client": self.client, "date": self.date.to_string(), "kind": self.kind.as_str(),
            "amount": self.amount.to_decimal_string(), "currency": self.currency,
            "document_ref": self.document_ref, "note": self.note, "reverses": self.reverses,
            "beneficiary": self.beneficiary, "card": self.card,
        })
    }
}

/// A posted entry and the account balance it left.
#[derive(Clone, Debug)]
pub struct Posted {
    pub entry: LedgerEntry,
    pub balance: Money,
}

/// Input of a posting; `amount` is an exact decimal string (see [`LedgerKind::signed`]).
#[derive(Clone, Debug)]
pub struct EntryInput {
    pub kind: LedgerKind,
    pub amount: String,
    /// Defaults to today; never in the future.
    pub date: Option<NaiveDate>,
    pub document_ref: Option<String>,
    pub note: Option<String>,
    /// LED-07: the beneficiary the entry is for, one of the client's.
    pub beneficiary: Option<BeneficiaryId>,
    /// LED-07: the card used, the client's or one of its beneficiaries' (naming its holder).
    pub card: Option<CardId>,
}

/// Input of a dotation (LED-17, Q-8): a positive amount credited to the client. With `month`
/// (`YYYY-MM`) it is that month's allowance and can be posted once per month.
#[derive(Clone, Debug)]
pub struct DotationInput {
    pub amount: String,
    pub month: Option<String>,
    pub date: Option<NaiveDate>,
    pub note: Option<String>,
}

/// A validated posting, before the account rules.
struct Draft {
    kind: LedgerKind,
    amount: Money,
    date: NaiveDate,
    document_ref: Option<String>,
    note: Option<String>,
    holder: Holder,
}

pub struct LedgerService {
    handles: Arc<Handles>,
}

impl LedgerService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }

    /// Posts one entry on a client's account (LED-07) under the account's rules; an OPENING
    /// entry only while the client has none that stands (LED-03).
    pub async fn post(&self, ctx: &TenantCtx, client: ClientId, input: EntryInput) -> AppResult<Posted> {
        ctx.require(Permission::Write)?;
        let mut draft =
            self.draft(input.kind, &input.amount, input.date, input.document_ref, input.note, Vec::new())?;
        let tx = ctx.begin().await?;
        let c = postable(&tx, client, draft.kind.settles_debt()).await?;
        allowed(draft.kind, &c)?;
        let asked = Holder { beneficiary: input.beneficiary, card: input.card };
        draft.holder = holders::resolve(&tx, &c, asked, self.handles.now().date_naive()).await?;
        if draft.kind == LedgerKind::Opening && standing(&tx, client, LedgerKind::Opening, None).await? > 0 {
            return Err(AppError::conflict("kind", "This client already has an opening entry: reverse it first."));
        }
        let posted = self.write(&tx, ctx, &c, draft, None, "ledger.post").await?;
        tx.commit().await?;
        Ok(posted)
    }

    /// Cancels an entry with one of the opposite amount, dated today, noting `reason`. An entry
    /// is reversed at most once, and a reversal is never reversed: post a new entry instead.
    pub async fn reverse(&self, ctx: &TenantCtx, id: LedgerEntryId, reason: String) -> AppResult<Posted> {
        ctx.require(Permission::Write)?;
        let reason = validate::clean(Some(reason));
        let mut errors = Vec::new();
        if reason.is_none() {
            errors.push(AppError::invalid("reason", "Say why the entry is reversed."));
        }
        validate::text(&mut errors, "reason", reason.as_deref(), 500, false);
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let tx = ctx.begin().await?;
        let original = ledger_entry::Entity::find_by_id((tx.tenant(), id))
            .one(tx.conn())
            .await?
            .ok_or_else(AppError::not_found)?;
        let c = postable(&tx, original.client_id, false).await?;
        if original.reverses_id.is_some() {
            return Err(AppError::invalid("id", "A reversal cannot be reversed: post a new entry instead."));
        }
        // Checked after the client lock: two concurrent reversals of one entry queue there.
        let reversals = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
            .filter(ledger_entry::Column::ReversesId.eq(id))
            .count(tx.conn())
            .await?;
        if reversals > 0 {
            return Err(AppError::conflict("id", "This entry has already been reversed."));
        }
        let original = LedgerEntry::from_row(original, None)?;
        // The reversal concerns whoever the original did, even if blocked since.
        let holder = holders::of_entries(&tx, &[id]).await?.remove(&id).unwrap_or_default();
        let draft = Draft {
            kind: original.kind,
            amount: Money(-original.amount.0),
            date: self.handles.now().date_naive(),
            document_ref: original.document_ref,
            note: reason,
            holder,
        };
        let posted = self.write(&tx, ctx, &c, draft, Some(id), "ledger.reverse").await?;
        tx.commit().await?;
        Ok(posted)
    }

    /// Credits a dotation (LED-17). Scheduled dotations (a standing amount + period + target
    /// posted every month by a job) need their own table and a scheduler; such a job would call
    /// this with `month`, which makes each month's posting idempotent.
    pub async fn post_dotation(&self, ctx: &TenantCtx, client: ClientId, input: DotationInput) -> AppResult<Posted> {
        ctx.require(Permission::Write)?;
        let mut errors = Vec::new();
        let month = input.month.as_deref().map(str::trim).and_then(|raw| {
            let parsed = NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").ok().filter(|_| raw.len() == 7);
            if parsed.is_none() {
                errors.push(AppError::invalid("month", "Use a month as YYYY-MM."));
            }
            parsed
        });
        let document_ref = month.map(|m| format!("DOTATION-{}", m.format("%Y-%m")));
        let draft = self.draft(LedgerKind::Dotation, &input.amount, input.date, document_ref, input.note, errors)?;
        let tx = ctx.begin().await?;
        let c = postable(&tx, client, false).await?;
        allowed(draft.kind, &c)?;
        if let Some(reference) = draft.document_ref.as_deref()
            && standing(&tx, client, LedgerKind::Dotation, Some(reference)).await? > 0
        {
            return Err(AppError::conflict("month", "This month's dotation has already been posted."));
        }
        let posted = self.write(&tx, ctx, &c, draft, None, "ledger.dotation").await?;
        tx.commit().await?;
        Ok(posted)
    }

    /// Validates a posting's fields, reporting every problem (with `errors` found before) at once.
    fn draft(
        &self,
        kind: LedgerKind,
        amount: &str,
        date: Option<NaiveDate>,
        document_ref: Option<String>,
        note: Option<String>,
        mut errors: Vec<AppError>,
    ) -> AppResult<Draft> {
        let amount = match Money::parse(amount).map(|typed| kind.signed(typed)) {
            Some(Ok(signed)) => signed,
            Some(Err(message)) => {
                errors.push(AppError::invalid("amount", message));
                Money(0)
            }
            None => {
                errors.push(AppError::refused("amount", Reason::Amount));
                Money(0)
            }
        };
        let today = self.handles.now().date_naive();
        let date = date.unwrap_or(today);
        if date > today {
            errors.push(AppError::refused("date", Reason::FutureEntry));
        }
        let document_ref = validate::clean(document_ref);
        validate::text(&mut errors, "document_ref", document_ref.as_deref(), 100, false);
        let note = validate::clean(note);
        validate::text(&mut errors, "note", note.as_deref(), 2000, true);
        match AppError::all(errors) {
            Some(err) => Err(err),
            None => Ok(Draft { kind, amount, date, document_ref, note, holder: Holder::default() }),
        }
    }

    /// Checks the account floor against the balance seen under the client lock, then appends
    /// the entry and its audit row.
    async fn write(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        client: &Client,
        draft: Draft,
        reverses: Option<LedgerEntryId>,
        action: &'static str,
    ) -> AppResult<Posted> {
        let before = balance(tx, client.id).await?;
        let after = after_posting(client.account_kind, client.credit_limit, before, draft.amount)?;
        let row = ledger_entry::ActiveModel {
            tenant_id: Set(tx.tenant()),
            id: Set(LedgerEntryId(self.handles.new_id())),
            client_id: Set(client.id),
            entry_date: Set(draft.date),
            kind: Set(draft.kind.as_str().to_owned()),
            amount_minor: Set(draft.amount.0),
            currency: Set(CURRENCY.to_owned()),
            document_ref: Set(draft.document_ref),
            note: Set(draft.note),
            author_user_id: Set(ctx.actor().user().map(|u| u.0)),
            reverses_id: Set(reverses),
            created_at: Set(self.handles.now()),
        }
        .insert(tx.conn())
        .await?;
        holders::record(tx, row.id, draft.holder).await?;
        let entry = LedgerEntry::from_row(row, None)?.with_holder(draft.holder);
        let changes = audit::created(&entry.audit_view());
        audit::record(tx, ctx, AuditEntry::new(action, "ledger_entry", entry.id, changes)).await?;
        Ok(Posted { entry, balance: after })
    }
}

/// Refuses a change of account kind or credit limit that would leave the current balance below
/// the new floor (a deposit account in debt, a debt above the new limit). `before` is locked.
pub(crate) async fn check_account_change(tx: &TenantTx, before: &Client, after: &Client) -> AppResult<()> {
    if (before.account_kind, before.credit_limit) == (after.account_kind, after.credit_limit) {
        return Ok(());
    }
    let Some(floor) = floor(after.account_kind, after.credit_limit) else { return Ok(()) };
    let current = balance(tx, after.id).await?;
    if current >= floor {
        return Ok(());
    }
    let owed = Money(-current.0).to_decimal_string();
    Err(if after.account_kind == AccountKind::Credit && before.account_kind == AccountKind::Credit {
        AppError::invalid("credit_limit", format!("The client owes {owed}: the limit cannot be lower."))
    } else {
        AppError::invalid("account_kind", format!("The client owes {owed}: more than this account allows."))
    })
}

/// Locks the client row for the rest of the transaction, so postings on one account queue and
/// each sees the balance the previous one left (LED-04); then refuses clients that may not move
/// (a blocked one only takes what `settles` its debt).
async fn postable(tx: &TenantTx, id: ClientId, settles: bool) -> AppResult<Client> {
    let client = load_for_update(tx, id).await?;
    if client.deleted_at.is_some() {
        return Err(AppError::new(ErrorCode::ClientUnavailable, "This client is in the trash: restore it first."));
    }
    if client.anonymised_at.is_some() {
        return Err(AppError::new(ErrorCode::ClientUnavailable, "This client is anonymised: its account is closed."));
    }
    if client.blocked && !settles {
        return Err(AppError::code_only(ErrorCode::ClientBlocked)); // LIF-01
    }
    Ok(client)
}

fn allowed(kind: LedgerKind, client: &Client) -> AppResult<()> {
    if kind.allowed_on(client.account_kind) {
        Ok(())
    } else {
        Err(AppError::invalid("kind", "This client has no deposit or credit account for this kind of entry."))
    }
}

/// Entries of `kind` (with `document_ref`, when given) that stand: originals minus reversals,
/// since a reversal keeps the kind and reference of the entry it cancels.
async fn standing(tx: &TenantTx, client: ClientId, kind: LedgerKind, document_ref: Option<&str>) -> AppResult<u64> {
    let count = |reversals: bool| {
        let mut query = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
            .filter(ledger_entry::Column::ClientId.eq(client))
            .filter(ledger_entry::Column::Kind.eq(kind.as_str()));
        if let Some(reference) = document_ref {
            query = query.filter(ledger_entry::Column::DocumentRef.eq(reference));
        }
        let column = ledger_entry::Column::ReversesId;
        query.filter(if reversals { column.is_not_null() } else { column.is_null() }).count(tx.conn())
    };
    Ok(count(false).await?.saturating_sub(count(true).await?))
}
