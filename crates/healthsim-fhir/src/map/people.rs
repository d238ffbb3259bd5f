//! Patient, Practitioner, Organization, Location.

use serde_json::Value;

use super::super::values::{
    self, concept, concept_at, concepts_at, date_at, first_concept_at, list_at, obj_at, objects_at,
    reference_id, str_at, sys, within, R,
};
use super::{Outcome, Row, Source};

/// (column, value) pairs read once and set on one or more rows.
type Fields = Vec<(&'static str, Value)>;

pub(crate) fn patient(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut demographics = Fields::new();
    human_name(v, &mut demographics)?;
    push(&mut demographics, "birth_date", date_at(v, &["birthDate"])?);
    push(&mut demographics, "gender", str_at(v, &["gender"])?);
    push(
        &mut demographics,
        "race",
        us_core_category(
            v,
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
        )?,
    );
    push(
        &mut demographics,
        "ethnicity",
        us_core_category(
            v,
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
        )?,
    );
    push(&mut demographics, "ssn", identifier(v, sys::SSN)?);
    postal_address(
        preferred(&objects_at(v, &["address"])?, "home"),
        &mut demographics,
    )?;
    telecom(v, true, &mut demographics)?;
    push(
        &mut demographics,
        "deceased_date",
        date_at(v, &["deceasedDateTime"])?,
    );

    let mut person = Row::derived("persons", "person_id", src.id);
    let mut patient = Row::primary("patients", "patient_id", src.id);
    for (column, value) in demographics {
        person.set(column, Some(value.clone()));
        patient.set(column, Some(value));
    }
    patient.set("person_id", Some(src.id));
    patient.set("mrn", identifier_of_type(v, "MR")?);
    if let Some(status) = concept_at(v, &["maritalStatus"])? {
        patient.code("marital_status", status.preferred(&[]));
    }
    let communications = objects_at(v, &["communication"])?;
    let communication = communications
        .iter()
        .find(|c| c.get("preferred") == Some(&Value::Bool(true)))
        .or(communications.first());
    if let Some(communication) = communication {
        if let Some(language) =
            concept_at(communication, &["language"]).map_err(within("communication"))?
        {
            patient.set("language", language.code());
        }
    }
    for practitioner in objects_at(v, &["generalPractitioner"])? {
        if let Some(id) = reference_id(practitioner, &["generalPractitioner"], &["Practitioner"])? {
            patient.set("primary_care_provider_id", Some(id));
            break;
        }
    }
    Ok(Outcome::Rows(vec![person, patient]))
}

pub(crate) fn practitioner(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("providers", "provider_id", src.id);
    row.set("npi", identifier(v, sys::NPI)?);
    let mut name = Fields::new();
    human_name(v, &mut name)?;
    for (column, value) in name {
        // providers have no middle_name column; the full name stays in extra.fhir.
        if column != "middle_name" {
            row.set(column, Some(value));
        }
    }
    row.set("gender", str_at(v, &["gender"])?);
    for qualification in objects_at(v, &["qualification"])? {
        let Some(code) = qualification.get("code") else {
            continue;
        };
        let code = concept(code, &["qualification", "code"])?;
        if let Some(taxonomy) = code.in_system(sys::NUCC) {
            if row.get("taxonomy_code").is_none() {
                row.set("taxonomy_code", taxonomy.code);
                row.set("specialty", taxonomy.display);
            }
        } else if row.get("credential").is_none() {
            row.set("credential", code.code().or(code.text));
        }
    }
    let mut place = Fields::new();
    postal_address(preferred(&objects_at(v, &["address"])?, "work"), &mut place)?;
    telecom(v, false, &mut place)?;
    apply(&mut row, place);
    Ok(Outcome::Rows(vec![row]))
}

pub(crate) fn organization(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("facilities", "facility_id", src.id);
    row.set("name", str_at(v, &["name"])?);
    if let Some(kind) = first_concept_at(v, &["type"])? {
        row.code("facility_type", kind.preferred(&[]));
    }
    row.set("npi", identifier(v, sys::NPI)?);
    let mut place = Fields::new();
    postal_address(preferred(&objects_at(v, &["address"])?, "work"), &mut place)?;
    telecom(v, false, &mut place)?;
    apply(&mut row, place);
    Ok(Outcome::Rows(vec![row]))
}

/// A Location is the facility `Location/{id}` ([`values::location_facility_id`]): Organization
/// ids stay as written, so `Organization/1` and `Location/1` are two facilities.
pub(crate) fn location(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary(
        "facilities",
        "facility_id",
        &values::location_facility_id(src.id),
    );
    row.set("name", str_at(v, &["name"])?);
    if let Some(kind) = concepts_at(v, &["type"])?.first() {
        row.code("facility_type", kind.preferred(&[]));
    }
    row.set("npi", identifier(v, sys::NPI)?);
    let mut place = Fields::new();
    postal_address(obj_at(v, &["address"])?, &mut place)?;
    telecom(v, false, &mut place)?;
    apply(&mut row, place);
    Ok(Outcome::Rows(vec![row]))
}

fn push(fields: &mut Fields, column: &'static str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        fields.push((column, value.into()));
    }
}

