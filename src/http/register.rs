//! The title register (seed 三): the register page with each title's status today, its CSV
//! for 绩效考核 and 文明村 checks (四挂钩), revoking a title, creating a 复核 round, each
//! village's 联系领导 (两联), and the per-village comparison of its results across rounds.

use super::admin::villages_page;
use super::auth::{CsrfForm, has_csrf};
use super::download::{Attachment, safe_file_name};
use super::error::AppError;
use super::roles::Admin;
use super::{AppState, views};
use crate::db::{DbError, RegisterRow};
use crate::export::{CsvEncoding, csv_chunks};
use crate::ids::{CampaignId, TitleId};
use crate::results::assess::verdict_label;
use crate::results::chart::{self, HistoryRound, Svg};
use crate::results::item16::figure_text;
use crate::results::register::{TitleStatus, status};
use crate::results::tables::LoadError;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

/// The register's routes (merged into the app's table in `mod.rs`).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/titles", get(show_register))
        .route("/admin/titles.csv", get(download_register))
        .route("/admin/titles/{id}/revoke", post(revoke_title))
        .route("/admin/titles/review", post(create_review))
        .route(
            "/admin/villages/{code}/contact-leader",
            post(set_contact_leader),
        )
        .route("/admin/villages/{code}/history", get(show_history))
}

/// The longest 联系领导 and revocation reason, in characters.
const LEADER_MAX_CHARS: usize = 50;
const REASON_MAX_CHARS: usize = 200;

