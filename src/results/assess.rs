//! The "clean village" (廉洁村（社区）) assessment rule, and the offline CSV check
//! built on it.
//!
//! Every assessment item is graded one of 好 / 较好 / 一般 / 差 (best first).
//! A village earns the title only if
//!
//! 1. every item is graded 较好 or better,
//! 2. the items graded 好 are at least 80% of all items, tested with exact
//!    integers as `good * 100 >= 80 * total` (13/16 passes, 12/16 fails,
//!    12/15 passes), and
//! 3. none of the negative-list situations ①–⑧ occurred.
//!
//! [`verdict`] applies the rule to one village. [`assess_csv`] reads a whole
//! table of villages (one row per village: `village`, `item1` … `itemK`,
//! `negative`) and [`write_assessment`] writes the results back out as CSV.
//!
//! This module is pure: it only reads the bytes it is given and writes to the
//! writer it is given; the table is read by [`crate::csv_table`].

use crate::csv_table::{Errors, Row, RowError, Table, column_letters, quote};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The share of items that must be graded 好, in percent.
pub const GOOD_SHARE_PERCENT: u32 = 80;

/// At most this many errors are collected from one file.
pub use crate::limits::MAX_ERRORS;

// ---------------------------------------------------------------------------
// Grades
// ---------------------------------------------------------------------------

pub use crate::domain::Grade;

// ---------------------------------------------------------------------------
// Negative-list situations
// ---------------------------------------------------------------------------

/// One of the negative-list situations ①–⑧ (numbers 1 to 8).
///
/// The number is private so that a value outside 1..=8 cannot exist; build
/// one with [`Situation::new`] or [`Situation::parse_list`]. Serializes as
/// its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Situation(u8);

const CIRCLED: [char; 8] = ['①', '②', '③', '④', '⑤', '⑥', '⑦', '⑧'];

impl Situation {
    /// The situation with this number, if it is within 1..=8.
    pub fn new(number: u8) -> Option<Situation> {
        (1..=8).contains(&number).then_some(Situation(number))
    }

    /// The situation's number, 1..=8.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The circled digit ① … ⑧.
    pub fn circled(self) -> char {
        // The constructor keeps the number within 1..=8; fall back rather
        // than panic all the same.
        CIRCLED
            .get(usize::from(self.0).wrapping_sub(1))
            .copied()
            .unwrap_or('?')
    }

    /// Parses a list of situations as typed into a spreadsheet cell.
    ///
    /// Accepts an empty or all-whitespace cell (no situations), circled
    /// digits ①–⑧, ASCII digits 1–8 and full-width digits １–８, separated by
    /// any of `,` `，` `、` `;` `；` or whitespace; circled digits may also
    /// stand directly next to each other (`①③`). The result is sorted and
    /// deduplicated. The error names the first token that is not a situation,
    /// e.g. `"9" is not a negative-list situation (1–8 or ①–⑧)`.
    pub fn parse_list(text: &str) -> Result<Vec<Situation>, String> {
        let mut found: Vec<Situation> = Self::parse_dated_list(text)?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// As [`Situation::parse_list`], each situation (or run of circled digits) optionally
    /// followed by `@` (or `＠`) and the day it happened, `YYYY-MM-DD`: `③@2025-05-01、⑥`.
    /// In the order given, duplicates kept; the error names the first bad token or date.
    pub fn parse_dated_list(text: &str) -> Result<Vec<(Situation, Option<String>)>, String> {
        let mut found = Vec::new();
        for token in text.split(is_list_separator).filter(|t| !t.is_empty()) {
            let (token, date) = match token.split_once(['@', '＠']) {
                Some((token, date)) => {
                    let day = crate::results::calendar::parse_date(date)
                        .filter(|_| !date.contains([' ', 'T']))
                        .ok_or_else(|| {
                            format!("{} is not a date (YYYY-MM-DD) after @", quote(date))
                        })?;
                    (token, Some(day.to_string()))
                }
                None => (token, None),
            };
            let mut situations: Vec<Situation> = Vec::new();
            let mut chars = token.chars();
            let single = match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            };
            if let Some(c) = single {
                situations.push(situation_from_char(c).ok_or_else(|| not_a_situation(token))?);
            } else if !token.is_empty() && token.chars().all(is_circled_number) {
                for c in token.chars() {
                    let s = situation_from_char(c)
                        .ok_or_else(|| not_a_situation(c.encode_utf8(&mut [0; 4])))?;
                    situations.push(s);
                }
            } else {
                return Err(not_a_situation(token));
            }
            found.extend(situations.into_iter().map(|s| (s, date.clone())));
        }
        Ok(found)
    }
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.circled())
    }
}

fn is_list_separator(c: char) -> bool {
    matches!(c, ',' | '，' | '、' | ';' | '；') || c.is_whitespace()
}

/// ① (U+2460) through ⑳ (U+2473).
fn is_circled_number(c: char) -> bool {
    ('\u{2460}'..='\u{2473}').contains(&c)
}

fn situation_from_char(c: char) -> Option<Situation> {
    let number = match c {
        '1'..='8' => u32::from(c) - u32::from('0'),
        '１'..='８' => u32::from(c) - u32::from('０'),
        '①'..='⑧' => u32::from(c) - u32::from('①') + 1,
        _ => return None,
    };
    u8::try_from(number).ok().and_then(Situation::new)
}

fn not_a_situation(token: &str) -> String {
    format!(
        "{} is not a negative-list situation (1–8 or ①–⑧)",
        quote(token)
    )
}

// ---------------------------------------------------------------------------
// The verdict
/// The first day the negative list counts (seed clause 15: "创建启动前一年以及创建期间"): one
/// year before the creation started on `start` (`YYYY-MM-DD`); 29 February falls back to the
/// 28th. `None` when `start` is not such a date.
pub fn negative_window_start(start: &str) -> Option<String> {
    let date = crate::results::calendar::parse_date(start)?;
    let year = date.year() - 1;
    let day = date
        .day()
        .min(time::util::days_in_month(date.month(), year));
    let earlier = time::Date::from_calendar_date(year, date.month(), day).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        earlier.year(),
        u8::from(earlier.month()),
        earlier.day()
    ))
}

/// The first day the negative list counts for a campaign: one year before the creation
/// started (`creation_started_on`), or, where the commission has not set that day, one year
/// before the campaign was created (`created_on`).
pub fn campaign_window_start(creation_started_on: Option<&str>, created_on: &str) -> String {
    negative_window_start(creation_started_on.unwrap_or(created_on))
        .or_else(|| negative_window_start(created_on))
        .unwrap_or_default()
}

/// Whether a situation that happened on `event` counts against a village whose window opens
/// on `window_start` (both `YYYY-MM-DD`, which compare as text). One ticked before dates were
/// kept (`None`) counts, as it did.
pub fn negative_counts(event: Option<&str>, window_start: &str) -> bool {
    event.is_none_or(|d| d >= window_start)
}

