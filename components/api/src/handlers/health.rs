//! `GET /healthz`: the liveness answer.

use serde::Serialize;
use utoipa::ToSchema;

/// Always `{"status": "ok"}`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

impl Health {
    /// The only answer: the instance serves requests.
    pub fn ok() -> Health {
        Health { status: "ok" }
    }
}
