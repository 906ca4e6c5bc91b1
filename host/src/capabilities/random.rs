//! `wasi:random`: secure random bytes, and the insecure generator and seed.
//!
//! | WASI | interfaces                                |
//! |------|-------------------------------------------|
//! | 0.2  | `random`, `insecure`, `insecure-seed`     |
//! | 0.3  | `random`, `insecure`, `insecure-seed`     |

use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::bindings::random;
use wasmtime_wasi::p3::bindings::random as random3;
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:random/random" => random::random::add_to_linker::<T, WasiRandom>(l, T::random),
    "wasi:random/insecure" => random::insecure::add_to_linker::<T, WasiRandom>(l, T::random),
    "wasi:random/insecure-seed" => {
        random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)
    },
}

wasi_interfaces! {
    p3 for <T: WasiView>, l;
    "wasi:random/random" => random3::random::add_to_linker::<T, WasiRandom>(l, T::random),
    "wasi:random/insecure" => random3::insecure::add_to_linker::<T, WasiRandom>(l, T::random),
    "wasi:random/insecure-seed" => {
        random3::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)
    },
}
