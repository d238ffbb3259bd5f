//! The JSON → row mapping (pure: `convert` then `row_to_json`), and value parsing per column kind.

mod common;

use common::minimal_entity;
use healthsim_persist::{convert, row_to_json, Error, InputError, Row};
use serde_json::{json, Value as Json};

fn convert_one(entity_type: &str, entity: Json) -> Result<Row, Error> {
    let t = healthsim_schema::entity_type(entity_type).map_err(Error::from)?;
    let mut counter = 0;
    let mut new_id = || {
        counter += 1;
        format!("generated-{counter}")
    };
    convert(t, &[entity], &mut new_id).map(|mut rows| rows.remove(0))
}

/// `entity` converts, and reads back as `expected` (canonical columns plus extra fields).
fn check(entity_type: &str, entity: Json, expected: Json) {
    let t = healthsim_schema::entity_type(entity_type).expect("entity type");
    let row = convert_one(entity_type, entity.clone()).unwrap_or_else(|e| panic!("{entity}: {e}"));
    let back = Json::Object(row_to_json(t, &row.values, row.extra.as_deref()));
    assert_eq!(back, expected, "mapping {entity}");
}

#[test]
fn maps_fields_to_columns() {
    // Canonical names pass through; `id` is the primary key.
    check("patients", json!({"id": "p1"}), json!({"patient_id": "p1"}));
    check(
        "patients",
        json!({"patient_id": "p1", "gender": "F"}),
        json!({"patient_id": "p1", "gender": "F"}),
    );
    // camelCase → snake_case.
    check(
        "patients",
        json!({"patientId": "p1", "birthDate": "1950-06-01", "postalCode": "85001", "countyFips": "04013"}),
        json!({"patient_id": "p1", "birth_date": "1950-06-01", "postal_code": "85001", "county_fips": "04013"}),
    );
    check(
        "encounters",
        json!({"encounterID": "e1", "patientId": "p1", "drgCode": "470"}),
        json!({"encounter_id": "e1", "patient_id": "p1", "drg_code": "470"}),
    );
    // Synonyms of demographic columns.
    check(
        "members",
        json!({"member_id": "m1", "first_name": "Ana", "lastName": "Diaz", "zip": "85001", "dateOfBirth": "1950-06-01"}),
        json!({"member_id": "m1", "given_name": "Ana", "family_name": "Diaz", "postal_code": "85001", "birth_date": "1950-06-01"}),
    );
    // Nested name and address objects; leftover nested keys stay under their parent key (or
    // `<key>_extra` when the parent key is a column itself, like `address`).
    check(
        "patients",
        json!({"id": "p1",
               "name": {"given": "Ana", "middle": "M", "family": "Diaz", "suffix": "Jr"},
               "address": {"line1": "1 Main St", "line2": "Apt 4", "city": "Phoenix", "state": "AZ", "postalCode": "85001"}}),
        json!({"patient_id": "p1", "given_name": "Ana", "middle_name": "M", "family_name": "Diaz",
               "address": "1 Main St", "city": "Phoenix", "state": "AZ", "postal_code": "85001",
               "name": {"suffix": "Jr"}, "address_extra": {"line2": "Apt 4"}}),
    );
    check(
        "persons",
        json!({"person_id": "x", "address": {"street": "2 Elm", "zip": "10001", "country": "US"}}),
        json!({"person_id": "x", "address": "2 Elm", "postal_code": "10001", "address_extra": {"country": "US"}}),
    );
    check(
        "sites",
        json!({"site_id": "s1", "study_id": "st1", "address": {"line1": "9 Lab Rd", "city": "Boston", "country": "US"}}),
        json!({"site_id": "s1", "study_id": "st1", "city": "Boston", "country": "US", "address": {"line1": "9 Lab Rd"}}),
    );
    // FHIR shapes: lists of names and addresses; further given names become the middle name.
    check(
        "patients",
        json!({"id": "p1",
               "name": [{"use": "official", "given": ["Ana", "Maria", "Luz"], "family": "Diaz"}, {"use": "nickname", "given": ["Annie"]}],
               "address": [{"line": ["1 Main St", "Apt 4"], "city": "Phoenix", "postal_code": "85001"}]}),
        json!({"patient_id": "p1", "given_name": "Ana", "middle_name": "Maria Luz", "family_name": "Diaz",
               "address": "1 Main St, Apt 4", "city": "Phoenix", "postal_code": "85001",
               "name": [{"use": "official"}, {"use": "nickname", "given": ["Annie"]}]}),
    );
    // A string address is the address column itself.
    check(
        "patients",
        json!({"id": "p1", "address": "1 Main St"}),
        json!({"patient_id": "p1", "address": "1 Main St"}),
    );
    // period → start/end columns: encounters use their datetimes, others their *_date columns.
    check(
        "encounters",
        json!({"id": "e1", "patient_id": "p1", "period": {"start": "2024-03-01T08:30:00-05:00", "end": "2024-03-02", "note": "x"}}),
        json!({"encounter_id": "e1", "patient_id": "p1", "start_datetime": "2024-03-01T13:30:00Z",
               "end_datetime": "2024-03-02T00:00:00Z", "period": {"note": "x"}}),
    );
    check(
        "members",
        json!({"id": "m1", "period": {"start": "2024-01-01", "end": "2024-12-31"}}),
        json!({"member_id": "m1", "coverage_start_date": "2024-01-01", "coverage_end_date": "2024-12-31"}),
    );
    check(
        "medications",
        json!({"id": "rx1", "patient_id": "p1", "drug_name": "metformin", "period": {"start": "2024-01-01"}}),
        json!({"medication_id": "rx1", "patient_id": "p1", "drug_name": "metformin", "start_date": "2024-01-01"}),
    );
    // A table without a start column keeps the period in extra.
    check(
        "claims",
        json!({"id": "c1", "period": {"start": "2024-01-01", "end": "2024-01-02"}}),
        json!({"claim_id": "c1", "period": {"start": "2024-01-01", "end": "2024-01-02"}}),
    );
    // A name object on a table without name parts stays whole in extra... unless the table has
    // a `name` column, which then gets the text.
    check(
        "claims",
        json!({"id": "c1", "name": {"given": "x"}}),
        json!({"claim_id": "c1", "name": {"given": "x"}}),
    );
    check(
        "facilities",
        json!({"id": "f1", "name": "Mercy General"}),
        json!({"facility_id": "f1", "name": "Mercy General"}),
    );
}

