//! What every fuzz target checks besides "no panic": the invariants a user relies on.
//!
//! A target turns the fuzzer's bytes into an input, runs the real parser and hands the
//! result here. An invariant that does not hold panics, which libFuzzer reports as a crash
//! with the input saved under `artifacts/`.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::OnceLock;

pub mod xlsx;

use minyi::fieldwork::import::{CaseState, parse_results};
use minyi::forms::{Form, FormSet};
use minyi::roster::{Limits, Phone, Receipt, Row, read_roster};

/// Rows a fuzzed roster may have: small, so a run stays fast; the limit is itself checked.
const FUZZ_MAX_ROWS: u64 = 10_000;

/// Lets panics inside calamine unwind, as in the server, where minyi's guard around every
/// calamine call turns them into a broken-spreadsheet error for that upload. Any other panic
/// aborts as libFuzzer needs; one inside calamine that the guard did not catch reaches
/// libfuzzer-sys's own `catch_unwind`, which aborts too.
pub fn let_calamine_panics_unwind() {
    let abort_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_calamine = info
            .location()
            .is_some_and(|l| l.file().contains("/calamine-"));
        if in_calamine {
            eprintln!("calamine panicked (caught by minyi's guard): {info}");
        } else {
            abort_hook(info);
        }
    }));
}

/// The built-in questionnaires, parsed once per process.
pub fn forms() -> &'static FormSet {
    static FORMS: OnceLock<FormSet> = OnceLock::new();
    FORMS.get_or_init(|| match minyi::forms::builtin() {
        Ok(set) => set,
        Err(e) => panic!("the built-in forms do not load: {e:?}"),
    })
}

/// No run of more than 12 ASCII digits: a longer number is likely an ID card number, and
/// messages must not echo it (PIPL).
pub fn assert_no_long_number(message: &str) {
    let mut run = 0;
    for c in message.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        assert!(run <= 12, "a message echoes a long number: {message}");
    }
}

/// Decodes `bytes` as an uploaded roster and checks the receipt against the rows delivered.
pub fn check_roster(bytes: &[u8]) {
    let limits = Limits {
        max_rows: FUZZ_MAX_ROWS,
    };
    let mut rows: Vec<Row> = Vec::new();
    let result = read_roster(Cursor::new(bytes), &limits, &mut |row| {
        rows.push(row);
        Ok(())
    });
    match result {
        Ok(receipt) => check_receipt(&receipt, &rows),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert!(!e.zh().is_empty());
            assert_no_long_number(&e.to_string());
            assert_no_long_number(&e.zh());
        }
    }
}

fn check_receipt(receipt: &Receipt, rows: &[Row]) {
    assert_eq!(
        receipt.rows_read,
        receipt.accepted + receipt.invalid + receipt.duplicates,
        "{receipt:?}"
    );
    assert!(receipt.rows_read <= FUZZ_MAX_ROWS);
    assert_eq!(receipt.accepted, rows.len() as u64);
    assert!(receipt.errors.len() <= minyi::roster::MAX_ERRORS);
    assert_eq!(
        receipt.invalid,
        receipt.errors.len() as u64 + receipt.errors_omitted
    );
    assert!(receipt.header_row >= 1);
    let mut last = receipt.header_row;
    let mut seen = HashSet::new();
    for row in rows {
        assert!(
            row.row > last,
            "rows out of order: {} after {last}",
            row.row
        );
        last = row.row;
        assert!(seen.insert(row.phone), "a phone accepted twice");
        assert_eq!(Phone::parse(row.phone.as_str()), Ok(row.phone));
        for text in [&row.name, &row.service, &row.service_date]
            .into_iter()
            .flatten()
        {
            assert!(text.chars().count() <= minyi::roster::MAX_TEXT_CHARS);
        }
    }
    for e in &receipt.errors {
        assert!(e.row > receipt.header_row, "error above the header: {e:?}");
        assert_no_long_number(&e.reason);
        assert_no_long_number(&e.reason_zh);
    }
    assert_eq!(
        receipt.duplicates,
        receipt.duplicate_rows.len() as u64 + receipt.duplicates_omitted
    );
    assert!(receipt.duplicate_rows.len() <= minyi::roster::MAX_ERRORS);
    for d in &receipt.duplicate_rows {
        assert!(d.first_row < d.row, "a duplicate before its first row: {d:?}");
        let first = rows.iter().find(|r| r.row == d.first_row);
        let first = first.unwrap_or_else(|| panic!("a duplicate of no accepted row: {d:?}"));
        assert_eq!(first.phone.masked(), d.phone, "{d:?}");
    }
    assert!(receipt.skipped_rows.len() as u64 <= receipt.skipped);
    assert!(receipt.skipped_rows.len() <= minyi::roster::MAX_ERRORS);
    assert!(receipt.rows_read + receipt.skipped <= FUZZ_MAX_ROWS);
    for s in &receipt.skipped_rows {
        assert!(s.row > receipt.header_row, "skipped above the header: {s:?}");
        assert!(rows.iter().all(|r| r.row != s.row), "a row both read and skipped");
        assert_no_long_number(&s.reason);
        assert_no_long_number(&s.reason_zh);
    }
    let mut sorted: Vec<Phone> = rows.iter().map(|r| r.phone).collect();
    sorted.sort_unstable();
    assert_eq!(
        receipt.fingerprint,
        minyi::roster::rows::fingerprint(&sorted)
    );
}

