//! The report documents the commission files: a town report per campaign and a one-page
//! report per village, each as a print-ready A4 page (standalone HTML, charts inline as SVG)
//! and as a .docx that WPS or Word opens and edits (charts as PNG where `chart::png` renders
//! them, left out where it cannot). For the administrator only, and only once the survey is
//! over and the answers are mixed, like the results downloads.
//!
//! Every figure comes from the view functions of the results pages (`results::rate_view`,
//! `results::item16_view`, `quality::quality_view`, `console::progress_line`), so what a page
//! suppresses a report suppresses too. The .docx reads the same page struct the template
//! reads (through [`mirror`]), and the prose — the method, the rates explained, the
//! limitations — is written once here for both.

use super::console::{ProgressLine, progress_line};
use super::download::{Attachment, campaign_file};
use super::error::AppError;
use super::quality::{QualityView, quality_view};
use super::results::{Item16View, RateView, item16_view, rate_view, sample_rule, verdict_zh};
use super::roles::Admin;
use super::{AppState, views};
use crate::domain::{local_time, today};
use crate::forms::Audience;
use crate::ids::CampaignId;
use crate::results::assess::{ITEM_TITLES, NEGATIVE_SITUATIONS};
use crate::results::chart::{self, Svg};
use crate::results::tables::{Loaded, VillageAssessment};
use crate::results::{Scope, VillageResults};
use crate::sampling::record::DrawRecord;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The media type of a Word document.
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The response rates explained, as the progress page explains them.
const RATE_NOTES: [&str; 5] = [
    "应答率：该调查的人里，答完问卷的比例。RR1 只算答完的；RR2 把答了一部分的也算上；RR3 还估计了号码情况不明的人里有多少本该调查。",
    "合作率（COOP1）：联系上的人里，答完问卷的比例。",
    "拒访率（REF1）：该调查的人里，拒绝的比例。",
    "接触率（CON1）：该调查的人里，联系上本人的比例。",
    "以上按 AAPOR 国际标准定义计算；分母为零时留空。",
];

/// The response rates in a sentence, for the one-page village report.
const RATE_NOTE_BRIEF: &str = "应答率：该调查的人里答完问卷的比例（RR2 含答了一部分的，RR3 估计了号码情况不明的人）；合作率：联系上的人里答完的比例；拒访率：拒绝的比例；接触率：联系上本人的比例。按 AAPOR 国际标准计算，分母为零时留空。";

/// Who signs, in the signature block: the third party and the commission.
const SIGNERS: [&str; 2] = ["调查单位（第三方）", "委托单位（镇纪委）"];

/// The lines each signer fills in by hand.
const SIGNATURE_LINES: [&str; 3] = [
    "单位（盖章）：",
    "负责人（签字）：",
    "日期：　　　　年　　月　　日",
];

// ---------------------------------------------------------------------------------------
// What both reports are built from
// ---------------------------------------------------------------------------------------

/// A campaign's results with what the reports add to them: the quality checks, the draw
/// record, the fieldwork dates and progress, and the third party's name.
struct Sources {
    l: Loaded,
    quality:
        std::collections::BTreeMap<crate::ids::VillageId, crate::results::quality::VillageQuality>,
    record: Option<DrawRecord>,
    closed_at: Option<i64>,
    progress: Vec<crate::fieldwork::progress::ProgressRow>,
    progress_total: crate::fieldwork::progress::ProgressRow,
    party: String,
}

async fn sources(state: &AppState, id: CampaignId) -> Result<Sources, AppError> {
    let l = super::results::load(state, id).await?;
    if !l.survey_over {
        return Err(AppError::bad(
            format!("campaign {id}: reports are withheld until fieldwork closes"),
            "调查还在进行。为保护答卷人，报告要等调查结束、答卷混合后才能生成。",
        ));
    }
    let quality = super::quality::campaign_quality(state, &l).await?;
    let record = match state.db.draw_record(id).await? {
        Some((json, _)) => Some(
            serde_json::from_str::<DrawRecord>(&json)
                .map_err(|e| anyhow::anyhow!("campaign {id}: stored draw record: {e}"))?,
        ),
        None => None,
    };
    let closed_at = state.db.fieldwork_closed_at(id).await?;
    let (progress, progress_total) = super::console::progress_rows(&state.db, id).await?;
    let party = state.db.notice(id).await?.party.trim().to_string();
    Ok(Sources {
        l,
        quality,
        record,
        closed_at,
        progress,
        progress_total,
        party,
    })
}

/// The title block.
#[derive(Serialize, Deserialize)]
struct Heading {
    title: String,
    campaign: String,
    /// Who commissioned, who surveyed, when issued.
    issuer: String,
    /// Invented data (`minyi demo`): marked on the document.
    demo: bool,
}

fn heading(s: &Sources, title: String) -> Heading {
    let c = &s.l.campaign;
    let party = if s.party.is_empty() {
        "（第三方调查机构）"
    } else {
        s.party.as_str()
    };
    Heading {
        title,
        campaign: c.name.clone(),
        issuer: format!(
            "委托单位：{}纪委　调查单位：{party}　出具日期：{}",
            c.town.trim(),
            today()
        ),
        demo: c.demo,
    }
}

/// One village's line of the sample frame.
#[derive(Serialize, Deserialize)]
struct FrameLine {
    code: String,
    name: String,
    population: u64,
    size: u64,
    fingerprint: String,
}

