//! A released case's status and AAPOR class as the console, the progress page and the
//! response-rates download word them, and the campaign's progress per village.

use super::{CaseFacts, CaseStatus, Class, Counts, Outcome, case_status};
use crate::db::{CaseRow, Db, DbError};
/// The stored status (`open`, `completed`, `refused`), not the worded [`CaseStatus`].
use crate::domain::CaseStatus as Stored;
use crate::ids::CampaignId;

/// A case's AAPOR class for the response rates (`fieldwork::case_class`, docs/fieldwork.md):
/// from its attempts, an answer through the link counting as a complete, and a refusal
/// through the link as a refusal.
pub fn class_of(c: &CaseRow, attempts: &[String]) -> Class {
    super::case_class(outcomes_of(c, attempts))
}

/// Whether the case counts in its village's invalid-number rate
/// (`dispositions::case_invalid_number`), its outcomes read as for [`class_of`].
pub fn invalid_number_of(c: &CaseRow, attempts: &[String]) -> bool {
    crate::dispositions::case_invalid_number(outcomes_of(c, attempts))
}

/// The case's outcomes in the order recorded, then what happened through its link.
fn outcomes_of<'a>(c: &CaseRow, attempts: &'a [String]) -> impl Iterator<Item = Outcome> + 'a {
    let link = match (c.status.as_str(), c.link_used) {
        ("completed", _) => Some(Outcome::Complete),
        ("refused", true) => Some(Outcome::Refusal),
        _ => None,
    };
    attempts
        .iter()
        .filter_map(|o| Outcome::parse(o))
        .chain(link)
}

/// The case's status as the one function words it (`fieldwork::case_status`).
pub fn status_of(c: &CaseRow) -> CaseStatus {
    case_status(&CaseFacts {
        completed: c.status == Stored::Completed,
        refused: c.status == Stored::Refused,
        disposition: c.disposition,
        replaced: c.replaced_at.is_some(),
        replacement_rank: c.replacement_rank,
        link_sent: c.link_sent,
        link_used: c.link_used,
    })
}

/// Whether the case still waits for calls.
pub fn callable(c: &CaseRow) -> bool {
    status_of(c).callable
}

/// One village's line of the progress table (and of the response-rates download): target,
/// released, completes, in progress, replacements, rates. No names, phones or answers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProgressRow {
    pub code: String,
    pub name: String,
    pub target: i64,
    pub population: i64,
    pub released: i64,
    pub completes: i64,
    pub open: i64,
    pub replacements: i64,
    pub exhausted: bool,
    pub counts: Counts,
    /// Released cases whose final outcome is a wrong number or a number not in service.
    pub invalid_numbers: i64,
}

impl ProgressRow {
    /// Invalid numbers over cases released (`fieldwork::rates::invalid_number_rate`).
    pub fn invalid_number_rate(&self) -> Option<f64> {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        super::rates::invalid_number_rate(count(self.invalid_numbers), count(self.released))
    }
}

/// Fieldwork progress per village, and the campaign's total (code and name empty).
pub async fn progress_rows(
    db: &Db,
    id: CampaignId,
) -> Result<(Vec<ProgressRow>, ProgressRow), DbError> {
    let strata = db.strata(id, None).await?;
    let cases = db.cases(id, None).await?;
    let outcomes = db.attempt_outcomes(id).await?;
    let mut total = ProgressRow::default();
    let mut rows = Vec::new();
    for s in &strata {
        let mine: Vec<&CaseRow> = cases
            .iter()
            .filter(|c| c.village_id == s.village_id)
            .collect();
        let mut counts = Counts::default();
        let mut invalid_numbers = 0;
        for c in &mine {
            let attempts = outcomes.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
            counts.add(class_of(c, attempts));
            invalid_numbers += i64::from(invalid_number_of(c, attempts));
        }
        let completes = mine
            .iter()
            .filter(|c| c.status == Stored::Completed)
            .count() as i64;
        let max_rank = mine.iter().map(|c| c.rank).max().unwrap_or(0);
        let row = ProgressRow {
            code: s.code.clone(),
            name: s.name.clone(),
            target: s.size,
            population: s.population,
            released: mine.len() as i64,
            completes,
            open: mine.iter().filter(|c| callable(c)).count() as i64,
            replacements: mine
                .iter()
                .filter(|c| c.release_reason != "primary")
                .count() as i64,
            exhausted: max_rank >= s.population
                && completes < s.size
                && mine.iter().any(|c| c.replaced_at.is_some()),
            counts,
            invalid_numbers,
        };
        total.target += row.target;
        total.population += row.population;
        total.released += row.released;
        total.completes += row.completes;
        total.open += row.open;
        total.replacements += row.replacements;
        total.counts += row.counts;
        total.invalid_numbers += row.invalid_numbers;
        rows.push(row);
    }
    Ok((rows, total))
}
