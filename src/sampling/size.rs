//! How many recipients to sample per village.
//!
//! By default the sample size comes from the finite-population formula for estimating a
//! proportion (the seed asks for "a reasonable sample", 合理抽样):
//!
//! ```text
//! n = min(N, ceil(z²·p(1−p)·N / (e²·(N−1) + z²·p(1−p))))     N = 0 → n = 0
//! ```
//!
//! with p = 0.5 (the most cautious proportion), margin e = 0.05 and 95% confidence
//! (z = 1.96) unless the campaign chooses otherwise. A campaign may instead fix n per
//! village, then n = min(N, fixed). With the defaults n is at most one more than Krejcie &
//! Morgan's 1970 table, which people may check it against.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The proportion assumed by the formula: 0.5 gives the largest sample for a given margin.
pub const P: f64 = 0.5;

/// Default margin of error e: ±10 points at 95% (a village's grade lines are 10 points
/// apart; ±5% drew 37 of 40 people in a small village).
pub const DEFAULT_MARGIN: f64 = 0.10;

/// By default a village with fewer recipients than this is surveyed in full (普查): the
/// formula would ask nearly everyone there anyway.
pub const DEFAULT_CENSUS_BELOW: u64 = 50;

/// A confidence level the formula accepts, with its two-sided normal quantile z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Confidence {
    /// 90%, z = 1.645.
    P90,
    /// 95%, z = 1.96.
    #[default]
    P95,
    /// 99%, z = 2.576.
    P99,
}

impl Confidence {
    /// Accepts a fraction ("0.95"), a percentage ("95") or a percentage with its sign
    /// ("95%") for 90%, 95% and 99%; any other level is refused.
    pub fn parse(text: &str) -> Result<Confidence, SizeError> {
        let refuse = || SizeError::Confidence(text.to_owned());
        let trimmed = text.trim();
        let (number, percent) = match trimmed.strip_suffix('%') {
            Some(number) => (number.trim_end(), true),
            None => (trimmed, false),
        };
        let value: f64 = number.parse().map_err(|_| refuse())?;
        // Compare as whole hundredths so that "0.95", "0.950" and "95" agree.
        let hundredths = if percent || value > 1.0 {
            value
        } else {
            value * 100.0
        };
        let rounded = hundredths.round();
        if !hundredths.is_finite() || (hundredths - rounded).abs() > 1e-9 {
            return Err(refuse());
        }
        match rounded as i64 {
            90 => Ok(Confidence::P90),
            95 => Ok(Confidence::P95),
            99 => Ok(Confidence::P99),
            _ => Err(refuse()),
        }
    }

    /// The level as a fraction: 0.90, 0.95 or 0.99.
    pub fn level(self) -> f64 {
        match self {
            Confidence::P90 => 0.90,
            Confidence::P95 => 0.95,
            Confidence::P99 => 0.99,
        }
    }

    /// The two-sided standard normal quantile used by the formula.
    pub fn z(self) -> f64 {
        match self {
            Confidence::P90 => 1.645,
            Confidence::P95 => 1.96,
            Confidence::P99 => 2.576,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Confidence::P90 => f.write_str("90%"),
            Confidence::P95 => f.write_str("95%"),
            Confidence::P99 => f.write_str("99%"),
        }
    }
}

/// Why sample-size parameters are refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SizeError {
    /// A confidence level other than 90%, 95% or 99%.
    #[error("confidence {0:?} is not supported; use 90%, 95% or 99%")]
    Confidence(String),
    /// A margin of error that is not a number strictly between 0 and 1.
    #[error("margin of error {0} must be a number greater than 0 and less than 1 (e.g. 0.05)")]
    Margin(f64),
    /// A fixed sample size of zero would sample nobody.
    #[error("a fixed sample size must be at least 1")]
    ZeroFixed,
    /// A recorded p other than the 0.5 this algorithm uses.
    #[error("the recorded proportion p = {0} is not the 0.5 the formula uses")]
    Proportion(f64),
    /// A recorded z that does not belong to the recorded confidence.
    #[error("the recorded z = {z} does not belong to confidence {confidence}")]
    Quantile {
        /// The recorded z.
        z: f64,
        /// The recorded confidence.
        confidence: f64,
    },
}