/// How the sample was drawn and the survey run.
#[derive(Serialize, Deserialize)]
struct Method {
    /// Sentences: the frame, the rule, the draw and how to check it, the fieldwork dates.
    lines: Vec<String>,
    frames: Vec<FrameLine>,
    total_population: u64,
    total_size: u64,
    seed: Option<String>,
    frame_fingerprint: Option<String>,
}

/// The method; `only` narrows the frame to one village (the village report).
fn method(s: &Sources, only: Option<&str>) -> Method {
    let c = &s.l.campaign;
    let name_of = |code: &str| {
        s.l.results
            .villages
            .iter()
            .find(|v| v.code == code)
            .map(|v| v.name.clone())
            .unwrap_or_default()
    };
    let frames: Vec<FrameLine> = s
        .record
        .iter()
        .flat_map(|r| r.villages.iter())
        .filter(|v| only.is_none_or(|code| v.code == code))
        .map(|v| FrameLine {
            code: v.code.clone(),
            name: name_of(&v.code),
            population: v.population,
            size: v.size,
            fingerprint: v.fingerprint.clone(),
        })
        .collect();
    let total_population = frames.iter().map(|f| f.population).sum();
    let total_size = frames.iter().map(|f| f.size).sum();
    let rule = match &s.record {
        Some(r) => super::draw::describe_rule(&r.parameters),
        None => sample_rule(c),
    };
    let frozen = c.frozen_at.map(local_time).unwrap_or_default();
    let mut lines = Vec::new();
    lines.push(match only {
        None => format!(
            "抽样框：各村（社区）报送的本年度服务对象名单，于 {frozen} 冻结并计算了指纹（SHA-256），共 {} 个村（社区）、{total_population} 人。",
            frames.len()
        ),
        Some(_) => format!(
            "抽样框：本村（社区）报送的本年度服务对象名单，共 {total_population} 人，于 {frozen} 冻结并计算了指纹（SHA-256）。"
        ),
    });
    lines.push(format!(
        "样本量：{rule}；{}抽取 {total_size} 人。每个村（社区）单独把名单随机排序，按顺序调查，联系不上或拒访的按规则由排在后面的人递补。",
        if only.is_some() { "本村（社区）" } else { "全镇共" }
    ));
    match &s.record {
        Some(r) => {
            let committed = match &r.seed_commitment {
                Some(h) => format!(
                    "抽样前已公布种子的承诺值 {h}，抽样后公开种子，可核对种子没有事后更换；"
                ),
                None => String::new(),
            };
            lines.push(format!(
                "随机抽样：算法 {}，随机种子“{}”；{committed}总名单指纹 {}。任何人拿到冻结的名单和种子，都能重新算出同样的抽样结果并核对指纹。",
                r.algorithm, r.seed, r.frame_fingerprint
            ));
        }
        None => lines.push("随机抽样：没有找到抽样记录。".into()),
    }
    let opened = c.fieldwork_started_at.map(local_time).unwrap_or_default();
    let closed = s.closed_at.map(local_time).unwrap_or_else(|| "—".into());
    lines.push(format!(
        "调查时间：{opened} 开始，{closed} 结束；方式为电话访问和短信链接问卷，访问员和答卷人都看不到别人的回答。"
    ));
    Method {
        lines,
        frames,
        total_population,
        total_size,
        seed: s.record.as_ref().map(|r| r.seed.clone()),
        frame_fingerprint: s.record.as_ref().map(|r| r.frame_fingerprint.clone()),
    }
}

/// The limitations, a sentence each, with the campaign's own numbers.
fn limitations(l: &Loaded) -> Vec<String> {
    let scheme = &l.forms.scheme;
    vec![
        "抽样误差：调查只问了抽中的一部分服务对象，换一批人结果会略有不同。95%区间的意思是：按同样的方法反复抽样，大约95%的区间会包含全体服务对象的真实数值；区间越宽，结果越不确定。区间跨过等次线时，等次标为“不确定”，由领导小组确认。".into(),
        "无应答：没有联系上或不愿回答的人，看法可能与回答的人不同；应答率越低，这种偏差可能越大。各村（社区）的应答率见“回答率”一节。".into(),
        format!("小样本不显示：为保护答卷人，答卷少于 {} 份的数字一律不显示，也不计入全镇合计；有效被访者少于规定人数的村（社区）标为“数据不足”，不计算等次。", l.results.k),
        "覆盖范围：调查只通过电话和短信链接进行，只能覆盖村（社区）报送的名单上留有电话号码的服务对象；名单漏报的人、号码错误或停机的人调查不到。".into(),
        format!("两代表一委员评价：党代表、人大代表、政协委员等按自己的了解为各村（社区）打分，反映的是他们的看法，不是随机抽样，不计算区间；在本村居住或任职的评价人回避；有效评价少于 {} 份时不计入综合得分。", scheme.panel_min),
        "第1—15项的等次由镇纪委和实地考核组评定后录入，本报告照录；第16项由本次调查计算，领导小组调整过的注明“已调整”。".into(),
    ]
}

/// The limitations in one paragraph, for the one-page village report.
fn limitations_brief(l: &Loaded) -> String {
    format!(
        "95%区间：按同样的方法反复抽样，大约95%的区间会包含全体服务对象的真实数值，区间越宽越不确定。没有联系上或不愿回答的人看法可能不同，应答率越低，偏差可能越大。答卷少于 {} 份的数字不显示。调查只覆盖名单上留有电话号码的服务对象。两代表一委员评价反映的是代表委员的看法，不是随机抽样；有效评价少于 {} 份时不计入综合得分。第1—15项等次照录镇纪委和实地考核组的评定。",
        l.results.k, l.forms.scheme.panel_min
    )
}

