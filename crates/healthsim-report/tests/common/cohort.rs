//! A deterministic multi-product cohort for the report's tests and timing example: the shape
//! `healthsim demo` persists (reference pools of providers, facilities, pharmacies and a trial;
//! then per person: person, patient, encounters with diagnoses, labs and medications, a
//! member with claims, a pharmacy member with prescriptions and fills, and for some diabetic
//! adults a trial subject with adverse events), written by hand because the generator lives
//! in the CLI crate, which the report must not depend on.
//!
//! Canonical column names, consistent references, plausible values: ages spread over 0–95,
//! encounter classes at realistic shares, chronic conditions at age-dependent prevalence, lab
//! values around their reference ranges (higher HbA1c and glucose for diabetics), billed ≥
//! allowed ≥ paid, fills of cheap generics and a few expensive brands.

#![allow(dead_code)]

use chrono::{Duration, NaiveDate};
use healthsim_persist::{EntityInput, PreparedEntities, Provenance, ScenarioTarget, Store};
use serde_json::{json, Map, Value as Json};

/// Tables in the order they are generated (every reference points at an earlier table).
pub(crate) const TABLES: [&str; 20] = [
    "providers",
    "facilities",
    "pharmacies",
    "studies",
    "sites",
    "treatment_arms",
    "persons",
    "patients",
    "encounters",
    "diagnoses",
    "lab_results",
    "medications",
    "members",
    "claims",
    "rx_members",
    "prescriptions",
    "pharmacy_claims",
    "subjects",
    "adverse_events",
    "accumulators",
];

/// The day the cohort is generated "as of" (ages, encounter window).
pub(crate) fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).expect("valid date")
}

/// SplitMix64: small, fast, and the same on every platform.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }

    /// Normal by Box–Muller.
    pub(crate) fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn timestamp(d: NaiveDate, minutes: i64) -> String {
    format!(
        "{}T{:02}:{:02}:00Z",
        day(d),
        (minutes / 60).clamp(0, 23),
        minutes % 60
    )
}

const STATES: [(&str, &str, &str, u32); 6] = [
    ("CA", "Los Angeles", "06037", 30),
    ("TX", "Houston", "48201", 22),
    ("FL", "Miami", "12086", 17),
    ("NY", "Brooklyn", "36047", 14),
    ("OH", "Columbus", "39049", 9),
    ("AZ", "Phoenix", "04013", 8),
];
const FEMALE_NAMES: [&str; 8] = [
    "Mary", "Linda", "Ana", "Grace", "Aisha", "Mei", "Rosa", "Emma",
];
const MALE_NAMES: [&str; 8] = [
    "James", "Luis", "Omar", "Wei", "John", "Carlos", "Ethan", "Raj",
];
const FAMILY_NAMES: [&str; 8] = [
    "Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Lee", "Brown", "Diaz",
];