impl SizeError {
    /// The explanation for people using the system, in Chinese.
    pub fn user_message(&self) -> String {
        match self {
            SizeError::Confidence(text) => {
                format!("置信水平“{text}”不受支持，请使用 90%、95% 或 99%")
            }
            SizeError::Margin(margin) => {
                format!("允许误差 {margin} 应大于 0 且小于 1（例如 0.05）")
            }
            SizeError::ZeroFixed => "固定样本量至少为 1".to_owned(),
            SizeError::Proportion(p) => format!("抽样记录中的比例 p = {p} 不是公式使用的 0.5"),
            SizeError::Quantile { z, confidence } => {
                format!("抽样记录中的 z = {z} 与置信水平 {confidence} 不符")
            }
        }
    }
}

/// The campaign's sample-size rule, valid by construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeRule(Rule);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    Formula {
        margin: f64,
        confidence: Confidence,
        /// Villages with fewer recipients are surveyed in full; 0: none.
        census_below: u64,
    },
    Fixed(u64),
}

impl Default for SizeRule {
    /// The formula with e = 0.10 at 95% confidence, everyone asked below 50 recipients.
    fn default() -> Self {
        SizeRule(Rule::Formula {
            margin: DEFAULT_MARGIN,
            confidence: Confidence::P95,
            census_below: DEFAULT_CENSUS_BELOW,
        })
    }
}

impl SizeRule {
    /// The formula with margin of error `margin` (finite, 0 < e < 1) at `confidence`.
    pub fn formula(margin: f64, confidence: Confidence) -> Result<SizeRule, SizeError> {
        if !(margin.is_finite() && margin > 0.0 && margin < 1.0) {
            return Err(SizeError::Margin(margin));
        }
        Ok(SizeRule(Rule::Formula {
            margin,
            confidence,
            census_below: 0,
        }))
    }

    /// The formula rule with villages of fewer than `census_below` recipients surveyed in
    /// full (0: none); a fixed rule is returned unchanged.
    pub fn with_census_below(self, census_below: u64) -> SizeRule {
        match self.0 {
            Rule::Formula {
                margin, confidence, ..
            } => SizeRule(Rule::Formula {
                margin,
                confidence,
                census_below,
            }),
            Rule::Fixed(_) => self,
        }
    }

    /// A fixed number of recipients per village (fewer where the village has fewer).
    pub fn fixed(size: u64) -> Result<SizeRule, SizeError> {
        if size == 0 {
            return Err(SizeError::ZeroFixed);
        }
        Ok(SizeRule(Rule::Fixed(size)))
    }

    /// Whether a village of `population` recipients is surveyed in full by the rule's
    /// census threshold (not merely because the formula reaches N).
    pub fn is_census(&self, population: u64) -> bool {
        matches!(self.0, Rule::Formula { census_below, .. } if population < census_below)
    }

    /// The sample size n for a village with `population` unique recipients; never more
    /// than the population.
    pub fn size(&self, population: u64) -> u64 {
        match self.0 {
            Rule::Fixed(size) => size.min(population),
            Rule::Formula {
                margin,
                confidence,
                census_below,
            } => {
                if population < census_below {
                    return population;
                }
                if population == 0 {
                    return 0;
                }
                let z = confidence.z();
                let big_n = population as f64;
                // Evaluated in this order (z²·p·(1−p) first) so that other
                // implementations written from the formula round the same way.
                let q = z * z * P * (1.0 - P);
                let n = (q * big_n / (margin * margin * (big_n - 1.0) + q)).ceil();
                // `as` saturates (NaN → 0), which cannot happen for valid parameters.
                (n as u64).min(population)
            }
        }
    }

