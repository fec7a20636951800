//! The draw seed and its commitment.
//!
//! The seed is the only secret input of the draw (algorithm sample-v1): the rosters are
//! frozen and fingerprinted first, then the seed is either committed (its SHA-256 published
//! before the draw) or taken from a public event after the freeze, such as dice rolled at a
//! town meeting. A [`Seed`] is parsed once here and trusted afterwards.

use std::fmt;

use sha2::{Digest, Sha256};

/// Fewest characters a seed may have after trimming. Sixteen characters of dice rolls or
/// free text are too many to guess before the draw.
pub const MIN_SEED_CHARS: usize = 16;

/// A draw seed: text, trimmed of leading and trailing whitespace (Rust [`str::trim`]) and
/// nothing else, at least [`MIN_SEED_CHARS`] Unicode characters long.
///
/// `Debug` shows only the commitment, because until the draw is published the seed itself
/// is secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Seed(String);

/// Why a text is not a usable seed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    /// Fewer than [`MIN_SEED_CHARS`] characters remained after trimming.
    #[error(
        "the seed has {chars} characters after removing leading and trailing whitespace; \
         at least {MIN_SEED_CHARS} are required so that it cannot be guessed"
    )]
    TooShort {
        /// Unicode characters counted after trimming.
        chars: usize,
    },
}

impl SeedError {
    /// The explanation for people using the system, in Chinese.
    pub fn user_message(&self) -> String {
        match self {
            SeedError::TooShort { chars } => format!(
                "随机种子去掉首尾空白后只有 {chars} 个字符，至少需要 {MIN_SEED_CHARS} 个字符，以免被人猜中"
            ),
        }
    }
}

impl Seed {
    /// Trims the text with [`str::trim`] and refuses it if fewer than [`MIN_SEED_CHARS`]
    /// characters (not bytes) remain. Inner whitespace is kept as it is.
    pub fn parse(text: &str) -> Result<Seed, SeedError> {
        let trimmed = text.trim();
        let chars = trimmed.chars().count();
        if chars < MIN_SEED_CHARS {
            return Err(SeedError::TooShort { chars });
        }
        Ok(Seed(trimmed.to_owned()))
    }

    /// The trimmed seed, exactly as it enters the stratum seed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256 of the trimmed seed's UTF-8 bytes: the value published before
    /// the draw when the seed is committed.
    pub fn commitment(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seed")
            .field("commitment", &self.commitment())
            .finish()
    }
}

/// A published seed commitment: 64 hex digits, normalised to lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeedCommitment(String);

/// Why a text is not a seed commitment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// Not 64 characters after trimming.
    #[error("a seed commitment has 64 hex digits, this one has {chars} characters")]
    Length {
        /// Characters counted after trimming.
        chars: usize,
    },
    /// A character that is not a hex digit.
    #[error("a seed commitment has only hex digits 0-9 a-f, character {position} is {found:?}")]
    NotHex {
        /// 1-based position of the first offending character.
        position: usize,
        /// The offending character.
        found: char,
    },
}

impl CommitmentError {
    /// The explanation for people using the system, in Chinese.
    pub fn user_message(&self) -> String {
        match self {
            CommitmentError::Length { chars } => {
                format!("种子承诺值应为 64 位十六进制数字，这里有 {chars} 个字符")
            }
            CommitmentError::NotHex { position, found } => {
                format!("种子承诺值只能包含十六进制数字 0-9 a-f，第 {position} 个字符是“{found}”")
            }
        }
    }
}

impl SeedCommitment {
    /// Accepts 64 hex digits in either case (surrounding whitespace ignored) and keeps them
    /// in lowercase, the form [`Seed::commitment`] produces.
    pub fn parse(text: &str) -> Result<SeedCommitment, CommitmentError> {
        let trimmed = text.trim();
        if let Some((index, found)) = trimmed
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_hexdigit())
        {
            return Err(CommitmentError::NotHex {
                position: index + 1,
                found,
            });
        }
        // Only ASCII is left, so bytes and characters agree.
        if trimmed.len() != 64 {
            return Err(CommitmentError::Length {
                chars: trimmed.len(),
            });
        }
        Ok(SeedCommitment(trimmed.to_ascii_lowercase()))
    }

    /// The commitment as 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `seed` is the seed this commitment was made for.
    pub fn matches(&self, seed: &Seed) -> bool {
        self.0 == seed.commitment()
    }
}