/// Messages after the register's actions (`?m=` for success, `?e=` for refusals).
fn flash(key: &str) -> Option<&'static str> {
    Some(match key {
        "revoked" => "已撤销该称号。",
        "revoke_day" => "撤销日期应为不晚于今天的日期,例如 2027-05-01。",
        "revoke_before" => "撤销日期不能早于授予日期。",
        "revoke_reason" => "请填写撤销理由(不超过 200 字)。",
        "already_revoked" => "该称号已经撤销。",
        "review_form" => {
            "请填写复核轮次的名称(不超过 100 字)、镇名(不超过 50 字)和年度(2000 到 2100)。"
        }
        "review_none" => "今天没有有效或即将到期的称号,无需创建复核轮次。",
        "review_taken" => "今天有效或即将到期的称号都已在尚未批准的复核轮次中,无需再创建复核轮次。",
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct RegisterQuery {
    m: Option<String>,
    e: Option<String>,
}

/// One title on the register page.
#[derive(Serialize)]
struct TitleLine {
    id: TitleId,
    village_code: String,
    village_name: String,
    campaign_id: CampaignId,
    campaign_name: String,
    granted_on: String,
    expires_on: String,
    decision_ref: String,
    status: TitleStatus,
    status_label: &'static str,
    contact_leader: Option<String>,
    revoked_on: Option<String>,
    revoke_reason: Option<String>,
}

impl TitleLine {
    fn of(t: RegisterRow, today: &str) -> Self {
        let s = status(&t.expires_on, t.revoked_on.as_deref(), today);
        TitleLine {
            id: t.id,
            village_code: t.village_code,
            village_name: t.village_name,
            campaign_id: t.campaign_id,
            campaign_name: t.campaign_name,
            granted_on: t.granted_on,
            expires_on: t.expires_on,
            decision_ref: t.decision_ref,
            status: s,
            status_label: s.label(),
            contact_leader: t.contact_leader,
            revoked_on: t.revoked_on,
            revoke_reason: t.revoke_reason,
        }
    }
}

/// The register page (`admin_titles.html`).
#[derive(Serialize)]
struct RegisterPage {
    today: String,
    titles: Vec<TitleLine>,
    /// Titles in force today (valid or expiring): what a 复核 round would re-check.
    in_force: usize,
    expiring: usize,
    /// The 复核 form's defaults.
    review_name: String,
    review_town: String,
    review_year: i32,
    message: Option<&'static str>,
    error: Option<&'static str>,
}

impl views::Page for RegisterPage {
    const TEMPLATE: &'static str = "admin_titles.html";
}

pub(super) async fn show_register(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<RegisterQuery>,
) -> Result<Html<String>, AppError> {
    let today = crate::domain::today();
    let titles: Vec<TitleLine> = state
        .db
        .register()
        .await?
        .into_iter()
        .map(|t| TitleLine::of(t, &today))
        .collect();
    let in_force = titles.iter().filter(|t| t.status.in_force()).count();
    let expiring = titles
        .iter()
        .filter(|t| t.status == TitleStatus::Expiring)
        .count();
    let review_year = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    let review_town = state
        .db
        .list_campaigns()
        .await?
        .into_iter()
        .next()
        .map(|c| c.town)
        .unwrap_or_default();
    let page = RegisterPage {
        review_name: format!("{review_year}年廉洁村(社区)复核"),
        review_town,
        review_year,
        today,
        titles,
        in_force,
        expiring,
        message: q.m.as_deref().and_then(flash),
        error: q.e.as_deref().and_then(flash),
    };
    Ok(views::show(&user, &page))
}

/// The CSV's columns (四挂钩: 绩效考核, 文明村 checks), named as the other downloads name
/// the village.
const CSV_COLUMNS: [&str; 8] = [
    "村（社区）代码",
    "村（社区）名称",
    "授予日期",
    "有效期至",
    "状态",
    "批准文号",
    "考核轮次",
    "联系领导",
];

#[derive(Deserialize)]
pub(super) struct CsvQuery {
    encoding: Option<String>,
}

/// Every title of the register with its status today, as CSV (UTF-8 with BOM, or GB18030
/// with `?encoding=gb18030`), every cell neutralised.
pub(super) async fn download_register(
    State(state): State<AppState>,
    Admin(_): Admin,
    Query(q): Query<CsvQuery>,
) -> Result<Response, AppError> {
    let today = crate::domain::today();
    let rows: Vec<Vec<String>> = state
        .db
        .register()
        .await?
        .into_iter()
        .map(|t| {
            let s = status(&t.expires_on, t.revoked_on.as_deref(), &today);
            vec![
                t.village_code,
                t.village_name,
                t.granted_on,
                t.expires_on,
                s.label().to_string(),
                t.decision_ref,
                t.campaign_name,
                t.contact_leader.unwrap_or_default(),
            ]
        })
        .collect();
    let encoding = CsvEncoding::from_query(q.encoding.as_deref());
    let header = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    let chunks = csv_chunks(header, rows, encoding);
    let file_name = safe_file_name(&format!("廉洁村（社区）名册-{today}.csv"));
    Ok(Attachment::csv_stream(&file_name, encoding, chunks).into_response())
}

#[derive(Deserialize)]
pub(super) struct RevokeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    reason: String,
}
has_csrf!(RevokeForm);

/// Revokes a title on a day (not after today, not before the grant) with a reason.
pub(super) async fn revoke_title(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<TitleId>,
    CsrfForm(_, form): CsrfForm<RevokeForm>,
) -> Result<Response, AppError> {
    use crate::ops::register::RevokeRefused;
    let back = |key: &str| Redirect::to(&format!("/admin/titles?{key}")).into_response();
    let Some(day) = iso_day(&form.day).filter(|d| *d <= crate::domain::today()) else {
        return Ok(back("e=revoke_day"));
    };
    let reason = form.reason.trim();
    if reason.is_empty()
        || reason.chars().count() > REASON_MAX_CHARS
        || reason.chars().any(char::is_control)
    {
        return Ok(back("e=revoke_reason"));
    }
    match crate::ops::register::revoke_title(&state.db, &user.by(), id, &day, reason).await {
        Ok(()) => {
            tracing::info!(title = id.0, by = user.account_id.0, "title revoked");
            Ok(back("m=revoked"))
        }
        Err(RevokeRefused::AlreadyRevoked) => Ok(back("e=already_revoked")),
        Err(RevokeRefused::BeforeGrant { .. }) => Ok(back("e=revoke_before")),
        Err(RevokeRefused::Db(e)) => Err(e.into()),
    }
}

/// A date as typed (`2027-05-01`, `2027/5/1`, `2027年5月1日`) written `YYYY-MM-DD`.
fn iso_day(text: &str) -> Option<String> {
    crate::results::calendar::parse_date(text)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
}

#[derive(Deserialize)]
pub(super) struct ReviewForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    town: String,
    #[serde(default)]
    year: String,
}
has_csrf!(ReviewForm);

