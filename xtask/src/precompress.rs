//! The release bundle, compressed once when it is built.
//!
//! Beside each larger file of `dist/`, this writes `<file>.br` (brotli at
//! its strongest setting) and `<file>.gz` (gzip by Zopfli, which spends
//! two to three seconds on the wasm to make it 5 % smaller than the
//! server's own gzip at its best).
//! The server embeds them with the rest of the bundle, checks at start that
//! each decodes to the file beside it, and sends them to browsers that
//! accept them (`server/src/assets.rs`), so servers do not spend their
//! start compressing the bundle trunk builds. Only `dist/`'s top level is
//! read, where trunk writes the page, the wasm, its glue and the
//! stylesheets; the server compresses anything else itself.
//!
//! This is the last step of the build: any later change to a file would
//! leave its compressed copies stale (the server would then notice and
//! compress the file itself).

use std::io::Write as _;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::step;

/// Files smaller than this are left to the server's compression layer; the
/// server uses the same bound.
const MIN_BYTES: usize = 1024;

/// Zopfli's passes over each block; its own command's default. A hundred
/// passes make the wasm 32 bytes smaller in four times the time.
const ZOPFLI_ITERATIONS: NonZeroU64 = NonZeroU64::new(15).expect("not zero");

/// How the temporary files of this step begin, so that the leftovers of an
/// interrupted build are found and removed rather than embedded.
const TEMP_PREFIX: &str = ".precompress-";

/// Writes `<file>.br` and `<file>.gz` beside every compressible file of at
/// least [`MIN_BYTES`] in `dist`, and removes compressed copies whose
/// original is gone and the temporary files of an interrupted run.
pub fn precompress(dist: &Path) -> Result<()> {
    step("compressing the bundle (brotli, and gzip by Zopfli)");
    let files = crate::minify::files(dist)?;
    for file in &files {
        let leftover = file
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(TEMP_PREFIX));
        let copy = copy_of(file);
        let orphan = copy.as_ref().is_some_and(|original| !original.exists());
        if leftover || orphan {
            std::fs::remove_file(file)
                .with_context(|| format!("cannot remove {}", file.display()))?;
            continue;
        }
        if copy.is_some() || !file.is_file() || !is_compressible(file) {
            continue;
        }
        let data =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        if data.len() < MIN_BYTES {
            continue;
        }
        let brotli =
            brotli(&data).with_context(|| format!("cannot compress {}", file.display()))?;
        let gzip = gzip(&data).with_context(|| format!("cannot compress {}", file.display()))?;
        write_beside(file, "br", &brotli)?;
        write_beside(file, "gz", &gzip)?;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        eprintln!(
            "    {name}: {} bytes, {} brotli, {} gzip",
            data.len(),
            brotli.len(),
            gzip.len()
        );
    }
    Ok(())
}

/// The file that `file` is a compressed copy of, if it is one: a `.br` or
/// `.gz` name over the name of a kind of file this compresses (so that
/// `data.tar.gz` is no copy).
fn copy_of(file: &Path) -> Option<PathBuf> {
    match file.extension()?.to_str()? {
        "br" | "gz" => Some(file.with_extension("")).filter(|original| is_compressible(original)),
        _ => None,
    }
}

/// The kinds of file trunk writes that compress (not images or fonts,
/// which are compressed already).
fn is_compressible(file: &Path) -> bool {
    matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("wasm" | "js" | "mjs" | "css" | "html" | "svg" | "json" | "txt" | "map")
    )
}

fn brotli(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
    Ok(out)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let options = zopfli::Options {
        iteration_count: ZOPFLI_ITERATIONS,
        ..Default::default()
    };
    let mut out = Vec::new();
    zopfli::compress(options, zopfli::Format::Gzip, data, &mut out)?;
    Ok(out)
}

/// Writes `<file>.<ext>` whole or not at all (through a temporary file in
/// the same folder, renamed into place), readable by whoever may read
/// `file`.
fn write_beside(file: &Path, ext: &str, bytes: &[u8]) -> Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    let target = PathBuf::from(name);
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    temp.write_all(bytes)
        .with_context(|| format!("cannot write {}", target.display()))?;
    let permissions = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .permissions();
    std::fs::set_permissions(temp.path(), permissions)
        .with_context(|| format!("cannot write {}", target.display()))?;
    temp.persist(&target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"let natter = chat();\n"[i % 21])
            .collect::<Vec<u8>>()
    }

    fn decoded_brotli(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
        out
    }

    fn decoded_gzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn larger_files_get_both_copies_that_decode_to_them() {
        let dist = tempfile::tempdir().unwrap();
        let wasm = sample(50_000);
        std::fs::write(dist.path().join("app-0123456789abcdef_bg.wasm"), &wasm).unwrap();
        let index = dist.path().join("index.html");
        std::fs::write(&index, sample(MIN_BYTES)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&index, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        precompress(dist.path()).unwrap();

        let br = std::fs::read(dist.path().join("app-0123456789abcdef_bg.wasm.br")).unwrap();
        let gz = std::fs::read(dist.path().join("app-0123456789abcdef_bg.wasm.gz")).unwrap();
        assert!(br.len() < wasm.len() / 10 && gz.len() < wasm.len() / 10);
        assert_eq!(decoded_brotli(&br), wasm);
        assert_eq!(decoded_gzip(&gz), wasm);
        assert!(dist.path().join("index.html.br").exists());
        assert!(dist.path().join("index.html.gz").exists());
        let mode = |name: &str| {
            std::fs::metadata(dist.path().join(name))
                .unwrap()
                .permissions()
        };
        assert_eq!(mode("index.html.gz"), mode("index.html"));
    }

    #[test]
    fn small_and_compressed_files_and_folders_are_left_alone() {
        let dist = tempfile::tempdir().unwrap();
        std::fs::write(dist.path().join("favicon.svg"), sample(MIN_BYTES - 1)).unwrap();
        std::fs::write(dist.path().join("logo.png"), sample(10_000)).unwrap();
        std::fs::write(dist.path().join("data.tar.gz"), sample(10_000)).unwrap();
        std::fs::create_dir(dist.path().join("snippets")).unwrap();
        precompress(dist.path()).unwrap();
        let mut names = crate::minify::files(dist.path())
            .unwrap()
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect::<Vec<_>>();
        names.sort();
        assert_eq!(
            names,
            ["data.tar.gz", "favicon.svg", "logo.png", "snippets"]
        );
    }

    #[test]
    fn copies_are_rewritten_and_orphans_and_leftovers_removed() {
        let dist = tempfile::tempdir().unwrap();
        let js = dist.path().join("app.js");
        std::fs::write(&js, sample(5_000)).unwrap();
        std::fs::write(dist.path().join("app.js.gz"), b"stale").unwrap();
        std::fs::write(dist.path().join("gone.js.br"), b"orphan").unwrap();
        let leftover = dist.path().join(format!("{TEMP_PREFIX}a1b2c3"));
        std::fs::write(&leftover, b"half a copy").unwrap();
        precompress(dist.path()).unwrap();
        assert_eq!(
            decoded_gzip(&std::fs::read(dist.path().join("app.js.gz")).unwrap()),
            sample(5_000)
        );
        assert!(!dist.path().join("gone.js.br").exists());
        assert!(!leftover.exists());
    }
}
