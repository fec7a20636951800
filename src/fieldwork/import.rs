//! Results from other interviewing software, as CSV: `case_id,attempt_time,outcome` and one
//! column per question id of the recipients' questionnaire (multiple choices in one cell,
//! separated by `;`). The outcome is a key or the Chinese label the call console shows
//! ([`Outcome::parse_key_or_label`]). Every row is checked — unknown case, bad time, unknown
//! outcome, an answer not in the form, answers on a non-complete, a case already answered —
//! and reported by its row number as Excel shows it ([`crate::csv_table`]: header = 1, blank
//! rows counted, a cell with a line break still one row), whatever the line ends; a file
//! with any error imports nothing. Each row has a key, so importing the
//! same file again changes nothing.

use crate::csv_table::{Errors, RowError, Table};
use crate::fieldwork::Outcome;
use crate::forms::{Form, Kind};
use crate::ids::CaseId;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// What the importer needs to know about a case of the campaign.
#[derive(Clone, Copy, Debug)]
pub struct CaseState {
    /// Answered already (by link or phone), or its link voided or used.
    pub answered: bool,
    /// When the case was released: no attempt can be earlier.
    pub released_at: i64,
}

/// One checked row, ready to record.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// Row number as a spreadsheet shows it (header = 1).
    pub row: u64,
    pub case_id: CaseId,
    pub attempted_at: i64,
    pub outcome: Outcome,
    /// The answers as stored (JSON), for a complete.
    pub answers_json: Option<String>,
    /// SHA-256 of the row's content: re-importing it is a no-op.
    pub import_key: String,
}

fn error(
    row: Option<u64>,
    column: Option<&str>,
    en: impl Into<String>,
    zh: impl Into<String>,
) -> RowError {
    RowError::new(row, column, en, zh)
}

