//! Tidy tests: what ARCHITECTURE.md promises of the code's shape, checked
//! by reading the sources.

use std::path::{Path, PathBuf};

/// The crates' own source folders.
const SOURCES: [&str; 5] = [
    "shared/src",
    "server/src",
    "client/src",
    "bench/src",
    "xtask/src",
];

/// Non-test lines a file may have without saying why.
const SMALL: usize = 400;

/// Non-test lines no file may have.
const LARGEST: usize = 600;

/// How a longer file's `//!` header starts the sentence that says why.
const WHY_LONGER: &str = "//! Longer than 400 lines:";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the project root")
        .to_path_buf()
}

/// Every `.rs` file under `folder`, with its text.
fn rust_files(folder: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text));
            }
        }
    }
    found
}

/// The lines of `text` before its first test module: a file named
/// `tests.rs`, or in a `tests/` folder beside the code, is all tests.
fn non_test_lines(path: &Path, text: &str) -> usize {
    // Only the folders inside the project count: a clone may live under
    // a folder called `tests`.
    let within = path.strip_prefix(root()).unwrap_or(path);
    let in_tests = within
        .parent()
        .is_some_and(|p| p.components().any(|c| c.as_os_str() == "tests"));
    if in_tests || path.file_name().is_some_and(|n| n == "tests.rs") {
        return 0;
    }
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]") && !l.starts_with("#[cfg(all(test"))
        .count()
}

#[test]
fn files_stay_small_or_say_why() {
    let mut over = Vec::new();
    for folder in SOURCES {
        for (path, text) in rust_files(&root().join(folder)) {
            let lines = non_test_lines(&path, &text);
            let explained = text.lines().any(|l| l.starts_with(WHY_LONGER));
            if lines > LARGEST || (lines > SMALL && !explained) {
                over.push(format!("{} ({lines} lines)", path.display()));
            }
        }
    }
    assert!(
        over.is_empty(),
        "files over {SMALL} lines of non-test code (at most {LARGEST}, with a \
         `{WHY_LONGER}` line in the header): {over:?}"
    );
}

/// Migrations only add (tables, columns, indexes): the nodes of an
/// older version still running during a rolling upgrade keep working on a
/// database the first new node migrated (docs/DEPLOY.md, "Upgrading").
#[test]
fn migrations_only_add() {
    let mut found = 0;
    for engine in ["sqlite", "postgres"] {
        let folder = root().join("server/migrations").join(engine);
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let sql = std::fs::read_to_string(&path).unwrap().to_uppercase();
            found += 1;
            let code = sql
                .lines()
                .map(|line| line.split("--").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            // Filling in a column just added (`UPDATE`) is adding too.
            for word in ["DROP ", "RENAME ", "ALTER COLUMN", "DELETE FROM"] {
                assert!(
                    !code.contains(word),
                    "{} has {word:?}: a migration must only add, or the upgrade \
                     guide must change",
                    path.display()
                );
            }
        }
    }
    assert!(found >= 2, "no migrations found");
}

#[test]
fn only_the_store_runs_sql() {
    let store = root().join("server/src/store");
    for folder in SOURCES {
        for (path, text) in rust_files(&root().join(folder)) {
            if path.starts_with(&store) {
                continue;
            }
            assert!(
                !text.contains(&["sqlx", "::"].concat()),
                "{} uses sqlx; SQL belongs in server/src/store",
                path.display()
            );
        }
    }
}

#[test]
fn the_protocol_crate_does_no_io() {
    let banned = [
        ["std::", "fs"].concat(),
        ["std::", "net"].concat(),
        ["std::", "io"].concat(),
        ["tok", "io"].concat(),
        ["std::", "process"].concat(),
    ];
    for (path, text) in rust_files(&root().join("shared/src")) {
        for needle in &banned {
            assert!(
                !text.contains(needle.as_str()),
                "{} uses {needle}: shared/ holds types and rules, no I/O",
                path.display()
            );
        }
    }
}

