//! Warnings about how a questionnaire asks, not whether it is valid: a file with warnings
//! still loads and can be used, but the survey it runs measures less well. `minyi forms
//! check` prints them after a successful check.
//!
//! - An unbalanced scale (more favourable than unfavourable options, as in
//!   满意/比较满意/一般/不满意) pulls answers towards the side with more options.
//! - A question with two question marks asks two things; an answer cannot say to which.
//! - More than [`MAX_QUESTIONS_READ_ALOUD`] questions on the recipients' form take longer
//!   than the three minutes a phone interview promises when read aloud.

use super::{Audience, Form, FormSet, Kind, Scheme};
use std::fmt;

/// How many questions of the recipients' form fit in about three minutes read aloud.
pub const MAX_QUESTIONS_READ_ALOUD: usize = 8;

/// One warning about a questionnaire; `question` is `None` for the form as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub form: String,
    pub question: Option<String>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.question {
            Some(q) => write!(f, "warning: {}: question {q}: {}", self.form, self.message),
            None => write!(f, "warning: {}: {}", self.form, self.message),
        }
    }
}

/// The warnings about both questionnaires of a set, in the order of their questions.
pub fn lint(set: &FormSet) -> Vec<Warning> {
    let mut out = lint_form(&set.recipients, &set.scheme);
    out.extend(lint_form(&set.panel, &set.scheme));
    out
}

fn lint_form(form: &Form, scheme: &Scheme) -> Vec<Warning> {
    let warn = |question: Option<&str>, message: String| Warning {
        form: form.id.clone(),
        question: question.map(str::to_string),
        message,
    };
    let mut out = Vec::new();
    if form.audience == Audience::Recipients && form.questions.len() > MAX_QUESTIONS_READ_ALOUD {
        out.push(warn(
            None,
            format!(
                "{} questions; more than {MAX_QUESTIONS_READ_ALOUD} take longer than about 3 \
                 minutes read aloud",
                form.questions.len()
            ),
        ));
    }
    let scoring = scheme.forms.get(&form.id);
    for q in &form.questions {
        let marks = q.text.chars().filter(|c| matches!(c, '？' | '?')).count();
        if marks > 1 {
            out.push(warn(
                Some(&q.id),
                format!(
                    "{marks} question marks: it asks more than one thing; ask one per question"
                ),
            ));
        }
        let (Some(scoring), Kind::Single { options, .. }) = (scoring, &q.kind) else {
            continue;
        };
        if q.dimension.is_none() {
            continue;
        }
        let scores: Vec<f64> = options
            .iter()
            .filter_map(|o| scoring.score(&o.value))
            .collect();
        if let Some((above, below)) = balance(&scores)
            && above != below
        {
            out.push(warn(
                Some(&q.id),
                format!(
                    "unbalanced scale: {above} option(s) above its middle, {below} below; a \
                     balanced scale has as many favourable as unfavourable options"
                ),
            ));
        }
    }
    out
}

/// How many scores lie above and below the middle of their range; `None` with fewer than
/// two distinct scores.
fn balance(scores: &[f64]) -> Option<(usize, usize)> {
    let lo = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let middle = (lo + hi) / 2.0;
    let above = scores.iter().filter(|&&s| s > middle).count();
    let below = scores.iter().filter(|&&s| s < middle).count();
    Some((above, below))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_counts_each_side_of_the_middle() {
        // 满意 100, 比较满意 80, 一般 60, 不满意 0: the middle is 50, three above, one below.
        assert_eq!(balance(&[100.0, 80.0, 60.0, 0.0]), Some((3, 1)));
        // 满意/比较满意/不太满意/很不满意: two each side.
        assert_eq!(balance(&[100.0, 75.0, 25.0, 0.0]), Some((2, 2)));
        // A middle option sits on the line and counts on neither side.
        assert_eq!(balance(&[100.0, 50.0, 0.0]), Some((1, 1)));
        assert_eq!(balance(&[70.0, 70.0]), None);
        assert_eq!(balance(&[]), None);
    }

    #[test]
    fn the_shipped_forms_are_warned_about_their_scale_and_double_questions() {
        let set = crate::forms::builtin().unwrap();
        let warnings = lint(&set);
        let scale = warnings
            .iter()
            .filter(|w| w.message.starts_with("unbalanced scale"))
            .count();
        let double = warnings
            .iter()
            .filter(|w| w.message.contains("question marks"))
            .count();
        // Every warning names a question the form has.
        for w in &warnings {
            let form = if w.form == set.recipients.id {
                &set.recipients
            } else {
                &set.panel
            };
            if let Some(q) = &w.question {
                assert!(form.question(q).is_some(), "{w}");
            }
        }
        // The shipped recipients' scale 满意/比较满意/一般/不满意 is unbalanced.
        assert!(scale > 0, "{warnings:?}");
        let twice: usize = [&set.recipients, &set.panel]
            .iter()
            .flat_map(|f| &f.questions)
            .filter(|q| q.text.chars().filter(|c| matches!(c, '？' | '?')).count() > 1)
            .count();
        assert_eq!(double, twice);
    }

    #[test]
    fn a_balanced_single_question_form_has_no_warning() {
        let mut set = crate::forms::builtin().unwrap();
        set.recipients.questions.truncate(1);
        set.panel.questions.clear();
        set.recipients.questions[0].text = "您对村干部办事满意吗？".into();
        set.recipients.questions[0].dimension = None;
        assert_eq!(lint(&set), Vec::new());
        set.recipients.questions[0].text = "有没有人吃拿卡要？您满意吗？".into();
        let w = lint(&set);
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0].to_string(),
            format!(
                "warning: recipients: question {}: 2 question marks: it asks more than one \
                 thing; ask one per question",
                set.recipients.questions[0].id
            )
        );
    }
}
