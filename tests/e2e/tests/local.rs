//! The scenarios against the native `idp-sync-local` (always runs).

#[test]
fn scenarios_against_idp_sync_local() {
    let server = e2e::server::start_local().unwrap_or_else(|e| panic!("{e}"));
    e2e::scenarios::run_all(&server);
}
