#![no_main]
//! Incident CSV files: any bytes give incidents or an error naming the line, never a panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checkup::fuzzing::incidents(data);
});
