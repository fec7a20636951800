//! The surveyor's call console (works on a laptop and a phone): per village the next case to
//! call with its `tel:` link and history, recording attempts, phone interviews, and the case
//! list export. The commission's progress page (no names, phones or answers) and the close.

use super::auth::{CsrfForm, has_csrf};
use super::download::{campaign_file, csv_download, xlsx_download};
use super::error::AppError;
use super::roles::{Admin, Surveyor};
use super::views::ser;
use super::{AppState, views};
use crate::db::{Campaign, CaseRow, NewAttempt, NewResponse};
use crate::domain::CaseStatus;
use crate::domain::local_time;
use crate::export::{Cell, excel_csv, text_xlsx};
use crate::fieldwork::progress::{callable, status_of};
use crate::fieldwork::{Counts, Outcome, format_rate};
use crate::ids::{CampaignId, CaseId};
use crate::ops;
use axum::Form as Posted;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn case_view(c: &CaseRow) -> Value {
    let status = status_of(c);
    context! {
        id => c.id, rank => c.rank, name => c.name.clone().unwrap_or_default(), phone => c.phone.clone(),
        village_code => c.village_code.clone(), village_name => c.village_name.clone(),
        attempts => c.attempts, primary => c.release_reason == "primary",
        release_reason => c.release_reason.clone(),
        last_attempt_at => c.last_attempt_at.map(local_time),
        next_callback_at => c.next_callback_at.map(local_time),
        state_zh => status.state, link_zh => status.link, callable => status.callable,
        can_reissue => c.link_sent && !c.link_used && c.phone.starts_with('1'),
    }
}

/// The surveyor's call console (`console.html`): each village's cases at a glance.
#[derive(Serialize)]
pub(super) struct ConsolePage {
    campaign: Campaign,
    villages: Vec<ConsoleVillage>,
}

impl views::Page for ConsolePage {
    const TEMPLATE: &'static str = "console.html";
}

#[derive(Serialize)]
pub(super) struct ConsoleVillage {
    code: String,
    name: String,
    /// Cases released.
    released: i64,
    completes: i64,
    /// Cases still to call.
    open: i64,
}

pub(super) async fn show_console(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let mut villages: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    for c in state.db.cases(id, None).await? {
        let e = villages
            .entry((c.village_code.clone(), c.village_name.clone()))
            .or_default();
        e.0 += 1;
        e.1 += i64::from(c.status == CaseStatus::Completed);
        e.2 += i64::from(callable(&c));
    }
    let villages: Vec<ConsoleVillage> = villages
        .into_iter()
        .map(
            |((code, name), (released, completes, open))| ConsoleVillage {
                code,
                name,
                released,
                completes,
                open,
            },
        )
        .collect();
    Ok(views::show(&user, &ConsolePage { campaign, villages }))
}

pub(super) async fn show_village_console(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let village = state.db.village_by_code(&code).await?;
    let cases = state.db.cases(id, Some(village.id)).await?;
    let now = crate::domain::now();
    // Next: a callback that is due, then the fewest attempts, then the lowest rank.
    let next = cases
        .iter()
        .filter(|c| callable(c) && !c.link_used)
        .min_by_key(|c| {
            let due = c.next_callback_at.is_some_and(|t| t <= now);
            let waiting = c.next_callback_at.is_some_and(|t| t > now);
            (!due, waiting, c.attempts, c.rank)
        });
    let next_case = match next {
        Some(c) => Some(case_page_context(&state, c).await?),
        None => None,
    };
    let cases: Vec<Value> = cases.iter().map(case_view).collect();
    Ok(views::page(
        &user,
        "console_village.html",
        context! { campaign => ser(&campaign), village => ser(&village), cases, next_case, outcomes => outcome_options() },
    ))
}

fn outcome_options() -> Vec<Value> {
    Outcome::ALL
        .iter()
        .map(|o| context! { key => o.key(), label => o.label_zh(), class => format!("{:?}", o.class()) })
        .collect()
}

async fn case_page_context(state: &AppState, c: &CaseRow) -> Result<Value, AppError> {
    let attempts: Vec<Value> = state
        .db
        .attempts(c.id)
        .await?
        .into_iter()
        .map(|a| {
            context! {
                at => local_time(a.attempted_at),
                outcome => a.outcome.label_zh(),
                callback_at => a.callback_at.map(local_time), note => a.note,
            }
        })
        .collect();
    Ok(context! { case => case_view(c), history => attempts })
}

