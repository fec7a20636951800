//! Exact fractions for item 16's grade (docs/results.md, 2): the scheme's numbers are
//! decimals as written in `survey-forms/scheme.toml` (0.7, 90), a respondent's score is a
//! mean of option scores, and S = w_r·R + w_p·P is compared with the grade lines without
//! rounding, so that S = 0.7·48 + 0.3·88 = 60 is on the line 60, not 59.99999999999999.
//!
//! Every step is checked: a sum that would overflow gives `None` and the caller falls back
//! to floating point (it takes numbers far outside any questionnaire to get there).

use std::cmp::Ordering;

/// A fraction `num/den` in lowest terms with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    num: i128,
    den: i128,
}

/// Digits beyond this many in a decimal are not read exactly (10^36 still fits an i128).
const MAX_DIGITS: usize = 36;

impl Ratio {
    /// `num/den`, reduced; `None` when `den` is 0.
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs());
        // g ≥ 1 as den ≠ 0, and g divides both, so the quotients fit.
        let (mut num, mut den) = (num / i128::try_from(g).ok()?, den / i128::try_from(g).ok()?);
        if den < 0 {
            num = num.checked_neg()?;
            den = den.checked_neg()?;
        }
        Some(Ratio { num, den })
    }

    /// A whole number.
    pub fn from_int(n: i128) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    /// The decimal a person wrote, read back from the `f64` the TOML parser made of it:
    /// Rust prints an `f64` as the shortest decimal that reads back to it, which is the
    /// written one for anything up to 15 significant digits (`0.7` → 7/10, not the binary
    /// 0.6999999999999999555910790149937…). `None` for NaN, infinities and decimals longer
    /// than 36 digits.
    pub fn from_decimal(x: f64) -> Option<Ratio> {
        if !x.is_finite() {
            return None;
        }
        let text = format!("{x}");
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.len() + fraction.len() > MAX_DIGITS
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut num: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            num = num.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        let den = 10i128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        Ratio::new(if negative { -num } else { num }, den)
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Ratio) -> Option<Ratio> {
        // a/b + c/d = (a·(l/b) + c·(l/d))/l with l = lcm(b, d), to keep the terms small.
        let g = i128::try_from(gcd(self.den.unsigned_abs(), other.den.unsigned_abs())).ok()?;
        let l = (self.den / g).checked_mul(other.den)?;
        let a = self.num.checked_mul(l / self.den)?;
        let c = other.num.checked_mul(l / other.den)?;
        Ratio::new(a.checked_add(c)?, l)
    }

    /// `self · other`, `None` on overflow.
    pub fn checked_mul(self, other: Ratio) -> Option<Ratio> {
        // Cross-reduce first: (a/b)·(c/d) with gcd(a, d) and gcd(c, b) taken out.
        let g1 = i128::try_from(gcd(self.num.unsigned_abs(), other.den.unsigned_abs())).ok()?;
        let g2 = i128::try_from(gcd(other.num.unsigned_abs(), self.den.unsigned_abs())).ok()?;
        let (g1, g2) = (g1.max(1), g2.max(1));
        let num = (self.num / g1).checked_mul(other.num / g2)?;
        let den = (self.den / g2).checked_mul(other.den / g1)?;
        Ratio::new(num, den)
    }

    /// `self / n`, `None` when n is 0 or on overflow.
    pub fn checked_div_int(self, n: u64) -> Option<Ratio> {
        let n = i128::from(n);
        let g = i128::try_from(gcd(self.num.unsigned_abs(), n.unsigned_abs())).ok()?;
        if n == 0 {
            return None;
        }
        Ratio::new(self.num / g, self.den.checked_mul(n / g)?)
    }

    /// The nearest `f64` (within an ulp or two), for showing and for the intervals.
    pub fn to_f64(self) -> f64 {
        let whole = self.num.div_euclid(self.den);
        let rest = self.num.rem_euclid(self.den);
        whole as f64 + rest as f64 / self.den as f64
    }
}

impl Ord for Ratio {
    /// Compared without any multiplication, so it cannot overflow: the integer parts first,
    /// then the reciprocals of the remainders (a continued-fraction walk).
    fn cmp(&self, other: &Ratio) -> Ordering {
        let (mut a, mut b, mut c, mut d) = (self.num, self.den, other.num, other.den);
        // a/b ? c/d with b, d > 0. Flip after each step to the reciprocals.
        let mut flipped = false;
        loop {
            let (qa, ra) = (a.div_euclid(b), a.rem_euclid(b));
            let (qc, rc) = (c.div_euclid(d), c.rem_euclid(d));
            let order = match qa.cmp(&qc) {
                Ordering::Equal => match (ra == 0, rc == 0) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => {
                        // ra/b ? rc/d ⇔ d/rc ? b/ra (both positive).
                        (a, b, c, d) = (b, ra, d, rc);
                        flipped = !flipped;
                        continue;
                    }
                },
                order => order,
            };
            return if flipped { order.reverse() } else { order };
        }
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The running exact sum of the respondents' scores beside the floating-point sums that
/// the interval needs. `exact` turns `None` for good once any step cannot be done exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExactMean {
    n: u64,
    sum: Option<Ratio>,
}

