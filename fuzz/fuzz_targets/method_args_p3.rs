//! See `weft::fuzzing::method_args_p3`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft::fuzzing::method_args_p3(data));
