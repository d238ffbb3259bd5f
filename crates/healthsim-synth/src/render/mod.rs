//! Rendering: planned records to JSON objects with canonical column names, in registry order.
//!
//! Nothing here draws random numbers (see `plan`). Ids are derived from positions: the person's
//! 1-based index, then the record's 1-based number within the person (`enc-000001-03`), so every id
//! is unique within its table and identical from run to run.
//!
//! [`Emit`] is the one interface renderers write to; [`emit`] has its two implementations (JSON
//! values for the iterator, JSON text for the writers) and [`text`] the allocation-free ids and
//! formatted values. The renderers follow the planner's products: [`header`] (the reference
//! pools), [`person`](mod@person), [`clinical`], [`claims`], [`pharmacy`] and [`trial`](mod@trial);
//! [`person()`] renders one planned person in an order where every entity comes after the
//! entities it references.

pub(crate) mod claims;
pub(crate) mod clinical;
pub(crate) mod emit;
pub(crate) mod header;
pub(crate) mod person;
pub(crate) mod pharmacy;
pub(crate) mod text;
pub(crate) mod trial;

use crate::plan::calendar::{Day, Ts};
use crate::plan::header::Header;
use crate::plan::Person;

use claims::membership;
use clinical::{encounters, medications};
use person::{demographics, patient};
use text::{patient_id, person_id, pid, Buf};
use trial::trial;

/// Where rendered entities go. Renderers call `begin`, then one method per present field in
/// registry column order, then `end`; absent values are simply not emitted.
pub(crate) trait Emit {
    /// Whether entities of `table` should be rendered at all.
    fn wants(&self, table: &'static str) -> bool;
    /// Starts an entity of `table` with about `fields` fields.
    fn begin(&mut self, table: &'static str, fields: usize);
    /// A string field.
    fn str(&mut self, key: &'static str, value: &str);
    /// An integer field.
    fn int(&mut self, key: &'static str, value: i64);
    /// A number field (non-finite numbers become `null`, as in `serde_json`).
    fn num(&mut self, key: &'static str, value: f64);
    /// An array of strings.
    fn str_array(&mut self, key: &'static str, values: &[&str]);
    /// Finishes the entity.
    fn end(&mut self);

    /// A string field if present.
    fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    /// A date field, `YYYY-MM-DD`.
    fn date(&mut self, key: &'static str, day: Day) {
        let mut buf = Buf::new();
        buf.date(day);
        self.str(key, buf.as_str());
    }

    /// A date field if present.
    fn opt_date(&mut self, key: &'static str, day: Option<Day>) {
        if let Some(d) = day {
            self.date(key, d);
        }
    }

    /// A timestamp field, `YYYY-MM-DDTHH:MM:SSZ`.
    fn ts(&mut self, key: &'static str, ts: Ts) {
        let mut buf = Buf::new();
        buf.ts(ts);
        self.str(key, buf.as_str());
    }

    /// Money from cents: a JSON number with at most two decimals.
    fn money(&mut self, key: &'static str, cents: i64) {
        self.num(key, cents as f64 / 100.0);
    }
}

/// Renders one planned person (MultiProduct), dependents after what they reference.
pub(crate) fn person(header: &Header, as_of: Day, p: &Person, e: &mut impl Emit) {
    let Some(d) = &p.demo else { return };
    let ix = p.index;
    let pat = patient_id(ix);
    let pat = pat.as_str();

    if e.wants("persons") {
        e.begin("persons", 17);
        e.str("person_id", person_id(ix).as_str());
        demographics(e, d, ix);
        e.end();
    }
    if e.wants("patients") {
        patient(e, d, ix, Some(p.pcp));
    }
    if e.wants("allergies") {
        for (k, a) in p.allergies.iter().enumerate() {
            e.begin("allergies", 10);
            e.str("allergy_id", pid("alg-", ix, k + 1, 1).as_str());
            e.str("patient_id", pat);
            e.str("allergen", a.allergen.name);
            e.str("allergen_code", a.allergen.code);
            e.str("category", a.allergen.category);
            e.str("reaction", a.reaction);
            e.str("severity", a.severity);
            e.str(
                "criticality",
                if a.reaction == "Anaphylaxis" {
                    "high"
                } else {
                    "low"
                },
            );
            e.str("clinical_status", "active");
            e.date("onset_date", a.onset);
            e.end();
        }
    }
    encounters(p, d, e);
    medications(p, as_of, e);
    if let Some(member) = &p.member {
        membership(p, d, member, as_of, e);
    }
    trial(header, p, d, e);
}
