//! Results the commission enters: the grades of items 1–15 with the negative list (one
//! sheet per village, saved whole), and overrides of item 16's computed grade. Both may
//! change until the campaign is approved.

use super::Actor;
use crate::db::{Db, DbError, ItemGrade, NegativeFinding};
use crate::ids::{CampaignId, VillageId};
use crate::results::assess::{Grade, Situation, item15_from_list, negative_counts};
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
    #[error("negative situation {situation}: the date of the event is missing")]
    DateMissing { situation: i64 },
    #[error("negative situation {situation}: {raw:?} is not a date (YYYY-MM-DD)")]
    Date { situation: i64, raw: String },
    #[error("negative situation {situation}: the date {date} is after today")]
    Future { situation: i64, date: String },
    #[error(
        "negative situation 6: petitions {petitions:?} and resolved {resolved:?} must be whole numbers, resolved at most petitions"
    )]
    Petitions { petitions: String, resolved: String },
}

impl SheetError {
    /// The message for the person who filled in the sheet.
    pub fn message_zh(&self) -> String {
        match self {
            SheetError::Grade { item, .. } => format!("第{item}项的等次无效。"),
            SheetError::Source { item, .. } => format!("第{item}项的评定来源无效。"),
            SheetError::DateMissing { situation } => {
                format!("勾选负面清单情形{}时须填写发生日期。", circled(*situation))
            }
            SheetError::Date { situation, .. } => format!(
                "负面清单情形{}的日期无效，请按 2026-03-01 的格式填写。",
                circled(*situation)
            ),
            SheetError::Future { situation, date } => format!(
                "负面清单情形{}的日期 {date} 晚于今天。",
                circled(*situation)
            ),
            SheetError::Petitions { .. } => {
                "勾选情形⑥时须填写信访举报件数和已解决件数（整数），已解决件数不能多于总数。"
                    .to_string()
            }
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

fn circled(situation: i64) -> String {
    u8::try_from(situation)
        .ok()
        .and_then(Situation::new)
        .map(|s| s.circled().to_string())
        .unwrap_or_else(|| situation.to_string())
}

/// A village's grades of items 1–14 and its negative list (situation 1–8, with what was
/// recorded when ticked), as the form sends them. Item 15 is the negative list itself: it
/// is set from the list when the sheet is saved, never typed in.
#[derive(Clone, Debug)]
pub struct GradeSheet {
    pub items: Vec<SheetItem>,
    pub negative: Vec<(i64, Option<NegativeFinding>)>,
}

/// A note is kept to its first 500 characters.
const NOTE_CHARS: usize = 500;

impl GradeSheet {
    /// Reads the sheet from the form's fields (`field(name)`, trimmed, "" when absent):
    /// `grade_N`, `source_N`, `note_N` for items 1–14; `neg_N`, `neg_note_N`, `neg_date_N`
    /// for situations 1–8, and `neg_petitions_6` / `neg_resolved_6` for ⑥. An empty source
    /// is `commission`. A ticked situation needs its date, not after `today`.
    pub fn parse<'a>(
        field: impl Fn(&str) -> &'a str,
        today: &str,
    ) -> Result<GradeSheet, SheetError> {
        let mut items = Vec::new();
        for item in 1..=14i64 {
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
        let mut negative = Vec::new();
        for n in 1..=8i64 {
            if field(&format!("neg_{n}")).is_empty() {
                negative.push((n, None));
                continue;
            }
            let note: String = field(&format!("neg_note_{n}"))
                .chars()
                .take(NOTE_CHARS)
                .collect();
            let event_date = match field(&format!("neg_date_{n}")) {
                "" => return Err(SheetError::DateMissing { situation: n }),
                raw => crate::results::calendar::parse_date(raw)
                    .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
                    .ok_or_else(|| SheetError::Date {
                        situation: n,
                        raw: raw.to_string(),
                    })?,
            };
            if event_date.as_str() > today {
                return Err(SheetError::Future {
                    situation: n,
                    date: event_date,
                });
            }
            let (petitions, petitions_resolved) = if n == 6 {
                let raw_p = field("neg_petitions_6");
                let raw_r = field("neg_resolved_6");
                match (raw_p.parse::<u32>(), raw_r.parse::<u32>()) {
                    (Ok(p), Ok(r)) if r <= p => (Some(i64::from(p)), Some(i64::from(r))),
                    _ => {
                        return Err(SheetError::Petitions {
                            petitions: raw_p.to_string(),
                            resolved: raw_r.to_string(),
                        });
                    }
                }
            } else {
                (None, None)
            };
            negative.push((
                n,
                Some(NegativeFinding {
                    note,
                    event_date,
                    petitions,
                    petitions_resolved,
                }),
            ));
        }
        Ok(GradeSheet { items, negative })
    }

    /// The sheet as its audit entry records it.
    fn details(&self, code: &str, item15: Grade) -> serde_json::Value {
        json!({
            "village": code,
            "item15": item15.label(),
            "grades": self.items.iter().map(|i| json!({
                "item": i.item, "grade": i.grade.map(Grade::label), "source": i.source, "note": i.note,
            })).collect::<Vec<_>>(),
            "negative": self.negative.iter().filter_map(|(n, f)| f.as_ref().map(|f| json!({
                "situation": n, "note": f.note, "date": f.event_date,
                "petitions": f.petitions, "resolved": f.petitions_resolved,
            }))).collect::<Vec<_>>(),
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

/// Saves a village's whole grade sheet — 14 grades (set or cleared), 8 negative-list
/// situations (ticked or not) and item 15 from the list (差 when a situation dated from one
/// year before the campaign began counts, else 好) — and its `grades` entry in one
/// transaction.
pub async fn save_grades(
    db: &Db,
    by: &Actor,
    v: Village<'_>,
    sheet: &GradeSheet,
) -> Result<(), ResultsError> {
    let by_account = by.account_id();
    let campaign = db.campaign(v.campaign_id).await?;
    let window = crate::results::assess::campaign_window_start(
        campaign.creation_started_on.as_deref(),
        &crate::domain::local_date(campaign.created_at),
    );
    let counted: Vec<Situation> = sheet
        .negative
        .iter()
        .filter_map(|(n, f)| {
            let f = f.as_ref()?;
            negative_counts(Some(&f.event_date), &window)
                .then(|| u8::try_from(*n).ok().and_then(Situation::new))
                .flatten()
        })
        .collect();
    let item15 = item15_from_list(&counted);
    let mut tx = db.begin().await?;
    if tx.campaign_approved(v.campaign_id).await? {
        return Err(ResultsError::Approved);
    }
    tx.set_item_grade(&ItemGrade {
        campaign_id: v.campaign_id,
        village_id: v.village_id,
        item: 15,
        grade: item15,
        source: "commission",
        note: "由负面清单决定",
        by: by_account,
    })
    .await?;
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
    for (n, finding) in &sheet.negative {
        tx.set_negative(
            v.campaign_id,
            v.village_id,
            *n,
            finding.as_ref(),
            by_account,
        )
        .await?;
    }
    let event = by.event("grades", Some(v.campaign_id), sheet.details(v.code, item15));
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
