//! Rendering: planned records to JSON objects with canonical column names, in registry order.
//!
//! Nothing here draws random numbers (see `plan.rs`). Ids are derived from positions: the person's
//! 1-based index, then the record's 1-based number within the person (`enc-000001-03`), so every id
//! is unique within its table and identical from run to run.

use std::collections::VecDeque;

use chrono::Datelike;
use serde_json::{Map, Number, Value};

use super::plan::calendar::{date_of, day_of, Day, Ts, DAY_SECS};
use super::plan::claims::{ClaimStatus, Member};
use super::plan::header::Header;
use super::plan::person::Demographics;
use super::plan::{round_to, Gender, Person};
use super::vocab::people::{HISPANIC, NOT_HISPANIC};
use super::vocab::pharmacy::DRUGS;
use super::vocab::places::CITIES;
use super::vocab::providers::{FacilityKind, SPECIALTIES};
use super::vocab::trial::{ADVERSE_EVENTS, ARMS, STUDY};
use super::{ENVELOPE_ENTITY_KEY, ENVELOPE_TYPE_KEY};

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

/// Empty objects with the keys of each entity shape seen so far, in order.
///
/// Inserting into a `serde_json::Map` hashes every key (SipHash); cloning a map with the same
/// keys copies its hash index instead, and values are then filled in by position. Entities of one
/// table come in a handful of shapes (which optional fields are present), so this cache stays
/// small; it is capped anyway, and past the cap objects are built by insertion.
#[derive(Default)]
pub(crate) struct Templates {
    shapes: Vec<Shape>,
    fields: Vec<(&'static str, Value)>,
}

/// One entity shape: a table and its present keys in order, with an object of `null`s.
struct Shape {
    signature: u64,
    table: &'static str,
    keys: Vec<&'static str>,
    template: Map<String, Value>,
}

const MAX_TEMPLATES: usize = 1_024;

impl Templates {
    /// The object for `table` with `fields`, built from (or added to) the cache.
    fn object(&mut self, table: &'static str) -> Map<String, Value> {
        let mut signature = (table.as_ptr() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (key, _) in &self.fields {
            signature = (signature ^ key.as_ptr() as u64 ^ key.len() as u64)
                .wrapping_mul(0x100_0000_01B3)
                .rotate_left(23);
        }
        let fields = &self.fields;
        let same_shape = |keys: &[&str]| {
            keys.len() == fields.len() && keys.iter().zip(fields).all(|(a, (b, _))| a == b)
        };
        let found = self
            .shapes
            .iter()
            .position(|s| s.signature == signature && s.table == table && same_shape(&s.keys));
        let index = match found {
            Some(i) => Some(i),
            None if self.shapes.len() < MAX_TEMPLATES => {
                let mut template = Map::with_capacity(fields.len());
                for (key, _) in fields {
                    template.insert((*key).to_owned(), Value::Null);
                }
                // A repeated key would misalign positions: such shapes are never cached.
                (template.len() == fields.len()).then(|| {
                    let keys = fields.iter().map(|(k, _)| *k).collect();
                    self.shapes.push(Shape {
                        signature,
                        table,
                        keys,
                        template,
                    });
                    self.shapes.len() - 1
                })
            }
            None => None,
        };
        match index {
            Some(i) => {
                let mut map = self.shapes[i].template.clone();
                for (slot, (_, value)) in map.values_mut().zip(self.fields.drain(..)) {
                    *slot = value;
                }
                map
            }
            None => {
                let mut map = Map::with_capacity(self.fields.len());
                for (key, value) in self.fields.drain(..) {
                    map.insert(key.to_owned(), value);
                }
                map
            }
        }
    }
}

/// Builds `serde_json::Value` objects into a queue (the iterator).
pub(crate) struct ValueEmitter<'a> {
    /// Rendered `(table, entity)` pairs, in stream order.
    out: &'a mut VecDeque<(&'static str, Value)>,
    templates: &'a mut Templates,
    table: &'static str,
}

impl<'a> ValueEmitter<'a> {
    /// An emitter appending to `out`, reusing `templates` across calls.
    pub(crate) fn new(
        out: &'a mut VecDeque<(&'static str, Value)>,
        templates: &'a mut Templates,
    ) -> Self {
        ValueEmitter {
            out,
            templates,
            table: "",
        }
    }

    fn field(&mut self, key: &'static str, value: Value) {
        self.templates.fields.push((key, value));
    }
}

