//! Capability groups: the table from each WASI group a manifest can grant to
//! the interfaces it links, the per-app linker built from the granted groups
//! only, and the import pre-check that refuses an ungranted import by name.
//!
//! | group             | interfaces linked                                                   |
//! |-------------------|---------------------------------------------------------------------|
//! | `wasi:io`         | `error`, `poll`, `streams`                                          |
//! | `wasi:cli`        | `environment`, `exit`, `stdin`, `stdout`, `stderr`, `terminal-*`    |
//! | `wasi:clocks`     | `wall-clock`, `monotonic-clock`                                     |
//! | `wasi:filesystem` | `types`, `preopens`                                                 |
//! | `wasi:random`     | `random`, `insecure`, `insecure-seed`                               |
//! | `wasi:sockets`    | `network`, `instance-network`, `tcp`, `tcp-create-socket`, `udp`,   |
//! |                   | `udp-create-socket`, `ip-name-lookup`                               |
//! | `wasi:http`       | `types`, `outgoing-handler`                                         |
//!
//! Granting a group grants the interfaces, not the resources behind them: the
//! files a guest sees are its mounts, the sockets it may use are none until an
//! allow-list exists, and so on (see `wasi_config`).

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings as wasi;
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi_http::WasiHttp;
use wasmtime_wasi_http::p2::bindings as wasi_http;

use crate::wasi_config::InstanceState;
use crate::{Error, ErrorKind, Result};

/// A WASI group that a manifest can list in `imports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Io,
    Cli,
    Clocks,
    Filesystem,
    Random,
    Sockets,
    Http,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Io,
        Group::Cli,
        Group::Clocks,
        Group::Filesystem,
        Group::Random,
        Group::Sockets,
        Group::Http,
    ];

    /// The group's name as a manifest writes it.
    pub fn name(self) -> &'static str {
        match self {
            Group::Io => "wasi:io",
            Group::Cli => "wasi:cli",
            Group::Clocks => "wasi:clocks",
            Group::Filesystem => "wasi:filesystem",
            Group::Random => "wasi:random",
            Group::Sockets => "wasi:sockets",
            Group::Http => "wasi:http",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The interfaces the group links, without package versions.
    pub fn interfaces(self) -> &'static [&'static str] {
        match self {
            Group::Io => &["wasi:io/error", "wasi:io/poll", "wasi:io/streams"],
            Group::Cli => &[
                "wasi:cli/environment",
                "wasi:cli/exit",
                "wasi:cli/stdin",
                "wasi:cli/stdout",
                "wasi:cli/stderr",
                "wasi:cli/terminal-input",
                "wasi:cli/terminal-output",
                "wasi:cli/terminal-stdin",
                "wasi:cli/terminal-stdout",
                "wasi:cli/terminal-stderr",
            ],
            Group::Clocks => &["wasi:clocks/wall-clock", "wasi:clocks/monotonic-clock"],
            Group::Filesystem => &["wasi:filesystem/types", "wasi:filesystem/preopens"],
            Group::Random => &[
                "wasi:random/random",
                "wasi:random/insecure",
                "wasi:random/insecure-seed",
            ],
            Group::Sockets => &[
                "wasi:sockets/network",
                "wasi:sockets/instance-network",
                "wasi:sockets/tcp",
                "wasi:sockets/tcp-create-socket",
                "wasi:sockets/udp",
                "wasi:sockets/udp-create-socket",
                "wasi:sockets/ip-name-lookup",
            ],
            Group::Http => &["wasi:http/types", "wasi:http/outgoing-handler"],
        }
    }

    /// The group that links an interface (given without its version), if any.
    pub fn granting(interface: &str) -> Option<Group> {
        Group::ALL
            .into_iter()
            .find(|g| g.interfaces().contains(&interface))
    }
}

