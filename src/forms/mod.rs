//! Questionnaires and the item-16 scheme: `survey-forms/*.toml` → [`FormSet`]; submitted
//! fields → [`Answers`] or a Chinese message per question.
//!
//! The commission (镇纪委) designs the questionnaires (seed part 二(二)2) and edits them as
//! TOML files, one per questionnaire plus the scheme that turns answers into item 16's
//! score and grade (seed item 16). Each file starts with `kind`, `id` and `version`; its
//! SHA-256 is stored with every response, so a campaign pins exactly what people answered.
//!
//! - [`parse_form`] / [`parse_scheme`] check one file, naming the line of each problem;
//! - [`load_dir`] reads a directory: exactly one recipients questionnaire, one panel
//!   questionnaire and one scheme, cross-checked (every scored option has a score …);
//! - [`check_dir`] is `minyi forms check [DIR]`: every problem, empty when all is well;
//!   [`lint`] adds warnings about how the questions ask (scale balance, two questions in
//!   one, length read aloud) that do not stop a form from loading;
//! - [`parse_answers`] checks one submission against a [`Form`]; [`Answers::score`] is one
//!   respondent's mean option score under the [`Scheme`].
//!
//! Everything here is pure except [`load_dir`] / [`check_dir`], which read the directory.

mod answers;
mod error;
mod lint;
mod model;
mod parse;
mod raw;
mod scheme;

pub use answers::{
    Answer, AnswerErrors, AnswerProblem, Answers, AnswersJsonError, clean_text, parse_answers,
};
pub use error::FormError;
pub use lint::{MAX_QUESTIONS_READ_ALOUD, Warning, lint};
pub use model::{
    Audience, Choice, Condition, DONT_KNOW, Dimension, Form, Kind, Question, RELATION_QUESTION,
    Relation, SCREENER_NO, SCREENER_QUESTION, SCREENER_YES,
};
pub use parse::{MAX_TEXT_CHARS, parse_form};
pub use scheme::{
    FormScoring, GRADE_LABELS, Method, Scheme, Uncertain, default_rate_dimensions, parse_scheme,
};

use crate::forms::raw::{FileKind, probe_kind};
use std::path::Path;

/// The three files a campaign pins: the recipients' questionnaire, the panel's, the scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct FormSet {
    pub recipients: Form,
    pub panel: Form,
    pub scheme: Scheme,
}

/// One parsed file with the name it came from.
struct Loaded<T> {
    file: String,
    value: T,
}

/// Reads every `*.toml` file directly in `dir` (sorted by name; other files and
/// subdirectories are ignored), tells questionnaires from the scheme by `kind`, and checks
/// that there is exactly one questionnaire per audience and one scheme, and that the scheme
/// fits the questionnaires. Returns every problem found, sorted by file and line.
pub fn load_dir(dir: &Path) -> Result<FormSet, Vec<FormError>> {
    let dir_name = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![FormError::new(
            &dir_name,
            None,
            format!("cannot read directory: {e}"),
        )]
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
                    paths.push(path);
                }
            }
            Err(e) => {
                return Err(vec![FormError::new(
                    &dir_name,
                    None,
                    format!("cannot read directory: {e}"),
                )]);
            }
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for path in paths {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        match std::fs::read(&path) {
            Err(e) => errors.push(FormError::new(
                &file,
                None,
                format!("cannot read file: {e}"),
            )),
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push((file, text)),
                Err(e) => errors.push(FormError::new(
                    &file,
                    None,
                    format!(
                        "not UTF-8 (invalid byte at offset {}); save the file as UTF-8",
                        e.utf8_error().valid_up_to()
                    ),
                )),
            },
        }
    }
    match load_files(&dir_name, &files) {
        Ok(set) if errors.is_empty() => Ok(set),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            error::sort_errors(&mut errors);
            Err(errors)
        }
    }
}

