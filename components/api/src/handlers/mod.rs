//! One module per resource. A handler parses the request, calls the engine
//! and renders the answer; authorization happened before it was called.

pub mod data;
pub mod directories;
pub mod health;
pub mod orgs;
pub mod saml;
pub mod settings;
pub mod sync;
pub mod tick;
