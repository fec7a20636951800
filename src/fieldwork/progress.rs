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
    let link = match (c.status.as_str(), c.link_used) {
        ("completed", _) => Some(Outcome::Complete),
        ("refused", true) => Some(Outcome::Refusal),
        _ => None,
    };
    super::case_class(
        attempts
            .iter()
            .filter_map(|o| Outcome::parse(o))
            .chain(link),
    )
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
        for c in &mine {
            counts.add(class_of(
                c,
                outcomes.get(&c.id).map(Vec::as_slice).unwrap_or(&[]),
            ));
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
        };
        total.target += row.target;
        total.population += row.population;
        total.released += row.released;
        total.completes += row.completes;
        total.open += row.open;
        total.replacements += row.replacements;
        total.counts += row.counts;
        rows.push(row);
    }
    Ok((rows, total))
}
