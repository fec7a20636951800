//! Results for the commission: tallies, item 16 and its overrides, the grades of
//! items 1–15 and the negative list, the verdict, publicity with objections and approval,
//! the working-day calendar, and the downloads (CSV and the same tables as JSON). After
//! publication a village operator sees the village's own aggregates — never comments.

use super::auth::{CsrfForm, CurrentUser, check_csrf, check_origin, has_csrf};
use super::console::progress_rows;
use super::download::{Attachment, campaign_file};
use super::error::AppError;
use super::roles::{Admin, Operator};
use super::upload::read_upload;
use super::views::ser;
use super::{AppState, views};
use crate::db::CalendarDay;
use crate::domain::{CampaignState, local_time, today};
use crate::export::{CsvEncoding, csv_chunks};
use crate::forms::Audience;
use crate::ids::{CampaignId, ObjectionId, VillageId};
use crate::ops::{
    self,
    publicity::{NewObjection, ObjectionError, PublishError},
    results::{GradeSheet, ResultsError, Village},
};
use crate::results::assess::{Grade, ITEM_TITLES, NEGATIVE_SITUATIONS, Situation};
use crate::results::calendar::{DayKind, parse_calendar_csv, parse_date};
use crate::results::report::comments;
use crate::results::tables::{self, Table, VillageAssessment};
use crate::results::tables::{LoadError, Loaded};
use crate::results::{Interval, RateRow};
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The results downloads: each a table, as CSV at `/admin/campaigns/{id}/downloads/<name>.csv`
/// (UTF-8 or `?encoding=gb18030`) and as JSON at `/api/campaigns/{id}/results/<name>`, both
/// for the commission only (the routes require an administrator). The results page lists
/// them in this order and the archive holds them as `<name>.csv`. Adding a download: a
/// variant, its line in [`Download::ALL`], its [`Spec`] and its builder in
/// [`Download::table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Download {
    Tallies,
    Counts,
    Item16,
    Assessment,
    Rates,
    Draw,
    Comments,
}

/// What a download is called and when it may be had.
struct Spec {
    /// In the URL and the archive (`<name>.csv`).
    name: &'static str,
    /// What it holds, on the results page.
    title: &'static str,
    /// Its name in the downloaded file's name: short, in Chinese.
    file_label: &'static str,
    /// Given out while fieldwork runs. Every table built from the answers is withheld until
    /// the survey is over and the answers are mixed (a small village's early answers would
    /// identify who gave them); response rates and the draw hold no answers.
    during_fieldwork: bool,
}

impl Download {
    pub(super) const ALL: [Download; 7] = [
        Download::Tallies,
        Download::Counts,
        Download::Item16,
        Download::Assessment,
        Download::Rates,
        Download::Draw,
        Download::Comments,
    ];

    const fn spec(self) -> Spec {
        let (name, title, file_label, during_fieldwork) = match self {
            Download::Tallies => (
                "tallies",
                "满意率（按题目、方面、全部计分题，含95%区间和全镇加权数）",
                "满意率",
                false,
            ),
            Download::Counts => ("counts", "各选项人数", "各选项人数", false),
            Download::Item16 => ("item16", "第16项得分与等次", "第16项得分与等次", false),
            Download::Assessment => (
                "assessment",
                "16项等次、负面清单与结论",
                "16项等次与结论",
                false,
            ),
            Download::Rates => ("rates", "回答率（AAPOR）", "回答率", true),
            Download::Draw => ("draw", "抽样记录", "抽样记录", true),
            Download::Comments => (
                "comments",
                "意见建议原文（不含身份信息）",
                "意见建议",
                false,
            ),
        };
        Spec {
            name,
            title,
            file_label,
            during_fieldwork,
        }
    }

    /// The download called `name` in a URL; `None` (a 404) for any other name.
    pub(super) fn parse(name: &str) -> Option<Download> {
        Download::ALL.into_iter().find(|d| d.name() == name)
    }

