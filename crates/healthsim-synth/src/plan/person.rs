//! Who a person is: demographics (name, birth, race and ethnicity, address in one of the
//! scenario's metros, language), drawn first from the person's random stream.
//!
//! Every person-like row of one person (persons, patients, members, rx members, subjects) repeats
//! these same demographics.

use crate::rng::Rng;
use crate::vocab::people::{FAMILY_NAMES, LANGUAGES, MIDDLE_NAMES, RACES};
use crate::vocab::places::{CITIES, STREETS};

use super::calendar::{date_of, Day};
use super::header::Header;
use super::{given_name, Gender, PersonPlanner};

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

impl PersonPlanner {
    pub(super) fn demographics(&self, rng: &mut Rng, header: &Header) -> Demographics {
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
        // A birthday anywhere in the year before the age's: every day of the year is someone's
        // birthday. Infants are at least 30 days old, so they have a little history before
        // `as_of` (the floor applies to them alone: applied to every age it left the 30 days
        // before `as_of`'s day of the year with no birthdays at all).
        let within_year = if age_years == 0 {
            30 + rng.below(335)
        } else {
            rng.below(365)
        };
        let birth = self.as_of - (age_years * 365 + age_years / 4) as Day - within_year as Day;
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
}
