//! Grades of items 1–15 from every source side by side (seed 二(二)4): on the commission's
//! village page the columns 村自评 | 镇纪委 | 评估组 | 领导小组最终, each item with its
//! sub-points and the four grades' definitions (`results::criteria`), the sheet for one
//! source other than the final one, the assessment group's written report with its file;
//! and the village operator's own self-assessment page, open until the results are
//! published.

use super::auth::{CsrfForm, check_csrf, check_origin, has_csrf};
use super::error::AppError;
use super::roles::{Admin, Operator};
use super::upload::{checked_attachment, read_form};
use super::{AppState, views};
use crate::db::{GradeEntry, GradeSource, GroupReport};
use crate::domain::local_time;
use crate::ids::{CampaignId, VillageId};
use crate::ops::results::{
    EnteredBy, ResultsError, SheetError, SourceSheet, Village, grade_of, newest, reference_grade,
    save_group_report,
};
use crate::results::assess::Grade;
use crate::results::criteria::{self, GRADE_DEFINITIONS};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One source's grade of an item as the page shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct Cell {
    pub(super) grade: Option<&'static str>,
    pub(super) note: String,
}

/// One of items 1–15 on the commission's grade sheet.
#[derive(Debug, Serialize)]
pub(super) struct ItemLine {
    pub(super) number: u32,
    pub(super) title: &'static str,
    /// The seed's sentence before the sub-points (items 15 and 16), else empty.
    pub(super) intro: &'static str,
    /// The sub-points verbatim from the seed.
    pub(super) points: &'static [&'static str],
    /// 村自评, 镇纪委, 评估组, in that order.
    pub(super) sources: Vec<Cell>,
    /// The final grade in force (item 15: as the negative list decides it).
    pub(super) grade: Option<&'static str>,
    /// The final grade's note: its reason where it differs.
    pub(super) note: String,
    /// The final grade differs from the group's (or the 镇纪委's) with no reason recorded
    /// (the other grade came later): the sentence saying so.
    pub(super) unexplained: Option<String>,
}

/// The sources shown beside the final grade, in column order.
const SHOWN: [GradeSource; 3] = [
    GradeSource::SelfAssessment,
    GradeSource::Commission,
    GradeSource::Group,
];

fn cell(newest: &BTreeMap<(i64, GradeSource), &GradeEntry>, item: i64, s: GradeSource) -> Cell {
    match newest.get(&(item, s)) {
        Some(e) => Cell {
            grade: e.grade.map(Grade::label),
            note: if e.grade.is_some() {
                e.note.clone()
            } else {
                String::new()
            },
        },
        None => Cell::default(),
    }
}

/// Items 1–15 from a village's grade entries (oldest first); item 15 is `item15`, the grade
/// the negative list gives, in every column.
pub(super) fn item_lines(entries: &[GradeEntry], item15: Option<Grade>) -> Vec<ItemLine> {
    let newest = newest(entries);
    criteria::criteria()
        .into_iter()
        .take(15)
        .map(|c| {
            let item = i64::from(c.number);
            if c.number == 15 {
                let derived = Cell {
                    grade: item15.map(Grade::label),
                    note: "由负面清单决定".into(),
                };
                return ItemLine {
                    number: c.number,
                    title: c.title,
                    intro: c.intro,
                    points: c.points,
                    sources: vec![derived.clone(), derived.clone(), derived.clone()],
                    grade: derived.grade,
                    note: derived.note,
                    unexplained: None,
                };
            }
            let final_cell = cell(&newest, item, GradeSource::Final);
            let unexplained = match (
                grade_of(&newest, item, GradeSource::Final),
                reference_grade(&newest, item),
            ) {
                (Some(g), Some((s, r))) if g != r && final_cell.note.trim().is_empty() => Some(
                    format!("最终评定“{g}”与{}的“{r}”不同,还没有写明理由。", s.zh()),
                ),
                _ => None,
            };
            ItemLine {
                number: c.number,
                title: c.title,
                intro: c.intro,
                points: c.points,
                sources: SHOWN.iter().map(|s| cell(&newest, item, *s)).collect(),
                grade: final_cell.grade,
                note: final_cell.note,
                unexplained,
            }
        })
        .collect()
}

/// A grade and what it means (seed 二(一)).
#[derive(Debug, Serialize)]
pub(super) struct Definition {
    grade: &'static str,
    text: &'static str,
}

