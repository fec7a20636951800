//! Call-attempt outcomes and their AAPOR disposition classes.
//!
//! Every attempt the surveyor records (or imports) carries one [`Outcome`]. Each outcome
//! belongs to one class of AAPOR's *Standard Definitions* ([`Class`]): I complete,
//! P partial, R refusal and break-off, NC non-contact, O other, UH unknown eligibility,
//! NE not eligible. The mapping (docs/fieldwork.md) is normative; the stable keys
//! (`key()`, serde) are what the database, CSV import/export and the JSON API store.
//!
//! The sample is a roster of named people, so a number that is wrong or dead says
//! nothing about the person: those cases are UH, and only "not a service recipient"
//! is NE. They are still final and still replaced (`replacement`), and a village's share
//! of them is its roster's invalid-number rate ([`case_invalid_number`]).
//!
//! A *case* (one released sample member) gets one class for the response rates, derived
//! from all its attempts by [`case_class`].

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// An AAPOR final-disposition class, as used in the response-rate formulas.
#[allow(clippy::upper_case_acronyms)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[strum(ascii_case_insensitive)]
pub enum Class {
    /// Complete interview (AAPOR 1.1).
    I,
    /// Partial interview (AAPOR 1.2).
    P,
    /// Refusal and break-off (AAPOR 2.10).
    R,
    /// Non-contact with an eligible respondent (AAPOR 2.20).
    NC,
    /// Other eligible non-interview (AAPOR 2.30).
    O,
    /// Unknown eligibility, non-interview (AAPOR 3.x).
    UH,
    /// Not eligible (AAPOR 4.x).
    NE,
}

impl Class {
    /// All classes, in the order of the formulas.
    pub const ALL: [Class; 7] = [
        Class::I,
        Class::P,
        Class::R,
        Class::NC,
        Class::O,
        Class::UH,
        Class::NE,
    ];

    /// Stable key, identical to the serde form: `"I"`, `"P"`, `"R"`, `"NC"`, `"O"`, `"UH"`, `"NE"`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// Parse a key as produced by [`Class::key`] (surrounding spaces and case ignored).
    pub fn parse(s: &str) -> Option<Class> {
        s.trim().parse().ok()
    }

    /// Chinese label for people.
    pub fn label_zh(self) -> &'static str {
        match self {
            Class::I => "完成访问",
            Class::P => "部分完成",
            Class::R => "拒访/中断",
            Class::NC => "未接触到受访者",
            Class::O => "其他原因未访",
            Class::UH => "资格未知",
            Class::NE => "不符合资格",
        }
    }
}

/// The outcome of one call attempt. Serde and [`Outcome::key`] use the snake_case keys.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// Questionnaire completed. → I
    Complete,
    /// Stopped after answering at least half of the questions. → P
    Partial,
    /// Refused the interview. → R
    Refusal,
    /// Broke off before answering half of the questions. → R
    Breakoff,
    /// Respondent reached (someone answered) but never available during the fieldwork
    /// period. → NC (AAPOR 2.21).
    NeverAvailable,
    /// Reached; asked to be called back later. → NC. AAPOR codes an appointment that is
    /// never kept as "respondent never available" (2.21), a non-contact with the
    /// respondent, not a refusal: this is what a callback becomes if fieldwork ends first.
    Callback,
    /// Ill or otherwise physically/mentally unable. → O (AAPOR 2.32)
    Illness,
    /// Language barrier. → O (AAPOR 2.33)
    Language,
    /// Too old to be interviewed. → O (AAPOR 2.32)
    TooOld,
    /// Other reason, respondent eligible. → O (AAPOR 2.30)
    Other,
    /// Rang, nobody answered. → UH (AAPOR 3.13)
    NoAnswer,
    /// Line busy. → UH (AAPOR 3.12)
    Busy,
    /// Phone switched off / unreachable (关机/不在服务区). → UH
    SwitchedOff,
    /// The number does not belong to the recipient. → UH: the sampling unit is the
    /// named recipient, who may well be eligible; only the roster's number is bad.
    WrongNumber,
    /// Number not in service (空号/停机). → UH, as a wrong number: AAPOR's 4.31 (NE)
    /// is for samples of numbers, where a dead number is not a household; here the
    /// named person still exists.
    NotInService,
    /// The person is not a service recipient of the village this year. → NE
    NotRecipient,
}
crate::stored_name!(Outcome, "call outcome");

