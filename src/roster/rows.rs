//! From raw rows to the roster frame: finding the header row, choosing the columns to read,
//! classifying each data row (accepted, duplicate, invalid, or a totals row skipped), and
//! the receipt with its fingerprint.
//!
//! Only the phone, name, service and date columns are ever read; every other column (an ID
//! card number column above all) is listed by its header in the receipt and never copied
//! (PIPL: collect only what is needed).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::roster::phone::{CellKind, Phone, PhoneError};
use crate::roster::{
    ColumnsUsed, DuplicateRow, Limits, MAX_COLUMNS, MAX_ERRORS, MAX_TEXT_CHARS, Receipt,
    RosterError, Row, RowError, SkippedRow, Stopped,
};

/// The header row must be among this many non-empty rows at the top (title rows above it).
pub const HEADER_SEARCH_ROWS: usize = 20;

/// Header names recognised for each column, after [`normalise_header`]. When a file has
/// several columns of one kind, the phone column is the leftmost; for the other kinds the
/// header earliest in its list wins (姓名 over 户主 when a household's head and the person
/// served are both listed), and the others are dropped.
pub const PHONE_HEADERS: &[&str] = &[
    "电话",
    "手机",
    "手机号",
    "手机号码",
    "联系电话",
    "联系方式",
    "phone",
    "mobile",
    "tel",
];
pub const NAME_HEADERS: &[&str] = &["姓名", "户主姓名", "户主", "联系人", "name"];
pub const SERVICE_HEADERS: &[&str] = &["服务事项", "办理事项", "事项", "service"];
pub const DATE_HEADERS: &[&str] = &["服务日期", "办理日期", "日期", "办理时间", "date"];

/// Words that label a totals row (合计 30 户) rather than a person; see [`totals_label`].
pub const TOTALS_WORDS: &[&str] = &["合计", "总计", "小计", "共计", "total", "subtotal"];

/// One cell as a decoder hands it over.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Float(f64),
    Int(i64),
    Bool(bool),
    /// A date-formatted spreadsheet cell.
    Date {
        year: u16,
        month: u8,
        day: u8,
    },
    /// A date (or date-time) the spreadsheet stored as ISO 8601 text.
    DateIso(&'a str),
    /// An Excel error value such as `#N/A`.
    Error(String),
}

/// A raw row from a decoder: CSV record or spreadsheet row.
pub trait RawRow {
    /// Number of cells (rows may be ragged).
    fn width(&self) -> usize;
    /// Spreadsheet column index (0 = A) of cell 0.
    fn first_column(&self) -> usize;
    /// The cell at `i` (`Cell::Empty` past the end).
    fn cell(&self, i: usize) -> Result<Cell<'_>, RosterError>;
    /// True when cell `i` is empty or only whitespace (cheaper than [`RawRow::cell`]).
    fn is_blank(&self, i: usize) -> bool;
    /// Indexes of the cells that are not blank, in order. A row that knows where its cells
    /// are (a spreadsheet row of two cells, one at XFD) answers without visiting every column.
    fn non_blank(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        Box::new((0..self.width()).filter(|&i| !self.is_blank(i)))
    }
}

/// Normalises a header cell before matching: trims, removes all whitespace, lowercases
/// ASCII, strips leading/trailing '*', a trailing ':' or '：' and a trailing "(…)"/"（…）".
pub fn normalise_header(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    loop {
        let before = s.len();
        let t = s.trim_matches('*');
        let t = t.strip_suffix([':', '：']).unwrap_or(t);
        let t = strip_note(t);
        s = t.to_owned();
        if s.len() == before {
            return s;
        }
    }
}

