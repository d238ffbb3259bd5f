//! Observation: laboratory → lab_results, vital-signs → vitals (units converted).

use serde_json::{Number, Value};

use super::super::values::{
    amount_at, bool_at, choice_timestamp, concept, concept_at, concepts_at, first_at,
    first_concept_at, integer_at, number_at, obj_at, objects_at, reference_at, str_at, sys,
    system_name, timestamp_at, within, R,
};
use super::{required, Outcome, Row, Source};

pub(crate) fn observation(src: &Source<'_>) -> R<Outcome> {
    let categories = concepts_at(src.resource, &["category"])?;
    let has = |code: &str| categories.iter().any(|c| c.has_code(code));
    if has("vital-signs") {
        vitals(src)
    } else if has("laboratory") {
        lab(src)
    } else {
        let codes: Vec<&str> = categories.iter().filter_map(|c| c.code()).collect();
        Ok(Outcome::Raw(Some(if codes.is_empty() {
            "Observation without a laboratory or vital-signs category".to_string()
        } else {
            format!("Observation category {} is not mapped", codes.join(", "))
        })))
    }
}

/// Both observation tables point at the patient (`subject`, required) and the encounter.
fn set_subject_and_encounter(row: &mut Row, v: &Value) -> R<()> {
    row.set(
        "patient_id",
        Some(required(
            reference_at(v, &["subject"], &["Patient"])?,
            "subject",
            "a Patient",
        )?),
    );
    row.set(
        "encounter_id",
        reference_at(v, &["encounter"], &["Encounter"])?,
    );
    Ok(())
}

fn lab(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("lab_results", "lab_result_id", src.id);
    set_subject_and_encounter(&mut row, v)?;
    let code = concept_at(v, &["code"])?.ok_or("code is required")?;
    let test = code
        .preferred(&[sys::LOINC])
        .ok_or("code must have a coding with a code")?;
    row.set("loinc_code", test.code);
    if let Some(system) = test.system.filter(|s| *s != sys::LOINC) {
        row.extra("loinc_code_system", system_name(system));
    }
    row.set("test_name", code.text.or(test.display).or(code.label()));

    if let Some(quantity) = obj_at(v, &["valueQuantity"])? {
        let in_quantity = within("valueQuantity");
        row.set(
            "value_numeric",
            amount_at(quantity, &[]).map_err(&in_quantity)?,
        );
        let unit = match str_at(quantity, &["unit"]).map_err(&in_quantity)? {
            Some(unit) => Some(unit),
            None => str_at(quantity, &["code"]).map_err(&in_quantity)?,
        };
        row.set("unit", unit);
        if let Some(comparator) = str_at(quantity, &["comparator"]).map_err(&in_quantity)? {
            row.extra("value_comparator", comparator);
        }
    } else if let Some(text) = str_at(v, &["valueString"])? {
        row.set("value_text", Some(text));
    } else if let Some(answer) = concept_at(v, &["valueCodeableConcept"])? {
        row.set("value_text", answer.label());
        if let Some(coding) = answer.preferred(&[sys::SNOMED, sys::LOINC]) {
            row.extra("value_code", coding.code.unwrap_or_default());
            if let Some(system) = coding.system {
                row.extra("value_code_system", system_name(system));
            }
        }
    } else if let Some(flag) = bool_at(v, &["valueBoolean"])? {
        row.set("value_text", Some(flag.to_string()));
    } else if let Some(count) = integer_at(v, &["valueInteger"])? {
        row.set("value_numeric", Some(count));
    }
    if let Some(range) = first_at(v, &["referenceRange"])? {
        let in_range = within("referenceRange");
        row.set(
            "reference_low",
            amount_at(range, &["low"]).map_err(&in_range)?,
        );
        row.set(
            "reference_high",
            amount_at(range, &["high"]).map_err(&in_range)?,
        );
    }
    if let Some(interpretation) = first_concept_at(v, &["interpretation"])? {
        row.set("interpretation", interpretation.code());
    }
    row.set("status", str_at(v, &["status"])?);
    row.set("collected_datetime", choice_timestamp(v, "effective")?);
    row.set("resulted_datetime", timestamp_at(v, &["issued"])?);
    Ok(Outcome::Rows(vec![row]))
}