pub(super) async fn show_case(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(case_id): Path<CaseId>,
    Query(q): Query<Flash>,
) -> Result<Html<String>, AppError> {
    let c = state.db.case(case_id).await?;
    let ctx = case_page_context(&state, &c).await?;
    Ok(views::page(
        &user,
        "console_case.html",
        context! { outcomes => outcome_options(), campaign_id => c.campaign_id, message => q.m.as_deref().and_then(flash), ..ctx },
    ))
}

#[derive(Deserialize, Default)]
pub(super) struct Flash {
    m: Option<String>,
}

fn flash(key: &str) -> Option<&'static str> {
    Some(match key {
        "attempt" => "已记录这次联系。",
        "replaced" => "已记录。按规则,此对象已由备用名单中的下一位递补。",
        "exhausted" => "已记录。此对象应当递补,但该村(社区)的备用名单已用完。",
        "interview" => "电话访问已完成,该对象的短信链接已作废。",
        "duplicate" => "该对象已经回答过(通过链接或电话),不能再次回答。",
        "closed" => "调查已结束,不能再记录。",
        _ => return None,
    })
}

#[derive(Deserialize)]
pub(super) struct AttemptForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    callback: String,
    #[serde(default)]
    note: String,
}
has_csrf!(AttemptForm);

pub(super) async fn record_attempt(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(case_id): Path<CaseId>,
    CsrfForm(_, form): CsrfForm<AttemptForm>,
) -> Result<Response, AppError> {
    let c = state.db.case(case_id).await?;
    let Some(outcome) = Outcome::parse(&form.outcome) else {
        return Err(AppError::bad("unknown outcome", "请选择联系结果。"));
    };
    if outcome == Outcome::Complete {
        return Err(AppError::bad(
            "a complete is recorded by doing the phone interview",
            "“完成”请通过“电话访问”填写问卷来记录。",
        ));
    }
    let now = crate::domain::now();
    let at = match form.at.trim() {
        "" => now,
        t => crate::domain::parse_china_time(t)
            .ok_or_else(|| AppError::bad("bad attempt time", "联系时间格式不对。"))?,
    };
    let callback_at = match form.callback.trim() {
        "" => None,
        t => Some(
            crate::domain::parse_china_time(t)
                .ok_or_else(|| AppError::bad("bad callback time", "约定回访时间格式不对。"))?,
        ),
    };
    crate::fieldwork::check_attempt_times(at, callback_at, c.released_at, now)
        .map_err(|p| AppError::bad(p.en(), p.zh()))?;
    let note =
        Some(form.note.trim().chars().take(500).collect::<String>()).filter(|n| !n.is_empty());
    let attempt = NewAttempt {
        case_id,
        attempted_at: at,
        attempted_on: crate::domain::local_date(at),
        outcome,
        callback_at,
        note,
        recorded_by: Some(user.account_id),
        import_key: None,
    };
    let result =
        ops::fieldwork::record_attempt(&state.db, &user.by(), c.campaign_id, &attempt).await?;
    tracing::info!(campaign = c.campaign_id.0, case = case_id.0, outcome = outcome.key(), stored = result.stored, released = ?result.released_rank, "attempt recorded");
    let m = match (
        result.stored,
        result.released_rank,
        result.reserve_exhausted,
    ) {
        (false, _, _) => "closed",
        (true, Some(_), _) => "replaced",
        (true, None, true) => "exhausted",
        _ => "attempt",
    };
    Ok(Redirect::to(&format!("/surveyor/cases/{case_id}?m={m}")).into_response())
}

/// The recipients' questionnaire for a phone interview of this case.
async fn interview_form(
    state: &AppState,
    c: &CaseRow,
) -> Result<(crate::db::PinnedForm, std::sync::Arc<crate::forms::Form>), AppError> {
    super::survey::pinned(state, c.campaign_id, "recipients").await
}

/// The town and the notice to respondents that a phone interview of this case opens with.
async fn interview_notice(
    state: &AppState,
    c: &CaseRow,
) -> Result<(String, crate::db::Notice), AppError> {
    let town = state.db.campaign(c.campaign_id).await?.town;
    Ok((town, state.db.notice(c.campaign_id).await?))
}

pub(super) async fn show_interview(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(case_id): Path<CaseId>,
) -> Result<Response, AppError> {
    let c = state.db.case(case_id).await?;
    if c.status != CaseStatus::Open || c.link_used {
        return Ok(Redirect::to(&format!("/surveyor/cases/{case_id}?m=duplicate")).into_response());
    }
    let (_, form) = interview_form(&state, &c).await?;
    let (town, notice) = interview_notice(&state, &c).await?;
    let started =
        super::survey::start_field(&state, &format!("/surveyor/cases/{case_id}/interview")).await?;
    Ok(super::survey::interview_page(
        &form,
        &c,
        (&town, &notice),
        (&user.csrf, started),
        &[],
        None,
    ))
}

