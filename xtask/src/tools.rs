//! Finding and installing the tools the build and tests need, and only the
//! missing ones:
//!
//! | tool | from | why this way |
//! |---|---|---|
//! | `wasm32-unknown-unknown` | rustup | the client's target |
//! | trunk | crates.io | builds the client bundle |
//! | wasm-bindgen CLI | crates.io, the version in `Cargo.lock` | trunk would otherwise try to download it |
//! | wasm-opt | npm's `binaryen`, under `target/tools` | Debian's binaryen is too old and breaks the bundle |
//! | terser, Lightning CSS | npm, under `target/tools` | minify the release bundle's JavaScript and CSS (`minify.rs`) |
//! | Chromium, chromedriver | Debian's packages | the browser tests |
//! | axe-core | npm, under `target/tools` | the browser tests check each page's accessibility with it |
//! | `x86_64-unknown-linux-musl`, musl-gcc | rustup, Debian's `musl-tools` | the released binary, linked statically (`release.rs`) |
//! | podman | Debian's packages | builds the container image (`release.rs`) |

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::minify::Minifiers;
use crate::{Run, cargo, step};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_VERSION: &str = "132";
const TERSER_VERSION: &str = "5.51.4";
const LIGHTNINGCSS_VERSION: &str = "1.33.0";
/// The accessibility checker the browser tests run in each page
/// (`server/tests/common/axe.rs` reads it from [`AXE_SCRIPT`]).
const AXE_VERSION: &str = "4.14.1";
/// Where axe-core's script lands, from the project's root.
pub const AXE_SCRIPT: &str = "target/tools/axe-core/node_modules/axe-core/axe.min.js";

/// What a trunk build needs: trunk itself and a PATH on which trunk finds
/// the pinned wasm-bindgen and wasm-opt.
pub struct BuildEnv {
    pub trunk: PathBuf,
    /// Runs wasm tests in a headless browser; installed with wasm-bindgen.
    pub wasm_test_runner: PathBuf,
    /// Minify the release bundle's JavaScript and CSS.
    pub minifiers: Minifiers,
    pub path: OsString,
}

pub fn ensure_build_tools(root: &Path) -> Result<BuildEnv> {
    ensure_wasm_target()?;
    let bindgen_version = locked_version(root, "wasm-bindgen")?;
    check_trunk_pins(root, &bindgen_version)?;

    let trunk = match find_tool("trunk", &format!("trunk {TRUNK_VERSION}")) {
        Some(found) => found,
        None => {
            step(&format!(
                "installing trunk {TRUNK_VERSION} (once; takes minutes)"
            ));
            cargo(&["install", "--locked", "trunk", "--version", TRUNK_VERSION]).run()?;
            find_tool("trunk", &format!("trunk {TRUNK_VERSION}"))
                .context("trunk was installed but cannot be found")?
        }
    };
    let bindgen = match find_tool("wasm-bindgen", &format!("wasm-bindgen {bindgen_version}")) {
        Some(found) => found,
        None => {
            step(&format!(
                "installing wasm-bindgen-cli {bindgen_version} (once)"
            ));
            // Not --locked: its own lockfile can name versions the registry
            // mirror does not have yet.
            cargo(&["install", "wasm-bindgen-cli", "--version", &bindgen_version]).run()?;
            find_tool("wasm-bindgen", &format!("wasm-bindgen {bindgen_version}"))
                .context("wasm-bindgen was installed but cannot be found")?
        }
    };
    let wasm_opt_dir = ensure_wasm_opt(root)?;
    let minifiers = Minifiers {
        terser: ensure_npm_tool(root, "terser", TERSER_VERSION, "terser")?,
        lightningcss: ensure_npm_tool(
            root,
            "lightningcss-cli",
            LIGHTNINGCSS_VERSION,
            "lightningcss",
        )?,
    };

    let wasm_test_runner = parent(&bindgen).join("wasm-bindgen-test-runner");
    let mut dirs = vec![wasm_opt_dir, parent(&bindgen), parent(&trunk)];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).context("a tool path holds a ':'")?;
    Ok(BuildEnv {
        trunk,
        wasm_test_runner,
        minifiers,
        path,
    })
}

/// chromedriver: `CHROMEDRIVER`, or Debian's.
pub fn chromedriver() -> PathBuf {
    std::env::var_os("CHROMEDRIVER").map_or_else(|| "/usr/bin/chromedriver".into(), PathBuf::from)
}

