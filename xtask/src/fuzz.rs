//! `cargo xtask fuzz`: runs each libFuzzer target in `fuzz/` (a cargo-fuzz
//! project outside the workspace) for a time budget, on the nightly
//! toolchain, installing cargo-fuzz once if it is missing.
//!
//! Each target's corpus, `fuzz/corpus/TARGET/`, is kept between runs and
//! seeded with the examples in `docs/PROTOCOL.md`; `fuzz/protocol.dict`
//! gives the fuzzer the protocol's words. A failing input is saved to
//! `fuzz/artifacts/TARGET/`, and cargo-fuzz prints how to replay it.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::{Run, cargo, step};

const TOOLCHAIN: &str = "nightly";

/// The fuzz targets, each a `[[bin]]` of `fuzz/Cargo.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Arbitrary text frames through `decode_client`, and what decodes
    /// through a JSON round trip.
    #[value(name = "decode_client")]
    DecodeClient,
    /// The same for `decode_server`.
    #[value(name = "decode_server")]
    DecodeServer,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::DecodeClient, Target::DecodeServer];

    fn name(self) -> &'static str {
        match self {
            Target::DecodeClient => "decode_client",
            Target::DecodeServer => "decode_server",
        }
    }

    /// The tag of the `docs/PROTOCOL.md` examples that seed its corpus.
    fn doc_tag(self) -> &'static str {
        match self {
            Target::DecodeClient => "client",
            Target::DecodeServer => "server",
        }
    }
}

/// Runs `targets` (all when empty) for `seconds` each; fails on the first
/// target that finds a failing input.
pub fn run(root: &Path, seconds: u64, targets: &[Target]) -> Result<()> {
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    let fuzz_dir = root.join("fuzz");
    let doc = std::fs::read_to_string(root.join("docs/PROTOCOL.md"))
        .context("cannot read docs/PROTOCOL.md")?;
    let targets = if targets.is_empty() {
        &Target::ALL[..]
    } else {
        targets
    };
    for &target in targets {
        let name = target.name();
        let corpus = fuzz_dir.join("corpus").join(name);
        seed(&corpus, &doc_examples(&doc, target.doc_tag()))?;
        step(&format!("fuzzing {name} for {seconds} s"));
        nightly(&["cargo", "fuzz", "run", "--sanitizer", "none", "--fuzz-dir"])
            .arg(&fuzz_dir)
            .arg(name)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!(
                "-dict={}",
                fuzz_dir.join("protocol.dict").display()
            ))
            .run()
            .with_context(|| {
                format!(
                    "fuzz target {name} failed; its input is in {}",
                    fuzz_dir.join("artifacts").join(name).display()
                )
            })?;
    }
    step("fuzzing found nothing");
    Ok(())
}

/// A command run with the nightly toolchain, whichever cargo started us.
fn nightly(args: &[&str]) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", TOOLCHAIN])
        .args(args)
        // Set by the cargo that runs xtask; it would point cargo-fuzz at
        // the stable toolchain.
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("RUSTUP_TOOLCHAIN");
    cmd
}

fn ensure_nightly() -> Result<()> {
    let list = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .context("fuzzing needs rustup and the nightly toolchain")?;
    if String::from_utf8_lossy(&list.stdout)
        .lines()
        .any(|line| line.starts_with(&format!("{TOOLCHAIN}-")))
    {
        return Ok(());
    }
    step("installing the nightly toolchain (cargo-fuzz needs it)");
    Command::new("rustup")
        .args(["toolchain", "install", TOOLCHAIN, "--profile", "minimal"])
        .run()
}

fn ensure_cargo_fuzz() -> Result<()> {
    let present = nightly(&["cargo", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    step("installing cargo-fuzz (once; takes minutes)");
    cargo(&["install", "cargo-fuzz", "--locked"]).run()
}

/// The bodies of the ```json blocks tagged `tag` in the protocol document.
fn doc_examples(doc: &str, tag: &str) -> Vec<String> {
    natter_shared::doc_examples(doc)
        .into_iter()
        .filter_map(|(t, body)| (t == tag).then_some(body))
        .collect()
}

/// Adds each example to the corpus, named by its content so that seeding
/// again adds nothing twice.
fn seed(corpus: &Path, examples: &[String]) -> Result<()> {
    std::fs::create_dir_all(corpus)
        .with_context(|| format!("cannot create {}", corpus.display()))?;
    for example in examples {
        let file = corpus.join(format!("doc-{:016x}", fnv1a(example.as_bytes())));
        if !file.exists() {
            std::fs::write(&file, example)
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
    }
    Ok(())
}

/// FNV-1a: a stable name for a seed, the same in every build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_taken_by_tag() {
        let doc = "text\n```json client\n{\"type\":\"watch_rooms\"}\n```\n\
                   ```json server\n{\n  \"type\": \"welcome\",\n  \"nick\": \"user1\"\n}\n```\n\
                   ```rust\nfn main() {}\n```\n";
        assert_eq!(doc_examples(doc, "client"), [r#"{"type":"watch_rooms"}"#]);
        assert_eq!(
            doc_examples(doc, "server"),
            ["{\n  \"type\": \"welcome\",\n  \"nick\": \"user1\"\n}"]
        );
    }

    #[test]
    fn every_target_is_a_bin_of_the_fuzz_project() {
        let manifest = include_str!("../../fuzz/Cargo.toml");
        for target in Target::ALL {
            assert!(
                manifest.contains(&format!("name = \"{}\"", target.name())),
                "fuzz/Cargo.toml has no [[bin]] {}",
                target.name()
            );
        }
    }
}