/// Chronic conditions: code, description, prevalence under 45 / 45–64 / 65+, drug treating it.
const CONDITIONS: [(&str, &str, [f64; 3], Option<usize>); 6] = [
    (
        "I10",
        "Essential (primary) hypertension",
        [0.08, 0.33, 0.60],
        Some(1),
    ),
    (
        "E78.5",
        "Hyperlipidemia, unspecified",
        [0.06, 0.28, 0.45],
        Some(2),
    ),
    (
        "E11.9",
        "Type 2 diabetes mellitus without complications",
        [0.04, 0.14, 0.24],
        Some(0),
    ),
    (
        "J45.909",
        "Unspecified asthma, uncomplicated",
        [0.08, 0.07, 0.06],
        Some(3),
    ),
    (
        "F32.9",
        "Major depressive disorder, single episode",
        [0.07, 0.07, 0.05],
        Some(4),
    ),
    (
        "N18.3",
        "Chronic kidney disease, stage 3",
        [0.005, 0.04, 0.12],
        None,
    ),
];
const ACUTE: [(&str, &str); 4] = [
    ("J06.9", "Acute upper respiratory infection, unspecified"),
    ("M54.50", "Low back pain, unspecified"),
    ("R10.9", "Unspecified abdominal pain"),
    (
        "S93.401A",
        "Sprain of unspecified ligament of ankle, initial encounter",
    ),
];
/// Drugs: name, RxNorm, NDC, ingredient cost per fill.
const DRUGS: [(&str, &str, &str, f64); 6] = [
    ("metformin 500 MG Oral Tablet", "861007", "00093104801", 4.5),
    ("lisinopril 10 MG Oral Tablet", "314076", "00172375810", 3.2),
    (
        "atorvastatin 20 MG Oral Tablet",
        "617310",
        "00378201577",
        6.8,
    ),
    (
        "albuterol 0.09 MG/ACTUAT Inhaler",
        "745679",
        "00173068220",
        38.0,
    ),
    ("sertraline 50 MG Oral Tablet", "312940", "16714061204", 5.9),
    (
        "semaglutide 1 MG/DOSE Pen Injector",
        "1991306",
        "00169413212",
        935.0,
    ),
];
/// Lab tests: LOINC, name, unit, low, high, normal mean, sd.
const LABS: [(&str, &str, &str, f64, f64, f64, f64); 4] = [
    ("2345-7", "Glucose", "mg/dL", 70.0, 99.0, 88.0, 9.0),
    ("4548-4", "Hemoglobin A1c", "%", 4.0, 5.6, 5.2, 0.35),
    ("2160-0", "Creatinine", "mg/dL", 0.6, 1.2, 0.9, 0.15),
    (
        "2093-3",
        "Cholesterol, total",
        "mg/dL",
        125.0,
        200.0,
        185.0,
        30.0,
    ),
];
const CLASSES: [(&str, u32); 4] = [
    ("outpatient", 65),
    ("telehealth", 12),
    ("emergency", 13),
    ("inpatient", 7),
];
const AE_TERMS: [(&str, &str); 5] = [
    ("Nausea", "Gastrointestinal disorders"),
    ("Headache", "Nervous system disorders"),
    ("Diarrhoea", "Gastrointestinal disorders"),
    ("Hypoglycaemia", "Metabolism and nutrition disorders"),
    ("Fatigue", "General disorders"),
];

/// Entities per table, in [`TABLES`] order.
pub(crate) struct Cohort {
    pub(crate) tables: Vec<(&'static str, Vec<Json>)>,
}

impl Cohort {
    pub(crate) fn total(&self) -> usize {
        self.tables.iter().map(|(_, e)| e.len()).sum()
    }

    pub(crate) fn count(&self, table: &str) -> usize {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, e)| e.len())
    }
}

/// Generates `persons` persons (about 19 entities each) and the reference pools.
pub(crate) fn generate(persons: usize, seed: u64) -> Cohort {
    generate_part(persons, seed, 0..persons, true)
}