/// Adds one interface of the table above (named without its version) to the
/// linker, with its own wasmtime-wasi or wasmtime-wasi-http `add_to_linker`.
fn link_interface(interface: &str, l: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    type T = InstanceState;
    use wasi::{cli, clocks, filesystem, random, sockets};
    use wasmtime_wasi_http::WasiHttpView;
    use wasmtime_wasi_io::bindings::wasi::io;
    match interface {
        "wasi:io/error" => io::error::add_to_linker::<T, Io>(l, |t| t.ctx().table),
        "wasi:io/poll" => io::poll::add_to_linker::<T, Io>(l, |t| t.ctx().table),
        "wasi:io/streams" => io::streams::add_to_linker::<T, Io>(l, |t| t.ctx().table),
        "wasi:cli/environment" => cli::environment::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/exit" => cli::exit::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/stdin" => cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/stdout" => cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/stderr" => cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-input" => cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-output" => cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-stdin" => cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-stdout" => cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-stderr" => cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:clocks/wall-clock" => {
            clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
        }
        "wasi:clocks/monotonic-clock" => {
            clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
        }
        "wasi:filesystem/types" => {
            filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
        }
        "wasi:filesystem/preopens" => {
            filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
        }
        "wasi:random/random" => random::random::add_to_linker::<T, WasiRandom>(l, T::random),
        "wasi:random/insecure" => random::insecure::add_to_linker::<T, WasiRandom>(l, T::random),
        "wasi:random/insecure-seed" => {
            random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)
        }
        "wasi:sockets/network" => {
            let options = wasi::LinkOptions::default();
            sockets::network::add_to_linker::<T, WasiSockets>(l, &(&options).into(), T::sockets)
        }
        "wasi:sockets/instance-network" => {
            sockets::instance_network::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:sockets/tcp" => sockets::tcp::add_to_linker::<T, WasiSockets>(l, T::sockets),
        "wasi:sockets/tcp-create-socket" => {
            sockets::tcp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:sockets/udp" => sockets::udp::add_to_linker::<T, WasiSockets>(l, T::sockets),
        "wasi:sockets/udp-create-socket" => {
            sockets::udp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:sockets/ip-name-lookup" => {
            sockets::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:http/types" => {
            let options = wasi_http::LinkOptions::default();
            wasi_http::http::types::add_to_linker::<T, WasiHttp>(l, &(&options).into(), T::http)
        }
        "wasi:http/outgoing-handler" => {
            wasi_http::http::outgoing_handler::add_to_linker::<T, WasiHttp>(l, T::http)
        }
        other => Err(wasmtime::format_err!(
            "weft has no implementation of {other}"
        )),
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `wasi:io` reaches only the store's resource table.
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

/// The set of groups an app is granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilitySet {
    groups: Vec<Group>,
}

impl CapabilitySet {
    pub fn new(groups: &[Group]) -> Self {
        CapabilitySet {
            groups: groups.to_vec(),
        }
    }

    pub fn contains(&self, group: Group) -> bool {
        self.groups.contains(&group)
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// A linker with the interfaces of the granted groups that the app
    /// imports (`imports`, as checked by [`check_imports`]). An interface the
    /// app does not import could never be called, so leaving it out changes
    /// nothing but the time a start spends defining host functions.
    pub fn linker(&self, engine: &Engine, imports: &[Import]) -> Result<Linker<InstanceState>> {
        let mut linker = Linker::new(engine);
        for (group, interface) in self.to_link(imports) {
            link_interface(interface, &mut linker).map_err(|err| {
                Error::internal(format!("cannot link {interface} (the {group} group)"))
                    .caused_by_wasmtime(&err)
            })?;
        }
        Ok(linker)
    }

    /// The interfaces [`CapabilitySet::linker`] links: each granted group's
    /// that `imports` names, in the table's order.
    fn to_link<'a>(
        &'a self,
        imports: &'a [Import],
    ) -> impl Iterator<Item = (Group, &'static str)> + 'a {
        self.groups.iter().flat_map(move |&group| {
            group
                .interfaces()
                .iter()
                .filter(move |interface| {
                    imports.iter().any(|i| unversioned(&i.name) == **interface)
                })
                .map(move |interface| (group, *interface))
        })
    }
}

/// One import of a component, classified against the groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The full name, with version: `wasi:cli/stdout@0.2.3`.
    pub name: String,
    /// The group that grants it, or `None` when no group does.
    pub group: Option<Group>,
}

/// Lists a component's imports with the group that grants each.
pub fn imports_of(component: &Component, engine: &Engine) -> Vec<Import> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _item)| Import {
            name: name.to_string(),
            group: Group::granting(unversioned(name)),
        })
        .collect()
}

