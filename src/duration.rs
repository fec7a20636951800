//! How long a respondent took, kept only as a coarse bucket (docs/fieldwork.md, 质量检查与回访).
//! Its own module, below `db` and `http`: the bucket is stored with the answer.
//!
//! When the questionnaire is shown, the page carries the time it was shown in a hidden field
//! ([`START_FIELD`]), marked with HMAC-SHA256 under a server key so that it cannot be forged or
//! altered: `<unix seconds>.<hex mark>`, the mark taken over
//! `"minyi/form-start-v1\n" + action + "\n" + seconds` (the action is the path the form posts
//! to, so a field copied from another link's page does not verify). At submit the elapsed
//! seconds become a [`Duration`] bucket and only the bucket is stored with the answer — never
//! the seconds nor the time: a time could be matched to the call log or to the moment a case
//! was completed. A missing, malformed, forged or future field gives [`Duration::Unknown`].

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The hidden field's name. It names no question, so `forms::parse_answers` never stores it.
pub const START_FIELD: &str = "_started";

/// Domain separation of the mark.
const LABEL: &str = "minyi/form-start-v1";

/// A clock in the page that runs this much ahead of the server is still believed (servers
/// sharing a database may disagree by a second or two).
const SKEW_SECONDS: i64 = 5;

/// How long the answering took, in the buckets the quality checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumString, strum::IntoStaticStr)]
pub enum Duration {
    /// Under one minute: too fast to have read the questions.
    #[strum(serialize = "under_1m")]
    Under1m,
    #[strum(serialize = "1_3m")]
    From1To3m,
    #[strum(serialize = "3_10m")]
    From3To10m,
    #[strum(serialize = "over_10m")]
    Over10m,
    /// No trustworthy start time: the field was missing, altered or forged, or the answer
    /// was stored before durations were kept, or imported from other software.
    #[strum(serialize = "unknown")]
    Unknown,
}

impl Duration {
    /// The stored value (`responses.duration`).
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// Parses a stored value; anything else is `Unknown`.
    pub fn from_key(key: &str) -> Duration {
        key.parse().unwrap_or(Duration::Unknown)
    }

    /// The bucket of `seconds` elapsed; a negative span is `Unknown`.
    pub fn of_seconds(seconds: i64) -> Duration {
        match seconds {
            s if s < 0 => Duration::Unknown,
            s if s < 60 => Duration::Under1m,
            s if s < 180 => Duration::From1To3m,
            s if s < 600 => Duration::From3To10m,
            _ => Duration::Over10m,
        }
    }
}

/// The server's key for start fields.
#[derive(Clone)]
pub struct FormClock {
    hmac: Hmac<Sha256>,
}

impl std::fmt::Debug for FormClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormClock([redacted])")
    }
}

impl FormClock {
    /// A clock keyed with `key` (in the app: derived from the audit key, so every server
    /// sharing the database and its key accepts the others' fields).
    pub fn new(key: &[u8; 32]) -> FormClock {
        FormClock {
            hmac: <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .expect("HMAC takes a key of any length"),
        }
    }

    fn mac(&self, action: &str, seconds: i64) -> Hmac<Sha256> {
        let mut m = self.hmac.clone();
        m.update(LABEL.as_bytes());
        m.update(b"\n");
        m.update(action.as_bytes());
        m.update(b"\n");
        m.update(seconds.to_string().as_bytes());
        m
    }

    /// The hidden field's value for a form posting to `action`, shown at `now`.
    pub fn start_field(&self, action: &str, now: i64) -> String {
        let mark = hex::encode(self.mac(action, now).finalize().into_bytes());
        format!("{now}.{mark}")
    }

    /// The bucket of a submit at `now` of a form posting to `action`, from the hidden field
    /// as sent (`None` when absent). Never panics; anything untrustworthy is `Unknown`.
    pub fn duration(&self, action: &str, field: Option<&str>, now: i64) -> Duration {
        let Some((seconds, mark)) = field.and_then(|f| f.trim().split_once('.')) else {
            return Duration::Unknown;
        };
        let Ok(started) = seconds.parse::<i64>() else {
            return Duration::Unknown;
        };
        // Only the canonical spelling of the number was marked ("+5", "05" were not).
        if started.to_string() != seconds {
            return Duration::Unknown;
        }
        let Ok(mark) = hex::decode(mark) else {
            return Duration::Unknown;
        };
        if self.mac(action, started).verify_slice(&mark).is_err() {
            return Duration::Unknown;
        }
        match now.checked_sub(started) {
            Some(s) if s >= -SKEW_SECONDS => Duration::of_seconds(s.max(0)),
            _ => Duration::Unknown,
        }
    }
}

