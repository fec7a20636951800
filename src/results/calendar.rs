//! Working days, for the seven-working-day publicity (公示) period.
//!
//! A working day is Monday to Friday, except public holidays, plus the
//! weekend days that are adjusted to be working days (调休). The exceptions
//! come from a calendar the administrator maintains, usually as a small CSV
//! file read by [`parse_calendar_csv`]: a date column (`日期` or `date`), a
//! kind column (`类型` or `kind`) and an optional name column (`名称` or
//! `name`).
//!
//! This module is pure: no clock and no I/O beyond the bytes it is given.

use crate::csv_table::{Errors, Row, RowError, Table, quote};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use time::{Date, Month, Weekday};

/// How many days [`Calendar::nth_working_day`] looks ahead before giving up.
pub const SEARCH_LIMIT_DAYS: u32 = 366 * 3;

pub use crate::domain::DayKind;

/// One line of the administrator's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// The date.
    pub date: Date,
    /// Holiday or working day.
    pub kind: DayKind,
    /// What the day is, e.g. 国庆节 (may be empty).
    pub name: String,
}

/// The exceptions to the Monday-to-Friday rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<Date, (DayKind, String)>,
}

impl Calendar {
    /// An empty calendar: working days are exactly Monday to Friday.
    pub fn new() -> Self {
        Self::default()
    }

    /// A calendar of these entries; for a date given more than once, the
    /// last entry wins.
    pub fn from_entries<I: IntoIterator<Item = CalendarEntry>>(entries: I) -> Self {
        let mut calendar = Self::new();
        for entry in entries {
            calendar.insert(entry.date, entry.kind, entry.name);
        }
        calendar
    }

    /// Sets what `date` is, returning what it was set to before.
    pub fn insert(
        &mut self,
        date: Date,
        kind: DayKind,
        name: impl Into<String>,
    ) -> Option<(DayKind, String)> {
        self.days.insert(date, (kind, name.into()))
    }

    /// The entry for `date`, if the calendar has one.
    pub fn get(&self, date: Date) -> Option<&(DayKind, String)> {
        self.days.get(&date)
    }

    /// All entries, by date.
    pub fn days(&self) -> &BTreeMap<Date, (DayKind, String)> {
        &self.days
    }

    /// True for a working day: the calendar's entry when it has one,
    /// otherwise Monday to Friday.
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.days.get(&date) {
            Some((kind, _)) => *kind == DayKind::Workday,
            None => is_weekday(date),
        }
    }

    /// The `n`-th working day counting from `start`, where `start` itself
    /// counts if it is a working day: with `n = 7` this is the last day of a
    /// publicity period that starts on `start`.
    ///
    /// `None` when `n` is 0, or when fewer than `n` working days are found
    /// within [`SEARCH_LIMIT_DAYS`] days from `start` (or before the end of
    /// the representable dates).
    pub fn nth_working_day(&self, start: Date, n: u32) -> Option<Date> {
        if n == 0 {
            return None;
        }
        let mut date = start;
        let mut found = 0u32;
        for _ in 0..SEARCH_LIMIT_DAYS {
            if self.is_working_day(date) {
                found += 1;
                if found == n {
                    return Some(date);
                }
            }
            date = date.next_day()?;
        }
        None
    }

    /// The number of working days from `start` to `end`, both included;
    /// 0 when `end` is before `start`.
    pub fn working_days_between(&self, start: Date, end: Date) -> u32 {
        if end < start {
            return 0;
        }
        let mut count = weekdays_between(start, end);
        for (date, (kind, _)) in self.days.range(start..=end) {
            match (kind, is_weekday(*date)) {
                (DayKind::Holiday, true) => count -= 1,
                (DayKind::Workday, false) => count += 1,
                _ => {}
            }
        }
        u32::try_from(count.max(0)).unwrap_or(u32::MAX)
    }
}

fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Monday-to-Friday days from `start` to `end` inclusive (`start <= end`).
fn weekdays_between(start: Date, end: Date) -> i64 {
    let days = i64::from(end.to_julian_day()) - i64::from(start.to_julian_day()) + 1;
    let first = i64::from(start.weekday().number_days_from_monday());
    let mut count = days / 7 * 5;
    for k in 0..days % 7 {
        if (first + k) % 7 < 5 {
            count += 1;
        }
    }
    count
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// Parses a date as spreadsheets write it: `2026-10-01`, `2026/10/1`,
/// `2026年10月1日`, optionally followed by a time of day
/// (`2026-10-01 00:00:00`, `2026/10/1 0:00`, `2026-10-01T00:00:00`), which
/// is ignored. The year has four digits; month and day one or two.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let date_part = match text.split_once([' ', 'T']) {
        Some((date, time)) => {
            if !is_time_of_day(time.trim()) {
                return None;
            }
            date
        }
        None => text,
    };
    let (year, month, day) = if let Some(rest) = date_part.strip_suffix('日') {
        let (year, rest) = rest.split_once('年')?;
        let (month, day) = rest.split_once('月')?;
        (year, month, day)
    } else {
        let separator = if date_part.contains('-') { '-' } else { '/' };
        let mut parts = date_part.split(separator);
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (year, month, day)
    };
    let year = digits(year, 4, 4)?;
    let month = Month::try_from(u8::try_from(digits(month, 1, 2)?).ok()?).ok()?;
    let day = u8::try_from(digits(day, 1, 2)?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()
}

