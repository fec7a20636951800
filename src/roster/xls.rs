//! .xls rosters (Excel 97–2003): the cell records measured before calamine reads them.
//!
//! calamine builds every sheet of an .xls as a dense grid when it opens the workbook, and
//! reserves room for the size a sheet's DIMENSIONS record claims. A 2 KB file with one cell
//! at A1 and one at the last row and column would ask for billions of cells. So the
//! workbook stream is first walked record by record, as calamine will walk it (each sheet
//! from its BOUNDSHEET position to its EOF, embedded charts skipped), and the file is refused
//! when its sheets would span more than [`MAX_CELLS`] cells in all. Excel 2003's own sheet
//! is 65,536 rows × 256 columns; a roster uses a sliver of that.
//!
//! calamine calls are guarded, as for .xlsx: a panic on a malformed file is an error for
//! this upload.

use std::io::{Read, Seek, SeekFrom};

use calamine::{Reader, Xls};

use crate::roster::RosterError;
use crate::roster::rows::Frame;
use crate::roster::sheet::{feed_range, guarded};

/// Most cells (grid positions, filled or not) all sheets together may span: 8 Mi cells,
/// about 256 MB in calamine's grid.
pub const MAX_CELLS: u64 = 8 * 1024 * 1024;

/// Reads the first sheet of the workbook in `input` into `frame`.
pub fn read<R: Read + Seek>(mut input: R, frame: &mut Frame<'_>) -> Result<(), RosterError> {
    check_extent(&mut input)?;
    input.seek(SeekFrom::Start(0))?;
    let mut book: Xls<R> = guarded(|| Xls::new(input))?.map_err(broken)?;
    let range = guarded(|| match book.worksheet_range_at(0) {
        None => Err(RosterError::NoSheet),
        Some(Err(e)) => Err(broken(e)),
        Some(Ok(range)) => Ok(range),
    })??;
    feed_range(&range, frame)
}

fn broken<E: std::fmt::Display>(e: E) -> RosterError {
    RosterError::broken(e)
}

/// Refuses a workbook whose sheets would span more than [`MAX_CELLS`].
fn check_extent<R: Read + Seek>(input: &mut R) -> Result<(), RosterError> {
    let file_len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    let mut cfb = cfb::CompoundFile::open(&mut *input).map_err(broken)?;
    let mut stream = Vec::new();
    let opened = cfb
        .open_stream("Workbook")
        .or_else(|_| cfb.open_stream("Book"));
    match opened {
        Ok(s) => s.take(file_len).read_to_end(&mut stream).map_err(broken)?,
        // calamine reports a missing workbook stream in its own words.
        Err(_) => return Ok(()),
    };
    let cells = span_of_workbook(&stream);
    if cells > MAX_CELLS {
        return Err(RosterError::BrokenSpreadsheet(format!(
            "its sheets would span more than {MAX_CELLS} cells (Excel 2003 sheets hold at most 16777216)"
        )));
    }
    Ok(())
}

/// BIFF records as calamine reads them: type, length, data (CONTINUE records are separate
/// records here and are skipped, as they carry no cell).
fn records(mut stream: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let typ = u16::from_le_bytes([*stream.first()?, *stream.get(1)?]);
        let len = usize::from(u16::from_le_bytes([*stream.get(2)?, *stream.get(3)?]));
        let data = stream.get(4..4 + len)?;
        stream = &stream[4 + len..];
        Some((typ, data))
    })
}

fn u16_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
    ])))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Cells all sheets of a workbook stream would span: for each sheet, the larger of its
/// DIMENSIONS claim and the box around its cells, summed (saturating).
fn span_of_workbook(stream: &[u8]) -> u64 {
    let mut total: u64 = 0;
    // The globals come first, up to their EOF; sheets start where BOUNDSHEET records say.
    for (typ, data) in records(stream) {
        match typ {
            0x0085 => {
                let Some(pos) = u32_at(data, 0) else { continue };
                if let Some(sheet) = stream.get(pos as usize..) {
                    total = total.saturating_add(span_of_sheet(sheet));
                }
            }
            0x000A => break,
            _ => {}
        }
    }
    total
}

