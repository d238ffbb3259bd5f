//! The clinical picture: chronic conditions (with onsets), a per-person baseline physiology,
//! allergies, visits with their vital signs, diagnoses and lab results, and medications.
//!
//! Everything downstream follows from it: claims bill these visits, prescriptions fill these
//! medications, and the trial recruits from these diagnoses.

use crate::rng::Rng;
use crate::vocab::clinical::{
    age_band, Acute, Allergen, LabTest, ACUTES, AFIB, ALLERGENS, ANEMIA, CAD, CKD, CONDITIONS,
    COPD, DIABETES, HEART_FAILURE, HYPERLIPIDEMIA, HYPERTENSION, HYPOTHYROIDISM, IN_ED,
    IN_HOSPITAL, IN_OFFICE, IN_TELEHEALTH, LAB_A1C, LAB_CREATININE, LAB_EGFR, LAB_GLUCOSE,
    LAB_HEMOGLOBIN, LAB_LDL, LAB_NTPROBNP, LAB_POTASSIUM, LAB_SODIUM, LAB_TROPONIN, LAB_TSH,
    LAB_WBC, N_ALLERGENS, OBESITY, OSTEOPOROSIS, SLEEP_APNEA, WELLNESS_ADULT, WELLNESS_CHILD,
};
use crate::vocab::pharmacy::DRUGS;

use super::calendar::{at, day_of, Day, Ts};
use super::header::Header;
use super::person::Demographics;
use super::{choose, round_to, Gender, Person, PersonPlanner};

/// Where a visit happens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Class {
    /// Office or urgent care visit.
    Outpatient,
    /// Video visit.
    Telehealth,
    /// Emergency department visit.
    Emergency,
    /// Hospital admission.
    Inpatient,
}

impl Class {
    /// The `encounter_class` code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Class::Outpatient => "outpatient",
            Class::Telehealth => "telehealth",
            Class::Emergency => "emergency",
            Class::Inpatient => "inpatient",
        }
    }

    fn setting(self) -> u8 {
        match self {
            Class::Outpatient => IN_OFFICE,
            Class::Telehealth => IN_TELEHEALTH,
            Class::Emergency => IN_ED,
            Class::Inpatient => IN_HOSPITAL,
        }
    }
}

/// A visit.
pub(crate) struct Encounter {
    pub(crate) class: Class,
    pub(crate) kind: &'static str,
    pub(crate) start: Ts,
    pub(crate) end: Ts,
    pub(crate) facility: usize,
    pub(crate) provider: usize,
    pub(crate) reason_code: &'static str,
    pub(crate) complaint: &'static str,
    pub(crate) drg: Option<&'static str>,
    pub(crate) admission_source: Option<&'static str>,
    pub(crate) disposition: Option<&'static str>,
    pub(crate) los: u32,
    /// Acute reason (index into `ACUTES`), if the visit is for one.
    pub(crate) acute: Option<usize>,
    /// Chronic condition followed up, if any.
    pub(crate) follow_up: Option<usize>,
    pub(crate) wellness: bool,
    pub(crate) urgent_care: bool,
    pub(crate) new_patient: bool,
    /// Seen by a specialist (specialist copay).
    pub(crate) specialist: bool,
    /// Lab panels drawn (bit flags `PANEL_*`).
    pub(crate) panels: u8,
    /// Range of this visit's diagnoses in `Person::diagnoses`.
    pub(crate) dx: (usize, usize),
}

/// A diagnosis on an encounter.
pub(crate) struct Diagnosis {
    pub(crate) encounter: usize,
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
    pub(crate) principal: bool,
    pub(crate) onset: Day,
    pub(crate) abatement: Option<Day>,
    pub(crate) present_on_admission: bool,
}

/// A laboratory result.
pub(crate) struct Lab {
    pub(crate) encounter: usize,
    pub(crate) test: &'static LabTest,
    pub(crate) value: f64,
    pub(crate) collected: Ts,
    pub(crate) resulted: Ts,
}

