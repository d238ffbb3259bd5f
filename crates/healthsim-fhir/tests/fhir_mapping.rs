//! FHIR R4 import: the resource → canonical entity mapping, and the streaming reader.
//!

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use healthsim_fhir::{
    map_bundle_entry, map_resource, map_taking, map_with_full_url, Adjudication, Error, FhirSource,
    Format, Mapped, SourcedResource,
};
use healthsim_schema::{by_table, ColumnKind};
use serde_json::{json, Map, Value};

type Rows = Vec<(&'static str, Map<String, Value>)>;

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fhir")
        .join(relative)
}

/// [`map_resource`], checked against [`map_taking`]: moving the resource into the row that
/// keeps it gives the same rows (or the same error) and leaves `null` behind (on an error,
/// the resource as it was).
fn mapped(resource: &Value) -> Result<Mapped, Error> {
    let copied = map_resource(resource);
    let mut taken = resource.clone();
    let moved = map_taking(&mut taken, None);
    match (&copied, &moved) {
        (Ok(copied), Ok(moved)) => {
            assert_eq!(moved, copied, "map_taking of {resource}");
            assert_eq!(taken, Value::Null, "what map_taking left of {resource}");
        }
        (Err(copied), Err(moved)) => {
            assert_eq!(
                moved.to_string(),
                copied.to_string(),
                "map_taking of {resource}"
            );
            assert_eq!(&taken, resource, "what a failed map_taking left");
        }
        _ => panic!("map_taking of {resource} gave {moved:?}, map_resource {copied:?}"),
    }
    copied
}

fn rows_of(resource: &Value) -> Rows {
    match mapped(resource) {
        Ok(Mapped::Entities(rows)) => rows,
        other => panic!("expected entities for {resource}, got {other:?}"),
    }
}

/// `resource` maps to rows of exactly `expected`'s tables, in order, each having the given
/// fields (`null` = the field is absent; a key starting with `/` is a JSON pointer into the
/// row, for `/extra/...`). Every row also conforms to the registry.
fn check(resource: Value, expected: &[(&str, Value)]) {
    let rows = rows_of(&resource);
    check_rows(&resource, &rows, expected);
}

/// `rows` (of `resource`) are exactly `expected`, as for [`check`].
fn check_rows(resource: &Value, rows: &Rows, expected: &[(&str, Value)]) {
    let tables: Vec<&str> = rows.iter().map(|(t, _)| *t).collect();
    let wanted: Vec<&str> = expected.iter().map(|(t, _)| *t).collect();
    assert_eq!(tables, wanted, "tables of {resource}");
    for ((table, row), (_, fields)) in rows.iter().zip(expected) {
        assert_conforms(table, row);
        let whole = Value::Object(row.clone());
        for (key, value) in fields.as_object().expect("expected fields are an object") {
            let got = if key.starts_with('/') {
                whole.pointer(key)
            } else {
                row.get(key)
            };
            assert_eq!(
                got.unwrap_or(&Value::Null),
                value,
                "{table}.{key} of {resource}\nrow: {}",
                Value::Object(row.clone())
            );
        }
    }
}

/// `resource` is malformed, for a reason containing `reason`.
fn check_err(resource: Value, reason: &str) {
    match mapped(&resource) {
        Err(Error::Malformed { reason: got, .. }) => {
            assert!(
                got.contains(reason),
                "reason {got:?} lacks {reason:?} for {resource}"
            )
        }
        other => panic!("expected malformed ({reason}) for {resource}, got {other:?}"),
    }
}

/// `resource` has no table of its own: it maps to one `fhir_resources` row
/// `{resource_type}/{id}` holding it whole (with a reason containing `reason`, if given).
fn check_raw(resource: Value, resource_type: &str, reason: Option<&str>) {
    match mapped(&resource) {
        Ok(Mapped::Raw {
            resource_type: got,
            reason: why,
            rows,
        }) => {
            assert_eq!(got, resource_type);
            let tables: Vec<&str> = rows.iter().map(|(t, _)| *t).collect();
            assert_eq!(tables, ["fhir_resources"]);
            let row = &rows[0].1;
            assert_conforms("fhir_resources", row);
            let id = resource["id"].as_str().expect("the case has an id");
            assert_eq!(row["resource_id"], format!("{resource_type}/{id}"));
            assert_eq!(row["resource_type"], resource_type);
            assert_eq!(row["resource"], resource);
            assert_eq!(
                row["extra"].get("fhir"),
                None,
                "the resource is not stored twice"
            );
            assert_eq!(
                row["extra"].get("reason").and_then(Value::as_str),
                why.as_deref()
            );
            match (reason, why) {
                (None, None) => {}
                (Some(wanted), Some(why)) => {
                    assert!(why.contains(wanted), "{why:?} lacks {wanted:?}")
                }
                (wanted, why) => panic!("reason {why:?}, expected {wanted:?}"),
            }
        }
        other => panic!("expected a raw resource for {resource}, got {other:?}"),
    }
}

/// `resource` (an ExplanationOfBenefit) is the adjudication of `claim_id` (none: it names no
/// Claim), its own rows being
/// `expected` as for [`check`].
fn check_adjudication(resource: Value, claim_id: Option<&str>, expected: &[(&str, Value)]) {
    match mapped(&resource) {
        Ok(Mapped::Adjudication(adjudication)) => {
            assert_eq!(
                adjudication.claim_id.as_deref(),
                claim_id,
                "claim of {resource}"
            );
            check_rows(&resource, &adjudication.rows, expected);
        }
        other => panic!("expected an adjudication for {resource}, got {other:?}"),
    }
}

/// Every key is a column of the table, a provenance column or `extra`, and every value has
/// its column's kind.
fn assert_conforms(table: &str, row: &Map<String, Value>) {
    let entity_type = by_table(table).unwrap_or_else(|| panic!("{table} is not a registry table"));
    let pk = row.get(entity_type.primary_key);
    assert!(
        pk.is_some_and(Value::is_string),
        "{table} row without a primary key: {row:?}"
    );
    for (key, value) in row {
        match key.as_str() {
            "source_type" => assert_eq!(value, "fhir"),
            "source_system" => assert!(value.is_string()),
            // fhir_resources holds the resource in its own column, not again in extra.
            "extra" if table == "fhir_resources" => {
                assert!(
                    row["resource"].is_object(),
                    "{table} row without its resource"
                );
            }
            "extra" => {
                let extra = value.as_object().expect("extra is an object");
                assert!(
                    extra.contains_key("fhir") || extra.contains_key("fhir_source"),
                    "{table} extra without fhir provenance"
                );
            }
            column => {
                let column = entity_type
                    .column(column)
                    .unwrap_or_else(|| panic!("{table}.{column} is not a column"));
                let ok = match column.kind {
                    ColumnKind::Text | ColumnKind::Code => value.is_string(),
                    ColumnKind::Integer => value.is_i64(),
                    ColumnKind::Number | ColumnKind::Money => value.is_number(),
                    ColumnKind::Boolean => value.is_boolean(),
                    ColumnKind::Json => true,
                    ColumnKind::Date => value.as_str().is_some_and(|d| {
                        d.len() == 10 && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
                    }),
                    ColumnKind::Timestamp => value.as_str().is_some_and(|t| {
                        t.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(t).is_ok()
                    }),
                };
                assert!(
                    ok,
                    "{table}.{} = {value} is not a {:?}",
                    column.name, column.kind
                );
            }
        }
    }
    for column in entity_type.columns().filter(|c| c.required) {
        assert!(
            row.contains_key(column.name),
            "{table} lacks required {}",
            column.name
        );
    }
}

/// Every mapped item of a source, unwrapped.
fn read_all(paths: &[PathBuf]) -> Vec<SourcedResource> {
    FhirSource::open(paths)
        .expect("open")
        .map(|item| item.expect("readable resource"))
        .collect()
}

// ------------------------------------------------------------------------------------------
// The mapping, resource by resource.

#[test]
fn maps_patients_to_persons_and_patients() {
    let patient = json!({
        "resourceType": "Patient", "id": "p1",
        "meta": {"source": "urn:ehr"},
        "identifier": [
            {"type": {"coding": [{"code": "MR"}]}, "value": "M-1"},
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-00-1234"}
        ],
        "name": [{"given": ["Ana", "Maria", "Luz"], "family": "Diaz"}],
        "gender": "female", "birthDate": "1950-06",
        "address": [{"line": ["1 Main St", "Unit 2"], "city": "Phoenix", "state": "AZ", "postalCode": "85001"}],
        "telecom": [{"system": "phone", "value": "555-0100"}, {"system": "email", "value": "ana@example.org"}],
        "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                       "extension": [{"url": "ombCategory", "valueCoding": {"code": "2028-9", "display": "Asian"}}]}],
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "W"}]},
        "communication": [{"language": {"coding": [{"code": "es"}]}}],
        "generalPractitioner": [{"reference": "Practitioner/dr1"}]
    });
    let demographics = json!({
        "given_name": "Ana", "middle_name": "Maria Luz", "family_name": "Diaz",
        "gender": "female", "birth_date": "1950-06-01", "race": "Asian", "ssn": "999-00-1234",
        "address": "1 Main St, Unit 2", "city": "Phoenix", "state": "AZ", "postal_code": "85001",
        "phone": "555-0100", "email": "ana@example.org", "source_type": "fhir", "source_system": "urn:ehr"
    });
    let mut person = demographics.clone();
    person["person_id"] = json!("p1");
    person["extra"] = json!({"fhir_source": "Patient/p1"});
    let mut patient_row = demographics;
    patient_row["patient_id"] = json!("p1");
    patient_row["person_id"] = json!("p1");
    patient_row["mrn"] = json!("M-1");
    patient_row["marital_status"] = json!("W");
    patient_row["language"] = json!("es");
    patient_row["primary_care_provider_id"] = json!("dr1");
    check(
        patient.clone(),
        &[("persons", person), ("patients", patient_row)],
    );

    // Official name and home address win; a deceased date; nothing invented for absent data.
    check(
        json!({"resourceType": "Patient", "id": "p2",
               "name": [{"use": "maiden", "family": "Old"}, {"use": "official", "family": "New", "given": ["Kim"]}],
               "address": [{"use": "work", "city": "Tempe"}, {"use": "home", "city": "Mesa"}],
               "deceasedDateTime": "2021-04-05T10:00:00+01:00", "deceasedBoolean": null}),
        &[
            (
                "persons",
                json!({"family_name": "New", "city": "Mesa", "deceased_date": "2021-04-05"}),
            ),
            (
                "patients",
                json!({"family_name": "New", "given_name": "Kim", "middle_name": null,
                                "city": "Mesa", "gender": null, "source_system": null}),
            ),
        ],
    );
    // A general practitioner that is an Organization is no provider.
    check(
        json!({"resourceType": "Patient", "id": "p3", "generalPractitioner": [{"reference": "Organization/o1"}]}),
        &[
            ("persons", json!({})),
            ("patients", json!({"primary_care_provider_id": null})),
        ],
    );
}

