//! The summary's statistics of a type, read by key: the figures the report shares with the
//! agent's summary come from here, so the two never disagree.

use healthsim_schema::EntityType;
use serde_json::{Map, Value as Json};

use crate::options::ReportOptions;
use crate::sql::Db;
use crate::Error;

/// The untrimmed statistics object of one type (see `healthsim_summary::type_statistics`).
#[derive(Debug, Clone, Default)]
pub(crate) struct TypeStats(Map<String, Json>);

impl TypeStats {
    /// Computes the statistics of `t` with the report's top-N.
    pub(crate) fn load(
        db: Db<'_>,
        t: &'static EntityType,
        options: &ReportOptions,
    ) -> Result<Self, Error> {
        Ok(TypeStats(healthsim_summary::type_statistics(
            db.conn,
            db.scenario_id,
            t,
            options.as_of,
            options.top_n,
        )?))
    }

    /// A ranked `{label: number}` statistic (shares or counts), best first.
    pub(crate) fn ranked(&self, key: &str) -> Vec<(String, f64)> {
        match self.0.get(key) {
            Some(Json::Object(items)) => items
                .iter()
                .filter_map(|(label, v)| Some((label.clone(), v.as_f64()?)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A number at a JSON pointer below the type (`/age/median`, `/totals/total_paid`).
    pub(crate) fn number(&self, pointer: &str) -> Option<f64> {
        let (first, rest) = pointer.trim_start_matches('/').split_once('/')?;
        self.0.get(first)?.pointer(&format!("/{rest}"))?.as_f64()
    }

    /// A plain number under `key`.
    pub(crate) fn scalar(&self, key: &str) -> Option<f64> {
        self.0.get(key)?.as_f64()
    }

    /// The top codes of a diagnoses-like type: `(code, description, patient_share)`.
    pub(crate) fn top_codes(&self) -> Vec<(String, Option<String>, f64)> {
        let Some(Json::Array(codes)) = self.0.get("top_codes") else {
            return Vec::new();
        };
        codes
            .iter()
            .filter_map(|entry| {
                Some((
                    entry.get("code")?.as_str()?.to_string(),
                    entry
                        .get("description")
                        .and_then(Json::as_str)
                        .map(str::to_string),
                    entry.get("patient_share")?.as_f64()?,
                ))
            })
            .collect()
    }
}
