//! The interval arithmetic of the results (formulas and a worked example in
//! docs/results.md): Wilson intervals for satisfaction rates, with the finite-population
//! step for recipients; a normal interval for a mean score; the stratified town-wide rate.
//! Pure functions of numbers.

use serde::Serialize;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.96;

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
/// by the effective size `n·(N−1)/(N−n)`, the finite-population step; when n ≥ N everyone
/// was asked and the interval is the point p. `None` when `valid` is 0 or `satisfied >
/// valid`. The ends are clamped to [0, 1], and are exactly 0 (1) when p is 0 (1), as the
/// algebra says (the floating-point sum can miss by one ulp).
pub fn wilson(satisfied: u64, valid: u64, frame: Option<u64>, z: f64) -> Option<Interval> {
    if satisfied > valid {
        return None;
    }
    wilson_rate(satisfied as f64 / valid as f64, valid, frame, z)
}

/// [`wilson`] for a rate `p` whose base is `n` units (a dimension's rate pools several
/// answers per respondent; its base is the respondents, see docs/results.md). `None` when
/// n is 0 or p is not in [0, 1].
pub fn wilson_rate(p: f64, n: u64, frame: Option<u64>, z: f64) -> Option<Interval> {
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

    /// The normal interval of the mean, finite-population corrected:
    /// `mean ± z·√((1 − n/N)·s²/n)`, clamped to `[lo, hi]`. With `frame = Some(N)` and
    /// n ≥ N it is the point mean; `None` when empty, or when n = 1 and the frame is larger
    /// (no variance to estimate from).
    pub fn interval(&self, frame: Option<u64>, z: f64, lo: f64, hi: f64) -> Option<Interval> {
        let mean = self.mean()?;
        let fpc = match frame {
            Some(big_n) if self.n >= big_n => return Some(Interval::point(mean)),
            Some(big_n) => 1.0 - self.n as f64 / big_n as f64,
            None => 1.0,
        };
        let se = (fpc * self.variance()? / self.n as f64).sqrt();
        Some(Interval {
            low: (mean - z * se).max(lo),
            high: (mean + z * se).min(hi),
        })
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
    fn mean_interval_shrinks_with_the_frame_and_vanishes_in_a_census() {
        let mut acc = MeanAcc::default();
        for x in [100.0, 80.0, 80.0, 60.0, 100.0] {
            acc.push(x);
        }
        assert_eq!(acc.mean(), Some(84.0));
        // s² = (256 + 16 + 16 + 576 + 256)/4 = 280
        assert!((acc.variance().unwrap() - 280.0).abs() < 1e-9);
        let open = acc.interval(None, Z95, 0.0, 100.0).unwrap();
        let half = Z95 * (280.0f64 / 5.0).sqrt();
        assert!((open.low - (84.0 - half)).abs() < 1e-9);
        let fpc = acc.interval(Some(10), Z95, 0.0, 100.0).unwrap();
        let half10 = Z95 * (0.5 * 280.0f64 / 5.0).sqrt();
        assert!((fpc.high - (84.0 + half10)).abs() < 1e-9);
        assert_eq!(
            acc.interval(Some(5), Z95, 0.0, 100.0),
            Some(Interval::point(84.0))
        );
        let mut one = MeanAcc::default();
        one.push(70.0);
        assert_eq!(one.interval(Some(10), Z95, 0.0, 100.0), None);
        assert_eq!(
            one.interval(Some(1), Z95, 0.0, 100.0),
            Some(Interval::point(70.0))
        );
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
