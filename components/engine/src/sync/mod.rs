//! Sync runs: starting, the resumable state machine, finalize, emails,
//! status.

pub(crate) mod ask;
pub(crate) mod doc;
pub(crate) mod emails;
pub(crate) mod finalize;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod history;
pub(crate) mod progress;
pub(crate) mod run;
pub(crate) mod shape;
pub(crate) mod skipped;
pub(crate) mod start;
pub(crate) mod state;
pub(crate) mod status;
pub mod types;
pub(crate) mod worker;