/// How a unit converts to the column's unit.
#[derive(Clone, Copy)]
enum Convert {
    /// Multiply by a factor (1.0: already the column's unit).
    Scale(f64),
    /// Degrees Fahrenheit to Celsius.
    Fahrenheit,
    /// Kelvin to Celsius.
    Kelvin,
}

/// One vital-sign column: the LOINC codes that fill it and the units accepted.
struct Vital {
    column: &'static str,
    loinc: &'static [&'static str],
    units: &'static [(&'static str, Convert)],
    integer: bool,
}

const INCH: Convert = Convert::Scale(2.54);
const POUND: Convert = Convert::Scale(0.453_592_37);
const OUNCE: Convert = Convert::Scale(0.028_349_523_125);
const KPA_TO_MMHG: Convert = Convert::Scale(7.500_615_758);
const SAME: Convert = Convert::Scale(1.0);
const PER_MINUTE: &[(&str, Convert)] = &[
    ("/min", SAME),
    ("1/min", SAME),
    ("{beats}/min", SAME),
    ("beats/min", SAME),
    ("bpm", SAME),
    ("{breaths}/min", SAME),
    ("breaths/min", SAME),
];
const MM_HG: &[(&str, Convert)] = &[("mm[Hg]", SAME), ("mmHg", SAME), ("kPa", KPA_TO_MMHG)];

/// The vital signs mapped to columns (see the module table in `map`).
const VITALS: &[Vital] = &[
    Vital {
        column: "height_cm",
        loinc: &["8302-2", "8306-3", "8308-9"],
        units: &[
            ("cm", SAME),
            ("m", Convert::Scale(100.0)),
            ("mm", Convert::Scale(0.1)),
            ("[in_i]", INCH),
            ("[in_us]", INCH),
            ("in", INCH),
            ("[ft_i]", Convert::Scale(30.48)),
            ("ft", Convert::Scale(30.48)),
        ],
        integer: false,
    },
    Vital {
        column: "weight_kg",
        loinc: &["29463-7", "3141-9"],
        units: &[
            ("kg", SAME),
            ("g", Convert::Scale(0.001)),
            ("[lb_av]", POUND),
            ("lb", POUND),
            ("lbs", POUND),
            ("[oz_av]", OUNCE),
            ("oz", OUNCE),
        ],
        integer: false,
    },
    Vital {
        column: "bmi",
        loinc: &["39156-5"],
        units: &[("kg/m2", SAME), ("kg/m^2", SAME)],
        integer: false,
    },
    Vital {
        column: "heart_rate",
        loinc: &["8867-4"],
        units: PER_MINUTE,
        integer: true,
    },
    Vital {
        column: "respiratory_rate",
        loinc: &["9279-1"],
        units: PER_MINUTE,
        integer: true,
    },
    Vital {
        column: "temperature_c",
        loinc: &["8310-5", "8331-1"],
        units: &[
            ("Cel", SAME),
            ("°C", SAME),
            ("C", SAME),
            ("[degF]", Convert::Fahrenheit),
            ("°F", Convert::Fahrenheit),
            ("F", Convert::Fahrenheit),
            ("K", Convert::Kelvin),
        ],
        integer: false,
    },
    Vital {
        column: "spo2",
        loinc: &["2708-6", "59408-5"],
        units: &[("%", SAME)],
        integer: false,
    },
    Vital {
        column: "pain_score",
        loinc: &["72514-3"],
        units: &[("{score}", SAME), ("1", SAME), ("{Score}", SAME)],
        integer: true,
    },
    Vital {
        column: "systolic_bp",
        loinc: &["8480-6"],
        units: MM_HG,
        integer: true,
    },
    Vital {
        column: "diastolic_bp",
        loinc: &["8462-4"],
        units: MM_HG,
        integer: true,
    },
];

