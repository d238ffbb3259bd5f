//! Synthetic data generator (being built).
