//! Item 16's figure and grade for one village (the seed's item 16).
//!
//! The scheme's method says what R (the recipients') and P (the panel's) are:
//! - `rate`: the mean of the dimensions' satisfaction rates, each (满意 + 比较满意) / valid
//!   answers of the dimension, in percent — 服务, 作风, 廉洁 one third each by default;
//! - `score`: the mean over respondents of each one's mean option score (不了解 excluded).
//!
//! S = w_r·R + w_p·P (S = R, flagged, where the village has no panel rating). P counts only
//! with a quorum: at least the scheme's `panel_min` valid ratings, recused ones (the rater
//! lives or works in the village) left out, and at most half of all ratings recused;
//! otherwise S = R and the reason is given. S is computed in exact fractions and graded
//! against the scheme's lines, inclusive, so a figure on a line gets the higher grade. R
//! has a 95% interval cut to what the village can hold (Wilson's for a rate, Student-t with
//! a minimum spread for a score), carried into S with P fixed (the panel is not a sample);
//! the grade is "uncertain" when S's interval reaches below the grade's line or up to the
//! next one. Fewer valid respondents than the scheme's minimum: no grade.

use crate::forms::{FormScoring, Method, Scheme};
use crate::results::exact::{ExactMean, Ratio};
use crate::results::stats::{Interval, MeanAcc, Z95, wilson_rate};
use serde::Serialize;

/// The respondents' scores of one village on one questionnaire (R's or P's inputs):
/// exact for the grade, in floating point for the interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub approx: MeanAcc,
    pub exact: ExactMean,
}

impl Scores {
    /// Adds one respondent's score: `exact` where it could be had exactly, `approx` always.
    pub fn push(&mut self, exact: Option<Ratio>, approx: f64) {
        self.approx.push(approx);
        self.exact.push(exact);
    }

    /// How many respondents.
    pub fn n(&self) -> u64 {
        self.approx.n()
    }

    /// The exact mean where there is one, else the floating-point one.
    pub fn mean(&self) -> (Option<Ratio>, Option<f64>) {
        let exact = self.exact.mean();
        (exact, exact.map(Ratio::to_f64).or(self.approx.mean()))
    }
}

/// One side of item 16 — the recipients' R or the panel's P — as the scheme's method
/// reads it: the figure (exact where it could be had), its interval, and how many
/// respondents it rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figure {
    pub exact: Option<Ratio>,
    pub value: Option<f64>,
    /// 95% interval (recipients only; the panel is not a sample).
    pub interval: Option<Interval>,
    /// Valid respondents (or ratings) the figure rests on.
    pub n: u64,
    /// Every respondent answered alike: for the panel, the figure would tell each member's
    /// rating.
    pub unanimous: bool,
}

impl Figure {
    /// Method `score`: the mean of the respondents' scores, with the Student-t interval
    /// (minimum spread one `step` of the scale) cut to what a village of `frame` can hold.
    /// `frame = None` gives no interval (the panel).
    pub fn from_scores(scores: &Scores, frame: Option<u64>, step: f64) -> Figure {
        let (exact, value) = scores.mean();
        Figure {
            exact,
            value,
            interval: frame.and_then(|f| scores.approx.interval(Some(f), step, 0.0, 100.0)),
            n: scores.n(),
            unanimous: scores.approx.variance().is_some_and(|v| v < 1e-12),
        }
    }

    /// Method `rate`: the mean of the dimensions' satisfaction rates in percent, each
    /// `satisfied / valid` of its pooled answers (`(valid, satisfied)` per dimension; a
    /// dimension without a valid answer is left out), over `n` respondents. The interval
    /// is Wilson's for a rate on n respondents with the finite-population step, cut to
    /// what a village of `frame` can hold: each respondent counts as one whole vote, the
    /// most spread a rate on n people can have, so it is never narrower than the truth's.
    pub fn from_rates(dimensions: &[(u64, u64)], n: u64, frame: Option<u64>) -> Figure {
        let parts: Vec<(u64, u64)> = dimensions
            .iter()
            .copied()
            .filter(|(valid, satisfied)| *valid > 0 && satisfied <= valid)
            .collect();
        if parts.is_empty() || n == 0 {
            return Figure::default();
        }
        let count = parts.len() as u64;
        let exact = parts
            .iter()
            .try_fold(Ratio::from_int(0), |sum, (v, s)| {
                sum.checked_add(Ratio::new(i128::from(*s) * 100, i128::from(*v))?)
            })
            .and_then(|sum| sum.checked_div_int(count));
        let approx = parts
            .iter()
            .map(|(v, s)| *s as f64 * 100.0 / *v as f64)
            .sum::<f64>()
            / count as f64;
        let value = exact.map_or(approx, Ratio::to_f64);
        let interval = frame
            .and_then(|f| wilson_rate(value / 100.0, n, Some(f), Z95))
            .map(|i| Interval {
                low: i.low * 100.0,
                high: i.high * 100.0,
            });
        Figure {
            exact,
            value: Some(value),
            interval,
            n,
            // All satisfied or none: each rater's answers are known.
            unanimous: parts.iter().all(|(v, s)| s == v) || parts.iter().all(|(_, s)| *s == 0),
        }
    }
}

