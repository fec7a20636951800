//! Rate limits (issue 7, deliverable 6), kept in memory per server: failed logins per
//! account, requests per survey or panel link, and unknown link tokens overall. Keyed by
//! account and token rather than by address: mobile carriers put many people behind one
//! address, and one of them guessing must not lock the others out.
//!
//! Fixed windows: a key's counter starts at its first hit and resets when the window ends.
//! With several servers behind a load balancer each keeps its own counters, so the limits
//! are per server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins per account name within [`LOGIN_WINDOW`] before further attempts are
/// refused without checking the password.
pub const LOGIN_FAILURES: u32 = 10;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Requests (pages and submits) per survey or panel link within [`LINK_WINDOW`]. A person
/// answering needs a handful; a panel member rating thirty villages about a hundred.
pub const LINK_REQUESTS: u32 = 300;
pub const LINK_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Unknown link tokens per server within [`UNKNOWN_WINDOW`] (guessing; a 128-bit token
/// cannot be guessed, but each guess costs a database lookup).
pub const UNKNOWN_TOKENS: u32 = 600;
pub const UNKNOWN_WINDOW: Duration = Duration::from_secs(60);

/// Counters above this many keys are pruned of expired windows.
const PRUNE_AT: usize = 100_000;

#[derive(Default)]
pub struct Limiter {
    counters: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// Counts a hit on `key`; false when the key already had `max` hits in its window.
    pub fn hit(&self, key: &str, max: u32, window: Duration) -> bool {
        let now = Instant::now();
        let Ok(mut map) = self.counters.lock() else {
            return true;
        };
        if map.len() > PRUNE_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < window.max(LOGIN_WINDOW));
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= max {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Whether `key` has reached `max` hits in its current window (without counting).
    pub fn reached(&self, key: &str, max: u32, window: Duration) -> bool {
        let Ok(map) = self.counters.lock() else {
            return false;
        };
        map.get(key)
            .is_some_and(|(start, n)| start.elapsed() < window && *n >= max)
    }

    /// Forgets a key (a successful login clears its failures).
    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.counters.lock() {
            map.remove(key);
        }
    }
}

/// The key of an account's failed logins (names compared case-insensitively).
pub fn login_key(username: &str) -> String {
    format!("login:{}", username.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_after_its_maximum_and_others_are_not() {
        let l = Limiter::default();
        for _ in 0..3 {
            assert!(l.hit("a", 3, Duration::from_secs(60)));
        }
        assert!(!l.hit("a", 3, Duration::from_secs(60)));
        assert!(l.reached("a", 3, Duration::from_secs(60)));
        assert!(l.hit("b", 3, Duration::from_secs(60)));
        l.clear("a");
        assert!(l.hit("a", 3, Duration::from_secs(60)));
    }

    #[test]
    fn a_window_ends() {
        let l = Limiter::default();
        assert!(l.hit("a", 1, Duration::from_millis(20)));
        assert!(!l.hit("a", 1, Duration::from_millis(20)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!l.reached("a", 1, Duration::from_millis(20)));
        assert!(l.hit("a", 1, Duration::from_millis(20)));
    }
}
