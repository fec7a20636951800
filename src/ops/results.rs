//! Results entered for items 1–15, from four sources side by side (seed 二(二)4): the
//! village's self-assessment, the 镇纪委's opinion, the assessment group's grades with its
//! written report, and the 领导小组's final grade, which drives the verdict. The final
//! sheet carries the negative list (item 15 follows from it). Every grade entered is kept
//! (a new entry only where a grade or note changed); the newest of a source is its grade.
//! Also overrides of item 16's computed grade. All may change until the campaign is
//! approved; the village's own self-assessment only until the results are published.

use super::Actor;
use crate::attachments::Checked;
use crate::db::{Db, DbError, GradeEntry, GradeSource, NegativeFinding, NewGradeEntry, Tx};
use crate::ids::{CampaignId, VillageId};
use crate::results::assess::{Grade, Situation, item15_from_list, negative_counts};
use serde_json::json;
use std::collections::BTreeMap;

/// Why entered results were not changed.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The campaign is approved: its results are final.
    #[error("the campaign is approved; its results can no longer change")]
    Approved,
    /// The results are published: the village's self-assessment is closed.
    #[error("the results are published; the self-assessment can no longer change")]
    Published,
    /// The village does not take part in the campaign (its application was refused, or the
    /// campaign takes only villages that applied and it did not).
    #[error("the village does not take part in this campaign")]
    NotTakingPart,
    /// Publicity has started: the grades the proposed list rests on no longer change.
    #[error("publicity has started; grades, the negative list and overrides no longer change")]
    Frozen,
    /// A final grade differs from the group's (or the commission's) without a reason.
    #[error(
        "item {item}: final grade {grade} differs from the {against:?} grade {against_grade} and no reason was given"
    )]
    ReasonMissing {
        item: i64,
        grade: Grade,
        against: GradeSource,
        against_grade: Grade,
    },
    /// The sheet names a source its sender may not enter here.
    #[error("grades from source {0:?} are not entered on this sheet")]
    WrongSource(GradeSource),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ResultsError {
    /// The sentence for the person whose input was refused (none for a database fault).
    pub fn message_zh(&self) -> Option<String> {
        match self {
            ResultsError::Approved => Some("本轮已批准,结果不能再修改。".into()),
            ResultsError::Published => {
                Some("本轮拟评定名单已经公示,村自评和各项等次都不再修改。对公示有意见的,请按公示通知上的方式向镇纪委提出。".into())
            }
            ResultsError::NotTakingPart => Some(
                "本村(社区)没有参加本轮测评(未申报或申报未被受理),不需要自评。".into(),
            ),
            ResultsError::Frozen => Some(
                "拟评定名单已经公示,各项等次、负面清单和第16项调整不能再修改。如需更改名单,请在结果页用“调整拟评定名单”写明理由(将重新公示)。"
                    .into(),
            ),
            ResultsError::ReasonMissing {
                item,
                grade,
                against,
                against_grade,
            } => Some(format!(
                "第{item}项的最终评定“{grade}”与{}的“{against_grade}”不同,须填写理由。本表没有保存,请补上理由后再保存。",
                against.zh()
            )),
            ResultsError::WrongSource(_) => Some("评定来源无效。".into()),
            ResultsError::Db(_) => None,
        }
    }
}

/// The newest entry of each item and source, from a village's entries oldest first.
pub fn newest(entries: &[GradeEntry]) -> BTreeMap<(i64, GradeSource), &GradeEntry> {
    let mut map = BTreeMap::new();
    for e in entries {
        if let Some(source) = GradeSource::parse(&e.source) {
            map.insert((e.item, source), e);
        }
    }
    map
}

/// A source's grade of an item in force (`None`: never graded, or withdrawn).
pub fn grade_of(
    newest: &BTreeMap<(i64, GradeSource), &GradeEntry>,
    item: i64,
    source: GradeSource,
) -> Option<Grade> {
    newest.get(&(item, source)).and_then(|e| e.grade)
}

