//! wasm-bindgen classes the bundle carries but never uses, cut out of its
//! JavaScript glue.
//!
//! Leptos's `server_fn` always turns on its `browser` feature, which
//! compiles in `wasm_streams`; that crate exports three Rust types to
//! JavaScript as classes. wasm-bindgen exports their methods from the wasm
//! and writes a class for each in the glue, so neither the methods nor the
//! code they reach can be optimised away, although Natter creates no
//! stream. Once the classes are cut out of the glue, nothing reads those
//! exports, and `wasm_names.rs` removes them with every other export the
//! glue does not read, before `wasm-opt` drops what only they reached.
//! (The release build's linker, `wasm_link.rs`, has already left the
//! methods' code out, and exports a trapping stub for each.)
//!
//! The cut is strict: each class is either wholly absent (a later
//! `server_fn` may not compile it in) or found in both files, and once it
//! is cut nothing else in the glue may name it. What the rest of the glue
//! reads of the wasm is checked afterwards by `wasm_names.rs`: every
//! `wasm.<name>` must still be exported.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};

use crate::wasm_names::is_name_char;

/// The classes of `wasm_streams`, none of which Natter creates.
pub const UNUSED: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];

/// `glue` without the classes named in `classes`, and how many of the
/// wasm's `exports` were theirs (the glue reads none of them now).
pub fn remove(exports: &BTreeSet<String>, glue: &str, classes: &[&str]) -> Result<(String, usize)> {
    let mut glue = glue.to_owned();
    let mut theirs = 0;
    for class in classes {
        let theirs_now = class_exports(exports.iter().map(String::as_str), class);
        let declared = line_starts(&glue, &format!("export class {class} {{"))
            .next()
            .is_some();
        match (theirs_now.is_empty(), declared) {
            (true, false) => continue,
            (false, true) => {}
            (true, true) => bail!("the glue declares {class}, but the wasm exports nothing of it"),
            (false, false) => {
                bail!("the wasm exports {class}'s methods, but the glue has no such class")
            }
        }
        glue = cut_class(&glue, class)?;
        theirs += theirs_now.len();
    }
    Ok((glue, theirs))
}

/// The exports wasm-bindgen names after `class`: its methods, getters and
/// setters (`<class>_<name>`, `__wbg_get_<class>_<field>`,
/// `__wbg_set_<class>_<field>`) and its destructor (`__wbg_<class>_free`),
/// the class's name in lower case.
fn class_exports<'a>(exports: impl IntoIterator<Item = &'a str>, class: &str) -> Vec<String> {
    let prefix = format!("{}_", class.to_ascii_lowercase());
    let of_class = |name: &str| {
        let rest = name
            .strip_prefix("__wbg_get_")
            .or_else(|| name.strip_prefix("__wbg_set_"))
            .or_else(|| name.strip_prefix("__wbg_"))
            .unwrap_or(name);
        rest.starts_with(&prefix)
    };
    exports
        .into_iter()
        .filter(|name| of_class(name))
        .map(str::to_owned)
        .collect()
}

/// `glue` without `class`: its declaration (from `export class <class> {`
/// to the `}` that closes it at the start of a line), the line that makes
/// `Symbol.dispose` free it, and the registry that frees the instances the
/// garbage collector takes (`const <class>Finalization = …;`).
fn cut_class(glue: &str, class: &str) -> Result<String> {
    let mut glue = cut(glue, &format!("export class {class} {{"), "\n}\n")
        .with_context(|| format!("in the glue's class {class}"))?;
    let dispose = format!(
        "if (Symbol.dispose) {class}.prototype[Symbol.dispose] = {class}.prototype.free;\n"
    );
    let at = line_starts(&glue, &dispose).next();
    if let Some(at) = at {
        glue.replace_range(at..at + dispose.len(), "");
    }
    let registry = format!("const {class}Finalization = ");
    if line_starts(&glue, &registry).next().is_some() {
        glue = cut(&glue, &registry, ";\n")
            .with_context(|| format!("in the glue's {class}Finalization"))?;
    }
    for name in [class.to_owned(), format!("{class}Finalization")] {
        if words(&glue).any(|word| word == name) {
            bail!("the glue still names {name} once its class is cut out");
        }
    }
    Ok(glue)
}

/// `text` without the lines from the one that begins with `start`, which
/// must be one line only, to the first `end` after it, which must be there.
fn cut(text: &str, start: &str, end: &str) -> Result<String> {
    let starts: Vec<usize> = line_starts(text, start).collect();
    let [from] = starts[..] else {
        bail!("{start:?} begins {} lines, not one", starts.len());
    };
    let Some(len) = text[from..].find(end) else {
        bail!("{start:?} is not closed by {:?}", end.trim());
    };
    // The newline that ends the line before the span stays; the one that
    // ends the span's last line goes with it.
    let to = from + len + end.len();
    Ok(format!("{}{}", &text[..from], &text[to..]))
}