#[test]
fn maps_practitioners_organizations_and_locations() {
    check(
        json!({"resourceType": "Practitioner", "id": "dr1",
               "identifier": [{"system": "urn:other", "value": "x"}, {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
               "name": [{"given": ["Sam", "J"], "family": "Lee"}], "gender": "male",
               "qualification": [{"code": {"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X", "display": "Family Medicine"}]}},
                                 {"code": {"text": "MD"}}],
               "address": [{"line": ["9 Elm"], "city": "Mesa", "state": "AZ", "postalCode": "85201"}],
               "telecom": [{"system": "email", "value": "lee@example.org"}, {"system": "phone", "value": "555-0199"}]}),
        &[(
            "providers",
            json!({"provider_id": "dr1", "npi": "1234567893", "given_name": "Sam", "family_name": "Lee",
                                "gender": "male", "taxonomy_code": "207Q00000X", "specialty": "Family Medicine",
                                "credential": "MD", "address": "9 Elm", "city": "Mesa", "phone": "555-0199"}),
        )],
    );
    check(
        json!({"resourceType": "Organization", "id": "org1", "name": "Mesa General",
               "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}]}],
               "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1000000004"}],
               "address": [{"city": "Mesa", "state": "AZ"}], "telecom": [{"system": "phone", "value": "555-0111"}]}),
        &[(
            "facilities",
            json!({"facility_id": "org1", "name": "Mesa General", "facility_type": "prov",
                                 "npi": "1000000004", "city": "Mesa", "phone": "555-0111",
                                 "/extra/facility_type_system": "http://terminology.hl7.org/CodeSystem/organization-type",
                                 "/extra/facility_type_display": "Healthcare Provider"}),
        )],
    );
    // Location.address is a single Address, not a list.
    check(
        json!({"resourceType": "Location", "id": "loc1", "name": "Ward 3",
               "type": [{"coding": [{"code": "HOSP"}]}],
               "address": {"line": ["1 Way"], "city": "Tempe", "postalCode": "85281"}}),
        &[(
            "facilities",
            json!({"facility_id": "Location/loc1", "name": "Ward 3", "facility_type": "HOSP",
                                 "address": "1 Way", "city": "Tempe", "postal_code": "85281"}),
        )],
    );
}

#[test]
fn maps_encounters() {
    let base = |extra: Value| {
        let mut e = json!({"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"}});
        for (k, v) in extra.as_object().expect("object") {
            e[k] = v.clone();
        }
        e
    };
    for (class, canonical) in [
        ("AMB", "outpatient"),
        ("IMP", "inpatient"),
        ("EMER", "emergency"),
        ("VR", "telehealth"),
        ("OBSENC", "observation"),
        ("HH", "home_health"),
        ("XYZ", "XYZ"),
    ] {
        check(
            base(
                json!({"class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class}}),
            ),
            &[("encounters", json!({"encounter_class": canonical}))],
        );
    }
    check(
        base(json!({
            "status": "finished",
            "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185349003", "display": "Encounter for check up"}]}],
            "period": {"start": "2024-01-02T08:00:00-05:00", "end": "2024-01-02T08:30:00-05:00"},
            "participant": [
                {"individual": {"reference": "Practitioner/first"}},
                {"type": [{"coding": [{"code": "ATND"}]}], "individual": {"reference": "Practitioner/attender"}},
                {"individual": {"reference": "RelatedPerson/rp"}}
            ],
            "location": [{"location": {"reference": "Location/loc1"}}],
            "serviceProvider": {"reference": "Organization/org1"},
            "hospitalization": {
                "admitSource": {"coding": [{"code": "emd"}]},
                "dischargeDisposition": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "home", "display": "Home"}]}
            },
            "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "R05.9", "display": "Cough"}], "text": "Cough for a week"}]
        })),
        &[(
            "encounters",
            json!({
                "encounter_id": "e1", "patient_id": "p1", "status": "finished",
                "encounter_type": "185349003",
                "start_datetime": "2024-01-02T13:00:00Z", "end_datetime": "2024-01-02T13:30:00Z",
                "attending_provider_id": "attender", "facility_id": "Location/loc1",
                "admission_source": "emd", "discharge_disposition": "home",
                "reason_code": "R05.9", "chief_complaint": "Cough for a week"
            }),
        )],
    );
    // No location: the service provider is the facility; no ATND: the first practitioner.
    check(
        base(
            json!({"serviceProvider": {"reference": "Organization/org1"},
                    "participant": [{"individual": {"reference": "PractitionerRole/r1"}},
                                    {"individual": {"reference": "Practitioner/dr2"}}]}),
        ),
        &[(
            "encounters",
            json!({"facility_id": "org1", "attending_provider_id": "dr2"}),
        )],
    );
}

#[test]
fn maps_conditions_keeping_their_code_system() {
    let condition = |coding: Value, extra: Value| {
        let mut c = json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                           "code": {"coding": coding, "text": "Words"}});
        for (k, v) in extra.as_object().expect("object") {
            c[k] = v.clone();
        }
        c
    };
    let icd =
        json!({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9", "display": "T2DM"});
    let snomed = json!({"system": "http://snomed.info/sct", "code": "44054006", "display": "Diabetes type 2"});
    // ICD-10-CM is preferred whatever the order.
    check(
        condition(json!([snomed, icd]), json!({})),
        &[(
            "diagnoses",
            json!({"code": "E11.9", "code_system": "ICD-10-CM", "description": "T2DM"}),
        )],
    );
    check(
        condition(json!([snomed]), json!({})),
        &[(
            "diagnoses",
            json!({"code": "44054006", "code_system": "SNOMED CT", "description": "Diabetes type 2"}),
        )],
    );
    // Unknown systems are kept as the URI; without a display the text describes it.
    check(
        condition(
            json!([{"system": "urn:local:dx", "code": "L-1"}]),
            json!({}),
        ),
        &[(
            "diagnoses",
            json!({"code": "L-1", "code_system": "urn:local:dx", "description": "Words"}),
        )],
    );
    check(
        condition(
            json!([icd]),
            json!({
                "clinicalStatus": {"coding": [{"code": "resolved"}]},
                "category": [{"coding": [{"code": "problem-list-item"}]}],
                "encounter": {"reference": "Encounter/e1"},
                "onsetPeriod": {"start": "2019"},
                "abatementDateTime": "2023-03-04T05:06:07Z"
            }),
        ),
        &[(
            "diagnoses",
            json!({"diagnosis_id": "c1", "patient_id": "p1", "encounter_id": "e1",
                                "clinical_status": "resolved", "diagnosis_type": "problem-list-item",
                                "onset_date": "2019-01-01", "abatement_date": "2023-03-04"}),
        )],
    );
}

#[test]
fn maps_procedures() {
    check(
        json!({"resourceType": "Procedure", "id": "pr1", "status": "completed",
               "subject": {"reference": "Patient/p1"}, "encounter": {"reference": "Encounter/e1"},
               "code": {"coding": [{"system": "http://snomed.info/sct", "code": "80146002"},
                                   {"system": "http://www.ama-assn.org/go/cpt", "code": "44950", "display": "Appendectomy"}]},
               "performedDateTime": "2024-05-06T07:08:09+02:00",
               "performer": [{"actor": {"reference": "Organization/o1"}}, {"actor": {"reference": "Practitioner/surgeon"}}],
               "bodySite": [{"text": "Appendix"}]}),
        &[(
            "procedures",
            json!({"procedure_id": "pr1", "code": "44950", "code_system": "CPT",
                                 "description": "Appendectomy", "status": "completed",
                                 "performed_datetime": "2024-05-06T05:08:09Z",
                                 "performer_provider_id": "surgeon", "body_site": "Appendix",
                                 "encounter_id": "e1"}),
        )],
    );
    check(
        json!({"resourceType": "Procedure", "id": "pr2", "subject": {"reference": "Patient/p1"},
               "code": {"coding": [{"system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": "0DTJ4ZZ"}]},
               "performedPeriod": {"start": "2024-05-06", "end": "2024-05-07"}}),
        &[(
            "procedures",
            json!({"code_system": "ICD-10-PCS", "performed_datetime": "2024-05-06T00:00:00Z"}),
        )],
    );
}

#[test]
fn maps_laboratory_observations() {
    let lab = |value: Value| {
        let mut o = json!({"resourceType": "Observation", "id": "l1", "status": "final",
                           "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
                           "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
                           "subject": {"reference": "Patient/p1"}});
        for (k, v) in value.as_object().expect("object") {
            o[k] = v.clone();
        }
        o
    };
    check(
        lab(json!({"valueQuantity": {"value": 101.5, "unit": "mg/dL"},
                   "referenceRange": [{"low": {"value": 70}, "high": {"value": 99}}],
                   "interpretation": [{"coding": [{"code": "H"}]}],
                   "effectiveDateTime": "2024-02-01T09:10:00-07:00", "issued": "2024-02-01T18:00:00.5Z",
                   "encounter": {"reference": "Encounter/e1"}})),
        &[(
            "lab_results",
            json!({"lab_result_id": "l1", "patient_id": "p1", "encounter_id": "e1",
                                  "loinc_code": "2345-7", "test_name": "Glucose", "value_numeric": 101.5,
                                  "unit": "mg/dL", "reference_low": 70, "reference_high": 99,
                                  "interpretation": "H", "status": "final",
                                  "collected_datetime": "2024-02-01T16:10:00Z",
                                  "resulted_datetime": "2024-02-01T18:00:00.500Z"}),
        )],
    );
    check(
        lab(json!({"valueString": "trace"})),
        &[(
            "lab_results",
            json!({"value_text": "trace", "value_numeric": null}),
        )],
    );
    check(
        lab(
            json!({"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260385009", "display": "Negative"}]}}),
        ),
        &[(
            "lab_results",
            json!({"value_text": "Negative", "/extra/value_code": "260385009", "/extra/value_code_system": "SNOMED CT"}),
        )],
    );
    check(
        lab(json!({"valueBoolean": false})),
        &[("lab_results", json!({"value_text": "false"}))],
    );
    check(
        lab(
            json!({"valueQuantity": {"value": 5, "comparator": "<", "code": "ng/mL"}, "code": {"coding": [{"system": "urn:lab", "code": "LOCAL-7"}], "text": "Local test"}}),
        ),
        &[(
            "lab_results",
            json!({"value_numeric": 5, "unit": "ng/mL", "loinc_code": "LOCAL-7", "test_name": "Local test"}),
        )],
    );
}