/// The four definitions, 好 to 差.
pub(super) fn definitions() -> Vec<Definition> {
    GRADE_DEFINITIONS
        .iter()
        .map(|(g, text)| Definition {
            grade: g.label(),
            text,
        })
        .collect()
}

/// A source one may enter on the sheet below the final one.
#[derive(Debug, Serialize)]
pub(super) struct Choice {
    key: &'static str,
    zh: &'static str,
    chosen: bool,
}

/// One item on a source's sheet, with that source's grade in force.
#[derive(Debug, Serialize)]
pub(super) struct EnterLine {
    number: u32,
    title: &'static str,
    points: &'static [&'static str],
    grade: Option<&'static str>,
    note: String,
}

/// One grade entry in the history.
#[derive(Debug, Serialize)]
pub(super) struct HistoryLine {
    at: String,
    item: i64,
    source: &'static str,
    grade: Option<&'static str>,
    note: String,
}

/// One version of the assessment group's report.
#[derive(Debug, Serialize)]
pub(super) struct ReportLine {
    id: i64,
    at: String,
    text: String,
    file_name: Option<String>,
    size_kb: Option<i64>,
    sha256: Option<String>,
}

impl From<GroupReport> for ReportLine {
    fn from(r: GroupReport) -> Self {
        ReportLine {
            id: r.id,
            at: local_time(r.entered_at),
            text: r.text,
            file_name: r.attachment_id.and(r.file_name),
            size_kb: r.size.map(|s| (s + 1023) / 1024),
            sha256: r.sha256,
        }
    }
}

/// Everything of the sources beside the final sheet on the commission's village page.
#[derive(Debug, Serialize)]
pub(super) struct SourcesView {
    definitions: Vec<Definition>,
    rule: &'static str,
    /// The source whose sheet is shown (`self`, `commission` or `group`).
    enter: &'static str,
    enter_zh: &'static str,
    choices: Vec<Choice>,
    enter_items: Vec<EnterLine>,
    /// Every entry, newest first.
    history: Vec<HistoryLine>,
    /// Every version of the group's report, newest first.
    reports: Vec<ReportLine>,
}

/// The sources view of a village, with the sheet of `enter` (not the final source).
pub(super) fn sources_view(
    entries: &[GradeEntry],
    reports: Vec<GroupReport>,
    enter: GradeSource,
) -> SourcesView {
    let newest = newest(entries);
    SourcesView {
        definitions: definitions(),
        rule: criteria::RULE,
        enter: enter.key(),
        enter_zh: enter.zh(),
        choices: [
            GradeSource::Commission,
            GradeSource::Group,
            GradeSource::SelfAssessment,
        ]
        .into_iter()
        .map(|s| Choice {
            key: s.key(),
            zh: s.zh(),
            chosen: s == enter,
        })
        .collect(),
        enter_items: criteria::criteria()
            .into_iter()
            .take(14)
            .map(|c| {
                let item = i64::from(c.number);
                let now = cell(&newest, item, enter);
                EnterLine {
                    number: c.number,
                    title: c.title,
                    points: c.points,
                    grade: now.grade,
                    note: now.note,
                }
            })
            .collect(),
        history: entries
            .iter()
            .rev()
            .map(|e| HistoryLine {
                at: local_time(e.entered_at),
                item: e.item,
                source: GradeSource::parse(&e.source).map_or("", GradeSource::zh),
                grade: e.grade.map(Grade::label),
                note: e.note.clone(),
            })
            .collect(),
        reports: reports.into_iter().map(ReportLine::from).collect(),
    }
}

/// Which source's sheet the village page shows: `?enter=commission|group|self`.
#[derive(Deserialize, Default)]
pub(super) struct EnterQuery {
    enter: Option<String>,
}

impl EnterQuery {
    /// The chosen source; the 镇纪委's by default (the final one has its own sheet).
    pub(super) fn source(&self) -> GradeSource {
        match self.enter.as_deref().and_then(GradeSource::parse) {
            Some(GradeSource::Final) | None => GradeSource::Commission,
            Some(s) => s,
        }
    }
}

/// The village of a results form, by code (404 for a village not in the draw).
pub(super) async fn drawn_village(
    state: &AppState,
    id: CampaignId,
    code: &str,
) -> Result<VillageId, AppError> {
    state
        .db
        .frame_sizes(id)
        .await?
        .into_iter()
        .find(|f| f.code == code)
        .map(|f| f.village_id)
        .ok_or(AppError::NotFound)
}

