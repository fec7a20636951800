//! Application and acceptance (申报与受理) on the pages: the village operator hands in its
//! application with the self-assessment report (on the village page); the commission sees
//! every village's application on the campaign page (#applications), accepts or refuses it
//! (不受理, with a reason) and may move the due date, until the rosters are frozen.

use super::AppState;
use super::auth::{CsrfForm, check_csrf, check_origin, has_csrf};
use super::error::AppError;
use super::roles::{Admin, Operator};
use super::upload::{checked_attachment, read_upload};
use crate::db::{ApplicationRow, Participation};
use crate::domain::{CampaignState, local_time, mask_digit_runs, today};
use crate::ids::{CampaignId, VillageId};
use crate::ops::applications::{ApplicationRefused, Decision};
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

/// The status of an application in words.
pub(super) fn status_label(decision: Option<&str>) -> &'static str {
    match decision {
        Some("accepted") => "已受理",
        Some("refused") => "不受理",
        _ => "待受理",
    }
}

/// An application as the pages show it (with its report's description).
#[derive(Clone, Debug, Serialize)]
pub(super) struct ApplicationLine {
    pub code: String,
    pub name: String,
    pub status: &'static str,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub note: String,
    pub applied_at: String,
    pub decided_at: Option<String>,
    pub report_id: Option<crate::ids::AttachmentId>,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
}

impl From<ApplicationRow> for ApplicationLine {
    fn from(a: ApplicationRow) -> Self {
        ApplicationLine {
            status: status_label(a.decision.as_deref()),
            code: a.code,
            name: a.name,
            decision: a.decision,
            // Free text on a page: a phone number typed into it is shown masked.
            reason: a.reason.as_deref().map(mask_digit_runs),
            note: mask_digit_runs(&a.note),
            applied_at: local_time(a.applied_at),
            decided_at: a.decided_at.map(local_time),
            report_id: a.report_id,
            file_name: a.file_name,
            size: a.size,
            sha256: a.sha256,
        }
    }
}

/// The campaign page's section #applications (campaigns that take applications only).
#[derive(Debug, Serialize)]
pub(super) struct ApplicationsSection {
    pub due: String,
    /// Decisions and the due date can still change (until the freeze).
    pub open: bool,
    /// Every village, applied or not.
    pub villages: Vec<VillageApplication>,
    pub pending: usize,
    pub accepted: usize,
}

#[derive(Debug, Serialize)]
pub(super) struct VillageApplication {
    pub code: String,
    pub name: String,
    pub application: Option<ApplicationLine>,
}

/// The section for the administrator's campaign page; `None` for a campaign every village
/// with a roster takes part in.
pub(super) async fn section(
    state: &AppState,
    campaign: CampaignId,
    campaign_state: CampaignState,
) -> Result<Option<ApplicationsSection>, AppError> {
    let rule = state.db.participation(campaign).await?;
    if !rule.by_application() {
        return Ok(None);
    }
    let mut applications = state.db.applications(campaign).await?;
    let mut villages = Vec::new();
    let (mut pending, mut accepted) = (0, 0);
    for v in state.db.list_villages().await? {
        let application = applications
            .iter()
            .position(|a| a.village_id == v.id)
            .map(|i| ApplicationLine::from(applications.swap_remove(i)));
        match application.as_ref().map(|a| a.decision.as_deref()) {
            Some(None) => pending += 1,
            Some(Some("accepted")) => accepted += 1,
            _ => {}
        }
        villages.push(VillageApplication {
            code: v.code,
            name: v.name,
            application,
        });
    }
    Ok(Some(ApplicationsSection {
        due: rule.applications_due.unwrap_or_default(),
        open: campaign_state == CampaignState::Collecting,
        villages,
        pending,
        accepted,
    }))
}

/// What the village page shows of its application in a campaign.
#[derive(Debug, Serialize)]
pub(super) struct OwnApplication {
    pub due: String,
    /// The form is offered: collecting, by the due date, not yet decided.
    pub open: bool,
    /// The due date has passed.
    pub late: bool,
    pub application: Option<ApplicationLine>,
}

/// The village's application in a campaign that takes applications; `None` otherwise.
pub(super) async fn own(
    state: &AppState,
    rule: &Participation,
    campaign: CampaignId,
    campaign_state: CampaignState,
    village: VillageId,
) -> Result<Option<OwnApplication>, AppError> {
    if !rule.by_application() {
        return Ok(None);
    }
    let application = state.db.application(campaign, village).await?;
    // Without a due date (a 复核 round) nobody applies: the villages re-checked were entered
    // from the title register, and others have nothing to see here.
    let Some(due) = rule.applications_due.clone() else {
        return Ok(application.map(|a| OwnApplication {
            due: String::new(),
            open: false,
            late: false,
            application: Some(ApplicationLine::from(a)),
        }));
    };
    let late = today() > due;
    let decided = application.as_ref().is_some_and(|a| a.decision.is_some());
    Ok(Some(OwnApplication {
        open: campaign_state == CampaignState::Collecting && !late && !decided,
        late,
        due,
        application: application.map(ApplicationLine::from),
    }))
}

