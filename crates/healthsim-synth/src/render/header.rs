//! Rendering the header: providers, facilities, pharmacies, the study, its sites and treatment
//! arms, in the order later tables reference them.

use crate::plan::header::Header;
use crate::vocab::places::CITIES;
use crate::vocab::providers::{FacilityKind, SPECIALTIES};
use crate::vocab::trial::{ARMS, STUDY};

use super::text::{
    arm_id, facility_id, id, named, pharmacy_id, phone, provider_id, site_id, Buf, STUDY_ID,
};
use super::Emit;

/// The header tables in emission order.
pub(crate) const HEADER_TABLES: [&str; 6] = [
    "providers",
    "facilities",
    "pharmacies",
    "studies",
    "sites",
    "treatment_arms",
];

/// How many entities header table `t` (index into [`HEADER_TABLES`]) has.
pub(crate) fn header_len(header: &Header, t: usize) -> usize {
    match t {
        0 => header.providers.len(),
        1 => header.facilities.len(),
        2 => header.pharmacies.len(),
        3 => 1,
        4 => header.sites.len(),
        5 => header.arms.len(),
        _ => 0,
    }
}

/// Renders entity `i` of header table `t`.
pub(crate) fn header_entity(header: &Header, t: usize, i: usize, e: &mut impl Emit) {
    match t {
        0 => provider(header, i, e),
        1 => facility(header, i, e),
        2 => pharmacy(header, i, e),
        3 => study(header, e),
        4 => site(header, i, e),
        _ => arm(header, i, e),
    }
}

fn provider(header: &Header, i: usize, e: &mut impl Emit) {
    let p = &header.providers[i];
    let s = &SPECIALTIES[p.specialty];
    e.begin("providers", 14);
    e.str("provider_id", provider_id(i).as_str());
    e.str("npi", id("", p.npi, 10).as_str());
    e.str("given_name", p.given);
    e.str("family_name", p.family);
    e.str("credential", p.credential);
    e.str("gender", p.gender.code());
    e.str("specialty", s.name);
    e.str("taxonomy_code", s.taxonomy);
    e.str("organization_name", named(s.practice, p.city).as_str());
    org_address(e, p.city, p.street_no, p.street, p.phone_suffix);
    e.end();
}

fn facility(header: &Header, i: usize, e: &mut impl Emit) {
    let f = &header.facilities[i];
    e.begin("facilities", 11);
    e.str("facility_id", facility_id(i).as_str());
    e.str("name", named(f.name, f.city).as_str());
    e.str("facility_type", f.kind.code());
    e.str("npi", id("", f.npi, 10).as_str());
    e.str("county_fips", CITIES[f.city].county_fips);
    if let Some(beds) = f.beds {
        e.int("bed_count", i64::from(beds));
    }
    org_address(e, f.city, f.street_no, f.street, f.phone_suffix);
    e.end();
}

fn pharmacy(header: &Header, i: usize, e: &mut impl Emit) {
    let p = &header.pharmacies[i];
    e.begin("pharmacies", 11);
    e.str("pharmacy_id", pharmacy_id(i).as_str());
    e.str("ncpdp_id", id("", u64::from(p.ncpdp), 7).as_str());
    e.str("npi", id("", p.npi, 10).as_str());
    e.str("name", named(p.name, p.city).as_str());
    e.str(
        "pharmacy_type",
        if p.mail_order { "mail_order" } else { "retail" },
    );
    e.opt_str("chain_name", p.chain);
    org_address(e, p.city, p.street_no, p.street, p.phone_suffix);
    e.end();
}

fn study(header: &Header, e: &mut impl Emit) {
    let s = &header.study;
    e.begin("studies", 11);
    e.str("study_id", STUDY_ID);
    e.str("protocol_number", STUDY.protocol);
    e.str("title", STUDY.title);
    e.str("phase", STUDY.phase);
    e.str("therapeutic_area", STUDY.therapeutic_area);
    e.str("indication", STUDY.indication);
    e.str("sponsor", STUDY.sponsor);
    e.str("status", "active");
    e.date("start_date", s.start);
    e.date("end_date", s.end);
    e.int("planned_enrollment", i64::from(s.planned));
    e.end();
}

fn site(header: &Header, j: usize, e: &mut impl Emit) {
    let s = &header.sites[j];
    let f = &header.facilities[s.facility];
    debug_assert!(f.kind == FacilityKind::Hospital);
    e.begin("sites", 11);
    e.str("site_id", site_id(j).as_str());
    e.str("study_id", STUDY_ID);
    e.str("facility_id", facility_id(s.facility).as_str());
    e.str(
        "investigator_provider_id",
        provider_id(s.investigator).as_str(),
    );
    e.str("site_number", id("", u64::from(s.number), 3).as_str());
    e.str("name", named(f.name, f.city).as_str());
    e.str("city", CITIES[s.city].name);
    e.str("state", CITIES[s.city].state);
    e.str("country", "US");
    e.str("status", "active");
    e.date("activation_date", s.activation);
    e.end();
}

fn arm(header: &Header, k: usize, e: &mut impl Emit) {
    let a = &header.arms[k];
    let (code, name, kind, description) = ARMS[a.info];
    e.begin("treatment_arms", 7);
    e.str("arm_id", arm_id(a.info).as_str());
    e.str("study_id", STUDY_ID);
    e.str("arm_code", code);
    e.str("name", name);
    e.str("arm_type", kind);
    e.str("description", description);
    e.int("planned_size", i64::from(a.planned));
    e.end();
}

fn org_address(e: &mut impl Emit, city: usize, street_no: u32, street: &str, phone_suffix: u32) {
    let c = &CITIES[city];
    let mut address = Buf::new();
    address
        .push_padded(u64::from(street_no), 1)
        .push_str(" ")
        .push_str(street);
    e.str("address", address.as_str());
    e.str("city", c.name);
    e.str("state", c.state);
    e.str("postal_code", c.zips[street_no as usize % c.zips.len()]);
    e.str("phone", phone(city, phone_suffix).as_str());
}
