//! Encounter, Condition, Procedure, MedicationRequest, AllergyIntolerance, Immunization.

use serde_json::Value;

use super::super::values::{
    amount_at, bool_at, choice_date, choice_timestamp, coding, concept_at, concepts_at, date_at,
    facility_at, first_at, first_concept_at, integer_at, list_at, number_at, obj_at, objects_at,
    reference_at, str_at, sys, timestamp_at, within, Concept, R,
};
use super::{required, Outcome, Row, Source};

/// Encounter.class codes (v3 ActCode) → the canonical encounter classes.
const ENCOUNTER_CLASSES: &[(&str, &str)] = &[
    ("AMB", "outpatient"),
    ("IMP", "inpatient"),
    ("ACUTE", "inpatient"),
    ("NONAC", "inpatient"),
    ("EMER", "emergency"),
    ("VR", "telehealth"),
    ("OBSENC", "observation"),
    ("PRENC", "outpatient"),
    ("SS", "outpatient"),
    ("HH", "home_health"),
    ("FLD", "field"),
];

fn patient_subject<'a>(v: &'a Value, element: &str) -> R<&'a str> {
    required(
        reference_at(v, &[element], &["Patient"])?,
        element,
        "a Patient",
    )
}

pub(crate) fn encounter(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("encounters", "encounter_id", src.id);
    row.set("patient_id", Some(patient_subject(v, "subject")?));
    let mut facility = None;
    for location in objects_at(v, &["location"])? {
        facility =
            facility_at(location, &["location"], &["Location"]).map_err(within("location"))?;
        if facility.is_some() {
            break;
        }
    }
    if facility.is_none() {
        facility = facility_at(v, &["serviceProvider"], &["Organization"])?;
    }
    row.set("facility_id", facility);

    let mut attending = None;
    for participant in objects_at(v, &["participant"])? {
        let Some(id) = reference_at(participant, &["individual"], &["Practitioner"])
            .map_err(within("participant"))?
        else {
            continue;
        };
        let is_attender = concepts_at(participant, &["type"])
            .map_err(within("participant"))?
            .iter()
            .any(|t| t.has_code("ATND"));
        if is_attender {
            attending = Some(id);
            break;
        }
        attending = attending.or(Some(id));
    }
    row.set("attending_provider_id", attending);

    if let Some(class) = obj_at(v, &["class"])? {
        let class = coding(class, &["class"])?;
        if let Some(code) = class.code {
            let canonical = ENCOUNTER_CLASSES
                .iter()
                .find(|(fhir, _)| *fhir == code)
                .map_or(code, |(_, canonical)| *canonical);
            row.set("encounter_class", Some(canonical));
        }
    }
    if let Some(kind) = first_concept_at(v, &["type"])? {
        row.code("encounter_type", kind.preferred(&[sys::SNOMED, sys::CPT]));
    }
    row.set("status", str_at(v, &["status"])?);
    row.set("start_datetime", timestamp_at(v, &["period", "start"])?);
    row.set("end_datetime", timestamp_at(v, &["period", "end"])?);
    if let Some(source) = concept_at(v, &["hospitalization", "admitSource"])? {
        row.code("admission_source", source.preferred(&[]));
    }
    if let Some(disposition) = concept_at(v, &["hospitalization", "dischargeDisposition"])? {
        row.code("discharge_disposition", disposition.preferred(&[]));
    }
    if let Some(reason) = first_concept_at(v, &["reasonCode"])? {
        row.code(
            "reason_code",
            reason.preferred(&[sys::ICD10CM, sys::ICD10, sys::SNOMED]),
        );
        row.set("chief_complaint", reason.label());
    }
    Ok(Outcome::Rows(vec![row]))
}

/// The required `code` of a resource and the coding used for it.
fn required_code<'a>(v: &'a Value, systems: &[&str]) -> R<(Concept<'a>, super::Coding<'a>)> {
    let code = concept_at(v, &["code"])?.ok_or("code is required")?;
    let coding = code
        .preferred(systems)
        .ok_or("code must have a coding with a code")?;
    Ok((code, coding))
}

