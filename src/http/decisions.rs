//! The proposed list (拟评定名单) on the commission's results page and the forms after it:
//! adjusting the list (which restarts publicity once it has started), deciding objections
//! upheld or dismissed, and per village the 镇纪委's study and the 镇党委's decision. Also a
//! village operator's own status on the list.

use super::AppState;
use super::auth::CsrfForm;
use super::auth::has_csrf;
use super::error::AppError;
use super::roles::Admin;
use crate::db::{DecisionRow, PartyDecision, Publicity, TitleRow};
use crate::domain::{local_time, today};
use crate::ids::{CampaignId, ObjectionId, VillageId};
use crate::ops::decisions::DecisionError;
use crate::ops::publicity::{
    AdjustError, Adjusted, Adjustment, DecideObjectionError, ObjectionDecision,
    list_before_publicity,
};
use crate::results::calendar::parse_date;
use crate::results::tables::VillageAssessment;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Longest reason, minutes reference or document number kept.
const TEXT_MAX: usize = 2000;

/// The proposed list as the results page shows it.
#[derive(Serialize)]
pub(super) struct ProposedView {
    /// Publicity has started with a stored list: the list shown is the frozen one.
    frozen: bool,
    /// Publicity started before the list was kept: nothing stored to show.
    legacy: bool,
    /// The publicity period in force (1 unless restarted).
    period: i64,
    /// When the period in force began, if it is a restart.
    restarted_at: Option<String>,
    /// Every assessed village, in the results' order.
    lines: Vec<ProposedLine>,
    /// Some village's current verdict differs from the final list.
    differs: bool,
    adjustments: Vec<AdjustmentView>,
    /// Publicity periods a restart replaced, with their notices.
    past: Vec<PastView>,
    /// Publicity is over: studies and decisions may be recorded.
    over: bool,
    /// Studies or decisions recorded: the list no longer changes.
    decided_any: bool,
    /// How many years a title granted in the campaign holds.
    title_years: i64,
    /// Titles are granted: their validity no longer changes.
    granted_any: bool,
}

#[derive(Serialize)]
pub(super) struct ProposedLine {
    code: String,
    name: String,
    /// The current verdict passes.
    passes: bool,
    /// On the list: before publicity, the list as it stands; after, the final list.
    on_list: bool,
    /// On the frozen list of the period in force (after publicity started).
    published: bool,
    /// Taken off by an upheld objection (its number).
    removed_by_objection: Option<ObjectionId>,
    /// The current verdict differs from the final list.
    differs: bool,
    decision: Option<DecisionView>,
}

#[derive(Serialize)]
pub(super) struct DecisionView {
    studied_on: String,
    study_ref: String,
    /// `approved`, `declined`, or none yet.
    outcome: Option<String>,
    decided_on: Option<String>,
    decision_ref: Option<String>,
    decline_reason: Option<String>,
    /// The title's last day, when granted.
    expires_on: Option<String>,
}

#[derive(Serialize)]
pub(super) struct AdjustmentView {
    village: String,
    add: bool,
    reason: String,
    /// The publicity period the change started, if made during publicity.
    period: Option<i64>,
    at: String,
}

#[derive(Serialize)]
pub(super) struct PastView {
    period: i64,
    start: String,
    end: String,
    notice: Vec<String>,
    superseded_at: String,
}

fn decision_view(d: &DecisionRow, title: Option<&TitleRow>) -> DecisionView {
    DecisionView {
        studied_on: d.studied_on.clone(),
        study_ref: d.study_ref.clone(),
        outcome: d.outcome.clone(),
        decided_on: d.decided_on.clone(),
        decision_ref: d.decision_ref.clone(),
        decline_reason: d.decline_reason.clone(),
        expires_on: title.map(|t| t.expires_on.clone()),
    }
}

/// The campaign's titles by village.
async fn titles_of(
    state: &AppState,
    id: CampaignId,
) -> Result<BTreeMap<VillageId, TitleRow>, AppError> {
    Ok(state
        .db
        .titles()
        .await?
        .into_iter()
        .filter(|t| t.campaign_id == id)
        .map(|t| (t.village_id, t))
        .collect())
}

