//! healthsim-persist (being built)
