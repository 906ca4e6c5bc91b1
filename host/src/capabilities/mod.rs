//! Capability rooms: one module per WASI group a manifest can grant. Each
//! room opens with the interfaces it implements and holds, in one place:
//!
//! - its interface table, one row per interface: the name and the
//!   wasmtime-wasi (or wasmtime-wasi-http) call that links it, generic over
//!   the store's view trait, never over one concrete store type
//!   ([`wasi_interfaces!`]; a second WASI release gets a second table beside
//!   the first, `p3` beside `p2`);
//! - the validation of its manifest values (`cli::env_var`, `filesystem::mount`,
//!   `http::AllowedHost::parse`), which [`crate::manifest`] calls;
//! - its per-instance preparation (`cli::prepare`, `filesystem::prepare`,
//!   `http::OutboundPolicy`), which [`crate::instance`] calls.
//!
//! This module joins them: the [`Group`]s, the per-app linker built from the
//! granted groups only ([`CapabilitySet::linker`]), and the import pre-check
//! that refuses an ungranted import by name ([`check_imports`]).
//!
//! | group             | room              |
//! |-------------------|-------------------|
//! | `wasi:io`         | [`io`]            |
//! | `wasi:cli`        | [`cli`]           |
//! | `wasi:clocks`     | [`clocks`]        |
//! | `wasi:filesystem` | [`filesystem`]    |
//! | `wasi:random`     | [`random`]        |
//! | `wasi:sockets`    | [`sockets`]       |
//! | `wasi:http`       | [`http`]          |
//!
//! Granting a group grants the interfaces, not the resources behind them: the
//! files a guest sees are its mounts, the sockets it may use are none until an
//! allow-list exists, and so on.

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_http::WasiHttpView;

use crate::{Error, ErrorKind, Result};

/// A room's table of the interfaces of one WASI release. Each row names an
/// interface (without its version) and the expression that links it, with
/// `l` the linker and `T` the store's data; from the rows come the module
/// `$release` with the list `INTERFACES` and the function `link`, so a row is
/// the one place an interface is named.
macro_rules! wasi_interfaces {
    ($release:ident for <$t:ident: $view:path>, $l:ident; $($name:literal => $link:expr),* $(,)?) => {
        /// The room's interfaces of this WASI release: the table and its links.
        pub mod $release {
            #[allow(unused_imports)]
            use super::*;

            /// The interfaces, without package versions.
            pub const INTERFACES: &[&str] = &[$($name),*];

            /// Links one interface of [`INTERFACES`]; `None` for any other.
            pub fn link<$t: $view + 'static>(
                interface: &str,
                $l: &mut Linker<$t>,
            ) -> Option<wasmtime::Result<()>> {
                match interface {
                    $($name => Some($link),)*
                    _ => None,
                }
            }
        }
    };
}

pub mod cli;
pub mod clocks;
pub mod filesystem;
pub mod http;
pub mod io;
pub mod random;
pub mod sockets;

/// The store data a linker of granted capabilities reaches: WASI's view and
/// wasi:http's. [`crate::instance::InstanceState`] is weft's.
pub trait HostView: WasiView + WasiHttpView + 'static {}

impl<T: WasiView + WasiHttpView + 'static> HostView for T {}

/// A WASI release whose interfaces weft links: an import's version says
/// which (`@0.2.x` or `@0.3.x`, any patch; Wasmtime links a later patch
/// to the one it implements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Release {
    /// WASI 0.2 (preview 2): `wasi:io` pollables and streams.
    P2,
    /// WASI 0.3: `async` functions, and the component model's streams and futures.
    P3,
}

impl Release {
    pub const ALL: [Release; 2] = [Release::P2, Release::P3];

    /// The release of a versioned import name (`wasi:cli/stdout@0.3.2`), if
    /// weft links that release. Pre-releases (`0.3.0-rc-2025-08-15`) are
    /// not: their interfaces differ from the release's.
    pub fn of(name: &str) -> Option<Release> {
        let (_, version) = name.split_once('@')?;
        let mut parts = version.split('.');
        let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || major != "0" || !patch.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match minor {
            "2" => Some(Release::P2),
            "3" => Some(Release::P3),
            _ => None,
        }
    }

