//! Small formatted values without allocation: a stack string ([`Buf`]) for dates, timestamps and
//! ids, the ids themselves, phone numbers and name patterns.
//!
//! Ids are derived from positions (`pat-000001`, `enc-000001-03`), never drawn at random, so they
//! are unique within a table and identical from run to run.

use chrono::Datelike;

use crate::plan::calendar::{date_of, day_of, Day, Ts, DAY_SECS};
use crate::vocab::places::CITIES;
use crate::vocab::trial::ARMS;

/// A small stack string for ids, dates and other short formatted values (no allocation).
pub(crate) struct Buf {
    bytes: [u8; 96],
    len: usize,
}

impl Buf {
    pub(crate) fn new() -> Self {
        Buf {
            bytes: [0; 96],
            len: 0,
        }
    }

    /// Appends `s` whole, or nothing if it does not fit (never the case for generated values).
    pub(crate) fn push_str(&mut self, s: &str) -> &mut Self {
        if let Some(dest) = self.bytes.get_mut(self.len..self.len + s.len()) {
            dest.copy_from_slice(s.as_bytes());
            self.len += s.len();
        }
        self
    }

    /// Appends `n` in decimal, zero-padded to `width` digits.
    pub(crate) fn push_padded(&mut self, n: u64, width: usize) -> &mut Self {
        let mut digits = [b'0'; 20];
        let mut len = 0;
        let mut rest = n;
        loop {
            digits[19 - len] = b'0' + (rest % 10) as u8;
            len += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let len = len.max(width.min(20));
        let text = &digits[20 - len..];
        if let Some(dest) = self.bytes.get_mut(self.len..self.len + len) {
            dest.copy_from_slice(text);
            self.len += len;
        }
        self
    }

    /// Appends `YYYY-MM-DD`.
    pub(crate) fn date(&mut self, day: Day) -> &mut Self {
        match date_of(day) {
            Some(d) => self
                .push_padded(d.year().clamp(0, 9999) as u64, 4)
                .push_str("-")
                .push_padded(u64::from(d.month()), 2)
                .push_str("-")
                .push_padded(u64::from(d.day()), 2),
            None => self.push_str("0001-01-01"),
        }
    }

    /// Appends `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) fn ts(&mut self, ts: Ts) -> &mut Self {
        let secs = ts.rem_euclid(DAY_SECS) as u64;
        self.date(day_of(ts))
            .push_str("T")
            .push_padded(secs / 3600, 2)
            .push_str(":")
            .push_padded(secs / 60 % 60, 2)
            .push_str(":")
            .push_padded(secs % 60, 2)
            .push_str("Z")
    }

    /// The text so far.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

pub(super) const PERSON_WIDTH: usize = 6;

pub(super) const STUDY_ID: &str = "stu-001";

/// `prefix` + zero-padded `n` (`pat-000001`).
pub(super) fn id(prefix: &str, n: u64, width: usize) -> Buf {
    let mut b = Buf::new();
    b.push_str(prefix).push_padded(n, width);
    b
}

/// Person-scoped id: `prefix` + person (6 digits) + `-` + record number (`enc-000001-03`).
pub(super) fn pid(prefix: &str, person: u64, n: usize, width: usize) -> Buf {
    let mut b = Buf::new();
    b.push_str(prefix)
        .push_padded(person, PERSON_WIDTH)
        .push_str("-")
        .push_padded(n as u64, width);
    b
}

pub(super) fn person_id(p: u64) -> Buf {
    id("per-", p, PERSON_WIDTH)
}
pub(super) fn patient_id(p: u64) -> Buf {
    id("pat-", p, PERSON_WIDTH)
}
pub(super) fn member_id(p: u64) -> Buf {
    id("mem-", p, PERSON_WIDTH)
}
pub(super) fn rx_member_id(p: u64) -> Buf {
    id("rxm-", p, PERSON_WIDTH)
}
pub(super) fn subject_id(p: u64) -> Buf {
    id("sub-", p, PERSON_WIDTH)
}
pub(super) fn encounter_id(p: u64, e: usize) -> Buf {
    pid("enc-", p, e + 1, 2)
}
pub(super) fn claim_id(p: u64, e: usize) -> Buf {
    pid("clm-", p, e + 1, 2)
}
pub(super) fn prescription_id(p: u64, m: usize) -> Buf {
    pid("rx-", p, m + 1, 2)
}
pub(super) fn provider_id(i: usize) -> Buf {
    id("prv-", i as u64 + 1, 5)
}
pub(super) fn facility_id(i: usize) -> Buf {
    id("fac-", i as u64 + 1, 4)
}
pub(super) fn pharmacy_id(i: usize) -> Buf {
    id("phm-", i as u64 + 1, 4)
}
pub(super) fn site_id(j: usize) -> Buf {
    id("site-", j as u64 + 1, 3)
}
pub(super) fn arm_id(k: usize) -> Buf {
    let mut b = Buf::new();
    b.push_str("arm-");
    for ch in ARMS[k].0.chars() {
        let mut tmp = [0u8; 4];
        b.push_str(ch.to_ascii_lowercase().encode_utf8(&mut tmp));
    }
    b
}

pub(super) fn phone(city: usize, suffix: u32) -> Buf {
    let mut b = Buf::new();
    b.push_str(CITIES[city].area_code)
        .push_str("-555-01")
        .push_padded(u64::from(suffix % 100), 2);
    b
}

/// A name pattern with `{city}` replaced by the city name.
pub(super) fn named(pattern: &str, city: usize) -> Buf {
    let mut b = Buf::new();
    match pattern.split_once("{city}") {
        Some((before, after)) => b
            .push_str(before)
            .push_str(CITIES[city].name)
            .push_str(after),
        None => b.push_str(pattern),
    };
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_format_as_expected() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 2, 9)
            .map(|d| d.num_days_from_ce())
            .unwrap_or_default();
        let mut b = Buf::new();
        b.date(day);
        assert_eq!(b.as_str(), "2024-02-09");
        let mut b = Buf::new();
        b.ts(crate::plan::calendar::at(day, 3_723));
        assert_eq!(b.as_str(), "2024-02-09T01:02:03Z");
        assert_eq!(id("pat-", 1, 6).as_str(), "pat-000001");
        assert_eq!(id("pat-", 12_345_678, 6).as_str(), "pat-12345678");
        assert_eq!(pid("enc-", 7, 3, 2).as_str(), "enc-000007-03");
        assert_eq!(arm_id(0).as_str(), "arm-pbo");
        assert_eq!(
            named("{city} Urgent Care", 0).as_str(),
            "Phoenix Urgent Care"
        );
        let mut b = Buf::new();
        b.push_str(&"x".repeat(90)).push_str("too long");
        assert_eq!(b.as_str().len(), 90);
    }
}
