//! What the two spreadsheet readers ([`super::xlsx`], [`super::xls`]) share: calamine's
//! cells as the roster sees them, a sheet's rows fed to the frame, and calamine calls that
//! cannot take the process down.

use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, Range};

use crate::roster::RosterError;
use crate::roster::rows::{Cell, Frame, RawRow};

/// Runs a calamine call, turning a panic inside it into an error for this file.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, RosterError> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| RosterError::BrokenSpreadsheet("the spreadsheet reader failed".into()))
}

/// Feeds a sheet's rows; calamine's range starts at the first non-empty cell, so its start
/// is added to give absolute row numbers and column letters.
pub(crate) fn feed_range(range: &Range<Data>, frame: &mut Frame<'_>) -> Result<(), RosterError> {
    let Some((first_row, first_column)) = range.start() else {
        return Ok(());
    };
    for (i, cells) in range.rows().enumerate() {
        let row = u64::from(first_row) + i as u64 + 1;
        frame.feed(
            row,
            &SheetRow {
                cells,
                first_column: first_column as usize,
            },
        )?;
    }
    Ok(())
}

struct SheetRow<'a> {
    cells: &'a [Data],
    first_column: usize,
}

impl RawRow for SheetRow<'_> {
    fn width(&self) -> usize {
        self.cells.len()
    }

    fn first_column(&self) -> usize {
        self.first_column
    }

    fn cell(&self, i: usize) -> Result<Cell<'_>, RosterError> {
        Ok(cell_of_data(self.cells.get(i)))
    }

    fn is_blank(&self, i: usize) -> bool {
        blank_data(self.cells.get(i))
    }
}

/// A spreadsheet cell as the roster sees it (`None` is a cell past the row's end).
pub(crate) fn cell_of_data(data: Option<&Data>) -> Cell<'_> {
    match data {
        None | Some(Data::Empty) => Cell::Empty,
        Some(Data::String(s)) => Cell::Text(s),
        Some(Data::Float(f)) => Cell::Float(*f),
        Some(Data::Int(n)) => Cell::Int(*n),
        Some(Data::Bool(b)) => Cell::Bool(*b),
        Some(Data::DateTime(dt)) if dt.is_datetime() => {
            let (year, month, day, ..) = dt.to_ymd_hms_milli();
            Cell::Date { year, month, day }
        }
        // A duration ([h]:mm) is a number of days; nobody means it as a date.
        Some(Data::DateTime(dt)) => Cell::Float(dt.as_f64()),
        Some(Data::DateTimeIso(s)) => Cell::DateIso(s),
        Some(Data::DurationIso(s)) => Cell::Text(s),
        Some(Data::Error(e)) => Cell::Error(e.to_string()),
    }
}

/// Whether a spreadsheet cell holds nothing but spaces.
pub(crate) fn blank_data(data: Option<&Data>) -> bool {
    match data {
        None | Some(Data::Empty) => true,
        Some(Data::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}
