//! Files handed to the browser as downloads: a name that arrives intact in Chinese (RFC 6266
//! `filename*`) and is legal on Windows, and the media types of the CSV and .xlsx files.

use crate::export::CsvEncoding;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The longest file name given out, in characters (Windows allows 255 UTF-16 units; a
/// browser adds " (1)" to a second copy, and the folder's path counts against some tools).
const MAX_NAME_CHARS: usize = 120;

/// `name` as a file name Windows accepts: the characters it forbids (`<>:"/\|?*` and control
/// characters) left out, no trailing dot or space, at most 120 characters with the
/// extension kept, and `download` (plus the extension) when nothing is left.
pub fn safe_file_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*')
        })
        .collect();
    let (stem, ext) = match kept.rfind('.') {
        Some(i) if (2..=6).contains(&(kept.len() - i)) => kept.split_at(i),
        _ => (kept.as_str(), ""),
    };
    let room = MAX_NAME_CHARS.saturating_sub(ext.chars().count());
    let stem: String = stem.chars().take(room).collect();
    let stem = stem.trim().trim_end_matches(['.', ' ']);
    if stem.is_empty() || stem.chars().all(|c| c == '.') {
        format!("download{ext}")
    } else {
        format!("{stem}{ext}")
    }
}

/// A file name from a campaign's name and what the file holds (and its extension), e.g.
/// `2026年验收-调查对象名单.xlsx`.
pub fn campaign_file(campaign: &str, what: &str) -> String {
    safe_file_name(&format!("{}-{what}", campaign.trim()))
}

/// A `Content-Disposition` for a download named `file_name` (RFC 6266): the name made safe
/// for Windows ([`safe_file_name`]), in UTF-8 as `filename*`, so a Chinese name arrives
/// intact, and an ASCII `filename` for software that reads only that (the non-ASCII
/// characters left out).
pub fn attachment(file_name: &str) -> String {
    let file_name = safe_file_name(file_name);
    let ascii: String = file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';'))
        .collect();
    let ascii = if ascii.trim_start_matches(['-', '_', '.']).contains('.') {
        ascii.trim_start_matches(['-', '_']).to_string()
    } else {
        format!(
            "download{}",
            file_name.rfind('.').map_or("", |i| &file_name[i..])
        )
    };
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A file handed to the browser: its media type, its name (sent through [`attachment`]) and
/// its bytes, whole or streamed. Every download of the app answers through this type, so
/// each carries the same three headers: `Content-Type`, `Content-Disposition` and
/// `Cache-Control: no-store` (rosters, outboxes and results must not linger in a shared
/// cache). `axum_extra`'s `Attachment` sends only an escaped `filename`, not `filename*`,
/// so a Chinese name would not arrive intact.
pub struct Attachment {
    content_type: String,
    file_name: String,
    body: Body,
}

impl Attachment {
    /// `body` as a download named `file_name`, of media type `content_type`.
    pub fn new(content_type: &str, file_name: &str, body: impl Into<Body>) -> Self {
        Self {
            content_type: content_type.to_string(),
            file_name: file_name.to_string(),
            body: body.into(),
        }
    }

    /// A whole CSV file (UTF-8) as a download.
    pub fn csv(file_name: &str, bytes: Vec<u8>) -> Self {
        Self::new(CSV_UTF8, file_name, bytes)
    }

    /// A CSV streamed in chunks ([`crate::export::csv_chunks`]) in `encoding`, whose charset
    /// the media type names.
    pub fn csv_stream<I>(file_name: &str, encoding: CsvEncoding, chunks: I) -> Self
    where
        I: Iterator<Item = Vec<u8>> + Send + 'static,
    {
        let content_type = match encoding {
            CsvEncoding::Utf8Bom => CSV_UTF8,
            CsvEncoding::Gb18030 => "text/csv; charset=gb18030",
        };
        let chunks = chunks.map(Ok::<_, std::convert::Infallible>);
        Self::new(
            content_type,
            file_name,
            Body::from_stream(futures_util::stream::iter(chunks)),
        )
    }