/// The proposed list of the campaign for the results page.
pub(super) async fn proposed_view(
    state: &AppState,
    id: CampaignId,
    assessed: &[VillageAssessment],
    publicity: &Option<Publicity>,
) -> Result<ProposedView, AppError> {
    let adjustments = state.db.proposed_adjustments(id).await?;
    let rows = state.db.proposed_rows(id).await?;
    let decisions: BTreeMap<VillageId, DecisionRow> = state
        .db
        .village_decisions(id)
        .await?
        .into_iter()
        .map(|d| (d.village_id, d))
        .collect();
    let titles = titles_of(state, id).await?;
    let label: BTreeMap<VillageId, String> = assessed
        .iter()
        .map(|a| (a.village_id, format!("{} {}", a.code, a.name)))
        .collect();
    let frozen = publicity.as_ref().is_some_and(|p| p.list_frozen);
    let period = publicity.as_ref().map_or(1, |p| p.period);
    // Before publicity: the verdict and the adjustments. After: the period's frozen rows.
    let (published, removed): (BTreeSet<VillageId>, BTreeMap<VillageId, ObjectionId>) = rows
        .iter()
        .filter(|r| r.period == period)
        .fold((BTreeSet::new(), BTreeMap::new()), |(mut p, mut r), row| {
            p.insert(row.village_id);
            if let Some(o) = row.removed_by_objection {
                r.insert(row.village_id, o);
            }
            (p, r)
        });
    let before: Vec<(VillageId, String)> = adjustments
        .iter()
        .filter(|a| a.period.is_none())
        .map(|a| (a.village_id, a.action.clone()))
        .collect();
    let live = list_before_publicity(assessed, &before);
    let lines: Vec<ProposedLine> = assessed
        .iter()
        .map(|a| {
            let v = a.village_id;
            let on_list = if frozen {
                published.contains(&v) && !removed.contains_key(&v)
            } else {
                publicity.is_none() && live.contains(&v)
            };
            ProposedLine {
                code: a.code.clone(),
                name: a.name.clone(),
                passes: a.verdict.passed,
                on_list,
                published: frozen && published.contains(&v),
                removed_by_objection: removed.get(&v).copied(),
                differs: frozen && on_list != a.verdict.passed,
                decision: decisions.get(&v).map(|d| decision_view(d, titles.get(&v))),
            }
        })
        .collect();
    let past = state
        .db
        .publicity_history(id)
        .await?
        .into_iter()
        .map(|p| PastView {
            period: p.period,
            start: p.start_date,
            end: p.end_date,
            notice: p
                .notice_text
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(str::to_string)
                .collect(),
            superseded_at: local_time(p.superseded_at),
        })
        .collect();
    Ok(ProposedView {
        frozen,
        legacy: publicity.is_some() && !frozen,
        period,
        restarted_at: publicity
            .as_ref()
            .filter(|p| p.period > 1)
            .map(|p| local_time(p.published_at)),
        differs: lines.iter().any(|l| l.differs),
        lines,
        adjustments: adjustments
            .iter()
            .map(|a| AdjustmentView {
                village: label
                    .get(&a.village_id)
                    .cloned()
                    .unwrap_or_else(|| a.village_id.to_string()),
                add: a.action == "add",
                reason: a.reason.clone(),
                period: a.period,
                at: local_time(a.adjusted_at),
            })
            .collect(),
        past,
        over: publicity.as_ref().is_some_and(|p| today() > p.end_date),
        decided_any: !decisions.is_empty(),
        title_years: state.db.title_years(id).await?,
        granted_any: !titles.is_empty(),
    })
}

/// A village operator's status on the list of a published campaign.
#[derive(Serialize)]
pub(super) struct OwnStatus {
    /// 公示中, 拟评定, 因异议属实移出, 已批准授予称号, …
    label: &'static str,
    /// The decision's date, 文号 and the title's last day, when granted.
    granted_on: Option<String>,
    decision_ref: Option<String>,
    expires_on: Option<String>,
}

/// The village's own status: nothing about any other village.
pub(super) async fn own_status(
    state: &AppState,
    id: CampaignId,
    village: VillageId,
    publicity: &Publicity,
) -> Result<Option<OwnStatus>, AppError> {
    if !publicity.list_frozen {
        return Ok(None);
    }
    let row = state
        .db
        .proposed_rows(id)
        .await?
        .into_iter()
        .find(|r| r.period == publicity.period && r.village_id == village);
    let decision = state
        .db
        .village_decisions(id)
        .await?
        .into_iter()
        .find(|d| d.village_id == village);
    let mut status = OwnStatus {
        label: "未列入拟评定名单",
        granted_on: None,
        decision_ref: None,
        expires_on: None,
    };
    let Some(row) = row else {
        return Ok(Some(status));
    };
    status.label = if row.removed_by_objection.is_some() {
        "因异议属实移出拟评定名单"
    } else {
        match decision.as_ref().and_then(|d| d.outcome.as_deref()) {
            Some("approved") => {
                let title = titles_of(state, id).await?.remove(&village);
                status.granted_on = decision.as_ref().and_then(|d| d.decided_on.clone());
                status.decision_ref = decision.as_ref().and_then(|d| d.decision_ref.clone());
                status.expires_on = title.map(|t| t.expires_on);
                "已批准授予称号"
            }
            Some(_) => "镇党委未予批准",
            None if today() > publicity.end_date => "拟评定（公示期满，待镇纪委研究、镇党委批准）",
            None => "拟评定，公示中",
        }
    };
    Ok(Some(status))
}