#[test]
fn unknown_fields_are_kept_in_extra() {
    check(
        "patients",
        json!({"id": "p1", "favorite_color": "teal", "nested": {"a": [1, 2]}, "n": 3}),
        json!({"patient_id": "p1", "favorite_color": "teal", "nested": {"a": [1, 2]}, "n": 3}),
    );
    // An input `extra` object is merged; top-level fields win on equal keys.
    check(
        "patients",
        json!({"id": "p1", "extra": {"a": 1, "b": 2}, "b": 3}),
        json!({"patient_id": "p1", "a": 1, "b": 3}),
    );
    // The canonical name wins over camelCase and over nested parts; the losers are kept.
    check(
        "patients",
        json!({"patient_id": "p1", "birth_date": "1950-06-01", "birthDate": "1951-01-01"}),
        json!({"patient_id": "p1", "birth_date": "1950-06-01", "birthDate": "1951-01-01"}),
    );
    check(
        "patients",
        json!({"id": "p1", "given_name": "Ana", "name": {"given": "Anna", "family": "Diaz"}}),
        json!({"patient_id": "p1", "given_name": "Ana", "family_name": "Diaz", "name": {"given": "Anna"}}),
    );
    check(
        "patients",
        json!({"patient_id": "p1", "id": "p2"}),
        json!({"patient_id": "p1", "id": "p2"}),
    );
    // scenario_id is ignored (the call's scenario wins); created_at that does not parse is kept.
    check(
        "patients",
        json!({"id": "p1", "scenario_id": "other", "created_at": "last week"}),
        json!({"patient_id": "p1", "created_at": "last week"}),
    );
}

