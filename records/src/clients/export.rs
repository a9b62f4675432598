//! Exports of client records: the filtered list to CSV or .xlsx (EXP-01, EXP-09), read page by
//! page so a large list never sits in memory; one client to CSV (EXP-02); one client's ledger to
//! .xlsx (EXP-03). Every export writes a `client.export` audit row. The column table
//! (`export/columns.rs`) is also what imports match headers against: an export imports back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_xlsxwriter::{Format, Workbook};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::clients::entity::ledger_entry;
use crate::clients::query::{Keyset, keyset_of, keyset_page};
use crate::clients::service::{ClientService, load};
use crate::clients::{Client, ClientFilter, ClientOrder, RecordServices};
use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::ClientId;
use clientele_kernel::language::Language;
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::{TenantCtx, TenantTx};

mod columns;

pub use columns::Cell;
pub(crate) use columns::{CORE_COLUMNS, Names, PageData, Sheet, custom_header};

/// Rows read per query: bounds what an export holds in memory at once.
pub const EXPORT_PAGE: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    /// The accounting mapping (EXP-09), as CSV.
    Accounting,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Accounting => "accounting",
        }
    }
}

/// A list export in progress: where the next page starts.
pub struct ClientExport {
    sheet: Sheet,
    condition: Condition,
    order: ClientOrder,
    after: Option<Keyset>,
    done: bool,
}

impl ClientExport {
    pub fn headers(&self) -> &[String] {
        &self.sheet.headers
    }
}