/// The panel's ratings of one village as item 16 needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PanelRatings {
    /// P from the valid ratings that are not recused.
    pub figure: Figure,
    /// Every rating of the village, recused ones and ones without a scored answer included.
    pub ratings: u64,
    /// Ratings recused: the rater lives (本村居民) or works (在本村任职) in the village.
    pub recused: u64,
}

/// Why the panel's P does not enter S although the village has panel ratings: too few
/// valid ratings (fewer than `min`), or more than half of the ratings recused, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PanelNotCounted {
    /// Valid ratings that are not recused.
    pub valid: u64,
    /// The scheme's `panel_min`.
    pub min: u64,
    pub recused: u64,
    pub ratings: u64,
}

impl PanelNotCounted {
    /// The quorum rule: `None` when P counts, or when the village has no rating that could
    /// count or was recused (then S = R is the plain "no panel" case).
    pub fn check(panel: &PanelRatings, min: u64) -> Option<PanelNotCounted> {
        let valid = panel.figure.n;
        let not = PanelNotCounted {
            valid,
            min,
            recused: panel.recused,
            ratings: panel.ratings.max(valid.saturating_add(panel.recused)),
        };
        let nothing = valid == 0 && panel.recused == 0;
        (!nothing && (not.too_few() || not.mostly_recused())).then_some(not)
    }

    /// Fewer valid ratings than the quorum.
    pub fn too_few(&self) -> bool {
        self.valid < self.min
    }

    /// More than half of the ratings recused.
    pub fn mostly_recused(&self) -> bool {
        self.recused.saturating_mul(2) > self.ratings
    }

    /// The reason in plain Chinese, for the pages and the download.
    pub fn note_zh(&self) -> String {
        let mut parts = Vec::new();
        if self.too_few() {
            parts.push(if self.valid == 0 {
                "代表委员没有有效评价".to_string()
            } else {
                format!(
                    "代表委员有效评价只有 {} 份，少于 {} 份",
                    self.valid, self.min
                )
            });
        }
        if self.mostly_recused() {
            parts.push(format!(
                "{} 份代表委员评价中有 {} 份因评价人是本村居民或在本村任职而回避，超过一半",
                self.ratings, self.recused
            ));
        }
        format!("{}，综合得分只按群众评价计算", parts.join("；"))
    }
}

/// One step of a questionnaire's scale: the smallest gap between two different option
/// scores (20 for 100/80/60/0). R's interval never assumes less spread than one respondent
/// one step away from all the others (see [`MeanAcc::interval`]). 0 when the scale has a
/// single score.
pub fn scale_step(scoring: Option<&FormScoring>) -> f64 {
    let mut scores: Vec<f64> = scoring
        .map(|s| {
            s.scores
                .values()
                .copied()
                .filter(|x| x.is_finite())
                .collect()
        })
        .unwrap_or_default();
    scores.sort_by(f64::total_cmp);
    scores
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|gap| *gap > 0.0)
        .min_by(f64::total_cmp)
        .unwrap_or(0.0)
}

/// The grade of an exact score: the first line (best first) it reaches, inclusive.
/// `None` when a line cannot be read exactly (the caller then grades in floating point).
fn exact_grade(scheme: &Scheme, score: Ratio) -> Option<Option<&str>> {
    for (label, min) in &scheme.thresholds {
        if score >= Ratio::from_decimal(*min)? {
            return Some(Some(label.as_str()));
        }
    }
    Some(None)
}

/// S = w_r·R + w_p·P exactly, with the weights read as the decimals written in the scheme.
fn exact_s(scheme: &Scheme, r: Ratio, p: Option<Ratio>) -> Option<Ratio> {
    match p {
        None => Some(r),
        Some(p) => Ratio::from_decimal(scheme.weight_recipients)?
            .checked_mul(r)?
            .checked_add(Ratio::from_decimal(scheme.weight_panel)?.checked_mul(p)?),
    }
}

/// Item 16 of one village, computed. Figures from fewer than k answers are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item16 {
    /// Valid respondents: recipients with at least one scored answer (method `rate`: one
    /// in a dimension of the rate).
    pub respondents: u64,
    /// The fewest valid respondents this village needs for a grade
    /// ([`Scheme::min_valid`]).
    pub min_respondents: u64,
    /// What R, P and S are: rates (percent) or mean scores.
    pub method: Method,
    /// The village's frame size N.
    pub frame: u64,
    pub r: Option<f64>,
    pub r_interval: Option<Interval>,
    /// Valid panel ratings of the village that are not recused (P's inputs).
    pub panel_ratings: u64,
    /// Panel ratings recused (the rater lives or works in the village).
    pub panel_recused: u64,
    /// Why P does not enter S although there are ratings; `None` when it does, or when
    /// there is no panel (`no_panel`).
    pub panel_not_counted: Option<PanelNotCounted>,
    pub p: Option<f64>,
    pub s: Option<f64>,
    pub s_interval: Option<Interval>,
    /// No panel rating (none valid, none recused): S = R.
    pub no_panel: bool,
    /// The computed grade; `None` with `insufficient`.
    pub grade: Option<String>,
    /// S's interval reaches into another grade.
    pub uncertain: bool,
    /// Fewer valid respondents than the scheme's `min_respondents`.
    pub insufficient: bool,
}