pub(crate) fn condition(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("diagnoses", "diagnosis_id", src.id);
    row.set("patient_id", Some(patient_subject(v, "subject")?));
    row.set(
        "encounter_id",
        reference_at(v, &["encounter"], &["Encounter"])?,
    );
    let (code, coding) = required_code(v, &[sys::ICD10CM, sys::ICD10, sys::SNOMED])?;
    row.coded("code", Some(coding));
    row.set("description", coding.display.or(code.text));
    if let Some(category) = first_concept_at(v, &["category"])? {
        row.set("diagnosis_type", category.code());
    }
    if let Some(status) = concept_at(v, &["clinicalStatus"])? {
        row.set("clinical_status", status.code());
    }
    row.set("onset_date", choice_date(v, "onset")?);
    row.set("abatement_date", choice_date(v, "abatement")?);
    Ok(Outcome::Rows(vec![row]))
}

pub(crate) fn procedure(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("procedures", "procedure_id", src.id);
    row.set("patient_id", Some(patient_subject(v, "subject")?));
    row.set(
        "encounter_id",
        reference_at(v, &["encounter"], &["Encounter"])?,
    );
    let (code, coding) = required_code(v, &[sys::CPT, sys::HCPCS, sys::ICD10PCS, sys::SNOMED])?;
    row.coded("code", Some(coding));
    row.set("description", coding.display.or(code.text));
    row.set("status", str_at(v, &["status"])?);
    row.set("performed_datetime", choice_timestamp(v, "performed")?);
    for performer in objects_at(v, &["performer"])? {
        let actor =
            reference_at(performer, &["actor"], &["Practitioner"]).map_err(within("performer"))?;
        if actor.is_some() {
            row.set("performer_provider_id", actor);
            break;
        }
    }
    if let Some(site) = first_concept_at(v, &["bodySite"])? {
        row.set("body_site", site.label());
    }
    Ok(Outcome::Rows(vec![row]))
}

/// Immunization → immunizations: vaccineCode (CVX preferred) → vaccine_code + code_system +
/// vaccine_name; occurrence; lot, expiration, site, route, doseQuantity; performer actor
/// (Practitioner); location (a Location facility, `Location/{id}`).
pub(crate) fn immunization(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("immunizations", "immunization_id", src.id);
    row.set("patient_id", Some(patient_subject(v, "patient")?));
    row.set(
        "encounter_id",
        reference_at(v, &["encounter"], &["Encounter"])?,
    );
    let vaccine = concept_at(v, &["vaccineCode"])?.ok_or("vaccineCode is required")?;
    let coding = vaccine
        .preferred(&[sys::CVX])
        .ok_or("vaccineCode must have a coding with a code")?;
    row.coded("vaccine_code", Some(coding));
    row.set("vaccine_name", coding.display.or(vaccine.text));
    row.set("status", str_at(v, &["status"])?);
    row.set("occurrence_datetime", choice_timestamp(v, "occurrence")?);
    row.set("primary_source", bool_at(v, &["primarySource"])?);
    row.set("lot_number", str_at(v, &["lotNumber"])?);
    row.set("expiration_date", date_at(v, &["expirationDate"])?);
    if let Some(site) = concept_at(v, &["site"])? {
        row.code("site", site.preferred(&[]));
    }
    if let Some(route) = concept_at(v, &["route"])? {
        row.code("route", route.preferred(&[]));
    }
    row.set("dose_quantity", number_at(v, &["doseQuantity", "value"])?);
    for performer in objects_at(v, &["performer"])? {
        let actor =
            reference_at(performer, &["actor"], &["Practitioner"]).map_err(within("performer"))?;
        if actor.is_some() {
            row.set("performer_provider_id", actor);
            break;
        }
    }
    row.set("facility_id", facility_at(v, &["location"], &["Location"])?);
    Ok(Outcome::Rows(vec![row]))
}

