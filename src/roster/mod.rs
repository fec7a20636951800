//! Rosters: a village's list of this year's service recipients (服务对象名单), decoded from
//! .xlsx/.xls or CSV (UTF-8 with or without BOM, GBK/GB18030, Excel "Unicode text") into
//! normalised rows plus a [`Receipt`].
//!
//! The flow, one module per step:
//! - [`decode`] tells the format by content (never by file name), decodes text to UTF-8 and
//!   yields raw rows with their row numbers as Excel shows them; [`xlsx`] and [`xls`] check
//!   a workbook's size before calamine opens it (zip bombs, sheets spanning billions of
//!   cells), with what they share (cells, rows, guarded calamine calls) in [`sheet`];
//! - [`rows`] finds the header row, picks the phone/name/service/date columns, drops every
//!   other column unread (ID card numbers above all), classifies each row as accepted,
//!   duplicate or invalid (a totals row, 合计, is skipped with a note), and fingerprints the
//!   frame;
//! - [`phone`] owns the [`Phone`] type and its normalisation rules.
//!
//! Everything streams: a 1,000,000-row CSV is never held in memory, and accepted rows are
//! handed to `on_row` as they are read, so the caller can insert them in batches meanwhile.
//!
//! The fingerprint is the lowercase hex SHA-256 of the sorted unique phones, each followed
//! by `"\n"` (sorted by byte order of the digit strings). The draw is verified against it,
//! so it must never change.

use std::io::{Read, Seek};

use serde::{Deserialize, Serialize};

pub mod decode;
pub mod phone;
pub mod rows;
pub mod sheet;
pub mod xls;
pub mod xlsx;

pub use phone::{CellKind, Phone, PhoneError};

/// How much a single upload may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most data rows (non-empty rows after the header) accepted in one file.
    pub max_rows: u64,
}

impl Default for Limits {
    /// [`crate::limits::MAX_ROWS`], the server's and the command line's default.
    fn default() -> Self {
        Limits {
            max_rows: crate::limits::MAX_ROWS,
        }
    }
}

/// Most columns a row may reach: Excel's own limit (column XFD).
pub const MAX_COLUMNS: usize = 16_384;

/// Most row errors kept in a receipt; the rest are only counted (`errors_omitted`).
pub use crate::limits::MAX_ERRORS;

/// Most characters kept of a name, service or date cell.
pub const MAX_TEXT_CHARS: usize = 100;

/// One accepted row: a valid phone new to this roster, with the kept text columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Row number as Excel shows it (the file's first line or row is 1).
    pub row: u64,
    pub phone: Phone,
    pub name: Option<String>,
    pub service: Option<String>,
    pub service_date: Option<String>,
}

/// The header text (trimmed, as it appeared) of each column read.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ColumnsUsed {
    pub phone: Option<String>,
    pub name: Option<String>,
    pub service: Option<String>,
    pub date: Option<String>,
}

/// What an upload contained; shown to the village operator and stored with the roster.
///
/// Fields added after the first release carry `#[serde(default)]`: receipts stored before
/// them still load (with nothing listed).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Receipt {
    /// Non-empty data rows: `accepted + invalid + duplicates` (totals rows not included).
    pub rows_read: u64,
    pub accepted: u64,
    pub invalid: u64,
    /// Rows whose phone was already accepted from an earlier row (the first one wins).
    pub duplicates: u64,
    /// Lowercase hex SHA-256 of the sorted unique phones, each followed by "\n".
    pub fingerprint: String,
    /// The first [`MAX_ERRORS`] invalid rows, in file order.
    pub errors: Vec<RowError>,
    /// Invalid rows beyond those listed in `errors`.
    pub errors_omitted: u64,
    /// Header text of every column not read (or "column F" for one without a header).
    pub dropped_columns: Vec<String>,
    /// "xlsx" | "xls" | "csv-utf8" | "csv-utf8-bom" | "csv-gb18030" | "csv-utf16"
    pub format: String,
    /// Row number of the header row, as Excel shows it.
    pub header_row: u64,
    pub columns: ColumnsUsed,
    /// The first [`MAX_ERRORS`] duplicate rows, in file order, each with the row it repeats.
    #[serde(default)]
    pub duplicate_rows: Vec<DuplicateRow>,
    /// Duplicate rows beyond those listed in `duplicate_rows`.
    #[serde(default)]
    pub duplicates_omitted: u64,
    /// Totals rows (合计/总计/小计/共计, with no usable phone) skipped: not people, so neither
    /// read nor invalid.
    #[serde(default)]
    pub skipped: u64,
    /// The first [`MAX_ERRORS`] skipped rows, in file order.
    #[serde(default)]
    pub skipped_rows: Vec<SkippedRow>,
}

