//! The `Engine` value itself: the store and clock it runs over and its
//! tunables. A leaf: every rule module takes an `&Engine`, and the facade
//! (`engine.rs`, the `impl Engine` blocks the adapters call) sits on top of
//! them all.

use crate::ports::{Clock, Store, TimeDelta, Timestamp};

/// Tunables; the defaults are the product's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Automatic syncing starts a run this long after the last run started.
    pub auto_sync_interval: TimeDelta,
    /// How long an invocation's lease on a directory lasts without renewal.
    pub lease: TimeDelta,
    /// Finished runs kept in the history.
    pub history_len: usize,
    /// Troubleshooting events kept per run.
    pub log_cap: usize,
    /// Staged pages are moved out of the run document into a chunk key once
    /// they exceed this (capped at 640 KiB, so the document stays < 1 MiB).
    pub seal_bytes: usize,
    /// Finalize rebuilds a large collection (users, outbox) this many
    /// encoded bytes at a time, so an invocation's memory follows this, not
    /// the tenant's size.
    pub pass_bytes: usize,
    /// At most this many finalize slices (a bucket of users, a few staged
    /// chunks, a collection) per invocation; `None`: as many as half the
    /// invocation's budget allows. Tests set it to cross invocations.
    pub finalize_slices: Option<u32>,
    /// An invocation that staged all of a run's staging keeps the staged
    /// lines decoded in memory while their encoded size (as written to the
    /// store) is at most this many times `pass_bytes`, and finalize in that
    /// invocation reads them there instead of the store; past it the copy
    /// is dropped for the rest of the invocation. 0: never (decision 0007).
    pub staging_copy_passes: usize,
    /// How long a run keeps trying after transient failures in a row
    /// (throttling, 5xx, network or store errors) before it fails (10
    /// minutes by default).
    pub retry_window: TimeDelta,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            auto_sync_interval: TimeDelta::hours(4),
            lease: TimeDelta::minutes(1),
            history_len: 20,
            log_cap: 50,
            seal_bytes: 640 * 1024,
            pass_bytes: 4 << 20,
            finalize_slices: None,
            staging_copy_passes: 2,
            retry_window: TimeDelta::minutes(10),
        }
    }
}

/// idp-sync's engine over one store and one clock; the identity source and
/// mailer are passed per call.
pub struct Engine<'a, S, C> {
    pub(crate) store: &'a S,
    pub(crate) clock: &'a C,
    pub(crate) config: EngineConfig,
}

impl<'a, S: Store, C: Clock> Engine<'a, S, C> {
    /// An engine with the default [`EngineConfig`].
    pub fn new(store: &'a S, clock: &'a C) -> Self {
        Engine {
            store,
            clock,
            config: EngineConfig::default(),
        }
    }

    /// The same engine with other tunables (tests shorten the intervals).
    pub fn with_config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock's current time.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
