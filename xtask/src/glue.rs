//! The release bundle's JavaScript, minified.
//!
//! wasm-bindgen writes readable glue code (about 54 KB for the client);
//! trunk's own minifier is not used because it is known to break that glue.
//! After trunk has built `dist/`, each script there is minified with terser
//! (npm, under `target/tools/terser`), and its Subresource Integrity hash
//! in `dist/index.html` is written anew, since the page checks the hash of
//! the script it preloads.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha384};

use crate::{Run, step};

/// Minifies every `.js` file in `dist` with the `terser` at `terser`, and
/// updates the integrity hashes `dist/index.html` gives them.
pub fn minify(dist: &Path, terser: &Path) -> Result<()> {
    step("minifying the bundle's JavaScript (terser)");
    let index_path = dist.join("index.html");
    let mut index = std::fs::read_to_string(&index_path)
        .with_context(|| format!("cannot read {}", index_path.display()))?;
    for script in scripts(dist)? {
        let before =
            std::fs::read(&script).with_context(|| format!("cannot read {}", script.display()))?;
        let minified = script.with_extension("min.js");
        Command::new(terser)
            .arg(&script)
            .args(["--module", "--compress", "--mangle", "--output"])
            .arg(&minified)
            .run()
            .with_context(|| format!("terser could not minify {}", script.display()))?;
        let after = std::fs::read(&minified)
            .with_context(|| format!("cannot read {}", minified.display()))?;
        index = rehash(&index, &before, &after)
            .with_context(|| format!("in {}", index_path.display()))?;
        std::fs::rename(&minified, &script)
            .with_context(|| format!("cannot replace {}", script.display()))?;
        eprintln!(
            "    {}: {} → {} bytes",
            script.file_name().unwrap_or_default().to_string_lossy(),
            before.len(),
            after.len()
        );
    }
    std::fs::write(&index_path, index)
        .with_context(|| format!("cannot write {}", index_path.display()))
}

/// The scripts trunk wrote to `dist`, in a stable order.
fn scripts(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(dist).with_context(|| format!("cannot read {}", dist.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "js") {
            found.push(path);
        }
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
/// `after`. A page that names the script's hash other than once is an
/// error: the page would refuse the new script, or the old hash would be
/// left behind.
fn rehash(index: &str, before: &[u8], after: &[u8]) -> Result<String> {
    let old = integrity(before);
    match index.matches(&old).count() {
        1 => Ok(index.replace(&old, &integrity(after))),
        0 => bail!("no integrity=\"{old}\" for the script"),
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
    fn the_scripts_hash_is_replaced_and_nothing_else() {
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
    fn a_page_without_the_scripts_hash_is_an_error() {
        let page = format!("<link integrity=\"{}\">", integrity(b"other"));
        let err = rehash(&page, b"script", b"s").unwrap_err();
        assert!(err.to_string().contains("no integrity"), "{err}");
        let twice = format!("{0}{0}", integrity(b"script"));
        assert!(rehash(&twice, b"script", b"s").is_err());
    }
}