/// Item 15 is the negative list: 差 when a situation counts, else 好.
pub fn item15_from_list(counted: &[Situation]) -> Grade {
    if counted.is_empty() {
        Grade::Good
    } else {
        Grade::Poor
    }
}

// ---------------------------------------------------------------------------

/// The assessment of one village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Number of items graded 好.
    pub good: u32,
    /// Number of items, graded or not.
    pub total: u32,
    /// True iff the village earns the title, i.e. `reasons` is empty.
    pub passed: bool,
    /// Why the village failed, in a fixed order (see [`verdict`]).
    pub reasons: Vec<String>,
}

/// True iff `good` is at least 80% of `total`, by exact integer arithmetic
/// (`good * 100 >= 80 * total`).
pub fn meets_good_share(good: u32, total: u32) -> bool {
    u64::from(good) * 100 >= u64::from(GOOD_SHARE_PERCENT) * u64::from(total)
}

/// Applies the assessment rule to one village.
///
/// `items` are `(item number, grade)` pairs in any order; `None` means the
/// item was not graded, which fails the village. `negative` lists the
/// negative-list situations that occurred (any order, duplicates ignored).
///
/// Reasons, in this order:
/// 1. `no items` when `items` is empty;
/// 2. each item graded below 较好, in item-number order: `item 7 一般`,
///    `item 3 差`;
/// 3. each ungraded item, in item-number order: `item 5 未评`;
/// 4. `好 12/16 < 80%` when the 好 share test fails;
/// 5. each negative-list situation, in number order: `负面清单 ③`.
///
/// `passed` is true iff there is no reason.
pub fn verdict(items: &[(u32, Option<Grade>)], negative: &[Situation]) -> Verdict {
    let total = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let good = items
        .iter()
        .filter(|(_, g)| *g == Some(Grade::Good))
        .fold(0u32, |n, _| n.saturating_add(1));

    let mut sorted = items.to_vec();
    sorted.sort_by_key(|(number, _)| *number);

    let mut reasons = Vec::new();
    if items.is_empty() {
        reasons.push("no items".to_string());
    }
    for (number, grade) in &sorted {
        if let Some(grade) = grade
            && !grade.is_at_least_fairly_good()
        {
            reasons.push(format!("item {number} {}", grade.label()));
        }
    }
    for (number, grade) in &sorted {
        if grade.is_none() {
            reasons.push(format!("item {number} 未评"));
        }
    }
    if total > 0 && !meets_good_share(good, total) {
        reasons.push(format!("好 {good}/{total} < {GOOD_SHARE_PERCENT}%"));
    }
    let mut negative = negative.to_vec();
    negative.sort_unstable();
    negative.dedup();
    for situation in negative {
        reasons.push(format!("负面清单 {}", situation.circled()));
    }

    Verdict {
        good,
        total,
        passed: reasons.is_empty(),
        reasons,
    }
}

/// The verdict's reasons in plain Chinese sentences, for the pages: items not yet graded as
/// ranges ("第1–15项尚未评定"), each item below 较好 ("第16项为一般"), the share of 好 when
/// short ("“好”等次 12/16，未达 80%"), each negative-list situation ("负面清单情形③"), joined
/// with "；". Empty when the village passes. `minyi assess` and the downloads keep the
/// short forms of [`verdict`] that scripts read.
pub fn reasons_zh(items: &[(u32, Option<Grade>)], negative: &[Situation]) -> String {
    let mut sorted = items.to_vec();
    sorted.sort_by_key(|(number, _)| *number);
    let mut out = Vec::new();
    if items.is_empty() {
        out.push("没有任何评定项目".to_string());
    }
    // Runs of consecutive ungraded items: 1–15, or 3, 5–6.
    let ungraded: Vec<u32> = sorted
        .iter()
        .filter(|(_, g)| g.is_none())
        .map(|(n, _)| *n)
        .collect();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for n in ungraded {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    if !runs.is_empty() {
        let parts: Vec<String> = runs
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}–{b}")
                }
            })
            .collect();
        out.push(format!("第{}项尚未评定", parts.join("、")));
    }
    for (number, grade) in &sorted {
        if let Some(g) = grade.filter(|g| !g.is_at_least_fairly_good()) {
            out.push(format!("第{number}项为{}", g.label()));
        }
    }
    let total = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let good = items
        .iter()
        .filter(|(_, g)| *g == Some(Grade::Good))
        .fold(0u32, |n, _| n.saturating_add(1));
    if total > 0 && !meets_good_share(good, total) {
        out.push(format!(
            "“好”等次 {good}/{total}，未达 {GOOD_SHARE_PERCENT}%"
        ));
    }
    let mut negative = negative.to_vec();
    negative.sort_unstable();
    negative.dedup();
    for situation in negative {
        out.push(format!("负面清单情形{}", situation.circled()));
    }
    out.join("；")
}

/// 通过 when passed, 不通过 otherwise.
pub fn verdict_label(passed: bool) -> &'static str {
    if passed { "通过" } else { "不通过" }
}

/// Joins reasons with the full-width semicolon `；`.
pub fn join_reasons(reasons: &[String]) -> String {
    reasons.join("；")
}

// ---------------------------------------------------------------------------
// Offline CSV assessment
// ---------------------------------------------------------------------------

/// Why a file could not be assessed: every problem found, one per line when
/// displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AssessError {
    /// The problems, at most [`MAX_ERRORS`] of them, in file order.
    pub errors: Vec<RowError>,
    /// True when there were more problems than `errors` holds.
    pub truncated: bool,
}

impl fmt::Display for AssessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        if self.truncated {
            if !self.errors.is_empty() {
                writeln!(f)?;
            }
            write!(
                f,
                "(more errors not shown; only the first {MAX_ERRORS} are listed)"
            )?;
        }
        Ok(())
    }
}

/// One village of the input and its assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessedRow {
    /// The village name as given (trimmed).
    pub village: String,
    /// The outcome.
    pub verdict: Verdict,
    /// What the reader should know of the row, e.g. a situation outside the window, or an
    /// item 15 cell the negative list overrules (English, naming the row).
    pub notes: Vec<String>,
}

fn file_error(error: RowError) -> AssessError {
    AssessError {
        errors: vec![error],
        truncated: false,
    }
}

fn into_error(errors: Errors) -> AssessError {
    let (errors, truncated) = errors.into_parts();
    AssessError { errors, truncated }
}

/// What one header column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Village,
    Item(u32),
    Negative,
    /// A column with an empty header: its cells must be empty too.
    Unnamed,
}

