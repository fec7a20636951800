//! What a case is now, in the words the surveyor reads: one function decides it from the
//! case's facts, so the console's table, the case card and the link status never say two
//! different things. And the bounds of an attempt's time: between the case's release and
//! now, the callback after it.

use super::Outcome;

/// How far a device's clock may run ahead of the server's (and a release be late).
pub const CLOCK_SKEW_SECS: i64 = 600;

/// The facts about a case that its status follows from.
#[derive(Clone, Copy, Debug)]
pub struct CaseFacts {
    /// `open`, `completed` or `refused` (as stored).
    pub completed: bool,
    pub refused: bool,
    /// The outcome that decides the case so far (the last one that counts).
    pub disposition: Option<Outcome>,
    /// Taken out of the sample by the replacement rule.
    pub replaced: bool,
    /// The rank released in its place, if the reserve had one.
    pub replacement_rank: Option<i64>,
    pub link_sent: bool,
    pub link_used: bool,
}

/// The status of a case: a short phrase for tables, the state of its SMS link, and whether
/// it still waits for calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseStatus {
    pub state: String,
    pub link: &'static str,
    pub callable: bool,
}

/// The one place a case's status is worded.
pub fn case_status(f: &CaseFacts) -> CaseStatus {
    let label = f.disposition.map(Outcome::label_zh);
    let (state, link) = if f.completed {
        if f.link_used {
            ("已完成(通过短信链接)".to_string(), "已使用")
        } else {
            ("已完成(电话访问)".to_string(), "已作废")
        }
    } else if f.refused && f.link_used && !f.replaced {
        ("不参加(通过短信链接)".to_string(), "已使用")
    } else if f.replaced {
        let why = if f.refused && f.link_used {
            "不参加(通过短信链接)"
        } else {
            label.unwrap_or("已结束")
        };
        let state = match f.replacement_rank {
            Some(rank) => format!("{why} · 已由排名 {rank} 递补"),
            None => format!("{why} · 备用名单已用完,未能递补"),
        };
        let link = if f.link_used {
            "已使用"
        } else {
            "已作废"
        };
        (state, link)
    } else {
        let state = match f.disposition {
            Some(o) if o.is_final() => format!("{} · 已结束", o.label_zh()),
            Some(o) => o.label_zh().to_string(),
            None => "未联系".to_string(),
        };
        (
            state,
            if f.link_sent {
                "已发送"
            } else {
                "未发送"
            },
        )
    };
    let callable =
        !f.completed && !f.refused && !f.replaced && !f.disposition.is_some_and(Outcome::is_final);
    CaseStatus {
        state,
        link,
        callable,
    }
}

/// Why an attempt's times cannot be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeProblem {
    /// Before the case was released: no call could have been made.
    BeforeRelease,
    /// Later than now.
    InFuture,
    /// A callback agreed for a time already past.
    CallbackPast,
}

impl TimeProblem {
    pub fn en(self) -> &'static str {
        match self {
            TimeProblem::BeforeRelease => "the attempt time is before the case was released",
            TimeProblem::InFuture => "the attempt time is in the future",
            TimeProblem::CallbackPast => "the callback time is not in the future",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            TimeProblem::BeforeRelease => "联系时间早于该对象发放的时间,不能补记更早的联系。",
            TimeProblem::InFuture => "联系时间不能晚于现在。",
            TimeProblem::CallbackPast => "约定回访时间必须晚于现在。",
        }
    }
}

/// An attempt at `at` on a case released at `released`, with an optional callback, checked
/// against the clock `now` (allowing [`CLOCK_SKEW_SECS`] either way).
pub fn check_attempt_times(
    at: i64,
    callback: Option<i64>,
    released: i64,
    now: i64,
) -> Result<(), TimeProblem> {
    if at < released - CLOCK_SKEW_SECS {
        return Err(TimeProblem::BeforeRelease);
    }
    if at > now + CLOCK_SKEW_SECS {
        return Err(TimeProblem::InFuture);
    }
    if callback.is_some_and(|c| c <= now) {
        return Err(TimeProblem::CallbackPast);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> CaseFacts {
        CaseFacts {
            completed: false,
            refused: false,
            disposition: None,
            replaced: false,
            replacement_rank: None,
            link_sent: true,
            link_used: false,
        }
    }

    #[test]
    fn every_status_reads_one_way() {
        let s = case_status(&open());
        assert_eq!(
            (s.state.as_str(), s.link, s.callable),
            ("未联系", "已发送", true)
        );
        let busy = case_status(&CaseFacts {
            disposition: Some(Outcome::Busy),
            link_sent: false,
            ..open()
        });
        assert_eq!(
            (busy.state.as_str(), busy.link, busy.callable),
            ("占线", "未发送", true)
        );
        // Completed by phone: the link was voided, not "sent".
        let phone = case_status(&CaseFacts {
            completed: true,
            disposition: Some(Outcome::Complete),
            ..open()
        });
        assert_eq!((phone.link, phone.callable), ("已作废", false));
        assert!(phone.state.contains("电话访问"));
        let link = case_status(&CaseFacts {
            completed: true,
            link_used: true,
            ..open()
        });
        assert_eq!(link.link, "已使用");
        // Replaced with a reserve, and replaced when the reserve had run out.
        let replaced = case_status(&CaseFacts {
            disposition: Some(Outcome::Refusal),
            replaced: true,
            replacement_rank: Some(31),
            ..open()
        });
        assert!(
            replaced.state.ends_with("已由排名 31 递补"),
            "{}",
            replaced.state
        );
        assert_eq!((replaced.link, replaced.callable), ("已作废", false));
        let exhausted = case_status(&CaseFacts {
            disposition: Some(Outcome::Refusal),
            replaced: true,
            ..open()
        });
        assert!(exhausted.state.contains("未能递补"), "{}", exhausted.state);
        assert!(!exhausted.state.contains("已由"));
        // Declined through the link.
        let declined = case_status(&CaseFacts {
            refused: true,
            link_used: true,
            disposition: Some(Outcome::Refusal),
            ..open()
        });
        assert_eq!((declined.link, declined.callable), ("已使用", false));
    }

    #[test]
    fn attempt_times_lie_between_release_and_now() {
        let (released, now) = (1_000_000, 2_000_000);
        assert_eq!(check_attempt_times(now - 60, None, released, now), Ok(()));
        assert_eq!(
            check_attempt_times(released - 86_400, None, released, now),
            Err(TimeProblem::BeforeRelease)
        );
        assert_eq!(
            check_attempt_times(released - CLOCK_SKEW_SECS, None, released, now),
            Ok(()),
            "a device clock a little behind"
        );
        assert_eq!(
            check_attempt_times(now + 3600, None, released, now),
            Err(TimeProblem::InFuture)
        );
        assert_eq!(
            check_attempt_times(now, Some(now - 1), released, now),
            Err(TimeProblem::CallbackPast)
        );
        assert_eq!(
            check_attempt_times(now, Some(now + 3600), released, now),
            Ok(())
        );
    }
}
