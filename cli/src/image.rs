//! `weft image PACKAGE -o FILE.tar [--name REF]`: a package as an OCI image
//! tarball (an OCI image layout) that `ctr image import` takes and
//! `containerd-shim-weft-v1` runs.
//!
//! The image is runwasi's runnable form: a standard image config for the
//! platform `wasi/wasm` (architecture `wasm`, which is how runwasi's shims
//! tell a wasm image), and the app in two layers that containerd does not
//! unpack: the wasm (runwasi's component layer type, or `application/wasm`
//! for a core module) and the `wapp.toml` as it is, hash pin, grants and
//! limits included (see [`crate::container`]). The config's entrypoint is
//! the wasm's file name; the container's arguments follow it. The image is
//! named by the `io.containerd.image.name` annotation (and its tag by
//! `org.opencontainers.image.ref.name`).
//!
//! The tarball is the same for the same package and name: no timestamps,
//! blobs in a fixed order.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, DescriptorBuilder, ImageConfigurationBuilder,
    ImageIndexBuilder, ImageManifestBuilder, MediaType, OciLayoutBuilder, Os, PlatformBuilder,
    RootFsBuilder, SCHEMA_VERSION, Sha256Digest,
};
use weft::digest::{hex, sha256};
use weft::package::Package;
use weft::wasm::WasmKind;
use weft::{Error, Result};

use crate::options::StoreArgs;

/// The media type of a layer that holds a component (runwasi's).
pub const COMPONENT_LAYER: &str = "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm";
/// The media type of a layer that holds a core module (runwasi's).
pub const MODULE_LAYER: &str = "application/wasm";
/// The media type of the layer that holds the app's `wapp.toml`.
pub const MANIFEST_LAYER: &str = "application/vnd.weft.manifest.v1+toml";
/// The image's operating system: WASI.
pub const OS: &str = "wasi";
/// The annotation containerd names an imported image by.
pub const NAME_ANNOTATION: &str = "io.containerd.image.name";
/// The OCI annotation for the image's tag.
pub const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

#[derive(Args)]
pub(crate) struct ImageArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The tarball to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// The image's name [default: weft.local/<app id>:<version>].
    #[arg(long, value_name = "REF")]
    pub name: Option<String>,
    /// The app: a package directory, its wapp.toml, an app id or a command name.
    #[arg(value_name = "PACKAGE")]
    pub app: OsString,
}

pub(crate) fn image(args: ImageArgs) -> Result<i32> {
    let dir = args.store.resolve(&args.app)?;
    let package = Package::load(&dir)?;
    let manifest = &package.manifest;
    let name = match &args.name {
        Some(name) => normalise_reference(name)?,
        None => format!(
            "weft.local/{}:{}",
            manifest.id.as_str(),
            tag_from_version(&manifest.version)
        ),
    };
    let manifest_text = std::fs::read(&package.manifest_path).map_err(|err| {
        Error::package(format!(
            "cannot read {}: {err}",
            package.manifest_path.display()
        ))
    })?;
    let tarball = build(&package, &manifest_text, &name)?;
    write_atomically(&args.output, &tarball)?;
    for mount in &manifest.wasi.mounts {
        if !mount.host.is_absolute() {
            eprintln!(
                "weft: note: the image does not carry mount {}'s host directory {}; in a container it names /{} in the container's filesystem, so give the container a volume there",
                mount.guest,
                mount.host.display(),
                mount.host.display()
            );
        }
    }
    out!(
        "{}: {name} ({} bytes); import it with `ctr image import --all-platforms {}`",
        args.output.display(),
        tarball.len(),
        args.output.display()
    );
    Ok(0)
}

/// What an image carries, as bytes: [`pack`] checks none of it.
pub struct Contents<'a> {
    /// The app's id and version, for the config's labels.
    pub id: &'a str,
    pub version: &'a str,
    /// The wasm's file name, the config's entrypoint (`/` + it).
    pub entrypoint: &'a str,
    /// The wasm layer (a component or a core module).
    pub wasm: &'a [u8],
    /// The `wapp.toml` layer, as it is.
    pub manifest: &'a [u8],
}