    /// The parameters as published in the draw record.
    pub fn parameters(&self) -> SizeParameters {
        match self.0 {
            Rule::Formula {
                margin,
                confidence,
                census_below,
            } => SizeParameters::Formula {
                margin,
                confidence: confidence.level(),
                p: P,
                z: confidence.z(),
                census_below: (census_below > 0).then_some(census_below),
            },
            Rule::Fixed(size) => SizeParameters::Fixed { size },
        }
    }
}

/// The sample-size parameters as written in the draw record, e.g.
/// `{"method":"formula","margin":0.05,"confidence":0.95,"p":0.5,"z":1.96}` or
/// `{"method":"fixed","size":30}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum SizeParameters {
    /// The finite-population formula.
    Formula {
        /// Margin of error e.
        margin: f64,
        /// Confidence level as a fraction.
        confidence: f64,
        /// Assumed proportion, always 0.5.
        p: f64,
        /// Normal quantile belonging to `confidence`.
        z: f64,
        /// Villages with fewer recipients are surveyed in full (absent: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        census_below: Option<u64>,
    },
    /// A fixed size per village.
    Fixed {
        /// Recipients per village (fewer where the village has fewer).
        size: u64,
    },
}

impl TryFrom<&SizeParameters> for SizeRule {
    type Error = SizeError;