impl Outcome {
    /// Every outcome, in the order used by forms and documentation.
    pub const ALL: [Outcome; 16] = [
        Outcome::Complete,
        Outcome::Partial,
        Outcome::Refusal,
        Outcome::Breakoff,
        Outcome::NeverAvailable,
        Outcome::Callback,
        Outcome::Illness,
        Outcome::Language,
        Outcome::TooOld,
        Outcome::Other,
        Outcome::NoAnswer,
        Outcome::Busy,
        Outcome::SwitchedOff,
        Outcome::WrongNumber,
        Outcome::NotInService,
        Outcome::NotRecipient,
    ];

    /// Stable snake_case key (the serde form), e.g. `"no_answer"`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// Parse a key (surrounding spaces and ASCII case ignored). `None` for anything else.
    pub fn parse(s: &str) -> Option<Outcome> {
        let s = s.trim();
        Outcome::ALL
            .into_iter()
            .find(|o| o.key().eq_ignore_ascii_case(s))
    }

    /// Reads an outcome as a person writes it in a results file: its key (as [`Outcome::parse`])
    /// or its Chinese label as the call console shows it ([`Outcome::label_zh`]). Also taken:
    /// a label without its bracketed note ("部分完成" for "部分完成（已答过半）"), either side
    /// of a label's slash ("空号" for "空号/停机"), and "已完成", which the console shows for a
    /// completed case. Spaces are ignored; brackets and slashes may be full- or half-width.
    pub fn parse_key_or_label(s: &str) -> Option<Outcome> {
        if let Some(o) = Outcome::parse(s) {
            return Some(o);
        }
        let written = squeeze(s);
        if written.is_empty() {
            return None;
        }
        if written == "已完成" {
            return Some(Outcome::Complete);
        }
        Outcome::ALL.into_iter().find(|o| {
            let label = squeeze(o.label_zh());
            let stem = label.split('(').next().unwrap_or("");
            label == written || stem == written || stem.split('/').any(|part| part == written)
        })
    }

    /// Chinese label for the call console and exports.
    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Complete => "完成访问",
            Outcome::Partial => "部分完成（已答过半）",
            Outcome::Refusal => "拒访",
            Outcome::Breakoff => "中途中断（未答过半）",
            Outcome::NeverAvailable => "调查期间一直不便受访",
            Outcome::Callback => "约定回访",
            Outcome::Illness => "因病无法受访",
            Outcome::Language => "语言不通",
            Outcome::TooOld => "年事已高无法受访",
            Outcome::Other => "其他原因",
            Outcome::NoAnswer => "无人接听",
            Outcome::Busy => "占线",
            Outcome::SwitchedOff => "关机/无法接通",
            Outcome::WrongNumber => "号码错误（非本人）",
            Outcome::NotInService => "空号/停机",
            Outcome::NotRecipient => "非服务对象",
        }
    }

    /// The AAPOR class of this outcome (docs/fieldwork.md).
    pub fn class(self) -> Class {
        match self {
            Outcome::Complete => Class::I,
            Outcome::Partial => Class::P,
            Outcome::Refusal | Outcome::Breakoff => Class::R,
            Outcome::NeverAvailable | Outcome::Callback => Class::NC,
            Outcome::Illness | Outcome::Language | Outcome::TooOld | Outcome::Other => Class::O,
            Outcome::NoAnswer
            | Outcome::Busy
            | Outcome::SwitchedOff
            | Outcome::WrongNumber
            | Outcome::NotInService => Class::UH,
            Outcome::NotRecipient => Class::NE,
        }
    }

    /// An attempt in which nobody was reached: no answer, busy, switched off. These are
    /// the attempts the non-contact replacement rule counts; any other outcome means
    /// the number reached someone (or the network said it is not in service).
    pub fn is_noncontact_attempt(self) -> bool {
        matches!(
            self,
            Outcome::NoAnswer | Outcome::Busy | Outcome::SwitchedOff
        )
    }

    /// The roster's number for the person is wrong or dead (`wrong_number`,
    /// `not_in_service`): unknown eligibility for the person, bad roster quality.
    pub fn is_invalid_number(self) -> bool {
        matches!(self, Outcome::WrongNumber | Outcome::NotInService)
    }

    /// A final disposition: the case needs no further attempts.
    ///
    /// Final: complete, partial, refusal, breakoff, wrong number, not in service, not a
    /// recipient, and illness, language, too old (conditions that will not change within
    /// the fieldwork period).
    /// Not final: no answer, busy, switched off (try again), callback (an appointment),
    /// never available (may still become available before fieldwork closes) and
    /// other (unspecified, so the surveyor may try again).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Outcome::Complete
                | Outcome::Partial
                | Outcome::Refusal
                | Outcome::Breakoff
                | Outcome::WrongNumber
                | Outcome::NotInService
                | Outcome::NotRecipient
                | Outcome::Illness
                | Outcome::Language
                | Outcome::TooOld
        )
    }
}