#[test]
fn maps_vital_signs_one_row_per_observation_with_unit_conversion() {
    let vital = |code: &str, quantity: Value| {
        json!({"resourceType": "Observation", "id": "v1",
               "category": [{"coding": [{"code": "vital-signs"}]}],
               "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
               "subject": {"reference": "Patient/p1"},
               "effectiveDateTime": "2024-01-01T10:00:00Z",
               "valueQuantity": quantity})
    };
    let cases: &[(&str, Value, &str, Value)] = &[
        (
            "8302-2",
            json!({"value": 170.2, "code": "cm"}),
            "height_cm",
            json!(170.2),
        ),
        (
            "8302-2",
            json!({"value": 70, "code": "[in_i]"}),
            "height_cm",
            json!(177.8),
        ),
        (
            "8302-2",
            json!({"value": 1.8, "unit": "m"}),
            "height_cm",
            json!(180.0),
        ),
        (
            "8302-2",
            json!({"value": 6, "unit": "ft"}),
            "height_cm",
            json!(182.88),
        ),
        (
            "29463-7",
            json!({"value": 80, "code": "kg"}),
            "weight_kg",
            json!(80),
        ),
        (
            "29463-7",
            json!({"value": 154, "code": "[lb_av]"}),
            "weight_kg",
            json!(69.85),
        ),
        (
            "29463-7",
            json!({"value": 3500, "code": "g"}),
            "weight_kg",
            json!(3.5),
        ),
        (
            "29463-7",
            json!({"value": 112, "code": "[oz_av]"}),
            "weight_kg",
            json!(3.18),
        ),
        (
            "39156-5",
            json!({"value": 27.4, "code": "kg/m2"}),
            "bmi",
            json!(27.4),
        ),
        (
            "8867-4",
            json!({"value": 72, "code": "/min"}),
            "heart_rate",
            json!(72),
        ),
        (
            "8867-4",
            json!({"value": 71.6, "unit": "beats/min"}),
            "heart_rate",
            json!(72),
        ),
        (
            "9279-1",
            json!({"value": 16, "code": "/min"}),
            "respiratory_rate",
            json!(16),
        ),
        (
            "8310-5",
            json!({"value": 37.2, "code": "Cel"}),
            "temperature_c",
            json!(37.2),
        ),
        (
            "8310-5",
            json!({"value": 98.6, "code": "[degF]"}),
            "temperature_c",
            json!(37.0),
        ),
        (
            "8310-5",
            json!({"value": 310.15, "unit": "K"}),
            "temperature_c",
            json!(37.0),
        ),
        (
            "2708-6",
            json!({"value": 97, "code": "%"}),
            "spo2",
            json!(97),
        ),
        (
            "59408-5",
            json!({"value": 95.5, "code": "%"}),
            "spo2",
            json!(95.5),
        ),
        (
            "72514-3",
            json!({"value": 4, "code": "{score}"}),
            "pain_score",
            json!(4),
        ),
        ("72514-3", json!({"value": 6}), "pain_score", json!(6)),
        (
            "8480-6",
            json!({"value": 120, "code": "mm[Hg]"}),
            "systolic_bp",
            json!(120),
        ),
        (
            "8462-4",
            json!({"value": 10.7, "code": "kPa"}),
            "diastolic_bp",
            json!(80),
        ),
    ];
    for (code, quantity, column, expected) in cases {
        let mut fields = json!({"vital_id": "v1", "patient_id": "p1", "observation_datetime": "2024-01-01T10:00:00Z"});
        fields[*column] = expected.clone();
        check(vital(code, quantity.clone()), &[("vitals", fields)]);
    }
    // A blood-pressure panel: one row from its components.
    check(
        json!({"resourceType": "Observation", "id": "bp",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 131, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 84.4, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8478-0"}]}, "valueQuantity": {"value": 99, "code": "mm[Hg]"}}
        ]}),
        &[(
            "vitals",
            json!({"systolic_bp": 131, "diastolic_bp": 84, "heart_rate": null}),
        )],
    );
    // Units that cannot be converted are errors, not silent wrong numbers.
    check_err(
        vital("29463-7", json!({"value": 12, "unit": "st"})),
        "unit 'st' cannot be converted for weight_kg",
    );
    check_err(
        vital("8310-5", json!({"value": "hot", "unit": "Cel"})),
        "valueQuantity.value must be a number",
    );
    // A vital sign without a column is kept whole in fhir_resources.
    check_raw(
        vital("9843-4", json!({"value": 35, "code": "cm"})),
        "Observation",
        Some("LOINC 9843-4"),
    );
    check_raw(
        json!({"resourceType": "Observation", "id": "o", "category": [{"coding": [{"code": "survey"}]}],
               "code": {"coding": [{"code": "x"}]}, "subject": {"reference": "Patient/p1"}}),
        "Observation",
        Some("category survey"),
    );
}

#[test]
fn maps_medication_requests_and_their_prescriptions() {
    let request = json!({
        "resourceType": "MedicationRequest", "id": "mr1", "status": "active",
        "subject": {"reference": "Patient/p1"}, "encounter": {"reference": "Encounter/e1"},
        "medicationCodeableConcept": {"coding": [
            {"system": "http://hl7.org/fhir/sid/ndc", "code": "00071-0155-23"},
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "617312", "display": "atorvastatin 10 MG Oral Tablet"}
        ], "text": "Lipitor 10"},
        "authoredOn": "2024-02-03T10:00:00-07:00",
        "requester": {"reference": "Practitioner/dr1"},
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E78.5"}]}],
        "dosageInstruction": [{"text": "one daily", "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "boundsPeriod": {"end": "2024-08-01"}}},
                               "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}]},
                               "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}]}],
        "dispenseRequest": {"quantity": {"value": 90}, "numberOfRepeatsAllowed": 3,
                            "expectedSupplyDuration": {"value": 13, "unit": "weeks"}},
        "substitution": {"allowedBoolean": false}
    });
    check(
        request,
        &[
            (
                "medications",
                json!({"medication_id": "mr1", "patient_id": "p1", "encounter_id": "e1",
                                    "rxnorm_code": "617312", "ndc": "00071-0155-23",
                                    "drug_name": "atorvastatin 10 MG Oral Tablet", "dose": "10 mg",
                                    "route": "26643006", "frequency": "1 time per day", "status": "active",
                                    "start_date": "2024-02-03", "end_date": "2024-08-01",
                                    "prescriber_provider_id": "dr1", "indication_code": "E78.5"}),
            ),
            (
                "prescriptions",
                json!({"prescription_id": "mr1", "patient_id": "p1", "prescriber_provider_id": "dr1",
                                      "rxnorm_code": "617312", "drug_name": "atorvastatin 10 MG Oral Tablet",
                                      "quantity": 90, "days_supply": 91, "refills_authorized": 3,
                                      "written_date": "2024-02-03", "status": "active", "daw_code": "1",
                                      "extra": {"fhir_source": "MedicationRequest/mr1"}}),
            ),
        ],
    );
    // Free-text dosage and the drug from a contained Medication; no dispenseRequest, no prescription.
    check(
        json!({"resourceType": "MedicationRequest", "id": "mr2", "subject": {"reference": "Patient/p1"},
               "contained": [{"resourceType": "Medication", "id": "m", "code": {"text": "Compounded cream"}}],
               "medicationReference": {"reference": "#m"},
               "dosageInstruction": [{"text": "apply thinly twice a day", "timing": {"repeat": {"frequency": 2, "period": 12, "periodUnit": "h"}}}]}),
        &[(
            "medications",
            json!({"drug_name": "Compounded cream", "dose": "apply thinly twice a day",
                                  "frequency": "2 times per 12 hours", "rxnorm_code": null}),
        )],
    );
    // A reference to a Medication resource names the drug by its display.
    check(
        json!({"resourceType": "MedicationRequest", "id": "mr3", "subject": {"reference": "Patient/p1"},
               "medicationReference": {"reference": "Medication/m9", "display": "Insulin glargine"}}),
        &[("medications", json!({"drug_name": "Insulin glargine"}))],
    );
    check_err(
        json!({"resourceType": "MedicationRequest", "id": "mr4", "subject": {"reference": "Patient/p1"}}),
        "nothing names the drug",
    );
    check_err(
        json!({"resourceType": "MedicationRequest", "id": "mr5", "subject": {"reference": "Patient/p1"},
               "medicationCodeableConcept": {"text": "x"},
               "dispenseRequest": {"expectedSupplyDuration": {"value": 1, "unit": "mo"}}}),
        "unit 'mo' cannot be converted to days",
    );
}

#[test]
fn maps_allergies() {
    check(
        json!({"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"},
               "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91935009", "display": "Allergy to peanut"}], "text": "Peanuts"},
               "category": ["food"], "criticality": "high",
               "clinicalStatus": {"coding": [{"code": "active"}]},
               "onsetDateTime": "2001-07",
               "reaction": [{"manifestation": [{"text": "Hives"}], "severity": "mild"},
                            {"manifestation": [{"coding": [{"display": "Wheezing"}]}, {"text": "Hives"}], "severity": "severe"}]}),
        &[(
            "allergies",
            json!({"allergy_id": "a1", "patient_id": "p1", "allergen": "Peanuts",
                                "allergen_code": "91935009", "category": "food", "criticality": "high",
                                "clinical_status": "active", "onset_date": "2001-07-01",
                                "reaction": "Hives; Wheezing", "severity": "severe"}),
        )],
    );
    check_err(
        json!({"resourceType": "AllergyIntolerance", "id": "a2", "patient": {"reference": "Patient/p1"}}),
        "code is required",
    );
}

