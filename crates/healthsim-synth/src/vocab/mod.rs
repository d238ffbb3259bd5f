//! The generator's vocabularies: names, places, codes, prices and prevalences.
//!
//! Codes come from the real terminologies each table imitates: ICD-10-CM diagnoses, CPT / HCPCS
//! procedures with UB-04 revenue codes, LOINC laboratory tests, RxNorm clinical drugs, NUCC provider
//! taxonomy, CARC adjustment reasons and MedDRA preferred terms. NDCs are plausible 11-digit
//! package codes, not checked against the FDA directory. Prevalences are rounded US adult figures
//! (CDC / NHANES orders of magnitude) by age band; prices are typical US list charges. The data is
//! synthetic: names are common first and family names, SSNs start with 9 (never issued) and phone
//! numbers use the fictional 555-01xx range.
//!
//! One module per domain, each read by the planner of the same product: [`people`] and
//! [`places`] (who people are and where they live), [`providers`] (the care network), [`clinical`]
//! (conditions, visits, labs, allergies), [`claims`] (procedures and health plans), [`pharmacy`]
//! (drugs and pharmacies) and [`trial`]. Tables refer to each other by index (a condition's drugs
//! are indexes into [`pharmacy::DRUGS`]), so reordering a table changes generated data.

pub(crate) mod claims;
pub(crate) mod clinical;
pub(crate) mod people;
pub(crate) mod pharmacy;
pub(crate) mod places;
pub(crate) mod providers;
pub(crate) mod trial;