/// What a final grade of an item must agree with unless a reason is given: the assessment
/// group's grade, or without one the 镇纪委's.
pub fn reference_grade(
    newest: &BTreeMap<(i64, GradeSource), &GradeEntry>,
    item: i64,
) -> Option<(GradeSource, Grade)> {
    [GradeSource::Group, GradeSource::Commission]
        .into_iter()
        .find_map(|s| grade_of(newest, item, s).map(|g| (s, g)))
}

/// The items (1–14) whose final grade differs from its reference grade (the group's, or
/// the 镇纪委's) and has no reason, from a village's entries oldest first.
pub fn unexplained_items(entries: &[GradeEntry]) -> Vec<i64> {
    let newest = newest(entries);
    (1..=14)
        .filter(|&item| {
            let Some(grade) = grade_of(&newest, item, GradeSource::Final) else {
                return false;
            };
            let reason = newest
                .get(&(item, GradeSource::Final))
                .map_or("", |e| e.note.trim());
            reference_grade(&newest, item).is_some_and(|(_, r)| r != grade) && reason.is_empty()
        })
        .collect()
}

/// The drawn villages (`code 第n项`) with a final grade that differs from the group's or the
/// 镇纪委's without a reason — which can happen when a source's grade is entered after the
/// final one. Publicity waits until each is explained or agrees.
pub async fn unexplained(db: &Db, campaign: CampaignId) -> Result<Vec<String>, DbError> {
    let mut out = Vec::new();
    for v in db.drawn_villages(campaign).await? {
        let entries = db.grade_entries(campaign, v.id).await?;
        for item in unexplained_items(&entries) {
            out.push(format!("{} 第{item}项", v.code));
        }
    }
    Ok(out)
}

/// A field of the grade sheet that is not valid; nothing of the sheet is stored.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("item {item}: {raw:?} is not a grade")]
    Grade { item: i64, raw: String },
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

/// One item of a sheet: its grade (`None`: not graded) and a note (on the final sheet,
/// the reason for a grade that differs from the group's or the 镇纪委's).
#[derive(Clone, Debug)]
pub struct SheetItem {
    pub item: i64,
    pub grade: Option<Grade>,
    pub note: String,
}

/// Items 1–14 of a sheet from the form's fields `grade_N` and `note_N`.
fn parse_items<'a>(field: &impl Fn(&str) -> &'a str) -> Result<Vec<SheetItem>, SheetError> {
    let mut items = Vec::new();
    for item in 1..=14i64 {
        let grade = match field(&format!("grade_{item}")) {
            "" => None,
            g => Some(Grade::parse(g).ok_or_else(|| SheetError::Grade {
                item,
                raw: g.to_string(),
            })?),
        };
        let note = field(&format!("note_{item}"))
            .chars()
            .take(NOTE_CHARS)
            .collect();
        items.push(SheetItem { item, grade, note });
    }
    Ok(items)
}

/// The grades of items 1–14 from one source other than the final one (item 15 is the
/// negative list in every column).
#[derive(Clone, Debug)]
pub struct SourceSheet {
    pub source: GradeSource,
    pub items: Vec<SheetItem>,
}