#[test]
fn maps_coverage_to_members() {
    check(
        json!({"resourceType": "Coverage", "id": "cov1",
               "beneficiary": {"reference": "Patient/p1"}, "subscriberId": "S-1",
               "relationship": {"coding": [{"code": "spouse"}]},
               "period": {"start": "2024-01-01", "end": "2024-12-31"},
               "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "21"},
                                   {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "MCPOL"}]},
               "class": [{"type": {"coding": [{"code": "plan"}]}, "value": "P-9", "name": "Silver"},
                         {"type": {"coding": [{"code": "group"}]}, "value": "G-7"}]}),
        &[(
            "members",
            json!({"member_id": "cov1", "patient_id": "p1", "person_id": "p1",
                              "subscriber_id": "S-1", "relationship_code": "01",
                              "coverage_start_date": "2024-01-01", "coverage_end_date": "2024-12-31",
                              "plan_code": "P-9", "group_number": "G-7", "plan_type": "MCPOL",
                              "line_of_business": "medicaid"}),
        )],
    );
    check(
        json!({"resourceType": "Coverage", "id": "cov2", "beneficiary": {"reference": "Patient/p1"},
               "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "511"}]}}),
        &[(
            "members",
            json!({"line_of_business": "commercial", "plan_type": null}),
        )],
    );
    check_err(
        json!({"resourceType": "Coverage", "id": "cov3"}),
        "beneficiary: a reference to a Patient is required",
    );
}

#[test]
fn maps_claims_and_eobs_with_lines() {
    check(
        json!({"resourceType": "Claim", "id": "cl1", "status": "active",
               "type": {"coding": [{"code": "institutional"}]},
               "patient": {"reference": "Patient/p1"},
               "provider": {"reference": "Organization/org1"},
               "billablePeriod": {"start": "2024-01-05", "end": "2024-01-08"},
               "created": "2024-01-10",
               "careTeam": [{"provider": {"reference": "Practitioner/helper"}},
                            {"provider": {"reference": "Practitioner/doc"}, "role": {"coding": [{"code": "primary"}]}}],
               "insurance": [{"coverage": {"reference": "Coverage/cov9"}}, {"focal": true, "coverage": {"reference": "Coverage/cov1"}}],
               "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J18.9"}]}},
                             {"sequence": 2, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}]}},
                             {"sequence": 3, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}]}}],
               "item": [{"sequence": 1, "revenue": {"coding": [{"code": "0120"}]}, "quantity": {"value": 3},
                         "unitPrice": {"value": 1000.10}, "servicedPeriod": {"start": "2024-01-05"},
                         "diagnosisSequence": [1, 2],
                         "encounter": [{"reference": "Encounter/e1"}]},
                        {"sequence": 2, "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0002-8215-01"}]},
                         "net": {"value": 45.5}}],
               "total": {"value": 3045.80, "currency": "USD"}}),
        &[
            (
                "claims",
                json!({"claim_id": "cl1", "status": "active", "claim_type": "institutional",
                               "patient_id": "p1", "member_id": "cov1", "facility_id": "org1",
                               "billing_provider_id": null, "rendering_provider_id": "doc",
                               "encounter_id": "e1", "service_date": "2024-01-05", "service_end_date": "2024-01-08",
                               "received_date": "2024-01-10", "principal_diagnosis": "J18.9",
                               "other_diagnoses": ["I10", "E11.9"], "total_billed": 3045.80,
                               "total_allowed": null, "total_paid": null}),
            ),
            (
                "claim_lines",
                json!({"claim_line_id": "cl1-1", "claim_id": "cl1", "line_number": 1,
                                    "revenue_code": "0120", "units": 3, "billed_amount": 3000.3,
                                    "service_date": "2024-01-05", "diagnosis_pointer": "1,2",
                                    "procedure_code": null, "extra": {"fhir_source": "Claim/cl1"}}),
            ),
            (
                "claim_lines",
                json!({"claim_line_id": "cl1-2", "line_number": 2, "ndc": "0002-8215-01",
                                    "procedure_code": null, "billed_amount": 45.5}),
            ),
        ],
    );
    // An EOB naming its Claim is that Claim's adjudication; its own rows (written only when
    // the Claim is not there) carry the outcome as status.
    check_adjudication(
        json!({"resourceType": "ExplanationOfBenefit", "id": "eob1", "status": "active", "outcome": "complete",
               "patient": {"reference": "Patient/p1"}, "provider": {"reference": "Practitioner/dr1"},
               "claim": {"reference": "Claim/cl1"},
               "diagnosis": [{"sequence": 2, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}]}},
                             {"sequence": 1, "type": [{"coding": [{"code": "principal"}]}],
                              "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J18.9"}]}}],
               "item": [{"sequence": 4, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213", "display": "Office visit"}]},
                         "modifier": [{"coding": [{"code": "25"}]}, {"coding": [{"code": "GT"}]}],
                         "locationCodeableConcept": {"coding": [{"code": "11"}]},
                         "net": {"value": 150},
                         "adjudication": [
                             {"category": {"coding": [{"code": "eligible"}]}, "amount": {"value": 100}},
                             {"category": {"coding": [{"code": "deductible"}]}, "amount": {"value": 20}},
                             {"category": {"coding": [{"code": "coinsurance"}]}, "amount": {"value": 16}},
                             {"category": {"coding": [{"code": "benefit"}]}, "amount": {"value": 64}},
                             {"category": {"coding": [{"code": "denialreason"}]}, "reason": {"coding": [{"code": "45"}]}}
                         ]}],
               "total": [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 150}},
                         {"category": {"coding": [{"code": "eligible"}]}, "amount": {"value": 100}},
                         {"category": {"coding": [{"code": "deductible"}]}, "amount": {"value": 20}},
                         {"category": {"coding": [{"code": "coinsurance"}]}, "amount": {"value": 16}}],
               "payment": {"date": "2024-02-01", "amount": {"value": 64}}}),
        Some("cl1"),
        &[
            (
                "claims",
                json!({"claim_id": "eob1", "status": "complete", "billing_provider_id": "dr1", "principal_diagnosis": "J18.9",
                               "other_diagnoses": ["I10"], "total_billed": 150, "total_allowed": 100,
                               "total_paid": 64, "total_patient_resp": 36.0, "paid_date": "2024-02-01",
                               "place_of_service": "11"}),
            ),
            (
                "claim_lines",
                json!({"claim_line_id": "eob1-4", "line_number": 4, "procedure_code": "99213",
                                    "procedure_modifiers": "25,GT", "place_of_service": "11",
                                    "billed_amount": 150, "allowed_amount": 100, "deductible_applied": 20,
                                    "coinsurance_applied": 16, "paid_amount": 64, "adjustment_reason_code": "45",
                                    "extra": {"procedure_code_system": "CPT", "procedure_code_display": "Office visit",
                                              "fhir_source": "ExplanationOfBenefit/eob1"}}),
            ),
        ],
    );
    // An EOB naming no Claim (or another type) has nothing to merge into; without an outcome
    // its status is the resource's.
    for claim in [
        json!(null),
        json!({"reference": "Coverage/c1"}),
        json!({"display": "a claim"}),
    ] {
        check_adjudication(
            json!({"resourceType": "ExplanationOfBenefit", "id": "eob2", "status": "active",
                   "patient": {"reference": "Patient/p1"}, "claim": claim}),
            None,
            &[(
                "claims",
                json!({"claim_id": "eob2", "status": "active", "patient_id": "p1"}),
            )],
        );
    }
    check_adjudication(
        json!({"resourceType": "ExplanationOfBenefit", "id": "eob3", "outcome": "partial",
               "claim": {"reference": "urn:uuid:c-9"}}),
        Some("c-9"),
        &[("claims", json!({"claim_id": "eob3", "status": "partial"}))],
    );
    // No total[] at all: payment.amount is still the paid total.
    check_adjudication(
        json!({"resourceType": "ExplanationOfBenefit", "id": "eob5", "outcome": "complete",
               "claim": {"reference": "Claim/c-5"}, "payment": {"amount": {"value": 61.5}}}),
        Some("c-5"),
        &[(
            "claims",
            json!({"claim_id": "eob5", "status": "complete", "total_paid": 61.5}),
        )],
    );
    // Synthea's EOB: a contained Coverage names no member; Blue Button line adjudications;
    // the total is payment.amount.
    let bb = |v: &str| {
        json!({"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/adjudication",
                                          "code": format!("https://bluebutton.cms.gov/resources/variables/{v}")}]})
    };
    check_adjudication(
        json!({"resourceType": "ExplanationOfBenefit", "id": "eob4", "outcome": "complete",
               "contained": [{"resourceType": "Coverage", "id": "coverage"}],
               "claim": {"reference": "urn:uuid:c-4"},
               "insurance": [{"focal": true, "coverage": {"reference": "#coverage", "display": "Medicaid"}}],
               "item": [{"sequence": 1, "adjudication": [
                   {"category": bb("line_sbmtd_chrg_amt"), "amount": {"value": 120.5}},
                   {"category": bb("line_alowd_chrg_amt"), "amount": {"value": 100}},
                   {"category": bb("line_prvdr_pmt_amt"), "amount": {"value": 80}},
                   {"category": bb("line_bene_ptb_ddctbl_amt"), "amount": {"value": 0}},
                   {"category": bb("line_coinsrnc_amt"), "amount": {"value": 20}}]}],
               "total": [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 120.5}}],
               "payment": {"amount": {"value": 80}}}),
        Some("c-4"),
        &[
            (
                "claims",
                json!({"claim_id": "eob4", "member_id": null, "total_billed": 120.5, "total_paid": 80}),
            ),
            (
                "claim_lines",
                json!({"claim_line_id": "eob4-1", "billed_amount": 120.5, "allowed_amount": 100,
                                   "paid_amount": 80, "deductible_applied": 0, "coinsurance_applied": 20}),
            ),
        ],
    );
    // Items without a sequence are numbered by position.
    check(
        json!({"resourceType": "Claim", "id": "cl2", "item": [{"net": {"value": 1}}, {"net": {"value": 2}}]}),
        &[
            ("claims", json!({})),
            ("claim_lines", json!({"claim_line_id": "cl2-1"})),
            (
                "claim_lines",
                json!({"claim_line_id": "cl2-2", "line_number": 2}),
            ),
        ],
    );
    check_err(
        json!({"resourceType": "Claim", "id": "cl3", "item": [{"sequence": 1}, {"sequence": "two"}]}),
        "item[1].sequence must be a whole number",
    );
}

