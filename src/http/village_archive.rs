//! The village archive (创廉档案): the village operator hands in its half-yearly written
//! reports (半年书面报告) at `/village/archive`; the commission sees who is overdue
//! (`/admin/archive`) and each village's whole archive across campaigns — applications with
//! their self-assessment reports and decisions, half-yearly reports, titles
//! (`/admin/villages/{code}/archive`). Every file is listed with its SHA-256 and can be
//! downloaded by the village that handed it in and by the commission only.

use super::AppState;
use super::applications::ApplicationLine;
use super::auth::{CurrentUser, check_csrf, check_origin};
use super::download::stored_file;
use super::error::AppError;
use super::roles::{Admin, Operator};
use super::upload::{checked_attachment, read_upload};
use super::views;
use crate::db::VillageReportRow;
use crate::domain::{local_time, today};
use crate::ids::{AttachmentId, VillageId};
use crate::ops::applications::{H1_DUE, H2_DUE_NEXT_YEAR, Period, ReportRefused};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Serialize;

/// How many years back a village may still hand in a report for.
const YEARS_BACK: i64 = 3;

/// A file's size for people: "12 KB", "1.5 MB".
fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn kind_label(kind: &str) -> &'static str {
    crate::attachments::Kind::from_name(kind).map_or("文件", |k| k.zh())
}

/// A half-yearly report as the pages list it.
#[derive(Serialize)]
struct ReportLine {
    period: String,
    period_zh: String,
    attachment_id: AttachmentId,
    file_name: String,
    kind: &'static str,
    size: String,
    sha256: String,
    uploaded_at: String,
    note: String,
    /// The newest upload of its period (the one that counts).
    current: bool,
}

fn report_lines(rows: Vec<VillageReportRow>) -> Vec<ReportLine> {
    // Rows come newest period first, newest upload first within it.
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .map(|r| ReportLine {
            current: seen.insert(r.period.clone()),
            period_zh: Period::parse(&r.period).map(Period::zh).unwrap_or_default(),
            period: r.period,
            attachment_id: r.attachment_id,
            file_name: r.file_name,
            kind: kind_label(&r.kind),
            size: size_label(r.size),
            sha256: r.sha256,
            uploaded_at: local_time(r.uploaded_at),
            // Free text on a page: a phone number typed into it is shown masked.
            note: crate::domain::mask_digit_runs(&r.note),
        })
        .collect()
}

/// The periods a village may hand a report in for: the current half year and the past ones
/// of the last few years, newest first.
fn open_periods(today: &str) -> Vec<Period> {
    let Some(current) = Period::of_day(today) else {
        return Vec::new();
    };
    let first = Period {
        year: current.year - YEARS_BACK,
        half: 1,
    };
    let mut periods = Period::range(first, current);
    periods.reverse();
    periods
}

/// "07-15" as "7 月 15 日".
fn month_day(md: &str) -> String {
    let (m, d) = md.split_once('-').unwrap_or((md, ""));
    let n = |t: &str| t.trim_start_matches('0').to_string();
    format!("{} 月 {} 日", n(m), n(d))
}

/// The rule on due dates, as the pages state it.
fn due_rule() -> String {
    format!(
        "上半年的书面报告须在当年 {}前提交,下半年的须在次年 {}前提交。",
        month_day(H1_DUE),
        month_day(H2_DUE_NEXT_YEAR)
    )
}

/// A campaign as the archive pages name it: "name(year 年)"; empty for an unknown id.
fn campaign_label(campaigns: &[crate::db::Campaign], id: crate::ids::CampaignId) -> String {
    campaigns
        .iter()
        .find(|c| c.id == id)
        .map(|c| format!("{}({} 年)", c.name, c.year))
        .unwrap_or_default()
}

async fn village_page(
    state: &AppState,
    user: &CurrentUser,
    village: VillageId,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let village = state.db.village(village).await?;
    let reports = report_lines(state.db.village_reports(village.id).await?);
    let periods: Vec<_> = open_periods(&today())
        .into_iter()
        .map(|p| context! { value => p.to_string(), label => p.zh(), due => p.due() })
        .collect();
    let campaigns = state.db.list_campaigns().await?;
    let applications: Vec<_> = state
        .db
        .village_applications(village.id)
        .await?
        .into_iter()
        .map(|a| {
            let campaign = campaign_label(&campaigns, a.campaign_id);
            context! { campaign, line => views::ser(&ApplicationLine::from(a)) }
        })
        .collect();
    Ok(views::page(
        user,
        "village_archive.html",
        context! {
            village => views::ser(&village), reports => views::ser(&reports), periods,
            applications, due_rule => due_rule(),
            upload_limit_mb => crate::attachments::MAX_BYTES / (1024 * 1024), error,
            max_reports => crate::ops::applications::MAX_PERIOD_REPORTS,
        },
    ))
}