impl Emit for ValueEmitter<'_> {
    fn wants(&self, _table: &'static str) -> bool {
        true
    }

    fn begin(&mut self, table: &'static str, _fields: usize) {
        self.table = table;
        self.templates.fields.clear();
    }

    fn str(&mut self, key: &'static str, value: &str) {
        self.field(key, Value::String(value.to_owned()));
    }

    fn int(&mut self, key: &'static str, value: i64) {
        self.field(key, Value::from(value));
    }

    fn num(&mut self, key: &'static str, value: f64) {
        self.field(
            key,
            Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }

    fn str_array(&mut self, key: &'static str, values: &[&str]) {
        let items = values
            .iter()
            .map(|v| Value::String((*v).to_owned()))
            .collect();
        self.field(key, Value::Array(items));
    }

    fn end(&mut self) {
        let map = self.templates.object(self.table);
        self.out.push_back((self.table, Value::Object(map)));
    }
}

/// How a [`JsonEmitter`] frames entities.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One `{"type":..,"entity":{..}}` envelope per line.
    Lines,
    /// Entities of one table as elements of `"table":[..]` inside a document object.
    DocumentArray,
}

/// Writes entities directly as JSON text, byte for byte what serializing the iterator's values
/// would give (same key order; numbers and strings formatted by `serde_json`).
pub(crate) struct JsonEmitter {
    /// Only this table is rendered, if set.
    pub(crate) only: Option<&'static str>,
    /// The output so far (the caller drains it).
    pub(crate) buf: Vec<u8>,
    framing: Framing,
    first_field: bool,
    /// Entities written in the current document pass.
    pub(crate) pass_count: u64,
    /// Tables that have been opened in the document.
    pub(crate) tables_open: u64,
    /// Entities per table.
    pub(crate) counts: Vec<(&'static str, u64)>,
    /// The first serialization error (never expected: strings and numbers always serialize).
    pub(crate) error: Option<serde_json::Error>,
}

impl JsonEmitter {
    /// An emitter with the given framing.
    pub(crate) fn new(framing: Framing, capacity: usize) -> Self {
        JsonEmitter {
            only: None,
            buf: Vec::with_capacity(capacity),
            framing,
            first_field: true,
            pass_count: 0,
            tables_open: 0,
            counts: Vec::new(),
            error: None,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.first_field {
            self.buf.push(b',');
        }
        self.first_field = false;
        // Keys are registry column names: lowercase ASCII that needs no escaping.
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        if let Err(e) = serde_json::to_writer(&mut self.buf, value) {
            self.error.get_or_insert(e);
        }
    }
}

impl Emit for JsonEmitter {
    fn wants(&self, table: &'static str) -> bool {
        self.only.is_none_or(|only| only == table)
    }

    fn begin(&mut self, table: &'static str, _fields: usize) {
        match self.framing {
            Framing::Lines => {
                self.buf.extend_from_slice(b"{\"");
                self.buf.extend_from_slice(ENVELOPE_TYPE_KEY.as_bytes());
                self.buf.extend_from_slice(b"\":\"");
                // Table names are registry names (lowercase ASCII): no escaping needed.
                self.buf.extend_from_slice(table.as_bytes());
                self.buf.extend_from_slice(b"\",\"");
                self.buf.extend_from_slice(ENVELOPE_ENTITY_KEY.as_bytes());
                self.buf.extend_from_slice(b"\":{");
            }
            Framing::DocumentArray => {
                if self.pass_count == 0 {
                    if self.tables_open > 0 {
                        self.buf.push(b',');
                    }
                    self.buf.push(b'"');
                    self.buf.extend_from_slice(table.as_bytes());
                    self.buf.extend_from_slice(b"\":[{");
                    self.tables_open += 1;
                } else {
                    self.buf.extend_from_slice(b",{");
                }
                self.pass_count += 1;
            }
        }
        self.first_field = true;
        match self.counts.iter_mut().find(|(t, _)| *t == table) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((table, 1)),
        }
    }

    fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        self.json(value);
    }

    fn int(&mut self, key: &'static str, value: i64) {
        self.key(key);
        self.json(&value);
    }

