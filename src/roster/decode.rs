//! Decoding an uploaded file into raw rows numbered as Excel shows them.
//!
//! Owns format detection by content (never by file name): a zip signature is .xlsx, an OLE
//! signature is .xls, anything else is text, whose encoding is told by its BOM (UTF-8,
//! UTF-16) or, without one, by whether the whole file is valid UTF-8 (else GB18030, the
//! superset of GBK that Excel and WPS write on Chinese Windows). Text is parsed as CSV with
//! the delimiter sniffed from the header line, streaming: a 50 MB file is never held whole.

use std::io::{self, Cursor, Read, Seek, SeekFrom};

use encoding_rs::{CoderResult, DecoderResult, Encoding, GB18030, UTF_16BE, UTF_16LE};

use crate::roster::RosterError;
use crate::roster::rows::{Cell, Frame, PHONE_HEADERS, RawRow};

const CHUNK: usize = 64 * 1024;

const XLSX_MAGIC: &[u8] = b"PK\x03\x04";
const XLS_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Valid UTF-8 sequences (in complete lines) seen before the first invalid byte from which
/// a file is taken for UTF-8 with foreign bytes pasted in, rather than for GBK: GBK text is
/// valid UTF-8 only by chance, a character or two at most, never whole lines of it.
const MIXED_UTF8_SEQUENCES: u64 = 4;

/// Where in the first bytes control characters mean "binary, not text": one in fifty.
const HEAD: usize = 8 * 1024;

/// Lines looked at to sniff the delimiter.
const SNIFF_LINES: usize = 20;

/// Reads every row of `input` into `frame`; returns the format name for the receipt.
pub fn read_rows<R: Read + Seek>(
    mut input: R,
    frame: &mut Frame<'_>,
) -> Result<&'static str, RosterError> {
    let mut magic = [0u8; 8];
    let n = read_full(&mut input, &mut magic)?;
    input.seek(SeekFrom::Start(0))?;
    let magic = &magic[..n];
    if magic.is_empty() {
        return Err(RosterError::Empty);
    }
    if magic.starts_with(XLSX_MAGIC) {
        crate::roster::xlsx::read(input, frame)?;
        return Ok("xlsx");
    }
    if magic.starts_with(XLS_MAGIC) {
        crate::roster::xls::read(input, frame)?;
        return Ok("xls");
    }
    if magic.starts_with(&[0xFF, 0xFE]) {
        feed_csv(Transcode::new(input, UTF_16LE, false), frame)?;
        return Ok("csv-utf16");
    }
    if magic.starts_with(&[0xFE, 0xFF]) {
        feed_csv(Transcode::new(input, UTF_16BE, false), frame)?;
        return Ok("csv-utf16");
    }
    let bom = magic.starts_with(UTF8_BOM);
    let scan = scan_utf8(&mut input)?;
    if scan.nul || scan.controls * 50 > scan.head_len {
        return Err(RosterError::NotText);
    }
    match scan.first_invalid_row {
        None if bom => {
            input.seek(SeekFrom::Start(UTF8_BOM.len() as u64))?;
            feed_csv(input, frame)?;
            Ok("csv-utf8-bom")
        }
        None => {
            input.seek(SeekFrom::Start(0))?;
            feed_csv(input, frame)?;
            Ok("csv-utf8")
        }
        Some(row) if bom || scan.utf8_sequences_before >= MIXED_UTF8_SEQUENCES => {
            Err(RosterError::Encoding { row })
        }
        Some(_) => {
            input.seek(SeekFrom::Start(0))?;
            feed_csv(Transcode::new(input, GB18030, true), frame)?;
            Ok("csv-gb18030")
        }
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

// ---------------------------------------------------------------------------------------
// Text: telling UTF-8 from GB18030

/// What one pass over an undeclared text file found.
struct Utf8Scan {
    nul: bool,
    /// Row (line) of the first byte that is not UTF-8.
    first_invalid_row: Option<u64>,
    /// Multi-byte UTF-8 sequences in the complete lines before that row.
    utf8_sequences_before: u64,
    /// Control characters (other than tab, CR, LF, FF, ^Z) in the first [`HEAD`] bytes.
    controls: usize,
    head_len: usize,
}

/// Streams over the whole input in chunks, carrying an incomplete sequence over a chunk
/// boundary, without keeping it.
fn scan_utf8<R: Read>(input: &mut R) -> Result<Utf8Scan, RosterError> {
    let mut scan = Utf8Scan {
        nul: false,
        first_invalid_row: None,
        utf8_sequences_before: 0,
        controls: 0,
        head_len: 0,
    };
    let mut buf = vec![0u8; CHUNK + 4];
    let mut carry = 0usize;
    let mut newlines = 0u64;
    let mut sequences_in_line = 0u64;
    loop {
        let n = read_full(input, &mut buf[carry..carry + CHUNK])?;
        let data = &buf[..carry + n];
        if scan.head_len < HEAD {
            let head = &data[carry..(carry + n).min(carry + HEAD - scan.head_len)];
            scan.controls += head
                .iter()
                .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A))
                .count();
            scan.head_len += head.len();
        }
        if data[carry..].contains(&0) {
            scan.nul = true;
            return Ok(scan);
        }
        if n == 0 {
            if carry > 0 && scan.first_invalid_row.is_none() {
                // The file ends inside a multi-byte sequence.
                scan.first_invalid_row = Some(newlines + 1);
            }
            return Ok(scan);
        }
        if scan.first_invalid_row.is_some() {
            carry = 0;
            continue;
        }
        let mut account = |bytes: &[u8]| {
            for &b in bytes {
                if b == b'\n' {
                    newlines += 1;
                    scan.utf8_sequences_before += sequences_in_line;
                    sequences_in_line = 0;
                } else if b >= 0xC0 {
                    sequences_in_line += 1;
                }
            }
        };
        let mut next_carry = 0;
        match std::str::from_utf8(data) {
            Ok(_) => account(data),
            Err(e) => {
                let valid = e.valid_up_to();
                account(&data[..valid]);
                match e.error_len() {
                    None => next_carry = data.len() - valid,
                    Some(_) => scan.first_invalid_row = Some(newlines + 1),
                }
            }
        }
        if next_carry > 0 {
            let start = carry + n - next_carry;
            buf.copy_within(start..carry + n, 0);
        }
        carry = next_carry;
    }
}

