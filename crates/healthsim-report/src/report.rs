//! The report as a whole: options, the sections in their order, and the headline numbers.

use std::collections::BTreeMap;

use duckdb::Connection;
use serde::Serialize;

use crate::format;
pub use crate::options::ReportOptions;
use crate::overview::{self, Present};
use crate::page::Page;
use crate::sql::Db;
use crate::{claims, clinical, people, pharmacy, quality, trial, Error};

/// Longest scenario name in a [`Headline`] (names made by healthsim-naming are far shorter).
const MAX_NAME_CHARS: usize = 100;

/// The sections of a report, in page order. Product sections appear only when the scenario
/// has their data; overview and data quality always do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Counts per type, date span, tags, description.
    Overview,
    /// Population pyramid, top states and counties.
    People,
    /// Encounters, diagnoses, lab results, medications.
    Clinical,
    /// Medical claims.
    Claims,
    /// Pharmacy claims and prescriptions.
    Pharmacy,
    /// Trial enrollment and adverse events.
    Trial,
    /// Null rates, duplicated keys, referential integrity.
    DataQuality,
}

impl Section {
    /// Every section in page order.
    pub const ALL: [Section; 7] = [
        Section::Overview,
        Section::People,
        Section::Clinical,
        Section::Claims,
        Section::Pharmacy,
        Section::Trial,
        Section::DataQuality,
    ];

    /// The section's HTML id (`<section id="…">`), also its name in [`Headline::sections`].
    pub fn id(self) -> &'static str {
        match self {
            Section::Overview => "overview",
            Section::People => "people",
            Section::Clinical => "clinical",
            Section::Claims => "claims",
            Section::Pharmacy => "pharmacy",
            Section::Trial => "trial",
            Section::DataQuality => "data_quality",
        }
    }

    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::People => "People",
            Section::Clinical => "Clinical",
            Section::Claims => "Claims",
            Section::Pharmacy => "Pharmacy",
            Section::Trial => "Trial",
            Section::DataQuality => "Data quality",
        }
    }
}

/// The report's key numbers: small enough for an MCP tool result (well under 500 tokens even
/// with all 40 types present).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Headline {
    /// Scenario id.
    pub scenario_id: String,
    /// Scenario name (cut to 100 characters).
    pub name: String,
    /// Entity count per table name (types with entities only).
    pub entity_counts: BTreeMap<String, u64>,
    /// Sum of `entity_counts`.
    pub total_entities: u64,
    /// Earliest and latest date of the scenario's events (the registry's date column of each
    /// type, birth dates excluded), `YYYY-MM-DD`.
    pub date_span: Option<[String; 2]>,
    /// Ids of the sections the page has, in order (see [`Section::id`]).
    pub sections: Vec<String>,
    /// Charts drawn.
    pub charts: usize,
    /// References (foreign-key values) that point at no entity of the scenario, over every
    /// foreign key of the registry.
    pub dangling_references: u64,
    /// The foreign keys with dangling references, worst first, at most 3:
    /// `encounters.patient_id → patients: 12`.
    pub broken_foreign_keys: Vec<String>,
    /// Natural-key values (MRN, NPI, ...) held by more than one entity of their type.
    pub duplicate_key_values: u64,
    /// Size of the HTML, in bytes.
    pub html_bytes: usize,
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The self-contained HTML document.
    pub html: String,
    /// Its key numbers.
    pub headline: Headline,
}

/// Renders the report of one scenario. Read-only: it never writes to the database.
///
/// `scenario_id` is an id, not a name (the caller resolves names). Errors:
/// [`Error::ScenarioNotFound`], [`Error::Statistics`] and [`Error::Query`] when a query
/// fails, [`Error::Chart`] when a chart cannot be drawn.
pub fn render_report(
    conn: &Connection,
    scenario_id: &str,
    options: &ReportOptions,
) -> Result<Report, Error> {
    let options = options.bounded();
    let db = Db { conn, scenario_id };
    let overview = overview::gather(db)?;
    let present: &Present = &overview.present;

    let mut page = Page::new();
    page.header(
        &overview.scenario.name,
        &[
            format!("scenario {}", overview.scenario.scenario_id),
            format!("created {}", overview.scenario.created_at),
            format!("updated {}", overview.scenario.updated_at),
            format!("ages as of {}", options.as_of.format("%Y-%m-%d")),
        ],
    );
    let mut sections = Vec::new();
    let mut shown = |section: Section, rendered: bool| {
        if rendered {
            sections.push(section.id().to_string());
        }
    };
    overview::render(&overview, &mut page);
    shown(Section::Overview, true);
    shown(
        Section::People,
        people::render(db, present, &options, &mut page)?,
    );
    shown(
        Section::Clinical,
        clinical::render(db, present, &options, &mut page)?,
    );
    shown(
        Section::Claims,
        claims::render(db, present, &options, &mut page)?,
    );
    shown(
        Section::Pharmacy,
        pharmacy::render(db, present, &options, &mut page)?,
    );
    shown(
        Section::Trial,
        trial::render(db, present, &options, &mut page)?,
    );
    let findings = quality::render(db, present, &options, &mut page)?;
    shown(Section::DataQuality, true);

    let charts = page.charts();
    let html = page.finish(
        &format!("{} — HealthSim scenario report", overview.scenario.name),
        "HealthSim scenario report: every figure is computed in DuckDB from the scenario's \
         tables; figures shared with the scenario summary come from the same statistics.",
    );
    let headline = Headline {
        scenario_id: overview.scenario.scenario_id.clone(),
        name: format::shorten(&overview.scenario.name, MAX_NAME_CHARS),
        entity_counts: present
            .iter()
            .map(|(t, n)| (t.table.to_string(), n))
            .collect(),
        total_entities: present.total(),
        date_span: overview.span.clone().map(|(a, b)| [a, b]),
        sections,
        charts,
        dangling_references: findings.dangling_references,
        broken_foreign_keys: findings.broken_foreign_keys,
        duplicate_key_values: findings.duplicate_key_values,
        html_bytes: html.len(),
    };
    Ok(Report { html, headline })
}
