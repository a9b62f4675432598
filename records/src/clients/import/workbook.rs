//! Bounds on an uploaded .xlsx before calamine parses it. A workbook is a zip: a few hundred
//! KiB of deflated XML can stand for gigabytes, and calamine keeps every shared string in
//! memory (reserving room for as many as the file's `uniqueCount` claims). So the archive is
//! walked first, every part inflated into a small buffer and counted, and the workbook refused
//! with `IMPORT_FILE_TOO_LARGE` past any bound: entries, bytes of one part, bytes of all parts,
//! shared strings.

use std::io::{Cursor, Read};

use clientele_kernel::error::{AppError, AppResult, ErrorCode};

/// Most entries (parts) of one workbook; a real one has a few dozen.
pub const MAX_ENTRIES: usize = 1_000;
/// Most bytes of one part once inflated: no larger than the largest upload itself.
pub const MAX_PART_BYTES: u64 = 64 << 20;
/// Most bytes of all parts together once inflated.
pub const MAX_TOTAL_BYTES: u64 = 128 << 20;
/// Most shared strings (declared or present): each costs calamine a `String` even when empty.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;

fn too_large(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::ImportFileTooLarge, message)
}

/// Refuses a workbook whose parts, inflated, would exceed the bounds; reads nothing else.
pub(crate) fn check(bytes: &[u8]) -> AppResult<()> {
    let unreadable =
        |e: &dyn std::fmt::Display| AppError::invalid("file", format!("This is not a readable .xlsx file: {e}."));
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if zip.len() > MAX_ENTRIES {
        return Err(too_large(format!("The workbook holds more than {MAX_ENTRIES} parts.")));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    for index in 0..zip.len() {
        let mut part = zip.by_index(index).map_err(|e| unreadable(&e))?;
        // The declared size may lie (it is only a hint): the inflated bytes are counted below.
        if part.size() > MAX_PART_BYTES {
            return Err(too_large(part_message()));
        }
        let shared = part.name().is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        let mut strings = SharedStrings::default();
        let mut size = 0u64;
        loop {
            let n = part.read(&mut buf).map_err(|e| unreadable(&e))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            total += n as u64;
            if size > MAX_PART_BYTES {
                return Err(too_large(part_message()));
            }
            if total > MAX_TOTAL_BYTES {
                return Err(too_large(format!(
                    "The workbook is larger than {} MiB once uncompressed.",
                    MAX_TOTAL_BYTES >> 20
                )));
            }
            if shared {
                strings.feed(&buf[..n])?;
            }
        }
    }
    Ok(())
}

fn part_message() -> String {
    format!("A part of the workbook is larger than {} MiB once uncompressed.", MAX_PART_BYTES >> 20)
}

fn strings_message() -> String {
    format!("The workbook holds more than {MAX_SHARED_STRINGS} distinct texts.")
}

/// Counts `<si` elements (any namespace prefix) across chunk boundaries, and reads the
/// `uniqueCount` the `<sst>` start tag declares.
#[derive(Default)]
struct SharedStrings {
    count: u64,
    /// The last bytes of the previous chunk, so a tag split across two chunks is seen.
    tail: Vec<u8>,
    /// The start of the part, until the `<sst …>` start tag is complete.
    head: Vec<u8>,
    head_done: bool,
}

impl SharedStrings {
    fn feed(&mut self, chunk: &[u8]) -> AppResult<()> {
        if !self.head_done {
            self.head.extend_from_slice(&chunk[..chunk.len().min(8192)]);
            if let Some(declared) = declared_count(&self.head) {
                self.head_done = true;
                if declared.is_none_or(|n| n > MAX_SHARED_STRINGS) {
                    return Err(too_large(strings_message()));
                }
            } else if self.head.len() >= 8192 {
                self.head_done = true;
            }
        }
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(chunk);
        self.count += count_si(&window);
        // Keep the last 3 bytes for the next chunk: a match starting there had no follower yet,
        // so it was not counted in this window.
        let keep = window.len().min(3);
        self.tail = window[window.len() - keep..].to_vec();
        if self.count > MAX_SHARED_STRINGS {
            return Err(too_large(strings_message()));
        }
        Ok(())
    }
}

/// Elements `si` opening in `window`: `<si` or `:si` followed by `>`, `/` or white space.
fn count_si(window: &[u8]) -> u64 {
    window
        .windows(4)
        .filter(|w| {
            (w[0] == b'<' || w[0] == b':')
                && w[1] == b's'
                && w[2] == b'i'
                && matches!(w[3], b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
        })
        .count() as u64
}

/// Once the `<sst …>` start tag is complete in `head`: `Some(None)` when its `uniqueCount` is
/// not a number we accept, `Some(Some(n))` when it declares `n` (or 0 when absent); `None`
/// while the tag is still incomplete.
fn declared_count(head: &[u8]) -> Option<Option<u64>> {
    let text = String::from_utf8_lossy(head);
    let start = text.find("sst")?;
    let tag = &text[start..];
    let end = tag.find('>')?;
    let tag = &tag[..end];
    let Some(at) = tag.find("uniqueCount") else { return Some(Some(0)) };
    let rest = tag[at + "uniqueCount".len()..].trim_start().strip_prefix('=')?.trim_start();
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(if digits.len() > 12 { None } else { digits.parse().ok() })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn workbook(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in parts {
            zip.start_file(*name, options).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn small_workbooks_pass() {
        let sst = br#"<?xml version="1.0"?><sst xmlns="x" count="2" uniqueCount="2"><si><t>a</t></si><si><t>b</t></si></sst>"#;
        assert!(
            check(&workbook(&[("xl/sharedStrings.xml", sst), ("xl/worksheets/sheet1.xml", b"<worksheet/>")])).is_ok()
        );
    }

    #[test]
    fn declared_counts_are_read_from_the_start_tag() {
        assert_eq!(declared_count(br#"<?xml?><sst uniqueCount="12" count="3">"#), Some(Some(12)));
        assert_eq!(declared_count(br"<sst count='3' uniqueCount = '7'>"), Some(Some(7)));
        assert_eq!(declared_count(br"<sst>"), Some(Some(0)));
        assert_eq!(declared_count(br#"<sst uniqueCount="999999999999999999">"#), Some(None));
        assert_eq!(declared_count(br#"<sst uniqueCount="1"#), None);
    }

    #[test]
    fn shared_strings_are_counted_across_chunks() {
        let mut s = SharedStrings::default();
        s.feed(b"<sst><si><t/></si><s").unwrap();
        s.feed(b"i/><x:si>").unwrap();
        assert_eq!(s.count, 3);
    }

    #[test]
    fn bombs_are_refused() {
        // A huge declared count: calamine would reserve room for it.
        let sst = br#"<sst uniqueCount="100000000000"><si><t>a</t></si></sst>"#;
        let err = check(&workbook(&[("xl/sharedStrings.xml", sst)])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImportFileTooLarge);
        // Millions of empty strings deflate to almost nothing.
        let many = "<si/>".repeat(2_100_000);
        let sst = format!("<sst>{many}</sst>");
        let err = check(&workbook(&[("xl/sharedStrings.xml", sst.as_bytes())])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImportFileTooLarge);
        // One part past the per-part bound.
        let big = vec![b' '; usize::try_from(MAX_PART_BYTES).unwrap() + 1];
        let err = check(&workbook(&[("xl/worksheets/sheet1.xml", &big)])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImportFileTooLarge);
        // Too many entries.
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("p{i}")).collect();
        let parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let err = check(&workbook(&parts)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImportFileTooLarge);
    }
}
