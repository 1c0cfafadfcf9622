//! Short names for what the bundle's wasm and its JavaScript glue call of
//! each other.
//!
//! wasm-bindgen names every function the wasm imports from its glue after
//! the JavaScript it wraps plus a 64-bit hash (`__wbg_setAttribute_1a2b…`),
//! and some of the functions it exports after Rust types written out in
//! full. Both files carry every name, and hashes do not compress.
//!
//! After trunk's build, and once the classes the client never creates are
//! cut out of the glue (`unused_classes.rs`), what one file no longer uses
//! leaves the other: every export the glue does not read is removed from
//! the wasm, `wasm-opt -Oz` then drops what only those exports reached,
//! and the glue's functions for the imports it dropped go too, until
//! neither side has more to give up. binaryen's `wasm-opt` then renames
//! every import, export and import module to one to three characters and
//! prints the renaming (the same run optimises for size once more and
//! drops the `producers` and `target_features` sections, which no browser
//! reads); the glue is rewritten to match and the page's integrity hashes
//! for both files are written anew.
//!
//! The rewrite is strict, so that a change in wasm-bindgen's glue fails the
//! build rather than ship a page that cannot start: each import's old name
//! must appear in the glue exactly once (its key in the imports object), so
//! must the import module's name, and every `wasm.<name>` the glue reads
//! must be a renamed export.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use wasm_encoder::{ExportKind, ExportSection, Module, RawSection};
use wasmparser::{ExternalKind, Parser, Payload};

use crate::minify::{files, rehash};
use crate::{step, unused_classes};

/// The renaming `wasm-opt --minify-imports-and-exports-and-modules` prints.
#[derive(Debug, Deserialize)]
struct Renames {
    /// `[module, old name, new name]`.
    imports: Vec<(String, String, String)>,
    /// `[old name, new name]`.
    exports: Vec<(String, String)>,
}

/// What a wasm module imports from and exports.
#[derive(Debug, Default, PartialEq, Eq)]
struct Interface {
    modules: BTreeSet<String>,
    imports: BTreeSet<String>,
    exports: BTreeSet<String>,
}

impl Interface {
    fn read(wasm: &[u8]) -> Result<Interface> {
        let mut found = Interface::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        found.modules.insert(import.module.to_owned());
                        found.imports.insert(import.name.to_owned());
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        found.exports.insert(export?.name.to_owned());
                    }
                }
                _ => {}
            }
        }
        Ok(found)
    }
}

/// Renames the names the wasm in `dist` and its glue share, with the
/// `wasm-opt` at `wasm_opt`, and updates `dist/index.html`'s hashes.
pub fn shorten(dist: &Path, wasm_opt: &Path) -> Result<()> {
    step("shortening the names the wasm and its JavaScript share (wasm-opt)");
    let wasm = only_wasm(dist)?;
    let wasm_name = wasm.file_name().unwrap_or_default().to_string_lossy();
    let glue = wasm.with_file_name(wasm_name.replace("_bg.wasm", ".js"));
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path)
        .with_context(|| format!("cannot read {}", index_path.display()))?;
    let renamed = dist.join(format!("{wasm_name}.min"));
    let glue_renamed = dist.join(format!("{wasm_name}.js.min"));
    let done = rename(&wasm, &renamed, &glue, &glue_renamed, wasm_opt, &index)
        .with_context(|| format!("could not shorten the names of {}", wasm.display()));
    if done.is_err() {
        // Nothing half-written is left for the server to embed.
        let _ = std::fs::remove_file(&renamed);
        let _ = std::fs::remove_file(&glue_renamed);
    }
    let (index, sizes) = done?;
    eprintln!("    {sizes}");
    std::fs::write(&index_path, index)
        .with_context(|| format!("cannot write {}", index_path.display()))
}

