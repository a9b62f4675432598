//! Reading the ledger: balances in batches, filtered entry pages, statements and operations.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Select};

use super::{LedgerEntry, LedgerKind, LedgerService, holders};
use crate::clients::beneficiaries;
use crate::clients::entity::ledger_entry;
use crate::clients::entity::ledger_entry::Column::{CreatedAt, EntryDate, Id};
use crate::clients::service::load;
use clientele_kernel::Money;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{BeneficiaryId, ClientId, LedgerEntryId, TenantId};
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::{TenantCtx, TenantTx};

/// Which entries a list shows (LED-08, LED-11); dates are inclusive.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    /// Empty: every kind.
    pub kinds: Vec<LedgerKind>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// LED-11: hide credits, keep what the client was charged (negative amounts).
    pub debits_only: bool,
    /// LED-13, CRD-06: only the entries posted for this beneficiary.
    pub beneficiary: Option<BeneficiaryId>,
}

impl EntryFilter {
    fn condition(&self, tenant: TenantId) -> AppResult<Condition> {
        check_period(self.from, self.to)?;
        let mut cond = Condition::all();
        if let Some(beneficiary) = self.beneficiary {
            cond = cond.add(ledger_entry::Column::Id.in_subquery(holders::entries_of(tenant, beneficiary)));
        }
        if !self.kinds.is_empty() {
            cond = cond.add(ledger_entry::Column::Kind.is_in(self.kinds.iter().map(|k| k.as_str())));
        }
        if let Some(from) = self.from {
            cond = cond.add(ledger_entry::Column::EntryDate.gte(from));
        }
        if let Some(to) = self.to {
            cond = cond.add(ledger_entry::Column::EntryDate.lte(to));
        }
        if self.debits_only {
            cond = cond.add(ledger_entry::Column::AmountMinor.lt(0));
        }
        Ok(cond)
    }
}

/// A statement of account (LED-09, LED-10, LED-13): the balance before `from`, the period's
/// movements, and the balance at the end of `to`. `closing = opening + credits − debits`.
#[derive(Clone, Debug)]
pub struct Statement {
    pub client: ClientId,
    /// CRD-06: the statement of one beneficiary's entries; `None`: the whole account.
    pub beneficiary: Option<BeneficiaryId>,
    /// `None`: since the first entry (the opening balance is then 0).
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
    pub opening: Money,
    pub closing: Money,
    /// What the client was charged in the period, as a positive amount.
    pub debits: Money,
    /// What was credited to the client in the period.
    pub credits: Money,
    /// Invoices and payments that stand in the period (reversals cancel one each), counted
    /// apart so a forgotten payment shows (LED-09).
    pub invoice_count: i64,
    pub payment_count: i64,
    pub entry_count: i64,
}

/// One kind of entry in the operations view (LED-14).
#[derive(Clone, Debug)]
pub struct Operation {
    pub kind: LedgerKind,
    /// Entries of this kind that stand: originals minus reversals.
    pub count: i64,
    /// Their net signed total.
    pub total: Money,
}

fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(AppError::invalid("from", "The period starts after it ends.")),
        _ => Ok(()),
    }
}

/// `CAST(COALESCE(SUM(<expr>), 0) AS BIGINT)`: PostgreSQL sums BIGINT as NUMERIC.
fn sum(expr: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

/// +1 for an original of `kind`, −1 for a reversal of one: the entries that stand.
fn standing_of(kind: LedgerKind) -> String {
    // The kind is one of our constants, never caller input.
    format!("CASE WHEN kind = '{}' THEN (CASE WHEN reverses_id IS NULL THEN 1 ELSE -1 END) ELSE 0 END", kind.as_str())
}

fn of_client(tx: &TenantTx, client: ClientId) -> Select<ledger_entry::Entity> {
    ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
        .filter(ledger_entry::Column::ClientId.eq(client))
}

/// The client's entries, or only those of one of its beneficiaries.
fn of_scope(tx: &TenantTx, client: ClientId, beneficiary: Option<BeneficiaryId>) -> Select<ledger_entry::Entity> {
    let query = of_client(tx, client);
    match beneficiary {
        Some(b) => query.filter(ledger_entry::Column::Id.in_subquery(holders::entries_of(tx.tenant(), b))),
        None => query,
    }
}

/// The balance of each client in `ids` that has entries, in one aggregate query.
pub(crate) async fn balances(tx: &TenantTx, ids: &[ClientId]) -> AppResult<HashMap<ClientId, Money>> {
    let rows: Vec<(ClientId, i64)> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::ClientId)
        .expr_as(sum("amount_minor"), "total")
        .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
        .filter(ledger_entry::Column::ClientId.is_in(ids.iter().copied()))
        .group_by(ledger_entry::Column::ClientId)
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|(id, total)| (id, Money(total))).collect())
}