/// Chromium and chromedriver for the browser tests, a font with Chinese
/// characters for the Chinese interface's screenshots and one with emoji
/// for reactions', and nginx for the test of the documented proxy set-up,
/// from Debian's packages.
pub fn ensure_browser() -> Result<()> {
    let needed = [
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/chromedriver", "chromium-driver"),
        (
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
            "fonts-wqy-zenhei",
        ),
        (
            "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
            "fonts-noto-color-emoji",
        ),
        // The proxy the deployment guide documents, run by a browser test.
        ("/usr/sbin/nginx", "nginx"),
    ];
    let custom_browser =
        std::env::var_os("CHROMIUM").is_some() && std::env::var_os("CHROMEDRIVER").is_some();
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(path, package)| {
            !(Path::new(path).exists() || custom_browser && package.starts_with("chromium"))
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!(
        "installing {} (Debian packages)",
        missing.join(", ")
    ));
    apt_install(&missing).context(
        "the browser tests need Chromium and chromedriver: install them, or set CHROMIUM \
         and CHROMEDRIVER to their paths",
    )
}

/// axe-core, the accessibility checker the browser tests inject into each
/// page, from npm into `target/tools/axe-core`.
pub fn ensure_axe(root: &Path) -> Result<()> {
    ensure_npm_package(root, "axe-core", AXE_VERSION, "axe-core")?;
    let script = root.join(AXE_SCRIPT);
    if !script.exists() {
        bail!("axe-core was installed but {} is missing", script.display());
    }
    Ok(())
}

/// Installs Debian packages, through sudo when not root.
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!("apt-get is not available to install {}", packages.join(" "));
    }
    let sudo = !is_root();
    if sudo && Command::new("sudo").arg("--version").output().is_err() {
        bail!(
            "installing {} needs root, and sudo is not available",
            packages.join(" ")
        );
    }
    let apt = |args: &[&str]| {
        let mut cmd = Command::new(if sudo { "sudo" } else { "apt-get" });
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    apt(&["update"]).run()?;
    let mut install = apt(&["install", "-y"]);
    install.args(packages).run()
}

fn ensure_wasm_target() -> Result<()> {
    ensure_rustup_part("target", WASM_TARGET, &format!("the {WASM_TARGET} target"))
}

