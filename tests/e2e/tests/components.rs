//! The built components against what Spin 4.0 and its triggers expect.
//! Needs the wasm build (scripts/test.sh builds it first); says it skipped
//! otherwise.

use std::path::PathBuf;

use e2e::components::{WASI_P3_RC, World};
use e2e::server::repo_root;

/// `spin.toml`'s component sources, by component id.
fn built(file: &str) -> Option<PathBuf> {
    let path = repo_root().join("target/wasm32-wasip2/release").join(file);
    path.is_file().then_some(path)
}

fn check(file: &str, exports: &[&str], extra_imports: &[&str]) {
    let Some(path) = built(file) else {
        println!("components: skipped {file}: not built (run scripts/test.sh)");
        return;
    };
    let world = World::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(world.exports, exports, "{file} exports");
    assert_eq!(
        world.unprovided_imports(extra_imports),
        Vec::<String>::new(),
        "{file} imports what Spin 4.0 does not provide: {world:#?}"
    );
}

#[test]
fn the_http_components_export_the_wasi_0_3_handler_spin_serves() {
    let handler = format!("wasi:http/handler@{WASI_P3_RC}");
    check("api.wasm", &[handler.as_str()], &[]);
    check("entra_sim.wasm", &[handler.as_str()], &[]);
}

#[test]
fn the_scheduler_exports_the_cron_plugins_handle_cron_event() {
    check(
        "scheduler.wasm",
        &["handle-cron-event"],
        &["spin:cron/cron-types@3.0.0"],
    );
}

#[test]
fn a_foreign_import_is_reported() {
    let world = World {
        imports: vec![
            "wasi:http/types@0.3.0-rc-2025-01-01".into(),
            "acme:db/query@1.0.0".into(),
            "wasi:io/poll@0.2.12".into(),
        ],
        exports: vec![],
    };
    assert_eq!(
        world.unprovided_imports(&[]),
        ["wasi:http/types@0.3.0-rc-2025-01-01", "acme:db/query@1.0.0"]
    );
}