/// A figure as the pages show it: a rate as "84.2%", a score as "84.20".
pub fn figure_text(scheme: &Scheme, x: f64) -> String {
    match scheme.method {
        Method::Rate => format!("{x:.1}%"),
        Method::Score => format!("{x:.2}"),
    }
}

/// The rule that links S to the grade, in a sentence for the commission: which line S
/// reaches and which it misses, e.g. "综合满意率 84.7%，达到“较好”线 80%，未达“好”线 90%，
/// 评为较好". `None` when S is not shown or there is no grade.
pub fn grade_rule_zh(scheme: &Scheme, item: &Item16) -> Option<String> {
    let (s, grade) = (item.s?, item.grade.as_deref()?);
    let name = scheme.method.figure_zh();
    let at = scheme.thresholds.iter().position(|(l, _)| l == grade)?;
    let (_, min) = &scheme.thresholds[at];
    let unit = scheme.method.unit_zh();
    let mut out = format!("综合{name} {}", figure_text(scheme, s));
    if at + 1 < scheme.thresholds.len() {
        out.push_str(&format!("，达到“{grade}”线 {min}{unit}"));
    } else {
        out.push_str(&format!(
            "低于“{}”线 {}{unit}",
            scheme.thresholds[at - 1].0,
            scheme.thresholds[at - 1].1
        ));
    }
    if at > 0 && at + 1 < scheme.thresholds.len() {
        let (above, above_min) = &scheme.thresholds[at - 1];
        out.push_str(&format!("，未达“{above}”线 {above_min}{unit}"));
    }
    out.push_str(&format!("，评为{grade}"));
    Some(out)
}

/// The scheme's rules as sentences, for the results pages: how R, P and S are made, the
/// lines, the minimum of respondents, the panel's quorum, the consequence of 不确定.
pub fn scheme_rules_zh(scheme: &Scheme, recipients: &crate::forms::Form) -> Vec<String> {
    let name = scheme.method.figure_zh();
    let mut out = Vec::new();
    match scheme.method {
        Method::Rate => {
            let dims = scheme
                .scoring(&recipients.id)
                .map(|s| s.rate_dimensions(recipients))
                .unwrap_or_default();
            let names: Vec<&str> = dims.iter().map(|d| d.label_zh()).collect();
            out.push(format!(
                "每个方面的满意率 = 答“满意”或“比较满意”的次数 ÷ 有效回答次数（“说不清”不算）；群众满意率 R = {}满意率的平均数（各占 {}）。",
                names.join("、"),
                match names.len() {
                    3 => "三分之一".to_string(),
                    2 => "一半".to_string(),
                    n => format!("1/{n}"),
                }
            ));
            out.push("两代表一委员满意率 P = 评“好”或“较好”的比例，各方面同等份量。".to_string());
        }
        Method::Score => out.push(
            "群众得分 R = 每人各计分题得分的平均数再平均；两代表一委员得分 P 同样计算。"
                .to_string(),
        ),
    }
    out.push(format!(
        "综合{name} S = {} × R + {} × P；两代表一委员不回避的有效评价少于 {} 份，或回避的超过一半时，P 不计入，S = R。",
        scheme.weight_recipients, scheme.weight_panel, scheme.panel_min
    ));
    let unit = scheme.method.unit_zh();
    let lines: Vec<String> = scheme
        .thresholds
        .iter()
        .take(scheme.thresholds.len().saturating_sub(1))
        .map(|(l, m)| format!("{l} ≥ {m}{unit}"))
        .collect();
    out.push(format!(
        "等次线（含本数）：{}，其余为{}。",
        lines.join("，"),
        scheme.thresholds.last().map_or("差", |(l, _)| l.as_str())
    ));
    out.push(match scheme.min_respondents_share {
        Some(share) => format!(
            "有效被访者少于 {} 人不评等次（数据不足）；名单人数少的村，达到名单人数的 {}%（向上取整，不少于 {} 人）即可。",
            scheme.min_respondents,
            (share * 1000.0).round() / 10.0,
            scheme.k
        ),
        None => format!("有效被访者少于 {} 人不评等次（数据不足）。", scheme.min_respondents),
    });
    out.push(format!(
        "95% 区间假定没答的人与答了的人看法相近；{}。",
        scheme.uncertain.rule_zh()
    ));
    out.push(format!("少于 {} 份答卷的数字一律不显示。", scheme.k));
    out
}