fn classify_header(name: &str) -> Option<Column> {
    match name {
        "" => Some(Column::Unnamed),
        "village" => Some(Column::Village),
        "negative" => Some(Column::Negative),
        _ => {
            let digits = name.strip_prefix("item")?;
            let canonical = !digits.is_empty()
                && !digits.starts_with('0')
                && digits.bytes().all(|b| b.is_ascii_digit());
            if !canonical {
                return None;
            }
            digits.parse::<u32>().ok().map(Column::Item)
        }
    }
}

/// The validated layout of the header row.
struct Layout {
    /// Header name (trimmed) and meaning of each column, by position.
    columns: Vec<(String, Column)>,
    item_count: u32,
}

fn parse_header(row: u64, header: &csv::StringRecord, errors: &mut Errors) -> Option<Layout> {
    let mut columns = Vec::with_capacity(header.len());
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    let mut items: BTreeMap<u32, usize> = BTreeMap::new();
    let before = errors.len();

    for (index, raw) in header.iter().enumerate() {
        let name = raw.trim();
        if !name.is_empty() {
            if let Some(&first) = first_seen.get(name) {
                errors.add(
                    Some(row),
                    Some(name),
                    format!(
                        "{} appears more than once in the header (columns {} and {})",
                        quote(name),
                        column_letters(first),
                        column_letters(index)
                    ),
                    format!(
                        "表头中{}出现了不止一次（{}列和{}列）",
                        quote(name),
                        column_letters(first),
                        column_letters(index)
                    ),
                );
                continue;
            }
            first_seen.insert(name, index);
        }
        match classify_header(name) {
            Some(column) => {
                if let Column::Item(n) = column {
                    items.insert(n, index);
                }
                columns.push((name.to_string(), column));
            }
            None => {
                errors.add(
                    Some(row),
                    Some(name),
                    format!(
                        "unknown column {} (expected village, item1 … itemK and negative)",
                        quote(name)
                    ),
                    format!(
                        "无法识别的列{}（只能有 village、item1 … itemK 和 negative 这些列）",
                        quote(name)
                    ),
                );
            }
        }
    }

    for required in ["village", "negative"] {
        if !first_seen.contains_key(required) {
            errors.add(
                Some(row),
                None,
                format!("missing column \"{required}\""),
                format!("缺少\"{required}\"列"),
            );
        }
    }
    let item_count = match items.last_key_value() {
        None => {
            errors.add(
                Some(row),
                None,
                "no item columns (expected item1, item2, …)",
                "没有评估项目列（应为 item1、item2 ……）",
            );
            0
        }
        Some((&max, _)) => {
            for n in 1..=max {
                if errors.full() {
                    break;
                }
                if !items.contains_key(&n) {
                    errors.add(
                        Some(row),
                        None,
                        format!(
                            "missing column \"item{n}\" (item columns must run from item1 to item{max} without gaps)"
                        ),
                        format!("缺少\"item{n}\"列（项目列须从 item1 连续排到 item{max}）"),
                    );
                }
            }
            max
        }
    };

    (errors.len() == before && !errors.full()).then_some(Layout {
        columns,
        item_count,
    })
}

/// Reads and assesses a CSV table of villages.
///
/// The file is decoded with [`crate::csv_table::decode_text`]. Row 1 is the header: exactly
/// the columns `village`, `item1` … `itemK` (K ≥ 1, no gaps) and `negative`,
/// in any order, names trimmed and case-sensitive. Columns with an empty
/// header are tolerated as long as all their cells are empty (spreadsheets
/// sometimes save such columns). Each later row is one village: a non-empty
/// unique name, a grade in every item column and a negative-list cell read
/// by [`Situation::parse_list`]. Rows whose cells are all empty are skipped.
///
/// Returns the villages in input order, or every problem found (up to
/// [`MAX_ERRORS`]), each naming its spreadsheet row and column.
///
/// With `creation_start` (the day the creation started, `YYYY-MM-DD`), every situation must
/// carry its date (`③@2025-05-01`) and counts only from one year before that day; without it
/// a date may be given and every situation counts. Item 15 is the negative list: 差 when a
/// situation counts, else 好, whatever an `item15` cell says (a cell that differs is noted).
pub fn assess_csv(
    bytes: &[u8],
    creation_start: Option<&str>,
) -> Result<Vec<AssessedRow>, AssessError> {
    let window = match creation_start {
        Some(start) => Some(negative_window_start(start).ok_or_else(|| {
            file_error(RowError::file(
                format!(
                    "--creation-start {} is not a date (YYYY-MM-DD)",
                    quote(start)
                ),
                format!("创建启动日期{}不是日期（应为 YYYY-MM-DD）", quote(start)),
            ))
        })?),
        None => None,
    };
    let table = Table::read(bytes).map_err(file_error)?;
    let mut errors = Errors::new();
    let Some(layout) = parse_header(table.header.row, &table.header.record, &mut errors) else {
        return Err(into_error(errors));
    };

    let mut villages: Vec<AssessedRow> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for line in &table.rows {
        if errors.full() {
            break;
        }
        if line.is_blank() {
            continue;
        }
        let Row { row, record } = line;
        let row = *row;
        if record.len() != layout.columns.len() {
            errors.add(
                Some(row),
                None,
                format!(
                    "expected {} fields as in the header, found {}",
                    layout.columns.len(),
                    record.len()
                ),
                format!(
                    "这一行有{}格，表头有{}列，应一样多",
                    record.len(),
                    layout.columns.len()
                ),
            );
            continue;
        }

        let mut village = None;
        let mut items = Vec::with_capacity(usize::try_from(layout.item_count).unwrap_or(0));
        let mut negative = Vec::new();
        let mut notes = Vec::new();
        let mut row_ok = true;
        for (index, ((name, column), cell)) in layout.columns.iter().zip(record.iter()).enumerate()
        {
            let cell = cell.trim();
            match column {
                Column::Village => {
                    if cell.is_empty() {
                        errors.add(Some(row), Some(name), "village name is empty", "村名为空");
                        row_ok = false;
                    } else if let Some(first) = seen.get(cell) {
                        errors.add(
                            Some(row),
                            Some(name),
                            format!("village {} already appears in row {first}", quote(cell)),
                            format!("村{}在第{first}行已经出现过", quote(cell)),
                        );
                        row_ok = false;
                    } else {
                        seen.insert(cell.to_string(), row);
                        village = Some(cell.to_string());
                    }
                }
                Column::Item(n) => match Grade::parse(cell) {
                    Some(grade) => items.push((*n, Some(grade))),
                    None if cell.is_empty() => {
                        errors.add(
                            Some(row),
                            Some(name),
                            "missing grade (好, 较好, 一般 or 差)",
                            "缺少等次（好、较好、一般 或 差）",
                        );
                        row_ok = false;
                    }
                    None => {
                        errors.add(
                            Some(row),
                            Some(name),
                            format!("{} is not a grade (好, 较好, 一般 or 差)", quote(cell)),
                            format!("无法识别的等次{}（应为 好、较好、一般 或 差）", quote(cell)),
                        );
                        row_ok = false;
                    }
                },
                Column::Negative => match Situation::parse_dated_list(cell) {
                    Ok(list) => {
                        for (situation, date) in list {
                            match (&window, date) {
                                (Some(_), None) => {
                                    errors.add(
                                        Some(row),
                                        Some(name),
                                        format!(
                                            "situation {situation} has no date; with --creation-start each needs one ({situation}@YYYY-MM-DD)"
                                        ),
                                        format!(
                                            "负面清单情形{situation}没有发生日期；给定创建启动日期时每项都要写日期（如 {situation}@2026-03-01）"
                                        ),
                                    );
                                    row_ok = false;
                                }
                                (Some(start), Some(date))
                                    if !negative_counts(Some(&date), start) =>
                                {
                                    notes.push(format!(
                                        "row {row}: situation {situation} on {date} is before the window (from {start}) and does not count"
                                    ));
                                }
                                _ => negative.push(situation),
                            }
                        }
                        negative.sort_unstable();
                        negative.dedup();
                    }
                    Err(message) => {
                        errors.add(
                            Some(row),
                            Some(name),
                            message,
                            format!(
                                "{}中有不是负面清单情形的内容（只能填 1–8 或 ①–⑧）",
                                quote(cell)
                            ),
                        );
                        row_ok = false;
                    }
                },
                Column::Unnamed => {
                    if !cell.is_empty() {
                        let letter = column_letters(index);
                        errors.add(
                            Some(row),
                            Some(&letter),
                            format!("{} is in a column without a header", quote(cell)),
                            format!("{}所在的列没有表头", quote(cell)),
                        );
                        row_ok = false;
                    }
                }
            }
        }
        // Item 15 is the negative list itself, as on the results pages: 差 when a situation
        // counts, else 好, whatever its cell says.
        if let Some(item15) = items.iter_mut().find(|(n, _)| *n == 15) {
            let derived = item15_from_list(&negative);
            if let Some(cell) = item15.1
                && cell != derived
            {
                notes.push(format!(
                    "row {row}: item15 says {cell}; the negative list makes it {derived}"
                ));
            }
            item15.1 = Some(derived);
        }
        if let (true, Some(village)) = (row_ok, village) {
            villages.push(AssessedRow {
                village,
                verdict: verdict(&items, &negative),
                notes,
            });
        }
    }

    if let Some(error) = table.read_error {
        errors.push(error);
    }
    if !errors.is_empty() {
        return Err(into_error(errors));
    }
    if villages.is_empty() {
        return Err(file_error(RowError::file(
            "the file has a header but no village rows",
            "文件只有表头，没有村（社区）的行",
        )));
    }
    Ok(villages)
}