/// Rows as CSV, the header row first when given (then behind a UTF-8 byte-order mark, so
/// spreadsheet programs read accents right).
pub fn csv_bytes(headers: Option<&[String]>, rows: &[Vec<Cell>]) -> AppResult<Vec<u8>> {
    let mut out = Vec::with_capacity(rows.len() * 160);
    if headers.is_some() {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = csv::Writer::from_writer(out);
    if let Some(headers) = headers {
        writer.write_record(headers).map_err(AppError::internal)?;
    }
    for row in rows {
        writer.write_record(row.iter().map(|c| c.to_text().into_owned())).map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(|e| AppError::internal(e.to_string()))
}

/// A one-sheet workbook written row by row in constant memory mode: rows go to a temp file in
/// `tmp_dir` as they are written, so its size does not grow with the row count. The console's
/// list of organisations is written with it too.
pub struct XlsxSheet {
    book: Workbook,
    row: u32,
    date: Format,
    datetime: Format,
    amount: Format,
}

fn xlsx_err(err: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(err)
}

impl XlsxSheet {
    pub fn new(tmp_dir: &Path, name: &str, headers: &[String]) -> AppResult<Self> {
        let mut book = Workbook::new();
        book.set_tempdir(tmp_dir).map_err(xlsx_err)?;
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet_with_constant_memory().map_err(xlsx_err)?;
        sheet.set_name(name).map_err(xlsx_err)?;
        for (col, header) in (0u16..).zip(headers) {
            // Widths go before the first row: constant memory mode writes them first.
            let width = f64::from(u16::try_from(header.chars().count()).unwrap_or(40).clamp(10, 40)) + 4.0;
            sheet.set_column_width(col, width).map_err(xlsx_err)?;
            sheet.write_string_with_format(0, col, header, &bold).map_err(xlsx_err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        Ok(Self {
            book,
            row: 1,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            amount: Format::new().set_num_format("0.00"),
        })
    }

    pub fn write_rows(&mut self, rows: &[Vec<Cell>]) -> AppResult<()> {
        let sheet = self.book.worksheet_from_index(0).map_err(xlsx_err)?;
        for cells in rows {
            for (col, cell) in (0u16..).zip(cells) {
                let row = self.row;
                match cell {
                    Cell::Empty => continue,
                    Cell::Text(s) => sheet.write_string(row, col, s),
                    // Precision stays exact up to 2^53, far beyond client numbers and amounts.
                    #[allow(clippy::cast_precision_loss)]
                    Cell::Int(n) => sheet.write_number(row, col, *n as f64),
                    #[allow(clippy::cast_precision_loss)]
                    Cell::Amount(m) => sheet.write_number_with_format(row, col, m.0 as f64 / 100.0, &self.amount),
                    Cell::Bool(b) => sheet.write_boolean(row, col, *b),
                    Cell::Date(d) => sheet.write_date_with_format(row, col, d, &self.date),
                    Cell::DateTime(at) => sheet.write_datetime_with_format(row, col, at.naive_utc(), &self.datetime),
                }
                .map_err(xlsx_err)?;
            }
            self.row += 1;
        }
        Ok(())
    }

    /// Zips the workbook to `path` off the async threads: it takes a moment for large sheets.
    pub async fn save(mut self, path: PathBuf) -> AppResult<()> {
        tokio::task::spawn_blocking(move || self.book.save(path).map_err(xlsx_err)).await.map_err(AppError::internal)?
    }
}

impl ClientService {
    /// Starts an export of the clients matching `filter`, in `order`, with headers in
    /// `language`: checks the filter, loads the columns, and writes the audit row. Any
    /// authenticated user may export what they can list.
    pub async fn start_export(
        &self,
        ctx: &TenantCtx,
        filter: &ClientFilter,
        order: ClientOrder,
        format: ExportFormat,
        language: Language,
    ) -> AppResult<ClientExport> {
        let tx = ctx.begin().await?;
        let condition = self.condition(ctx, &tx, filter).await?;
        let sheet = Sheet::load(&tx, language).await?;
        let what = json!({ "format": format.as_str(), "filter": format!("{filter:?}"), "order": format!("{order:?}") });
        audit::record(&tx, ctx, AuditEntry::new("client.export", "client", "list", audit::created(&what))).await?;
        tx.commit().await?;
        Ok(ClientExport { sheet, condition, order, after: None, done: false })
    }

    /// The next page of an export (at most [`EXPORT_PAGE`] rows), or `None` when it is done.
    /// Each page is its own short read, so a slow download holds no connection.
    pub async fn export_page(&self, ctx: &TenantCtx, export: &mut ClientExport) -> AppResult<Option<Vec<Vec<Cell>>>> {
        let Some(clients) = self.export_clients(ctx, export).await? else { return Ok(None) };
        let tx = ctx.read().await?;
        let page = PageData::load(&tx, &clients).await?;
        tx.commit().await?;
        Ok(Some(clients.iter().map(|c| export.sheet.row(c, &page)).collect()))
    }

    /// EXP-09: the accounting mapping of the clients matching `filter`, by number: one row per
    /// client (its accounting code, else its code; its name; its number), and the clients marked
    /// `anonymous_accounting` merged into one account, "ANONYME" (the seed's «Anonyme»), with
    /// how many they are. Audited as an export.
    pub async fn accounting_rows(&self, ctx: &TenantCtx, filter: &ClientFilter) -> AppResult<Vec<Vec<Cell>>> {
        let (order, format) = (ClientOrder::Number, ExportFormat::Accounting);
        let mut export = self.start_export(ctx, filter, order, format, Language::EnUs).await?;
        let (mut rows, mut anonymous) = (Vec::new(), 0_i64);
        while let Some(clients) = self.export_clients(ctx, &mut export).await? {
            for c in clients {
                if c.anonymous_accounting {
                    anonymous += 1;
                    continue;
                }
                let account = c.accounting_code.clone().unwrap_or_else(|| c.code.clone());
                rows.push(vec![Cell::Text(account), Cell::Text(c.display_name()), Cell::Int(c.number), Cell::Int(1)]);
            }
        }
        if anonymous > 0 {
            rows.push(vec![
                Cell::Text("ANONYME".into()),
                Cell::Text("Anonyme".into()),
                Cell::Empty,
                Cell::Int(anonymous),
            ]);
        }
        Ok(rows)
    }

    /// The headers of [`accounting_rows`](Self::accounting_rows).
    pub const ACCOUNTING_HEADERS: [&'static str; 4] = ["Account", "Name", "Client number", "Clients"];

    /// The next page of an export's clients, or `None` when it is done.
    async fn export_clients(&self, ctx: &TenantCtx, export: &mut ClientExport) -> AppResult<Option<Vec<Client>>> {
        if export.done {
            return Ok(None);
        }
        let tx = ctx.read().await?;
        let request = PageRequest { size: EXPORT_PAGE, cursor: export.after.take(), backward: false };
        let rows = keyset_page(&tx, export.condition.clone(), export.order, &request).await?;
        tx.commit().await?;
        let clients = Page::from_overfetch(rows, &request, 0);
        export.done = !clients.has_next_page;
        export.after = clients.items.last().map(|c| keyset_of(export.order, c));
        Ok(Some(clients.items).filter(|c| !c.is_empty()))
    }

    /// Writes the filtered list to an .xlsx file at `path`, headers in `language`; returns the
    /// number of clients.
    pub async fn export_xlsx(
        &self,
        ctx: &TenantCtx,
        (filter, order): (&ClientFilter, ClientOrder),
        language: Language,
        path: &Path,
        tmp_dir: &Path,
    ) -> AppResult<u64> {
        let mut export = self.start_export(ctx, filter, order, ExportFormat::Xlsx, language).await?;
        let mut sheet = XlsxSheet::new(tmp_dir, "Clients", export.headers())?;
        let mut count = 0;
        while let Some(rows) = self.export_page(ctx, &mut export).await? {
            count += rows.len() as u64;
            sheet.write_rows(&rows)?;
        }
        sheet.save(path.to_owned()).await?;
        Ok(count)
    }

    /// One client as CSV, named `Fiche_Client_<number>.csv` (EXP-02), in the list's columns.
    pub async fn export_one_csv(
        &self,
        ctx: &TenantCtx,
        id: ClientId,
        language: Language,
    ) -> AppResult<(String, Vec<u8>)> {
        let tx = ctx.begin().await?;
        let client = load(&tx, id).await?;
        let sheet = Sheet::load(&tx, language).await?;
        let page = PageData::load(&tx, std::slice::from_ref(&client)).await?;
        let what = json!({ "format": "csv", "scope": "record" });
        audit::record(&tx, ctx, AuditEntry::new("client.export", "client", id, audit::created(&what))).await?;
        tx.commit().await?;
        let bytes = csv_bytes(Some(&sheet.headers), &[sheet.row(&client, &page)])?;
        Ok((format!("Fiche_Client_{}.csv", client.number), bytes))
    }

    /// One client's ledger entries with a running balance, to an .xlsx file at `path` (EXP-03);
    /// returns the file name to offer.
    pub async fn export_ledger_xlsx(
        &self,
        ctx: &TenantCtx,
        id: ClientId,
        path: &Path,
        tmp_dir: &Path,
    ) -> AppResult<String> {
        let tx = ctx.begin().await?;
        let client = load(&tx, id).await?;
        let entries = ledger_entries(&tx, id).await?;
        let what = json!({ "format": "xlsx", "scope": "ledger" });
        audit::record(&tx, ctx, AuditEntry::new("client.export", "client", id, audit::created(&what))).await?;
        tx.commit().await?;
        let headers = ["Date", "Kind", "Amount", "Currency", "Document", "Note", "Balance"].map(str::to_owned);
        let mut sheet = XlsxSheet::new(tmp_dir, "Ledger", &headers)?;
        let mut balance = Money(0);
        let rows: Vec<Vec<Cell>> = entries
            .into_iter()
            .map(|e| {
                balance = Money(balance.0 + e.amount_minor);
                vec![
                    Cell::Date(e.entry_date),
                    Cell::Text(e.kind),
                    Cell::Amount(Money(e.amount_minor)),
                    Cell::Text(e.currency),
                    Cell::text(e.document_ref.as_deref()),
                    Cell::text(e.note.as_deref()),
                    Cell::Amount(balance),
                ]
            })
            .collect();
        sheet.write_rows(&rows)?;
        sheet.save(path.to_owned()).await?;
        Ok(format!("Ledger_Client_{}.xlsx", client.number))
    }
}

/// A client's ledger entries in posting order, read straight from `ledger_entries`.
pub(crate) async fn ledger_entries(tx: &TenantTx, client: ClientId) -> AppResult<Vec<ledger_entry::Model>> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
        .filter(ledger_entry::Column::ClientId.eq(client))
        .order_by_asc(ledger_entry::Column::EntryDate)
        .order_by_asc(ledger_entry::Column::CreatedAt)
        .order_by_asc(ledger_entry::Column::Id)
        .all(tx.conn())
        .await?)
}

/// The CSV download of an export: `header`, then one chunk per page, each page its own short
/// read. A failure mid-way ends the body with an error (the status is sent already: the download
/// is cut short) and is logged. Fused: polled again past its end (as a compressing layer may),
/// it stays ended.
pub fn csv_stream(
    records: Arc<RecordServices>,
    ctx: TenantCtx,
    export: ClientExport,
    header: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    use futures_util::StreamExt as _;

    struct Cursor {
        records: Arc<RecordServices>,
        ctx: TenantCtx,
        export: ClientExport,
        header: Option<Vec<u8>>,
        failed: bool,
    }
    let cursor = Cursor { records, ctx, export, header: Some(header), failed: false };
    futures_util::stream::unfold(cursor, |mut c| async move {
        if let Some(header) = c.header.take() {
            return Some((Ok(header), c));
        }
        if c.failed {
            return None;
        }
        let page = c.records.clients.export_page(&c.ctx, &mut c.export).await;
        match page.and_then(|rows| rows.map(|rows| csv_bytes(None, &rows)).transpose()) {
            Ok(Some(chunk)) => Some((Ok(chunk), c)),
            Ok(None) => None,
            Err(err) => {
                tracing::error!(error = %err, "CSV export failed mid-way");
                c.failed = true;
                Some((Err(std::io::Error::other("export failed")), c))
            }
        }
    })
    .fuse()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn csv_quotes_and_types_cells() {
        let headers = ["Name".to_owned(), "When".to_owned()];
        let rows = vec![
            vec![Cell::Text("Dupont, \"Jr\"".into()), Cell::Date(NaiveDate::from_ymd_opt(1980, 2, 29).unwrap())],
            vec![Cell::Empty, Cell::Amount(Money(-320))],
        ];
        let bytes = csv_bytes(Some(&headers), &rows).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, "\u{feff}Name,When\n\"Dupont, \"\"Jr\"\"\",1980-02-29\n,-3.20\n");
    }

    #[test]
    fn core_columns_have_distinct_headers_and_import_fields() {
        for language in [Language::EnUs, Language::Fr] {
            let mut labels: Vec<_> = CORE_COLUMNS.iter().map(|c| c.header.get(language).to_lowercase()).collect();
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(labels.len(), CORE_COLUMNS.len(), "{language:?}");
        }
        let mut fields: Vec<_> = CORE_COLUMNS.iter().filter_map(|c| c.field).collect();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), CORE_COLUMNS.iter().filter(|c| c.field.is_some()).count());
    }
}
