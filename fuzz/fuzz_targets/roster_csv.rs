//! Any bytes as an uploaded roster: CSV in UTF-8 (with or without BOM), GBK/GB18030 and
//! UTF-16, and whatever else a file can hold. The corpus is text; the decoder tells the
//! format by content, so the mutations also reach the spreadsheet paths.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: minyi_fuzz::let_calamine_panics_unwind(), |data: &[u8]| {
    minyi_fuzz::check_roster(data);
});
