//! Item 16's score and grade for one village (the seed's item 16).
//!
//! R is the mean over recipients of each one's mean option score (不了解 excluded), P the
//! same over the panel's ratings of the village, S = w_r·R + w_p·P (S = R, flagged, where
//! the village has no panel rating). The grade is the scheme's, thresholds inclusive. R has
//! a 95% normal interval with the finite-population factor, carried into S with P fixed
//! (the panel is not a sample); the grade is "uncertain" when the two ends of S's interval
//! fall in different grades. Fewer valid respondents than the scheme's minimum: no grade.

use crate::forms::Scheme;
use crate::results::stats::{Interval, MeanAcc, Z95};
use serde::Serialize;

/// Item 16 of one village, computed. Figures from fewer than k answers are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item16 {
    /// Valid respondents: recipients with at least one scored answer.
    pub respondents: u64,
    /// The village's frame size N.
    pub frame: u64,
    pub r: Option<f64>,
    pub r_interval: Option<Interval>,
    /// Panel ratings of the village.
    pub panel_ratings: u64,
    pub p: Option<f64>,
    pub s: Option<f64>,
    pub s_interval: Option<Interval>,
    /// No panel rating: S = R.
    pub no_panel: bool,
    /// The computed grade; `None` with `insufficient`.
    pub grade: Option<String>,
    /// S's interval reaches into another grade.
    pub uncertain: bool,
    /// Fewer valid respondents than the scheme's `min_respondents`.
    pub insufficient: bool,
}

