//! SQL text and values shared by the store's queries: the URL `sqlx` is
//! given, multi-row statements and their placeholders, and the integer
//! conversions both engines need. No I/O.

use std::ops::Range;
use std::path::Path;

use super::{Backend, Fault};

/// Characters of a file path that cannot stand as they are in a URL.
const PATH_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'?')
    .add(b'#');

/// The URL `sqlx` is given: PostgreSQL and `sqlite:` URLs as they are; a
/// plain path becomes a `sqlite://` URL that creates the file if missing.
pub(super) fn connect_url(url: &str) -> String {
    if Backend::of(url) == Backend::Postgres {
        return url.to_owned();
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let encoded =
        percent_encoding::utf8_percent_encode(&Path::new(path).to_string_lossy(), PATH_UNSAFE)
            .to_string();
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    format!("sqlite://{encoded}?{}", params.join("&"))
}

/// The database as messages name it: a SQLite file's path as given, a
/// PostgreSQL URL without its password.
pub(super) fn place(url: &str) -> String {
    match sqlite_path(url) {
        Some(path) => path.to_owned(),
        None => format!("the PostgreSQL database {}", redacted(url)),
    }
}

/// A SQLite URL's file path.
fn sqlite_path(url: &str) -> Option<&str> {
    if Backend::of(url) == Backend::Postgres {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Some(path.split_once('?').map_or(path, |(path, _)| path))
}

/// Why `url` cannot be used, in a sentence: `fault`, or, for a SQLite file
/// whose folder is missing, that.
pub(super) fn explain(url: &str, fault: Fault) -> String {
    if let Some(path) = sqlite_path(url)
        && let Some(folder) = Path::new(path).parent()
        && !folder.as_os_str().is_empty()
        && !folder.is_dir()
    {
        return format!(
            "the folder {} (for {path}) does not exist",
            folder.display()
        );
    }
    fault.describe(&place(url))
}

/// `url` without its password, for messages.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Rows per multi-row statement, largest first. A batch is cut greedily
/// into these sizes, so only a few distinct statements are ever prepared
/// (and cached), and none comes near either engine's limit on parameters.
const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// Cuts `len` rows into ranges of [`CHUNKS`] sizes.
pub(super) fn chunks(len: usize) -> impl Iterator<Item = Range<usize>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = len - start;
        let size = CHUNKS.into_iter().find(|&c| c <= left)?;
        let range = start..start + size;
        start += size;
        Some(range)
    })
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters, numbered
/// for PostgreSQL; SQLite's are left unnumbered, `(?, ?), (?, ?)`: SQLite
/// finds a numbered parameter by walking the list of every name in the
/// statement, and binding walks it once per parameter, so a statement of
/// 256 rows spent most of its time there.
pub(super) fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Both engines store signed 64-bit integers; sequence numbers and
/// timestamps are far below `i64::MAX`, so these conversions saturate only
/// on corrupt data.
pub(super) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn as_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_few_statement_sizes() {
        let sizes = |len| chunks(len).map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(300), [256, 16, 16, 4, 4, 4]);
        assert_eq!(sizes(1024), [256; 4]);
        let ranges: Vec<_> = chunks(21).collect();
        assert_eq!(ranges, [0..16, 16..20, 20..21]);
        assert_eq!(
            placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholders(Backend::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[test]
    fn urls_pick_the_engine_and_hide_passwords() {
        assert_eq!(Backend::of("postgres://a@b/c"), Backend::Postgres);
        assert_eq!(Backend::of("postgresql://a@b/c"), Backend::Postgres);
        assert_eq!(Backend::of("natter.db"), Backend::Sqlite);
        assert_eq!(Backend::of("sqlite:x.db"), Backend::Sqlite);
        assert_eq!(connect_url("natter.db"), "sqlite://natter.db?mode=rwc");
        assert_eq!(
            connect_url("/tmp/a b/n%.db"),
            "sqlite:///tmp/a%20b/n%25.db?mode=rwc"
        );
        assert_eq!(connect_url("sqlite:x.db?mode=ro"), "sqlite://x.db?mode=ro");
        assert_eq!(
            redacted("postgres://me:secret@db/natter"),
            "postgres://me:***@db/natter"
        );
        assert_eq!(
            redacted("postgres://me@db/natter"),
            "postgres://me@db/natter"
        );
    }
}
