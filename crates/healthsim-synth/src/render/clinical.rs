//! Rendering the clinical tables of a person: encounters with their vitals, diagnoses and lab
//! results, and medications.

use crate::plan::calendar::Day;
use crate::plan::person::Demographics;
use crate::plan::{round_to, Gender, Person};
use crate::vocab::pharmacy::DRUGS;

use super::text::{encounter_id, facility_id, patient_id, pid, provider_id};
use super::Emit;

pub(super) fn encounters(p: &Person, d: &Demographics, e: &mut impl Emit) {
    let ix = p.index;
    let pat = patient_id(ix);
    let pat = pat.as_str();
    let female = d.gender == Gender::F;
    let mut vital_cursor = 0;
    let mut lab_cursor = 0;
    for (n, enc) in p.encounters.iter().enumerate() {
        let enc_id = encounter_id(ix, n);
        let enc_id = enc_id.as_str();
        if e.wants("encounters") {
            e.begin("encounters", 14);
            e.str("encounter_id", enc_id);
            e.str("patient_id", pat);
            e.str("facility_id", facility_id(enc.facility).as_str());
            e.str("attending_provider_id", provider_id(enc.provider).as_str());
            e.str("encounter_class", enc.class.code());
            e.str("encounter_type", enc.kind);
            e.str("status", "finished");
            e.ts("start_datetime", enc.start);
            e.ts("end_datetime", enc.end);
            e.opt_str("admission_source", enc.admission_source);
            e.str("chief_complaint", enc.complaint);
            e.str("reason_code", enc.reason_code);
            e.opt_str("drg_code", enc.drg);
            e.opt_str("discharge_disposition", enc.disposition);
            e.end();
        }
        while let Some(v) = p.vitals.get(vital_cursor).filter(|v| v.encounter == n) {
            vital_cursor += 1;
            if e.wants("vitals") {
                e.begin("vitals", 14);
                e.str("vital_id", pid("vit-", ix, n + 1, 2).as_str());
                e.str("patient_id", pat);
                e.str("encounter_id", enc_id);
                e.ts("observation_datetime", v.at);
                e.num("height_cm", v.height_cm);
                e.num("weight_kg", v.weight_kg);
                let m = v.height_cm / 100.0;
                e.num("bmi", round_to(v.weight_kg / (m * m), 1));
                e.int("systolic_bp", v.systolic);
                e.int("diastolic_bp", v.diastolic);
                e.int("heart_rate", v.heart_rate);
                e.int("respiratory_rate", v.respiratory_rate);
                e.num("temperature_c", v.temperature_c);
                e.num("spo2", v.spo2);
                e.int("pain_score", v.pain);
                e.end();
            }
        }
        if e.wants("diagnoses") {
            for k in enc.dx.0..enc.dx.1 {
                let dx = &p.diagnoses[k];
                e.begin("diagnoses", 11);
                e.str("diagnosis_id", pid("dx-", ix, k + 1, 2).as_str());
                e.str("patient_id", pat);
                e.str("encounter_id", encounter_id(ix, dx.encounter).as_str());
                e.str("code", dx.code);
                e.str("code_system", "ICD-10-CM");
                e.str("description", dx.description);
                e.str(
                    "diagnosis_type",
                    if dx.principal {
                        "principal"
                    } else {
                        "secondary"
                    },
                );
                e.str(
                    "clinical_status",
                    if dx.abatement.is_some() {
                        "resolved"
                    } else {
                        "active"
                    },
                );
                if dx.present_on_admission {
                    e.str("present_on_admission", "Y");
                }
                e.date("onset_date", dx.onset);
                e.opt_date("abatement_date", dx.abatement);
                e.end();
            }
        }
        while let Some(lab) = p.labs.get(lab_cursor).filter(|l| l.encounter == n) {
            lab_cursor += 1;
            if e.wants("lab_results") {
                let t = lab.test;
                let (low, high) = t.range[usize::from(!female)];
                let interpretation = match (low, high) {
                    (Some(l), _) if lab.value < l => "L",
                    (_, Some(h)) if lab.value > h => "H",
                    _ => "N",
                };
                e.begin("lab_results", 14);
                e.str("lab_result_id", pid("lab-", ix, lab_cursor, 3).as_str());
                e.str("patient_id", pat);
                e.str("encounter_id", enc_id);
                e.str("loinc_code", t.loinc);
                e.str("test_name", t.name);
                e.num("value_numeric", lab.value);
                e.str("unit", t.unit);
                if let Some(l) = low {
                    e.num("reference_low", l);
                }
                if let Some(h) = high {
                    e.num("reference_high", h);
                }
                e.str("interpretation", interpretation);
                e.str("status", "final");
                e.ts("collected_datetime", lab.collected);
                e.ts("resulted_datetime", lab.resulted);
                e.end();
            }
        }
    }
}

pub(super) fn medications(p: &Person, as_of: Day, e: &mut impl Emit) {
    if !e.wants("medications") {
        return;
    }
    let ix = p.index;
    for (m, med) in p.medications.iter().enumerate() {
        let drug = &DRUGS[med.drug];
        e.begin("medications", 14);
        e.str("medication_id", pid("med-", ix, m + 1, 2).as_str());
        e.str("patient_id", patient_id(ix).as_str());
        e.str("encounter_id", encounter_id(ix, med.encounter).as_str());
        e.str("rxnorm_code", drug.rxnorm);
        e.str("ndc", drug.ndc);
        e.str("drug_name", drug.name);
        e.str("dose", drug.dose);
        e.str("route", drug.route);
        e.str("frequency", drug.frequency);
        let status = match med.end {
            Some(end) if end < as_of => "completed",
            _ => "active",
        };
        e.str("status", status);
        e.date("start_date", med.start);
        e.opt_date("end_date", med.end);
        e.str(
            "prescriber_provider_id",
            provider_id(med.prescriber).as_str(),
        );
        e.str("indication_code", med.indication);
        e.end();
    }
}
