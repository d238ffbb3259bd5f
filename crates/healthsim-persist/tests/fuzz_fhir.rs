//! Fuzzing the FHIR R4 mapping ([`map_resource`], [`map_bundle_entry`]) and the FHIR reader
//! ([`FhirSource::from_reader`]) with arbitrary and FHIR-shaped JSON.
//!
//! Resources are built from the element names the mappers read (`subject.reference`,
//! `code.coding[].system`, `valueQuantity`, `period`, `item[].net`, ...) with values of every
//! JSON type, under supported, unsupported and broken `resourceType`s and ids.
//!
//! Properties:
//! - mapping never panics; a refusal is a [`FhirError`] with a message;
//! - what a resource maps to names registry tables, and persist's conversion of each mapped row
//!   either accepts it or refuses it with an entity error (never a panic);
//! - reading arbitrary bytes as a JSON or NDJSON source never panics, and ends.
//!
//! Cases: 512 by default; `PROPTEST_CASES` sets them, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p healthsim-persist --test fuzz_fhir`.

use healthsim_persist::convert;
use healthsim_persist::fhir::{
    map_bundle_entry, map_resource, map_taking, FhirSource, Format, Mapped,
};
use proptest::prelude::*;
use serde_json::{json, Map, Number, Value};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

const RESOURCE_TYPES: &[&str] = &[
    "Patient",
    "Practitioner",
    "Organization",
    "Location",
    "Encounter",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "AllergyIntolerance",
    "Observation",
    "Coverage",
    "Claim",
    "ExplanationOfBenefit",
    "ResearchStudy",
    "ResearchSubject",
];

const ELEMENTS: &[&str] = &[
    "status",
    "code",
    "type",
    "name",
    "identifier",
    "value",
    "subject",
    "period",
    "category",
    "start",
    "end",
    "encounter",
    "extension",
    "address",
    "reaction",
    "item",
    "class",
    "valueQuantity",
    "total",
    "text",
    "gender",
    "description",
    "timing",
    "telecom",
    "system",
    "reference",
    "quantity",
    "provider",
    "participant",
    "location",
    "unit",
    "display",
    "amount",
    "adjudication",
    "valueString",
    "valueCoding",
    "url",
    "title",
    "serviced",
    "servicedDate",
    "servicedPeriod",
    "sequence",
    "route",
    "repeat",
    "relationship",
    "referenceRange",
    "reasonCode",
    "qualification",
    "phase",
    "performer",
    "payment",
    "patient",
    "onsetDateTime",
    "onsetPeriod",
    "interpretation",
    "insurance",
    "individual",
    "hospitalization",
    "generalPractitioner",
    "frequency",
    "effectiveDateTime",
    "effectivePeriod",
    "doseAndRate",
    "dosageInstruction",
    "dispenseRequest",
    "diagnosis",
    "criticality",
    "coding",
    "clinicalStatus",
    "verificationStatus",
    "city",
    "careTeam",
    "billablePeriod",
    "benefit",
    "beneficiary",
    "birthDate",
    "deceasedDateTime",
    "deceasedBoolean",
    "maritalStatus",
    "manifestation",
    "medicationCodeableConcept",
    "medicationReference",
    "authoredOn",
    "assignedArm",
    "bodySite",
    "component",
    "given",
    "family",
    "line",
    "postalCode",
    "state",
    "use",
    "productOrService",
    "net",
    "unitPrice",
    "diagnosisSequence",
    "diagnosisCodeableConcept",
    "issued",
    "recorder",
    "asserter",
    "serviceProvider",
    "dischargeDisposition",
    "admitSource",
    "contained",
    "meta",
    "source",
    "subscriberId",
    "payor",
    "study",
    "sponsor",
    "enrollment",
    "id",
    "resourceType",
    "fullUrl",
    "resource",
    "entry",
    "valueInteger",
    "valueBoolean",
    "valueCodeableConcept",
    "low",
    "high",
    "comparator",
    "abatementDateTime",
    "created",
    "severity",
    "substance",
];

const STRINGS: &[&str] = &[
    "Patient/p1",
    "Encounter/e1",
    "urn:uuid:0b3a4c2e-1111-4222-8333-444455556666",
    "Practitioner/",
    "/",
    "Patient/p1/_history/2",
    "http://x/fhir/Patient/p9",
    "#contained",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://loinc.org",
    "http://snomed.info/sct",
    "http://www.ama-assn.org/go/cpt",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://terminology.hl7.org/CodeSystem/observation-category",
    "vital-signs",
    "laboratory",
    "social-history",
    "E11.9",
    "8480-6",
    "2024-02-30",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "2024-01",
    "2024",
    "male",
    "female",
    "unknown",
    "finished",
    "in-progress",
    "active",
    "AMB",
    "EMER",
    "IMP",
    "mmHg",
    "kg",
    "Cel",
    "USD",
    "",
    " ",
    "NaN",
    "1e400",
    "-1",
    "😀",
    "\u{0}",
];

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        4 => prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        1 => "\\PC{0,12}".prop_map(Value::String),
    ]
    .boxed()
}

/// FHIR-like JSON: objects keyed by element names, lists of them, scalars.
fn element() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                2 => prop::collection::vec(
                    (prop::sample::select(ELEMENTS), inner.clone()),
                    0..6,
                )
                .prop_map(|pairs| Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
                1 => prop::collection::vec(inner, 0..4).prop_map(Value::Array),
            ]
        })
        .boxed()
}