/// Cells one sheet would take in calamine: its grid, or the room its DIMENSIONS reserve.
fn span_of_sheet(sheet: &[u8]) -> u64 {
    let mut rows: Option<(u32, u32)> = None;
    let mut columns: Option<(u32, u32)> = None;
    let mut claimed: u64 = 0;
    let mut see = |row: u32, first: u32, last: u32| {
        rows = Some(rows.map_or((row, row), |(lo, hi)| (lo.min(row), hi.max(row))));
        columns = Some(columns.map_or((first, last), |(lo, hi)| (lo.min(first), hi.max(last))));
    };
    let mut depth = 0usize;
    let mut seen_bof = false;
    for (typ, data) in records(sheet) {
        if depth > 0 {
            match typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x0200 => claimed = claimed.max(dimensions_claim(data)),
            // Number, Label, RString, BoolErr, RK, LabelSst, Formula: row, column first.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                    see(row, col, col);
                }
            }
            // MulRk: row, first column, six bytes per cell, last column in the last two bytes.
            0x00BD => {
                let last = data.len().checked_sub(2).and_then(|at| u16_at(data, at));
                if let (Some(row), Some(first), Some(last)) =
                    (u16_at(data, 0), u16_at(data, 2), last)
                {
                    let by_length = first + (data.len().saturating_sub(6) / 6) as u32;
                    see(row, first, last.max(by_length));
                }
            }
            0x000A => break,
            _ => {}
        }
    }
    let grid = match (rows, columns) {
        (Some((r0, r1)), Some((c0, c1))) => {
            u64::from(r1 - r0 + 1).saturating_mul(u64::from(c1 - c0 + 1))
        }
        _ => 0,
    };
    grid.max(claimed)
}

/// The cells a DIMENSIONS record makes calamine reserve, computed as it does (BIFF5: u16
/// rows; BIFF8: u32 rows), with wrapping where it would wrap.
fn dimensions_claim(data: &[u8]) -> u64 {
    let (first_row, last_row, first_col, last_col) = match data.len() {
        10 => (
            u16_at(data, 0),
            u16_at(data, 2),
            u16_at(data, 4),
            u16_at(data, 6),
        ),
        14 | 16 => (
            u32_at(data, 0),
            u32_at(data, 4),
            u16_at(data, 8),
            u16_at(data, 10),
        ),
        _ => return 0,
    };
    let (Some(r0), Some(r1), Some(c0), Some(c1)) = (first_row, last_row, first_col, last_col)
    else {
        return 0;
    };
    let rows = u64::from(r1.wrapping_sub(r0).wrapping_add(1));
    // calamine takes a first column past 0xFF as 0; either way, count the wider.
    let cols = u64::from(c1.wrapping_sub(c0).wrapping_add(1)).max(u64::from(c1.wrapping_add(1)));
    rows.saturating_mul(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend_from_slice(&(data.len() as u16).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend_from_slice(&col.to_le_bytes());
        d.extend_from_slice(&[0; 10]);
        record(0x0203, &d)
    }

    /// A workbook stream: globals with one BOUNDSHEET, then the sheet's records.
    fn workbook(sheet: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(0x0809, &[0; 16]);
        let eof = record(0x000A, &[]);
        let boundsheet_len = 4 + 8;
        let pos = (bof.len() + boundsheet_len + eof.len()) as u32;
        let mut bs = pos.to_le_bytes().to_vec();
        bs.extend_from_slice(&[0, 0, 1, 0]);
        let mut s = bof.clone();
        s.extend(record(0x0085, &bs));
        s.extend(eof.clone());
        s.extend(bof);
        for r in sheet {
            s.extend_from_slice(r);
        }
        s.extend(eof);
        s
    }

    #[test]
    fn the_span_is_the_box_around_the_cells() {
        assert_eq!(
            span_of_workbook(&workbook(&[number(0, 0), number(9, 2)])),
            30
        );
        // Far-apart cells: the grid calamine would build.
        let far = workbook(&[number(0, 0), number(65535, 255)]);
        assert_eq!(span_of_workbook(&far), 65536 * 256);
        assert!(span_of_workbook(&far) > MAX_CELLS);
    }

    #[test]
    fn a_dimensions_claim_counts_even_without_cells() {
        let mut d = 0u32.to_le_bytes().to_vec();
        d.extend_from_slice(&4_000_000_000u32.to_le_bytes());
        d.extend_from_slice(&[0, 0, 0, 1, 0, 0]);
        let claim = workbook(&[record(0x0200, &d)]);
        assert!(span_of_workbook(&claim) > MAX_CELLS);
    }

    #[test]
    fn cells_in_an_embedded_chart_are_not_counted() {
        let chart = vec![
            record(0x0809, &[0; 16]),
            number(60000, 200),
            record(0x000A, &[]),
        ];
        let mut sheet = vec![number(0, 0)];
        sheet.extend(chart);
        sheet.push(number(1, 1));
        assert_eq!(span_of_workbook(&workbook(&sheet)), 4);
    }

    #[test]
    fn truncated_records_end_the_walk() {
        let mut s = workbook(&[number(0, 0)]);
        s.truncate(s.len() - 3);
        let _ = span_of_workbook(&s);
        assert_eq!(span_of_workbook(&[0x09, 0x08, 0xFF]), 0);
    }
}
