//! The header: the scenario-wide reference pools planned before the first person — providers,
//! facilities, pharmacies and the trial's study, sites and arms — and the indexes people are
//! matched against (by metro and role).
//!
//! The header draws from its own random stream (0), so planning people never shifts it: a person's
//! data depends only on the seed, the population size (through the header) and the person's index.

use crate::rng::Rng;
use crate::vocab::people::FAMILY_NAMES;
use crate::vocab::pharmacy::RETAIL_PHARMACIES;
use crate::vocab::places::{CITIES, STREETS};
use crate::vocab::providers::{
    FacilityKind, Role, CLINIC_NAMES, ENDOCRINOLOGY, FACILITY_CYCLE, FAMILY_MEDICINE,
    HOSPITAL_NAMES, INTERNAL_MEDICINE, SPECIALTIES, SPECIALTY_CYCLE, URGENT_CARE_NAMES,
};
use crate::vocab::trial::ARMS;

use super::calendar::Day;
use super::{choose, given_name, Gender};

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
pub(super) struct Pools {
    pub(super) adult_pcp: Vec<usize>,
    pub(super) child_pcp: Vec<usize>,
    pub(super) emergency: Vec<usize>,
    pub(super) hospitalist: Vec<usize>,
    pub(super) by_specialty: Vec<Vec<usize>>,
    pub(super) hospitals: Vec<usize>,
    pub(super) clinics: Vec<usize>,
    pub(super) urgent: Vec<usize>,
    pub(super) pharmacies: Vec<usize>,
    pub(super) sites: Vec<usize>,
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
    pub(super) metro_weights: Vec<u32>,
    pub(crate) providers: Vec<Provider>,
    pub(crate) facilities: Vec<Facility>,
    pub(crate) pharmacies: Vec<Pharmacy>,
    pub(crate) study: Study,
    pub(crate) sites: Vec<Site>,
    pub(crate) arms: Vec<Arm>,
    pub(super) local: Vec<Pools>,
    pub(super) global: Pools,
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
