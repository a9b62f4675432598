//! Exports of client records: the filtered list to CSV or .xlsx (EXP-01, EXP-09), read page by
//! page so a large list never sits in memory; one client to CSV (EXP-02); one client's ledger to
//! .xlsx (EXP-03). Every export writes a `client.export` audit row. The column table here is
//! also what imports match headers against, so an export imports back as it is.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::audit::{self, AuditEntry};
use crate::clients::custom_fields::{CustomFieldDef, FieldKind};
use crate::clients::entity::{category, group, ledger_entry};
use crate::clients::model::{Client, Money};
use crate::clients::query::{Keyset, keyset_of, keyset_page};
use crate::clients::service::{ClientService, client_field_defs, load};
use crate::clients::{ClientFilter, ClientOrder};
use crate::error::{AppError, AppResult};
use crate::ids::{CategoryId, ClientId, GroupId};
use crate::tenancy::{TenantCtx, TenantTx};

/// Rows read per query: bounds what an export holds in memory at once.
pub const EXPORT_PAGE: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// One cell, typed so spreadsheets get numbers, dates and booleans rather than text.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Amount(Money),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

impl Cell {
    fn text(value: Option<&str>) -> Self {
        value.map_or(Self::Empty, |v| Self::Text(v.to_owned()))
    }

    /// A stored enum value as its GraphQL name (`ACTIVE`, `EN_US`): what imports read back.
    fn name(stored: &str) -> Self {
        Self::Text(stored.replace('-', "_").to_uppercase())
    }

    /// The cell as CSV text: ISO dates, `true`/`false`, decimal amounts.
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            Self::Empty => Cow::Borrowed(""),
            Self::Text(s) => Cow::Borrowed(s),
            Self::Int(n) => Cow::Owned(n.to_string()),
            Self::Amount(m) => Cow::Owned(m.to_decimal_string()),
            Self::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Self::Date(d) => Cow::Owned(d.to_string()),
            Self::DateTime(at) => Cow::Owned(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        }
    }
}

/// Names of the tenant's categories and groups, by id.
pub(crate) struct Names {
    pub categories: HashMap<CategoryId, String>,
    pub groups: HashMap<GroupId, String>,
}

impl Names {
    /// Both lists are small per tenant: loaded whole, once per export or import.
    pub(crate) async fn load(tx: &TenantTx) -> AppResult<Self> {
        let categories = category::Entity::find().filter(category::Column::TenantId.eq(tx.tenant())).all(tx.conn());
        let categories = categories.await?.into_iter().map(|c| (c.id, c.name)).collect();
        let groups = group::Entity::find().filter(group::Column::TenantId.eq(tx.tenant())).all(tx.conn());
        let groups = groups.await?.into_iter().map(|g| (g.id, g.name)).collect();
        Ok(Self { categories, groups })
    }
}

/// A core column: its header, the `ClientInput` field imports map it to, and its value.
pub(crate) struct CoreColumn {
    pub label: &'static str,
    pub field: Option<&'static str>,
    get: fn(&Client, &Names) -> Cell,
}

