//! The item-16 scheme (seed item 16, part 二(一)): how answers become a score and a grade.
//! Every number of it lives in `survey-forms/scheme.toml`: the score of each option, which
//! options count as "satisfied", the weights of recipients and panel, the grade thresholds,
//! the minimum number of valid respondents for a grade, and the small-cell threshold k.
//! This module parses that file and cross-checks it against the questionnaires.

use crate::forms::error::FormError;
use crate::forms::model::{DONT_KNOW, Dimension, Form};
use crate::forms::raw::{Errors, is_id, parse_text, sha256_hex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// The seed's four grades, best first (part 二(一): 好、较好、一般、差). The scheme must list
/// exactly these, in this order; only their thresholds are the scheme's to choose.
pub const GRADE_LABELS: [&str; 4] = ["好", "较好", "一般", "差"];

/// The panel's quorum where the scheme does not set `panel_min`.
pub const DEFAULT_PANEL_MIN: u32 = 5;

/// How a village's answers become the figure its grade is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The 满意率: per dimension (满意 + 比较满意) / valid answers, the dimensions weighted
    /// equally, in percent.
    Rate,
    /// The mean option score: each respondent's mean score, averaged. The method of a
    /// scheme that names none (schemes pinned before the rate existed).
    #[default]
    Score,
}

impl Method {
    fn parse(key: &str) -> Option<Method> {
        match key {
            "rate" => Some(Method::Rate),
            "score" => Some(Method::Score),
            _ => None,
        }
    }

    /// The unit written after a line or a figure in a sentence: "%" or " 分".
    pub fn unit_zh(self) -> &'static str {
        match self {
            Method::Rate => "%",
            Method::Score => " 分",
        }
    }

    /// What the figure is called on the pages: 满意率 or 得分.
    pub fn figure_zh(self) -> &'static str {
        match self {
            Method::Rate => "满意率",
            Method::Score => "得分",
        }
    }
}

/// What follows when a village's interval reaches into another grade (不确定).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Uncertain {
    /// The 领导小组 confirms the grade (keeps it or sets another, with a reason) before
    /// publicity can start; what it confirms stands.
    Confirm,
    /// The point estimate's grade stands; the page marks it 不确定. The rule of a scheme
    /// that names none.
    #[default]
    PointEstimate,
}

impl Uncertain {
    fn parse(key: &str) -> Option<Uncertain> {
        match key {
            "confirm" => Some(Uncertain::Confirm),
            "point_estimate" => Some(Uncertain::PointEstimate),
            _ => None,
        }
    }

    /// The written consequence, in a sentence for the pages.
    pub fn rule_zh(self) -> &'static str {
        match self {
            Uncertain::Confirm => {
                "误差范围跨过等次线的村（社区），等次先按点估计暂定，须由领导小组确认（维持或调整并写明理由）后才能开始公示"
            }
            Uncertain::PointEstimate => {
                "误差范围跨过等次线的村（社区），等次按点估计确定，只标注“不确定”"
            }
        }
    }
}

/// How far the two weights may sum away from 1.
const WEIGHT_TOLERANCE: f64 = 1e-9;

/// A parsed, checked item-16 scheme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scheme {
    pub id: String,
    pub version: String,
    /// A description for people (may be empty).
    pub title: String,
    /// Lowercase hex SHA-256 of the file's exact bytes.
    pub sha256: String,
    /// The exact text of the file.
    pub source: String,
    /// Per questionnaire id: option scores and the "satisfied" options.
    pub forms: BTreeMap<String, FormScoring>,
    /// w_r in S = w_r·R + w_p·P; `weight_recipients + weight_panel` is 1 within 1e-9.
    pub weight_recipients: f64,
    /// w_p in S = w_r·R + w_p·P.
    pub weight_panel: f64,
    /// (grade label, inclusive minimum score), best first: 好, 较好, 一般, 差; strictly
    /// descending minima in 0..=100, the last one 0.
    pub thresholds: Vec<(String, f64)>,
    /// Rate or score ([`Method`]).
    pub method: Method,
    /// What an uncertain grade leads to ([`Uncertain`]).
    pub uncertain: Uncertain,
    /// Fewer valid respondents than this: no grade ("insufficient data"); see
    /// [`Scheme::min_valid`] for small villages.
    pub min_respondents: u32,
    /// Where set, a village whose frame N is small needs only this share of N (rounded
    /// up, at least k) instead of `min_respondents`.
    pub min_respondents_share: Option<f64>,
    /// Small-cell threshold: any figure from fewer than k answers is suppressed.
    pub k: u32,
    /// The panel's quorum: P enters S only with at least this many valid, unrecused panel
    /// ratings of the village (and at most half of its ratings recused); else S = R.
    pub panel_min: u32,
}

