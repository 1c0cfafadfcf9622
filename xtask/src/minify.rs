//! The release bundle's JavaScript and CSS, minified.
//!
//! wasm-bindgen writes readable glue code (about 54 KB for the client), and
//! the stylesheet keeps its comments; trunk's own minifier is not used
//! because it is known to break that glue. After trunk has built `dist/`,
//! each script there is minified with terser and each stylesheet with
//! Lightning CSS (both from npm, under `target/tools`), and their
//! Subresource Integrity hashes in `dist/index.html` are written anew, since
//! the page checks the hash of each file it loads.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha384};

use crate::{Run, step};

/// The minifiers' commands.
pub struct Minifiers {
    /// terser, for JavaScript.
    pub terser: PathBuf,
    /// Lightning CSS's command line, for stylesheets.
    pub lightningcss: PathBuf,
}

impl Minifiers {
    /// The command that writes `file` minified to `out`, if `file` is a
    /// kind of file this minifies.
    fn command(&self, file: &Path, out: &Path) -> Option<Command> {
        let mut cmd;
        match file.extension()?.to_str()? {
            "js" => {
                cmd = Command::new(&self.terser);
                cmd.arg(file)
                    .args(["--module", "--compress", "--mangle", "--output"]);
            }
            "css" => {
                cmd = Command::new(&self.lightningcss);
                cmd.arg("--minify").arg(file).arg("--output-file");
            }
            _ => return None,
        }
        cmd.arg(out);
        Some(cmd)
    }
}

/// Minifies every script and stylesheet in `dist`, and updates the
/// integrity hashes `dist/index.html` gives them.
pub fn minify(dist: &Path, minifiers: &Minifiers) -> Result<()> {
    step("minifying the bundle's JavaScript (terser) and CSS (Lightning CSS)");
    let index_path = dist.join("index.html");
    let mut index = std::fs::read_to_string(&index_path)
        .with_context(|| format!("cannot read {}", index_path.display()))?;
    for file in files(dist)? {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let minified = dist.join(format!("{name}.min"));
        let Some(cmd) = minifiers.command(&file, &minified) else {
            continue;
        };
        let replaced = replace(&file, cmd, &minified, &index)
            .with_context(|| format!("could not minify {}", file.display()));
        if replaced.is_err() {
            // Nothing half-written is left for the server to embed.
            let _ = std::fs::remove_file(&minified);
        }
        let (page, before, after) = replaced?;
        index = page;
        eprintln!("    {name}: {before} → {after} bytes");
    }
    std::fs::write(&index_path, index)
        .with_context(|| format!("cannot write {}", index_path.display()))
}

/// Runs `cmd`, which writes `file` minified to `minified`, and puts the
/// result in `file`'s place. Returns `index` with the file's new hash and
/// the file's sizes before and after.
fn replace(
    file: &Path,
    mut cmd: Command,
    minified: &Path,
    index: &str,
) -> Result<(String, usize, usize)> {
    let before = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    cmd.run()?;
    let after =
        std::fs::read(minified).with_context(|| format!("cannot read {}", minified.display()))?;
    let index = rehash(index, &before, &after).context("in the page's integrity hashes")?;
    std::fs::rename(minified, file)
        .with_context(|| format!("cannot replace {}", file.display()))?;
    Ok((index, before.len(), after.len()))
}

/// The files trunk wrote to `dist`, in a stable order.
pub(crate) fn files(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(dist).with_context(|| format!("cannot read {}", dist.display()))?
    {
        found.push(entry?.path());
    }
    found.sort();
    Ok(found)
}

/// The `integrity` value a browser checks `bytes` against.
fn integrity(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `index` with the integrity hash of `before` replaced by that of
/// `after`. A page that names the file's hash other than once is an
/// error: the page would refuse the new file, or the old hash would be
/// left behind.
pub(crate) fn rehash(index: &str, before: &[u8], after: &[u8]) -> Result<String> {
    let old = integrity(before);
    match index.matches(&old).count() {
        1 => Ok(index.replace(&old, &integrity(after))),
        0 => bail!("no integrity=\"{old}\" for the file"),
        n => bail!("integrity=\"{old}\" appears {n} times"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_is_the_base64_sha384_browsers_check() {
        // The SHA-384 of "abc" (FIPS 180-2, appendix D.1), in base64.
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    #[test]
    fn scripts_and_stylesheets_are_minified_and_nothing_else() {
        let minifiers = Minifiers {
            terser: "terser".into(),
            lightningcss: "lightningcss".into(),
        };
        let out = Path::new("out");
        let js = minifiers.command(Path::new("app-1.js"), out).unwrap();
        assert_eq!(js.get_program(), "terser");
        let css = minifiers.command(Path::new("style-1.css"), out).unwrap();
        assert_eq!(css.get_program(), "lightningcss");
        for other in ["app-1_bg.wasm", "index.html", "favicon-1.svg", "README"] {
            assert!(
                minifiers.command(Path::new(other), out).is_none(),
                "{other}"
            );
        }
    }

    #[test]
    fn the_files_hash_is_replaced_and_nothing_else() {
        let css = integrity(b"body{}");
        let page = format!(
            "<link rel=\"stylesheet\" integrity=\"{css}\">\
             <link rel=\"modulepreload\" integrity=\"{}\">",
            integrity(b"let long = 1;")
        );
        let new = rehash(&page, b"let long = 1;", b"let a=1;").unwrap();
        assert_eq!(
            new,
            format!(
                "<link rel=\"stylesheet\" integrity=\"{css}\">\
                 <link rel=\"modulepreload\" integrity=\"{}\">",
                integrity(b"let a=1;")
            )
        );
    }

    #[test]
    fn a_page_without_the_files_hash_is_an_error() {
        let page = format!("<link integrity=\"{}\">", integrity(b"other"));
        let err = rehash(&page, b"script", b"s").unwrap_err();
        assert!(err.to_string().contains("no integrity"), "{err}");
        let twice = format!("{0}{0}", integrity(b"script"));
        assert!(rehash(&twice, b"script", b"s").is_err());
    }
}
