//! Planning: every random decision, made into plain structs (no JSON, no strings built).
//!
//! The generator works in two steps per person: [`PersonPlanner::plan`] draws all random numbers
//! and fills a [`Person`] of small, mostly `Copy` records whose text fields point into the static
//! vocabularies; `render` then turns the records into JSON objects without touching the RNG. The
//! split keeps rendering free of side effects on the random stream, so rendering only some entity
//! types (the per-type passes of `write_document`) yields exactly the same entities as rendering
//! all of them.
//!
//! Dates are day numbers counted from 0001-01-01 (`chrono`'s `num_days_from_ce`); timestamps are
//! seconds on the same scale, in UTC.

use chrono::{Datelike, NaiveDate};

use super::rng::Rng;
use super::vocab::claims::{
    preventive_visit, Plan, Proc, COMMERCIAL_PLANS, CPT_36415, CPT_80048, CPT_80061, CPT_83036,
    CPT_83880, CPT_84443, CPT_84484, CPT_85025, CPT_99203, CPT_99204, CPT_99212, CPT_99213,
    CPT_99214, CPT_99215, CPT_99283, CPT_99284, CPT_99285, MEDICAID_PLAN, MEDICARE_PLANS, REV_LAB,
    REV_PHARMACY, REV_ROOM_BOARD,
};
use super::vocab::clinical::{
    age_band, Acute, Allergen, LabTest, ACUTES, AFIB, ALLERGENS, ANEMIA, CAD, CKD, CONDITIONS,
    COPD, DIABETES, HEART_FAILURE, HYPERLIPIDEMIA, HYPERTENSION, HYPOTHYROIDISM, IN_ED,
    IN_HOSPITAL, IN_OFFICE, IN_TELEHEALTH, LAB_A1C, LAB_CREATININE, LAB_EGFR, LAB_GLUCOSE,
    LAB_HEMOGLOBIN, LAB_LDL, LAB_NTPROBNP, LAB_POTASSIUM, LAB_SODIUM, LAB_TROPONIN, LAB_TSH,
    LAB_WBC, N_ALLERGENS, OBESITY, OSTEOPOROSIS, SLEEP_APNEA, WELLNESS_ADULT, WELLNESS_CHILD,
};
use super::vocab::people::{
    FAMILY_NAMES, FEMALE_NAMES, LANGUAGES, MALE_NAMES, MIDDLE_NAMES, RACES,
};
use super::vocab::pharmacy::{DRUGS, RETAIL_PHARMACIES};
use super::vocab::places::{CITIES, STREETS};
use super::vocab::providers::{
    FacilityKind, Role, CLINIC_NAMES, ENDOCRINOLOGY, FACILITY_CYCLE, FAMILY_MEDICINE,
    HOSPITAL_NAMES, INTERNAL_MEDICINE, SPECIALTIES, SPECIALTY_CYCLE, URGENT_CARE_NAMES,
};
use super::vocab::trial::{ADVERSE_EVENTS, ARMS, N_ADVERSE_EVENTS};

/// A calendar day, counted from 0001-01-01 (day 1).
pub(crate) type Day = i32;
/// A point in time: seconds since 0001-01-01T00:00:00 minus one day (UTC), see [`at`].
pub(crate) type Ts = i64;

/// Seconds per day.
pub(crate) const DAY_SECS: i64 = 86_400;

/// The timestamp of `secs` seconds after midnight of `day`.
pub(crate) fn at(day: Day, secs: i64) -> Ts {
    i64::from(day) * DAY_SECS + secs
}

/// The day a timestamp falls on.
pub(crate) fn day_of(ts: Ts) -> Day {
    ts.div_euclid(DAY_SECS) as Day
}

/// Converts a day number back to a date (`None` only outside chrono's range, which the clamped
/// `as_of` keeps us far from).
pub(crate) fn date_of(day: Day) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(day)
}

/// The first day of the month of `day`.
fn month_start(day: Day) -> Day {
    date_of(day)
        .and_then(|d| d.with_day(1))
        .map_or(day, |d| d.num_days_from_ce())
}

/// The year of a day.
pub(crate) fn year_of(day: Day) -> i32 {
    date_of(day).map_or(0, |d| d.year())
}

/// A valid 10-digit NPI: the 9-digit `base` plus its Luhn check digit over the `80840` prefix.
pub(crate) fn npi(base: u64) -> u64 {
    // The prefix 80840 contributes 24 to the Luhn sum (CMS NPI check digit specification).
    let mut sum = 24;
    let mut rest = base;
    let mut double = true;
    for _ in 0..9 {
        let mut d = rest % 10;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        rest /= 10;
    }
    base * 10 + (10 - sum % 10) % 10
}

/// A distinct 9-digit NPI base (starting with 1) for the `n`-th identifier of a scenario.
fn npi_base(seed: u64, n: u64) -> u64 {
    // 104_729 is prime and coprime with 10^8, so n -> base is a bijection on 0..10^8.
    100_000_000 + (n.wrapping_mul(104_729).wrapping_add(seed % 100_000_000)) % 100_000_000
}

/// Gender as recorded (`F` / `M`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Gender {
    /// Female.
    F,
    /// Male.
    M,
}

impl Gender {
    /// The code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Gender::F => "F",
            Gender::M => "M",
        }
    }
}

fn given_name(rng: &mut Rng, gender: Gender) -> &'static str {
    match gender {
        Gender::F => rng.pick(FEMALE_NAMES),
        Gender::M => rng.pick(MALE_NAMES),
    }
}

// ------------------------------------------------------------------ header

