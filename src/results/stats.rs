//! The interval arithmetic of the results (formulas and a worked example in
//! docs/results.md): Wilson intervals for satisfaction rates, with the finite-population
//! step and the population's feasible range for recipients; a Student-t interval for a
//! mean score with a minimum spread; the stratified town-wide rate. Pure functions of
//! numbers.

use serde::Serialize;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.96;

/// Student's t, 97.5% quantile, for 1 to 30 degrees of freedom (computed with mpmath:
/// `findroot(lambda x: 1 - betainc(v/2, 0.5, 0, v/(v+x*x), regularized=True)/2 - 0.975, 2)`).
const T975: [f64; 30] = [
    12.706_204_74,
    4.302_652_73,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom: the table up to 30,
/// beyond it the Cornish–Fisher expansion around the normal quantile (three terms; within
/// 1e-5 of the exact value from 31 on). `None` for 0 degrees of freedom.
pub fn t95(df: u64) -> Option<f64> {
    match df {
        0 => None,
        1..=30 => T975.get(usize::try_from(df - 1).ok()?).copied(),
        _ => {
            let z = 1.959_963_984_540_054_f64;
            let v = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            let g1 = (z3 + z) / 4.0;
            let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
            let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
            Some(z + g1 / v + g2 / (v * v) + g3 / (v * v * v))
        }
    }
}

/// A closed interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The degenerate interval of a figure known exactly (a census: n = N).
    pub fn point(p: f64) -> Self {
        Interval { low: p, high: p }
    }
}

/// The Wilson score interval for `satisfied` out of `valid` answers, z = `z`:
/// `c = (p + z²/2n)/(1 + z²/n)`, `h = z/(1 + z²/n)·√(p(1−p)/n + z²/4n²)`, `[c − h, c + h]`.
///
/// With `frame = Some(N)` (recipients: N is the village's frame size) n is first replaced
/// by the effective size `n·(N−1)/(N−n)`, the finite-population step, and the interval is
/// then cut to what the population can still hold: the N − n people not asked are at worst
/// all unsatisfied and at best all satisfied, so the rate is in `[s/N, (s + N − n)/N]`.
/// When n ≥ N everyone was asked and the interval is the point p. `None` when `valid` is 0
/// or `satisfied > valid`. The ends are clamped to [0, 1], and are exactly 0 (1) when p is
/// 0 (1), as the algebra says (the floating-point sum can miss by one ulp).
pub fn wilson(satisfied: u64, valid: u64, frame: Option<u64>, z: f64) -> Option<Interval> {
    if satisfied > valid {
        return None;
    }
    wilson_rate(satisfied as f64 / valid as f64, valid, frame, z)
}

/// [`wilson`] for a rate `p` whose base is `n` units (a dimension's rate pools several
/// answers per respondent; its base is the respondents, see docs/results.md); the feasible
/// range takes s = p·n. `None` when n is 0 or p is not in [0, 1].
pub fn wilson_rate(p: f64, n: u64, frame: Option<u64>, z: f64) -> Option<Interval> {
    let open = wilson_unclamped(p, n, frame, z)?;
    Some(match frame {
        Some(big_n) if n < big_n => {
            let (s, big_n, n) = (p * n as f64, big_n as f64, n as f64);
            Interval {
                low: open.low.max(s / big_n),
                high: open.high.min((s + big_n - n) / big_n),
            }
        }
        _ => open,
    })
}

/// The Wilson interval with the finite-population step but without the cut to the
/// feasible range (what [`wilson_rate`] computed before it was cut; kept for the tests
/// against the shared vectors).
fn wilson_unclamped(p: f64, n: u64, frame: Option<u64>, z: f64) -> Option<Interval> {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let n = match frame {
        Some(big_n) if n >= big_n => return Some(Interval::point(p)),
        Some(big_n) => n as f64 * (big_n as f64 - 1.0) / (big_n - n) as f64,
        None => n as f64,
    };
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let low = if p == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if p == 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some(Interval { low, high })
}