impl Item16 {
    /// Computes item 16 from the respondents' scores (`recipients`, over the village's
    /// `frame` of N people) and the panel's (`panel`).
    pub fn compute(recipients: &MeanAcc, panel: &MeanAcc, frame: u64, scheme: &Scheme) -> Item16 {
        let k = u64::from(scheme.k);
        let n = recipients.n();
        let insufficient = n < u64::from(scheme.min_respondents) || n == 0;
        let r = recipients.mean();
        let r_interval = recipients.interval(Some(frame), Z95, 0.0, 100.0);
        let p = panel.mean();
        let no_panel = p.is_none();
        let (s, s_interval) = match (r, p) {
            (Some(r), Some(p)) => (
                Some(scheme.weight_recipients * r + scheme.weight_panel * p),
                r_interval.map(|i| Interval {
                    low: scheme.weight_recipients * i.low + scheme.weight_panel * p,
                    high: scheme.weight_recipients * i.high + scheme.weight_panel * p,
                }),
            ),
            (Some(r), None) => (Some(r), r_interval),
            (None, _) => (None, None),
        };
        let grade = if insufficient {
            None
        } else {
            s.and_then(|s| scheme.grade(s)).map(str::to_string)
        };
        // Without an interval (one respondent out of more) nothing says the grade is sure.
        let uncertain = grade.is_some()
            && match s_interval {
                Some(i) => scheme.grade(i.low) != scheme.grade(i.high),
                None => true,
            };
        let shown_r = n >= k;
        // P below k is hidden, and so is a P on which every rating agrees: the panel are a
        // few known people, and a unanimous P tells each one's rating. S then is hidden
        // too, since P = (S − w_r·R)/w_p would give it away.
        let unanimous = panel.variance().is_some_and(|v| v < 1e-12);
        let shown_p = panel.n() >= k && !unanimous;
        let shown_s = shown_r && (no_panel || shown_p);
        Item16 {
            respondents: n,
            frame,
            r: r.filter(|_| shown_r),
            r_interval: r_interval.filter(|_| shown_r),
            panel_ratings: panel.n(),
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

    fn scheme() -> Scheme {
        crate::forms::builtin().unwrap().scheme
    }

    fn acc(values: &[f64]) -> MeanAcc {
        let mut a = MeanAcc::default();
        for v in values {
            a.push(*v);
        }
        a
    }

    #[test]
    fn worked_example_of_docs_results_md() {
        // 12 respondents of a village of 60; 5 panel ratings. Scheme: 0.7/0.3, 好 ≥ 90,
        // 较好 ≥ 75, 一般 ≥ 60, min_respondents 10, k 5.
        let r = acc(&[
            100.0, 100.0, 90.0, 90.0, 85.0, 85.0, 80.0, 80.0, 80.0, 75.0, 70.0, 65.0,
        ]);
        let p = acc(&[100.0, 80.0, 80.0, 80.0, 100.0]);
        let item = Item16::compute(&r, &p, 60, &scheme());
        // R = 1000/12 = 83.333…; s² = Σ(x − R)²/11 = 1266.6667/11 = 115.1515
        // se = √((1 − 12/60)·115.1515/12) = √7.67677 = 2.77070; half = 1.96·se = 5.43057
        let big_r = 1000.0 / 12.0;
        assert!((item.r.unwrap() - big_r).abs() < 1e-12);
        let half = 1.96 * ((1.0 - 12.0 / 60.0) * (1266.0 + 2.0 / 3.0) / 11.0 / 12.0f64).sqrt();
        assert!((half - 5.430_57).abs() < 1e-5, "{half}");
        let ri = item.r_interval.unwrap();
        assert!((ri.low - (big_r - half)).abs() < 1e-9 && (ri.high - (big_r + half)).abs() < 1e-9);
        // P = 88; S = 0.7·83.333 + 0.3·88 = 58.3333 + 26.4 = 84.7333 → 较好.
        assert_eq!(item.p, Some(88.0));
        let s = item.s.unwrap();
        assert!((s - 84.733_333_333).abs() < 1e-6, "{s}");
        assert_eq!(item.grade.as_deref(), Some("较好"));
        // S's interval: 84.7333 ± 0.7·5.43057 = [80.932, 88.535]: inside 较好, so sure.
        let si = item.s_interval.unwrap();
        assert!((si.low - (s - 0.7 * half)).abs() < 1e-9);
        assert!(!item.uncertain && !item.no_panel && !item.insufficient);
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
        let none = MeanAcc::default();
        let a = Item16::compute(&above, &none, 200, &scheme());
        assert_eq!(a.s, Some(91.0));
        assert_eq!(a.grade.as_deref(), Some("好"));
        assert!(a.uncertain && a.no_panel);
        let b = Item16::compute(&below, &none, 200, &scheme());
        assert_eq!(b.s, Some(89.0));
        assert_eq!(b.grade.as_deref(), Some("较好"));
        assert!(b.uncertain);
        // The same answers from everyone in a village of 10: a census, so sure.
        let census = Item16::compute(&above, &none, 10, &scheme());
        assert_eq!(census.s_interval, Some(Interval::point(91.0)));
        assert!(!census.uncertain);
        // Exactly on the threshold with everyone asked: 好 (inclusive), sure.
        let on = acc(&[90.0; 10]);
        let exact = Item16::compute(&on, &none, 10, &scheme());
        assert_eq!(
            (exact.grade.as_deref(), exact.uncertain),
            (Some("好"), false)
        );
    }

    #[test]
    fn fewer_respondents_than_the_minimum_get_no_grade_and_small_cells_are_hidden() {
        let nine = acc(&[100.0; 9]);
        let three = acc(&[100.0, 80.0, 60.0]);
        let item = Item16::compute(&nine, &three, 100, &scheme());
        assert!(item.insufficient);
        assert_eq!(item.grade, None);
        assert!(!item.uncertain);
        assert_eq!(item.r, Some(100.0));
        // Three panel ratings: P is not shown (k = 5), though it enters S; S is hidden too,
        // or P would follow from S and R.
        assert_eq!(item.p, None);
        assert_eq!((item.s, item.s_interval), (None, None));
        assert_eq!(item.panel_ratings, 3);
        let four = acc(&[100.0; 4]);
        let hidden = Item16::compute(&four, &MeanAcc::default(), 100, &scheme());
        assert_eq!((hidden.r, hidden.s, hidden.r_interval), (None, None, None));
    }

    #[test]
    fn a_unanimous_panel_hides_p_and_s_but_keeps_the_grade() {
        let r = acc(&[90.0; 12]);
        // Six members all gave 100: P would tell the village each member's rating.
        let item = Item16::compute(&r, &acc(&[100.0; 6]), 60, &scheme());
        assert_eq!((item.p, item.s, item.s_interval), (None, None, None));
        assert_eq!(item.r, Some(90.0));
        assert_eq!(item.grade.as_deref(), Some("好"));
        // One member differs: P no longer tells anyone's rating.
        let split = Item16::compute(
            &r,
            &acc(&[100.0, 100.0, 100.0, 100.0, 100.0, 80.0]),
            60,
            &scheme(),
        );
        assert!(split.p.is_some() && split.s.is_some());
    }
}