    pub(super) fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether the archive holds it: all but the draw, which the archive carries whole as
    /// `draw-record.json`.
    pub(super) fn in_archive(self) -> bool {
        self != Download::Draw
    }

    /// The table, built from the campaign's data; a table of answers asked for while
    /// fieldwork runs is refused (see [`Spec::during_fieldwork`]).
    pub(super) async fn table(self, state: &AppState, id: CampaignId) -> Result<Table, AppError> {
        // Tables that hold no answers are built whenever asked for.
        match self {
            Download::Rates => return rates_table(state, id).await,
            Download::Draw => return draw_table(state, id).await,
            _ => {}
        }
        let l = load(state, id).await?;
        if !l.survey_over {
            return Err(AppError::bad(
                format!("campaign {id}: results are withheld until fieldwork closes"),
                "调查还在进行。为保护答卷人,结果要等调查结束、答卷混合后才能查看和下载。",
            ));
        }
        Ok(match self {
            Download::Tallies => tables::tallies(&l.results),
            Download::Counts => tables::counts(&l.results),
            Download::Item16 => tables::item16(&l.results, &l.assessed, &l.entered),
            Download::Assessment => tables::assessment(&l.assessed),
            Download::Comments => tables::comments(&comments(&state.db, id, &l.forms).await?),
            Download::Rates => rates_table(state, id).await?,
            Download::Draw => draw_table(state, id).await?,
        })
    }
}