/// A provider of the pool.
pub(crate) struct Provider {
    pub(crate) specialty: usize,
    pub(crate) gender: Gender,
    pub(crate) given: &'static str,
    pub(crate) family: &'static str,
    pub(crate) credential: &'static str,
    pub(crate) city: usize,
    pub(crate) street_no: u32,
    pub(crate) street: &'static str,
    pub(crate) npi: u64,
    pub(crate) phone_suffix: u32,
}

/// A facility of the pool.
pub(crate) struct Facility {
    pub(crate) kind: FacilityKind,
    pub(crate) name: &'static str,
    pub(crate) city: usize,
    pub(crate) street_no: u32,
    pub(crate) street: &'static str,
    pub(crate) npi: u64,
    pub(crate) beds: Option<u32>,
    pub(crate) phone_suffix: u32,
}

/// A pharmacy of the pool.
pub(crate) struct Pharmacy {
    pub(crate) name: &'static str,
    pub(crate) chain: Option<&'static str>,
    pub(crate) mail_order: bool,
    pub(crate) city: usize,
    pub(crate) street_no: u32,
    pub(crate) street: &'static str,
    pub(crate) ncpdp: u32,
    pub(crate) npi: u64,
    pub(crate) phone_suffix: u32,
}

/// The study.
pub(crate) struct Study {
    pub(crate) start: Day,
    pub(crate) end: Day,
    pub(crate) planned: u32,
}

/// A study site at a hospital.
pub(crate) struct Site {
    pub(crate) facility: usize,
    pub(crate) investigator: usize,
    pub(crate) activation: Day,
    pub(crate) number: u32,
    pub(crate) city: usize,
}

/// A treatment arm (index into `ARMS`) and its planned size.
pub(crate) struct Arm {
    pub(crate) info: usize,
    pub(crate) planned: u32,
}

/// Indexes of pool members by role, for one metro or for the whole scenario.
#[derive(Default)]
struct Pools {
    adult_pcp: Vec<usize>,
    child_pcp: Vec<usize>,
    emergency: Vec<usize>,
    hospitalist: Vec<usize>,
    by_specialty: Vec<Vec<usize>>,
    hospitals: Vec<usize>,
    clinics: Vec<usize>,
    urgent: Vec<usize>,
    pharmacies: Vec<usize>,
    sites: Vec<usize>,
}

impl Pools {
    fn new() -> Self {
        Pools {
            by_specialty: vec![Vec::new(); SPECIALTIES.len()],
            ..Pools::default()
        }
    }
}

/// The reference pools generated before the first person: providers, facilities, pharmacies and
/// the trial (study, sites, arms). Their size grows slowly with the population.
pub(crate) struct Header {
    /// The metro areas of the scenario (indexes into `CITIES`).
    pub(crate) metros: Vec<usize>,
    metro_weights: Vec<u32>,
    pub(crate) providers: Vec<Provider>,
    pub(crate) facilities: Vec<Facility>,
    pub(crate) pharmacies: Vec<Pharmacy>,
    pub(crate) study: Study,
    pub(crate) sites: Vec<Site>,
    pub(crate) arms: Vec<Arm>,
    local: Vec<Pools>,
    global: Pools,
}

/// The first non-empty candidate list, then one of its members.
fn choose(rng: &mut Rng, lists: &[&[usize]]) -> usize {
    for list in lists {
        if !list.is_empty() {
            return rng.pick(list);
        }
    }
    0
}

