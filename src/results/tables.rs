//! The commission's downloads as tables: each is a list of
//! columns, with a Chinese header for the CSV and an English key for the JSON API, and
//! rows of typed cells. The same `Table` becomes CSV (`crate::export`) or JSON, so the two
//! always say the same. Suppressed figures are empty cells with the reason in `说明`.

use crate::forms::Audience;
use crate::ids::{CampaignId, VillageId};
use crate::results::assess::{Grade, Situation, Verdict, verdict};
use crate::results::report::{CampaignResults, Comment, VillageResults};
use crate::results::tally::RateRow;
use serde::Serialize;
use std::collections::BTreeMap;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A share in [0, 1]: CSV shows a percentage with two decimals, JSON the number.
    Rate(f64),
    /// A score in [0, 100]: CSV shows two decimals, JSON the number.
    Score(f64),
    /// A number and the text a spreadsheet shows for it (the fieldwork rates: one decimal,
    /// rounded half up, docs/fieldwork.md): CSV shows the text, JSON the number.
    Shown(f64, String),
    Bool(bool),
    Empty,
}

impl Cell {
    /// A fieldwork response rate: the JSON API gets the number (`null` where the denominator
    /// is 0), the CSV the one-decimal percentage people read (`fieldwork::format_rate`).
    pub fn fieldwork_rate(rate: Option<f64>) -> Cell {
        match rate {
            Some(x) if x.is_finite() => Cell::Shown(x, crate::fieldwork::format_rate(Some(x))),
            _ => Cell::Empty,
        }
    }

    /// The text a spreadsheet shows.
    pub fn to_csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Rate(r) => format!("{:.2}%", r * 100.0),
            Cell::Score(s) => format!("{s:.2}"),
            Cell::Shown(_, text) => text.clone(),
            Cell::Bool(true) => "是".into(),
            Cell::Bool(false) => "否".into(),
            Cell::Empty => String::new(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => s.clone().into(),
            Cell::Int(n) => (*n).into(),
            Cell::Rate(x) | Cell::Score(x) | Cell::Shown(x, _) => serde_json::Number::from_f64(*x)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Cell::Bool(b) => (*b).into(),
            Cell::Empty => serde_json::Value::Null,
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
fn int(n: impl TryInto<i64>) -> Cell {
    n.try_into().map(Cell::Int).unwrap_or(Cell::Empty)
}
fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
    v.map(f).unwrap_or(Cell::Empty)
}

/// A download: columns as (JSON key, Chinese header), and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: &'static [(&'static str, &'static str)],
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The Chinese headers.
    pub fn header(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.1).collect()
    }

    /// The rows as objects keyed by the English column keys.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                let map: serde_json::Map<String, serde_json::Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|((key, _), cell)| (key.to_string(), cell.to_json()))
                    .collect();
                serde_json::Value::Object(map)
            })
            .collect();
        serde_json::Value::Array(rows)
    }
}

fn audience_zh(a: Audience) -> &'static str {
    match a {
        Audience::Recipients => "服务对象",
        Audience::Panel => "两代表一委员",
    }
}