impl fmt::Display for SeedCommitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_and_trailing_whitespace_is_removed_and_inner_whitespace_kept() {
        let seed = Seed::parse(" \t\n\r 2026 town  meeting\tdice 31415 \n\t ").expect("valid seed");
        assert_eq!(seed.as_str(), "2026 town  meeting\tdice 31415");
    }

    #[test]
    fn unicode_whitespace_around_the_seed_is_removed_too() {
        // str::trim removes Unicode White_Space, e.g. the ideographic space U+3000.
        let seed = Seed::parse("\u{3000}0123456789abcdef\u{3000}").expect("valid seed");
        assert_eq!(seed.as_str(), "0123456789abcdef");
    }

    #[test]
    fn a_seed_of_fifteen_characters_is_refused_and_sixteen_accepted() {
        assert_eq!(
            Seed::parse("012345678901234"),
            Err(SeedError::TooShort { chars: 15 })
        );
        assert!(Seed::parse("0123456789012345").is_ok());
    }

    #[test]
    fn whitespace_does_not_count_towards_the_length() {
        assert_eq!(
            Seed::parse("   012345678901234   "),
            Err(SeedError::TooShort { chars: 15 })
        );
        assert_eq!(Seed::parse(""), Err(SeedError::TooShort { chars: 0 }));
        assert_eq!(Seed::parse(" \t\n"), Err(SeedError::TooShort { chars: 0 }));
    }

    #[test]
    fn chinese_characters_count_as_one_character_each() {
        // 16 characters (48 bytes): accepted.
        let sixteen = "唐家坊镇民意调查随机种子二零二六";
        assert_eq!(sixteen.chars().count(), 16);
        assert!(Seed::parse(sixteen).is_ok());
        // 15 characters but 45 bytes: refused, because characters count, not bytes.
        let short = "唐家坊镇民意调查随机种子二零二";
        assert_eq!(short.chars().count(), 15);
        assert!(short.len() > MIN_SEED_CHARS);
        assert_eq!(Seed::parse(short), Err(SeedError::TooShort { chars: 15 }));
    }

    #[test]
    fn the_error_explains_itself_in_english_and_chinese() {
        let error = Seed::parse("short").expect_err("too short");
        assert!(error.to_string().contains("5 characters"));
        assert!(error.to_string().contains("at least 16"));
        assert!(error.user_message().contains("至少需要 16 个字符"));
    }

    #[test]
    fn the_commitment_is_the_sha256_of_the_trimmed_seed() {
        let seed = Seed::parse("  0123456789012345678901 \n").expect("valid seed");
        // sha256("0123456789012345678901"), computed independently with sha256sum.
        assert_eq!(
            seed.commitment(),
            "285cda1c67d9118fe505aec5031ed73135ec3b2a9116a878104be9d0abe63c2f"
        );
    }

    #[test]
    fn debug_output_does_not_reveal_the_seed() {
        let seed = Seed::parse("secret dice 1234567890").expect("valid seed");
        let shown = format!("{seed:?}");
        assert!(!shown.contains("secret"));
        assert!(shown.contains(&seed.commitment()));
    }

    #[test]
    fn a_commitment_in_uppercase_is_normalised_and_matches_its_seed() {
        let seed = Seed::parse("2026 town meeting dice 31415926535").expect("valid seed");
        let upper = seed.commitment().to_ascii_uppercase();
        let commitment = SeedCommitment::parse(&format!(" {upper}\n")).expect("valid commitment");
        assert_eq!(commitment.as_str(), seed.commitment());
        assert!(commitment.matches(&seed));
        let other = Seed::parse("2026 town meeting dice 31415926536").expect("valid seed");
        assert!(!commitment.matches(&other));
    }

    #[test]
    fn malformed_commitments_are_refused_with_their_position() {
        let cases: [(&str, CommitmentError); 4] = [
            ("", CommitmentError::Length { chars: 0 }),
            (&"a".repeat(63), CommitmentError::Length { chars: 63 }),
            (&"a".repeat(65), CommitmentError::Length { chars: 65 }),
            (
                &format!("{}g{}", "a".repeat(10), "a".repeat(53)),
                CommitmentError::NotHex {
                    position: 11,
                    found: 'g',
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(SeedCommitment::parse(text), Err(expected), "input {text:?}");
        }
        assert!(matches!(
            SeedCommitment::parse(&"种".repeat(64)),
            Err(CommitmentError::NotHex { position: 1, .. })
        ));
    }
}
