//! Replacement, never chosen: when a released case warrants a replacement, and which
//! reserve rank replaces it.
//!
//! * [`replacement_reason`] decides from a case's attempts whether it is replaced, under
//!   the campaign's [`ReplacementRules`] (default: NE or a wrong or dead number, refusal,
//!   or at least 3 non-contact attempts on at least 2 different days).
//! * [`next_release`] gives the rank to release: always the one after the largest rank
//!   already released, so ranks go out strictly in draw order and nobody picks who
//!   replaces whom. Releases stop when the village has its target of completes or the
//!   reserve runs out.
//!
//! Pure functions: no clock, no I/O. Days are `YYYY-MM-DD` strings supplied by the caller.

use super::outcome::{Class, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// When a case is replaced. Configurable per campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplacementRules {
    /// Replace a case whose latest final disposition is NE, a wrong number or a number
    /// not in service (the last two are UH in the rates).
    pub on_not_eligible: bool,
    /// Replace a case whose latest final disposition is a refusal or break-off (R).
    pub on_refusal: bool,
    /// Minimum number of non-contact attempts (no answer / busy / switched off).
    pub noncontact_attempts: u32,
    /// Minimum number of different days those attempts fall on.
    pub noncontact_days: u32,
}

impl Default for ReplacementRules {
    fn default() -> Self {
        ReplacementRules {
            on_not_eligible: true,
            on_refusal: true,
            noncontact_attempts: 3,
            noncontact_days: 2,
        }
    }
}

/// One recorded call attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The day of the attempt, `YYYY-MM-DD` (a trailing `T…` or ` …` time is ignored).
    pub day: String,
    pub outcome: Outcome,
}

/// Why a case is replaced; recorded with the release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    NotEligible,
    Refusal,
    /// `attempts` non-contact attempts on `days` different days (the counts found).
    NonContact {
        attempts: u32,
        days: u32,
    },
}

impl Reason {
    /// Stable key: `not_eligible`, `refusal`, `non_contact`.
    pub fn key(&self) -> &'static str {
        match self {
            Reason::NotEligible => "not_eligible",
            Reason::Refusal => "refusal",
            Reason::NonContact { .. } => "non_contact",
        }
    }

    /// Chinese label.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Reason::NotEligible => "不符合资格",
            Reason::Refusal => "拒访",
            Reason::NonContact { .. } => "多次联系不上",
        }
    }

    /// Chinese label with the counts, e.g. `多次联系不上（3次，2天）`.
    pub fn detail_zh(&self) -> String {
        match self {
            Reason::NonContact { attempts, days } => {
                format!("多次联系不上（{attempts}次，{days}天）")
            }
            other => other.label_zh().to_string(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotEligible => f.write_str("not eligible"),
            Reason::Refusal => f.write_str("refusal or break-off"),
            Reason::NonContact { attempts, days } => {
                write!(f, "non-contact: {attempts} attempts on {days} days")
            }
        }
    }
}