/// `tallies`: satisfaction rates per village (and the town), questionnaire, question,
/// dimension and all scored questions, with 95% intervals.
pub fn tallies(results: &CampaignResults) -> Table {
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("village_name", "村（社区）名称"),
        ("questionnaire", "问卷"),
        ("scope", "范围"),
        ("key", "编号"),
        ("label", "题目或方面"),
        ("frame", "名单人数"),
        ("base", "答卷数"),
        ("valid", "有效回答"),
        ("satisfied", "满意"),
        ("rate", "满意率"),
        ("low", "95%区间下限"),
        ("high", "95%区间上限"),
        ("note", "说明"),
    ];
    let k = results.k;
    let mut rows = Vec::new();
    let push = |rows: &mut Vec<Vec<Cell>>,
                code: &str,
                name: &str,
                frame: Cell,
                a: Audience,
                r: &RateRow,
                note: Option<String>| {
        rows.push(vec![
            code.into(),
            name.into(),
            audience_zh(a).into(),
            r.scope.label_zh().into(),
            r.key.clone().into(),
            r.label.clone().into(),
            frame,
            opt(r.base, int),
            opt(r.valid, int),
            opt(r.satisfied, int),
            opt(r.rate, Cell::Rate),
            opt(r.interval.map(|i| i.low), Cell::Rate),
            opt(r.interval.map(|i| i.high), Cell::Rate),
            match (note, r.withheld) {
                (Some(note), _) => note.into(),
                (None, Some(why)) => why.note_zh(k).into(),
                (None, None) => Cell::Empty,
            },
        ]);
    };
    for audience in [Audience::Recipients, Audience::Panel] {
        for v in &results.villages {
            for r in v.rates(audience, k) {
                push(
                    &mut rows,
                    &v.code,
                    &v.name,
                    int(v.frame),
                    audience,
                    &r,
                    None,
                );
            }
        }
        for t in results.town_rates(audience) {
            let mut note = format!("满意率按各村名单人数加权（{}个村）", t.villages);
            if t.excluded > 0 {
                note.push_str(&format!("；不含满意率不公布的{}个村", t.excluded));
            }
            push(
                &mut rows,
                "全镇",
                "全镇",
                int(t.frame),
                audience,
                &t.rate,
                Some(note),
            );
        }
    }
    Table {
        columns: COLUMNS,
        rows,
    }
}

/// `counts`: how many chose each option, question by question.
pub fn counts(results: &CampaignResults) -> Table {
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("village_name", "村（社区）名称"),
        ("questionnaire", "问卷"),
        ("question", "题目编号"),
        ("question_text", "题目"),
        ("option", "选项"),
        ("count", "人数"),
        ("note", "说明"),
    ];
    let mut rows = Vec::new();
    for audience in [Audience::Recipients, Audience::Panel] {
        for v in &results.villages {
            for c in v.tally(audience).counts(results.k) {
                rows.push(vec![
                    v.code.clone().into(),
                    v.name.clone().into(),
                    audience_zh(audience).into(),
                    c.question.into(),
                    c.text.into(),
                    c.option.into(),
                    opt(c.count, int),
                    opt(c.withheld, |why| why.note_zh(results.k).into()),
                ]);
            }
        }
    }
    Table {
        columns: COLUMNS,
        rows,
    }
}

/// One override of item 16 in force, or withdrawn (`grade` None).
#[derive(Debug, Clone, Serialize)]
pub struct Override {
    pub grade: Option<Grade>,
    pub reason: String,
}

/// Everything the commission has entered for one village: grades of items 1–15 with their
/// source, the negative-list situations, item 16's override in force.
#[derive(Debug, Clone, Default)]
pub struct Entered {
    pub grades: BTreeMap<u32, (Grade, String)>,
    /// The situations that count: dated from one year before the campaign began (or undated).
    pub negative: Vec<Situation>,
    /// Ticked situations dated before that: recorded, not counted.
    pub negative_outside: Vec<Situation>,
    pub item16_override: Option<Override>,
}

/// One village's assessment.
#[derive(Debug, Clone, Serialize)]
pub struct VillageAssessment {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    /// Items 1–16; item 16 is the override in force, else the computed grade.
    pub items: Vec<Option<Grade>>,
    pub item16_computed: Option<Grade>,
    pub item16_overridden: bool,
    pub negative: Vec<Situation>,
    pub verdict: Verdict,
}

/// The seed's verdict for every village, over items 1–15 as entered and item 16.
pub fn assessments(
    results: &CampaignResults,
    entered: &BTreeMap<VillageId, Entered>,
) -> Vec<VillageAssessment> {
    let empty = Entered::default();
    results
        .villages
        .iter()
        .map(|v| assess_village(v, entered.get(&v.village_id).unwrap_or(&empty)))
        .collect()
}

fn assess_village(v: &VillageResults, e: &Entered) -> VillageAssessment {
    let computed = v.item16.grade.as_deref().and_then(Grade::parse);
    let (item16, overridden) = match &e.item16_override {
        Some(Override { grade: Some(g), .. }) => (Some(*g), true),
        _ => (computed, false),
    };
    let mut items: Vec<Option<Grade>> = (1..=15).map(|i| e.grades.get(&i).map(|g| g.0)).collect();
    // Item 15 is the negative list: once the sheet is saved (or a situation counts) it is 差
    // when a situation counts and 好 when none does, whatever was stored, so moving the
    // window takes effect without saving the sheets again.
    if e.grades.contains_key(&15) || !e.negative.is_empty() {
        items[14] = Some(crate::results::assess::item15_from_list(&e.negative));
    }
    items.push(item16);
    let numbered: Vec<(u32, Option<Grade>)> = (1u32..).zip(items.iter().copied()).collect();
    VillageAssessment {
        village_id: v.village_id,
        code: v.code.clone(),
        name: v.name.clone(),
        verdict: verdict(&numbered, &e.negative),
        items,
        item16_computed: computed,
        item16_overridden: overridden,
        negative: e.negative.clone(),
    }
}