#[test]
fn provenance_and_created_at_go_to_system_columns() {
    let row = convert_one(
        "patients",
        json!({"id": "p1", "sourceType": "generated", "source_system": "synthea", "skill_used": "patientsim",
               "generation_seed": "42", "created_at": "2024-01-02T03:04:05+01:00"}),
    )
    .expect("converts");
    assert_eq!(row.provenance.source_type.as_deref(), Some("generated"));
    assert_eq!(row.provenance.source_system.as_deref(), Some("synthea"));
    assert_eq!(row.provenance.skill_used.as_deref(), Some("patientsim"));
    assert_eq!(row.provenance.generation_seed, Some(42));
    assert_eq!(
        row.created_at.map(|t| t.to_string()).as_deref(),
        Some("2024-01-02 02:04:05")
    );
    assert_eq!(row.extra, None);
}

/// Gender and state are stored in one code set each; the given spelling stays in
/// `extra.normalized_from` only when it differed, and values outside the code set stay as given.
#[test]
fn coded_fields_are_normalized_and_their_spelling_kept() {
    let p = |fields: Json| {
        let mut object = json!({"patient_id": "p1"});
        object
            .as_object_mut()
            .expect("object")
            .extend(fields.as_object().expect("object").clone());
        object
    };
    check(
        "patients",
        p(json!({"gender": "M", "state": "AZ"})),
        p(json!({"gender": "M", "state": "AZ"})),
    );
    check(
        "patients",
        p(json!({"gender": "female", "state": "arizona"})),
        p(
            json!({"gender": "F", "state": "AZ", "normalized_from": {"gender": "female", "state": "arizona"}}),
        ),
    );
    check(
        "patients",
        p(json!({"gender": "Female", "state": "az"})),
        p(
            json!({"gender": "F", "state": "AZ", "normalized_from": {"gender": "Female", "state": "az"}}),
        ),
    );
    check(
        "patients",
        p(json!({"address": {"city": "Santa Fe", "state": "New Mexico"}})),
        p(json!({"city": "Santa Fe", "state": "NM", "normalized_from": {"state": "New Mexico"}})),
    );
    // Outside the code set: kept as given, nothing recorded.
    check(
        "patients",
        p(json!({"gender": "nonbinary", "state": "Ontario"})),
        p(json!({"gender": "nonbinary", "state": "Ontario"})),
    );
    // Other types with these columns, and an earlier record (of an export) is kept.
    check(
        "providers",
        json!({"provider_id": "d1", "gender": "Male", "state": "TX"}),
        json!({"provider_id": "d1", "gender": "M", "state": "TX", "normalized_from": {"gender": "Male"}}),
    );
    check(
        "subjects",
        json!({"subject_id": "s1", "study_id": "st1", "gender": "f", "extra": {"normalized_from": {"gender": "female"}}}),
        json!({"subject_id": "s1", "study_id": "st1", "gender": "F", "normalized_from": {"gender": "female"}}),
    );
}

#[test]
fn missing_primary_keys_are_generated() {
    let row = convert_one("patients", json!({"gender": "female"})).expect("converts");
    assert_eq!(row.id, "generated-1");
    let row = convert_one("patients", json!({"patient_id": null})).expect("converts");
    assert_eq!(row.id, "generated-1");
    let row = convert_one("patients", json!({"patient_id": 1234})).expect("converts");
    assert_eq!(row.id, "1234", "numeric ids become text");
}

// ------------------------------------------------------------------------------------------
// Values per column kind.

