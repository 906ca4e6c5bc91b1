//! `wasi:random`: secure random bytes, and the insecure generator and seed.
//!
//! | WASI | interfaces                                |
//! |------|-------------------------------------------|
//! | 0.2  | `random`, `insecure`, `insecure-seed`     |

use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::bindings::random;
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:random/random" => random::random::add_to_linker::<T, WasiRandom>(l, T::random),
    "wasi:random/insecure" => random::insecure::add_to_linker::<T, WasiRandom>(l, T::random),
    "wasi:random/insecure-seed" => {
        random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)
    },
}