/// Strips a trailing parenthesised note: "联系电话(必填)" → "联系电话".
fn strip_note(s: &str) -> &str {
    if !s.ends_with([')', '）']) {
        return s;
    }
    match s.rfind(['(', '（']) {
        Some(open) if open > 0 => &s[..open],
        _ => s,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Phone,
    Name,
    Service,
    Date,
}

/// The kind of a header and its rank in that kind's list (0 = preferred).
fn header_match(normalised: &str) -> Option<(Kind, usize)> {
    [
        (Kind::Phone, PHONE_HEADERS),
        (Kind::Name, NAME_HEADERS),
        (Kind::Service, SERVICE_HEADERS),
        (Kind::Date, DATE_HEADERS),
    ]
    .into_iter()
    .find_map(|(kind, list)| {
        list.iter()
            .position(|h| *h == normalised)
            .map(|rank| (kind, rank))
    })
}

/// Where a text column's kind is kept in `find_columns`' choice.
fn text_slot(kind: Kind) -> usize {
    match kind {
        // The phone column is chosen apart (the leftmost); it never reaches this.
        Kind::Phone | Kind::Name => 0,
        Kind::Service => 1,
        Kind::Date => 2,
    }
}

/// The totals word a cell's text begins with, if it labels a totals row: "合计",
/// "合  计：", "小计(3户)" and "Total: 25" do; "总计划生育" does not (a letter follows the word).
pub fn totals_label(text: &str) -> Option<&'static str> {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    TOTALS_WORDS.iter().copied().find(|word| {
        squeezed
            .strip_prefix(word)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphabetic()))
    })
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
pub fn column_letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// What is watched in each column of a data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Read (a used column) or already listed by its header.
    Known,
    /// No header: listed as "column F" once data shows up in it.
    Unnamed,
    /// No header, data seen, listed.
    Seen,
}

struct Columns {
    phone: usize,
    name: Option<usize>,
    service: Option<usize>,
    date: Option<usize>,
    used: ColumnsUsed,
    /// (spreadsheet column, header text) of named columns not read.
    dropped: Vec<(usize, String)>,
    watch: Vec<Watch>,
    first_column: usize,
}

/// The roster being built from rows, in file order.
pub struct Frame<'a> {
    limits: Limits,
    on_row: &'a mut dyn FnMut(Row) -> Result<(), Stopped>,
    rows_before_header: usize,
    columns: Option<Columns>,
    header_row: u64,
    /// Each accepted phone with the row it was accepted from.
    seen: HashMap<Phone, u64>,
    rows_read: u64,
    accepted: u64,
    invalid: u64,
    duplicates: u64,
    errors: Vec<RowError>,
    errors_omitted: u64,
    duplicate_rows: Vec<DuplicateRow>,
    skipped: u64,
    skipped_rows: Vec<SkippedRow>,
}

impl<'a> Frame<'a> {
    pub fn new(limits: &Limits, on_row: &'a mut dyn FnMut(Row) -> Result<(), Stopped>) -> Self {
        Frame {
            limits: *limits,
            on_row,
            rows_before_header: 0,
            columns: None,
            header_row: 0,
            seen: HashMap::new(),
            rows_read: 0,
            accepted: 0,
            invalid: 0,
            duplicates: 0,
            errors: Vec::new(),
            errors_omitted: 0,
            duplicate_rows: Vec::new(),
            skipped: 0,
            skipped_rows: Vec::new(),
        }
    }

    /// Takes the next raw row; `row` is its number as Excel shows it.
    pub fn feed<R: RawRow>(&mut self, row: u64, raw: &R) -> Result<(), RosterError> {
        if raw.first_column().saturating_add(raw.width()) > MAX_COLUMNS {
            return Err(RosterError::TooManyColumns { row });
        }
        if raw.non_blank().next().is_none() {
            return Ok(());
        }
        if self.columns.is_some() {
            return self.data_row(row, raw);
        }
        self.rows_before_header += 1;
        if self.rows_before_header > HEADER_SEARCH_ROWS {
            return Err(no_phone_column());
        }
        self.columns = find_columns(raw)?;
        if self.columns.is_some() {
            self.header_row = row;
        }
        Ok(())
    }