/// One value in `field` of an otherwise valid entity of `entity_type`, read back as `expected`.
fn check_value(entity_type: &str, field: &str, value: Json, expected: Json) {
    let t = healthsim_schema::entity_type(entity_type).expect("entity type");
    let mut entity = minimal_entity(t, 0);
    entity.insert(field.to_string(), value.clone());
    let row = convert_one(entity_type, Json::Object(entity))
        .unwrap_or_else(|e| panic!("{entity_type}.{field} = {value}: {e}"));
    let back = row_to_json(t, &row.values, row.extra.as_deref());
    assert_eq!(
        back.get(field).cloned().unwrap_or(Json::Null),
        expected,
        "{entity_type}.{field} = {value}"
    );
}

/// A bad value at index 1 (after a valid entity) fails naming the type, index, field and value.
fn check_bad(entity_type: &str, field: &str, value: Json, reason: &str) {
    let t = healthsim_schema::entity_type(entity_type).expect("entity type");
    let good = Json::Object(minimal_entity(t, 0));
    let mut bad = minimal_entity(t, 1);
    bad.insert(field.to_string(), value.clone());
    let mut new_id = || "x".to_string();
    match convert(t, &[good, Json::Object(bad)], &mut new_id) {
        Err(Error::Input(InputError::InvalidField {
            entity_type: got_type,
            index,
            field: got_field,
            value: got_value,
            reason: got_reason,
        })) => {
            assert_eq!(
                (got_type, index, got_field.as_str(), got_reason.as_str()),
                (t.table, 1, field, reason),
                "{entity_type}.{field} = {value}"
            );
            let shown = value.to_string();
            assert!(
                got_value == shown || (shown.len() > 80 && got_value.ends_with("...")),
                "value {got_value} for {shown}"
            );
        }
        other => panic!("{entity_type}.{field} = {value}: expected InvalidField, got {other:?}"),
    }
}

const TEXT: &str = "expected text, not an object";
const INTEGER: &str = "expected a whole number";
const NUMBER: &str = "expected a number";
const MONEY: &str = "expected an amount of money (a number, or text like \"$1,234.56\")";
const MONEY_RANGE: &str =
    "amount out of range for DECIMAL(18,2) (at most 16 digits before the point)";
const DATE: &str = "expected a date YYYY-MM-DD";
const CALENDAR: &str = "not a valid calendar date";
const TIMESTAMP: &str =
    "expected a timestamp YYYY-MM-DDTHH:MM:SS (with Z, an offset, or none for UTC)";
const BOOLEAN: &str = "expected true/false (or yes/no, y/n, 1/0)";

#[test]
fn parses_text_and_codes() {
    check_value("patients", "given_name", json!("Ana"), json!("Ana"));
    check_value("patients", "given_name", json!(""), json!(""));
    check_value("diagnoses", "code", json!("E11.9"), json!("E11.9"));
    check_value("diagnoses", "code", json!(250.01), json!("250.01"));
    check_value("diagnoses", "code", json!(401), json!("401"));
    check_value("patients", "gender", json!(true), json!("true"));
    check_value("patients", "gender", Json::Null, Json::Null);
    check_bad("patients", "given_name", json!({"a": 1}), TEXT);
    check_bad(
        "patients",
        "given_name",
        json!(["a"]),
        "expected text, not a list",
    );
}

#[test]
fn parses_integers() {
    check_value("vitals", "systolic_bp", json!(120), json!(120));
    check_value("vitals", "systolic_bp", json!(-3), json!(-3));
    check_value("vitals", "systolic_bp", json!(120.0), json!(120));
    check_value("vitals", "systolic_bp", json!(" 120 "), json!(120));
    check_value("vitals", "systolic_bp", json!("1e3"), json!(1000));
    check_value("vitals", "systolic_bp", json!(i64::MAX), json!(i64::MAX));
    check_bad("vitals", "systolic_bp", json!(120.5), INTEGER);
    check_bad("vitals", "systolic_bp", json!("high"), INTEGER);
    check_bad("vitals", "systolic_bp", json!(true), INTEGER);
    check_bad(
        "vitals",
        "systolic_bp",
        json!(u64::MAX),
        "whole number out of range (64-bit)",
    );
    check_bad("vitals", "systolic_bp", json!(1e300), INTEGER);
}

