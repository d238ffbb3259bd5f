//! Trial participation: some adults with type 2 diabetes are enrolled at a site of the scenario's
//! study, in one of its arms, with the adverse events they report.

use crate::rng::Rng;
use crate::vocab::clinical::DIABETES;
use crate::vocab::trial::{ADVERSE_EVENTS, ARMS, N_ADVERSE_EVENTS};

use super::calendar::Day;
use super::header::Header;
use super::person::Demographics;
use super::{choose, Person, PersonPlanner};

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

impl PersonPlanner {
    pub(super) fn trial(
        &self,
        rng: &mut Rng,
        header: &Header,
        demo: &Demographics,
        person: &mut Person,
    ) {
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
