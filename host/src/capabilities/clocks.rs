//! `wasi:clocks`: the wall clock and the monotonic clock, read from the host.
//!
//! | WASI | interfaces                        |
//! |------|-----------------------------------|
//! | 0.2  | `wall-clock`, `monotonic-clock`   |
//! | 0.3  | `types`, `monotonic-clock`, `system-clock` |

use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::p2::bindings::clocks;
use wasmtime_wasi::p3::bindings::clocks as clocks3;

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:clocks/wall-clock" => clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks),
    "wasi:clocks/monotonic-clock" => {
        clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
    },
}

wasi_interfaces! {
    p3 for <T: WasiView>, l;
    "wasi:clocks/types" => clocks3::types::add_to_linker::<T, WasiClocks>(l, T::clocks),
    "wasi:clocks/monotonic-clock" => {
        clocks3::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
    },
    "wasi:clocks/system-clock" => {
        clocks3::system_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
    },
}
