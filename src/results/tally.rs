//! Tallies of one village's answers to one questionnaire: counts
//! per option, valid answers, satisfaction rates with their Wilson intervals, by question,
//! by dimension and over all scored questions, and the respondents' scores for item 16.
//! A fold: [`FormTally::add`] one response at a time, so a million responses need no more
//! memory than one village's counters.
//!
//! Small cells: any figure from fewer than k answers (the scheme's `k`) is suppressed by
//! [`FormTally::rates`] and [`FormTally::counts`]; nothing downstream sees it. So is any
//! figure that would let a suppressed one be worked out by subtraction (a dimension row
//! holding a hidden question, the 全部计分题 row holding a hidden dimension, a village's
//! share of a town row), and, for the panel — a handful of people everyone knows — any
//! figure where fewer than k answers differ from the most common one, since it would tell
//! how each member answered. docs/results.md has the rule with a worked example.

use crate::forms::{Answer, Answers, Audience, DONT_KNOW, Dimension, Form, FormScoring, Kind};
use crate::results::exact::Ratio;
use crate::results::item16::{Figure, Scores};
use crate::results::stats::{Interval, Stratum, Z95, stratified, wilson, wilson_rate};
use serde::Serialize;
use std::collections::BTreeMap;

/// One village's running tally of one questionnaire.
#[derive(Debug, Clone)]
pub struct FormTally {
    pub audience: Audience,
    /// Responses counted (recused panel ratings not among them).
    pub respondents: u64,
    /// Panel ratings of the rater's own village (本村居民, 在本村任职): left out of every
    /// figure of the tally and of P, only counted here.
    pub recused: u64,
    questions: Vec<QuestionAcc>,
    dimensions: BTreeMap<Dimension, RateAcc>,
    all: RateAcc,
    /// Each respondent's mean option score (item 16's R or P, method `score`), over valid
    /// respondents.
    pub scores: Scores,
    /// Respondents with a valid answer in a dimension of the rate (item 16's n, method
    /// `rate`).
    pub rate_respondents: u64,
    /// The rate's dimensions where the scheme lists none: every scored one but `overall`.
    default_rate_dims: Vec<Dimension>,
}

#[derive(Debug, Clone)]
struct QuestionAcc {
    id: String,
    text: String,
    dimension: Option<Dimension>,
    /// (value, label, count), the form's options in order, then 不了解 where offered.
    options: Vec<(String, String, u64)>,
    multiple: bool,
    answered: u64,
    valid: u64,
    satisfied: u64,
}

/// Respondents, valid answers and satisfied answers of a dimension (or of all scored
/// questions together).
#[derive(Debug, Clone, Copy, Default)]
struct RateAcc {
    respondents: u64,
    valid: u64,
    satisfied: u64,
}

/// What a rate row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Question,
    Dimension,
    All,
}

impl Scope {
    pub fn label_zh(self) -> &'static str {
        match self {
            Scope::Question => "题目",
            Scope::Dimension => "方面",
            Scope::All => "全部计分题",
        }
    }
}

/// Why a figure is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// Fewer than k answers.
    FewAnswers,
    /// k answers or more, but fewer than k valid ones (the rest 不了解).
    FewValid,
    /// A town row no village's published figure enters.
    NoVillage,
    /// The panel's answers nearly all agree: fewer than k differ from the most common one,
    /// so the figure would tell how each (known) member answered.
    Agreement,
    /// Published, it would let a hidden figure be worked out by subtraction.
    Complementary,
}

impl Withheld {
    /// The reason in a sentence, for the `说明` column and the pages.
    pub fn note_zh(self, k: u64) -> String {
        match self {
            Withheld::FewAnswers => format!("答卷少于{k}份，不公布"),
            Withheld::FewValid => format!("有效答卷少于{k}份，不公布"),
            Withheld::NoVillage => "没有一个村（社区）的这项满意率公布，全镇不计算".to_string(),
            Withheld::Agreement => format!(
                "两代表一委员人数少，与多数意见不同的评价少于{k}份，公布会让人看出每个人的评价，不公布"
            ),
            Withheld::Complementary => {
                "含有不公布的数字，公布会让人用减法算出它，不公布".to_string()
            }
        }
    }
}

