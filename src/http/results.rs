//! Results for the commission: tallies, item 16 and its overrides, the grades of
//! items 1–15 and the negative list, the verdict, publicity with objections and approval,
//! the working-day calendar, and the downloads (CSV and the same tables as JSON). After
//! publication a village operator sees the village's own aggregates — never comments.

use super::auth::{CsrfForm, CurrentUser, check_csrf, check_origin, has_csrf};
use super::console::progress_rows;
use super::download::{Attachment, campaign_file};
use super::error::AppError;
use super::grade_sources::{EnterQuery, ItemLine, drawn_village};
use super::roles::{Admin, Operator};
use super::upload::read_upload;
use super::{AppState, views};
use crate::db::CalendarDay;
use crate::db::Campaign;
use crate::domain::{CampaignState, local_time, today};
use crate::export::{CsvEncoding, csv_chunks};
use crate::forms::Audience;
use crate::forms::{Scheme, Uncertain};
use crate::ids::{CampaignId, VillageId};
use crate::ops::{
    self,
    publicity::{NewObjection, ObjectionError, PublishError},
    results::{GradeSheet, ResultsError, Village},
};
use crate::results::assess::{Grade, ITEM_TITLES, NEGATIVE_SITUATIONS, Situation, Verdict};
use crate::results::calendar::{parse_calendar_csv, parse_date};
use crate::results::chart::{self, Svg};
use crate::results::item16::{figure_text, grade_rule_zh, scheme_rules_zh};
use crate::results::report::comments;
use crate::results::tables::{self, Table, VillageAssessment};
use crate::results::tables::{LoadError, Loaded};
use crate::results::{Interval, RateRow};
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
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
pub(super) async fn load(state: &AppState, id: CampaignId) -> Result<Loaded, AppError> {
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

/// A satisfaction rate as `rates_table.html` and the results pages show it.
#[derive(Serialize)]
pub(super) struct RateView {
    scope: &'static str,
    key: String,
    label: String,
    /// Fewer than k answer sheets: nothing but the label is shown.
    suppressed: bool,
    base: Option<u64>,
    valid: Option<u64>,
    satisfied: Option<u64>,
    /// Why the figure is withheld, in Chinese.
    withheld: Option<String>,
    rate: Option<String>,
    interval: Option<String>,
}

pub(super) fn rate_view(r: &RateRow, k: u64) -> RateView {
    RateView {
        scope: r.scope.label_zh(),
        key: r.key.clone(),
        label: r.label.clone(),
        suppressed: r.suppressed,
        base: r.base,
        valid: r.valid,
        satisfied: r.satisfied,
        withheld: r.withheld.map(|w| w.note_zh(k)),
        rate: r.rate.map(pct),
        interval: r
            .interval
            .map(|i: Interval| format!("{} – {}", pct(i.low), pct(i.high))),
    }
}

/// A village's verdict reasons in plain Chinese sentences (the pages; downloads keep the
/// short forms).
pub(super) fn verdict_zh(a: &VillageAssessment) -> String {
    let numbered: Vec<(u32, Option<Grade>)> = (1u32..).zip(a.items.iter().copied()).collect();
    crate::results::assess::reasons_zh(&numbered, &a.negative)
}

/// The campaign's sample-size rule in a sentence (the default where none is saved).
pub(super) fn sample_rule(campaign: &crate::db::Campaign) -> String {
    let saved: Option<crate::sampling::SizeParameters> =
        serde_json::from_str(&campaign.size_rule).ok();
    let params = saved.unwrap_or_else(|| crate::sampling::SizeRule::default().parameters());
    super::draw::describe_rule(&params)
}

/// A village's item 16: the scores as text (two decimals), the computed grade and the one in
/// force.
#[derive(Serialize)]
pub(super) struct Item16View {
    /// What R, P and S are: 满意率 or 得分.
    figure: &'static str,
    respondents: u64,
    /// The fewest valid respondents this village needs for a grade.
    min_respondents: u64,
    frame: u64,
    /// The sentence linking S to the grade.
    rule: Option<String>,
    /// Uncertain, the scheme asks the 领导小组 to confirm, and no override does yet.
    needs_confirmation: bool,
    r: Option<String>,
    r_interval: Option<String>,
    panel_ratings: u64,
    /// Ratings recused: the rater lives or works in the village.
    panel_recused: u64,
    /// Why P does not enter S, in plain Chinese.
    panel_note: Option<String>,
    p: Option<String>,
    s: Option<String>,
    s_interval: Option<String>,
    no_panel: bool,
    /// The grade the scores give.
    computed: Option<String>,
    uncertain: bool,
    insufficient: bool,
    /// The grade in force (an override, else the computed one).
    grade: Option<&'static str>,
    overridden: bool,
}

pub(super) fn item16_view(
    v: &crate::results::VillageResults,
    a: &VillageAssessment,
    scheme: &Scheme,
) -> Item16View {
    let i = &v.item16;
    let text = |x: Option<f64>| x.map(|x| figure_text(scheme, x));
    let range = |i: Option<Interval>| {
        i.map(|i| {
            format!(
                "{} – {}",
                figure_text(scheme, i.low),
                figure_text(scheme, i.high)
            )
        })
    };
    let overridden = a.item16_overridden;
    Item16View {
        figure: scheme.method.figure_zh(),
        respondents: i.respondents,
        min_respondents: i.min_respondents,
        frame: i.frame,
        rule: grade_rule_zh(scheme, i),
        needs_confirmation: i.uncertain && scheme.uncertain == Uncertain::Confirm && !overridden,
        r: text(i.r),
        r_interval: range(i.r_interval),
        panel_ratings: i.panel_ratings,
        panel_recused: i.panel_recused,
        panel_note: i.panel_not_counted.map(|n| n.note_zh()),
        p: text(i.p),
        s: text(i.s),
        s_interval: range(i.s_interval),
        no_panel: i.no_panel,
        computed: i.grade.clone(),
        uncertain: i.uncertain,
        insufficient: i.insufficient,
        grade: a.items.get(15).copied().flatten().map(Grade::label),
        overridden,
    }
}

/// The publicity period, once published.
#[derive(Serialize)]
pub(super) struct PublicityView {
    start: String,
    end: String,
    published_at: String,
    approved_at: Option<String>,
    /// The period has ended (today is after its last day).
    over: bool,
    /// The audit chain's head when publicity began.
    audit_head: Option<String>,
}

fn publicity_view(p: &Option<crate::db::Publicity>) -> Option<PublicityView> {
    p.as_ref().map(|p| PublicityView {
        start: p.start_date.clone(),
        end: p.end_date.clone(),
        published_at: local_time(p.published_at),
        approved_at: p.approved_at.map(local_time),
        over: today() > p.end_date,
        audit_head: p.audit_head.clone(),
    })
}

#[derive(Deserialize, Default)]
pub(super) struct Flash {
    m: Option<String>,
    e: Option<String>,
}

fn flash_text(f: &Flash) -> (Option<&'static str>, Option<&'static str>) {
    let m = f.m.as_deref().map(|m| match m {
        "grades" => "已保存。",
        "report" => "考核验收评估组的报告已保存。",
        "override" => "第16项等次已调整，理由已记录。",
        "withdrawn" => "已撤销调整，恢复计算等次。",
        "published" => "已开始公示。各村（社区）现在可以看到本村的汇总结果。",
        "objection" => "异议已登记。",
        "resolved" => "异议已处理。",
        "approved" => "已批准。",
        "adjusted" => "拟评定名单已调整，理由已记录。",
        "restarted" => {
            "拟评定名单已调整，公示已重新开始：新的公示期和公示通知已生成，原公示通知保留在下方。"
        }
        "upheld" => "已记录：异议属实。异议涉及的村(社区)如在拟评定名单上，已移出名单。",
        "dismissed" => "已记录：异议不属实。",
        "studied" => "镇纪委研究情况已记录。",
        "granted" => "镇党委批准已记录，称号已登记。",
        "declined" => "已记录：镇党委不予批准。",
        "title_years" => "称号有效期已设置。",
        "calendar" => "日历已导入。",
        "purged" => "电话号码和姓名已从数据库清除；调查结果、等次、抽样记录和审计日志保持不变。",
        "deleted" => "已删除。",
        _ => "完成。",
    });
    let e = f.e.as_deref().map(|e| match e {
        "reason" => "调整等次必须填写理由。",
        "grade" => "等次无效。",
        "not_closed" => "调查结束后才能公示。",
        "unexplained" => "有村(社区)的领导小组最终评定与评估组(或镇纪委)的等次不同,还没有写明理由,不能开始公示。请到这些村(社区)页面“第1—15项等次”一节补上理由(红字提示的项目)。",
        "unconfirmed" => "有村(社区)的等次不确定,按评分方案须先由领导小组确认等次(维持或调整,写明理由)才能开始公示。请在标有“待确认”的村(社区)页面确认。",
        "published" => "本轮已经公示。",
        "contact" => "公示通知须写明受理异议的电话、地址和发布单位。请先在本轮的调查轮次页面“公示通知”一栏填写，再开始公示。",
        "date" => "日期无效，请按 2026-10-08 的格式填写。",
        "calendar" => "在日历里找不到足够的工作日，请检查节假日设置。",
        "summary" => "请填写异议内容。",
        "resolution" => "请填写处理理由。",
        "objection_decision" => "请选择异议属实或不属实。",
        "objection_late" => "该村(社区)已有镇党委的决定，不能再因异议移出名单。",
        "adj_reason" => "调整拟评定名单必须填写理由。",
        "adj_action" => "请选择列入或移出。",
        "adj_village" => "这个村(社区)不在本轮评估范围内。",
        "on_list" => "这个村(社区)已经在拟评定名单上。",
        "not_on_list" => "这个村(社区)不在拟评定名单上。",
        "needs_start" => "公示已经开始：调整名单要重新公示，请填写新的公示开始日期。",
        "start_early" => "重新公示的开始日期不能早于原公示的开始日期。",
        "start_past" => "重新公示的开始日期不能早于今天。",
        "adj_upheld" => "这个村(社区)的异议经调查属实，已移出拟评定名单，不能再列入。",
        "list_decided" => "已经记录了镇纪委研究或镇党委决定，拟评定名单不能再调整。",
        "no_list" => "本轮公示开始时系统还没有保存拟评定名单，不能在这里调整。",
        "undecided" => "拟评定名单上还有村(社区)没有镇党委的决定（批准或不予批准），不能批准本轮。",
        "open_objections" => "还有涉及该村(社区)或全镇的异议没有处理，不能记录。",
        "not_final" => "这个村(社区)不在最终的拟评定名单上。",
        "before_end" => "日期必须在公示期结束之后。",
        "future" => "日期不能晚于今天。",
        "study_recorded" => "该村(社区)的镇纪委研究已经记录。",
        "no_study" => "请先记录镇纪委研究，再记录镇党委的决定。",
        "before_study" => "镇党委批准日期不能早于镇纪委研究日期。",
        "already_decided" => "该村(社区)已有镇党委的决定。",
        "minutes_ref" => "请填写会议纪要编号。",
        "decision_ref" => "批准须填写文号。",
        "decline_reason" => "不予批准须填写理由。",
        "party_decision" => "请选择批准或不予批准。",
        "title_years" => "称号有效期请填写 1 到 10 之间的整数(年)。",
        "titles_granted" => "本轮已经授予称号，有效期不能再改。",
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

/// The commission's results page (`results.html`).
#[derive(Serialize)]
pub(super) struct ResultsPage {
    campaign: Campaign,
    villages: Vec<VillageLine>,
    /// Town-wide rates by aspect and over all scored questions (not per question).
    town: Vec<TownLine>,
    /// The smallest number of answer sheets a figure is shown for.
    k: u64,
    scheme: SchemeView,
    closed: bool,
    approved: bool,
    /// Fieldwork still runs or the answers are not mixed yet: no figure from answers shown.
    withheld: bool,
    /// Every village's S as a bar chart; none while fieldwork runs.
    town_chart: Option<Svg>,
    publicity: Option<PublicityView>,
    /// The proposed list (拟评定名单), its adjustments and the decisions per village.
    proposed: super::decisions::ProposedView,
    objections: Vec<ObjectionView>,
    /// The villages an objection may name.
    village_options: Vec<VillageOption>,
    downloads: Vec<DownloadLink>,
    today: String,
    message: Option<&'static str>,
    error: Option<&'static str>,
    archived_at: Option<String>,
    purged_at: Option<String>,
}

impl views::Page for ResultsPage {
    const TEMPLATE: &'static str = "results.html";
}

/// A village's line on the results page.
#[derive(Serialize)]
pub(super) struct VillageLine {
    code: String,
    name: String,
    item16: Item16View,
    /// The satisfaction rate over all scored questions.
    satisfaction: Option<RateView>,
    good: u32,
    total: u32,
    passed: bool,
    reasons: String,
    /// Items with a grade, of 16.
    graded: usize,
    /// The quality checks, shown beside the grade.
    quality: super::quality::QualityView,
}

/// A town-wide rate: the rate and how many villages it covers.
#[derive(Serialize)]
pub(super) struct TownLine {
    #[serde(flatten)]
    rate: RateView,
    excluded: u64,
    villages: u64,
}

/// The assessment scheme in force, as the results page cites it.
#[derive(Serialize)]
pub(super) struct SchemeView {
    id: String,
    version: String,
    /// The rules, a sentence each (how R, P, S and the grade are made).
    rules: Vec<String>,
    /// The sample-size rule of the campaign.
    sample_rule: String,
    min_respondents: u32,
    panel_min: u32,
    w_r: f64,
    w_p: f64,
}

#[derive(Serialize)]
pub(super) struct ObjectionView {
    id: crate::ids::ObjectionId,
    /// `code name`, or none for the whole town.
    village: Option<String>,
    received_on: String,
    summary: String,
    resolution: Option<String>,
    resolved_at: Option<String>,
    /// 属实, 不属实, or 已处理 for objections resolved before decisions existed.
    decision: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct VillageOption {
    id: crate::ids::VillageId,
    label: String,
}

#[derive(Serialize)]
pub(super) struct DownloadLink {
    name: &'static str,
    label: &'static str,
    during_fieldwork: bool,
}

pub(super) async fn show_results(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<CampaignId>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, AppError> {
    let l = load(&state, id).await?;
    let quality = super::quality::campaign_quality(&state, &l).await?;
    let villages: Vec<VillageLine> = l
        .results
        .villages
        .iter()
        .zip(&l.assessed)
        .map(|(v, a)| {
            let all = v
                .rates(Audience::Recipients, l.results.k)
                .into_iter()
                .find(|r| r.scope == crate::results::Scope::All);
            VillageLine {
                code: v.code.clone(),
                name: v.name.clone(),
                item16: item16_view(v, a, &l.forms.scheme),
                satisfaction: all.as_ref().map(|r| rate_view(r, l.results.k)),
                good: a.verdict.good,
                total: a.verdict.total,
                passed: a.verdict.passed,
                reasons: verdict_zh(a),
                graded: a.items.iter().filter(|g| g.is_some()).count(),
                quality: super::quality::quality_view(quality.get(&v.village_id)),
            }
        })
        .collect();
    let town: Vec<TownLine> = l
        .results
        .town_rates(Audience::Recipients)
        .iter()
        .filter(|t| t.rate.scope != crate::results::Scope::Question)
        .map(|t| TownLine {
            rate: rate_view(&t.rate, l.results.k),
            excluded: t.excluded,
            villages: t.villages,
        })
        .collect();
    let publicity = state.db.publicity(id).await?;
    let objections = state.db.objections(id).await?;
    let names: BTreeMap<VillageId, String> = l
        .results
        .villages
        .iter()
        .map(|v| (v.village_id, format!("{} {}", v.code, v.name)))
        .collect();
    let objections: Vec<ObjectionView> = objections
        .iter()
        .map(|o| ObjectionView {
            id: o.id,
            village: o.village_id.and_then(|v| names.get(&v).cloned()),
            received_on: o.received_on.clone(),
            summary: o.summary.clone(),
            resolution: o.resolution.clone(),
            resolved_at: o.resolved_at.map(local_time),
            decision: match (o.decision.as_deref(), &o.resolution) {
                (Some("upheld"), _) => Some("属实"),
                (Some(_), _) => Some("不属实"),
                (None, Some(_)) => Some("已处理"),
                (None, None) => None,
            },
        })
        .collect();
    let (message, error) = flash_text(&flash);
    let state_now = l.campaign.state;
    let (archived_at, purged_at) = state.db.archive_state(id).await?;
    let scheme = &l.forms.scheme;
    let page = ResultsPage {
        campaign: l.campaign.clone(),
        villages,
        town,
        k: l.results.k,
        scheme: SchemeView {
            id: scheme.id.clone(),
            version: scheme.version.clone(),
            rules: scheme_rules_zh(scheme, &l.forms.recipients),
            sample_rule: sample_rule(&l.campaign),
            min_respondents: scheme.min_respondents,
            panel_min: scheme.panel_min,
            w_r: scheme.weight_recipients,
            w_p: scheme.weight_panel,
        },
        closed: state_now == CampaignState::Closed,
        approved: state_now == CampaignState::Approved,
        withheld: !l.survey_over,
        town_chart: l
            .survey_over
            .then(|| chart::town_overview(&l.results, &l.assessed, scheme)),
        proposed: super::decisions::proposed_view(&state, id, &l.assessed, &publicity).await?,
        publicity: publicity_view(&publicity),
        objections,
        village_options: l
            .results
            .villages
            .iter()
            .map(|v| VillageOption {
                id: v.village_id,
                label: format!("{} {}", v.code, v.name),
            })
            .collect(),
        downloads: Download::ALL
            .iter()
            .map(|d| {
                let s = d.spec();
                DownloadLink {
                    name: s.name,
                    label: s.title,
                    during_fieldwork: s.during_fieldwork,
                }
            })
            .collect(),
        today: today(),
        message,
        error,
        archived_at: archived_at.map(local_time),
        purged_at: purged_at.map(local_time),
    };
    Ok(views::show(&user, &page))
}

/// The commission's page for one village (`results_village.html`): item 16 with its
/// overrides, the rates, and the form for grades 1–15 and the negative list.
#[derive(Serialize)]
pub(super) struct VillageResultsPage {
    campaign: Campaign,
    village: VillageHeading,
    item16: Item16View,
    recipients: Vec<RateView>,
    panel: Vec<RateView>,
    /// The village's charts; none while fieldwork runs.
    charts: Option<VillageCharts>,
    /// Items 1–15 with the grade of every source, the final one on the form.
    items: Vec<ItemLine>,
    /// The definitions, the other sources' sheet, the history and the group's report.
    sources: super::grade_sources::SourcesView,
    /// The eight situations of the negative list.
    negative: Vec<SituationLine>,
    /// The first day a situation counts: one year before the creation started.
    window_start: String,
    /// The day the creation started, where the commission set it.
    creation_started_on: Option<String>,
    overrides: Vec<OverrideLine>,
    verdict: Verdict,
    reasons: String,
    approved: bool,
    /// Publicity has started: the grades, the negative list and item 16 no longer change.
    frozen: bool,
    withheld: bool,
    k: u64,
    message: Option<&'static str>,
    error: Option<&'static str>,
    /// The quality checks and call-backs of the village.
    quality: super::quality::QualityView,
}

impl views::Page for VillageResultsPage {
    const TEMPLATE: &'static str = "results_village.html";
}

#[derive(Serialize)]
pub(super) struct VillageHeading {
    code: String,
    name: String,
    frame: u64,
}

/// One situation of the negative list on the grades form.
#[derive(Serialize)]
pub(super) struct SituationLine {
    number: u8,
    circled: Option<String>,
    text: &'static str,
    ticked: bool,
    note: String,
    /// When it happened, `YYYY-MM-DD` (empty: not recorded).
    date: String,
    /// Ticked but dated before the window opens: recorded, not counted.
    outside: bool,
    /// Situation ⑥: petitions and reports, and how many were resolved.
    petitions: Option<i64>,
    resolved: Option<i64>,
}

/// An item-16 override as recorded (a withdrawal has no grade).
#[derive(Serialize)]
pub(super) struct OverrideLine {
    grade: Option<&'static str>,
    reason: String,
    at: String,
}

pub(super) async fn show_village_results(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path((id, code)): Path<(CampaignId, String)>,
    Query(flash): Query<Flash>,
    Query(enter): Query<EnterQuery>,
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
    let entries = state.db.grade_entries(id, v.village_id).await?;
    // Item 15 as in force: the negative list decides it, whatever was stored.
    let items = super::grade_sources::item_lines(&entries, a.items.get(14).copied().flatten());
    let reports = state.db.group_reports(id, v.village_id).await?;
    let sources = super::grade_sources::sources_view(&entries, reports, enter.source());
    let findings: BTreeMap<i64, crate::db::NegativeRow> = state
        .db
        .negative_findings(id)
        .await?
        .into_iter()
        .filter(|n| n.village_id == v.village_id)
        .map(|n| (n.situation, n))
        .collect();
    let negative: Vec<SituationLine> = (1u8..=8)
        .zip(NEGATIVE_SITUATIONS)
        .map(|(n, text)| {
            let s = Situation::new(n);
            let found = findings.get(&i64::from(n));
            SituationLine {
                number: n,
                circled: s.map(|s| s.circled().to_string()),
                text,
                ticked: found.is_some(),
                note: found.map(|f| f.note.clone()).unwrap_or_default(),
                date: found.and_then(|f| f.event_date.clone()).unwrap_or_default(),
                outside: s.is_some_and(|s| entered.negative_outside.contains(&s)),
                petitions: found.and_then(|f| f.petitions),
                resolved: found.and_then(|f| f.petitions_resolved),
            }
        })
        .collect();
    let window_start = crate::results::assess::campaign_window_start(
        l.campaign.creation_started_on.as_deref(),
        &crate::domain::local_date(l.campaign.created_at),
    );
    let creation_started_on = l.campaign.creation_started_on.clone();
    let overrides: Vec<OverrideLine> = l
        .overrides
        .iter()
        .filter(|o| o.village_id == v.village_id)
        .map(|o| OverrideLine {
            grade: o.grade.map(Grade::label),
            reason: o.reason.clone(),
            at: local_time(o.entered_at),
        })
        .collect();
    let (message, error) = flash_text(&flash);
    let k = l.results.k;
    let quality = super::quality::campaign_quality(&state, &l).await?;
    let page = VillageResultsPage {
        quality: super::quality::quality_view(quality.get(&v.village_id)),
        campaign: l.campaign.clone(),
        village: VillageHeading {
            code: v.code.clone(),
            name: v.name.clone(),
            frame: v.frame,
        },
        item16: item16_view(v, a, &l.forms.scheme),
        recipients: rate_views(v, Audience::Recipients, k),
        panel: rate_views(v, Audience::Panel, k),
        charts: l
            .survey_over
            .then(|| village_charts(v, k, &l.forms.scheme, chart::question_shares)),
        items,
        sources,
        negative,
        window_start,
        creation_started_on,
        overrides,
        verdict: a.verdict.clone(),
        reasons: verdict_zh(a),
        approved: l.campaign.state == CampaignState::Approved,
        frozen: state.db.publicity(id).await?.is_some(),
        withheld: !l.survey_over,
        k,
        message,
        error,
    };
    Ok(views::show(&user, &page))
}

/// A village's charts: its rates by dimension with item 16, and each question's options.
#[derive(Serialize)]
pub(super) struct VillageCharts {
    dimensions: Svg,
    recipients: Vec<Svg>,
    panel: Vec<Svg>,
}

/// The charts of one village, the questions' charts made by `shares`.
fn village_charts(
    v: &crate::results::VillageResults,
    k: u64,
    scheme: &Scheme,
    shares: fn(&crate::results::FormTally, u64) -> Vec<Svg>,
) -> VillageCharts {
    VillageCharts {
        dimensions: chart::village_dimensions(v, k, scheme),
        recipients: shares(&v.recipients, k),
        panel: shares(&v.panel, k),
    }
}

/// A village's rates for one audience, as the rates table shows them.
fn rate_views(v: &crate::results::VillageResults, audience: Audience, k: u64) -> Vec<RateView> {
    v.rates(audience, k)
        .iter()
        .map(|r| rate_view(r, k))
        .collect()
}

fn back_to_village(id: CampaignId, code: &str, flash: &str) -> Response {
    Redirect::to(&format!("/admin/campaigns/{id}/results/{code}?{flash}")).into_response()
}

fn back_to_results(id: CampaignId, flash: &str) -> Response {
    Redirect::to(&format!("/admin/campaigns/{id}/results?{flash}#publicity")).into_response()
}

/// Results can change until the campaign is approved. Checked before the form's fields, so
/// an approved campaign answers `e=approved` whatever was typed; the operations check again
/// inside their transaction.
async fn not_approved(state: &AppState, id: CampaignId) -> Result<bool, AppError> {
    Ok(state.db.campaign(id).await?.state != CampaignState::Approved)
}

/// The final grades form: `grade_N`, `note_N` (the reason where the grade differs) for
/// items 1–14, and `neg_N`, `neg_date_N`, `neg_note_N` for situations 1–8.
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
    let sheet = GradeSheet::parse(
        |name| form.fields.get(name).map(|s| s.trim()).unwrap_or(""),
        &today(),
    )
    .map_err(|e| AppError::bad(e.to_string(), e.message_zh()))?;
    let v = Village {
        campaign_id: id,
        village_id: village,
        code: &code,
    };
    match ops::results::save_grades(&state.db, &user.by(), v, &sheet).await {
        Ok(()) => Ok(back_to_village(id, &code, "m=grades")),
        Err(e) => Ok(super::grade_sources::refused(e, |flash| {
            back_to_village(id, &code, flash)
        })),
    }
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
    match ops::results::override_item16(&state.db, &user.by(), v, grade, &reason).await {
        Ok(()) => {}
        Err(ResultsError::Approved) => return Ok(back_to_village(id, &code, "e=approved")),
        Err(ResultsError::Db(e)) => return Err(e.into()),
        Err(e) => {
            return Err(AppError::bad(
                e.to_string(),
                e.message_zh().unwrap_or_default(),
            ));
        }
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
    let flash = match ops::publicity::publish(&state.db, &user.by(), id, start).await {
        Ok(_) => "m=published",
        Err(PublishError::Calendar) => "e=calendar",
        Err(PublishError::AlreadyPublished) => "e=published",
        Err(PublishError::NotClosed) => "e=not_closed",
        Err(PublishError::NoContact) => "e=contact",
        Err(PublishError::Unconfirmed(_)) => "e=unconfirmed",
        Err(PublishError::Unexplained(_)) => "e=unexplained",
        Err(PublishError::Db(e)) => return Err(e.into()),
        Err(PublishError::Results(e)) => return Err(e.into()),
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
    match ops::publicity::add_objection(&state.db, &user.by(), id, &objection).await {
        Ok(_) => {}
        Err(ObjectionError::Approved) => return Ok(back_to_results(id, "e=approved")),
        Err(ObjectionError::Db(e)) => return Err(e.into()),
    }
    Ok(back_to_results(id, "m=objection"))
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
    let flash = match ops::publicity::approve(&state.db, &user.by(), id, &today()).await {
        Ok(()) => "m=approved",
        Err(ApproveError::NotPublished) => "e=not_published",
        Err(ApproveError::PeriodNotOver(_)) => "e=period",
        Err(ApproveError::Unresolved(_)) => "e=unresolved",
        Err(ApproveError::NotClosed) => "e=approved",
        Err(ApproveError::Undecided(_)) => "e=undecided",
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
        ("invalid_numbers", "无效号码数"),
        ("invalid_number_rate", "无效号码率"),
    ];
    state.db.campaign(id).await?;
    let (rows, total) = progress_rows(&state.db, id).await?;
    let line = |code: &str, name: &str, r: &super::console::ProgressRow| {
        use tables::Cell;
        let c = r.counts;
        let rates = c.rates();
        let rate = Cell::fieldwork_rate;
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
            Cell::Int(r.invalid_numbers),
            rate(r.invalid_number_rate()),
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
                kind => d.kind.label_zh(),
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

/// A village operator's own results (`village_results.html`): aggregates only.
#[derive(Serialize)]
pub(super) struct OwnResultsPage {
    campaign: Campaign,
    village: VillageHeading,
    publicity: PublicityView,
    /// The village's own status on the proposed list; none for publicity started before
    /// the list was kept.
    status: Option<super::decisions::OwnStatus>,
    item16: Item16View,
    recipients: Vec<RateView>,
    panel: Vec<RateView>,
    /// The village's charts (the scored questions only); none before the survey is over.
    charts: Option<VillageCharts>,
    /// Items 1–16 with the grade in force.
    items: Vec<GradeLine>,
    verdict: Verdict,
    reasons: String,
    k: u64,
}

impl views::Page for OwnResultsPage {
    const TEMPLATE: &'static str = "village_results.html";
}

#[derive(Serialize)]
pub(super) struct GradeLine {
    number: usize,
    title: &'static str,
    grade: Option<&'static str>,
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
    let stored = state.db.publicity(id).await?;
    let Some(publicity) = publicity_view(&stored) else {
        return Err(AppError::NotFound);
    };
    let status = match &stored {
        Some(p) => super::decisions::own_status(&state, id, village_id, p).await?,
        None => None,
    };
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
    let page = OwnResultsPage {
        campaign: l.campaign.clone(),
        village: VillageHeading {
            code: v.code.clone(),
            name: v.name.clone(),
            frame: v.frame,
        },
        publicity,
        status,
        item16: item16_view(v, a, &l.forms.scheme),
        recipients: rate_views(v, Audience::Recipients, k),
        panel: rate_views(v, Audience::Panel, k),
        charts: l
            .survey_over
            .then(|| village_charts(v, k, &l.forms.scheme, chart::scored_question_shares)),
        items: a
            .items
            .iter()
            .zip(ITEM_TITLES)
            .enumerate()
            .map(|(i, (g, title))| GradeLine {
                number: i + 1,
                title,
                grade: g.map(Grade::label),
            })
            .collect(),
        verdict: a.verdict.clone(),
        reasons: verdict_zh(a),
        k,
    };
    Ok(views::show(&user, &page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::views::samples;

    fn rate(label: &str, suppressed: bool, withheld: bool) -> RateView {
        RateView {
            scope: "方面",
            key: "d1".into(),
            label: label.into(),
            suppressed,
            base: Some(31),
            valid: Some(29),
            satisfied: Some(23),
            withheld: withheld.then(|| "样例不公布原因".into()),
            rate: Some("79.3%".into()),
            interval: Some("61.6% – 90.2%".into()),
        }
    }

    fn item16() -> Item16View {
        Item16View {
            figure: "满意率",
            respondents: 29,
            min_respondents: 30,
            frame: 812,
            rule: Some("综合满意率 87.3%，达到“较好”线 80%，未达“好”线 90%，评为较好".into()),
            needs_confirmation: true,
            r: Some("87.25".into()),
            r_interval: Some("83.10 – 91.40".into()),
            panel_ratings: 5,
            panel_recused: 1,
            panel_note: Some("样例：综合得分只按群众评价计算".into()),
            p: Some("90.00".into()),
            s: Some("88.08".into()),
            s_interval: Some("84.00 – 92.10".into()),
            no_panel: true,
            computed: Some("较好".into()),
            uncertain: true,
            insufficient: true,
            grade: Some("好"),
            overridden: true,
        }
    }

    /// A village's charts from no answers at all: each names its figures 不显示.
    fn charts() -> VillageCharts {
        let forms = crate::forms::builtin().unwrap();
        let frame = crate::db::FrameSize {
            village_id: crate::ids::VillageId(12),
            code: "V0101".into(),
            name: "样例图表村".into(),
            population: 812,
        };
        let v = crate::results::report::fold_village(&frame, &[], &forms).unwrap();
        village_charts(&v, 5, &forms.scheme, chart::question_shares)
    }

    fn publicity() -> PublicityView {
        PublicityView {
            start: "2026-10-08".into(),
            end: "2026-10-16".into(),
            published_at: "2026-10-08 09:00".into(),
            approved_at: Some("2026-10-20 10:00".into()),
            over: true,
            audit_head: Some("auditheadsample".into()),
        }
    }

    fn results_page() -> ResultsPage {
        ResultsPage {
            campaign: samples::campaign(CampaignState::Approved),
            villages: vec![
                VillageLine {
                    code: "V0101".into(),
                    name: "样例村".into(),
                    item16: item16(),
                    satisfaction: Some(rate("全部计分题", false, false)),
                    good: 12,
                    total: 16,
                    passed: false,
                    reasons: "样例不通过理由".into(),
                    graded: 15,
                    quality: crate::http::quality::sample_view(),
                },
                VillageLine {
                    code: "V0102".into(),
                    name: "样例社区".into(),
                    item16: item16(),
                    satisfaction: Some(rate("全部计分题", false, true)),
                    good: 16,
                    total: 16,
                    passed: true,
                    reasons: String::new(),
                    graded: 16,
                    quality: Default::default(),
                },
            ],
            town: vec![TownLine {
                rate: rate("全镇样例方面", false, false),
                excluded: 2,
                villages: 9,
            }],
            k: 5,
            scheme: SchemeView {
                id: "scheme-sample".into(),
                version: "2026.1".into(),
                rules: vec!["样例规则。".into()],
                sample_rule: "按公式计算:误差 ±10%,置信度 95%".into(),
                min_respondents: 10,
                panel_min: 5,
                w_r: 0.7,
                w_p: 0.3,
            },
            closed: true,
            approved: true,
            withheld: true,
            town_chart: {
                let forms = crate::forms::builtin().unwrap();
                let results = crate::results::CampaignResults {
                    villages: Vec::new(),
                    k: 5,
                };
                Some(chart::town_overview(&results, &[], &forms.scheme))
            },
            publicity: Some(publicity()),
            proposed: crate::http::decisions::sample_proposed(),
            objections: vec![
                ObjectionView {
                    id: crate::ids::ObjectionId(3),
                    village: Some("V0101 样例村".into()),
                    received_on: "2026-10-09".into(),
                    summary: "样例异议内容".into(),
                    resolution: Some("样例处理结果".into()),
                    resolved_at: Some("2026-10-10 11:00".into()),
                    decision: Some("属实"),
                },
                ObjectionView {
                    id: crate::ids::ObjectionId(4),
                    village: None,
                    received_on: "2026-10-11".into(),
                    summary: "另一条异议".into(),
                    resolution: None,
                    resolved_at: None,
                    decision: None,
                },
            ],
            village_options: vec![VillageOption {
                id: crate::ids::VillageId(12),
                label: "V0101 样例村选项".into(),
            }],
            downloads: Download::ALL
                .iter()
                .map(|d| DownloadLink {
                    name: d.spec().name,
                    label: d.spec().title,
                    during_fieldwork: d.spec().during_fieldwork,
                })
                .collect(),
            today: "2026-10-21".into(),
            message: Some("样例消息"),
            error: Some("样例错误"),
            archived_at: Some("2026-10-22 08:00".into()),
            purged_at: Some("2026-10-23 08:00".into()),
        }
    }

    #[test]
    fn the_results_page_struct_renders_every_branch_of_its_template() {
        let variants: [fn(&mut ResultsPage); 4] = [
            |_| {},
            // Not published, not approved: the publicity form and the objection forms.
            |p| {
                p.publicity = None;
                p.approved = false;
                p.withheld = false;
            },
            |p| p.approved = false,
            // Archived, not purged: the purge form.
            |p| p.purged_at = None,
        ];
        for (n, change) in variants.into_iter().enumerate() {
            let mut page = results_page();
            change(&mut page);
            let html = samples::rendered(&page);
            for value in [
                "样例轮次二〇二六",
                "V0101",
                "scheme-sample",
                "全镇样例方面",
                "样例质量提示行",
                "质量提示 1 项",
                "各村（社区）综合满意率 S",
                "样例名单村",
                "样例调整理由",
            ] {
                assert!(html.contains(value), "variant {n}: {value} missing");
            }
        }
        let html = samples::rendered(&results_page());
        assert!(html.contains("auditheadsample") && html.contains("2026-10-23 08:00"));
    }

    #[test]
    fn the_own_results_page_struct_renders_its_template() {
        let page = OwnResultsPage {
            campaign: samples::campaign(CampaignState::Approved),
            village: VillageHeading {
                code: "V0101".into(),
                name: "样例村".into(),
                frame: 812,
            },
            publicity: publicity(),
            status: Some(crate::http::decisions::sample_status()),
            item16: item16(),
            recipients: vec![
                rate("群众样例方面", false, false),
                rate("被压下的方面", true, false),
                rate("不公布的方面", false, true),
            ],
            panel: vec![rate("代表样例方面", false, false)],
            charts: Some(charts()),
            items: vec![GradeLine {
                number: 1,
                title: ITEM_TITLES[0],
                grade: Some("较好"),
            }],
            verdict: Verdict {
                good: 11,
                total: 16,
                passed: false,
                reasons: vec!["样例理由".into()],
            },
            reasons: "样例理由".into(),
            k: 5,
        };
        let html = samples::rendered(&page);
        for value in [
            "样例村",
            "2026-10-16",
            "auditheadsample",
            "已批准授予称号",
            "样例文号〔2026〕1号",
            "2028-10-19",
            "群众样例方面",
            "代表样例方面",
            "样例理由",
            "样例图表村 服务对象满意率与第16项",
            "各题选项分布",
        ] {
            assert!(html.contains(value), "{value} missing");
        }
    }

    #[test]
    fn the_village_results_page_struct_renders_every_branch_of_its_template() {
        let page = || VillageResultsPage {
            quality: crate::http::quality::sample_view(),
            campaign: samples::campaign(CampaignState::Closed),
            village: VillageHeading {
                code: "V0101".into(),
                name: "样例村".into(),
                frame: 812,
            },
            item16: item16(),
            recipients: vec![
                rate("群众样例方面", false, false),
                rate("被压下的方面", true, false),
                rate("不公布的方面", false, true),
            ],
            panel: vec![rate("代表样例方面", false, false)],
            charts: Some(charts()),
            items: super::super::grade_sources::item_lines(
                &[crate::db::GradeEntry {
                    id: 1,
                    village_id: crate::ids::VillageId(1),
                    item: 1,
                    source: "final".into(),
                    grade: Some(Grade::FairlyGood),
                    note: "样例说明".into(),
                    entered_by: None,
                    entered_at: 1_760_000_000,
                }],
                Some(Grade::Good),
            ),
            sources: super::super::grade_sources::sources_view(
                &[],
                vec![crate::db::GroupReport {
                    id: 3,
                    text: "样例评估组报告".into(),
                    attachment_id: Some(crate::ids::AttachmentId(5)),
                    file_name: Some("样例报告.pdf".into()),
                    sha256: Some("ab".repeat(32)),
                    size: Some(2048),
                    entered_by: None,
                    entered_at: 1_760_000_000,
                }],
                crate::db::GradeSource::Group,
            ),
            negative: vec![SituationLine {
                number: 2,
                circled: Some("②".into()),
                text: NEGATIVE_SITUATIONS[1],
                ticked: true,
                note: "样例负面说明".into(),
                date: "2026-05-04".into(),
                outside: false,
                petitions: None,
                resolved: None,
            }],
            window_start: "2025-03-01".into(),
            creation_started_on: Some("2026-03-01".into()),
            overrides: vec![OverrideLine {
                grade: Some("一般"),
                reason: "样例调整理由".into(),
                at: "2026-10-05 10:00".into(),
            }],
            verdict: Verdict {
                good: 11,
                total: 16,
                passed: false,
                reasons: vec!["样例理由".into()],
            },
            reasons: "样例理由".into(),
            approved: true,
            frozen: true,
            withheld: true,
            k: 5,
            message: Some("样例消息"),
            error: Some("样例错误"),
        };
        for approved in [true, false] {
            let mut p = page();
            p.approved = approved;
            let html = samples::rendered(&p);
            for value in [
                "样例调整理由",
                "样例负面说明",
                "每年专题研究或部署党风廉政建设和反腐败工作不少于 4 次",
                "该项内容全面实施且富有成效",
                "样例评估组报告",
                "/group-report/3/file",
                "群众样例方面",
                "代表样例方面",
                "样例质量提示行",
                "说没参加过 1 人",
                "样例图表村 服务对象满意率与第16项",
                "各题选项分布",
            ] {
                assert!(html.contains(value), "approved {approved}: {value} missing");
            }
        }
    }

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
