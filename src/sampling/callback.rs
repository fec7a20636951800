//! Algorithm callback-v1: which completed cases the surveyor calls back (回访) to confirm
//! they took part — never to ask what they answered (docs/fieldwork.md, 质量检查与回访).
//!
//! Reproducible by anyone holding the published seed and the draw record, like the draw:
//!
//! 1. key = SHA-256 of the UTF-8 bytes
//!    `"minyi/callback-v1" + "\n" + seed + "\n" + village_code + "\n" + N`, where N is the
//!    village's population at the draw, in decimal;
//! 2. rng = `ChaCha20Rng::from_seed(key)`; the ranks 1..N are permuted with the Fisher–Yates
//!    loop and `uniform` of sample-v1 (steps 4–5 of `sampling::draw`): the call-back order;
//! 3. m = ⌈c × p / 100⌉ for c completed cases and p percent (default
//!    [`DEFAULT_PERCENT`]), at least 1 when c ≥ 1, at most c;
//! 4. the list = the first m ranks of the call-back order that are completed cases.
//!
//! The order is fixed by the seed before anyone knows who will complete, so neither the
//! surveyor nor the village can steer which respondents are called back, and a case on the
//! list stays on it while more cases complete unless one earlier in the order completes
//! (as fieldwork ends, the list settles; call-backs are best made after the close).

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use crate::sampling::seed::Seed;

/// The algorithm's name, printed with the list.
pub const CALLBACK_ALGORITHM: &str = "callback-v1";
/// The share of each village's completes called back, in percent.
pub const DEFAULT_PERCENT: u32 = 10;

/// The 32-byte ChaCha20 key of a village's call-back order (step 1).
pub fn callback_key(seed: &Seed, village_code: &str, population: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"minyi/callback-v1\n");
    h.update(seed.as_str().as_bytes());
    h.update(b"\n");
    h.update(village_code.as_bytes());
    h.update(b"\n");
    h.update(population.to_string().as_bytes());
    h.finalize().into()
}

/// The call-back order of ranks 1..=population (step 2).
pub fn callback_order(seed: &Seed, village_code: &str, population: u64) -> Vec<u64> {
    let mut ranks: Vec<u64> = (1..=population).collect();
    let mut rng = ChaCha20Rng::from_seed(callback_key(seed, village_code, population));
    crate::sampling::draw::permute(&mut ranks, &mut rng);
    ranks
}

/// How many of `completes` are called back at `percent` (step 3).
pub fn callback_size(completes: usize, percent: u32) -> usize {
    if completes == 0 {
        return 0;
    }
    let wanted = (completes as u128 * u128::from(percent)).div_ceil(100);
    usize::try_from(wanted)
        .unwrap_or(usize::MAX)
        .clamp(1, completes)
}

/// The village's call-back list: ranks of completed cases, in call-back order (step 4).
pub fn callback_sample(
    seed: &Seed,
    village_code: &str,
    population: u64,
    completed_ranks: &[u64],
    percent: u32,
) -> Vec<u64> {
    let m = callback_size(completed_ranks.len(), percent);
    if m == 0 {
        return Vec::new();
    }
    let completed: std::collections::BTreeSet<u64> = completed_ranks.iter().copied().collect();
    callback_order(seed, village_code, population)
        .into_iter()
        .filter(|r| completed.contains(r))
        .take(m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(text: &str) -> Seed {
        Seed::parse(text).expect("valid seed")
    }

    #[test]
    fn ten_percent_rounded_up_and_at_least_one() {
        assert_eq!(callback_size(0, 10), 0);
        assert_eq!(callback_size(1, 10), 1);
        assert_eq!(callback_size(9, 10), 1);
        assert_eq!(callback_size(10, 10), 1);
        assert_eq!(callback_size(11, 10), 2);
        assert_eq!(callback_size(40, 10), 4);
        assert_eq!(callback_size(5, 100), 5);
        assert_eq!(callback_size(5, 0), 1);
        assert_eq!(callback_size(5, 500), 5);
    }

    #[test]
    fn the_same_seed_gives_the_same_list_and_another_seed_another() {
        let a = seed("worked example dice 6 2 5 1 3 4");
        let b = seed("worked example dice 6 2 5 1 3 5");
        let completed: Vec<u64> = (1..=60).collect();
        let one = callback_sample(&a, "430527101", 200, &completed, 10);
        assert_eq!(one.len(), 6);
        assert_eq!(one, callback_sample(&a, "430527101", 200, &completed, 10));
        assert_ne!(one, callback_sample(&b, "430527101", 200, &completed, 10));
        assert_ne!(one, callback_sample(&a, "430527102", 200, &completed, 10));
        // Every listed rank is a completed case; the order does not depend on the input's.
        assert!(one.iter().all(|r| completed.contains(r)));
        let mut reversed = completed.clone();
        reversed.reverse();
        assert_eq!(one, callback_sample(&a, "430527101", 200, &reversed, 10));
    }

    #[test]
    fn the_order_is_a_permutation_of_the_ranks_pinned_for_the_worked_example() {
        let s = seed("worked example dice 6 2 5 1 3 4");
        let order = callback_order(&s, "430527101", 10);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=10).collect::<Vec<_>>());
        assert_eq!(
            hex::encode(callback_key(&s, "430527101", 10)),
            GOLDEN_KEY,
            "the key derivation must never change"
        );
        assert_eq!(order, GOLDEN_ORDER, "the order must never change");
        // Completes 2, 5, 7 of 10: one is called back, the first of them in the order.
        let first = *order.iter().find(|r| [2, 5, 7].contains(*r)).unwrap();
        assert_eq!(
            callback_sample(&s, "430527101", 10, &[2, 5, 7], 10),
            [first]
        );
    }

    const GOLDEN_KEY: &str = "df3fd7e399bf2381286b02ed403b52283f64baa03516ff13ba9778b4cf399e32";
    /// Also reproduced with OpenSSL's ChaCha20 from Python (docs/fieldwork.md).
    const GOLDEN_ORDER: [u64; 10] = [2, 4, 5, 9, 3, 1, 6, 8, 10, 7];
}
