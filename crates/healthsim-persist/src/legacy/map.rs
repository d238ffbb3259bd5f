//! Python HealthSim entities → JSON entities of our canonical types. Pure: no database.
//!
//! The Python code stored each entity type in a table of its own (`patients`, `encounters`,
//! `lab_results`, `vital_signs`, ...) and, for saved cohorts, as JSON in its state table. Both
//! come here as JSON objects under the legacy type name. [`LEGACY_TYPES`] says, per legacy
//! type, which of our types it becomes and which fields are renamed; everything else passes
//! unchanged to persist's own conversion ([`crate::input::convert`]), which maps what it knows
//! and keeps the rest in `extra`.
//!
//! Identity and references. Our primary key takes the legacy primary key (`id`,
//! `encounter_id`, `claim_id`, `prescription_number`), so ids the user knows stay the same.
//! The Python tables referred to patients by MRN, to members by their member number and to
//! trial subjects by USUBJID, not by those keys; [`Lookups`] resolves such a reference to the
//! target's key within the same scenario, so our `patient_id`, `member_id` and `subject_id`
//! references resolve. A value that names no entity of the scenario is kept as given (and
//! counted as unresolved in the report).
//!
//! Values: a Fahrenheit `temperature` becomes `temperature_c` (the reading kept as
//! `temperature_f`); a lab `value` that is a number goes to `value_numeric`, else to
//! `value_text`, and a `reference_range` of the form `low-high` also fills `reference_low` and
//! `reference_high`; JSON lists of modifiers or diagnosis pointers become comma-separated text.
//! Nested model shapes (`name: {given_name, ...}`, `address: {street_address, ...}`,
//! `contact: {phone, email}`) are lifted to the top level.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

/// How one legacy entity type becomes one of ours.
#[derive(Debug)]
pub struct LegacyType {
    /// The legacy table name first, then the names the Python code's JSON used for it.
    pub names: &'static [&'static str],
    /// Our entity type (table name), or `None` when we have no counterpart: its entities are
    /// reported as skipped.
    pub target: Option<&'static str>,
    /// Field renames, legacy → ours. A rename to a name of ours that is a key moves the value.
    pub renames: &'static [(&'static str, &'static str)],
    /// References by a business key: (legacy field, our field, lookup).
    pub references: &'static [(&'static str, &'static str, Lookup)],
    /// Why there is no counterpart (when `target` is `None`).
    pub why_not: &'static str,
}

/// Which lookup resolves a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// A patient's MRN → its id.
    PatientByMrn,
    /// A member's member number → its id.
    MemberByNumber,
    /// A trial subject's USUBJID → its id.
    SubjectByUsubjid,
}

/// Person-like types share the lifted name, address and contact fields.
const PERSON_RENAMES: &[(&str, &str)] = &[
    ("street_address", "address"),
    ("death_date", "deceased_date"),
];

