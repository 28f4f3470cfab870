//! libFuzzer entry point; the checks are in `hoist_fuzz::challenge`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hoist_fuzz::challenge(data));