/// Where in `text` the lines that begin with `prefix` begin.
fn line_starts<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(prefix)
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || text.as_bytes()[at - 1] == b'\n')
}

/// The JavaScript names in `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_name_char(c))
        .filter(|word| !word.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of wasm-bindgen's glue for one class, `Stream`, beside
    /// code that stays.
    const GLUE: &str = r#"function keep() {
    return wasm.__wbindgen_start();
}
const __wbindgen_enum_ReadableStreamType = ["bytes"];
const StreamFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_stream_free(ptr >>> 0, 1));

export class Stream {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        StreamFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_stream_free(ptr, 0);
    }
    pull(controller) {
        const ret = wasm.stream_pull(this.__wbg_ptr, controller);
        return ret;
    }
}
if (Symbol.dispose) Stream.prototype[Symbol.dispose] = Stream.prototype.free;

export { initSync };
"#;

    /// What is left of `GLUE` once `Stream` is cut.
    const KEPT: &str = r#"function keep() {
    return wasm.__wbindgen_start();
}
const __wbindgen_enum_ReadableStreamType = ["bytes"];


export { initSync };
"#;

    /// The exports of a wasm with `Stream` in it.
    fn module() -> BTreeSet<String> {
        [
            "__wbindgen_start",
            "stream_pull",
            "__wbg_stream_free",
            "memory",
        ]
        .map(str::to_owned)
        .into()
    }

    #[test]
    fn a_class_leaves_the_glue() {
        let (glue, theirs) = remove(&module(), GLUE, &["Stream"]).unwrap();
        assert_eq!(glue, KEPT);
        assert_eq!(theirs, 2);
    }

    #[test]
    fn a_class_that_begins_the_glue_is_cut() {
        let glue = "export class Stream {
    free() {
        wasm.__wbg_stream_free(this.__wbg_ptr, 0);
    }
    pull() {
        return wasm.stream_pull(this.__wbg_ptr);
    }
}
if (Symbol.dispose) Stream.prototype[Symbol.dispose] = Stream.prototype.free;
function keep() {}
";
        let (glue, _) = remove(&module(), glue, &["Stream"]).unwrap();
        assert_eq!(glue, "function keep() {}\n");
    }

    #[test]
    fn a_class_in_neither_file_is_no_change() {
        let (glue, theirs) = remove(&module(), GLUE, &["Other"]).unwrap();
        assert_eq!((glue.as_str(), theirs), (GLUE, 0));
    }

    #[test]
    fn a_class_in_one_file_only_is_an_error() {
        let err = remove(&module(), KEPT, &["Stream"]).unwrap_err();
        assert!(err.to_string().contains("no such class"), "{err}");
        let other = GLUE.replace("Stream", "Other");
        let err = remove(&module(), &other, &["Other"]).unwrap_err();
        assert!(err.to_string().contains("exports nothing"), "{err}");
    }

    #[test]
    fn a_class_the_rest_of_the_glue_names_is_kept() {
        let glue = format!("{GLUE}function wrap(ptr) {{ return Stream.__wrap(ptr); }}\n");
        let err = remove(&module(), &glue, &["Stream"]).unwrap_err();
        assert!(format!("{err:#}").contains("still names Stream"), "{err:#}");
    }

    #[test]
    fn an_unclosed_class_is_an_error() {
        let glue = GLUE.replace("\n}\nif", "\n    }\nif");
        let err = remove(&module(), &glue, &["Stream"]).unwrap_err();
        assert!(format!("{err:#}").contains("is not closed"), "{err:#}");
    }

    #[test]
    fn the_exports_of_a_class_are_told_by_their_names() {
        let exports = [
            "intounderlyingsource_pull",
            "__wbg_intounderlyingsource_free",
            "__wbg_get_intounderlyingsource_size",
            "__wbg_set_intounderlyingsource_size",
            "intounderlyingsourcex_pull",
            "intounderlyingbytesource_pull",
            "my_intounderlyingsource_pull",
        ];
        assert_eq!(
            class_exports(exports, "IntoUnderlyingSource"),
            [
                "intounderlyingsource_pull",
                "__wbg_intounderlyingsource_free",
                "__wbg_get_intounderlyingsource_size",
                "__wbg_set_intounderlyingsource_size",
            ]
        );
    }
}
