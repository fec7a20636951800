//! AAPOR response rates (Standard Definitions): RR1, RR2, RR3, COOP1, REF1, CON1.
//!
//! [`Counts`] holds the number of cases per disposition class; summing the counts of
//! villages gives the campaign's. [`Counts::rates`] evaluates the formulas of docs/fieldwork.md
//! literally, in `f64`, left to right, so another implementation that writes them the
//! same way agrees to the last bit (tests pin the shared vector to 1e-12). A rate whose
//! denominator is zero is `None` and is shown empty, never as 0.
//!
//! Beside them, [`invalid_number_rate`]: not an AAPOR rate but a figure of roster
//! quality — how many of the numbers a village handed in proved wrong or dead.

use crate::dispositions::Class;
use serde::Serialize;
use std::iter::Sum;
use std::ops::AddAssign;

/// Number of cases in each AAPOR class.
///
/// Villages are summed with `+=` (or `.sum()`). There is deliberately no `impl Add`:
/// `Add::add(self, Counts)` would shadow the inherent `add(&mut self, Class)` in method
/// calls (`counts.add(class)` would not compile).
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub i: u64,
    pub p: u64,
    pub r: u64,
    pub nc: u64,
    pub o: u64,
    pub uh: u64,
    pub ne: u64,
}

/// The response rates; `None` where the denominator is zero.
#[derive(Default, Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rates {
    /// Estimated share of UH cases that are eligible.
    pub e: Option<f64>,
    pub rr1: Option<f64>,
    pub rr2: Option<f64>,
    pub rr3: Option<f64>,
    pub coop1: Option<f64>,
    pub ref1: Option<f64>,
    pub con1: Option<f64>,
}

impl Counts {
    /// Count one case of class `c` (saturating: never overflows or panics).
    pub fn add(&mut self, c: Class) {
        let slot = match c {
            Class::I => &mut self.i,
            Class::P => &mut self.p,
            Class::R => &mut self.r,
            Class::NC => &mut self.nc,
            Class::O => &mut self.o,
            Class::UH => &mut self.uh,
            Class::NE => &mut self.ne,
        };
        *slot = slot.saturating_add(1);
    }

    /// The count of class `c`.
    pub fn get(&self, c: Class) -> u64 {
        match c {
            Class::I => self.i,
            Class::P => self.p,
            Class::R => self.r,
            Class::NC => self.nc,
            Class::O => self.o,
            Class::UH => self.uh,
            Class::NE => self.ne,
        }
    }

    /// All cases counted (saturating).
    pub fn total(&self) -> u64 {
        Class::ALL
            .into_iter()
            .fold(0u64, |t, c| t.saturating_add(self.get(c)))
    }

    /// RR1, RR2, RR3, COOP1, REF1, CON1 and e.
    ///
    /// Each count is converted to `f64` (exact below 2^53) and the sums are taken in the
    /// order the formulas are written, so there is no integer overflow on any input.
    /// RR3 is `None` when e is `None` (I+P+R+NC+O+NE = 0: nothing is known about
    /// eligibility, so e·UH is undefined) — it is not computed with e·UH taken as 0.
    pub fn rates(&self) -> Rates {
        let i = self.i as f64;
        let p = self.p as f64;
        let r = self.r as f64;
        let nc = self.nc as f64;
        let o = self.o as f64;
        let uh = self.uh as f64;
        let ne = self.ne as f64;

        let e = ratio(i + p + r + nc + o, i + p + r + nc + o + ne);
        let rr3 = match e {
            Some(e) => ratio(i, i + p + r + nc + o + e * uh),
            None => None,
        };
        Rates {
            e,
            rr1: ratio(i, i + p + r + nc + o + uh),
            rr2: ratio(i + p, i + p + r + nc + o + uh),
            rr3,
            coop1: ratio(i, i + p + r + o),
            ref1: ratio(r, i + p + r + nc + o + uh),
            con1: ratio(i + p + r + o, i + p + r + o + nc + uh),
        }
    }
}

