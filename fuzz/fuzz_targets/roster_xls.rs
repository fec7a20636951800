//! Any bytes as an uploaded roster, seeded with Excel 97–2003 (.xls) workbooks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: minyi_fuzz::let_calamine_panics_unwind(), |data: &[u8]| {
    minyi_fuzz::check_roster(data);
});