/// ASCII digits only, between `min` and `max` of them.
fn digits(text: &str, min: usize, max: usize) -> Option<u32> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `H:MM`, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, within range.
fn is_time_of_day(text: &str) -> bool {
    let (clock, fraction) = match text.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    if let Some(fraction) = fraction
        && (fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let in_range =
        |part: &str, min_len: usize, max: u32| digits(part, min_len, 2).is_some_and(|v| v <= max);
    match parts.as_slice() {
        [h, m] if fraction.is_none() => in_range(h, 1, 23) && in_range(m, 2, 59),
        [h, m, s] => in_range(h, 1, 23) && in_range(m, 2, 59) && in_range(s, 2, 59),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Calendar CSV
// ---------------------------------------------------------------------------

const DATE_HEADERS: [&str; 2] = ["日期", "date"];
const KIND_HEADERS: [&str; 2] = ["类型", "kind"];
const NAME_HEADERS: [&str; 2] = ["名称", "name"];

/// Reads the administrator's calendar from a CSV file.
///
/// The file is decoded like the assessment table (UTF-8 with or without
/// BOM, UTF-16 with BOM, otherwise GB18030/GBK). Row 1 is the header;
/// columns are found by name: the date column `日期` or `date`, the kind
/// column `类型` or `kind` (values in [`DayKind::parse`]), and optionally the
/// name column `名称` or `name`. Other columns are ignored. Dates are read by
/// [`parse_date`]. Rows whose cells are all empty are skipped.
///
/// A date listed twice with the same kind is kept once (the first entry,
/// with the first non-empty name); listed with conflicting kinds it is an
/// error. Returns the entries sorted by date, or every problem found: at
/// most [`crate::limits::MAX_ERRORS`] of them, followed by a row-less note when there were
/// more.
pub fn parse_calendar_csv(bytes: &[u8]) -> Result<Vec<CalendarEntry>, Vec<RowError>> {
    let table = Table::read(bytes).map_err(|e| vec![e])?;
    let mut errors = Errors::new();

    let date_col = table.require(&DATE_HEADERS, "date", "日期");
    let kind_col = table.require(&KIND_HEADERS, "kind", "类型");
    let name_col = table.column(&NAME_HEADERS, "name", "名称");
    let (date_col, kind_col, name_col) = match (date_col, kind_col, name_col) {
        (Ok(date), Ok(kind), Ok(name)) => (date, kind, name),
        (date, kind, name) => {
            return Err([date.err(), kind.err(), name.err()]
                .into_iter()
                .flatten()
                .collect());
        }
    };

    // Date → (kind, name, row of first listing).
    let mut days: BTreeMap<Date, (DayKind, String, u64)> = BTreeMap::new();
    for line in &table.rows {
        if line.is_blank() {
            continue;
        }
        let Row { row, .. } = *line;
        let cell = |index: usize| line.cell(index);
        let date_text = cell(date_col.index);
        let kind_text = cell(kind_col.index);
        let name = name_col.as_ref().map(|c| cell(c.index)).unwrap_or_default();

        let mut row_errors = Vec::new();
        let date = if date_text.is_empty() {
            row_errors.push(RowError::new(
                Some(row),
                Some(&date_col.name),
                "missing date",
                "缺少日期",
            ));
            None
        } else {
            let date = parse_date(date_text);
            if date.is_none() {
                row_errors.push(RowError::new(
                    Some(row),
                    Some(&date_col.name),
                    format!(
                        "unrecognised date {} (expected e.g. 2026-10-01, 2026/10/1 or 2026年10月1日)",
                        quote(date_text)
                    ),
                    format!("无法识别的日期{}", quote(date_text)),
                ));
            }
            date
        };
        let kind = if kind_text.is_empty() {
            row_errors.push(RowError::new(
                Some(row),
                Some(&kind_col.name),
                "missing kind (放假 or 上班)",
                "缺少类型（放假 或 上班）",
            ));
            None
        } else {
            let kind = DayKind::parse(kind_text);
            if kind.is_none() {
                row_errors.push(RowError::new(
                    Some(row),
                    Some(&kind_col.name),
                    format!(
                        "{} is not a kind of day (放假, 休息, 节假日 or holiday for a day off; 上班, 补班, 调休上班 or workday for a working day)",
                        quote(kind_text)
                    ),
                    format!(
                        "无法识别的类型{}（休息日填 放假、休息 或 节假日，上班日填 上班、补班 或 调休上班）",
                        quote(kind_text)
                    ),
                ));
            }
            kind
        };

        if let (Some(date), Some(kind)) = (date, kind) {
            match days.entry(date) {
                Entry::Vacant(slot) => {
                    slot.insert((kind, name.to_string(), row));
                }
                Entry::Occupied(mut slot) => {
                    let (first_kind, first_name, first_row) = slot.get_mut();
                    if *first_kind != kind {
                        row_errors.push(RowError::new(
                            Some(row),
                            Some(&date_col.name),
                            format!(
                                "{date} is a {} here but a {} in row {first_row}",
                                kind.label_en(),
                                first_kind.label_en()
                            ),
                            format!(
                                "{date}在第{first_row}行是{}，这里却是{}",
                                first_kind.label_zh(),
                                kind.label_zh()
                            ),
                        ));
                    } else if first_name.is_empty() {
                        *first_name = name.to_string();
                    }
                }
            }
        }

        for error in row_errors {
            errors.push(error);
        }
        if errors.full() {
            break;
        }
    }

    if let Some(error) = table.read_error
        && !errors.full()
    {
        errors.push(error);
    }
    if !errors.is_empty() {
        return Err(errors.into_list());
    }
    Ok(days
        .into_iter()
        .map(|(date, (kind, name, _))| CalendarEntry { date, kind, name })
        .collect())
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_ERRORS;
    use time::macros::date;

    /// National Day 2026 as assumed here: 10-01 … 10-07 off, Sunday 09-20
    /// and Saturday 10-10 worked instead.
    fn national_day_2026() -> Calendar {
        let mut calendar = Calendar::new();
        let mut day = date!(2026 - 10 - 01);
        while day <= date!(2026 - 10 - 07) {
            calendar.insert(day, DayKind::Holiday, "国庆节、中秋节");
            day = day.next_day().expect("in range");
        }
        calendar.insert(date!(2026 - 09 - 20), DayKind::Workday, "国庆节调休");
        calendar.insert(date!(2026 - 10 - 10), DayKind::Workday, "国庆节调休");
        calendar
    }

    /// Working days by walking day by day (the reference for the tests).
    fn working_days_naive(calendar: &Calendar, start: Date, end: Date) -> Vec<Date> {
        let mut out = Vec::new();
        let mut day = start;
        while day <= end {
            if calendar.is_working_day(day) {
                out.push(day);
            }
            day = day.next_day().expect("in range");
        }
        out
    }

    // --- working days ----------------------------------------------------

    #[test]
    fn seventh_working_day_without_calendar() {
        let calendar = Calendar::new();
        assert_eq!(date!(2026 - 09 - 21).weekday(), Weekday::Monday);
        assert_eq!(
            calendar.nth_working_day(date!(2026 - 09 - 21), 7),
            Some(date!(2026 - 09 - 29))
        );
        assert_eq!(
            calendar.nth_working_day(date!(2026 - 09 - 21), 1),
            Some(date!(2026 - 09 - 21))
        );
        assert_eq!(calendar.nth_working_day(date!(2026 - 09 - 21), 0), None);
        assert_eq!(
            calendar.working_days_between(date!(2026 - 09 - 21), date!(2026 - 09 - 29)),
            7
        );
    }

    #[test]
    fn publicity_across_national_day() {
        let calendar = national_day_2026();
        let start = date!(2026 - 09 - 30);
        assert_eq!(start.weekday(), Weekday::Wednesday);
        let expected = [
            date!(2026 - 09 - 30),
            date!(2026 - 10 - 08),
            date!(2026 - 10 - 09),
            date!(2026 - 10 - 10),
            date!(2026 - 10 - 12),
            date!(2026 - 10 - 13),
            date!(2026 - 10 - 14),
        ];
        for (i, day) in expected.iter().enumerate() {
            assert_eq!(
                calendar.nth_working_day(start, i as u32 + 1),
                Some(*day),
                "n={}",
                i + 1
            );
        }
        assert_eq!(
            calendar.nth_working_day(start, 7),
            Some(date!(2026 - 10 - 14))
        );
        assert_eq!(
            working_days_naive(&calendar, start, date!(2026 - 10 - 14)),
            expected
        );
        assert_eq!(
            calendar.working_days_between(start, date!(2026 - 10 - 14)),
            7
        );
        assert!(calendar.is_working_day(date!(2026 - 10 - 10)));
        assert!(!calendar.is_working_day(date!(2026 - 10 - 11)));
        assert!(!calendar.is_working_day(date!(2026 - 10 - 01)));
    }

    #[test]
    fn start_on_an_ordinary_saturday_does_not_count() {
        let calendar = national_day_2026();
        let start = date!(2026 - 09 - 26);
        assert_eq!(start.weekday(), Weekday::Saturday);
        assert!(!calendar.is_working_day(start));
        // Mon 28, Tue 29, Wed 30, then 10-08, 10-09, 10-10 (Sat, 调休), 10-12.
        assert_eq!(
            calendar.nth_working_day(start, 1),
            Some(date!(2026 - 09 - 28))
        );
        assert_eq!(
            calendar.nth_working_day(start, 7),
            Some(date!(2026 - 10 - 12))
        );
        // Without the calendar: 28, 29, 30, 1, 2, 5, 6.
        assert_eq!(
            Calendar::new().nth_working_day(start, 7),
            Some(date!(2026 - 10 - 06))
        );
    }

    #[test]
    fn start_on_an_adjusted_working_sunday_counts() {
        let calendar = national_day_2026();
        let start = date!(2026 - 09 - 20);
        assert_eq!(start.weekday(), Weekday::Sunday);
        assert!(calendar.is_working_day(start));
        assert_eq!(calendar.nth_working_day(start, 1), Some(start));
        // 20 (Sun, 调休), 21, 22, 23, 24, 25, 28.
        assert_eq!(
            calendar.nth_working_day(start, 7),
            Some(date!(2026 - 09 - 28))
        );
        assert_eq!(
            calendar.working_days_between(start, date!(2026 - 09 - 28)),
            7
        );
    }

    #[test]
    fn gives_up_after_the_search_limit() {
        let start = date!(2026 - 01 - 05);
        // Every day off for `days` days, then an explicit working day.
        let blocked = |days: u32| {
            let mut calendar = Calendar::new();
            let mut day = start;
            for _ in 0..days {
                calendar.insert(day, DayKind::Holiday, "");
                day = day.next_day().expect("in range");
            }
            calendar.insert(day, DayKind::Workday, "");
            (calendar, day)
        };
        // The working day is the last one looked at: found.
        let (calendar, last) = blocked(SEARCH_LIMIT_DAYS - 1);
        assert_eq!(calendar.nth_working_day(start, 1), Some(last));
        // One day further: given up.
        let (calendar, beyond) = blocked(SEARCH_LIMIT_DAYS);
        assert_eq!(calendar.nth_working_day(start, 1), None);
        assert_eq!(calendar.nth_working_day(beyond, 1), Some(beyond));
        // Too many working days asked for.
        assert_eq!(Calendar::new().nth_working_day(start, 5000), None);
        // The end of the representable dates.
        let last_date = Date::MAX;
        let expected = Some(last_date).filter(|d| is_weekday(*d));
        assert_eq!(Calendar::new().nth_working_day(last_date, 1), expected);
        assert_eq!(Calendar::new().nth_working_day(last_date, 2), None);
    }

    #[test]
    fn working_days_between_matches_walking() {
        let calendar = national_day_2026();
        let first = date!(2026 - 09 - 10);
        let last = date!(2026 - 10 - 25);
        let mut start = first;
        while start <= last {
            let mut end = start;
            while end <= last {
                assert_eq!(
                    calendar.working_days_between(start, end) as usize,
                    working_days_naive(&calendar, start, end).len(),
                    "{start} .. {end}"
                );
                end = end.next_day().expect("in range");
            }
            start = start.next_day().expect("in range");
        }
        assert_eq!(calendar.working_days_between(last, first), 0);
        // Holidays on weekends and workdays on weekdays change nothing.
        let mut odd = Calendar::new();
        odd.insert(date!(2026 - 10 - 03), DayKind::Holiday, "Saturday anyway");
        odd.insert(date!(2026 - 10 - 05), DayKind::Workday, "Monday anyway");
        assert_eq!(
            odd.working_days_between(date!(2026 - 10 - 01), date!(2026 - 10 - 07)),
            5
        );
        // The whole representable range does not overflow or panic.
        assert!(Calendar::new().working_days_between(Date::MIN, Date::MAX) > 0);
    }

    #[test]
    fn nth_working_day_agrees_with_counting() {
        let calendar = national_day_2026();
        let mut start = date!(2026 - 09 - 15);
        while start <= date!(2026 - 10 - 15) {
            for n in 1..=10 {
                let end = calendar.nth_working_day(start, n).expect("found");
                assert!(calendar.is_working_day(end));
                assert_eq!(
                    calendar.working_days_between(start, end),
                    n,
                    "{start} n={n}"
                );
            }
            start = start.next_day().expect("in range");
        }
    }

    #[test]
    fn calendar_accessors() {
        let calendar = Calendar::from_entries([
            CalendarEntry {
                date: date!(2026 - 10 - 01),
                kind: DayKind::Workday,
                name: "first".into(),
            },
            CalendarEntry {
                date: date!(2026 - 10 - 01),
                kind: DayKind::Holiday,
                name: "国庆节".into(),
            },
        ]);
        assert_eq!(calendar.days().len(), 1);
        assert_eq!(
            calendar.get(date!(2026 - 10 - 01)),
            Some(&(DayKind::Holiday, "国庆节".to_string()))
        );
        assert_eq!(calendar.get(date!(2026 - 10 - 02)), None);
    }

    // --- dates and kinds -------------------------------------------------

    #[test]
    fn date_formats() {
        let oct1 = Some(date!(2026 - 10 - 01));
        for text in [
            "2026-10-01",
            "2026-10-1",
            "2026/10/1",
            "2026/10/01",
            "2026年10月1日",
            "2026年10月01日",
            "2026-10-01 00:00:00",
            "2026/10/1 0:00",
            "2026-10-01T00:00:00",
            "2026-10-01 08:30",
            "2026-10-01 00:00:00.000",
            "  2026-10-01\u{3000}",
        ] {
            assert_eq!(parse_date(text), oct1, "{text:?}");
        }
        for text in [
            "",
            "2026-13-01",
            "2026-02-29",
            "2026-10-32",
            "2026-00-10",
            "26-10-01",
            "20261001",
            "2026-10",
            "2026-10-01-01",
            "2026-10/01",
            "2026.10.01",
            "2026年10月1",
            "10月1日",
            "2026-10-01 25:00",
            "2026-10-01 00:60",
            "2026-10-01 00:00:00.",
            "2026-10-01 noon",
            "２０２６-10-01",
            "+2026-10-01",
            "2026-010-01",
        ] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
        assert_eq!(parse_date("2028-02-29"), Some(date!(2028 - 02 - 29)));
    }

    #[test]
    fn kind_words() {
        for word in ["放假", "休息", "节假日", "holiday", "Holiday", " 放假 "] {
            assert_eq!(DayKind::parse(word), Some(DayKind::Holiday), "{word}");
        }
        for word in ["上班", "补班", "调休上班", "workday", "WORKDAY"] {
            assert_eq!(DayKind::parse(word), Some(DayKind::Workday), "{word}");
        }
        for word in ["", "调休", "班", "work", "假"] {
            assert_eq!(DayKind::parse(word), None, "{word}");
        }
    }

    // --- calendar CSV ----------------------------------------------------

    const CHINESE_CSV: &str = "\
日期,类型,名称
2026-09-20,补班,国庆节调休
2026/10/1,放假,国庆节
2026年10月2日,放假,国庆节
2026-10-03 00:00:00,休息,国庆节

2026-10-04,节假日,
2026-10-05,放假,国庆节
2026-10-06,放假,国庆节
2026-10-07,放假,国庆节
2026-10-10,调休上班,国庆节调休
";

    fn national_day_entries() -> Vec<CalendarEntry> {
        national_day_2026()
            .days()
            .iter()
            .map(|(date, (kind, _))| CalendarEntry {
                date: *date,
                kind: *kind,
                name: String::new(),
            })
            .collect()
    }

    fn without_names(entries: Vec<CalendarEntry>) -> Vec<CalendarEntry> {
        entries
            .into_iter()
            .map(|e| CalendarEntry {
                name: String::new(),
                ..e
            })
            .collect()
    }

    #[test]
    fn parses_chinese_headers() {
        let entries = parse_calendar_csv(CHINESE_CSV.as_bytes()).expect("valid");
        assert_eq!(without_names(entries.clone()), national_day_entries());
        assert_eq!(entries[0].name, "国庆节调休");
        assert_eq!(entries[4].date, date!(2026 - 10 - 04));
        assert_eq!(entries[4].name, "");
        let calendar = Calendar::from_entries(entries);
        assert_eq!(
            calendar.nth_working_day(date!(2026 - 09 - 30), 7),
            Some(date!(2026 - 10 - 14))
        );
    }

    #[test]
    fn parses_english_headers_in_any_order_without_names() {
        let text = "note, Kind ,DATE\r\nx,holiday,2026-10-01\r\n,workday,2026-10-10\r\n";
        let entries = parse_calendar_csv(text.as_bytes()).expect("valid");
        assert_eq!(
            entries,
            vec![
                CalendarEntry {
                    date: date!(2026 - 10 - 01),
                    kind: DayKind::Holiday,
                    name: String::new(),
                },
                CalendarEntry {
                    date: date!(2026 - 10 - 10),
                    kind: DayKind::Workday,
                    name: String::new(),
                },
            ]
        );
    }

    #[test]
    fn parses_gb18030_utf16_and_bom() {
        let expected = parse_calendar_csv(CHINESE_CSV.as_bytes()).expect("valid");
        let (gb, _, unmappable) = encoding_rs::GB18030.encode(CHINESE_CSV);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gb).is_err());
        assert_eq!(parse_calendar_csv(&gb), Ok(expected.clone()));

        let mut utf16 = vec![0xFF, 0xFE];
        for unit in CHINESE_CSV.encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(parse_calendar_csv(&utf16), Ok(expected.clone()));

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(CHINESE_CSV.as_bytes());
        assert_eq!(parse_calendar_csv(&bom), Ok(expected));
    }

    #[test]
    fn bad_date_names_row_and_column_in_both_languages() {
        let text = "日期,类型,名称\n2026-10-01,放假,\"国庆节\n（第一天）\"\n2026-10-02,放假,国庆节\n2026-13-01,放假,国庆节\n";
        let errors = parse_calendar_csv(text.as_bytes()).expect_err("bad date");
        assert_eq!(errors.len(), 1);
        let error = &errors[0];
        assert_eq!(error.row, Some(4));
        assert_eq!(error.column.as_deref(), Some("日期"));
        assert_eq!(
            error.message_zh(),
            "第4行\"日期\"列：无法识别的日期\"2026-13-01\""
        );
        assert_eq!(
            error.to_string(),
            "row 4, column 日期: unrecognised date \"2026-13-01\" (expected e.g. 2026-10-01, 2026/10/1 or 2026年10月1日)"
        );
    }

    #[test]
    fn row_errors_in_both_languages() {
        let text = "\
date,kind,name
2026-10-01,holiday,National Day
,holiday,
2026-10-02,,
2026-10-03,off,
2026-10-01,workday,
2026-10-01,放假,duplicate but consistent
";
        let errors = parse_calendar_csv(text.as_bytes()).expect_err("errors");
        let english: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let chinese: Vec<String> = errors.iter().map(RowError::message_zh).collect();
        assert_eq!(
            english,
            vec![
                "row 3, column date: missing date",
                "row 4, column kind: missing kind (放假 or 上班)",
                "row 5, column kind: \"off\" is not a kind of day (放假, 休息, 节假日 or holiday for a day off; 上班, 补班, 调休上班 or workday for a working day)",
                "row 6, column date: 2026-10-01 is a workday here but a holiday in row 2",
            ]
        );
        assert_eq!(
            chinese,
            vec![
                "第3行\"date\"列：缺少日期",
                "第4行\"kind\"列：缺少类型（放假 或 上班）",
                "第5行\"kind\"列：无法识别的类型\"off\"（休息日填 放假、休息 或 节假日，上班日填 上班、补班 或 调休上班）",
                "第6行\"date\"列：2026-10-01在第2行是放假，这里却是上班",
            ]
        );
    }

    #[test]
    fn duplicate_date_with_same_kind_is_kept_once() {
        let text =
            "日期,类型,名称\n2026-10-01,放假,\n2026/10/1,节假日,国庆节\n2026-10-01,holiday,其他\n";
        let entries = parse_calendar_csv(text.as_bytes()).expect("valid");
        assert_eq!(
            entries,
            vec![CalendarEntry {
                date: date!(2026 - 10 - 01),
                kind: DayKind::Holiday,
                name: "国庆节".to_string(),
            }]
        );
    }

    #[test]
    fn header_problems() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "名称,类型\n",
                &["row 1: missing the date column (\"日期\" or \"date\")"],
                &["第1行：缺少\"日期\"列（也可写作 date）"],
            ),
            (
                "日期,名称\n",
                &["row 1: missing the kind column (\"类型\" or \"kind\")"],
                &["第1行：缺少\"类型\"列（也可写作 kind）"],
            ),
            (
                "日期,类型,date\n",
                &["row 1: columns A and C are both date columns; keep only one"],
                &["第1行：A列和C列都是日期列，只能保留一列"],
            ),
            (
                "something\n",
                &[
                    "row 1: missing the date column (\"日期\" or \"date\")",
                    "row 1: missing the kind column (\"类型\" or \"kind\")",
                ],
                &[
                    "第1行：缺少\"日期\"列（也可写作 date）",
                    "第1行：缺少\"类型\"列（也可写作 kind）",
                ],
            ),
        ];
        for (text, english, chinese) in cases {
            let errors = parse_calendar_csv(text.as_bytes()).expect_err("header error");
            let got_en: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let got_zh: Vec<String> = errors.iter().map(RowError::message_zh).collect();
            assert_eq!(&got_en, english, "{text:?}");
            assert_eq!(&got_zh, chinese, "{text:?}");
        }
    }

    #[test]
    fn whole_file_problems() {
        let errors = parse_calendar_csv(b"").expect_err("empty");
        assert_eq!(errors[0].to_string(), "the file is empty");
        assert_eq!(errors[0].message_zh(), "文件是空的");
        let errors = parse_calendar_csv(b"\xFF\xFE\x00\xD8").expect_err("not text");
        assert_eq!(errors[0].row, None);
        assert!(errors[0].message_zh().contains("GB18030"));
        assert_eq!(parse_calendar_csv("日期,类型\n\n".as_bytes()), Ok(vec![]));
    }

    #[test]
    fn errors_are_capped_with_a_note() {
        let mut text = String::from("日期,类型\n");
        for _ in 0..MAX_ERRORS + 50 {
            text.push_str("bad,放假\n");
        }
        let errors = parse_calendar_csv(text.as_bytes()).expect_err("errors");
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        // Row 1 is the header.
        assert_eq!(errors[MAX_ERRORS - 1].row, Some(MAX_ERRORS as u64 + 1));
        assert_eq!(errors[MAX_ERRORS].row, None);
        assert_eq!(
            errors[MAX_ERRORS].message_zh(),
            format!("错误太多，只列出了前{MAX_ERRORS}条")
        );
    }

    #[test]
    fn short_rows_read_missing_cells_as_empty() {
        let text = "日期,类型,名称\n2026-10-01\n2026-10-02,放假\n";
        let errors = parse_calendar_csv(text.as_bytes()).expect_err("missing kind");
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec!["row 2, column 类型: missing kind (放假 or 上班)"]
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for a in 0..=255u8 {
            for b in [0u8, b'\n', b'"', b',', 0x80, 0xA1, 0xFF] {
                let _ = parse_calendar_csv(&[a, b]);
                let mut text = "日期,类型\n".as_bytes().to_vec();
                text.extend_from_slice(&[a, b, b',', a, b'\n', b, b',']);
                let _ = parse_calendar_csv(&text);
            }
        }
        for text in [
            "日期,类型\n\"unterminated",
            "日期,类型\n9999-12-31 23:59:59,上班",
            "日期,类型\n0000-01-01,放假",
        ] {
            let _ = parse_calendar_csv(text.as_bytes());
        }
    }
}