/// A label as compared by [`Outcome::parse_key_or_label`]: no whitespace, half-width
/// brackets and slashes.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '／' => '/',
            _ => c,
        })
        .collect()
}

/// An outcome key that is not one of [`Outcome::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown call outcome {0:?}")]
pub struct UnknownOutcome(pub String);

impl UnknownOutcome {
    /// The message for people (Chinese).
    pub fn message_zh(&self) -> String {
        format!("无法识别的拨打结果“{}”", self.0)
    }
}

impl FromStr for Outcome {
    type Err = UnknownOutcome;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::parse(s).ok_or_else(|| UnknownOutcome(s.to_string()))
    }
}

/// The class a case counts under in the response rates, from its attempts' outcomes in
/// the order they were recorded. Precedence:
/// 1. any `complete` → I; else any `partial` → P (an answer, once given, stands);
/// 2. else the class of the latest final outcome: R, O, NE, or UH for a wrong or dead
///    number. A final outcome closes the case whatever its class, so a UH one stands
///    like the others: a refusal heard on what then proves a wrong number was not the
///    named person's refusal (UH), and a refusal after a wrong number was noted means
///    the person was reached after all (R);
/// 3. else, if the respondent was ever reached, the class of the latest reached
///    non-final outcome (`callback`/`never_available` → NC, `other` → O);
/// 4. else UH: never reached (only no answer/busy/switched off, or no attempt at all,
///    e.g. a link sent and never answered).
///
/// An answer that arrives through the survey link is a `complete` for this purpose.
pub fn case_class<I>(outcomes: I) -> Class
where
    I: IntoIterator<Item = Outcome>,
{
    let mut complete = false;
    let mut partial = false;
    let mut last_final: Option<Class> = None;
    let mut last_reached: Option<Class> = None;
    for o in outcomes {
        match o {
            Outcome::Complete => complete = true,
            Outcome::Partial => partial = true,
            _ if o.is_final() => last_final = Some(o.class()),
            _ if !o.is_noncontact_attempt() => last_reached = Some(o.class()),
            _ => {}
        }
    }
    if complete {
        Class::I
    } else if partial {
        Class::P
    } else {
        last_final.or(last_reached).unwrap_or(Class::UH)
    }
}

