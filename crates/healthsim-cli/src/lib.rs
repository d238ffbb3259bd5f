//! healthsim-cli internals (being built): the synthetic data generator.
pub mod synth;
