#![no_main]
//! Periods, times, durations, conditions, metric math and dashboard bodies.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checkup::fuzzing::text_fields(data);
});