/// A refusal of an entered result as a response: an approved campaign goes back to the page
/// with `e=approved`; a refusal the person can fix is a 400 with its Chinese sentence.
pub(super) fn refused(e: ResultsError, back: impl FnOnce(&str) -> Response) -> Response {
    match e {
        ResultsError::Approved => back("e=approved"),
        ResultsError::Db(e) => AppError::from(e).into_response(),
        other => {
            let zh = other.message_zh().unwrap_or_default();
            AppError::bad(other.to_string(), zh).into_response()
        }
    }
}

fn back(id: CampaignId, code: &str, flash: &str) -> Response {
    Redirect::to(&format!(
        "/admin/campaigns/{id}/results/{code}?{flash}#sources"
    ))
    .into_response()
}

fn sheet_error(e: SheetError) -> AppError {
    AppError::bad(e.to_string(), e.message_zh())
}

/// A source's sheet: `source` and `grade_N` / `note_N` for items 1–14.
#[derive(Deserialize)]
pub(super) struct SourceForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}
has_csrf!(SourceForm);

impl SourceForm {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(|s| s.trim()).unwrap_or("")
    }
}

/// The commission enters the 镇纪委's or the group's grades, or enters or corrects the
/// village's self-assessment.
pub(super) async fn save_sources(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    CsrfForm(_, form): CsrfForm<SourceForm>,
) -> Result<Response, AppError> {
    let village = drawn_village(&state, id, &code).await?;
    let source = match GradeSource::parse(form.field("source")) {
        Some(s) if s != GradeSource::Final => s,
        _ => {
            return Err(AppError::bad(
                format!("unknown grade source {:?}", form.field("source")),
                "请选择评定来源:镇纪委意见、考核验收评估组或村自评。",
            ));
        }
    };
    let sheet = SourceSheet::parse(source, |n| form.field(n)).map_err(sheet_error)?;
    let v = Village {
        campaign_id: id,
        village_id: village,
        code: &code,
    };
    let to = |flash: &str| back(id, &code, flash);
    match crate::ops::results::save_source_grades(
        &state.db,
        &user.by(),
        v,
        &sheet,
        EnteredBy::Commission,
    )
    .await
    {
        Ok(()) => Ok(to(&format!("m=grades&enter={}", source.key()))),
        Err(e) => Ok(refused(e, to)),
    }
}