#[test]
fn parses_numbers() {
    check_value("vitals", "weight_kg", json!(70.5), json!(70.5));
    check_value("vitals", "weight_kg", json!(70), json!(70.0));
    check_value("vitals", "weight_kg", json!("70.25"), json!(70.25));
    check_value("vitals", "weight_kg", json!("-1e-3"), json!(-0.001));
    check_bad(
        "vitals",
        "weight_kg",
        json!("NaN"),
        "expected a finite number (not NaN or infinity)",
    );
    check_bad(
        "vitals",
        "weight_kg",
        json!("Infinity"),
        "expected a finite number (not NaN or infinity)",
    );
    check_bad(
        "vitals",
        "weight_kg",
        json!("-inf"),
        "expected a finite number (not NaN or infinity)",
    );
    check_bad("vitals", "weight_kg", json!("heavy"), NUMBER);
    check_bad("vitals", "weight_kg", json!([70]), NUMBER);
}

#[test]
fn parses_money_exactly() {
    check_value("claims", "total_billed", json!(1234.56), json!(1234.56));
    check_value("claims", "total_billed", json!(100), json!(100.0));
    check_value("claims", "total_billed", json!("$1,234.56"), json!(1234.56));
    check_value("claims", "total_billed", json!("-$12.50"), json!(-12.5));
    check_value("claims", "total_billed", json!("0.125"), json!(0.12));
    check_value("claims", "total_billed", json!("0.135"), json!(0.14));
    check_value("claims", "total_billed", json!(0.1 + 0.2), json!(0.3));
    check_value(
        "claims",
        "total_billed",
        json!("9999999999999999.99"),
        json!(9999999999999999.99),
    );
    check_bad(
        "claims",
        "total_billed",
        json!("10000000000000000"),
        MONEY_RANGE,
    );
    check_bad("claims", "total_billed", json!(1e20), MONEY_RANGE);
    check_bad("claims", "total_billed", json!("12 dollars"), MONEY);
    check_bad("claims", "total_billed", json!("1,,000"), MONEY);
    check_bad("claims", "total_billed", json!(false), MONEY);
}

#[test]
fn parses_dates() {
    check_value(
        "patients",
        "birth_date",
        json!("1950-06-01"),
        json!("1950-06-01"),
    );
    check_value(
        "patients",
        "birth_date",
        json!("2024-02-29"),
        json!("2024-02-29"),
    );
    check_value(
        "patients",
        "birth_date",
        json!("1950-06-01T23:30:00-05:00"),
        json!("1950-06-01"),
    );
    check_value(
        "patients",
        "birth_date",
        json!(" 1950-06-01 "),
        json!("1950-06-01"),
    );
    check_bad("patients", "birth_date", json!("2024-02-30"), CALENDAR);
    check_bad("patients", "birth_date", json!("2023-02-29"), CALENDAR);
    check_bad("patients", "birth_date", json!("06/01/1950"), DATE);
    check_bad("patients", "birth_date", json!("1950-6-1"), DATE);
    check_bad("patients", "birth_date", json!("1950-06-01Tnoon"), DATE);
    check_bad("patients", "birth_date", json!(19500601), DATE);
}