#[test]
fn maps_research_studies_and_subjects() {
    check(
        json!({"resourceType": "ResearchStudy", "id": "st1", "title": "Trial", "status": "active",
               "identifier": [{"value": "NCT1"}], "phase": {"coding": [{"code": "phase-2"}]},
               "period": {"start": "2023-01", "end": "2025"}, "sponsor": {"display": "Acme"},
               "condition": [{"text": "Asthma"}], "category": [{"text": "Pulmonology"}],
               "arm": [{"name": "A", "type": {"coding": [{"code": "experimental"}]}, "description": "drug"}, {"name": "B"}]}),
        &[
            (
                "studies",
                json!({"study_id": "st1", "title": "Trial", "protocol_number": "NCT1", "phase": "phase-2",
                                "start_date": "2023-01-01", "end_date": "2025-01-01", "sponsor": "Acme",
                                "indication": "Asthma", "therapeutic_area": "Pulmonology", "status": "active"}),
            ),
            (
                "treatment_arms",
                json!({"arm_id": "st1-A", "study_id": "st1", "name": "A", "arm_type": "experimental", "description": "drug"}),
            ),
            (
                "treatment_arms",
                json!({"arm_id": "st1-B", "name": "B", "arm_type": null}),
            ),
        ],
    );
    check(
        json!({"resourceType": "ResearchSubject", "id": "s1", "status": "on-study",
               "study": {"reference": "ResearchStudy/st1"}, "individual": {"reference": "Patient/p1"},
               "assignedArm": "A", "period": {"start": "2024-02-03T10:00:00Z"}, "identifier": [{"value": "ST1-001"}]}),
        &[(
            "subjects",
            json!({"subject_id": "s1", "study_id": "st1", "patient_id": "p1", "person_id": "p1",
                               "arm_id": "st1-A", "enrollment_date": "2024-02-03", "status": "on-study",
                               "usubjid": "ST1-001"}),
        )],
    );
    check_err(
        json!({"resourceType": "ResearchSubject", "id": "s2", "individual": {"reference": "Patient/p1"}}),
        "study: a reference to a ResearchStudy is required",
    );
}

#[test]
fn types_without_a_table_are_kept_whole_in_fhir_resources() {
    for resource_type in [
        "ImagingStudy",
        "DiagnosticReport",
        "Bundle",
        "Medication",
        "Provenance",
    ] {
        check_raw(
            json!({"resourceType": resource_type, "id": "x1"}),
            resource_type,
            None,
        );
    }
    // The patient and encounter columns come from the usual elements, when they name one.
    let report = json!({"resourceType": "DiagnosticReport", "id": "dr1", "status": "final",
                        "subject": {"reference": "urn:uuid:p1"}, "encounter": {"reference": "Encounter/e1"}});
    check_raw(report.clone(), "DiagnosticReport", None);
    let Ok(Mapped::Raw { rows, .. }) = mapped(&report) else {
        unreachable!()
    };
    let got = |column: &str| rows[0].1.get(column).cloned().unwrap_or(Value::Null);
    assert_eq!(
        (got("patient_id"), got("encounter_id"), got("status")),
        (json!("p1"), json!("e1"), json!("final"))
    );
    for (resource, patient) in [
        (
            json!({"resourceType": "CarePlan", "id": "c", "subject": {"reference": "Patient/p2"}}),
            json!("p2"),
        ),
        (
            json!({"resourceType": "Goal", "id": "c", "subject": {"reference": "Group/g1"}}),
            Value::Null,
        ),
        (
            json!({"resourceType": "Device", "id": "c", "patient": {"reference": "Patient/p3"}}),
            json!("p3"),
        ),
        (
            json!({"resourceType": "Basic", "id": "c", "subject": {"reference": "#contained"}}),
            Value::Null,
        ),
        (
            json!({"resourceType": "Goal", "id": "c", "subject": "Patient/p4"}),
            Value::Null,
        ),
    ] {
        let Ok(Mapped::Raw { rows, .. }) = mapped(&resource) else {
            panic!("{resource} is not kept raw")
        };
        assert_eq!(
            rows[0].1.get("patient_id").cloned().unwrap_or(Value::Null),
            patient,
            "{resource}"
        );
    }
    // A raw resource still needs an id.
    check_err(json!({"resourceType": "ImagingStudy"}), "missing id");
}

// ------------------------------------------------------------------------------------------
// Cross-cutting rules: references, ids, dates, provenance, errors.

#[test]
fn resolves_every_reference_style() {
    let encounter =
        |subject: Value| json!({"resourceType": "Encounter", "id": "e", "subject": subject});
    let cases = [
        (json!({"reference": "Patient/123"}), "123"),
        (
            json!({"reference": "urn:uuid:6f1f0c2a-44d2-4b1e-9e2a-4c8f6f0f9b11"}),
            "6f1f0c2a-44d2-4b1e-9e2a-4c8f6f0f9b11",
        ),
        (
            json!({"reference": "urn:oid:1.2.36.146.595"}),
            "1.2.36.146.595",
        ),
        (
            json!({"reference": "https://x.example/fhir/Patient/123/_history/2"}),
            "123",
        ),
        (
            json!({"reference": "http://x.example/fhir/Patient/123"}),
            "123",
        ),
        (json!({"reference": "Patient/123/_history/7"}), "123"),
        (
            json!({"reference": "urn:uuid:abc", "type": "Patient"}),
            "abc",
        ),
        (
            json!({"reference": " Patient/123 ", "display": "Ana"}),
            "123",
        ),
        (json!({"reference": "123"}), "123"),
        // Conditional references by identifier (Synthea's form): the value is the id.
        (
            json!({"reference": "Patient?identifier=https://github.com/synthetichealth/synthea|p-7"}),
            "p-7",
        ),
        (json!({"reference": "Patient?identifier=p-8"}), "p-8"),
    ];
    for (subject, id) in cases {
        check(
            encounter(subject),
            &[("encounters", json!({"patient_id": id}))],
        );
    }
    let errors = [
        (
            json!({"reference": "Group/9"}),
            "subject: a reference to a Patient is required",
        ),
        (
            json!({"reference": "urn:uuid:abc", "type": "Group"}),
            "a reference to a Patient is required",
        ),
        (
            json!({"reference": "Group?identifier=x|g1"}),
            "a reference to a Patient is required",
        ),
        (
            json!({"identifier": {"value": "MRN-1"}}),
            "a reference to a Patient is required",
        ),
        (json!({"reference": "#p"}), "contained resource"),
        (
            json!({"reference": "Patient?name=x"}),
            "conditional reference other than Type?identifier=[system|]value",
        ),
        (
            json!({"reference": "Patient?identifier=x|1&birthdate=2000"}),
            "conditional reference other than",
        ),
        (
            json!({"reference": "Patient?identifier=x|"}),
            "conditional reference other than",
        ),
        (json!({"reference": "urn:uuid:"}), "has no id"),
        (json!({"reference": "a/b/c"}), "is not of the form Type/id"),
        (
            json!({"reference": 42}),
            "subject.reference must be a string",
        ),
        (
            json!("Patient/123"),
            "subject must be an object, found a string",
        ),
    ];
    for (subject, reason) in errors {
        check_err(encounter(subject), reason);
    }
}

