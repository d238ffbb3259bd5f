//! healthsim-summary (being built)
