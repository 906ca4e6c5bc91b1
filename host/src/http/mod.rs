//! HTTP: the outbound allow-list that every `wasi:http` request is checked
//! against, and `weft serve` for `wasi:http/proxy` components.

pub mod outbound;
pub mod serve;