/// The OCI image layout of a package, as a tarball: the package's own
/// wasm and `wapp.toml` (whose hash pin [`Package::load`] has checked).
pub(crate) fn build(package: &Package, manifest_text: &[u8], name: &str) -> Result<Vec<u8>> {
    let entrypoint = package.manifest.module.file_name().map_or_else(
        || "app.wasm".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    // Refused here with the package's path, not the image's entrypoint.
    weft::wasm::kind_of(&package.wasm, &package.wasm_path())?;
    let contents = Contents {
        id: package.manifest.id.as_str(),
        version: &package.manifest.version,
        entrypoint: &entrypoint,
        wasm: &package.wasm,
        manifest: manifest_text,
    };
    pack(&contents, name)
}

/// An image of `contents` named `name`, as an OCI image layout tarball.
/// It checks neither the manifest nor the hash pin: `weft image` packs only
/// a package that loads, and the shim checks both again as it runs an image
/// (its tests pack tampered images with this).
pub fn pack(contents: &Contents<'_>, name: &str) -> Result<Vec<u8>> {
    let layer_type = match weft::wasm::kind_of(contents.wasm, Path::new(contents.entrypoint))? {
        WasmKind::Component => COMPONENT_LAYER,
        WasmKind::CoreModule => MODULE_LAYER,
    };
    let oci = |err: oci_spec::OciSpecError| {
        Error::internal("cannot describe the OCI image").caused_by(&err)
    };
    let mut blobs = Blobs::default();
    let wasm_layer = blobs.add(contents.wasm, layer_type)?;
    let toml_layer = blobs.add(contents.manifest, MANIFEST_LAYER)?;

    // The layers are not unpacked, so the rootfs has no diffs; a label that
    // names the layers keeps configs of different apps apart.
    let labels = HashMap::from([
        ("org.weft.app.id".to_string(), contents.id.to_string()),
        (
            "org.weft.app.version".to_string(),
            contents.version.to_string(),
        ),
        (
            "org.weft.app.layers".to_string(),
            format!("{} {}", wasm_layer.digest(), toml_layer.digest()),
        ),
    ]);
    let config = ImageConfigurationBuilder::default()
        .architecture(Arch::Wasm)
        .os(Os::Other(OS.to_string()))
        .config(
            ConfigBuilder::default()
                .entrypoint(vec![format!("/{}", contents.entrypoint)])
                .labels(labels)
                .build()
                .map_err(oci)?,
        )
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(Vec::<String>::new())
                .build()
                .map_err(oci)?,
        )
        .build()
        .map_err(oci)?;
    let config = blobs.add(canonical_json(&config)?.as_bytes(), MediaType::ImageConfig)?;

    let annotations = HashMap::from([
        (NAME_ANNOTATION.to_string(), name.to_string()),
        (REF_ANNOTATION.to_string(), tag_of(name).to_string()),
    ]);
    let manifest = ImageManifestBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(vec![wasm_layer, toml_layer])
        .annotations(annotations.clone())
        .build()
        .map_err(oci)?;
    let mut manifest = blobs.add(
        canonical_json(&manifest)?.as_bytes(),
        MediaType::ImageManifest,
    )?;
    manifest.set_platform(Some(
        PlatformBuilder::default()
            .architecture(Arch::Wasm)
            .os(Os::Other(OS.to_string()))
            .build()
            .map_err(oci)?,
    ));
    manifest.set_annotations(Some(annotations));
    let index = ImageIndexBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest])
        .build()
        .map_err(oci)?;
    let layout = OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .map_err(oci)?;

    let mut tar = tar::Builder::new(Vec::new());
    let mut append = |path: &str, bytes: &[u8]| -> Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, bytes)
            .map_err(|err| Error::internal("cannot write the image tarball").caused_by(&err))
    };
    append("oci-layout", canonical_json(&layout)?.as_bytes())?;
    append("index.json", canonical_json(&index)?.as_bytes())?;
    for (digest, bytes) in &blobs.0 {
        append(&format!("blobs/sha256/{digest}"), bytes)?;
    }
    tar.into_inner()
        .map_err(|err| Error::internal("cannot write the image tarball").caused_by(&err))
}

/// The image's blobs by sha256, in the order they were added.
#[derive(Default)]
struct Blobs(Vec<(String, Vec<u8>)>);

impl Blobs {
    fn add(&mut self, bytes: &[u8], media_type: impl Into<MediaType>) -> Result<Descriptor> {
        let digest = hex(&sha256(bytes));
        let descriptor = DescriptorBuilder::default()
            .media_type(media_type.into())
            .digest(
                digest
                    .parse::<Sha256Digest>()
                    .map_err(|err| Error::internal("cannot name a blob").caused_by(&err))?,
            )
            .size(bytes.len() as u64)
            .build()
            .map_err(|err| Error::internal("cannot describe a blob").caused_by(&err))?;
        if !self.0.iter().any(|(known, _)| *known == digest) {
            self.0.push((digest, bytes.to_vec()));
        }
        Ok(descriptor)
    }
}