/// A satisfaction rate, ready to show. `base` is the number of answers the figures come
/// from (a question's answers including 不了解, or a dimension's respondents); where it is
/// below k every figure is `None` and `suppressed` is true. Where the rate is not published
/// (`withheld` says why) `valid`, `satisfied`, `rate` and `interval` are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateRow {
    pub scope: Scope,
    /// Question id, dimension key, or `all`.
    pub key: String,
    /// Question text or dimension name.
    pub label: String,
    pub suppressed: bool,
    pub withheld: Option<Withheld>,
    pub base: Option<u64>,
    /// Valid answers (不了解 excluded).
    pub valid: Option<u64>,
    pub satisfied: Option<u64>,
    /// satisfied / valid.
    pub rate: Option<f64>,
    /// 95% Wilson interval; for recipients with the finite-population step.
    pub interval: Option<Interval>,
}

/// One option's count, ready to show (`None`, with the reason, where it is not published).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountRow {
    pub question: String,
    pub text: String,
    pub option: String,
    pub count: Option<u64>,
    pub withheld: Option<Withheld>,
}

impl FormTally {
    /// An empty tally of `form`. Only single and multiple choice questions are counted;
    /// free text goes to the comments.
    pub fn new(form: &Form) -> Self {
        let questions = form
            .questions
            .iter()
            .filter_map(|q| {
                let (options, dont_know) = match &q.kind {
                    Kind::Single { options, dont_know } => (options, dont_know.as_ref()),
                    Kind::Multiple { options, .. } => (options, None),
                    Kind::Text { .. } => return None,
                };
                let mut counts: Vec<(String, String, u64)> = options
                    .iter()
                    .map(|c| (c.value.clone(), c.label.clone(), 0))
                    .collect();
                if let Some(label) = dont_know {
                    counts.push((DONT_KNOW.to_string(), label.clone(), 0));
                }
                Some(QuestionAcc {
                    id: q.id.clone(),
                    text: q.text.clone(),
                    dimension: q.is_scored().then_some(q.dimension).flatten(),
                    options: counts,
                    multiple: matches!(q.kind, Kind::Multiple { .. }),
                    answered: 0,
                    valid: 0,
                    satisfied: 0,
                })
            })
            .collect();
        let dimensions = form
            .scored_questions()
            .filter_map(|q| q.dimension)
            .map(|d| (d, RateAcc::default()))
            .collect();
        FormTally {
            audience: form.audience,
            respondents: 0,
            recused: 0,
            questions,
            dimensions,
            all: RateAcc::default(),
            scores: Scores::default(),
            rate_respondents: 0,
            default_rate_dims: crate::forms::default_rate_dimensions(form),
        }
    }

    /// Item 16's R or P by the rate: the satisfaction rates of `dims` (see
    /// [`Figure::from_rates`]); `frame` gives the interval (recipients).
    pub fn rate_figure(&self, dims: &[Dimension], frame: Option<u64>) -> Figure {
        let parts: Vec<(u64, u64)> = dims
            .iter()
            .filter_map(|d| self.dimensions.get(d))
            .map(|acc| (acc.valid, acc.satisfied))
            .collect();
        Figure::from_rates(&parts, self.rate_respondents, frame)
    }