impl SourceSheet {
    /// Reads `grade_N` and `note_N` for items 1–14 (`field(name)`, trimmed, "" when absent).
    pub fn parse<'a>(
        source: GradeSource,
        field: impl Fn(&str) -> &'a str,
    ) -> Result<SourceSheet, SheetError> {
        Ok(SourceSheet {
            source,
            items: parse_items(&field)?,
        })
    }
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
    /// `grade_N`, `note_N` for items 1–14; `neg_N`, `neg_note_N`, `neg_date_N` for
    /// situations 1–8, and `neg_petitions_6` / `neg_resolved_6` for ⑥. A ticked situation
    /// needs its date, not after `today`. (A `source_N` field, which earlier forms sent, is
    /// ignored: this sheet is the final grade.)
    pub fn parse<'a>(
        field: impl Fn(&str) -> &'a str,
        today: &str,
    ) -> Result<GradeSheet, SheetError> {
        let items = parse_items(&field)?;
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
            "source": GradeSource::Final.key(),
            "item15": item15.label(),
            "grades": grades_details(&self.items),
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

/// The grades of a sheet as audit entries record them.
fn grades_details(items: &[SheetItem]) -> Vec<serde_json::Value> {
    items
        .iter()
        .map(|i| json!({ "item": i.item, "grade": i.grade.map(Grade::label), "note": i.note }))
        .collect()
}

/// Appends an entry for `source`'s grade of `item` where it differs from the newest one
/// (grade, or note beside a grade); true if it did.
async fn append_if_changed(
    tx: &mut Tx,
    newest: &BTreeMap<(i64, GradeSource), &GradeEntry>,
    v: Village<'_>,
    by: Option<crate::ids::AccountId>,
    source: GradeSource,
    item: &SheetItem,
) -> Result<bool, DbError> {
    let changed = match newest.get(&(item.item, source)) {
        Some(e) => e.grade != item.grade || (item.grade.is_some() && e.note != item.note),
        None => item.grade.is_some(),
    };
    if changed {
        tx.add_grade_entry(&NewGradeEntry {
            campaign_id: v.campaign_id,
            village_id: v.village_id,
            item: item.item,
            source,
            grade: item.grade,
            note: &item.note,
            by,
        })
        .await?;
    }
    Ok(changed)
}

/// Saves a village's final grade sheet — the 领导小组's grades of items 1–14 (set or
/// cleared), the 8 negative-list situations (ticked or not) and item 15 from the list (差
/// when a situation dated from one year before the campaign began counts, else 好) — and
/// its `grades` entry in one transaction. A final grade that differs from the assessment
/// group's (without one, the 镇纪委's) needs its reason in the note: otherwise nothing is
/// saved. Only grades that changed get a new entry.
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
    frozen_check(&mut tx, v.campaign_id).await?;
    let entries = tx.grade_entries(v.campaign_id, v.village_id).await?;
    let newest = newest(&entries);
    for i in &sheet.items {
        if let (Some(grade), Some((against, against_grade))) =
            (i.grade, reference_grade(&newest, i.item))
            && grade != against_grade
            && i.note.trim().is_empty()
        {
            return Err(ResultsError::ReasonMissing {
                item: i.item,
                grade,
                against,
                against_grade,
            });
        }
    }
    let item15_line = SheetItem {
        item: 15,
        grade: Some(item15),
        note: "由负面清单决定".into(),
    };
    append_if_changed(
        &mut tx,
        &newest,
        v,
        by_account,
        GradeSource::Final,
        &item15_line,
    )
    .await?;
    for i in &sheet.items {
        append_if_changed(&mut tx, &newest, v, by_account, GradeSource::Final, i).await?;
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
        "final item grades saved"
    );
    Ok(())
}

/// Refuses a change to grades, the negative list or overrides once the campaign is approved
/// or its publicity has started (read in the change's transaction).
async fn frozen_check(tx: &mut Tx, campaign: CampaignId) -> Result<(), ResultsError> {
    if tx.campaign_approved(campaign).await? {
        return Err(ResultsError::Approved);
    }
    if tx.is_published(campaign).await? {
        return Err(ResultsError::Frozen);
    }
    Ok(())
}

/// Whether the village takes part in the campaign: every village does where the campaign
/// takes all, else one that applied and was not refused.
async fn takes_part(tx: &mut Tx, v: Village<'_>) -> Result<bool, DbError> {
    if !tx.participation(v.campaign_id).await?.by_application() {
        return Ok(true);
    }
    let decision = tx.application_decision(v.campaign_id, v.village_id).await?;
    Ok(decision.is_some_and(|d| d.as_deref() != Some("refused")))
}

/// Who enters a source sheet, which decides until when it may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnteredBy {
    /// The commission: until the campaign is approved.
    Commission,
    /// The village operator (its own self-assessment): until the results are published.
    Village,
}

