//! entra-sim (being built).