pub(crate) fn medication_request(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let patient = patient_subject(v, "subject")?;
    let (medication, reference_name) = medication(v)?;
    let rxnorm = medication.as_ref().and_then(|m| m.in_system(sys::RXNORM));
    let ndc = medication.as_ref().and_then(|m| m.in_system(sys::NDC));
    let drug_name = rxnorm
        .and_then(|c| c.display)
        .or(medication.as_ref().and_then(Concept::label))
        .or(reference_name)
        .ok_or(
            "medicationCodeableConcept (or medicationReference) is required: \
             nothing names the drug",
        )?;
    let prescriber = reference_at(v, &["requester"], &["Practitioner"])?;
    let written = date_at(v, &["authoredOn"])?;
    let status = str_at(v, &["status"])?;

    let mut row = Row::primary("medications", "medication_id", src.id);
    row.set("patient_id", Some(patient));
    row.set(
        "encounter_id",
        reference_at(v, &["encounter"], &["Encounter"])?,
    );
    row.set("rxnorm_code", rxnorm.and_then(|c| c.code));
    row.set("ndc", ndc.and_then(|c| c.code));
    row.set("drug_name", Some(drug_name));
    row.set("status", status);
    row.set("start_date", written.clone());
    row.set("prescriber_provider_id", prescriber);
    if let Some(reason) = first_concept_at(v, &["reasonCode"])? {
        row.code(
            "indication_code",
            reason.preferred(&[sys::ICD10CM, sys::ICD10, sys::SNOMED]),
        );
    }
    if let Some(dosage) = first_at(v, &["dosageInstruction"])? {
        dosage_instruction(dosage, &mut row).map_err(within("dosageInstruction"))?;
    }
    let mut rows = vec![row];

    if let Some(dispense) = obj_at(v, &["dispenseRequest"])? {
        let in_dispense = within("dispenseRequest");
        let mut rx = Row::derived("prescriptions", "prescription_id", src.id);
        rx.set("patient_id", Some(patient));
        rx.set("prescriber_provider_id", prescriber);
        rx.set("rxnorm_code", rxnorm.and_then(|c| c.code));
        rx.set("ndc", ndc.and_then(|c| c.code));
        rx.set("drug_name", Some(drug_name));
        rx.set(
            "quantity",
            amount_at(dispense, &["quantity"]).map_err(&in_dispense)?,
        );
        rx.set("days_supply", supply_days(dispense).map_err(&in_dispense)?);
        rx.set(
            "refills_authorized",
            integer_at(dispense, &["numberOfRepeatsAllowed"]).map_err(&in_dispense)?,
        );
        rx.set("written_date", written);
        rx.set("status", status);
        // NCPDP DAW: 0 = substitution allowed, 1 = prescriber requires the product as written.
        if let Some(allowed) = bool_at(v, &["substitution", "allowedBoolean"])? {
            rx.set("daw_code", Some(if allowed { "0" } else { "1" }));
        }
        rows.push(rx);
    }
    Ok(Outcome::Rows(rows))
}

/// The drug's CodeableConcept (medicationCodeableConcept, or the code of a contained
/// Medication) and, for a reference to a Medication resource, its display.
fn medication(v: &Value) -> R<(Option<Concept<'_>>, Option<&str>)> {
    if let Some(concept) = concept_at(v, &["medicationCodeableConcept"])? {
        return Ok((Some(concept), None));
    }
    let Some(reference) = obj_at(v, &["medicationReference"])? else {
        return Ok((None, None));
    };
    let display = str_at(reference, &["display"]).map_err(within("medicationReference"))?;
    let text = str_at(reference, &["reference"]).map_err(within("medicationReference"))?;
    if let Some(local) = text.and_then(|t| t.strip_prefix('#')) {
        for contained in objects_at(v, &["contained"])? {
            if contained.get("id").and_then(Value::as_str) == Some(local) {
                let code = concept_at(contained, &["code"]).map_err(within("contained"))?;
                return Ok((code, display));
            }
        }
        return Err(format!(
            "medicationReference '#{local}' names no contained resource"
        ));
    }
    Ok((None, display))
}

fn dosage_instruction(dosage: &Value, row: &mut Row) -> R<()> {
    let text = str_at(dosage, &["text"])?;
    let mut dose = None;
    if let Some(rate) = first_at(dosage, &["doseAndRate"])? {
        if let Some(quantity) = obj_at(rate, &["doseQuantity"]).map_err(within("doseAndRate"))? {
            let in_quantity = within("doseAndRate.doseQuantity");
            let value = amount_at(quantity, &[]).map_err(&in_quantity)?;
            let unit = match str_at(quantity, &["unit"]).map_err(&in_quantity)? {
                Some(unit) => Some(unit),
                None => str_at(quantity, &["code"]).map_err(&in_quantity)?,
            };
            dose = value.map(|value| match unit {
                Some(unit) => format!("{value} {unit}"),
                None => value.to_string(),
            });
        }
    }
    row.set("dose", dose.or(text.map(str::to_string)));
    if let Some(route) = concept_at(dosage, &["route"])? {
        row.code("route", route.preferred(&[sys::SNOMED]));
    }
    let timing_code = concept_at(dosage, &["timing", "code"])?;
    let frequency = match timing_code.as_ref().and_then(Concept::label) {
        Some(label) => Some(label.to_string()),
        None => repeat_frequency(dosage)?,
    };
    row.set("frequency", frequency.or(text.map(str::to_string)));
    row.set(
        "end_date",
        date_at(dosage, &["timing", "repeat", "boundsPeriod", "end"])?,
    );
    Ok(())
}

