//! Passwords and tokens. Passwords are hashed with argon2id (the `argon2` crate);
//! tokens are 128+ random bits from the operating system, stored only as SHA-256.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// A random token: 32 bytes from the OS CSPRNG, as 64 lowercase hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is not recoverable for a server; there is no safe fallback.
    getrandom::fill(&mut bytes).expect("operating system random generator failed");
    hex::encode(bytes)
}

/// A survey-link token: 128 random bits from the OS, base64url without padding (22
/// characters, so that the link fits a 70-character SMS). Returns (token, SHA-256 hex).
pub fn link_token() -> (String, String) {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("operating system random generator failed");
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// A one-time password people can type: 12 characters without look-alikes (0/O, 1/l/I).
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("operating system random generator failed");
    // 256 is not a multiple of 56; the bias (< 1/4 per char toward the first 32) is acceptable
    // for a password that must be changed at first login, and keeps this free of loops.
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// SHA-256 of a token as lowercase hex: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The key under which a link's requests are counted (`rate_counts`): SHA-256 of the token
/// under its own label, as lowercase hex. Unlike [`token_hash`] it cannot be computed from
/// what the database stores, so the counts cannot be joined to invitations.
pub fn limit_key(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"minyi link request count\n");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// Hash a password as an argon2id PHC string. Slow by design (~40 ms): call off the async runtime.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// True when `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// Compare two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct hors", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn link_tokens_carry_128_bits_in_22_url_safe_characters() {
        let (t, h) = link_token();
        assert_eq!(t.len(), 22);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(h, token_hash(&t));
        assert_ne!(link_token().0, t);
    }

    #[test]
    fn one_time_passwords_avoid_look_alike_characters() {
        let p = one_time_password();
        assert_eq!(p.chars().count(), 12);
        assert!(!p.contains(['0', 'O', '1', 'l', 'I']));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
