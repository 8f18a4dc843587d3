//! The ports bound to Spin (wasm32 only): key-value store with
//! compare-and-swap, outbound HTTP, variables and the monotonic clock; and
//! the tick job over them.

mod http;
mod job;
mod pause;
mod store;
mod variables;

pub use http::SpinHttp;
pub use job::{TickJobError, run_tick};
pub use pause::SpinPause;
pub use store::SpinStore;
pub use variables::SpinVariables;