/// Normalises `raw` and checks that a number is digits only and normalises to itself.
pub fn check_phone(raw: &str) {
    match Phone::parse(raw) {
        Ok(phone) => {
            let digits = phone.as_str();
            assert!((10..=12).contains(&digits.len()), "{raw:?} → {digits}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            assert!(digits.starts_with('0') || digits.starts_with('1'));
            assert_eq!(
                Phone::parse(digits),
                Ok(phone),
                "{raw:?} does not round-trip"
            );
            let n = digits.len();
            let hidden = "*".repeat(n - 7);
            assert_eq!(
                phone.masked(),
                format!("{}{hidden}{}", &digits[..3], &digits[n - 4..])
            );
        }
        Err(e) => {
            assert_no_long_number(&e.to_string());
            assert_no_long_number(&e.zh());
        }
    }
}

/// Reads a spreadsheet number cell and checks the same invariants.
pub fn check_phone_number(f: f64) {
    match Phone::from_xlsx_number(f) {
        Ok(phone) => check_phone(phone.as_str()),
        Err(e) => {
            assert_no_long_number(&e.to_string());
            assert_no_long_number(&e.zh());
        }
    }
}

/// Parses form fields as one submission; what is accepted must survive its JSON form.
pub fn check_answers(form: &Form, fields: &[(String, String)]) {
    match minyi::forms::parse_answers(form, fields) {
        Ok(answers) => {
            let json = answers.to_json();
            let back = minyi::forms::Answers::from_json(form, &json);
            assert_eq!(back.as_ref().ok(), Some(&answers), "{json}");
            for (id, _) in answers.iter() {
                assert!(
                    form.question(id).is_some(),
                    "an answer to no question: {id}"
                );
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for (id, _) in errors.problems() {
                assert!(form.question(id).is_some());
                assert!(errors.message_zh(id).is_some_and(|m| !m.is_empty()));
            }
        }
    }
}

/// Parses stored answer JSON (a database row) against the form: an error, never a panic.
pub fn check_answers_json(form: &Form, json: &str) {
    if let Ok(answers) = minyi::forms::Answers::from_json(form, json) {
        let again = minyi::forms::Answers::from_json(form, &answers.to_json());
        assert_eq!(again.ok().as_ref(), Some(&answers));
    }
}

/// Case ids 1–20 are released; 3 and 4 are already answered.
fn cases() -> HashMap<i64, CaseState> {
    (1..=20)
        .map(|id| {
            (
                id,
                CaseState {
                    answered: id == 3 || id == 4,
                },
            )
        })
        .collect()
}

fn time(text: &str) -> Option<i64> {
    minyi::domain::parse_china_time(text)
}

/// Checks a results-import CSV: rows in order, each case complete at most once, every error
/// placed on a row of the file.
pub fn check_results_import(text: &str) {
    let form = &forms().recipients;
    // Rows are numbered by line ends, each "\r\n", "\r" or "\n" counting once.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() as u64 + 1;
    match parse_results(text, form, &cases(), &HashSet::new(), time, 2_000_000_000) {
        Ok((rows, skipped)) => {
            assert_eq!(skipped, 0);
            let mut last = 1;
            let mut completes = HashSet::new();
            for row in &rows {
                assert!(
                    row.row > last && row.row <= lines,
                    "row {} of {lines}",
                    row.row
                );
                last = row.row;
                assert!(cases().contains_key(&row.case_id));
                if let Some(json) = &row.answers_json {
                    assert!(completes.insert(row.case_id), "two completes for one case");
                    assert!(minyi::forms::Answers::from_json(form, json).is_ok());
                }
            }
            // Importing the same file again, with its keys known, adds nothing.
            let keys: HashSet<String> = rows.iter().map(|r| r.import_key.clone()).collect();
            if let Ok((again, skipped)) =
                parse_results(text, form, &cases(), &keys, time, 2_000_000_000)
            {
                assert!(again.is_empty(), "a re-import adds rows");
                assert_eq!(skipped, rows.len());
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(
                    e.row >= 1 && e.row <= lines,
                    "error on row {} of {lines}",
                    e.row
                );
                assert!(!e.message.is_empty() && !e.message_zh.is_empty());
            }
        }
    }
}