/// Lists the imports of a component's binary, without compiling it: the
/// names of its top-level import section (nested modules and components
/// import from their parent, not from the host). This lets weft refuse an
/// ungranted import before paying for compilation.
pub fn imports_in(bytes: &[u8], path: &std::path::Path) -> Result<Vec<Import>> {
    let invalid = |err: wasmparser::BinaryReaderError| {
        Error::package(format!(
            "module {} is not a valid component ({err}); rebuild it with a current toolchain",
            path.display()
        ))
    };
    let mut imports = Vec::new();
    crate::loader::for_each_top_level_payload(bytes, |payload| {
        if let wasmparser::Payload::ComponentImportSection(section) = payload {
            for import in section {
                let name = import?.name.name;
                imports.push(Import {
                    name: name.to_string(),
                    group: Group::granting(unversioned(name)),
                });
            }
        }
        Ok(())
    })
    .map_err(invalid)?;
    Ok(imports)
}

/// `wasi:cli/stdout@0.2.3` → `wasi:cli/stdout`.
pub fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(base, _)| base)
}

/// The pre-check: every import must be granted. On failure the message names
/// the interface, the group that grants it and the manifest line to add.
pub fn check_imports(
    imports: &[Import],
    granted: &CapabilitySet,
    manifest: &std::path::Path,
) -> Result<()> {
    // One example import per missing group, in the order they are imported.
    let mut missing: Vec<(Group, &str)> = Vec::new();
    for import in imports {
        match import.group {
            Some(group) if granted.contains(group) => {}
            Some(group) => {
                if !missing.iter().any(|(g, _)| *g == group) {
                    missing.push((group, &import.name));
                }
            }
            None => {
                return Err(Error::new(
                    ErrorKind::Capability,
                    format!(
                        "the app imports `{}`, which no weft capability group provides; weft links only {}, so rebuild the app without that import",
                        import.name,
                        Group::ALL.map(|g| g.name()).join(", ")
                    ),
                ));
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let line = granted
        .groups()
        .iter()
        .chain(missing.iter().map(|(g, _)| g))
        .map(|g| format!("\"{g}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match missing.as_slice() {
        [(group, name)] => format!(
            "the app imports `{name}`, but its manifest does not grant the {group} group; to allow it, set `imports = [{line}]` under [runtime] in {}",
            manifest.display()
        ),
        _ => format!(
            "the app imports {}, but its manifest does not grant those groups; to allow them, set `imports = [{line}]` under [runtime] in {}",
            missing
                .iter()
                .map(|(group, name)| format!("`{name}` (group {group})"))
                .collect::<Vec<_>>()
                .join(", "),
            manifest.display()
        ),
    };
    Err(Error::new(ErrorKind::Capability, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_belongs_to_exactly_one_group() {
        let mut seen = std::collections::HashSet::new();
        for group in Group::ALL {
            for interface in group.interfaces() {
                assert!(seen.insert(*interface), "{interface} is in two groups");
                assert_eq!(Group::granting(interface), Some(group));
                assert!(interface.starts_with(group.name()));
            }
        }
    }

    fn import(name: &str) -> Import {
        Import {
            name: name.to_string(),
            group: Group::granting(unversioned(name)),
        }
    }

    #[test]
    fn missing_group_names_interface_group_and_line() {
        let imports = vec![
            import("wasi:cli/stdout@0.2.3"),
            import("wasi:filesystem/preopens@0.2.3"),
        ];
        let granted = CapabilitySet::new(&[Group::Cli]);
        let err =
            check_imports(&imports, &granted, std::path::Path::new("app/wapp.toml")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Capability);
        let message = err.message();
        assert!(
            message.contains("`wasi:filesystem/preopens@0.2.3`"),
            "{message}"
        );
        assert!(message.contains("wasi:filesystem group"), "{message}");
        assert!(
            message.contains("imports = [\"wasi:cli\", \"wasi:filesystem\"]"),
            "{message}"
        );
        assert!(message.contains("app/wapp.toml"), "{message}");
    }

    /// Every interface of every group, as a component would import it.
    fn every_import() -> Vec<Import> {
        Group::ALL
            .iter()
            .flat_map(|g| g.interfaces())
            .map(|name| import(&format!("{name}@0.2.3")))
            .collect()
    }

    #[test]
    fn every_group_links_alone_and_all_together() {
        let engine = Engine::default();
        let imports = every_import();
        for group in Group::ALL {
            let set = CapabilitySet::new(&[group]);
            let linked: Vec<_> = set.to_link(&imports).map(|(_, i)| i).collect();
            assert_eq!(linked, group.interfaces());
            set.linker(&engine, &imports).unwrap();
        }
        CapabilitySet::new(&Group::ALL)
            .linker(&engine, &imports)
            .unwrap();
    }

    #[test]
    fn only_granted_interfaces_the_app_imports_are_linked() {
        let imports = vec![
            import("wasi:cli/stdout@0.2.3"),
            // Imported but not granted: check_imports refuses the app first.
            import("wasi:random/random@0.2.3"),
            import("wasi:io/streams@0.2.6"),
        ];
        let set = CapabilitySet::new(&[Group::Io, Group::Cli, Group::Clocks]);
        let linked: Vec<_> = set.to_link(&imports).collect();
        assert_eq!(
            linked,
            [
                (Group::Io, "wasi:io/streams"),
                (Group::Cli, "wasi:cli/stdout")
            ]
        );
    }

    #[test]
    fn several_missing_groups_are_all_named() {
        let imports = vec![
            import("wasi:cli/stdout@0.2.3"),
            import("wasi:clocks/wall-clock@0.2.3"),
            import("wasi:filesystem/types@0.2.3"),
            import("wasi:filesystem/preopens@0.2.3"),
        ];
        let err = check_imports(
            &imports,
            &CapabilitySet::new(&[Group::Cli]),
            std::path::Path::new("w"),
        )
        .unwrap_err();
        let message = err.message();
        assert!(
            message.contains("`wasi:clocks/wall-clock@0.2.3` (group wasi:clocks)"),
            "{message}"
        );
        assert!(
            message.contains("`wasi:filesystem/types@0.2.3` (group wasi:filesystem)"),
            "{message}"
        );
        assert!(
            message.contains("imports = [\"wasi:cli\", \"wasi:clocks\", \"wasi:filesystem\"]"),
            "{message}"
        );
    }

    #[test]
    fn unknown_interfaces_are_refused() {
        let imports = vec![import("acme:gpu/compute@1.0.0")];
        let err = check_imports(
            &imports,
            &CapabilitySet::new(&Group::ALL),
            std::path::Path::new("x"),
        )
        .unwrap_err();
        assert!(err.message().contains("acme:gpu/compute@1.0.0"));
    }

    #[test]
    fn granted_imports_pass() {
        let imports = vec![
            import("wasi:cli/stdout@0.2.0"),
            import("wasi:io/streams@0.2.12"),
        ];
        check_imports(
            &imports,
            &CapabilitySet::new(&[Group::Cli, Group::Io]),
            std::path::Path::new("x"),
        )
        .unwrap();
    }
}