#[test]
fn ids_come_from_the_resource_or_its_full_url() {
    let condition = json!({"resourceType": "Condition", "subject": {"reference": "Patient/p"},
                           "code": {"coding": [{"code": "x"}]}});
    let id_of = |mapped: Result<Mapped, Error>| match mapped {
        Ok(Mapped::Entities(rows)) => rows[0].1["diagnosis_id"].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        id_of(map_with_full_url(&condition, Some("urn:uuid:u-1"))),
        "u-1"
    );
    assert_eq!(
        id_of(map_with_full_url(
            &condition,
            Some("https://h/fhir/Condition/c-7")
        )),
        "c-7"
    );
    assert_eq!(
        id_of(map_bundle_entry(
            &json!({"fullUrl": "urn:uuid:u-2", "resource": condition})
        )),
        "u-2"
    );
    let mut with_id = condition.clone();
    with_id["id"] = json!("own");
    assert_eq!(
        id_of(map_with_full_url(&with_id, Some("urn:uuid:u-3"))),
        "own"
    );
    check_err(
        condition.clone(),
        "missing id (and no bundle entry fullUrl)",
    );
    assert!(matches!(
        map_bundle_entry(&json!({"fullUrl": "urn:uuid:u-4"})),
        Err(Error::Malformed { ref reason, .. }) if reason.contains("no resource")
    ));
    assert!(matches!(
        map_bundle_entry(&json!("Condition/c")),
        Err(Error::Malformed { ref reason, .. }) if reason.contains("entry must be a json object")
    ));
    assert!(matches!(
        map_with_full_url(&condition, Some("#x")),
        Err(Error::Malformed { ref reason, .. }) if reason.contains("fullUrl cannot give one")
    ));
}

#[test]
fn converts_fhir_dates_to_iso_dates_and_utc_timestamps() {
    // (FHIR value, Date column, Timestamp column)
    let cases = [
        ("2020", "2020-01-01", "2020-01-01T00:00:00Z"),
        ("2020-05", "2020-05-01", "2020-05-01T00:00:00Z"),
        ("2020-05-17", "2020-05-17", "2020-05-17T00:00:00Z"),
        (
            "2020-05-17T23:30:00-07:00",
            "2020-05-17",
            "2020-05-18T06:30:00Z",
        ),
        ("2020-05-17T10:00:00Z", "2020-05-17", "2020-05-17T10:00:00Z"),
        (
            "2020-05-17T10:00:00.123+00:00",
            "2020-05-17",
            "2020-05-17T10:00:00.123Z",
        ),
        ("2020-05-17T10:00:00", "2020-05-17", "2020-05-17T10:00:00Z"),
        (
            "2020-05-17T10:00+05:30",
            "2020-05-17",
            "2020-05-17T04:30:00Z",
        ),
        ("2024-02-29", "2024-02-29", "2024-02-29T00:00:00Z"),
    ];
    for (fhir_value, date, timestamp) in cases {
        check(
            json!({"resourceType": "Procedure", "id": "x", "subject": {"reference": "Patient/p"},
                   "code": {"coding": [{"code": "c"}]}, "performedDateTime": fhir_value}),
            &[("procedures", json!({"performed_datetime": timestamp}))],
        );
        check(
            json!({"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/p"},
                   "code": {"coding": [{"code": "c"}]}, "onsetDateTime": fhir_value}),
            &[("diagnoses", json!({"onset_date": date}))],
        );
    }
    for bad in [
        "2020-13",
        "2023-02-29",
        "20200517",
        "2020-05-17T25:00:00Z",
        "yesterday",
        "2020-05T10:00:00Z",
        "2020T10:00:00Z",
        "",
    ] {
        check_err(
            json!({"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/p"},
                   "code": {"coding": [{"code": "c"}]}, "onsetDateTime": bad}),
            "onsetDateTime",
        );
    }
    check_err(
        json!({"resourceType": "Patient", "id": "x", "birthDate": 1950}),
        "birthDate must be a string, found a number",
    );
}

#[test]
fn malformed_resources_name_what_is_wrong() {
    let cases = [
        (json!(["a"]), "must be a json object"),
        (json!({"id": "x"}), "missing resourceType"),
        (
            json!({"resourceType": 7, "id": "x"}),
            "resourceType must be a non-empty string",
        ),
        (
            json!({"resourceType": "Patient", "id": 7}),
            "id must be a string",
        ),
        (
            json!({"resourceType": "Patient", "id": "x", "name": {"family": "F"}}),
            "name must be a list, found an object",
        ),
        (
            json!({"resourceType": "Patient", "id": "x", "name": [{"given": "Ann"}]}),
            "name.given must be a list",
        ),
        (
            json!({"resourceType": "Patient", "id": "x", "address": [{"line": [1]}]}),
            "address.line must be a list of strings",
        ),
        (
            json!({"resourceType": "Encounter", "id": "x"}),
            "subject: a reference to a Patient is required",
        ),
        (
            json!({"resourceType": "Encounter", "id": "x", "subject": {"reference": "Patient/p"}, "period": "2020"}),
            "period must be an object",
        ),
        (
            json!({"resourceType": "Encounter", "id": "x", "subject": {"reference": "Patient/p"}, "class": {"code": 5}}),
            "class.code must be a string",
        ),
        (
            json!({"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/p"}}),
            "code is required",
        ),
        (
            json!({"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/p"}, "code": {"text": "only text"}}),
            "code must have a coding with a code",
        ),
        (
            json!({"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/p"}, "code": {"coding": {"code": "c"}}}),
            "code.coding must be a list",
        ),
        (
            json!({"resourceType": "Observation", "id": "x", "category": {"coding": []}}),
            "category must be a list",
        ),
        (
            json!({"resourceType": "Claim", "id": "x", "total": {"value": "12.00"}}),
            "total.value must be a number",
        ),
    ];
    for (resource, reason) in cases {
        check_err(resource, reason);
    }
    // The error names the resource.
    let error =
        mapped(&json!({"resourceType": "Encounter", "id": "enc-9"})).expect_err("malformed");
    assert_eq!(
        error.to_string(),
        "malformed fhir resource Encounter/enc-9: subject: a reference to a Patient is required"
    );
}

#[test]
fn provenance_and_the_original_resource_ride_along() {
    let resource = json!({"resourceType": "Patient", "id": "p", "meta": {"source": "urn:lab#1"},
                          "name": [{"family": "F"}], "photo": [{"url": "http://x/p.png"}]});
    let rows = rows_of(&resource);
    for (_, row) in &rows {
        assert_eq!(row["source_type"], "fhir");
        assert_eq!(row["source_system"], "urn:lab#1");
    }
    assert_eq!(
        rows[1].1["extra"]["fhir"], resource,
        "the patient row keeps the whole resource"
    );
    assert_eq!(rows[0].1["extra"], json!({"fhir_source": "Patient/p"}));
}

#[test]
fn documented_example_works() {
    let condition = json!({
        "resourceType": "Condition", "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9",
                             "display": "Type 2 diabetes mellitus without complications"}]},
        "onsetDateTime": "2019-04"
    });
    let Ok(Mapped::Entities(rows)) = mapped(&condition) else {
        panic!("entities expected")
    };
    let (table, diagnosis) = &rows[0];
    assert_eq!(*table, "diagnoses");
    assert_eq!(diagnosis["patient_id"], "p1");
    assert_eq!(diagnosis["code_system"], "ICD-10-CM");
    assert_eq!(diagnosis["onset_date"], "2019-04-01");
    assert_eq!(diagnosis["extra"]["fhir"], condition);
}

// ------------------------------------------------------------------------------------------
// Fixtures: whole sets read from disk and mapped.

