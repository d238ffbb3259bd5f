//! FHIR R4 import: [`Store::import_fhir`](crate::Store::import_fhir) ([`import`]) reads FHIR
//! files and folders with `healthsim-fhir`, validates the mapped entities with persist's own
//! conversion and writes them into a scenario.
//!
//! Reading and mapping live in the `healthsim-fhir` crate (pure: no database); they are
//! re-exported here under their old paths (its `Error` as [`FhirError`], beside persist's own
//! [`Error`](crate::Error)), so `healthsim_persist::fhir::…` keeps naming everything a caller of
//! the import needs.

mod adjudicate;
pub mod import;

pub use healthsim_fhir::Error as FhirError;
pub use healthsim_fhir::{
    map, map_bundle_entry, map_resource, map_taking, map_with_full_url, read, FhirSource, Format,
    Mapped, Position, SourcedResource,
};
pub use import::{CommitMode, FhirImportOptions, FhirImportReport, SkippedFile, SkippedResource};