    /// Counts one response. `scoring` is the scheme's scoring of this form. The
    /// respondent's score is the mean of the option scores of the scored questions answered
    /// with a scored option (as [`Answers::score`] says), kept exactly as well.
    /// A panel rating of the rater's own village is recused: counted in `recused` only.
    pub fn add(&mut self, answers: &Answers, scoring: Option<&FormScoring>) {
        if self.audience == Audience::Panel && answers.relation().is_some_and(|r| r.recuses()) {
            self.recused += 1;
            return;
        }
        self.respondents += 1;
        let mut per_dim: BTreeMap<Dimension, (u64, u64)> = BTreeMap::new();
        // Σ option scores (float and exact) and how many, for this respondent's score.
        let (mut sum, mut exact, mut scored) = (0.0, Some(Ratio::from_int(0)), 0u64);
        for q in &mut self.questions {
            let values: &[String] = match answers.get(&q.id) {
                Some(Answer::Choice(v)) => std::slice::from_ref(v),
                Some(Answer::Choices(vs)) => vs,
                Some(Answer::DontKnow) => {
                    q.answered += 1;
                    if let Some(o) = q.options.iter_mut().find(|o| o.0 == DONT_KNOW) {
                        o.2 += 1;
                    }
                    continue;
                }
                Some(Answer::Text(_)) | None => continue,
            };
            q.answered += 1;
            for v in values {
                if let Some(o) = q.options.iter_mut().find(|o| &o.0 == v) {
                    o.2 += 1;
                }
            }
            if let (Some(dim), Some(scoring), [v]) = (q.dimension, scoring, values) {
                let sat = u64::from(scoring.is_satisfied(v));
                q.valid += 1;
                q.satisfied += sat;
                let d = per_dim.entry(dim).or_default();
                d.0 += 1;
                d.1 += sat;
                if let Some(points) = scoring.score(v).filter(|_| !q.multiple) {
                    sum += points;
                    exact = exact.and_then(|e| e.checked_add(Ratio::from_decimal(points)?));
                    scored += 1;
                }
            }
        }
        let rate_dims = scoring
            .map(|s| s.dimensions.as_slice())
            .filter(|d| !d.is_empty())
            .unwrap_or(&self.default_rate_dims);
        if rate_dims
            .iter()
            .any(|d| per_dim.get(d).is_some_and(|(v, _)| *v > 0))
        {
            self.rate_respondents += 1;
        }
        let (mut valid, mut satisfied) = (0, 0);
        for (dim, (v, s)) in per_dim {
            let acc = self.dimensions.entry(dim).or_default();
            acc.respondents += 1;
            acc.valid += v;
            acc.satisfied += s;
            valid += v;
            satisfied += s;
        }
        if valid > 0 {
            self.all.respondents += 1;
            self.all.valid += valid;
            self.all.satisfied += satisfied;
        }
        if scored > 0 {
            let exact = exact.and_then(|e| e.checked_div_int(scored));
            let approx = exact.map_or(sum / scored as f64, Ratio::to_f64);
            self.scores.push(exact, approx);
        }
    }

    /// The satisfaction rates: each scored question, each dimension, then all scored
    /// questions together. `frame` is the village's frame size for recipients (the
    /// finite-population step) and `None` for the panel; `k` the small-cell threshold.
    ///
    /// A question row whose rate is withheld withholds its dimension's row, and a withheld
    /// dimension the 全部计分题 row: their valid and satisfied answers are sums, so the
    /// others shown beside them would give the hidden one away by subtraction.
    pub fn rates(&self, frame: Option<u64>, k: u64) -> Vec<RateRow> {
        let panel = self.audience == Audience::Panel;
        let mut rows = Vec::new();
        let mut hidden_dims = std::collections::BTreeSet::new();
        for q in self.questions.iter().filter(|q| q.dimension.is_some()) {
            let interval = wilson(q.satisfied, q.valid, frame, Z95);
            let row = rate_row(
                Scope::Question,
                &q.id,
                &q.text,
                (q.answered, q.valid, q.satisfied),
                interval,
                k,
                panel,
            );
            if row.withheld.is_some() {
                hidden_dims.extend(q.dimension);
            }
            rows.push(row);
        }
        let pooled = |acc: &RateAcc| {
            let p = (acc.valid > 0).then(|| acc.satisfied as f64 / acc.valid as f64);
            p.and_then(|p| wilson_rate(p, acc.respondents, frame, Z95))
        };
        let mut any_dim_hidden = false;
        for (dim, acc) in &self.dimensions {
            let mut row = rate_row(
                Scope::Dimension,
                &dim.key(),
                dim.label_zh(),
                (acc.respondents, acc.valid, acc.satisfied),
                pooled(acc),
                k,
                panel,
            );
            if row.withheld.is_none() && hidden_dims.contains(dim) {
                row.withhold(Withheld::Complementary);
            }
            any_dim_hidden |= row.withheld.is_some();
            rows.push(row);
        }
        let mut all = rate_row(
            Scope::All,
            "all",
            Scope::All.label_zh(),
            (self.all.respondents, self.all.valid, self.all.satisfied),
            pooled(&self.all),
            k,
            panel,
        );
        if all.withheld.is_none() && any_dim_hidden {
            all.withhold(Withheld::Complementary);
        }
        rows.push(all);
        rows
    }

