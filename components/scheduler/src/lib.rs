//! idp-sync's cron component for the `trigger-cron` plugin 0.4.2
//! (`fermyon:spin-cron@2.0.0`, a synchronous WASI 0.2 world that runs
//! under Spin 3.x and 4.0). Each event runs one tick over every directory:
//! automatic runs start when due (every 4 hours by rule) and runs in
//! progress advance by one budgeted chunk. All the work is in
//! `platform::spin::run_tick`, shared with the API's `POST /api/v1/tick`.
//! Logs are JSON lines on stderr (the `logging` crate).
//!
//! Native builds compile to nothing: the component exists only on wasm32.

#[cfg(target_arch = "wasm32")]
mod component {
    spin_sdk::wit_bindgen::generate!({
        world: "spin-cron",
        path: "wit",
        runtime_path: "spin_sdk::wit_bindgen::rt",
    });

    // The world's `use cron-types.{metadata, error}` brings `Metadata` and
    // `Error` into this module.

    use anyhow::Context;

    struct Scheduler;

    impl Guest for Scheduler {
        fn handle_cron_event(_metadata: Metadata) -> Result<(), Error> {
            logging::init();
            // The export is synchronous: the async job runs to completion
            // on spin-sdk's executor. Per-directory failures are logged by
            // the job and do not fail the event; only a tick that could not
            // run at all does.
            spin_sdk::http::run(platform::spin::run_tick())
                .map(drop)
                .context("running the tick over every directory")
                .map_err(|error| {
                    let error = format!("{error:#}");
                    tracing::error!(error, "the cron event failed");
                    Error::Other(error)
                })
        }
    }

    export!(Scheduler);
}
