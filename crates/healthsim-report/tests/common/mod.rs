//! Shared test helpers: a persisted multi-product scenario, rendering, and reading the
//! report's `data-figure` / `data-value` attributes back.

#![allow(dead_code)]

pub(crate) mod cohort;

use std::collections::BTreeMap;

use healthsim_persist::{Store, StoreOptions};
use healthsim_report::{render_report, Report, ReportOptions};

/// A database holding one cohort scenario.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: Store,
    pub(crate) scenario_id: String,
}

/// Persons in the default fixture: every product and section is present, and it persists in
/// about a second.
pub(crate) const PERSONS: usize = 120;

pub(crate) fn fixture(persons: usize) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("healthsim.duckdb"), StoreOptions::default())
        .expect("store opens");
    let cohort = cohort::generate(persons, 7);
    let scenario_id = cohort::persist(
        &store,
        &cohort,
        "report-cohort",
        "Multi-product cohort for the report tests",
        &["demo", "report"],
    );
    Fixture {
        dir,
        store,
        scenario_id,
    }
}

pub(crate) fn options() -> ReportOptions {
    ReportOptions {
        as_of: cohort::as_of(),
        ..ReportOptions::default()
    }
}

impl Fixture {
    pub(crate) fn render(&self) -> Report {
        self.render_with(&options())
    }

    pub(crate) fn render_with(&self, options: &ReportOptions) -> Report {
        self.store
            .with_reader(|conn| Ok(render_report(conn, &self.scenario_id, options)))
            .expect("connection")
            .expect("report renders")
    }

    /// Runs SQL with the scenario id as its only parameter (every `?`) and returns the first
    /// column of the first row as text (NULL → "NULL").
    pub(crate) fn sql(&self, sql: &str) -> String {
        let n = sql.matches('?').count();
        self.store
            .with_reader(|conn| {
                let params: Vec<&str> = vec![self.scenario_id.as_str(); n];
                let value: duckdb::types::Value = conn
                    .query_row(sql, duckdb::params_from_iter(params), |r| r.get(0))
                    .unwrap_or_else(|e| panic!("independent SQL failed: {e}\n{sql}"));
                Ok(match healthsim_schema::value::to_json(&value) {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => "NULL".to_string(),
                    other => other.to_string(),
                })
            })
            .expect("connection")
    }

    /// Runs statements that change the database (to break it on purpose).
    pub(crate) fn execute(&self, sql: &str) {
        let n = sql.matches('?').count();
        self.store
            .with_writer(|conn| {
                let params: Vec<&str> = vec![self.scenario_id.as_str(); n];
                conn.execute(sql, duckdb::params_from_iter(params))
                    .unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"));
                Ok(())
            })
            .expect("connection");
    }
}

/// Undoes the page's HTML escaping of attribute values.
pub(crate) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every `data-figure="KEY" data-value="VALUE"` of the page: key → values in page order.
pub(crate) fn figures(html: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rest = html;
    while let Some(start) = rest.find("data-figure=\"") {
        rest = &rest[start + "data-figure=\"".len()..];
        let Some(end) = rest.find('"') else { break };
        let key = unescape(&rest[..end]);
        rest = &rest[end + 1..];
        if let Some(value) = rest.strip_prefix(" data-value=\"") {
            if let Some(end) = value.find('"') {
                out.entry(key).or_default().push(unescape(&value[..end]));
                continue;
            }
        }
        out.entry(key).or_default();
    }
    out
}