pub(super) async fn submit_interview(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    Path(case_id): Path<CaseId>,
    headers: axum::http::HeaderMap,
    Posted(fields): Posted<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    super::auth::check_origin(&headers, &state)?;
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    super::auth::check_csrf(&user, csrf)?;
    let c = state.db.case(case_id).await?;
    let (pinned, form) = interview_form(&state, &c).await?;
    // 没办过 ends a phone interview: the call is recorded as 非服务对象, not stored as answers.
    let answers = match crate::forms::parse_answers(&form, &fields).and_then(|a| {
        if a.screened_out() {
            Err(crate::forms::AnswerErrors::not_a_recipient())
        } else {
            Ok(a)
        }
    }) {
        Ok(a) => a,
        Err(errors) => {
            let (town, notice) = interview_notice(&state, &c).await?;
            return Ok(super::survey::interview_page(
                &form,
                &c,
                (&town, &notice),
                (&user.csrf, super::survey::posted_start(&fields)),
                &fields,
                Some(&errors),
            ));
        }
    };
    let response = NewResponse {
        campaign_id: c.campaign_id,
        village_id: c.village_id,
        form_id: pinned.form_id.clone(),
        form_version: pinned.version.clone(),
        form_sha256: pinned.sha256.clone(),
        questionnaire: crate::forms::Audience::Recipients,
        answers_json: answers.to_json(),
        duration: super::survey::duration_of(
            &state,
            &format!("/surveyor/cases/{case_id}/interview"),
            &fields,
        )
        .await?,
    };
    let stored = ops::fieldwork::phone_interview(
        &state.db,
        &user.by(),
        c.campaign_id,
        case_id,
        &response,
        user.account_id,
    )
    .await?;
    if stored {
        state.mixer.poke();
    }
    tracing::info!(
        campaign = c.campaign_id.0,
        case = case_id.0,
        stored,
        "phone interview"
    );
    let m = if stored { "interview" } else { "duplicate" };
    Ok(Redirect::to(&format!("/surveyor/cases/{case_id}?m={m}")).into_response())
}

/// The released cases for other interviewing software: `case_id,village,rank,name,phone`
/// (documented in docs/fieldwork.md; keep these keys, other software reads them).
pub(super) async fn download_cases(
    State(state): State<AppState>,
    _: Surveyor,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let rows: Vec<[String; 5]> = state
        .db
        .cases(id, None)
        .await?
        .into_iter()
        .map(|c| {
            [
                c.id.to_string(),
                c.village_code,
                c.rank.to_string(),
                c.name.unwrap_or_default(),
                c.phone,
            ]
        })
        .collect();
    Ok(csv_download(
        &campaign_file(&campaign.name, "调查对象名单.csv"),
        excel_csv(&["case_id", "village", "rank", "name", "phone"], rows),
    ))
}

/// The case list for people, as .xlsx: Chinese headers, each case's status in the console's
/// words, and every phone a text cell — Excel would drop a landline's leading 0 and show a
/// mobile number as 1.38E+10.
pub(super) async fn download_cases_xlsx(
    State(state): State<AppState>,
    _: Surveyor,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let campaign = state.db.campaign(id).await?;
    let rows: Vec<Vec<Cell>> = state
        .db
        .cases(id, None)
        .await?
        .into_iter()
        .map(|c| {
            let status = status_of(&c);
            vec![
                Cell::Int(c.id.0),
                c.village_code.into(),
                c.village_name.into(),
                Cell::Int(c.rank),
                c.name.unwrap_or_default().into(),
                c.phone.into(),
                Cell::Int(c.attempts),
                status.state.into(),
                status.link.into(),
            ]
        })
        .collect();
    let columns = [
        ("编号", 8.0),
        ("村(社区)编码", 14.0),
        ("村(社区)", 16.0),
        ("排名", 6.0),
        ("姓名", 10.0),
        ("电话", 16.0),
        ("拨打次数", 8.0),
        ("状态", 30.0),
        ("短信链接", 10.0),
    ];
    xlsx_download(
        &campaign_file(&campaign.name, "调查对象名单.xlsx"),
        text_xlsx("调查对象", &columns, rows),
    )
}