/// A village's invalid-number rate: cases whose final outcome is a wrong number or a
/// number not in service (`dispositions::case_invalid_number`) over cases released;
/// `None` when nothing was released. Those cases are UH in the AAPOR rates, so this
/// shows how much of UH the roster itself caused.
pub fn invalid_number_rate(invalid: u64, released: u64) -> Option<f64> {
    ratio(invalid as f64, released as f64)
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    // Denominators are sums of non-negative counts (and e·UH with e ≥ 0), so "not > 0"
    // means exactly zero.
    if den > 0.0 { Some(num / den) } else { None }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, rhs: Counts) {
        self.i = self.i.saturating_add(rhs.i);
        self.p = self.p.saturating_add(rhs.p);
        self.r = self.r.saturating_add(rhs.r);
        self.nc = self.nc.saturating_add(rhs.nc);
        self.o = self.o.saturating_add(rhs.o);
        self.uh = self.uh.saturating_add(rhs.uh);
        self.ne = self.ne.saturating_add(rhs.ne);
    }
}

impl Sum for Counts {
    fn sum<It: Iterator<Item = Counts>>(iter: It) -> Counts {
        iter.fold(Counts::default(), |mut a, b| {
            a += b;
            a
        })
    }
}

impl<'a> Sum<&'a Counts> for Counts {
    fn sum<It: Iterator<Item = &'a Counts>>(iter: It) -> Counts {
        iter.fold(Counts::default(), |mut a, b| {
            a += *b;
            a
        })
    }
}

impl FromIterator<Class> for Counts {
    fn from_iter<It: IntoIterator<Item = Class>>(iter: It) -> Counts {
        let mut c = Counts::default();
        for class in iter {
            c.add(class);
        }
        c
    }
}

