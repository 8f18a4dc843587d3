//! Sync runs: starting, the resumable state machine, status.

pub(crate) mod run;
pub(crate) mod start;
pub(crate) mod status;
pub mod types;
