//! End-to-end suite against a running `spin up` (being built).
