//! `wasi:sockets`: TCP, UDP and name lookup. Granting the group links the
//! interfaces, not the network: the instance's address check denies every
//! address and name lookups stay disabled (wasmtime-wasi's defaults, which
//! [`crate::instance`] keeps), until the manifest can carry an allow-list.
//!
//! | WASI | interfaces                                                          |
//! |------|---------------------------------------------------------------------|
//! | 0.2  | `network`, `instance-network`, `tcp`, `tcp-create-socket`, `udp`,   |
//! |      | `udp-create-socket`, `ip-name-lookup`                               |
//! | 0.3  | `types`, `ip-name-lookup`                                           |

use wasmtime::component::Linker;
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::bindings::{LinkOptions, sockets};
use wasmtime_wasi::p3::bindings::sockets as sockets3;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:sockets/network" => {
        let options = LinkOptions::default();
        sockets::network::add_to_linker::<T, WasiSockets>(l, &(&options).into(), T::sockets)
    },
    "wasi:sockets/instance-network" => {
        sockets::instance_network::add_to_linker::<T, WasiSockets>(l, T::sockets)
    },
    "wasi:sockets/tcp" => sockets::tcp::add_to_linker::<T, WasiSockets>(l, T::sockets),
    "wasi:sockets/tcp-create-socket" => {
        sockets::tcp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
    },
    "wasi:sockets/udp" => sockets::udp::add_to_linker::<T, WasiSockets>(l, T::sockets),
    "wasi:sockets/udp-create-socket" => {
        sockets::udp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
    },
    "wasi:sockets/ip-name-lookup" => {
        sockets::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)
    },
}

wasi_interfaces! {
    p3 for <T: WasiView>, l;
    "wasi:sockets/types" => sockets3::types::add_to_linker::<T, WasiSockets>(l, T::sockets),
    "wasi:sockets/ip-name-lookup" => {
        sockets3::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)
    },
}