/// Writes the renamed wasm to `renamed` and the rewritten glue to
/// `glue_renamed`, then puts both in place. Returns the page with the new
/// hashes, and the sizes before and after.
fn rename(
    wasm: &Path,
    renamed: &Path,
    glue: &Path,
    glue_renamed: &Path,
    wasm_opt: &Path,
    index: &str,
) -> Result<(String, String)> {
    let wasm_before =
        std::fs::read(wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let glue_before =
        std::fs::read_to_string(glue).with_context(|| format!("cannot read {}", glue.display()))?;
    let exports = Interface::read(&wasm_before)
        .context("reading the wasm")?
        .exports;
    let (mut glue_lean, of_classes) =
        unused_classes::remove(&exports, &glue_before, &unused_classes::UNUSED)
            .context("removing the classes the bundle does not use")?;
    // What one side no longer uses leaves the other, until nothing more
    // does: the exports the glue does not read leave the wasm, and the
    // functions the glue gives for imports that wasm-opt then drops leave
    // the glue, which may leave more exports unread.
    let mut lean = wasm_before.clone();
    let (mut unread, mut unimported) = (0, 0);
    loop {
        let read = exports_read(&glue_lean);
        let exports = Interface::read(&lean).context("reading the wasm")?.exports;
        let drop: BTreeSet<&str> = exports
            .iter()
            .map(String::as_str)
            .filter(|name| !read.contains(name))
            .collect();
        if drop.is_empty() {
            break;
        }
        unread += drop.len();
        lean = without_exports(&lean, |name| drop.contains(name))
            .context("removing the exports the glue does not read")?;
        let (optimised, _) = run_wasm_opt(wasm_opt, &lean, &["-Oz"])?;
        let gone = imports_dropped(&lean, &optimised)?;
        glue_lean = without_imports(&glue_lean, &gone)
            .context("removing the imports wasm-opt dropped from the glue")?;
        unimported += gone.len();
        lean = optimised;
    }
    let (wasm_after, renaming) = run_wasm_opt(
        wasm_opt,
        &lean,
        &[
            "-Oz",
            "--minify-imports-and-exports-and-modules",
            "--strip-producers",
            "--strip-target-features",
        ],
    )?;
    let renames: Renames =
        serde_json::from_slice(&renaming).context("reading wasm-opt's renaming")?;
    let interface = Interface::read(&wasm_after).context("reading the renamed wasm")?;
    let kept: BTreeSet<&str> = renames
        .imports
        .iter()
        .map(|(_, old, _)| old.as_str())
        .collect();
    let last: Vec<String> = Interface::read(&lean)
        .context("reading the wasm")?
        .imports
        .into_iter()
        .filter(|name| !kept.contains(name.as_str()))
        .collect();
    unimported += last.len();
    let glue_lean = without_imports(&glue_lean, &last)
        .context("removing the imports wasm-opt dropped from the glue")?;
    let glue_after = rewrite(&glue_lean, &renames, &interface)
        .with_context(|| format!("rewriting {}", glue.display()))?;
    std::fs::write(renamed, &wasm_after)
        .with_context(|| format!("cannot write {}", renamed.display()))?;
    std::fs::write(glue_renamed, &glue_after)
        .with_context(|| format!("cannot write {}", glue_renamed.display()))?;
    let index = rehash(index, &wasm_before, &wasm_after)
        .and_then(|index| rehash(&index, glue_before.as_bytes(), glue_after.as_bytes()))
        .context("in the page's integrity hashes")?;
    std::fs::rename(renamed, wasm).with_context(|| format!("cannot replace {}", wasm.display()))?;
    std::fs::rename(glue_renamed, glue)
        .with_context(|| format!("cannot replace {}", glue.display()))?;
    let sizes = format!(
        "wasm {} → {} bytes, its JavaScript {} → {}; {unread} exports the glue does not \
         read removed ({of_classes} of unused classes), and {unimported} imports",
        wasm_before.len(),
        wasm_after.len(),
        glue_before.len(),
        glue_after.len(),
    );
    Ok((index, sizes))
}

/// Runs `wasm-opt` with `args` on `wasm`; returns the module it writes and
/// what it prints.
fn run_wasm_opt(wasm_opt: &Path, wasm: &[u8], args: &[&str]) -> Result<(Vec<u8>, Vec<u8>)> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let (input, output) = (dir.path().join("in.wasm"), dir.path().join("out.wasm"));
    std::fs::write(&input, wasm).with_context(|| format!("cannot write {}", input.display()))?;
    let out = Command::new(wasm_opt)
        .arg(&input)
        .args(args)
        .arg("--output")
        .arg(&output)
        .output()
        .with_context(|| format!("cannot run {}", wasm_opt.display()))?;
    if !out.status.success() {
        bail!(
            "wasm-opt {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let module =
        std::fs::read(&output).with_context(|| format!("cannot read {}", output.display()))?;
    Ok((module, out.stdout))
}

/// The imports `before` has and `after` does not.
fn imports_dropped(before: &[u8], after: &[u8]) -> Result<Vec<String>> {
    let after = Interface::read(after)
        .context("reading the optimised wasm")?
        .imports;
    Ok(Interface::read(before)
        .context("reading the wasm")?
        .imports
        .into_iter()
        .filter(|name| !after.contains(name))
        .collect())
}

/// `wasm` with the same sections, but without the exports `drop` picks.
fn without_exports(wasm: &[u8], drop: impl Fn(&str) -> bool) -> Result<Vec<u8>> {
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let Payload::ExportSection(reader) = &payload {
            let mut exports = ExportSection::new();
            for export in reader.clone() {
                let export = export?;
                if !drop(export.name) {
                    exports.export(export.name, export_kind(export.kind)?, export.index);
                }
            }
            module.section(&exports);
        } else if let Some((id, range)) = payload.as_section() {
            let range = usize::try_from(range.start)?..usize::try_from(range.end)?;
            let data = wasm.get(range).context("a section ends past the module")?;
            module.section(&RawSection { id, data });
        }
    }
    Ok(module.finish())
}

fn export_kind(kind: ExternalKind) -> Result<ExportKind> {
    Ok(match kind {
        ExternalKind::Func => ExportKind::Func,
        ExternalKind::Table => ExportKind::Table,
        ExternalKind::Memory => ExportKind::Memory,
        ExternalKind::Global => ExportKind::Global,
        ExternalKind::Tag => ExportKind::Tag,
        ExternalKind::FuncExact => bail!("an export of an exact function type"),
    })
}

/// The one `*_bg.wasm` trunk wrote to `dist`.
fn only_wasm(dist: &Path) -> Result<PathBuf> {
    let found: Vec<PathBuf> = files(dist)?
        .into_iter()
        .filter(|path| path.to_string_lossy().ends_with("_bg.wasm"))
        .collect();
    match <[PathBuf; 1]>::try_from(found) {
        Ok([wasm]) => Ok(wasm),
        Err(found) => bail!(
            "{} holds {} wasm-bindgen modules, not one",
            dist.display(),
            found.len()
        ),
    }
}

/// `glue` with the names of `renames`: each import's key and the import
/// module's name, each of which must appear exactly once, and every export
/// the glue reads as `wasm.<name>`, each of which must be one `renames`
/// knows. `interface` is the renamed wasm's, against which the result is
/// checked.
fn rewrite(glue: &str, renames: &Renames, interface: &Interface) -> Result<String> {
    let old_modules: BTreeSet<&str> = renames.imports.iter().map(|(m, _, _)| m.as_str()).collect();
    let (Ok([old_module]), Ok([new_module])) = (
        <[&str; 1]>::try_from(old_modules.into_iter().collect::<Vec<_>>()),
        <[&String; 1]>::try_from(interface.modules.iter().collect::<Vec<_>>()),
    ) else {
        bail!("the wasm should import from one module, its glue");
    };
    let imports: HashMap<&str, &str> = renames
        .imports
        .iter()
        .map(|(_, old, new)| (old.as_str(), new.as_str()))
        .collect();
    let exports: HashMap<&str, &str> = renames
        .exports
        .iter()
        .map(|(old, new)| (old.as_str(), new.as_str()))
        .collect();
    if let Some((_, new)) = renames
        .exports
        .iter()
        .find(|(_, new)| !interface.exports.contains(new))
    {
        bail!("wasm-opt names an export {new} that the wasm does not have");
    }

    let quoted = format!("\"{old_module}\"");
    let glue = match glue.matches(&quoted).count() {
        1 => glue.replace(&quoted, &format!("\"{new_module}\"")),
        n => bail!("the import module {quoted} appears {n} times, not once"),
    };

    let mut out = String::with_capacity(glue.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for Name {
        before,
        name,
        reads_export,
    } in names(&glue)
    {
        out.push_str(before);
        if reads_export {
            match exports.get(name) {
                Some(new) => out.push_str(new),
                None => bail!("the glue reads wasm.{name}, which the wasm does not export"),
            }
        } else if let Some((old, new)) = imports.get_key_value(name) {
            *seen.entry(old).or_default() += 1;
            out.push_str(new);
        } else {
            out.push_str(name);
        }
    }

    for old in imports.keys() {
        match seen.get(old).copied().unwrap_or(0) {
            1 => {}
            n => bail!("the import {old} appears {n} times in the glue, not once"),
        }
    }
    Ok(out)
}

/// `glue` without the functions its imports object gives for `dropped`,
/// imports the optimised wasm no longer has. Each must be there once, as
/// wasm-bindgen writes it: a line `<name>: function(…) {`, up to the line
/// `},` indented as that one.
fn without_imports(glue: &str, dropped: &[String]) -> Result<String> {
    let mut glue = glue.to_owned();
    for name in dropped {
        let key = format!("{name}: function(");
        let starts: Vec<(usize, &str)> = glue
            .match_indices(&key)
            .filter_map(|(at, _)| {
                let line = glue[..at].rfind('\n').map_or(0, |nl| nl + 1);
                let indent = &glue[line..at];
                indent.bytes().all(|b| b == b' ').then_some((line, indent))
            })
            .collect();
        let [(from, indent)] = starts[..] else {
            bail!(
                "the glue gives the import {name} {} times, not once",
                starts.len()
            );
        };
        let close = format!("\n{indent}}},\n");
        let Some(len) = glue[from..].find(&close) else {
            bail!("the glue's function for the import {name} is not closed");
        };
        // From the start of the key's line to the end of the closing line.
        glue.replace_range(from..from + len + close.len(), "");
    }
    Ok(glue)
}

/// One name in the glue, with the text before it.
struct Name<'a> {
    before: &'a str,
    /// Empty for the text after the last name.
    name: &'a str,
    /// Whether the name is an export the glue reads: `wasm.<name>`, as the
    /// glue's exports object is `wasm`.
    reads_export: bool,
}

/// `glue` as names and the text between them, in order.
fn names(glue: &str) -> impl Iterator<Item = Name<'_>> {
    let mut rest = glue;
    let mut after_wasm = false;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(start) = rest.find(is_name_char) else {
            let before = std::mem::take(&mut rest);
            return Some(Name {
                before,
                name: "",
                reads_export: false,
            });
        };
        let (before, from) = rest.split_at(start);
        let end = from.find(|c| !is_name_char(c)).unwrap_or(from.len());
        let (name, after) = from.split_at(end);
        let reads_export = after_wasm && before == ".";
        after_wasm = name == "wasm" && !reads_export;
        rest = after;
        Some(Name {
            before,
            name,
            reads_export,
        })
    })
}

