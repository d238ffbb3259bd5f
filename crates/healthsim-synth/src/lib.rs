//! A deterministic synthetic data generator: realistic, referentially consistent multi-product
//! healthcare data, streamed person by person.
//!
//! [`Generator`] is an iterator of `(table, entity)` pairs whose entities use the canonical column
//! names of the entity registry ([`healthsim_schema::ENTITY_TYPES`]), so persisting them fills
//! typed columns and nothing lands in `extra`. [`write_jsonl`] and [`write_document`] stream the
//! same entities as JSON Lines or as one `{type: [...]}` document.
//!
//! # What a scenario contains (`Mix::MultiProduct`)
//!
//! First a small header of reference pools: providers (`max(20, persons/50)`, every specialty in
//! every metro area), facilities (hospitals, clinics, urgent care; `max(3 per metro, persons/500)`),
//! pharmacies (one mail-order, the rest retail; `max(2 per metro + 1, persons/400)`), and a phase 3
//! type 2 diabetes study with sites at hospitals and 2–3 treatment arms. The number of metro areas
//! grows from 3 with the population.
//!
//! Then, for each person, the person and everything that depends on them:
//! `persons`, `patients` (same demographics, linked by `person_id`), `allergies` (~18%), 1–6
//! `encounters` over the two years before `as_of` (outpatient ~65%, telehealth ~12%, emergency
//! ~13%, inpatient ~7%, more for older and sicker people; inpatient stays 1–10 days), with their
//! `vitals`, `diagnoses` (ICD-10-CM: 22 chronic conditions at age-banded US prevalence, e.g.
//! hypertension ~30%, type 2 diabetes ~11%, plus acute reasons for visits) and `lab_results`
//! (LOINC; per-person baselines, e.g. HbA1c higher for diabetics, glucose from HbA1c, eGFR and
//! creatinine consistent with CKD); `medications` (RxNorm) for treated conditions and acute
//! visits; `members` (~87%; Medicare Advantage from 65, else commercial or Medicaid) with one
//! claim per covered, submitted encounter (`claims`, 1–4 `claim_lines`: CPT/HCPCS with revenue
//! codes on institutional claims) and the plan year's `accumulators`; `rx_members` (members with
//! the pharmacy benefit) with `prescriptions` and one `pharmacy_claims` row per fill; and for ~5%
//! of diabetic adults a trial `subjects` row with 0–3 `adverse_events` (MedDRA terms).
//!
//! # Guarantees (each checked by `tests/synth.rs`)
//!
//! - **Canonical**: every key is a column of its table, with a value of the column's kind: dates
//!   `YYYY-MM-DD`, timestamps `YYYY-MM-DDTHH:MM:SSZ` (UTC), money a JSON number with at most two
//!   decimals, ids strings. Absent values are left out rather than written as `null`.
//! - **Referentially consistent**: ids are unique per table and derived from positions
//!   (`pat-000001`, `enc-000001-03`); every reference points to an entity emitted *earlier* in the
//!   stream, so a consumer can check or load them in one pass.
//! - **Coherent money** (integer cents internally): per claim line billed ≥ allowed ≥ paid and
//!   deductible + copay + coinsurance = allowed − paid; claim totals are the sums of their lines;
//!   pending claims carry no adjudicated amounts; per fill ingredient cost + dispensing fee = gross
//!   amount due = patient pay + plan paid (rejected fills carry no paid amounts).
//! - **Deterministic**: the same [`GeneratorConfig`] gives byte-identical output on every
//!   platform. The PRNG is SplitMix64, written out in this module; floating point uses only exactly
//!   rounded operations. Each person has its own random stream, derived from (seed, index).
//! - **Streaming**: memory is bounded by the header pools and one person's entities, whatever the
//!   number of persons.
//!
//! ```
//! use healthsim_synth::{Generator, GeneratorConfig};
//!
//! let config = GeneratorConfig { persons: 3, ..GeneratorConfig::default() };
//! let mut tables: Vec<&str> = Generator::new(config).map(|(table, _)| table).collect();
//! tables.dedup();
//! assert_eq!(tables[0], "providers");
//! assert!(tables.contains(&"claims"));
//! ```

#![warn(missing_docs)]

mod plan;
mod render;
mod rng;
mod vocab;

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use plan::calendar::Day;
use plan::header::Header;
use plan::{Person, PersonPlanner, PERSON_TABLES};
use render::emit::{Framing, JsonEmitter, Templates, ValueEmitter};
use render::header::HEADER_TABLES;
use render::Emit;

