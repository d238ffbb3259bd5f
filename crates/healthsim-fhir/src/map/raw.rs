//! Any resource without a canonical table → one `fhir_resources` row, so an import drops
//! nothing: the whole resource in `resource`, its id as `{resourceType}/{id}` (ids of
//! different types never meet), and what every query wants first, the patient and encounter.

use serde_json::Value;

use super::super::values::{reference_at, str_at};
use super::{Row, Source};

/// Elements naming the patient, in the order they are tried (`subject` on most clinical
/// resources, `patient` on Immunization-like ones, `beneficiary` on coverage-like ones).
const PATIENT_ELEMENTS: &[&str] = &["subject", "patient", "beneficiary"];
/// Elements naming the encounter (`context` in older or event-like resources).
const ENCOUNTER_ELEMENTS: &[&str] = &["encounter", "context"];

/// The `fhir_resources` row of `src`. Never fails on the resource's content: a reference that
/// cannot be read fills no column (the resource itself keeps it), `reason` (why no table fits,
/// when it is not simply the type) goes to `extra.reason`.
pub(crate) fn resource(src: &Source<'_>, reason: Option<&str>) -> Row {
    let v = src.resource;
    let id = format!("{}/{}", src.resource_type, src.id);
    let mut row = Row::whole("fhir_resources", "resource_id", &id, "resource");
    row.set("resource_type", Some(src.resource_type));
    row.set(
        "patient_id",
        first_reference(v, PATIENT_ELEMENTS, "Patient"),
    );
    row.set(
        "encounter_id",
        first_reference(v, ENCOUNTER_ELEMENTS, "Encounter"),
    );
    row.set("status", str_at(v, &["status"]).ok().flatten());
    if let Some(reason) = reason {
        row.extra("reason", reason);
    }
    row
}

/// The first readable reference to a `kind` among `elements`.
fn first_reference<'a>(v: &'a Value, elements: &[&str], kind: &str) -> Option<&'a str> {
    elements
        .iter()
        .find_map(|element| reference_at(v, &[element], &[kind]).ok().flatten())
}
