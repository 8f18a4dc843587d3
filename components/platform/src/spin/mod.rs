//! The ports bound to Spin (wasm32 only), over spin-sdk 5 and WASI 0.2:
//! key-value store, outbound HTTP, variables and the monotonic clock; and
//! their bundle ([`SpinPlatform`]) and the tick job over it.

mod bundle;
mod http;
mod job;
mod pause;
mod store;
mod variables;
mod wait;

pub use bundle::SpinPlatform;
pub use http::SpinHttp;
pub use job::{TickJobError, run_tick};
pub use pause::SpinPause;
pub use store::SpinStore;
pub use variables::SpinVariables;