/// Every core column, EXP-01 and EXP-09's among them, in file order.
pub(crate) const CORE_COLUMNS: &[CoreColumn] = &[
    CoreColumn { label: "Number", field: None, get: |c, _| Cell::Int(c.number) },
    CoreColumn { label: "Code", field: Some("code"), get: |c, _| Cell::Text(c.code.clone()) },
    CoreColumn { label: "Barcode", field: Some("barcode"), get: |c, _| Cell::text(c.barcode.as_deref()) },
    CoreColumn { label: "Kind", field: Some("kind"), get: |c, _| Cell::name(c.kind.as_str()) },
    CoreColumn {
        label: "Civility",
        field: Some("civility"),
        get: |c, _| c.civility.map_or(Cell::Empty, |v| Cell::name(v.as_str())),
    },
    CoreColumn { label: "Last name", field: Some("lastName"), get: |c, _| Cell::text(c.last_name.as_deref()) },
    CoreColumn { label: "First name", field: Some("firstName"), get: |c, _| Cell::text(c.first_name.as_deref()) },
    CoreColumn { label: "Company", field: Some("companyName"), get: |c, _| Cell::text(c.company_name.as_deref()) },
    CoreColumn { label: "E-mail", field: Some("email"), get: |c, _| Cell::text(c.email.as_deref()) },
    CoreColumn {
        label: "Mobile",
        field: Some("mobile"),
        get: |c, _| Cell::text(c.mobile.as_ref().map(|p| p.typed.as_str())),
    },
    CoreColumn {
        label: "Home phone",
        field: Some("homePhone"),
        get: |c, _| Cell::text(c.home_phone.as_ref().map(|p| p.typed.as_str())),
    },
    CoreColumn {
        label: "Work phone",
        field: Some("workPhone"),
        get: |c, _| Cell::text(c.work_phone.as_ref().map(|p| p.typed.as_str())),
    },
    CoreColumn {
        label: "Birth date",
        field: Some("birthDate"),
        get: |c, _| c.birth_date.map_or(Cell::Empty, Cell::Date),
    },
    CoreColumn { label: "Language", field: Some("language"), get: |c, _| Cell::name(c.language.tag()) },
    CoreColumn {
        label: "Category",
        field: Some("category"),
        get: |c, n| Cell::text(c.category.and_then(|id| n.categories.get(&id)).map(String::as_str)),
    },
    CoreColumn {
        label: "Group",
        field: Some("group"),
        get: |c, n| Cell::text(c.group.and_then(|id| n.groups.get(&id)).map(String::as_str)),
    },
    CoreColumn {
        label: "Establishment",
        field: Some("establishment"),
        get: |c, _| Cell::text(c.establishment.as_deref()),
    },
    CoreColumn { label: "Status", field: Some("status"), get: |c, _| Cell::name(c.status.as_str()) },
    CoreColumn { label: "Blocked", field: None, get: |c, _| Cell::Bool(c.blocked) },
    CoreColumn {
        label: "Accounting code",
        field: Some("accountingCode"),
        get: |c, _| Cell::text(c.accounting_code.as_deref()),
    },
    CoreColumn {
        label: "Anonymous accounting",
        field: Some("anonymousAccounting"),
        get: |c, _| Cell::Bool(c.anonymous_accounting),
    },
    CoreColumn { label: "Created at", field: None, get: |c, _| Cell::DateTime(c.created_at) },
];

/// The header of a custom field's column: its label, unless another column already has it.
pub(crate) fn custom_header(def: &CustomFieldDef, taken: &[String]) -> String {
    if taken.iter().any(|h| h.eq_ignore_ascii_case(&def.label)) {
        format!("{} ({})", def.label, def.key)
    } else {
        def.label.clone()
    }
}

fn custom_cell(def: &CustomFieldDef, value: Option<&Value>) -> Cell {
    match (def.kind, value) {
        (_, None | Some(Value::Null)) => Cell::Empty,
        (FieldKind::Integer, Some(v)) => v.as_i64().map_or(Cell::Empty, Cell::Int),
        (FieldKind::Boolean, Some(Value::Bool(b))) => Cell::Bool(*b),
        (FieldKind::Date, Some(Value::String(s))) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| Cell::Text(s.clone()), Cell::Date)
        }
        (FieldKind::MultiChoice, Some(Value::Array(items))) => {
            Cell::Text(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        }
        (_, Some(Value::String(s))) => Cell::Text(s.clone()),
        (_, Some(other)) => Cell::Text(other.to_string()),
    }
}

/// What one export writes: the headers, and how a client becomes a row.
pub(crate) struct Sheet {
    pub headers: Vec<String>,
    defs: Vec<CustomFieldDef>,
    names: Names,
}

impl Sheet {
    /// The core columns and the tenant's active custom fields, in display order.
    pub(crate) async fn load(tx: &TenantTx) -> AppResult<Self> {
        let defs: Vec<_> = client_field_defs(tx).await?.into_iter().filter(|d| d.active).collect();
        let mut headers: Vec<String> = CORE_COLUMNS.iter().map(|c| c.label.to_owned()).collect();
        for def in &defs {
            let header = custom_header(def, &headers);
            headers.push(header);
        }
        Ok(Self { headers, defs, names: Names::load(tx).await? })
    }

