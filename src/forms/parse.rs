//! `parse_form`: a questionnaire file (TOML) → a checked [`Form`], or every problem found,
//! each with its line. Shape errors (syntax, unknown or missing keys, wrong types) come
//! from `toml` and stop the parse at the first one; every rule after that is checked in
//! full, so a clerk sees all remaining problems of a file at once.

use crate::forms::error::FormError;
use crate::forms::model::{
    Audience, Choice, Condition, DONT_KNOW, Dimension, Form, Kind, Question, RELATION_QUESTION,
    Relation, SCREENER_NO, SCREENER_QUESTION, SCREENER_YES,
};
use crate::forms::raw::{Errors, parse_text, sha256_hex};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use toml::Spanned;

/// Longest free-text answer a form may allow (a comment box, not an essay).
pub const MAX_TEXT_CHARS: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    kind: Spanned<String>,
    id: Spanned<String>,
    version: Spanned<String>,
    audience: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    intro: Option<Spanned<String>>,
    #[serde(default, rename = "question")]
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    text: Spanned<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    dimension: Option<Spanned<String>>,
    #[serde(default)]
    options: Option<Spanned<Vec<Spanned<RawChoice>>>>,
    #[serde(default)]
    dont_know: Option<Spanned<String>>,
    #[serde(default)]
    max_choices: Option<Spanned<i64>>,
    #[serde(default)]
    max_chars: Option<Spanned<i64>>,
    #[serde(default)]
    show_if: Option<Spanned<RawCondition>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    question: Spanned<String>,
    any_of: Spanned<Vec<Spanned<String>>>,
}

/// An option: either `"满意"` (value and label alike) or `{ value = "a", label = "…" }`.
struct RawChoice {
    value: String,
    label: Option<String>,
}

impl<'de> Deserialize<'de> for RawChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = RawChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an option: a string, or a table { value = \"…\", label = \"…\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawChoice, E> {
                Ok(RawChoice {
                    value: v.to_owned(),
                    label: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawChoice, A::Error> {
                let mut value = None;
                let mut label = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" if value.is_none() => value = Some(map.next_value::<String>()?),
                        "label" if label.is_none() => label = Some(map.next_value::<String>()?),
                        "value" | "label" => {
                            return Err(de::Error::custom(format!("duplicate field `{key}`")));
                        }
                        other => return Err(de::Error::unknown_field(other, &["value", "label"])),
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
                Ok(RawChoice { value, label })
            }
        }
        deserializer.deserialize_any(ChoiceVisitor)
    }
}