    fn num(&mut self, key: &'static str, value: f64) {
        self.key(key);
        self.json(&value);
    }

    fn str_array(&mut self, key: &'static str, values: &[&str]) {
        self.key(key);
        self.json(values);
    }

    fn end(&mut self) {
        match self.framing {
            Framing::Lines => self.buf.extend_from_slice(b"}}\n"),
            Framing::DocumentArray => self.buf.push(b'}'),
        }
    }
}

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

// ------------------------------------------------------------------ ids and small values

const PERSON_WIDTH: usize = 6;
const STUDY_ID: &str = "stu-001";

/// `prefix` + zero-padded `n` (`pat-000001`).
fn id(prefix: &str, n: u64, width: usize) -> Buf {
    let mut b = Buf::new();
    b.push_str(prefix).push_padded(n, width);
    b
}

/// Person-scoped id: `prefix` + person (6 digits) + `-` + record number (`enc-000001-03`).
fn pid(prefix: &str, person: u64, n: usize, width: usize) -> Buf {
    let mut b = Buf::new();
    b.push_str(prefix)
        .push_padded(person, PERSON_WIDTH)
        .push_str("-")
        .push_padded(n as u64, width);
    b
}

fn person_id(p: u64) -> Buf {
    id("per-", p, PERSON_WIDTH)
}
fn patient_id(p: u64) -> Buf {
    id("pat-", p, PERSON_WIDTH)
}
fn member_id(p: u64) -> Buf {
    id("mem-", p, PERSON_WIDTH)
}
fn rx_member_id(p: u64) -> Buf {
    id("rxm-", p, PERSON_WIDTH)
}
fn subject_id(p: u64) -> Buf {
    id("sub-", p, PERSON_WIDTH)
}
fn encounter_id(p: u64, e: usize) -> Buf {
    pid("enc-", p, e + 1, 2)
}
fn claim_id(p: u64, e: usize) -> Buf {
    pid("clm-", p, e + 1, 2)
}
fn prescription_id(p: u64, m: usize) -> Buf {
    pid("rx-", p, m + 1, 2)
}
fn provider_id(i: usize) -> Buf {
    id("prv-", i as u64 + 1, 5)
}
fn facility_id(i: usize) -> Buf {
    id("fac-", i as u64 + 1, 4)
}
fn pharmacy_id(i: usize) -> Buf {
    id("phm-", i as u64 + 1, 4)
}
fn site_id(j: usize) -> Buf {
    id("site-", j as u64 + 1, 3)
}
fn arm_id(k: usize) -> Buf {
    let mut b = Buf::new();
    b.push_str("arm-");
    for ch in ARMS[k].0.chars() {
        let mut tmp = [0u8; 4];
        b.push_str(ch.to_ascii_lowercase().encode_utf8(&mut tmp));
    }
    b
}

fn phone(city: usize, suffix: u32) -> Buf {
    let mut b = Buf::new();
    b.push_str(CITIES[city].area_code)
        .push_str("-555-01")
        .push_padded(u64::from(suffix % 100), 2);
    b
}