/// Adds a rustup target or component (`kind`) unless it is installed.
pub(crate) fn ensure_rustup_part(kind: &str, name: &str, what: &str) -> Result<()> {
    let installed = Command::new("rustup")
        .args([kind, "list", "--installed"])
        .output()
        .with_context(|| format!("rustup is needed to add {what}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == name)
    {
        return Ok(());
    }
    step(&format!("adding {what}"));
    Command::new("rustup").args([kind, "add", name]).run()
}

/// npm's binaryen in `target/tools/binaryen`; returns the folder of its
/// `wasm-opt`.
fn ensure_wasm_opt(root: &Path) -> Result<PathBuf> {
    let version = format!("{BINARYEN_VERSION}.0.0");
    let wasm_opt = ensure_npm_tool(root, "binaryen", &version, "wasm-opt")?;
    Ok(parent(&wasm_opt))
}

/// The command `bin` of npm's `package@version`, installed under
/// `target/tools/<package>` unless that version is there already.
fn ensure_npm_tool(root: &Path, package: &str, version: &str, bin: &str) -> Result<PathBuf> {
    let folder = ensure_npm_package(root, package, version, bin)?;
    let modules = parent(&folder);
    Ok(modules.join(".bin").join(bin))
}

/// The folder of npm's `package@version` (`what` it is for the messages),
/// installed under `target/tools/<package>` unless that version is there
/// already.
fn ensure_npm_package(root: &Path, package: &str, version: &str, what: &str) -> Result<PathBuf> {
    let folder = root
        .join("target/tools")
        .join(package)
        .join("node_modules")
        .join(package);
    let installed = std::fs::read_to_string(folder.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    if installed.as_deref() != Some(version) {
        npm_install(root, package, version, what)?;
    }
    Ok(folder)
}

/// Installs `package@version` from npm into `target/tools/<package>`, and
/// Node.js with npm first if they are missing.
fn npm_install(root: &Path, package: &str, version: &str, what: &str) -> Result<()> {
    if Command::new("npm").arg("--version").output().is_err() {
        step(&format!(
            "installing nodejs and npm (Debian packages), for {what}"
        ));
        apt_install(&["nodejs", "npm"])
            .with_context(|| format!("{what} comes from npm: install Node.js and npm"))?;
    }
    step(&format!("installing {what} (npm {package}@{version})"));
    let prefix = root.join("target/tools").join(package);
    std::fs::create_dir_all(&prefix).context("cannot create target/tools")?;
    Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(format!("{package}@{version}"))
        .run()
        .with_context(|| format!("npm could not install {package}"))
}

/// The Node.js chats the load generator measures Natter against: the
/// scripts and lockfile in `bench/peers`, installed with `npm ci` into
/// `target/bench-peers` (again only when the lockfile changed). Returns
/// that folder.
pub fn ensure_bench_peers(root: &Path) -> Result<PathBuf> {
    let source = root.join("bench/peers");
    let prefix = root.join("target/bench-peers");
    std::fs::create_dir_all(&prefix).context("cannot create target/bench-peers")?;
    let lock = std::fs::read(source.join("package-lock.json"))
        .context("cannot read bench/peers/package-lock.json")?;
    let installed = std::fs::read(prefix.join("node_modules/.package-lock.json")).ok();
    for file in [
        "package.json",
        "package-lock.json",
        "nodejs-websocket.js",
        "ws.js",
    ] {
        std::fs::copy(source.join(file), prefix.join(file))
            .with_context(|| format!("cannot copy bench/peers/{file}"))?;
    }
    let current = installed.is_some_and(|i| same_packages(&i, &lock));
    if !current {
        if Command::new("npm").arg("--version").output().is_err() {
            step("installing nodejs and npm (Debian packages), for the Node.js peers");
            apt_install(&["nodejs", "npm"])?;
        }
        step("installing the Node.js peers (npm ci: nodejs-websocket, ws)");
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&prefix)
            .run()
            .context("npm could not install the Node.js peers")?;
    }
    Ok(prefix)
}

/// Whether npm's record of what it installed lists the same packages, at
/// the same versions, as the lockfile.
fn same_packages(installed: &[u8], lock: &[u8]) -> bool {
    let packages = |raw: &[u8]| -> Option<Vec<(String, String)>> {
        let json: serde_json::Value = serde_json::from_slice(raw).ok()?;
        let mut list: Vec<(String, String)> = json
            .get("packages")?
            .as_object()?
            .iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, p)| {
                let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("");
                (name.clone(), version.to_owned())
            })
            .collect();
        list.sort();
        Some(list)
    };
    matches!((packages(installed), packages(lock)), (Some(a), Some(b)) if a == b)
}

/// A tool on PATH or in cargo's bin folder whose `--version` starts with
/// `want`.
fn find_tool(name: &str, want: &str) -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join(name));
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .collect::<Vec<_>>();
    on_path
        .into_iter()
        .chain(cargo_bin)
        .find(|candidate| version_of(candidate).is_some_and(|v| v.trim().starts_with(want)))
}

fn version_of(program: &Path) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The version of `package` that `Cargo.lock` pins.
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock =
        std::fs::read_to_string(root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    bail!("Cargo.lock does not pin {package}")
}

/// Trunk.toml must pin the same wasm-bindgen as Cargo.lock, or trunk tries
/// to download one.
fn check_trunk_pins(root: &Path, bindgen_version: &str) -> Result<()> {
    let trunk_toml =
        std::fs::read_to_string(root.join("Trunk.toml")).context("cannot read Trunk.toml")?;
    let pinned = trunk_toml
        .lines()
        .find_map(|l| l.trim().strip_prefix("wasm_bindgen = \""))
        .and_then(|l| l.strip_suffix('"'));
    match pinned {
        Some(v) if v == bindgen_version => Ok(()),
        Some(v) => bail!(
            "Trunk.toml pins wasm-bindgen {v} but Cargo.lock has {bindgen_version}: \
             set [tools] wasm_bindgen = \"{bindgen_version}\""
        ),
        None => bail!("Trunk.toml must pin [tools] wasm_bindgen = \"{bindgen_version}\""),
    }
}

fn parent(tool: &Path) -> PathBuf {
    tool.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

#[cfg(test)]
mod tests {
    /// The browser tests read axe-core's script where set-up puts it.
    #[test]
    fn the_browser_tests_look_for_axe_where_setup_installs_it() {
        let helper =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/common/axe.rs");
        let text = std::fs::read_to_string(&helper).unwrap();
        assert!(
            text.contains(&format!("\"{}\"", super::AXE_SCRIPT)),
            "{} does not read {}",
            helper.display(),
            super::AXE_SCRIPT
        );
    }
}