/// Parses and checks one questionnaire file. `file_name` only labels the errors; `source`
/// is the file's exact text (a leading byte-order mark is allowed and kept in `source`).
pub fn parse_form(file_name: &str, source: &str) -> Result<Form, Vec<FormError>> {
    let text = parse_text(source);
    let raw: RawForm =
        toml::from_str(text).map_err(|e| vec![FormError::from_toml(file_name, text, &e)])?;
    let mut errs = Errors::new(file_name, text);
    errs.header("questionnaire", &raw.kind, &raw.id, &raw.version);

    let audience = match raw.audience.get_ref().as_str() {
        "recipients" => Some(Audience::Recipients),
        "panel" => Some(Audience::Panel),
        other => {
            errs.at_spanned(
                &raw.audience,
                format!("audience is {other:?}, expected \"recipients\" or \"panel\""),
            );
            None
        }
    };
    if raw.title.get_ref().trim().is_empty() {
        errs.at_spanned(&raw.title, "title is empty");
    }
    if raw.questions.is_empty() {
        errs.nowhere("the questionnaire has no [[question]]");
    }

    // Where each id is first defined, to report duplicates and conditions that look ahead.
    let mut first_at: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (index, q) in raw.questions.iter().enumerate() {
        let id = q.get_ref().id.get_ref().as_str();
        let line = errs.line(&q.get_ref().id.span());
        match first_at.get(id) {
            Some(&(_, first_line)) => errs.at_spanned(
                &q.get_ref().id,
                format!("question id {id:?} appears twice (first at line {first_line})"),
            ),
            None => {
                first_at.insert(id, (index, line));
            }
        }
    }

    let mut questions: Vec<Question> = Vec::with_capacity(raw.questions.len());
    for (index, spanned) in raw.questions.iter().enumerate() {
        let header_line = errs.line(&spanned.span());
        if let Some(q) = check_question(&mut errs, spanned.get_ref(), index, &first_at, &questions)
        {
            if audience == Some(Audience::Panel) && q.id == RELATION_QUESTION {
                check_relation(&mut errs, spanned, &q);
            }
            if audience == Some(Audience::Recipients) && q.id == SCREENER_QUESTION {
                check_screener(&mut errs, spanned, &q, index);
            }
            questions.push(Question {
                line: Some(header_line),
                ..q
            });
        }
    }

    let form = Form {
        id: raw.id.into_inner(),
        version: raw.version.into_inner(),
        title: raw.title.into_inner().trim().to_owned(),
        intro: raw
            .intro
            .map(|s| s.into_inner().trim().to_owned())
            .unwrap_or_default(),
        audience: audience.unwrap_or(Audience::Recipients),
        questions,
        sha256: sha256_hex(source.as_bytes()),
        source: source.to_owned(),
    };
    errs.finish(form)
}

/// The panel's relation question decides recusal (docs/results.md, 2.5), so a typo in it
/// must not silently turn recusal off: single choice, unscored, always asked, its option
/// values among the [`Relation`] keys and both recusing ones present.
fn check_relation(errs: &mut Errors<'_>, at: &Spanned<RawQuestion>, q: &Question) {
    let keys: Vec<&str> = Relation::ALL.iter().map(|r| r.key()).collect();
    let fits = matches!(q.kind, Kind::Single { .. })
        && q.dimension.is_none()
        && q.show_if.is_none()
        && q.required
        && q.option_values().all(|v| Relation::from_key(v).is_some())
        && Relation::ALL
            .iter()
            .filter(|r| r.recuses())
            .all(|r| q.option_values().any(|v| v == r.key()));
    if !fits {
        errs.at_spanned(
            at,
            format!(
                "question {RELATION_QUESTION}: the panel's relation question must be a required single-choice question without dimension or show_if, with option values among {} (resident and official required)",
                keys.join(", ")
            ),
        );
    }
}

/// The recipients' screener decides who is asked the scored questions and, on the phone,
/// when an interview ends as "not a service recipient", so its shape is fixed: the first
/// question, required single choice without dimension, dont_know or show_if, options `yes`
/// and `no`.
fn check_screener(errs: &mut Errors<'_>, at: &Spanned<RawQuestion>, q: &Question, index: usize) {
    let values: Vec<&str> = q.option_values().collect();
    let fits = index == 0
        && matches!(
            q.kind,
            Kind::Single {
                dont_know: None,
                ..
            }
        )
        && q.dimension.is_none()
        && q.show_if.is_none()
        && q.required
        && values == [SCREENER_YES, SCREENER_NO];
    if !fits {
        errs.at_spanned(
            at,
            format!(
                "question {SCREENER_QUESTION}: the screener must be the first question, a required single-choice question without dimension, dont_know or show_if, with option values {SCREENER_YES} and {SCREENER_NO} in that order"
            ),
        );
    }
}

