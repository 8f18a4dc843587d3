//! idp-sync's engine: every rule of directory sync, over ports.
//!
//! The engine never performs I/O itself and never depends on `spin-sdk`: the
//! key-value store, Microsoft Graph, the clock and the mailer reach it through
//! the traits in [`ports`], implemented by `components/platform` (Spin) and by
//! in-memory or loopback doubles in tests.

pub mod ports;
