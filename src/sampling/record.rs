//! The published draw record, and checking a recomputed draw against it.
//!
//! The record lets anyone verify the draw without seeing a phone number: per village it
//! holds the population, the roster fingerprint, the sample size and the SHA-256 of the
//! ranked list. A verifier holding the frozen rosters recomputes each village with
//! [`draw_stratum`](crate::sampling::draw_stratum) and compares with [`verify_village`].

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sampling::ALGORITHM;
use crate::sampling::seed::{Seed, SeedCommitment};
use crate::sampling::size::{SizeParameters, SizeRule};

/// One village's line in the draw record. Holds no phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VillageRecord {
    /// The village code.
    pub code: String,
    /// Unique phones in the frozen roster (N).
    pub population: u64,
    /// The roster fingerprint.
    pub fingerprint: String,
    /// Sample size n: ranks 1..n are the primary sample.
    pub size: u64,
    /// SHA-256 of the ranked phones, each followed by `"\n"`.
    pub list_sha256: String,
}

/// The record of a whole draw, published after the draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawRecord {
    /// The algorithm version, `"sample-v1"`.
    pub algorithm: String,
    /// The trimmed seed.
    pub seed: String,
    /// The commitment published before the draw, when the seed was committed rather than
    /// taken from a public event.
    pub seed_commitment: Option<String>,
    /// [`frame_fingerprint`] over all villages: fixes the whole frozen frame in one value.
    pub frame_fingerprint: String,
    /// The sample-size rule.
    pub parameters: SizeParameters,
    /// One line per village, sorted by village code.
    pub villages: Vec<VillageRecord>,
    /// The audit chain's head when the app made the draw, `<entry id>:<hash>`: published
    /// with the record so the log up to the draw cannot later be rewritten or cut short
    /// unnoticed (`minyi audit verify --head`). Not part of the draw: absent from offline
    /// draws and ignored by `minyi verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
}

/// Why a draw record cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawRecordError {
    /// The commitment published before the draw is not the commitment of this seed.
    #[error(
        "the seed does not match the published commitment {published}: its commitment is {actual}"
    )]
    CommitmentMismatch {
        /// The commitment published before the draw.
        published: String,
        /// The commitment of the seed given now.
        actual: String,
    },
}

impl DrawRecord {
    /// Assembles the record of a draw: villages sorted by code, the frame fingerprint
    /// computed from them. Refuses a seed that does not match the published commitment.
    pub fn new(
        seed: &Seed,
        commitment: Option<&SeedCommitment>,
        rule: &SizeRule,
        mut villages: Vec<VillageRecord>,
    ) -> Result<DrawRecord, DrawRecordError> {
        if let Some(commitment) = commitment
            && !commitment.matches(seed)
        {
            return Err(DrawRecordError::CommitmentMismatch {
                published: commitment.as_str().to_owned(),
                actual: seed.commitment(),
            });
        }
        villages.sort_by(|a, b| a.code.cmp(&b.code));
        let pairs: Vec<(&str, &str)> = villages
            .iter()
            .map(|v| (v.code.as_str(), v.fingerprint.as_str()))
            .collect();
        Ok(DrawRecord {
            algorithm: ALGORITHM.to_owned(),
            seed: seed.as_str().to_owned(),
            seed_commitment: commitment.map(|c| c.as_str().to_owned()),
            frame_fingerprint: frame_fingerprint(&pairs),
            parameters: rule.parameters(),
            villages,
            audit_head: None,
        })
    }
}