impl Header {
    /// Builds the pools for `persons` people (the header RNG stream is 0).
    pub(crate) fn build(seed: u64, persons: usize, as_of: Day) -> Self {
        let mut rng = Rng::stream(seed, 0);
        let n_metros = (persons / 1_500 + 3).min(CITIES.len());
        let mut available: Vec<usize> = (0..CITIES.len()).collect();
        let mut metros = Vec::with_capacity(n_metros);
        while metros.len() < n_metros {
            let weights: Vec<u32> = available.iter().map(|&c| CITIES[c].weight).collect();
            let i = rng.weighted(&weights);
            metros.push(available.remove(i));
        }
        let metro_weights = metros.iter().map(|&c| CITIES[c].weight).collect();
        let m = n_metros;

        let n_providers = (persons / 50)
            .max(20)
            .max(SPECIALTY_CYCLE.len() * m)
            .min(50_000);
        let providers = (0..n_providers)
            .map(|i| {
                let specialty = SPECIALTY_CYCLE[(i / m) % SPECIALTY_CYCLE.len()];
                let gender = if rng.chance(0.5) {
                    Gender::F
                } else {
                    Gender::M
                };
                Provider {
                    specialty,
                    gender,
                    given: given_name(&mut rng, gender),
                    family: rng.pick(FAMILY_NAMES),
                    credential: rng.pick(SPECIALTIES[specialty].credentials),
                    city: metros[i % m],
                    street_no: rng.range(100, 9_899) as u32,
                    street: rng.pick(STREETS),
                    npi: npi(npi_base(seed, i as u64)),
                    phone_suffix: rng.below(100) as u32,
                }
            })
            .collect::<Vec<_>>();

        let n_facilities = (persons / 500).max(3 * m).min(5_000);
        let facilities = (0..n_facilities)
            .map(|i| {
                let round = i / m;
                let kind = FACILITY_CYCLE[round % FACILITY_CYCLE.len()];
                let names = match kind {
                    FacilityKind::Hospital => HOSPITAL_NAMES,
                    FacilityKind::Clinic => CLINIC_NAMES,
                    FacilityKind::UrgentCare => URGENT_CARE_NAMES,
                };
                Facility {
                    kind,
                    name: names[(round / FACILITY_CYCLE.len() + i) % names.len()],
                    city: metros[i % m],
                    street_no: rng.range(100, 9_899) as u32,
                    street: rng.pick(STREETS),
                    npi: npi(npi_base(seed, 10_000_000 + i as u64)),
                    beds: (kind == FacilityKind::Hospital).then(|| rng.range(90, 650) as u32),
                    phone_suffix: rng.below(100) as u32,
                }
            })
            .collect::<Vec<_>>();

        let n_pharmacies = (persons / 400).max(2 * m + 1).min(10_000);
        let pharmacies = (0..n_pharmacies)
            .map(|i| {
                let mail_order = i == 0;
                let (name, chain) = if mail_order {
                    ("HealthSim Home Delivery Pharmacy", Some("HealthSim Rx"))
                } else {
                    rng.pick(RETAIL_PHARMACIES)
                };
                Pharmacy {
                    name,
                    chain,
                    mail_order,
                    city: metros[i.saturating_sub(1) % m],
                    street_no: rng.range(100, 9_899) as u32,
                    street: rng.pick(STREETS),
                    ncpdp: 3_100_000 + i as u32,
                    npi: npi(npi_base(seed, 20_000_000 + i as u64)),
                    phone_suffix: rng.below(100) as u32,
                }
            })
            .collect::<Vec<_>>();

        let mut global = Pools::new();
        let mut local: Vec<Pools> = (0..m).map(|_| Pools::new()).collect();
        let metro_of = |city: usize| metros.iter().position(|&c| c == city).unwrap_or(0);
        for (i, p) in providers.iter().enumerate() {
            let pools = [&mut global, &mut local[i % m]];
            for pool in pools {
                match SPECIALTIES[p.specialty].role {
                    Role::AdultPrimary => pool.adult_pcp.push(i),
                    Role::ChildPrimary => pool.child_pcp.push(i),
                    Role::Emergency => pool.emergency.push(i),
                    Role::Hospitalist => pool.hospitalist.push(i),
                    Role::Specialist => {}
                }
                if p.specialty == FAMILY_MEDICINE {
                    pool.child_pcp.push(i);
                }
                if p.specialty == INTERNAL_MEDICINE {
                    pool.hospitalist.push(i);
                }
                pool.by_specialty[p.specialty].push(i);
            }
        }
        for (i, f) in facilities.iter().enumerate() {
            let metro = metro_of(f.city);
            for pool in [&mut global, &mut local[metro]] {
                match f.kind {
                    FacilityKind::Hospital => pool.hospitals.push(i),
                    FacilityKind::Clinic => pool.clinics.push(i),
                    FacilityKind::UrgentCare => pool.urgent.push(i),
                }
            }
        }
        for (i, p) in pharmacies.iter().enumerate() {
            if !p.mail_order {
                let metro = metro_of(p.city);
                local[metro].pharmacies.push(i);
                global.pharmacies.push(i);
            }
        }

        // The trial: a phase 3 type 2 diabetes study that started about two years ago.
        let expected_subjects = (persons as f64 * 0.105 * 0.05 * 1.2) as u32;
        let study = Study {
            start: as_of - 700,
            end: as_of + 400,
            planned: expected_subjects.max(30),
        };
        let n_sites = (persons / 5_000).clamp(3, 40).min(global.hospitals.len());
        let mut sites = Vec::with_capacity(n_sites);
        for (j, &facility) in global.hospitals.iter().take(n_sites).enumerate() {
            let city = facilities[facility].city;
            let metro = metro_of(city);
            let investigator = choose(
                &mut rng,
                &[
                    &local[metro].by_specialty[ENDOCRINOLOGY],
                    &local[metro].by_specialty[INTERNAL_MEDICINE],
                    &global.by_specialty[ENDOCRINOLOGY],
                    &global.adult_pcp,
                ],
            );
            sites.push(Site {
                facility,
                investigator,
                activation: study.start + rng.range(30, 150) as Day,
                number: 101 + j as u32,
                city,
            });
            local[metro].sites.push(j);
            global.sites.push(j);
        }
        let n_arms = if rng.chance(0.5) { 3 } else { 2 };
        let arms = (0..n_arms)
            .map(|info| Arm {
                info,
                planned: study.planned.div_ceil(n_arms as u32),
            })
            .collect();
        debug_assert!(n_arms <= ARMS.len());

        Header {
            metros,
            metro_weights,
            providers,
            facilities,
            pharmacies,
            study,
            sites,
            arms,
            local,
            global,
        }
    }
}

// ------------------------------------------------------------------ person records

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

/// Demographics shared by every person-like row of one person.
pub(crate) struct Demographics {
    pub(crate) gender: Gender,
    pub(crate) given: &'static str,
    pub(crate) middle: Option<&'static str>,
    pub(crate) family: &'static str,
    pub(crate) birth: Day,
    pub(crate) age: u32,
    pub(crate) race: &'static str,
    pub(crate) hispanic: bool,
    pub(crate) metro: usize,
    pub(crate) city: usize,
    pub(crate) zip: &'static str,
    pub(crate) street_no: u32,
    pub(crate) street: &'static str,
    pub(crate) apartment: Option<u32>,
    pub(crate) phone_suffix: u32,
    pub(crate) marital: Option<&'static str>,
    pub(crate) language: &'static str,
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

/// Health plan enrollment.
pub(crate) struct Member {
    pub(crate) plan: &'static Plan,
    pub(crate) start: Day,
    pub(crate) group: Option<u32>,
    pub(crate) rx: bool,
}

/// Adjudication outcome of a claim.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ClaimStatus {
    /// Adjudicated and paid.
    Paid,
    /// Adjudicated and denied (nothing allowed).
    Denied,
    /// Received, not yet adjudicated (no allowed/paid amounts yet).
    Pending,
}