/// Running sums for a mean and its sample variance (Welford's update, stable for a million
/// values).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanAcc {
    n: u64,
    mean: f64,
    m2: f64,
}

impl MeanAcc {
    /// Adds one value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// How many values.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The mean; `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// The sample variance (divisor n − 1); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }

    /// The 95% interval of the mean over a population of `frame` people whose every score
    /// lies in `[lo, hi]`: `mean ± t·√((1 − n/N)·s²/n)` with Student's t on n − 1 degrees
    /// of freedom, where s² is never taken below `step²/n` — the variance of a sample in
    /// which one of the n respondents scored one `step` away from all the others, so that
    /// identical answers from part of a village do not make a point. The ends are then cut
    /// to what the population can hold: the N − n not asked score at worst `lo` and at best
    /// `hi` each, so the mean is in `[(n·mean + (N−n)·lo)/N, (n·mean + (N−n)·hi)/N]`.
    ///
    /// With `frame = Some(N)` and n ≥ N it is the point mean; `None` when empty, or when
    /// n = 1 and the frame is larger (no degree of freedom to estimate from).
    pub fn interval(&self, frame: Option<u64>, step: f64, lo: f64, hi: f64) -> Option<Interval> {
        let mean = self.mean()?;
        let fpc = match frame {
            Some(big_n) if self.n >= big_n => return Some(Interval::point(mean)),
            Some(big_n) => 1.0 - self.n as f64 / big_n as f64,
            None => 1.0,
        };
        let t = t95(self.n - 1)?;
        let n = self.n as f64;
        let variance = self.variance()?.max(step * step / n);
        let half = t * (fpc * variance / n).sqrt();
        let (mut low, mut high) = ((mean - half).max(lo), (mean + half).min(hi));
        if let Some(big_n) = frame {
            let big_n = big_n as f64;
            low = low.max((n * mean + (big_n - n) * lo) / big_n);
            high = high.min((n * mean + (big_n - n) * hi) / big_n);
        }
        Some(Interval { low, high })
    }
}

/// One village's part of a town-wide rate: its frame size N_h, its valid answers n_h (the
/// base of the rate) and its rate p_h.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stratum {
    pub frame: u64,
    pub n: u64,
    pub p: f64,
}