/// The start field of the fields posted, if any (the first one).
pub fn start_field_of(fields: &[(String, String)]) -> Option<&str> {
    fields
        .iter()
        .find(|(k, _)| k == START_FIELD)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTION: &str = "/s/abc";

    fn clock() -> FormClock {
        FormClock::new(&[7; 32])
    }

    #[test]
    fn a_genuine_field_gives_the_bucket_of_the_time_elapsed() {
        let c = clock();
        let shown = 1_790_000_000;
        let field = c.start_field(ACTION, shown);
        let at = |s: i64| c.duration(ACTION, Some(&field), shown + s);
        assert_eq!(at(0), Duration::Under1m);
        assert_eq!(at(59), Duration::Under1m);
        assert_eq!(at(60), Duration::From1To3m);
        assert_eq!(at(179), Duration::From1To3m);
        assert_eq!(at(180), Duration::From3To10m);
        assert_eq!(at(599), Duration::From3To10m);
        assert_eq!(at(600), Duration::Over10m);
        assert_eq!(at(86_400 * 30), Duration::Over10m);
        // A server a little behind the one that showed the form.
        assert_eq!(at(-3), Duration::Under1m);
        assert_eq!(at(-60), Duration::Unknown);
    }

    #[test]
    fn a_missing_forged_or_altered_field_is_unknown_and_never_panics() {
        let c = clock();
        let shown = 1_790_000_000;
        let field = c.start_field(ACTION, shown);
        let (secs, mark) = field.split_once('.').unwrap();
        let now = shown + 400;
        let earlier = format!("{}.{mark}", shown - 1000);
        let other_key = FormClock::new(&[8; 32]).start_field(ACTION, shown);
        let padded = format!("0{secs}.{mark}");
        let plus = format!("+{secs}.{mark}");
        let short = format!("{secs}.{}", &mark[..10]);
        let long_number = format!("{}.{mark}", "9".repeat(40));
        let bad: Vec<Option<&str>> = vec![
            None,
            Some(""),
            Some("."),
            Some("abc"),
            Some(secs),
            Some(&earlier),
            Some(&other_key),
            Some(&padded),
            Some(&plus),
            Some(&short),
            Some(&long_number),
            Some("-9223372036854775808.00"),
            Some("1790000000.zz"),
            Some("１７９０.ab"),
        ];
        for f in bad {
            assert_eq!(c.duration(ACTION, f, now), Duration::Unknown, "{f:?}");
        }
        // The field of another link's page does not verify here.
        assert_eq!(c.duration("/s/other", Some(&field), now), Duration::Unknown);
        assert_eq!(c.duration(ACTION, Some(&field), now), Duration::From3To10m);
        // Extreme clocks do not overflow.
        let min = c.start_field(ACTION, i64::MIN);
        assert_eq!(c.duration(ACTION, Some(&min), i64::MAX), Duration::Unknown);
        let max = c.start_field(ACTION, i64::MAX);
        assert_eq!(c.duration(ACTION, Some(&max), i64::MIN), Duration::Unknown);
    }

    #[test]
    fn stored_keys_round_trip_and_anything_else_is_unknown() {
        for d in [
            Duration::Under1m,
            Duration::From1To3m,
            Duration::From3To10m,
            Duration::Over10m,
            Duration::Unknown,
        ] {
            assert_eq!(Duration::from_key(d.key()), d);
        }
        assert_eq!(Duration::from_key("1790000000"), Duration::Unknown);
        assert_eq!(Duration::of_seconds(-1), Duration::Unknown);
    }

    #[test]
    fn the_start_field_is_found_among_the_posted_fields() {
        let fields = vec![
            ("q1".to_string(), "a".to_string()),
            (START_FIELD.to_string(), "1.ab".to_string()),
        ];
        assert_eq!(start_field_of(&fields), Some("1.ab"));
        assert_eq!(start_field_of(&fields[..1]), None);
    }
}