/// timing.repeat frequency / period / periodUnit as words: `2 times per day`,
/// `1 time per 8 hours`.
fn repeat_frequency(dosage: &Value) -> R<Option<String>> {
    let Some(repeat) = obj_at(dosage, &["timing", "repeat"])? else {
        return Ok(None);
    };
    let in_repeat = within("timing.repeat");
    let frequency = integer_at(repeat, &["frequency"]).map_err(&in_repeat)?;
    let period = number_at(repeat, &["period"]).map_err(&in_repeat)?;
    let unit = str_at(repeat, &["periodUnit"]).map_err(&in_repeat)?;
    let (Some(frequency), Some(period), Some(unit)) = (frequency, period, unit) else {
        return Ok(None);
    };
    let unit = match unit {
        "s" => "second",
        "min" => "minute",
        "h" => "hour",
        "d" => "day",
        "wk" => "week",
        "mo" => "month",
        "a" => "year",
        other => other,
    };
    let times = if frequency == 1 { "time" } else { "times" };
    Ok(Some(if period.as_f64() == Some(1.0) {
        format!("{frequency} {times} per {unit}")
    } else {
        format!("{frequency} {times} per {period} {unit}s")
    }))
}

/// expectedSupplyDuration in whole days (units d, wk; UCUM code or unit text).
fn supply_days(dispense: &Value) -> R<Option<i64>> {
    let Some(duration) = obj_at(dispense, &["expectedSupplyDuration"])? else {
        return Ok(None);
    };
    let in_duration = within("expectedSupplyDuration");
    let Some(value) = amount_at(duration, &[]).map_err(&in_duration)? else {
        return Ok(None);
    };
    let unit = match str_at(duration, &["code"]).map_err(&in_duration)? {
        Some(code) => code,
        None => str_at(duration, &["unit"])
            .map_err(&in_duration)?
            .unwrap_or("d"),
    };
    let factor = match unit {
        "d" | "day" | "days" => 1.0,
        "wk" | "week" | "weeks" => 7.0,
        other => {
            return Err(format!(
            "expectedSupplyDuration unit '{other}' cannot be converted to days (supported: d, wk)"
        ))
        }
    };
    let days = value.as_f64().unwrap_or(f64::NAN) * factor;
    if (0.0..1e9).contains(&days) {
        Ok(Some(days.round() as i64))
    } else {
        Err(format!(
            "expectedSupplyDuration.value {value} is not a number of days"
        ))
    }
}

pub(crate) fn allergy(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("allergies", "allergy_id", src.id);
    row.set("patient_id", Some(patient_subject(v, "patient")?));
    let code = concept_at(v, &["code"])?.ok_or("code is required (the allergen)")?;
    row.set("allergen", code.label());
    row.code("allergen_code", code.preferred(&[sys::SNOMED, sys::RXNORM]));
    let categories = list_at(v, &["category"])?;
    if let Some(first) = categories.first() {
        row.set(
            "category",
            Some(first.as_str().ok_or("category must be a list of codes")?),
        );
    }
    row.set("criticality", str_at(v, &["criticality"])?);
    if let Some(status) = concept_at(v, &["clinicalStatus"])? {
        row.set("clinical_status", status.code());
    }
    row.set("onset_date", choice_date(v, "onset")?);

    let mut manifestations: Vec<&str> = Vec::new();
    let mut severity: Option<&str> = None;
    let rank = |s: &str| ["mild", "moderate", "severe"].iter().position(|x| *x == s);
    for reaction in objects_at(v, &["reaction"])? {
        for manifestation in
            concepts_at(reaction, &["manifestation"]).map_err(within("reaction"))?
        {
            if let Some(label) = manifestation.label() {
                if !manifestations.contains(&label) {
                    manifestations.push(label);
                }
            }
        }
        if let Some(s) = str_at(reaction, &["severity"]).map_err(within("reaction"))? {
            if severity.is_none_or(|current| rank(s) > rank(current)) {
                severity = Some(s);
            }
        }
    }
    if !manifestations.is_empty() {
        row.set("reaction", Some(manifestations.join("; ")));
    }
    row.set("severity", severity);
    Ok(Outcome::Rows(vec![row]))
}