/// A set of vital signs at an encounter.
pub(crate) struct Vital {
    pub(crate) encounter: usize,
    pub(crate) at: Ts,
    pub(crate) height_cm: f64,
    pub(crate) weight_kg: f64,
    pub(crate) systolic: i64,
    pub(crate) diastolic: i64,
    pub(crate) heart_rate: i64,
    pub(crate) respiratory_rate: i64,
    pub(crate) temperature_c: f64,
    pub(crate) spo2: f64,
    pub(crate) pain: i64,
}

/// A medication order.
pub(crate) struct Medication {
    pub(crate) encounter: usize,
    pub(crate) drug: usize,
    pub(crate) start: Day,
    pub(crate) end: Option<Day>,
    pub(crate) prescriber: usize,
    pub(crate) indication: &'static str,
}

/// An allergy.
pub(crate) struct Allergy {
    pub(crate) allergen: &'static Allergen,
    pub(crate) reaction: &'static str,
    pub(crate) severity: &'static str,
    pub(crate) onset: Day,
}

/// Lab panel flags.
pub(crate) const PANEL_BMP: u8 = 1;
/// Hemoglobin A1c.
pub(crate) const PANEL_A1C: u8 = 2;
/// Lipid panel.
pub(crate) const PANEL_LIPID: u8 = 4;
/// TSH.
pub(crate) const PANEL_TSH: u8 = 8;
/// Complete blood count.
pub(crate) const PANEL_CBC: u8 = 16;
/// NT-proBNP.
pub(crate) const PANEL_BNP: u8 = 32;
/// High-sensitivity troponin.
pub(crate) const PANEL_TROPONIN: u8 = 64;

/// Per-person baseline physiology: every measurement is this plus a little noise.
pub(super) struct Baseline {
    bmi: f64,
    height_cm: f64,
    systolic: f64,
    diastolic: f64,
    heart_rate: f64,
    a1c: f64,
    ldl: f64,
    egfr: f64,
    hemoglobin: f64,
    tsh: f64,
}

/// Acute reasons that fit a setting, an age and a person's conditions; chosen by weight.
fn pick_acute(rng: &mut Rng, setting: u8, age: u32, conditions: u32) -> Option<usize> {
    let weight = |a: &Acute| -> u64 {
        let fits = a.settings & setting != 0
            && age >= a.min_age
            && a.requires.is_none_or(|c| conditions & (1 << c) != 0);
        if !fits {
            0
        } else if a.requires.is_some() {
            // Exacerbations dominate the visits of people who have the condition.
            u64::from(a.weight) * 3
        } else {
            u64::from(a.weight)
        }
    };
    let total: u64 = ACUTES.iter().map(weight).sum();
    if total == 0 {
        return None;
    }
    let mut roll = rng.below(total);
    for (i, a) in ACUTES.iter().enumerate() {
        let w = weight(a);
        if roll < w {
            return Some(i);
        }
        roll -= w;
    }
    None
}

/// A random chronic condition the person has (`None` if none).
fn pick_condition(rng: &mut Rng, conditions: u32) -> Option<usize> {
    let count = conditions.count_ones();
    if count == 0 {
        return None;
    }
    let mut k = rng.below(u64::from(count));
    for c in 0..CONDITIONS.len() {
        if conditions & (1 << c) != 0 {
            if k == 0 {
                return Some(c);
            }
            k -= 1;
        }
    }
    None
}