    /// Rebuilds the rule from a published record, refusing parameters this code would not
    /// have written.
    fn try_from(parameters: &SizeParameters) -> Result<SizeRule, SizeError> {
        match *parameters {
            SizeParameters::Fixed { size } => SizeRule::fixed(size),
            SizeParameters::Formula {
                margin,
                confidence,
                p,
                z,
                census_below,
            } => {
                let level = Confidence::parse(&confidence.to_string())?;
                if p.to_bits() != P.to_bits() {
                    return Err(SizeError::Proportion(p));
                }
                if z.to_bits() != level.z().to_bits() {
                    return Err(SizeError::Quantile { z, confidence });
                }
                Ok(SizeRule::formula(margin, level)?.with_census_below(census_below.unwrap_or(0)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formula(margin: f64, confidence: f64) -> SizeRule {
        let level = Confidence::parse(&confidence.to_string()).expect("supported confidence");
        SizeRule::formula(margin, level).expect("valid margin")
    }

    #[test]
    fn every_sample_size_vector_is_reproduced() {
        // /work/shared/vectors/vectors.json, "sample_size".
        let vectors: [(u64, f64, f64, u64); 9] = [
            (0, 0.05, 0.95, 0),
            (1, 0.05, 0.95, 1),
            (5, 0.05, 0.95, 5),
            (37, 0.05, 0.95, 34),
            (250, 0.05, 0.95, 152),
            (1000, 0.05, 0.95, 278),
            (123456, 0.05, 0.95, 383),
            (1000, 0.1, 0.95, 88),
            (1000, 0.05, 0.99, 400),
        ];
        for (population, margin, confidence, n) in vectors {
            assert_eq!(
                formula(margin, confidence).size(population),
                n,
                "N = {population}, e = {margin}, confidence = {confidence}"
            );
        }
    }

    #[test]
    fn the_default_is_at_most_one_above_krejcie_and_morgan() {
        // Krejcie, R. V. & Morgan, D. W. (1970), Table 1 (their χ² = 3.841 and rounding
        // make ours 0 or 1 larger). The table ends at 75 000 → 382 and 1 000 000 → 384;
        // some reprints show 100 000 → 384, a misprint of the last row (the formula gives
        // 383 for 100 000).
        let table: [(u64, u64); 95] = [
            (10, 10),
            (15, 14),
            (20, 19),
            (25, 24),
            (30, 28),
            (35, 32),
            (40, 36),
            (45, 40),
            (50, 44),
            (55, 48),
            (60, 52),
            (65, 56),
            (70, 59),
            (75, 63),
            (80, 66),
            (85, 70),
            (90, 73),
            (95, 76),
            (100, 80),
            (110, 86),
            (120, 92),
            (130, 97),
            (140, 103),
            (150, 108),
            (160, 113),
            (170, 118),
            (180, 123),
            (190, 127),
            (200, 132),
            (210, 136),
            (220, 140),
            (230, 144),
            (240, 148),
            (250, 152),
            (260, 155),
            (270, 159),
            (280, 162),
            (290, 165),
            (300, 169),
            (320, 175),
            (340, 181),
            (360, 186),
            (380, 191),
            (400, 196),
            (420, 201),
            (440, 205),
            (460, 210),
            (480, 214),
            (500, 217),
            (550, 226),
            (600, 234),
            (650, 242),
            (700, 248),
            (750, 254),
            (800, 260),
            (850, 265),
            (900, 269),
            (950, 274),
            (1000, 278),
            (1100, 285),
            (1200, 291),
            (1300, 297),
            (1400, 302),
            (1500, 306),
            (1600, 310),
            (1700, 313),
            (1800, 317),
            (1900, 320),
            (2000, 322),
            (2200, 327),
            (2400, 331),
            (2600, 335),
            (2800, 338),
            (3000, 341),
            (3500, 346),
            (4000, 351),
            (4500, 354),
            (5000, 357),
            (6000, 361),
            (7000, 364),
            (8000, 367),
            (9000, 368),
            (10000, 370),
            (15000, 375),
            (20000, 377),
            (30000, 379),
            (40000, 380),
            (50000, 381),
            (75000, 382),
            (1000000, 384),
            // Repeated anchors from the project's issue.
            (10, 10),
            (50, 44),
            (500, 217),
            (5000, 357),
            (10000, 370),
        ];
        let rule = SizeRule::formula(0.05, Confidence::P95).expect("valid");
        for (population, expected) in table {
            let ours = rule.size(population);
            assert!(
                ours >= expected && ours - expected <= 1,
                "N = {population}: ours {ours}, Krejcie & Morgan {expected}"
            );
        }
        assert_eq!(rule.size(100_000), 383);
    }

    #[test]
    fn the_sample_never_exceeds_the_population() {
        let rules = [
            SizeRule::default(),
            formula(0.01, 0.99),
            formula(0.5, 0.90),
            formula(1e-300, 0.95),
            SizeRule::fixed(30).expect("valid"),
            SizeRule::fixed(u64::MAX).expect("valid"),
        ];
        let populations = [0, 1, 2, 3, 29, 30, 31, 1000, u64::MAX / 2, u64::MAX];
        for rule in rules {
            for population in populations {
                let n = rule.size(population);
                assert!(n <= population, "{rule:?} N = {population} gave {n}");
                assert_eq!(
                    n == 0,
                    population == 0,
                    "{rule:?} N = {population} gave {n}"
                );
            }
        }
    }

    #[test]
    fn a_fixed_size_is_capped_by_the_population() {
        let rule = SizeRule::fixed(30).expect("valid");
        assert_eq!(rule.size(0), 0);
        assert_eq!(rule.size(12), 12);
        assert_eq!(rule.size(30), 30);
        assert_eq!(rule.size(500), 30);
        assert_eq!(SizeRule::fixed(0), Err(SizeError::ZeroFixed));
    }

    #[test]
    fn confidence_is_accepted_as_fraction_percentage_or_with_percent_sign() {
        let cases = [
            ("0.95", Confidence::P95),
            ("95", Confidence::P95),
            ("95%", Confidence::P95),
            (" 95 % ", Confidence::P95),
            ("0.950", Confidence::P95),
            ("0.9", Confidence::P90),
            ("0.90", Confidence::P90),
            ("90%", Confidence::P90),
            ("0.99", Confidence::P99),
            ("99", Confidence::P99),
        ];
        for (text, expected) in cases {
            assert_eq!(Confidence::parse(text), Ok(expected), "input {text:?}");
        }
    }

    #[test]
    fn other_confidence_levels_are_refused() {
        for text in [
            "",
            "%",
            "0.8",
            "80%",
            "0.951",
            "95.5",
            "1",
            "100%",
            "0.95%",
            "-95",
            "NaN",
            "inf",
            "九十五",
        ] {
            assert_eq!(
                Confidence::parse(text),
                Err(SizeError::Confidence(text.to_owned())),
                "input {text:?}"
            );
        }
    }

    #[test]
    fn margins_outside_zero_to_one_are_refused() {
        for margin in [
            0.0,
            -0.05,
            1.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(
                matches!(
                    SizeRule::formula(margin, Confidence::P95),
                    Err(SizeError::Margin(_))
                ),
                "margin {margin}"
            );
        }
        assert!(SizeRule::formula(0.999, Confidence::P95).is_ok());
    }

    #[test]
    fn the_default_asks_everyone_below_50_and_plus_minus_ten_points_above() {
        let rule = SizeRule::default();
        // Below 50 everyone; the formula at ±10%, 95% from 50 on.
        for (population, n) in [
            (0, 0),
            (1, 1),
            (10, 10),
            (40, 40),
            (49, 49),
            (50, 34),
            (100, 50),
            (1000, 88),
            (123_456, 96),
        ] {
            assert_eq!(rule.size(population), n, "N = {population}");
        }
        let formula = SizeRule::formula(0.1, Confidence::P95).expect("valid");
        assert_eq!(formula.size(40), 29, "the formula alone at N = 40");
        assert_eq!(formula.size(1000), 88, "the shared vector");
    }

    #[test]
    fn parameters_serialise_as_the_draw_record_shows_them() {
        let json = serde_json::to_string(&SizeRule::default().parameters()).expect("serialises");
        assert_eq!(
            json,
            r#"{"method":"formula","margin":0.1,"confidence":0.95,"p":0.5,"z":1.96,"census_below":50}"#
        );
        // A rule without a census threshold writes none, as records before it did.
        let plain = SizeRule::formula(0.05, Confidence::P95).expect("valid");
        let json = serde_json::to_string(&plain.parameters()).expect("serialises");
        assert_eq!(
            json,
            r#"{"method":"formula","margin":0.05,"confidence":0.95,"p":0.5,"z":1.96}"#
        );
        let back: SizeParameters = serde_json::from_str(&json).expect("parses");
        assert_eq!(SizeRule::try_from(&back), Ok(plain));
        let fixed = SizeRule::fixed(30).expect("valid").parameters();
        assert_eq!(
            serde_json::to_string(&fixed).expect("serialises"),
            r#"{"method":"fixed","size":30}"#
        );
    }

    #[test]
    fn a_rule_rebuilt_from_its_published_parameters_is_the_same_rule() {
        let rules = [
            SizeRule::default(),
            formula(0.1, 0.90),
            formula(0.03, 0.99),
            SizeRule::fixed(7).expect("valid"),
        ];
        for rule in rules {
            let json = serde_json::to_string(&rule.parameters()).expect("serialises");
            let parsed: SizeParameters = serde_json::from_str(&json).expect("parses");
            assert_eq!(SizeRule::try_from(&parsed), Ok(rule), "{json}");
        }
    }

    #[test]
    fn published_parameters_that_this_code_would_not_write_are_refused() {
        let bad = [
            (
                r#"{"method":"formula","margin":0.05,"confidence":0.95,"p":0.4,"z":1.96}"#,
                SizeError::Proportion(0.4),
            ),
            (
                r#"{"method":"formula","margin":0.05,"confidence":0.95,"p":0.5,"z":2.0}"#,
                SizeError::Quantile {
                    z: 2.0,
                    confidence: 0.95,
                },
            ),
            (
                r#"{"method":"formula","margin":0.05,"confidence":0.8,"p":0.5,"z":1.2816}"#,
                SizeError::Confidence("0.8".to_owned()),
            ),
            (
                r#"{"method":"formula","margin":0,"confidence":0.95,"p":0.5,"z":1.96}"#,
                SizeError::Margin(0.0),
            ),
            (r#"{"method":"fixed","size":0}"#, SizeError::ZeroFixed),
        ];
        for (json, expected) in bad {
            let parsed: SizeParameters = serde_json::from_str(json).expect("parses");
            assert_eq!(SizeRule::try_from(&parsed), Err(expected), "{json}");
        }
    }
}
