//! Algorithm sample-v1: a village's frozen roster and the seed → every recipient ranked.
//!
//! Specified to the bit so that anyone holding the frozen rosters and the published seed
//! can redo the draw with another implementation, years later:
//!
//! 1. frame = the village's unique normalised phones, sorted ascending by byte order;
//!    fingerprint = lowercase hex SHA-256 of each phone followed by `"\n"`.
//! 2. stratum seed = SHA-256 of the UTF-8 bytes
//!    `"minyi/sample-v1" + "\n" + seed + "\n" + village_code + "\n" + fingerprint_hex`.
//! 3. rng = `ChaCha20Rng::from_seed(stratum seed)` (rand_chacha); only `next_u64` is used.
//! 4. `uniform(m)`: `t = (2^64 − m) mod m`; repeat `x = next_u64()` until `x ≥ t`;
//!    return `x mod m`.
//! 5. for i from 0 while i < N − 1: `j = i + uniform(N − i)`; swap frame\[i\] and frame\[j\].
//! 6. rank k (1-based) = position in the permuted frame; ranks 1..n are the primary sample,
//!    ranks n+1..N the reserve, used in rank order when a primary recipient cannot be
//!    reached.
//! 7. list_sha256 = lowercase hex SHA-256 of all N phones in rank order, each followed by
//!    `"\n"`.
//!
//! Because the fingerprint enters the stratum seed, the draw changes completely if a single
//! phone is added to or removed from a frozen roster.

use std::num::NonZeroU64;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::sampling::record::VillageRecord;
use crate::sampling::seed::Seed;
use crate::sampling::size::SizeRule;

pub use crate::sampling::ALGORITHM;

/// Domain-separation prefix of the stratum seed.
const STRATUM_PREFIX: &str = "minyi/sample-v1";

