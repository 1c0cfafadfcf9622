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
/// `tests.rs` is all tests.
fn non_test_lines(path: &Path, text: &str) -> usize {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
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