    /// Every option's count, question by question (including 不了解 and the multiple-choice
    /// questions). A question's counts are withheld where it has fewer than k answers; for a
    /// scored question, wherever its rate is withheld (the counts would give the rate away);
    /// for the panel, where fewer than k answers differ from the most common option (for a
    /// multiple-choice question: from any option's choice).
    pub fn counts(&self, k: u64) -> Vec<CountRow> {
        let withheld_rates: BTreeMap<&str, Withheld> = self
            .rates(None, k)
            .into_iter()
            .filter(|r| r.scope == Scope::Question)
            .filter_map(|r| {
                let w = r.withheld?;
                let q = self.questions.iter().find(|q| q.id == r.key)?;
                Some((q.id.as_str(), w))
            })
            .collect();
        let mut rows = Vec::new();
        for q in &self.questions {
            let withheld = if q.answered < k || q.answered == 0 {
                Some(Withheld::FewAnswers)
            } else if let Some(w) = withheld_rates.get(q.id.as_str()) {
                Some(*w)
            } else if self.audience == Audience::Panel && q.too_unanimous(k) {
                Some(Withheld::Agreement)
            } else {
                None
            };
            for (_, label, count) in &q.options {
                rows.push(CountRow {
                    question: q.id.clone(),
                    text: q.text.clone(),
                    option: label.clone(),
                    count: withheld.is_none().then_some(*count),
                    withheld,
                });
            }
        }
        rows
    }
}

impl QuestionAcc {
    /// Fewer than k answers differ from the most common option. In a multiple-choice
    /// question each option is a yes or a no of its own, so any option counts.
    fn too_unanimous(&self, k: u64) -> bool {
        if self.multiple {
            self.options
                .iter()
                .any(|o| o.2.min(self.answered.saturating_sub(o.2)) < k)
        } else {
            let most = self.options.iter().map(|o| o.2).max().unwrap_or(0);
            self.answered.saturating_sub(most) < k
        }
    }
}

impl RateRow {
    fn withhold(&mut self, why: Withheld) {
        self.withheld = Some(why);
        self.valid = None;
        self.satisfied = None;
        self.rate = None;
        self.interval = None;
    }
}

/// A row from its (base, valid, satisfied): the base hidden below k, the rate below k valid
/// answers, and, for the panel, where fewer than k answers differ from the rest.
fn rate_row(
    scope: Scope,
    key: &str,
    label: &str,
    (base, valid, satisfied): (u64, u64, u64),
    interval: Option<Interval>,
    k: u64,
    panel: bool,
) -> RateRow {
    let shown = base >= k && base > 0;
    let mut row = RateRow {
        scope,
        key: key.to_string(),
        label: label.to_string(),
        suppressed: !shown,
        withheld: None,
        base: shown.then_some(base),
        valid: Some(valid),
        satisfied: Some(satisfied),
        rate: (valid > 0).then(|| satisfied as f64 / valid as f64),
        interval,
    };
    // Valid and satisfied below k would give the hidden rate away.
    if !shown {
        row.withhold(Withheld::FewAnswers);
    } else if valid < k || valid == 0 {
        row.withhold(Withheld::FewValid);
    } else if panel && satisfied.min(valid - satisfied) < k {
        row.withhold(Withheld::Agreement);
    }
    row
}