/// A village's recipients' rates by dimension and over all scored questions (the per-question
/// rates stay on the results pages and in the downloads).
fn dimension_rates(v: &VillageResults, k: u64) -> Vec<RateView> {
    v.rates(Audience::Recipients, k)
        .iter()
        .filter(|r| r.scope != Scope::Question)
        .map(|r| rate_view(r, k))
        .collect()
}

/// A village's verdict on items 1–16.
#[derive(Serialize, Deserialize)]
struct VerdictLine {
    good: u32,
    total: u32,
    passed: bool,
    /// Why not, in sentences (empty when passed).
    reasons: String,
    /// The negative-list situations found, e.g. `③ 有……的`.
    negative: Vec<String>,
}

fn verdict_line(a: &VillageAssessment) -> VerdictLine {
    VerdictLine {
        good: a.verdict.good,
        total: a.verdict.total,
        passed: a.verdict.passed,
        reasons: verdict_zh(a),
        negative: a
            .negative
            .iter()
            .map(|s| {
                let text = NEGATIVE_SITUATIONS
                    .get(usize::from(s.number()).wrapping_sub(1))
                    .copied()
                    .unwrap_or("");
                format!("{} {text}", s.circled())
            })
            .collect(),
    }
}

/// One of items 1–16 with the grade in force.
#[derive(Serialize, Deserialize)]
struct GradeCell {
    number: usize,
    title: String,
    grade: Option<String>,
}