    /// An .xlsx workbook ([`crate::export::text_xlsx`]) as a download; a workbook that could
    /// not be written is a server error, logged.
    pub fn xlsx(
        file_name: &str,
        book: Result<Vec<u8>, rust_xlsxwriter::XlsxError>,
    ) -> Result<Self, super::AppError> {
        let bytes = book.map_err(|e| anyhow::anyhow!("writing {file_name}: {e}"))?;
        Ok(Self::new(XLSX, file_name, bytes))
    }
}

impl IntoResponse for Attachment {
    fn into_response(self) -> Response {
        (
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CONTENT_DISPOSITION, attachment(&self.file_name)),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            self.body,
        )
            .into_response()
    }
}

/// The media type of a UTF-8 CSV file.
const CSV_UTF8: &str = "text/csv; charset=utf-8";

/// The media type of an .xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Bytes as a download named `file_name`, of media type `content_type`.
pub fn file_download(content_type: &str, file_name: &str, bytes: Vec<u8>) -> Response {
    Attachment::new(content_type, file_name, bytes).into_response()
}

/// A stored attachment (a report handed in) as a download, with the type its content was
/// checked to be when stored.
pub fn stored_file(file: crate::db::Attachment) -> Response {
    let content_type = crate::attachments::Kind::from_name(&file.meta.kind)
        .map_or("application/octet-stream", |k| k.content_type());
    file_download(content_type, &file.meta.file_name, file.content)
}

/// A CSV file as a download.
pub fn csv_download(file_name: &str, bytes: Vec<u8>) -> Response {
    Attachment::csv(file_name, bytes).into_response()
}

/// An .xlsx workbook ([`crate::export::text_xlsx`]) as a download.
pub fn xlsx_download(
    file_name: &str,
    book: Result<Vec<u8>, rust_xlsxwriter::XlsxError>,
) -> Result<Response, super::AppError> {
    Ok(Attachment::xlsx(file_name, book)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_file_name_goes_out_in_utf8_with_an_ascii_fallback() {
        let h = attachment("2026年验收-邀请短信-1.csv");
        assert_eq!(
            h,
            "attachment; filename=\"2026--1.csv\"; filename*=UTF-8''2026%E5%B9%B4%E9%AA%8C%E6%94%B6-%E9%82%80%E8%AF%B7%E7%9F%AD%E4%BF%A1-1.csv"
        );
        assert!(attachment("一村.csv").starts_with("attachment; filename=\"download.csv\";"));
        // Quotes and separators cannot break out of the header's parameters.
        let odd = attachment("a\";b%c.csv");
        assert!(
            odd.starts_with("attachment; filename=\"abc.csv\";"),
            "{odd}"
        );
        assert!(axum::http::HeaderValue::from_str(&odd).is_ok());
    }

    #[test]
    fn file_names_lose_what_windows_forbids() {
        assert_eq!(
            safe_file_name("2026/2027年<验收>:一村|二村?*.xlsx"),
            "20262027年验收一村二村.xlsx"
        );
        assert_eq!(safe_file_name("名单\r\n\t.csv"), "名单.csv");
        assert_eq!(safe_file_name("验收. .xlsx"), "验收.xlsx");
        assert_eq!(safe_file_name("???.xlsx"), "download.xlsx");
        assert_eq!(safe_file_name(""), "download");
        assert_eq!(safe_file_name("...."), "download");
        let long = safe_file_name(&format!("{}.xlsx", "村".repeat(500)));
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with("村.xlsx"));
        assert_eq!(
            campaign_file(" 2026年验收 ", "调查对象名单.xlsx"),
            "2026年验收-调查对象名单.xlsx"
        );
        for odd in ["\"", "\\", "a\u{0}b.csv", "%00.csv", "é.txt", ".xlsx"] {
            let h = attachment(odd);
            assert!(
                axum::http::HeaderValue::from_str(&h).is_ok(),
                "{odd:?}: {h}"
            );
        }
    }
}