/// Every legacy type the Python HealthSim had a table or a JSON list for.
pub static LEGACY_TYPES: &[LegacyType] = &[
    LegacyType {
        names: &["patients", "patient"],
        target: Some("patients"),
        renames: PERSON_RENAMES,
        references: &[],
        why_not: "",
    },
    LegacyType {
        names: &["encounters", "encounter"],
        target: Some("encounters"),
        renames: &[
            ("class_code", "encounter_class"),
            ("admission_time", "start_datetime"),
            ("discharge_time", "end_datetime"),
        ],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["diagnoses", "diagnosis"],
        target: Some("diagnoses"),
        renames: &[
            ("type", "diagnosis_type"),
            ("diagnosed_date", "onset_date"),
            ("resolved_date", "abatement_date"),
        ],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["procedures", "procedure"],
        target: Some("procedures"),
        renames: &[("performed_date", "performed_datetime")],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["medications", "medication"],
        target: Some("medications"),
        renames: &[("name", "drug_name")],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["lab_results", "lab_result"],
        target: Some("lab_results"),
        renames: &[
            ("abnormal_flag", "interpretation"),
            ("collected_time", "collected_datetime"),
            ("resulted_time", "resulted_datetime"),
        ],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["vital_signs", "vital_sign", "vitals"],
        target: Some("vitals"),
        renames: &[("observation_time", "observation_datetime")],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["members", "member"],
        target: Some("members"),
        renames: &[
            ("member_id", "legacy_member_id"),
            ("street_address", "address"),
            ("group_id", "group_number"),
            ("coverage_start", "coverage_start_date"),
            ("coverage_end", "coverage_end_date"),
        ],
        references: &[],
        why_not: "",
    },
    LegacyType {
        names: &["claims", "claim"],
        target: Some("claims"),
        renames: &[
            ("total_charge", "total_billed"),
            ("member_responsibility", "total_patient_resp"),
        ],
        references: &[("member_id", "member_id", Lookup::MemberByNumber)],
        why_not: "",
    },
    LegacyType {
        names: &["claim_lines", "claim_line"],
        target: Some("claim_lines"),
        renames: &[
            ("charge_amount", "billed_amount"),
            ("ndc_code", "ndc"),
            ("diagnosis_pointers", "diagnosis_pointer"),
        ],
        references: &[],
        why_not: "",
    },
    LegacyType {
        names: &["prescriptions", "prescription"],
        target: Some("prescriptions"),
        renames: &[
            ("prescription_number", "prescription_id"),
            ("quantity_prescribed", "quantity"),
        ],
        references: &[("patient_mrn", "patient_id", Lookup::PatientByMrn)],
        why_not: "",
    },
    LegacyType {
        names: &["pharmacy_claims", "pharmacy_claim"],
        target: Some("pharmacy_claims"),
        renames: &[
            ("claim_id", "pharmacy_claim_id"),
            ("prescription_number", "prescription_id"),
            ("service_date", "fill_date"),
            ("ingredient_cost_submitted", "ingredient_cost"),
            ("dispensing_fee_submitted", "dispensing_fee"),
        ],
        references: &[],
        why_not: "",
    },
    LegacyType {
        names: &["subjects", "subject"],
        target: Some("subjects"),
        renames: &[("subject_id", "subjid"), ("street_address", "address")],
        references: &[],
        why_not: "",
    },
    LegacyType {
        names: &["adverse_events", "adverse_event"],
        target: Some("adverse_events"),
        renames: &[("aetoxgr", "ctcae_grade")],
        references: &[("usubjid", "subject_id", Lookup::SubjectByUsubjid)],
        why_not: "",
    },
    LegacyType {
        names: &["trial_visits", "trial_visit"],
        target: Some("actual_visits"),
        renames: &[("visit_status", "status")],
        references: &[("usubjid", "subject_id", Lookup::SubjectByUsubjid)],
        why_not: "",
    },
    LegacyType {
        names: &["orders", "order"],
        target: None,
        renames: &[],
        references: &[],
        why_not: "no entity type of ours holds orders",
    },
    LegacyType {
        names: &["clinical_notes", "clinical_note"],
        target: None,
        renames: &[],
        references: &[],
        why_not: "no entity type of ours holds clinical notes",
    },
    LegacyType {
        names: &["exposures", "exposure"],
        target: None,
        renames: &[],
        references: &[],
        why_not: "no entity type of ours holds study drug exposures",
    },
    LegacyType {
        names: &["pcp_assignments", "pcp_assignment"],
        target: None,
        renames: &[],
        references: &[],
        why_not: "no entity type of ours holds PCP assignments (members.pcp_provider_id names a provider of the scenario)",
    },
];

/// The legacy type for a table or JSON type name (exact, then lowercased).
pub fn legacy_type(name: &str) -> Option<&'static LegacyType> {
    let lower = name.to_ascii_lowercase();
    LEGACY_TYPES
        .iter()
        .find(|t| t.names.contains(&name) || t.names.contains(&lower.as_str()))
}

/// The legacy tables a database may hold entities in: the first name of every legacy type.
pub fn legacy_tables() -> impl Iterator<Item = &'static str> {
    LEGACY_TYPES.iter().filter_map(|t| t.names.first().copied())
}

/// Business key → legacy id, per lookup, within one scenario.
#[derive(Debug, Default)]
pub struct Lookups {
    keys: HashMap<(Lookup, String), String>,
}

impl Lookups {
    /// Learns the keys `entity` of legacy type `t` can be referred to by.
    pub fn learn(&mut self, t: &LegacyType, entity: &Map<String, Json>) {
        let Some(id) = entity.get("id").and_then(text) else {
            return;
        };
        let (lookup, field) = match t.target {
            Some("patients") => (Lookup::PatientByMrn, "mrn"),
            Some("members") => (Lookup::MemberByNumber, "member_id"),
            Some("subjects") => (Lookup::SubjectByUsubjid, "usubjid"),
            _ => return,
        };
        if let Some(key) = entity.get(field).and_then(text) {
            self.keys.entry((lookup, key)).or_insert(id);
        }
    }