    /// As the docs write it: `0.2`, `0.3`.
    pub fn name(self) -> &'static str {
        match self {
            Release::P2 => "0.2",
            Release::P3 => "0.3",
        }
    }
}

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

    /// The interfaces the group links in one WASI release, without package
    /// versions: its room's table for that release.
    pub fn interfaces(self, release: Release) -> &'static [&'static str] {
        match (release, self) {
            (Release::P2, Group::Io) => io::p2::INTERFACES,
            (Release::P2, Group::Cli) => cli::p2::INTERFACES,
            (Release::P2, Group::Clocks) => clocks::p2::INTERFACES,
            (Release::P2, Group::Filesystem) => filesystem::p2::INTERFACES,
            (Release::P2, Group::Random) => random::p2::INTERFACES,
            (Release::P2, Group::Sockets) => sockets::p2::INTERFACES,
            (Release::P2, Group::Http) => http::p2::INTERFACES,
            // WASI 0.3 has no wasi:io: streams and futures are built in.
            (Release::P3, Group::Io) => &[],
            (Release::P3, Group::Cli) => cli::p3::INTERFACES,
            (Release::P3, Group::Clocks) => clocks::p3::INTERFACES,
            (Release::P3, Group::Filesystem) => filesystem::p3::INTERFACES,
            (Release::P3, Group::Random) => random::p3::INTERFACES,
            (Release::P3, Group::Sockets) => sockets::p3::INTERFACES,
            (Release::P3, Group::Http) => http::p3::INTERFACES,
        }
    }

    /// Links one of the group's interfaces of a release (named without its
    /// version) with its room's own call.
    fn link<T: HostView>(
        self,
        release: Release,
        interface: &str,
        l: &mut Linker<T>,
    ) -> wasmtime::Result<()> {
        let linked = match (release, self) {
            (Release::P2, Group::Io) => io::p2::link(interface, l),
            (Release::P2, Group::Cli) => cli::p2::link(interface, l),
            (Release::P2, Group::Clocks) => clocks::p2::link(interface, l),
            (Release::P2, Group::Filesystem) => filesystem::p2::link(interface, l),
            (Release::P2, Group::Random) => random::p2::link(interface, l),
            (Release::P2, Group::Sockets) => sockets::p2::link(interface, l),
            (Release::P2, Group::Http) => http::p2::link(interface, l),
            (Release::P3, Group::Io) => None,
            (Release::P3, Group::Cli) => cli::p3::link(interface, l),
            (Release::P3, Group::Clocks) => clocks::p3::link(interface, l),
            (Release::P3, Group::Filesystem) => filesystem::p3::link(interface, l),
            (Release::P3, Group::Random) => random::p3::link(interface, l),
            (Release::P3, Group::Sockets) => sockets::p3::link(interface, l),
            (Release::P3, Group::Http) => http::p3::link(interface, l),
        };
        linked.unwrap_or_else(|| {
            Err(wasmtime::format_err!(
                "weft has no implementation of {interface} of WASI {} in the {self} group",
                release.name()
            ))
        })
    }

    /// The group that links an interface of a release (given without its
    /// version), if any.
    pub fn granting(release: Release, interface: &str) -> Option<Group> {
        Group::ALL
            .into_iter()
            .find(|g| g.interfaces(release).contains(&interface))
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
    pub fn linker<T: HostView>(&self, engine: &Engine, imports: &[Import]) -> Result<Linker<T>> {
        let mut linker = Linker::new(engine);
        for (group, release, interface) in self.to_link(imports) {
            group.link(release, interface, &mut linker).map_err(|err| {
                Error::internal(format!(
                    "cannot link {interface} of WASI {} (the {group} group)",
                    release.name()
                ))
                .caused_by_wasmtime(&err)
            })?;
        }
        Ok(linker)
    }

    /// The interfaces [`CapabilitySet::linker`] links: each granted group's
    /// that `imports` names, of the release each import names, in the
    /// tables' order.
    fn to_link<'a>(
        &'a self,
        imports: &'a [Import],
    ) -> impl Iterator<Item = (Group, Release, &'static str)> + 'a {
        self.groups.iter().flat_map(move |&group| {
            Release::ALL.into_iter().flat_map(move |release| {
                group
                    .interfaces(release)
                    .iter()
                    .filter(move |interface| {
                        imports.iter().any(|i| {
                            i.release == Some(release) && unversioned(&i.name) == **interface
                        })
                    })
                    .map(move |interface| (group, release, *interface))
            })
        })
    }
}

/// One import of a component, classified against the groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The full name, with version: `wasi:cli/stdout@0.2.3`.
    pub name: String,
    /// The WASI release its version names, if weft links that release.
    pub release: Option<Release>,
    /// The group that grants it, or `None` when no group does.
    pub group: Option<Group>,
    /// What is imported.
    pub kind: ImportKind,
}

