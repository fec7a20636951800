//! Small CSV tables that people upload (the village list, the working-day calendar, the
//! assessment table, fieldwork results): one way to decode them, number their rows and
//! columns as Excel shows them, find columns by their header names, and report problems.
//!
//! A table is decoded by [`decode_text`] (UTF-8 with or without BOM, UTF-16 with BOM,
//! otherwise GB18030/GBK), read as CSV with any number of cells per row, and its header is
//! the first row that is not blank. Every problem is a [`RowError`]: its spreadsheet row
//! (header = row 1, blank rows counted), its column, a precise English message (CLI, logs)
//! and a Chinese one (pages). [`Errors`] keeps the first [`MAX_ERRORS`] of them.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

pub use crate::limits::MAX_ERRORS;

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// The bytes are not text in any encoding [`decode_text`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the file is not text in UTF-8, UTF-16 (with byte order mark) or GB18030/GBK")]
pub struct DecodeError;

impl DecodeError {
    /// The message in Chinese, for web pages.
    pub fn message_zh(&self) -> &'static str {
        "文件不是 UTF-8、UTF-16（带 BOM）或 GB18030/GBK 编码的文本，请在 Excel 中另存为 CSV 后再试"
    }
}

impl From<DecodeError> for RowError {
    fn from(e: DecodeError) -> Self {
        RowError::file(e.to_string(), e.message_zh())
    }
}

/// Decodes a text file: UTF-8, UTF-16LE or UTF-16BE when it starts with a
/// byte order mark (the mark is removed); otherwise UTF-8 if the bytes are
/// valid UTF-8, else GB18030 (a superset of GBK, what Chinese Excel saves).
///
/// Text containing NUL characters is rejected: it is binary, or UTF-16
/// without a byte order mark.
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    let text = if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_len..).unwrap_or_default();
        encoding
            .decode_without_bom_handling_and_without_replacement(rest)
            .ok_or(DecodeError)?
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        Cow::Borrowed(text)
    } else {
        encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or(DecodeError)?
    };
    if text.contains('\0') {
        return Err(DecodeError);
    }
    Ok(text)
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// One problem with an uploaded table, in English and in Chinese.
///
/// `Display` gives the English message with its location, e.g.
/// `row 4, column 日期: unrecognised date "2026-13-01" (…)`;
/// [`RowError::message_zh`] gives the Chinese one, e.g.
/// `第4行"日期"列：无法识别的日期"2026-13-01"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Row number as a spreadsheet shows it (header = row 1); `None` for
    /// problems with the whole file.
    pub row: Option<u64>,
    /// The column's header text as written in the file (trimmed), or its
    /// letter when it has none.
    pub column: Option<String>,
    /// Precise English description, without the location.
    pub message: String,
    /// Chinese description, without the location.
    pub detail_zh: String,
}

impl RowError {
    /// A problem at `row` (and `column`, when it is about one cell or column).
    pub fn new(
        row: Option<u64>,
        column: Option<&str>,
        message: impl Into<String>,
        detail_zh: impl Into<String>,
    ) -> Self {
        RowError {
            row,
            column: column.map(str::to_string),
            message: message.into(),
            detail_zh: detail_zh.into(),
        }
    }

    /// A problem with the whole file.
    pub fn file(message: impl Into<String>, detail_zh: impl Into<String>) -> Self {
        Self::new(None, None, message, detail_zh)
    }

    /// The Chinese message with its location, for web pages, e.g.
    /// `第4行"日期"列：无法识别的日期"2026-13-01"`.
    pub fn message_zh(&self) -> String {
        match (self.row, &self.column) {
            (Some(row), Some(column)) => format!("第{row}行\"{column}\"列：{}", self.detail_zh),
            (Some(row), None) => format!("第{row}行：{}", self.detail_zh),
            (None, Some(column)) => format!("\"{column}\"列：{}", self.detail_zh),
            (None, None) => self.detail_zh.clone(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.row, &self.column) {
            (Some(row), Some(column)) => write!(f, "row {row}, column {column}: {}", self.message),
            (Some(row), None) => write!(f, "row {row}: {}", self.message),
            (None, Some(column)) => write!(f, "column {column}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RowError {}

/// Collects the first [`MAX_ERRORS`] problems of a file; the rest are only noticed.
#[derive(Debug, Default)]
pub struct Errors {
    list: Vec<RowError>,
    truncated: bool,
}

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `error` if fewer than [`MAX_ERRORS`] are kept; false when it was dropped.
    pub fn push(&mut self, error: RowError) -> bool {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
            true
        } else {
            self.truncated = true;
            false
        }
    }

    /// Shorthand for [`Errors::push`] of [`RowError::new`].
    pub fn add(
        &mut self,
        row: Option<u64>,
        column: Option<&str>,
        message: impl Into<String>,
        detail_zh: impl Into<String>,
    ) -> bool {
        self.push(RowError::new(row, column, message, detail_zh))
    }

    /// Problems kept so far.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && !self.truncated
    }

    /// True once a problem has been dropped: reading further is pointless.
    pub fn full(&self) -> bool {
        self.truncated
    }

    /// The problems kept, and whether more were dropped.
    pub fn into_parts(self) -> (Vec<RowError>, bool) {
        (self.list, self.truncated)
    }

    /// The problems kept, followed by a row-less note when more were dropped.
    pub fn into_list(self) -> Vec<RowError> {
        let mut list = self.list;
        if self.truncated {
            list.push(too_many());
        }
        list
    }
}

/// The note that closes a list of errors cut at [`MAX_ERRORS`].
pub fn too_many() -> RowError {
    RowError::file(
        format!("more errors not shown; only the first {MAX_ERRORS} are listed"),
        format!("错误太多，只列出了前{MAX_ERRORS}条"),
    )
}

// ---------------------------------------------------------------------------
// Rows and columns
// ---------------------------------------------------------------------------

/// One CSV record and the row number a spreadsheet shows for it.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based row number, counting each CSV record (however many lines its
    /// quoted cells span) and each empty line as one row.
    pub row: u64,
    pub record: csv::StringRecord,
}

impl Row {
    /// The cell at `index`, trimmed; empty when the row is shorter.
    pub fn cell(&self, index: usize) -> &str {
        self.record.get(index).unwrap_or_default().trim()
    }