impl PersonPlanner {
    pub(super) fn conditions(&mut self, rng: &mut Rng, demo: &Demographics) -> u32 {
        let band = age_band(demo.age);
        let mut mask = 0u32;
        let has = |mask: u32, c: usize| mask & (1 << c) != 0;
        for (i, condition) in CONDITIONS.iter().enumerate() {
            let mut p = condition.prevalence[band];
            if has(mask, OBESITY) {
                p *= match i {
                    DIABETES => 1.8,
                    HYPERTENSION => 1.3,
                    HYPERLIPIDEMIA => 1.2,
                    SLEEP_APNEA => 2.5,
                    _ => 1.0,
                };
            }
            if i == CKD {
                if has(mask, DIABETES) {
                    p *= 2.0;
                }
                if has(mask, HYPERTENSION) {
                    p *= 1.5;
                }
            }
            if (i == HEART_FAILURE || i == CAD) && has(mask, HYPERTENSION) {
                p *= 1.5;
            }
            if demo.gender == Gender::F && (i == HYPOTHYROIDISM || i == OSTEOPOROSIS) {
                p *= 1.6;
            }
            if rng.chance(p.min(0.95)) {
                mask |= 1 << i;
            }
            // Onset: before the first visit, up to ten years back, never before birth.
            let years_back = u64::from(demo.age.min(10)) * 365;
            self.onsets[i] =
                (self.window_start(demo) - rng.below(years_back) as Day).max(demo.birth);
        }
        mask
    }

    pub(super) fn baseline(&self, rng: &mut Rng, demo: &Demographics, conditions: u32) -> Baseline {
        let has = |c: usize| conditions & (1 << c) != 0;
        let age = f64::from(demo.age);
        let female = demo.gender == Gender::F;
        let adult = demo.age >= 18;
        let bmi = match (adult, has(OBESITY)) {
            (true, true) => rng.uniform(30.0, 42.0),
            (true, false) => rng.normal(25.5, 2.6).clamp(18.5, 29.9),
            (false, true) => rng.uniform(24.0, 32.0),
            (false, false) => rng.uniform(14.5, 22.0),
        };
        let height_cm = if adult {
            if female {
                rng.normal(162.0, 6.5)
            } else {
                rng.normal(176.0, 7.0)
            }
        } else {
            let grown = if female { 160.0 } else { 170.0 };
            let growing = if demo.age == 0 {
                65.0
            } else {
                78.0 + 6.2 * f64::from(demo.age.min(14))
            };
            growing.min(grown) + rng.normal(0.0, 4.0)
        };
        let (systolic, diastolic) = if !adult {
            (rng.normal(104.0, 7.0), rng.normal(64.0, 5.0))
        } else if has(HYPERTENSION) {
            (rng.normal(138.0, 9.0), rng.normal(86.0, 6.0))
        } else {
            (rng.normal(110.0 + 0.25 * age, 8.0), rng.normal(73.0, 6.0))
        };
        let heart_rate = if has(AFIB) {
            rng.normal(92.0, 10.0)
        } else if adult {
            rng.normal(74.0, 7.0)
        } else {
            rng.normal(95.0 - 2.0 * age, 8.0)
        };
        let a1c = if has(DIABETES) {
            rng.normal(7.6, 1.0).clamp(6.5, 12.5)
        } else {
            rng.normal(5.3, 0.25).clamp(4.3, 6.2)
        };
        let ldl = if has(HYPERLIPIDEMIA) {
            rng.normal(140.0, 22.0).clamp(95.0, 230.0)
        } else {
            rng.normal(100.0, 18.0).clamp(45.0, 160.0)
        };
        let egfr = if has(CKD) {
            rng.uniform(32.0, 58.0)
        } else if adult {
            rng.normal(108.0 - 0.6 * (age - 30.0).max(0.0), 11.0)
                .clamp(62.0, 130.0)
        } else {
            rng.normal(112.0, 9.0).clamp(90.0, 135.0)
        };
        let hemoglobin = match (has(ANEMIA), female) {
            (true, true) => rng.normal(10.6, 0.6),
            (true, false) => rng.normal(11.6, 0.6),
            (false, true) => rng.normal(13.6, 0.7),
            (false, false) => rng.normal(15.1, 0.8),
        };
        let tsh = if has(HYPOTHYROIDISM) {
            rng.normal(4.2, 1.6).clamp(0.6, 12.0)
        } else {
            rng.normal(1.8, 0.6).clamp(0.5, 4.2)
        };
        Baseline {
            bmi,
            height_cm,
            systolic,
            diastolic,
            heart_rate,
            a1c,
            ldl,
            egfr,
            hemoglobin,
            tsh,
        }
    }

