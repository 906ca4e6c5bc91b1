//! `wasi:io`: errors, pollables and streams, which the other groups' handles
//! are made of. It reaches nothing outside the instance: only the store's
//! resource table.
//!
//! | WASI | interfaces                     |
//! |------|--------------------------------|
//! | 0.2  | `error`, `poll`, `streams`     |
//! | 0.3  | none: 0.3 has no `wasi:io`; its streams and futures are the component model's own |

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_io::bindings::wasi::io;

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:io/error" => io::error::add_to_linker::<T, Io>(l, |t| t.ctx().table),
    "wasi:io/poll" => io::poll::add_to_linker::<T, Io>(l, |t| t.ctx().table),
    "wasi:io/streams" => io::streams::add_to_linker::<T, Io>(l, |t| t.ctx().table),
}

/// `wasi:io` reaches only the store's resource table.
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}
