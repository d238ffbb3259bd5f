//! Rendering who a person is: the demographics column group repeated on every person-like row,
//! and the patients row.

use crate::plan::person::Demographics;
use crate::plan::Person;
use crate::vocab::people::{HISPANIC, NOT_HISPANIC};
use crate::vocab::places::CITIES;

use super::text::{id, patient_id, person_id, phone, provider_id, Buf};
use super::Emit;

/// Inline demographics (the `DEMOGRAPHICS` column group), identical on every person-like row.
pub(super) fn demographics(e: &mut impl Emit, d: &Demographics, index: u64) {
    let c = &CITIES[d.city];
    e.str("given_name", d.given);
    e.opt_str("middle_name", d.middle);
    e.str("family_name", d.family);
    e.date("birth_date", d.birth);
    e.str("gender", d.gender.code());
    e.str("race", d.race);
    e.str(
        "ethnicity",
        if d.hispanic { HISPANIC } else { NOT_HISPANIC },
    );
    // Area numbers 900-999 are never issued, so these cannot be real SSNs; unique per index.
    let mut ssn = Buf::new();
    ssn.push_str("9")
        .push_padded(index / 1_000_000 % 100, 2)
        .push_str("-")
        .push_padded(index / 10_000 % 100, 2)
        .push_str("-")
        .push_padded(index % 10_000, 4);
    e.str("ssn", ssn.as_str());
    let mut address = Buf::new();
    address
        .push_padded(u64::from(d.street_no), 1)
        .push_str(" ")
        .push_str(d.street);
    if let Some(apt) = d.apartment {
        address.push_str(" Apt ").push_padded(u64::from(apt), 1);
    }
    e.str("address", address.as_str());
    e.str("city", c.name);
    e.str("state", c.state);
    e.str("postal_code", d.zip);
    e.str("county_fips", c.county_fips);
    e.str("phone", phone(d.city, d.phone_suffix).as_str());
    let mut email = Buf::new();
    for (k, part) in [d.given, d.family].into_iter().enumerate() {
        if k > 0 {
            email.push_str(".");
        }
        for ch in part.chars().filter(char::is_ascii_alphanumeric) {
            let mut tmp = [0u8; 4];
            email.push_str(ch.to_ascii_lowercase().encode_utf8(&mut tmp));
        }
    }
    email.push_padded(index % 1000, 1).push_str("@example.com");
    e.str("email", email.as_str());
}

/// A patients row; `pcp` is `None` in the patients-only mix (no providers exist there).
pub(super) fn patient(e: &mut impl Emit, d: &Demographics, ix: u64, pcp: Option<usize>) {
    e.begin("patients", 22);
    e.str("patient_id", patient_id(ix).as_str());
    if pcp.is_some() {
        e.str("person_id", person_id(ix).as_str());
    }
    e.str("mrn", id("MRN", ix, 8).as_str());
    demographics(e, d, ix);
    e.opt_str("marital_status", d.marital);
    e.str("language", d.language);
    if let Some(pcp) = pcp {
        e.str("primary_care_provider_id", provider_id(pcp).as_str());
    }
    e.end();
}

/// Renders the patients-only row of a person.
pub(crate) fn patient_only(p: &Person, e: &mut impl Emit) {
    if let Some(d) = &p.demo {
        if e.wants("patients") {
            patient(e, d, p.index, None);
        }
    }
}
