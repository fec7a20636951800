//! Warnings about how a questionnaire asks, not whether it is valid: a file with warnings
//! still loads and can be used, but the survey it runs measures less well. `minyi forms
//! check` prints them after a successful check.
//!
//! - An unbalanced scale (more favourable than unfavourable options, as in
//!   满意/比较满意/一般/不满意) pulls answers towards the side with more options.
//! - A question with two question marks asks two things; an answer cannot say to which.
//! - More than [`MAX_QUESTIONS_READ_ALOUD`] closed (single or multiple choice) questions on
//!   the recipients' form take longer than the three minutes a phone interview promises
//!   when read aloud. Free-text questions are not counted: an optional comment at the end is
//!   one open prompt, not a list of options read out.

use super::{Audience, Form, FormSet, Kind, Scheme};
use std::fmt;

/// How many closed (single or multiple choice) questions of the recipients' form fit in
/// about three minutes read aloud; free-text questions are not counted.
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
    let closed = form
        .questions
        .iter()
        .filter(|q| !matches!(q.kind, Kind::Text { .. }))
        .count();
    if form.audience == Audience::Recipients && closed > MAX_QUESTIONS_READ_ALOUD {
        out.push(warn(
            None,
            format!(
                "{closed} closed (single or multiple choice) questions; more than \
                 {MAX_QUESTIONS_READ_ALOUD} take longer than about 3 minutes read aloud (free-text \
                 questions are not counted)"
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
    fn the_shipped_forms_have_no_warning() {
        let set = crate::forms::builtin().unwrap();
        assert_eq!(lint(&set), Vec::new());
        // They are at the limits the lint checks, not far under them.
        let closed = set
            .recipients
            .questions
            .iter()
            .filter(|q| !matches!(q.kind, Kind::Text { .. }))
            .count();
        assert_eq!(closed, MAX_QUESTIONS_READ_ALOUD);
    }

    /// A small questionnaire set: the scheme's scores for `options`, one recipients'
    /// question per entry of `questions` (id, type, text), the panel with one question.
    fn small_set(scores: &str, options: &str, questions: &[(&str, &str, &str)]) -> FormSet {
        let mut recipients = String::from(
            "kind = \"questionnaire\"\nid = \"r\"\nversion = \"1\"\naudience = \"recipients\"\ntitle = \"t\"\n",
        );
        for (id, kind, text) in questions {
            recipients.push_str(&format!(
                "[[question]]\nid = \"{id}\"\ntype = \"{kind}\"\ntext = \"{text}\"\n"
            ));
            match *kind {
                "text" => recipients.push_str("max_chars = 100\n"),
                "single" => recipients.push_str(&format!(
                    "dimension = \"service\"\noptions = [{options}]\ndont_know = \"说不清\"\n"
                )),
                _ => recipients.push_str(&format!("options = [{options}]\n")),
            }
        }
        let panel = format!(
            "kind = \"questionnaire\"\nid = \"p\"\nversion = \"1\"\naudience = \"panel\"\ntitle = \"t\"\n\
             [[question]]\nid = \"overall\"\ntype = \"single\"\ndimension = \"overall\"\ntext = \"总体怎么样？\"\n\
             options = [{options}]\n"
        );
        let scheme = format!(
            "kind = \"scheme\"\nid = \"s\"\nversion = \"1\"\nmin_respondents = 10\nk = 5\n\
             [weights]\nrecipients = 0.7\npanel = 0.3\n\
             [[grade]]\nlabel = \"好\"\nmin = 90\n[[grade]]\nlabel = \"较好\"\nmin = 75\n\
             [[grade]]\nlabel = \"一般\"\nmin = 60\n[[grade]]\nlabel = \"差\"\nmin = 0\n\
             [forms.r]\nscores = {{ {scores} }}\nsatisfied = [\"a\"]\n\
             [forms.p]\nscores = {{ {scores} }}\nsatisfied = [\"a\"]\n"
        );
        let files = [
            ("p.toml", panel),
            ("r.toml", recipients),
            ("s.toml", scheme),
        ]
        .map(|(n, t)| (n.to_string(), t));
        crate::forms::load_files("t", &files).unwrap_or_else(|e| panic!("{e:?}"))
    }

    const BALANCED: (&str, &str) = (
        "\"a\" = 100, \"b\" = 75, \"c\" = 25, \"d\" = 0",
        "\"a\", \"b\", \"c\", \"d\"",
    );

    #[test]
    fn an_unbalanced_scale_is_warned_about_and_a_balanced_one_is_not() {
        let (scores, options) = BALANCED;
        assert_eq!(
            lint(&small_set(scores, options, &[("q", "single", "满意吗？")])),
            []
        );
        // 满意 100, 比较满意 80, 一般 60, 不满意 0: three above the middle, one below.
        let unbalanced = "\"a\" = 100, \"b\" = 80, \"c\" = 60, \"d\" = 0";
        let w = lint(&small_set(
            unbalanced,
            options,
            &[("q", "single", "满意吗？")],
        ));
        let messages: Vec<String> = w.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "warning: r: question q: unbalanced scale: 3 option(s) above its middle, 1 below; \
                 a balanced scale has as many favourable as unfavourable options",
                "warning: p: question overall: unbalanced scale: 3 option(s) above its middle, 1 \
                 below; a balanced scale has as many favourable as unfavourable options",
            ]
        );
    }

    #[test]
    fn more_than_eight_closed_questions_are_warned_about_but_a_comment_box_is_not_counted() {
        let (scores, options) = BALANCED;
        let ids = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"];
        let mut questions: Vec<(&str, &str, &str)> = ids[..8]
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    *id,
                    if i % 2 == 0 { "single" } else { "multiple" },
                    "怎么样？",
                )
            })
            .collect();
        questions.push(("comment", "text", "还有什么意见？"));
        questions.push(("comment2", "text", "还有什么建议？"));
        assert_eq!(lint(&small_set(scores, options, &questions)), []);
        questions.insert(8, ("q9", "multiple", "怎么样？"));
        let w = lint(&small_set(scores, options, &questions));
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].question, None);
        assert_eq!(
            w[0].to_string(),
            "warning: r: 9 closed (single or multiple choice) questions; more than 8 take \
             longer than about 3 minutes read aloud (free-text questions are not counted)"
        );
    }

    #[test]
    fn a_balanced_single_question_form_has_no_warning() {
        let mut set = crate::forms::builtin().unwrap();
        set.recipients.questions.truncate(1);
        set.panel.questions.clear();
        set.recipients.questions[0].text = "您对村干部办事满意吗？".into();
        set.recipients.questions[0].dimension = None;
        assert_eq!(lint(&set), Vec::new());
        set.recipients.questions[0].text = "有没有人要好处？您满意吗？".into();
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