fn grade_cells(a: &VillageAssessment) -> Vec<GradeCell> {
    a.items
        .iter()
        .zip(ITEM_TITLES)
        .enumerate()
        .map(|(i, (g, title))| GradeCell {
            number: i + 1,
            title: title.to_string(),
            grade: g.map(|g| g.label().to_string()),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The town report
// ---------------------------------------------------------------------------------------

/// `report_town.html`: the campaign's report.
#[derive(Serialize)]
pub(super) struct TownReport {
    campaign_id: CampaignId,
    heading: Heading,
    method: Method,
    rates: Vec<ProgressLine>,
    rates_total: ProgressLine,
    rate_notes: [&'static str; 5],
    /// The scheme, named, and its rules in sentences.
    scheme: String,
    rules: Vec<String>,
    overview: Svg,
    villages: Vec<VillageSummary>,
    /// The columns of the villages' rate table: the dimensions and all scored questions.
    dimensions: Vec<String>,
    town: Vec<TownRate>,
    k: u64,
    limitations: Vec<String>,
    signers: [&'static str; 2],
    signature_lines: [&'static str; 3],
}

impl views::Page for TownReport {
    const TEMPLATE: &'static str = "report_town.html";
}

/// One village in the town report.
#[derive(Serialize)]
pub(super) struct VillageSummary {
    code: String,
    name: String,
    item16: Item16View,
    /// By dimension, then over all scored questions, in [`TownReport::dimensions`] order.
    rates: Vec<RateView>,
    verdict: VerdictLine,
    quality: QualityView,
}

/// A town-wide rate, weighted by the villages' frames.
#[derive(Serialize)]
pub(super) struct TownRate {
    #[serde(flatten)]
    rate: RateView,
    villages: u64,
    excluded: u64,
}

fn town_report(s: &Sources) -> TownReport {
    let l = &s.l;
    let k = l.results.k;
    let scheme = &l.forms.scheme;
    let villages: Vec<VillageSummary> = l
        .results
        .villages
        .iter()
        .zip(&l.assessed)
        .map(|(v, a)| VillageSummary {
            code: v.code.clone(),
            name: v.name.clone(),
            item16: item16_view(v, a, scheme),
            rates: dimension_rates(v, k),
            verdict: verdict_line(a),
            quality: quality_view(s.quality.get(&v.village_id)),
        })
        .collect();
    let dimensions = l
        .results
        .villages
        .first()
        .map(|v| {
            v.rates(Audience::Recipients, k)
                .iter()
                .filter(|r| r.scope != Scope::Question)
                .map(|r| r.label.clone())
                .collect()
        })
        .unwrap_or_default();
    let town = l
        .results
        .town_rates(Audience::Recipients)
        .iter()
        .filter(|t| t.rate.scope != Scope::Question)
        .map(|t| TownRate {
            rate: rate_view(&t.rate, k),
            villages: t.villages,
            excluded: t.excluded,
        })
        .collect();
    TownReport {
        campaign_id: l.campaign.id,
        heading: heading(s, format!("{} 民意调查报告", l.campaign.name.trim())),
        method: method(s, None),
        rates: s.progress.iter().map(progress_line).collect(),
        rates_total: progress_line(&s.progress_total),
        rate_notes: RATE_NOTES,
        scheme: format!("{} {}", scheme.id, scheme.version),
        rules: crate::results::item16::scheme_rules_zh(scheme, &l.forms.recipients),
        overview: chart::town_overview(&l.results, &l.assessed, scheme),
        villages,
        dimensions,
        town,
        k,
        limitations: limitations(l),
        signers: SIGNERS,
        signature_lines: SIGNATURE_LINES,
    }
}

pub(super) async fn show_town_report(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<CampaignId>,
) -> Result<Html<String>, AppError> {
    let s = sources(&state, id).await?;
    Ok(views::show_public(&town_report(&s)))
}

pub(super) async fn download_town_report(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<CampaignId>,
) -> Result<Response, AppError> {
    let s = sources(&state, id).await?;
    let report = town_report(&s);
    // Rendering the charts (and loading the fonts the first time) is CPU work: off the
    // async workers.
    let bytes = tokio::task::spawn_blocking(move || town_docx(&report))
        .await
        .map_err(|e| anyhow::anyhow!("town report: {e}"))??;
    let name = campaign_file(&s.l.campaign.name, "民意调查报告.docx");
    Ok(Attachment::new(DOCX, &name, bytes).into_response())
}

// ---------------------------------------------------------------------------------------
// The village report
// ---------------------------------------------------------------------------------------

/// `report_village.html`: one village on one A4 page.
#[derive(Serialize)]
pub(super) struct VillageReport {
    campaign_id: CampaignId,
    heading: Heading,
    code: String,
    name: String,
    method: Method,
    /// The village's line of the progress table (none if it has no cases).
    rates: Option<ProgressLine>,
    rate_note: &'static str,
    item16: Item16View,
    recipients: Vec<RateView>,
    chart: Svg,
    items: Vec<GradeCell>,
    verdict: VerdictLine,
    quality: QualityView,
    k: u64,
    limitations: String,
    signers: [&'static str; 2],
    signature_lines: [&'static str; 3],
}

impl views::Page for VillageReport {
    const TEMPLATE: &'static str = "report_village.html";
}

fn village_report(s: &Sources, code: &str) -> Result<VillageReport, AppError> {
    let l = &s.l;
    let k = l.results.k;
    let (pos, v) = l
        .results
        .villages
        .iter()
        .enumerate()
        .find(|(_, v)| v.code == code)
        .ok_or(AppError::NotFound)?;
    let a = l.assessed.get(pos).ok_or(AppError::NotFound)?;
    let scheme = &l.forms.scheme;
    Ok(VillageReport {
        campaign_id: l.campaign.id,
        heading: heading(
            s,
            format!("{} {} 民意调查报告", v.code.trim(), v.name.trim()),
        ),
        code: v.code.clone(),
        name: v.name.clone(),
        method: method(s, Some(code)),
        rates: s
            .progress
            .iter()
            .find(|r| r.code == code)
            .map(progress_line),
        rate_note: RATE_NOTE_BRIEF,
        item16: item16_view(v, a, scheme),
        recipients: dimension_rates(v, k),
        chart: chart::village_dimensions(v, k, scheme),
        items: grade_cells(a),
        verdict: verdict_line(a),
        quality: quality_view(s.quality.get(&v.village_id)),
        k,
        limitations: limitations_brief(l),
        signers: SIGNERS,
        signature_lines: SIGNATURE_LINES,
    })
}

pub(super) async fn show_village_report(
    State(state): State<AppState>,
    _: Admin,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Html<String>, AppError> {
    let s = sources(&state, id).await?;
    Ok(views::show_public(&village_report(&s, &code)?))
}

pub(super) async fn download_village_report(
    State(state): State<AppState>,
    _: Admin,
    Path((id, code)): Path<(CampaignId, String)>,
) -> Result<Response, AppError> {
    let s = sources(&state, id).await?;
    let report = village_report(&s, &code)?;
    let name = campaign_file(
        &s.l.campaign.name,
        &format!("{}{}民意调查报告.docx", report.code, report.name),
    );
    let bytes = tokio::task::spawn_blocking(move || village_docx(&report))
        .await
        .map_err(|e| anyhow::anyhow!("village report: {e}"))??;
    Ok(Attachment::new(DOCX, &name, bytes).into_response())
}

// ---------------------------------------------------------------------------------------
// The .docx: the page structs read back through their serialised form
// ---------------------------------------------------------------------------------------

/// A view as the .docx reads it: serialised as for the template, read back into a struct of
/// the fields the document uses (the views' own fields stay private to their modules).
fn mirror<T: DeserializeOwned>(view: &impl Serialize) -> Result<T, AppError> {
    let value = serde_json::to_value(view).map_err(|e| anyhow::anyhow!("report view: {e}"))?;
    Ok(serde_json::from_value(value).map_err(|e| anyhow::anyhow!("report view: {e}"))?)
}

/// [`RateView`] as the .docx reads it.
#[derive(Deserialize)]
struct RateFig {
    label: String,
    suppressed: bool,
    base: Option<u64>,
    withheld: Option<String>,
    rate: Option<String>,
    interval: Option<String>,
}

/// The cell text the rates table shows: the rate and its interval, or why not.
fn rate_text(r: &RateFig, k: u64) -> String {
    if r.suppressed {
        return format!("答卷少于 {k} 份，不显示");
    }
    if let Some(why) = &r.withheld {
        return why.clone();
    }
    match (&r.rate, &r.interval) {
        (Some(rate), Some(i)) => format!("{rate}（{i}）"),
        (Some(rate), None) => rate.clone(),
        _ => "—".into(),
    }
}

/// [`Item16View`] as the .docx reads it.
#[derive(Deserialize)]
struct Item16Fig {
    figure: String,
    respondents: u64,
    min_respondents: u64,
    frame: u64,
    rule: Option<String>,
    r: Option<String>,
    r_interval: Option<String>,
    panel_ratings: u64,
    panel_note: Option<String>,
    p: Option<String>,
    s: Option<String>,
    s_interval: Option<String>,
    computed: Option<String>,
    uncertain: bool,
    insufficient: bool,
    grade: Option<String>,
    overridden: bool,
}

impl Item16Fig {
    fn with_interval(x: &Option<String>, i: &Option<String>) -> String {
        match (x, i) {
            (Some(x), Some(i)) => format!("{x}（{i}）"),
            (Some(x), None) => x.clone(),
            _ => "—".into(),
        }
    }

    /// The grade in force with what qualifies it.
    fn grade_text(&self) -> String {
        let mut out = self.grade.clone().unwrap_or_else(|| "无".into());
        if self.overridden {
            out.push_str(&format!(
                "（已调整，计算为{}）",
                self.computed.as_deref().unwrap_or("无")
            ));
        }
        if self.insufficient {
            out.push_str(&format!(
                "；数据不足：有效被访者少于 {} 人",
                self.min_respondents
            ));
        }
        if self.uncertain {
            out.push_str("；不确定：区间跨过了等次线");
        }
        out
    }
}

/// [`QualityView`] as the .docx reads it.
#[derive(Deserialize)]
struct QualityFig {
    raised: usize,
    lines: Vec<FlagFig>,
    callbacks: CallbacksFig,
}

#[derive(Deserialize)]
struct FlagFig {
    text: String,
    raised: bool,
}

#[derive(Deserialize)]
struct CallbacksFig {
    sampled: u64,
    confirmed: u64,
    denied: u64,
    unreachable: u64,
}

impl QualityFig {
    fn summary(&self) -> String {
        let head = if self.raised > 0 {
            format!("质量提示 {} 项", self.raised)
        } else {
            "无质量提示".into()
        };
        format!(
            "{head}。回访：抽 {} 人，确认参加过 {} 人，说没参加过 {} 人，联系不上 {} 人。",
            self.callbacks.sampled,
            self.callbacks.confirmed,
            self.callbacks.denied,
            self.callbacks.unreachable
        )
    }

    fn raised_lines(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(|f| f.raised)
            .map(|f| f.text.as_str())
    }
}

/// [`ProgressLine`] as the .docx reads it.
#[derive(Deserialize)]
struct ProgressFig {
    code: String,
    name: String,
    target: i64,
    released: i64,
    completes: i64,
    rates: RatesFig,
}

#[derive(Deserialize)]
struct RatesFig {
    rr1: String,
    rr2: String,
    rr3: String,
    coop1: String,
    ref1: String,
    con1: String,
}

const RATE_HEADER: [&str; 10] = [
    "村（社区）",
    "目标",
    "已发放",
    "完成",
    "应答率 RR1",
    "应答率 RR2",
    "应答率 RR3",
    "合作率",
    "拒访率",
    "接触率",
];

fn rate_row(p: &ProgressFig, label: String) -> Vec<String> {
    vec![
        label,
        p.target.to_string(),
        p.released.to_string(),
        p.completes.to_string(),
        p.rates.rr1.clone(),
        p.rates.rr2.clone(),
        p.rates.rr3.clone(),
        p.rates.coop1.clone(),
        p.rates.ref1.clone(),
        p.rates.con1.clone(),
    ]
}

fn town_docx(r: &TownReport) -> Result<Vec<u8>, AppError> {
    let mut d = Doc::new();
    d.title(&r.heading);
    d.heading("一、调查方法");
    for line in &r.method.lines {
        d.para(line);
    }
    let mut frames: Vec<Vec<String>> = r
        .method
        .frames
        .iter()
        .map(|f| {
            vec![
                format!("{} {}", f.code, f.name),
                f.population.to_string(),
                f.size.to_string(),
                f.fingerprint.clone(),
            ]
        })
        .collect();
    frames.push(vec![
        "合计".into(),
        r.method.total_population.to_string(),
        r.method.total_size.to_string(),
        r.method.frame_fingerprint.clone().unwrap_or_default(),
    ]);
    d.table(
        &["村（社区）", "名单人数", "样本量", "名单指纹（SHA-256）"],
        &[2, 1, 1, 6],
        frames,
    );

    d.heading("二、回答率");
    let mut rows = Vec::new();
    for line in &r.rates {
        let p: ProgressFig = mirror(line)?;
        rows.push(rate_row(&p, format!("{} {}", p.code, p.name)));
    }
    let total: ProgressFig = mirror(&r.rates_total)?;
    rows.push(rate_row(&total, "合计".into()));
    d.table(&RATE_HEADER, &[3, 1, 1, 1, 1, 1, 1, 1, 1, 1], rows);
    for note in r.rate_notes {
        d.small(note);
    }

    d.heading("三、调查结果");
    d.para(&format!("评分方案 {}：", r.scheme));
    for rule in &r.rules {
        d.small(rule);
    }
    d.image(&r.overview);
    let mut item16_rows = Vec::new();
    let mut rate_rows = Vec::new();
    let mut verdict_rows = Vec::new();
    let mut quality_lines = Vec::new();
    let mut figure = String::from("满意率");
    for v in &r.villages {
        let i: Item16Fig = mirror(&v.item16)?;
        let label = format!("{} {}", v.code, v.name);
        figure = i.figure.clone();
        item16_rows.push(vec![
            label.clone(),
            format!("{}/{}", i.respondents, i.frame),
            Item16Fig::with_interval(&i.r, &i.r_interval),
            i.p.clone().unwrap_or_else(|| "—".into()),
            Item16Fig::with_interval(&i.s, &i.s_interval),
            i.grade_text(),
        ]);
        let rates: Vec<RateFig> = mirror(&v.rates)?;
        let mut row = vec![label.clone()];
        row.extend(rates.iter().map(|x| rate_text(x, r.k)));
        rate_rows.push(row);
        verdict_rows.push(vec![
            label.clone(),
            i.grade.clone().unwrap_or_else(|| "无".into()),
            format!("{}/{}", v.verdict.good, v.verdict.total),
            verdict_text(&v.verdict),
        ]);
        let q: QualityFig = mirror(&v.quality)?;
        quality_lines.push(format!("{label}：{}", q.summary()));
        for line in q.raised_lines() {
            quality_lines.push(format!("　提示：{line}"));
        }
    }
    d.table(
        &[
            "村（社区）",
            "有效被访者/名单",
            &format!("群众{figure} R（95%区间）"),
            "两代表一委员 P",
            &format!("综合{figure} S（95%区间）"),
            "第16项等次",
        ],
        &[2, 1, 2, 1, 2, 3],
        item16_rows,
    );
    if !r.dimensions.is_empty() {
        let mut header = vec!["村（社区）"];
        header.extend(r.dimensions.iter().map(String::as_str));
        let mut widths = vec![2];
        widths.extend(r.dimensions.iter().map(|_| 2));
        d.para("各村（社区）服务对象满意率（按方面，括号内为95%区间）：");
        d.table(&header, &widths, rate_rows);
    }
    let mut town_rows = Vec::new();
    for t in &r.town {
        let rate: RateFig = mirror(&t.rate)?;
        let mut covered = format!("{} 个", t.villages);
        if t.excluded > 0 {
            covered.push_str(&format!("（另有 {} 个不公布，未计入）", t.excluded));
        }
        town_rows.push(vec![rate.label.clone(), covered, rate_text(&rate, r.k)]);
    }
    d.para("全镇满意率（按各村名单人数加权）：");
    d.table(
        &["方面", "村（社区）数", "满意率（95%区间）"],
        &[2, 2, 3],
        town_rows,
    );

    d.heading("四、第16项等次与16项综合结论");
    d.table(
        &["村（社区）", "第16项", "“好”的项数", "结论"],
        &[2, 1, 1, 5],
        verdict_rows,
    );

    d.heading("五、质量检查与回访");
    for line in &quality_lines {
        d.para(line);
    }

    d.heading("六、局限与说明");
    for (n, line) in r.limitations.iter().enumerate() {
        d.para(&format!("{}. {line}", n + 1));
    }
    d.signature();
    d.finish()
}

fn verdict_text(v: &VerdictLine) -> String {
    let mut out = if v.passed {
        "通过".to_string()
    } else {
        format!("不通过：{}", v.reasons)
    };
    if !v.negative.is_empty() {
        out.push_str(&format!("。负面清单：{}", v.negative.join("；")));
    }
    out
}

fn village_docx(r: &VillageReport) -> Result<Vec<u8>, AppError> {
    let mut d = Doc::new();
    d.title(&r.heading);
    d.heading("一、调查方法");
    let mut method = r.method.lines.concat();
    if let Some(f) = r.method.frames.first() {
        method.push_str(&format!(
            "本村（社区）名单指纹（SHA-256）：{}。",
            f.fingerprint
        ));
    }
    d.small(&method);

    d.heading("二、回答率");
    if let Some(line) = &r.rates {
        let p: ProgressFig = mirror(line)?;
        d.table(
            &RATE_HEADER,
            &[3, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            vec![rate_row(&p, format!("{} {}", p.code, p.name))],
        );
    }
    d.small(r.rate_note);

    d.heading("三、调查结果");
    let i: Item16Fig = mirror(&r.item16)?;
    d.image(&r.chart);
    let mut rows = vec![
        vec![
            "有效被访者".into(),
            format!("{} 人（名单 {} 人）", i.respondents, i.frame),
        ],
        vec![
            format!("群众{} R（95%区间）", i.figure),
            Item16Fig::with_interval(&i.r, &i.r_interval),
        ],
        vec![
            format!("两代表一委员{} P", i.figure),
            format!(
                "{}（有效评价 {} 份）",
                i.p.clone().unwrap_or_else(|| "—".into()),
                i.panel_ratings
            ),
        ],
        vec![
            format!("综合{} S（95%区间）", i.figure),
            Item16Fig::with_interval(&i.s, &i.s_interval),
        ],
        vec!["第16项等次".into(), i.grade_text()],
    ];
    let rates: Vec<RateFig> = mirror(&r.recipients)?;
    for x in &rates {
        rows.push(vec![
            format!("满意率：{}", x.label),
            match x.base {
                Some(base) if !x.suppressed && x.withheld.is_none() => {
                    format!("{}，答卷 {base} 份", rate_text(x, r.k))
                }
                _ => rate_text(x, r.k),
            },
        ]);
    }
    d.table(&["项目", "结果"], &[2, 5], rows);
    if let Some(note) = &i.panel_note {
        d.small(note);
    }
    if let Some(rule) = &i.rule {
        d.small(&format!("{rule}。"));
    }

    d.heading("四、16项等次与结论");
    let items: Vec<Vec<String>> = r
        .items
        .chunks(4)
        .map(|four| {
            let mut row = Vec::new();
            for g in four {
                row.push(format!("{}. {}", g.number, g.title));
                row.push(g.grade.clone().unwrap_or_else(|| "未评".into()));
            }
            row.resize(8, String::new());
            row
        })
        .collect();
    d.table(
        &[
            "项目", "等次", "项目", "等次", "项目", "等次", "项目", "等次",
        ],
        &[4, 1, 4, 1, 4, 1, 4, 1],
        items,
    );
    d.para(&format!(
        "结论：{}（“好” {}/{}）",
        verdict_text(&r.verdict),
        r.verdict.good,
        r.verdict.total
    ));

    d.heading("五、质量检查与回访");
    let q: QualityFig = mirror(&r.quality)?;
    let mut quality = q.summary();
    for line in q.raised_lines() {
        quality.push_str(&format!("提示：{line}。"));
    }
    d.small(&quality);

    d.heading("六、说明");
    d.small(&r.limitations);
    d.signature();
    d.finish()
}

/// A Word document under construction: A4 with 18 mm margins, 宋体, two heading levels.
struct Doc {
    docx: docx_rs::Docx,
}

/// A4 in twentieths of a point, and the text width inside 18 mm margins.
const A4_TWIPS: (u32, u32) = (11906, 16838);
const MARGIN_TWIPS: i32 = 1020;
const TEXT_TWIPS: usize = 11906 - 2 * 1020;
/// The text width in EMU (174 mm), for images.
const TEXT_EMU: u64 = 174 * 36_000;
/// How wide charts are rendered for the document, in pixels.
const CHART_PX: u32 = 1200;

/// Text as Word may hold it: no control characters (invalid in XML 1.0).
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| crate::results::notice::fits_xml(*c))
        .collect()
}

impl Doc {
    fn new() -> Doc {
        use docx_rs::*;
        let body = RunFonts::new()
            .east_asia("宋体")
            .ascii("Times New Roman")
            .hi_ansi("Times New Roman");
        let heading = |id: &str, name: &str, size: usize, level: usize| {
            Style::new(id, StyleType::Paragraph)
                .name(name)
                .based_on("Normal")
                .next("Normal")
                .q_format(true)
                .size(size)
                .bold()
                .fonts(RunFonts::new().east_asia("黑体"))
                .outline_lvl(level)
        };
        let docx = Docx::new()
            .page_size(A4_TWIPS.0, A4_TWIPS.1)
            .page_margin(
                PageMargin::new()
                    .top(MARGIN_TWIPS)
                    .bottom(MARGIN_TWIPS)
                    .left(MARGIN_TWIPS)
                    .right(MARGIN_TWIPS),
            )
            .default_fonts(body)
            .default_size(21)
            .add_style(heading("Heading1", "heading 1", 32, 0))
            .add_style(heading("Heading2", "heading 2", 26, 1));
        Doc { docx }
    }

    fn push(&mut self, p: docx_rs::Paragraph) {
        self.docx = std::mem::take(&mut self.docx).add_paragraph(p);
    }

    fn run(text: &str) -> docx_rs::Run {
        docx_rs::Run::new().add_text(clean(text))
    }

    fn title(&mut self, h: &Heading) {
        use docx_rs::{AlignmentType, Paragraph};
        self.push(
            Paragraph::new()
                .style("Heading1")
                .align(AlignmentType::Center)
                .add_run(Self::run(&h.title)),
        );
        self.push(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Self::run(&h.campaign)),
        );
        self.push(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Self::run(&h.issuer).size(18)),
        );
        if h.demo {
            self.push(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(Self::run("演示数据：本报告的数据是编造的，不能用于考核。").bold()),
            );
        }
    }

    fn heading(&mut self, text: &str) {
        self.push(
            docx_rs::Paragraph::new()
                .style("Heading2")
                .keep_next(true)
                .add_run(Self::run(text)),
        );
    }

    fn para(&mut self, text: &str) {
        self.push(docx_rs::Paragraph::new().add_run(Self::run(text)));
    }

    fn small(&mut self, text: &str) {
        self.push(docx_rs::Paragraph::new().add_run(Self::run(text).size(18)));
    }

    /// A bordered table: a bold header row, then `rows`; column widths in proportion to
    /// `weights` across the text width.
    fn table(&mut self, header: &[&str], weights: &[usize], rows: Vec<Vec<String>>) {
        use docx_rs::*;
        let sum: usize = weights.iter().sum::<usize>().max(1);
        let widths: Vec<usize> = (0..header.len())
            .map(|i| TEXT_TWIPS * weights.get(i).copied().unwrap_or(1) / sum)
            .collect();
        let cell = |text: &str, width: usize, bold: bool| {
            let mut run = Self::run(text).size(18);
            if bold {
                run = run.bold();
            }
            TableCell::new()
                .width(width, WidthType::Dxa)
                .add_paragraph(Paragraph::new().add_run(run))
        };
        let mut table_rows = vec![TableRow::new(
            header
                .iter()
                .zip(&widths)
                .map(|(h, w)| cell(h, *w, true))
                .collect(),
        )];
        for row in rows {
            table_rows.push(TableRow::new(
                widths
                    .iter()
                    .enumerate()
                    .map(|(i, w)| cell(row.get(i).map(String::as_str).unwrap_or(""), *w, false))
                    .collect(),
            ));
        }
        let table = Table::new(table_rows)
            .set_grid(widths.clone())
            .width(widths.iter().sum(), WidthType::Dxa)
            .layout(TableLayoutType::Fixed);
        self.docx = std::mem::take(&mut self.docx).add_table(table);
        self.push(Paragraph::new());
    }

    /// The chart as a picture the width of the text, or nothing when it cannot be rendered
    /// (the HTML report carries it as SVG).
    fn image(&mut self, svg: &Svg) {
        match chart::png(svg, CHART_PX) {
            Ok(png) => self.picture(png),
            Err(e) => tracing::debug!(error = %e, "chart left out of the .docx report"),
        }
    }

    /// A PNG image the width of the text (or narrower if it is small), centred.
    fn picture(&mut self, png: Vec<u8>) {
        let Some((w, h)) = png_size(&png) else {
            tracing::warn!("chart left out of the .docx report: not a PNG image");
            return;
        };
        let width = TEXT_EMU.min(u64::from(w) * 9525);
        let height = width * u64::from(h) / u64::from(w);
        let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
            return;
        };
        let pic = docx_rs::Pic::new_with_dimensions(png, w, h).size(width, height);
        self.push(
            docx_rs::Paragraph::new()
                .align(docx_rs::AlignmentType::Center)
                .add_run(docx_rs::Run::new().add_image(pic)),
        );
    }

    /// The signature block: one column per signer, the lines to fill in by hand.
    fn signature(&mut self) {
        use docx_rs::*;
        self.heading("七、签章");
        let half = TEXT_TWIPS / 2;
        let column = |signer: &str| {
            let mut cell = TableCell::new()
                .width(half, WidthType::Dxa)
                .add_paragraph(Paragraph::new().add_run(Self::run(signer).bold()));
            for line in SIGNATURE_LINES {
                cell = cell
                    .add_paragraph(Paragraph::new())
                    .add_paragraph(Paragraph::new().add_run(Self::run(line)));
            }
            cell
        };
        let table = Table::without_borders(vec![TableRow::new(
            SIGNERS.iter().map(|s| column(s)).collect(),
        )])
        .set_grid(vec![half, half])
        .width(TEXT_TWIPS, WidthType::Dxa)
        .layout(TableLayoutType::Fixed);
        self.docx = std::mem::take(&mut self.docx).add_table(table);
    }

    fn finish(self) -> Result<Vec<u8>, AppError> {
        let mut out = std::io::Cursor::new(Vec::new());
        self.docx
            .build()
            .pack(&mut out)
            .map_err(|e| anyhow::anyhow!("writing the .docx report: {e}"))?;
        Ok(out.into_inner())
    }
}

/// Width and height of a PNG image from its header, or `None` if it is not one.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [137, 80, 78, 71, 13, 10, 26, 10];
    if png.get(..8)? != SIGNATURE || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(png.get(20..24)?.try_into().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The parts of a packed .docx and the text of its `word/document.xml`, which must parse.
    fn unpacked(bytes: Vec<u8>) -> (Vec<String>, String) {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let names: Vec<String> = zip
            .file_names()
            .map(|n| n.expect("a file name").to_string())
            .collect();
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .expect("document.xml")
            .read_to_string(&mut xml)
            .expect("UTF-8");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let text = doc
            .descendants()
            .filter(|n| n.has_tag_name("t"))
            .filter_map(|n| n.text())
            .collect();
        (names, text)
    }

    #[test]
    fn hostile_text_makes_a_well_formed_document() {
        let mut d = Doc::new();
        d.title(&Heading {
            title: "<村>&\"'\u{0}\u{1b}报告".into(),
            campaign: "轮次]]>".into(),
            issuer: "委托\r\n单位".into(),
            demo: true,
        });
        d.table(
            &["a<", "b"],
            &[1, 0],
            vec![
                vec!["x&y".into()],
                vec!["1".into(), "2".into(), "extra".into()],
            ],
        );
        d.table(&[], &[], Vec::new());
        d.signature();
        let (names, text) = unpacked(d.finish().unwrap());
        assert!(names.iter().any(|n| n == "[Content_Types].xml"));
        assert!(text.contains("<村>&\"'报告"), "{text}");
        assert!(text.contains("演示数据") && text.contains("签字"));
    }

    #[test]
    fn a_chart_image_goes_in_and_anything_else_is_left_out() {
        let png = resvg::tiny_skia::Pixmap::new(300, 100)
            .unwrap()
            .encode_png()
            .unwrap();
        assert_eq!(png_size(&png), Some((300, 100)));
        let mut d = Doc::new();
        d.picture(png);
        d.picture(b"GIF89a not a png".to_vec());
        d.picture(Vec::new());
        let (names, _) = unpacked(d.finish().unwrap());
        let media = names
            .iter()
            .filter(|n| n.starts_with("word/media/") && n.ends_with(".png"))
            .count();
        assert_eq!(media, 1, "{names:?}");
    }

    #[test]
    fn png_size_reads_the_header_and_refuses_the_rest() {
        let mut header = vec![137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13];
        header.extend_from_slice(b"IHDR");
        header.extend_from_slice(&640u32.to_be_bytes());
        header.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(png_size(&header), Some((640, 480)));
        assert_eq!(png_size(&header[..20]), None);
        let mut zero = header.clone();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(png_size(&zero), None);
        assert_eq!(png_size(b"\x89PNG"), None);
    }
}
