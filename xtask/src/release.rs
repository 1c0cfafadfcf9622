//! The release `cargo xtask dist` makes beside `target/release/natter`:
//!
//! - the server linked statically against musl, so that it runs on any
//!   Linux whatever its C library;
//! - `target/dist/natter-<version>-x86_64-linux.tar.gz`: that binary, the
//!   README, the changelog, the licences, the deployment guide and
//!   `docs/deploy/`, with a `SHA256SUMS` of them all inside;
//! - the container image `natter:<version>`, built from the same binary by
//!   `docs/deploy/Containerfile`, and saved beside the archive for `podman
//!   load` or `docker load`.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::{Run, step, tools};

/// The target of the released binary.
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-musl";

/// The manifests' version, which the archive and the image are named by.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The files the archive carries beside the binary, from the project's
/// root, where they keep their paths (the README's links resolve).
const DOCUMENTS: &[&str] = &[
    "README.md",
    "CHANGELOG.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
    "docs/DEPLOY.md",
];

/// The folder, under the project's root, whose every file goes in too.
const DEPLOY_FILES: &str = "docs/deploy";

/// What the release is called: the archive's name without `.tar.gz`, and
/// its one top folder.
pub fn release_name() -> String {
    format!("natter-{VERSION}-x86_64-linux")
}

/// Builds the static binary, packs the archive and builds the image (when
/// podman is here or can be installed); returns the archive's path.
pub fn release(root: &Path) -> Result<PathBuf> {
    let binary = build_static(root)?;
    let out = root.join("target/dist");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let archive = pack(root, &binary, &out)?;
    eprintln!("    {}", archive.display());
    match ensure_podman() {
        Ok(()) => {
            let saved = image(root, &binary, &out)?;
            eprintln!("    natter:{VERSION}, saved as {}", saved.display());
        }
        Err(err) => step(&format!("SKIPPED the container image: {err:#}")),
    }
    Ok(archive)
}

/// `natter` for [`STATIC_TARGET`], in release mode (the client must be
/// built: `build.rs` refuses otherwise).
fn build_static(root: &Path) -> Result<PathBuf> {
    ensure_static_tools()?;
    step(&format!(
        "building the server (release, static: {STATIC_TARGET})"
    ));
    // SQLite and OpenSSL (built from source for this target) are compiled
    // by musl's wrapper around the system's C compiler.
    crate::build_server(root, Some((STATIC_TARGET, "musl-gcc")))
}

/// What the static release build needs: the musl target and a C compiler
/// for it (SQLite and OpenSSL are compiled in).
pub(crate) fn ensure_static_tools() -> Result<()> {
    tools::ensure_rustup_part("target", STATIC_TARGET, "the static (musl) target")?;
    if Command::new("musl-gcc").arg("--version").output().is_ok() {
        return Ok(());
    }
    step("installing musl-tools (Debian package)");
    tools::apt_install(&["musl-tools"])
        .context("the static build needs musl-gcc: install Debian's or Ubuntu's musl-tools")
}

/// podman, which builds the container image, from Debian's packages.
pub(crate) fn ensure_podman() -> Result<()> {
    if Command::new("podman").arg("--version").output().is_ok() {
        return Ok(());
    }
    step("installing podman (Debian package)");
    tools::apt_install(&["podman"]).context("podman is not installed and could not be")
}

/// One file of the archive: where it comes from, where it goes under the
/// top folder, and whether it is a program.
struct Entry {
    from: PathBuf,
    to: String,
    executable: bool,
}