/// Check a results file. `cases`: the campaign's cases; `imported`: the keys of rows
/// imported before (skipped, never an error); `parse_time`: China-time text → Unix seconds.
/// Returns the rows to record (already-imported rows left out) and how many were skipped.
pub fn parse_results(
    text: &str,
    form: &Form,
    cases: &HashMap<CaseId, CaseState>,
    imported: &HashSet<String>,
    parse_time: impl Fn(&str) -> Option<i64>,
    now: i64,
) -> Result<(Vec<ResultRow>, usize), Vec<RowError>> {
    let table = Table::parse(text).map_err(|e| vec![e])?;
    let header_row = Some(table.header.row);
    let column = |name: &str| table.column(&[name], name, name);
    let (case_col, time_col, outcome_col) =
        match (column("case_id"), column("attempt_time"), column("outcome")) {
            (Ok(Some(case)), Ok(Some(time)), Ok(Some(outcome))) => {
                (case.index, time.index, outcome.index)
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(vec![e]),
            _ => {
                return Err(vec![RowError::new(
                    header_row,
                    None,
                    "the header must have case_id, attempt_time and outcome columns",
                    "表头须有 case_id、attempt_time、outcome 三列，其余列为问卷题号",
                )]);
            }
        };
    let mut errors = Errors::new();
    let mut questions: Vec<(usize, &crate::forms::Question)> = Vec::new();
    for (i, h) in table.headers().enumerate() {
        if [case_col, time_col, outcome_col].contains(&i) || h.is_empty() {
            continue;
        }
        match form.question(h) {
            Some(q) => questions.push((i, q)),
            None => {
                errors.push(error(
                    header_row,
                    Some(h),
                    format!(
                        "{h:?} is not a question of form {} {}",
                        form.id, form.version
                    ),
                    format!("“{h}”不是问卷（{} {}）中的题号", form.id, form.version),
                ));
            }
        }
    }
    let (mut rows, mut skipped, mut completes_in_file) = (Vec::new(), 0, HashSet::new());
    for line in &table.rows {
        if errors.full() {
            break;
        }
        if line.is_blank() {
            continue;
        }
        let row = line.row;
        let at = Some(row);
        let cell = |i: usize| line.cell(i);
        let before = errors.len();
        let case_id = match cell(case_col)
            .parse::<i64>()
            .ok()
            .map(CaseId)
            .filter(|id| cases.contains_key(id))
        {
            Some(id) => Some(id),
            None => {
                errors.push(error(
                    at,
                    Some("case_id"),
                    format!("unknown case {:?}", shown(cell(case_col))),
                    "没有这个调查对象编号。",
                ));
                None
            }
        };
        let released = case_id
            .and_then(|id| cases.get(&id))
            .map_or(i64::MIN / 2, |c| c.released_at);
        let attempted_at = match parse_time(cell(time_col)) {
            Some(t) => match super::check_attempt_times(t, None, released, now) {
                Ok(()) => Some(t),
                Err(problem) => {
                    errors.push(error(
                        at,
                        Some("attempt_time"),
                        format!("{:?}: {}", shown(cell(time_col)), problem.en()),
                        problem.zh(),
                    ));
                    None
                }
            },
            None => {
                errors.push(error(
                    at,
                    Some("attempt_time"),
                    format!(
                        "{:?} is not a time like 2026-11-20 14:30 (China time)",
                        shown(cell(time_col))
                    ),
                    "时间格式应为 2026-11-20 14:30(北京时间)。",
                ));
                None
            }
        };
        let outcome = match Outcome::parse_key_or_label(cell(outcome_col)) {
            Some(o) => Some(o),
            None => {
                errors.push(error(
                    at,
                    Some("outcome"),
                    format!(
                        "unknown outcome {:?}: write a key such as no_answer or the console's Chinese label such as 无人接听 (see docs/fieldwork.md)",
                        shown(cell(outcome_col))
                    ),
                    format!(
                        "无法识别的联系结果“{}”:请填写联系控制台显示的中文名称(如“完成访问”“无人接听”“拒访”)或结果代码(如 complete、no_answer),见 docs/fieldwork.md。",
                        shown(cell(outcome_col))
                    ),
                ));
                None
            }
        };
        let mut fields = Vec::new();
        for (i, q) in &questions {
            let value = cell(*i);
            if value.is_empty() {
                continue;
            }
            match &q.kind {
                Kind::Multiple { .. } => fields.extend(
                    value
                        .split([';', '；', '|'])
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| (q.id.clone(), v.to_string())),
                ),
                _ => fields.push((q.id.clone(), value.to_string())),
            }
        }
        let (Some(case_id), Some(attempted_at), Some(outcome)) = (case_id, attempted_at, outcome)
        else {
            continue;
        };
        let answers_json = if outcome == Outcome::Complete {
            match crate::forms::parse_answers(form, &fields) {
                // 没办过 ends the interview: such a call is not_recipient, not complete.
                Ok(a) if a.screened_out() => {
                    errors.push(error(
                        at,
                        Some(crate::forms::SCREENER_QUESTION),
                        format!(
                            "the screener says not a service recipient: record the outcome as {}, without answers",
                            Outcome::NotRecipient.key()
                        ),
                        format!(
                            "筛选题答“没办过”的不是服务对象：结果请填 {}（{}），不填答案。",
                            Outcome::NotRecipient.key(),
                            Outcome::NotRecipient.label_zh()
                        ),
                    ));
                    None
                }
                Ok(a) => Some(a.to_json()),
                Err(problems) => {
                    for (q, p) in problems.problems() {
                        errors.push(error(at, Some(q), p.to_string(), p.message_zh()));
                    }
                    None
                }
            }
        } else {
            if !fields.is_empty() {
                errors.push(error(
                    at,
                    None,
                    format!(
                        "answers given but the outcome is {}, not complete",
                        outcome.key()
                    ),
                    "只有结果为 complete(完成访问)的行才能填写答案。",
                ));
            }
            None
        };
        if errors.len() > before {
            continue;
        }
        let key = import_key(case_id, attempted_at, outcome, answers_json.as_deref());
        if imported.contains(&key) {
            skipped += 1;
            continue;
        }
        if outcome == Outcome::Complete {
            let answered = cases.get(&case_id).is_some_and(|c| c.answered);
            if answered || !completes_in_file.insert(case_id) {
                errors.push(error(
                    at,
                    Some("case_id"),
                    format!("case {case_id} is already answered"),
                    "这个对象已经回答过,不能再次导入答案。",
                ));
                continue;
            }
        }
        rows.push(ResultRow {
            row,
            case_id,
            attempted_at,
            outcome,
            answers_json,
            import_key: key,
        });
    }
    if let Some(e) = table.read_error {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok((rows, skipped))
    } else {
        Err(errors.into_list())
    }
}

/// A cell as a message quotes it: at most 40 characters.
fn shown(cell: &str) -> String {
    const MAX_CHARS: usize = 40;
    match cell.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => format!("{}…", &cell[..at]),
        None => cell.to_string(),
    }
}