/// Results from other interviewing software (CSV upload): all rows or none.
pub(super) async fn import_results(
    State(state): State<AppState>,
    Surveyor(user): Surveyor,
    headers: axum::http::HeaderMap,
    Path(id): Path<CampaignId>,
    form: axum::extract::Multipart,
) -> Result<Response, AppError> {
    super::auth::check_origin(&headers, &state)?;
    let upload = super::upload::read_upload(form, &state).await?;
    super::auth::check_csrf(&user, upload.field("_csrf"))?;
    let campaign = state.db.campaign(id).await?;
    let text = crate::csv_table::decode_text(&upload.bytes)
        .map_err(|e| AppError::bad(e.to_string(), e.message_zh()))?;
    let (pinned, questionnaire) = super::survey::pinned(&state, id, "recipients").await?;
    let outcome = ops::fieldwork::import_results(
        &state.db,
        &user.by(),
        id,
        &questionnaire,
        &pinned,
        &text,
        user.account_id,
    )
    .await;
    let (status, ctx) = match outcome {
        Ok(summary) => {
            if summary.completes > 0 {
                state.mixer.poke();
            }
            tracing::info!(
                campaign = id.0,
                recorded = summary.recorded,
                skipped = summary.skipped,
                "results imported"
            );
            (
                StatusCode::OK,
                context! { campaign => ser(&campaign), summary => context! {
                    recorded => summary.recorded, skipped => summary.skipped, completes => summary.completes, released => summary.released,
                } },
            )
        }
        Err(crate::fieldwork::ResultsError::Rows(errors)) => {
            let errors: Vec<Value> = errors
                .iter()
                .map(|e| context! { row => e.row, column => e.column.clone(), message => e.detail_zh.clone(), detail => e.message.clone() })
                .collect();
            (
                StatusCode::BAD_REQUEST,
                context! { campaign => ser(&campaign), errors },
            )
        }
        Err(crate::fieldwork::ResultsError::NotInFieldwork) => {
            return Err(AppError::bad(
                "the campaign is not in fieldwork",
                "调查未在进行中,不能导入。",
            ));
        }
        Err(crate::fieldwork::ResultsError::Db(e)) => return Err(e.into()),
    };
    Ok((status, views::page(&user, "import_result.html", ctx)).into_response())
}

/// Kept here for the response-rates download (src/http/results.rs).
pub(super) use crate::fieldwork::progress::{ProgressRow, progress_rows};

/// The commission's progress page (`progress.html`): counts and response rates, no names,
/// phones or answers.
#[derive(Serialize)]
pub(super) struct ProgressPage {
    campaign: Campaign,
    /// One line per village: a bar, the response rate in words, the next step.
    glance: Vec<crate::fieldwork::glance::Glance>,
    rows: Vec<ProgressLine>,
    total: ProgressLine,
}

impl views::Page for ProgressPage {
    const TEMPLATE: &'static str = "progress.html";
}

/// A village's progress, or the campaign's total.
#[derive(Serialize)]
pub(super) struct ProgressLine {
    code: String,
    name: String,
    target: i64,
    population: i64,
    released: i64,
    completes: i64,
    open: i64,
    replacements: i64,
    /// No reserve left to replace a case with.
    exhausted: bool,
    counts: Counts,
    rates: RatesText,
    /// Cases whose final outcome is a wrong or dead number, and their share of those
    /// released (empty when none were released): the roster's quality.
    invalid_numbers: i64,
    invalid_number_rate: String,
}

/// The AAPOR rates as shown (empty where the denominator is zero).
#[derive(Serialize)]
pub(super) struct RatesText {
    rr1: String,
    rr2: String,
    rr3: String,
    coop1: String,
    ref1: String,
    con1: String,
}

pub(super) fn progress_line(r: &ProgressRow) -> ProgressLine {
    ProgressLine {
        code: r.code.clone(),
        name: r.name.clone(),
        target: r.target,
        population: r.population,
        released: r.released,
        completes: r.completes,
        open: r.open,
        replacements: r.replacements,
        exhausted: r.exhausted,
        counts: r.counts,
        rates: rates_text(&r.counts),
        invalid_numbers: r.invalid_numbers,
        invalid_number_rate: format_rate(r.invalid_number_rate()),
    }
}

pub(super) async fn show_progress(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let campaign = state.db.campaign(id).await?;
    let (rows, total) = progress_rows(&state.db, id).await?;
    let page = ProgressPage {
        campaign,
        glance: rows.iter().map(crate::fieldwork::glance::glance).collect(),
        rows: rows.iter().map(progress_line).collect(),
        total: progress_line(&total),
    };
    Ok(views::show(&user, &page))
}

fn rates_text(counts: &Counts) -> RatesText {
    let r = counts.rates();
    RatesText {
        rr1: format_rate(r.rr1),
        rr2: format_rate(r.rr2),
        rr3: format_rate(r.rr3),
        coop1: format_rate(r.coop1),
        ref1: format_rate(r.ref1),
        con1: format_rate(r.con1),
    }
}