#[test]
fn the_hub_knows_no_web_framework_store_sql_or_redis() {
    let banned = [
        ["sq", "lx"].concat(),
        ["red", "is::"].concat(),
        ["crate::", "cluster"].concat(),
        ["ax", "um"].concat(),
        ["crate::", "store"].concat(),
    ];
    for (path, text) in rust_files(&root().join("server/src/hub")) {
        for needle in &banned {
            assert!(
                !text.contains(needle.as_str()),
                "{} uses {needle}: the hub knows nothing of HTTP, storage or the bus \
                 (frames are `crate::frame`, ids `crate::ids`, the clock `crate::clock`)",
                path.display()
            );
        }
    }
}

/// Lines a function or component may span, from its `fn` line to its
/// closing brace.
const LONGEST_FN: usize = 80;

/// The functions of `text` (rustfmt's layout) longer than [`LONGEST_FN`],
/// before its first test module, as `(name, lines)`.
fn long_functions(path: &Path, text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = non_test_lines(path, text);
    let mut long = Vec::new();
    for (start, line) in lines.iter().enumerate().take(end) {
        let Some((indent, name)) = fn_start(line) else {
            continue;
        };
        // The body opens where the signature ends; a `;` first means none.
        let Some(open) = (start..end).find(|&i| {
            let l = lines[i].trim_end();
            l.ends_with('{') || l.ends_with(';') || l.ends_with('}')
        }) else {
            continue;
        };
        if !lines[open].trim_end().ends_with('{') {
            continue;
        }
        let closing = format!("{indent}}}");
        let close = (open + 1..end)
            .find(|&i| lines[i] == closing)
            .unwrap_or(end);
        let spans = close - start + 1;
        if spans > LONGEST_FN {
            long.push((name.to_owned(), spans));
        }
    }
    long
}

/// The indentation and name of a line that starts a function.
fn fn_start(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let mut words = body.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word == "fn" {
            let name = words.next()?;
            let name = name.split(['(', '<']).next()?;
            return Some((indent, name));
        }
        let qualifier = word.starts_with("pub")
            || matches!(word, "async" | "const" | "unsafe" | "extern" | "\"C\"");
        if !qualifier {
            return None;
        }
    }
    None
}

#[test]
fn functions_stay_short() {
    let mut over = Vec::new();
    for folder in SOURCES {
        for (path, text) in rust_files(&root().join(folder)) {
            let shown = path.strip_prefix(root()).unwrap_or(&path).display();
            for (name, lines) in long_functions(&path, &text) {
                over.push(format!("{shown}: {name} ({lines} lines)"));
            }
        }
    }
    over.sort();
    assert!(
        over.is_empty(),
        "functions over {LONGEST_FN} lines: {over:#?}"
    );
}

#[test]
fn a_long_function_is_found() {
    let mut text = String::from("/// Doc.\npub(crate) async fn long(\n    a: u8,\n) -> u8 {\n");
    text.push_str(&"    let _ = a;\n".repeat(LONGEST_FN));
    text.push_str("    a\n}\n\nfn short() {}\n\nfn declared();\n");
    let found = long_functions(Path::new("x.rs"), &text);
    assert_eq!(found, vec![("long".to_owned(), LONGEST_FN + 5)]);
}

#[test]
fn the_writer_knows_no_cluster() {
    // The writer delivers through its own `Deliver` trait; one node needs
    // no cluster code, and several plug theirs in.
    let path = root().join("server/src/writer.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    for needle in [["crate::", "cluster"].concat(), ["Clus", "ter"].concat()] {
        assert!(
            !text.contains(needle.as_str()),
            "{} mentions {needle}: the writer hands messages to a `Deliver`",
            path.display()
        );
    }
}

#[test]
fn only_the_stores_tests_reach_its_pool() {
    // Other crates (the benchmark) go through `Store` methods or a
    // `natter` subcommand, never through raw SQL on the pool.
    let path = root().join("server/src/store/mod.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let pool = lines
        .iter()
        .position(|l| l.contains("fn pool("))
        .expect("the store has a pool accessor for its tests");
    assert!(
        lines[..pool]
            .iter()
            .rev()
            .take(3)
            .any(|l| l.trim() == "#[cfg(test)]"),
        "{}: `Store::pool` must stay `#[cfg(test)]`",
        path.display()
    );
}