/// Saves the grades of items 1–14 from one source other than the final one (the
/// commission entering the 镇纪委's or the group's grades, or entering or correcting the
/// self-assessment; the village entering its own), with its audit entry (`grades.self` for
/// the self-assessment, `grades` otherwise) in one transaction.
pub async fn save_source_grades(
    db: &Db,
    by: &Actor,
    v: Village<'_>,
    sheet: &SourceSheet,
    who: EnteredBy,
) -> Result<(), ResultsError> {
    if sheet.source == GradeSource::Final
        || (who == EnteredBy::Village && sheet.source != GradeSource::SelfAssessment)
    {
        return Err(ResultsError::WrongSource(sheet.source));
    }
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    if tx.campaign_approved(v.campaign_id).await? {
        return Err(ResultsError::Approved);
    }
    if who == EnteredBy::Village && !takes_part(&mut tx, v).await? {
        return Err(ResultsError::NotTakingPart);
    }
    if tx.is_published(v.campaign_id).await? {
        return Err(match who {
            EnteredBy::Village => ResultsError::Published,
            EnteredBy::Commission => ResultsError::Frozen,
        });
    }
    let entries = tx.grade_entries(v.campaign_id, v.village_id).await?;
    let newest = newest(&entries);
    let mut changed = Vec::new();
    for i in &sheet.items {
        if append_if_changed(&mut tx, &newest, v, by_account, sheet.source, i).await? {
            changed.push(i.item);
        }
    }
    let name = if sheet.source == GradeSource::SelfAssessment {
        "grades.self"
    } else {
        "grades"
    };
    let details = json!({
        "village": v.code,
        "source": sheet.source.key(),
        "grades": grades_details(&sheet.items),
        "changed": changed,
    });
    tx.audit(db, &by.event(name, Some(v.campaign_id), details))
        .await?;
    tx.commit().await?;
    tracing::info!(
        campaign = v.campaign_id.0,
        village = v.village_id.0,
        source = sheet.source.key(),
        changed = changed.len(),
        by = by.as_str(),
        "item grades saved"
    );
    Ok(())
}

/// Saves a new version of the assessment group's written report on a village: its text and
/// a checked file (without one, the previous version's file stays with the report), with
/// its `group_report.save` entry (the group's grades in force beside it) in one
/// transaction. Returns the version's id.
pub async fn save_group_report(
    db: &Db,
    by: &Actor,
    v: Village<'_>,
    text: &str,
    file: Option<(&Checked, &[u8])>,
) -> Result<i64, ResultsError> {
    let by_account = by.account_id();
    let mut tx = db.begin().await?;
    if tx.campaign_approved(v.campaign_id).await? {
        return Err(ResultsError::Approved);
    }
    let attachment = match file {
        Some((checked, bytes)) => Some(tx.store_attachment(checked, bytes, by_account).await?),
        None => {
            tx.group_report_attachment(v.campaign_id, v.village_id)
                .await?
        }
    };
    let id = tx
        .add_group_report(v.campaign_id, v.village_id, text, attachment, by_account)
        .await?;
    let entries = tx.grade_entries(v.campaign_id, v.village_id).await?;
    let newest = newest(&entries);
    let grades: Vec<serde_json::Value> = (1..=14)
        .map(|item| json!({ "item": item, "grade": grade_of(&newest, item, GradeSource::Group).map(Grade::label) }))
        .collect();
    let details = json!({
        "village": v.code,
        "source": GradeSource::Group.key(),
        "report": id,
        "chars": text.chars().count(),
        "file": file.map(|(c, b)| json!({ "name": c.file_name, "sha256": c.sha256, "size": b.len() })),
        "file_kept": file.is_none() && attachment.is_some(),
        "grades": grades,
    });
    tx.audit(
        db,
        &by.event("group_report.save", Some(v.campaign_id), details),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        campaign = v.campaign_id.0,
        village = v.village_id.0,
        report = id,
        by = by.as_str(),
        "assessment group report saved"
    );
    Ok(id)
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
    frozen_check(&mut tx, v.campaign_id).await?;
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
