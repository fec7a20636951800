//! The register of titled villages (seed 三(三)): a title's status on a given day. A title
//! holds from its grant to `expires_on` (the creation cycle, two years by default) unless it
//! is revoked; the commission is warned 180 days ahead so the 复核 can be held in time.
//!
//! Pure: the day is passed in (`domain::today()` at the edge).

use crate::results::calendar::parse_date;
use serde::Serialize;

/// A title with at most this many days left after today is 即将到期 (180 天以内).
pub const EXPIRING_WITHIN_DAYS: i64 = 180;

/// A title's status on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleStatus {
    /// 有效: in force, more than 180 days left.
    Valid,
    /// 即将到期: in force, expiring within 180 days.
    Expiring,
    /// 已到期: the last day has passed.
    Expired,
    /// 已撤销: withdrawn (e.g. failed its 复核).
    Revoked,
}

impl TitleStatus {
    /// 有效, 即将到期, 已到期 or 已撤销.
    pub fn label(self) -> &'static str {
        match self {
            TitleStatus::Valid => "有效",
            TitleStatus::Expiring => "即将到期",
            TitleStatus::Expired => "已到期",
            TitleStatus::Revoked => "已撤销",
        }
    }

    /// The title still holds (valid or expiring): a 复核 round re-checks it.
    pub fn in_force(self) -> bool {
        matches!(self, TitleStatus::Valid | TitleStatus::Expiring)
    }
}

/// The status on `today` (`YYYY-MM-DD`) of a title expiring after `expires_on` and revoked
/// on `revoked_on`, if it was. A revocation counts whatever its day (it is never after the
/// day it is recorded). A date that does not parse is compared as text, which is exact for
/// the `YYYY-MM-DD` the app writes.
pub fn status(expires_on: &str, revoked_on: Option<&str>, today: &str) -> TitleStatus {
    if revoked_on.is_some() {
        return TitleStatus::Revoked;
    }
    match (parse_date(expires_on), parse_date(today)) {
        (Some(end), Some(day)) => {
            let left = (end - day).whole_days();
            if left < 0 {
                TitleStatus::Expired
            } else if left <= EXPIRING_WITHIN_DAYS {
                TitleStatus::Expiring
            } else {
                TitleStatus::Valid
            }
        }
        _ if expires_on < today => TitleStatus::Expired,
        _ => TitleStatus::Valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_valid_until_180_days_before_its_last_day_then_expiring_then_expired() {
        let end = "2028-12-31";
        assert_eq!(status(end, None, "2026-12-31"), TitleStatus::Valid);
        // 2028-07-04 is 180 days before 2028-12-31: expiring; a day earlier still valid.
        assert_eq!(status(end, None, "2028-07-03"), TitleStatus::Valid);
        assert_eq!(status(end, None, "2028-07-04"), TitleStatus::Expiring);
        assert_eq!(status(end, None, "2028-12-31"), TitleStatus::Expiring);
        assert_eq!(status(end, None, "2029-01-01"), TitleStatus::Expired);
    }

    #[test]
    fn a_revoked_title_is_revoked_whatever_the_day() {
        for day in ["2026-01-01", "2028-12-01", "2030-01-01"] {
            assert_eq!(
                status("2028-12-31", Some("2027-05-01"), day),
                TitleStatus::Revoked
            );
        }
    }

    #[test]
    fn only_valid_and_expiring_titles_are_in_force() {
        assert!(TitleStatus::Valid.in_force());
        assert!(TitleStatus::Expiring.in_force());
        assert!(!TitleStatus::Expired.in_force());
        assert!(!TitleStatus::Revoked.in_force());
        let labels: Vec<_> = [
            TitleStatus::Valid,
            TitleStatus::Expiring,
            TitleStatus::Expired,
            TitleStatus::Revoked,
        ]
        .map(TitleStatus::label)
        .to_vec();
        assert_eq!(labels, ["有效", "即将到期", "已到期", "已撤销"]);
    }
}
