//! The scenarios against `spin up` on the built wasm components; skipped,
//! saying so, when `spin` or its cron plugin is not installed.

#[test]
fn scenarios_against_spin_up() {
    match e2e::server::start_spin().unwrap_or_else(|e| panic!("{e}")) {
        Ok(server) => e2e::scenarios::run_all(&server),
        Err(unavailable) => println!("e2e (spin): skipped: {unavailable}"),
    }
}