/// [`load_dir`] without the file system: `(file name, exact text)` pairs.
pub fn load_files(dir_name: &str, files: &[(String, String)]) -> Result<FormSet, Vec<FormError>> {
    let mut errors = Vec::new();
    let mut recipients: Vec<Loaded<Form>> = Vec::new();
    let mut panel: Vec<Loaded<Form>> = Vec::new();
    let mut schemes: Vec<Loaded<Scheme>> = Vec::new();
    for (file, text) in files {
        match probe_kind(file, text) {
            Err(e) => errors.push(e),
            Ok(FileKind::Questionnaire) => match parse_form(file, text) {
                Ok(form) => {
                    let list = match form.audience {
                        Audience::Recipients => &mut recipients,
                        Audience::Panel => &mut panel,
                    };
                    list.push(Loaded {
                        file: file.clone(),
                        value: form,
                    });
                }
                Err(e) => errors.extend(e),
            },
            Ok(FileKind::Scheme) => match parse_scheme(file, text) {
                Ok(scheme) => schemes.push(Loaded {
                    file: file.clone(),
                    value: scheme,
                }),
                Err(e) => errors.extend(e),
            },
            Ok(FileKind::Other) => errors.push(FormError::new(
                file,
                Some(1),
                "the file needs kind = \"questionnaire\" or kind = \"scheme\" at the top",
            )),
        }
    }
    let failed = !errors.is_empty();
    let recipients = exactly_one(
        &mut errors,
        dir_name,
        failed,
        recipients,
        "questionnaire with audience = \"recipients\"",
    );
    let panel = exactly_one(
        &mut errors,
        dir_name,
        failed,
        panel,
        "questionnaire with audience = \"panel\"",
    );
    let scheme = exactly_one(
        &mut errors,
        dir_name,
        failed,
        schemes,
        "scheme (kind = \"scheme\")",
    );
    if let (Some(r), Some(p), Some(s)) = (&recipients, &panel, &scheme) {
        if r.value.id == p.value.id {
            errors.push(FormError::new(
                &p.file,
                None,
                format!(
                    "questionnaire id {:?} is also used by {}; ids must differ",
                    p.value.id, r.file
                ),
            ));
        }
        errors.extend(scheme::cross_check(
            &s.file,
            &s.value,
            &[(r.file.as_str(), &r.value), (p.file.as_str(), &p.value)],
        ));
    }
    match (recipients, panel, scheme) {
        (Some(r), Some(p), Some(s)) if errors.is_empty() => Ok(FormSet {
            recipients: r.value,
            panel: p.value,
            scheme: s.value,
        }),
        _ => {
            error::sort_errors(&mut errors);
            Err(errors)
        }
    }
}

/// The single file of a sort, or an error naming what is missing or duplicated. A missing
/// file is not reported when some file already failed to parse (it may be that one).
fn exactly_one<T>(
    errors: &mut Vec<FormError>,
    dir_name: &str,
    some_failed: bool,
    mut found: Vec<Loaded<T>>,
    what: &str,
) -> Option<Loaded<T>> {
    match found.len() {
        0 => {
            if !some_failed {
                errors.push(FormError::new(dir_name, None, format!("no {what}")));
            }
            None
        }
        1 => found.pop(),
        _ => {
            let names: Vec<&str> = found.iter().map(|l| l.file.as_str()).collect();
            errors.push(FormError::new(
                dir_name,
                None,
                format!(
                    "more than one {what}: {}; keep exactly one",
                    names.join(", ")
                ),
            ));
            None
        }
    }
}

/// `minyi forms check [DIR]`: every problem across the files of `dir`, sorted by file and
/// line; empty when the directory loads.
pub fn check_dir(dir: &Path) -> Vec<FormError> {
    load_dir(dir).err().unwrap_or_default()
}

#[cfg(test)]
mod tests;

/// The questionnaire files built into the binary (the `survey-forms/` of this release),
/// used when the configured folder does not exist.
pub fn builtin() -> Result<FormSet, Vec<FormError>> {
    let files = [
        ("panel.toml", include_str!("../../survey-forms/panel.toml")),
        (
            "recipients.toml",
            include_str!("../../survey-forms/recipients.toml"),
        ),
        (
            "scheme.toml",
            include_str!("../../survey-forms/scheme.toml"),
        ),
    ]
    .map(|(name, text)| (name.to_string(), text.to_string()));
    load_files("survey-forms (built in)", &files)
}