impl ClaimStatus {
    /// The `status` code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            ClaimStatus::Paid => "paid",
            ClaimStatus::Denied => "denied",
            ClaimStatus::Pending => "pending",
        }
    }
}

/// A medical claim for one encounter.
pub(crate) struct Claim {
    pub(crate) encounter: usize,
    pub(crate) institutional: bool,
    pub(crate) status: ClaimStatus,
    pub(crate) received: Day,
    pub(crate) paid: Option<Day>,
    pub(crate) place_of_service: Option<&'static str>,
    pub(crate) bill_type: Option<&'static str>,
    pub(crate) lines: (usize, usize),
    pub(crate) denial: Option<&'static str>,
}

/// A claim line; amounts in cents.
pub(crate) struct Line {
    pub(crate) procedure: &'static Proc,
    pub(crate) units: i64,
    pub(crate) modifier: Option<&'static str>,
    pub(crate) billed: i64,
    pub(crate) allowed: i64,
    pub(crate) paid: i64,
    pub(crate) deductible: i64,
    pub(crate) copay: i64,
    pub(crate) coinsurance: i64,
}

/// Benefit accumulators for the plan year of `as_of`.
pub(crate) struct Accumulators {
    pub(crate) year: i32,
    pub(crate) deductible_used: i64,
    pub(crate) oop_used: i64,
}

/// A prescription (for a medication of an rx member).
pub(crate) struct Prescription {
    pub(crate) medication: usize,
    pub(crate) pharmacy: usize,
    pub(crate) quantity: i64,
    pub(crate) days_supply: i64,
    pub(crate) refills: i64,
    pub(crate) written: Day,
    pub(crate) status: &'static str,
}

/// A pharmacy claim for one fill; amounts in cents.
pub(crate) struct Fill {
    pub(crate) prescription: usize,
    pub(crate) number: i64,
    pub(crate) date: Day,
    pub(crate) ingredient_cost: i64,
    pub(crate) dispensing_fee: i64,
    pub(crate) patient_pay: i64,
    pub(crate) reject: Option<&'static str>,
}

/// Trial participation.
pub(crate) struct Subject {
    pub(crate) site: usize,
    pub(crate) arm: usize,
    pub(crate) screening: Day,
    pub(crate) enrollment: Day,
    pub(crate) status: &'static str,
}

/// An adverse event (index into `ADVERSE_EVENTS` plus grading).
pub(crate) struct AdverseEvent {
    pub(crate) term: usize,
    pub(crate) severity: &'static str,
    pub(crate) serious: bool,
    pub(crate) relationship: &'static str,
    pub(crate) action: &'static str,
    pub(crate) outcome: &'static str,
    pub(crate) grade: i64,
    pub(crate) start: Day,
    pub(crate) end: Option<Day>,
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

/// Everything about one person, reused from person to person (vectors are cleared, not freed).
#[derive(Default)]
pub(crate) struct Person {
    /// 1-based index of the person in the scenario.
    pub(crate) index: u64,
    pub(crate) demo: Option<Demographics>,
    pub(crate) pcp: usize,
    /// Chronic conditions (bit `i` = `CONDITIONS[i]`).
    pub(crate) conditions: u32,
    pub(crate) allergies: Vec<Allergy>,
    pub(crate) encounters: Vec<Encounter>,
    pub(crate) diagnoses: Vec<Diagnosis>,
    pub(crate) vitals: Vec<Vital>,
    pub(crate) labs: Vec<Lab>,
    pub(crate) medications: Vec<Medication>,
    pub(crate) member: Option<Member>,
    pub(crate) claims: Vec<Claim>,
    pub(crate) lines: Vec<Line>,
    pub(crate) accumulators: Option<Accumulators>,
    pub(crate) prescriptions: Vec<Prescription>,
    pub(crate) fills: Vec<Fill>,
    pub(crate) subject: Option<Subject>,
    pub(crate) adverse_events: Vec<AdverseEvent>,
}

impl Person {
    /// Whether the person has chronic condition `c`.
    pub(crate) fn has(&self, c: usize) -> bool {
        self.conditions & (1 << c) != 0
    }

