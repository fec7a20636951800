//! Files handed in around the survey — self-assessment reports, the assessment group's
//! reports, the village archive's half-yearly reports — checked by their content, not by
//! the name or the browser's claim: PDF, Word (.docx, or the old .doc), PNG or JPEG, and no
//! larger than [`MAX_BYTES`]. Anything else is refused before it is stored.

use sha2::{Digest, Sha256};

/// The largest file accepted (also bounded by the server's upload limit).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// What a file is, judged by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pdf,
    Docx,
    Doc,
    Png,
    Jpeg,
}

impl Kind {
    /// The stored name (the `kind` column).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Doc => "doc",
            Kind::Png => "png",
            Kind::Jpeg => "jpeg",
        }
    }

    /// The stored name read back; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "pdf" => Kind::Pdf,
            "docx" => Kind::Docx,
            "doc" => Kind::Doc,
            "png" => Kind::Png,
            "jpeg" => Kind::Jpeg,
            _ => return None,
        })
    }

    /// The Content-Type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Doc => "application/msword",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
        }
    }

    /// Its Chinese name, for pages.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Docx | Kind::Doc => "Word 文档",
            Kind::Png | Kind::Jpeg => "图片",
        }
    }
}

/// Why a file was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max} bytes ({size})")]
    TooLarge { size: usize, max: usize },
    #[error("the file is not a PDF, Word document, PNG or JPEG image")]
    Type,
}

impl Refused {
    /// The refusal as a sentence for the uploader.
    pub fn zh(&self) -> String {
        match self {
            Refused::Empty => "所选文件是空的，请重新选择。".to_string(),
            Refused::TooLarge { max, .. } => format!(
                "文件超过 {} MB 的上限。请压缩图片或分成几个文件上传。",
                max / (1024 * 1024)
            ),
            Refused::Type => {
                "只能上传 PDF、Word 文档（.docx 或 .doc）或图片（PNG、JPEG）。".to_string()
            }
        }
    }
}

/// A checked file, ready to store.
#[derive(Clone, Debug)]
pub struct Checked {
    pub kind: Kind,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// The uploaded name, cut to 200 characters, control and direction characters removed.
    pub file_name: String,
}

/// Checks `bytes` (named `file_name` by the uploader): its size, and its type by content.
/// A .docx is a ZIP holding `word/document.xml`; a ZIP without it (a spreadsheet, say) is
/// refused.
pub fn check(file_name: &str, bytes: &[u8]) -> Result<Checked, Refused> {
    if bytes.is_empty() {
        return Err(Refused::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(Refused::TooLarge {
            size: bytes.len(),
            max: MAX_BYTES,
        });
    }
    let kind = sniff(bytes).ok_or(Refused::Type)?;
    let mut name: String = file_name
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(200)
        .collect();
    if name.trim().is_empty() {
        name = format!("文件.{}", kind.as_str());
    }
    Ok(Checked {
        kind,
        sha256: hex::encode(Sha256::digest(bytes)),
        file_name: name,
    })
}

/// Direction overrides would let "exe.pdf" show as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some(Kind::Doc)
    } else if bytes.starts_with(b"PK\x03\x04") && is_word_zip(bytes) {
        Some(Kind::Docx)
    } else {
        None
    }
}

fn is_word_zip(bytes: &[u8]) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    zip.by_name("word/document.xml").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docx() -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(b"<w:document/>").unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn files_are_judged_by_their_content() {
        assert_eq!(check("a.pdf", b"%PDF-1.7\n...").unwrap().kind, Kind::Pdf);
        assert_eq!(check("报告.docx", &docx()).unwrap().kind, Kind::Docx);
        assert_eq!(
            check("x.png", b"\x89PNG\r\n\x1a\n\0\0").unwrap().kind,
            Kind::Png
        );
        assert_eq!(
            check("x.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap().kind,
            Kind::Jpeg
        );
        // A script named .pdf, an HTML page, a spreadsheet (a ZIP without word/) are refused.
        assert_eq!(check("a.pdf", b"#!/bin/sh").unwrap_err(), Refused::Type);
        assert_eq!(check("a.docx", b"<html>").unwrap_err(), Refused::Type);
        assert_eq!(
            check("a.docx", b"PK\x03\x04junk").unwrap_err(),
            Refused::Type
        );
        assert_eq!(check("a.pdf", b"").unwrap_err(), Refused::Empty);
        let big = vec![b'%'; MAX_BYTES + 1];
        assert!(matches!(
            check("a.pdf", &big),
            Err(Refused::TooLarge { .. })
        ));
    }

    #[test]
    fn the_name_is_kept_without_control_characters_and_the_hash_is_of_the_content() {
        let c = check("自评\n报告\u{202e}.pdf", b"%PDF-1.4 x").unwrap();
        assert_eq!(c.file_name, "自评报告.pdf");
        assert_eq!(
            c.sha256,
            hex::encode(Sha256::digest(b"%PDF-1.4 x".as_slice()))
        );
        assert_eq!(check("  ", b"%PDF-").unwrap().file_name, "文件.pdf");
    }
}