/// The exports `glue` reads.
fn exports_read(glue: &str) -> BTreeSet<&str> {
    names(glue)
        .filter(|name| name.reads_export)
        .map(|name| name.name)
        .collect()
}

/// A character of a JavaScript name (ASCII; wasm-bindgen's names are).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of wasm-bindgen's glue for `--target web`.
    const GLUE: &str = r#"
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_setAttribute_1a2b3c4d5e6f7a8b: function(arg0, arg1, arg2) {
            arg0.setAttribute(getStringFromWasm0(arg1, arg2));
        },
        __wbg_now_0123456789abcdef: function() {
            return Date.now();
        },
    };
    return {
        __proto__: null,
        "./app_bg.js": import0,
    };
}
function passString(s) {
    const ptr = wasm.__wbindgen_malloc(s.length);
    return wasm.__wbindgen_realloc(ptr, s.length);
}
let wasm;
function finish(instance) {
    wasm = instance.exports;
    wasm.__wbindgen_start();
}
"#;

    fn renames() -> Renames {
        Renames {
            imports: vec![
                (
                    "./app_bg.js".into(),
                    "__wbg_setAttribute_1a2b3c4d5e6f7a8b".into(),
                    "a".into(),
                ),
                (
                    "./app_bg.js".into(),
                    "__wbg_now_0123456789abcdef".into(),
                    "$b".into(),
                ),
            ],
            exports: vec![
                ("__wbindgen_malloc".into(), "c".into()),
                ("__wbindgen_realloc".into(), "d".into()),
                ("__wbindgen_start".into(), "e".into()),
                ("memory".into(), "f".into()),
            ],
        }
    }

    fn interface() -> Interface {
        Interface {
            modules: ["a".to_owned()].into(),
            imports: ["a", "$b"].map(str::to_owned).into(),
            exports: ["c", "d", "e", "f"].map(str::to_owned).into(),
        }
    }

    #[test]
    fn imports_exports_and_the_module_get_their_new_names() {
        let expected = r#"
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        a: function(arg0, arg1, arg2) {
            arg0.setAttribute(getStringFromWasm0(arg1, arg2));
        },
        $b: function() {
            return Date.now();
        },
    };
    return {
        __proto__: null,
        "a": import0,
    };
}
function passString(s) {
    const ptr = wasm.c(s.length);
    return wasm.d(ptr, s.length);
}
let wasm;
function finish(instance) {
    wasm = instance.exports;
    wasm.e();
}
"#;
        assert_eq!(rewrite(GLUE, &renames(), &interface()).unwrap(), expected);
    }

    #[test]
    fn a_read_of_an_export_the_wasm_lacks_is_an_error() {
        let glue = format!("{GLUE}\nwasm.__wbg_stream_free(1);\n");
        let err = rewrite(&glue, &renames(), &interface()).unwrap_err();
        assert!(err.to_string().contains("wasm.__wbg_stream_free"), "{err}");
    }

    #[test]
    fn an_import_named_twice_or_never_is_an_error() {
        let twice = format!("{GLUE}\n// calls __wbg_now_0123456789abcdef\n");
        let err = rewrite(&twice, &renames(), &interface()).unwrap_err();
        assert!(err.to_string().contains("appears 2 times"), "{err}");

        let never = GLUE.replace("__wbg_now_0123456789abcdef", "__wbg_now_ffffffffffffffff");
        let err = rewrite(&never, &renames(), &interface()).unwrap_err();
        assert!(err.to_string().contains("appears 0 times"), "{err}");
    }

    #[test]
    fn the_import_module_must_be_named_once() {
        let glue = GLUE.replace("\"./app_bg.js\": import0", "\"./other_bg.js\": import0");
        let err = rewrite(&glue, &renames(), &interface()).unwrap_err();
        assert!(err.to_string().contains("appears 0 times"), "{err}");

        let mut two = interface();
        two.modules.insert("b".into());
        let err = rewrite(GLUE, &renames(), &two).unwrap_err();
        assert!(err.to_string().contains("one module"), "{err}");
    }

    #[test]
    fn a_name_that_only_contains_an_old_one_is_left_alone() {
        let line = "const my__wbg_now_0123456789abcdef = notwasm.__wbindgen_malloc;";
        let out = rewrite(&format!("{GLUE}{line}\n"), &renames(), &interface()).unwrap();
        assert!(out.ends_with(&format!("\n{line}\n")), "{out}");
    }

    #[test]
    fn the_functions_of_dropped_imports_leave_the_glue() {
        let dropped = ["__wbg_now_0123456789abcdef".to_owned()];
        let glue = without_imports(GLUE, &dropped).unwrap();
        let expected = GLUE.replace(
            "        __wbg_now_0123456789abcdef: function() {\n            return Date.now();\n        },\n",
            "",
        );
        assert_ne!(expected, GLUE);
        assert_eq!(glue, expected);
        // What is left is renamed as before, with one import fewer.
        let mut renames = renames();
        renames.imports.pop();
        assert!(rewrite(&glue, &renames, &interface()).is_ok());
    }

    #[test]
    fn a_dropped_import_the_glue_does_not_give_once_is_an_error() {
        let never = ["__wbg_gone_ffffffffffffffff".to_owned()];
        let err = without_imports(GLUE, &never).unwrap_err();
        assert!(err.to_string().contains("0 times"), "{err}");

        let dropped = ["__wbg_now_0123456789abcdef".to_owned()];
        let unclosed = GLUE.replace("            return Date.now();\n        },", "");
        let err = without_imports(&unclosed, &dropped).unwrap_err();
        assert!(err.to_string().contains("not closed"), "{err}");
    }

    #[test]
    fn the_exports_the_glue_reads_are_found() {
        let glue = format!("{GLUE}notwasm.__wbg_other_free(); wasm.memory.buffer;\n");
        assert_eq!(
            exports_read(&glue),
            [
                "__wbindgen_malloc",
                "__wbindgen_realloc",
                "__wbindgen_start",
                "memory"
            ]
            .into()
        );
    }

    #[test]
    fn exports_leave_the_wasm_and_nothing_else_does() {
        let mut wasm = MODULE.to_vec();
        // A custom section after the code.
        wasm.extend([0x00, 0x04, 0x03, b'x', b'y', b'z']);
        let lean = without_exports(&wasm, |name| name == "c").unwrap();
        let interface = Interface::read(&lean).unwrap();
        assert_eq!(interface.exports, ["d".to_owned()].into());
        assert_eq!(interface.imports, ["b".to_owned()].into());
        // One export's four bytes fewer; every other section is as it was.
        assert_eq!(lean.len(), wasm.len() - 4);
        assert!(lean.ends_with(&[
            0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, 0x00, 0x04, 0x03, b'x', b'y', b'z'
        ]));
        assert_eq!(without_exports(&wasm, |_| false).unwrap(), wasm);
    }

    /// (module (import "a" "b" (func)) (func $f) (export "c" (func $f))
    ///   (memory 1) (export "d" (memory 0)))
    const MODULE: [u8; 49] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
        0x02, 0x07, 0x01, 0x01, b'a', 0x01, b'b', 0x00, 0x00, // import a.b
        0x03, 0x02, 0x01, 0x00, // one function
        0x05, 0x03, 0x01, 0x00, 0x01, // memory 1
        0x07, 0x09, 0x02, 0x01, b'c', 0x00, 0x01, 0x01, b'd', 0x02, 0x00, // exports
        0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: an empty body
    ];

    #[test]
    fn the_interface_of_a_wasm_module_is_read() {
        let wasm = MODULE;
        assert_eq!(
            Interface::read(&wasm).unwrap(),
            Interface {
                modules: ["a".to_owned()].into(),
                imports: ["b".to_owned()].into(),
                exports: ["c".to_owned(), "d".to_owned()].into(),
            }
        );
        assert!(Interface::read(b"\0asm\x01\0\0\0\x07\x05").is_err());
    }
}