/// The vital a code stands for: a LOINC coding (or one without a system) with a mapped code.
fn vital_of(code: &super::super::values::Concept<'_>) -> Option<&'static Vital> {
    code.codings
        .iter()
        .filter(|c| c.system.is_none_or(|s| s == sys::LOINC))
        .filter_map(|c| c.code)
        .find_map(|code| VITALS.iter().find(|v| v.loinc.contains(&code)))
}

fn vitals(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("vitals", "vital_id", src.id);
    set_subject_and_encounter(&mut row, v)?;
    row.set("observation_datetime", choice_timestamp(v, "effective")?);

    // The observation's own value, then every component's (a blood-pressure panel).
    let mut measurements: Vec<(String, &Value)> = vec![(String::new(), v)];
    for (index, component) in objects_at(v, &["component"])?.into_iter().enumerate() {
        measurements.push((format!("component[{index}]."), component));
    }
    let mut unmapped: Vec<&str> = Vec::new();
    let mut mapped = 0;
    for (prefix, measurement) in measurements {
        let in_measurement = |e: String| format!("{prefix}{e}");
        let Some(code) = obj_at(measurement, &["code"]).map_err(in_measurement)? else {
            continue;
        };
        let code = concept(code, &[&format!("{prefix}code")])?;
        let Some(quantity) = obj_at(measurement, &["valueQuantity"]).map_err(in_measurement)?
        else {
            continue;
        };
        let Some(vital) = vital_of(&code) else {
            unmapped.extend(code.code());
            continue;
        };
        if row.get(vital.column).is_some() {
            continue;
        }
        let value = convert(vital, quantity).map_err(in_measurement)?;
        row.set(vital.column, value);
        mapped += 1;
    }
    if mapped == 0 {
        return Ok(Outcome::Raw(Some(if unmapped.is_empty() {
            "vital-signs Observation without a valueQuantity".to_string()
        } else {
            format!(
                "vital-signs Observation of LOINC {} has no vitals column",
                unmapped.join(", ")
            )
        })));
    }
    Ok(Outcome::Rows(vec![row]))
}

/// The valueQuantity in the column's unit.
fn convert(vital: &Vital, quantity: &Value) -> R<Option<Value>> {
    let in_quantity = within("valueQuantity");
    let Some(value) = number_at(quantity, &["value"]).map_err(&in_quantity)? else {
        return Ok(None);
    };
    let unit = match str_at(quantity, &["code"]).map_err(&in_quantity)? {
        Some(code) => Some(code),
        None => str_at(quantity, &["unit"]).map_err(&in_quantity)?,
    };
    let conversion = match unit {
        None | Some("") => SAME,
        Some(unit) => vital
            .units
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, conversion)| *conversion)
            .ok_or_else(|| {
                let names: Vec<&str> = vital.units.iter().map(|(name, _)| *name).collect();
                format!(
                    "valueQuantity unit '{unit}' cannot be converted for {} (supported: {})",
                    vital.column,
                    names.join(", ")
                )
            })?,
    };
    let number = value
        .as_f64()
        .ok_or_else(|| format!("valueQuantity.value {value} is out of range"))?;
    let converted = match conversion {
        Convert::Scale(1.0) => None,
        Convert::Scale(factor) => Some(number * factor),
        Convert::Fahrenheit => Some((number - 32.0) * 5.0 / 9.0),
        Convert::Kelvin => Some(number - 273.15),
    };
    if vital.integer {
        let whole = converted.unwrap_or(number).round();
        if !(whole.is_finite() && whole.abs() < 1e15) {
            return Err(format!("valueQuantity.value {value} is out of range"));
        }
        return Ok(Some(Value::from(whole as i64)));
    }
    match converted {
        None => Ok(Some(Value::Number(value))),
        Some(x) => Number::from_f64((x * 100.0).round() / 100.0)
            .map(|n| Some(Value::Number(n)))
            .ok_or_else(|| format!("valueQuantity.value {value} is out of range")),
    }
}