fn back(id: CampaignId, flash: &str) -> Response {
    Redirect::to(&format!("/admin/campaigns/{id}/results?{flash}#proposed")).into_response()
}

fn clipped(s: &str) -> String {
    s.trim().chars().take(TEXT_MAX).collect()
}

/// The village of a form, by code, among the campaign's drawn villages; 400 otherwise.
async fn village_by_code(
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
        .ok_or_else(|| AppError::bad("village not in the campaign", "村（社区）无效。"))
}

#[derive(Deserialize)]
pub(super) struct AdjustForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    village: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    /// During publicity: the first day of the new publicity.
    #[serde(default)]
    start: String,
}
has_csrf!(AdjustForm);

pub(super) async fn adjust_proposed(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<AdjustForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let reason = clipped(&form.reason);
    if reason.is_empty() {
        return Ok(back(id, "e=adj_reason"));
    }
    let add = match form.action.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Ok(back(id, "e=adj_action")),
    };
    let village = village_by_code(&state, id, form.village.trim()).await?;
    let restart_on = match form.start.trim() {
        "" => None,
        d => match parse_date(d) {
            Some(d) => Some(d),
            None => return Ok(back(id, "e=date")),
        },
    };
    let adj = Adjustment {
        village_id: village,
        add,
        reason: &reason,
        restart_on,
    };
    let today = parse_date(&today()).ok_or_else(|| anyhow::anyhow!("today is not a date"))?;
    let flash =
        match crate::ops::publicity::adjust_list(&state.db, &user.by(), id, &adj, today).await {
            Ok(Adjusted::Listed) => "m=adjusted",
            Ok(Adjusted::Restarted { .. }) => "m=restarted",
            Err(AdjustError::NotClosed) => "e=not_closed",
            Err(AdjustError::Approved) => "e=approved",
            Err(AdjustError::NotInCampaign) => "e=adj_village",
            Err(AdjustError::OnList) => "e=on_list",
            Err(AdjustError::NotOnList) => "e=not_on_list",
            Err(AdjustError::NeedsStart) => "e=needs_start",
            Err(AdjustError::StartTooEarly(_)) => "e=start_early",
            Err(AdjustError::StartInPast) => "e=start_past",
            Err(AdjustError::Upheld) => "e=adj_upheld",
            Err(AdjustError::Decided) => "e=list_decided",
            Err(AdjustError::NoStoredList) => "e=no_list",
            Err(AdjustError::Calendar) => "e=calendar",
            Err(AdjustError::NoContact) => "e=contact",
            Err(AdjustError::Db(e)) => return Err(e.into()),
            Err(AdjustError::Results(e)) => return Err(e.into()),
        };
    Ok(back(id, flash))
}

#[derive(Deserialize)]
pub(super) struct ObjectionDecisionForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    /// The reason; `resolution` is the field's older name.
    #[serde(default, alias = "resolution")]
    reason: String,
}
has_csrf!(ObjectionDecisionForm);

pub(super) async fn decide_objection(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, oid)): Path<(CampaignId, ObjectionId)>,
    CsrfForm(_, form): CsrfForm<ObjectionDecisionForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let Some(decision) = ObjectionDecision::parse(form.decision.trim()) else {
        return Ok(back(id, "e=objection_decision"));
    };
    let reason = clipped(&form.reason);
    if reason.is_empty() {
        return Ok(back(id, "e=resolution"));
    }
    let by = user.by();
    let flash =
        match crate::ops::publicity::decide_objection(&state.db, &by, id, oid, decision, &reason)
            .await
        {
            Ok(_) if decision == ObjectionDecision::Upheld => "m=upheld",
            Ok(_) => "m=dismissed",
            Err(DecideObjectionError::Approved) => "e=approved",
            Err(DecideObjectionError::Decided) => "e=objection_late",
            Err(DecideObjectionError::NotFound) => return Err(AppError::NotFound),
            Err(DecideObjectionError::Db(e)) => return Err(e.into()),
        };
    Ok(back(id, flash))
}

