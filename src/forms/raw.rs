//! Shared pieces of the TOML boundary: byte-order mark handling, the SHA-256 fingerprint,
//! id and version syntax, the `kind` probe that tells questionnaires from schemes, and an
//! error collector that turns spans into line numbers.

use crate::forms::error::{FormError, line_of_span};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::ops::Range;
use toml::Spanned;

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The text to parse: `source` without a leading UTF-8 byte-order mark (Windows editors add
/// one). No newline is removed, so line numbers stay those of the file; the hash is still
/// taken over the exact bytes.
pub(crate) fn parse_text(source: &str) -> &str {
    source.strip_prefix('\u{feff}').unwrap_or(source)
}

/// Ids of forms and questions: `[a-z0-9_]+`, at most 64 characters (HTML field names, JSON
/// keys and database values without quoting surprises).
pub(crate) fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Versions: `[A-Za-z0-9._-]+`, at most 64 characters (`2026.1`, `v2-draft`).
pub(crate) fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What a file says it is (`kind = …`), read leniently before the strict parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileKind {
    Questionnaire,
    Scheme,
    /// No `kind`, or an unknown one (the strict parse names the problem).
    Other,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    kind: Option<String>,
}

/// Reads only `kind`; `Err` is the TOML syntax error.
pub(crate) fn probe_kind(file: &str, source: &str) -> Result<FileKind, FormError> {
    let text = parse_text(source);
    match toml::from_str::<Probe>(text) {
        Ok(p) => Ok(match p.kind.as_deref() {
            Some("questionnaire") => FileKind::Questionnaire,
            Some("scheme") => FileKind::Scheme,
            _ => FileKind::Other,
        }),
        Err(e) => Err(FormError::from_toml(file, text, &e)),
    }
}

/// Collects errors for one file, placing each on the line where its span starts.
pub(crate) struct Errors<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
    pub(crate) list: Vec<FormError>,
}

impl<'a> Errors<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Errors {
            file,
            text,
            list: Vec::new(),
        }
    }

    pub(crate) fn line(&self, span: &Range<usize>) -> usize {
        line_of_span(self.text, span)
    }

    pub(crate) fn at(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let line = self.line(span);
        self.list
            .push(FormError::new(self.file, Some(line), message));
    }

    pub(crate) fn at_spanned<T>(&mut self, item: &Spanned<T>, message: impl Into<String>) {
        self.at(&item.span(), message);
    }

    pub(crate) fn nowhere(&mut self, message: impl Into<String>) {
        self.list.push(FormError::new(self.file, None, message));
    }

    /// Checks `kind`, `id` and `version`, which every file has at the top.
    pub(crate) fn header(
        &mut self,
        expected_kind: &str,
        kind: &Spanned<String>,
        id: &Spanned<String>,
        version: &Spanned<String>,
    ) {
        if kind.get_ref() != expected_kind {
            self.at_spanned(
                kind,
                format!("kind is {:?}, expected {expected_kind:?}", kind.get_ref()),
            );
        }
        if !is_id(id.get_ref()) {
            self.at_spanned(
                id,
                format!(
                    "id {:?} must be 1 to 64 characters of a-z, 0-9 and _",
                    id.get_ref()
                ),
            );
        }
        if !is_version(version.get_ref()) {
            self.at_spanned(
                version,
                format!(
                    "version {:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
                    version.get_ref()
                ),
            );
        }
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<FormError>> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            let mut list = self.list;
            crate::forms::error::sort_errors(&mut list);
            Err(list)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn ids_and_versions_follow_their_syntax() {
        for (s, id_ok) in [
            ("q1", true),
            ("overall_why", true),
            ("", false),
            ("Q1", false),
            ("q-1", false),
            ("问题", false),
        ] {
            assert_eq!(is_id(s), id_ok, "{s:?}");
        }
        for (s, ok) in [
            ("2026.1", true),
            ("v2-draft_b", true),
            ("", false),
            ("1 0", false),
            ("版本1", false),
        ] {
            assert_eq!(is_version(s), ok, "{s:?}");
        }
    }
}