#[test]
fn parses_timestamps_to_utc() {
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01T08:30:00Z"),
        json!("2024-03-01T08:30:00Z"),
    );
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01T08:30:00+02:00"),
        json!("2024-03-01T06:30:00Z"),
    );
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01T22:30:00-05:00"),
        json!("2024-03-02T03:30:00Z"),
    );
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01T08:30:00"),
        json!("2024-03-01T08:30:00Z"),
    );
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01 08:30:00"),
        json!("2024-03-01T08:30:00Z"),
    );
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01T08:30:00.250"),
        json!("2024-03-01T08:30:00.250000Z"),
    );
    check_value(
        "encounters",
        "start_datetime",
        json!("2024-03-01"),
        json!("2024-03-01T00:00:00Z"),
    );
    check_bad(
        "encounters",
        "start_datetime",
        json!("2024-02-30T08:30:00Z"),
        CALENDAR,
    );
    check_bad(
        "encounters",
        "start_datetime",
        json!("2024-03-01T25:00:00Z"),
        TIMESTAMP,
    );
    check_bad(
        "encounters",
        "start_datetime",
        json!("March 1st"),
        TIMESTAMP,
    );
    check_bad("encounters", "start_datetime", json!(1709281800), TIMESTAMP);
}

#[test]
fn parses_booleans() {
    for (given, expected) in [
        (json!(true), true),
        (json!(false), false),
        (json!("true"), true),
        (json!("FALSE"), false),
        (json!("yes"), true),
        (json!("No"), false),
        (json!("y"), true),
        (json!("n"), false),
        (json!(1), true),
        (json!(0), false),
        (json!("1"), true),
    ] {
        check_value("actual_visits", "out_of_window", given, json!(expected));
    }
    check_bad("actual_visits", "out_of_window", json!("maybe"), BOOLEAN);
    check_bad("actual_visits", "out_of_window", json!(2), BOOLEAN);
    check_bad("actual_visits", "out_of_window", json!({}), BOOLEAN);
}

#[test]
fn keeps_json_values() {
    for value in [
        json!(["E11.9", "I10"]),
        json!({"a": {"b": [1, null]}}),
        json!("text"),
        json!(3.5),
        json!(false),
    ] {
        check_value("claims", "other_diagnoses", value.clone(), value);
    }
}

#[test]
fn structural_errors_name_the_entity() {
    let t = healthsim_schema::entity_type("claim_lines").expect("type");
    let mut new_id = || "generated".to_string();
    let check_error = |entities: Vec<Json>, expected: &str| {
        let mut new_id = || "generated".to_string();
        match convert(t, &entities, &mut new_id) {
            Err(e) => assert_eq!(e.to_string(), expected),
            Ok(_) => panic!("expected an error: {expected}"),
        }
    };
    check_error(
        vec![json!("a string")],
        "claim_lines[0] is not a JSON object",
    );
    check_error(
        vec![
            json!({"claim_line_id": "l1", "claim_id": "c1", "line_number": 1}),
            json!({"claim_id": "c1"}),
        ],
        "claim_lines[1]: required field 'line_number' is missing or null",
    );
    check_error(
        vec![json!({"claim_line_id": "l1", "claim_id": "c1", "line_number": null})],
        "claim_lines[0]: required field 'line_number' is missing or null",
    );
    check_error(
        vec![
            json!({"claim_line_id": "l1", "claim_id": "c1", "line_number": 1}),
            json!({"claim_line_id": "l2", "claim_id": "c1", "line_number": 2}),
            json!({"id": "l1", "claim_id": "c1", "line_number": 3}),
        ],
        "claim_lines[2]: id 'l1' already appears at index 0 in this call",
    );
    check_error(
        vec![json!({"claim_line_id": "", "claim_id": "c1", "line_number": 1})],
        "claim_lines[0].claim_line_id: an id must not be empty, got \"\"",
    );
    let long = "x".repeat(500);
    check_error(
        vec![json!({"claim_line_id": "l1", "claim_id": "c1", "line_number": long})],
        &format!(
            "claim_lines[0].line_number: expected a whole number, got \"{}...",
            "x".repeat(79)
        ),
    );
    // Generated ids never collide with each other.
    assert!(convert(t, &[], &mut new_id).is_ok());
}
