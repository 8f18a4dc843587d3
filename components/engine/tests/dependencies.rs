//! Keeps the engine pure in what it links: nothing in its dependency tree
//! (every feature on) binds it to a platform (Spin's SDK, WASI bindings),
//! does I/O (an HTTP client or server, an async runtime, sockets) or reads
//! a random source. Adapters bring those through the ports; a rule that
//! needed one would have to come through a port too.
//!
//! The tree is `cargo tree -p engine -e normal,build --all-features`, run
//! offline against the lockfile (the test build already fetched every
//! crate in it).
// Host only: it runs cargo.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeSet;
use std::process::Command;

/// Crate names (or name prefixes, ending in `*`) the engine must never
/// depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    // Platforms.
    "spin-*",
    "wasi*",
    "wit-bindgen*",
    // HTTP and I/O.
    "http",
    "hyper",
    "reqwest",
    "ureq",
    "tokio",
    "async-std",
    "mio",
    "socket2",
    // Randomness.
    "rand",
    "rand_core",
    "getrandom",
    "fastrand",
    "uuid",
];

/// The names of every crate in the engine's dependency tree.
fn dependency_names() -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "engine",
            "-e",
            "normal,build",
            "--all-features",
        ])
        .args(["--prefix", "none", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn is_forbidden(name: &str) -> bool {
    FORBIDDEN.iter().any(|f| match f.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *f,
    })
}

#[test]
fn the_engine_depends_on_no_platform_io_or_randomness() {
    let names = dependency_names();
    assert!(names.contains("serde_json"), "the tree was read: {names:?}");
    let found: Vec<&String> = names.iter().filter(|n| is_forbidden(n)).collect();
    assert!(
        found.is_empty(),
        "the engine must stay pure (bring these through a port instead): {found:?}"
    );
}

#[test]
fn forbidden_names_match_whole_names_or_prefixes() {
    assert!(is_forbidden("spin-sdk") && is_forbidden("wasip2") && is_forbidden("getrandom"));
    assert!(!is_forbidden("serde_json") && !is_forbidden("httpdate") && !is_forbidden("chrono"));
}
