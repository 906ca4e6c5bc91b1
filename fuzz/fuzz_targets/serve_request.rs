//! See `weft::fuzzing::serve_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft::fuzzing::serve_request(data));