/// The persons `part` of a cohort of `persons` (the same entities as [`generate`] makes for
/// them), with the reference pools when `header`: large cohorts are generated and written
/// part by part.
pub(crate) fn generate_part(
    persons: usize,
    seed: u64,
    part: std::ops::Range<usize>,
    header: bool,
) -> Cohort {
    let mut out: Vec<(&'static str, Vec<Json>)> = TABLES.iter().map(|t| (*t, Vec::new())).collect();
    let mut push = |table: &str, entity: Json| {
        if let Some((_, list)) = out.iter_mut().find(|(t, _)| *t == table) {
            list.push(entity);
        }
    };
    let providers = (persons / 40).max(10);
    let facilities = (persons / 400).max(4);
    let pharmacies = (persons / 300).max(3);
    let mut rng = Rng::new(seed, u64::MAX);
    let sites = 3usize;
    let window_start = as_of() - Duration::days(730);
    let specialties = [
        "Family Medicine",
        "Internal Medicine",
        "Cardiology",
        "Endocrinology",
        "Emergency Medicine",
    ];
    if header {
        for p in 0..providers {
            push(
                "providers",
                json!({"provider_id": format!("prv-{:05}", p + 1), "npi": format!("1{:09}", 100 + p),
                       "given_name": rng.pick(&FEMALE_NAMES), "family_name": rng.pick(&FAMILY_NAMES),
                       "credential": "MD", "specialty": specialties[p % specialties.len()],
                       "state": STATES[p % STATES.len()].0}),
            );
        }
        for f in 0..facilities {
            let (state, city, fips, _) = STATES[f % STATES.len()];
            let kind = if f % 2 == 0 { "hospital" } else { "clinic" };
            push(
                "facilities",
                json!({"facility_id": format!("fac-{:04}", f + 1), "name": format!("{city} {} {}", if kind == "hospital" {"General Hospital"} else {"Family Clinic"}, f + 1),
                       "facility_type": kind, "npi": format!("19{:08}", f), "county_fips": fips,
                       "bed_count": if kind == "hospital" { 150 + f * 10 } else { 0 }, "city": city, "state": state}),
            );
        }
        for h in 0..pharmacies {
            push(
                "pharmacies",
                json!({"pharmacy_id": format!("phm-{:04}", h + 1), "ncpdp_id": format!("31{:05}", h),
                       "npi": format!("18{:08}", h), "name": format!("HealthSim Pharmacy {}", h + 1),
                       "pharmacy_type": if h == 0 { "mail_order" } else { "retail" }, "state": STATES[h % STATES.len()].0}),
            );
        }
        push(
            "studies",
            json!({"study_id": "stu-001", "protocol_number": "HSX-2701-301",
                   "title": "A Phase 3 Study of HSX-2701 Added to Metformin in Adults with Type 2 Diabetes",
                   "phase": "Phase 3", "therapeutic_area": "Endocrinology", "sponsor": "HealthSim Therapeutics",
                   "status": "active", "start_date": "2023-07-31", "planned_enrollment": 60}),
        );
        for (s, (state, city, _, _)) in STATES.iter().take(sites).enumerate() {
            push(
                "sites",
                json!({"site_id": format!("site-{:03}", s + 1), "study_id": "stu-001",
                       "facility_id": format!("fac-{:04}", (s % facilities) + 1),
                       "investigator_provider_id": format!("prv-{:05}", s + 1),
                       "name": format!("{city} Research Center"), "state": state,
                       "country": "US", "status": "active", "activation_date": "2023-10-01"}),
            );
        }
        let arms = [
            ("arm-pbo", "PBO", "Placebo", "PLACEBO_COMPARATOR"),
            ("arm-trt", "TRT", "HSX-2701 10 mg", "EXPERIMENTAL"),
        ];
        for (id, code, name, kind) in arms {
            push(
                "treatment_arms",
                json!({"arm_id": id, "study_id": "stu-001", "arm_code": code, "name": name, "arm_type": kind, "planned_size": 30}),
            );
        }
    }
    for i in part {
        let mut rng = Rng::new(seed, i as u64);
        let n = i + 1;
        let female = rng.chance(0.51);
        let age = {
            let band = *rng.weighted(&[(0u32, 22u32), (18, 33), (45, 26), (65, 19)]);
            let width = match band {
                0 => 18,
                18 => 27,
                45 => 20,
                _ => 30,
            };
            band + rng.below(width) as u32
        };
        let birth = as_of() - Duration::days(i64::from(age) * 365 + rng.below(364) as i64 + 1);
        let (state, city, fips, _) = *rng.weighted(&STATES.map(|s| (s, s.3)));
        let given = if female {
            *rng.pick(&FEMALE_NAMES)
        } else {
            *rng.pick(&MALE_NAMES)
        };
        let family = *rng.pick(&FAMILY_NAMES);
        let demographics = json!({
            "given_name": given, "family_name": family, "birth_date": day(birth),
            "gender": if female { "F" } else { "M" }, "race": rng.pick(&["White", "Black or African American", "Asian", "Other"]),
            "ssn": format!("900-{:02}-{:04}", n / 10000, n % 10000), "city": city, "state": state,
            "postal_code": "00000", "county_fips": fips,
        });
        let with = |extra: Json| -> Json {
            let mut object = demographics.as_object().cloned().unwrap_or_default();
            if let Json::Object(more) = extra {
                object.extend(more);
            }
            Json::Object(object)
        };
        let person_id = format!("per-{n:06}");
        let patient_id = format!("pat-{n:06}");
        push("persons", with(json!({"person_id": person_id})));
        let pcp = format!("prv-{:05}", rng.below(providers as u64) + 1);
        push(
            "patients",
            with(
                json!({"patient_id": patient_id, "person_id": person_id, "mrn": format!("MRN{n:08}"),
                        "primary_care_provider_id": pcp, "language": "en"}),
            ),
        );
        let age_group = if age < 45 {
            0
        } else if age < 65 {
            1
        } else {
            2
        };
        let conditions: Vec<usize> = (0..CONDITIONS.len())
            .filter(|c| rng.chance(CONDITIONS[*c].2[age_group]))
            .collect();
        let diabetic = conditions.contains(&2);
        let member = rng.chance(0.87);
        let member_id = format!("mem-{n:06}");
        if member {
            let lob = if age >= 65 {
                "medicare_advantage"
            } else if rng.chance(0.2) {
                "medicaid"
            } else {
                "commercial"
            };
            push(
                "members",
                with(
                    json!({"member_id": member_id, "person_id": person_id, "patient_id": patient_id,
                            "subscriber_id": format!("SUB{n:08}"), "relationship_code": "18",
                            "line_of_business": lob, "plan_code": format!("{}-01", &lob[..3].to_uppercase()),
                            "coverage_start_date": "2024-01-01", "pcp_provider_id": pcp}),
                ),
            );
            push(
                "accumulators",
                json!({"accumulator_id": format!("acc-{n:06}-ded"), "member_id": member_id, "plan_year": 2025,
                       "accumulator_type": "deductible", "limit_amount": 1500.0,
                       "applied_amount": round(rng.unit() * 1500.0, 2), "as_of_date": "2025-06-30"}),
            );
        }
        let encounters = 1 + rng.below(if conditions.is_empty() { 3 } else { 5 }) as usize;
        for e in 0..encounters {
            let class = *rng.weighted(&CLASSES);
            let start = window_start + Duration::days(rng.below(730) as i64);
            let minutes = 7 * 60 + rng.below(10 * 60) as i64;
            let end = if class == "inpatient" {
                start + Duration::days(1 + rng.below(9) as i64)
            } else {
                start
            };
            let encounter_id = format!("enc-{n:06}-{:02}", e + 1);
            let facility = format!("fac-{:04}", rng.below(facilities as u64) + 1);
            let (code, description) =
                match conditions.get(rng.below(conditions.len() as u64 + 1) as usize) {
                    Some(c) => (CONDITIONS[*c].0, CONDITIONS[*c].1),
                    None => *rng.pick(&ACUTE),
                };
            push(
                "encounters",
                json!({"encounter_id": encounter_id, "patient_id": patient_id, "facility_id": facility,
                       "attending_provider_id": pcp, "encounter_class": class, "status": "finished",
                       "start_datetime": timestamp(start, minutes), "end_datetime": timestamp(end, minutes + 40),
                       "reason_code": code}),
            );
            push(
                "diagnoses",
                json!({"diagnosis_id": format!("dx-{n:06}-{:02}", e + 1), "patient_id": patient_id,
                       "encounter_id": encounter_id, "code": code, "code_system": "ICD-10-CM",
                       "description": description, "diagnosis_type": "principal", "onset_date": day(start)}),
            );
            if class != "telehealth" {
                for (l, (loinc, name, unit, low, high, mean, sd)) in LABS.iter().enumerate() {
                    if l > 0 && !rng.chance(0.5) {
                        continue;
                    }
                    let shift = match (l, diabetic) {
                        (0, true) => 45.0,
                        (1, true) => 2.1,
                        _ => 0.0,
                    };
                    let value = round(rng.normal(mean + shift, *sd).max(0.1), 1);
                    push(
                        "lab_results",
                        json!({"lab_result_id": format!("lab-{n:06}-{:02}-{l}", e + 1), "patient_id": patient_id,
                               "encounter_id": encounter_id, "loinc_code": loinc, "test_name": name,
                               "value_numeric": value, "unit": unit, "reference_low": low, "reference_high": high,
                               "interpretation": if value < *low { "L" } else if value > *high { "H" } else { "N" },
                               "status": "final", "collected_datetime": timestamp(start, minutes + 10)}),
                    );
                }
            }
            if member && (class != "telehealth" || rng.chance(0.5)) {
                let institutional = matches!(class, "inpatient" | "emergency");
                let billed = match class {
                    "inpatient" => rng.normal(21000.0, 6000.0).max(4000.0),
                    "emergency" => rng.normal(2200.0, 700.0).max(400.0),
                    "telehealth" => rng.normal(95.0, 20.0).max(40.0),
                    _ => rng.normal(180.0, 60.0).max(60.0),
                };
                let status = *rng.weighted(&[("paid", 85u32), ("denied", 8), ("pending", 7)]);
                let allowed = billed * (0.45 + rng.unit() * 0.2);
                let (allowed, paid) = match status {
                    "paid" => (Some(allowed), Some(allowed * 0.8)),
                    "denied" => (Some(0.0), Some(0.0)),
                    _ => (None, None),
                };
                push(
                    "claims",
                    json!({"claim_id": format!("clm-{n:06}-{:02}", e + 1), "member_id": member_id,
                           "patient_id": patient_id, "encounter_id": encounter_id,
                           "billing_provider_id": pcp, "facility_id": facility,
                           "claim_type": if institutional { "institutional" } else { "professional" },
                           "status": status, "service_date": day(start), "principal_diagnosis": code,
                           "total_billed": round(billed, 2), "total_allowed": allowed.map(|a| round(a, 2)),
                           "total_paid": paid.map(|p| round(p, 2)),
                           "total_patient_resp": allowed.zip(paid).map(|(a, p)| round(a - p, 2))}),
                );
            }
        }
        let drugs: Vec<usize> = conditions
            .iter()
            .filter_map(|c| CONDITIONS[*c].3)
            .chain((diabetic && rng.chance(0.15)).then_some(5))
            .collect();
        for (m, d) in drugs.iter().enumerate() {
            let (drug, rxnorm, ndc, _) = DRUGS[*d];
            push(
                "medications",
                json!({"medication_id": format!("med-{n:06}-{:02}", m + 1), "patient_id": patient_id,
                       "rxnorm_code": rxnorm, "ndc": ndc, "drug_name": drug, "status": "active",
                       "start_date": day(window_start + Duration::days(rng.below(300) as i64)),
                       "prescriber_provider_id": pcp}),
            );
        }
        let rx_member = member && rng.chance(0.85);
        let rx_member_id = format!("rxm-{n:06}");
        if rx_member {
            push(
                "rx_members",
                with(
                    json!({"rx_member_id": rx_member_id, "person_id": person_id, "member_id": member_id,
                            "cardholder_id": format!("CH{n:09}"), "plan_code": "RX-01"}),
                ),
            );
            for (m, d) in drugs.iter().enumerate() {
                let (drug, rxnorm, ndc, cost) = DRUGS[*d];
                let prescription_id = format!("rx-{n:06}-{:02}", m + 1);
                let written = window_start + Duration::days(300 + rng.below(60) as i64);
                let pharmacy = format!("phm-{:04}", rng.below(pharmacies as u64) + 1);
                push(
                    "prescriptions",
                    json!({"prescription_id": prescription_id, "rx_member_id": rx_member_id, "patient_id": patient_id,
                           "prescriber_provider_id": pcp, "pharmacy_id": pharmacy, "ndc": ndc, "rxnorm_code": rxnorm,
                           "drug_name": drug, "quantity": 30, "days_supply": 30, "refills_authorized": 5,
                           "written_date": day(written), "status": "active"}),
                );
                for f in 0..(1 + rng.below(6)) {
                    let ingredient = round(cost * (0.9 + rng.unit() * 0.2), 2);
                    let fee = 1.75;
                    let gross = round(ingredient + fee, 2);
                    let copay = if cost > 100.0 { 50.0 } else { gross.min(10.0) };
                    push(
                        "pharmacy_claims",
                        json!({"pharmacy_claim_id": format!("rxc-{n:06}-{:02}-{f:02}", m + 1),
                               "rx_member_id": rx_member_id, "prescription_id": prescription_id,
                               "pharmacy_id": pharmacy, "ndc": ndc, "drug_name": drug,
                               "fill_date": day(written + Duration::days(2 + 30 * f as i64)), "fill_number": f,
                               "quantity_dispensed": 30, "days_supply": 30, "ingredient_cost": ingredient,
                               "dispensing_fee": fee, "gross_amount_due": gross, "patient_pay_amount": copay,
                               "plan_paid_amount": round(gross - copay, 2), "claim_status": "paid"}),
                    );
                }
            }
        }
        if diabetic && age >= 18 && rng.chance(0.6) {
            let subject_id = format!("sub-{n:06}");
            let arm = if rng.chance(0.5) {
                "arm-trt"
            } else {
                "arm-pbo"
            };
            let enrolled = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
                + Duration::days(rng.below(300) as i64);
            push(
                "subjects",
                with(json!({"subject_id": subject_id, "study_id": "stu-001",
                            "site_id": format!("site-{:03}", rng.below(sites as u64) + 1), "arm_id": arm,
                            "usubjid": format!("HSX-2701-301-{n:06}"), "person_id": person_id,
                            "patient_id": patient_id, "enrollment_date": day(enrolled), "status": "enrolled"})),
            );
            for a in 0..rng.below(4) {
                let (term, body) = *rng.pick(&AE_TERMS);
                let severity = *rng.weighted(&[("MILD", 60u32), ("MODERATE", 30), ("SEVERE", 10)]);
                push(
                    "adverse_events",
                    json!({"ae_id": format!("ae-{n:06}-{a}"), "subject_id": subject_id, "study_id": "stu-001",
                           "aeterm": term.to_lowercase(), "aedecod": term, "aebodsys": body, "aesev": severity,
                           "aeser": if severity == "SEVERE" { "Y" } else { "N" },
                           "aestdtc": day(enrolled + Duration::days(10 + rng.below(120) as i64))}),
                );
            }
        }
    }
    Cohort { tables: out }
}

/// Entities written per transaction.
const BATCH: usize = 50_000;

/// A new scenario named `name`, with a description and tags.
pub(crate) fn new_scenario(name: &str, description: &str, tags: &[&str]) -> ScenarioTarget {
    ScenarioTarget::New {
        name: Some(name.to_string()),
        context: None,
        description: Some(description.to_string()),
        tags: tags.iter().map(|t| (*t).to_string()).collect(),
    }
}

/// Writes the cohort into a new scenario named `name` (with a description and tags) and
/// returns its id.
pub(crate) fn persist(
    store: &Store,
    cohort: &Cohort,
    name: &str,
    description: &str,
    tags: &[&str],
) -> String {
    let mut target = new_scenario(name, description, tags);
    write(store, cohort, &mut target)
}

/// Writes the cohort into `target` in transactions of [`BATCH`] entities, without summaries,
/// and returns the scenario id; `target` becomes that (existing) scenario.
pub(crate) fn write(store: &Store, cohort: &Cohort, target: &mut ScenarioTarget) -> String {
    let provenance = Provenance {
        source_type: Some("synthetic".into()),
        source_system: Some("healthsim-report tests".into()),
        skill_used: None,
        generation_seed: None,
    };
    let mut scenario_id = None;
    let mut batch: Map<String, Json> = Map::new();
    let mut in_batch = 0;
    let flush = |batch: &mut Map<String, Json>,
                 target: &mut ScenarioTarget,
                 scenario_id: &mut Option<String>| {
        if batch.is_empty() {
            return;
        }
        let prepared = PreparedEntities::new(&EntityInput::ByType(std::mem::take(batch)))
            .expect("valid cohort");
        let written = store
            .write_entities(&prepared, target, &provenance)
            .expect("cohort written");
        *target = ScenarioTarget::existing(written.scenario_id.clone());
        scenario_id.get_or_insert(written.scenario_id);
    };
    for (table, entities) in &cohort.tables {
        for chunk in entities.chunks(BATCH) {
            if in_batch + chunk.len() > BATCH {
                flush(&mut batch, target, &mut scenario_id);
                in_batch = 0;
            }
            if let Some(Json::Array(list)) = batch.get_mut(*table) {
                list.extend(chunk.iter().cloned());
            } else {
                batch.insert((*table).to_string(), Json::Array(chunk.to_vec()));
            }
            in_batch += chunk.len();
        }
    }
    flush(&mut batch, target, &mut scenario_id);
    match (scenario_id, target) {
        (Some(id), _) => id,
        (None, ScenarioTarget::Existing(id)) => id.clone(),
        (None, _) => panic!("an empty cohort creates no scenario"),
    }
}
