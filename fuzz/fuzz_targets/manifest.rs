//! The manifest parser and validator, on arbitrary `wapp.toml` text.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft::fuzzing::manifest(data));
