//! `FormError`: one problem in a survey-forms file, with the file name and the 1-based line
//! where it sits, so `minyi forms check` can print `recipients.toml:12: …` like a compiler.

use std::fmt;
use std::ops::Range;

/// One problem found in a survey-forms file (or in the directory as a whole).
///
/// Displayed as `file:line: message`, or `file: message` where no single line is to blame
/// (a file that cannot be read, a questionnaire missing from the directory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FormError {
    /// The file name as given to the parser (`recipients.toml`), or the directory.
    pub file: String,
    /// 1-based line of the offending item, where there is one.
    pub line: Option<usize>,
    /// Precise English for the commission clerk and the logs.
    pub message: String,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl FormError {
    pub(crate) fn new(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        FormError {
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }

    /// A `toml` syntax or shape error, placed on the line its span starts at.
    pub(crate) fn from_toml(file: &str, source: &str, err: &toml::de::Error) -> Self {
        let mut message = err.message().trim().to_owned();
        if message.starts_with("invalid unquoted key") {
            // The likeliest cause in these files: an option value used as a key.
            message.push_str(" (Chinese words used as keys need double quotes: \"满意\" = 100)");
        }
        // A field missing from the top-level table comes with the empty span 0..0: no line
        // is to blame, so none is named (rather than a misleading "line 1").
        let line = match err.span() {
            Some(span) if span == (0..0) && message.starts_with("missing field") => None,
            Some(span) => Some(line_of(source, span.start)),
            None => None,
        };
        FormError::new(file, line, message)
    }
}

/// The 1-based line holding byte `offset` of `source` (clamped to the text; never panics).
pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The 1-based line where `span` starts.
pub(crate) fn line_of_span(source: &str, span: &Range<usize>) -> usize {
    line_of(source, span.start)
}

/// Sorts errors by file, then line (errors without a line first), keeping insertion order
/// otherwise, so a clerk reads them top to bottom.
pub(crate) fn sort_errors(errors: &mut [FormError]) {
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_and_line_when_known() {
        let with = FormError::new(
            "recipients.toml",
            Some(12),
            "question q3: option value \"满意\" appears twice",
        );
        assert_eq!(
            with.to_string(),
            "recipients.toml:12: question q3: option value \"满意\" appears twice"
        );
        let without = FormError::new("survey-forms", None, "no scheme file");
        assert_eq!(without.to_string(), "survey-forms: no scheme file");
    }

    #[test]
    fn line_of_counts_newlines_and_clamps() {
        let text = "a\nb\r\nc";
        for (offset, line) in [(0, 1), (1, 1), (2, 2), (5, 3), (999, 3)] {
            assert_eq!(line_of(text, offset), line, "offset {offset}");
        }
    }
}
