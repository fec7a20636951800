//! Limits on what one uploaded file may hold, shared by every reader of uploads (rosters,
//! fieldwork results, assessment and calendar files) and by the command line's defaults.

/// Most errors listed for one file; the rest are only counted.
pub const MAX_ERRORS: usize = 1000;

/// Most data rows accepted in one roster file (`--max-rows` / `MINYI_MAX_ROWS` by default).
pub const MAX_ROWS: u64 = 1_000_000;