/// Creates a 复核 round from the titles in force today; on to its campaign page.
pub(super) async fn create_review(
    State(state): State<AppState>,
    Admin(user): Admin,
    CsrfForm(_, form): CsrfForm<ReviewForm>,
) -> Result<Response, AppError> {
    use crate::ops::register::ReviewRefused;
    let back = |key: &str| Redirect::to(&format!("/admin/titles?{key}")).into_response();
    let (name, town) = (form.name.trim(), form.town.trim());
    let year = form
        .year
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|y| (2000..=2100).contains(y));
    let (Some(year), true, true) = (
        year,
        !name.is_empty() && name.chars().count() <= 100,
        !town.is_empty() && town.chars().count() <= 50,
    ) else {
        return Ok(back("e=review_form"));
    };
    let today = crate::domain::today();
    match crate::ops::register::create_review(&state.db, &user.by(), name, town, year, &today).await
    {
        Ok(created) => {
            tracing::info!(
                campaign = created.campaign.0,
                titles = created.titles,
                villages = created.villages,
                "review round created"
            );
            Ok(Redirect::to(&format!("/admin/campaigns/{}", created.campaign)).into_response())
        }
        Err(ReviewRefused::NoTitles) => Ok(back("e=review_none")),
        Err(ReviewRefused::AllInReview) => Ok(back("e=review_taken")),
        Err(ReviewRefused::Db(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct LeaderForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    contact_leader: String,
}
has_csrf!(LeaderForm);

/// A 联系领导 as typed: trimmed, empty clears it; `Err` with the Chinese reason when it is
/// longer than 50 characters or holds control characters.
fn parse_leader(text: &str) -> Result<Option<&str>, &'static str> {
    let text = text.trim();
    if text.chars().count() > LEADER_MAX_CHARS {
        Err("联系领导不超过 50 字。")
    } else if text.chars().any(char::is_control) {
        Err("联系领导不能含换行或其他控制字符。")
    } else {
        Ok(Some(text).filter(|t| !t.is_empty()))
    }
}

/// Sets (or, left empty, clears) a village's 联系领导 from the villages page.
pub(super) async fn set_contact_leader(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(code): Path<String>,
    CsrfForm(_, form): CsrfForm<LeaderForm>,
) -> Result<Response, AppError> {
    let village = state.db.village_by_code(&code).await?;
    let leader = match parse_leader(&form.contact_leader) {
        Ok(l) => l,
        Err(zh) => {
            let msg = format!("{} {}:{zh}", village.code, village.name);
            let page = villages_page(&state, &user, None, Some(msg)).await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    match crate::ops::register::set_contact_leader(&state.db, &user.by(), village.id, leader).await
    {
        Ok(()) => Ok(Redirect::to("/admin/villages?m=leader").into_response()),
        Err(DbError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// One round of a village's history.
#[derive(Serialize)]
struct HistoryLine {
    campaign_id: CampaignId,
    name: String,
    year: i64,
    kind_label: &'static str,
    state_label: &'static str,
    r: Option<String>,
    p: Option<String>,
    s: Option<String>,
    item16: Option<&'static str>,
    /// Items 1–15 as graded (item 15 following the negative list).
    items: Vec<Option<&'static str>>,
    verdict: &'static str,
    passed: bool,
    /// The title this round granted the village, in words (with its status today).
    title: Option<String>,
}

/// The per-village comparison (`village_history.html`).
#[derive(Serialize)]
struct HistoryPage {
    code: String,
    name: String,
    contact_leader: Option<String>,
    rounds: Vec<HistoryLine>,
    /// Rounds the village is in whose fieldwork has not closed (no figures yet).
    pending: Vec<String>,
    chart: Svg,
}

impl views::Page for HistoryPage {
    const TEMPLATE: &'static str = "village_history.html";
}

fn kind_label(kind: &str) -> &'static str {
    if kind == "review" { "复核" } else { "考核" }
}

/// Every round the village was assessed in whose fieldwork has closed, the oldest first:
/// item 16's figures as the round's tables show them, the grades, the verdict and the title
/// granted, with a chart of R, P and S across the rounds.
pub(super) async fn show_history(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let village = state.db.village_by_code(&code).await?;
    let leader = state
        .db
        .village_leaders()
        .await?
        .into_iter()
        .find(|v| v.id == village.id)
        .and_then(|v| v.contact_leader);
    let titles = state.db.village_titles(village.id).await?;
    let today = crate::domain::today();
    let mut loaded = Vec::new();
    let mut pending = Vec::new();
    for c in state.db.campaign_kinds().await? {
        let l = match crate::results::tables::load(&state.db, c.id).await {
            Ok(l) => l,
            Err(LoadError::NotStarted) => continue,
            Err(LoadError::Db(e)) => return Err(e.into()),
            Err(LoadError::Other(e)) => return Err(AppError::Internal(e)),
        };
        let in_round = l.results.village(village.id).is_some();
        if !in_round {
            continue;
        }
        if !l.survey_over {
            pending.push(format!("{}({})", c.name, kind_label(&c.kind)));
            continue;
        }
        loaded.push((c, l));
    }
    let mut rounds = Vec::new();
    let mut lines = Vec::new();
    for (c, l) in &loaded {
        let (Some(v), Some(a)) = (
            l.results.village(village.id),
            l.assessed.iter().find(|a| a.village_id == village.id),
        ) else {
            continue;
        };
        let scheme = &l.forms.scheme;
        let text = |x: Option<f64>| x.filter(|x| x.is_finite()).map(|x| figure_text(scheme, x));
        let grade16 = a.items.get(15).copied().flatten();
        let title = titles.iter().find(|t| t.campaign_id == c.id).map(|t| {
            let s = status(&t.expires_on, t.revoked_on.as_deref(), &today);
            format!(
                "{} 授予,有效期至 {},{}({})",
                t.granted_on,
                t.expires_on,
                t.decision_ref,
                s.label()
            )
        });
        let label = format!("{}年 {}", c.year, kind_label(&c.kind));
        lines.push(HistoryLine {
            campaign_id: c.id,
            name: c.name.clone(),
            year: c.year,
            kind_label: kind_label(&c.kind),
            state_label: c.state.label(),
            r: text(v.item16.r),
            p: text(v.item16.p),
            s: text(v.item16.s),
            item16: grade16.map(|g| g.label()),
            items: a.items[..15].iter().map(|g| g.map(|g| g.label())).collect(),
            verdict: verdict_label(a.verdict.passed),
            passed: a.verdict.passed,
            title,
        });
        rounds.push(HistoryRound {
            label,
            item16: &v.item16,
            scheme,
            grade: grade16,
        });
    }
    let chart = chart::village_history(&format!("{} {}", village.code, village.name), &rounds);
    let page = HistoryPage {
        code: village.code,
        name: village.name,
        contact_leader: leader,
        rounds: lines,
        pending,
        chart,
    };
    Ok(views::show(&user, &page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    #[test]
    fn a_leader_is_trimmed_an_empty_one_clears_and_a_long_or_multiline_one_is_refused() {
        assert_eq!(parse_leader("  张副镇长 "), Ok(Some("张副镇长")));
        assert_eq!(parse_leader("   "), Ok(None));
        assert_eq!(
            parse_leader(&"长".repeat(50)),
            Ok(Some("长".repeat(50).as_str()))
        );
        assert!(parse_leader(&"长".repeat(51)).is_err());
        assert!(parse_leader("张\n李").is_err());
    }

    #[test]
    fn every_flash_key_the_handlers_use_has_a_message() {
        for key in [
            "revoked",
            "revoke_day",
            "revoke_before",
            "revoke_reason",
            "already_revoked",
            "review_form",
            "review_none",
            "review_taken",
        ] {
            assert!(flash(key).is_some(), "{key}");
        }
    }

    fn line(status: TitleStatus) -> TitleLine {
        TitleLine {
            id: TitleId(3),
            village_code: "V0101".into(),
            village_name: "样例村".into(),
            campaign_id: CampaignId(2),
            campaign_name: "样例轮次".into(),
            granted_on: "2026-12-01".into(),
            expires_on: "2028-11-30".into(),
            decision_ref: "样例文号".into(),
            status,
            status_label: status.label(),
            contact_leader: Some("样例领导".into()),
            revoked_on: (status == TitleStatus::Revoked).then(|| "2027-05-01".into()),
            revoke_reason: (status == TitleStatus::Revoked).then(|| "样例理由".into()),
        }
    }

    #[test]
    fn the_register_page_renders_every_status_and_an_empty_register() {
        let mut page = RegisterPage {
            today: "2027-01-01".into(),
            titles: [
                TitleStatus::Valid,
                TitleStatus::Expiring,
                TitleStatus::Expired,
                TitleStatus::Revoked,
            ]
            .map(line)
            .into(),
            in_force: 2,
            expiring: 1,
            review_name: "样例复核".into(),
            review_town: "样例镇".into(),
            review_year: 2028,
            message: Some("样例消息"),
            error: Some("样例错误"),
        };
        let html = samples::rendered(&page);
        for s in [
            "有效",
            "即将到期",
            "已到期",
            "已撤销",
            "样例领导",
            "样例理由",
        ] {
            assert!(html.contains(s), "{s}");
        }
        page.titles.clear();
        page.in_force = 0;
        let html = samples::rendered(&page);
        assert!(html.contains("还没有"), "{html}");
    }

    #[test]
    fn the_history_page_renders_with_and_without_rounds() {
        let mut page = HistoryPage {
            code: "V0101".into(),
            name: "样例村".into(),
            contact_leader: Some("样例领导".into()),
            rounds: vec![HistoryLine {
                campaign_id: CampaignId(1),
                name: "样例轮次".into(),
                year: 2026,
                kind_label: "考核",
                state_label: "已批准",
                r: Some("90.0%".into()),
                p: None,
                s: Some("90.0%".into()),
                item16: Some("好"),
                items: vec![Some("好"); 15],
                verdict: "通过",
                passed: true,
                title: Some("样例称号".into()),
            }],
            pending: vec!["样例进行中".into()],
            chart: chart::village_history("V0101 样例村", &[]),
        };
        let html = samples::rendered(&page);
        assert!(html.contains("样例称号") && html.contains("样例进行中"));
        page.rounds.clear();
        page.pending.clear();
        page.contact_leader = None;
        samples::rendered(&page);
    }
}