    pub(super) fn allergies(&self, rng: &mut Rng, demo: &Demographics, person: &mut Person) {
        if !rng.chance(0.18) {
            return;
        }
        let count = if rng.chance(0.75) { 1 } else { 2 };
        for _ in 0..count {
            let weights: [u32; N_ALLERGENS] = std::array::from_fn(|i| ALLERGENS[i].weight);
            let allergen = &ALLERGENS[rng.weighted(&weights)];
            if person
                .allergies
                .iter()
                .any(|a| std::ptr::eq(a.allergen, allergen))
            {
                continue;
            }
            let reaction = rng.pick(allergen.reactions);
            let severity = if reaction == "Anaphylaxis" {
                "severe"
            } else if rng.chance(0.6) {
                "mild"
            } else {
                "moderate"
            };
            let lived = (self.as_of - demo.birth).max(1);
            person.allergies.push(Allergy {
                allergen,
                reaction,
                severity,
                onset: demo.birth + rng.below(lived as u64) as Day,
            });
        }
    }

    pub(super) fn encounters(
        &mut self,
        rng: &mut Rng,
        header: &Header,
        demo: &Demographics,
        base: &Baseline,
        person: &mut Person,
    ) {
        let conditions = person.conditions;
        let chronic = conditions.count_ones();
        let mut n = 1 + rng.weighted(&[30, 24, 18, 12, 9, 7]);
        if chronic >= 2 && rng.chance(0.5) {
            n += 1;
        }
        if chronic >= 4 && rng.chance(0.5) {
            n += 1;
        }
        let n = n.min(6);
        let window_start = self.window_start(demo);
        let span = (self.as_of - 2 - window_start).max(1) as u64;
        let mut days: [Day; 6] = [0; 6];
        for d in days.iter_mut().take(n) {
            *d = window_start + rng.below(span) as Day;
        }
        days[..n].sort_unstable();
        let sick = demo.age >= 65 || chronic >= 3;
        let class_weights: [u32; 4] = if demo.age < 18 {
            [74, 10, 14, 2]
        } else if sick {
            [62, 12, 15, 11]
        } else {
            [68, 13, 13, 6]
        };
        let local = &header.local[demo.metro];
        let global = &header.global;
        let mut earliest = window_start;
        for &planned_day in days.iter().take(n) {
            let class = match rng.weighted(&class_weights) {
                0 => Class::Outpatient,
                1 => Class::Telehealth,
                2 => Class::Emergency,
                _ => Class::Inpatient,
            };
            let los = if class == Class::Inpatient {
                1 + rng.weighted(&[14, 22, 20, 14, 10, 7, 5, 3, 3, 2]) as u32
            } else {
                0
            };
            let mut day = planned_day.max(earliest);
            let last_possible = self.as_of - 2 - los as Day;
            if day > last_possible {
                if person.encounters.is_empty() {
                    day = last_possible.max(window_start);
                } else {
                    break;
                }
            }
            // Reason for the visit.
            let mut follow_up = None;
            let mut acute = None;
            let mut wellness = false;
            match class {
                Class::Outpatient | Class::Telehealth => {
                    let follow_share = if class == Class::Telehealth {
                        0.6
                    } else {
                        0.55
                    };
                    if chronic > 0 && rng.chance(follow_share) {
                        follow_up = pick_condition(rng, conditions);
                    } else if class == Class::Outpatient && rng.chance(0.3) {
                        wellness = true;
                    } else {
                        acute = pick_acute(rng, class.setting(), demo.age, conditions);
                        if acute.is_none() {
                            wellness = true;
                        }
                    }
                }
                Class::Emergency | Class::Inpatient => {
                    acute = pick_acute(rng, class.setting(), demo.age, conditions);
                }
            }
            let urgent_care = class == Class::Outpatient && acute.is_some() && rng.chance(0.3);
            let specialist = follow_up
                .and_then(|c| CONDITIONS[c].specialty)
                .filter(|_| rng.chance(0.35));
            let provider = match (class, specialist) {
                (Class::Emergency, _) => choose(
                    rng,
                    &[&local.emergency, &global.emergency, &global.adult_pcp],
                ),
                (Class::Inpatient, _) => choose(
                    rng,
                    &[&local.hospitalist, &global.hospitalist, &global.adult_pcp],
                ),
                (_, Some(s)) => choose(rng, &[&local.by_specialty[s], &global.by_specialty[s]]),
                _ if urgent_care => choose(rng, &[&local.adult_pcp, &global.adult_pcp]),
                _ => person.pcp,
            };
            let facility = match class {
                Class::Emergency | Class::Inpatient => {
                    choose(rng, &[&local.hospitals, &global.hospitals])
                }
                _ if urgent_care => choose(rng, &[&local.urgent, &local.clinics, &global.clinics]),
                _ => choose(rng, &[&local.clinics, &global.clinics]),
            };
            let new_patient = specialist.is_some() && rng.chance(0.4);
            let (start, end) = match class {
                Class::Outpatient => {
                    let s = at(day, 8 * 3600 + 1200 * rng.below(27) as i64);
                    (s, s + 60 * rng.range(15, 55))
                }
                Class::Telehealth => {
                    let s = at(day, 8 * 3600 + 900 * rng.below(38) as i64);
                    (s, s + 60 * rng.range(10, 30))
                }
                Class::Emergency => {
                    let s = at(day, 60 * rng.below(24 * 60) as i64);
                    (s, s + 60 * rng.range(120, 480))
                }
                Class::Inpatient => {
                    let s = at(day, 60 * rng.below(24 * 60) as i64);
                    (s, at(day + los as Day, 60 * rng.range(10 * 60, 16 * 60)))
                }
            };
            earliest = day_of(end) + 1;
            let (reason_code, complaint, drg) = if let Some(c) = follow_up {
                (CONDITIONS[c].code, CONDITIONS[c].complaint, None)
            } else if let Some(a) = acute {
                let a = &ACUTES[a];
                (
                    a.code,
                    a.complaint,
                    a.drg.filter(|_| class == Class::Inpatient),
                )
            } else if demo.age < 18 {
                (WELLNESS_CHILD.0, "Well-child visit", None)
            } else {
                (WELLNESS_ADULT.0, "Annual physical", None)
            };
            let kind = match class {
                Class::Outpatient if wellness => "annual_wellness",
                Class::Outpatient if follow_up.is_some() => "follow_up",
                Class::Outpatient if urgent_care => "urgent_care_visit",
                Class::Outpatient => "office_visit",
                Class::Telehealth => "video_visit",
                Class::Emergency => "emergency_visit",
                Class::Inpatient => "hospital_admission",
            };
            let (admission_source, disposition) = match class {
                Class::Inpatient => (
                    Some(rng.pick_weighted(&[
                        ("emergency_department", 70),
                        ("physician_referral", 25),
                        ("transfer", 5),
                    ])),
                    Some(rng.pick_weighted(&[
                        ("home", 72),
                        ("home_health", 12),
                        ("skilled_nursing_facility", 11),
                        ("rehabilitation_facility", 5),
                    ])),
                ),
                Class::Emergency => (
                    None,
                    Some(rng.pick_weighted(&[
                        ("home", 95),
                        ("left_against_medical_advice", 2),
                        ("transfer", 3),
                    ])),
                ),
                _ => (None, None),
            };
            // Lab panels.
            let has = |c: usize| conditions & (1 << c) != 0;
            let mut panels = 0u8;
            match class {
                Class::Outpatient
                    if (wellness || follow_up.is_some()) && demo.age >= 18 && rng.chance(0.6) =>
                {
                    panels |= PANEL_BMP;
                    if has(DIABETES) || (wellness && demo.age >= 35 && rng.chance(0.4)) {
                        panels |= PANEL_A1C;
                    }
                    if has(HYPERLIPIDEMIA) || has(CAD) || (wellness && demo.age >= 40) {
                        panels |= PANEL_LIPID;
                    }
                    if has(HYPOTHYROIDISM) {
                        panels |= PANEL_TSH;
                    }
                    if has(ANEMIA) {
                        panels |= PANEL_CBC;
                    }
                }
                Class::Emergency | Class::Inpatient
                    if class == Class::Inpatient || rng.chance(0.75) =>
                {
                    panels |= PANEL_CBC | PANEL_BMP;
                    if let Some(a) = acute {
                        match ACUTES[a].code {
                            "R07.9" | "I21.4" | "I48.91" | "R55" => panels |= PANEL_TROPONIN,
                            "I50.9" => panels |= PANEL_BNP | PANEL_TROPONIN,
                            _ => {}
                        }
                    }
                    if class == Class::Inpatient && has(DIABETES) {
                        panels |= PANEL_A1C;
                    }
                }
                _ => {}
            }
            let e = person.encounters.len();
            // Diagnoses: the principal one, then the chronic conditions worth coding.
            let dx_start = person.diagnoses.len();
            let inpatient = class == Class::Inpatient;
            let onset_acute = if class == Class::Emergency || inpatient {
                day - rng.range(0, 3) as Day
            } else {
                day - rng.range(0, 7) as Day
            };
            let principal = if let Some(c) = follow_up {
                Diagnosis {
                    encounter: e,
                    code: CONDITIONS[c].code,
                    description: CONDITIONS[c].description,
                    principal: true,
                    onset: self.onsets[c],
                    abatement: None,
                    present_on_admission: false,
                }
            } else if let Some(a) = acute {
                let a = &ACUTES[a];
                let onset = if a.requires.is_some() {
                    onset_acute
                } else {
                    onset_acute.max(demo.birth)
                };
                let abatement = onset + a.resolves_in_days as Day;
                Diagnosis {
                    encounter: e,
                    code: a.code,
                    description: a.description,
                    principal: true,
                    onset,
                    abatement: (abatement < self.as_of).then_some(abatement),
                    present_on_admission: inpatient,
                }
            } else {
                let (code, description) = if demo.age < 18 {
                    WELLNESS_CHILD
                } else {
                    WELLNESS_ADULT
                };
                Diagnosis {
                    encounter: e,
                    code,
                    description,
                    principal: true,
                    onset: day,
                    abatement: Some(day),
                    present_on_admission: false,
                }
            };
            person.diagnoses.push(principal);
            let first = person.encounters.is_empty();
            for (c, condition) in CONDITIONS.iter().enumerate() {
                if !has(c) || follow_up == Some(c) {
                    continue;
                }
                let coded = first || inpatient || (follow_up.is_some() && rng.chance(0.3));
                if coded {
                    person.diagnoses.push(Diagnosis {
                        encounter: e,
                        code: condition.code,
                        description: condition.description,
                        principal: false,
                        onset: self.onsets[c],
                        abatement: None,
                        present_on_admission: inpatient,
                    });
                }
            }
            let dx = (dx_start, person.diagnoses.len());
            // Vital signs at every in-person visit.
            if class != Class::Telehealth {
                let fever = match acute.map(|a| ACUTES[a].code) {
                    Some("J18.9" | "A41.9" | "U07.1") => rng.uniform(38.2, 39.6),
                    Some("J06.9" | "J02.9" | "N39.0") if rng.chance(0.4) => rng.uniform(37.6, 38.6),
                    _ => rng.normal(36.8, 0.2),
                };
                let spo2 = if has(COPD)
                    || matches!(
                        acute.map(|a| ACUTES[a].code),
                        Some("J18.9" | "J44.1" | "U07.1")
                    ) {
                    rng.uniform(88.0, 95.0)
                } else {
                    rng.uniform(95.0, 100.0)
                };
                let pain = match class {
                    Class::Emergency | Class::Inpatient => rng.range(2, 9),
                    _ if acute.is_some() => rng.range(0, 6),
                    _ => rng.range(0, 2),
                };
                let height_cm = round_to(base.height_cm + rng.normal(0.0, 0.5), 1);
                let weight_kg = round_to(
                    base.bmi * (height_cm / 100.0) * (height_cm / 100.0) + rng.normal(0.0, 1.2),
                    1,
                );
                person.vitals.push(Vital {
                    encounter: e,
                    at: start + 300,
                    height_cm,
                    weight_kg,
                    systolic: (base.systolic + rng.normal(0.0, 6.0)).round() as i64,
                    diastolic: (base.diastolic + rng.normal(0.0, 4.0)).round() as i64,
                    heart_rate: (base.heart_rate
                        + rng.normal(0.0, 5.0)
                        + if class == Class::Emergency { 10.0 } else { 0.0 })
                    .round() as i64,
                    respiratory_rate: rng.range(12, 20) + if spo2 < 93.0 { 4 } else { 0 },
                    temperature_c: round_to(fever, 1),
                    spo2: round_to(spo2, 0),
                    pain,
                });
            }
            // Laboratory results.
            if panels != 0 {
                let collected = start
                    + if inpatient {
                        60 * rng.range(30, 180)
                    } else {
                        60 * rng.range(5, 40)
                    };
                let turnaround = if class == Class::Outpatient {
                    rng.range(3, 30) * 3600
                } else {
                    rng.range(40, 150) * 60
                };
                let resulted = collected + turnaround;
                let mut push = |test: &'static LabTest, value: f64| {
                    person.labs.push(Lab {
                        encounter: e,
                        test,
                        value: round_to(value.max(0.0), test.decimals),
                        collected,
                        resulted,
                    });
                };
                let female = demo.gender == Gender::F;
                let infection = matches!(
                    acute.map(|a| ACUTES[a].code),
                    Some("J18.9" | "A41.9" | "N39.0" | "U07.1" | "K35.80")
                );
                let a1c = base.a1c + rng.normal(0.0, 0.2);
                if panels & PANEL_BMP != 0 {
                    let glucose = if has(DIABETES) {
                        // ADAG: estimated average glucose = 28.7 x A1c - 46.7 (mg/dL).
                        28.7 * a1c - 46.7 + rng.normal(0.0, 15.0)
                    } else {
                        rng.normal(92.0, 7.0)
                    };
                    let egfr = (base.egfr + rng.normal(0.0, 3.0)
                        - if Some("N17.9") == acute.map(|a| ACUTES[a].code) {
                            20.0
                        } else {
                            0.0
                        })
                    .max(8.0);
                    // Creatinine from eGFR: a linearized MDRD inverse (no powf, see rng.rs).
                    let k = if female { 62.0 } else { 80.0 };
                    let creatinine =
                        k / egfr * (1.0 - 0.003 * (f64::from(demo.age.max(18)) - 50.0));
                    push(&LAB_GLUCOSE, glucose);
                    push(&LAB_CREATININE, creatinine);
                    push(&LAB_EGFR, egfr);
                    push(&LAB_SODIUM, rng.normal(139.5, 2.0));
                    push(
                        &LAB_POTASSIUM,
                        rng.normal(4.2, 0.3) + if has(CKD) { 0.3 } else { 0.0 },
                    );
                }
                if panels & PANEL_A1C != 0 {
                    push(&LAB_A1C, a1c);
                }
                if panels & PANEL_LIPID != 0 {
                    push(&LAB_LDL, base.ldl + rng.normal(0.0, 8.0));
                }
                if panels & PANEL_TSH != 0 {
                    push(&LAB_TSH, base.tsh + rng.normal(0.0, 0.3));
                }
                if panels & PANEL_CBC != 0 {
                    push(&LAB_HEMOGLOBIN, base.hemoglobin + rng.normal(0.0, 0.3));
                    push(
                        &LAB_WBC,
                        if infection {
                            rng.normal(13.5, 2.0)
                        } else {
                            rng.normal(7.0, 1.3)
                        },
                    );
                }
                if panels & PANEL_BNP != 0 {
                    let bnp = if has(HEART_FAILURE) {
                        rng.normal(1900.0, 500.0).max(450.0)
                    } else {
                        rng.normal(70.0, 20.0)
                    };
                    push(&LAB_NTPROBNP, bnp);
                }
                if panels & PANEL_TROPONIN != 0 {
                    let trop = if Some("I21.4") == acute.map(|a| ACUTES[a].code) {
                        rng.uniform(120.0, 2000.0)
                    } else {
                        rng.uniform(2.0, 14.0)
                    };
                    push(&LAB_TROPONIN, trop);
                }
            }
            person.encounters.push(Encounter {
                class,
                kind,
                start,
                end,
                facility,
                provider,
                reason_code,
                complaint,
                drg,
                admission_source,
                disposition,
                los,
                acute,
                follow_up,
                wellness,
                urgent_care,
                new_patient,
                specialist: specialist.is_some(),
                panels,
                dx,
            });
        }
    }

    pub(super) fn medications(&self, rng: &mut Rng, person: &mut Person) {
        if person.encounters.is_empty() {
            return;
        }
        // Chronic drugs are ordered (reconciled) at the first office or video visit, else at the
        // first encounter by the primary care provider.
        let (med_encounter, prescriber) = person
            .encounters
            .iter()
            .position(|e| matches!(e.class, Class::Outpatient | Class::Telehealth))
            .map_or((0, person.pcp), |i| (i, person.encounters[i].provider));
        let start = day_of(person.encounters[med_encounter].start);
        for (c, condition) in CONDITIONS.iter().enumerate() {
            if !person.has(c) || condition.drugs.is_empty() || !rng.chance(0.85) {
                continue;
            }
            let mut chosen: [Option<usize>; 2] = [None, None];
            if condition.one_of {
                let weights: [u32; 3] =
                    std::array::from_fn(|i| condition.drugs.get(i).map_or(0, |d| d.1));
                chosen[0] = condition.drugs.get(rng.weighted(&weights)).map(|d| d.0);
            } else {
                for (slot, &(drug, pct)) in chosen.iter_mut().zip(condition.drugs) {
                    if rng.chance(f64::from(pct) / 100.0) {
                        *slot = Some(drug);
                    }
                }
            }
            for drug in chosen.into_iter().flatten() {
                if person.medications.iter().any(|m| m.drug == drug) {
                    continue;
                }
                person.medications.push(Medication {
                    encounter: med_encounter,
                    drug,
                    start,
                    end: None,
                    prescriber,
                    indication: condition.code,
                });
            }
        }
        for (e, enc) in person.encounters.iter().enumerate() {
            let Some(a) = enc.acute else { continue };
            let Some(drug) = ACUTES[a].drug else { continue };
            if !rng.chance(0.8) {
                continue;
            }
            let start = day_of(enc.end);
            let end = start + DRUGS[drug].days_supply as Day;
            person.medications.push(Medication {
                encounter: e,
                drug,
                start,
                end: Some(end),
                prescriber: enc.provider,
                indication: ACUTES[a].code,
            });
        }
    }
}