/// A rate as a percentage with one decimal, e.g. `"64.2%"`; `""` for `None` (zero
/// denominator) and for a non-finite value. Rounds half away from zero (四舍五入, as
/// Excel/WPS show it): 0.5625 → `"56.3%"`, where `format!("{:.1}")` would give 56.2.
pub fn format_rate(r: Option<f64>) -> String {
    match r {
        Some(x) if x.is_finite() => {
            let tenths = (x * 1000.0).round();
            let sign = if tenths < 0.0 { "-" } else { "" };
            let t = tenths.abs();
            // `t` is a whole number; print it as integer tenths without float formatting.
            format!("{sign}{}.{}%", (t / 10.0).trunc(), t % 10.0)
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("rate should be defined");
        assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
    }

    /// /work/shared/vectors/vectors.json, entry "aapor".
    #[test]
    fn shared_vector() {
        let c = Counts {
            i: 140,
            p: 6,
            r: 22,
            nc: 15,
            o: 4,
            uh: 31,
            ne: 12,
        };
        let r = c.rates();
        close(r.e, 0.9396984924623115);
        close(r.rr1, 0.6422018348623854);
        close(r.rr2, 0.6697247706422018);
        close(r.rr3, 0.6477563357358754);
        close(r.coop1, 0.813953488372093);
        close(r.ref1, 0.10091743119266056);
        close(r.con1, 0.7889908256880734);
        assert_eq!(format_rate(r.rr1), "64.2%");
        assert_eq!(format_rate(r.coop1), "81.4%");
    }

    #[test]
    fn hand_example() {
        // 10 released: 5 complete, 1 partial, 1 refusal, 1 NC, 0 O, 1 UH, 1 NE.
        let c: Counts = [
            Class::I,
            Class::I,
            Class::I,
            Class::I,
            Class::I,
            Class::P,
            Class::R,
            Class::NC,
            Class::UH,
            Class::NE,
        ]
        .into_iter()
        .collect();
        assert_eq!(c.total(), 10);
        let r = c.rates();
        // e = 8/9; RR3 = 5 / (8 + 8/9) = 45/80
        close(r.e, 8.0 / 9.0);
        close(r.rr1, 5.0 / 9.0);
        close(r.rr2, 6.0 / 9.0);
        close(r.rr3, 45.0 / 80.0);
        close(r.coop1, 5.0 / 7.0);
        close(r.ref1, 1.0 / 9.0);
        close(r.con1, 7.0 / 9.0);
        assert_eq!(format_rate(r.rr1), "55.6%");
        assert_eq!(format_rate(r.rr3), "56.3%");
    }

    /// 甲村 of docs/fieldwork.md: the shared vector's village, whose 12 NE cases were
    /// all wrong or dead numbers, before (NE) and after (UH) the named-roster mapping.
    #[test]
    fn a_village_with_wrong_numbers_before_and_after() {
        use crate::dispositions::{Outcome, Outcome::*, case_class, case_invalid_number};
        let mut cases: Vec<Vec<Outcome>> = Vec::new();
        let mut add = |n: usize, outcomes: &[Outcome]| {
            cases.extend(std::iter::repeat_n(outcomes.to_vec(), n));
        };
        add(140, &[Complete]);
        add(6, &[NoAnswer, Partial]);
        add(22, &[Refusal]);
        add(15, &[Callback]);
        add(4, &[Illness]);
        add(31, &[NoAnswer, Busy]);
        add(8, &[WrongNumber]);
        add(4, &[NoAnswer, NotInService]);
        let after: Counts = cases.iter().map(|c| case_class(c.clone())).collect();
        let before = Counts {
            uh: 31,
            ne: 12,
            ..after
        };
        assert_eq!(
            after,
            Counts {
                i: 140,
                p: 6,
                r: 22,
                nc: 15,
                o: 4,
                uh: 43,
                ne: 0,
            }
        );
        let (b, a) = (before.rates(), after.rates());
        close(b.rr1, 140.0 / 218.0);
        close(a.rr1, 140.0 / 230.0);
        assert_eq!(
            (format_rate(b.rr1), format_rate(a.rr1)),
            ("64.2%".into(), "60.9%".into())
        );
        assert_eq!(format_rate(a.rr2), "63.5%");
        // No NE left: every UH case is taken as eligible, so RR3 = RR1.
        close(a.e, 1.0);
        close(a.rr3, 140.0 / 230.0);
        assert_eq!(format_rate(a.ref1), "9.6%");
        assert_eq!(format_rate(a.con1), "74.8%");
        // COOP1 has no UH in it: unchanged.
        assert_eq!(a.coop1, b.coop1);
        let invalid = cases
            .iter()
            .filter(|c| case_invalid_number(c.iter().copied()))
            .count() as u64;
        assert_eq!(invalid, 12);
        let rate = invalid_number_rate(invalid, after.total());
        close(rate, 12.0 / 230.0);
        assert_eq!(format_rate(rate), "5.2%");

        // Had 3 of the 12 been 非服务对象, they would stay NE and RR1 lie in between.
        let mixed = Counts {
            uh: 40,
            ne: 3,
            ..after
        };
        let m = mixed.rates();
        close(m.rr1, 140.0 / 227.0);
        assert_eq!(format_rate(m.rr1), "61.7%");
        close(m.e, 187.0 / 190.0);
    }

    #[test]
    fn invalid_number_rate_is_empty_when_nothing_was_released() {
        assert_eq!(invalid_number_rate(0, 0), None);
        assert_eq!(invalid_number_rate(0, 5), Some(0.0));
        close(invalid_number_rate(1, 3), 1.0 / 3.0);
        assert_eq!(invalid_number_rate(4, 4), Some(1.0));
        assert!(invalid_number_rate(u64::MAX, u64::MAX).is_some_and(f64::is_finite));
    }

    #[test]
    fn all_zero_gives_no_rates() {
        let r = Counts::default().rates();
        assert_eq!(r, Rates::default());
        assert_eq!(format_rate(r.rr1), "");
    }

    #[test]
    fn only_ne() {
        let r = Counts {
            ne: 5,
            ..Counts::default()
        }
        .rates();
        assert_eq!(r.e, Some(0.0));
        assert_eq!(r.rr1, None);
        assert_eq!(r.rr2, None);
        assert_eq!(r.rr3, None); // denominator 0 + 0·0
        assert_eq!(r.coop1, None);
        assert_eq!(r.ref1, None);
        assert_eq!(r.con1, None);
    }

    #[test]
    fn only_uh() {
        let r = Counts {
            uh: 7,
            ..Counts::default()
        }
        .rates();
        assert_eq!(r.e, None);
        assert_eq!(r.rr1, Some(0.0));
        assert_eq!(r.rr2, Some(0.0));
        assert_eq!(r.rr3, None); // e undefined
        assert_eq!(r.coop1, None);
        assert_eq!(r.ref1, Some(0.0));
        assert_eq!(r.con1, Some(0.0));
        assert_eq!(format_rate(r.rr1), "0.0%");
    }

    #[test]
    fn uh_and_ne_only() {
        let r = Counts {
            uh: 3,
            ne: 2,
            ..Counts::default()
        }
        .rates();
        assert_eq!(r.e, Some(0.0));
        assert_eq!(r.rr3, None); // 0 + 0·3
        assert_eq!(r.rr1, Some(0.0));
    }

    #[test]
    fn only_nc_has_no_coop() {
        let r = Counts {
            nc: 4,
            ..Counts::default()
        }
        .rates();
        assert_eq!(r.coop1, None);
        assert_eq!(r.con1, Some(0.0));
        assert_eq!(r.rr3, Some(0.0));
    }

    #[test]
    fn summing_villages() {
        let a = Counts {
            i: 1,
            uh: 2,
            ..Counts::default()
        };
        let b = Counts {
            i: 3,
            ne: 1,
            ..Counts::default()
        };
        let mut t = a;
        t += b;
        assert_eq!(t, [a, b].iter().sum());
        assert_eq!(
            t,
            Counts {
                i: 4,
                uh: 2,
                ne: 1,
                ..Counts::default()
            }
        );
    }

    #[test]
    fn huge_counts_do_not_panic() {
        let mut c = Counts {
            i: u64::MAX,
            p: u64::MAX,
            r: u64::MAX,
            nc: u64::MAX,
            o: u64::MAX,
            uh: u64::MAX,
            ne: u64::MAX,
        };
        c.add(Class::I);
        c += c;
        assert_eq!(c.i, u64::MAX);
        assert_eq!(c.total(), u64::MAX);
        let r = c.rates();
        assert!(r.rr1.is_some_and(f64::is_finite));
        assert!(r.rr3.is_some_and(f64::is_finite));
    }

    #[test]
    fn rates_are_numbers_in_json_and_percentages_in_csv() {
        use crate::results::tables::{Cell, Table};
        let rate_cell = Cell::fieldwork_rate;
        let c = Counts {
            i: 140,
            p: 6,
            r: 22,
            nc: 15,
            o: 4,
            uh: 31,
            ne: 12,
        };
        let rates = c.rates();
        let empty = Counts::default().rates();
        let table = Table {
            columns: &[("rr1", "RR1"), ("coop1", "COOP1")],
            rows: vec![
                vec![rate_cell(rates.rr1), rate_cell(rates.coop1)],
                vec![rate_cell(empty.rr1), rate_cell(Some(f64::NAN))],
            ],
        };
        let json = table.to_json();
        assert_eq!(json[0]["rr1"], serde_json::json!(140.0 / 218.0));
        assert_eq!(json[0]["coop1"], serde_json::json!(140.0 / 172.0));
        assert!(json[1]["rr1"].is_null() && json[1]["coop1"].is_null());
        let csv: Vec<String> = table.rows[0].iter().map(|c| c.to_csv()).collect();
        assert_eq!(csv, ["64.2%", "81.4%"]);
        assert_eq!(table.rows[1][0].to_csv(), "");
    }

    #[test]
    fn format_rate_edges() {
        assert_eq!(format_rate(None), "");
        assert_eq!(format_rate(Some(1.0)), "100.0%");
        assert_eq!(format_rate(Some(f64::NAN)), "");
        assert_eq!(format_rate(Some(0.6422018348623854)), "64.2%");
        assert_eq!(format_rate(Some(0.5625)), "56.3%");
        assert_eq!(format_rate(Some(0.0)), "0.0%");
        assert_eq!(format_rate(Some(0.0004)), "0.0%");
        assert_eq!(format_rate(Some(0.9996)), "100.0%");
        assert_eq!(format_rate(Some(-0.25)), "-25.0%");
        assert!(format_rate(Some(1e300)).ends_with('%'));
        assert_eq!(format_rate(Some(-0.0004)), "0.0%");
    }

    #[test]
    fn serializes_with_nulls() {
        let j = serde_json::to_value(Counts::default().rates()).unwrap();
        assert!(j["rr1"].is_null());
        let j = serde_json::to_value(Counts::default()).unwrap();
        assert_eq!(j["nc"], 0);
    }
}