/// The town-wide rates: for each row key, the villages' rates combined by the stratified
/// estimator (each village weighted by its frame N_h, see [`stratified`]), never by
/// pooling raw answers. `villages` holds each village's frame size and its tally; with
/// `fpc` (recipients) the finite-population factor enters the variance.
///
/// Only villages whose own rate for that row is published enter a town row: otherwise the
/// town's sums minus the published villages would reveal a withheld one. `excluded` counts
/// the villages left out for that reason (villages without any answer are not counted).
/// The row's counts are the sums over the villages it includes.
pub fn town_rates(villages: &[(u64, &FormTally)], fpc: bool, k: u64) -> Vec<TownRow> {
    let Some((_, first)) = villages.first() else {
        return Vec::new();
    };
    let published: Vec<Vec<RateRow>> = villages.iter().map(|(_, t)| t.rates(None, k)).collect();
    let template = first.rates(None, 0);
    let mut rows = Vec::new();
    for t in template {
        let mut strata = Vec::new();
        let (mut base, mut valid, mut satisfied, mut excluded, mut included) = (0, 0, 0, 0, 0);
        let mut frames = 0u64;
        for ((frame, tally), shown) in villages.iter().zip(&published) {
            let Some(raw) = tally.raw(t.scope, &t.key) else {
                continue;
            };
            if raw.0 == 0 {
                continue;
            }
            let published = shown
                .iter()
                .any(|r| r.scope == t.scope && r.key == t.key && r.withheld.is_none());
            if !published {
                excluded += 1;
                continue;
            }
            included += 1;
            frames = frames.saturating_add(*frame);
            base += raw.0;
            valid += raw.1;
            satisfied += raw.2;
            // The variance's n_h is the rate's base: valid answers for a question,
            // respondents for a dimension.
            let n = if t.scope == Scope::Question {
                raw.1
            } else {
                raw.0
            };
            strata.push(Stratum {
                frame: *frame,
                n,
                p: raw.2 as f64 / raw.1 as f64,
            });
        }
        let estimate = stratified(&strata, fpc, Z95);
        let shown = included > 0;
        rows.push(TownRow {
            rate: RateRow {
                scope: t.scope,
                key: t.key,
                label: t.label,
                suppressed: !shown,
                withheld: (!shown).then_some(Withheld::NoVillage),
                base: shown.then_some(base),
                valid: shown.then_some(valid),
                satisfied: shown.then_some(satisfied),
                rate: estimate.map(|e| e.0),
                interval: estimate.map(|e| e.1),
            },
            villages: included,
            excluded,
            frame: frames,
        });
    }
    rows
}

/// A town-wide rate and which villages it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownRow {
    #[serde(flatten)]
    pub rate: RateRow,
    /// Villages included.
    pub villages: u64,
    /// Villages with answers left out because their own figure is suppressed.
    pub excluded: u64,
    /// The frame sizes of the villages included, summed (the town row's 名单人数).
    pub frame: u64,
}

