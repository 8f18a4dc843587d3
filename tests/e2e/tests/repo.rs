//! The repository against its own documentation: every Rust file under
//! `components/` and `tests/` opens with a `//!` header saying what it is,
//! and every repository path ARCHITECTURE.md and README.md name exists.
//!
//! A "named path" is a backticked word made of path characters only (no
//! spaces, `{}`, `:`, `?`, `@`), not starting with `/` (those are URLs),
//! that contains a `/` or ends in `.rs`, `.md`, `.toml` or `.sh`. The code
//! map names files relative to the section's crate (`sync/run.rs`,
//! `engine.rs`), so a name exists when some file or directory of the
//! repository is it or ends with `/` and it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::fs;
use std::path::{Path, PathBuf};

use e2e::server::repo_root;

/// The documents whose named paths must exist.
const DOCUMENTS: &[&str] = &["ARCHITECTURE.md", "README.md"];

/// Path-like names the documents use for things outside the repository.
const NOT_IN_REPOSITORY: &[&str] = &[
    // Spin's state directory, created by `spin up`.
    ".spin/",
    // GitHub repositories.
    "fermyon/spin-trigger-cron",
    "spinframework/spin-plugins",
];

/// Directories that are built or installed, not written.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules", ".spin"];

#[test]
fn every_rust_file_opens_with_a_module_header() {
    let root = repo_root();
    let missing: Vec<String> = ["components", "tests"]
        .iter()
        .flat_map(|dir| entries(&root, &root.join(dir)))
        .filter(|path| path.extension().is_some_and(|e| e == "rs") && path.is_file())
        .filter(|path| !opens_with_header(&fs::read_to_string(path).unwrap_or_default()))
        .map(|path| relative(&root, &path))
        .collect();
    assert!(
        missing.is_empty(),
        "these Rust files do not open with a `//!` header saying what they are:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_documents_name_only_paths_that_exist() {
    let root = repo_root();
    let paths: Vec<String> = entries(&root, &root)
        .iter()
        .map(|path| relative(&root, path))
        .collect();
    let mut stale = Vec::new();
    for document in DOCUMENTS {
        let text = fs::read_to_string(root.join(document))
            .unwrap_or_else(|e| panic!("reading {document}: {e}"));
        for name in named_paths(&text) {
            if !NOT_IN_REPOSITORY.contains(&name) && !exists(&paths, name) {
                stale.push(format!("{document}: `{name}`"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "these documents name paths that are not in the repository (renamed or removed?):\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn named_paths_are_path_like_backticked_words() {
    let text = "`engine.rs`, `sync/` and `platform/src/spin/*`; not `run/{n}`, \
                `/api/v1/tick`, `wasi:http/types` or `Store`.";
    assert_eq!(
        named_paths(text),
        ["engine.rs", "sync/", "platform/src/spin/*"]
    );
    let paths = [
        "components/engine/src/sync".to_owned(),
        "components/engine/src/sync/run.rs".to_owned(),
    ];
    assert!(exists(&paths, "sync/run.rs"));
    assert!(exists(&paths, "sync/"));
    assert!(!exists(&paths, "ync/run.rs"));
}

fn opens_with_header(source: &str) -> bool {
    source
        .lines()
        .find(|line| !line.trim().is_empty())
        .is_some_and(|line| line.starts_with("//!"))
}

/// The backticked words of `text` that name repository paths.
fn named_paths(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            let path_chars = word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/*".contains(c));
            let path_like = word.contains('/')
                || [".rs", ".md", ".toml", ".sh"]
                    .iter()
                    .any(|ext| word.ends_with(ext));
            !word.is_empty() && path_chars && path_like && !word.starts_with('/')
        })
        .collect()
}

/// Whether `name` (a glob's `/*` and a directory's `/` dropped) is one of
/// `paths` or the tail of one.
fn exists(paths: &[String], name: &str) -> bool {
    let name = name.trim_end_matches('*').trim_end_matches('/');
    paths
        .iter()
        .any(|path| path == name || path.ends_with(&format!("/{name}")))
}

/// Every file and directory under `dir`, outside [`SKIPPED_DIRS`].
fn entries(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let listing =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", relative(root, dir)));
    for entry in listing {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if SKIPPED_DIRS.contains(&name.as_ref()) {
            continue;
        }
        if path.is_dir() {
            found.extend(entries(root, &path));
        }
        found.push(path);
    }
    found
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
