//! libFuzzer entry point; the checks are in `hoist_fuzz::hosts_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hoist_fuzz::hosts_toml(data));
