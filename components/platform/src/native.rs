//! The native platform bundle (not in the Spin build): the engine's
//! in-memory store, `ureq` for outbound HTTP, the system clock, a mailer
//! that logs, and thread sleeps. What `idp-sync-local` and the native tests
//! of the tick job run on.

use std::time::Duration;

use engine::{MemoryStore, SystemClock};
use graph::native::{ThreadPause, UreqClient};

use crate::bundle::Platform;
use crate::mailer::LogMailer;

/// Everything in memory or on this host; see the module header.
pub struct NativePlatform {
    pub store: MemoryStore,
    pub http: UreqClient,
    pub clock: SystemClock,
    pub mailer: LogMailer,
    pub pause: ThreadPause,
}

impl NativePlatform {
    /// An empty store, and outbound requests that give up after `http_timeout`.
    pub fn new(http_timeout: Duration) -> Self {
        NativePlatform {
            store: MemoryStore::new(),
            http: UreqClient::new(http_timeout),
            clock: SystemClock,
            mailer: LogMailer,
            pause: ThreadPause::default(),
        }
    }
}

impl Platform for NativePlatform {
    type Store = MemoryStore;
    type Http = UreqClient;
    type Clock = SystemClock;
    type Mailer = LogMailer;
    type Pause = ThreadPause;

    fn store(&self) -> &MemoryStore {
        &self.store
    }

    fn http(&self) -> &UreqClient {
        &self.http
    }

    fn clock(&self) -> &SystemClock {
        &self.clock
    }

    fn mailer(&self) -> &LogMailer {
        &self.mailer
    }

    fn pause(&self) -> &ThreadPause {
        &self.pause
    }
}
