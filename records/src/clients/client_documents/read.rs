//! Reading document references: filtered pages newest first and the operations view.

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, PaginatorTrait, QueryFilter, QuerySelect};

use super::{ClientDocument, ClientDocumentService, DocumentKind, of_client};
use crate::clients::entity::client_document as doc;
use crate::clients::service;
use clientele_kernel::Money;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{AddressId, ClientDocumentId, ClientId};
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::TenantCtx;

/// Which documents a list shows (OTH-01); dates are inclusive.
#[derive(Clone, Debug, Default)]
pub struct DocumentFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Empty: every type.
    pub kinds: Vec<DocumentKind>,
    pub site: Option<AddressId>,
    pub not_invoiced: bool,
    pub not_ordered: bool,
    pub not_delivered: bool,
}

/// One type of document in the operations view (LED-14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentSummary {
    pub kind: DocumentKind,
    pub count: i64,
    pub total: Money,
}

impl DocumentFilter {
    fn condition(&self) -> AppResult<Condition> {
        check_period(self.from, self.to)?;
        let mut cond = Condition::all();
        if !self.kinds.is_empty() {
            cond = cond.add(doc::Column::Kind.is_in(self.kinds.iter().map(|k| k.as_str())));
        }
        if let Some(from) = self.from {
            cond = cond.add(doc::Column::DocumentDate.gte(from));
        }
        if let Some(to) = self.to {
            cond = cond.add(doc::Column::DocumentDate.lte(to));
        }
        if let Some(site) = self.site {
            cond = cond.add(doc::Column::SiteId.eq(site));
        }
        for (on, column) in [
            (self.not_invoiced, doc::Column::Invoiced),
            (self.not_ordered, doc::Column::Ordered),
            (self.not_delivered, doc::Column::Delivered),
        ] {
            if on {
                cond = cond.add(column.eq(false));
            }
        }
        Ok(cond)
    }
}

fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(AppError::invalid("from", "The period starts after it ends.")),
        _ => Ok(()),
    }
}

impl ClientDocumentService {
    /// One page of a client's documents, newest first (OTH-01).
    pub async fn list(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        filter: &DocumentFilter,
        page: PageRequest,
    ) -> AppResult<Page<ClientDocument>> {
        let condition = filter.condition()?;
        let tx = ctx.read().await?;
        service::load(&tx, client).await?;
        let base = of_client(&tx, client).filter(condition);
        let key = match page.cursor {
            // Keyset on (date, id) descending: the cursor names the document at the page's edge.
            Some(at) => {
                let last = of_client(&tx, client)
                    .filter(doc::Column::Id.eq(ClientDocumentId(at)))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(|| AppError::invalid(page.cursor_field(), "This cursor is not valid."))?;
                Some(vec![last.document_date.into(), last.id.into()])
            }
            None => None,
        };
        let rows =
            page.keyset(base.clone(), [doc::Column::DocumentDate, doc::Column::Id], key, false).all(tx.conn()).await?;
        let total = base.count(tx.conn()).await?;
        tx.commit().await?;
        let docs = rows.into_iter().map(ClientDocument::try_from).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(docs, &page, total))
    }

    /// LED-14: a client's documents grouped by type, with counts and totals, in type order.
    pub async fn summary(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<Vec<DocumentSummary>> {
        let condition = DocumentFilter { from, to, ..DocumentFilter::default() }.condition()?;
        let tx = ctx.read().await?;
        service::load(&tx, client).await?;
        let rows: Vec<(String, i64, i64)> = of_client(&tx, client)
            .filter(condition)
            .select_only()
            .column(doc::Column::Kind)
            .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "count")
            .expr_as(Expr::cust("CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)"), "total")
            .group_by(doc::Column::Kind)
            .into_tuple()
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let mut summary = rows
            .into_iter()
            .map(|(kind, count, total)| {
                let kind = kind.parse().map_err(|_| AppError::internal(format!("bad stored document kind: {kind}")))?;
                Ok(DocumentSummary { kind, count, total: Money(total) })
            })
            .collect::<AppResult<Vec<_>>>()?;
        summary.sort_by_key(|s| s.kind as u8);
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // OTH-01
    fn filters_refuse_backwards_periods() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let filter = DocumentFilter { from: day("2026-02-01"), to: day("2026-01-01"), ..DocumentFilter::default() };
        assert_eq!(filter.condition().err().and_then(|e| e.field().map(str::to_owned)).as_deref(), Some("from"));
    }
}
