//! idp-sync's engine: every rule of directory sync, over ports.
//!
//! The engine never performs I/O itself and never depends on `spin-sdk`: the
//! key-value store, Microsoft Graph, the clock and the mailer reach it through
//! the traits in [`ports`], implemented by `components/platform` (Spin) and by
//! in-memory or loopback doubles in tests. The public surface is [`Engine`]
//! (see `API.md`).

mod access;
pub mod clock;
mod codec;
mod domains;
mod engine;
pub mod error;
mod hash;
#[cfg(feature = "testing")]
pub mod heap_meter;
pub mod ids;
mod keys;
pub mod memory_store;
mod model;
pub mod orgs;
pub mod ports;
mod query;
pub mod saml;
pub mod settings;
mod shards;
pub mod sync;
#[cfg(feature = "testing")]
pub mod testing;
mod token;
pub mod views;

pub use clock::{ManualClock, SystemClock};
pub use engine::{Engine, EngineConfig, TickReport};
pub use error::{ConflictReason, EngineError, Field, FieldError};
pub use ids::{DirId, OrgId};
pub use memory_store::{MemoryStore, StoreStats};
pub use orgs::{DirRef, Directory, DirectoryUpdate, DirectoryView, NewDirectory, Org};
pub use query::{MAX_DOCUMENTS_PER_PAGE, MAX_PAGE};
pub use saml::SamlConfig;
pub use settings::{DomainSelection, Settings, SettingsInput, UserScope, VersionedSettings};
pub use sync::types::*;
pub use views::*;