/// A row whose phone was accepted from an earlier row.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DuplicateRow {
    /// Row number as Excel shows it.
    pub row: u64,
    /// The earlier row the phone was accepted from.
    pub first_row: u64,
    /// The phone, masked (138****8000): the row numbers find it in the file.
    pub phone: String,
}

/// A row left out without being an error.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SkippedRow {
    /// Row number as Excel shows it.
    pub row: u64,
    /// Precise English, for logs.
    pub reason: String,
    /// Chinese, for the village operator's page.
    pub reason_zh: String,
}

impl SkippedRow {
    /// A totals row, labelled by `word` (合计 …).
    pub fn totals(row: u64, word: &str) -> SkippedRow {
        SkippedRow {
            row,
            reason: format!("a totals row (\"{word}\"), not a person: skipped"),
            reason_zh: format!("“{word}”行是统计行，不是服务对象，已跳过"),
        }
    }
}

/// Why one row was not accepted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RowError {
    /// Row number as Excel shows it.
    pub row: u64,
    /// Header text of the offending column.
    pub column: Option<String>,
    /// Precise English, for logs.
    pub reason: String,
    /// Chinese, for the village operator's page.
    pub reason_zh: String,
}

/// Returned by `on_row` when whoever consumes the rows has gone away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the consumer of roster rows stopped")]
pub struct Stopped;

/// Errors about the whole file: nothing from it may be used.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("the file is empty")]
    Empty,
    #[error("not a text, CSV or Excel file")]
    NotText,
    #[error("the spreadsheet cannot be read: {0}")]
    BrokenSpreadsheet(String),
    #[error("the workbook has no worksheet")]
    NoSheet,
    #[error("no phone column: looked for a header named {} in the first 20 non-empty rows", looked_for.join(", "))]
    NoPhoneColumn { looked_for: Vec<String> },
    #[error("not valid UTF-8 or GB18030 text (mixed encodings?) near row {row}")]
    Encoding { row: u64 },
    #[error("more than {limit} data rows (limit)")]
    TooManyRows { limit: u64 },
    #[error(
        "row {row} reaches past column {} (XFD, Excel's last column)",
        MAX_COLUMNS
    )]
    TooManyColumns { row: u64 },
    #[error("the spreadsheet unpacks to more than {} MiB: it is damaged or not a roster", limit / (1024 * 1024))]
    Unpacked { limit: u64 },
    #[error(
        "row {row}: a quotation mark (\") opens a cell that never closes, so the rest of the file would be one cell; close or remove the quote"
    )]
    UnclosedQuote { row: u64 },
    #[error("reading the file failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("stopped: the consumer of roster rows went away")]
    Stopped,
}

impl From<Stopped> for RosterError {
    fn from(_: Stopped) -> Self {
        RosterError::Stopped
    }
}

impl RosterError {
    /// A spreadsheet library's complaint, kept short and with long numbers masked as phones
    /// are: it may quote the file (an ID card number in a tag name), and it goes to logs.
    pub fn broken(detail: impl std::fmt::Display) -> RosterError {
        const MAX_CHARS: usize = 200;
        let detail = detail.to_string();
        let mut shown: String = detail.chars().take(MAX_CHARS).collect();
        if shown.len() < detail.len() {
            shown.push('…');
        }
        RosterError::BrokenSpreadsheet(crate::domain::mask_digit_runs(&shown))
    }

