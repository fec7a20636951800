//! .xlsx rosters: the zip checked before anything is inflated, the first sheet streamed.
//!
//! An .xlsx is a zip of XML parts, and calamine trusts what the parts say. So before it
//! sees the file:
//! - the zip directory may declare at most [`MAX_ENTRIES`] parts and, in all, at most
//!   [`inflate_limit`] bytes unpacked; then every part is inflated once into nothing and
//!   counted, so a part that lies about its size is caught at the limit, not after;
//! - the shared-strings part may not announce more strings (`uniqueCount`) than it has room
//!   for: calamine reserves memory for that many up front.
//!
//! The first sheet is then read cell by cell, one row in memory at a time: two cells at A1
//! and XFD1048576 are two cells here, not the 17 billion of a dense grid. calamine calls are
//! guarded, so a panic inside it on a malformed part is a broken-spreadsheet error for this
//! upload, not a crash of the request.

use std::io::{self, Read, Seek, SeekFrom, Write};

use calamine::{Data, DataRef, Reader, Xlsx};

use crate::roster::rows::{Cell, Frame, RawRow};
use crate::roster::sheet::{blank_data, cell_of_data, guarded};
use crate::roster::{MAX_COLUMNS, RosterError};

/// Most parts a workbook may have; Excel writes a dozen or two.
pub const MAX_ENTRIES: usize = 10_000;

/// Unpacked bytes allowed for a file of `file_len` bytes: a hundred times the file (XML
/// compresses about tenfold), at least 16 MiB, at most 512 MiB.
pub fn inflate_limit(file_len: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    file_len.saturating_mul(100).clamp(16 * MIB, 512 * MIB)
}

/// Reads the first sheet of the workbook in `input` into `frame`.
pub fn read<R: Read + Seek>(mut input: R, frame: &mut Frame<'_>) -> Result<(), RosterError> {
    check_zip(&mut input)?;
    input.seek(SeekFrom::Start(0))?;
    let mut book: Xlsx<R> = guarded(|| Xlsx::new(input))?.map_err(broken)?;
    let Some(name) = book.sheet_names().first().cloned() else {
        return Err(RosterError::NoSheet);
    };
    guarded(|| stream_sheet(&mut book, &name, frame))?
}

fn broken<E: std::fmt::Display>(e: E) -> RosterError {
    RosterError::broken(e)
}

fn stream_sheet<R: Read + Seek>(
    book: &mut Xlsx<R>,
    name: &str,
    frame: &mut Frame<'_>,
) -> Result<(), RosterError> {
    let mut cells = book.worksheet_cells_reader(name).map_err(broken)?;
    // The row being collected (0-based) and its cells as (column, value).
    let mut row: Option<u32> = None;
    let mut buffer: Vec<(u32, Data)> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(broken)? {
        let (r, c) = cell.get_position();
        if row != Some(r) {
            if let Some(done) = row {
                if r < done {
                    return Err(RosterError::BrokenSpreadsheet(format!(
                        "row {} comes after row {} in the sheet",
                        u64::from(r) + 1,
                        u64::from(done) + 1
                    )));
                }
                feed_row(done, &mut buffer, frame)?;
            }
            row = Some(r);
        }
        if c as usize >= MAX_COLUMNS {
            return Err(RosterError::TooManyColumns {
                row: u64::from(r) + 1,
            });
        }
        if !matches!(cell.get_value(), DataRef::Empty) {
            buffer.push((c, Data::from(cell.get_value().clone())));
            // The same cell written over and over stays one cell.
            if buffer.len() > 2 * MAX_COLUMNS {
                dedup_row(&mut buffer);
            }
        }
    }
    if let Some(done) = row {
        feed_row(done, &mut buffer, frame)?;
    }
    Ok(())
}

/// Feeds one sheet row (0-based `row`) whose cells may be in any column order.
fn feed_row(
    row: u32,
    buffer: &mut Vec<(u32, Data)>,
    frame: &mut Frame<'_>,
) -> Result<(), RosterError> {
    if buffer.is_empty() {
        return Ok(());
    }
    dedup_row(buffer);
    let sparse = SparseRow { cells: buffer };
    let result = frame.feed(u64::from(row) + 1, &sparse);
    buffer.clear();
    result
}

/// Sorts a row's cells by column; of cells at the same place the later wins, as in a dense
/// sheet.
fn dedup_row(buffer: &mut Vec<(u32, Data)>) {
    buffer.reverse();
    buffer.sort_by_key(|(c, _)| *c);
    buffer.dedup_by_key(|(c, _)| *c);
}