/// The stratified town-wide rate and its normal 95% interval. Each village counts with
/// weight W_h = N_h / ΣN (its answers weighted N_h/n_h each), never as pooled raw answers:
/// `p = Σ W_h·p_h`, `Var = Σ W_h²·(1 − f_h)·p_h(1 − p_h)/(n_h − 1)` with f_h = n_h/N_h
/// (with `fpc = false`, as for the panel, f_h = 0). Villages with n_h = 0 or N_h = 0 are
/// left out (they have no estimate). A village with n_h = 1 adds nothing to the variance
/// unless it is a census, in which case its term is 0 anyway. `None` when no village counts.
pub fn stratified(strata: &[Stratum], fpc: bool, z: f64) -> Option<(f64, Interval)> {
    let counted: Vec<&Stratum> = strata.iter().filter(|s| s.n > 0 && s.frame > 0).collect();
    let total: f64 = counted.iter().map(|s| s.frame as f64).sum();
    if counted.is_empty() || total == 0.0 {
        return None;
    }
    let mut p = 0.0;
    let mut var = 0.0;
    for s in counted {
        let w = s.frame as f64 / total;
        p += w * s.p;
        let f = if fpc {
            (s.n as f64 / s.frame as f64).min(1.0)
        } else {
            0.0
        };
        if s.n > 1 {
            var += w * w * (1.0 - f) * s.p * (1.0 - s.p) / (s.n - 1) as f64;
        }
    }
    let half = z * var.sqrt();
    Some((
        p,
        Interval {
            low: (p - half).max(0.0),
            high: (p + half).min(1.0),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// /work/shared/vectors/vectors.json, entry "wilson", computed by a separate
    /// implementation written from the issue text: (satisfied, valid, frame, low, high), z = 1.96.
    const VECTORS: [(u64, u64, Option<u64>, f64, f64); 5] = [
        (45, 60, None, 0.6276768905451521, 0.8422361442158816),
        (45, 60, Some(300), 0.6412685526120322, 0.8342911764175333),
        (60, 60, Some(400), 0.9482636239419375, 1.0),
        (0, 12, Some(80), 0.0, 0.21602925765578854),
        (30, 30, Some(30), 1.0, 1.0),
    ];

    #[test]
    fn wilson_reproduces_every_shared_vector_exactly() {
        for (satisfied, valid, frame, low, high) in VECTORS {
            let got = wilson(satisfied, valid, frame, Z95).unwrap();
            let open = wilson_unclamped(satisfied as f64 / valid as f64, valid, frame, Z95);
            // None of the shared vectors is near its population's feasible range, so the
            // cut leaves them as they were.
            assert_eq!(Some(got), open);
            assert_eq!(
                (got.low, got.high),
                (low, high),
                "{satisfied}/{valid} frame {frame:?}"
            );
        }
    }

    #[test]
    fn wilson_by_hand_without_and_with_the_finite_population_step() {
        // 45 of 60: p = 0.75, z² = 3.8416.
        // c = (0.75 + 3.8416/120)/(1 + 3.8416/60) = 0.782013…/1.064027 = 0.734957…
        // h = 1.96/1.064027·√(0.1875/60 + 3.8416/14400) = 1.842061·√0.003391778 = 0.107280…
        let w = wilson(45, 60, None, Z95).unwrap();
        assert!((w.low - 0.627677).abs() < 1e-6, "{w:?}");
        assert!((w.high - 0.842236).abs() < 1e-6, "{w:?}");
        // N = 300: n_eff = 60·299/240 = 74.75, so the interval is narrower.
        let f = wilson(45, 60, Some(300), Z95).unwrap();
        let direct = wilson_n(0.75, 74.75);
        assert!((f.low - direct.0).abs() < 1e-15 && (f.high - direct.1).abs() < 1e-15);
        assert!(f.low > w.low && f.high < w.high);
        // Everyone asked: the point.
        assert_eq!(
            wilson(20, 30, Some(30), Z95),
            Some(Interval::point(20.0 / 30.0))
        );
        assert_eq!(wilson(0, 0, None, Z95), None);
        assert_eq!(wilson(3, 2, None, Z95), None);
    }

    #[test]
    fn wilson_near_a_census_is_cut_to_the_feasible_range() {
        // 29 of 32 satisfied, N = 45: the 13 not asked can add at most 13, so the rate is at
        // most 42/45 = 93.33%, where Wilson alone says 94.80%.
        // python3 -c "from math import sqrt; s,n,N,z=29,32,45,1.96; p=s/n; ne=n*(N-1)/(N-n); z2=z*z;
        //   d=1+z2/ne; c=(p+z2/(2*ne))/d; h=z/d*sqrt(p*(1-p)/ne+z2/(4*ne*ne)); print(c-h, c+h)"
        // → 0.8366212400063825 0.9480471086673085
        let open = wilson_unclamped(29.0 / 32.0, 32, Some(45), Z95).unwrap();
        assert!(
            (open.high - 0.948_047_108_667_308_5).abs() < 1e-12,
            "{open:?}"
        );
        let cut = wilson(29, 32, Some(45), Z95).unwrap();
        assert!((cut.low - 0.836_621_240_006_382_5).abs() < 1e-12, "{cut:?}");
        assert_eq!(cut.high, 42.0 / 45.0);
        // The mirror image: 3 of 32: at least 3/45 = 6.67%, where Wilson says 5.20%.
        let low = wilson(3, 32, Some(45), Z95).unwrap();
        assert_eq!(low.low, 3.0 / 45.0);
        assert!(
            (low.high - 0.163_378_759_993_617_5).abs() < 1e-12,
            "{low:?}"
        );
        // 10 of 12, N = 20: at most 18/20.
        let small = wilson(10, 12, Some(20), Z95).unwrap();
        assert!((small.low - 0.659_332_542_663_278_2).abs() < 1e-12);
        assert_eq!(small.high, 0.9);
        // No frame (the panel): nothing to cut.
        assert_eq!(
            wilson(29, 32, None, Z95),
            wilson_unclamped(29.0 / 32.0, 32, None, Z95)
        );
    }

    #[test]
    fn wilson_never_leaves_the_feasible_range() {
        for big_n in 1..=60u64 {
            for n in 1..=big_n {
                for s in 0..=n {
                    let w = wilson(s, n, Some(big_n), Z95).unwrap();
                    let (lo, hi) = (
                        s as f64 / big_n as f64,
                        (s + big_n - n) as f64 / big_n as f64,
                    );
                    assert!(
                        w.low >= lo - 1e-15 && w.high <= hi + 1e-15,
                        "{s}/{n} of {big_n}"
                    );
                }
            }
        }
    }

    fn wilson_n(p: f64, n: f64) -> (f64, f64) {
        let z2 = Z95 * Z95;
        let c = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let h = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        (c - h, c + h)
    }

    #[test]
    fn wilson_stays_inside_zero_one_for_every_count_up_to_200() {
        for n in 1..=200 {
            for s in 0..=n {
                for frame in [None, Some(n), Some(n + 1), Some(10 * n)] {
                    let w = wilson(s, n, frame, Z95).unwrap();
                    let p = s as f64 / n as f64;
                    assert!(0.0 <= w.low && w.low <= p && p <= w.high && w.high <= 1.0);
                }
            }
        }
    }

    #[test]
    fn mean_interval_uses_t_shrinks_with_the_frame_and_vanishes_in_a_census() {
        let mut acc = MeanAcc::default();
        for x in [100.0, 80.0, 80.0, 60.0, 100.0] {
            acc.push(x);
        }
        assert_eq!(acc.mean(), Some(84.0));
        // s² = (256 + 16 + 16 + 576 + 256)/4 = 280; t on 4 df is 2.776445105, not 1.96.
        assert!((acc.variance().unwrap() - 280.0).abs() < 1e-9);
        // python3 -c "from math import sqrt; t=2.776445105; print(84-t*sqrt(280/5), 84-t*sqrt(0.5*280/5))"
        // → 63.222987327808795 69.30843344669476
        let open = acc.interval(None, 20.0, 0.0, 100.0).unwrap();
        assert!((open.low - 63.222_987_327_808_795).abs() < 1e-9, "{open:?}");
        assert_eq!(open.high, 100.0);
        // Five of ten asked: narrower, and the five not asked can lift the mean at most to
        // (5·84 + 5·100)/10 = 92 (t alone would say 98.69).
        let fpc = acc.interval(Some(10), 20.0, 0.0, 100.0).unwrap();
        assert!((fpc.low - 69.308_433_446_694_76).abs() < 1e-9, "{fpc:?}");
        assert_eq!(fpc.high, 92.0);
        assert_eq!(
            acc.interval(Some(5), 20.0, 0.0, 100.0),
            Some(Interval::point(84.0))
        );
        let mut one = MeanAcc::default();
        one.push(70.0);
        assert_eq!(one.interval(Some(10), 20.0, 0.0, 100.0), None);
        assert_eq!(one.interval(None, 20.0, 0.0, 100.0), None);
        assert_eq!(
            one.interval(Some(1), 20.0, 0.0, 100.0),
            Some(Interval::point(70.0))
        );
    }

    #[test]
    fn ten_identical_answers_are_not_a_point() {
        // s² = 0 is floored at step²/n = 20²/10 = 40 (one of ten one step of 20 away).
        // python3 -c "from math import sqrt; h=2.262157163*sqrt((1-10/500)*40/10); print(90-h, 90+h)"
        // → 85.52115732381233 94.47884267618767
        let mut acc = MeanAcc::default();
        for _ in 0..10 {
            acc.push(90.0);
        }
        let i = acc.interval(Some(500), 20.0, 0.0, 100.0).unwrap();
        assert!((i.low - 85.521_157_323_812_33).abs() < 1e-9, "{i:?}");
        assert!((i.high - 94.478_842_676_187_67).abs() < 1e-9, "{i:?}");
        // Without a floor (step 0) the same answers would be the point 90.
        assert_eq!(
            acc.interval(Some(500), 0.0, 0.0, 100.0),
            Some(Interval::point(90.0))
        );
    }

    #[test]
    fn the_mean_interval_is_cut_to_what_the_population_can_hold() {
        // Ten of 100 and one 0, out of N = 12: the one person not asked can at most lift
        // the mean to (1000 + 100)/12 = 91.667.
        // python3 -c "from math import sqrt; xs=[100.0]*10+[0.0]; n=11; m=sum(xs)/n;
        //   s2=sum((x-m)**2 for x in xs)/(n-1); h=2.228138852*sqrt((1-n/12)*s2/n); print(m-h, m+h)"
        // → 85.06174288184516 96.75643893633665
        let mut acc = MeanAcc::default();
        for x in [100.0; 10].into_iter().chain([0.0]) {
            acc.push(x);
        }
        let i = acc.interval(Some(12), 20.0, 0.0, 100.0).unwrap();
        assert!((i.low - 85.061_742_881_845_16).abs() < 1e-9, "{i:?}");
        assert!((i.high - 1100.0 / 12.0).abs() < 1e-12, "{i:?}");
    }

    #[test]
    fn t_quantiles_match_mpmath_and_approach_the_normal() {
        // python3 -c "import mpmath as mp; print([mp.findroot(lambda x: 1-mp.betainc(v/2,0.5,0,v/(v+x*x),
        //   regularized=True)/2-0.975, 2) for v in (31,40,60,120,1000)])"
        for (df, exact) in [
            (1, 12.706_204_74),
            (9, 2.262_157_163),
            (30, 2.042_272_456),
            (31, 2.039_513_446),
            (40, 2.021_075_39),
            (60, 2.000_297_822),
            (120, 1.979_930_405),
            (1000, 1.962_339_081),
        ] {
            let t = t95(df).unwrap();
            assert!((t - exact).abs() < 1e-5, "df {df}: {t} vs {exact}");
        }
        assert_eq!(t95(0), None);
        assert!(t95(u64::MAX).unwrap() > Z95 - 1e-3);
        // Decreasing in df across the switch from table to expansion.
        let ts: Vec<f64> = (1..200).map(|d| t95(d).unwrap()).collect();
        assert!(ts.windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn stratified_rate_weights_villages_by_frame_not_by_answers() {
        // Village A: 1,000 people, 10 answers, 90%; village B: 100 people, 90 answers, 50%.
        // Pooled raw answers would say (9 + 45)/100 = 54%; the town is mostly A.
        let strata = [
            Stratum {
                frame: 1000,
                n: 10,
                p: 0.9,
            },
            Stratum {
                frame: 100,
                n: 90,
                p: 0.5,
            },
            Stratum {
                frame: 50,
                n: 0,
                p: 0.0,
            },
        ];
        let (p, ci) = stratified(&strata, true, Z95).unwrap();
        let expected = (1000.0 * 0.9 + 100.0 * 0.5) / 1100.0;
        assert!((p - expected).abs() < 1e-12);
        let wa: f64 = 1000.0 / 1100.0;
        let wb: f64 = 100.0 / 1100.0;
        let var = wa * wa * 0.99 * 0.09 / 9.0 + wb * wb * 0.1 * 0.25 / 89.0;
        // p + half = 1.04: the top is clamped to 1.
        assert!((ci.low - (p - Z95 * var.sqrt())).abs() < 1e-12);
        assert_eq!(ci.high, 1.0);
        assert_eq!(stratified(&[], true, Z95), None);
    }
}
