//! platform (being built).