/// Whether the case counts in its village's invalid-number rate: it was never answered
/// (no `complete` or `partial`) and its latest final outcome is `wrong_number` or
/// `not_in_service` — the outcome that decides its class under [`case_class`] and its
/// replacement.
pub fn case_invalid_number<I>(outcomes: I) -> bool
where
    I: IntoIterator<Item = Outcome>,
{
    let mut answered = false;
    let mut last_final: Option<Outcome> = None;
    for o in outcomes {
        answered |= matches!(o, Outcome::Complete | Outcome::Partial);
        if o.is_final() {
            last_final = Some(o);
        }
    }
    !answered && last_final.is_some_and(Outcome::is_invalid_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_match_serde() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.key()), Some(o));
            assert_eq!(o.key().parse::<Outcome>(), Ok(o));
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(json, format!("\"{}\"", o.key()));
            let back: Outcome = serde_json::from_str(&json).unwrap();
            assert_eq!(back, o);
            assert!(!o.label_zh().is_empty());
        }
        for c in Class::ALL {
            assert_eq!(Class::parse(c.key()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.key())
            );
        }
        let mut keys: Vec<_> = Outcome::ALL.iter().map(|o| o.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Outcome::ALL.len());
    }

    #[test]
    fn parse_is_lenient_on_space_and_case_only() {
        assert_eq!(Outcome::parse(" No_Answer "), Some(Outcome::NoAnswer));
        assert_eq!(Outcome::parse("no answer"), None);
        assert_eq!(Outcome::parse(""), None);
        assert_eq!(Class::parse("nc"), Some(Class::NC));
        assert_eq!(Class::parse("X"), None);
        let err = "拒绝".parse::<Outcome>().unwrap_err();
        assert_eq!(err, UnknownOutcome("拒绝".into()));
        assert!(err.message_zh().contains("拒绝"));
    }

    #[test]
    fn the_console_labels_are_read_as_their_outcomes() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse_key_or_label(o.key()), Some(o));
            assert_eq!(Outcome::parse_key_or_label(o.label_zh()), Some(o), "{o}");
            let spaced = format!(" {} ", o.label_zh().replace('（', " ( ").replace('）', ")"));
            assert_eq!(Outcome::parse_key_or_label(&spaced), Some(o), "{spaced:?}");
        }
        let table = [
            ("已完成", Some(Outcome::Complete)),
            ("完成访问", Some(Outcome::Complete)),
            ("拒访", Some(Outcome::Refusal)),
            ("部分完成", Some(Outcome::Partial)),
            ("中途中断", Some(Outcome::Breakoff)),
            ("号码错误", Some(Outcome::WrongNumber)),
            ("号码错误(非本人)", Some(Outcome::WrongNumber)),
            ("关机", Some(Outcome::SwitchedOff)),
            ("无法接通", Some(Outcome::SwitchedOff)),
            ("关机／无法接通", Some(Outcome::SwitchedOff)),
            ("空号", Some(Outcome::NotInService)),
            ("停机", Some(Outcome::NotInService)),
            ("NO_ANSWER", Some(Outcome::NoAnswer)),
            ("无人 接听", Some(Outcome::NoAnswer)),
            ("拒绝", None),
            ("完成", None),
            ("已答过半", None),
            ("(已答过半)", None),
            ("/", None),
            ("", None),
            ("  ", None),
        ];
        for (text, want) in table {
            assert_eq!(Outcome::parse_key_or_label(text), want, "{text:?}");
        }
        // No two outcomes share a label, a stem or a side of a slash.
        let mut names: Vec<String> = Vec::new();
        for o in Outcome::ALL {
            let label = squeeze(o.label_zh());
            let stem = label.split('(').next().unwrap_or("").to_string();
            let mut own: Vec<String> = stem.split('/').map(String::from).collect();
            own.extend([stem, label]);
            own.sort();
            own.dedup();
            names.extend(own);
        }
        names.push("已完成".into());
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "{names:?}");
    }

    #[test]
    fn mapping_for_a_named_roster() {
        use Outcome::*;
        let expect = [
            (Complete, Class::I),
            (Partial, Class::P),
            (Refusal, Class::R),
            (Breakoff, Class::R),
            (NeverAvailable, Class::NC),
            (Callback, Class::NC),
            (Illness, Class::O),
            (Language, Class::O),
            (TooOld, Class::O),
            (Other, Class::O),
            (NoAnswer, Class::UH),
            (Busy, Class::UH),
            (SwitchedOff, Class::UH),
            (WrongNumber, Class::UH),
            (NotInService, Class::UH),
            (NotRecipient, Class::NE),
        ];
        assert_eq!(expect.len(), Outcome::ALL.len());
        for (o, c) in expect {
            assert_eq!(o.class(), c, "{o}");
        }
        let noncontact: Vec<_> = Outcome::ALL
            .into_iter()
            .filter(|o| o.is_noncontact_attempt())
            .collect();
        assert_eq!(noncontact, [NoAnswer, Busy, SwitchedOff]);
        let ne: Vec<_> = Outcome::ALL
            .into_iter()
            .filter(|o| o.class() == Class::NE)
            .collect();
        assert_eq!(
            ne,
            [NotRecipient],
            "only a non-recipient is known to be ineligible"
        );
        let invalid: Vec<_> = Outcome::ALL
            .into_iter()
            .filter(|o| o.is_invalid_number())
            .collect();
        assert_eq!(invalid, [WrongNumber, NotInService]);
        let not_final: Vec<_> = Outcome::ALL.into_iter().filter(|o| !o.is_final()).collect();
        assert_eq!(
            not_final,
            [NeverAvailable, Callback, Other, NoAnswer, Busy, SwitchedOff]
        );
    }

    #[test]
    fn case_class_precedence() {
        use Outcome::*;
        assert_eq!(case_class([]), Class::UH);
        assert_eq!(case_class([NoAnswer, Busy, SwitchedOff]), Class::UH);
        assert_eq!(case_class([NoAnswer, Callback, NoAnswer]), Class::NC);
        assert_eq!(case_class([Callback, Other]), Class::O);
        assert_eq!(case_class([Callback, Refusal, NoAnswer]), Class::R);
        assert_eq!(case_class([Refusal, NotRecipient]), Class::NE);
        assert_eq!(case_class([Partial, Refusal]), Class::P);
        assert_eq!(case_class([Partial, Complete]), Class::I);
        assert_eq!(case_class([Complete, WrongNumber]), Class::I);
    }

    #[test]
    fn a_final_wrong_or_dead_number_stands_as_uh_like_any_final_class() {
        use Outcome::*;
        for bad in [WrongNumber, NotInService] {
            assert_eq!(case_class([bad]), Class::UH, "{bad}");
            // Latest final outcome decides, whichever class it has.
            assert_eq!(case_class([Refusal, bad]), Class::UH, "{bad}");
            assert_eq!(case_class([bad, Refusal]), Class::R, "{bad}");
            assert_eq!(case_class([NotRecipient, bad]), Class::UH, "{bad}");
            assert_eq!(case_class([bad, NotRecipient]), Class::NE, "{bad}");
            assert_eq!(case_class([bad, Illness]), Class::O, "{bad}");
            // It beats a reached non-final outcome before or after it.
            assert_eq!(case_class([Callback, bad]), Class::UH, "{bad}");
            assert_eq!(case_class([bad, Callback, Other]), Class::UH, "{bad}");
            // An answer still stands.
            assert_eq!(case_class([bad, Partial]), Class::P, "{bad}");
            assert_eq!(case_class([bad, Complete]), Class::I, "{bad}");
        }
    }

    #[test]
    fn a_case_has_an_invalid_number_when_its_deciding_outcome_says_so() {
        use Outcome::*;
        let table: &[(&[Outcome], bool)] = &[
            (&[], false),
            (&[WrongNumber], true),
            (&[NotInService], true),
            (&[NoAnswer, Busy, NotInService], true),
            (&[Refusal, WrongNumber], true),
            (&[WrongNumber, Callback], true),
            (&[NotRecipient], false),
            (&[WrongNumber, Refusal], false),
            (&[NotInService, NotRecipient], false),
            (&[NoAnswer, SwitchedOff, Busy], false),
            (&[WrongNumber, Complete], false),
            (&[Partial, NotInService], false),
        ];
        for (outcomes, want) in table {
            let got = case_invalid_number(outcomes.iter().copied());
            assert_eq!(got, *want, "{outcomes:?}");
            // Such a case is always UH in the rates.
            if got {
                assert_eq!(case_class(outcomes.iter().copied()), Class::UH);
            }
        }
    }
}