impl LedgerService {
    /// The balance of each client in `ids` with one aggregate query (for the `DataLoader`);
    /// clients without entries are absent, their balance is 0.
    pub async fn balances(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<HashMap<ClientId, Money>> {
        let tx = ctx.read().await?;
        let balances = balances(&tx, ids).await?;
        tx.commit().await?;
        Ok(balances)
    }

    /// One page of a client's entries in date order, then posting order, filtered.
    pub async fn entries(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        filter: &EntryFilter,
        page: PageRequest,
    ) -> AppResult<Page<LedgerEntry>> {
        let condition = filter.condition(ctx.tenant())?;
        let tx = ctx.read().await?;
        load(&tx, client).await?;
        let base = of_client(&tx, client).filter(condition);
        let key = match page.cursor {
            // Keyset on (date, posting time, id): the cursor names the entry the previous page
            // ended on (or the next one began with). Ids are only ordered to the millisecond;
            // postings on one account are serialised.
            Some(at) => {
                let last = of_client(&tx, client)
                    .filter(ledger_entry::Column::Id.eq(LedgerEntryId(at)))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(|| AppError::invalid(page.cursor_field(), "This cursor is not valid."))?;
                Some(vec![last.entry_date.into(), last.created_at.into(), last.id.into()])
            }
            None => None,
        };
        let rows = page.keyset(base.clone(), [EntryDate, CreatedAt, Id], key, true).all(tx.conn()).await?;
        let total = base.count(tx.conn()).await?;
        let reversals: HashMap<LedgerEntryId, LedgerEntryId> = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TenantId.eq(ctx.tenant()))
            .filter(ledger_entry::Column::ReversesId.is_in(rows.iter().map(|r| r.id)))
            .all(tx.conn())
            .await?
            .into_iter()
            .filter_map(|r| r.reverses_id.map(|original| (original, r.id)))
            .collect();
        let holders = holders::of_entries(&tx, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        tx.commit().await?;
        let entries = rows
            .into_iter()
            .map(|r| {
                let reversed_by = reversals.get(&r.id).copied();
                let holder = holders.get(&r.id).copied().unwrap_or_default();
                LedgerEntry::from_row(r, reversed_by).map(|e| e.with_holder(holder))
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(entries, &page, total))
    }

    /// The statement of a client's account over a period (`to` defaults to today).
    pub async fn statement(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<Statement> {
        let tx = ctx.read().await?;
        load(&tx, client).await?;
        let statement = self.statement_in(&tx, client, None, from, to).await?;
        tx.commit().await?;
        Ok(statement)
    }

    /// CRD-06, LED-13: the statement of the entries posted for one beneficiary.
    pub async fn beneficiary_statement(
        &self,
        ctx: &TenantCtx,
        beneficiary: BeneficiaryId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<Statement> {
        let tx = ctx.read().await?;
        let client = beneficiaries::find(&tx, beneficiary).await?.client;
        let statement = self.statement_in(&tx, client, Some(beneficiary), from, to).await?;
        tx.commit().await?;
        Ok(statement)
    }

    async fn statement_in(
        &self,
        tx: &TenantTx,
        client: ClientId,
        beneficiary: Option<BeneficiaryId>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<Statement> {
        let to = to.unwrap_or_else(|| self.handles.now().date_naive());
        check_period(from, Some(to))?;
        let opening = match from {
            Some(from) => of_scope(tx, client, beneficiary)
                .select_only()
                .expr_as(sum("amount_minor"), "total")
                .filter(ledger_entry::Column::EntryDate.lt(from))
                .into_tuple::<i64>()
                .one(tx.conn())
                .await?
                .unwrap_or(0),
            None => 0,
        };
        let mut period = of_scope(tx, client, beneficiary).filter(ledger_entry::Column::EntryDate.lte(to));
        if let Some(from) = from {
            period = period.filter(ledger_entry::Column::EntryDate.gte(from));
        }
        let figures: Option<(i64, i64, i64, i64, i64)> = period
            .select_only()
            .expr_as(sum("CASE WHEN amount_minor < 0 THEN -amount_minor ELSE 0 END"), "debits")
            .expr_as(sum("CASE WHEN amount_minor > 0 THEN amount_minor ELSE 0 END"), "credits")
            .expr_as(sum(&standing_of(LedgerKind::Invoice)), "invoices")
            .expr_as(sum(&standing_of(LedgerKind::Payment)), "payments")
            .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "entries")
            .into_tuple()
            .one(tx.conn())
            .await?;
        let (debits, credits, invoice_count, payment_count, entry_count) = figures.unwrap_or_default();
        Ok(Statement {
            client,
            beneficiary,
            from,
            to,
            opening: Money(opening),
            closing: Money(opening + credits - debits),
            debits: Money(debits),
            credits: Money(credits),
            invoice_count,
            payment_count,
            entry_count,
        })
    }

    /// A client's entries grouped by kind, with counts and net totals (LED-14).
    pub async fn operations(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<Vec<Operation>> {
        let condition = EntryFilter { from, to, ..EntryFilter::default() }.condition(ctx.tenant())?;
        let tx = ctx.read().await?;
        load(&tx, client).await?;
        let rows: Vec<(String, i64, i64)> = of_client(&tx, client)
            .filter(condition)
            .select_only()
            .column(ledger_entry::Column::Kind)
            .expr_as(sum("CASE WHEN reverses_id IS NULL THEN 1 ELSE -1 END"), "count")
            .expr_as(sum("amount_minor"), "total")
            .group_by(ledger_entry::Column::Kind)
            .into_tuple()
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let mut operations = rows
            .into_iter()
            .map(|(kind, count, total)| {
                let kind = kind.parse().map_err(|_| AppError::internal(format!("bad stored ledger kind: {kind}")))?;
                Ok(Operation { kind, count, total: Money(total) })
            })
            .collect::<AppResult<Vec<_>>>()?;
        // In the order kinds are declared, which reads like a statement.
        operations.sort_by_key(|o| o.kind as u8);
        Ok(operations)
    }
}
