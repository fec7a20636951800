//! An .xlsx roster whose XML parts come from the fuzzer.
//!
//! Random bytes inside a deflate stream rarely get past the zip layer, so the input is the
//! workbook's parts separated by NUL bytes, packed here into a zip ("stored", so the XML is
//! what the fuzzer wrote); a part the input leaves out is the minimal valid one. Inputs that
//! start with the zip signature are taken whole, as uploaded files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: minyi_fuzz::let_calamine_panics_unwind(), |data: &[u8]| {
    if data.starts_with(b"PK\x03\x04") {
        minyi_fuzz::check_roster(data);
    } else {
        minyi_fuzz::check_roster(&minyi_fuzz::xlsx::pack(data));
    }
});