/// A sheet row as the cells it has, sorted by column; the rest are empty. Every row starts
/// at column A, so that a column's index is the same in the header and in the data.
struct SparseRow<'a> {
    cells: &'a [(u32, Data)],
}

impl SparseRow<'_> {
    fn get(&self, i: usize) -> Option<&Data> {
        let column = u32::try_from(i).ok()?;
        let at = self.cells.binary_search_by_key(&column, |(c, _)| *c).ok()?;
        Some(&self.cells[at].1)
    }
}

impl RawRow for SparseRow<'_> {
    fn width(&self) -> usize {
        self.cells.last().map_or(0, |(c, _)| *c as usize + 1)
    }

    fn first_column(&self) -> usize {
        0
    }

    fn cell(&self, i: usize) -> Result<Cell<'_>, RosterError> {
        Ok(cell_of_data(self.get(i)))
    }

    fn is_blank(&self, i: usize) -> bool {
        blank_data(self.get(i))
    }

    fn non_blank(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        Box::new(
            self.cells
                .iter()
                .filter(|(_, d)| !blank_data(Some(d)))
                .map(|(c, _)| *c as usize),
        )
    }
}

// ---------------------------------------------------------------------------------------
// The zip, before calamine

/// Checks the directory and then the real unpacked size of every part.
fn check_zip<R: Read + Seek>(input: &mut R) -> Result<(), RosterError> {
    let file_len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    let limit = inflate_limit(file_len);
    let mut zip = zip::ZipArchive::new(&mut *input).map_err(broken)?;
    if zip.len() > MAX_ENTRIES {
        return Err(RosterError::BrokenSpreadsheet(format!(
            "the zip holds {} parts (more than {MAX_ENTRIES})",
            zip.len()
        )));
    }
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(broken)?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > limit {
        return Err(RosterError::Unpacked { limit });
    }
    let mut left = limit;
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(entry) => entry,
            // Encrypted or of an unknown method: calamine reports it in its own words.
            Err(zip::result::ZipError::UnsupportedArchive(_)) => continue,
            Err(e) => return Err(broken(e)),
        };
        let shared_strings = is_shared_strings(entry.name_raw());
        let mut sink = Counted {
            written: 0,
            scan: shared_strings.then(UniqueCountScan::default),
        };
        let copied = io::copy(&mut (&mut entry).take(left + 1), &mut sink);
        match copied {
            Ok(n) if n > left => return Err(RosterError::Unpacked { limit }),
            Ok(n) => left -= n,
            Err(e) => return Err(broken(e)),
        }
        if let Some(scan) = sink.scan {
            // Each string takes at least `<si/>`, five bytes; four is generous.
            if scan.largest > sink.written / 4 {
                return Err(RosterError::BrokenSpreadsheet(format!(
                    "the shared strings announce more strings than their {} bytes can hold",
                    sink.written
                )));
            }
        }
    }
    Ok(())
}

fn is_shared_strings(name: &[u8]) -> bool {
    name.to_ascii_lowercase().ends_with(b"sharedstrings.xml")
}