/// The archive's entries: the binary, [`DOCUMENTS`] and [`DEPLOY_FILES`].
fn entries(root: &Path, binary: &Path) -> Result<Vec<Entry>> {
    let mut entries = vec![Entry {
        from: binary.to_owned(),
        to: "natter".into(),
        executable: true,
    }];
    for document in DOCUMENTS {
        entries.push(Entry {
            from: root.join(document),
            to: (*document).into(),
            executable: false,
        });
    }
    let deploy = root.join(DEPLOY_FILES);
    let mut names: Vec<String> = std::fs::read_dir(&deploy)
        .with_context(|| format!("cannot list {}", deploy.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        entries.push(Entry {
            from: deploy.join(&name),
            to: format!("{DEPLOY_FILES}/{name}"),
            executable: false,
        });
    }
    Ok(entries)
}

/// Writes `<release_name>.tar.gz` in `out`: every entry and their
/// `SHA256SUMS`, under one top folder, owned by root, dated by the commit.
fn pack(root: &Path, binary: &Path, out: &Path) -> Result<PathBuf> {
    step("packing the release archive");
    let name = release_name();
    let path = out.join(format!("{name}.tar.gz"));
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::best());
    let mut tar = tar::Builder::new(gzip);
    let date = commit_date(root);
    let mut sums = String::new();
    for entry in entries(root, binary)? {
        let data = std::fs::read(&entry.from)
            .with_context(|| format!("cannot read {}", entry.from.display()))?;
        sums.push_str(&format!("{}  {}\n", hex_sha256(&data), entry.to));
        let mode = if entry.executable { 0o755 } else { 0o644 };
        append(&mut tar, &format!("{name}/{}", entry.to), &data, mode, date)?;
    }
    append(
        &mut tar,
        &format!("{name}/SHA256SUMS"),
        sums.as_bytes(),
        0o644,
        date,
    )?;
    let mut file = tar
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.flush()?;
    let archive = std::fs::read(&path)?;
    let listed = format!("{}  {name}.tar.gz\n", hex_sha256(&archive));
    std::fs::write(out.join(format!("{name}.tar.gz.sha256")), listed)?;
    Ok(path)
}

/// Adds one regular file to `tar`.
fn append(
    tar: &mut tar::Builder<impl std::io::Write>,
    path: &str,
    data: &[u8],
    mode: u32,
    date: u64,
) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(date);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, data)
        .with_context(|| format!("cannot add {path} to the archive"))
}

/// The commit's date in Unix seconds, so that packing the same commit twice
/// gives the same entries; 0 outside a git checkout.
fn commit_date(root: &Path) -> u64 {
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
        .unwrap_or(0)
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Builds `natter:<version>` from `binary` with podman, in a build context
/// holding only what the Containerfile copies, and saves it in `out`.
fn image(root: &Path, binary: &Path, out: &Path) -> Result<PathBuf> {
    step(&format!(
        "building the container image natter:{VERSION} (podman)"
    ));
    let context = out.join("image");
    if context.exists() {
        std::fs::remove_dir_all(&context)?;
    }
    // The volume's folder, empty, which the image gives to its user.
    std::fs::create_dir_all(context.join("data"))?;
    std::fs::copy(binary, context.join("natter"))?;
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(root.join(licence), context.join(licence))?;
    }
    let tag = format!("natter:{VERSION}");
    Command::new("podman")
        .args(["build", "--format", "docker", "--tag", &tag])
        .arg("--label")
        .arg(format!("org.opencontainers.image.version={VERSION}"))
        .arg("--file")
        .arg(root.join("docs/deploy/Containerfile"))
        .arg(&context)
        .run()
        .context("podman could not build the image")?;
    let saved = out.join(format!("{}.image.tar", release_name()));
    if saved.exists() {
        std::fs::remove_file(&saved)?;
    }
    Command::new("podman")
        .args(["save", "--format", "docker-archive", "--output"])
        .arg(&saved)
        .arg(&tag)
        .run()
        .context("podman could not save the image")?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_carries_the_binary_docs_and_every_deploy_file() {
        let root = crate::project_root();
        let entries = entries(&root, Path::new("natter")).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.to.as_str()).collect();
        for needed in [
            "natter",
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
            "docs/deploy/natter.service",
            "docs/deploy/nginx.conf",
            "docs/deploy/Containerfile",
            "docs/deploy/compose.yaml",
        ] {
            assert!(names.contains(&needed), "{needed} missing from {names:?}");
        }
        assert!(entries.iter().skip(1).all(|e| e.from.is_file()));
        assert_eq!(entries.iter().filter(|e| e.executable).count(), 1);
    }

    /// The compose files and the install instructions name the image and
    /// the archive of this version: bumping the manifests' version without
    /// them would send people to a file or image that does not exist.
    #[test]
    fn the_docs_name_this_versions_image_and_archive() {
        let root = crate::project_root();
        let mut files = vec![root.join("README.md"), root.join("docs/DEPLOY.md")];
        for entry in std::fs::read_dir(root.join(DEPLOY_FILES)).unwrap() {
            files.push(entry.unwrap().path());
        }
        let mut named = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for marker in ["natter:", "natter-"] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let version: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    // `natter-2.service` is a unit, not a version.
                    if version.trim_end_matches('.').matches('.').count() != 2 {
                        continue;
                    }
                    named += 1;
                    assert_eq!(
                        version.trim_end_matches('.'),
                        VERSION,
                        "{} names {marker}{version}",
                        file.display()
                    );
                }
            }
        }
        assert!(named >= 6, "only {named} mentions of a version found");
    }
}