/// Everything a fixture set maps to: rows (`fhir_resources` ones included), the types kept
/// whole, and the EOBs that adjudicate a Claim.
#[derive(Default)]
struct Imported {
    sourced: Vec<SourcedResource>,
    rows: Vec<(&'static str, Map<String, Value>)>,
    raw: BTreeMap<String, usize>,
    adjudications: Vec<Adjudication>,
}

fn import(paths: &[PathBuf]) -> Imported {
    let mut imported = Imported::default();
    for sourced in read_all(paths) {
        match sourced.map_resource() {
            Ok(Mapped::Entities(rows)) => imported.rows.extend(rows),
            Ok(Mapped::Raw {
                resource_type,
                rows,
                ..
            }) => {
                *imported.raw.entry(resource_type).or_default() += 1;
                imported.rows.extend(rows);
            }
            Ok(Mapped::Adjudication(adjudication)) => imported.adjudications.push(adjudication),
            Err(error) => panic!("{error}"),
        }
        imported.sourced.push(sourced);
    }
    imported
}

/// Reference columns (per the registry) whose value names no mapped entity of the target.
fn dangling(rows: &[(&'static str, Map<String, Value>)]) -> Vec<String> {
    let mut keys: BTreeSet<(&str, String)> = BTreeSet::new();
    for (table, row) in rows {
        let entity_type = by_table(table).expect("table");
        let id = row[entity_type.primary_key]
            .as_str()
            .expect("pk")
            .to_string();
        keys.insert((table, id));
    }
    let mut dangling = Vec::new();
    for (table, row) in rows {
        let entity_type = by_table(table).expect("table");
        for reference in entity_type.references {
            if let Some(Value::String(id)) = row.get(reference.column) {
                if !keys.contains(&(reference.target, id.clone())) {
                    dangling.push(format!(
                        "{table}.{}={id} -> {}",
                        reference.column, reference.target
                    ));
                }
            }
        }
    }
    dangling
}

fn table_counts(rows: &[(&'static str, Map<String, Value>)]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for (table, _) in rows {
        *counts.entry(*table).or_default() += 1;
    }
    counts
}

#[test]
fn transaction_bundle_maps_every_type_with_urn_uuid_references() {
    let imported = import(&[data("transaction-bundle.json")]);
    let expected: BTreeMap<&str, usize> = [
        ("persons", 1),
        ("patients", 1),
        ("providers", 1),
        ("facilities", 2),
        ("encounters", 1),
        ("diagnoses", 1),
        ("procedures", 1),
        ("lab_results", 1),
        ("vitals", 4),
        ("medications", 1),
        ("prescriptions", 1),
        ("allergies", 1),
        ("members", 1),
        ("claims", 1),
        ("claim_lines", 2),
        ("fhir_resources", 1),
        ("studies", 1),
        ("treatment_arms", 2),
        ("subjects", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(table_counts(&imported.rows), expected);
    assert_eq!(
        imported.raw,
        BTreeMap::from([("ImagingStudy".to_string(), 1)])
    );
    assert_eq!(
        dangling(&imported.rows),
        Vec::<String>::new(),
        "urn:uuid references all resolve"
    );

    let row = |table: &str, id: &str| {
        let pk = by_table(table).expect("table").primary_key;
        imported
            .rows
            .iter()
            .find(|(t, r)| *t == table && r[pk] == id)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no {table} {id}"))
    };
    let uuid = |n: u32| format!("a1b2c3d4-0000-4000-8000-{n:012}");
    let patient = row("patients", &uuid(1));
    assert_eq!(patient["given_name"], "Adaeze");
    assert_eq!(patient["middle_name"], "Nkem Joy");
    assert_eq!(patient["race"], "Black or African American");
    assert_eq!(patient["ethnicity"], "Not Hispanic or Latino");
    assert_eq!(patient["language"], "en");
    assert_eq!(patient["address"], "4411 E Camelback Rd, Apt 12");
    assert_eq!(patient["source_system"], "urn:healthsim:fixture-ehr");
    let encounter = row("encounters", &uuid(5));
    assert_eq!(encounter["encounter_class"], "emergency");
    assert_eq!(encounter["facility_id"], format!("Location/{}", uuid(4)));
    assert_eq!(encounter["start_datetime"], "2024-03-10T05:15:00Z");
    let vitals: Vec<Value> = imported
        .rows
        .iter()
        .filter(|(t, _)| *t == "vitals")
        .map(|(_, r)| {
            let mut r = r.clone();
            r.remove("extra");
            Value::Object(r)
        })
        .collect();
    assert!(vitals
        .iter()
        .any(|v| v["systolic_bp"] == 158 && v["diastolic_bp"] == 94));
    assert!(vitals.iter().any(|v| v["weight_kg"] == 85.0));
    assert!(vitals.iter().any(|v| v["temperature_c"] == 38.0));
    assert!(vitals.iter().any(|v| v["height_cm"] == 165.1));
    // The EOB is the adjudication of the Claim (uuid 16), not a claim of its own.
    let [adjudication] = imported.adjudications.as_slice() else {
        panic!("one adjudication expected")
    };
    assert_eq!(adjudication.claim_id, Some(uuid(16)));
    let eob = &adjudication.rows[0].1;
    assert_eq!(
        (
            eob["claim_id"].clone(),
            eob["total_billed"].clone(),
            eob["total_allowed"].clone(),
            eob["total_paid"].clone(),
            eob["total_patient_resp"].clone()
        ),
        (
            json!(uuid(17)),
            json!(655.0),
            json!(402.1),
            json!(327.1),
            json!(75.0)
        )
    );
    assert_eq!(eob["principal_diagnosis"], "R07.9");
    assert_eq!(
        row("claims", &uuid(16))["principal_diagnosis"],
        "R07.9",
        "sequence 1 is principal"
    );
    assert_eq!(
        row("claim_lines", &format!("{}-2", uuid(16)))["billed_amount"],
        43.0
    );
    assert_eq!(
        row("subjects", &uuid(19))["arm_id"],
        format!("{}-Treatment", uuid(18))
    );
}

#[test]
fn collection_bundle_resolves_relative_and_absolute_references() {
    let imported = import(&[data("collection-bundle.json")]);
    assert_eq!(
        table_counts(&imported.rows),
        BTreeMap::from([
            ("persons", 1),
            ("patients", 1),
            ("providers", 1),
            ("encounters", 1),
            ("diagnoses", 1),
            ("lab_results", 1),
            ("vitals", 1),
            ("medications", 1),
            ("fhir_resources", 1),
        ])
    );
    assert_eq!(
        imported.raw,
        BTreeMap::from([("Observation".to_string(), 1)])
    );
    // Deliberately dangling: an organization and a prescriber that the bundle does not hold.
    assert_eq!(
        dangling(&imported.rows),
        [
            "encounters.facility_id=org-missing -> facilities",
            "medications.prescriber_provider_id=pr-unknown -> providers",
        ]
    );
    let find = |table: &str| {
        imported
            .rows
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, r)| r.clone())
            .expect("row")
    };
    assert_eq!(find("encounters")["attending_provider_id"], "pr-9");
    assert_eq!(find("encounters")["encounter_class"], "telehealth");
    assert_eq!(find("diagnoses")["patient_id"], "123");
    assert_eq!(find("diagnoses")["encounter_id"], "enc-1");
    assert_eq!(find("diagnoses")["abatement_date"], "2024-06-20");
    assert_eq!(find("patients")["birth_date"], "1971-02-01");
    assert_eq!(find("patients")["primary_care_provider_id"], "pr-9");
    assert_eq!(
        find("medications")["drug_name"],
        "simvastatin 40 MG Oral Tablet"
    );
    assert_eq!(find("medications")["rxnorm_code"], "198211");
    assert_eq!(find("vitals")["pain_score"], 3);
    assert_eq!(find("lab_results")["value_text"], "Negative");
}

#[test]
fn bulk_ndjson_folder_maps_line_by_line() {
    let source = FhirSource::open([data("bulk")]).expect("open");
    let names: Vec<String> = source
        .files()
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "Condition.ndjson",
            "Encounter.ndjson",
            "Observation.ndjson",
            "Patient.ndjson"
        ]
    );
    let imported = import(&[data("bulk")]);
    assert!(imported
        .sourced
        .iter()
        .all(|s| s.line.is_some() && s.entry.is_none()));
    assert_eq!(
        imported
            .sourced
            .iter()
            .filter_map(|s| s.line)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4, 5].repeat(4)
    );
    assert_eq!(
        table_counts(&imported.rows),
        BTreeMap::from([
            ("persons", 5),
            ("patients", 5),
            ("encounters", 5),
            ("diagnoses", 5),
            ("lab_results", 2),
            ("vitals", 3),
        ])
    );
    assert!(imported.raw.is_empty());
    assert_eq!(
        dangling(&imported.rows),
        ["encounters.facility_id=bulk-org-1 -> facilities"]
    );
    let panel = imported
        .rows
        .iter()
        .find(|(t, r)| *t == "vitals" && r["vital_id"] == "bo-3")
        .map(|(_, r)| r)
        .expect("panel");
    assert_eq!(
        (
            panel["heart_rate"].clone(),
            panel["respiratory_rate"].clone(),
            panel["spo2"].clone(),
            panel["temperature_c"].clone()
        ),
        (json!(112), json!(24), json!(89), json!(38.9))
    );
    let kpa = imported
        .rows
        .iter()
        .find(|(_, r)| r.get("vital_id") == Some(&json!("bo-5")))
        .expect("bo-5");
    assert_eq!(kpa.1["systolic_bp"], 140);
}

#[test]
fn every_fixture_row_conforms_to_the_registry_and_keeps_its_resource() {
    let imported = import(&[
        data("transaction-bundle.json"),
        data("collection-bundle.json"),
        data("bulk"),
    ]);
    for (table, row) in &imported.rows {
        assert_conforms(table, row);
    }
    // Each mapped resource is in exactly one row's extra.fhir (a raw one in its `resource`),
    // unchanged; the rest point back.
    for sourced in &imported.sourced {
        let rows = match sourced.map_resource() {
            Ok(Mapped::Entities(rows)) => rows,
            Ok(Mapped::Adjudication(adjudication)) => adjudication.rows,
            Ok(Mapped::Raw { rows, .. }) => {
                assert_eq!(rows[0].1["resource"], sourced.resource);
                continue;
            }
            Err(error) => panic!("{error}"),
        };
        let keeping: Vec<_> = rows
            .iter()
            .filter(|(_, r)| r["extra"].get("fhir") == Some(&sourced.resource))
            .collect();
        assert_eq!(keeping.len(), 1, "{}", sourced.resource);
        let primary_key = by_table(keeping[0].0).expect("table").primary_key;
        let id = keeping[0].1[primary_key].as_str().expect("id");
        for (_, row) in rows
            .iter()
            .filter(|(_, r)| r["extra"].get("fhir").is_none())
        {
            let resource_type = sourced.resource["resourceType"].as_str().expect("type");
            assert_eq!(row["extra"]["fhir_source"], format!("{resource_type}/{id}"));
        }
    }
}

// ------------------------------------------------------------------------------------------
// The reader.

#[test]
fn bundle_entries_carry_index_and_full_url() {
    let sourced = read_all(&[data("transaction-bundle.json")]);
    assert_eq!(sourced.len(), 20, "21 entries, the DELETE has no resource");
    assert!(sourced.iter().all(|s| s.line.is_none()));
    assert_eq!(sourced[0].entry, Some(0));
    assert_eq!(sourced[19].entry, Some(19));
    assert_eq!(
        sourced[3].full_url.as_deref(),
        Some("urn:uuid:a1b2c3d4-0000-4000-8000-000000000004")
    );
    assert_eq!(sourced[3].resource["resourceType"], "Location");
}

#[test]
fn malformed_ndjson_reports_file_line_and_reason_and_goes_on() {
    let file = data("malformed/bad.ndjson");
    let outcomes: Vec<String> = FhirSource::open([&file])
        .expect("open")
        .map(
            |item| match item.and_then(|s| s.map_resource().map(|m| (s, m))) {
                Ok((s, Mapped::Entities(_))) => format!("ok line {}", s.line.expect("line")),
                Ok((s, other)) => format!("line {}: {other:?}", s.line.expect("line")),
                Err(Error::InvalidJson { file: f, line, .. }) => {
                    assert_eq!(f, file);
                    format!("invalid json line {}", line.expect("line"))
                }
                Err(Error::Malformed {
                    position: Some(position),
                    reason,
                    ..
                }) => {
                    assert_eq!(position.file, file);
                    assert_eq!(position.entry, None);
                    format!("malformed line {}: {reason}", position.line.expect("line"))
                }
                Err(other) => panic!("{other}"),
            },
        )
        .collect();
    assert_eq!(
        outcomes,
        [
            "ok line 1",
            "invalid json line 2",
            "malformed line 4: subject must be an object, found a string",
            "ok line 5",
            "malformed line 6: effectiveDateTime: '2024-02-30T10:00:00Z' is not a calendar date",
            "malformed line 7: expected a FHIR resource or Bundle (a json object), found a list",
            "malformed line 8: missing resourceType",
        ]
    );
    // The messages say where.
    let messages: Vec<String> = FhirSource::open([&file])
        .expect("open")
        .filter_map(|item| item.and_then(|s| s.map_resource()).err())
        .map(|e| e.to_string())
        .collect();
    assert!(
        messages[0].starts_with("invalid json in ")
            && messages[0].contains("bad.ndjson line 2: EOF while parsing"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("malformed fhir resource Encounter/wrong-shape (")
            && messages[1].ends_with("bad.ndjson:4): subject must be an object, found a string"),
        "{}",
        messages[1]
    );
}

#[test]
fn reader_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.json");
    match FhirSource::open([&missing]) {
        Err(Error::Io { file, .. }) => assert_eq!(file, missing),
        other => panic!("{other:?}"),
    }
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [\n",
    )
    .expect("write");
    let bad_entries = dir.path().join("entries.json");
    std::fs::write(
        &bad_entries,
        r#"{"resourceType": "Bundle", "id": "b", "entry": [5, {"fullUrl": 9, "resource": {}}, {"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Basic"}}]}"#,
    )
    .expect("write");
    let not_list = dir.path().join("not-list.json");
    std::fs::write(&not_list, r#"{"resourceType": "Bundle", "entry": {}}"#).expect("write");
    let items: Vec<Result<SourcedResource, Error>> =
        FhirSource::open([&broken, &bad_entries, &not_list])
            .expect("open")
            .collect();
    assert_eq!(items.len(), 5);
    assert!(
        matches!(&items[0], Err(Error::InvalidJson { file, line: Some(4), .. }) if *file == broken)
    );
    let entry_of = |item: &Result<SourcedResource, Error>| match item {
        Err(Error::Malformed {
            position: Some(position),
            ..
        }) => position.entry,
        _ => None,
    };
    assert!(
        matches!(&items[1], Err(Error::Malformed { reason, .. }) if reason.contains("must be an object, found a number"))
    );
    assert_eq!(entry_of(&items[1]), Some(0));
    assert!(
        matches!(&items[2], Err(Error::Malformed { resource_type: Some(t), id: Some(id), .. }) if t == "Bundle" && id == "b")
    );
    assert_eq!(entry_of(&items[2]), Some(1));
    assert!(
        matches!(&items[3], Ok(s) if s.entry == Some(2) && s.full_url.as_deref() == Some("urn:uuid:x"))
    );
    assert!(
        matches!(&items[4], Err(Error::Malformed { reason, position: Some(position), .. })
        if reason.contains("entry must be a list, found an object") && position.file == not_list)
    );
}

#[test]
fn ndjson_lines_may_hold_bundles_and_a_bom() {
    let ndjson = "\u{feff}{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"fullUrl\":\"http://h/Patient/a\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"}},{\"search\":{\"mode\":\"outcome\"}}]}\n\
                  \n\
                  {\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"b\"}},{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"c\"}}]}\r\n\
                  {\"resourceType\":\"Patient\",\"id\":\"d\"}";
    let items: Vec<(String, Option<usize>, Option<usize>)> =
        FhirSource::from_reader("stdin", ndjson.as_bytes(), Format::Ndjson)
            .map(|item| item.expect("item"))
            .map(|s| {
                (
                    s.resource["id"].as_str().expect("id").to_string(),
                    s.line,
                    s.entry,
                )
            })
            .collect();
    assert_eq!(
        items,
        [
            ("a".to_string(), Some(1), Some(0)),
            ("b".to_string(), Some(3), Some(0)),
            ("c".to_string(), Some(3), Some(1)),
            ("d".to_string(), Some(4), None),
        ]
    );
    assert_eq!(Format::of(Path::new("x/Patient.NDJSON")), Format::Ndjson);
    assert_eq!(Format::of(Path::new("x/all.jsonl")), Format::Ndjson);
    assert_eq!(Format::of(Path::new("x/bundle.json")), Format::Json);
}

/// An endless-looking NDJSON stream generated on demand, counting the bytes handed out.
struct Generated {
    lines_left: usize,
    next_id: usize,
    pending: Vec<u8>,
    served: Arc<AtomicUsize>,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            if self.lines_left == 0 {
                return Ok(0);
            }
            self.lines_left -= 1;
            self.next_id += 1;
            self.pending = format!(
                "{{\"resourceType\":\"Patient\",\"id\":\"g{}\",\"gender\":\"unknown\",\"birthDate\":\"1970-01-01\"}}\n",
                self.next_id
            )
            .into_bytes();
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.served.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
}

const STREAM_LINES: usize = 100_000;

#[test]
fn sources_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<FhirSource>();
    assert_send::<Error>();
}

