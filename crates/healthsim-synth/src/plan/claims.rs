//! Health plan enrollment and medical claims: one claim per covered, submitted visit, its lines
//! (procedures) adjudicated in integer cents against the plan's benefit design, and the plan
//! year's accumulators.
//!
//! Money stays coherent by construction: billed ≥ allowed ≥ paid per line, and deductible + copay
//! + coinsurance = allowed − paid.

use crate::rng::Rng;
use crate::vocab::claims::{
    preventive_visit, Plan, Proc, COMMERCIAL_PLANS, CPT_36415, CPT_80048, CPT_80061, CPT_83036,
    CPT_83880, CPT_84443, CPT_84484, CPT_85025, CPT_99203, CPT_99204, CPT_99212, CPT_99213,
    CPT_99214, CPT_99215, CPT_99283, CPT_99284, CPT_99285, MEDICAID_PLAN, MEDICARE_PLANS, REV_LAB,
    REV_PHARMACY, REV_ROOM_BOARD,
};
use crate::vocab::clinical::ACUTES;

use super::calendar::{day_of, month_start, year_of, Day};
use super::clinical::{
    Class, PANEL_A1C, PANEL_BMP, PANEL_BNP, PANEL_CBC, PANEL_LIPID, PANEL_TROPONIN, PANEL_TSH,
};
use super::person::Demographics;
use super::{Person, PersonPlanner};

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

impl PersonPlanner {
    pub(super) fn membership(&self, rng: &mut Rng, demo: &Demographics, person: &mut Person) {
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

    pub(super) fn claims(&self, rng: &mut Rng, demo: &Demographics, person: &mut Person) {
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
}