/// Whether the case whose attempts are given (in the order recorded) is replaced, and why.
///
/// * A case with any `complete` or `partial` attempt is never replaced.
/// * Otherwise the latest final disposition decides: NE, wrong number or not in service
///   → [`Reason::NotEligible`] if `on_not_eligible`; R (refusal, break-off) →
///   [`Reason::Refusal`] if `on_refusal`; O (illness, language, too old) → not replaced. When the rule for that class is
///   switched off the case is not replaced at all (it was reached, so the non-contact
///   rule cannot apply either).
/// * Without a final disposition: if every attempt is a non-contact attempt (no answer,
///   busy, switched off), there are at least `max(noncontact_attempts, 1)` of them, on at
///   least `noncontact_days` different days → [`Reason::NonContact`]. A case that was
///   ever reached (callback, never available, other…) is not replaced by this rule.
///   Days that are not valid `YYYY-MM-DD` dates still count as attempts but add no day.
pub fn replacement_reason(rules: &ReplacementRules, attempts: &[Attempt]) -> Option<Reason> {
    if attempts
        .iter()
        .any(|a| matches!(a.outcome.class(), Class::I | Class::P))
    {
        return None;
    }
    if let Some(last_final) = attempts.iter().rev().find(|a| a.outcome.is_final()) {
        let o = last_final.outcome;
        // A wrong or dead number is UH for the rates, yet leaves nobody to call on it:
        // it is replaced under the "not eligible" rule, as a NE case is.
        let not_eligible = o.class() == Class::NE || o.is_invalid_number();
        return match o.class() {
            _ if not_eligible => rules.on_not_eligible.then_some(Reason::NotEligible),
            Class::R => rules.on_refusal.then_some(Reason::Refusal),
            _ => None,
        };
    }
    if attempts.iter().any(|a| !a.outcome.is_noncontact_attempt()) {
        return None;
    }
    let count = u32::try_from(attempts.len()).unwrap_or(u32::MAX);
    let days: BTreeSet<i64> = attempts.iter().filter_map(|a| day_number(&a.day)).collect();
    let days = u32::try_from(days.len()).unwrap_or(u32::MAX);
    if count >= rules.noncontact_attempts.max(1) && days >= rules.noncontact_days {
        Some(Reason::NonContact {
            attempts: count,
            days,
        })
    } else {
        None
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian); anything after
/// the date that starts with `T` or a space (a time) is ignored. `None` if not a valid
/// date in exactly that form.
pub fn day_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = match s.as_bytes().get(10) {
        None => s,
        Some(b'T' | b' ') => s.get(..10)?,
        Some(_) => return None,
    };
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = date.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_len = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > month_len {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// What a village's release bookkeeping looks like now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageState {
    /// Ranks drawn for the village: 1..=population (primary 1..=size, then the reserve).
    pub population: u64,
    /// The target of completes, n (the primary sample size).
    pub size: u64,
    /// Ranks released so far (sorted; the order is not relied upon).
    pub released_ranks: Vec<u64>,
    pub completes: u64,
    /// Cases that warrant replacement and have not been replaced yet.
    pub pending_replacements: u64,
}

/// The outcome of [`next_release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "next", content = "rank", rename_all = "snake_case")]
pub enum NextRelease {
    /// Release this rank now.
    Rank(u64),
    /// The village has its target of completes: release nothing more.
    TargetReached,
    /// Every rank is released: a replacement is due but none is left (flag it).
    ReserveExhausted,
    /// No case is waiting for a replacement.
    NothingPending,
}

/// The next rank to release for a village, or why none is released. Checked in order:
/// 1. `completes >= size` → [`NextRelease::TargetReached`];
/// 2. `pending_replacements == 0` → [`NextRelease::NothingPending`];
/// 3. the largest released rank `>= population` → [`NextRelease::ReserveExhausted`];
/// 4. otherwise [`NextRelease::Rank`]`(max(released) + 1)` (1 if nothing is released).
///
/// The rank is never chosen: it is the smallest rank above every released one, so ranks
/// are released strictly in draw order. Call once per pending replacement, recording
/// each release (and decrementing `pending_replacements`) before the next call.
pub fn next_release(v: &VillageState) -> NextRelease {
    if v.completes >= v.size {
        return NextRelease::TargetReached;
    }
    if v.pending_replacements == 0 {
        return NextRelease::NothingPending;
    }
    let max = v.released_ranks.iter().copied().max().unwrap_or(0);
    if max >= v.population {
        return NextRelease::ReserveExhausted;
    }
    // max < population ≤ u64::MAX, so max + 1 cannot overflow.
    NextRelease::Rank(max + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    fn at(day: &str, outcome: Outcome) -> Attempt {
        Attempt {
            day: day.to_string(),
            outcome,
        }
    }

    fn reason(attempts: &[Attempt]) -> Option<Reason> {
        replacement_reason(&ReplacementRules::default(), attempts)
    }

    #[test]
    fn defaults() {
        let r = ReplacementRules::default();
        assert!(r.on_not_eligible && r.on_refusal);
        assert_eq!((r.noncontact_attempts, r.noncontact_days), (3, 2));
        let partial: ReplacementRules =
            serde_json::from_str(r#"{"noncontact_attempts": 5}"#).unwrap();
        assert_eq!(partial.noncontact_attempts, 5);
        assert_eq!(partial.noncontact_days, 2);
    }

    #[test]
    fn not_eligible() {
        for o in [WrongNumber, NotInService, NotRecipient] {
            assert_eq!(reason(&[at("2025-10-01", o)]), Some(Reason::NotEligible));
        }
        let off = ReplacementRules {
            on_not_eligible: false,
            ..Default::default()
        };
        assert_eq!(
            replacement_reason(&off, &[at("2025-10-01", WrongNumber)]),
            None
        );
    }

    #[test]
    fn a_wrong_or_dead_number_is_uh_in_the_rates_yet_replaced_as_before() {
        for o in [WrongNumber, NotInService] {
            assert_eq!(o.class(), Class::UH);
            assert_eq!(
                reason(&[at("2025-10-01", NoAnswer), at("2025-10-02", o)]),
                Some(Reason::NotEligible),
                "{o}"
            );
        }
        // A UH attempt that is not final is not a trigger on its own.
        assert_eq!(reason(&[at("2025-10-01", NoAnswer)]), None);
    }

    #[test]
    fn refusal_and_breakoff() {
        assert_eq!(reason(&[at("2025-10-01", Refusal)]), Some(Reason::Refusal));
        assert_eq!(
            reason(&[at("2025-10-01", NoAnswer), at("2025-10-02", Breakoff)]),
            Some(Reason::Refusal)
        );
        let off = ReplacementRules {
            on_refusal: false,
            ..Default::default()
        };
        assert_eq!(replacement_reason(&off, &[at("2025-10-01", Refusal)]), None);
        // Even with enough non-contact attempts before it: the case was reached.
        let attempts = [
            at("2025-10-01", NoAnswer),
            at("2025-10-02", Busy),
            at("2025-10-03", SwitchedOff),
            at("2025-10-04", Refusal),
        ];
        assert_eq!(replacement_reason(&off, &attempts), None);
    }

    #[test]
    fn latest_final_disposition_decides() {
        assert_eq!(
            reason(&[at("2025-10-01", Refusal), at("2025-10-02", WrongNumber)]),
            Some(Reason::NotEligible)
        );
        assert_eq!(
            reason(&[at("2025-10-01", WrongNumber), at("2025-10-02", Refusal)]),
            Some(Reason::Refusal)
        );
        // A non-final attempt after a final one does not undo it.
        assert_eq!(
            reason(&[at("2025-10-01", Refusal), at("2025-10-02", Callback)]),
            Some(Reason::Refusal)
        );
        // O is final but not a trigger.
        for o in [Illness, Language, TooOld] {
            assert_eq!(reason(&[at("2025-10-01", o)]), None);
        }
    }

    #[test]
    fn answered_case_never_replaced() {
        assert_eq!(reason(&[at("2025-10-01", Complete)]), None);
        assert_eq!(reason(&[at("2025-10-01", Partial)]), None);
        assert_eq!(
            reason(&[at("2025-10-01", Partial), at("2025-10-02", Refusal)]),
            None
        );
        assert_eq!(
            reason(&[at("2025-10-01", Complete), at("2025-10-02", WrongNumber)]),
            None
        );
    }

    #[test]
    fn noncontact_default_thresholds() {
        let three_one_day = [
            at("2025-10-01", NoAnswer),
            at("2025-10-01", Busy),
            at("2025-10-01", SwitchedOff),
        ];
        assert_eq!(reason(&three_one_day), None);
        let two_two_days = [at("2025-10-01", NoAnswer), at("2025-10-02", NoAnswer)];
        assert_eq!(reason(&two_two_days), None);
        let three_two_days = [
            at("2025-10-01", NoAnswer),
            at("2025-10-01T18:30", Busy),
            at("2025-10-02 09:00", SwitchedOff),
        ];
        assert_eq!(
            reason(&three_two_days),
            Some(Reason::NonContact {
                attempts: 3,
                days: 2
            })
        );
        assert_eq!(reason(&[]), None);
    }

    #[test]
    fn noncontact_thresholds_configurable() {
        let rules = ReplacementRules {
            noncontact_attempts: 2,
            noncontact_days: 1,
            ..Default::default()
        };
        let two_one_day = [at("2025-10-01", NoAnswer), at("2025-10-01", Busy)];
        assert_eq!(
            replacement_reason(&rules, &two_one_day),
            Some(Reason::NonContact {
                attempts: 2,
                days: 1
            })
        );
        assert_eq!(replacement_reason(&rules, &two_one_day[..1]), None);
        // Zero thresholds never replace a case nobody has tried.
        let zero = ReplacementRules {
            noncontact_attempts: 0,
            noncontact_days: 0,
            ..Default::default()
        };
        assert_eq!(replacement_reason(&zero, &[]), None);
        assert!(replacement_reason(&zero, &two_one_day[..1]).is_some());
    }

    #[test]
    fn reached_then_no_answer_not_replaced_for_noncontact() {
        let attempts = [
            at("2025-10-01", Callback),
            at("2025-10-02", NoAnswer),
            at("2025-10-03", NoAnswer),
            at("2025-10-04", NoAnswer),
        ];
        assert_eq!(reason(&attempts), None);
        let attempts = [
            at("2025-10-01", NoAnswer),
            at("2025-10-02", NeverAvailable),
            at("2025-10-03", NoAnswer),
            at("2025-10-04", Busy),
        ];
        assert_eq!(reason(&attempts), None);
        let attempts = [
            at("2025-10-01", Other),
            at("2025-10-02", NoAnswer),
            at("2025-10-03", NoAnswer),
            at("2025-10-04", Busy),
        ];
        assert_eq!(reason(&attempts), None);
    }

    #[test]
    fn bad_days_count_attempts_not_days() {
        let attempts = [
            at("2025-10-01", NoAnswer),
            at("yesterday", NoAnswer),
            at("2025-02-30", NoAnswer),
            at("", Busy),
        ];
        assert_eq!(reason(&attempts), None); // 4 attempts, 1 valid day
    }

    #[test]
    fn day_numbers() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("1970-01-02"), Some(1));
        assert_eq!(day_number("1969-12-31"), Some(-1));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(day_number("2024-02-29"), Some(19_782));
        assert_eq!(day_number("2025-10-01T08:00:00+08:00"), Some(20_362));
        assert_eq!(day_number(" 2025-10-01 "), Some(20_362));
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-1-1",
            "2025/10/01",
            "+025-10-01",
            "2025-10-01X",
            "２０２５-10-01",
            "",
        ] {
            assert_eq!(day_number(bad), None, "{bad}");
        }
        assert_eq!(
            day_number("2025-12-31").map(|d| d + 1),
            day_number("2026-01-01")
        );
    }

    #[test]
    fn reason_keys_and_labels() {
        let nc = Reason::NonContact {
            attempts: 3,
            days: 2,
        };
        assert_eq!(Reason::NotEligible.key(), "not_eligible");
        assert_eq!(Reason::Refusal.key(), "refusal");
        assert_eq!(nc.key(), "non_contact");
        assert_eq!(nc.label_zh(), "多次联系不上");
        assert_eq!(nc.detail_zh(), "多次联系不上（3次，2天）");
        assert_eq!(Reason::Refusal.detail_zh(), "拒访");
        assert_eq!(
            serde_json::to_string(&nc).unwrap(),
            r#"{"reason":"non_contact","attempts":3,"days":2}"#
        );
    }

    fn village(population: u64, size: u64) -> VillageState {
        VillageState {
            population,
            size,
            released_ranks: (1..=size).collect(),
            completes: 0,
            pending_replacements: 0,
        }
    }

    /// Record one release the way the caller would.
    fn release(v: &mut VillageState) -> NextRelease {
        let next = next_release(v);
        if let NextRelease::Rank(r) = next {
            v.released_ranks.push(r);
            v.pending_replacements -= 1;
        }
        next
    }

    #[test]
    fn order_under_every_trigger() {
        let rules = ReplacementRules::default();
        let mut v = village(10, 3);
        // Rank 1: wrong number; rank 2: refusal; rank 3: three non-contacts on two days.
        let cases: [&[Attempt]; 3] = [
            &[at("2025-10-01", WrongNumber)],
            &[at("2025-10-01", Refusal)],
            &[
                at("2025-10-01", NoAnswer),
                at("2025-10-02", Busy),
                at("2025-10-02", SwitchedOff),
            ],
        ];
        let mut released = Vec::new();
        for attempts in cases {
            assert!(replacement_reason(&rules, attempts).is_some());
            v.pending_replacements += 1;
            released.push(release(&mut v));
        }
        assert_eq!(
            released,
            [
                NextRelease::Rank(4),
                NextRelease::Rank(5),
                NextRelease::Rank(6)
            ]
        );
        // Replacement 4 is itself replaced: the next rank, 7.
        v.pending_replacements += 1;
        assert_eq!(release(&mut v), NextRelease::Rank(7));
        assert_eq!(next_release(&v), NextRelease::NothingPending);
    }

    #[test]
    fn several_pending_go_out_in_order() {
        let mut v = village(8, 3);
        v.pending_replacements = 3;
        let got: Vec<_> = (0..3).map(|_| release(&mut v)).collect();
        assert_eq!(
            got,
            [
                NextRelease::Rank(4),
                NextRelease::Rank(5),
                NextRelease::Rank(6)
            ]
        );
        assert_eq!(v.released_ranks, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn reserve_runs_out() {
        let mut v = village(5, 3);
        v.pending_replacements = 3;
        assert_eq!(release(&mut v), NextRelease::Rank(4));
        assert_eq!(release(&mut v), NextRelease::Rank(5));
        assert_eq!(release(&mut v), NextRelease::ReserveExhausted);
        assert_eq!(v.pending_replacements, 1);
        // No reserve at all.
        let mut v = village(3, 3);
        v.pending_replacements = 1;
        assert_eq!(next_release(&v), NextRelease::ReserveExhausted);
    }

    #[test]
    fn target_reached_stops_releases() {
        let mut v = village(10, 3);
        v.pending_replacements = 2;
        v.completes = 3;
        assert_eq!(next_release(&v), NextRelease::TargetReached);
        v.completes = 4;
        assert_eq!(next_release(&v), NextRelease::TargetReached);
        // Target beats an exhausted reserve.
        let mut v = village(3, 3);
        v.completes = 3;
        v.pending_replacements = 1;
        assert_eq!(next_release(&v), NextRelease::TargetReached);
        v.completes = 2;
        assert_eq!(next_release(&v), NextRelease::ReserveExhausted);
    }

    #[test]
    fn never_skips_never_reuses() {
        // Unsorted input and gaps: still max + 1, never a rank at or below a released one.
        let v = VillageState {
            population: 100,
            size: 5,
            released_ranks: vec![3, 9, 1, 2],
            completes: 0,
            pending_replacements: 1,
        };
        assert_eq!(next_release(&v), NextRelease::Rank(10));
        let empty = VillageState {
            population: 4,
            size: 2,
            pending_replacements: 1,
            ..Default::default()
        };
        assert_eq!(next_release(&empty), NextRelease::Rank(1));
        let huge = VillageState {
            population: u64::MAX,
            size: 1,
            released_ranks: vec![u64::MAX],
            completes: 0,
            pending_replacements: 1,
        };
        assert_eq!(next_release(&huge), NextRelease::ReserveExhausted);
    }
}