/// An encoding error inside the decoded stream, carried through the CSV reader's `io::Error`.
#[derive(Debug)]
struct BadText {
    row: u64,
}

impl std::fmt::Display for BadText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed text near row {}", self.row)
    }
}

impl std::error::Error for BadText {}

fn from_io(e: io::Error) -> RosterError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<BadText>())
    {
        Some(bad) => RosterError::Encoding { row: bad.row },
        None => RosterError::Io(e),
    }
}

/// Streams a text in another encoding as UTF-8. Strict mode fails on the first malformed
/// sequence (a GBK file with UTF-8 or binary pasted in); otherwise malformed sequences become
/// U+FFFD (UTF-16 from Excel, where that only happens to a broken surrogate).
struct Transcode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    strict: bool,
    src: Vec<u8>,
    src_pos: usize,
    src_len: usize,
    eof: bool,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    newlines: u64,
    done: bool,
}

impl<R: Read> Transcode<R> {
    fn new(inner: R, encoding: &'static Encoding, strict: bool) -> Self {
        Transcode {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            strict,
            src: vec![0; CHUNK],
            src_pos: 0,
            src_len: 0,
            eof: false,
            out: vec![0; CHUNK * 2],
            out_pos: 0,
            out_len: 0,
            newlines: 0,
            done: false,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.src_pos == self.src_len && !self.eof {
            self.src_len = read_full(&mut self.inner, &mut self.src)?;
            self.src_pos = 0;
            self.eof = self.src_len == 0;
        }
        let src = &self.src[self.src_pos..self.src_len];
        let (result, read, written) = if self.strict {
            self.decoder
                .decode_to_utf8_without_replacement(src, &mut self.out, self.eof)
        } else {
            let (result, read, written, _) =
                self.decoder.decode_to_utf8(src, &mut self.out, self.eof);
            let result = match result {
                CoderResult::InputEmpty => DecoderResult::InputEmpty,
                CoderResult::OutputFull => DecoderResult::OutputFull,
            };
            (result, read, written)
        };
        match result {
            DecoderResult::InputEmpty => self.done = self.eof,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(..) => {
                let row = self.newlines + count_newlines(&self.out[..written]) + 1;
                return Err(io::Error::new(io::ErrorKind::InvalidData, BadText { row }));
            }
        }
        self.src_pos += read;
        self.out_pos = 0;
        self.out_len = written;
        self.newlines += count_newlines(&self.out[..written]);
        Ok(())
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text: CSV

/// Parses UTF-8 text as CSV, one reused record at a time.
fn feed_csv<R: Read>(mut text: R, frame: &mut Frame<'_>) -> Result<(), RosterError> {
    let mut head = vec![0u8; CHUNK];
    let n = read_full(&mut text, &mut head).map_err(from_io)?;
    head.truncate(n);
    let delimiter = sniff_delimiter(&head);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        // '\n' alone ends a record, so every line end is consumed with its record and the
        // line count after a record is exact; a '\r' before it is trimmed with the field.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(CHUNK)
        .from_reader(EndWithNewline::new(
            Cursor::new(head).chain(text),
            delimiter,
        ));
    // Each record is fed once the next read has told whether it was the last: a last record
    // that swallowed the file's final line end was opened by a quote that never closed.
    let mut record = csv::ByteRecord::new();
    let mut pending = csv::ByteRecord::new();
    // The line after the pending record, as csv counted it.
    let mut pending_end: Option<u64> = None;
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(e) => from_io(e),
                other => RosterError::Io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{other:?}"),
                )),
            })?;
        if let Some(end) = pending_end.take() {
            // csv's own record position is where it began looking, before any blank lines it
            // skipped; the line after the record, less the record's own line ends (and the
            // one that ended it), is where it really starts.
            let inner = count_newlines(pending.as_slice());
            if !more && reader.get_ref().ended_in_quotes() {
                return Err(RosterError::UnclosedQuote {
                    row: end.saturating_sub(inner).max(1),
                });
            }
            let row = end.saturating_sub(1 + inner);
            frame.feed(
                row,
                &CsvRow {
                    record: &pending,
                    row,
                },
            )?;
        }
        if !more {
            return Ok(());
        }
        std::mem::swap(&mut record, &mut pending);
        pending_end = Some(reader.position().line());
    }
}

