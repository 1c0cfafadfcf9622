//! The release bundle's linker: `rust-lld`, without the methods of the
//! classes the web client never creates.
//!
//! `unused_classes.rs` cuts the classes of `wasm_streams` out of the glue
//! after trunk's build, and `wasm_names.rs` then removes their exports from
//! the wasm. That comes too late for most of what the methods reach: each
//! method hands a future to a promise, the future's code is called through
//! a vtable, and a vtable is data, which `wasm-opt` cannot see is unused.
//! Its functions stay in the wasm's table, with all they call.
//!
//! So trunk's cargo links the client through this program (cargo's linker
//! for the wasm target is the xtask itself, told by [`REAL_LINKER_VAR`]
//! where the real `rust-lld` is). It links once as asked, to learn each
//! method's signature, then again without exporting the methods, so the
//! linker drops them with every vtable only they used. wasm-bindgen still
//! expects each method, so each gets a stub of the same signature whose
//! body traps; the glue's classes call nothing else, and they are cut out
//! as before, stubs and all.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use wasm_encoder::Encode;
use wasmparser::{BinaryReader, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType};

use crate::{Run, unused_classes};

/// Names the real `rust-lld` while the xtask stands in for it.
pub const REAL_LINKER_VAR: &str = "NATTER_XTASK_RUST_LLD";

/// Has `cmd` (trunk) link the client's wasm through this program.
pub fn configure(cmd: &mut Command) -> Result<()> {
    let me = std::env::current_exe().context("cannot find the xtask's own path")?;
    cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", me)
        .env(REAL_LINKER_VAR, rust_lld()?);
    Ok(())
}

/// Links with the arguments the xtask was started with, if it was started
/// as the linker.
pub fn link_if_asked() -> Option<Result<()>> {
    let real = std::env::var_os(REAL_LINKER_VAR)?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    Some(link(Path::new(&real), &args))
}

/// The toolchain's own `rust-lld`, which rustc runs for the wasm target
/// when no linker is named.
fn rust_lld() -> Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let read = |args: &[&str]| -> Result<String> {
        let out = Command::new(&rustc)
            .args(args)
            .output()
            .with_context(|| format!("running rustc {}", args.join(" ")))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let sysroot = read(&["--print", "sysroot"])?;
    let host = read(&["-vV"])?
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .context("rustc -vV names no host")?;
    let lld = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    if !lld.exists() {
        bail!("the toolchain has no {}", lld.display());
    }
    Ok(lld)
}

fn link(real: &Path, args: &[OsString]) -> Result<()> {
    if args
        .iter()
        .any(|arg| arg.to_string_lossy().starts_with('@'))
    {
        bail!(
            "rustc gave the linker a file of arguments; wasm_link.rs reads them from its command line only"
        );
    }
    let output = output(args)?;
    Command::new(real).args(args).run()?;
    let full = std::fs::read(&output).with_context(|| format!("reading {}", output.display()))?;
    let stubs = signatures(&full, is_unused_method)?;
    if stubs.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = stubs.iter().map(|(name, _)| name.as_str()).collect();
    Command::new(real)
        .args(without_exports(args, &names))
        .run()?;
    let small = std::fs::read(&output).with_context(|| format!("reading {}", output.display()))?;
    std::fs::write(&output, with_stubs(&small, &stubs)?)
        .with_context(|| format!("writing {}", output.display()))
}

/// The file after `-o`.
fn output(args: &[OsString]) -> Result<PathBuf> {
    args.iter()
        .position(|arg| arg == "-o")
        .and_then(|at| args.get(at + 1))
        .map(PathBuf::from)
        .context("the linker was given no -o")
}