    fn row(&self, c: &Client) -> Vec<Cell> {
        let core = CORE_COLUMNS.iter().map(|col| (col.get)(c, &self.names));
        core.chain(self.defs.iter().map(|d| custom_cell(d, c.custom_fields.get(&d.key)))).collect()
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
/// `tmp_dir` as they are written, so its size does not grow with the row count.
struct XlsxSheet {
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
    fn new(tmp_dir: &Path, name: &str, headers: &[String]) -> AppResult<Self> {
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

    fn write_rows(&mut self, rows: &[Vec<Cell>]) -> AppResult<()> {
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
    async fn save(mut self, path: PathBuf) -> AppResult<()> {
        tokio::task::spawn_blocking(move || self.book.save(path).map_err(xlsx_err)).await.map_err(AppError::internal)?
    }
}

impl ClientService {
    /// Starts an export of the clients matching `filter`, in `order`: checks the filter, loads
    /// the columns, and writes the audit row. Any authenticated user may export what they can list.
    pub async fn start_export(
        &self,
        ctx: &TenantCtx,
        filter: &ClientFilter,
        order: ClientOrder,
        format: ExportFormat,
    ) -> AppResult<ClientExport> {
        let tx = ctx.begin().await?;
        let condition = self.condition(&tx, filter).await?;
        let sheet = Sheet::load(&tx).await?;
        let what = json!({ "format": format.as_str(), "filter": format!("{filter:?}"), "order": format!("{order:?}") });
        audit::record(&tx, ctx, AuditEntry::new("client.export", "client", "list", audit::created(&what))).await?;
        tx.commit().await?;
        Ok(ClientExport { sheet, condition, order, after: None, done: false })
    }

    /// The next page of an export (at most [`EXPORT_PAGE`] rows), or `None` when it is done.
    /// Each page is its own short read, so a slow download holds no connection.
    pub async fn export_page(&self, ctx: &TenantCtx, export: &mut ClientExport) -> AppResult<Option<Vec<Vec<Cell>>>> {
        if export.done {
            return Ok(None);
        }
        let tx = ctx.read().await?;
        let clients =
            keyset_page(&tx, export.condition.clone(), export.order, export.after.as_ref(), EXPORT_PAGE).await?;
        tx.commit().await?;
        export.done = (clients.len() as u64) < EXPORT_PAGE;
        export.after = clients.last().map(|c| keyset_of(export.order, c));
        if clients.is_empty() {
            return Ok(None);
        }
        Ok(Some(clients.iter().map(|c| export.sheet.row(c)).collect()))
    }

    /// Writes the filtered list to an .xlsx file at `path`; returns the number of clients.
    pub async fn export_xlsx(
        &self,
        ctx: &TenantCtx,
        filter: &ClientFilter,
        order: ClientOrder,
        path: &Path,
        tmp_dir: &Path,
    ) -> AppResult<u64> {
        let mut export = self.start_export(ctx, filter, order, ExportFormat::Xlsx).await?;
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
    pub async fn export_one_csv(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<(String, Vec<u8>)> {
        let tx = ctx.begin().await?;
        let client = load(&tx, id).await?;
        let sheet = Sheet::load(&tx).await?;
        let what = json!({ "format": "csv", "scope": "record" });
        audit::record(&tx, ctx, AuditEntry::new("client.export", "client", id, audit::created(&what))).await?;
        tx.commit().await?;
        let bytes = csv_bytes(Some(&sheet.headers), &[sheet.row(&client)])?;
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

#[cfg(test)]
mod tests {
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
        let mut labels: Vec<_> = CORE_COLUMNS.iter().map(|c| c.label.to_lowercase()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), CORE_COLUMNS.len());
        let mut fields: Vec<_> = CORE_COLUMNS.iter().filter_map(|c| c.field).collect();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), CORE_COLUMNS.iter().filter(|c| c.field.is_some()).count());
    }
}
