#![no_main]
//! Chaos Toolkit journals: any bytes give a journal or an error, never a panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checkup::fuzzing::journal(data);
});
