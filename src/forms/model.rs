//! The questionnaire model: what a parsed survey-forms file is once it has been checked.
//! Nothing here is constructed from raw input except through [`crate::forms::parse_form`],
//! so code past the boundary can trust ids, options and conditions.

use serde::Serialize;
use std::fmt;

/// The reserved answer value meaning "don't know" (说不清, 不了解: the form's `dont_know`
/// label). It is never an option value, is offered only where a single-choice question has
/// `dont_know`, and never scores. In a phone interview it is not read out.
pub const DONT_KNOW: &str = "dont_know";

/// The panel questionnaire's question asking a member how they relate to the village they
/// rate (docs/results.md, 2.5). Its options are the [`Relation`] keys.
pub const RELATION_QUESTION: &str = "relation";

/// The recipients' screener (筛选题): has this person used the village's services this year?
/// Only recipients are asked the scored questions (they are shown if it is [`SCREENER_YES`]);
/// on the phone, [`SCREENER_NO`] ends the interview, recorded as not a service recipient.
/// Where a recipients' form has it, it is the first question, required, single choice,
/// with exactly these two option values.
pub const SCREENER_QUESTION: &str = "served";
/// The screener's option value "办过".
pub const SCREENER_YES: &str = "yes";
/// The screener's option value "没办过".
pub const SCREENER_NO: &str = "no";

/// A panel member's relation to the village they rate. A member who lives or works in the
/// village rates their own village: the rating is recused (left out of P and of the panel's
/// tallies, counted as recused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// 本村居民.
    Resident,
    /// 在本村任职.
    Official,
    /// 联系该村.
    Liaison,
    /// 不熟悉.
    Unfamiliar,
}

impl Relation {
    /// Every relation, in the order the form asks.
    pub const ALL: [Relation; 4] = [
        Relation::Resident,
        Relation::Official,
        Relation::Liaison,
        Relation::Unfamiliar,
    ];

    /// The stored option value (`value` in the questionnaire file).
    pub fn key(self) -> &'static str {
        match self {
            Relation::Resident => "resident",
            Relation::Official => "official",
            Relation::Liaison => "liaison",
            Relation::Unfamiliar => "unfamiliar",
        }
    }

    /// Parses a stored option value.
    pub fn from_key(key: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.key() == key)
    }

    /// Whether a rating given with this relation is recused.
    pub fn recuses(self) -> bool {
        matches!(self, Relation::Resident | Relation::Official)
    }
}

/// Who answers a questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// 服务对象: sampled recipients of the village's services (seed item 16, part 二.2).
    Recipients,
    /// 两代表一委员 and other public figures, rating each village once (seed item 16).
    Panel,
}

impl Audience {
    /// The key used in the files (`audience = "recipients"`).
    pub fn key(self) -> &'static str {
        match self {
            Audience::Recipients => "recipients",
            Audience::Panel => "panel",
        }
    }
}

/// What a scored question measures. A question with a dimension is *scored*: its options
/// must all have a score in the scheme. Recipients' questions use the survey's three
/// dimensions (服务、作风、廉洁, part 二.2); the panel grades what deputies can observe of a
/// village (作风、村务财务公开、廉洁口碑、群众诉求处理) and `Overall`. `Area(1)` … `Area(5)`
/// (the seed's five areas 一 to 五) are still read so that the forms pinned by earlier
/// campaigns keep parsing; the shipped panel form no longer uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// 服务: attitude and convenience of service.
    Service,
    /// 作风: work style (fair, prompt, no runaround).
    Style,
    /// 廉洁: integrity (no favours, red envelopes or gifts).
    Integrity,
    /// 总体: the overall rating.
    Overall,
    /// 干部作风, as a panel member sees it.
    Conduct,
    /// 村务财务公开: village affairs and accounts made public.
    Openness,
    /// 廉洁口碑: what people say of the cadres' integrity.
    Reputation,
    /// 群众诉求处理: how the village handles what people ask for or complain about.
    Petitions,
    /// One of the seed's five areas, 1 = 一 政治生态建设 … 5 = 五 社会反响 (earlier panel
    /// forms).
    Area(u8),
}

impl Dimension {
    /// The key used in the files: `service`, `style`, `integrity`, `overall`, `conduct`,
    /// `openness`, `reputation`, `petitions`, `area1`…`area5`.
    pub fn key(self) -> String {
        match self {
            Dimension::Service => "service".into(),
            Dimension::Style => "style".into(),
            Dimension::Integrity => "integrity".into(),
            Dimension::Overall => "overall".into(),
            Dimension::Conduct => "conduct".into(),
            Dimension::Openness => "openness".into(),
            Dimension::Reputation => "reputation".into(),
            Dimension::Petitions => "petitions".into(),
            Dimension::Area(n) => format!("area{n}"),
        }
    }