    fn data_row<R: RawRow>(&mut self, row: u64, raw: &R) -> Result<(), RosterError> {
        let Some(cols) = self.columns.as_mut() else {
            return Ok(());
        };
        // Totals rows count against the limit too, so no file is read without end.
        if self.rows_read + self.skipped >= self.limits.max_rows {
            return Err(RosterError::TooManyRows {
                limit: self.limits.max_rows,
            });
        }
        note_unnamed_data(cols, raw);
        let phone = phone_of(&raw.cell(cols.phone)?);
        // A row labelled 合计 is skipped only when it has no usable phone: a label typed
        // beside a real number must never cost a recipient their place in the frame.
        if phone.is_err()
            && let Some(label) = totals_row_label(raw, cols)?
        {
            self.skipped += 1;
            if self.skipped_rows.len() < MAX_ERRORS {
                self.skipped_rows.push(SkippedRow::totals(row, &label));
            }
            return Ok(());
        }
        self.rows_read += 1;
        match phone {
            Ok(phone) => match self.seen.entry(phone) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(row);
                    self.accepted += 1;
                    let accepted = Row {
                        row,
                        phone,
                        name: text_of(raw, cols.name)?,
                        service: text_of(raw, cols.service)?,
                        service_date: text_of(raw, cols.date)?,
                    };
                    (self.on_row)(accepted)?;
                }
                std::collections::hash_map::Entry::Occupied(first) => {
                    self.duplicates += 1;
                    if self.duplicate_rows.len() < MAX_ERRORS {
                        self.duplicate_rows.push(DuplicateRow {
                            row,
                            first_row: *first.get(),
                            phone: phone.masked(),
                        });
                    }
                }
            },
            Err(e) => {
                self.invalid += 1;
                if self.errors.len() < MAX_ERRORS {
                    self.errors.push(RowError {
                        row,
                        column: cols.used.phone.clone(),
                        reason: e.to_string(),
                        reason_zh: e.zh(),
                    });
                } else {
                    self.errors_omitted += 1;
                }
            }
        }
        Ok(())
    }

    /// Ends the roster: the receipt, with the fingerprint of the unique phones.
    pub fn finish(self, format: &str) -> Result<Receipt, RosterError> {
        let Some(cols) = self.columns else {
            return Err(if self.rows_before_header == 0 {
                RosterError::Empty
            } else {
                no_phone_column()
            });
        };
        let mut phones: Vec<Phone> = self.seen.into_keys().collect();
        phones.sort_unstable();
        let mut dropped = cols.dropped;
        for (i, w) in cols.watch.iter().enumerate() {
            if *w == Watch::Seen {
                let col = cols.first_column + i;
                dropped.push((col, format!("column {}", column_letters(col))));
            }
        }
        dropped.sort_by_key(|(col, _)| *col);
        Ok(Receipt {
            rows_read: self.rows_read,
            accepted: self.accepted,
            invalid: self.invalid,
            duplicates: self.duplicates,
            fingerprint: fingerprint(&phones),
            errors: self.errors,
            errors_omitted: self.errors_omitted,
            dropped_columns: dropped.into_iter().map(|(_, h)| h).collect(),
            format: format.to_owned(),
            header_row: self.header_row,
            columns: cols.used,
            duplicates_omitted: self.duplicates - self.duplicate_rows.len() as u64,
            duplicate_rows: self.duplicate_rows,
            skipped: self.skipped,
            skipped_rows: self.skipped_rows,
        })
    }
}