/// Checks one question; `None` where it is too broken to keep (its errors are recorded).
/// `earlier` holds the questions before it that passed, for `show_if`.
fn check_question(
    errs: &mut Errors<'_>,
    q: &RawQuestion,
    index: usize,
    first_at: &BTreeMap<&str, (usize, usize)>,
    earlier: &[Question],
) -> Option<Question> {
    let id = q.id.get_ref().clone();
    let before = errs.list.len();
    let who = format!("question {id}");
    if !crate::forms::raw::is_id(&id) {
        errs.at_spanned(
            &q.id,
            format!("question id {id:?} must be 1 to 64 characters of a-z, 0-9 and _"),
        );
    }
    if q.text.get_ref().trim().is_empty() {
        errs.at_spanned(&q.text, format!("{who}: text is empty"));
    }

    let type_name = q.kind.get_ref().as_str();
    let forbid = |errs: &mut Errors<'_>, present: Option<std::ops::Range<usize>>, key: &str| {
        if let Some(span) = present {
            errs.at(
                &span,
                format!("{who}: `{key}` is not allowed on a {type_name} question"),
            );
        }
    };
    let kind = match type_name {
        "single" => {
            forbid(
                errs,
                q.max_choices.as_ref().map(|s| s.span()),
                "max_choices",
            );
            forbid(errs, q.max_chars.as_ref().map(|s| s.span()), "max_chars");
            let options = check_options(errs, &who, q);
            let dont_know = q.dont_know.as_ref().map(|label| {
                if label.get_ref().trim().is_empty() {
                    errs.at_spanned(label, format!("{who}: dont_know label is empty"));
                }
                label.get_ref().trim().to_owned()
            });
            Kind::Single { options, dont_know }
        }
        "multiple" => {
            forbid(errs, q.dont_know.as_ref().map(|s| s.span()), "dont_know");
            forbid(errs, q.max_chars.as_ref().map(|s| s.span()), "max_chars");
            let options = check_options(errs, &who, q);
            let max_choices = q.max_choices.as_ref().and_then(|m| {
                let n = *m.get_ref();
                if n < 1 || usize::try_from(n).map_or(true, |n| n > options.len()) {
                    errs.at_spanned(
                        m,
                        format!(
                            "{who}: max_choices is {n}, must be between 1 and the number of options ({})",
                            options.len()
                        ),
                    );
                    None
                } else {
                    usize::try_from(n).ok()
                }
            });
            Kind::Multiple {
                options,
                max_choices,
            }
        }
        "text" => {
            forbid(errs, q.options.as_ref().map(|s| s.span()), "options");
            forbid(errs, q.dont_know.as_ref().map(|s| s.span()), "dont_know");
            forbid(
                errs,
                q.max_choices.as_ref().map(|s| s.span()),
                "max_choices",
            );
            let max_chars = match &q.max_chars {
                None => {
                    errs.at_spanned(
                        &q.kind,
                        format!("{who}: a text question needs max_chars (1 to {MAX_TEXT_CHARS})"),
                    );
                    0
                }
                Some(m) => {
                    let n = *m.get_ref();
                    match usize::try_from(n) {
                        Ok(n) if (1..=MAX_TEXT_CHARS).contains(&n) => n,
                        _ => {
                            errs.at_spanned(
                                m,
                                format!("{who}: max_chars is {n}, must be between 1 and {MAX_TEXT_CHARS}"),
                            );
                            0
                        }
                    }
                }
            };
            Kind::Text { max_chars }
        }
        other => {
            errs.at_spanned(
                &q.kind,
                format!("{who}: type is {other:?}, expected \"single\", \"multiple\" or \"text\""),
            );
            return None;
        }
    };

    let dimension = q.dimension.as_ref().and_then(|d| match Dimension::from_key(d.get_ref()) {
        None => {
            errs.at_spanned(
                d,
                format!(
                    "{who}: dimension {:?} is unknown; expected service, style, integrity, overall, conduct, openness, reputation, petitions or area1 to area5",
                    d.get_ref()
                ),
            );
            None
        }
        Some(_) if !matches!(kind, Kind::Single { .. }) => {
            errs.at_spanned(
                d,
                format!("{who}: only single-choice questions are scored, so a {type_name} question has no dimension"),
            );
            None
        }
        Some(dim) => Some(dim),
    });

    let show_if = q
        .show_if
        .as_ref()
        .and_then(|c| check_condition(errs, &who, c.get_ref(), index, first_at, earlier));

    if errs.list.len() > before {
        return None;
    }
    Some(Question {
        id,
        text: q.text.get_ref().trim().to_owned(),
        kind,
        required: q.required,
        dimension,
        show_if,
        line: None,
    })
}