    fn resolve(&self, lookup: Lookup, key: &str) -> Option<&String> {
        self.keys.get(&(lookup, key.to_string()))
    }
}

/// A legacy entity mapped to one of ours.
#[derive(Debug)]
pub struct Mapped {
    /// The JSON entity for persist.
    pub entity: Map<String, Json>,
    /// References whose key names no entity of the scenario: (our field, value).
    pub unresolved: Vec<(&'static str, String)>,
}

/// Maps a legacy entity of type `t` (which has a target) into our shape.
pub fn map_entity(t: &LegacyType, mut entity: Map<String, Json>, lookups: &Lookups) -> Mapped {
    lift_nested(&mut entity);
    let mut unresolved = Vec::new();
    for (legacy, ours, lookup) in t.references {
        let Some(value) = entity.get(*legacy).and_then(text) else {
            continue;
        };
        let resolved = match lookups.resolve(*lookup, &value) {
            Some(id) => id.clone(),
            None => {
                unresolved.push((*ours, value.clone()));
                value.clone()
            }
        };
        // The business key stays in `extra`: under its legacy name, or `legacy_<name>` when
        // our reference column has that name.
        if legacy == ours {
            entity.insert(format!("legacy_{legacy}"), Json::String(value));
        }
        entity.insert((*ours).to_string(), Json::String(resolved));
    }
    for (legacy, ours) in t.renames {
        if let Some(value) = entity.remove(*legacy) {
            entity.entry((*ours).to_string()).or_insert(value);
        }
    }
    match t.target {
        Some("vitals") => fahrenheit_to_celsius(&mut entity),
        Some("lab_results") => split_lab_value(&mut entity),
        Some("prescriptions") => {
            if let Some(id) = entity.get("prescription_id").cloned() {
                entity.entry("rx_number").or_insert(id);
            }
        }
        _ => {}
    }
    for list_field in ["procedure_modifiers", "diagnosis_pointer"] {
        if let Some(Json::Array(items)) = entity.get(list_field) {
            let joined = items
                .iter()
                .map(|v| text(v).unwrap_or_else(|| v.to_string()))
                .collect::<Vec<_>>()
                .join(",");
            entity.insert(list_field.to_string(), Json::String(joined));
        }
    }
    Mapped { entity, unresolved }
}

/// Lifts the Python models' nested person fields to the top level (a top-level value wins);
/// what is left of a nested object stays under its key.
fn lift_nested(entity: &mut Map<String, Json>) {
    for (key, fields) in [
        (
            "name",
            &[
                "given_name",
                "middle_name",
                "family_name",
                "suffix",
                "prefix",
            ][..],
        ),
        (
            "address",
            &[
                "street_address",
                "street_address_2",
                "city",
                "state",
                "postal_code",
                "country",
            ][..],
        ),
        (
            "contact",
            &["phone", "phone_mobile", "phone_work", "email", "email_work"][..],
        ),
    ] {
        let Some(Json::Object(nested)) = entity.get_mut(key) else {
            continue;
        };
        if !fields.iter().any(|f| nested.contains_key(*f)) {
            continue;
        }
        let mut lifted = Vec::new();
        for field in fields {
            if let Some(value) = nested.remove(*field) {
                lifted.push(((*field).to_string(), value));
            }
        }
        let rest_is_empty = nested.is_empty();
        // What is left goes to `extra` as `<key>_extra`, apart from persist's own reading of
        // nested `name` and `address` shapes (and from our `address` column).
        if let Some(rest) = entity.remove(key) {
            if !rest_is_empty {
                entity.insert(format!("{key}_extra"), rest);
            }
        }
        for (field, value) in lifted {
            entity.entry(field).or_insert(value);
        }
    }
}

/// `temperature` in °F (the Python model's unit) → `temperature_c`, the reading kept as
/// `temperature_f`.
fn fahrenheit_to_celsius(entity: &mut Map<String, Json>) {
    let Some(value) = entity.remove("temperature") else {
        return;
    };
    if let Some(f) = number(&value) {
        let celsius = ((f - 32.0) * 5.0 / 9.0 * 100.0).round() / 100.0;
        if let Some(c) = serde_json::Number::from_f64(celsius) {
            entity.entry("temperature_c").or_insert(Json::Number(c));
        }
    }
    entity.insert("temperature_f".into(), value);
}

/// A lab `value` → `value_numeric` or `value_text`; `reference_range` `low-high` → bounds.
fn split_lab_value(entity: &mut Map<String, Json>) {
    if let Some(value) = entity.remove("value") {
        match number(&value) {
            Some(n) => {
                if let Some(n) = serde_json::Number::from_f64(n) {
                    entity.entry("value_numeric").or_insert(Json::Number(n));
                }
            }
            None => {
                entity.entry("value_text").or_insert(value);
            }
        }
    }
    let bounds = entity
        .get("reference_range")
        .and_then(Json::as_str)
        .and_then(|range| {
            let (low, high) = range.trim().split_once('-')?;
            Some((
                low.trim().parse::<f64>().ok()?,
                high.trim().parse::<f64>().ok()?,
            ))
        });
    if let Some((low, high)) = bounds {
        for (field, n) in [("reference_low", low), ("reference_high", high)] {
            if let Some(n) = serde_json::Number::from_f64(n) {
                entity.entry(field).or_insert(Json::Number(n));
            }
        }
    }
}

/// A string or number as text.
pub(crate) fn text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one.
fn number(value: &Json) -> Option<f64> {
    match value {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Json) -> Map<String, Json> {
        match value {
            Json::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn check(legacy: &str, entity: Json, lookups: &Lookups, expected: Json) {
        let t = legacy_type(legacy).expect("a legacy type");
        let mapped = map_entity(t, object(entity), lookups);
        assert_eq!(Json::Object(mapped.entity), expected, "{legacy}");
    }

    #[test]
    fn fields_are_renamed_lifted_and_converted() {
        let mut lookups = Lookups::default();
        lookups.learn(
            legacy_type("patients").expect("patients"),
            &object(json!({"id": "p-1", "mrn": "M1"})),
        );
        check(
            "patient",
            json!({"id": "p-1", "name": {"given_name": "A", "family_name": "B", "suffix": "Jr", "use": "official"},
                   "contact": {"phone": "1"}, "death_date": "2020-01-01"}),
            &lookups,
            json!({"id": "p-1", "given_name": "A", "family_name": "B", "suffix": "Jr",
                   "name_extra": {"use": "official"}, "phone": "1", "deceased_date": "2020-01-01"}),
        );
        check(
            "encounters",
            json!({"encounter_id": "e", "patient_mrn": "M1", "class_code": "I"}),
            &lookups,
            json!({"encounter_id": "e", "patient_mrn": "M1", "patient_id": "p-1", "encounter_class": "I"}),
        );
        check(
            "vital_signs",
            json!({"id": "v", "temperature": 212}),
            &lookups,
            json!({"id": "v", "temperature_c": 100.0, "temperature_f": 212}),
        );
        check(
            "lab_results",
            json!({"id": "l", "value": "7.5", "reference_range": "4.0-5.6"}),
            &lookups,
            json!({"id": "l", "value_numeric": 7.5, "reference_range": "4.0-5.6",
                   "reference_low": 4.0, "reference_high": 5.6}),
        );
        check(
            "lab_result",
            json!({"id": "l", "value": "positive", "reference_range": "negative"}),
            &lookups,
            json!({"id": "l", "value_text": "positive", "reference_range": "negative"}),
        );
        check(
            "claim_lines",
            json!({"id": "c", "procedure_modifiers": ["25", "59"], "diagnosis_pointers": [1, 2]}),
            &lookups,
            json!({"id": "c", "procedure_modifiers": "25,59", "diagnosis_pointer": "1,2"}),
        );
    }

    #[test]
    fn an_unknown_reference_is_kept_and_reported() {
        let t = legacy_type("diagnoses").expect("diagnoses");
        let mapped = map_entity(
            t,
            object(json!({"id": "d", "patient_mrn": "NOPE"})),
            &Lookups::default(),
        );
        assert_eq!(mapped.entity["patient_id"], "NOPE");
        assert_eq!(mapped.unresolved, [("patient_id", "NOPE".to_string())]);
    }

    #[test]
    fn every_target_is_one_of_our_types_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for t in LEGACY_TYPES {
            if let Some(target) = t.target {
                assert!(healthsim_schema::entity_type(target).is_ok(), "{target}");
            } else {
                assert!(!t.why_not.is_empty(), "{:?}", t.names);
            }
            for name in t.names {
                assert!(seen.insert(*name), "{name} twice");
            }
        }
    }
}