fn decision_flash(e: DecisionError) -> Result<&'static str, AppError> {
    Ok(match e {
        DecisionError::Approved => "e=approved",
        DecisionError::NotPublished => "e=not_published",
        DecisionError::PeriodNotOver(_) => "e=period",
        DecisionError::OpenObjections(_) => "e=open_objections",
        DecisionError::NotOnList => "e=not_final",
        DecisionError::BeforePublicityEnd(_) => "e=before_end",
        DecisionError::InFuture => "e=future",
        DecisionError::StudyRecorded => "e=study_recorded",
        DecisionError::NoStudy => "e=no_study",
        DecisionError::BeforeStudy(_) => "e=before_study",
        DecisionError::AlreadyDecided => "e=already_decided",
        DecisionError::Expiry => "e=date",
        DecisionError::Db(e) => return Err(e.into()),
    })
}

#[derive(Deserialize)]
pub(super) struct StudyForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    studied_on: String,
    #[serde(default)]
    minutes_ref: String,
}
has_csrf!(StudyForm);

pub(super) async fn record_study(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    CsrfForm(_, form): CsrfForm<StudyForm>,
) -> Result<Response, AppError> {
    let village = village_by_code(&state, id, &code).await?;
    let Some(on) = parse_date(form.studied_on.trim()) else {
        return Ok(back(id, "e=date"));
    };
    let minutes = clipped(&form.minutes_ref);
    if minutes.is_empty() {
        return Ok(back(id, "e=minutes_ref"));
    }
    let today = parse_date(&today()).ok_or_else(|| anyhow::anyhow!("today is not a date"))?;
    let flash = match crate::ops::decisions::record_study(
        &state.db,
        &user.by(),
        id,
        village,
        on,
        &minutes,
        today,
    )
    .await
    {
        Ok(()) => "m=studied",
        Err(e) => decision_flash(e)?,
    };
    Ok(back(id, flash))
}

#[derive(Deserialize)]
pub(super) struct PartyForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    decided_on: String,
    #[serde(default)]
    decision_ref: String,
    #[serde(default)]
    reason: String,
}
has_csrf!(PartyForm);

pub(super) async fn record_decision(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    CsrfForm(_, form): CsrfForm<PartyForm>,
) -> Result<Response, AppError> {
    let village = village_by_code(&state, id, &code).await?;
    let Some(on) = parse_date(form.decided_on.trim()) else {
        return Ok(back(id, "e=date"));
    };
    let doc = clipped(&form.decision_ref);
    let reason = clipped(&form.reason);
    let decision = match form.decision.as_str() {
        "approved" if doc.is_empty() => return Ok(back(id, "e=decision_ref")),
        "approved" => PartyDecision::Approved { decision_ref: &doc },
        "declined" if reason.is_empty() => return Ok(back(id, "e=decline_reason")),
        "declined" => PartyDecision::Declined { reason: &reason },
        _ => return Ok(back(id, "e=party_decision")),
    };
    let today = parse_date(&today()).ok_or_else(|| anyhow::anyhow!("today is not a date"))?;
    let flash = match crate::ops::decisions::record_decision(
        &state.db,
        &user.by(),
        id,
        village,
        on,
        decision,
        today,
    )
    .await
    {
        Ok(Some(_)) => "m=granted",
        Ok(None) => "m=declined",
        Err(e) => decision_flash(e)?,
    };
    Ok(back(id, flash))
}

/// A proposed list with every part filled, for the template tests.
#[cfg(test)]
pub(super) fn sample_proposed() -> ProposedView {
    let line = |code: &str, decision: Option<DecisionView>| ProposedLine {
        code: code.into(),
        name: "样例名单村".into(),
        passes: true,
        on_list: true,
        published: true,
        removed_by_objection: None,
        differs: false,
        decision,
    };
    let studied = |outcome: Option<&str>| DecisionView {
        studied_on: "2026-10-20".into(),
        study_ref: "样例纪要1号".into(),
        outcome: outcome.map(str::to_string),
        decided_on: outcome.map(|_| "2026-10-21".into()),
        decision_ref: Some("样例文号〔2026〕1号".into()),
        decline_reason: Some("样例不予批准理由".into()),
        expires_on: Some("2028-10-20".into()),
    };
    ProposedView {
        frozen: true,
        legacy: false,
        period: 2,
        restarted_at: Some("2026-10-12 09:00".into()),
        lines: vec![
            line("V0101", None),
            line("V0102", Some(studied(None))),
            line("V0103", Some(studied(Some("approved")))),
            line("V0104", Some(studied(Some("declined")))),
            ProposedLine {
                on_list: false,
                removed_by_objection: Some(ObjectionId(3)),
                differs: true,
                passes: false,
                ..line("V0105", None)
            },
        ],
        differs: true,
        adjustments: vec![AdjustmentView {
            village: "V0101 样例村".into(),
            add: true,
            reason: "样例调整理由".into(),
            period: Some(2),
            at: "2026-10-12 09:00".into(),
        }],
        past: vec![PastView {
            period: 1,
            start: "2026-10-08".into(),
            end: "2026-10-16".into(),
            notice: vec!["样例原公示通知".into()],
            superseded_at: "2026-10-12 09:00".into(),
        }],
        over: true,
        decided_any: false,
        title_years: 2,
        granted_any: false,
    }
}

