//! graph (being built).