/// The campaign's results, or why there are none yet.
async fn load(state: &AppState, id: CampaignId) -> Result<Loaded, AppError> {
    match crate::results::tables::load(&state.db, id).await {
        Ok(l) => Ok(l),
        Err(LoadError::NotStarted) => Err(AppError::bad(
            format!("campaign {id} has no results: fieldwork has not started"),
            "本轮调查尚未开始，还没有结果。",
        )),
        Err(LoadError::Db(e)) => Err(e.into()),
        Err(LoadError::Other(e)) => Err(e.into()),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn rate_view(r: &RateRow, k: u64) -> Value {
    context! {
        scope => r.scope.label_zh(), key => r.key.clone(), label => r.label.clone(),
        suppressed => r.suppressed, base => r.base, valid => r.valid, satisfied => r.satisfied,
        withheld => r.withheld.map(|w| w.note_zh(k)),
        rate => r.rate.map(pct),
        interval => r.interval.map(|i: Interval| format!("{} – {}", pct(i.low), pct(i.high))),
    }
}

fn score(x: Option<f64>) -> Option<String> {
    x.map(|x| format!("{x:.2}"))
}

fn span(i: Option<Interval>) -> Option<String> {
    i.map(|i| format!("{:.2} – {:.2}", i.low, i.high))
}

fn item16_view(v: &crate::results::VillageResults, a: &VillageAssessment) -> Value {
    let i = &v.item16;
    context! {
        respondents => i.respondents, frame => i.frame, r => score(i.r), r_interval => span(i.r_interval),
        panel_ratings => i.panel_ratings, p => score(i.p), s => score(i.s), s_interval => span(i.s_interval),
        no_panel => i.no_panel, computed => i.grade.clone(), uncertain => i.uncertain,
        insufficient => i.insufficient,
        grade => a.items[15].map(Grade::label), overridden => a.item16_overridden,
    }
}

fn publicity_view(p: &Option<crate::db::Publicity>) -> Value {
    match p {
        Some(p) => context! {
            start => p.start_date.clone(), end => p.end_date.clone(),
            published_at => local_time(p.published_at),
            approved_at => p.approved_at.map(local_time),
            over => today() > p.end_date,
            audit_head => p.audit_head.clone(),
        },
        None => Value::from(()),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct Flash {
    m: Option<String>,
    e: Option<String>,
}

fn flash_text(f: &Flash) -> (Option<&'static str>, Option<&'static str>) {
    let m = f.m.as_deref().map(|m| match m {
        "grades" => "已保存。",
        "override" => "第16项等次已调整，理由已记录。",
        "withdrawn" => "已撤销调整，恢复计算等次。",
        "published" => "已开始公示。各村（社区）现在可以看到本村的汇总结果。",
        "objection" => "异议已登记。",
        "resolved" => "异议已处理。",
        "approved" => "已批准。",
        "calendar" => "日历已导入。",
        "purged" => "电话号码和姓名已从数据库清除；调查结果、等次、抽样记录和审计日志保持不变。",
        "deleted" => "已删除。",
        _ => "完成。",
    });
    let e = f.e.as_deref().map(|e| match e {
        "reason" => "调整等次必须填写理由。",
        "grade" => "等次无效。",
        "not_closed" => "调查结束后才能公示。",
        "published" => "本轮已经公示。",
        "date" => "日期无效，请按 2026-10-08 的格式填写。",
        "calendar" => "在日历里找不到足够的工作日，请检查节假日设置。",
        "summary" => "请填写异议内容。",
        "resolution" => "请填写处理结果。",
        "approved" => "本轮已批准，结果不能再修改。",
        "period" => "公示期尚未结束，不能批准。",
        "unresolved" => "还有未处理的异议，不能批准。",
        "not_published" => "尚未公示，不能批准。",
        "confirm" => "请勾选确认后再清除。",
        "not_approved" => "批准后才能清除。",
        "not_archived" => "请先导出归档，再清除。",
        "purged" => "本轮已经清除。",
        _ => "操作未完成。",
    });
    (m, e)
}

pub(super) async fn show_results(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, AppError> {
    let l = load(&state, id).await?;
    let villages: Vec<Value> = l
        .results
        .villages
        .iter()
        .zip(&l.assessed)
        .map(|(v, a)| {
            let all = v
                .rates(Audience::Recipients, l.results.k)
                .into_iter()
                .find(|r| r.scope == crate::results::Scope::All);
            context! {
                code => v.code.clone(), name => v.name.clone(),
                item16 => item16_view(v, a),
                satisfaction => all.as_ref().map(|r| rate_view(r, l.results.k)),
                good => a.verdict.good, total => a.verdict.total, passed => a.verdict.passed,
                reasons => crate::results::assess::join_reasons(&a.verdict.reasons),
                graded => a.items.iter().filter(|g| g.is_some()).count(),
            }
        })
        .collect();
    let town: Vec<Value> = l
        .results
        .town_rates(Audience::Recipients)
        .iter()
        .filter(|t| t.rate.scope != crate::results::Scope::Question)
        .map(|t| context! { excluded => t.excluded, villages => t.villages, ..rate_view(&t.rate, l.results.k) })
        .collect();
    let publicity = state.db.publicity(id).await?;
    let objections = state.db.objections(id).await?;
    let names: BTreeMap<VillageId, String> = l
        .results
        .villages
        .iter()
        .map(|v| (v.village_id, format!("{} {}", v.code, v.name)))
        .collect();
    let objections: Vec<Value> = objections
        .iter()
        .map(|o| {
            context! {
                id => o.id, village => o.village_id.and_then(|v| names.get(&v).cloned()),
                received_on => o.received_on.clone(), summary => o.summary.clone(),
                resolution => o.resolution.clone(), resolved_at => o.resolved_at.map(local_time),
            }
        })
        .collect();
    let (message, error) = flash_text(&flash);
    let state_now = l.campaign.state;
    let (archived_at, purged_at) = state.db.archive_state(id).await?;
    Ok(views::page(
        &user,
        "results.html",
        context! {
            campaign => ser(&l.campaign), villages, town, k => l.results.k,
            scheme => context! {
                id => l.forms.scheme.id.clone(), version => l.forms.scheme.version.clone(),
                min_respondents => l.forms.scheme.min_respondents,
                w_r => l.forms.scheme.weight_recipients, w_p => l.forms.scheme.weight_panel,
            },
            closed => state_now == CampaignState::Closed,
            approved => state_now == CampaignState::Approved,
            fieldwork => state_now == CampaignState::Fieldwork,
            withheld => !l.survey_over,
            publicity => publicity_view(&publicity), objections,
            village_options => l.results.villages.iter().map(|v| context! { id => v.village_id, label => format!("{} {}", v.code, v.name) }).collect::<Vec<_>>(),
            downloads => Download::ALL.map(|d| { let s = d.spec(); context! { name => s.name, label => s.title, during_fieldwork => s.during_fieldwork } }),
            today => today(), message, error,
            archived_at => archived_at.map(local_time), purged_at => purged_at.map(local_time),
        },
    ))
}

pub(super) async fn show_village_results(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, AppError> {
    let l = load(&state, id).await?;
    let (pos, v) = l
        .results
        .villages
        .iter()
        .enumerate()
        .find(|(_, v)| v.code == code)
        .ok_or(AppError::NotFound)?;
    let a = &l.assessed[pos];
    let entered = l.entered.get(&v.village_id).cloned().unwrap_or_default();
    let notes: BTreeMap<i64, String> = state
        .db
        .item_grades(id)
        .await?
        .into_iter()
        .filter(|g| g.village_id == v.village_id)
        .map(|g| (g.item, g.note))
        .collect();
    let items: Vec<Value> = (1u32..=15)
        .map(|i| {
            let g = entered.grades.get(&i);
            context! {
                number => i, title => ITEM_TITLES[i as usize - 1],
                grade => g.map(|g| g.0.label()), source => g.map(|g| g.1.clone()),
                note => notes.get(&i64::from(i)).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let negative: Vec<Value> = (1u8..=8)
        .map(|n| {
            let s = Situation::new(n);
            context! {
                number => n, circled => s.map(|s| s.circled().to_string()),
                text => NEGATIVE_SITUATIONS[n as usize - 1],
                ticked => s.is_some_and(|s| entered.negative.contains(&s)),
            }
        })
        .collect();
    let notes = state.db.negative_findings(id).await?;
    let negative_notes: BTreeMap<i64, String> = notes
        .into_iter()
        .filter(|n| n.village_id == v.village_id)
        .map(|n| (n.situation, n.note))
        .collect();
    let overrides: Vec<Value> = l
        .overrides
        .iter()
        .filter(|o| o.village_id == v.village_id)
        .map(|o| context! { grade => o.grade.clone(), reason => o.reason.clone(), at => local_time(o.entered_at) })
        .collect();
    let (message, error) = flash_text(&flash);
    let k = l.results.k;
    Ok(views::page(
        &user,
        "results_village.html",
        context! {
            campaign => ser(&l.campaign), village => context! { code => v.code.clone(), name => v.name.clone(), frame => v.frame },
            item16 => item16_view(v, a),
            recipients => v.rates(Audience::Recipients, k).iter().map(|r| rate_view(r, k)).collect::<Vec<_>>(),
            panel => v.rates(Audience::Panel, k).iter().map(|r| rate_view(r, k)).collect::<Vec<_>>(),
            respondents => v.recipients.respondents, panel_ratings => v.panel.respondents,
            items, negative, negative_notes => negative_notes.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>(),
            overrides, verdict => ser(&a.verdict),
            reasons => crate::results::assess::join_reasons(&a.verdict.reasons),
            approved => l.campaign.state == CampaignState::Approved,
            withheld => !l.survey_over,
            k, message, error,
        },
    ))
}

fn back_to_village(id: CampaignId, code: &str, flash: &str) -> Response {
    Redirect::to(&format!("/admin/campaigns/{id}/results/{code}?{flash}")).into_response()
}

fn back_to_results(id: CampaignId, flash: &str) -> Response {
    Redirect::to(&format!("/admin/campaigns/{id}/results?{flash}#publicity")).into_response()
}

/// The village of a results form, by code (404 for a village not in the draw).
async fn drawn_village(
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

/// Results can change until the campaign is approved. Checked before the form's fields, so
/// an approved campaign answers `e=approved` whatever was typed; the operations check again
/// inside their transaction.
async fn not_approved(state: &AppState, id: CampaignId) -> Result<bool, AppError> {
    Ok(state.db.campaign(id).await?.state != CampaignState::Approved)
}

/// The grades form: `grade_N`, `source_N`, `note_N` for items 1–15, and `neg_N` /
/// `neg_note_N` for situations 1–8 (repeated keys need axum-extra's form).
#[derive(Deserialize)]
pub(super) struct GradesForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}
has_csrf!(GradesForm);

pub(super) async fn save_grades(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    CsrfForm(_, form): CsrfForm<GradesForm>,
) -> Result<Response, AppError> {
    let village = drawn_village(&state, id, &code).await?;
    if !not_approved(&state, id).await? {
        return Ok(back_to_village(id, &code, "e=approved"));
    }
    let sheet = GradeSheet::parse(|name| form.fields.get(name).map(|s| s.trim()).unwrap_or(""))
        .map_err(|e| AppError::bad(e.to_string(), e.message_zh()))?;
    let v = Village {
        campaign_id: id,
        village_id: village,
        code: &code,
    };
    match ops::results::save_grades(&state.db, &user.by(), Some(user.account_id), v, &sheet).await {
        Ok(()) => {}
        Err(ResultsError::Approved) => return Ok(back_to_village(id, &code, "e=approved")),
        Err(ResultsError::Db(e)) => return Err(e.into()),
    }
    Ok(back_to_village(id, &code, "m=grades"))
}

#[derive(Deserialize)]
pub(super) struct OverrideForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    reason: String,
}
has_csrf!(OverrideForm);

pub(super) async fn override_item16(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    CsrfForm(_, form): CsrfForm<OverrideForm>,
) -> Result<Response, AppError> {
    let village = drawn_village(&state, id, &code).await?;
    if !not_approved(&state, id).await? {
        return Ok(back_to_village(id, &code, "e=approved"));
    }
    let reason: String = form.reason.trim().chars().take(2000).collect();
    if reason.is_empty() {
        return Ok(back_to_village(id, &code, "e=reason"));
    }
    let grade = match form.grade.trim() {
        "" => None,
        g => match Grade::parse(g) {
            Some(g) => Some(g),
            None => return Ok(back_to_village(id, &code, "e=grade")),
        },
    };
    let v = Village {
        campaign_id: id,
        village_id: village,
        code: &code,
    };
    match ops::results::override_item16(
        &state.db,
        &user.by(),
        Some(user.account_id),
        v,
        grade,
        &reason,
    )
    .await
    {
        Ok(()) => {}
        Err(ResultsError::Approved) => return Ok(back_to_village(id, &code, "e=approved")),
        Err(ResultsError::Db(e)) => return Err(e.into()),
    }
    Ok(back_to_village(
        id,
        &code,
        if grade.is_some() {
            "m=override"
        } else {
            "m=withdrawn"
        },
    ))
}

#[derive(Deserialize)]
pub(super) struct PublishForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    start: String,
}
has_csrf!(PublishForm);

pub(super) async fn publish_results(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<PublishForm>,
) -> Result<Response, AppError> {
    let Some(start) = parse_date(form.start.trim()) else {
        return Ok(back_to_results(id, "e=date"));
    };
    let flash = match ops::publicity::publish(
        &state.db,
        &user.by(),
        Some(user.account_id),
        id,
        start,
    )
    .await
    {
        Ok(_) => "m=published",
        Err(PublishError::Calendar) => "e=calendar",
        Err(PublishError::AlreadyPublished) => "e=published",
        Err(PublishError::NotClosed) => "e=not_closed",
        Err(PublishError::Db(e)) => return Err(e.into()),
    };
    Ok(back_to_results(id, flash))
}

#[derive(Deserialize)]
pub(super) struct ObjectionForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    village: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    summary: String,
}
has_csrf!(ObjectionForm);

pub(super) async fn add_objection(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    CsrfForm(_, form): CsrfForm<ObjectionForm>,
) -> Result<Response, AppError> {
    if !not_approved(&state, id).await? {
        return Ok(back_to_results(id, "e=approved"));
    }
    let summary: String = form.summary.trim().chars().take(2000).collect();
    if summary.is_empty() {
        return Ok(back_to_results(id, "e=summary"));
    }
    let received = match form.received_on.trim() {
        "" => today(),
        d => match parse_date(d) {
            Some(d) => d.to_string(),
            None => return Ok(back_to_results(id, "e=date")),
        },
    };
    let village = match form.village.trim() {
        "" => None,
        v => {
            let v: VillageId = v
                .parse()
                .map_err(|_| AppError::bad("bad village id", "村（社区）无效。"))?;
            let drawn = state.db.frame_sizes(id).await?;
            if !drawn.iter().any(|f| f.village_id == v) {
                return Err(AppError::bad(
                    "village not in the campaign",
                    "村（社区）无效。",
                ));
            }
            Some(v)
        }
    };
    let objection = NewObjection {
        village_id: village,
        received_on: &received,
        summary: &summary,
    };
    match ops::publicity::add_objection(
        &state.db,
        &user.by(),
        Some(user.account_id),
        id,
        &objection,
    )
    .await
    {
        Ok(_) => {}
        Err(ObjectionError::Approved) => return Ok(back_to_results(id, "e=approved")),
        Err(ObjectionError::Db(e)) => return Err(e.into()),
    }
    Ok(back_to_results(id, "m=objection"))
}

#[derive(Deserialize)]
pub(super) struct ResolveForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    resolution: String,
}
has_csrf!(ResolveForm);

pub(super) async fn resolve_objection(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, oid)): Path<(CampaignId, ObjectionId)>,
    CsrfForm(_, form): CsrfForm<ResolveForm>,
) -> Result<Response, AppError> {
    let resolution: String = form.resolution.trim().chars().take(2000).collect();
    if resolution.is_empty() {
        return Ok(back_to_results(id, "e=resolution"));
    }
    ops::publicity::resolve_objection(
        &state.db,
        &user.by(),
        Some(user.account_id),
        id,
        oid,
        &resolution,
    )
    .await?;
    Ok(back_to_results(id, "m=resolved"))
}

#[derive(Deserialize)]
pub(super) struct ApproveForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}
has_csrf!(ApproveForm);

pub(super) async fn approve_campaign(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    _: CsrfForm<ApproveForm>,
) -> Result<Response, AppError> {
    use crate::db::ApproveError;
    let flash =
        match ops::publicity::approve(&state.db, &user.by(), Some(user.account_id), id, &today())
            .await
        {
            Ok(()) => "m=approved",
            Err(ApproveError::NotPublished) => "e=not_published",
            Err(ApproveError::PeriodNotOver(_)) => "e=period",
            Err(ApproveError::Unresolved(_)) => "e=unresolved",
            Err(ApproveError::NotClosed) => "e=approved",
            Err(ApproveError::Db(e)) => return Err(e.into()),
        };
    Ok(back_to_results(id, flash))
}

#[derive(Deserialize)]
pub(super) struct DownloadQuery {
    encoding: Option<String>,
}

pub(super) async fn download_table(
    State(state): State<AppState>,
    _: Admin,
    Path((id, file)): Path<(CampaignId, String)>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, AppError> {
    let download = file
        .strip_suffix(".csv")
        .and_then(Download::parse)
        .ok_or(AppError::NotFound)?;
    let table = download.table(&state, id).await?;
    let campaign = state.db.campaign(id).await?;
    let encoding = CsvEncoding::from_query(q.encoding.as_deref());
    let header: Vec<String> = table.header().into_iter().map(String::from).collect();
    let rows = table
        .rows
        .into_iter()
        .map(|row| row.iter().map(|c| c.to_csv()).collect::<Vec<String>>());
    let chunks = csv_chunks(header, rows, encoding);
    let file_name = campaign_file(
        &campaign.name,
        &format!("{}.csv", download.spec().file_label),
    );
    Ok(Attachment::csv_stream(&file_name, encoding, chunks).into_response())
}

pub(super) async fn api_table(
    State(state): State<AppState>,
    _: super::api::ApiUser<Admin>,
    Path((id, name)): Path<(CampaignId, String)>,
) -> Result<Response, super::api::ApiError> {
    let download = Download::parse(&name).ok_or(AppError::NotFound)?;
    let table = download.table(&state, id).await?;
    Ok(Json(table.to_json()).into_response())
}

async fn rates_table(state: &AppState, id: CampaignId) -> Result<Table, AppError> {
    use crate::fieldwork::rates::format_rate;
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("village_name", "村（社区）名称"),
        ("population", "名单人数"),
        ("target", "目标样本"),
        ("released", "已发放"),
        ("completes", "完成"),
        ("i", "I 完成"),
        ("p", "P 部分完成"),
        ("r", "R 拒访"),
        ("nc", "NC 未接触"),
        ("o", "O 其他"),
        ("uh", "UH 资格未知"),
        ("ne", "NE 不符合"),
        ("rr1", "RR1"),
        ("rr2", "RR2"),
        ("rr3", "RR3"),
        ("coop1", "COOP1"),
        ("ref1", "REF1"),
        ("con1", "CON1"),
    ];
    state.db.campaign(id).await?;
    let (rows, total) = progress_rows(&state.db, id).await?;
    let line = |code: &str, name: &str, r: &super::console::ProgressRow| {
        use tables::Cell;
        let c = r.counts;
        let rates = c.rates();
        let rate = |x: Option<f64>| Cell::Text(format_rate(x));
        vec![
            Cell::from(code),
            Cell::from(name),
            Cell::Int(r.population),
            Cell::Int(r.target),
            Cell::Int(r.released),
            Cell::Int(r.completes),
            Cell::Int(c.i as i64),
            Cell::Int(c.p as i64),
            Cell::Int(c.r as i64),
            Cell::Int(c.nc as i64),
            Cell::Int(c.o as i64),
            Cell::Int(c.uh as i64),
            Cell::Int(c.ne as i64),
            rate(rates.rr1),
            rate(rates.rr2),
            rate(rates.rr3),
            rate(rates.coop1),
            rate(rates.ref1),
            rate(rates.con1),
        ]
    };
    let mut out: Vec<_> = rows.iter().map(|r| line(&r.code, &r.name, r)).collect();
    out.push(line("全镇", "合计", &total));
    Ok(Table {
        columns: COLUMNS,
        rows: out,
    })
}

async fn draw_table(state: &AppState, id: CampaignId) -> Result<Table, AppError> {
    use tables::Cell;
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("population", "名单人数"),
        ("fingerprint", "名单指纹（SHA-256）"),
        ("size", "样本量"),
        ("list_sha256", "排序名单指纹（SHA-256）"),
        ("algorithm", "算法"),
        ("seed", "种子"),
        ("frame_fingerprint", "总名单指纹"),
    ];
    let (json, _) = state.db.draw_record(id).await?.ok_or(AppError::NotFound)?;
    let record: crate::sampling::record::DrawRecord =
        serde_json::from_str(&json).map_err(anyhow::Error::from)?;
    let rows = record
        .villages
        .iter()
        .map(|v| {
            vec![
                Cell::from(v.code.as_str()),
                Cell::Int(v.population as i64),
                Cell::from(v.fingerprint.as_str()),
                Cell::Int(v.size as i64),
                Cell::from(v.list_sha256.as_str()),
                Cell::from(record.algorithm.as_str()),
                Cell::from(record.seed.as_str()),
                Cell::from(record.frame_fingerprint.as_str()),
            ]
        })
        .collect();
    Ok(Table {
        columns: COLUMNS,
        rows,
    })
}

pub(super) async fn show_calendar(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, AppError> {
    calendar_page(&state, &user, &flash, None).await
}

async fn calendar_page(
    state: &AppState,
    user: &CurrentUser,
    flash: &Flash,
    errors: Option<Vec<String>>,
) -> Result<Html<String>, AppError> {
    let days: Vec<Value> = state
        .db
        .calendar()
        .await?
        .iter()
        .map(|d: &CalendarDay| {
            context! {
                day => d.day.clone(), name => d.name.clone(),
                kind => DayKind::parse(&d.kind).map(DayKind::label_zh),
            }
        })
        .collect();
    let (message, error) = flash_text(flash);
    Ok(views::page(
        user,
        "calendar.html",
        context! { days, message, error, errors },
    ))
}

pub(super) async fn import_calendar(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    form: Multipart,
) -> Result<Response, AppError> {
    check_origin(&headers, &state)?;
    let upload = read_upload(form, &state).await?;
    check_csrf(&user, upload.field("_csrf"))?;
    match parse_calendar_csv(&upload.bytes) {
        Ok(entries) => {
            ops::publicity::import_calendar(&state.db, &user.by(), entries).await?;
            Ok(Redirect::to("/admin/calendar?m=calendar").into_response())
        }
        Err(errors) => {
            let zh: Vec<String> = errors.iter().map(|e| e.message_zh()).collect();
            let page = calendar_page(&state, &user, &Flash::default(), Some(zh)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub(super) struct DeleteDayForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    day: String,
}
has_csrf!(DeleteDayForm);

pub(super) async fn delete_calendar_day(
    State(state): State<AppState>,
    Admin(user): Admin,
    CsrfForm(_, form): CsrfForm<DeleteDayForm>,
) -> Result<Response, AppError> {
    ops::publicity::delete_calendar_day(&state.db, &user.by(), form.day.trim()).await?;
    Ok(Redirect::to("/admin/calendar?m=deleted").into_response())
}

/// A village operator's own results, once published: aggregates only, never comments,
/// small cells suppressed as everywhere.
pub(super) async fn show_own_results(
    State(state): State<AppState>,
    Operator {
        user,
        village: village_id,
    }: Operator,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let publicity = state.db.publicity(id).await?;
    if publicity.is_none() {
        return Err(AppError::NotFound);
    }
    let l = load(&state, id).await?;
    let (pos, v) = l
        .results
        .villages
        .iter()
        .enumerate()
        .find(|(_, v)| v.village_id == village_id)
        .ok_or(AppError::NotFound)?;
    let a = &l.assessed[pos];
    let k = l.results.k;
    Ok(views::page(
        &user,
        "village_results.html",
        context! {
            campaign => ser(&l.campaign), village => context! { code => v.code.clone(), name => v.name.clone() },
            item16 => item16_view(v, a),
            recipients => v.rates(Audience::Recipients, k).iter().map(|r| rate_view(r, k)).collect::<Vec<_>>(),
            panel => v.rates(Audience::Panel, k).iter().map(|r| rate_view(r, k)).collect::<Vec<_>>(),
            items => a.items.iter().enumerate().map(|(i, g)| context! { number => i + 1, title => ITEM_TITLES[i], grade => g.map(Grade::label) }).collect::<Vec<_>>(),
            verdict => ser(&a.verdict), reasons => crate::results::assess::join_reasons(&a.verdict.reasons),
            publicity => publicity_view(&publicity), k,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_download_is_found_by_its_own_name_and_no_other() {
        for d in Download::ALL {
            assert_eq!(Download::parse(d.name()), Some(d));
        }
        let names: std::collections::BTreeSet<_> = Download::ALL.map(Download::name).into();
        assert_eq!(names.len(), Download::ALL.len());
        for unknown in ["", "tallies.csv", "Tallies", "audit", "../tallies"] {
            assert_eq!(Download::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn only_tables_without_answers_are_given_out_during_fieldwork() {
        let during: Vec<_> = Download::ALL
            .into_iter()
            .filter(|d| d.spec().during_fieldwork)
            .collect();
        assert_eq!(during, [Download::Rates, Download::Draw]);
    }
}
