//! healthsim-persist (being built: see module owners in the lead's notes)
pub mod query;
