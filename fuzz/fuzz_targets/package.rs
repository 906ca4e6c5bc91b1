//! Package loading on arbitrary bytes as the wasm: hash check, core-module detection, adaptation, import check, compilation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft::fuzzing::package(data));
