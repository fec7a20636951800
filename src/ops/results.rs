//! Results the commission enters: the grades of items 1–15 with the negative list (one
//! sheet per village, saved whole), and overrides of item 16's computed grade. Both may
//! change until the campaign is approved.

use super::Actor;
use crate::db::{Db, DbError, ItemGrade};
use crate::ids::{CampaignId, VillageId};
use crate::results::assess::Grade;
use serde_json::json;

/// Why entered results were not changed.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The campaign is approved: its results are final.
    #[error("the campaign is approved; its results can no longer change")]
    Approved,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A field of the grade sheet that is not valid; nothing of the sheet is stored.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("item {item}: {raw:?} is not a grade")]
    Grade { item: i64, raw: String },
    #[error("item {item}: unknown source {raw:?}")]
    Source { item: i64, raw: String },
}

impl SheetError {
    /// The message for the person who filled in the sheet.
    pub fn message_zh(&self) -> String {
        match self {
            SheetError::Grade { item, .. } => format!("第{item}项的等次无效。"),
            SheetError::Source { item, .. } => format!("第{item}项的评定来源无效。"),
        }
    }
}

/// One item of the sheet: its grade (`None`: not graded), where the grade comes from
/// (`self`, `commission`, `onsite`) and a note.
#[derive(Clone, Debug)]
pub struct SheetItem {
    pub item: i64,
    pub grade: Option<Grade>,
    pub source: &'static str,
    pub note: String,
}

/// A village's grades of items 1–15 and its negative list (situation 1–8, with its note
/// when ticked), as the form sends them.
#[derive(Clone, Debug)]
pub struct GradeSheet {
    pub items: Vec<SheetItem>,
    pub negative: Vec<(i64, Option<String>)>,
}

/// A note is kept to its first 500 characters.
const NOTE_CHARS: usize = 500;

impl GradeSheet {
    /// Reads the sheet from the form's fields (`field(name)`, trimmed, "" when absent):
    /// `grade_N`, `source_N`, `note_N` for items 1–15 and `neg_N` / `neg_note_N` for
    /// situations 1–8. An empty source is `commission`.
    pub fn parse<'a>(field: impl Fn(&str) -> &'a str) -> Result<GradeSheet, SheetError> {
        let mut items = Vec::new();
        for item in 1..=15i64 {
            let grade = match field(&format!("grade_{item}")) {
                "" => None,
                g => Some(Grade::parse(g).ok_or_else(|| SheetError::Grade {
                    item,
                    raw: g.to_string(),
                })?),
            };
            let source = match field(&format!("source_{item}")) {
                "self" => "self",
                "onsite" => "onsite",
                "commission" | "" => "commission",
                other => {
                    return Err(SheetError::Source {
                        item,
                        raw: other.to_string(),
                    });
                }
            };
            let note = field(&format!("note_{item}"))
                .chars()
                .take(NOTE_CHARS)
                .collect();
            items.push(SheetItem {
                item,
                grade,
                source,
                note,
            });
        }
        let negative = (1..=8i64)
            .map(|n| {
                let ticked = !field(&format!("neg_{n}")).is_empty();
                let note: String = field(&format!("neg_note_{n}"))
                    .chars()
                    .take(NOTE_CHARS)
                    .collect();
                (n, ticked.then_some(note))
            })
            .collect();
        Ok(GradeSheet { items, negative })
    }

    /// The sheet as its audit entry records it.
    fn details(&self, code: &str) -> serde_json::Value {
        json!({
            "village": code,
            "grades": self.items.iter().map(|i| json!({
                "item": i.item, "grade": i.grade.map(Grade::label), "source": i.source, "note": i.note,
            })).collect::<Vec<_>>(),
            "negative": self.negative.iter().filter_map(|(n, note)| note.as_ref().map(|note| json!({ "situation": n, "note": note }))).collect::<Vec<_>>(),
        })
    }
}

/// A village in a campaign, as the results forms name it.
#[derive(Clone, Copy, Debug)]
pub struct Village<'a> {
    pub campaign_id: CampaignId,
    pub village_id: VillageId,
    pub code: &'a str,
}

/// Saves a village's whole grade sheet — 15 grades (set or cleared) and 8 negative-list
/// situations (ticked or not) — and its `grades` entry in one transaction.
pub async fn save_grades(
    db: &Db,
    by: &Actor,
    v: Village<'_>,
    sheet: &GradeSheet,
) -> Result<(), ResultsError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    if tx.campaign_approved(v.campaign_id).await? {
        return Err(ResultsError::Approved);
    }
    for i in &sheet.items {
        match i.grade {
            Some(g) => {
                tx.set_item_grade(&ItemGrade {
                    campaign_id: v.campaign_id,
                    village_id: v.village_id,
                    item: i.item,
                    grade: g,
                    source: i.source,
                    note: &i.note,
                    by: by_account,
                })
                .await?
            }
            None => {
                tx.clear_item_grade(v.campaign_id, v.village_id, i.item)
                    .await?
            }
        }
    }
    for (n, note) in &sheet.negative {
        tx.set_negative(v.campaign_id, v.village_id, *n, note.as_deref(), by_account)
            .await?;
    }
    let event = by.event("grades", Some(v.campaign_id), sheet.details(v.code));
    tx.audit(db, &event).await?;
    tx.commit().await?;
    tracing::info!(
        campaign = v.campaign_id.0,
        village = v.village_id.0,
        by = by.as_str(),
        "item grades saved"
    );
    Ok(())
}

/// Overrides item 16's computed grade of a village with `grade`, or withdraws the override
/// (`None`: the computed grade is in force again); the reason is required and recorded.
pub async fn override_item16(
    db: &Db,
    by: &Actor,
    v: Village<'_>,
    grade: Option<Grade>,
    reason: &str,
) -> Result<(), ResultsError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    if tx.campaign_approved(v.campaign_id).await? {
        return Err(ResultsError::Approved);
    }
    tx.add_override(
        v.campaign_id,
        v.village_id,
        grade.map(Grade::label),
        reason,
        by_account,
    )
    .await?;
    let details = json!({ "village": v.code, "grade": grade.map(Grade::label), "reason": reason });
    tx.audit(
        db,
        &by.event("item16.override", Some(v.campaign_id), details),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        campaign = v.campaign_id.0,
        village = v.village_id.0,
        by = by.as_str(),
        "item 16 override recorded"
    );
    Ok(())
}