/// A new version of the assessment group's report: `text` and an optional `file`.
pub(super) async fn save_report(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    Path((id, code)): Path<(CampaignId, String)>,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_form(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    let village = drawn_village(&state, id, &code).await?;
    let text = upload.field("text").trim().to_string();
    let checked = if upload.bytes.is_empty() {
        None
    } else {
        Some(checked_attachment(&upload)?)
    };
    if text.is_empty() && checked.is_none() {
        return Err(AppError::bad(
            "a group report needs its text or a file",
            "请填写评估组报告的内容,或选择报告文件。",
        ));
    }
    let v = Village {
        campaign_id: id,
        village_id: village,
        code: &code,
    };
    let file = checked.as_ref().map(|c| (c, upload.bytes.as_slice()));
    let to = |flash: &str| back(id, &code, flash);
    match save_group_report(&state.db, &user.by(), v, &text, file).await {
        Ok(_) => Ok(to("m=report")),
        Err(e) => Ok(refused(e, to)),
    }
}

/// The file of one version of the group's report (the commission only).
pub(super) async fn download_report(
    State(state): State<AppState>,
    Admin(_user): Admin,
    Path((id, code, report)): Path<(CampaignId, String, i64)>,
) -> Result<Response, AppError> {
    let village = drawn_village(&state, id, &code).await?;
    let attachment = state
        .db
        .group_reports(id, village)
        .await?
        .into_iter()
        .find(|r| r.id == report)
        .and_then(|r| r.attachment_id)
        .ok_or(AppError::NotFound)?;
    let file = state.db.attachment(attachment).await?;
    Ok(super::download::stored_file(file))
}

/// The village operator's self-assessment page (`village_self_assessment.html`).
#[derive(Serialize)]
pub(super) struct SelfAssessmentPage {
    campaign: crate::db::Campaign,
    village: crate::db::Village,
    items: Vec<EnterLine>,
    definitions: Vec<Definition>,
    rule: &'static str,
    /// The results are published: the page only shows what was entered.
    closed: bool,
    saved: bool,
}

impl views::Page for SelfAssessmentPage {
    const TEMPLATE: &'static str = "village_self_assessment.html";
}

#[derive(Deserialize, Default)]
pub(super) struct SavedQuery {
    m: Option<String>,
}

pub(super) async fn show_self_assessment(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
    Path(id): Path<CampaignId>,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let closed = state.db.publicity(id).await?.is_some();
    let entries = state.db.grade_entries(id, village).await?;
    let view = sources_view(&entries, Vec::new(), GradeSource::SelfAssessment);
    let page = SelfAssessmentPage {
        campaign,
        village: state.db.village(village).await?,
        items: view.enter_items,
        definitions: view.definitions,
        rule: view.rule,
        closed,
        saved: q.m.as_deref() == Some("saved"),
    };
    Ok(views::show(&user, &page))
}

/// The village enters its own grades of items 1–14, until the results are published.
pub(super) async fn save_self_assessment(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<SourceForm>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let code = state.db.village(village).await?.code;
    let sheet =
        SourceSheet::parse(GradeSource::SelfAssessment, |n| form.field(n)).map_err(sheet_error)?;
    let v = Village {
        campaign_id: campaign.id,
        village_id: village,
        code: &code,
    };
    match crate::ops::results::save_source_grades(
        &state.db,
        &user.by(),
        v,
        &sheet,
        EnteredBy::Village,
    )
    .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/village/campaigns/{id}/self-assessment?m=saved"))
                .into_response(),
        ),
        Err(ResultsError::Db(e)) => Err(e.into()),
        Err(e) => {
            let zh = e.message_zh().unwrap_or_default();
            Err(AppError::bad(e.to_string(), zh))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountId;

    fn entry(id: i64, item: i64, source: &str, grade: Option<Grade>, note: &str) -> GradeEntry {
        GradeEntry {
            id,
            village_id: VillageId(1),
            item,
            source: source.into(),
            grade,
            note: note.into(),
            entered_by: Some(AccountId(1)),
            entered_at: 1_760_000_000 + id,
        }
    }

    #[test]
    fn each_column_shows_its_sources_newest_grade_and_item_15_follows_the_list() {
        let entries = [
            entry(1, 8, "self", Some(Grade::Good), "自评"),
            entry(2, 8, "group", Some(Grade::Good), ""),
            entry(3, 8, "group", Some(Grade::Average), "组意见"),
            entry(4, 8, "final", Some(Grade::Good), ""),
            entry(5, 3, "commission", Some(Grade::Good), ""),
            entry(6, 3, "commission", None, ""),
            entry(7, 3, "final", Some(Grade::Poor), "理由"),
        ];
        let lines = item_lines(&entries, Some(Grade::Poor));
        assert_eq!(lines.len(), 15);
        let eight = &lines[7];
        assert_eq!(
            eight.sources.iter().map(|c| c.grade).collect::<Vec<_>>(),
            [Some("好"), None, Some("一般")]
        );
        assert_eq!(eight.grade, Some("好"));
        assert!(
            eight
                .unexplained
                .as_deref()
                .unwrap()
                .contains("考核验收评估组")
        );
        assert!(eight.points[0].contains("不少于 4 次"));
        // The commission withdrew its grade: nothing to differ from, no reason asked.
        assert_eq!(lines[2].sources[1].grade, None);
        assert!(lines[2].unexplained.is_none());
        assert!(lines[14].sources.iter().all(|c| c.grade == Some("差")));
        assert_eq!(lines[14].grade, Some("差"));
    }

    #[test]
    fn the_sheet_shown_is_the_chosen_source_and_never_the_final_one() {
        let q = |s: &str| EnterQuery {
            enter: Some(s.into()),
        };
        assert_eq!(q("group").source(), GradeSource::Group);
        assert_eq!(q("self").source(), GradeSource::SelfAssessment);
        assert_eq!(q("final").source(), GradeSource::Commission);
        assert_eq!(q("x").source(), GradeSource::Commission);
        let entries = [entry(1, 2, "self", Some(Grade::FairlyGood), "村里说")];
        let v = sources_view(&entries, Vec::new(), GradeSource::SelfAssessment);
        assert_eq!(v.enter_items[1].grade, Some("较好"));
        assert_eq!(v.enter_items[1].note, "村里说");
        assert_eq!(v.history.len(), 1);
    }
}