/// A name pattern with `{city}` replaced by the city name.
fn named(pattern: &str, city: usize) -> Buf {
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

// ------------------------------------------------------------------ header

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

// ------------------------------------------------------------------ people

/// Inline demographics (the `DEMOGRAPHICS` column group), identical on every person-like row.
fn demographics(e: &mut impl Emit, d: &Demographics, index: u64) {
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
fn patient(e: &mut impl Emit, d: &Demographics, ix: u64, pcp: Option<usize>) {
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

fn encounters(p: &Person, d: &Demographics, e: &mut impl Emit) {
    let ix = p.index;
    let pat = patient_id(ix);
    let pat = pat.as_str();
    let female = d.gender == Gender::F;
    let mut vital_cursor = 0;
    let mut lab_cursor = 0;
    for (n, enc) in p.encounters.iter().enumerate() {
        let enc_id = encounter_id(ix, n);
        let enc_id = enc_id.as_str();
        if e.wants("encounters") {
            e.begin("encounters", 14);
            e.str("encounter_id", enc_id);
            e.str("patient_id", pat);
            e.str("facility_id", facility_id(enc.facility).as_str());
            e.str("attending_provider_id", provider_id(enc.provider).as_str());
            e.str("encounter_class", enc.class.code());
            e.str("encounter_type", enc.kind);
            e.str("status", "finished");
            e.ts("start_datetime", enc.start);
            e.ts("end_datetime", enc.end);
            e.opt_str("admission_source", enc.admission_source);
            e.str("chief_complaint", enc.complaint);
            e.str("reason_code", enc.reason_code);
            e.opt_str("drg_code", enc.drg);
            e.opt_str("discharge_disposition", enc.disposition);
            e.end();
        }
        while let Some(v) = p.vitals.get(vital_cursor).filter(|v| v.encounter == n) {
            vital_cursor += 1;
            if e.wants("vitals") {
                e.begin("vitals", 14);
                e.str("vital_id", pid("vit-", ix, n + 1, 2).as_str());
                e.str("patient_id", pat);
                e.str("encounter_id", enc_id);
                e.ts("observation_datetime", v.at);
                e.num("height_cm", v.height_cm);
                e.num("weight_kg", v.weight_kg);
                let m = v.height_cm / 100.0;
                e.num("bmi", round_to(v.weight_kg / (m * m), 1));
                e.int("systolic_bp", v.systolic);
                e.int("diastolic_bp", v.diastolic);
                e.int("heart_rate", v.heart_rate);
                e.int("respiratory_rate", v.respiratory_rate);
                e.num("temperature_c", v.temperature_c);
                e.num("spo2", v.spo2);
                e.int("pain_score", v.pain);
                e.end();
            }
        }
        if e.wants("diagnoses") {
            for k in enc.dx.0..enc.dx.1 {
                let dx = &p.diagnoses[k];
                e.begin("diagnoses", 11);
                e.str("diagnosis_id", pid("dx-", ix, k + 1, 2).as_str());
                e.str("patient_id", pat);
                e.str("encounter_id", encounter_id(ix, dx.encounter).as_str());
                e.str("code", dx.code);
                e.str("code_system", "ICD-10-CM");
                e.str("description", dx.description);
                e.str(
                    "diagnosis_type",
                    if dx.principal {
                        "principal"
                    } else {
                        "secondary"
                    },
                );
                e.str(
                    "clinical_status",
                    if dx.abatement.is_some() {
                        "resolved"
                    } else {
                        "active"
                    },
                );
                if dx.present_on_admission {
                    e.str("present_on_admission", "Y");
                }
                e.date("onset_date", dx.onset);
                e.opt_date("abatement_date", dx.abatement);
                e.end();
            }
        }
        while let Some(lab) = p.labs.get(lab_cursor).filter(|l| l.encounter == n) {
            lab_cursor += 1;
            if e.wants("lab_results") {
                let t = lab.test;
                let (low, high) = t.range[usize::from(!female)];
                let interpretation = match (low, high) {
                    (Some(l), _) if lab.value < l => "L",
                    (_, Some(h)) if lab.value > h => "H",
                    _ => "N",
                };
                e.begin("lab_results", 14);
                e.str("lab_result_id", pid("lab-", ix, lab_cursor, 3).as_str());
                e.str("patient_id", pat);
                e.str("encounter_id", enc_id);
                e.str("loinc_code", t.loinc);
                e.str("test_name", t.name);
                e.num("value_numeric", lab.value);
                e.str("unit", t.unit);
                if let Some(l) = low {
                    e.num("reference_low", l);
                }
                if let Some(h) = high {
                    e.num("reference_high", h);
                }
                e.str("interpretation", interpretation);
                e.str("status", "final");
                e.ts("collected_datetime", lab.collected);
                e.ts("resulted_datetime", lab.resulted);
                e.end();
            }
        }
    }
}

fn medications(p: &Person, as_of: Day, e: &mut impl Emit) {
    if !e.wants("medications") {
        return;
    }
    let ix = p.index;
    for (m, med) in p.medications.iter().enumerate() {
        let drug = &DRUGS[med.drug];
        e.begin("medications", 14);
        e.str("medication_id", pid("med-", ix, m + 1, 2).as_str());
        e.str("patient_id", patient_id(ix).as_str());
        e.str("encounter_id", encounter_id(ix, med.encounter).as_str());
        e.str("rxnorm_code", drug.rxnorm);
        e.str("ndc", drug.ndc);
        e.str("drug_name", drug.name);
        e.str("dose", drug.dose);
        e.str("route", drug.route);
        e.str("frequency", drug.frequency);
        let status = match med.end {
            Some(end) if end < as_of => "completed",
            _ => "active",
        };
        e.str("status", status);
        e.date("start_date", med.start);
        e.opt_date("end_date", med.end);
        e.str(
            "prescriber_provider_id",
            provider_id(med.prescriber).as_str(),
        );
        e.str("indication_code", med.indication);
        e.end();
    }
}

fn membership(p: &Person, d: &Demographics, member: &Member, as_of: Day, e: &mut impl Emit) {
    let ix = p.index;
    let plan = member.plan;
    let mem = member_id(ix);
    let mem = mem.as_str();
    if e.wants("members") {
        e.begin("members", 28);
        e.str("member_id", mem);
        e.str("person_id", person_id(ix).as_str());
        e.str("patient_id", patient_id(ix).as_str());
        e.str("subscriber_id", id("SUB", ix, 8).as_str());
        e.str("relationship_code", if d.age < 18 { "19" } else { "18" });
        demographics(e, d, ix);
        e.str("line_of_business", plan.line_of_business);
        e.str("plan_code", plan.code);
        e.str("plan_type", plan.plan_type);
        if let Some(group) = member.group {
            e.str("group_number", id("GRP-", u64::from(group), 5).as_str());
        }
        e.date("coverage_start_date", member.start);
        e.str("pcp_provider_id", provider_id(p.pcp).as_str());
        e.end();
    }
    let (claims_wanted, lines_wanted) = (e.wants("claims"), e.wants("claim_lines"));
    if claims_wanted || lines_wanted {
        for claim in &p.claims {
            let n = claim.encounter;
            let enc = &p.encounters[n];
            let lines = &p.lines[claim.lines.0..claim.lines.1];
            let adjudicated = claim.status != ClaimStatus::Pending;
            let clm = claim_id(ix, n);
            let clm = clm.as_str();
            if claims_wanted {
                e.begin("claims", 22);
                e.str("claim_id", clm);
                e.str("member_id", mem);
                e.str("patient_id", patient_id(ix).as_str());
                e.str("encounter_id", encounter_id(ix, n).as_str());
                e.str("billing_provider_id", provider_id(enc.provider).as_str());
                e.str("rendering_provider_id", provider_id(enc.provider).as_str());
                e.str("facility_id", facility_id(enc.facility).as_str());
                e.str(
                    "claim_type",
                    if claim.institutional {
                        "institutional"
                    } else {
                        "professional"
                    },
                );
                e.str("status", claim.status.code());
                e.date("service_date", day_of(enc.start));
                e.date("service_end_date", day_of(enc.end));
                e.date("received_date", claim.received);
                e.opt_date("paid_date", claim.paid);
                e.opt_str("place_of_service", claim.place_of_service);
                e.opt_str("bill_type", claim.bill_type);
                e.opt_str("drg_code", enc.drg);
                let dx = &p.diagnoses[enc.dx.0..enc.dx.1];
                if let Some(principal) = dx.first() {
                    e.str("principal_diagnosis", principal.code);
                }
                // X12 837 carries up to 11 other diagnoses besides the principal one.
                let mut others = [""; 11];
                let mut count = 0;
                for (slot, d) in others.iter_mut().zip(dx.iter().skip(1)) {
                    *slot = d.code;
                    count += 1;
                }
                if count > 0 {
                    e.str_array("other_diagnoses", &others[..count]);
                }
                e.money("total_billed", lines.iter().map(|l| l.billed).sum());
                if adjudicated {
                    let allowed: i64 = lines.iter().map(|l| l.allowed).sum();
                    let paid: i64 = lines.iter().map(|l| l.paid).sum();
                    e.money("total_allowed", allowed);
                    e.money("total_paid", paid);
                    e.money("total_patient_resp", allowed - paid);
                }
                e.end();
            }
            if lines_wanted {
                for (k, line) in lines.iter().enumerate() {
                    e.begin("claim_lines", 18);
                    let mut line_id = pid("cln-", ix, n + 1, 2);
                    line_id.push_str("-").push_padded(k as u64 + 1, 1);
                    e.str("claim_line_id", line_id.as_str());
                    e.str("claim_id", clm);
                    e.int("line_number", k as i64 + 1);
                    e.date("service_date", day_of(enc.start));
                    e.opt_str("procedure_code", line.procedure.code);
                    e.opt_str("procedure_modifiers", line.modifier);
                    if claim.institutional {
                        e.str("revenue_code", line.procedure.revenue);
                    }
                    e.str("diagnosis_pointer", "1");
                    e.opt_str("place_of_service", claim.place_of_service);
                    e.int("units", line.units);
                    e.money("billed_amount", line.billed);
                    if adjudicated {
                        e.money("allowed_amount", line.allowed);
                        e.money("paid_amount", line.paid);
                        e.money("deductible_applied", line.deductible);
                        e.money("copay_applied", line.copay);
                        e.money("coinsurance_applied", line.coinsurance);
                        let reason = claim
                            .denial
                            .or((line.allowed < line.billed).then_some("CO-45"));
                        e.opt_str("adjustment_reason_code", reason);
                    }
                    e.end();
                }
            }
        }
    }
    if let Some(acc) = p.accumulators.as_ref().filter(|_| e.wants("accumulators")) {
        for (kind, suffix, limit, used) in [
            ("deductible", "-ded", plan.deductible, acc.deductible_used),
            ("out_of_pocket", "-oop", plan.oop_max, acc.oop_used),
        ] {
            if limit <= 0 {
                continue;
            }
            e.begin("accumulators", 10);
            let mut acc_id = id("acc-", ix, PERSON_WIDTH);
            acc_id
                .push_str("-")
                .push_padded(acc.year.max(0) as u64, 4)
                .push_str(suffix);
            e.str("accumulator_id", acc_id.as_str());
            e.str("member_id", mem);
            e.int("plan_year", i64::from(acc.year));
            e.str("accumulator_type", kind);
            e.str("network_tier", "in_network");
            e.str("applies_to", "medical");
            e.money("limit_amount", limit);
            e.money("applied_amount", used.min(limit));
            e.money("remaining_amount", (limit - used).max(0));
            e.date("as_of_date", as_of);
            e.end();
        }
    }
    if member.rx {
        pharmacy_benefit(p, d, member, e);
    }
}

fn pharmacy_benefit(p: &Person, d: &Demographics, member: &Member, e: &mut impl Emit) {
    let ix = p.index;
    let plan = member.plan;
    let rxm = rx_member_id(ix);
    let rxm = rxm.as_str();
    if e.wants("rx_members") {
        e.begin("rx_members", 28);
        e.str("rx_member_id", rxm);
        e.str("person_id", person_id(ix).as_str());
        e.str("member_id", member_id(ix).as_str());
        e.str("cardholder_id", id("CH", ix, 9).as_str());
        e.str("person_code", if d.age < 18 { "03" } else { "01" });
        demographics(e, d, ix);
        e.str("bin", plan.bin);
        e.str("pcn", plan.pcn);
        e.str("rx_group", plan.rx_group);
        e.str("plan_code", plan.code);
        e.date("coverage_start_date", member.start);
        e.end();
    }
    let (rx_wanted, fills_wanted) = (e.wants("prescriptions"), e.wants("pharmacy_claims"));
    if !rx_wanted && !fills_wanted {
        return;
    }
    let mut fill_cursor = 0;
    for (k, rx) in p.prescriptions.iter().enumerate() {
        let med = &p.medications[rx.medication];
        let drug = &DRUGS[med.drug];
        let rx_id = prescription_id(ix, rx.medication);
        let rx_id = rx_id.as_str();
        if rx_wanted {
            e.begin("prescriptions", 17);
            e.str("prescription_id", rx_id);
            e.str("rx_member_id", rxm);
            e.str("patient_id", patient_id(ix).as_str());
            e.str(
                "prescriber_provider_id",
                provider_id(med.prescriber).as_str(),
            );
            e.str("pharmacy_id", pharmacy_id(rx.pharmacy).as_str());
            let mut rx_number = Buf::new();
            rx_number
                .push_padded(ix % 10_000_000, 7)
                .push_padded(k as u64 + 1, 2);
            e.str("rx_number", rx_number.as_str());
            e.str("ndc", drug.ndc);
            e.str("rxnorm_code", drug.rxnorm);
            e.str("drug_name", drug.name);
            e.str("strength", drug.strength);
            e.str("dosage_form", drug.form);
            e.int("quantity", rx.quantity);
            e.int("days_supply", rx.days_supply);
            e.int("refills_authorized", rx.refills);
            e.str("daw_code", "0");
            e.date("written_date", rx.written);
            e.str("status", rx.status);
            e.end();
        }
        while let Some(fill) = p.fills.get(fill_cursor).filter(|f| f.prescription == k) {
            fill_cursor += 1;
            if !fills_wanted {
                continue;
            }
            let gross = fill.ingredient_cost + fill.dispensing_fee;
            e.begin("pharmacy_claims", 18);
            let mut claim = pid("rxc-", ix, rx.medication + 1, 2);
            claim
                .push_str("-")
                .push_padded(fill.number.max(0) as u64, 2);
            e.str("pharmacy_claim_id", claim.as_str());
            e.str("rx_member_id", rxm);
            e.str("prescription_id", rx_id);
            e.str("pharmacy_id", pharmacy_id(rx.pharmacy).as_str());
            e.str("ndc", drug.ndc);
            e.str("drug_name", drug.name);
            e.date("fill_date", fill.date);
            e.int("fill_number", fill.number);
            e.int("quantity_dispensed", rx.quantity);
            e.int("days_supply", rx.days_supply);
            e.str("formulary_tier", id("", u64::from(drug.tier), 1).as_str());
            e.money("ingredient_cost", fill.ingredient_cost);
            e.money("dispensing_fee", fill.dispensing_fee);
            e.money("gross_amount_due", gross);
            match fill.reject {
                None => {
                    e.money("patient_pay_amount", fill.patient_pay);
                    e.money("plan_paid_amount", gross - fill.patient_pay);
                    e.str("claim_status", "paid");
                }
                Some(code) => {
                    e.str("claim_status", "rejected");
                    e.str("reject_code", code);
                }
            }
            e.end();
        }
    }
}

fn trial(header: &Header, p: &Person, d: &Demographics, e: &mut impl Emit) {
    let Some(subject) = &p.subject else { return };
    let ix = p.index;
    let sub = subject_id(ix);
    let sub = sub.as_str();
    if e.wants("subjects") {
        let site = &header.sites[subject.site];
        e.begin("subjects", 27);
        e.str("subject_id", sub);
        e.str("study_id", STUDY_ID);
        e.str("site_id", site_id(subject.site).as_str());
        e.str("arm_id", arm_id(header.arms[subject.arm].info).as_str());
        let mut usubjid = Buf::new();
        usubjid
            .push_str(STUDY.protocol)
            .push_str("-")
            .push_padded(u64::from(site.number), 3)
            .push_str("-")
            .push_padded(ix, PERSON_WIDTH);
        e.str("usubjid", usubjid.as_str());
        e.str("person_id", person_id(ix).as_str());
        e.str("patient_id", patient_id(ix).as_str());
        demographics(e, d, ix);
        e.date("screening_date", subject.screening);
        e.date("enrollment_date", subject.enrollment);
        e.date("randomization_date", subject.enrollment);
        e.str("status", subject.status);
        e.end();
    }
    if e.wants("adverse_events") {
        for (k, ae) in p.adverse_events.iter().enumerate() {
            let (term, decod, bodsys, _, _) = ADVERSE_EVENTS[ae.term];
            e.begin("adverse_events", 14);
            e.str("ae_id", pid("ae-", ix, k + 1, 1).as_str());
            e.str("subject_id", sub);
            e.str("study_id", STUDY_ID);
            e.str("aeterm", term);
            e.str("aedecod", decod);
            e.str("aebodsys", bodsys);
            e.str("aesev", ae.severity);
            e.str("aeser", if ae.serious { "Y" } else { "N" });
            e.str("aerel", ae.relationship);
            e.str("aeacn", ae.action);
            e.str("aeout", ae.outcome);
            e.int("ctcae_grade", ae.grade);
            e.date("aestdtc", ae.start);
            e.opt_date("aeendtc", ae.end);
            e.end();
        }
    }
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
