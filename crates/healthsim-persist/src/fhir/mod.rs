//! FHIR R4 import: reads FHIR resources from files and folders and maps them onto the
//! canonical entities of the registry, ready to persist.
//!
//! Two halves, both pure (no database):
//! - [`read`]: [`FhirSource`], a lazy iterator over the resources of `.json` files (a resource
//!   or any Bundle) and `.ndjson` files (FHIR Bulk Data), streaming NDJSON line by line, each
//!   item a [`SourcedResource`] that knows its file, line, bundle entry and `fullUrl`.
//! - [`map`]: [`map_resource`] (and [`map_bundle_entry`], [`map_with_full_url`],
//!   [`SourcedResource::map_resource`]) turns one resource into canonical `(table, entity)`
//!   rows — Patient → persons + patients, Encounter → encounters, Claim → claims +
//!   claim_lines, ... — or reports it [`Mapped::Unsupported`]. The original resource rides along in
//!   `extra.fhir`, so nothing is lost.
//!
//! What it does not do: write anything, resolve references across resources (ids are taken
//! from references as written; whether the target was imported is the caller's check), or
//! fetch from a FHIR server.
//!
//! Errors are [`FhirError`]: I/O, invalid JSON, or a malformed resource, each naming file,
//! line, entry, resource type, id and reason, so one bad resource can be reported and skipped.

mod error;
pub mod import;
pub mod map;
pub mod read;
mod values;

pub use error::{FhirError, Position};
pub use import::{FhirImportOptions, FhirImportReport, SkippedResource};
pub use map::{map_bundle_entry, map_resource, map_with_full_url, Mapped};
pub use read::{FhirSource, Format, SourcedResource};
