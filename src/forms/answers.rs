//! Answers: the submitted HTML form fields of one respondent → checked [`Answers`], or a
//! message per question; their stored JSON; and one respondent's mean option score.
//!
//! Rules: a question hidden by its `show_if` is dropped even if a value was sent;
//! a required question that is shown must be answered ("请回答这一题"); a value that is not an
//! option is refused; `dont_know` is accepted only where the question offers it; free text is
//! cleaned (control characters other than newline and bidirectional-override characters
//! removed, then trimmed) and must fit `max_chars`; fields that name no question are ignored
//! and never stored.
//!
//! ## Stored JSON
//! A compact object keyed by question id, in id order, holding only answered questions:
//! `{"attitude":"dont_know","comment":"路灯坏了","convenience":"满意","served":"yes"}`.
//! Single choice → the option value, or `"dont_know"`; multiple choice → an array of option
//! values in the form's option order; text → the string. Because a choice and a text answer
//! are both strings, reading JSON back needs the form ([`Answers::from_json`]); responses are
//! stored with their form's id, version and SHA-256, so that form is always at hand.

use crate::forms::model::{
    DONT_KNOW, Dimension, Form, Kind, Question, RELATION_QUESTION, Relation, SCREENER_NO,
    SCREENER_QUESTION,
};
use crate::forms::scheme::Scheme;
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A single-choice option value.
    Choice(String),
    /// 不了解: excluded from scores and from valid answers.
    DontKnow,
    /// Multiple-choice option values, in the form's option order, at least one.
    Choices(Vec<String>),
    /// Cleaned, non-empty free text within the question's `max_chars`.
    Text(String),
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Choice(v) | Answer::Text(v) => serializer.serialize_str(v),
            Answer::DontKnow => serializer.serialize_str(DONT_KNOW),
            Answer::Choices(vs) => {
                let mut seq = serializer.serialize_seq(Some(vs.len()))?;
                for v in vs {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

/// One respondent's checked answers, keyed by question id (only answered, shown questions).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, Answer>);

/// What is wrong with one question's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerProblem {
    /// A required, shown question without an answer.
    Missing,
    /// A value that is not an option (or `dont_know` where it is not offered).
    NotAnOption { value: String },
    /// Two different values for a single-choice question.
    MoreThanOne,
    /// More choices than `max_choices`.
    TooManyChoices { max: usize, chosen: usize },
    /// Text longer than `max_chars` (counted in characters after cleaning).
    TooLong { max: usize, chars: usize },
    /// Two different non-empty texts under one name.
    Repeated,
    /// A phone interview sent with the screener answered 没办过: the person is not a service
    /// recipient; the call is recorded as such, no answers are stored.
    NotARecipient,
}

impl AnswerProblem {
    /// The message for the person filling in the form.
    pub fn message_zh(&self) -> String {
        match self {
            AnswerProblem::Missing => "请回答这一题".to_owned(),
            AnswerProblem::NotAnOption { .. } => "所选的答案无效，请重新选择".to_owned(),
            AnswerProblem::MoreThanOne => "这一题只能选一项".to_owned(),
            AnswerProblem::TooManyChoices { max, .. } => format!("这一题最多只能选{max}项"),
            AnswerProblem::TooLong { max, chars } => {
                format!("最多只能写{max}个字，您写了{chars}个字，请删短一些")
            }
            AnswerProblem::Repeated => "这一题提交的内容有误，请重新填写".to_owned(),
            AnswerProblem::NotARecipient => "答“没办过”的不是服务对象：不要提交问卷，请回到这个样本的页面，把这次联系记为“非服务对象”".to_owned(),
        }
    }
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerProblem::Missing => f.write_str("required question not answered"),
            AnswerProblem::NotAnOption { value } => {
                // The value came from the client: cap what reaches the logs.
                let shown: String = value.chars().take(40).collect();
                write!(f, "{shown:?} is not an option")
            }
            AnswerProblem::MoreThanOne => {
                f.write_str("more than one value for a single-choice question")
            }
            AnswerProblem::TooManyChoices { max, chosen } => {
                write!(f, "{chosen} choices, at most {max} allowed")
            }
            AnswerProblem::TooLong { max, chars } => {
                write!(f, "text of {chars} characters, at most {max} allowed")
            }
            AnswerProblem::Repeated => f.write_str("more than one text for one question"),
            AnswerProblem::NotARecipient => {
                f.write_str("screened out: not a service recipient, record the call instead")
            }
        }
    }
}

/// The problems of a submission, by question id. Chinese for the person
/// ([`AnswerErrors::messages_zh`]), English for the logs (`Display`).
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct AnswerErrors {
    problems: BTreeMap<String, AnswerProblem>,
}

impl AnswerErrors {
    /// A phone interview whose screener says the person is not a service recipient: not
    /// to be stored as answers ([`Answers::screened_out`]).
    pub fn not_a_recipient() -> AnswerErrors {
        AnswerErrors {
            problems: BTreeMap::from([(
                SCREENER_QUESTION.to_owned(),
                AnswerProblem::NotARecipient,
            )]),
        }
    }