/// Lowercase hex SHA-256 of the items, each followed by `"\n"`, in the order given.
fn lines_sha256<T: AsRef<str>>(items: &[T]) -> String {
    let mut hasher = Sha256::new();
    for item in items {
        hasher.update(item.as_ref().as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// The roster fingerprint: lowercase hex SHA-256 of each phone followed by `"\n"`.
///
/// `sorted` must already be the frame (unique, ascending by byte order); the fingerprint is
/// taken in the order given so that it can be checked against a published roster file line
/// by line. An empty roster has the fingerprint of empty input
/// (`e3b0c442…b855`).
pub fn fingerprint<T: AsRef<str>>(sorted: &[T]) -> String {
    lines_sha256(sorted)
}

/// The 32-byte ChaCha20 seed of one village's draw:
/// SHA-256 of `"minyi/sample-v1\n" + seed + "\n" + village_code + "\n" + fingerprint_hex`.
pub fn stratum_seed(seed: &Seed, village_code: &str, fingerprint_hex: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(STRATUM_PREFIX.as_bytes());
    hasher.update(b"\n");
    hasher.update(seed.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(village_code.as_bytes());
    hasher.update(b"\n");
    hasher.update(fingerprint_hex.as_bytes());
    hasher.finalize().into()
}

/// An unbiased integer in `0..m` by rejection: `t = (2^64 − m) mod m`; draw
/// `x = next_u64()` until `x ≥ t`; return `x mod m`.
///
/// Rejecting the lowest `t` values leaves a multiple of `m` equally likely values, so every
/// result is equally likely. `m = 1` consumes one value and returns 0.
pub fn uniform<R: Rng + ?Sized>(rng: &mut R, m: NonZeroU64) -> u64 {
    let m = m.get();
    let threshold = m.wrapping_neg() % m;
    loop {
        let x = rng.next_u64();
        if x >= threshold {
            return x % m;
        }
    }
}

/// Permutes `frame` in place with the sample-v1 Fisher–Yates loop driven by `rng`.
pub(crate) fn permute<T, R: Rng + ?Sized>(frame: &mut [T], rng: &mut R) {
    let len = frame.len();
    for i in 0..len.saturating_sub(1) {
        // len − i ≥ 2 here, so the conversion and NonZeroU64 always succeed.
        let Some(m) = u64::try_from(len - i).ok().and_then(NonZeroU64::new) else {
            return;
        };
        // uniform(m) < m = len − i, so j < len and fits in usize.
        let offset = usize::try_from(uniform(rng, m)).unwrap_or(0);
        frame.swap(i, i + offset);
    }
}

/// One village's draw: every unique recipient ranked, and how many of them are sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratum<T> {
    /// The village's code, as it entered the stratum seed.
    pub village_code: String,
    /// The roster fingerprint of the frame.
    pub fingerprint: String,
    /// All unique phones in rank order: `ranked[0]` has rank 1. Its length is the
    /// population N.
    pub ranked: Vec<T>,
    /// The sample size n (≤ N): ranks 1..n are the primary sample.
    pub size: u64,
    /// SHA-256 of `ranked`, each phone followed by `"\n"`.
    pub list_sha256: String,
}

impl<T> Stratum<T> {
    /// The population N: the number of unique phones in the frame.
    pub fn population(&self) -> u64 {
        // usize → u64 never loses anything on the platforms Rust supports.
        u64::try_from(self.ranked.len()).unwrap_or(u64::MAX)
    }

    /// The primary sample, ranks 1..n.
    pub fn primary(&self) -> &[T] {
        &self.ranked[..self.primary_len()]
    }

    /// The reserve, ranks n+1..N, to be used in rank order.
    pub fn reserve(&self) -> &[T] {
        &self.ranked[self.primary_len()..]
    }

    fn primary_len(&self) -> usize {
        usize::try_from(self.size)
            .unwrap_or(usize::MAX)
            .min(self.ranked.len())
    }

    /// The publishable summary of this draw (no phone numbers).
    pub fn record(&self) -> VillageRecord {
        VillageRecord {
            code: self.village_code.clone(),
            population: self.population(),
            fingerprint: self.fingerprint.clone(),
            size: self.size,
            list_sha256: self.list_sha256.clone(),
        }
    }
}

impl<T: AsRef<str>> Stratum<T> {
    /// The 1-based rank of `phone`, if it is in the frame.
    pub fn rank_of(&self, phone: &str) -> Option<u64> {
        let index = self.ranked.iter().position(|p| p.as_ref() == phone)?;
        u64::try_from(index).ok().map(|i| i + 1)
    }
}

/// Draws one village with algorithm sample-v1.
///
/// `phones` may come in any order and with repeats: a sorted, deduplicated copy is the
/// frame, so the input order never changes the result. Items are compared with `Ord`,
/// which for the frame must agree with the byte order of `as_ref()` (true for `String`,
/// `&str` and newtypes deriving `Ord` over one).
pub fn draw_stratum<T: AsRef<str> + Ord + Clone>(
    seed: &Seed,
    village_code: &str,
    phones: Vec<T>,
    rule: &SizeRule,
) -> Stratum<T> {
    let mut frame = phones;
    // The spec's order is the bytes' order. `T`'s own `Ord` (String's, Phone's) is that
    // order and much cheaper to compare; one pass checks it, and a `T` whose `Ord` differs
    // falls back to sorting by the bytes themselves.
    frame.sort_unstable();
    frame.dedup();
    let byte_ordered = frame
        .windows(2)
        .all(|w| w[0].as_ref().as_bytes() < w[1].as_ref().as_bytes());
    if !byte_ordered {
        frame.sort_by(|a, b| a.as_ref().as_bytes().cmp(b.as_ref().as_bytes()));
        frame.dedup_by(|a, b| a.as_ref() == b.as_ref());
    }

    let fingerprint = fingerprint(&frame);
    let mut rng = ChaCha20Rng::from_seed(stratum_seed(seed, village_code, &fingerprint));
    permute(&mut frame, &mut rng);

    let population = u64::try_from(frame.len()).unwrap_or(u64::MAX);
    Stratum {
        village_code: village_code.to_owned(),
        fingerprint,
        size: rule.size(population),
        list_sha256: lines_sha256(&frame),
        ranked: frame,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::size::Confidence;

    fn seed(text: &str) -> Seed {
        Seed::parse(text).expect("valid seed")
    }

    struct Vector {
        seed: &'static str,
        village_code: &'static str,
        phones: &'static [&'static str],
        fingerprint: &'static str,
        ranked: &'static [&'static str],
        size_default: u64,
        list_sha256: &'static str,
    }

    /// /work/shared/vectors/vectors.json, "sample_v1", computed by a separate
    /// implementation written from the issue text.
    const VECTORS: [Vector; 3] = [
        Vector {
            seed: "2026 town meeting dice 31415926535",
            village_code: "430527101",
            phones: &[
                "13800000001",
                "13800000002",
                "13900000003",
                "15000000004",
                "18600000005",
                "07391234567",
                "13700000007",
                "13600000008",
                "15900000009",
                "18800000010",
            ],
            fingerprint: "8440fd84c096f704c591f0f74c9c36d94cd6908fa87d49de9713c3de1a910e4b",
            ranked: &[
                "18600000005",
                "13600000008",
                "07391234567",
                "18800000010",
                "13800000001",
                "13900000003",
                "15900000009",
                "13700000007",
                "13800000002",
                "15000000004",
            ],
            size_default: 10,
            list_sha256: "a879da9a83f1898afc27f41337a975d1e01ffc79823fa85cc247ab18e993fd6d",
        },
        Vector {
            seed: "  seed with spaces around 4 2 6 1  ",
            village_code: "430527102",
            phones: &["13512345678"],
            fingerprint: "b6ae791aaf0d67cd0eebc9bbbc41fbc23aeb3e155021d4a58bb913876cfacaf3",
            ranked: &["13512345678"],
            size_default: 1,
            list_sha256: "b6ae791aaf0d67cd0eebc9bbbc41fbc23aeb3e155021d4a58bb913876cfacaf3",
        },
        Vector {
            seed: "0123456789012345678901",
            village_code: "430527103",
            phones: &[],
            fingerprint: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ranked: &[],
            size_default: 0,
            list_sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        },
    ];

    #[test]
    fn every_sample_v1_vector_is_reproduced_exactly() {
        for vector in &VECTORS {
            let stratum = draw_stratum(
                &seed(vector.seed),
                vector.village_code,
                vector.phones.to_vec(),
                &SizeRule::default(),
            );
            let name = vector.village_code;
            assert_eq!(
                stratum.fingerprint, vector.fingerprint,
                "{name} fingerprint"
            );
            assert_eq!(stratum.ranked, vector.ranked, "{name} ranked");
            assert_eq!(stratum.size, vector.size_default, "{name} size");
            assert_eq!(
                stratum.list_sha256, vector.list_sha256,
                "{name} list_sha256"
            );
            assert_eq!(stratum.village_code, name);
        }
    }

    #[test]
    fn the_worked_example_in_the_docs_still_holds() {
        // WORKED_EXAMPLE.md (cargo run --example worked_example); also reproduced with
        // OpenSSL's ChaCha20 from Python.
        let s = seed("worked example dice 6 2 5 1 3 4");
        let phones = vec!["18612345678", "13800138000", "15074390001", "13907391234"];
        let stratum = draw_stratum(&s, "430527101", phones, &SizeRule::default());
        assert_eq!(
            stratum.fingerprint,
            "79522651389eeae32038b0e8f935ab7dafc6cf2bb0e69a4b0d172428ec0bb787"
        );
        assert_eq!(
            hex::encode(stratum_seed(&s, "430527101", &stratum.fingerprint)),
            "90ae288670d4315e2940dd310aefc7cf3ad9deef890ca3439ccae98f9d1b6277"
        );
        let mut rng = ChaCha20Rng::from_seed(stratum_seed(&s, "430527101", &stratum.fingerprint));
        assert_eq!(rng.next_u64(), 15321934909805950105);
        assert_eq!(rng.next_u64(), 10652593798355280342);
        assert_eq!(
            stratum.ranked,
            ["13907391234", "13800138000", "18612345678", "15074390001"]
        );
        assert_eq!(
            stratum.list_sha256,
            "c8ca089a3ff30bbe718f729b72a599df6ceccea58321da88fceaf22f6940161c"
        );
    }

    #[test]
    fn the_fingerprint_is_taken_over_the_sorted_frame() {
        let vector = &VECTORS[0];
        let mut sorted = vector.phones.to_vec();
        sorted.sort_unstable();
        assert_eq!(fingerprint(&sorted), vector.fingerprint);
        assert_ne!(fingerprint(vector.phones), vector.fingerprint);
    }

    #[test]
    fn the_input_order_and_duplicates_do_not_change_the_draw() {
        let vector = &VECTORS[0];
        let expected: Vec<String> = vector.ranked.iter().map(|p| p.to_string()).collect();
        let mut phones: Vec<String> = vector.phones.iter().map(|p| p.to_string()).collect();
        let rule = SizeRule::default();
        let the_seed = seed(vector.seed);
        for round in 0..12 {
            // Reverse, rotate and repeat some phones: the frame must come out the same.
            phones.reverse();
            phones.rotate_left(round % 5);
            if round % 3 == 0 {
                let again = phones[round % phones.len()].clone();
                phones.push(again.clone());
                phones.insert(0, again);
            }
            let stratum = draw_stratum(&the_seed, vector.village_code, phones.clone(), &rule);
            assert_eq!(stratum.ranked, expected, "round {round}: {phones:?}");
            assert_eq!(stratum.fingerprint, vector.fingerprint);
            assert_eq!(stratum.list_sha256, vector.list_sha256);
            assert_eq!(stratum.population(), 10);
        }
    }

    #[test]
    fn the_seed_is_trimmed_before_it_enters_the_stratum_seed() {
        let vector = &VECTORS[1];
        let trimmed = seed(vector.seed.trim());
        let padded = seed(&format!("\t\n{}\r\n", vector.seed));
        assert_eq!(
            stratum_seed(&trimmed, vector.village_code, vector.fingerprint),
            stratum_seed(&padded, vector.village_code, vector.fingerprint)
        );
    }

    #[test]
    fn the_stratum_seed_is_the_sha256_of_the_documented_text() {
        let s = seed("2026 town meeting dice 31415926535");
        let text = "minyi/sample-v1\n2026 town meeting dice 31415926535\n430527101\nabc";
        let expected: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        assert_eq!(stratum_seed(&s, "430527101", "abc"), expected);
    }

    #[test]
    fn another_village_code_seed_or_roster_gives_another_order() {
        let vector = &VECTORS[0];
        let rule = SizeRule::default();
        let base = draw_stratum(
            &seed(vector.seed),
            "430527101",
            vector.phones.to_vec(),
            &rule,
        );
        let other_code = draw_stratum(
            &seed(vector.seed),
            "430527199",
            vector.phones.to_vec(),
            &rule,
        );
        let other_seed = draw_stratum(
            &seed("2026 town meeting dice 31415926536"),
            "430527101",
            vector.phones.to_vec(),
            &rule,
        );
        let mut more = vector.phones.to_vec();
        more.push("13900000099");
        let other_roster = draw_stratum(&seed(vector.seed), "430527101", more, &rule);
        assert_ne!(base.ranked, other_code.ranked);
        assert_ne!(base.ranked, other_seed.ranked);
        assert_ne!(base.fingerprint, other_roster.fingerprint);
        assert_ne!(base.list_sha256, other_code.list_sha256);
    }

    #[test]
    fn primary_and_reserve_split_the_ranking_at_n() {
        let vector = &VECTORS[0];
        let rule = SizeRule::fixed(3).expect("valid");
        let stratum = draw_stratum(
            &seed(vector.seed),
            "430527101",
            vector.phones.to_vec(),
            &rule,
        );
        assert_eq!(stratum.size, 3);
        assert_eq!(stratum.primary(), &vector.ranked[..3]);
        assert_eq!(stratum.reserve(), &vector.ranked[3..]);
        assert_eq!(stratum.rank_of("18600000005"), Some(1));
        assert_eq!(stratum.rank_of("15000000004"), Some(10));
        assert_eq!(stratum.rank_of("10000000000"), None);
        let record = stratum.record();
        assert_eq!(record.population, 10);
        assert_eq!(record.size, 3);
        assert_eq!(record.list_sha256, vector.list_sha256);
    }

    #[test]
    fn a_stratum_with_a_size_above_its_population_does_not_panic() {
        let stratum = Stratum {
            village_code: "x".to_owned(),
            fingerprint: String::new(),
            ranked: vec!["a", "b"],
            size: 99,
            list_sha256: String::new(),
        };
        assert_eq!(stratum.primary(), &["a", "b"]);
        assert!(stratum.reserve().is_empty());
    }

    /// A generator that replays fixed values, to test `uniform` at its edges.
    struct Replay(Vec<u64>);

    impl rand_chacha::rand_core::TryRng for Replay {
        type Error = std::convert::Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }

        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(self.0.pop().unwrap_or(u64::MAX))
        }

        fn try_fill_bytes(&mut self, _dst: &mut [u8]) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn nz(m: u64) -> NonZeroU64 {
        NonZeroU64::new(m).expect("non-zero")
    }

    #[test]
    fn uniform_rejects_values_below_the_threshold() {
        // m = 3: t = 2^64 mod 3 = 1, so x = 0 is rejected and the next value used.
        let mut rng = Replay(vec![7, 0]);
        assert_eq!(uniform(&mut rng, nz(3)), 1);
        assert!(rng.0.is_empty());
        // m = 2^63 + 1: t = 2^63 − 1; everything below is rejected.
        let m = (1u64 << 63) + 1;
        let mut rng = Replay(vec![u64::MAX, (1 << 63) - 2, 0]);
        assert_eq!(uniform(&mut rng, nz(m)), u64::MAX % m);
        assert!(rng.0.is_empty());
    }

    #[test]
    fn uniform_of_one_is_zero_after_one_draw() {
        let mut rng = Replay(vec![5, 0, u64::MAX]);
        assert_eq!(uniform(&mut rng, nz(1)), 0);
        assert_eq!(rng.0.len(), 2);
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        for _ in 0..100 {
            assert_eq!(uniform(&mut rng, nz(1)), 0);
        }
    }

    #[test]
    fn uniform_never_reaches_m() {
        let mut rng = ChaCha20Rng::from_seed([42; 32]);
        let ms = [
            1,
            2,
            3,
            5,
            7,
            10,
            20,
            1000,
            (1 << 32) + 1,
            (1 << 63) - 1,
            1 << 63,
            (1 << 63) + 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        for m in ms {
            for _ in 0..2_000 {
                let x = uniform(&mut rng, nz(m));
                assert!(x < m, "uniform({m}) gave {x}");
            }
        }
    }

    #[test]
    fn uniform_covers_every_value_of_a_small_range() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            let x = uniform(&mut rng, nz(7));
            seen[usize::try_from(x).expect("small")] += 1;
        }
        // Expected 1000 each, standard deviation ≈ 29.
        assert!(seen.iter().all(|&c| (850..=1150).contains(&c)), "{seen:?}");
    }

    /// Deterministic statistics over many fixed seeds: never flaky, but they fail if the
    /// shuffle were biased (for example `j = uniform(N)` instead of `i + uniform(N − i)`).
    mod statistics {
        use super::*;

        const SEEDS: usize = 4_000;
        const POPULATION: usize = 20;
        const SAMPLE: u64 = 5;

        fn phones() -> Vec<String> {
            (0..POPULATION).map(|i| format!("139{i:08}")).collect()
        }

        fn draws() -> Vec<Stratum<String>> {
            let rule = SizeRule::fixed(SAMPLE).expect("valid");
            (1..=SEEDS)
                .map(|k| {
                    let s = seed(&format!("statistics seed {k:010}"));
                    draw_stratum(&s, "430527101", phones(), &rule)
                })
                .collect()
        }

        #[test]
        fn each_recipient_is_sampled_with_probability_n_over_big_n() {
            let phones = phones();
            let mut counts = [0u32; POPULATION];
            for stratum in draws() {
                assert_eq!(stratum.primary().len(), 5);
                for phone in stratum.primary() {
                    let index = phones.iter().position(|p| p == phone).expect("in frame");
                    counts[index] += 1;
                }
            }
            let p = SAMPLE as f64 / POPULATION as f64;
            let sd = (p * (1.0 - p) / SEEDS as f64).sqrt();
            for (index, &count) in counts.iter().enumerate() {
                let frequency = f64::from(count) / SEEDS as f64;
                assert!(
                    (frequency - p).abs() < 4.5 * sd,
                    "phone {index}: frequency {frequency:.4}, expected {p} ± {:.4}",
                    4.5 * sd
                );
            }
        }

        #[test]
        fn the_first_rank_is_uniform_by_a_chi_square_test() {
            let phones = phones();
            let mut counts = [0u32; POPULATION];
            for stratum in draws() {
                let first = &stratum.ranked[0];
                counts[phones.iter().position(|p| p == first).expect("in frame")] += 1;
            }
            let expected = SEEDS as f64 / POPULATION as f64;
            let chi_square: f64 = counts
                .iter()
                .map(|&c| (f64::from(c) - expected).powi(2) / expected)
                .sum();
            // 19 degrees of freedom, critical value at p = 0.001.
            assert!(
                chi_square < 43.82,
                "chi-square {chi_square:.2}, counts {counts:?}"
            );
        }

        #[test]
        fn the_chi_square_test_would_notice_an_off_by_one_shuffle() {
            // Sattolo's variant (j = i + 1 + uniform(N − i − 1)) never leaves the first
            // phone first: the same test must reject it, otherwise it proves nothing.
            let mut counts = [0u32; POPULATION];
            for k in 1..=SEEDS {
                let mut key = [0u8; 32];
                key[..8].copy_from_slice(&(k as u64).to_le_bytes());
                let mut rng = ChaCha20Rng::from_seed(key);
                let mut frame: Vec<usize> = (0..POPULATION).collect();
                for i in 0..POPULATION - 1 {
                    let j = i + 1 + uniform(&mut rng, nz((POPULATION - i - 1) as u64)) as usize;
                    frame.swap(i, j);
                }
                counts[frame[0]] += 1;
            }
            assert_eq!(counts[0], 0);
            let expected = SEEDS as f64 / POPULATION as f64;
            let chi_square: f64 = counts
                .iter()
                .map(|&c| (f64::from(c) - expected).powi(2) / expected)
                .sum();
            assert!(
                chi_square > 43.82,
                "chi-square {chi_square:.2}, counts {counts:?}"
            );
        }

        #[test]
        fn the_confidence_level_changes_the_size_not_the_order() {
            let vector = &VECTORS[0];
            let s = seed(vector.seed);
            let at_90 = SizeRule::formula(0.05, Confidence::P90).expect("valid");
            let a = draw_stratum(&s, "430527101", vector.phones.to_vec(), &at_90);
            let b = draw_stratum(
                &s,
                "430527101",
                vector.phones.to_vec(),
                &SizeRule::default(),
            );
            assert_eq!(a.ranked, b.ranked);
        }
    }
}