impl Default for ExactMean {
    fn default() -> Self {
        ExactMean {
            n: 0,
            sum: Some(Ratio::from_int(0)),
        }
    }
}

impl ExactMean {
    /// Adds one value (`None`: it could not be had exactly).
    pub fn push(&mut self, x: Option<Ratio>) {
        self.n += 1;
        self.sum = match (self.sum, x) {
            (Some(s), Some(x)) => s.checked_add(x),
            _ => None,
        };
    }

    /// The exact mean; `None` when empty or not exact.
    pub fn mean(&self) -> Option<Ratio> {
        self.sum?.checked_div_int(self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(num: i128, den: i128) -> Ratio {
        Ratio::new(num, den).unwrap()
    }

    #[test]
    fn written_decimals_are_read_exactly() {
        assert_eq!(Ratio::from_decimal(0.7), Some(r(7, 10)));
        assert_eq!(Ratio::from_decimal(0.3), Some(r(3, 10)));
        assert_eq!(Ratio::from_decimal(90.0), Some(r(90, 1)));
        assert_eq!(Ratio::from_decimal(-2.5), Some(r(-5, 2)));
        assert_eq!(Ratio::from_decimal(66.67), Some(r(6667, 100)));
        assert_eq!(Ratio::from_decimal(0.0), Some(r(0, 1)));
        assert_eq!(Ratio::from_decimal(f64::NAN), None);
        assert_eq!(Ratio::from_decimal(f64::INFINITY), None);
        // 1e300 prints with 301 digits: not read, not a panic.
        assert_eq!(Ratio::from_decimal(1e300), None);
        assert_eq!(Ratio::from_decimal(1e-7), Some(r(1, 10_000_000)));
    }

    #[test]
    fn the_census_example_of_the_issue_is_exactly_sixty() {
        // 0.7·48 + 0.3·88 in f64 is 59.99999999999999; exactly it is 60.
        let (w_r, w_p) = std::hint::black_box((0.7, 0.3));
        assert!(w_r * 48.0 + w_p * 88.0 < 60.0);
        let s = r(7, 10)
            .checked_mul(Ratio::from_int(48))
            .and_then(|a| a.checked_add(r(3, 10).checked_mul(Ratio::from_int(88))?))
            .unwrap();
        assert_eq!(s, Ratio::from_int(60));
        assert_eq!(s.to_f64(), 60.0);
    }

    #[test]
    fn comparison_agrees_with_cross_multiplication_and_never_overflows() {
        let values = [
            r(0, 1),
            r(1, 3),
            r(-1, 3),
            r(2, 6),
            r(59_999, 1000),
            r(60, 1),
            r(180, 3),
            r(-7, 2),
            r(7, 2),
            r(250, 3),
            r(1, 1_000_000_007),
        ];
        for a in values {
            for b in values {
                let cross = (a.num * b.den).cmp(&(b.num * a.den));
                assert_eq!(a.cmp(&b), cross, "{a:?} vs {b:?}");
            }
        }
        let big = r(i128::MAX, i128::MAX - 1);
        let bigger = r(i128::MAX - 1, i128::MAX - 2);
        assert_eq!(big.cmp(&bigger), Ordering::Less);
        assert_eq!(r(i128::MIN + 1, 3).cmp(&r(i128::MAX, 7)), Ordering::Less);
    }

    #[test]
    fn overflow_gives_none_not_a_panic() {
        let huge = Ratio::from_int(i128::MAX);
        assert_eq!(huge.checked_add(huge), None);
        assert_eq!(huge.checked_mul(Ratio::from_int(2)), None);
        assert_eq!(r(1, i128::MAX).checked_div_int(3), None);
        assert_eq!(Ratio::from_int(5).checked_div_int(0), None);
        assert_eq!(Ratio::new(1, 0), None);
        let mut m = ExactMean::default();
        m.push(Some(huge));
        m.push(Some(huge));
        assert_eq!(m.mean(), None);
    }

    #[test]
    fn an_exact_mean_of_thirds() {
        let mut m = ExactMean::default();
        for x in [r(100, 1), r(80, 1), r(160, 3)] {
            m.push(Some(x));
        }
        // (100 + 80 + 53⅓)/3 = 233⅓/3 = 700/9.
        assert_eq!(m.mean(), Some(r(700, 9)));
        assert_eq!(ExactMean::default().mean(), None);
        m.push(None);
        assert_eq!(m.mean(), None);
    }
}