/// JSON with every object's keys sorted: oci-spec keeps labels and
/// annotations in hash maps, whose order changes from run to run, and the
/// same image must be the same bytes.
fn canonical_json(value: &impl serde::Serialize) -> Result<String> {
    let mut value = serde_json::to_value(value)
        .map_err(|err| Error::internal("cannot describe the OCI image").caused_by(&err))?;
    value.sort_all_objects();
    serde_json::to_string(&value)
        .map_err(|err| Error::internal("cannot describe the OCI image").caused_by(&err))
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a
/// reader sees the whole tarball or none.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let cannot = |err: std::io::Error| {
        Error::usage(format!(
            "cannot write the image to {}: {err}; choose a writable path with -o",
            path.display()
        ))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path.file_name().ok_or_else(|| {
        Error::usage(format!(
            "-o {} names no file; give a path like app.tar",
            path.display()
        ))
    })?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(cannot)
}

/// A version as a tag: tags take letters, digits, `_`, `.` and `-`.
fn tag_from_version(version: &str) -> String {
    version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect()
}

/// The tag part of a full reference.
fn tag_of(reference: &str) -> &str {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.rsplit_once(':').map_or("latest", |(_, tag)| tag)
}

/// An image reference as containerd names images: `[DOMAIN/]PATH[:TAG]`,
/// with `docker.io/` (and `library/` for a one-part path) when no domain
/// is given, and `:latest` when no tag is.
pub(crate) fn normalise_reference(text: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::usage(format!(
            "--name {text:?} is not an image reference: {why}; give one like registry.example/team/app:1.0"
        ))
    };
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    if text.contains('@') {
        return Err(bad(
            "a digest (@sha256:…) names content, not a name to give an image",
        ));
    }
    let (name, tag) = match text.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (text, None),
    };
    let mut parts: Vec<&str> = name.split('/').collect();
    let domain = match parts.first() {
        Some(first)
            if parts.len() > 1
                && (first.contains('.') || first.contains(':') || *first == "localhost") =>
        {
            Some(parts.remove(0))
        }
        _ => None,
    };
    if let Some(domain) = domain {
        let (host, port) = domain.split_once(':').unwrap_or((domain, ""));
        let host_ok = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !host_ok || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("{domain:?} is not a registry host[:port]")));
        }
    }
    for part in &parts {
        let ok = !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric();
        if !ok {
            return Err(bad(&format!(
                "{part:?} is not a path component (lowercase letters, digits and . _ - between them)"
            )));
        }
    }
    let tag = tag.unwrap_or("latest");
    let tag_ok = !tag.is_empty()
        && tag.len() <= 128
        && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.as_bytes()[0] == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !tag_ok {
        return Err(bad(&format!(
            "{tag:?} is not a tag (letters, digits, _ . -, at most 128)"
        )));
    }
    let path = parts.join("/");
    Ok(match domain {
        Some(domain) => format!("{domain}/{path}:{tag}"),
        None if parts.len() == 1 => format!("docker.io/library/{path}:{tag}"),
        None => format!("docker.io/{path}:{tag}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_normalised_as_containerd_names_images() {
        for (given, expected) in [
            (
                "weft.local/org.example.hello:0.1.0",
                "weft.local/org.example.hello:0.1.0",
            ),
            ("hello", "docker.io/library/hello:latest"),
            ("team/hello:1", "docker.io/team/hello:1"),
            ("localhost:5000/hello", "localhost:5000/hello:latest"),
            (
                "registry.example/a/b/c:v1.2-rc_3",
                "registry.example/a/b/c:v1.2-rc_3",
            ),
        ] {
            assert_eq!(normalise_reference(given).unwrap(), expected, "{given}");
        }
    }

    #[test]
    fn bad_references_are_refused_with_the_reason() {
        for (given, reason) in [
            ("", "empty"),
            ("Hello", "path component"),
            ("hello:", "not a tag"),
            ("hello:-x", "not a tag"),
            ("a//b", "path component"),
            ("hello@sha256:abc", "digest"),
            ("bad_host.example:x/app", "registry host"),
        ] {
            let err = normalise_reference(given).unwrap_err().to_string();
            assert!(err.contains(reason), "{given}: {err}");
            assert!(err.contains("give one like"), "{given}: {err}");
        }
    }

    /// A package of a component header (enough for `weft image`, which
    /// does not compile), with its manifest text.
    fn package() -> (Package, Vec<u8>) {
        let wasm = b"\0asm\x0d\0\x01\0".to_vec();
        let text = format!(
            "[package]\nid = \"org.example.hello\"\nname = \"Hello\"\nversion = \"1.2.3+b4\"\n\n[runtime]\nmodule = \"hello.wasm\"\nhash = \"{}\"\nimports = [\"wasi:cli\"]\n",
            weft::digest::hash_of(&wasm)
        );
        let dir = Path::new("/pkg");
        let package = Package::from_bytes(dir, &dir.join("wapp.toml"), &text, wasm).unwrap();
        (package, text.into_bytes())
    }

    fn entries(tarball: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut archive = tar::Archive::new(tarball);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let path = entry.path().unwrap().to_string_lossy().into_owned();
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
                (path, bytes)
            })
            .collect()
    }

    #[test]
    fn an_image_holds_the_wasm_and_the_manifest_in_layers_of_their_own_types() {
        use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
        let (package, text) = package();
        let name = "weft.local/org.example.hello:1.2.3_b4";
        let image = build(&package, &text, name).unwrap();
        let files = entries(&image);
        let blob = |digest: &oci_spec::image::Digest| {
            let bytes = files[&format!("blobs/sha256/{}", digest.digest())].clone();
            assert_eq!(
                hex(&sha256(&bytes)),
                digest.digest(),
                "a blob's name is its sha256"
            );
            bytes
        };
        assert!(files.contains_key("oci-layout"));
        let index = ImageIndex::from_reader(&files["index.json"][..]).unwrap();
        let [described] = index.manifests().as_slice() else {
            panic!("one manifest in {index:?}")
        };
        let platform = described.platform().as_ref().unwrap();
        assert_eq!(
            (
                platform.os().to_string(),
                platform.architecture().to_string()
            ),
            ("wasi".into(), "wasm".into())
        );
        let annotations = described.annotations().as_ref().unwrap();
        assert_eq!(annotations[NAME_ANNOTATION], name);
        assert_eq!(annotations[REF_ANNOTATION], "1.2.3_b4");

        let manifest = ImageManifest::from_reader(&blob(described.digest())[..]).unwrap();
        assert_eq!(manifest.config().media_type(), &MediaType::ImageConfig);
        let [wasm, toml] = manifest.layers().as_slice() else {
            panic!("two layers in {manifest:?}")
        };
        assert_eq!(wasm.media_type().to_string(), COMPONENT_LAYER);
        assert_eq!(blob(wasm.digest()), package.wasm);
        assert_eq!(wasm.size(), package.wasm.len() as u64);
        assert_eq!(toml.media_type().to_string(), MANIFEST_LAYER);
        assert_eq!(blob(toml.digest()), text);

        let config =
            ImageConfiguration::from_reader(&blob(manifest.config().digest())[..]).unwrap();
        assert_eq!(config.architecture(), &Arch::Wasm);
        assert_eq!(config.os().to_string(), "wasi");
        assert!(config.rootfs().diff_ids().is_empty());
        let entrypoint = config
            .config()
            .as_ref()
            .unwrap()
            .entrypoint()
            .clone()
            .unwrap();
        assert_eq!(entrypoint, vec!["/hello.wasm".to_string()]);

        // The same package and name make the same bytes.
        for _ in 0..5 {
            let again = build(&package, &text, name).unwrap();
            assert!(again == image, "a second build made other bytes");
        }
    }

    #[test]
    fn a_core_module_goes_in_an_application_wasm_layer() {
        let wasm = b"\0asm\x01\0\0\0".to_vec();
        let text = format!(
            "[package]\nid = \"org.example.core\"\nname = \"Core\"\nversion = \"1\"\n\n[runtime]\nmodule = \"app.wasm\"\nhash = \"{}\"\nimports = []\n",
            weft::digest::hash_of(&wasm)
        );
        let dir = Path::new("/pkg");
        let package = Package::from_bytes(dir, &dir.join("wapp.toml"), &text, wasm).unwrap();
        let files = entries(&build(&package, text.as_bytes(), "x/y:z").unwrap());
        let manifests: Vec<_> = files
            .values()
            .filter_map(|bytes| oci_spec::image::ImageManifest::from_reader(&bytes[..]).ok())
            .collect();
        assert_eq!(manifests.len(), 1);
        assert_eq!(
            manifests[0].layers()[0].media_type().to_string(),
            MODULE_LAYER
        );
    }

    #[test]
    fn a_manifest_whose_hash_does_not_match_is_refused_before_any_image() {
        let (_, text) = package();
        let dir = Path::new("/pkg");
        let err = Package::from_bytes(
            dir,
            &dir.join("wapp.toml"),
            std::str::from_utf8(&text).unwrap(),
            b"\0asm\x01\0\0\0".to_vec(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), weft::ErrorKind::Integrity);
    }

    #[test]
    fn versions_become_tags() {
        assert_eq!(tag_from_version("1.0.0+build.5"), "1.0.0_build.5");
        assert_eq!(tag_of("localhost:5000/app"), "latest");
        assert_eq!(tag_of("localhost:5000/app:2"), "2");
    }
}
