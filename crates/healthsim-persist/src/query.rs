//! The scenario query sandbox (being built).