/// Writes assessed villages as CSV: header `village,good,total,verdict,reasons`,
/// one row per village in the given order, verdict 通过/不通过, reasons joined
/// with `；` (empty when passed). UTF-8 without byte order mark, standard CSV
/// quoting.
pub fn write_assessment<W: std::io::Write>(rows: &[AssessedRow], out: W) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["village", "good", "total", "verdict", "reasons"])?;
    for row in rows {
        let v = &row.verdict;
        writer.write_record([
            row.village.as_str(),
            &v.good.to_string(),
            &v.total.to_string(),
            verdict_label(v.passed),
            &join_reasons(&v.reasons),
        ])?;
    }
    writer.flush()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// The seed's 16 assessment items (评估内容), by number − 1.
pub const ITEM_TITLES: [&str; 16] = [
    "坚决做到“两个维护”",
    "严肃党内政治生活",
    "强化领导班子政治责任",
    "树立正确选人用人导向",
    "坚持权力公开透明",
    "严格落实中央八项规定精神",
    "驰而不息深化作风建设",
    "切实履行主体责任",
    "做实做细监督责任",
    "严肃查处腐败案件",
    "扎紧制度笼子",
    "加强党性和法纪教育",
    "加强廉洁文化建设",
    "树立勤廉家风",
    "负面清单",
    "民意调查（两代表一委员评价、第三方调查）",
];