    /// The problem of each question, by id.
    pub fn problems(&self) -> &BTreeMap<String, AnswerProblem> {
        &self.problems
    }

    /// The Chinese message for one question, if it has a problem.
    pub fn message_zh(&self, question: &str) -> Option<String> {
        self.problems.get(question).map(AnswerProblem::message_zh)
    }

    /// Question id → Chinese message, to show beside each question.
    pub fn messages_zh(&self) -> BTreeMap<String, String> {
        self.problems
            .iter()
            .map(|(id, p)| (id.clone(), p.message_zh()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.problems.len()
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} invalid answer(s)", self.problems.len())?;
        for (i, (id, problem)) in self.problems.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{id}: {problem}")?;
        }
        Ok(())
    }
}

/// Checks one submission. `fields` are the HTML form fields in the order sent (name =
/// question id; a multiple-choice question repeats its name; a single choice sends
/// `dont_know` for 不了解). Empty values count as not answered.
pub fn parse_answers(form: &Form, fields: &[(String, String)]) -> Result<Answers, AnswerErrors> {
    let mut sent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in fields {
        // Fields that name no question (a CSRF token, a button, junk) are never stored.
        if form.question(name).is_some() && !value.is_empty() {
            sent.entry(name.as_str()).or_default().push(value.as_str());
        }
    }

    let mut answers = Answers::default();
    let mut errors = AnswerErrors::default();
    for q in &form.questions {
        if !answers.is_shown(q) {
            continue;
        }
        let values = sent
            .get(q.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        match check_one(q, values) {
            Ok(Some(answer)) => {
                answers.0.insert(q.id.clone(), answer);
            }
            Ok(None) if q.required => {
                errors.problems.insert(q.id.clone(), AnswerProblem::Missing);
            }
            Ok(None) => {}
            Err(problem) => {
                errors.problems.insert(q.id.clone(), problem);
            }
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

/// One question's answer from its non-empty sent values; `Ok(None)` = not answered.
fn check_one(q: &Question, values: &[&str]) -> Result<Option<Answer>, AnswerProblem> {
    match &q.kind {
        Kind::Single { options, dont_know } => {
            let distinct: BTreeSet<&str> = values.iter().copied().collect();
            let mut iter = distinct.into_iter();
            let (Some(value), rest) = (iter.next(), iter.next()) else {
                return Ok(None);
            };
            if rest.is_some() {
                return Err(AnswerProblem::MoreThanOne);
            }
            if value == DONT_KNOW && dont_know.is_some() {
                Ok(Some(Answer::DontKnow))
            } else if options.iter().any(|c| c.value == value) {
                Ok(Some(Answer::Choice(value.to_owned())))
            } else {
                Err(AnswerProblem::NotAnOption {
                    value: value.to_owned(),
                })
            }
        }
        Kind::Multiple {
            options,
            max_choices,
        } => {
            let chosen: BTreeSet<&str> = values.iter().copied().collect();
            if let Some(bad) = chosen
                .iter()
                .find(|v| !options.iter().any(|c| c.value == **v))
            {
                return Err(AnswerProblem::NotAnOption {
                    value: (*bad).to_owned(),
                });
            }
            if chosen.is_empty() {
                return Ok(None);
            }
            if let Some(max) = *max_choices
                && chosen.len() > max
            {
                return Err(AnswerProblem::TooManyChoices {
                    max,
                    chosen: chosen.len(),
                });
            }
            // Stored in the form's option order, whatever order the browser sent.
            let ordered = options
                .iter()
                .filter(|c| chosen.contains(c.value.as_str()))
                .map(|c| c.value.clone())
                .collect();
            Ok(Some(Answer::Choices(ordered)))
        }
        Kind::Text { max_chars } => {
            let texts: BTreeSet<String> = values
                .iter()
                .map(|v| clean_text(v))
                .filter(|t| !t.is_empty())
                .collect();
            let mut iter = texts.into_iter();
            let (Some(text), rest) = (iter.next(), iter.next()) else {
                return Ok(None);
            };
            if rest.is_some() {
                return Err(AnswerProblem::Repeated);
            }
            let chars = text.chars().count();
            if chars > *max_chars {
                return Err(AnswerProblem::TooLong {
                    max: *max_chars,
                    chars,
                });
            }
            Ok(Some(Answer::Text(text)))
        }
    }
}

/// Removes control characters other than newline (so `\r\n` becomes `\n`) and the
/// bidirectional embedding/override/isolate characters (which can disguise a comment in a
/// download), then trims.
pub fn clean_text(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .filter(|&c| {
            c == '\n'
                || !(c.is_control()
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        })
        .collect();
    kept.trim().to_owned()
}

/// Why stored JSON does not fit the form it is read with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored answers do not fit form {form} version {version}: {message}")]
pub struct AnswersJsonError {
    pub form: String,
    pub version: String,
    pub message: String,
}

impl Answers {
    /// The answer to a question.
    pub fn get(&self, question: &str) -> Option<&Answer> {
        self.0.get(question)
    }

    /// All answers by question id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Answer)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of questions answered (don't-know included).
    pub fn answered_count(&self) -> usize {
        self.0.len()
    }

    /// Whether a question is shown given the answers so far: no condition, or the condition's
    /// question was answered with one of its values (for multiple choice: any of them).
    /// A hidden question's answer is never stored, so hiding cascades down a chain.
    pub fn is_shown(&self, q: &Question) -> bool {
        let Some(cond) = &q.show_if else { return true };
        let hit = |v: &str| cond.any_of.iter().any(|x| x == v);
        match self.0.get(&cond.question) {
            Some(Answer::Choice(v)) => hit(v),
            Some(Answer::DontKnow) => hit(DONT_KNOW),
            Some(Answer::Choices(vs)) => vs.iter().any(|v| hit(v)),
            Some(Answer::Text(_)) | None => false,
        }
    }

    /// The compact JSON object described in the module docs.
    pub fn to_json(&self) -> String {
        // Serialising strings, arrays and a string-keyed map cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads stored JSON back with the form it was answered on, checking every key and value
    /// against it (a mismatch means the wrong form version was used to read it).
    pub fn from_json(form: &Form, json: &str) -> Result<Answers, AnswersJsonError> {
        let fail = |message: String| AnswersJsonError {
            form: form.id.clone(),
            version: form.version.clone(),
            message,
        };
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| fail(format!("not a JSON object: {e}")))?;
        let mut answers = Answers::default();
        for (id, value) in map {
            let q = form
                .question(&id)
                .ok_or_else(|| fail(format!("no question {id:?}")))?;
            let bad = |what: &str| fail(format!("question {id}: {what}"));
            let answer = match (&q.kind, value) {
                (Kind::Single { dont_know, .. }, serde_json::Value::String(v)) => {
                    if v == DONT_KNOW && dont_know.is_some() {
                        Answer::DontKnow
                    } else if v != DONT_KNOW && q.accepts_value(&v) {
                        Answer::Choice(v)
                    } else {
                        return Err(bad(&format!("{v:?} is not an option")));
                    }
                }
                (Kind::Multiple { .. }, serde_json::Value::Array(items)) => {
                    let mut values = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            serde_json::Value::String(v) if q.accepts_value(&v) => values.push(v),
                            other => return Err(bad(&format!("{other} is not an option"))),
                        }
                    }
                    if values.is_empty() {
                        return Err(bad("empty list of choices"));
                    }
                    Answer::Choices(values)
                }
                (Kind::Text { max_chars }, serde_json::Value::String(v)) => {
                    if v.is_empty() || v.chars().count() > *max_chars {
                        return Err(bad("text empty or longer than max_chars"));
                    }
                    Answer::Text(v)
                }
                (_, other) => {
                    return Err(bad(&format!("{other} does not fit the question's type")));
                }
            };
            answers.0.insert(id, answer);
        }
        Ok(answers)
    }

    /// Whether the screener was answered 没办过 (the person is not a service recipient).
    pub fn screened_out(&self) -> bool {
        matches!(self.0.get(SCREENER_QUESTION), Some(Answer::Choice(v)) if v == SCREENER_NO)
    }

    /// The rater's relation to the village, where the form asks it (panel forms).
    pub fn relation(&self) -> Option<Relation> {
        match self.0.get(RELATION_QUESTION) {
            Some(Answer::Choice(v)) => Relation::from_key(v),
            _ => None,
        }
    }

    /// One respondent's score: the mean option score over the form's scored questions
    /// answered with a scored option (don't-know, unscored and unanswered questions are left
    /// out). `None` where nothing scored, or the scheme has no scoring for this form.
    pub fn score(&self, form: &Form, scheme: &Scheme) -> Option<f64> {
        let (sum, n) = self
            .scored(form, scheme)
            .fold((0.0, 0u32), |(s, n), (_, v)| (s + v, n + 1));
        (n > 0).then(|| sum / f64::from(n))
    }

    /// The same mean, per dimension (only dimensions with at least one scored answer).
    pub fn score_by_dimension(&self, form: &Form, scheme: &Scheme) -> BTreeMap<Dimension, f64> {
        let mut acc: BTreeMap<Dimension, (f64, u32)> = BTreeMap::new();
        for (dim, v) in self.scored(form, scheme) {
            let e = acc.entry(dim).or_insert((0.0, 0));
            e.0 += v;
            e.1 += 1;
        }
        acc.into_iter()
            .map(|(d, (s, n))| (d, s / f64::from(n)))
            .collect()
    }

    fn scored<'a>(
        &'a self,
        form: &'a Form,
        scheme: &'a Scheme,
    ) -> impl Iterator<Item = (Dimension, f64)> + 'a {
        let scoring = scheme.scoring(&form.id);
        form.scored_questions().filter_map(move |q| {
            let dim = q.dimension?;
            match self.0.get(&q.id) {
                Some(Answer::Choice(v)) => scoring?.score(v).map(|s| (dim, s)),
                _ => None,
            }
        })
    }
}