/// A granted status, for the template tests.
#[cfg(test)]
pub(super) fn sample_status() -> OwnStatus {
    OwnStatus {
        label: "已批准授予称号",
        granted_on: Some("2026-10-20".into()),
        decision_ref: Some("样例文号〔2026〕1号".into()),
        expires_on: Some("2028-10-19".into()),
    }
}

#[derive(Deserialize)]
pub(super) struct TitleYearsForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    years: String,
}
has_csrf!(TitleYearsForm);

pub(super) async fn set_title_years(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<TitleYearsForm>,
) -> Result<Response, AppError> {
    use crate::ops::decisions::{TITLE_YEARS_MAX, TitleYearsError};
    state.db.campaign(id).await?;
    let years = match form.years.trim().parse::<i64>() {
        Ok(n) if (1..=TITLE_YEARS_MAX).contains(&n) => n,
        _ => return Ok(back(id, "e=title_years")),
    };
    let flash = match crate::ops::decisions::set_title_years(&state.db, &user.by(), id, years).await
    {
        Ok(()) => "m=title_years",
        Err(TitleYearsError::Approved) => "e=approved",
        Err(TitleYearsError::Granted) => "e=titles_granted",
        Err(TitleYearsError::Db(e)) => return Err(e.into()),
    };
    Ok(back(id, flash))
}

/// The proposed list's part of the campaign archive: `proposed-list.csv` (per village: the
/// final list, a removal by objection, the study, the 镇党委's decision and the title) and
/// `publicity-notice-<period>.txt` for each notice a restart replaced.
pub(super) async fn archive_files(
    state: &AppState,
    id: CampaignId,
) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    let mut files = Vec::new();
    let Some(publicity) = state.db.publicity(id).await? else {
        return Ok(files);
    };
    for past in state.db.publicity_history(id).await? {
        if let Some(text) = past.notice_text {
            files.push((
                format!("publicity-notice-{}.txt", past.period),
                text.into_bytes(),
            ));
        }
    }
    if !publicity.list_frozen {
        return Ok(files);
    }
    let rows = state.db.proposed_rows(id).await?;
    let decisions: BTreeMap<VillageId, DecisionRow> = state
        .db
        .village_decisions(id)
        .await?
        .into_iter()
        .map(|d| (d.village_id, d))
        .collect();
    let titles = titles_of(state, id).await?;
    let lines: Vec<Vec<String>> = state
        .db
        .frame_sizes(id)
        .await?
        .into_iter()
        .map(|f| {
            let row = rows
                .iter()
                .find(|r| r.period == publicity.period && r.village_id == f.village_id);
            let d = decisions.get(&f.village_id);
            let field =
                |get: fn(&DecisionRow) -> Option<String>| d.and_then(get).unwrap_or_default();
            vec![
                f.code,
                f.name,
                match row {
                    Some(r) if r.removed_by_objection.is_some() => "因异议属实移出".into(),
                    Some(_) => "列入".into(),
                    None => String::new(),
                },
                row.and_then(|r| r.removed_by_objection)
                    .map(|o| o.to_string())
                    .unwrap_or_default(),
                field(|d| Some(d.studied_on.clone())),
                field(|d| Some(d.study_ref.clone())),
                match d.and_then(|d| d.outcome.as_deref()) {
                    Some("approved") => "批准".into(),
                    Some(_) => "不予批准".into(),
                    None => String::new(),
                },
                field(|d| d.decided_on.clone()),
                field(|d| d.decision_ref.clone()),
                field(|d| d.decline_reason.clone()),
                titles
                    .get(&f.village_id)
                    .map(|t| t.expires_on.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "村（社区）代码",
        "村（社区）名称",
        "公示名单",
        "移出所依异议编号",
        "镇纪委研究日期",
        "会议纪要编号",
        "镇党委决定",
        "决定日期",
        "文号",
        "不予批准理由",
        "称号有效至",
    ];
    files.push((
        "proposed-list.csv".into(),
        crate::export::excel_csv(&header, lines),
    ));
    Ok(files)
}