/// A method of one of `unused_classes::UNUSED`, as rustc exports it: the
/// class's name in lower case, `_`, the method's name and a hash.
fn is_unused_method(export: &str) -> bool {
    unused_classes::UNUSED.iter().any(|class| {
        export
            .strip_prefix(class.to_lowercase().as_str())
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// `args` without `--export <name>` (or `--export=<name>`) for `names`.
fn without_exports(args: &[OsString], names: &[&str]) -> Vec<OsString> {
    let dropped = |arg: &OsStr| arg.to_str().is_some_and(|arg| names.contains(&arg));
    let mut kept = Vec::with_capacity(args.len());
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "--export" && iter.peek().is_some_and(|next| dropped(next)) {
            iter.next();
            continue;
        }
        if arg
            .to_str()
            .and_then(|arg| arg.strip_prefix("--export="))
            .is_some_and(|name| names.contains(&name))
        {
            continue;
        }
        kept.push(arg.clone());
    }
    kept
}

/// The exported functions of `wasm` that `pick` picks, with their
/// signatures.
fn signatures(wasm: &[u8], pick: impl Fn(&str) -> bool) -> Result<Vec<(String, FuncType)>> {
    let mut types = Vec::new();
    let mut func_types = Vec::new();
    let mut picked = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Func(ty) | TypeRef::FuncExact(ty) = import?.ty {
                        func_types.push(ty);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    func_types.push(ty?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.kind == ExternalKind::Func && pick(export.name) {
                        picked.push((export.name.to_owned(), export.index));
                    }
                }
            }
            _ => {}
        }
    }
    picked
        .into_iter()
        .map(|(name, func)| {
            let ty = usize::try_from(func)
                .ok()
                .and_then(|func| func_types.get(func))
                .and_then(|&ty| types.get(usize::try_from(ty).ok()?))
                .with_context(|| format!("export {name} names no function type"))?;
            Ok((name, ty.clone()))
        })
        .collect()
}

/// `wasm` with one more function per stub, exported under the stub's name:
/// its type added to the type section, its body a trap. New functions come
/// after every other, so no index in the module changes.
fn with_stubs(wasm: &[u8], stubs: &[(String, FuncType)]) -> Result<Vec<u8>> {
    let mut imported_funcs = 0u32;
    let mut types = 0u32;
    let mut defined_funcs = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        imported_funcs += 1;
                    }
                }
            }
            Payload::TypeSection(reader) => types = reader.count(),
            Payload::FunctionSection(reader) => defined_funcs = reader.count(),
            _ => {}
        }
    }
    let count = u32::try_from(stubs.len())?;
    let mut new_types = Vec::new();
    let mut new_funcs = Vec::new();
    let mut new_exports = Vec::new();
    let mut new_bodies = Vec::new();
    for (i, (name, ty)) in (0u32..).zip(stubs) {
        new_types.push(0x60); // a function type
        valtypes(ty.params())?.as_slice().encode(&mut new_types);
        valtypes(ty.results())?.as_slice().encode(&mut new_types);
        (types + i).encode(&mut new_funcs);
        name.as_str().encode(&mut new_exports);
        new_exports.push(0x00); // a function
        (imported_funcs + defined_funcs + i).encode(&mut new_exports);
        // No locals, `unreachable`, `end`.
        [0x00u8, 0x00, 0x0b].as_slice().encode(&mut new_bodies);
    }
    let mut out = wasm.get(..8).context("not a wasm module")?.to_vec();
    let mut seen = [false; 4];
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let data = wasm
            .get(usize::try_from(range.start)?..usize::try_from(range.end)?)
            .context("a section ends past the module")?;
        let added = match id {
            1 => Some((0, &new_types)),
            3 => Some((1, &new_funcs)),
            7 => Some((2, &new_exports)),
            10 => Some((3, &new_bodies)),
            _ => None,
        };
        let data = match added {
            Some((slot, entries)) => {
                seen[slot] = true;
                appended(data, count, entries)?
            }
            None => data.to_vec(),
        };
        out.push(id);
        data.encode(&mut out);
    }
    if seen != [true; 4] {
        bail!("the linked wasm lacks a type, function, export or code section");
    }
    Ok(out)
}

/// A vector section's contents with `count` more entries, `entries`.
fn appended(section: &[u8], count: u32, entries: &[u8]) -> Result<Vec<u8>> {
    let mut reader = BinaryReader::new(section, 0);
    let old = reader.read_var_u32()?;
    let rest = section
        .get(reader.current_position()..)
        .context("a section ends inside its count")?;
    let mut out = Vec::with_capacity(section.len() + entries.len() + 5);
    old.checked_add(count)
        .context("too many entries")?
        .encode(&mut out);
    out.extend_from_slice(rest);
    out.extend_from_slice(entries);
    Ok(out)
}