/// SHA-256 hex of the lines `<village code> <roster fingerprint>\n`, sorted by village code
/// (byte order; equal codes, which a campaign should not have, by fingerprint).
pub fn frame_fingerprint<C: AsRef<str>, F: AsRef<str>>(pairs: &[(C, F)]) -> String {
    let mut lines: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(code, fingerprint)| (code.as_ref(), fingerprint.as_ref()))
        .collect();
    lines.sort_unstable();
    let mut hasher = Sha256::new();
    for (code, fingerprint) in lines {
        hasher.update(code.as_bytes());
        hasher.update(b" ");
        hasher.update(fingerprint.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// The first field in which a recomputed village differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The two records are for different villages.
    Village {
        /// The code in the draw record.
        recorded: String,
        /// The code recomputed.
        recomputed: String,
    },
    /// The roster is not the one frozen before the draw.
    Fingerprint {
        /// The village.
        code: String,
        /// The fingerprint in the draw record.
        recorded: String,
        /// The fingerprint of the roster at hand.
        recomputed: String,
    },
    /// The number of unique phones differs (with an equal fingerprint this means the
    /// recorded population itself is wrong).
    Population {
        /// The village.
        code: String,
        /// N in the draw record.
        recorded: u64,
        /// N recomputed.
        recomputed: u64,
    },
    /// The sample size differs: another rule or a miscalculation.
    Size {
        /// The village.
        code: String,
        /// n in the draw record.
        recorded: u64,
        /// n recomputed.
        recomputed: u64,
    },
    /// Same roster and size, but the ranked order differs (list_sha256): another seed or
    /// another algorithm.
    Order {
        /// The village.
        code: String,
        /// list_sha256 in the draw record.
        recorded: String,
        /// list_sha256 recomputed.
        recomputed: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Village {
                recorded,
                recomputed,
            } => write!(
                f,
                "comparing different villages: the record is for {recorded}, \
                 the recomputed draw for {recomputed}"
            ),
            Mismatch::Fingerprint {
                code,
                recorded,
                recomputed,
            } => write!(
                f,
                "village {code}: the roster fingerprint is {recomputed} but the draw record \
                 has {recorded}; this is not the roster frozen before the draw"
            ),
            Mismatch::Population {
                code,
                recorded,
                recomputed,
            } => write!(
                f,
                "village {code}: the roster has {recomputed} unique phones but the draw record \
                 says {recorded}"
            ),
            Mismatch::Size {
                code,
                recorded,
                recomputed,
            } => write!(
                f,
                "village {code}: the sample size comes out as {recomputed} but the draw record \
                 says {recorded}; the size parameters differ"
            ),
            Mismatch::Order {
                code,
                recorded,
                recomputed,
            } => write!(
                f,
                "village {code}: the ranked list hashes to {recomputed} but the draw record \
                 has {recorded}; the order differs (another seed or algorithm)"
            ),
        }
    }
}

impl std::error::Error for Mismatch {}