    fn clear(&mut self) {
        self.demo = None;
        self.pcp = 0;
        self.conditions = 0;
        self.allergies.clear();
        self.encounters.clear();
        self.diagnoses.clear();
        self.vitals.clear();
        self.labs.clear();
        self.medications.clear();
        self.member = None;
        self.claims.clear();
        self.lines.clear();
        self.accumulators = None;
        self.prescriptions.clear();
        self.fills.clear();
        self.subject = None;
        self.adverse_events.clear();
    }
}

/// Per-person baseline physiology: every measurement is this plus a little noise.
struct Baseline {
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

/// Rounds to `decimals` places (exactly rounded arithmetic only).
pub(crate) fn round_to(x: f64, decimals: u8) -> f64 {
    let scale = match decimals {
        0 => 1.0,
        1 => 10.0,
        2 => 100.0,
        _ => 1000.0,
    };
    (x * scale).round() / scale
}

// ------------------------------------------------------------------ the planner

/// How far to plan a person: the stage that produces the wanted tables (stages run in order).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Depth {
    /// Demographics and primary care provider: `persons`, `patients`.
    Demographics,
    /// Conditions and allergies: `allergies`.
    Allergies,
    /// Visits: `encounters`, `vitals`, `diagnoses`, `lab_results`.
    Encounters,
    /// `medications`.
    Medications,
    /// Enrollment and claims: `members`, `claims`, `claim_lines`, `accumulators`.
    Claims,
    /// Pharmacy benefit: `rx_members`, `prescriptions`, `pharmacy_claims`.
    Pharmacy,
    /// Everything, including the trial: `subjects`, `adverse_events`.
    Full,
}

/// The per-person tables and the planning depth each needs.
pub(crate) const PERSON_TABLES: [(&str, Depth); 17] = [
    ("persons", Depth::Demographics),
    ("patients", Depth::Demographics),
    ("allergies", Depth::Allergies),
    ("encounters", Depth::Encounters),
    ("vitals", Depth::Encounters),
    ("diagnoses", Depth::Encounters),
    ("lab_results", Depth::Encounters),
    ("medications", Depth::Medications),
    ("members", Depth::Claims),
    ("claims", Depth::Claims),
    ("claim_lines", Depth::Claims),
    ("accumulators", Depth::Claims),
    ("rx_members", Depth::Pharmacy),
    ("prescriptions", Depth::Pharmacy),
    ("pharmacy_claims", Depth::Pharmacy),
    ("subjects", Depth::Full),
    ("adverse_events", Depth::Full),
];

/// Plans people one at a time against a header.
pub(crate) struct PersonPlanner {
    seed: u64,
    as_of: Day,
    /// Chronic onset day per condition of the current person.
    onsets: [Day; 32],
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
    /// A planner for a scenario.
    pub(crate) fn new(seed: u64, as_of: Day) -> Self {
        PersonPlanner {
            seed,
            as_of,
            onsets: [0; 32],
        }
    }

    /// Plans only the demographics of person `index` (the patients-only mix).
    pub(crate) fn plan_demographics_only(
        &mut self,
        header: &Header,
        index: u64,
        person: &mut Person,
    ) {
        person.clear();
        person.index = index;
        let mut rng = Rng::stream(self.seed, index);
        person.demo = Some(self.demographics(&mut rng, header));
    }

    /// Plans person `index` (1-based) and everything that depends on them, up to `depth`.
    ///
    /// Stages draw from the person's own random stream in a fixed order, so stopping early
    /// changes nothing about the stages that did run.
    pub(crate) fn plan(&mut self, header: &Header, index: u64, person: &mut Person, depth: Depth) {
        person.clear();
        person.index = index;
        let mut rng = Rng::stream(self.seed, index);
        let demo = self.demographics(&mut rng, header);
        let age = demo.age;
        let metro = demo.metro;
        let local = &header.local[metro];
        person.pcp = if age < 18 {
            choose(
                &mut rng,
                &[
                    &local.child_pcp,
                    &header.global.child_pcp,
                    &header.global.adult_pcp,
                ],
            )
        } else {
            choose(&mut rng, &[&local.adult_pcp, &header.global.adult_pcp])
        };
        self.stages(&mut rng, header, &demo, person, depth);
        person.demo = Some(demo);
    }

    fn stages(
        &mut self,
        rng: &mut Rng,
        header: &Header,
        demo: &Demographics,
        person: &mut Person,
        depth: Depth,
    ) {
        if depth == Depth::Demographics {
            return;
        }
        person.conditions = self.conditions(rng, demo);
        let base = self.baseline(rng, demo, person.conditions);
        self.allergies(rng, demo, person);
        if depth == Depth::Allergies {
            return;
        }
        self.encounters(rng, header, demo, &base, person);
        if depth == Depth::Encounters {
            return;
        }
        self.medications(rng, person);
        if depth == Depth::Medications {
            return;
        }
        self.membership(rng, demo, person);
        self.claims(rng, demo, person);
        if depth == Depth::Claims {
            return;
        }
        self.pharmacy(rng, header, demo, person);
        if depth == Depth::Pharmacy {
            return;
        }
        self.trial(rng, header, demo, person);
    }

    /// The first day visits may happen: two years back, or the day after birth.
    fn window_start(&self, demo: &Demographics) -> Day {
        (self.as_of - 730).max(demo.birth + 1)
    }

    fn demographics(&self, rng: &mut Rng, header: &Header) -> Demographics {
        let gender = if rng.chance(0.51) {
            Gender::F
        } else {
            Gender::M
        };
        let band = rng.weighted(&[22, 36, 25, 17]);
        let age_years: i64 = match band {
            0 => rng.range(0, 17),
            1 => rng.range(18, 44),
            2 => rng.range(45, 64),
            // Older ages thin out: the minimum of two uniforms over 65..95.
            _ => 65 + rng.below(30).min(rng.below(30)) as i64,
        };
        // Everyone is at least 30 days old, so they have a little history before `as_of`.
        let birth =
            self.as_of - (age_years * 365 + age_years / 4) as Day - 30 - rng.below(335) as Day;
        let age = match (date_of(self.as_of), date_of(birth)) {
            (Some(today), Some(born)) => today.years_since(born).unwrap_or(0),
            _ => age_years as u32,
        };
        let metro = rng.weighted(&header.metro_weights);
        let city = header.metros[metro];
        let hispanic_share = match CITIES[city].state {
            "NM" | "TX" | "CA" | "AZ" | "FL" | "NV" => 0.35,
            _ => 0.15,
        };
        let marital = match age {
            0..=17 => None,
            18..=29 => Some(rng.pick_weighted(&[("S", 70), ("M", 28), ("D", 2)])),
            30..=64 => Some(rng.pick_weighted(&[("M", 55), ("S", 25), ("D", 15), ("W", 5)])),
            _ => Some(rng.pick_weighted(&[("M", 55), ("W", 25), ("D", 12), ("S", 8)])),
        };
        Demographics {
            gender,
            given: given_name(rng, gender),
            middle: rng.chance(0.6).then(|| rng.pick(MIDDLE_NAMES)),
            family: rng.pick(FAMILY_NAMES),
            birth,
            age,
            race: rng.pick_weighted(RACES),
            hispanic: rng.chance(hispanic_share),
            metro,
            city,
            zip: rng.pick(&CITIES[city].zips),
            street_no: rng.range(10, 9_999) as u32,
            street: rng.pick(STREETS),
            apartment: rng
                .chance(0.3)
                .then(|| rng.range(1, 40) as u32 * 10 + rng.range(1, 9) as u32),
            phone_suffix: rng.below(100) as u32,
            marital,
            language: rng.pick_weighted(LANGUAGES),
        }
    }

