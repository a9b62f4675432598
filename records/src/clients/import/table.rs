//! Reading an uploaded CSV or .xlsx file into a header row and rows of text cells.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use csv::StringRecord;

use super::ImportFormat;
use clientele_kernel::error::{AppError, AppResult};

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 64 << 20;
/// Most data rows one import takes.
pub const MAX_ROWS: usize = 200_000;
/// Most columns read from a file.
const MAX_COLUMNS: usize = 500;

/// A data row: its spreadsheet row number (the header is row 1) and its cells.
pub(crate) struct Row {
    pub line: u32,
    pub cells: StringRecord,
}

pub(crate) struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

pub(crate) fn read(format: ImportFormat, bytes: &[u8]) -> AppResult<Table> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(invalid(format!("Send at most {} MiB.", MAX_FILE_BYTES >> 20)));
    }
    let table = match format {
        ImportFormat::Csv => read_csv(bytes)?,
        ImportFormat::Xlsx => read_xlsx(bytes)?,
    };
    if table.headers.iter().all(String::is_empty) {
        return Err(invalid("The file has no header row."));
    }
    Ok(table)
}

/// UTF-8 (with or without a byte-order mark), else Windows-1252, as spreadsheet programs save
/// CSV in Western Europe.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// The separator the header line uses most: comma, semicolon (French spreadsheets) or tab.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let count = |c: char| header.chars().filter(|x| *x == c).count();
    [b';', b'\t']
        .into_iter()
        .fold(b',', |best, d| if count(char::from(d)) > count(char::from(best)) { d } else { best })
}

fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|c| c.trim().is_empty())
}

fn read_csv(bytes: &[u8]) -> AppResult<Table> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(&text))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| invalid(format!("This is not a readable CSV file: {e}.")))?;
    if headers.len() > MAX_COLUMNS {
        return Err(invalid(format!("Send at most {MAX_COLUMNS} columns.")));
    }
    let headers = headers.iter().map(|h| h.trim().to_owned()).collect();
    let mut rows = Vec::new();
    let mut record = StringRecord::new();
    // Line numbers counted here: the reader's own lag one behind after a CRLF.
    let (mut counted_to, mut line) = (0usize, 1usize);
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            invalid(format!("Line {line} is not valid CSV: {e}."))
        })?;
        if !more {
            break;
        }
        if is_blank(&record) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(invalid(format!("Send at most {MAX_ROWS} rows at once.")));
        }
        let mut start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        start = start.min(text.len());
        start += text.as_bytes()[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        line += text.get(counted_to..start).map_or(0, |skipped| skipped.matches('\n').count());
        counted_to = start;
        rows.push(Row { line: u32::try_from(line).unwrap_or(u32::MAX), cells: record.clone() });
    }
    Ok(Table { headers, rows })
}

/// A cell as the text an import reads: whole numbers without a fraction, dates as ISO 8601.
fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Int(n) => n.to_string(),
        // Whole numbers well inside i64: phone-like or code-like numbers keep no ".0".
        #[allow(clippy::cast_possible_truncation)]
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (*f as i64).to_string(),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(at) => match at.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => String::new(),
        },
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

fn read_xlsx(bytes: &[u8]) -> AppResult<Table> {
    super::workbook::check(bytes)?;
    let unreadable = |e: calamine::XlsxError| invalid(format!("This is not a readable .xlsx file: {e}."));
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let first = book.sheet_names().into_iter().next().ok_or_else(|| invalid("The workbook has no sheet."))?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(unreadable)?;
    // Cells come row by row, left to right; empty cells are absent.
    let mut rows: Vec<(u32, Vec<String>)> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        let col = usize::try_from(col).unwrap_or(usize::MAX);
        if col >= MAX_COLUMNS {
            return Err(invalid(format!("Send at most {MAX_COLUMNS} columns.")));
        }
        if rows.last().is_none_or(|(r, _)| *r != row) {
            if rows.len() > MAX_ROWS {
                return Err(invalid(format!("Send at most {MAX_ROWS} rows at once.")));
            }
            rows.push((row, Vec::new()));
        }
        if let Some((_, values)) = rows.last_mut() {
            if values.len() <= col {
                values.resize(col + 1, String::new());
            }
            values[col] = cell_text(cell.get_value());
        }
    }
    let mut rows = rows.into_iter();
    let headers = rows.next().map(|(_, h)| h.into_iter().map(|h| h.trim().to_owned()).collect()).unwrap_or_default();
    let rows = rows
        .map(|(row, values)| Row { line: row.saturating_add(1), cells: StringRecord::from(values) })
        .filter(|r| !is_blank(&r.cells))
        .collect();
    Ok(Table { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_separators_encodings_and_blank_lines() {
        let semicolons = "Nom;Prénom\r\nDupont;Anne\r\n;\r\n\"Martin\nJr\";Luc\r\nA;B\n";
        let table = read(ImportFormat::Csv, semicolons.as_bytes()).unwrap();
        assert_eq!(table.headers, ["Nom", "Prénom"]);
        assert_eq!(table.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 6]);
        // Windows-1252 "é" is the single byte 0xE9.
        let latin = b"\xEF\xBB\xBFName,City\nB\xE9atrice,Lyon\n";
        let table = read(ImportFormat::Csv, &latin[3..]).unwrap();
        assert_eq!(&table.rows[0].cells[0], "Béatrice");
        let bom = "\u{feff}Name,City\nAnne,Lyon\n";
        assert_eq!(read(ImportFormat::Csv, bom.as_bytes()).unwrap().headers[0], "Name");
    }

    #[test]
    fn unreadable_files_are_validation_errors() {
        let err = read(ImportFormat::Xlsx, b"not a zip").err().unwrap();
        assert_eq!(err.field(), Some("file"));
        assert!(read(ImportFormat::Csv, b"").is_err());
    }
}