/// `item16`: the survey item per village.
pub fn item16(
    results: &CampaignResults,
    assessed: &[VillageAssessment],
    entered: &BTreeMap<VillageId, Entered>,
) -> Table {
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("village_name", "村（社区）名称"),
        ("frame", "名单人数"),
        ("respondents", "有效被访者"),
        ("r", "群众得分R"),
        ("r_low", "R 95%下限"),
        ("r_high", "R 95%上限"),
        ("panel_ratings", "两代表一委员评价数"),
        ("p", "两代表一委员得分P"),
        ("s", "综合得分S"),
        ("s_low", "S 95%下限"),
        ("s_high", "S 95%上限"),
        ("no_panel", "无两代表一委员评价"),
        ("panel_recused", "回避的两代表一委员评价数"),
        ("panel_counted", "两代表一委员评价计入"),
        ("panel_note", "两代表一委员评价说明"),
        ("grade_computed", "计算等次"),
        ("uncertain", "等次不确定"),
        ("insufficient", "数据不足"),
        ("grade", "认定等次"),
        ("override_reason", "调整理由"),
        ("method", "计算方法"),
        ("min_respondents", "最少有效被访者"),
    ];
    let rows = results
        .villages
        .iter()
        .zip(assessed)
        .map(|(v, a)| {
            let i = &v.item16;
            let reason = entered
                .get(&v.village_id)
                .and_then(|e| e.item16_override.as_ref())
                .filter(|o| o.grade.is_some())
                .map(|o| o.reason.clone());
            vec![
                v.code.clone().into(),
                v.name.clone().into(),
                int(v.frame),
                int(i.respondents),
                opt(i.r, Cell::Score),
                opt(i.r_interval.map(|x| x.low), Cell::Score),
                opt(i.r_interval.map(|x| x.high), Cell::Score),
                int(i.panel_ratings),
                opt(i.p, Cell::Score),
                opt(i.s, Cell::Score),
                opt(i.s_interval.map(|x| x.low), Cell::Score),
                opt(i.s_interval.map(|x| x.high), Cell::Score),
                Cell::Bool(i.no_panel),
                int(i.panel_recused),
                Cell::Bool(!i.no_panel && i.panel_not_counted.is_none()),
                opt(i.panel_not_counted.map(|n| n.note_zh()), Cell::Text),
                opt(i.grade.clone(), Cell::Text),
                Cell::Bool(i.uncertain),
                Cell::Bool(i.insufficient),
                opt(a.items[15], |g| g.label().into()),
                opt(reason, Cell::Text),
                Cell::Text(i.method.figure_zh().to_string()),
                int(i.min_respondents),
            ]
        })
        .collect();
    Table {
        columns: COLUMNS,
        rows,
    }
}

/// `assessment`: items 1–16, the negative list and the verdict per village.
pub fn assessment(assessed: &[VillageAssessment]) -> Table {
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("village_name", "村（社区）名称"),
        ("item1", "第1项"),
        ("item2", "第2项"),
        ("item3", "第3项"),
        ("item4", "第4项"),
        ("item5", "第5项"),
        ("item6", "第6项"),
        ("item7", "第7项"),
        ("item8", "第8项"),
        ("item9", "第9项"),
        ("item10", "第10项"),
        ("item11", "第11项"),
        ("item12", "第12项"),
        ("item13", "第13项"),
        ("item14", "第14项"),
        ("item15", "第15项"),
        ("item16", "第16项（民意调查）"),
        ("negative", "负面清单"),
        ("good", "评为好的项数"),
        ("total", "总项数"),
        ("verdict", "结论"),
        ("reasons", "原因"),
    ];
    let rows = assessed
        .iter()
        .map(|a| {
            let mut row: Vec<Cell> = vec![a.code.clone().into(), a.name.clone().into()];
            row.extend(a.items.iter().map(|g| opt(*g, |g| g.label().into())));
            row.push(
                a.negative
                    .iter()
                    .map(|s| s.circled())
                    .collect::<String>()
                    .into(),
            );
            row.push(int(a.verdict.good));
            row.push(int(a.verdict.total));
            row.push(crate::results::assess::verdict_label(a.verdict.passed).into());
            row.push(crate::results::assess::join_reasons(&a.verdict.reasons).into());
            row
        })
        .collect();
    Table {
        columns: COLUMNS,
        rows,
    }
}