pub(super) async fn show_village_archive(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
) -> Result<Html<String>, AppError> {
    village_page(&state, &user, village, None).await
}

/// The village operator hands in a half-yearly report (the current or a past half year).
pub(super) async fn upload_report(
    State(state): State<AppState>,
    Operator { user, village }: Operator,
    headers: HeaderMap,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_upload(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    let (state_, user_) = (&state, &user);
    let refuse = |english: String, zh: String| async move {
        let page = village_page(state_, user_, village, Some(zh)).await?;
        tracing::info!("half-yearly report refused: {english}");
        Ok::<_, AppError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let Some(period) = Period::parse(upload.field("period")) else {
        return refuse(
            format!("bad period {:?}", upload.field("period")),
            "请选择报告所属的半年(例如 2026年上半年)。".into(),
        )
        .await;
    };
    let checked = match checked_attachment(&upload) {
        Ok(c) => c,
        Err(AppError::BadRequest { zh, .. }) => {
            return refuse(format!("file refused: {zh}"), zh).await;
        }
        Err(e) => return Err(e),
    };
    let note: String = upload.field("note").trim().chars().take(500).collect();
    match crate::ops::applications::upload_village_report(
        &state.db,
        &user.by(),
        village,
        period,
        crate::ops::applications::Document {
            file: &checked,
            content: &upload.bytes,
            note: &note,
        },
        &today(),
    )
    .await
    {
        Ok(id) => {
            tracing::info!(village = village.0, attachment = id.0, %period, "half-yearly report stored");
            Ok(Redirect::to("/village/archive").into_response())
        }
        Err(ReportRefused::Future(p)) => {
            refuse(
                format!("period {p} has not started"),
                format!(
                    "{} 还没有开始,只能提交本半年或以前各半年的报告。",
                    period.zh()
                ),
            )
            .await
        }
        Err(ReportRefused::TooMany(p, n)) => {
            refuse(
                format!("period {p} already holds {n} reports"),
                format!(
                    "{} 已经提交过 {n} 份报告,不能再提交。如确需更正,请与镇纪委联系。",
                    period.zh()
                ),
            )
            .await
        }
        Err(ReportRefused::Db(e)) => Err(e.into()),
    }
}

/// A file the village handed in (a half-yearly or self-assessment report), for its own
/// operator only: another village's file is not found.
pub(super) async fn village_file(
    State(state): State<AppState>,
    Operator { village, .. }: Operator,
    Path(id): Path<AttachmentId>,
) -> Result<Response, AppError> {
    if !state.db.village_holds_attachment(village, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(stored_file(state.db.attachment(id).await?))
}

/// A file a village handed in, for the commission.
pub(super) async fn admin_village_file(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path((code, id)): Path<(String, AttachmentId)>,
) -> Result<Response, AppError> {
    let village = state.db.village_by_code(&code).await?;
    if !state.db.village_holds_attachment(village.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(stored_file(state.db.attachment(id).await?))
}

/// A line of the reminder list: a village and a half year, with its state.
#[derive(Serialize, Debug, PartialEq)]
struct ReminderLine {
    code: String,
    name: String,
    period: String,
    period_zh: String,
    due: String,
    /// `overdue` (逾期未交), `open` (未到期) or `done` (已交).
    state: &'static str,
    state_label: &'static str,
    handed_in_at: Option<String>,
}

/// Every village × every half year from the first campaign's year through the current one:
/// overdue first, then not yet due, then handed in.
pub(super) async fn show_reminders(
    State(state): State<AppState>,
    Admin(user): Admin,
) -> Result<Html<String>, AppError> {
    let today = today();
    let Some(current) = Period::of_day(&today) else {
        return Err(AppError::bad("today has no date", "系统日期无效。"));
    };
    let first_year = state
        .db
        .list_campaigns()
        .await?
        .iter()
        .map(|c| c.year)
        .min()
        .unwrap_or(current.year)
        .min(current.year);
    let periods = Period::range(
        Period {
            year: first_year,
            half: 1,
        },
        current,
    );
    let reports = state.db.all_village_reports().await?;
    let mut lines = Vec::new();
    for v in state.db.list_villages().await? {
        for p in &periods {
            let period = p.to_string();
            let handed_in = reports
                .iter()
                .filter(|r| r.village_id == v.id && r.period == period)
                .map(|r| r.uploaded_at)
                .max();
            let due = p.due();
            let (state_, label) = match handed_in {
                Some(_) => ("done", "已交"),
                None if today > due => ("overdue", "逾期未交"),
                None => ("open", "未到期"),
            };
            lines.push(ReminderLine {
                code: v.code.clone(),
                name: v.name.clone(),
                period_zh: p.zh(),
                period,
                due,
                state: state_,
                state_label: label,
                handed_in_at: handed_in.map(local_time),
            });
        }
    }
    let rank = |s: &str| match s {
        "overdue" => 0,
        "open" => 1,
        _ => 2,
    };
    lines.sort_by(|a, b| {
        rank(a.state)
            .cmp(&rank(b.state))
            .then_with(|| a.due.cmp(&b.due))
            .then_with(|| a.code.cmp(&b.code))
    });
    let overdue = lines.iter().filter(|l| l.state == "overdue").count();
    Ok(views::page(
        &user,
        "admin_archive.html",
        context! { lines => views::ser(&lines), overdue, due_rule => due_rule(), today },
    ))
}

/// A village's whole archive across campaigns.
pub(super) async fn show_village_archive_admin(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let village = state.db.village_by_code(&code).await?;
    let campaigns = state.db.list_campaigns().await?;
    let rows = state.db.village_applications(village.id).await?;
    // The reports in force: one per application (the history lists replaced ones too).
    let current: Vec<Option<AttachmentId>> = rows.iter().map(|a| a.report_id).collect();
    let applications: Vec<_> = rows
        .into_iter()
        .map(|a| {
            let campaign = campaign_label(&campaigns, a.campaign_id);
            let campaign_id = a.campaign_id;
            let kind = a.kind.as_deref().map(kind_label);
            let size = a.size.map(size_label);
            let uploaded_at = a.uploaded_at.map(local_time);
            context! {
                campaign, campaign_id, kind, size, uploaded_at,
                line => views::ser(&ApplicationLine::from(a)),
            }
        })
        .collect();
    let history: Vec<_> = state
        .db
        .application_reports(village.id)
        .await?
        .into_iter()
        .map(|r| {
            let campaign = campaigns
                .iter()
                .find(|c| c.id == r.campaign_id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            context! {
                campaign, attachment_id => r.attachment_id, file_name => r.file_name,
                kind => kind_label(&r.kind), size => size_label(r.size), sha256 => r.sha256,
                uploaded_at => local_time(r.uploaded_at),
                note => crate::domain::mask_digit_runs(&r.note),
                current => current.contains(&Some(r.attachment_id)),
            }
        })
        .collect();
    let titles: Vec<_> = state
        .db
        .village_titles(village.id)
        .await?
        .into_iter()
        .map(|t| {
            let campaign = campaigns
                .iter()
                .find(|c| c.id == t.campaign_id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            context! { campaign, title => views::ser(&t) }
        })
        .collect();
    let reports = report_lines(state.db.village_reports(village.id).await?);
    Ok(views::page(
        &user,
        "admin_village_archive.html",
        context! {
            village => views::ser(&village), applications, history, titles,
            reports => views::ser(&reports), due_rule => due_rule(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_village_may_report_on_the_current_and_past_half_years_only() {
        let periods = open_periods("2026-12-06");
        assert_eq!(periods.first().unwrap().to_string(), "2026H2");
        assert_eq!(periods.last().unwrap().to_string(), "2023H1");
        assert!(!periods.iter().any(|p| p.to_string() == "2027H1"));
        assert_eq!(open_periods("2026-03-01")[0].to_string(), "2026H1");
    }

    #[test]
    fn sizes_and_the_due_rule_read_plainly() {
        assert_eq!(size_label(1), "1 KB");
        assert_eq!(size_label(3 * 1024 * 1024 / 2), "1.5 MB");
        assert_eq!(
            due_rule(),
            "上半年的书面报告须在当年 7 月 15 日前提交,下半年的须在次年 1 月 15 日前提交。"
        );
    }
}