#[derive(Deserialize)]
pub(super) struct CloseForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}
has_csrf!(CloseForm);

pub(super) async fn close_fieldwork(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<CloseForm>,
) -> Result<Response, AppError> {
    if form.confirm != "yes" {
        return Ok(Redirect::to(&format!("/admin/campaigns/{id}?e=confirm")).into_response());
    }
    if !ops::fieldwork::close(&state.db, &user.by(), id).await? {
        return Ok(Redirect::to(&format!("/admin/campaigns/{id}?e=not_fieldwork")).into_response());
    }
    state.mixer.closed();
    tracing::info!(campaign = id.0, by = user.account_id.0, "fieldwork closed");
    Ok(Redirect::to(&format!("/admin/campaigns/{id}?m=closed")).into_response())
}

#[derive(Deserialize)]
pub(super) struct RulesForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    on_not_eligible: String,
    #[serde(default)]
    on_refusal: String,
    #[serde(default)]
    noncontact_attempts: String,
    #[serde(default)]
    noncontact_days: String,
}
has_csrf!(RulesForm);

/// The campaign's replacement rules (checkboxes and two thresholds).
pub(super) async fn set_replacement_rules(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<RulesForm>,
) -> Result<Response, AppError> {
    let attempts = form
        .noncontact_attempts
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=20).contains(n));
    let days = form
        .noncontact_days
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=20).contains(n));
    let (Some(noncontact_attempts), Some(noncontact_days)) = (attempts, days) else {
        return Ok(Redirect::to(&format!("/admin/campaigns/{id}?e=bad_rules")).into_response());
    };
    let rules = crate::fieldwork::ReplacementRules {
        on_not_eligible: form.on_not_eligible == "yes",
        on_refusal: form.on_refusal == "yes",
        noncontact_attempts,
        noncontact_days,
    };
    let applied = ops::fieldwork::set_replacement_rules(&state.db, &user.by(), id, &rules).await?;
    let key = if applied {
        "m=rules"
    } else {
        "e=not_fieldwork"
    };
    tracing::info!(
        campaign = id.0,
        by = user.account_id.0,
        ?rules,
        "replacement rules set"
    );
    Ok(Redirect::to(&format!("/admin/campaigns/{id}?{key}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CampaignState;
    use crate::http::views::samples;

    #[test]
    fn the_console_page_struct_renders_its_template() {
        let page = ConsolePage {
            campaign: samples::campaign(CampaignState::Fieldwork),
            villages: vec![ConsoleVillage {
                code: "V0101".into(),
                name: "样例村".into(),
                released: 31,
                completes: 12,
                open: 19,
            }],
        };
        let html = samples::rendered(&page);
        assert!(html.contains("样例轮次二〇二六") && html.contains("/console/V0101"));
    }

    #[test]
    fn the_progress_page_struct_renders_its_template() {
        let line = |code: &str| ProgressLine {
            code: code.into(),
            name: "样例村".into(),
            target: 31,
            population: 812,
            released: 35,
            completes: 20,
            open: 9,
            replacements: 4,
            exhausted: true,
            counts: Counts {
                i: 20,
                p: 1,
                r: 3,
                nc: 5,
                o: 1,
                uh: 2,
                ne: 3,
            },
            rates: rates_text(&Counts {
                i: 20,
                r: 3,
                ..Counts::default()
            }),
            invalid_numbers: 2,
            invalid_number_rate: "5.7%".into(),
        };
        let glance = crate::fieldwork::glance::glance(&crate::fieldwork::progress::ProgressRow {
            code: "V0101".into(),
            name: "样例村".into(),
            target: 28,
            population: 30,
            released: 35,
            completes: 20,
            exhausted: true,
            ..Default::default()
        });
        let page = ProgressPage {
            campaign: samples::campaign(CampaignState::Fieldwork),
            glance: vec![glance],
            rows: vec![line("V0101")],
            total: line(""),
        };
        let html = samples::rendered(&page);
        assert!(html.contains("V0101 样例村") && html.contains("20/1/3/5/1/2/3"));
        assert!(
            html.contains("aria-label=\"完成 20 份，目标 28 份（71%）\""),
            "{html}"
        );
        assert!(html.contains("备用名单已用完，还差 8 份"), "{html}");
        assert!(html.contains("备用已用完"));
        assert!(
            html.contains("无效号码率") && html.contains("5.7%（2/35）"),
            "{html}"
        );
    }
}