/// The scoring of one questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormScoring {
    /// Option value → score in 0..=100. Every option of every scored question has one.
    pub scores: BTreeMap<String, f64>,
    /// The option values that count as "satisfied" for the satisfaction rate.
    pub satisfied: BTreeSet<String>,
    /// The dimensions whose rates make up the rate (method `rate`), weighted equally;
    /// empty: every scored dimension of the form except `overall`.
    pub dimensions: Vec<Dimension>,
    #[serde(skip)]
    pub(crate) line: Option<usize>,
    #[serde(skip)]
    pub(crate) score_lines: BTreeMap<String, usize>,
}

/// The dimensions a rate is made of where the scheme lists none: every scored dimension of
/// `form` except `overall`, in form order.
pub fn default_rate_dimensions(form: &Form) -> Vec<Dimension> {
    let mut out = Vec::new();
    for d in form.scored_questions().filter_map(|q| q.dimension) {
        if d != Dimension::Overall && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

impl FormScoring {
    /// The score of an option value; `None` for `dont_know` and unscored values.
    pub fn score(&self, value: &str) -> Option<f64> {
        self.scores.get(value).copied()
    }

    /// The dimensions the rate is made of, in order: the listed ones, else every scored
    /// dimension of `form` except `overall`.
    pub fn rate_dimensions(&self, form: &Form) -> Vec<Dimension> {
        if self.dimensions.is_empty() {
            default_rate_dimensions(form)
        } else {
            self.dimensions.clone()
        }
    }

    /// Whether an option value counts as satisfied.
    pub fn is_satisfied(&self, value: &str) -> bool {
        self.satisfied.contains(value)
    }
}

impl Scheme {
    /// The scoring of a questionnaire by its id.
    pub fn scoring(&self, form_id: &str) -> Option<&FormScoring> {
        self.forms.get(form_id)
    }

    /// The fewest valid respondents a village of `frame` people needs for a grade:
    /// `min_respondents`, or for a small village `min_respondents_share` of N rounded up
    /// (never below k) where that is fewer.
    pub fn min_valid(&self, frame: u64) -> u64 {
        let min = u64::from(self.min_respondents);
        match self.min_respondents_share {
            Some(share) if share > 0.0 => {
                // N ≤ 2^53 in practice; the share is a decimal in (0, 1].
                let part = (share * frame as f64 - 1e-9).ceil().max(0.0) as u64;
                min.min(part.max(u64::from(self.k)))
            }
            _ => min,
        }
    }

    /// The grade of a score: the first threshold (best first) whose minimum it reaches
    /// (inclusive). `None` only for NaN or a score below every minimum.
    pub fn grade(&self, score: f64) -> Option<&str> {
        self.thresholds
            .iter()
            .find(|(_, min)| score >= *min)
            .map(|(label, _)| label.as_str())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheme {
    kind: Spanned<String>,
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    weights: Spanned<RawWeights>,
    #[serde(rename = "grade")]
    grades: Vec<Spanned<RawGrade>>,
    #[serde(default)]
    method: Option<Spanned<String>>,
    #[serde(default)]
    uncertain: Option<Spanned<String>>,
    min_respondents: Spanned<i64>,
    #[serde(default)]
    min_respondents_share: Option<Spanned<f64>>,
    k: Spanned<i64>,
    #[serde(default)]
    panel_min: Option<Spanned<i64>>,
    forms: BTreeMap<Spanned<String>, Spanned<RawFormScoring>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    recipients: Spanned<f64>,
    panel: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    label: Spanned<String>,
    min: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormScoring {
    scores: Spanned<BTreeMap<Spanned<String>, Spanned<f64>>>,
    satisfied: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    dimensions: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Parses and checks the scheme file on its own (see [`crate::forms::load_dir`] for the
/// checks against the questionnaires).
pub fn parse_scheme(file_name: &str, source: &str) -> Result<Scheme, Vec<FormError>> {
    let text = parse_text(source);
    let raw: RawScheme =
        toml::from_str(text).map_err(|e| vec![FormError::from_toml(file_name, text, &e)])?;
    let mut errs = Errors::new(file_name, text);
    errs.header("scheme", &raw.kind, &raw.id, &raw.version);

    // Weights.
    let w = raw.weights.get_ref();
    for (name, weight) in [("recipients", &w.recipients), ("panel", &w.panel)] {
        let v = *weight.get_ref();
        if !(0.0..=1.0).contains(&v) {
            errs.at_spanned(
                weight,
                format!("weights.{name} is {v}, must be between 0 and 1"),
            );
        }
    }
    let sum = *w.recipients.get_ref() + *w.panel.get_ref();
    if (sum - 1.0).abs() > WEIGHT_TOLERANCE {
        errs.at_spanned(
            &w.recipients,
            format!(
                "weights.recipients + weights.panel = {}, must be 1",
                round6(sum)
            ),
        );
    }

    // Grades: the seed's four, best first, strictly descending minima, the last at 0.
    let labels: Vec<&str> = raw
        .grades
        .iter()
        .map(|g| g.get_ref().label.get_ref().as_str())
        .collect();
    if labels != GRADE_LABELS {
        let msg = format!(
            "the [[grade]] labels are [{}], must be exactly 好, 较好, 一般, 差 in this order (seed part 二(一))",
            labels.join(", ")
        );
        match raw.grades.first() {
            Some(first) => errs.at_spanned(first, msg),
            None => errs.nowhere(msg),
        }
    }
    let mut previous: Option<f64> = None;
    for grade in &raw.grades {
        let g = grade.get_ref();
        let min = *g.min.get_ref();
        if !(0.0..=100.0).contains(&min) {
            errs.at_spanned(
                &g.min,
                format!(
                    "grade {}: min is {min}, must be between 0 and 100",
                    g.label.get_ref()
                ),
            );
        } else if let Some(prev) = previous.filter(|&prev| min >= prev) {
            errs.at_spanned(
                &g.min,
                format!(
                    "grade {}: min {min} is not below the previous grade's min {prev}; thresholds must descend",
                    g.label.get_ref()
                ),
            );
        }
        previous = Some(min);
    }
    if let Some(last) = raw.grades.last() {
        let min = *last.get_ref().min.get_ref();
        if min != 0.0 {
            errs.at_spanned(
                &last.get_ref().min,
                format!(
                    "the last grade's min is {min}, must be 0 so that every score gets a grade"
                ),
            );
        }
    }

    let method = match &raw.method {
        None => Method::default(),
        Some(m) => Method::parse(m.get_ref()).unwrap_or_else(|| {
            errs.at_spanned(
                m,
                format!("method is {:?}, must be \"rate\" or \"score\"", m.get_ref()),
            );
            Method::default()
        }),
    };
    let uncertain = match &raw.uncertain {
        None => Uncertain::default(),
        Some(u) => Uncertain::parse(u.get_ref()).unwrap_or_else(|| {
            errs.at_spanned(
                u,
                format!(
                    "uncertain is {:?}, must be \"confirm\" or \"point_estimate\"",
                    u.get_ref()
                ),
            );
            Uncertain::default()
        }),
    };
    let min_respondents_share = raw.min_respondents_share.as_ref().map(|v| {
        let share = *v.get_ref();
        if !(share > 0.0 && share <= 1.0) {
            errs.at_spanned(
                v,
                format!("min_respondents_share is {share}, must be more than 0 and at most 1"),
            );
        }
        share
    });
    let min_respondents = positive_u32(&mut errs, "min_respondents", &raw.min_respondents);
    let k = positive_u32(&mut errs, "k", &raw.k);
    let panel_min = raw.panel_min.as_ref().map_or(DEFAULT_PANEL_MIN, |v| {
        positive_u32(&mut errs, "panel_min", v)
    });
    // A grade must never rest on figures that are themselves suppressed.
    if k > 0 && min_respondents > 0 && min_respondents < k {
        errs.at_spanned(
            &raw.min_respondents,
            format!("min_respondents is {min_respondents}, must be at least k ({k}): a grade must not rest on suppressed figures"),
        );
    }

    // Per-form scoring.
    if raw.forms.is_empty() {
        errs.nowhere("no [forms.<questionnaire id>] table");
    }
    let mut forms = BTreeMap::new();
    for (form_id, scoring) in &raw.forms {
        let fid = form_id.get_ref();
        if !is_id(fid) {
            errs.at_spanned(
                form_id,
                format!("forms.{fid}: {fid:?} is not a questionnaire id (a-z, 0-9, _)"),
            );
        }
        let s = scoring.get_ref();
        let mut scores = BTreeMap::new();
        let mut score_lines = BTreeMap::new();
        if s.scores.get_ref().is_empty() {
            errs.at_spanned(&s.scores, format!("forms.{fid}.scores is empty"));
        }
        for (value, score) in s.scores.get_ref() {
            let v = value.get_ref();
            let points = *score.get_ref();
            if v == DONT_KNOW {
                errs.at_spanned(
                    value,
                    format!("forms.{fid}.scores: \"{DONT_KNOW}\" never scores; remove it"),
                );
            }
            if !(0.0..=100.0).contains(&points) {
                errs.at_spanned(
                    score,
                    format!("forms.{fid}.scores: {v:?} = {points}, must be between 0 and 100"),
                );
            }
            score_lines.insert(v.clone(), errs.line(&value.span()));
            scores.insert(v.clone(), points);
        }
        let mut satisfied = BTreeSet::new();
        if s.satisfied.get_ref().is_empty() {
            errs.at_spanned(&s.satisfied, format!("forms.{fid}.satisfied is empty"));
        }
        for value in s.satisfied.get_ref() {
            let v = value.get_ref();
            if !scores.contains_key(v) {
                errs.at_spanned(
                    value,
                    format!("forms.{fid}.satisfied: {v:?} has no score in forms.{fid}.scores"),
                );
            }
            if !satisfied.insert(v.clone()) {
                errs.at_spanned(value, format!("forms.{fid}.satisfied: {v:?} appears twice"));
            }
        }
        let mut dimensions = Vec::new();
        for key in s.dimensions.iter().flat_map(|d| d.get_ref()) {
            match Dimension::from_key(key.get_ref()) {
                Some(d) if dimensions.contains(&d) => errs.at_spanned(
                    key,
                    format!("forms.{fid}.dimensions: {:?} appears twice", key.get_ref()),
                ),
                Some(d) => dimensions.push(d),
                None => errs.at_spanned(
                    key,
                    format!(
                        "forms.{fid}.dimensions: {:?} is not a dimension",
                        key.get_ref()
                    ),
                ),
            }
        }
        if let Some(list) = s.dimensions.as_ref().filter(|d| d.get_ref().is_empty()) {
            errs.at_spanned(
                list,
                format!("forms.{fid}.dimensions is empty; leave it out to use every dimension"),
            );
        }
        forms.insert(
            fid.clone(),
            FormScoring {
                scores,
                satisfied,
                dimensions,
                line: Some(errs.line(&form_id.span())),
                score_lines,
            },
        );
    }

    let scheme = Scheme {
        id: raw.id.into_inner(),
        version: raw.version.into_inner(),
        title: raw.title.unwrap_or_default().trim().to_owned(),
        sha256: sha256_hex(source.as_bytes()),
        source: source.to_owned(),
        forms,
        weight_recipients: *w.recipients.get_ref(),
        weight_panel: *w.panel.get_ref(),
        thresholds: raw
            .grades
            .iter()
            .map(|g| {
                (
                    g.get_ref().label.get_ref().clone(),
                    *g.get_ref().min.get_ref(),
                )
            })
            .collect(),
        method,
        uncertain,
        min_respondents,
        min_respondents_share,
        k,
        panel_min,
    };
    errs.finish(scheme)
}

/// A sum for people: 0.7 + 0.2 shows as 0.9, not 0.8999999999999999.
fn round6(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn positive_u32(errs: &mut Errors<'_>, name: &str, value: &Spanned<i64>) -> u32 {
    let n = *value.get_ref();
    match u32::try_from(n) {
        Ok(v) if v >= 1 => v,
        _ => {
            errs.at_spanned(
                value,
                format!("{name} is {n}, must be a whole number of at least 1"),
            );
            0
        }
    }
}

/// Checks the scheme against the questionnaires it scores (`(file name, form)` pairs):
/// every questionnaire has a `[forms.<id>]` table and at least one scored question; every
/// option of every scored question has a score; every score (hence every satisfied value)
/// belongs to an option of a scored question; no table names a missing questionnaire.
pub(crate) fn cross_check(
    scheme_file: &str,
    scheme: &Scheme,
    forms: &[(&str, &Form)],
) -> Vec<FormError> {
    let mut out = Vec::new();
    for (file, form) in forms {
        if form.scored_questions().next().is_none() {
            out.push(FormError::new(
                file,
                None,
                format!(
                    "questionnaire {} has no scored question (a single-choice question with a dimension)",
                    form.id
                ),
            ));
        }
        let Some(scoring) = scheme.forms.get(&form.id) else {
            out.push(FormError::new(
                scheme_file,
                None,
                format!(
                    "no [forms.{}] table for questionnaire {} ({file})",
                    form.id, form.id
                ),
            ));
            continue;
        };
        // Option value → the scored questions offering it, in form order.
        let mut offered: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for q in form.scored_questions() {
            for value in q.option_values() {
                offered.entry(value).or_default().push(q.id.as_str());
            }
        }
        for (value, questions) in &offered {
            if !scoring.scores.contains_key(*value) {
                let first_line = form
                    .question(questions.first().copied().unwrap_or_default())
                    .and_then(|q| q.line)
                    .map(|l| format!(" line {l}"))
                    .unwrap_or_default();
                out.push(FormError::new(
                    scheme_file,
                    scoring.line,
                    format!(
                        "forms.{}.scores: no score for option {value:?} of scored question(s) {} ({file}{first_line})",
                        form.id,
                        questions.join(", ")
                    ),
                ));
            }
        }
        for d in &scoring.dimensions {
            if !form.scored_questions().any(|q| q.dimension == Some(*d)) {
                out.push(FormError::new(
                    scheme_file,
                    scoring.line,
                    format!(
                        "forms.{}.dimensions: no scored question of {file} has dimension {:?}",
                        form.id,
                        d.key()
                    ),
                ));
            }
        }
        for value in scoring.scores.keys() {
            if !offered.contains_key(value.as_str()) {
                out.push(FormError::new(
                    scheme_file,
                    scoring.score_lines.get(value).copied().or(scoring.line),
                    format!(
                        "forms.{}.scores: {value:?} is not an option of any scored question in {file}",
                        form.id
                    ),
                ));
            }
        }
    }
    for (form_id, scoring) in &scheme.forms {
        if !forms.iter().any(|(_, f)| &f.id == form_id) {
            out.push(FormError::new(
                scheme_file,
                scoring.line,
                format!("[forms.{form_id}] names no questionnaire in this directory"),
            ));
        }
    }
    out
}