    /// Parses a file key; `None` for anything else.
    pub fn from_key(key: &str) -> Option<Dimension> {
        match key {
            "service" => Some(Dimension::Service),
            "style" => Some(Dimension::Style),
            "integrity" => Some(Dimension::Integrity),
            "overall" => Some(Dimension::Overall),
            "conduct" => Some(Dimension::Conduct),
            "openness" => Some(Dimension::Openness),
            "reputation" => Some(Dimension::Reputation),
            "petitions" => Some(Dimension::Petitions),
            "area1" => Some(Dimension::Area(1)),
            "area2" => Some(Dimension::Area(2)),
            "area3" => Some(Dimension::Area(3)),
            "area4" => Some(Dimension::Area(4)),
            "area5" => Some(Dimension::Area(5)),
            _ => None,
        }
    }

    /// The Chinese name for headings and downloads.
    pub fn label_zh(self) -> &'static str {
        match self {
            Dimension::Service => "服务",
            Dimension::Style => "作风",
            Dimension::Integrity => "廉洁",
            Dimension::Overall => "总体",
            Dimension::Conduct => "干部作风",
            Dimension::Openness => "村务财务公开",
            Dimension::Reputation => "廉洁口碑",
            Dimension::Petitions => "群众诉求处理",
            Dimension::Area(1) => "政治生态建设",
            Dimension::Area(2) => "中央八项规定精神执行",
            Dimension::Area(3) => "“两个责任”落实",
            Dimension::Area(4) => "一体推进“不敢腐、不能腐、不想腐”",
            Dimension::Area(5) => "社会反响",
            Dimension::Area(_) => "其他",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl Serialize for Dimension {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

/// A parsed, checked questionnaire file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Form {
    /// Stable id (`[a-z0-9_]+`), the key of this form in the scheme.
    pub id: String,
    /// The clerk's version label; a campaign pins (id, version, sha256).
    pub version: String,
    /// Heading of the page.
    pub title: String,
    /// Shown above the questions (may be empty).
    pub intro: String,
    /// Who answers it.
    pub audience: Audience,
    /// In the order shown.
    pub questions: Vec<Question>,
    /// Lowercase hex SHA-256 of the file's exact bytes; stored with every response.
    pub sha256: String,
    /// The exact text of the file.
    pub source: String,
}

impl Form {
    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The scored questions (single choice with a dimension), in order.
    pub fn scored_questions(&self) -> impl Iterator<Item = &Question> {
        self.questions.iter().filter(|q| q.is_scored())
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// `[a-z0-9_]+`, unique in the form; the HTML field name and the answers' JSON key.
    pub id: String,
    /// The question as the respondent reads it.
    pub text: String,
    /// Single, multiple or free text, with its options or limit.
    pub kind: Kind,
    /// Must be answered when shown (a hidden question is never required).
    pub required: bool,
    /// Set only on scored single-choice questions.
    pub dimension: Option<Dimension>,
    /// Show only if an earlier answer matches.
    pub show_if: Option<Condition>,
    /// 1-based line of the question's `[[question]]` header, for cross-file messages.
    #[serde(skip)]
    pub(crate) line: Option<usize>,
}

impl Question {
    /// A scored question: single choice with a dimension. Its options must all have a score.
    pub fn is_scored(&self) -> bool {
        self.dimension.is_some() && matches!(self.kind, Kind::Single { .. })
    }

    /// The option values of a single or multiple choice question (empty for text).
    pub fn option_values(&self) -> impl Iterator<Item = &str> {
        let options: &[Choice] = match &self.kind {
            Kind::Single { options, .. } | Kind::Multiple { options, .. } => options,
            Kind::Text { .. } => &[],
        };
        options.iter().map(|c| c.value.as_str())
    }

    /// Whether `value` is a valid answer value: an option, or `dont_know` where offered.
    pub fn accepts_value(&self, value: &str) -> bool {
        match &self.kind {
            Kind::Single { options, dont_know } => {
                (value == DONT_KNOW && dont_know.is_some())
                    || options.iter().any(|c| c.value == value)
            }
            Kind::Multiple { options, .. } => options.iter().any(|c| c.value == value),
            Kind::Text { .. } => false,
        }
    }
}

/// The kind of a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Kind {
    /// One option, or "don't know" where `dont_know` holds its label (its value is
    /// [`DONT_KNOW`]).
    Single {
        options: Vec<Choice>,
        dont_know: Option<String>,
    },
    /// Any number of options, at most `max_choices` where set.
    Multiple {
        options: Vec<Choice>,
        max_choices: Option<usize>,
    },
    /// Free text of at most `max_chars` characters (Unicode scalar values), 1..=2000.
    Text { max_chars: usize },
}

/// One option: the stored `value` and the `label` shown (often the same Chinese words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// Show a question only if the earlier single/multiple question `question` was answered with
/// one of `any_of` (for multiple choice: if any chosen value is among them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub question: String,
    pub any_of: Vec<String>,
}