/// The key of an imported row: SHA-256 of its content.
fn import_key(case_id: CaseId, at: i64, outcome: Outcome, answers: Option<&str>) -> String {
    let text = format!(
        "{case_id}\u{1f}{at}\u{1f}{}\u{1f}{}",
        outcome.key(),
        answers.unwrap_or("")
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Form {
        crate::forms::builtin()
            .map(|f| f.recipients)
            .expect("built-in forms")
    }

    fn time(t: &str) -> Option<i64> {
        match t {
            "2026-11-20 14:30" => Some(1_000),
            "2026-11-21 09:00" => Some(2_000),
            _ => None,
        }
    }

    fn cases() -> HashMap<CaseId, CaseState> {
        HashMap::from([
            (
                CaseId(1),
                CaseState {
                    answered: false,
                    released_at: 0,
                },
            ),
            (
                CaseId(2),
                CaseState {
                    answered: false,
                    released_at: 0,
                },
            ),
            (
                CaseId(3),
                CaseState {
                    answered: true,
                    released_at: 0,
                },
            ),
        ])
    }

    /// The required questions a complete row answers (the first option of each, so the
    /// screener is passed and the questions behind it are asked), as header and row.
    fn complete_answers() -> (String, String) {
        let f = form();
        let mut answered: Vec<(&str, String)> = Vec::new();
        for q in &f.questions {
            let shown = q.show_if.as_ref().is_none_or(|c| {
                answered
                    .iter()
                    .any(|(id, v)| *id == c.question && c.any_of.contains(v))
            });
            if !(q.required && shown) {
                continue;
            }
            let value = match &q.kind {
                Kind::Single { options, .. } | Kind::Multiple { options, .. } => {
                    options[0].value.clone()
                }
                Kind::Text { .. } => "好".into(),
            };
            answered.push((q.id.as_str(), value));
        }
        let ids: Vec<&str> = answered.iter().map(|(id, _)| *id).collect();
        let values: Vec<&str> = answered.iter().map(|(_, v)| v.as_str()).collect();
        (ids.join(","), values.join(","))
    }

    #[test]
    fn a_good_file_gives_one_row_per_line_with_answers_for_completes() {
        let (ids, values) = complete_answers();
        let text = format!(
            "case_id,attempt_time,outcome,{ids}\n1,2026-11-20 14:30,complete,{values}\n2,2026-11-21 09:00,no_answer{}\n",
            ",".repeat(ids.split(',').count())
        );
        let (rows, skipped) =
            parse_results(&text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap();
        assert_eq!(skipped, 0);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].row, rows[0].outcome), (2, Outcome::Complete));
        assert!(rows[0].answers_json.as_deref().unwrap().starts_with('{'));
        assert_eq!((rows[1].row, rows[1].answers_json.as_ref()), (3, None));
    }

    #[test]
    fn every_kind_of_bad_row_is_reported_with_its_row_and_nothing_is_returned() {
        let (ids, values) = complete_answers();
        let blanks = ",".repeat(ids.split(',').count());
        let text = format!(
            "case_id,attempt_time,outcome,{ids}\n99,2026-11-20 14:30,busy{blanks}\n1,yesterday,busy{blanks}\n1,2026-11-20 14:30,maybe{blanks}\n3,2026-11-20 14:30,complete,{values}\n2,2026-11-20 14:30,busy,{values}\n"
        );
        let errors =
            parse_results(&text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap_err();
        let got: Vec<(Option<u64>, Option<&str>)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(2), Some("case_id")),
                (Some(3), Some("attempt_time")),
                (Some(4), Some("outcome")),
                (Some(5), Some("case_id")),
                (Some(6), None)
            ]
        );
    }

    #[test]
    fn an_attempt_before_its_case_was_released_or_after_now_is_refused() {
        let mut late = cases();
        // Case 2 was released at 1,700: 14:30 (1,000) is earlier than the clock allowance of
        // 600 s permits; 21 Nov 09:00 (2,000) is after it.
        late.insert(
            CaseId(2),
            CaseState {
                answered: false,
                released_at: 1_700,
            },
        );
        let text =
            "case_id,attempt_time,outcome\n2,2026-11-20 14:30,busy\n2,2026-11-21 09:00,busy\n";
        let errors =
            parse_results(text, &form(), &late, &HashSet::new(), time, 10_000).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].row, errors[0].column.as_deref()),
            (Some(2), Some("attempt_time"))
        );
        assert!(errors[0].detail_zh.contains("早于"), "{:?}", errors[0]);
        // "Now" is 1,000: 21 Nov is in the future, beyond the allowance.
        let errors =
            parse_results(text, &form(), &cases(), &HashSet::new(), time, 1_000).unwrap_err();
        assert_eq!(
            (errors[0].row, errors[0].column.as_deref()),
            (Some(3), Some("attempt_time"))
        );
    }

    #[test]
    fn a_column_that_is_not_a_question_and_an_invalid_answer_are_errors() {
        let text = "case_id,attempt_time,outcome,favourite_colour\n1,2026-11-20 14:30,busy,\n";
        let errors =
            parse_results(text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap_err();
        assert_eq!(
            (errors[0].row, errors[0].column.as_deref()),
            (Some(1), Some("favourite_colour"))
        );
        let (ids, _) = complete_answers();
        let first = ids.split(',').next().unwrap();
        let text = format!(
            "case_id,attempt_time,outcome,{first}\n1,2026-11-20 14:30,complete,不存在的选项\n"
        );
        let errors =
            parse_results(&text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.row == Some(2) && e.column.as_deref() == Some(first)),
            "{errors:?}"
        );
    }

    #[test]
    fn a_complete_row_screened_out_is_refused_and_not_recipient_is_the_outcome() {
        let text =
            "case_id,attempt_time,outcome,served,coached\n1,2026-11-20 14:30,complete,no,no\n";
        let errors =
            parse_results(text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap_err();
        assert_eq!(
            errors
                .iter()
                .map(|e| (e.row, e.column.as_deref()))
                .collect::<Vec<_>>(),
            [(Some(2), Some("served"))]
        );
        assert!(
            errors[0].detail_zh.contains("非服务对象"),
            "{:?}",
            errors[0]
        );
        let text = "case_id,attempt_time,outcome\n1,2026-11-20 14:30,not_recipient\n";
        let (rows, _) =
            parse_results(text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap();
        assert_eq!(rows[0].outcome, Outcome::NotRecipient);
    }

    /// The row of each error in `text` (a file whose rows all have one error).
    fn error_rows(text: &str) -> Vec<u64> {
        match parse_results(text, &form(), &cases(), &HashSet::new(), time, 10_000) {
            Ok(rows) => panic!("expected errors, got {rows:?}"),
            Err(errors) => errors.iter().filter_map(|e| e.row).collect(),
        }
    }

    #[test]
    fn errors_give_the_row_as_excel_numbers_it_whatever_the_line_ends() {
        let bad = "99,2026-11-20 14:30,busy";
        for (name, text, want) in [
            (
                "LF",
                format!("case_id,attempt_time,outcome\n{bad}\n{bad}\n"),
                vec![2, 3],
            ),
            (
                "CRLF, no final line end",
                format!("case_id,attempt_time,outcome\r\n{bad}\r\n{bad}"),
                vec![2, 3],
            ),
            (
                "CR (old Mac Excel)",
                format!("case_id,attempt_time,outcome\r{bad}\r{bad}\r"),
                vec![2, 3],
            ),
            (
                "blank rows are counted, not reported",
                format!("case_id,attempt_time,outcome\n\n{bad}\n\r\n\n{bad}\n,,\n{bad}\n"),
                vec![3, 6, 8],
            ),
            (
                "blank rows above the header",
                format!("\n\ncase_id,attempt_time,outcome\n{bad}\n"),
                vec![4],
            ),
        ] {
            assert_eq!(error_rows(&text), want, "{name}");
        }
    }

    #[test]
    fn a_cell_with_a_line_break_is_one_row_as_in_excel() {
        let text = "case_id,attempt_time,outcome,comment\n1,2026-11-20 14:30,busy,\"第一行\n第二行\"\n99,2026-11-20 14:30,busy,\n";
        let errors =
            parse_results(text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap_err();
        let rows: Vec<(Option<u64>, Option<&str>)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(rows, [(Some(2), None), (Some(3), Some("case_id"))]);
    }

    #[test]
    fn rows_imported_before_are_skipped_and_two_completes_for_one_case_are_refused() {
        let (ids, values) = complete_answers();
        let text =
            format!("case_id,attempt_time,outcome,{ids}\n1,2026-11-20 14:30,complete,{values}\n");
        let (rows, _) =
            parse_results(&text, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap();
        let imported = HashSet::from([rows[0].import_key.clone()]);
        // The same row again: skipped, even though case 1 now counts as answered.
        let mut now_answered = cases();
        now_answered.insert(
            CaseId(1),
            CaseState {
                answered: true,
                released_at: 0,
            },
        );
        let (rows, skipped) =
            parse_results(&text, &form(), &now_answered, &imported, time, 10_000).unwrap();
        assert_eq!((rows.len(), skipped), (0, 1));
        let twice = format!("{text}1,2026-11-21 09:00,complete,{values}\n");
        let errors =
            parse_results(&twice, &form(), &cases(), &HashSet::new(), time, 10_000).unwrap_err();
        assert_eq!(errors[0].row, Some(3));
    }
}