impl Item16 {
    /// Hides R, and S with it (S and P would give R away); the grade stays.
    pub fn hide_r(&mut self) {
        self.r = None;
        self.r_interval = None;
        self.s = None;
        self.s_interval = None;
    }

    /// Hides P, and S where P entered it (S and R would give P away); the grade stays.
    pub fn hide_p(&mut self) {
        if self.p.is_some() {
            self.s = None;
            self.s_interval = None;
        }
        self.p = None;
    }

    /// Computes item 16 from the recipients' figure R (over the village's `frame` of N
    /// people) and the panel's ratings, both read by the scheme's method (see
    /// [`Figure::from_scores`] and [`Figure::from_rates`]).
    pub fn compute(
        recipients: &Figure,
        panel_ratings: &PanelRatings,
        frame: u64,
        scheme: &Scheme,
    ) -> Item16 {
        let k = u64::from(scheme.k);
        let n = recipients.n;
        let insufficient = n < scheme.min_valid(frame) || n == 0;
        let (r_exact, r, r_interval) = (recipients.exact, recipients.value, recipients.interval);
        let panel = &panel_ratings.figure;
        let no_panel = panel.n == 0 && panel_ratings.recused == 0;
        let not_counted = PanelNotCounted::check(panel_ratings, u64::from(scheme.panel_min));
        // Without a quorum P stays out of S: S = R.
        let (p_exact, p) = if not_counted.is_none() {
            (panel.exact, panel.value)
        } else {
            (None, None)
        };
        let counted = p.is_some();
        let s_exact = match r_exact {
            Some(r) if !counted || p_exact.is_some() => exact_s(scheme, r, p_exact),
            _ => None,
        };
        let (s, s_interval) = match (r, p) {
            (Some(r), Some(p)) => (
                Some(s_exact.map_or(
                    scheme.weight_recipients * r + scheme.weight_panel * p,
                    Ratio::to_f64,
                )),
                r_interval.map(|i| Interval {
                    low: scheme.weight_recipients * i.low + scheme.weight_panel * p,
                    high: scheme.weight_recipients * i.high + scheme.weight_panel * p,
                }),
            ),
            (Some(r), None) => (Some(r), r_interval),
            (None, _) => (None, None),
        };
        // The exact grade where every number could be read exactly; else floating point.
        let graded = match s_exact.and_then(|x| exact_grade(scheme, x)) {
            Some(g) => g,
            None => s.and_then(|s| scheme.grade(s)),
        };
        let grade = if insufficient {
            None
        } else {
            graded.map(str::to_string)
        };
        // Uncertain when either end of S's interval grades differently from S. A point
        // (everyone asked) is sure. Without an interval (one respondent out of more)
        // nothing says the grade is sure.
        let uncertain = grade.is_some()
            && match s_interval {
                Some(i) if i.low == i.high => false,
                Some(i) => scheme.grade(i.low) != graded || scheme.grade(i.high) != graded,
                None => true,
            };
        let shown_r = n >= k;
        // P below k is hidden, and so is a P on which every rating agrees: the panel are a
        // few known people, and a unanimous P tells each one's rating. S then is hidden
        // too, since P = (S − w_r·R)/w_p would give it away. A P that does not count is
        // not shown either: S = R then, and says nothing of it.
        let shown_p = counted && panel.n >= k && !panel.unanimous;
        let shown_s = shown_r && (!counted || shown_p);
        Item16 {
            respondents: n,
            min_respondents: scheme.min_valid(frame),
            method: scheme.method,
            frame,
            r: r.filter(|_| shown_r),
            r_interval: r_interval.filter(|_| shown_r),
            panel_ratings: panel.n,
            panel_recused: panel_ratings.recused,
            panel_not_counted: not_counted,
            p: p.filter(|_| shown_p),
            s: s.filter(|_| shown_s),
            s_interval: s_interval.filter(|_| shown_s),
            no_panel,
            grade,
            uncertain,
            insufficient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in scheme read by the score (these tests are the score method's; the
    /// rate's are below), with the lines (90/75/60) and the minimum of ten respondents
    /// of the score scheme they were written for.
    fn scheme() -> Scheme {
        let mut s = crate::forms::builtin().unwrap().scheme;
        s.method = crate::forms::Method::Score;
        s.min_respondents = 10;
        s.min_respondents_share = None;
        s.thresholds = [("好", 90.0), ("较好", 75.0), ("一般", 60.0), ("差", 0.0)]
            .map(|(l, m)| (l.to_string(), m))
            .to_vec();
        s
    }

    fn fig(r: &Scores, frame: u64) -> Figure {
        Figure::from_scores(r, Some(frame), STEP)
    }

    fn panel_of(p: &Scores, recused: u64) -> PanelRatings {
        PanelRatings {
            figure: Figure::from_scores(p, None, STEP),
            ratings: p.n() + recused,
            recused,
        }
    }

    fn acc(values: &[f64]) -> Scores {
        let mut a = Scores::default();
        for v in values {
            a.push(Ratio::from_decimal(*v), *v);
        }
        a
    }

    /// One step of the built-in recipients' scale (100/80/60/0).
    const STEP: f64 = 20.0;

    fn compute(r: &Scores, p: &Scores, frame: u64) -> Item16 {
        Item16::compute(&fig(r, frame), &panel_of(p, 0), frame, &scheme())
    }

    #[test]
    fn worked_example_of_docs_results_md() {
        // 12 respondents of a village of 60; 5 panel ratings. Scheme: 0.7/0.3, 好 ≥ 90,
        // 较好 ≥ 75, 一般 ≥ 60, min_respondents 10, k 5.
        let r = acc(&[
            100.0, 100.0, 90.0, 90.0, 85.0, 85.0, 80.0, 80.0, 80.0, 75.0, 70.0, 65.0,
        ]);
        let p = acc(&[100.0, 80.0, 80.0, 80.0, 100.0]);
        let item = compute(&r, &p, 60);
        // R = 1000/12 = 83.333…; s² = Σ(x − R)²/11 = 1266.6667/11 = 115.1515 (above the
        // floor 20²/12 = 33.3); se = √((1 − 12/60)·115.1515/12) = √7.67677 = 2.77070;
        // t on 11 df = 2.200985; half = 6.09827.
        // python3 -c "from math import sqrt; xs=[100,100,90,90,85,85,80,80,80,75,70,65]; m=sum(xs)/12;
        //   s2=sum((x-m)**2 for x in xs)/11; h=2.20098516*sqrt(0.8*s2/12); print(m-h, m+h)"
        // → 77.23506804542374 89.43159862124291
        let big_r = 1000.0 / 12.0;
        assert_eq!(item.r, Some(big_r));
        let ri = item.r_interval.unwrap();
        assert!((ri.low - 77.235_068_045_423_74).abs() < 1e-9, "{ri:?}");
        assert!((ri.high - 89.431_598_621_242_91).abs() < 1e-9, "{ri:?}");
        // P = 88; S = 0.7·83.333 + 0.3·88 = 58.3333 + 26.4 = 84.7333 → 较好.
        assert_eq!(item.p, Some(88.0));
        let s = item.s.unwrap();
        assert!((s - 84.733_333_333).abs() < 1e-6, "{s}");
        assert_eq!(item.grade.as_deref(), Some("较好"));
        // S's interval: 84.7333 ± 0.7·6.09827 = [80.4645, 89.0021]: inside 较好, so sure.
        let si = item.s_interval.unwrap();
        assert!((si.low - 80.464_547_631_796_6).abs() < 1e-9, "{si:?}");
        assert!((si.high - 89.002_119_034_870_03).abs() < 1e-9, "{si:?}");
        assert!(!item.uncertain && !item.no_panel && !item.insufficient);
    }

    #[test]
    fn the_census_village_on_the_line_60_is_graded_average() {
        // Ten of ten asked, R = 480/10 = 48; five panel ratings, P = 440/5 = 88.
        // S = 0.7·48 + 0.3·88 = 60 exactly; in floating point 59.99999999999999.
        let sc = scheme();
        let float = sc.weight_recipients * 48.0 + sc.weight_panel * 88.0;
        assert_eq!((float < 60.0, sc.grade(float)), (true, Some("差")));
        let r = acc(&[60.0, 0.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0, 0.0]);
        let p = acc(&[100.0, 100.0, 80.0, 80.0, 80.0]);
        let item = compute(&r, &p, 10);
        assert_eq!(
            (item.r, item.p, item.s),
            (Some(48.0), Some(88.0), Some(60.0))
        );
        assert_eq!(item.grade.as_deref(), Some("一般"));
        assert!(!item.uncertain, "a census is sure");
    }

    #[test]
    fn every_line_is_inclusive_and_a_hair_below_is_the_grade_below() {
        // Every whole R and P with 0.7·R + 0.3·P exactly on a line (in tenths: 7R + 3P =
        // 10·line), and every one a tenth below it, in a census of ten with five ratings.
        let lines = [(90, "好", "较好"), (75, "较好", "一般"), (60, "一般", "差")];
        let mut on_line = 0;
        for (line, at, below) in lines {
            for big_r in 0..=100i64 {
                for big_p in 0..=100i64 {
                    let tenths = 7 * big_r + 3 * big_p;
                    let expected = if tenths == 10 * line {
                        at
                    } else if tenths == 10 * line - 1 {
                        below
                    } else {
                        continue;
                    };
                    let item = compute(&acc(&[big_r as f64; 10]), &acc(&[big_p as f64; 5]), 10);
                    assert_eq!(
                        item.grade.as_deref(),
                        Some(expected),
                        "R {big_r}, P {big_p}, line {line}"
                    );
                    on_line += usize::from(expected == at);
                }
            }
        }
        assert!(on_line > 20, "{on_line}");
        // Without a panel: R on each line, and a third of a point below it.
        for (line, at, below) in lines.into_iter().chain([(0, "差", "")]) {
            let l = line as f64;
            let on = compute(&acc(&[l; 10]), &Scores::default(), 10);
            assert_eq!(on.grade.as_deref(), Some(at), "R = {line}");
            if line > 0 {
                let mut scores = [l; 10];
                scores[0] = l - 10.0 / 3.0;
                let under = compute(&acc(&scores), &Scores::default(), 10);
                assert_eq!(under.grade.as_deref(), Some(below), "R = {line} − 1/3");
            }
        }
    }

    #[test]
    fn a_score_on_the_line_with_sampling_error_is_uncertain() {
        // R = 60 exactly from ten of 200: the interval reaches below 60.
        let r = acc(&[60.0; 10]);
        let item = compute(&r, &Scores::default(), 200);
        assert_eq!(item.grade.as_deref(), Some("一般"));
        assert!(item.uncertain);
    }

    #[test]
    fn uncertain_on_both_sides_of_a_threshold() {
        // Just above 90 with a wide interval, and just below 90 with a wide interval.
        let above = acc(&[
            100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 80.0, 80.0, 80.0, 70.0,
        ]);
        let below = acc(&[
            100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 80.0, 80.0, 70.0, 60.0,
        ]);
        let none = Scores::default();
        let a = compute(&above, &none, 200);
        assert_eq!(a.s, Some(91.0));
        assert_eq!(a.grade.as_deref(), Some("好"));
        assert!(a.uncertain && a.no_panel);
        let b = compute(&below, &none, 200);
        assert_eq!(b.s, Some(89.0));
        assert_eq!(b.grade.as_deref(), Some("较好"));
        assert!(b.uncertain);
        // The same answers from everyone in a village of 10: a census, so sure.
        let census = compute(&above, &none, 10);
        assert_eq!(census.s_interval, Some(Interval::point(91.0)));
        assert!(!census.uncertain);
        // Exactly on the threshold with everyone asked: 好 (inclusive), sure.
        let on = acc(&[90.0; 10]);
        let exact = compute(&on, &none, 10);
        assert_eq!(
            (exact.grade.as_deref(), exact.uncertain),
            (Some("好"), false)
        );
    }

    #[test]
    fn fewer_respondents_than_the_minimum_get_no_grade_and_small_cells_are_hidden() {
        let nine = acc(&[100.0; 9]);
        let three = acc(&[100.0, 80.0, 60.0]);
        let item = compute(&nine, &three, 100);
        assert!(item.insufficient);
        assert_eq!(item.grade, None);
        assert!(!item.uncertain);
        assert_eq!(item.r, Some(100.0));
        // Three panel ratings: fewer than panel_min (5), so P does not count and S = R;
        // P is not shown.
        assert_eq!(item.p, None);
        assert_eq!((item.s, item.s_interval), (Some(100.0), item.r_interval));
        assert_eq!(item.panel_ratings, 3);
        assert!(item.panel_not_counted.is_some_and(|n| n.too_few()));
        let four = acc(&[100.0; 4]);
        let hidden = compute(&four, &Scores::default(), 100);
        assert_eq!((hidden.r, hidden.s, hidden.r_interval), (None, None, None));
    }

    fn with_panel(r: &Scores, p: &[f64], recused: u64) -> Item16 {
        Item16::compute(&fig(r, 60), &panel_of(&acc(p), recused), 60, &scheme())
    }

    #[test]
    fn p_counts_from_panel_min_valid_ratings_and_not_one_below() {
        assert_eq!(scheme().panel_min, 5);
        let r = acc(&[100.0; 12]);
        // Four ratings, one of them 差: P = 75 would make S = 92.5; without a quorum S = R.
        let four = with_panel(&r, &[100.0, 100.0, 100.0, 0.0], 0);
        assert_eq!(
            (four.s, four.p, four.grade.as_deref()),
            (Some(100.0), None, Some("好"))
        );
        assert_eq!(four.s_interval, four.r_interval);
        let why = four.panel_not_counted.expect("not counted");
        assert_eq!((why.valid, why.min), (4, 5));
        assert_eq!(
            why.note_zh(),
            "代表委员有效评价只有 4 份，少于 5 份，综合得分只按群众评价计算"
        );
        assert!(!four.no_panel);
        // Five: P = 80 counts, S = 0.7·100 + 0.3·80 = 94.
        let five = with_panel(&r, &[100.0, 100.0, 100.0, 100.0, 0.0], 0);
        assert_eq!(
            (five.p, five.s, five.panel_not_counted),
            (Some(80.0), Some(94.0), None)
        );
        // One member failing the village with 差 can no longer do it alone and unseen.
        let one = with_panel(&r, &[0.0], 0);
        assert_eq!((one.s, one.grade.as_deref()), (Some(100.0), Some("好")));
    }

    #[test]
    fn p_does_not_count_when_more_than_half_of_the_ratings_are_recused() {
        let r = acc(&[90.0; 12]);
        let p = [100.0, 80.0, 80.0, 80.0, 100.0];
        // Five valid ratings and five recused: exactly half, P counts.
        let half = with_panel(&r, &p, 5);
        assert_eq!(half.panel_not_counted, None);
        assert_eq!((half.p, half.panel_recused), (Some(88.0), 5));
        // Six recused of eleven: more than half, S = R.
        let more = with_panel(&r, &p, 6);
        let why = more.panel_not_counted.expect("not counted");
        assert!(why.mostly_recused() && !why.too_few());
        assert_eq!(
            why.note_zh(),
            "11 份代表委员评价中有 6 份因评价人是本村居民或在本村任职而回避，超过一半，综合得分只按群众评价计算"
        );
        assert_eq!((more.s, more.p), (Some(90.0), None));
        // Both reasons at once, and every rating recused.
        let both = with_panel(&r, &[100.0, 80.0], 3);
        let why = both.panel_not_counted.unwrap();
        assert!(why.too_few() && why.mostly_recused(), "{why:?}");
        assert!(
            why.note_zh()
                .contains("少于 5 份；5 份代表委员评价中有 3 份")
        );
        let all = with_panel(&r, &[], 4);
        assert!(!all.no_panel && all.s == Some(90.0));
        assert!(
            all.panel_not_counted
                .unwrap()
                .note_zh()
                .starts_with("代表委员没有有效评价")
        );
        // No rating at all: the plain "no panel" case, no reason needed.
        let none = with_panel(&r, &[], 0);
        assert!(none.no_panel && none.panel_not_counted.is_none());
    }

    #[test]
    fn a_p_below_k_that_counts_hides_s_whatever_the_quorum() {
        // A scheme whose quorum (3) is below k (5): P from 3 ratings counts but is hidden,
        // and S with it, or P = (S − 0.7·R)/0.3 would give it away.
        let mut sc = scheme();
        sc.panel_min = 3;
        let panel = panel_of(&acc(&[100.0, 80.0, 60.0]), 0);
        let item = Item16::compute(&fig(&acc(&[90.0; 12]), 60), &panel, 60, &sc);
        assert_eq!(item.panel_not_counted, None);
        assert_eq!((item.p, item.s, item.s_interval), (None, None, None));
        // 0.7·90 + 0.3·80 = 87 → 较好, not R's 好: P entered the grade.
        assert_eq!(item.grade.as_deref(), Some("较好"));
    }

    #[test]
    fn a_unanimous_panel_hides_p_and_s_but_keeps_the_grade() {
        let r = acc(&[90.0; 12]);
        // Six members all gave 100: P would tell the village each member's rating.
        let item = compute(&r, &acc(&[100.0; 6]), 60);
        assert_eq!((item.p, item.s, item.s_interval), (None, None, None));
        assert_eq!(item.r, Some(90.0));
        assert_eq!(item.grade.as_deref(), Some("好"));
        // One member differs: P no longer tells anyone's rating.
        let split = compute(&r, &acc(&[100.0, 100.0, 100.0, 100.0, 100.0, 80.0]), 60);
        assert!(split.p.is_some() && split.s.is_some());
    }

    /// The shipped scheme: the rate, 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60, 30 respondents (half
    /// of a small roster), the panel at 0.3.
    fn rate_scheme() -> Scheme {
        crate::forms::builtin().unwrap().scheme
    }

    fn rate(dims: &[(u64, u64)], n: u64, frame: u64, panel: &[(u64, u64)], raters: u64) -> Item16 {
        let r = Figure::from_rates(dims, n, Some(frame));
        let panel = PanelRatings {
            figure: Figure::from_rates(panel, raters, None),
            ratings: raters,
            recused: 0,
        };
        Item16::compute(&r, &panel, frame, &rate_scheme())
    }

    #[test]
    fn ninety_percent_fairly_satisfied_is_a_ninety_percent_rate_and_good() {
        // 40 of 1000 asked; in each dimension 36 比较满意 and 4 不满意. By the score (80 and
        // 0) R would be 72 → 一般; by the rate it is 90% → 好.
        let item = rate(&[(40, 36), (40, 36), (40, 36)], 40, 1000, &[], 0);
        assert_eq!(item.r, Some(90.0));
        assert_eq!(item.grade.as_deref(), Some("好"));
        assert!(item.uncertain, "40 of 1000 cannot tell 90% from 89%");
        let mut score = Scores::default();
        for x in [80.0; 36].into_iter().chain([0.0; 4]) {
            score.push(Ratio::from_decimal(x), x);
        }
        let by_score = Item16::compute(
            &Figure::from_scores(&score, Some(1000), 25.0),
            &PanelRatings::default(),
            1000,
            &scheme(),
        );
        assert_eq!(
            (by_score.r, by_score.grade.as_deref()),
            (Some(72.0), Some("一般"))
        );
    }

    #[test]
    fn the_three_dimensions_weigh_one_third_each_and_a_rate_on_the_line_grades_up() {
        // 服务 6/15 = 40%, 作风 14/15 = 93.3%, 廉洁 7/15 = 46.7%: the mean is 60% exactly;
        // summed in floating point it is 59.99999999999999.
        let float = (600.0 / 15.0 + 1400.0 / 15.0 + 700.0 / 15.0) / 3.0;
        assert!(float < 60.0, "{float}");
        let item = rate(&[(15, 6), (15, 14), (15, 7)], 15, 15, &[], 0);
        assert_eq!(item.r, Some(60.0));
        assert_eq!(item.grade.as_deref(), Some("一般"));
        assert!(!item.uncertain, "everyone asked");
        // One satisfied answer fewer in 服务: 5/15, the mean 57.8% → 差.
        let below = rate(&[(15, 5), (15, 14), (15, 7)], 15, 15, &[], 0);
        assert_eq!(below.grade.as_deref(), Some("差"));
        // A dimension's weight does not follow its number of answers: 作风 with twice the
        // answers (two questions) still counts one third.
        let two = rate(&[(15, 6), (30, 28), (15, 7)], 15, 15, &[], 0);
        assert_eq!(two.r, Some(60.0));
    }

    #[test]
    fn the_rate_interval_is_wilson_on_the_respondents_cut_to_the_village() {
        // 32 of 45 asked; R = 29/32 in every dimension = 90.625%. Wilson with the finite
        // step, cut to at most (29 + 13)/45 = 93.33%.
        let item = rate(&[(32, 29), (32, 29), (32, 29)], 32, 45, &[], 0);
        let i = item.r_interval.unwrap();
        let w = crate::results::stats::wilson(29, 32, Some(45), Z95).unwrap();
        assert!((i.low - w.low * 100.0).abs() < 1e-9, "{i:?} {w:?}");
        assert!((i.high - 4200.0 / 45.0).abs() < 1e-9, "{i:?}");
        // Everyone agreeing is not a point unless everyone was asked.
        let all = rate(&[(12, 12), (12, 12), (12, 12)], 12, 200, &[], 0);
        let i = all.r_interval.unwrap();
        assert!(i.low < 100.0 && i.high == 100.0, "{i:?}");
        let census = rate(&[(12, 12), (12, 12), (12, 12)], 12, 12, &[], 0);
        assert_eq!(census.r_interval, Some(Interval::point(100.0)));
    }

    #[test]
    fn thirty_respondents_or_half_a_small_roster() {
        let full = [(29, 29), (29, 29), (29, 29)];
        let few = rate(&full, 29, 1000, &[], 0);
        assert!(few.insufficient && few.grade.is_none());
        assert_eq!(few.min_respondents, 30);
        let thirty = rate(&[(30, 30), (30, 30), (30, 30)], 30, 1000, &[], 0);
        assert!(!thirty.insufficient && thirty.grade.is_some());
        // A roster of 40 (everyone asked): 20 valid respondents are enough, 19 are not.
        let small = rate(&[(20, 20), (20, 20), (20, 20)], 20, 40, &[], 0);
        assert_eq!((small.min_respondents, small.insufficient), (20, false));
        let smaller = rate(&[(19, 19), (19, 19), (19, 19)], 19, 40, &[], 0);
        assert!(smaller.insufficient);
    }

    #[test]
    fn the_panels_rate_enters_s_and_a_unanimous_one_is_hidden() {
        let r = [(40, 36), (40, 36), (40, 36)];
        // Six members: 18 of 24 answers 好/较好 = 75%; S = 0.7·90 + 0.3·75 = 85.5 → 较好.
        let item = rate(&r, 40, 40, &[(6, 5), (6, 4), (6, 5), (6, 4)], 6);
        assert_eq!(item.p, Some(75.0));
        assert_eq!(item.s, Some(85.5));
        assert_eq!(item.grade.as_deref(), Some("较好"));
        let sc = rate_scheme();
        assert_eq!(
            grade_rule_zh(&sc, &item).as_deref(),
            Some("综合满意率 85.5%，达到“较好”线 80%，未达“好”线 90%，评为较好")
        );
        // Every answer 好/较好: P = 100% tells each member's ratings; P and S hidden.
        let all = rate(&r, 40, 40, &[(6, 6), (6, 6), (6, 6), (6, 6)], 6);
        assert_eq!((all.p, all.s), (None, None));
        assert_eq!(all.grade.as_deref(), Some("好"), "0.7·90 + 0.3·100 = 93");
    }

    #[test]
    fn the_rules_are_printed_in_plain_chinese() {
        let forms = crate::forms::builtin().unwrap();
        let rules = scheme_rules_zh(&forms.scheme, &forms.recipients).join("\n");
        for needle in [
            "服务、作风、廉洁满意率的平均数（各占 三分之一）",
            "好 ≥ 90%，较好 ≥ 80%，一般 ≥ 60%",
            "有效被访者少于 30 人不评等次",
            "领导小组确认",
            "少于 5 份答卷的数字一律不显示",
        ] {
            assert!(rules.contains(needle), "{needle} not in {rules}");
        }
    }
}