    /// The error in Chinese, for the village operator's page.
    pub fn zh(&self) -> String {
        match self {
            RosterError::Empty => "文件是空的".to_owned(),
            RosterError::NotText => {
                "这不是文本、CSV 或 Excel 文件，请上传 .xlsx、.xls 或 .csv 格式的名单".to_owned()
            }
            RosterError::BrokenSpreadsheet(_) => {
                "Excel 文件已损坏或无法读取：请用 Excel/WPS 打开后另存为 .xlsx 再上传".to_owned()
            }
            RosterError::NoSheet => "Excel 文件中没有工作表".to_owned(),
            RosterError::NoPhoneColumn { looked_for } => format!(
                "找不到电话列：请在表头写明电话列的列名（可识别的列名：{}）",
                looked_for.join("、")
            ),
            RosterError::Encoding { row } => format!(
                "第 {row} 行附近的文字编码无法识别（既不是 UTF-8 也不是 GBK/GB18030，可能混用了编码）：请用 Excel/WPS 另存为 .xlsx 后再上传"
            ),
            RosterError::TooManyRows { limit } => {
                format!("名单超过 {limit} 行数据的上限")
            }
            RosterError::TooManyColumns { row } => format!(
                "第 {row} 行超过了 Excel 的最后一列（XFD，第 {MAX_COLUMNS} 列）：请检查该行是否多了分隔符"
            ),
            RosterError::Unpacked { limit } => format!(
                "Excel 文件解压后超过 {} MB，可能已损坏或不是名单：请用 Excel/WPS 打开后另存为 .xlsx 再上传",
                limit / (1024 * 1024)
            ),
            RosterError::UnclosedQuote { row } => format!(
                "第 {row} 行有一个没有配对的英文双引号（\"），其后的内容会被当成同一个单元格：请补全或删去这个引号后再上传"
            ),
            RosterError::Io(_) => "读取文件时出错，请重新上传".to_owned(),
            RosterError::Stopped => "上传已中断，请重新上传".to_owned(),
        }
    }
}

/// Makes a panic inside calamine, which the roster readers catch and report as a broken
/// spreadsheet, one warning in the log instead of a panic message with a backtrace on
/// stderr. Every other panic is reported as before. Called once by the binary at start.
pub fn log_spreadsheet_panics_briefly() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        match info.location().filter(|l| l.file().contains("/calamine-")) {
            Some(at) => tracing::warn!(
                "the spreadsheet reader panicked at {at} on an uploaded file (refused as broken)"
            ),
            None => default(info),
        }
    }));
}

/// Decodes a roster, calling `on_row` for every accepted row in file order.
///
/// The format is told by content: an .xlsx (zip) or .xls (OLE) signature, else text in
/// UTF-8 (BOM or not), UTF-16 (BOM) or GB18030. Rows are numbered as Excel shows them.
pub fn read_roster<R: Read + Seek>(
    input: R,
    limits: &Limits,
    on_row: &mut dyn FnMut(Row) -> Result<(), Stopped>,
) -> Result<Receipt, RosterError> {
    let mut frame = rows::Frame::new(limits, on_row);
    let format = decode::read_rows(input, &mut frame)?;
    frame.finish(format)
}

/// Decodes a roster only for its receipt (rows are discarded).
pub fn check_roster<R: Read + Seek>(input: R, limits: &Limits) -> Result<Receipt, RosterError> {
    read_roster(input, limits, &mut |_| Ok(()))
}

/// A frozen roster as the CSV `minyi verify` reads from its rosters folder (`<code>.csv`):
/// a header `电话`, then one phone a line, in the order given, UTF-8 without a BOM. The
/// archive, the surveyor's per-village download and `minyi rosters export` all write it here,
/// so the three files are the same bytes.
pub fn frozen_csv<I>(phones: I) -> Vec<u8>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut text = String::from("电话\n");
    for p in phones {
        text.push_str(p.as_ref());
        text.push('\n');
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_roster_reads_back_with_the_same_fingerprint() {
        let phones = ["13800138000", "13900139000", "15000150000"];
        let bytes = frozen_csv(phones);
        assert_eq!(
            bytes,
            "电话\n13800138000\n13900139000\n15000150000\n".as_bytes()
        );
        let limits = Limits { max_rows: 10 };
        let receipt = match check_roster(std::io::Cursor::new(bytes), &limits) {
            Ok(r) => r,
            Err(e) => panic!("a frozen roster does not read back: {e}"),
        };
        assert_eq!(receipt.accepted, 3);
        assert_eq!(receipt.fingerprint, crate::sampling::fingerprint(&phones));
    }

    #[test]
    fn a_receipt_stored_before_the_row_lists_existed_still_loads() {
        let stored = r#"{"rows_read":3,"accepted":2,"invalid":0,"duplicates":1,
            "fingerprint":"ab","errors":[],"errors_omitted":0,"dropped_columns":[],
            "format":"csv-utf8","header_row":1,
            "columns":{"phone":"电话","name":null,"service":null,"date":null}}"#;
        let receipt: Receipt = match serde_json::from_str(stored) {
            Ok(r) => r,
            Err(e) => panic!("an old receipt no longer loads: {e}"),
        };
        assert_eq!(receipt.duplicates, 1);
        assert!(receipt.duplicate_rows.is_empty());
        assert_eq!((receipt.duplicates_omitted, receipt.skipped), (0, 0));
        assert!(receipt.skipped_rows.is_empty());
    }
}
