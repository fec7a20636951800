//! Small domain values, parsed once at the boundary and trusted afterwards.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A village's stable code, e.g. `430527101`: 1–32 ASCII letters, digits, `-` or `_`.
///
/// It names roster files (`<code>.csv`) and enters the draw's stratum seed, so it must be
/// plain and unambiguous.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct VillageCode(String);

impl VillageCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim();
        if code.is_empty() {
            return Err("village code is empty".into());
        }
        if code.len() > 32 {
            return Err(format!(
                "village code {code:?} is longer than 32 characters"
            ));
        }
        if let Some(c) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "village code {code:?} contains {c:?}; use letters, digits, '-' or '_'"
            ));
        }
        Ok(Self(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VillageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored name that matches no variant: what a row decoded from the database, a form
/// field or a file carried instead of one of the names the schema allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

/// `TryFrom<String>` through strum's `FromStr`, and sqlx's `Type`, `Encode` and `Decode` on
/// top of it, so the enum binds as its stored name and a row struct's field of the enum
/// decodes, on SQLite and PostgreSQL alike. A name
/// the enum does not know is a `ColumnDecode` error that names the column and the value
/// (sqlx's own `try_from` attribute would lose the message), never a panic.
#[macro_export]
macro_rules! stored_name {
    ($ty:ty, $kind:literal) => {
        impl TryFrom<String> for $ty {
            type Error = $crate::domain::UnknownName;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value
                    .parse()
                    .map_err(|_| $crate::domain::UnknownName { kind: $kind, value })
            }
        }

        impl<DB: ::sqlx::Database> ::sqlx::Type<DB> for $ty
        where
            String: ::sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as ::sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as ::sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: ::sqlx::Database> ::sqlx::Encode<'q, DB> for $ty
        where
            String: ::sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as ::sqlx::Database>::ArgumentBuffer,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                let name: &'static str = (*self).into();
                <String as ::sqlx::Encode<'q, DB>>::encode(name.to_string(), buf)
            }
        }

        impl<'r, DB: ::sqlx::Database> ::sqlx::Decode<'r, DB> for $ty
        where
            String: ::sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as ::sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let raw = <String as ::sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(<$ty>::try_from(raw)?)
            }
        }
    };
}

/// What an account may do. Respondents have no account: they hold single-use links.
/// Stored, sent and compared by its lowercase name (`admin`, …).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    /// 镇纪委: the commission administrator.
    Admin,
    /// 村(社区)操作员: hands in its own village's roster, sees nothing else.
    Village,
    /// 第三方: the survey organisation.
    Surveyor,
    /// 两代表一委员: a panel member.
    Panel,
}
stored_name!(Role, "role");

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Village, Role::Surveyor, Role::Panel];

    /// The stored name, e.g. `admin`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "镇纪委管理员",
            Role::Village => "村(社区)操作员",
            Role::Surveyor => "第三方调查员",
            Role::Panel => "两代表一委员",
        }
    }
}

/// Where a campaign stands. Rosters are accepted only while `Collecting`.
/// Stored by its lowercase name (`collecting`, …).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum CampaignState {
    Collecting,
    Frozen,
    Drawn,
    Fieldwork,
    Closed,
    Approved,
}
stored_name!(CampaignState, "campaign state");

impl CampaignState {
    /// The stored name, e.g. `collecting`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }

    pub fn label(self) -> &'static str {
        match self {
            CampaignState::Collecting => "收集名单中",
            CampaignState::Frozen => "名单已冻结",
            CampaignState::Drawn => "已抽样",
            CampaignState::Fieldwork => "调查进行中",
            CampaignState::Closed => "调查已结束",
            CampaignState::Approved => "已批准",
        }
    }
}

/// Where a released case stands: `open` until its questionnaire is in (`completed`) or the
/// respondent declined through the link (`refused`). Stored by these names.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum CaseStatus {
    Open,
    Completed,
    Refused,
}
stored_name!(CaseStatus, "case status");