/// `types` as wasm-encoder writes them.
fn valtypes(types: &[ValType]) -> Result<Vec<wasm_encoder::ValType>> {
    types
        .iter()
        .map(|ty| {
            Ok(match ty {
                ValType::I32 => wasm_encoder::ValType::I32,
                ValType::I64 => wasm_encoder::ValType::I64,
                ValType::F32 => wasm_encoder::ValType::F32,
                ValType::F64 => wasm_encoder::ValType::F64,
                ValType::V128 => wasm_encoder::ValType::V128,
                ValType::Ref(_) => bail!("a stub cannot take or return a reference"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module,
        TypeSection, ValType as V,
    };
    use wasmparser::Validator;

    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// A module with two functions, `keep` `(i32) -> i32` and
    /// `intounderlyingsink_write_1f2e` `(i32, i32, i32) -> i32`, which is
    /// exported if `method`.
    fn module(method: bool) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([V::I32], [V::I32]);
        types.ty().function([V::I32, V::I32, V::I32], [V::I32]);
        let mut funcs = FunctionSection::new();
        funcs.function(0).function(1);
        let mut exports = ExportSection::new();
        exports.export("keep", ExportKind::Func, 0);
        if method {
            exports.export("intounderlyingsink_write_1f2e", ExportKind::Func, 1);
        }
        let mut code = CodeSection::new();
        let mut keep = Function::new([]);
        keep.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::End);
        code.function(&keep);
        let mut write = Function::new([]);
        write
            .instruction(&Instruction::I32Const(7))
            .instruction(&Instruction::End);
        code.function(&write);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&funcs)
            .section(&exports)
            .section(&code);
        module.finish()
    }

    #[test]
    fn only_the_methods_of_unused_classes_are_picked() {
        assert!(is_unused_method("intounderlyingsource_pull_3f1c0a"));
        assert!(is_unused_method("intounderlyingbytesource_type_9a"));
        assert!(is_unused_method(
            "intounderlyingsink_abort_58a9338f50bce61c"
        ));
        // The destructor stays: the glue's class needs nothing else.
        assert!(!is_unused_method("__wbg_intounderlyingsink_free"));
        assert!(!is_unused_method("intounderlyingsourcex_pull"));
        assert!(!is_unused_method(
            "__wbindgen_describe_intounderlyingsource_pull"
        ));
        assert!(!is_unused_method("main"));
    }

    #[test]
    fn the_links_arguments_lose_only_the_named_exports() {
        let args = os(&[
            "-flavor",
            "wasm",
            "--export",
            "main",
            "--export",
            "intounderlyingsink_abort_58a9",
            "--export=intounderlyingsource_pull_77",
            "--export",
            "keep",
            "-o",
            "out.wasm",
        ]);
        let kept = without_exports(
            &args,
            &[
                "intounderlyingsink_abort_58a9",
                "intounderlyingsource_pull_77",
            ],
        );
        assert_eq!(
            kept,
            os(&[
                "-flavor", "wasm", "--export", "main", "--export", "keep", "-o", "out.wasm"
            ])
        );
        assert_eq!(output(&args).unwrap(), PathBuf::from("out.wasm"));
        assert!(output(&os(&["-flavor", "wasm"])).is_err());
    }

    #[test]
    fn signatures_are_read_for_the_picked_exports() {
        let found = signatures(&module(true), is_unused_method).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "intounderlyingsink_write_1f2e");
        assert_eq!(found[0].1.params(), [ValType::I32; 3]);
        assert_eq!(found[0].1.results(), [ValType::I32]);
    }

    #[test]
    fn a_stub_is_a_valid_export_of_the_same_signature() {
        let stubs = signatures(&module(true), is_unused_method).unwrap();
        let wasm = with_stubs(&module(false), &stubs).unwrap();
        Validator::new()
            .validate_all(&wasm)
            .expect("a valid module");
        assert_eq!(signatures(&wasm, is_unused_method).unwrap(), stubs);
        // Every function that was there keeps its index.
        assert_eq!(signatures(&wasm, |name| name == "keep").unwrap().len(), 1);
        let mut bodies = Vec::new();
        for payload in Parser::new(0).parse_all(&wasm) {
            if let Payload::CodeSectionEntry(body) = payload.unwrap() {
                bodies.push(body);
            }
        }
        assert_eq!(bodies.len(), 3);
        let mut ops = bodies[2].get_operators_reader().unwrap();
        assert!(matches!(
            ops.read().unwrap(),
            wasmparser::Operator::Unreachable
        ));
    }

    #[test]
    fn a_module_without_sections_to_extend_is_an_error() {
        let empty = Module::new().finish();
        let stubs = signatures(&module(true), is_unused_method).unwrap();
        assert!(with_stubs(&empty, &stubs).is_err());
    }
}
