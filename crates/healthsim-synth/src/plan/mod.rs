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
//!
//! Scenario-wide pools are planned once ([`header`]); people one at a time by [`PersonPlanner`],
//! whose stages live with their product: [`person`] (demographics), [`clinical`] (conditions,
//! allergies, visits with their vitals, diagnoses and labs, medications), [`claims`] (enrollment,
//! claims, accumulators), [`pharmacy`] (prescriptions and fills) and [`trial`] (subjects and
//! adverse events). [`calendar`] holds the day and timestamp arithmetic they share. The state
//! every stage reads or fills — [`Person`], the planner, the shared helpers — lives here, so the
//! product modules depend on this module and on earlier products, never on each other in a
//! circle. The order of the stages is the order of draws from the person's random stream: moving
//! a draw changes every generated scenario.

pub(crate) mod calendar;
pub(crate) mod claims;
pub(crate) mod clinical;
pub(crate) mod header;
pub(crate) mod person;
pub(crate) mod pharmacy;
pub(crate) mod trial;

use crate::rng::Rng;
use crate::vocab::people::{FEMALE_NAMES, MALE_NAMES};

use calendar::Day;
use claims::{Accumulators, Claim, Line, Member};
use clinical::{Allergy, Diagnosis, Encounter, Lab, Medication, Vital};
use header::Header;
use person::Demographics;
use pharmacy::{Fill, Prescription};
use trial::{AdverseEvent, Subject};

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

/// The first non-empty candidate list, then one of its members.
fn choose(rng: &mut Rng, lists: &[&[usize]]) -> usize {
    for list in lists {
        if !list.is_empty() {
            return rng.pick(list);
        }
    }
    0
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
}