impl CaseStatus {
    /// The stored name, e.g. `open`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a calendar entry makes of its date; stored as `holiday` or `workday`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[strum(serialize_all = "lowercase")]
pub enum DayKind {
    /// A day off (放假), even if it is a weekday.
    Holiday,
    /// A working day (上班), even if it falls on a weekend (调休).
    Workday,
}
stored_name!(DayKind, "kind of day");

impl DayKind {
    /// Parses a kind cell after trimming: 放假, 休息, 节假日 or `holiday` give
    /// [`DayKind::Holiday`]; 上班, 补班, 调休上班 or `workday` give
    /// [`DayKind::Workday`]. The English words ignore ASCII case.
    pub fn parse(text: &str) -> Option<DayKind> {
        let text = text.trim();
        if ["放假", "休息", "节假日"].contains(&text) || text.eq_ignore_ascii_case("holiday")
        {
            Some(DayKind::Holiday)
        } else if ["上班", "补班", "调休上班"].contains(&text)
            || text.eq_ignore_ascii_case("workday")
        {
            Some(DayKind::Workday)
        } else {
            None
        }
    }

    /// 放假 or 上班.
    pub fn label_zh(self) -> &'static str {
        match self {
            DayKind::Holiday => "放假",
            DayKind::Workday => "上班",
        }
    }

    /// `holiday` or `workday`.
    pub fn label_en(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
}

/// The grade of one assessment item, best first.
///
/// The derived ordering follows the declaration order, so a *better* grade
/// compares *less*: `Grade::Good < Grade::Poor`. Stored, serialized and shown
/// as its Chinese label (`"好"`, `"较好"`, `"一般"`, `"差"`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
pub enum Grade {
    #[serde(rename = "好")]
    #[strum(serialize = "好")]
    Good,
    #[serde(rename = "较好")]
    #[strum(serialize = "较好")]
    FairlyGood,
    #[serde(rename = "一般")]
    #[strum(serialize = "一般")]
    Average,
    #[serde(rename = "差")]
    #[strum(serialize = "差")]
    Poor,
}
stored_name!(Grade, "grade");

impl Grade {
    /// All grades, best first.
    pub const ALL: [Grade; 4] = [Grade::Good, Grade::FairlyGood, Grade::Average, Grade::Poor];

    /// Parses exactly 好, 较好, 一般 or 差, after trimming whitespace
    /// (including the full-width space U+3000). Anything else is `None`.
    pub fn parse(text: &str) -> Option<Grade> {
        text.trim().parse().ok()
    }

    /// The Chinese label: 好, 较好, 一般 or 差.
    pub fn label(self) -> &'static str {
        self.into()
    }

    /// True for 好 and 较好.
    pub fn is_at_least_fairly_good(self) -> bool {
        matches!(self, Grade::Good | Grade::FairlyGood)
    }
}

/// A phone number as people other than the surveyor see it: `138****1234` (first three
/// and last four digits kept; every digit between them starred).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// Mask every phone-like run with 7 or more digits in a text (a number quoted in an error
/// message, a phone written in a comment) as `mask_phone` does, keeping the first three
/// and last four digits. A run is digits (ASCII or full-width ０–９), with an optional
/// leading `+`, whose groups are joined by up to three separators — spaces (also
/// full-width and no-break), hyphens and dashes (also full-width), dots — where every
/// group after a separator has at least 3 digits, and so has the first unless it follows
/// the `+`; the separators stay in place:
/// `+86 138 0013 8000` → `+86 1** **** 8000`, `138-0013-8000` → `138-****-8000`.
/// A date such as `2026-11-20` is not one run (its groups are too short).
pub fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let end = phone_run_end(&chars, i);
        if end == i {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = &chars[i..end];
        let digits = run.iter().filter(|c| is_digit(**c)).count();
        if digits < 7 {
            out.extend(run);
        } else {
            let mut seen = 0;
            for &c in run {
                if is_digit(c) {
                    // Up to 7 digits all go, as in `mask_phone`; beyond, 3 + 4 stay.
                    let kept = digits > 7 && (seen < 3 || seen >= digits - 4);
                    out.push(if kept { c } else { '*' });
                    seen += 1;
                } else {
                    out.push(c);
                }
            }
        }
        i = end;
    }
    out
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{3000}' | '-' | '－' | '‐' | '‑' | '‒' | '–' | '—' | '.' | '．'
    )
}

/// Where the phone-like run starting at `start` ends (`start` itself when none starts
/// there); see [`mask_digit_runs`].
fn phone_run_end(chars: &[char], start: usize) -> usize {
    let group = |from: usize| {
        chars
            .get(from..)
            .map_or(0, |rest| rest.iter().take_while(|c| is_digit(**c)).count())
    };
    let plus = chars.get(start) == Some(&'+');
    let first_at = start + usize::from(plus);
    let first = group(first_at);
    if first == 0 {
        return start;
    }
    let mut end = first_at + first;
    // A first group of 1–2 digits joins what follows only as a country code after `+`.
    if first < 3 && !plus {
        return end;
    }
    loop {
        let seps = chars.get(end..).map_or(0, |rest| {
            rest.iter().take_while(|c| is_separator(**c)).count()
        });
        if seps == 0 || seps > 3 {
            return end;
        }
        let next = group(end + seps);
        if next < 3 {
            return end;
        }
        end += seps + next;
    }
}