/// What kind of item an import is. Type imports bounded by equality (a
/// world-level record, variant, enum, flags or alias: `world w { record
/// point {..} }` makes the component import `point`) need nothing from the
/// host and are not listed at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// An instance (an interface) or a function.
    Item,
    /// A resource type the host would have to provide (a world-level
    /// `resource`): no capability group provides one.
    Resource,
}

impl Import {
    fn new(name: &str, kind: ImportKind) -> Import {
        let release = Release::of(name);
        Import {
            name: name.to_string(),
            release,
            group: match (kind, release) {
                (ImportKind::Item, Some(release)) => Group::granting(release, unversioned(name)),
                _ => None,
            },
            kind,
        }
    }
}

/// Lists a component's imports with the group that grants each, leaving out
/// type imports that need no linking.
pub fn imports_of(component: &Component, engine: &Engine) -> Vec<Import> {
    use wasmtime::component::types::ComponentItem;
    component
        .component_type()
        .imports(engine)
        .filter_map(|(name, item)| match item.ty {
            ComponentItem::Type(_) => None,
            ComponentItem::Resource(_) => Some(Import::new(name, ImportKind::Resource)),
            _ => Some(Import::new(name, ImportKind::Item)),
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
    crate::wasm::for_each_top_level_payload(bytes, |payload| {
        if let wasmparser::Payload::ComponentImportSection(section) = payload {
            for import in section {
                let import = import?;
                let kind = match import.ty {
                    wasmparser::ComponentTypeRef::Type(wasmparser::TypeBounds::Eq(_)) => continue,
                    wasmparser::ComponentTypeRef::Type(_) => ImportKind::Resource,
                    _ => ImportKind::Item,
                };
                imports.push(Import::new(import.name.name, kind));
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
            None if import.kind == ImportKind::Resource => {
                return Err(Error::new(
                    ErrorKind::Capability,
                    format!(
                        "the app imports the resource type `{}`, which the host would have to provide, and weft provides no resources of its own; define the resource in an interface the app exports, or import it from a WASI interface",
                        import.name
                    ),
                ));
            }
            None if import.name.starts_with("wasi:") && import.release.is_none() => {
                return Err(Error::new(
                    ErrorKind::Capability,
                    format!(
                        "the app imports `{}`, a WASI version weft does not link; weft links the releases WASI 0.2.x and 0.3.x (not pre-releases such as 0.3.0-rc), so rebuild the app against one of them",
                        import.name
                    ),
                ));
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
        for release in Release::ALL {
            let mut seen = std::collections::HashSet::new();
            for group in Group::ALL {
                for interface in group.interfaces(release) {
                    assert!(seen.insert(*interface), "{interface} is in two groups");
                    assert_eq!(Group::granting(release, interface), Some(group));
                    assert!(interface.starts_with(&format!("{}/", group.name())));
                }
            }
        }
    }

    #[test]
    fn an_imports_version_picks_the_release() {
        assert_eq!(Release::of("wasi:cli/stdout@0.2.3"), Some(Release::P2));
        assert_eq!(Release::of("wasi:cli/stdout@0.2.12"), Some(Release::P2));
        assert_eq!(Release::of("wasi:cli/types@0.3.0"), Some(Release::P3));
        assert_eq!(Release::of("wasi:cli/types@0.3.2"), Some(Release::P3));
        assert_eq!(Release::of("wasi:cli/types@0.3.0-rc-2025-08-15"), None);
        assert_eq!(Release::of("wasi:cli/stdout@0.1.0"), None);
        assert_eq!(Release::of("wasi:cli/stdout@1.0.0"), None);
        assert_eq!(Release::of("wasi:cli/stdout"), None);

        assert_eq!(import("wasi:cli/types@0.3.2").group, Some(Group::Cli));
        assert_eq!(
            import("wasi:clocks/system-clock@0.3.0").group,
            Some(Group::Clocks)
        );
        assert_eq!(import("wasi:http/client@0.3.1").group, Some(Group::Http));
        assert_eq!(
            import("wasi:sockets/types@0.3.0").group,
            Some(Group::Sockets)
        );
        // Interfaces that exist in one release only.
        assert_eq!(import("wasi:cli/types@0.2.6").group, None);
        assert_eq!(import("wasi:io/streams@0.3.0").group, None);
        assert_eq!(import("wasi:clocks/wall-clock@0.3.0").group, None);
        assert_eq!(import("wasi:http/outgoing-handler@0.3.0").group, None);
    }

    fn import(name: &str) -> Import {
        Import::new(name, ImportKind::Item)
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

    /// Store data for linkers that are built and never instantiated.
    struct LinkOnly;

    impl WasiView for LinkOnly {
        fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
            unreachable!("these tests only build linkers")
        }
    }

    impl WasiHttpView for LinkOnly {
        fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
            unreachable!("these tests only build linkers")
        }
    }

    /// Every interface of every group in both releases, as a component
    /// would import it.
    fn every_import() -> Vec<Import> {
        Group::ALL
            .iter()
            .flat_map(|g| {
                let p2 = g
                    .interfaces(Release::P2)
                    .iter()
                    .map(|n| format!("{n}@0.2.3"));
                let p3 = g
                    .interfaces(Release::P3)
                    .iter()
                    .map(|n| format!("{n}@0.3.2"));
                p2.chain(p3)
            })
            .map(|name| import(&name))
            .collect()
    }

    #[test]
    fn every_group_links_alone_and_all_together() {
        let engine = Engine::default();
        let imports = every_import();
        for group in Group::ALL {
            let set = CapabilitySet::new(&[group]);
            for release in Release::ALL {
                let linked: Vec<_> = set
                    .to_link(&imports)
                    .filter(|(_, r, _)| *r == release)
                    .map(|(_, _, i)| i)
                    .collect();
                assert_eq!(linked, group.interfaces(release));
            }
            set.linker::<LinkOnly>(&engine, &imports).unwrap();
        }
        CapabilitySet::new(&Group::ALL)
            .linker::<LinkOnly>(&engine, &imports)
            .unwrap();
    }

    #[test]
    fn only_granted_interfaces_the_app_imports_are_linked() {
        let imports = vec![
            import("wasi:cli/stdout@0.2.3"),
            // Imported but not granted: check_imports refuses the app first.
            import("wasi:random/random@0.2.3"),
            import("wasi:io/streams@0.2.6"),
            import("wasi:cli/stdout@0.3.0"),
            import("wasi:clocks/monotonic-clock@0.3.2"),
        ];
        let set = CapabilitySet::new(&[Group::Io, Group::Cli, Group::Clocks]);
        let linked: Vec<_> = set.to_link(&imports).collect();
        assert_eq!(
            linked,
            [
                (Group::Io, Release::P2, "wasi:io/streams"),
                (Group::Cli, Release::P2, "wasi:cli/stdout"),
                (Group::Cli, Release::P3, "wasi:cli/stdout"),
                (Group::Clocks, Release::P3, "wasi:clocks/monotonic-clock"),
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
    fn unlinked_wasi_versions_are_refused_by_version() {
        for name in [
            "wasi:cli/types@0.3.0-rc-2025-08-15",
            "wasi:cli/stdout@0.1.0",
        ] {
            let err = check_imports(
                &[import(name)],
                &CapabilitySet::new(&Group::ALL),
                std::path::Path::new("x"),
            )
            .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Capability);
            assert!(err.message().contains(name), "{}", err.message());
            assert!(
                err.message().contains("WASI 0.2.x and 0.3.x"),
                "{}",
                err.message()
            );
        }
    }

    #[test]
    fn a_resource_import_is_refused_as_such() {
        let imports = vec![Import::new("handle", ImportKind::Resource)];
        let err = check_imports(
            &imports,
            &CapabilitySet::new(&Group::ALL),
            std::path::Path::new("x"),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Capability);
        assert!(
            err.message().contains(
                "imports the resource type `handle`, which the host would have to provide"
            ),
            "{}",
            err.message()
        );
    }

    /// `world w { record point {..} enum color {..} resource handle; export
    /// f: func(p: point) -> color; }`, as a binary: the type imports of the
    /// record and the enum are left out, the resource is kept as one.
    #[test]
    fn world_level_types_are_not_imports_but_resources_are() {
        let wasm = wat::parse_str(
            r#"(component
                (type $point' (record (field "x" s32) (field "y" s32)))
                (import "point" (type $point (eq $point')))
                (type $color' (enum "red" "green"))
                (import "color" (type $color (eq $color')))
                (import "handle" (type $handle (sub resource)))
                (import "wasi:cli/stdout@0.2.3" (instance))
            )"#,
        )
        .unwrap();
        let imports = imports_in(&wasm, std::path::Path::new("w.wasm")).unwrap();
        assert_eq!(
            imports,
            [
                Import::new("handle", ImportKind::Resource),
                Import::new("wasi:cli/stdout@0.2.3", ImportKind::Item),
            ]
        );
        let engine = Engine::default();
        let component = Component::new(&engine, &wasm).unwrap();
        assert_eq!(imports_of(&component, &engine), imports);
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
