//! A deterministic synthetic data generator for HealthSim Persist: realistic, referentially
//! consistent multi-product healthcare data, streamed person by person.
//!
//! [`Generator`] is an iterator of `(table, entity)` pairs whose entities use the canonical column
//! names of the entity registry (`healthsim_schema::ENTITY_TYPES`), so persisting them fills
//! typed columns and nothing lands in `extra`. [`write_jsonl`] and [`write_document`] stream the
//! same entities as JSON Lines or as one `{type: [...]}` document.
//!
//! # Main types
//!
//! - [`GeneratorConfig`]: what to generate — seed, number of persons, [`Mix`], the "today" of the
//!   data ([`DEFAULT_AS_OF`] unless set).
//! - [`Generator`]: the lazy entity stream, `serde_json` values.
//! - [`write_jsonl`] / [`write_document`]: the same stream written as JSON text without building
//!   values, returning [`GenerationStats`]. JSON Lines wrap each entity in an envelope keyed by
//!   [`ENVELOPE_TYPE_KEY`] and [`ENVELOPE_ENTITY_KEY`].
//!
//! # Neighbours
//!
//! `healthsim-cli` drives it for `healthsim demo` (persisting the iterator's entities in batches)
//! and `healthsim generate` (the writers, piped into `healthsim persist`); its `persist` input
//! reader accepts the JSON Lines envelopes. Tests, examples and benches of the other crates use it
//! for realistic bulk data. The tests of this crate check every generated key and value against
//! `healthsim-schema`'s registry, which is only a dev-dependency.
//!
//! # What it does not know
//!
//! It does not touch a database, read the clock (the data's "today" is [`GeneratorConfig::as_of`],
//! fixed by default) or read any file, and knows nothing of scenarios, names or argv. Its only
//! failure is the caller's writer failing: the writers return that [`std::io::Error`] unchanged,
//! so the crate has no error type of its own.
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
//!   platform. The PRNG is SplitMix64, written out in this crate; floating point uses only exactly
//!   rounded operations. Each person has its own random stream, derived from (seed, index).
//! - **Streaming**: memory is bounded by the header pools and one person's entities, whatever the
//!   number of persons.
//!
//! # Example
//!
//! ```
//! use healthsim_synth::{write_jsonl, Generator, GeneratorConfig};
//!
//! let config = GeneratorConfig { persons: 3, ..GeneratorConfig::default() };
//! let mut tables: Vec<&str> = Generator::new(config.clone()).map(|(table, _)| table).collect();
//! let entities = tables.len();
//! tables.dedup();
//! assert_eq!(tables[0], "providers");
//! assert!(tables.contains(&"claims"));
//!
//! // The same entities again, as JSON Lines: one envelope per line.
//! let mut out = Vec::new();
//! let stats = write_jsonl(config, &mut out)?;
//! assert_eq!(stats.total as usize, entities);
//! assert!(out.starts_with(br#"{"type":"providers","entity":{"provider_id":"prv-00001""#));
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

mod generator;
mod plan;
mod render;
mod rng;
mod vocab;
mod write;

use std::collections::BTreeMap;

use chrono::NaiveDate;

pub use generator::Generator;
pub use write::{write_document, write_jsonl};

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

/// The key of the table name in a JSON Lines envelope.
pub const ENVELOPE_TYPE_KEY: &str = "type";

/// The key of the entity object in a JSON Lines envelope.
pub const ENVELOPE_ENTITY_KEY: &str = "entity";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PERSON_TABLES;
    use crate::render::header::HEADER_TABLES;

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