#[test]
fn ndjson_is_read_lazily_as_items_are_taken() {
    let served = Arc::new(AtomicUsize::new(0));
    let reader = Generated {
        lines_left: STREAM_LINES,
        next_id: 0,
        pending: Vec::new(),
        served: Arc::clone(&served),
    };
    let mut source = FhirSource::from_reader("generated.ndjson", reader, Format::Ndjson);
    assert_eq!(
        served.load(Ordering::SeqCst),
        0,
        "nothing is read before the first item"
    );
    for expected in 1..=3 {
        let item = source.next().expect("item").expect("resource");
        assert_eq!(item.resource["id"], format!("g{expected}"));
        assert_eq!(item.line, Some(expected));
    }
    // About 80 bytes a line: three items cost one buffer fill, not the ~8 MB stream.
    let after_three = served.load(Ordering::SeqCst);
    assert!(
        after_three <= 16 * 1024,
        "read {after_three} bytes for three items"
    );
    let mut rest = 0;
    for item in source.by_ref() {
        item.expect("resource");
        rest += 1;
    }
    assert_eq!(rest + 3, STREAM_LINES);
    assert!(served.load(Ordering::SeqCst) > 100 * after_three);
}

#[test]
fn a_large_ndjson_file_streams_from_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Patient.ndjson");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        for n in 0..STREAM_LINES {
            writeln!(
                file,
                "{{\"resourceType\":\"Patient\",\"id\":\"f{n}\",\"gender\":\"female\"}}"
            )
            .expect("write");
        }
        file.flush().expect("flush");
    }
    let mut source = FhirSource::open([dir.path()]).expect("open");
    let first = source.next().expect("item").expect("resource");
    assert_eq!(
        (first.resource["id"].as_str(), first.line),
        (Some("f0"), Some(1))
    );
    // Lines appended after the first item are still seen: the file was not slurped at open.
    {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        writeln!(file, "{{\"resourceType\":\"Patient\",\"id\":\"appended\"}}").expect("write");
    }
    let mut count = 1;
    let mut last = None;
    for item in source {
        let item = item.expect("resource");
        count += 1;
        last = Some((item.resource["id"].as_str().map(str::to_string), item.line));
    }
    assert_eq!(count, STREAM_LINES + 1);
    assert_eq!(
        last,
        Some((Some("appended".to_string()), Some(STREAM_LINES + 1)))
    );
}
