//! A results file from other interviewing software (CSV, decoded to text as uploaded).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    minyi_fuzz::check_results_import(&String::from_utf8_lossy(data));
});