    /// True when every cell is empty or whitespace.
    pub fn is_blank(&self) -> bool {
        self.record.iter().all(|cell| cell.trim().is_empty())
    }
}

/// A decoded table: its header and the rows after it (blank rows included, for the reader
/// to skip), and the CSV syntax error that ended it early, if any.
#[derive(Debug)]
pub struct Table {
    pub header: Row,
    pub rows: Vec<Row>,
    /// A CSV syntax error after the header: the rows before it are read.
    pub read_error: Option<RowError>,
}

/// A column found in the header: its position and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub index: usize,
    /// The header text as written (trimmed).
    pub name: String,
}

impl Column {
    /// The column's letter, A, B, … as a spreadsheet shows it.
    pub fn letter(&self) -> String {
        column_letters(self.index)
    }
}

impl Table {
    /// Decodes `bytes` and reads them as a table.
    pub fn read(bytes: &[u8]) -> Result<Table, RowError> {
        let text = decode_text(bytes)?;
        Table::parse(&text)
    }

    /// Reads decoded text as a table. An error when there is no header: the file is empty,
    /// blank, or unreadable before its first row.
    pub fn parse(text: &str) -> Result<Table, RowError> {
        let (records, read_error) = read_numbered_records(text);
        let read_error = read_error.map(|(row, message)| unreadable(row, &message));
        let mut records = records.into_iter().skip_while(Row::is_blank);
        let Some(header) = records.next() else {
            return Err(
                read_error.unwrap_or_else(|| RowError::file("the file is empty", "文件是空的"))
            );
        };
        Ok(Table {
            header,
            rows: records.collect(),
            read_error,
        })
    }

    /// The header's cells, trimmed.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.header.record.iter().map(str::trim)
    }

    /// The one column whose header is one of `aliases` (trimmed, ASCII case ignored):
    /// `Ok(None)` when there is none, an error when there are two. `role_en`/`role_zh` name
    /// the column in the message.
    pub fn column(
        &self,
        aliases: &[&str],
        role_en: &str,
        role_zh: &str,
    ) -> Result<Option<Column>, RowError> {
        let matching: Vec<(usize, &str)> = self
            .headers()
            .enumerate()
            .filter(|(_, h)| aliases.iter().any(|a| h.eq_ignore_ascii_case(a)))
            .collect();
        match matching.as_slice() {
            [] => Ok(None),
            [(index, name)] => Ok(Some(Column {
                index: *index,
                name: name.to_string(),
            })),
            [(first, _), (second, _), ..] => {
                let (a, b) = (column_letters(*first), column_letters(*second));
                Err(RowError::new(
                    Some(self.header.row),
                    None,
                    format!("columns {a} and {b} are both {role_en} columns; keep only one"),
                    format!("{a}列和{b}列都是{role_zh}列，只能保留一列"),
                ))
            }
        }
    }

    /// Like [`Table::column`], but a missing column is an error too.
    pub fn require(
        &self,
        aliases: &[&str],
        role_en: &str,
        role_zh: &str,
    ) -> Result<Column, RowError> {
        self.column(aliases, role_en, role_zh)?.ok_or_else(|| {
            let quoted: Vec<String> = aliases.iter().map(|a| format!("\"{a}\"")).collect();
            let (first, others) = aliases.split_first().unwrap_or((&"", &[]));
            let zh = if others.is_empty() {
                format!("缺少\"{first}\"列")
            } else {
                format!("缺少\"{first}\"列（也可写作 {}）", others.join("、"))
            };
            RowError::new(
                Some(self.header.row),
                None,
                format!("missing the {role_en} column ({})", quoted.join(" or ")),
                zh,
            )
        })
    }
}

/// A CSV syntax error at `row`.
fn unreadable(row: u64, message: &str) -> RowError {
    RowError::new(
        Some(row),
        None,
        format!("cannot read the CSV: {message}"),
        "无法读取这一行，请检查引号是否成对",
    )
}