fn no_phone_column() -> RosterError {
    RosterError::NoPhoneColumn {
        looked_for: PHONE_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Lowercase hex SHA-256 of the phones (already sorted, unique), each followed by "\n".
pub fn fingerprint(sorted_unique: &[Phone]) -> String {
    let mut hasher = Sha256::new();
    for p in sorted_unique {
        hasher.update(p.as_str().as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// Reads a candidate header row; `None` when it has no phone header.
fn find_columns<R: RawRow>(raw: &R) -> Result<Option<Columns>, RosterError> {
    let mut headers = Vec::with_capacity(raw.width());
    let mut phone = None;
    // For name, service and date: (column, rank) of the preferred header seen so far.
    let mut best: [Option<(usize, usize)>; 3] = [None; 3];
    for i in 0..raw.width() {
        let text = header_text(&raw.cell(i)?);
        let found = header_match(&normalise_header(&text));
        match found {
            Some((Kind::Phone, _)) if phone.is_none() => phone = Some(i),
            Some((kind @ (Kind::Name | Kind::Service | Kind::Date), rank)) => {
                let slot = &mut best[text_slot(kind)];
                if slot.is_none_or(|(_, r)| rank < r) {
                    *slot = Some((i, rank));
                }
            }
            _ => {}
        }
        headers.push((text, found.map(|(kind, _)| kind)));
    }
    let Some(phone) = phone else {
        return Ok(None);
    };
    let chosen = |kind: Kind| best[text_slot(kind)].map(|(i, _)| i);
    let (name, service, date) = (
        chosen(Kind::Name),
        chosen(Kind::Service),
        chosen(Kind::Date),
    );
    let first_column = raw.first_column();
    let mut cols = Columns {
        phone,
        name,
        service,
        date,
        used: ColumnsUsed::default(),
        dropped: Vec::new(),
        watch: Vec::with_capacity(headers.len()),
        first_column,
    };
    for (i, (text, kind)) in headers.into_iter().enumerate() {
        let used = match kind {
            Some(Kind::Phone) if i == phone => Some(&mut cols.used.phone),
            Some(Kind::Name) if name == Some(i) => Some(&mut cols.used.name),
            Some(Kind::Service) if service == Some(i) => Some(&mut cols.used.service),
            Some(Kind::Date) if date == Some(i) => Some(&mut cols.used.date),
            _ => None,
        };
        match used {
            Some(used) => {
                *used = Some(text);
                cols.watch.push(Watch::Known);
            }
            None if text.is_empty() => cols.watch.push(Watch::Unnamed),
            None => {
                cols.dropped.push((first_column + i, text));
                cols.watch.push(Watch::Known);
            }
        }
    }
    Ok(Some(cols))
}

/// The totals word labelling a data row, looked for in the row's first non-empty cell and
/// in its name column: where people write 合计 in a roster.
fn totals_row_label<R: RawRow>(raw: &R, cols: &Columns) -> Result<Option<String>, RosterError> {
    let first = raw.non_blank().next();
    for i in first.into_iter().chain(cols.name) {
        if let Cell::Text(text) = raw.cell(i)?
            && let Some(word) = totals_label(text)
        {
            return Ok(Some(word.to_owned()));
        }
    }
    Ok(None)
}

/// Lists a column without a header once data shows up in it (only its letter, never data).
fn note_unnamed_data<R: RawRow>(cols: &mut Columns, raw: &R) {
    let width = raw.width();
    if cols.watch.len() < width {
        cols.watch.resize(width, Watch::Unnamed);
    }
    for i in raw.non_blank() {
        if let Some(w) = cols.watch.get_mut(i).filter(|w| **w == Watch::Unnamed) {
            *w = Watch::Seen;
        }
    }
}

/// Header cells are shown trimmed, as they appeared.
fn header_text(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Text(s) => s.trim().trim_start_matches('\u{feff}').trim().to_owned(),
        other => display_text(other).unwrap_or_default(),
    }
}

fn phone_of(cell: &Cell<'_>) -> Result<Phone, PhoneError> {
    match cell {
        Cell::Empty => Err(PhoneError::Empty),
        Cell::Text(s) => Phone::parse(s),
        Cell::Float(f) => Phone::from_xlsx_number(*f),
        Cell::Int(i) => Phone::from_xlsx_integer(*i),
        Cell::Bool(_) => Err(PhoneError::WrongCellType {
            kind: CellKind::Boolean,
        }),
        Cell::Date { .. } | Cell::DateIso(_) => Err(PhoneError::WrongCellType {
            kind: CellKind::Date,
        }),
        Cell::Error(e) => Err(PhoneError::WrongCellType {
            kind: CellKind::Error(e.clone()),
        }),
    }
}

fn text_of<R: RawRow>(raw: &R, column: Option<usize>) -> Result<Option<String>, RosterError> {
    match column {
        Some(i) => Ok(display_text(&raw.cell(i)?)),
        None => Ok(None),
    }
}

/// A kept text cell: trimmed, at most [`MAX_TEXT_CHARS`] characters, dates as YYYY-MM-DD,
/// whole numbers without ".0"; `None` when empty.
fn display_text(cell: &Cell<'_>) -> Option<String> {
    let s = match cell {
        Cell::Empty | Cell::Error(_) => return None,
        Cell::Text(s) => return keep(s),
        Cell::Float(f) => format_number(*f),
        Cell::Int(i) => i.to_string(),
        Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Cell::Date { year, month, day } => format!("{year:04}-{month:02}-{day:02}"),
        Cell::DateIso(s) => {
            let s = s.trim();
            return keep(s.split_once('T').map_or(s, |(date, _)| date));
        }
    };
    keep(&s)
}

fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn keep(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.len() <= MAX_TEXT_CHARS {
        return Some(s.to_owned());
    }
    let end = s
        .char_indices()
        .nth(MAX_TEXT_CHARS)
        .map_or(s.len(), |(at, _)| at);
    Some(s[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_cells_are_normalised_before_matching() {
        let table = [
            ("联系电话", "联系电话"),
            (" 联 系\u{3000}电话 ", "联系电话"),
            ("*手机号码*", "手机号码"),
            ("手机号码：", "手机号码"),
            ("Phone:", "phone"),
            ("联系电话（必填）", "联系电话"),
            ("联系电话(必填)*", "联系电话"),
            ("*TEL（手机或座机）：", "tel"),
            ("\u{feff}姓名", "姓名"),
            ("（备注）", "（备注）"),
        ];
        for (raw, want) in table {
            assert_eq!(normalise_header(raw), want, "header {raw:?}");
        }
    }

    #[test]
    fn recognised_headers_map_to_their_column_kind() {
        let table = [
            ("电话", Some(Kind::Phone)),
            ("手机", Some(Kind::Phone)),
            ("MOBILE", Some(Kind::Phone)),
            ("联系方式", Some(Kind::Phone)),
            ("Name", Some(Kind::Name)),
            ("户主姓名", Some(Kind::Name)),
            ("户 主", Some(Kind::Name)),
            ("联系人：", Some(Kind::Name)),
            ("事项", Some(Kind::Service)),
            ("服务日期", Some(Kind::Date)),
            ("办理日期", Some(Kind::Date)),
            ("办理时间（年月日）", Some(Kind::Date)),
            ("日期", Some(Kind::Date)),
            ("身份证号", None),
            ("电话号码备注", None),
            ("户主身份证号", None),
        ];
        for (raw, want) in table {
            let got = header_match(&normalise_header(raw)).map(|(kind, _)| kind);
            assert_eq!(got, want, "header {raw:?}");
        }
    }

    #[test]
    fn totals_labels_are_told_from_names_and_services() {
        let table = [
            ("合计", Some("合计")),
            ("合  计", Some("合计")),
            ("\u{3000}总计：", Some("总计")),
            ("小计(3户)", Some("小计")),
            ("共计 25 户", Some("共计")),
            ("合计25", Some("合计")),
            ("Total: 25", Some("total")),
            ("SUBTOTAL", Some("subtotal")),
            ("总计划生育", None),
            ("合计划", None),
            ("totally", None),
            ("张合计", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(totals_label(text), want, "cell {text:?}");
        }
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        let table = [
            (0, "A"),
            (5, "F"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ];
        for (i, want) in table {
            assert_eq!(column_letters(i), want, "column {i}");
        }
    }

    #[test]
    fn kept_text_is_trimmed_and_cut_to_a_hundred_characters() {
        let long = "服".repeat(150);
        let table: [(Cell<'_>, Option<String>); 8] = [
            (Cell::Text("  张三 "), Some("张三".into())),
            (Cell::Text(" \u{3000} "), None),
            (Cell::Text(&long), Some("服".repeat(100))),
            (Cell::Float(42.0), Some("42".into())),
            (Cell::Float(2.5), Some("2.5".into())),
            (Cell::Int(7), Some("7".into())),
            (
                Cell::Date {
                    year: 2026,
                    month: 3,
                    day: 5,
                },
                Some("2026-03-05".into()),
            ),
            (
                Cell::DateIso("2026-03-05T00:00:00"),
                Some("2026-03-05".into()),
            ),
        ];
        for (cell, want) in table {
            assert_eq!(display_text(&cell), want, "cell {cell:?}");
        }
    }

    #[test]
    fn the_fingerprint_of_the_reference_roster_never_changes() {
        let raw = [
            "13800000001",
            "13800000002",
            "13900000003",
            "15000000004",
            "18600000005",
            "07391234567",
            "13700000007",
            "13600000008",
            "15900000009",
            "18800000010",
        ];
        let mut phones: Vec<Phone> = raw.iter().filter_map(|s| Phone::parse(s).ok()).collect();
        assert_eq!(phones.len(), raw.len());
        phones.sort();
        assert_eq!(
            fingerprint(&phones),
            "8440fd84c096f704c591f0f74c9c36d94cd6908fa87d49de9713c3de1a910e4b"
        );
    }

    #[test]
    fn the_fingerprint_of_an_empty_roster_is_the_hash_of_nothing() {
        assert_eq!(
            fingerprint(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
