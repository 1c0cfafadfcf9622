//! Rebuilds the server when the client bundle in `dist/` changes, so a
//! release binary always embeds the bundle it was built after; stops a
//! release build of the binary that would embed no bundle (`cargo install`
//! from a checkout where the client was never built); and names the commit
//! a release binary was built from (`natter --version`).
//!
//! Only release builds ask git: the commit changes with every commit, and
//! every change of it rebuilds the whole package, tests included.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=../dist");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    // Read by `main.rs`, which refuses to compile a release binary without
    // the page; the library (the load generator links it) builds either way.
    println!("cargo::rustc-check-cfg=cfg(natter_bundle_missing)");
    if release && !Path::new("../dist/index.html").exists() {
        println!("cargo::rustc-cfg=natter_bundle_missing");
    }
    let built_from = if release {
        for moves in ["../.git/HEAD", "../.git/refs/heads", "../.git/packed-refs"] {
            // A path that does not exist would rerun this script every time.
            if Path::new(moves).exists() {
                println!("cargo::rerun-if-changed={moves}");
            }
        }
        commit().unwrap_or_else(|| "commit unknown".to_owned())
    } else {
        "development build".to_owned()
    };
    println!("cargo::rustc-env=NATTER_BUILT_FROM={built_from}");
}

/// The checkout's commit, abbreviated, if this is a git checkout.
fn commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}