/// Reads all records of a CSV text (no header handling, any number of
/// fields per record).
///
/// The row number of a record is the number of line breaks before it that
/// are not inside a quoted field, plus one, which is what a spreadsheet
/// shows: a field spanning two lines is still one row, and an empty line
/// (which the CSV reader skips) still takes up a row. A file whose only
/// line breaks are lone carriage returns is read as if they were newlines.
///
/// On a CSV syntax error, returns the records read so far and the error's
/// row and message.
fn read_numbered_records(text: &str) -> (Vec<Row>, Option<(u64, String)>) {
    let text: Cow<'_, str> = if !text.contains('\n') && text.contains('\r') {
        Cow::Owned(text.replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    let bytes = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);

    let mut records = Vec::new();
    let mut counted_up_to = 0usize;
    let mut newlines_before = 0u64;
    let mut newlines_inside = 0u64;
    loop {
        let start = usize::try_from(reader.position().byte())
            .unwrap_or(bytes.len())
            .min(bytes.len());
        let mut record = csv::StringRecord::new();
        let more = reader.read_record(&mut record);
        // Skip the empty lines the reader skipped, so the row is that of the
        // record's first character.
        let skipped = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let content_start = start.saturating_add(skipped).min(bytes.len());
        if content_start > counted_up_to {
            newlines_before += count_newlines(bytes.get(counted_up_to..content_start));
            counted_up_to = content_start;
        }
        let row = (newlines_before + 1).saturating_sub(newlines_inside);
        match more {
            Ok(true) => {}
            Ok(false) => return (records, None),
            Err(e) => return (records, Some((row, e.to_string()))),
        }
        newlines_inside += record
            .iter()
            .map(|field| count_newlines(Some(field.as_bytes())))
            .sum::<u64>();
        records.push(Row { row, record });
    }
}

fn count_newlines(bytes: Option<&[u8]>) -> u64 {
    bytes
        .unwrap_or_default()
        .iter()
        .filter(|b| **b == b'\n')
        .fold(0u64, |n, _| n + 1)
}

/// Spreadsheet column letters for a 0-based column index: A, B, …, Z, AA, ….
pub fn column_letters(index: usize) -> String {
    let mut n = index as u128 + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// Quotes a cell value for an error message; long values are shortened.
pub fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    if value.chars().count() > MAX_CHARS {
        let short: String = value.chars().take(MAX_CHARS).collect();
        format!("\"{short}…\"")
    } else {
        format!("\"{value}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_with_bom(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    fn utf16be_with_bom(text: &str) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_be_bytes());
        }
        out
    }

    fn gb18030(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn decodes_all_supported_encodings() {
        let text = "village,负面清单\n清水村,③\n";
        assert_eq!(decode_text(text.as_bytes()).as_deref(), Ok(text));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(&bom).as_deref(), Ok(text));
        let gb = gb18030(text);
        assert!(std::str::from_utf8(&gb).is_err());
        assert_eq!(decode_text(&gb).as_deref(), Ok(text));
        assert_eq!(decode_text(&utf16le_with_bom(text)).as_deref(), Ok(text));
        assert_eq!(decode_text(&utf16be_with_bom(text)).as_deref(), Ok(text));
        assert_eq!(decode_text(b"").as_deref(), Ok(""));
    }

    #[test]
    fn rejects_binary() {
        assert_eq!(decode_text(b"\xFF\xFF\xFF\x80"), Err(DecodeError));
        assert_eq!(decode_text(b"a\0b\0"), Err(DecodeError));
        // An unpaired UTF-16 surrogate.
        assert_eq!(decode_text(&[0xFF, 0xFE, 0x00, 0xD8]), Err(DecodeError));
        assert!(!DecodeError.message_zh().is_empty());
    }

    fn rows_of(text: &str) -> Vec<(u64, Vec<String>)> {
        let (records, error) = read_numbered_records(text);
        assert_eq!(error, None);
        records
            .into_iter()
            .map(|r| (r.row, r.record.iter().map(str::to_string).collect()))
            .collect()
    }

    #[test]
    fn row_numbers_count_records_and_empty_lines() {
        let rows = rows_of("h\n\"a\nb\",x\nc\n\nd\n");
        let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(numbers, vec![1, 2, 3, 5]);
        assert_eq!(rows[1].1, vec!["a\nb", "x"]);

        // CRLF, with a CRLF inside a quoted field and two empty lines.
        let rows = rows_of("h\r\n\"a\r\nb\r\nc\"\r\n\r\n\r\nd\r\ne");
        let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(numbers, vec![1, 2, 5, 6]);

        // Classic Mac line ends.
        let rows = rows_of("h\r\ra\rb");
        let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(numbers, vec![1, 3, 4]);

        // Leading empty lines.
        let rows = rows_of("\n\nh\n");
        assert_eq!(rows[0].0, 3);
        assert!(rows_of("").is_empty());
    }

    #[test]
    fn column_letters_match_spreadsheets() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert!(!column_letters(usize::MAX).is_empty());
    }
}