/// `comments`: free-text answers, with no identity.
pub fn comments(comments: &[Comment]) -> Table {
    const COLUMNS: &[(&str, &str)] = &[
        ("village_code", "村（社区）代码"),
        ("village_name", "村（社区）名称"),
        ("questionnaire", "问卷"),
        ("question", "题目"),
        ("text", "内容"),
    ];
    let rows = comments
        .iter()
        .map(|c| {
            vec![
                c.village_code.clone().into(),
                c.village_name.clone().into(),
                audience_zh(c.audience).into(),
                c.question.clone().into(),
                c.text.clone().into(),
            ]
        })
        .collect();
    Table {
        columns: COLUMNS,
        rows,
    }
}

/// Everything the results pages and tables are built from: the campaign's results with the
/// grades, negative list and overrides the commission entered, and each village's verdict.
pub struct Loaded {
    pub campaign: crate::db::Campaign,
    /// Fieldwork is closed: the answers are mixed and their figures may be shown. Before,
    /// every figure from the answers is withheld, so nobody can read one person's answer
    /// from the difference of two looks.
    pub survey_over: bool,
    pub forms: crate::forms::FormSet,
    pub results: CampaignResults,
    pub entered: std::collections::BTreeMap<VillageId, Entered>,
    pub assessed: Vec<VillageAssessment>,
    pub overrides: Vec<crate::db::OverrideRow>,
}

/// Why a campaign's results cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("fieldwork has not started")]
    NotStarted,
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Reads a campaign's results (withheld until fieldwork closes) and what was entered.
pub async fn load(db: &crate::db::Db, id: CampaignId) -> Result<Loaded, LoadError> {
    use crate::domain::CampaignState;
    use crate::results::assess::Situation;
    let campaign = db.campaign(id).await?;
    if campaign.fieldwork_started_at.is_none() {
        return Err(LoadError::NotStarted);
    }
    let forms = crate::fieldwork::pinned_forms(db, id).await?;
    let survey_over = matches!(
        campaign.state,
        CampaignState::Closed | CampaignState::Approved
    );
    let results = if survey_over {
        crate::results::report::campaign_results(db, id, &forms).await?
    } else {
        crate::results::report::withheld_results(db, id, &forms).await?
    };
    let mut entered: std::collections::BTreeMap<VillageId, Entered> = Default::default();
    for g in db.item_grades(id).await? {
        if let Ok(item) = u32::try_from(g.item) {
            entered
                .entry(g.village_id)
                .or_default()
                .grades
                .insert(item, (g.grade, g.source));
        }
    }
    let window = crate::results::assess::campaign_window_start(
        campaign.creation_started_on.as_deref(),
        &crate::domain::local_date(campaign.created_at),
    );
    for n in db.negative_findings(id).await? {
        if let Some(s) = u8::try_from(n.situation).ok().and_then(Situation::new) {
            let e = entered.entry(n.village_id).or_default();
            if crate::results::assess::negative_counts(n.event_date.as_deref(), &window) {
                e.negative.push(s);
            } else {
                e.negative_outside.push(s);
            }
        }
    }
    let overrides = db.overrides(id).await?;
    for o in &overrides {
        // Oldest first: the last one of a village stays in force.
        entered.entry(o.village_id).or_default().item16_override = Some(Override {
            grade: o.grade,
            reason: o.reason.clone(),
        });
    }
    let assessed = assessments(&results, &entered);
    Ok(Loaded {
        campaign,
        survey_over,
        forms,
        results,
        entered,
        assessed,
        overrides,
    })
}