/// Adds a final '\n' to a text that lacks one, so that every record ends with a line end,
/// and follows the text's quoting as the CSV reader does, to tell at the end whether a
/// quoted cell was left open.
struct EndWithNewline<R> {
    inner: R,
    delimiter: u8,
    quoting: Quoting,
    last: u8,
    done: bool,
}

/// Where the CSV reader (csv-core, with doubled quotes as escapes) is within a cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the start of a cell: a quote here opens a quoted cell.
    CellStart,
    /// In an unquoted cell, where a quote is an ordinary character.
    Unquoted,
    /// In a quoted cell: delimiters and line ends are part of it.
    Quoted,
    /// Just after a quote inside a quoted cell: another quote is an escaped quote; anything
    /// else closed the cell.
    QuoteInQuoted,
}

impl<R: Read> EndWithNewline<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        EndWithNewline {
            inner,
            delimiter,
            quoting: Quoting::CellStart,
            last: b'\n',
            done: false,
        }
    }

    /// Whether the text ended inside a quoted cell (before the line end added here).
    fn ended_in_quotes(&self) -> bool {
        self.quoting == Quoting::Quoted
    }

    fn follow(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let ends_cell = b == self.delimiter || b == b'\n';
            self.quoting = match self.quoting {
                Quoting::Quoted if b == b'"' => Quoting::QuoteInQuoted,
                Quoting::Quoted => Quoting::Quoted,
                Quoting::QuoteInQuoted if b == b'"' => Quoting::Quoted,
                Quoting::CellStart if b == b'"' => Quoting::Quoted,
                _ if ends_cell => Quoting::CellStart,
                _ => Quoting::Unquoted,
            };
        }
    }
}

impl<R: Read> Read for EndWithNewline<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.follow(&buf[..n]);
            self.last = buf[n - 1];
            return Ok(n);
        }
        self.done = true;
        if self.last == b'\n' {
            return Ok(0);
        }
        buf[0] = b'\n';
        Ok(1)
    }
}

/// The delimiter of the header line (the first line naming a phone column, else the first
/// non-empty line): the most frequent of tab, comma and semicolon; comma when none occurs.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let text = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SNIFF_LINES)
        .collect();
    let line = lines
        .iter()
        .find(|l| {
            let lower = l.to_ascii_lowercase();
            PHONE_HEADERS.iter().any(|h| lower.contains(h))
        })
        .or(lines.first())
        .copied()
        .unwrap_or("");
    let count = |d: u8| line.bytes().filter(|&b| b == d).count();
    let mut best = (b',', count(b','));
    for d in [b'\t', b';'] {
        let c = count(d);
        if c > best.1 {
            best = (d, c);
        }
    }
    best.0
}

struct CsvRow<'a> {
    record: &'a csv::ByteRecord,
    row: u64,
}