/// Compares a recomputed village with the recorded one, field by field in the order
/// village, fingerprint, population, size, order (list_sha256), and names the first that
/// differs. Hex digests are compared ignoring case.
pub fn verify_village(
    recorded: &VillageRecord,
    recomputed: &VillageRecord,
) -> Result<(), Mismatch> {
    let code = || recorded.code.clone();
    if recorded.code != recomputed.code {
        return Err(Mismatch::Village {
            recorded: recorded.code.clone(),
            recomputed: recomputed.code.clone(),
        });
    }
    if !recorded
        .fingerprint
        .eq_ignore_ascii_case(&recomputed.fingerprint)
    {
        return Err(Mismatch::Fingerprint {
            code: code(),
            recorded: recorded.fingerprint.clone(),
            recomputed: recomputed.fingerprint.clone(),
        });
    }
    if recorded.population != recomputed.population {
        return Err(Mismatch::Population {
            code: code(),
            recorded: recorded.population,
            recomputed: recomputed.population,
        });
    }
    if recorded.size != recomputed.size {
        return Err(Mismatch::Size {
            code: code(),
            recorded: recorded.size,
            recomputed: recomputed.size,
        });
    }
    if !recorded
        .list_sha256
        .eq_ignore_ascii_case(&recomputed.list_sha256)
    {
        return Err(Mismatch::Order {
            code: code(),
            recorded: recorded.list_sha256.clone(),
            recomputed: recomputed.list_sha256.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::draw::draw_stratum;

    const SEED: &str = "2026 town meeting dice 31415926535";
    const PHONES: [&str; 10] = [
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
    ];

    fn seed() -> Seed {
        Seed::parse(SEED).expect("valid seed")
    }

    fn recorded() -> VillageRecord {
        draw_stratum(&seed(), "430527101", PHONES.to_vec(), &SizeRule::default()).record()
    }

    #[test]
    fn the_frame_fingerprint_hashes_sorted_code_and_fingerprint_lines() {
        let pairs = [("430527102", "bb"), ("430527101", "aa")];
        let expected = hex::encode(Sha256::digest(b"430527101 aa\n430527102 bb\n"));
        assert_eq!(frame_fingerprint(&pairs), expected);
        let reversed = [("430527101", "aa"), ("430527102", "bb")];
        assert_eq!(frame_fingerprint(&reversed), expected);
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            frame_fingerprint(&none),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_draw_record_sorts_villages_and_serialises_without_phones() {
        let rule = SizeRule::default();
        let second = draw_stratum(&seed(), "430527102", vec!["13512345678"], &rule).record();
        let first = recorded();
        let commitment = SeedCommitment::parse(&seed().commitment()).expect("valid");
        let record = DrawRecord::new(
            &seed(),
            Some(&commitment),
            &rule,
            vec![second.clone(), first.clone()],
        )
        .expect("matching commitment");
        assert_eq!(record.algorithm, "sample-v1");
        assert_eq!(record.villages, vec![first.clone(), second.clone()]);
        assert_eq!(
            record.frame_fingerprint,
            frame_fingerprint(&[
                (first.code.as_str(), first.fingerprint.as_str()),
                (second.code.as_str(), second.fingerprint.as_str()),
            ])
        );
        let json = serde_json::to_string(&record).expect("serialises");
        for phone in PHONES {
            assert!(!json.contains(phone), "{phone} leaked into {json}");
        }
        assert!(json.contains(r#""parameters":{"method":"formula","margin":0.1,"#));
        assert!(json.contains(r#""census_below":50}"#));
        let back: DrawRecord = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, record);
    }

    #[test]
    fn a_seed_that_does_not_match_its_commitment_is_refused() {
        let other = Seed::parse("another seed of enough length").expect("valid");
        let commitment = SeedCommitment::parse(&other.commitment()).expect("valid");
        let result = DrawRecord::new(&seed(), Some(&commitment), &SizeRule::default(), vec![]);
        assert!(matches!(
            result,
            Err(DrawRecordError::CommitmentMismatch { .. })
        ));
        let record = DrawRecord::new(&seed(), None, &SizeRule::default(), vec![]).expect("ok");
        assert_eq!(record.seed_commitment, None);
    }

    #[test]
    fn an_identical_recomputation_verifies() {
        assert_eq!(verify_village(&recorded(), &recorded()), Ok(()));
        let mut upper = recorded();
        upper.list_sha256 = upper.list_sha256.to_ascii_uppercase();
        assert_eq!(verify_village(&upper, &recorded()), Ok(()));
    }

    #[test]
    fn a_changed_roster_is_reported_as_a_fingerprint_mismatch_first() {
        let mut phones = PHONES.to_vec();
        phones.pop();
        let recomputed = draw_stratum(&seed(), "430527101", phones, &SizeRule::default()).record();
        let mismatch = verify_village(&recorded(), &recomputed).expect_err("differs");
        assert!(matches!(mismatch, Mismatch::Fingerprint { .. }));
        assert!(mismatch.to_string().contains("not the roster frozen"));
    }

    #[test]
    fn each_field_is_reported_when_it_alone_differs() {
        let base = recorded();
        let mut population = base.clone();
        population.population = 11;
        let mut size = base.clone();
        size.size = 9;
        let mut order = base.clone();
        order.list_sha256 = "00".repeat(32);
        let mut village = base.clone();
        village.code = "430527199".to_owned();
        let cases: [(VillageRecord, &str); 4] = [
            (village, "different villages"),
            (population, "11"),
            (size, "sample size"),
            (order, "order differs"),
        ];
        for (changed, phrase) in cases {
            let mismatch = verify_village(&changed, &base).expect_err("differs");
            assert!(
                mismatch.to_string().contains(phrase),
                "{mismatch} should mention {phrase:?}"
            );
        }
        let mut both = base.clone();
        both.size = 1;
        both.list_sha256 = "00".repeat(32);
        assert!(matches!(
            verify_village(&both, &base),
            Err(Mismatch::Size { .. })
        ));
    }

    #[test]
    fn another_seed_is_reported_as_an_order_mismatch() {
        let other = Seed::parse("2026 town meeting dice 31415926536").expect("valid");
        let recomputed =
            draw_stratum(&other, "430527101", PHONES.to_vec(), &SizeRule::default()).record();
        assert!(matches!(
            verify_village(&recorded(), &recomputed),
            Err(Mismatch::Order { .. })
        ));
    }
}
