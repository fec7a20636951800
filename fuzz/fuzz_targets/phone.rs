//! The phone normaliser, on text cells and on numeric cells.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = <[u8; 8]>::try_from(data.get(..8).unwrap_or_default()) {
        minyi_fuzz::check_phone_number(f64::from_le_bytes(bytes));
    }
    minyi_fuzz::check_phone(&String::from_utf8_lossy(data));
});