impl RawRow for CsvRow<'_> {
    fn width(&self) -> usize {
        self.record.len()
    }

    fn first_column(&self) -> usize {
        0
    }

    fn cell(&self, i: usize) -> Result<Cell<'_>, RosterError> {
        match self.record.get(i) {
            None => Ok(Cell::Empty),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(Cell::Text)
                .map_err(|_| RosterError::Encoding { row: self.row }),
        }
    }

    fn is_blank(&self, i: usize) -> bool {
        let Some(bytes) = self.record.get(i) else {
            return true;
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        bytes.iter().any(|b| !b.is_ascii())
            && std::str::from_utf8(bytes).is_ok_and(|s| s.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use crate::roster::{Limits, Receipt, RosterError, Row, Stopped, read_roster};

    const EMPTY_FINGERPRINT: &str =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn run_with(bytes: &[u8], limits: &Limits) -> (Result<Receipt, RosterError>, Vec<Row>) {
        let mut rows = Vec::new();
        let result = read_roster(std::io::Cursor::new(bytes), limits, &mut |row| {
            rows.push(row);
            Ok(())
        });
        if let Ok(receipt) = &result {
            assert_eq!(
                receipt.rows_read,
                receipt.accepted + receipt.invalid + receipt.duplicates,
                "rows_read = accepted + invalid + duplicates"
            );
            assert_eq!(receipt.accepted, rows.len() as u64);
            assert_eq!(
                receipt.errors.len() as u64 + receipt.errors_omitted,
                receipt.invalid
            );
            assert_eq!(
                receipt.duplicate_rows.len() as u64 + receipt.duplicates_omitted,
                receipt.duplicates
            );
            assert!(receipt.skipped_rows.len() as u64 <= receipt.skipped);
            for d in &receipt.duplicate_rows {
                assert!(d.first_row < d.row, "{d:?}");
                assert!(rows.iter().any(|r| r.row == d.first_row), "{d:?}");
            }
        }
        (result, rows)
    }

    fn run(bytes: &[u8]) -> (Result<Receipt, RosterError>, Vec<Row>) {
        run_with(bytes, &Limits::default())
    }

    fn accept(bytes: &[u8]) -> (Receipt, Vec<Row>) {
        match run(bytes) {
            (Ok(receipt), rows) => (receipt, rows),
            (Err(e), _) => panic!("roster should decode: {e}"),
        }
    }

    fn phones(rows: &[Row]) -> Vec<(u64, String)> {
        rows.iter().map(|r| (r.row, r.phone.to_string())).collect()
    }

    fn gbk(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn utf16le_with_bom(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    #[test]
    fn a_utf8_csv_gives_rows_numbered_as_excel_shows_them() {
        let (receipt, rows) = accept(
            "姓名,联系电话,服务事项,服务日期\n张三,13800138000,低保,2026-03-01\n李四, 139 0013 9000 ,医保,\n"
                .as_bytes(),
        );
        assert_eq!(receipt.format, "csv-utf8");
        assert_eq!(receipt.header_row, 1);
        assert_eq!((receipt.rows_read, receipt.accepted), (2, 2));
        assert_eq!(
            phones(&rows),
            [(2, "13800138000".into()), (3, "13900139000".into())]
        );
        assert_eq!(rows[0].name.as_deref(), Some("张三"));
        assert_eq!(rows[0].service.as_deref(), Some("低保"));
        assert_eq!(rows[0].service_date.as_deref(), Some("2026-03-01"));
        assert_eq!(rows[1].service_date, None);
        assert_eq!(receipt.columns.phone.as_deref(), Some("联系电话"));
        assert_eq!(receipt.columns.date.as_deref(), Some("服务日期"));
        assert!(receipt.dropped_columns.is_empty());
    }

    #[test]
    fn a_utf8_csv_with_a_bom_is_read_without_the_bom_in_the_header() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("手机,姓名\r\n13800138000,张三\r\n".as_bytes());
        let (receipt, rows) = accept(&bytes);
        assert_eq!(receipt.format, "csv-utf8-bom");
        assert_eq!(receipt.columns.phone.as_deref(), Some("手机"));
        assert_eq!(phones(&rows), [(2, "13800138000".into())]);
    }

    #[test]
    fn a_gbk_csv_drops_the_id_card_column_without_reading_it() {
        let text = "序号,姓名,身份证号,手机号码\n1,张三,430527199001011234,13800138000\n2,李四,43052719920202123X,0739-7654321\n3,王五,430527199303031234,\n";
        let (receipt, rows) = accept(&gbk(text));
        assert_eq!(receipt.format, "csv-gb18030");
        assert_eq!(receipt.dropped_columns, ["序号", "身份证号"]);
        assert_eq!(
            phones(&rows),
            [(2, "13800138000".into()), (3, "07397654321".into())]
        );
        assert_eq!(rows[0].name.as_deref(), Some("张三"));
        assert_eq!(receipt.invalid, 1);
        let everything = format!(
            "{} {} {:?}",
            serde_json::to_string(&receipt).unwrap_or_default(),
            serde_json::to_string(&rows).unwrap_or_default(),
            rows
        );
        for id in [
            "430527199001011234",
            "43052719920202123X",
            "430527199303031234",
            "4305",
        ] {
            assert!(!everything.contains(id), "{id} leaked: {everything}");
        }
    }

    #[test]
    fn a_title_row_above_the_header_shifts_the_row_numbers() {
        let text =
            "唐家坊镇XX村2026年服务对象名单,,\n姓名,电话,备注\n张三,13800138000,\n,,\n李四,abc,\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(receipt.header_row, 2);
        assert_eq!(phones(&rows), [(3, "13800138000".into())]);
        assert_eq!(receipt.rows_read, 2);
        assert_eq!(receipt.errors.len(), 1);
        assert_eq!(receipt.errors[0].row, 5);
        assert_eq!(receipt.errors[0].column.as_deref(), Some("电话"));
        assert!(receipt.errors[0].reason.contains("letter 'a'"));
        assert!(receipt.errors[0].reason_zh.contains("字母"));
        assert_eq!(receipt.dropped_columns, ["备注"]);
    }

    #[test]
    fn columns_are_found_in_any_order_and_by_normalised_header() {
        let text = "服务日期,事项,*联系电话（必填）:,Name\n2026-01-02,走访,13800138000,张三\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(receipt.columns.phone.as_deref(), Some("*联系电话（必填）:"));
        assert_eq!(receipt.columns.name.as_deref(), Some("Name"));
        let row = &rows[0];
        assert_eq!(row.name.as_deref(), Some("张三"));
        assert_eq!(row.service.as_deref(), Some("走访"));
        assert_eq!(row.service_date.as_deref(), Some("2026-01-02"));
    }

    #[test]
    fn empty_rows_are_skipped_and_not_counted() {
        let text = "电话\n\n13800138000\n  \n\u{3000}\n13900139000\n\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(receipt.rows_read, 2);
        assert_eq!(
            phones(&rows),
            [(3, "13800138000".into()), (6, "13900139000".into())]
        );
        let (receipt, _) = accept("电话,姓名\n,\n , \n13800138000,\n".as_bytes());
        assert_eq!(receipt.rows_read, 1);
    }

    #[test]
    fn one_number_written_differently_counts_as_a_duplicate() {
        let text = "电话\n13800138000\n138-0013-8000\n+86 138 0013 8000\n１３８００１３８０００\n13900139000\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!((receipt.accepted, receipt.duplicates), (2, 3));
        assert_eq!(
            phones(&rows),
            [(2, "13800138000".into()), (6, "13900139000".into())]
        );
        assert!(receipt.errors.is_empty());
    }

    #[test]
    fn duplicate_rows_are_listed_with_the_row_they_repeat_and_a_masked_phone() {
        let text = "姓名,电话\n张三,13800138000\n李四,13900139000\n张三,138-0013-8000\n\n李四,+86 139 0013 9000\n张三,13800138000\n";
        let (receipt, _) = accept(text.as_bytes());
        assert_eq!(receipt.duplicates, 3);
        let listed: Vec<(u64, u64, &str)> = receipt
            .duplicate_rows
            .iter()
            .map(|d| (d.row, d.first_row, d.phone.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                (4, 2, "138****8000"),
                (6, 3, "139****9000"),
                (7, 2, "138****8000")
            ]
        );
        assert_eq!(receipt.duplicates_omitted, 0);
        let json = serde_json::to_string(&receipt).unwrap_or_default();
        assert!(!json.contains("13800138000"), "{json}");
    }

    #[test]
    fn only_the_first_thousand_duplicates_are_listed() {
        let mut text = String::from("电话\n13800138000\n");
        for _ in 0..1200 {
            text.push_str("13800138000\n");
        }
        let (receipt, _) = accept(text.as_bytes());
        assert_eq!(receipt.duplicates, 1200);
        assert_eq!(receipt.duplicate_rows.len(), 1000);
        assert_eq!(receipt.duplicates_omitted, 200);
        assert_eq!(receipt.duplicate_rows[999].row, 1002);
    }

    #[test]
    fn totals_rows_are_skipped_with_a_note_not_counted_as_invalid() {
        let text = "序号,姓名,电话,服务事项\n1,张三,13800138000,低保\n2,李四,abc,医保\n,小计,2,\n3,王五,13900139000,走访\n合  计：,,3 户,\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(
            (receipt.rows_read, receipt.accepted, receipt.invalid),
            (3, 2, 1)
        );
        assert_eq!(receipt.skipped, 2);
        let skipped: Vec<u64> = receipt.skipped_rows.iter().map(|s| s.row).collect();
        assert_eq!(skipped, [4, 6]);
        assert!(
            receipt.skipped_rows[0]
                .reason
                .contains("totals row (\"小计\")")
        );
        assert!(
            receipt.skipped_rows[1]
                .reason_zh
                .contains("“合计”行是统计行")
        );
        assert_eq!(receipt.errors.len(), 1);
        assert_eq!(receipt.errors[0].row, 3);
        assert_eq!(
            phones(&rows),
            [(2, "13800138000".into()), (5, "13900139000".into())]
        );
    }

    #[test]
    fn a_totals_label_beside_a_real_phone_keeps_the_row() {
        // The label is a slip; dropping the number would silently shrink the frame.
        let text = "姓名,电话\n合计,13800138000\n总计,\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(phones(&rows), [(2, "13800138000".into())]);
        assert_eq!(
            (receipt.accepted, receipt.invalid, receipt.skipped),
            (1, 0, 1)
        );
        // A service or name that merely starts like a totals word is a person.
        let text = "电话,服务事项,姓名\n123,总计划生育,张三\n";
        let (receipt, _) = accept(text.as_bytes());
        assert_eq!((receipt.invalid, receipt.skipped), (1, 0));
    }

    #[test]
    fn totals_rows_count_against_the_row_limit() {
        let text = "姓名,电话\n合计,\n合计,\n合计,\n";
        let (result, _) = run_with(text.as_bytes(), &Limits { max_rows: 2 });
        assert!(
            matches!(result, Err(RosterError::TooManyRows { limit: 2 })),
            "{result:?}"
        );
    }

    #[test]
    fn village_headers_name_the_name_and_date_columns() {
        let text = "序号,户主姓名,身份证号,联系电话,办理时间\n1,张三,430527199001011234,13800138000,2026-03-05 09:30\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(receipt.columns.name.as_deref(), Some("户主姓名"));
        assert_eq!(receipt.columns.date.as_deref(), Some("办理时间"));
        assert_eq!(receipt.dropped_columns, ["序号", "身份证号"]);
        assert_eq!(rows[0].name.as_deref(), Some("张三"));
        assert_eq!(rows[0].service_date.as_deref(), Some("2026-03-05 09:30"));
        for (header, name) in [("户主", "户主"), ("联系人", "联系人")] {
            let text = format!("{header},电话,办理日期\n张三,13800138000,2026-03-05\n");
            let (receipt, rows) = accept(text.as_bytes());
            assert_eq!(receipt.columns.name.as_deref(), Some(name));
            assert_eq!(receipt.columns.date.as_deref(), Some("办理日期"));
            assert_eq!(rows[0].service_date.as_deref(), Some("2026-03-05"));
        }
    }

    #[test]
    fn of_two_name_columns_the_person_served_wins_over_the_household_head() {
        let text = "户主,姓名,电话,日期,办理日期\n张大,张小,13800138000,2026-01-01,2026-03-05\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(receipt.columns.name.as_deref(), Some("姓名"));
        assert_eq!(receipt.columns.date.as_deref(), Some("办理日期"));
        assert_eq!(rows[0].name.as_deref(), Some("张小"));
        assert_eq!(rows[0].service_date.as_deref(), Some("2026-03-05"));
        assert_eq!(receipt.dropped_columns, ["户主", "日期"]);
    }

    #[test]
    fn a_chinese_character_in_the_phone_column_is_called_a_chinese_character() {
        let text = "姓名,电话\n张三,张三13800138000\n李四,138a0138000\n";
        let (receipt, _) = accept(text.as_bytes());
        assert!(
            receipt.errors[0]
                .reason
                .contains("the Chinese character '张'")
        );
        assert!(receipt.errors[0].reason_zh.contains("汉字“张”"));
        assert!(!receipt.errors[0].reason_zh.contains("字母"));
        assert!(receipt.errors[1].reason_zh.contains("字母“a”"));
    }

    #[test]
    fn invalid_rows_are_reported_with_row_and_column() {
        let text = "电话,姓名\n1380013800,a\n13800138000,b\n1.38001E+10,c\n,d\n";
        let (receipt, _) = accept(text.as_bytes());
        assert_eq!(receipt.invalid, 3);
        let got: Vec<(u64, Option<&str>)> = receipt
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            [(2, Some("电话")), (4, Some("电话")), (5, Some("电话"))]
        );
        assert!(
            receipt.errors[0]
                .reason
                .contains("1380013800 has 10 digits")
        );
        assert!(receipt.errors[1].reason.contains("scientific notation"));
        assert!(receipt.errors[2].reason.contains("empty"));
    }

    #[test]
    fn a_quoted_field_with_a_newline_is_one_row_and_later_rows_keep_their_line() {
        let text = "姓名,电话\n\"张\n三\",13800138000\n李四,abc\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(phones(&rows), [(2, "13800138000".into())]);
        assert_eq!(rows[0].name.as_deref(), Some("张\n三"));
        assert_eq!(receipt.errors[0].row, 4);
    }

    /// Found by fuzzing: a quote never closed swallowed the rest of the file into one cell and
    /// its error was placed on the row above.
    #[test]
    fn a_quote_that_never_closes_is_an_error_on_its_row() {
        for text in [
            "姓名,电话\n\"张三,13800138000\n李四,13900139000\n",
            "姓名,电话\r\n\"张三,13800138000\r\n李四,13900139000",
            // Found by fuzzing: the opening quote is the file's last character.
            "姓名,电话\n张三,13800138000,\"",
            "姓名,电话\n张三,\"13800138000\"\"\n",
        ] {
            match run(text.as_bytes()).0 {
                Err(e @ RosterError::UnclosedQuote { row: 2 }) => {
                    assert!(e.to_string().starts_with("row 2: a quotation mark"));
                    assert!(e.zh().starts_with("第 2 行"));
                }
                other => panic!("expected UnclosedQuote on row 2, got {other:?}"),
            }
        }
        // A closed quoted cell that ends in a line break, last in the file, is fine.
        let (_, rows) = accept("电话,姓名\n13800138000,\"张三\n\"\n".as_bytes());
        assert_eq!(rows[0].name.as_deref(), Some("张三"));
        let (_, rows) = accept("电话,姓名\r\n13800138000,\"张三\r\n\"".as_bytes());
        assert_eq!(phones(&rows), [(2, "13800138000".into())]);
        // Doubled quotes are quote characters; a quote inside an unquoted cell is a character.
        let (_, rows) =
            accept("电话,姓名\n13800138000,\"张\"\"三\"\"\"\n13900139000,李\"四\n".as_bytes());
        assert_eq!(rows[0].name.as_deref(), Some("张\"三\""));
        assert_eq!(rows[1].name.as_deref(), Some("李\"四"));
    }

    #[test]
    fn a_row_wider_than_excel_is_refused_before_it_is_read() {
        let mut text = String::from("电话\n13800138000\n");
        text.push_str(&",".repeat(crate::roster::MAX_COLUMNS));
        text.push_str("x\n");
        match run(text.as_bytes()).0 {
            Err(e @ RosterError::TooManyColumns { row: 3 }) => {
                assert_eq!(
                    e.to_string(),
                    "row 3 reaches past column 16384 (XFD, Excel's last column)"
                )
            }
            other => panic!("expected TooManyColumns, got {other:?}"),
        }
        let exactly = format!(
            "电话{}\n13800138000\n",
            ",".repeat(crate::roster::MAX_COLUMNS - 1)
        );
        assert_eq!(accept(exactly.as_bytes()).0.accepted, 1);
    }

    #[test]
    fn excel_unicode_text_is_utf16_tab_separated() {
        let bytes = utf16le_with_bom(
            "姓名\t手机\t身份证号\r\n张三\t13800138000\t430527199001011234\r\n李四\t13900139000\t\r\n",
        );
        let (receipt, rows) = accept(&bytes);
        assert_eq!(receipt.format, "csv-utf16");
        assert_eq!(receipt.dropped_columns, ["身份证号"]);
        assert_eq!(
            phones(&rows),
            [(2, "13800138000".into()), (3, "13900139000".into())]
        );
    }

    #[test]
    fn semicolons_are_sniffed_from_the_header_line_not_the_title() {
        let text = "名单, 2026\n姓名;电话;事项\n张三;13800138000;走访, 慰问\n";
        let (receipt, rows) = accept(&gbk(text));
        assert_eq!(receipt.header_row, 2);
        assert_eq!(rows[0].service.as_deref(), Some("走访, 慰问"));
    }

    /// Found by fuzzing: calamine's message quoted the file, long numbers and all.
    #[test]
    fn a_spreadsheet_library_message_is_short_and_masks_long_numbers() {
        let e = RosterError::broken("close tag `</a430527199001011234>` at 13800138000");
        assert_eq!(
            e.to_string(),
            "the spreadsheet cannot be read: close tag `</a430***********1234>` at 138****8000"
        );
        let long = RosterError::broken("x".repeat(500)).to_string();
        assert_eq!(
            long.chars().count(),
            "the spreadsheet cannot be read: ".len() + 201
        );
    }

    #[test]
    fn a_file_without_a_phone_column_names_every_header_looked_for() {
        let (result, _) = run("姓名,身份证号\n张三,1\n".as_bytes());
        match result {
            Err(RosterError::NoPhoneColumn { looked_for }) => {
                let all = [
                    "电话",
                    "手机",
                    "手机号",
                    "手机号码",
                    "联系电话",
                    "联系方式",
                    "phone",
                    "mobile",
                    "tel",
                ];
                assert_eq!(looked_for, all);
                let e = RosterError::NoPhoneColumn { looked_for };
                for h in all {
                    assert!(e.to_string().contains(h), "{e}");
                    assert!(e.zh().contains(h), "{}", e.zh());
                }
            }
            other => panic!("expected NoPhoneColumn, got {other:?}"),
        }
    }

    #[test]
    fn the_header_must_be_within_the_first_twenty_non_empty_rows() {
        let mut text = String::new();
        for i in 0..20 {
            text.push_str(&format!("说明第{i}行\n\n"));
        }
        text.push_str("电话\n13800138000\n");
        assert!(matches!(
            run(text.as_bytes()).0,
            Err(RosterError::NoPhoneColumn { .. })
        ));
    }

    #[test]
    fn whole_file_errors_are_precise() {
        let mut junk = Vec::new();
        let mut x: u32 = 12345;
        for _ in 0..4096 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            junk.push((x >> 16) as u8);
        }
        let mut broken_xlsx = b"PK\x03\x04".to_vec();
        broken_xlsx.extend_from_slice(&junk[..500]);
        let mut broken_xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        broken_xls.extend_from_slice(&junk[..500]);
        let mut mixed = "姓名,电话\n张三,13800138000\n".as_bytes().to_vec();
        mixed.extend_from_slice(b"\xff\xfe,13900139000\n");
        let mut gb_bad = b"name,phone\nzhang,13800138000\n".to_vec();
        gb_bad.extend_from_slice(b"li\xff,13900139000\n");
        let table: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty", vec![], "the file is empty"),
            ("blank", b"\n \n,,\n".to_vec(), "the file is empty"),
            ("junk", junk.clone(), "not a text, CSV or Excel file"),
            (
                "nul",
                b"phone\n1380013\x008000\n".to_vec(),
                "not a text, CSV or Excel file",
            ),
            ("broken xlsx", broken_xlsx, "the spreadsheet cannot be read"),
            ("broken xls", broken_xls, "the spreadsheet cannot be read"),
            (
                "mixed",
                mixed,
                "not valid UTF-8 or GB18030 text (mixed encodings?) near row 3",
            ),
            (
                "bad gb18030",
                gb_bad,
                "not valid UTF-8 or GB18030 text (mixed encodings?) near row 3",
            ),
        ];
        for (name, bytes, want) in table {
            match run(&bytes).0 {
                Err(e) => {
                    assert!(e.to_string().starts_with(want), "{name}: {e}");
                    assert!(!e.zh().is_empty());
                }
                Ok(r) => panic!("{name}: expected an error, got {r:?}"),
            }
        }
    }

    #[test]
    fn a_header_only_file_has_no_rows_and_the_empty_fingerprint() {
        let (receipt, rows) = accept("\u{feff}姓名,电话\n".as_bytes());
        assert!(rows.is_empty());
        assert_eq!(receipt.rows_read, 0);
        assert_eq!(receipt.fingerprint, EMPTY_FINGERPRINT);
    }

    #[test]
    fn the_fingerprint_does_not_depend_on_row_order_or_spelling() {
        let (a, _) = accept("电话\n13900139000\n13800138000\n".as_bytes());
        let (b, _) = accept("手机\n138 0013 8000\n+8613900139000\n13800138000\n".as_bytes());
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, EMPTY_FINGERPRINT);
    }

    #[test]
    fn more_rows_than_the_limit_is_a_whole_file_error() {
        let text = "电话\n13800138000\nbad\n13800138000\n\n13900139000\n";
        let (result, _) = run_with(text.as_bytes(), &Limits { max_rows: 3 });
        match result {
            Err(e @ RosterError::TooManyRows { limit: 3 }) => {
                assert_eq!(e.to_string(), "more than 3 data rows (limit)")
            }
            other => panic!("expected TooManyRows, got {other:?}"),
        }
        let (result, _) = run_with(text.as_bytes(), &Limits { max_rows: 4 });
        assert!(result.is_ok());
    }

    #[test]
    fn only_the_first_thousand_errors_are_kept() {
        let mut text = String::from("电话\n");
        for _ in 0..1200 {
            text.push_str("bad\n");
        }
        let (receipt, _) = accept(text.as_bytes());
        assert_eq!(receipt.errors.len(), 1000);
        assert_eq!(receipt.errors_omitted, 200);
        assert_eq!(receipt.errors[999].row, 1001);
    }

    #[test]
    fn a_consumer_that_goes_away_stops_the_read() {
        let text = "电话\n13800138000\n13900139000\n";
        let mut calls = 0;
        let result = read_roster(
            std::io::Cursor::new(text.as_bytes()),
            &Limits::default(),
            &mut |_| {
                calls += 1;
                Err(Stopped)
            },
        );
        assert!(matches!(result, Err(RosterError::Stopped)));
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_second_phone_column_and_data_without_a_header_are_dropped() {
        let text = "电话,手机,,姓名\n13800138000,13900139000,secret,张三\n";
        let (receipt, rows) = accept(text.as_bytes());
        assert_eq!(receipt.dropped_columns, ["手机", "column C"]);
        assert_eq!(phones(&rows), [(2, "13800138000".into())]);
        let json = serde_json::to_string(&receipt).unwrap_or_default();
        assert!(!json.contains("secret") && !json.contains("13900139000"));
        // Ragged rows: data past the header's last column is named by its letter too.
        let (receipt, _) = accept("电话\n13800138000,x,y\n".as_bytes());
        assert_eq!(receipt.dropped_columns, ["column B", "column C"]);
    }

    #[test]
    fn large_files_decode_the_same_across_chunk_boundaries() {
        let mut text = String::from("序号,姓名,电话\n");
        for i in 0..6000u64 {
            text.push_str(&format!("{i},张三丰{i},138{i:08}\n"));
        }
        let utf16: Vec<u8> = utf16le_with_bom(&text.replace(',', "\t"));
        let inputs = [
            ("csv-utf8", text.as_bytes().to_vec()),
            ("csv-gb18030", gbk(&text)),
            ("csv-utf16", utf16),
        ];
        for (format, bytes) in inputs {
            assert!(
                bytes.len() > 2 * super::CHUNK,
                "{format}: fixture too small"
            );
            let (receipt, rows) = accept(&bytes);
            assert_eq!(receipt.format, format);
            assert_eq!(receipt.accepted, 6000, "{format}");
            let last = rows.last().map(|r| (r.row, r.name.clone()));
            assert_eq!(
                last,
                Some((6001, Some("张三丰5999".to_owned()))),
                "{format}"
            );
        }
    }

    #[test]
    fn arbitrary_bytes_give_an_answer_never_a_panic() {
        let mut x: u64 = 7;
        let prefixes: [&[u8]; 6] = [
            b"",
            b"PK\x03\x04",
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
            &[0xEF, 0xBB, 0xBF],
            &[0xFF, 0xFE],
            "电话,姓名\n".as_bytes(),
        ];
        for round in 0..300 {
            let mut bytes = prefixes[round % prefixes.len()].to_vec();
            let len = (round * 37) % 700;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Mostly printable text with some high bytes, so both paths are reached.
                let b = (x >> 56) as u8;
                bytes.push(if round % 2 == 0 { b } else { b'0' + b % 12 });
            }
            let _ = run(&bytes);
        }
    }

    fn xlsx_fixture() -> Vec<u8> {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let text = Format::new().set_num_format("@");
        // Title on B2 (so the used range starts at row 2, column B), header on B3.
        let result = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
            let sheet = book.add_worksheet();
            sheet.write_string(1, 1, "唐家坊镇XX村2026年服务对象名单")?;
            for (col, h) in ["姓名", "身份证号", "联系电话", "服务日期", ""]
                .iter()
                .enumerate()
            {
                sheet.write_string(2, 1 + col as u16, *h)?;
            }
            sheet.write_string(3, 1, "张三")?;
            sheet.write_string(3, 2, "430527199001011234")?;
            sheet.write_number(3, 3, 13800138000.0)?;
            sheet.write_datetime_with_format(3, 4, ExcelDateTime::from_ymd(2026, 3, 5)?, &date)?;
            sheet.write_string(4, 1, "李四")?;
            sheet.write_number(4, 3, 7397654321.0)?;
            // Row 6 (index 5) left empty.
            sheet.write_string(6, 1, "王五")?;
            sheet.write_string_with_format(6, 3, "0739-7654321", &text)?;
            sheet.write_number(6, 4, 46000.0)?;
            sheet.write_string(6, 6, "备用")?;
            sheet.write_boolean(7, 3, true)?;
            sheet.write_number(8, 3, 13800138000.0)?;
            book.save_to_buffer()
        })();
        match result {
            Ok(bytes) => bytes,
            Err(e) => panic!("fixture: {e}"),
        }
    }

    #[test]
    fn an_xlsx_roster_reads_numbers_dates_and_absolute_row_numbers() {
        let (receipt, rows) = accept(&xlsx_fixture());
        assert_eq!(receipt.format, "xlsx");
        assert_eq!(receipt.header_row, 3);
        assert_eq!(
            phones(&rows),
            [(4, "13800138000".into()), (7, "07397654321".into())]
        );
        assert_eq!(rows[0].service_date.as_deref(), Some("2026-03-05"));
        assert_eq!(rows[1].service_date.as_deref(), Some("46000"));
        assert_eq!(rows[0].name.as_deref(), Some("张三"));
        assert_eq!(receipt.invalid, 2);
        assert_eq!(receipt.duplicates, 1);
        assert_eq!(
            (
                receipt.duplicate_rows[0].row,
                receipt.duplicate_rows[0].first_row
            ),
            (9, 4)
        );
        assert_eq!(receipt.errors[0].row, 5);
        assert!(
            receipt.errors[0].reason.contains("leading 0"),
            "{:?}",
            receipt.errors
        );
        assert_eq!(receipt.errors[1].row, 8);
        assert!(receipt.errors[1].reason.contains("TRUE/FALSE"));
        assert_eq!(receipt.dropped_columns, ["身份证号", "column G"]);
        let json = serde_json::to_string(&receipt).unwrap_or_default();
        assert!(!json.contains("430527199001011234"));
    }
}