/// Which entity types a generated scenario contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mix {
    /// Only `patients` rows (for single-type throughput benchmarks).
    Patients,
    /// Every product: clinical, claims, pharmacy and a clinical trial (the default).
    #[default]
    MultiProduct,
}

/// The tables `Mix::MultiProduct` emits, in an order where every table comes after the tables it
/// references (the key order of [`write_document`]).
const MULTI_PRODUCT_TABLES: &[&str] = &[
    "providers",
    "facilities",
    "pharmacies",
    "studies",
    "sites",
    "treatment_arms",
    "persons",
    "patients",
    "allergies",
    "encounters",
    "vitals",
    "diagnoses",
    "lab_results",
    "medications",
    "members",
    "claims",
    "claim_lines",
    "accumulators",
    "rx_members",
    "prescriptions",
    "pharmacy_claims",
    "subjects",
    "adverse_events",
];

impl Mix {
    /// The tables this mix can emit, each after the tables it references.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Mix::Patients => &["patients"],
            Mix::MultiProduct => MULTI_PRODUCT_TABLES,
        }
    }
}

/// The default "today" of generated data: fixed, so output does not depend on the clock.
pub const DEFAULT_AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(2025, 6, 30) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Seed of the random streams: the same config always gives the same data.
    pub seed: u64,
    /// Number of people; everything else scales from it (about 40 entities per person in
    /// `MultiProduct`, plus a header that grows slowly).
    pub persons: usize,
    /// Which entity types to generate.
    pub mix: Mix,
    /// "Today" for the generated data: visits happen in the two years before it, ages are computed
    /// at it. Clamped to 1900-01-01..=9000-12-31.
    pub as_of: NaiveDate,
}

impl Default for GeneratorConfig {
    /// Seed 42, 1,000 persons, every product, as of [`DEFAULT_AS_OF`].
    fn default() -> Self {
        GeneratorConfig {
            seed: 42,
            persons: 1_000,
            mix: Mix::MultiProduct,
            as_of: DEFAULT_AS_OF,
        }
    }
}

/// How many entities were written, per table and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerationStats {
    /// Entities per table.
    pub per_type: BTreeMap<&'static str, u64>,
    /// All entities.
    pub total: u64,
}

/// Plans and renders a scenario step by step into any [`Emit`] target.
struct Driver {
    persons: u64,
    mix: Mix,
    as_of: Day,
    header: Header,
    planner: PersonPlanner,
    person: Person,
    /// Next header entity: (index into `HEADER_TABLES`, index within the table).
    header_cursor: (usize, usize),
    /// Next person to plan (1-based).
    next_person: u64,
}

impl Driver {
    fn new(config: &GeneratorConfig) -> Self {
        let lowest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        let highest = NaiveDate::from_ymd_opt(9000, 12, 31).unwrap_or(NaiveDate::MAX);
        let as_of = config.as_of.clamp(lowest, highest).num_days_from_ce();
        let header_cursor = match config.mix {
            Mix::MultiProduct => (0, 0),
            Mix::Patients => (HEADER_TABLES.len(), 0),
        };
        Driver {
            persons: config.persons as u64,
            mix: config.mix,
            as_of,
            header: Header::build(config.seed, config.persons, as_of),
            planner: PersonPlanner::new(config.seed, as_of),
            person: Person::default(),
            header_cursor,
            next_person: 1,
        }
    }

    /// Renders the next header entity, or the next person with everything that depends on them;
    /// false when the scenario is complete. A step may render nothing the emitter wants.
    fn step(&mut self, emit: &mut impl Emit) -> bool {
        while let Some(&table) = HEADER_TABLES.get(self.header_cursor.0) {
            let (t, i) = self.header_cursor;
            if !emit.wants(table) || i >= render::header::header_len(&self.header, t) {
                self.header_cursor = (t + 1, 0);
                continue;
            }
            self.header_cursor = (t, i + 1);
            render::header::header_entity(&self.header, t, i, emit);
            return true;
        }
        // Plan people only as far as the wanted tables need (all of it for the iterator).
        let Some(depth) = PERSON_TABLES
            .iter()
            .filter(|(table, _)| emit.wants(table))
            .map(|&(_, depth)| depth)
            .max()
        else {
            return false;
        };
        if self.next_person > self.persons {
            return false;
        }
        let index = self.next_person;
        self.next_person += 1;
        match self.mix {
            Mix::Patients => {
                self.planner
                    .plan_demographics_only(&self.header, index, &mut self.person);
                render::person::patient_only(&self.person, emit);
            }
            Mix::MultiProduct => {
                self.planner
                    .plan(&self.header, index, &mut self.person, depth);
                render::person(&self.header, self.as_of, &self.person, emit);
            }
        }
        true
    }
}

