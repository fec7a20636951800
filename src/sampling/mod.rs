//! Pure sampling: frozen rosters + seed → every recipient ranked; sample size; verification.
//!
//! The draw must be reproducible by anyone holding the frozen rosters and the published
//! seed, with another implementation, years later (DESIGN.md, "Verifiable draw"). So:
//!
//! - [`seed`] parses the seed (trimmed, at least 16 characters) and its commitment;
//! - [`size`] decides how many recipients each village gets ([`SizeRule`]);
//! - [`draw`] is algorithm [`ALGORITHM`] = sample-v1, specified to the bit, ranking a
//!   village's whole frame so that ranks 1..n are the sample and the rest the reserve;
//! - [`callback`] is algorithm callback-v1: which completed cases are called back (回访);
//! - [`record`] is the published draw record (no phone numbers) and the check of a
//!   recomputed draw against it.
//!
//! No I/O and no clock: values in, values out.
//!
//! ```
//! use minyi::sampling::{Seed, SizeRule, draw_stratum};
//!
//! let seed = Seed::parse("2026 town meeting dice 31415926535").expect("16+ characters");
//! let phones = vec!["13800000002", "13800000001", "13900000003"];
//! let stratum = draw_stratum(&seed, "430527101", phones, &SizeRule::default());
//! assert_eq!(stratum.population(), 3);
//! assert_eq!(stratum.size, 3); // small villages are surveyed in full
//! ```

pub mod callback;
pub mod draw;
pub mod record;
pub mod seed;
pub mod size;

/// The version of the sampling algorithm [`draw`] implements, written into every draw record
/// ([`record`]).
pub const ALGORITHM: &str = "sample-v1";

pub use draw::{Stratum, draw_stratum, fingerprint, stratum_seed, uniform};
pub use record::{
    DrawRecord, DrawRecordError, Mismatch, VillageRecord, frame_fingerprint, verify_village,
};
pub use seed::{CommitmentError, MIN_SEED_CHARS, Seed, SeedCommitment, SeedError};
pub use size::{Confidence, SizeError, SizeParameters, SizeRule};