/// China-time text `YYYY-MM-DD HH:MM` (or with `T`, or with seconds) → Unix seconds.
pub fn parse_china_time(text: &str) -> Option<i64> {
    let text = text.trim().replacen(' ', "T", 1);
    let short = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let long = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let dt = time::PrimitiveDateTime::parse(&text, &short)
        .or_else(|_| time::PrimitiveDateTime::parse(&text, &long))
        .ok()?;
    let offset = time::UtcOffset::from_hms(8, 0, 0).ok()?;
    Some(dt.assume_offset(offset).unix_timestamp())
}

/// The China-time date of a Unix time, `YYYY-MM-DD`.
pub fn local_date(unix: i64) -> String {
    local_time(unix).chars().take(10).collect()
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Today's date in China Standard Time, `YYYY-MM-DD` (responses keep only the date).
pub fn today() -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .to_offset(offset)
        .format(&format)
        .unwrap_or_default()
}

/// A Unix time shown as people in the town read it (China Standard Time, UTC+8, no DST).
pub fn local_time(unix: i64) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn village_codes_are_trimmed_and_plain() {
        assert_eq!(
            VillageCode::parse(" 430527101 ").unwrap().as_str(),
            "430527101"
        );
        for bad in ["", "  ", "4305 27", "唐家坊", "a/b", &"9".repeat(33)] {
            assert!(VillageCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn roles_and_states_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for s in <CampaignState as strum::IntoEnumIterator>::iter() {
            assert_eq!(CampaignState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            CaseStatus::try_from("closed".to_string())
                .unwrap_err()
                .to_string(),
            "unknown case status \"closed\""
        );
    }

    #[test]
    fn phones_are_masked_but_for_three_leading_and_four_trailing_digits() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("07397654321"), "073****4321");
        assert_eq!(mask_phone("073976543210"), "073*****3210");
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn digit_runs_long_enough_to_be_phones_are_masked_in_text() {
        assert_eq!(
            mask_digit_runs("7397654321 缺少开头的 0,第 12 行"),
            "739***4321 缺少开头的 0,第 12 行"
        );
        assert_eq!(mask_digit_runs("123456"), "123456");
    }

    #[test]
    fn phones_written_with_separators_or_full_width_digits_are_masked() {
        let cases = [
            ("电话+86 138 0013 8000找我", "电话+86 1** **** 8000找我"),
            ("138-0013-8000", "138-****-8000"),
            ("138 0013 8000。", "138 **** 8000。"),
            ("１３８００１３８０００", "１３８****８０００"),
            ("１３８　００１３　８０００", "１３８　****　８０００"),
            ("138.0013.8000", "138.****.8000"),
            ("138 - 0013 - 8000", "138 - **** - 8000"),
            ("0745-7654321", "074*-***4321"),
            ("+8613800138000", "+861******8000"),
            ("86 138 0013 8000", "86 138 **** 8000"),
            ("1380013800 has 10 digits", "138***3800 has 10 digits"),
        ];
        for (text, masked) in cases {
            assert_eq!(mask_digit_runs(text), masked, "{text}");
        }
        // Not phones: dates, times, short numbers, numbers far apart.
        for text in [
            "2026-11-20 14:30 来过",
            "第 12 行",
            "123 456",
            "3 户 5 人",
            "",
            "+",
            "- 12 -",
        ] {
            assert_eq!(mask_digit_runs(text), text);
        }
        // Seven digits in groups are starred entirely, as mask_phone does.
        assert_eq!(mask_digit_runs("123 4567"), "*** ****");
    }

    #[test]
    fn china_time_text_parses_with_or_without_seconds_and_t() {
        assert_eq!(parse_china_time("1970-01-01 08:00"), Some(0));
        assert_eq!(parse_china_time("1970-01-01T08:00:30"), Some(30));
        assert_eq!(parse_china_time("yesterday"), None);
        assert_eq!(local_date(0), "1970-01-01");
    }

    #[test]
    fn local_time_is_china_standard_time() {
        assert_eq!(local_time(0), "1970-01-01 08:00");
    }
}