/// The lazy entity stream: an iterator of `(table name, entity object)`.
///
/// The header pools come first, then each person with their dependent entities. Only the current
/// person's entities are buffered.
pub struct Generator {
    driver: Driver,
    queue: VecDeque<(&'static str, Value)>,
    templates: Templates,
}

impl Generator {
    /// A generator for `config`; nothing is generated until the iterator is advanced (apart from
    /// the small header pools).
    pub fn new(config: GeneratorConfig) -> Self {
        Generator {
            driver: Driver::new(&config),
            queue: VecDeque::with_capacity(128),
            templates: Templates::default(),
        }
    }
}

impl Iterator for Generator {
    type Item = (&'static str, Value);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            let mut emit = ValueEmitter::new(&mut self.queue, &mut self.templates);
            if !self.driver.step(&mut emit) {
                return None;
            }
        }
    }
}

/// Bytes collected before they are handed to the caller's writer.
const CHUNK: usize = 1 << 16;

/// The key of the table name in a JSON Lines envelope.
pub const ENVELOPE_TYPE_KEY: &str = "type";
/// The key of the entity object in a JSON Lines envelope.
pub const ENVELOPE_ENTITY_KEY: &str = "entity";

fn stats_of(emit: &JsonEmitter) -> GenerationStats {
    let per_type: BTreeMap<&'static str, u64> = emit.counts.iter().copied().collect();
    GenerationStats {
        total: per_type.values().sum(),
        per_type,
    }
}

/// Drives `driver` to the end, handing `emit`'s output to `out` in chunks.
fn pump(driver: &mut Driver, emit: &mut JsonEmitter, out: &mut impl Write) -> io::Result<()> {
    while driver.step(emit) {
        if emit.buf.len() >= CHUNK {
            out.write_all(&emit.buf)?;
            emit.buf.clear();
        }
    }
    match emit.error.take() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Writes the stream as JSON Lines, one typed envelope per entity:
/// `{"type":"patients","entity":{"patient_id":"pat-000001",...}}`.
///
/// The envelope keeps the entity exactly as it would be persisted (no extra key inside it), and
/// the type is a registry table name. Lines come in stream order, so references always point to
/// earlier lines; each entity is byte for byte the `serde_json` serialization of the iterator's
/// value. Output is collected in 64 KiB chunks, so an unbuffered writer is fine; the writer is
/// flushed at the end.
pub fn write_jsonl(config: GeneratorConfig, out: &mut impl Write) -> io::Result<GenerationStats> {
    let mut driver = Driver::new(&config);
    let mut emit = JsonEmitter::new(Framing::Lines, CHUNK + 8192);
    pump(&mut driver, &mut emit, out)?;
    out.write_all(&emit.buf)?;
    out.flush()?;
    Ok(stats_of(&emit))
}

/// Writes the stream as one JSON document mapping each table to its entities:
/// `{"providers":[...],"facilities":[...],...,"patients":[...],...}` followed by a newline.
///
/// Tables appear in [`Mix::tables`] order (each after the tables it references); tables without
/// entities are left out. The document is written incrementally and never held in memory: each
/// table is one pass over the scenario that renders only that table (planning is cheap and
/// deterministic, so every pass sees the same people). The writer is flushed at the end.
pub fn write_document(
    config: GeneratorConfig,
    out: &mut impl Write,
) -> io::Result<GenerationStats> {
    let mut emit = JsonEmitter::new(Framing::DocumentArray, CHUNK + 8192);
    emit.buf.push(b'{');
    for &table in config.mix.tables() {
        emit.only = Some(table);
        emit.pass_count = 0;
        pump(&mut Driver::new(&config), &mut emit, out)?;
        if emit.pass_count > 0 {
            emit.buf.push(b']');
        }
    }
    emit.buf.extend_from_slice(b"}\n");
    out.write_all(&emit.buf)?;
    out.flush()?;
    Ok(stats_of(&emit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_product_tables_are_the_header_then_the_person_tables() {
        let expected: Vec<&str> = HEADER_TABLES
            .iter()
            .copied()
            .chain(PERSON_TABLES.iter().map(|(table, _)| *table))
            .collect();
        assert_eq!(Mix::MultiProduct.tables(), expected.as_slice());
    }
}
