//! A simulated Microsoft Entra ID tenant: the token endpoint and the Graph
//! endpoints idp-sync reads, over seeded deterministic data, with fault
//! injection. One pure handler ([`handle`]) serves it natively ([`server`])
//! and as a Spin component (the `wasm32` build of this crate).
//!
//! See the README for the presets, the demo credentials and the knobs.

mod admin;
mod changes;
mod faults;
mod graph;
mod ids;
pub mod mount;
mod presets;
mod sim;
mod tenant;
mod token;

#[cfg(not(target_arch = "wasm32"))]
pub mod server;
#[cfg(target_arch = "wasm32")]
mod spin;

pub use changes::{ChangeError, ChangeOp};
pub use faults::{Faults, Stats};
pub use presets::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, LARGE_GROUP, OVERSIZED_GROUP, Preset,
    TenantBuilder,
};
pub use sim::{LinkBase, Sim, handle};
pub use tenant::{Change, Credentials, Domain, Group, Object, Other, OtherKind, Tenant, User};