/// Counts what is written to it (and looks for `uniqueCount` on the way).
struct Counted {
    written: u64,
    scan: Option<UniqueCountScan>,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len() as u64;
        if let Some(scan) = &mut self.scan {
            for &b in buf {
                scan.byte(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Finds every `uniqueCount = "N"` in a stream, in any chunking, and keeps the largest N.
#[derive(Default)]
struct UniqueCountScan {
    state: Scan,
    value: u64,
    largest: u64,
}

#[derive(Default, Clone, Copy)]
enum Scan {
    #[default]
    Start,
    Key(usize),
    Equals,
    Quote,
    Sign,
    Digits,
}

const KEY: &[u8] = b"uniqueCount";

impl UniqueCountScan {
    fn byte(&mut self, b: u8) {
        self.state = match (self.state, b) {
            (Scan::Start, _) if b == KEY[0] => Scan::Key(1),
            (Scan::Start, _) => Scan::Start,
            (Scan::Key(n), _) if b == KEY[n] && n + 1 == KEY.len() => Scan::Equals,
            (Scan::Key(n), _) if b == KEY[n] => Scan::Key(n + 1),
            (Scan::Equals, _) if b.is_ascii_whitespace() => Scan::Equals,
            (Scan::Equals, b'=') => Scan::Quote,
            (Scan::Quote, _) if b.is_ascii_whitespace() => Scan::Quote,
            (Scan::Quote, b'"' | b'\'') => {
                self.value = 0;
                Scan::Sign
            }
            (Scan::Sign, b'+') => Scan::Digits,
            (Scan::Sign | Scan::Digits, b'0'..=b'9') => {
                self.value = self
                    .value
                    .saturating_mul(10)
                    .saturating_add(u64::from(b - b'0'));
                self.largest = self.largest.max(self.value);
                Scan::Digits
            }
            _ if b == KEY[0] => Scan::Key(1),
            _ => Scan::Start,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::{Limits, Receipt, Row, read_roster};
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;

    const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;

    /// A workbook of one sheet with these sheetData rows and shared strings, `method`-packed.
    fn book(rows: &str, strings: &[&str], method: zip::CompressionMethod) -> Vec<u8> {
        let si: String = strings
            .iter()
            .map(|s| format!("<si><t>{s}</t></si>"))
            .collect();
        let n = strings.len();
        let sst = format!(r#"<sst {NS} count="{n}" uniqueCount="{n}">{si}</sst>"#);
        book_with(rows, &sst, method)
    }

    fn book_with(rows: &str, sst: &str, method: zip::CompressionMethod) -> Vec<u8> {
        let parts = [
            ("[Content_Types].xml".to_owned(), r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_owned()),
            ("_rels/.rels".to_owned(), r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
            ("xl/workbook.xml".to_owned(), format!(r#"<workbook {NS} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>"#)),
            ("xl/_rels/workbook.xml.rels".to_owned(), r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_owned()),
            ("xl/sharedStrings.xml".to_owned(), sst.to_owned()),
            ("xl/worksheets/sheet1.xml".to_owned(), format!("<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>")),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(method);
        for (name, xml) in parts {
            zip.start_file(name, options).unwrap();
            zip.write_all(xml.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn read_book(bytes: &[u8]) -> (Result<Receipt, RosterError>, Vec<Row>) {
        let mut rows = Vec::new();
        let result = read_roster(Cursor::new(bytes), &Limits::default(), &mut |row| {
            rows.push(row);
            Ok(())
        });
        (result, rows)
    }

    const HEADER: &str =
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>"#;

    /// Found by fuzzing: calamine's dense grid for two far-apart cells asked for 512 GB.
    #[test]
    fn cells_far_apart_are_read_as_the_few_cells_they_are() {
        let rows = format!(
            r#"{HEADER}<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>13800138000</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#
        );
        let bytes = book(
            &rows,
            &["姓名", "电话", "张三"],
            zip::CompressionMethod::Deflated,
        );
        let (receipt, got) = read_book(&bytes);
        let receipt = receipt.unwrap();
        assert_eq!((receipt.accepted, receipt.invalid), (1, 1));
        assert_eq!(got[0].row, 2);
        assert_eq!(got[0].name.as_deref(), Some("张三"));
        assert_eq!(receipt.errors[0].row, 1_048_576);
        assert_eq!(receipt.dropped_columns, ["column XFD"]);
    }

    #[test]
    fn a_cell_past_column_xfd_is_refused() {
        let rows = format!(r#"{HEADER}<row r="2"><c r="XFE2"><v>1</v></c></row>"#);
        let bytes = book(&rows, &["姓名", "电话"], zip::CompressionMethod::Stored);
        assert!(matches!(
            read_book(&bytes).0,
            Err(RosterError::TooManyColumns { row: 2 })
        ));
    }

    #[test]
    fn cells_without_references_rows_out_of_order_and_repeated_cells() {
        // No r attributes: the cells follow one another from column A.
        let loose = r#"<row><c t="s"><v>1</v></c></row><row><c><v>13800138000</v></c></row>"#;
        let (receipt, got) =
            read_book(&book(loose, &["x", "电话"], zip::CompressionMethod::Stored));
        assert_eq!(receipt.unwrap().header_row, 1);
        assert_eq!(got[0].row, 2);
        // The same cell twice: the later one counts, as Excel would show it.
        let twice = format!(
            r#"{HEADER}<row r="2"><c r="B2"><v>1</v></c><c r="B2"><v>13900139000</v></c></row>"#
        );
        let (_, got) = read_book(&book(
            &twice,
            &["姓名", "电话"],
            zip::CompressionMethod::Stored,
        ));
        assert_eq!(got[0].phone.as_str(), "13900139000");
        let backwards = format!(
            r#"{HEADER}<row r="3"><c r="B3"><v>13800138000</v></c></row><row r="2"><c r="B2"><v>13900139000</v></c></row>"#
        );
        match read_book(&book(
            &backwards,
            &["姓名", "电话"],
            zip::CompressionMethod::Stored,
        ))
        .0
        {
            Err(RosterError::BrokenSpreadsheet(m)) => {
                assert_eq!(m, "row 2 comes after row 3 in the sheet")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_zip_bomb_is_refused_from_its_directory_before_inflating() {
        // 64 MiB of spaces inside sheetData deflate to about 64 KB.
        let rows = format!("{HEADER}{}", " ".repeat(64 * 1024 * 1024));
        let bytes = book(&rows, &["姓名", "电话"], zip::CompressionMethod::Deflated);
        assert!(bytes.len() < 200 * 1024, "{}", bytes.len());
        match read_book(&bytes).0 {
            Err(e @ RosterError::Unpacked { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "the spreadsheet unpacks to more than 16 MiB: it is damaged or not a roster"
                );
                assert!(e.zh().contains("解压后超过 16 MB"));
            }
            other => panic!("expected Unpacked, got {other:?}"),
        }
    }

    /// The same bomb with its sizes in the directory and local headers rewritten to 1 KB:
    /// caught while inflating, at the limit.
    #[test]
    fn a_zip_that_lies_about_its_sizes_is_caught_while_inflating() {
        let rows = format!("{HEADER}{}", " ".repeat(64 * 1024 * 1024));
        let mut bytes = book(&rows, &["姓名", "电话"], zip::CompressionMethod::Deflated);
        let mut patched = 0;
        for (signature, size_at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
            let mut at = 0;
            while let Some(found) = bytes[at..].windows(4).position(|w| w == signature) {
                let start = at + found;
                let size = u32::from_le_bytes(
                    bytes[start + size_at..start + size_at + 4]
                        .try_into()
                        .unwrap(),
                );
                if size > 1024 * 1024 {
                    bytes[start + size_at..start + size_at + 4]
                        .copy_from_slice(&1024u32.to_le_bytes());
                    patched += 1;
                }
                at = start + 4;
            }
        }
        assert_eq!(patched, 2);
        let started = std::time::Instant::now();
        let result = read_book(&bytes).0;
        assert!(
            matches!(
                result,
                Err(RosterError::Unpacked { .. } | RosterError::BrokenSpreadsheet(_))
            ),
            "{result:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn shared_strings_announcing_more_than_they_hold_are_refused() {
        let rows = format!(r#"{HEADER}<row r="2"><c r="B2"><v>13800138000</v></c></row>"#);
        let strings = r#"<si><t>姓名</t></si><si><t>电话</t></si>"#;
        let with_count = |count: &str| {
            let sst = format!(r#"<sst {NS} count = '2' uniqueCount = '{count}'>{strings}</sst>"#);
            book_with(&rows, &sst, zip::CompressionMethod::Deflated)
        };
        // A wrong but harmless count is calamine's business, not an error.
        assert_eq!(read_book(&with_count("3")).0.unwrap().accepted, 1);
        // calamine would reserve room for a trillion strings up front.
        match read_book(&with_count("1000000000000")).0 {
            Err(RosterError::BrokenSpreadsheet(m)) => {
                assert!(
                    m.starts_with("the shared strings announce more strings than their"),
                    "{m}"
                )
            }
            other => panic!("expected BrokenSpreadsheet, got {other:?}"),
        }
    }

    fn scan(chunks: &[&str]) -> u64 {
        let mut s = UniqueCountScan::default();
        for c in chunks {
            for &b in c.as_bytes() {
                s.byte(b);
            }
        }
        s.largest
    }

    #[test]
    fn unique_count_is_found_across_chunks_spacing_and_quotes() {
        assert_eq!(scan(&[r#"<sst count="9" uniqueCount="42">"#]), 42);
        assert_eq!(scan(&["<sst unique", "Count = '1", "23' >"]), 123);
        assert_eq!(scan(&[r#"<sst uniqueCount="+7"/>"#]), 7);
        assert_eq!(
            scan(&[r#"<sst uniqueCount="99999999999999999999999"/>"#]),
            u64::MAX
        );
        assert_eq!(scan(&[r#"<sst count="5"/><si><t>uniqueCount</t></si>"#]), 0);
        assert_eq!(scan(&[r#"uuniqueCount="3" uniqueCount="4""#]), 4);
    }

    #[test]
    fn the_unpacked_limit_grows_with_the_file_within_bounds() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(inflate_limit(0), 16 * MIB);
        assert_eq!(inflate_limit(MIB), 100 * MIB);
        assert_eq!(inflate_limit(50 * MIB), 512 * MIB);
        assert_eq!(inflate_limit(u64::MAX), 512 * MIB);
    }
}