fn apply(row: &mut Row, fields: Fields) {
    for (column, value) in fields {
        row.set(column, Some(value));
    }
}

/// The item whose `use` is `wanted`, else the first.
fn preferred<'a>(items: &[&'a Value], wanted: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|item| item.get("use").and_then(Value::as_str) == Some(wanted))
        .or(items.first())
        .copied()
}

/// name (`official` first): given[0] → given_name, further given → middle_name, family.
fn human_name(v: &Value, fields: &mut Fields) -> R<()> {
    let names = objects_at(v, &["name"])?;
    let Some(name) = preferred(&names, "official") else {
        return Ok(());
    };
    let given: Vec<&str> = list_at(name, &["given"])
        .map_err(within("name"))?
        .iter()
        .map(|g| {
            g.as_str()
                .ok_or_else(|| "name.given must be a list of strings".to_string())
        })
        .collect::<R<_>>()?;
    push(fields, "given_name", given.first().copied());
    if given.len() > 1 {
        push(fields, "middle_name", Some(given[1..].join(" ")));
    }
    push(
        fields,
        "family_name",
        str_at(name, &["family"]).map_err(within("name"))?,
    );
    Ok(())
}

/// An Address: line joined with `, `, city, state, postalCode.
fn postal_address(address: Option<&Value>, fields: &mut Fields) -> R<()> {
    let Some(address) = address else {
        return Ok(());
    };
    let in_address = within("address");
    let lines: Vec<&str> = list_at(address, &["line"])
        .map_err(&in_address)?
        .iter()
        .map(|l| {
            l.as_str()
                .ok_or_else(|| "address.line must be a list of strings".to_string())
        })
        .collect::<R<_>>()?;
    if !lines.is_empty() {
        push(fields, "address", Some(lines.join(", ")));
    }
    push(
        fields,
        "city",
        str_at(address, &["city"]).map_err(&in_address)?,
    );
    push(
        fields,
        "state",
        str_at(address, &["state"]).map_err(&in_address)?,
    );
    push(
        fields,
        "postal_code",
        str_at(address, &["postalCode"]).map_err(&in_address)?,
    );
    Ok(())
}

/// telecom: the first phone (and the first email when the table has one).
fn telecom(v: &Value, with_email: bool, fields: &mut Fields) -> R<()> {
    let points = objects_at(v, &["telecom"])?;
    for (system, column) in [("phone", "phone"), ("email", "email")] {
        if column == "email" && !with_email {
            continue;
        }
        for point in &points {
            if str_at(point, &["system"]).map_err(within("telecom"))? == Some(system) {
                push(
                    fields,
                    column,
                    str_at(point, &["value"]).map_err(within("telecom"))?,
                );
                break;
            }
        }
    }
    Ok(())
}

/// The value of the first identifier of `system`.
fn identifier<'a>(v: &'a Value, system: &str) -> R<Option<&'a str>> {
    for identifier in objects_at(v, &["identifier"])? {
        if str_at(identifier, &["system"]).map_err(within("identifier"))? == Some(system) {
            return str_at(identifier, &["value"]).map_err(within("identifier"));
        }
    }
    Ok(None)
}

/// The value of the first identifier whose type has code `code` (v2-0203: MR, SS, ...).
fn identifier_of_type<'a>(v: &'a Value, code: &str) -> R<Option<&'a str>> {
    for identifier in objects_at(v, &["identifier"])? {
        if let Some(kind) = concept_at(identifier, &["type"]).map_err(within("identifier"))? {
            if kind.has_code(code) {
                return str_at(identifier, &["value"]).map_err(within("identifier"));
            }
        }
    }
    Ok(None)
}

/// A US Core race or ethnicity extension: its `text`, else the first OMB category's display
/// (else code).
fn us_core_category(v: &Value, url: &str) -> R<Option<String>> {
    for extension in objects_at(v, &["extension"])? {
        if extension.get("url").and_then(Value::as_str) != Some(url) {
            continue;
        }
        let parts = objects_at(extension, &["extension"]).map_err(within("extension"))?;
        let part = |name: &str| {
            parts
                .iter()
                .copied()
                .find(|p| p.get("url").and_then(Value::as_str) == Some(name))
        };
        if let Some(text) = part("text") {
            if let Some(text) = str_at(text, &["valueString"]).map_err(within("extension"))? {
                return Ok(Some(text.to_string()));
            }
        }
        if let Some(category) = part("ombCategory") {
            if let Some(coding) = obj_at(category, &["valueCoding"]).map_err(within("extension"))? {
                let coding = values::coding(coding, &["extension", "valueCoding"])?;
                return Ok(coding.display.or(coding.code).map(str::to_string));
            }
        }
    }
    Ok(None)
}