fn resource() -> BoxedStrategy<Value> {
    let resource_type = prop_oneof![
        8 => prop::sample::select(RESOURCE_TYPES).prop_map(|t| json!(t)),
        1 => prop::sample::select(vec!["Bundle", "Medication", "patient", "", "Unknown"])
            .prop_map(|t| json!(t)),
        1 => scalar(),
    ];
    let id = prop_oneof![
        6 => "[a-z0-9-]{1,12}".prop_map(|s| Some(json!(s))),
        1 => Just(None),
        1 => scalar().prop_map(Some),
    ];
    (
        prop::option::weighted(0.97, resource_type),
        id,
        prop::collection::vec((prop::sample::select(ELEMENTS), element()), 0..10),
    )
        .prop_map(|(resource_type, id, fields)| {
            let mut object: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            if let Some(t) = resource_type {
                object.insert("resourceType".into(), t);
            }
            if let Some(id) = id {
                object.insert("id".into(), id);
            }
            Value::Object(object)
        })
        .boxed()
}

fn any_input() -> BoxedStrategy<Value> {
    prop_oneof![8 => resource(), 1 => element(), 1 => scalar()].boxed()
}

/// Mapping one resource: no panic, and whatever it maps to goes through persist's conversion
/// without a panic.
fn check_mapped(
    outcome: Result<Mapped, healthsim_persist::fhir::FhirError>,
) -> Result<(), TestCaseError> {
    match outcome {
        Err(error) => prop_assert!(!error.to_string().is_empty()),
        Ok(Mapped::Raw {
            resource_type,
            rows,
            ..
        }) => {
            prop_assert!(!resource_type.is_empty());
            check_rows(rows)?;
        }
        Ok(Mapped::Adjudication(adjudication)) => check_rows(adjudication.rows)?,
        Ok(Mapped::Entities(rows)) => check_rows(rows)?,
    }
    Ok(())
}

/// Mapped rows: some, each of a registry table, and persist's conversion refuses them, if at
/// all, with a message naming the table.
fn check_rows(rows: Vec<(&'static str, Map<String, Value>)>) -> Result<(), TestCaseError> {
    prop_assert!(!rows.is_empty());
    for (table, entity) in rows {
        let t = healthsim_schema::by_table(table)
            .ok_or_else(|| TestCaseError::fail(format!("unknown table {table}")))?;
        let mut new_id = || "generated".to_string();
        if let Err(error) = convert(t, &[Value::Object(entity)], &mut new_id) {
            let message = error.to_string();
            prop_assert!(message.contains(&format!("{table}[0]")), "{}", message);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn mapping_never_panics(input in any_input()) {
        check_mapped(map_resource(&input))?;
    }

    /// The importer's mapping moves each resource into its row instead of copying it; the
    /// rows (or the error) must be the copying mapping's, and a failure must leave the
    /// resource where it was.
    #[test]
    fn mapping_that_takes_the_resource_gives_what_mapping_a_copy_gives(input in any_input()) {
        let copied = map_resource(&input);
        let mut taken = input.clone();
        let moved = map_taking(&mut taken, None);
        match (&copied, &moved) {
            (Ok(copied), Ok(moved)) => {
                prop_assert_eq!(moved, copied);
                prop_assert_eq!(&taken, &Value::Null);
            }
            (Err(copied), Err(moved)) => {
                prop_assert_eq!(moved.to_string(), copied.to_string());
                prop_assert_eq!(&taken, &input);
            }
            _ => prop_assert!(false, "map_taking gave {:?}, map_resource {:?}", moved, copied),
        }
    }

    #[test]
    fn bundle_entries_never_panic(
        resource in any_input(),
        full_url in prop::option::of(prop_oneof![
            prop::sample::select(STRINGS).prop_map(str::to_string),
            "\\PC{0,20}",
        ]),
        wrapped in any::<bool>(),
    ) {
        let mut entry = Map::new();
        if wrapped {
            entry.insert("resource".into(), resource);
        }
        if let Some(url) = full_url {
            entry.insert("fullUrl".into(), json!(url));
        }
        check_mapped(map_bundle_entry(&Value::Object(entry)))?;
    }

    #[test]
    fn reading_arbitrary_bytes_never_panics(
        pieces in prop::collection::vec(prop_oneof![
            any::<Vec<u8>>(),
            resource().prop_map(|r| r.to_string().into_bytes()),
            resource().prop_map(|r| json!({"resourceType": "Bundle", "entry": [{"resource": r}]})
                .to_string().into_bytes()),
            Just(b"\n".to_vec()),
            Just(b"{\"resourceType\": \"Bundle\", \"entry\": [".to_vec()),
        ], 0..6),
        ndjson in any::<bool>(),
    ) {
        let bytes: Vec<u8> = pieces.concat();
        let format = if ndjson { Format::Ndjson } else { Format::Json };
        let source = FhirSource::from_reader("fuzz.input", std::io::Cursor::new(bytes), format);
        for (read, item) in source.enumerate() {
            prop_assert!(read < 10_000, "the reader does not end");
            match item {
                Ok(sourced) => check_mapped(sourced.map_resource())?,
                Err(error) => prop_assert!(error.to_string().contains("fuzz.input"), "{}", error),
            }
        }
    }
}