    fn conditions(&mut self, rng: &mut Rng, demo: &Demographics) -> u32 {
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

    fn baseline(&self, rng: &mut Rng, demo: &Demographics, conditions: u32) -> Baseline {
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

    fn allergies(&self, rng: &mut Rng, demo: &Demographics, person: &mut Person) {
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

    fn encounters(
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

    fn medications(&self, rng: &mut Rng, person: &mut Person) {
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

    fn membership(&self, rng: &mut Rng, demo: &Demographics, person: &mut Person) {
        let insured = if demo.age >= 65 { 0.93 } else { 0.86 };
        if !rng.chance(insured) {
            return;
        }
        let plan: &'static Plan = if demo.age >= 65 {
            &MEDICARE_PLANS[rng.weighted_index(MEDICARE_PLANS)].0
        } else if rng.chance(if demo.age < 18 { 0.40 } else { 0.17 }) {
            &MEDICAID_PLAN
        } else {
            &COMMERCIAL_PLANS[rng.weighted_index(COMMERCIAL_PLANS)].0
        };
        let tenure = rng.range(60, 10 * 365) as Day;
        let mut start = self.as_of - tenure;
        if plan.line_of_business == "medicare" {
            start = start.max(demo.birth + 65 * 365 + 16);
        }
        // Coverage starts on the first of a month, or at birth for newborns.
        let start = month_start(start.min(self.as_of)).max(demo.birth);
        let group =
            (plan.line_of_business == "commercial").then(|| rng.range(10_000, 99_999) as u32);
        let rx = rng.chance(f64::from(plan.rx_share) / 100.0);
        person.member = Some(Member {
            plan,
            start,
            group,
            rx,
        });
    }

    fn claims(&self, rng: &mut Rng, demo: &Demographics, person: &mut Person) {
        let Some(member) = &person.member else {
            return;
        };
        let plan = member.plan;
        let mut year = 0;
        let mut deductible_used = 0i64;
        let mut oop_used = 0i64;
        let chronic = person.conditions.count_ones();
        for (e, enc) in person.encounters.iter().enumerate() {
            let service = day_of(enc.start);
            if service < member.start {
                continue;
            }
            let received = day_of(enc.end) + rng.range(2, 21) as Day;
            if received > self.as_of {
                continue;
            }
            let decided = received + rng.range(5, 30) as Day;
            let status = if decided > self.as_of {
                ClaimStatus::Pending
            } else if rng.chance(0.07) {
                ClaimStatus::Denied
            } else {
                ClaimStatus::Paid
            };
            let institutional = matches!(enc.class, Class::Emergency | Class::Inpatient);
            let acute = enc.acute.map(|a| &ACUTES[a]);
            // Procedures, most important first; a claim keeps at most four lines.
            let mut procs: [Option<(&'static Proc, i64)>; 8] = [None; 8];
            let mut n = 0;
            let mut add = |p: &'static Proc, units: i64| {
                if n < procs.len() {
                    procs[n] = Some((p, units));
                    n += 1;
                }
            };
            match enc.class {
                Class::Inpatient => {
                    add(&REV_ROOM_BOARD, i64::from(enc.los));
                    add(&REV_PHARMACY, 1);
                    add(&REV_LAB, 1);
                }
                Class::Emergency => {
                    let level = match rng.weighted(&[40, 45, 15]) {
                        0 => &CPT_99283,
                        1 => &CPT_99284,
                        _ => &CPT_99285,
                    };
                    add(level, 1);
                }
                _ => {
                    let em = if enc.wellness {
                        preventive_visit(demo.age)
                    } else if enc.new_patient {
                        if rng.chance(0.6) {
                            &CPT_99203
                        } else {
                            &CPT_99204
                        }
                    } else if enc.follow_up.is_some() && chronic >= 3 {
                        if rng.chance(0.6) {
                            &CPT_99214
                        } else {
                            &CPT_99215
                        }
                    } else {
                        match rng.weighted(&[10, 55, 35]) {
                            0 => &CPT_99212,
                            1 => &CPT_99213,
                            _ => &CPT_99214,
                        }
                    };
                    add(em, 1);
                }
            }
            // Nothing is examined or imaged over video.
            if let Some(a) = acute.filter(|_| enc.class != Class::Telehealth) {
                for &p in a.procedures {
                    add(p, 1);
                }
            }
            if enc.class != Class::Inpatient {
                for (flag, p) in [
                    (PANEL_BMP, &CPT_80048),
                    (PANEL_CBC, &CPT_85025),
                    (PANEL_A1C, &CPT_83036),
                    (PANEL_LIPID, &CPT_80061),
                    (PANEL_TROPONIN, &CPT_84484),
                    (PANEL_BNP, &CPT_83880),
                    (PANEL_TSH, &CPT_84443),
                ] {
                    if enc.panels & flag != 0 {
                        add(p, 1);
                    }
                }
                if enc.panels != 0 && !institutional {
                    add(&CPT_36415, 1);
                }
            }
            // Adjudication, in cents, line by line.
            let service_year = year_of(service);
            if service_year != year {
                year = service_year;
                deductible_used = 0;
                oop_used = 0;
            }
            let ratio = rng.range(plan.allowed_permille.0, plan.allowed_permille.1);
            let copay_amount = match enc.class {
                Class::Emergency => plan.copay_er,
                Class::Inpatient => plan.inpatient_copay_per_day * i64::from(enc.los.min(5)),
                _ if enc.wellness => 0,
                _ if enc.specialist => plan.copay_specialist,
                _ => plan.copay_primary,
            };
            let mut copay_left = copay_amount;
            let line_start = person.lines.len();
            for &(procedure, units) in procs.iter().take(4).flatten() {
                let jitter = rng.range(950, 1_150);
                // Charges are whole dollars.
                let billed = (procedure.fee * units * jitter / 1_000 + 50) / 100 * 100;
                let modifier = (enc.class == Class::Telehealth && procedure.em).then_some("95");
                let mut line = Line {
                    procedure,
                    units,
                    modifier,
                    billed,
                    allowed: 0,
                    paid: 0,
                    deductible: 0,
                    copay: 0,
                    coinsurance: 0,
                };
                if status == ClaimStatus::Paid {
                    let allowed = (billed * ratio + 500) / 1_000;
                    // Preventive care is free; a visit copay (ED, per-day inpatient) covers the
                    // whole visit; an office copay covers the E/M line, other lines go to the
                    // deductible and coinsurance.
                    let copay_only = enc.wellness
                        || (copay_amount > 0
                            && (procedure.em
                                || matches!(enc.class, Class::Emergency | Class::Inpatient)));
                    let copay = if copay_only {
                        copay_left.min(allowed)
                    } else {
                        0
                    };
                    copay_left -= copay;
                    let (deductible, coinsurance) = if copay_only {
                        (0, 0)
                    } else {
                        let deductible = (plan.deductible - deductible_used).max(0).min(allowed);
                        let coinsurance =
                            ((allowed - deductible) * plan.coinsurance_pct + 50) / 100;
                        (deductible, coinsurance)
                    };
                    let (mut copay, mut deductible, mut coinsurance) =
                        (copay, deductible, coinsurance);
                    // The out-of-pocket maximum caps what the member pays in a plan year.
                    let room = (plan.oop_max - oop_used).max(0);
                    let mut excess = (copay + deductible + coinsurance - room).max(0);
                    for part in [&mut coinsurance, &mut deductible, &mut copay] {
                        let cut = excess.min(*part);
                        *part -= cut;
                        excess -= cut;
                    }
                    deductible_used += deductible;
                    oop_used += copay + deductible + coinsurance;
                    line.allowed = allowed;
                    line.copay = copay;
                    line.deductible = deductible;
                    line.coinsurance = coinsurance;
                    line.paid = allowed - copay - deductible - coinsurance;
                }
                person.lines.push(line);
            }
            let denial = (status == ClaimStatus::Denied)
                .then(|| rng.pick(&["CO-50", "CO-197", "CO-16", "CO-29", "CO-4"]));
            let place_of_service = if institutional {
                None
            } else {
                Some(match enc.class {
                    Class::Telehealth => "10",
                    _ if enc.urgent_care => "20",
                    _ => "11",
                })
            };
            let bill_type = match enc.class {
                Class::Inpatient => Some("0111"),
                Class::Emergency => Some("0131"),
                _ => None,
            };
            person.claims.push(Claim {
                encounter: e,
                institutional,
                status,
                received,
                paid: (status == ClaimStatus::Paid).then_some(decided),
                place_of_service,
                bill_type,
                lines: (line_start, person.lines.len()),
                denial,
            });
        }
        if plan.line_of_business != "medicaid" {
            let current = year_of(self.as_of);
            let (deductible_used, oop_used) = if year == current {
                (deductible_used, oop_used)
            } else {
                (0, 0)
            };
            person.accumulators = Some(Accumulators {
                year: current,
                deductible_used,
                oop_used,
            });
        }
    }

    fn pharmacy(&self, rng: &mut Rng, header: &Header, demo: &Demographics, person: &mut Person) {
        let Some(member) = &person.member else {
            return;
        };
        if !member.rx {
            return;
        }
        let plan = member.plan;
        let retail = choose(
            rng,
            &[
                &header.local[demo.metro].pharmacies,
                &header.global.pharmacies,
            ],
        );
        let uses_mail = rng.chance(0.15);
        for (m, med) in person.medications.iter().enumerate() {
            let drug = &DRUGS[med.drug];
            let ninety = drug.chronic && (uses_mail || rng.chance(0.3));
            let (quantity, days_supply, refills) = if !drug.chronic {
                (
                    i64::from(drug.units_per_fill),
                    i64::from(drug.days_supply),
                    0,
                )
            } else if ninety {
                (
                    i64::from(drug.units_per_fill) * 3,
                    i64::from(drug.days_supply) * 3,
                    3,
                )
            } else {
                (
                    i64::from(drug.units_per_fill),
                    i64::from(drug.days_supply),
                    11,
                )
            };
            let pharmacy = if drug.chronic && uses_mail { 0 } else { retail };
            let written = med.start;
            let status = if !drug.chronic {
                "completed"
            } else if written + 365 > self.as_of {
                "active"
            } else {
                "expired"
            };
            let p = person.prescriptions.len();
            person.prescriptions.push(Prescription {
                medication: m,
                pharmacy,
                quantity,
                days_supply,
                refills,
                written,
                status,
            });
            let mut day = written + rng.range(0, 2) as Day;
            for number in 0..=refills {
                if day > self.as_of {
                    break;
                }
                let jitter = rng.range(900, 1_100);
                let reject = rng.chance(0.02).then(|| rng.pick(&["79", "75", "70"]));
                if day >= member.start {
                    let ingredient_cost =
                        (quantity * drug.unit_cost_mills * jitter / 1_000 + 5) / 10;
                    let dispensing_fee = if header.pharmacies[pharmacy].mail_order {
                        0
                    } else {
                        175
                    };
                    let copay = plan.rx_copays[usize::from(drug.tier.clamp(1, 3)) - 1]
                        * if ninety { 2 } else { 1 };
                    person.fills.push(Fill {
                        prescription: p,
                        number,
                        date: day,
                        ingredient_cost,
                        dispensing_fee,
                        patient_pay: copay.min(ingredient_cost + dispensing_fee),
                        reject,
                    });
                }
                let gap = if rng.chance(0.15) {
                    rng.range(5, 25)
                } else {
                    rng.range(-3, 3)
                };
                day += (days_supply + gap) as Day;
            }
        }
    }

    fn trial(&self, rng: &mut Rng, header: &Header, demo: &Demographics, person: &mut Person) {
        if !person.has(DIABETES) || !(18..=75).contains(&demo.age) || header.sites.is_empty() {
            return;
        }
        if !rng.chance(0.05) {
            return;
        }
        let site = choose(
            rng,
            &[&header.local[demo.metro].sites, &header.global.sites],
        );
        let arm = rng.index(header.arms.len());
        let lower = header.sites[site].activation.max(header.study.start);
        let upper = self.as_of - 30;
        if lower > upper {
            return;
        }
        let screening = lower + rng.below((upper - lower) as u64 + 1) as Day;
        let enrollment = (screening + rng.range(7, 28) as Day).min(self.as_of - 1);
        let placebo = ARMS[header.arms[arm].info].2 == "PLACEBO_COMPARATOR";
        let mut withdrawn = false;
        let window = i64::from(self.as_of - enrollment - 1).min(364);
        if window >= 1 {
            let count = rng.weighted(&[35, 35, 20, 10]);
            for _ in 0..count {
                let weights: [u32; N_ADVERSE_EVENTS] = std::array::from_fn(|i| {
                    let t = &ADVERSE_EVENTS[i];
                    if placebo {
                        t.4
                    } else {
                        t.3
                    }
                });
                let term = rng.weighted(&weights);
                let severity = rng.pick_weighted(&[("MILD", 65), ("MODERATE", 28), ("SEVERE", 7)]);
                let serious = rng.chance(if severity == "SEVERE" { 0.4 } else { 0.02 });
                let relationship = if placebo {
                    rng.pick_weighted(&[
                        ("NOT RELATED", 60),
                        ("POSSIBLY RELATED", 30),
                        ("RELATED", 10),
                    ])
                } else {
                    rng.pick_weighted(&[
                        ("NOT RELATED", 30),
                        ("POSSIBLY RELATED", 35),
                        ("RELATED", 35),
                    ])
                };
                let action = if severity == "SEVERE" {
                    rng.pick_weighted(&[
                        ("DRUG WITHDRAWN", 30),
                        ("DRUG INTERRUPTED", 40),
                        ("DOSE NOT CHANGED", 30),
                    ])
                } else {
                    rng.pick_weighted(&[("DOSE NOT CHANGED", 85), ("DRUG INTERRUPTED", 15)])
                };
                withdrawn |= action == "DRUG WITHDRAWN";
                let grade = match severity {
                    "MILD" => 1,
                    "MODERATE" => 2,
                    _ if serious && rng.chance(0.3) => 4,
                    _ => 3,
                };
                let start = enrollment + rng.range(1, window) as Day;
                let end = start + rng.range(1, 21) as Day;
                let (end, outcome) = if end < self.as_of {
                    (
                        Some(end),
                        if grade >= 3 && rng.chance(0.1) {
                            "RECOVERED/RESOLVED WITH SEQUELAE"
                        } else {
                            "RECOVERED/RESOLVED"
                        },
                    )
                } else {
                    (
                        None,
                        if rng.chance(0.7) {
                            "RECOVERING/RESOLVING"
                        } else {
                            "NOT RECOVERED/NOT RESOLVED"
                        },
                    )
                };
                person.adverse_events.push(AdverseEvent {
                    term,
                    severity,
                    serious,
                    relationship,
                    action,
                    outcome,
                    grade,
                    start,
                    end,
                });
            }
        }
        let status = if withdrawn || rng.chance(0.1) {
            "discontinued"
        } else if enrollment + 364 <= self.as_of {
            "completed"
        } else {
            "enrolled"
        };
        person.subject = Some(Subject {
            site,
            arm,
            screening,
            enrollment,
            status,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit_matches_the_cms_example() {
        // CMS's published example: 123456789 -> 1234567893.
        assert_eq!(npi(123_456_789), 1_234_567_893);
    }

    #[test]
    fn npi_bases_are_distinct_nine_digit_numbers() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..10_000 {
            let base = npi_base(42, n);
            assert!((100_000_000..200_000_000).contains(&base));
            assert!(seen.insert(base));
        }
    }
}