/// The negative-list situations of item 15, ①–⑧, by number − 1.
pub const NEGATIVE_SITUATIONS: [&str; 8] = [
    "有违反政治纪律案件的",
    "有违反中央八项规定精神案件的",
    "领导班子成员因违纪违法被处分或重大职务调整的",
    "本村（社区）出现塌方式腐败案件的",
    "因违纪违法问题出现重大负面舆情的",
    "信访举报量大得不到有效解决的",
    "出现涉黑涉恶案件和“黄赌毒”案件的",
    "有其他不宜评为“廉洁村（社区）”情形的",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_negative_lists_window_opens_a_year_before_the_creation_started() {
        assert_eq!(
            negative_window_start("2026-03-15").as_deref(),
            Some("2025-03-15")
        );
        assert_eq!(
            negative_window_start("2028-02-29").as_deref(),
            Some("2027-02-28")
        );
        assert_eq!(
            negative_window_start("2026-01-01").as_deref(),
            Some("2025-01-01")
        );
        assert_eq!(negative_window_start("not a date"), None);
        let start = negative_window_start("2026-03-15").unwrap();
        assert!(negative_counts(Some("2025-03-15"), &start));
        assert!(negative_counts(Some("2026-11-30"), &start));
        assert!(!negative_counts(Some("2025-03-14"), &start));
        assert!(negative_counts(None, &start));
    }

    #[test]
    fn situations_may_carry_the_day_they_happened() {
        assert_eq!(
            Situation::parse_dated_list("③@2025-05-01、⑥ ①⑤＠2026/1/2").unwrap(),
            vec![
                (s(3), Some("2025-05-01".to_string())),
                (s(6), None),
                (s(1), Some("2026-01-02".to_string())),
                (s(5), Some("2026-01-02".to_string())),
            ]
        );
        for bad in ["③@", "③@2025-02-30", "@2025-01-01", "③@2025-01-01 08:00"] {
            assert!(Situation::parse_dated_list(bad).is_err(), "{bad}");
        }
        assert_eq!(Situation::parse_list("⑥@2025-01-01,6").unwrap(), vec![s(6)]);
    }

    #[test]
    fn item_15_is_the_negative_list() {
        assert_eq!(item15_from_list(&[]), Grade::Good);
        assert_eq!(item15_from_list(&[Situation::new(3).unwrap()]), Grade::Poor);
    }

    /// Items numbered 1.. with the given grades.
    fn graded(grades: &[Grade]) -> Vec<(u32, Option<Grade>)> {
        grades
            .iter()
            .enumerate()
            .map(|(i, g)| (i as u32 + 1, Some(*g)))
            .collect()
    }

    fn goods_then(good: usize, total: usize, rest: Grade) -> Vec<(u32, Option<Grade>)> {
        let grades: Vec<Grade> = (0..total)
            .map(|i| if i < good { Grade::Good } else { rest })
            .collect();
        graded(&grades)
    }

    fn s(n: u8) -> Situation {
        Situation::new(n).expect("test situation in range")
    }

    #[test]
    fn the_reasons_read_as_sentences_on_the_pages() {
        let mut items: Vec<(u32, Option<Grade>)> = (1..=15).map(|n| (n, None)).collect();
        items.push((16, Some(Grade::Average)));
        assert_eq!(
            reasons_zh(&items, &[]),
            "第1–15项尚未评定；第16项为一般；“好”等次 0/16，未达 80%"
        );
        let mut some = goods_then(12, 16, Grade::FairlyGood);
        some[2].1 = None;
        some[4].1 = None;
        some[5].1 = None;
        some[6].1 = Some(Grade::Poor);
        assert_eq!(
            reasons_zh(&some, &[s(3), s(1), s(3)]),
            "第3、5–6项尚未评定；第7项为差；“好”等次 8/16，未达 80%；负面清单情形①；负面清单情形③"
        );
        // A village that passes has no reason; no "item" anywhere.
        assert_eq!(reasons_zh(&goods_then(13, 16, Grade::FairlyGood), &[]), "");
        assert_eq!(reasons_zh(&[], &[]), "没有任何评定项目");
    }

    // --- Grade -----------------------------------------------------------

    #[test]
    fn grade_parse_accepts_exact_labels_with_whitespace() {
        assert_eq!(Grade::parse("好"), Some(Grade::Good));
        assert_eq!(Grade::parse("较好"), Some(Grade::FairlyGood));
        assert_eq!(Grade::parse("一般"), Some(Grade::Average));
        assert_eq!(Grade::parse("差"), Some(Grade::Poor));
        assert_eq!(Grade::parse("  好\t"), Some(Grade::Good));
        assert_eq!(
            Grade::parse("\u{3000}较好\u{3000}"),
            Some(Grade::FairlyGood)
        );
        for bad in ["", " ", "良好", "好好", "较 好", "good", "A", "优", "好。"] {
            assert_eq!(Grade::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn grade_labels_order_and_threshold() {
        for g in Grade::ALL {
            assert_eq!(Grade::parse(g.label()), Some(g));
            assert_eq!(g.to_string(), g.label());
        }
        assert!(Grade::Good < Grade::FairlyGood);
        assert!(Grade::FairlyGood < Grade::Average);
        assert!(Grade::Average < Grade::Poor);
        assert!(Grade::Good.is_at_least_fairly_good());
        assert!(Grade::FairlyGood.is_at_least_fairly_good());
        assert!(!Grade::Average.is_at_least_fairly_good());
        assert!(!Grade::Poor.is_at_least_fairly_good());
    }

    /// A serializer that only records the string or unit-variant name it is
    /// given, to check the serde name without a JSON dependency.
    mod name_probe {
        use serde::ser::{self, Impossible, Serialize};
        use std::fmt;

        #[derive(Debug)]
        pub struct Unsupported;
        impl fmt::Display for Unsupported {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("unsupported")
            }
        }
        impl std::error::Error for Unsupported {}
        impl ser::Error for Unsupported {
            fn custom<T: fmt::Display>(_: T) -> Self {
                Unsupported
            }
        }

        pub struct Probe;

        pub fn name_of<T: Serialize>(value: &T) -> Result<String, Unsupported> {
            value.serialize(Probe)
        }

        macro_rules! unsupported {
            ($($method:ident($($arg:ty),*)),* $(,)?) => {
                $(fn $method(self, $(_: $arg),*) -> Result<String, Unsupported> { Err(Unsupported) })*
            };
        }

        impl ser::Serializer for Probe {
            type Ok = String;
            type Error = Unsupported;
            type SerializeSeq = Impossible<String, Unsupported>;
            type SerializeTuple = Impossible<String, Unsupported>;
            type SerializeTupleStruct = Impossible<String, Unsupported>;
            type SerializeTupleVariant = Impossible<String, Unsupported>;
            type SerializeMap = Impossible<String, Unsupported>;
            type SerializeStruct = Impossible<String, Unsupported>;
            type SerializeStructVariant = Impossible<String, Unsupported>;

            fn serialize_str(self, v: &str) -> Result<String, Unsupported> {
                Ok(v.to_string())
            }
            fn serialize_unit_variant(
                self,
                _: &'static str,
                _: u32,
                variant: &'static str,
            ) -> Result<String, Unsupported> {
                Ok(variant.to_string())
            }
            fn serialize_u8(self, v: u8) -> Result<String, Unsupported> {
                Ok(v.to_string())
            }
            fn serialize_newtype_struct<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                value: &T,
            ) -> Result<String, Unsupported> {
                value.serialize(self)
            }
            unsupported!(
                serialize_bool(bool),
                serialize_i8(i8),
                serialize_i16(i16),
                serialize_i32(i32),
                serialize_i64(i64),
                serialize_u16(u16),
                serialize_u32(u32),
                serialize_u64(u64),
                serialize_f32(f32),
                serialize_f64(f64),
                serialize_char(char),
                serialize_bytes(&[u8]),
                serialize_none(),
                serialize_unit(),
                serialize_unit_struct(&'static str),
            );
            fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_newtype_variant<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: &T,
            ) -> Result<String, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_tuple_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleStruct, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_tuple_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleVariant, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStruct, Unsupported> {
                Err(Unsupported)
            }
            fn serialize_struct_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStructVariant, Unsupported> {
                Err(Unsupported)
            }
        }
    }

    #[test]
    fn grade_serializes_as_chinese_label_and_situation_as_number() {
        for g in Grade::ALL {
            assert_eq!(name_probe::name_of(&g).ok().as_deref(), Some(g.label()));
        }
        assert_eq!(name_probe::name_of(&s(3)).ok().as_deref(), Some("3"));
    }

    // --- Situation -------------------------------------------------------

    #[test]
    fn situation_new_and_circled() {
        assert_eq!(Situation::new(0), None);
        assert_eq!(Situation::new(9), None);
        let circled: String = (1..=8).map(|n| s(n).circled()).collect();
        assert_eq!(circled, "①②③④⑤⑥⑦⑧");
        assert_eq!(s(5).number(), 5);
        assert_eq!(s(5).to_string(), "⑤");
    }

    #[test]
    fn negative_list_parsing_table() {
        let ok: &[(&str, &[u8])] = &[
            ("", &[]),
            ("   ", &[]),
            ("\u{3000}", &[]),
            ("③", &[3]),
            ("3", &[3]),
            ("３", &[3]),
            ("①③", &[1, 3]),
            ("③①", &[1, 3]),
            ("①②③④⑤⑥⑦⑧", &[1, 2, 3, 4, 5, 6, 7, 8]),
            ("1,2", &[1, 2]),
            ("1，2", &[1, 2]),
            ("1、2", &[1, 2]),
            ("1;2", &[1, 2]),
            ("1；2", &[1, 2]),
            ("1 2", &[1, 2]),
            ("1\u{3000}2", &[1, 2]),
            (" 8 , ,1 ", &[1, 8]),
            ("3,③,３", &[3]),
            ("①③、5，８", &[1, 3, 5, 8]),
            ("⑧⑧", &[8]),
            (",;、", &[]),
        ];
        for (input, expected) in ok {
            let got: Vec<u8> = Situation::parse_list(input)
                .unwrap_or_else(|e| panic!("{input:?}: {e}"))
                .into_iter()
                .map(Situation::number)
                .collect();
            assert_eq!(&got, expected, "{input:?}");
        }

        let bad: &[(&str, &str)] = &[
            ("9", "9"),
            ("0", "0"),
            ("13", "13"),
            ("１０", "１０"),
            ("⑨", "⑨"),
            ("①⑨", "⑨"),
            ("1,x", "x"),
            ("①3", "①3"),
            ("3号", "3号"),
            ("(3)", "(3)"),
            ("-1", "-1"),
            ("无", "无"),
        ];
        for (input, token) in bad {
            assert_eq!(
                Situation::parse_list(input),
                Err(format!(
                    "\"{token}\" is not a negative-list situation (1–8 or ①–⑧)"
                )),
                "{input:?}"
            );
        }
    }

    // --- verdict ---------------------------------------------------------

    #[test]
    fn thirteen_good_three_fairly_good_of_sixteen_passes() {
        let v = verdict(&goods_then(13, 16, Grade::FairlyGood), &[]);
        assert_eq!(
            v,
            Verdict {
                good: 13,
                total: 16,
                passed: true,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn twelve_good_of_sixteen_fails_on_share() {
        let v = verdict(&goods_then(12, 16, Grade::FairlyGood), &[]);
        assert!(!v.passed);
        assert_eq!(v.good, 12);
        assert_eq!(v.total, 16);
        assert_eq!(v.reasons, vec!["好 12/16 < 80%"]);
    }

    #[test]
    fn twelve_good_of_fifteen_is_exactly_eighty_percent_and_passes() {
        let v = verdict(&goods_then(12, 15, Grade::FairlyGood), &[]);
        assert!(v.passed, "{v:?}");
        assert!(meets_good_share(12, 15));
        assert!(meets_good_share(4, 5));
        assert!(!meets_good_share(3, 4));
        assert!(meets_good_share(u32::MAX, u32::MAX));
    }

    #[test]
    fn one_average_item_fails() {
        let mut items = goods_then(15, 16, Grade::Good);
        items[6].1 = Some(Grade::Average);
        let v = verdict(&items, &[]);
        assert!(!v.passed);
        assert_eq!(v.good, 15);
        assert_eq!(v.reasons, vec!["item 7 一般"]);
    }

    #[test]
    fn negative_situation_fails() {
        let v = verdict(&goods_then(16, 16, Grade::Good), &[s(3)]);
        assert!(!v.passed);
        assert_eq!(v.reasons, vec!["负面清单 ③"]);
    }

    #[test]
    fn reasons_come_in_the_documented_order() {
        // Items out of order, two bad grades, one ungraded, share failing,
        // situations unsorted with a duplicate.
        let items = vec![
            (9, Some(Grade::Poor)),
            (1, Some(Grade::Good)),
            (5, None),
            (3, Some(Grade::Average)),
            (2, Some(Grade::FairlyGood)),
            (4, None),
        ];
        let v = verdict(&items, &[s(7), s(2), s(7)]);
        assert!(!v.passed);
        assert_eq!(v.good, 1);
        assert_eq!(v.total, 6);
        assert_eq!(
            v.reasons,
            vec![
                "item 3 一般",
                "item 9 差",
                "item 4 未评",
                "item 5 未评",
                "好 1/6 < 80%",
                "负面清单 ②",
                "负面清单 ⑦",
            ]
        );
        assert_eq!(
            join_reasons(&v.reasons),
            "item 3 一般；item 9 差；item 4 未评；item 5 未评；好 1/6 < 80%；负面清单 ②；负面清单 ⑦"
        );
    }

    #[test]
    fn ungraded_item_fails_even_when_share_is_met() {
        let mut items = goods_then(16, 16, Grade::Good);
        items.push((17, None));
        let v = verdict(&items, &[]);
        assert_eq!(v.total, 17);
        assert_eq!(v.good, 16);
        assert!(!v.passed);
        assert_eq!(v.reasons, vec!["item 17 未评"]);
    }

    #[test]
    fn no_items_fails() {
        let v = verdict(&[], &[]);
        assert!(!v.passed);
        assert_eq!(v.total, 0);
        assert_eq!(v.reasons, vec!["no items"]);
        let v = verdict(&[], &[s(1)]);
        assert_eq!(v.reasons, vec!["no items", "负面清单 ①"]);
    }

    #[test]
    fn every_good_count_of_sixteen() {
        for good in 0..=16usize {
            for rest in [Grade::FairlyGood, Grade::Average] {
                let v = verdict(&goods_then(good, 16, rest), &[]);
                let expect_pass = good >= 13 && (good == 16 || rest == Grade::FairlyGood);
                assert_eq!(v.passed, expect_pass, "good={good} rest={rest}");
                assert_eq!(v.good as usize, good);
                assert_eq!(v.passed, v.reasons.is_empty());
            }
            let v = verdict(&goods_then(good, 16, Grade::FairlyGood), &[]);
            assert_eq!(v.passed, good >= 13, "good={good}");
            assert_eq!(meets_good_share(good as u32, 16), good >= 13);
        }
    }

    #[test]
    fn share_matches_exact_rational_comparison() {
        for total in 1..=40u32 {
            for good in 0..=total {
                // good / total >= 4 / 5  ⇔  5 * good >= 4 * total
                assert_eq!(meets_good_share(good, total), 5 * good >= 4 * total);
            }
        }
    }

    #[test]
    fn labels() {
        assert_eq!(verdict_label(true), "通过");
        assert_eq!(verdict_label(false), "不通过");
        assert_eq!(join_reasons(&[]), "");
        assert_eq!(join_reasons(&["a".to_string()]), "a");
    }

    // --- decoding and row numbering --------------------------------------

    fn utf16le_with_bom(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    fn gb18030(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    // --- assess_csv ------------------------------------------------------

    fn header(items: u32) -> String {
        let mut cols = vec!["village".to_string()];
        cols.extend((1..=items).map(|n| format!("item{n}")));
        cols.push("negative".to_string());
        cols.join(",")
    }

    fn line(village: &str, grades: &[&str], negative: &str) -> String {
        let mut cols = vec![village.to_string()];
        cols.extend(grades.iter().map(|g| g.to_string()));
        cols.push(negative.to_string());
        cols.join(",")
    }

    /// `good` items 好 and the rest 较好, the 较好 ones first so that item 15 (which follows
    /// the negative list, 好 without a situation) is among the 好 ones.
    fn n_good(good: usize, total: usize) -> Vec<&'static str> {
        (0..total)
            .map(|i| if i + good >= total { "好" } else { "较好" })
            .collect()
    }

    fn messages(result: Result<Vec<AssessedRow>, AssessError>) -> Vec<String> {
        match result {
            Ok(rows) => panic!("expected errors, got {rows:?}"),
            Err(e) => e.errors.iter().map(RowError::to_string).collect(),
        }
    }

    fn sample_csv() -> String {
        let mut seven_average = n_good(16, 16);
        seven_average[6] = "一般";
        [
            header(16),
            line("清水村", &n_good(13, 16), ""),
            line("石桥村", &n_good(12, 16), ""),
            line("\"东山村, 一组\"", &seven_average, ""),
            line("西岭村", &n_good(16, 16), "③"),
            line("南湖村", &n_good(16, 16), "①⑤、2"),
        ]
        .join("\n")
            + "\n"
    }

    #[test]
    fn assesses_a_table() {
        let rows = assess_csv(sample_csv().as_bytes(), None).expect("valid table");
        let summary: Vec<(&str, bool, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.village.as_str(),
                    r.verdict.passed,
                    join_reasons(&r.verdict.reasons),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("清水村", true, String::new()),
                ("石桥村", false, "好 12/16 < 80%".to_string()),
                ("东山村, 一组", false, "item 7 一般".to_string()),
                ("西岭村", false, "item 15 差；负面清单 ③".to_string()),
                (
                    "南湖村",
                    false,
                    "item 15 差；负面清单 ①；负面清单 ②；负面清单 ⑤".to_string()
                ),
            ]
        );
    }

    #[test]
    fn csv_round_trip() {
        let rows = assess_csv(sample_csv().as_bytes(), None).expect("valid table");
        let mut out = Vec::new();
        write_assessment(&rows, &mut out).expect("writing to a Vec");
        assert!(!out.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(out).expect("UTF-8 output");
        let expected = "\
village,good,total,verdict,reasons
清水村,13,16,通过,
石桥村,12,16,不通过,好 12/16 < 80%
\"东山村, 一组\",15,16,不通过,item 7 一般
西岭村,15,16,不通过,item 15 差；负面清单 ③
南湖村,15,16,不通过,item 15 差；负面清单 ①；负面清单 ②；负面清单 ⑤
";
        assert_eq!(text, expected);

        // Read it back with a plain CSV reader.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let back: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
            .collect();
        assert_eq!(back.len(), rows.len());
        for (record, row) in back.iter().zip(&rows) {
            assert_eq!(record[0], row.village);
            assert_eq!(record[1], row.verdict.good.to_string());
            assert_eq!(record[2], row.verdict.total.to_string());
            assert_eq!(record[3], verdict_label(row.verdict.passed));
            assert_eq!(record[4], join_reasons(&row.verdict.reasons));
        }
    }

    #[test]
    fn write_assessment_with_no_rows_writes_the_header() {
        let mut out = Vec::new();
        write_assessment(&[], &mut out).expect("writing to a Vec");
        assert_eq!(out, b"village,good,total,verdict,reasons\n");
    }

    #[test]
    fn reads_gb18030_and_utf16_files() {
        let text = sample_csv();
        let from_utf8 = assess_csv(text.as_bytes(), None).expect("UTF-8");
        let bytes = gb18030(&text);
        assert!(std::str::from_utf8(&bytes).is_err());
        assert_eq!(assess_csv(&bytes, None), Ok(from_utf8.clone()));
        assert_eq!(
            assess_csv(&utf16le_with_bom(&text), None),
            Ok(from_utf8.clone())
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(assess_csv(&bom, None), Ok(from_utf8));
    }

    #[test]
    fn columns_in_any_order_with_padding_and_crlf() {
        let text = " negative ,item2, village ,item1\r\n③,较好,甲村,好\r\n,好,乙村,好\r\n";
        let rows = assess_csv(text.as_bytes(), None).expect("valid table");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].village, "甲村");
        assert_eq!(rows[0].verdict.reasons, vec!["好 1/2 < 80%", "负面清单 ③"]);
        assert_eq!(rows[1].village, "乙村");
        assert!(rows[1].verdict.passed);
    }

    #[test]
    fn blank_records_and_unnamed_empty_columns_are_skipped() {
        let text =
            "village,item1,negative,,\n甲村,好,,,\n,,,,\n  , ,\u{3000},,\n\n乙村, 较好 ,,,\n";
        let rows = assess_csv(text.as_bytes(), None).expect("valid table");
        let names: Vec<&str> = rows.iter().map(|r| r.village.as_str()).collect();
        assert_eq!(names, vec!["甲村", "乙村"]);
        assert_eq!(rows[1].verdict.reasons, vec!["好 0/1 < 80%"]);
    }

    #[test]
    fn data_rows_errors_name_row_and_column() {
        let text = [
            header(3),                                     // row 1
            "甲村,好,好,好,".to_string(),                  // row 2
            "\"乙村\n(two lines)\",好,好,好,".to_string(), // row 3 (spans 2 lines)
            "丙村,好,良好,好,".to_string(),                // row 4
            String::new(),                                 // row 5 (empty line)
            "丁村,好,,差,9".to_string(),                   // row 6
            ",好,好,好,".to_string(),                      // row 7
            "甲村,好,好,好,".to_string(),                  // row 8
            "戊村,好,好".to_string(),                      // row 9
            "己村,好,好,好,\"1\n2\",extra".to_string(),    // row 10
            "庚村,好, 好 ,好,①x".to_string(),              // row 11
        ]
        .join("\n");
        assert_eq!(
            messages(assess_csv(text.as_bytes(), None)),
            vec![
                "row 4, column item2: \"良好\" is not a grade (好, 较好, 一般 or 差)",
                "row 6, column item2: missing grade (好, 较好, 一般 or 差)",
                "row 6, column negative: \"9\" is not a negative-list situation (1–8 or ①–⑧)",
                "row 7, column village: village name is empty",
                "row 8, column village: village \"甲村\" already appears in row 2",
                "row 9: expected 5 fields as in the header, found 3",
                "row 10: expected 5 fields as in the header, found 6",
                "row 11, column negative: \"①x\" is not a negative-list situation (1–8 or ①–⑧)",
            ]
        );
    }

    #[test]
    fn spec_example_error() {
        let mut grades = n_good(16, 16);
        grades[6] = "良好";
        let text = [
            header(16),
            line("甲村", &n_good(16, 16), ""),
            line("\"乙村\n二组\"", &n_good(16, 16), ""),
            line("丙村", &grades, ""),
        ]
        .join("\n");
        let err = assess_csv(text.as_bytes(), None).expect_err("bad grade");
        assert_eq!(
            err.to_string(),
            "row 4, column item7: \"良好\" is not a grade (好, 较好, 一般 or 差)"
        );
        assert_eq!(
            err.errors,
            vec![RowError {
                row: Some(4),
                column: Some("item7".to_string()),
                message: "\"良好\" is not a grade (好, 较好, 一般 or 差)".to_string(),
                detail_zh: "无法识别的等次\"良好\"（应为 好、较好、一般 或 差）".to_string(),
            }]
        );
    }

    #[test]
    fn value_in_unnamed_column_is_an_error() {
        let text = "village,item1,negative,\n甲村,好,,备注\n";
        assert_eq!(
            messages(assess_csv(text.as_bytes(), None)),
            vec!["row 2, column D: \"备注\" is in a column without a header"]
        );
    }

    #[test]
    fn bad_headers() {
        let cases: &[(&str, &[&str])] = &[
            (
                "village,item1,item3,negative",
                &[
                    "row 1: missing column \"item2\" (item columns must run from item1 to item3 without gaps)",
                ],
            ),
            (
                "village,item1,item2",
                &["row 1: missing column \"negative\""],
            ),
            ("item1,negative", &["row 1: missing column \"village\""]),
            (
                "village,negative",
                &["row 1: no item columns (expected item1, item2, …)"],
            ),
            (
                "village,item1,item2,item1,negative",
                &[
                    "row 1, column item1: \"item1\" appears more than once in the header (columns B and D)",
                ],
            ),
            (
                "village,item1,negative,village",
                &[
                    "row 1, column village: \"village\" appears more than once in the header (columns A and D)",
                ],
            ),
            (
                "village,item1,negative,remark",
                &[
                    "row 1, column remark: unknown column \"remark\" (expected village, item1 … itemK and negative)",
                ],
            ),
            (
                "Village,item1,negative",
                &[
                    "row 1, column Village: unknown column \"Village\" (expected village, item1 … itemK and negative)",
                    "row 1: missing column \"village\"",
                ],
            ),
            (
                "village,item01,negative",
                &[
                    "row 1, column item01: unknown column \"item01\" (expected village, item1 … itemK and negative)",
                    "row 1: no item columns (expected item1, item2, …)",
                ],
            ),
            (
                "village,item0,item1,negative",
                &[
                    "row 1, column item0: unknown column \"item0\" (expected village, item1 … itemK and negative)",
                ],
            ),
            (
                "village,item2,negative",
                &[
                    "row 1: missing column \"item1\" (item columns must run from item1 to item2 without gaps)",
                ],
            ),
        ];
        for (head, expected) in cases {
            let text = format!("{head}\n甲村,好,好,好,好\n");
            assert_eq!(
                messages(assess_csv(text.as_bytes(), None)),
                expected.to_vec(),
                "{head}"
            );
        }
    }

    #[test]
    fn huge_item_number_gap_is_bounded() {
        let text = "village,item1,item4000000000,negative\n甲村,好,好,\n";
        let err = assess_csv(text.as_bytes(), None).expect_err("gap");
        assert_eq!(err.errors.len(), MAX_ERRORS);
        assert!(err.truncated);
        assert_eq!(
            err.errors[0].to_string(),
            "row 1: missing column \"item2\" (item columns must run from item1 to item4000000000 without gaps)"
        );
        assert!(err.to_string().ends_with(&format!(
            "(more errors not shown; only the first {MAX_ERRORS} are listed)"
        )));
    }

    #[test]
    fn errors_are_capped() {
        let mut lines = vec![header(1)];
        lines.extend((0..MAX_ERRORS + 50).map(|i| format!("村{i},优,")));
        let err = assess_csv(lines.join("\n").as_bytes(), None).expect_err("bad grades");
        assert_eq!(err.errors.len(), MAX_ERRORS);
        assert!(err.truncated);
        // Row 1 is the header.
        assert_eq!(err.errors[MAX_ERRORS - 1].row, Some(MAX_ERRORS as u64 + 1));
        assert_eq!(err.to_string().lines().count(), MAX_ERRORS + 1);
    }

    #[test]
    fn whole_file_problems() {
        fn is_error<E: std::error::Error>(_: &E) {}
        is_error(&assess_csv(b"", None).expect_err("empty"));
        assert_eq!(messages(assess_csv(b"", None)), vec!["the file is empty"]);
        assert_eq!(
            messages(assess_csv(b"\n \n,,\n", None)),
            vec!["the file is empty"]
        );
        assert_eq!(
            messages(assess_csv(b"village,item1,negative\n\n", None)),
            vec!["the file has a header but no village rows"]
        );
        assert_eq!(
            messages(assess_csv(b"\xFF\xFE\x00\xD8", None)),
            vec!["the file is not text in UTF-8, UTF-16 (with byte order mark) or GB18030/GBK"]
        );
    }

    #[test]
    fn header_not_on_first_line_reports_its_real_row() {
        let text = "\n\nvillage,item1\n";
        assert_eq!(
            messages(assess_csv(text.as_bytes(), None)),
            vec!["row 3: missing column \"negative\""]
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs: Vec<Vec<u8>> = vec![
            b"\"".to_vec(),
            b"\"\"\"".to_vec(),
            b"village,item1,negative\n\"unterminated".to_vec(),
            b"village,item1,negative\n\xE5\xA5\xBD".to_vec(),
            b"\r\r\r".to_vec(),
            b",,,,,,,,\n,,,".to_vec(),
            vec![0xFE, 0xFF],
            vec![0xEF, 0xBB, 0xBF],
            vec![0x81; 7],
            "village,item1,negative\n甲村,好,①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳".into(),
            "item4294967295,item4294967296,village,negative".into(),
        ];
        for input in inputs {
            let _ = assess_csv(&input, None);
        }
        // Every byte pair, as a tiny whole file and after a valid header.
        for a in 0..=255u8 {
            for b in [0u8, b'\n', b'"', b',', 0x80, 0xA1, 0xFF] {
                let _ = assess_csv(&[a, b], None);
                let mut text = b"village,item1,negative\n".to_vec();
                text.extend_from_slice(&[a, b, b',', a, b',', b]);
                let _ = assess_csv(&text, None);
            }
        }
    }
}