impl FormTally {
    /// (base, valid, satisfied) of a row before suppression.
    fn raw(&self, scope: Scope, key: &str) -> Option<(u64, u64, u64)> {
        match scope {
            Scope::Question => self
                .questions
                .iter()
                .find(|q| q.id == key)
                .map(|q| (q.answered, q.valid, q.satisfied)),
            Scope::Dimension => Dimension::from_key(key)
                .and_then(|d| self.dimensions.get(&d))
                .map(|a| (a.respondents, a.valid, a.satisfied)),
            Scope::All => Some((self.all.respondents, self.all.valid, self.all.satisfied)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{Answers, FormSet, RELATION_QUESTION, builtin};

    fn answers(forms: &FormSet, fields: &[(&str, &str)]) -> Answers {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        crate::forms::parse_answers(&forms.recipients, &fields).unwrap()
    }

    /// A recipient (screened in) answering every scored question with `value` except
    /// `fairness`. Service: attitude, convenience; style: fairness, promptness; integrity:
    /// no_favours.
    fn respondent(forms: &FormSet, value: &str, fairness: &str) -> Answers {
        let mut fields = vec![("served", "yes"), ("fairness", fairness)];
        for q in ["attitude", "convenience", "promptness", "no_favours"] {
            fields.push((q, value));
        }
        answers(forms, &fields)
    }

    fn tally(forms: &FormSet, people: &[(&str, &str)]) -> FormTally {
        let mut t = FormTally::new(&forms.recipients);
        let scoring = forms.scheme.scoring("recipients");
        for (value, fairness) in people {
            let a = respondent(forms, value, fairness);
            t.add(&a, scoring);
        }
        t
    }

    #[test]
    fn each_respondents_score_is_the_answers_score_and_exact() {
        let forms = builtin().unwrap();
        let people = [
            ("满意", "比较满意"),
            ("比较满意", "dont_know"),
            ("不太满意", "不满意"),
        ];
        let t = tally(&forms, &people);
        let mut expected = 0.0;
        for (value, fairness) in people {
            let a = respondent(&forms, value, fairness);
            expected += a.score(&forms.recipients, &forms.scheme).unwrap();
        }
        let mean = t.scores.approx.mean().unwrap();
        assert!((mean - expected / 3.0).abs() < 1e-9, "{mean}");
        // (4·100 + 75)/5, 4·75/4, (4·25 + 0)/5, over 3: (95 + 75 + 20)/3 = 190/3.
        assert_eq!(
            t.scores.exact.mean(),
            crate::results::exact::Ratio::new(190, 3)
        );
    }

    #[test]
    fn a_question_counts_options_and_leaves_dont_know_out_of_the_rate() {
        let forms = builtin().unwrap();
        let people = [
            ("满意", "满意"),
            ("满意", "比较满意"),
            ("比较满意", "不太满意"),
            ("不太满意", "不满意"),
            ("满意", "dont_know"),
            ("满意", "dont_know"),
        ];
        let t = tally(&forms, &people);
        let fairness = t
            .rates(Some(100), 5)
            .into_iter()
            .find(|r| r.key == "fairness")
            .unwrap();
        assert_eq!(
            (fairness.base, fairness.valid, fairness.satisfied),
            (Some(6), None, None)
        );
        // 4 valid < k = 5: the 6 answers stand, but the rate and the valid and satisfied
        // counts it would follow from are suppressed.
        assert_eq!(fairness.rate, None);
        let attitude = t
            .rates(Some(100), 5)
            .into_iter()
            .find(|r| r.key == "attitude")
            .unwrap();
        assert_eq!(attitude.rate, Some(5.0 / 6.0));
        assert_eq!(attitude.interval, wilson(5, 6, Some(100), Z95));
        // With k = 5 the counts would give the hidden rate away (4 valid = 6 − 2 不了解).
        assert!(
            t.counts(5)
                .iter()
                .filter(|c| c.question == "fairness")
                .all(|c| c.count.is_none())
        );
        let counts: Vec<(String, Option<u64>)> = t
            .counts(4)
            .into_iter()
            .filter(|c| c.question == "fairness")
            .map(|c| (c.option, c.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("满意", 1),
                ("比较满意", 1),
                ("不太满意", 1),
                ("不满意", 1),
                ("说不清", 2)
            ]
            .map(|(o, n)| (o.to_string(), Some(n)))
        );
    }

    #[test]
    fn a_dimension_pools_its_answers_and_counts_its_respondents() {
        let forms = builtin().unwrap();
        let people = [("满意", "不满意"); 5];
        let t = tally(&forms, &people);
        let style = t
            .rates(None, 5)
            .into_iter()
            .find(|r| r.key == "style")
            .unwrap();
        // promptness 5 × 满意, fairness 5 × 不满意: 5 of 10 answers, base 5 respondents.
        assert_eq!(
            (style.base, style.valid, style.satisfied),
            (Some(5), Some(10), Some(5))
        );
        assert_eq!(style.rate, Some(0.5));
        assert_eq!(style.interval, wilson_rate(0.5, 5, None, Z95));
        let all = t
            .rates(None, 5)
            .into_iter()
            .find(|r| r.scope == Scope::All)
            .unwrap();
        // Five scored questions of five respondents; all but fairness satisfied.
        assert_eq!((all.valid, all.satisfied), (Some(25), Some(20)));
    }

    #[test]
    fn the_rate_is_the_mean_of_the_dimensions_pooled_rates_over_valid_respondents() {
        let forms = builtin().unwrap();
        let dims = forms
            .scheme
            .scoring("recipients")
            .unwrap()
            .rate_dimensions(&forms.recipients);
        // Service 2 questions, style 2, integrity 1. Four people: one 不满意 on fairness,
        // one 说不清 on fairness; a fifth answers 说不清 everywhere and is no respondent.
        let mut t = tally(
            &forms,
            &[
                ("满意", "不满意"),
                ("比较满意", "dont_know"),
                ("满意", "满意"),
                ("不太满意", "满意"),
            ],
        );
        let fields: Vec<(&str, &str)> = [
            "attitude",
            "convenience",
            "fairness",
            "promptness",
            "no_favours",
        ]
        .iter()
        .map(|q| (*q, "dont_know"))
        .chain([("served", "yes")])
        .collect();
        t.add(
            &answers(&forms, &fields),
            forms.scheme.scoring("recipients"),
        );
        let r = t.rate_figure(&dims, Some(100));
        assert_eq!(r.n, 4);
        // Service 6/8; style 5/7 (fairness 2 of 3 valid, promptness 3 of 4); integrity
        // 3/4: (75 + 500/7 + 75)/3.
        let expected = (75.0 + 500.0 / 7.0 + 75.0) / 3.0;
        assert!((r.value.unwrap() - expected).abs() < 1e-9, "{r:?}");
        assert_eq!(
            r.exact,
            crate::results::exact::Ratio::new(150 * 7 + 500, 21)
        );
    }

    #[test]
    fn fewer_than_k_answers_suppress_every_figure() {
        let forms = builtin().unwrap();
        let t = tally(&forms, &[("满意", "满意"); 4]);
        for row in t.rates(Some(50), 5) {
            assert!(row.suppressed, "{row:?}");
            assert_eq!(
                (row.base, row.valid, row.satisfied, row.rate, row.interval),
                (None, None, None, None, None)
            );
        }
        assert!(t.counts(5).iter().all(|c| c.count.is_none()));
        assert!(
            t.counts(4)
                .iter()
                .filter(|c| c.question == "attitude")
                .all(|c| c.count.is_some())
        );
    }

    #[test]
    fn the_town_weights_each_village_by_its_frame() {
        let forms = builtin().unwrap();
        let big = tally(&forms, &[("满意", "满意"); 10]);
        let small = tally(&forms, &[("不满意", "不满意"); 10]);
        let tiny = tally(&forms, &[("不满意", "不满意"); 3]);
        let rows = town_rates(&[(900, &big), (100, &small), (50, &tiny)], true, 5);
        let attitude = rows.iter().find(|r| r.rate.key == "attitude").unwrap();
        // Pooled raw answers would give 50%; the town is 90% the big village.
        assert!((attitude.rate.rate.unwrap() - 0.9).abs() < 1e-12);
        // The village with three answers stays out, or its answers would follow from the
        // town's sums minus the others.
        assert_eq!(attitude.rate.base, Some(20));
        assert_eq!((attitude.villages, attitude.excluded), (2, 1));
        // Its 名单人数 is the villages it includes: 900 + 100, not the tiny village's 50.
        assert_eq!(attitude.frame, 1000);
        // A town row no village enters says so, and counts no one.
        let none = town_rates(&[(50, &tiny)], true, 5);
        let alone = none.iter().find(|r| r.rate.key == "attitude").unwrap();
        assert_eq!(alone.rate.withheld, Some(Withheld::NoVillage));
        assert_eq!((alone.villages, alone.excluded, alone.frame), (0, 1, 0));
    }

    #[test]
    fn a_hidden_question_hides_its_dimension_and_the_all_row_and_leaves_the_town() {
        let forms = builtin().unwrap();
        // fairness: 4 valid of 6 (two 说不清), hidden; style pools fairness with
        // promptness, so style minus promptness would give fairness away.
        let people = [
            ("满意", "满意"),
            ("满意", "满意"),
            ("满意", "满意"),
            ("满意", "不满意"),
            ("满意", "dont_know"),
            ("满意", "dont_know"),
        ];
        let t = tally(&forms, &people);
        let rows = t.rates(None, 5);
        let row = |key: &str| rows.iter().find(|r| r.key == key).unwrap();
        // Six answers but four valid: the note says valid answers, not answers.
        assert_eq!(row("fairness").withheld, Some(Withheld::FewValid));
        assert_eq!(Withheld::FewValid.note_zh(5), "有效答卷少于5份，不公布");
        assert_eq!(row("promptness").rate, Some(1.0));
        let style = row("style");
        assert_eq!(style.withheld, Some(Withheld::Complementary));
        assert_eq!(
            (style.valid, style.satisfied, style.rate),
            (None, None, None)
        );
        assert_eq!(row("all").withheld, Some(Withheld::Complementary));
        // A dimension without the hidden question stays.
        assert!(
            rows.iter()
                .any(|r| r.scope == Scope::Dimension && r.withheld.is_none())
        );
        let other = tally(&forms, &[("满意", "满意"); 10]);
        let town = town_rates(&[(100, &t), (100, &other)], true, 5);
        let style = town.iter().find(|r| r.rate.key == "style").unwrap();
        assert_eq!((style.villages, style.excluded), (1, 1));
        assert_eq!(style.rate.valid, Some(20));
    }

    /// Ratings by members who know the village without living or working there, half of
    /// them 联系该村 and half 不熟悉.
    fn panel_tally(forms: &FormSet, ratings: &[&str]) -> FormTally {
        let with: Vec<(&str, &str)> = ratings
            .iter()
            .enumerate()
            .map(|(i, v)| (["liaison", "unfamiliar"][i % 2], *v))
            .collect();
        panel_tally_with(forms, &with)
    }

    /// (relation, the grade given on every scored question) per rating.
    fn panel_tally_with(forms: &FormSet, ratings: &[(&str, &str)]) -> FormTally {
        let mut t = FormTally::new(&forms.panel);
        let scoring = forms.scheme.scoring(&forms.panel.id);
        for (relation, value) in ratings {
            let mut fields: Vec<(String, String)> = forms
                .panel
                .questions
                .iter()
                .filter(|q| q.is_scored())
                .map(|q| (q.id.clone(), value.to_string()))
                .collect();
            fields.push((RELATION_QUESTION.to_string(), relation.to_string()));
            // Heard of misconduct where the grade is poor, so it splits as the grades do.
            let heard = if matches!(*value, "好" | "较好") {
                "no"
            } else {
                "yes"
            };
            fields.push(("heard_misconduct".to_string(), heard.to_string()));
            let a = crate::forms::parse_answers(&forms.panel, &fields).unwrap();
            t.add(&a, scoring);
        }
        t
    }

    #[test]
    fn a_rating_of_the_raters_own_village_is_recused_and_left_out_of_every_figure() {
        let forms = builtin().unwrap();
        let t = panel_tally_with(
            &forms,
            &[
                ("resident", "差"),
                ("official", "差"),
                ("liaison", "好"),
                ("unfamiliar", "较好"),
                ("liaison", "好"),
            ],
        );
        assert_eq!((t.respondents, t.recused), (3, 2));
        // P's inputs: 100, 75, 100 only; the two 差 of the village's own people are out.
        assert_eq!(t.scores.n(), 3);
        assert_eq!(t.scores.approx.mean(), Some(275.0 / 3.0));
        let rows = t.rates(None, 1);
        assert!(rows.iter().all(|r| r.base == Some(3)), "{rows:?}");
        // Without a relation answer (a form pinned before the question existed) the rating
        // is not recused.
        let mut old = FormTally::new(&forms.panel);
        old.add(&Answers::default(), forms.scheme.scoring("panel"));
        assert_eq!((old.respondents, old.recused), (1, 0));
    }

    #[test]
    fn a_panel_figure_is_hidden_when_fewer_than_k_answers_differ() {
        let forms = builtin().unwrap();
        // Six members all 好: every figure would say how each one rated the village.
        let t = panel_tally(&forms, &["好"; 6]);
        for row in t.rates(None, 5) {
            assert!(row.withheld.is_some() && row.rate.is_none(), "{row:?}");
            assert_eq!(row.base, Some(6));
        }
        assert!(
            t.counts(5)
                .iter()
                .all(|c| c.withheld == Some(Withheld::Agreement))
        );
        // Five 好 and five 差 on every question: five differ from either side, shown.
        let split = panel_tally(
            &forms,
            &["好", "好", "好", "好", "好", "差", "差", "差", "差", "差"],
        );
        let rows = split.rates(None, 5);
        assert!(rows.iter().all(|r| r.withheld.is_none()), "{rows:?}");
        assert!(split.counts(5).iter().all(|c| c.count.is_some()));
        // Nine against one: the one who differs is fewer than k, hidden.
        let nine = panel_tally(
            &forms,
            &["好", "好", "好", "好", "好", "好", "好", "好", "好", "差"],
        );
        // (The 全部计分题 row pools 60 answers, 6 of them 差, but holds the hidden rows.)
        for row in nine.rates(None, 5) {
            let why = if row.scope == Scope::All {
                Withheld::Complementary
            } else {
                Withheld::Agreement
            };
            assert_eq!(row.withheld, Some(why), "{row:?}");
        }
        // The recipients are an anonymous sample: the same agreement is published.
        let recipients = tally(&forms, &[("满意", "满意"); 10]);
        assert!(
            recipients
                .rates(None, 5)
                .iter()
                .all(|r| r.withheld.is_none())
        );
    }
}
