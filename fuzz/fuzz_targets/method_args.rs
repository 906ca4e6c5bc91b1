//! Argument parsing for method calls, on the `types` guest's functions.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft::fuzzing::method_args(data));