/// The village operator hands in (or replaces) its application: the self-assessment report
/// (PDF, Word or image, checked by content) and an optional note.
pub(super) async fn submit(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
    headers: HeaderMap,
    Path(id): Path<CampaignId>,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_upload(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    state.db.campaign(id).await?;
    let checked = checked_attachment(&upload)?;
    let note: String = upload.field("note").trim().chars().take(500).collect();
    match crate::ops::applications::submit(
        &state.db,
        &user.by(),
        id,
        village,
        crate::ops::applications::Document {
            file: &checked,
            content: &upload.bytes,
            note: &note,
        },
        &today(),
    )
    .await
    {
        Ok(done) => {
            tracing::info!(
                campaign = id.0,
                village = village.0,
                ?done,
                "application handed in"
            );
            Ok(Redirect::to(&format!("/village#application-{id}")).into_response())
        }
        Err(ApplicationRefused::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::bad(format!("application refused: {e}"), e.zh())),
    }
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `accept` or `refuse`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}
has_csrf!(DecisionForm);

/// The commission accepts a village's application, or refuses it (不受理) with a reason.
pub(super) async fn decide(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    CsrfForm(_, form): CsrfForm<DecisionForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let village = state.db.village_by_code(&code).await?;
    let reason = form.reason.trim();
    let decision = match form.decision.as_str() {
        "accept" => Decision::Accept,
        "refuse" if reason.is_empty() => {
            return Err(AppError::bad(
                "a refusal needs a reason",
                "不受理须写明理由(例如:隐瞒案件线索,见第10条第④项)。",
            ));
        }
        "refuse" if reason.chars().count() > 500 => {
            return Err(AppError::bad(
                "the reason is longer than 500 characters",
                "理由不能超过 500 字。",
            ));
        }
        "refuse" => Decision::Refuse(reason.to_string()),
        _ => {
            return Err(AppError::bad(
                format!("unknown decision {:?}", form.decision),
                "请选择受理或不受理。",
            ));
        }
    };
    match crate::ops::applications::decide(&state.db, &user.by(), id, village.id, &decision).await {
        Ok(()) => {
            let key = match decision {
                Decision::Accept => "application_accepted",
                Decision::Refuse(_) => "application_refused",
            };
            Ok(
                Redirect::to(&format!("/admin/campaigns/{id}?m={key}#applications"))
                    .into_response(),
            )
        }
        Err(ApplicationRefused::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::bad(format!("decision refused: {e}"), e.zh())),
    }
}

#[derive(Deserialize)]
pub(super) struct DueForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    day: String,
}
has_csrf!(DueForm);

/// Parses a day `YYYY-MM-DD` (as the date input sends it) into its canonical form.
pub(super) fn parse_day(text: &str) -> Option<String> {
    crate::results::calendar::parse_date(text.trim())
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
}

/// Moves the last day to apply, until the freeze.
pub(super) async fn set_due(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<DueForm>,
) -> Result<Response, AppError> {
    state.db.campaign(id).await?;
    let Some(day) = parse_day(&form.day) else {
        return Err(AppError::bad(
            format!("bad due date {:?}", form.day),
            "申报截止日期无效:请按 2026-09-30 的格式填写。",
        ));
    };
    match crate::ops::applications::set_due(&state.db, &user.by(), id, &day).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/campaigns/{id}?m=applications_due#applications"
        ))
        .into_response()),
        Err(ApplicationRefused::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::bad(format!("due date refused: {e}"), e.zh())),
    }
}

#[cfg(test)]
pub(super) mod samples {
    use super::*;

    pub fn line(decision: Option<&str>) -> ApplicationLine {
        ApplicationLine {
            code: "V0101".into(),
            name: "样例申报村".into(),
            status: status_label(decision),
            decision: decision.map(String::from),
            reason: (decision == Some("refused")).then(|| "样例不受理理由".into()),
            note: "样例申报备注".into(),
            applied_at: "2026-09-01 10:00".into(),
            decided_at: decision.map(|_| "2026-09-05 10:00".into()),
            report_id: Some(crate::ids::AttachmentId(7)),
            file_name: Some("样例自评报告.pdf".into()),
            size: Some(2048),
            sha256: Some("reportsha256sample".into()),
        }
    }

    pub fn section(open: bool) -> ApplicationsSection {
        ApplicationsSection {
            due: "2026-09-30".into(),
            open,
            villages: vec![
                VillageApplication {
                    code: "V0101".into(),
                    name: "样例申报村".into(),
                    application: Some(line(None)),
                },
                VillageApplication {
                    code: "V0102".into(),
                    name: "样例未申报村".into(),
                    application: None,
                },
            ],
            pending: 1,
            accepted: 0,
        }
    }
}
