//! The pharmacy benefit: a prescription per medication of a member with pharmacy coverage, and a
//! pharmacy claim per fill, priced in integer cents (ingredient cost + dispensing fee = patient
//! pay + plan paid).

use crate::rng::Rng;
use crate::vocab::pharmacy::DRUGS;

use super::calendar::Day;
use super::header::Header;
use super::person::Demographics;
use super::{choose, Person, PersonPlanner};

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

impl PersonPlanner {
    pub(super) fn pharmacy(
        &self,
        rng: &mut Rng,
        header: &Header,
        demo: &Demographics,
        person: &mut Person,
    ) {
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
}
