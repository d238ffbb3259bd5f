//! FHIR R4 for HealthSim Persist: reads FHIR resources from files, folders and readers, and maps
//! each one onto the canonical entities of the registry, ready to persist.
//!
//! # Main types
//!
//! - [`FhirSource`] ([`read`]): a lazy iterator over the resources of `.json` files (a resource
//!   or any Bundle) and `.ndjson` files (FHIR Bulk Data), plain or gzip-compressed, streaming
//!   NDJSON line by line and Bundles entry by entry, each item a [`SourcedResource`] that knows
//!   its file, line, bundle entry and `fullUrl`; JSON files of a folder that are not FHIR are
//!   skipped and listed ([`SkippedFile`]).
//! - [`map_resource`] ([`map`]; also [`map_bundle_entry`], [`map_with_full_url`],
//!   [`SourcedResource::map_resource`]) turns one resource into canonical `(table, entity)`
//!   rows — Patient → persons + patients, Encounter → encounters, Claim → claims +
//!   claim_lines, ... —, an ExplanationOfBenefit into the [`Adjudication`] of its Claim, and a
//!   resource without a table of its own into one `fhir_resources` row ([`Mapped::Raw`]). The
//!   original resource rides along in `extra.fhir` (in `fhir_resources.resource`), so nothing
//!   is lost; [`map_taking`] ([`SourcedResource::map_resource_taking`]) moves it there instead
//!   of copying it, for a caller done with the resource.
//! - [`Error`]: I/O, a gzip file that does not decompress, invalid JSON, or a malformed
//!   resource, each naming file, line, entry ([`Position`]), resource type, id and reason, so
//!   one bad resource can be reported and skipped. [`Error::is_caller_error`] tells the
//!   input's faults from this crate's.
//!
//! # Neighbours
//!
//! Table and column names come from the entity registry of `healthsim-schema` (the mapping
//! checks each row's required columns against it). `healthsim-persist` drives an import with
//! this crate (`Store::import_fhir`): it validates the rows with its own conversion, writes them
//! in chunks and counts the references left dangling.
//!
//! # What it does not do
//!
//! It is pure: it writes nothing and opens no database. It does not resolve references across
//! resources (ids are taken from references as written; whether the target was imported is the
//! caller's check), validate values against column types (persist does), or fetch from a FHIR
//! server.
//!
//! # Example
//!
//! ```
//! use healthsim_fhir::{Error, FhirSource, Format, Mapped};
//!
//! let ndjson = concat!(
//!     r#"{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-06"}"#, "\n",
//!     r#"{"resourceType":"Patient","id":"p2","birthDate":"last year"}"#, "\n",
//!     r#"{"resourceType":"ImagingStudy","id":"i1"}"#, "\n",
//! );
//! let mut items = FhirSource::from_reader("Patient.ndjson", ndjson.as_bytes(), Format::Ndjson)
//!     .map(|item| item.and_then(|sourced| sourced.map_resource()));
//!
//! let Some(Ok(Mapped::Entities(rows))) = items.next() else { unreachable!() };
//! let tables: Vec<&str> = rows.iter().map(|(table, _)| *table).collect();
//! assert_eq!(tables, ["persons", "patients"]);
//! assert_eq!(rows[1].1["birth_date"], "1950-06-01");
//!
//! let Some(Err(error)) = items.next() else { unreachable!() };
//! assert!(error.is_caller_error());
//! assert!(matches!(error, Error::Malformed { .. }));
//! assert!(error.to_string().starts_with("malformed fhir resource Patient/p2 (Patient.ndjson:2): "));
//!
//! let Some(Ok(Mapped::Raw { rows, .. })) = items.next() else { unreachable!() };
//! assert_eq!(rows[0].1["resource_id"], "ImagingStudy/i1");
//! assert!(items.next().is_none());
//! ```

#![warn(missing_docs)]

mod error;
pub mod map;
pub mod read;
mod values;

pub use error::{Error, Position};
pub use map::{
    map_bundle_entry, map_resource, map_taking, map_with_full_url, Adjudication, Mapped,
};
pub use read::{FhirSource, Format, SkippedFile, SourcedResource};