fn check_options(errs: &mut Errors<'_>, who: &str, q: &RawQuestion) -> Vec<Choice> {
    let Some(options) = &q.options else {
        errs.at_spanned(&q.kind, format!("{who}: a choice question needs options"));
        return Vec::new();
    };
    if options.get_ref().is_empty() {
        errs.at_spanned(options, format!("{who}: options is empty"));
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(options.get_ref().len());
    for option in options.get_ref() {
        let raw = option.get_ref();
        let value = raw.value.as_str();
        if value.trim().is_empty() {
            errs.at_spanned(option, format!("{who}: an option value is empty"));
            continue;
        }
        if value.trim() != value || value.chars().any(char::is_control) {
            errs.at_spanned(
                option,
                format!("{who}: option value {value:?} has leading/trailing spaces or control characters"),
            );
        }
        if value == DONT_KNOW {
            errs.at_spanned(
                option,
                format!("{who}: option value \"{DONT_KNOW}\" is reserved; use `dont_know = \"不了解\"` instead"),
            );
        }
        if !seen.insert(value) {
            errs.at_spanned(
                option,
                format!("{who}: option value {value:?} appears twice"),
            );
        }
        let label = raw.label.as_deref().map(str::trim).unwrap_or(value);
        if label.is_empty() {
            errs.at_spanned(
                option,
                format!("{who}: option {value:?} has an empty label"),
            );
        }
        out.push(Choice {
            value: value.to_owned(),
            label: label.to_owned(),
        });
    }
    out
}

fn check_condition(
    errs: &mut Errors<'_>,
    who: &str,
    c: &RawCondition,
    index: usize,
    first_at: &BTreeMap<&str, (usize, usize)>,
    earlier: &[Question],
) -> Option<Condition> {
    let target = c.question.get_ref().as_str();
    match first_at.get(target) {
        None => {
            errs.at_spanned(
                &c.question,
                format!("{who}: show_if names unknown question {target:?}"),
            );
            return None;
        }
        Some(&(at, line)) if at >= index => {
            let place = if at == index {
                "itself".to_owned()
            } else {
                format!("a later question (line {line})")
            };
            errs.at_spanned(
                &c.question,
                format!("{who}: show_if names {target:?}, which is {place}; a condition may only refer to an earlier question"),
            );
            return None;
        }
        Some(_) => {}
    }
    // The earlier question had errors of its own (already reported).
    let referenced = earlier.iter().find(|q| q.id == target)?;
    if matches!(referenced.kind, Kind::Text { .. }) {
        errs.at_spanned(
            &c.question,
            format!("{who}: show_if names {target:?}, a text question; conditions need a single or multiple choice question"),
        );
        return None;
    }
    if c.any_of.get_ref().is_empty() {
        errs.at_spanned(&c.any_of, format!("{who}: show_if.any_of is empty"));
        return None;
    }
    let mut ok = true;
    for value in c.any_of.get_ref() {
        if !referenced.accepts_value(value.get_ref()) {
            ok = false;
            let allowed: Vec<&str> = referenced.option_values().collect();
            errs.at_spanned(
                value,
                format!(
                    "{who}: show_if value {:?} is not an option of question {target} (options: {})",
                    value.get_ref(),
                    allowed.join(", ")
                ),
            );
        }
    }
    ok.then(|| Condition {
        question: target.to_owned(),
        any_of: c
            .any_of
            .get_ref()
            .iter()
            .map(|v| v.get_ref().clone())
            .collect(),
    })
}
