#![no_main]
//! checkup.toml: any text gives a configuration or an error naming the line, never a panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checkup::fuzzing::config(data);
});
