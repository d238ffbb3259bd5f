//! `healthsim demo`: the whole product in one command.
//!
//! Generates a realistic multi-product cohort with [`healthsim_synth`] (deterministic for a
//! seed), persists it the way an agent would — batches of 50 entities, each one
//! `persist_entities` call into the same scenario — with a progress bar on stderr, then prints the
//! scenario summary and the first page of an example query.

use healthsim_persist::{PersistRequest, Provenance, QueryResult, ScenarioTarget, SummaryOptions};
use healthsim_synth::{Generator, GeneratorConfig};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::persist::entity_progress;
use super::query;
use crate::args::DemoArgs;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::output::Output;

/// Entities per persist call: the agent's generation loop (ARCHITECTURE.md, "The agent's contract").
pub const DEMO_BATCH_SIZE: usize = 50;

/// What the demo says about the cohort (it becomes the scenario name's keywords).
const DEMO_CONTEXT: &str = "demo diabetes cohort with claims, pharmacy and trial data";

/// The example query the demo runs: paid amounts by claim type, computed inside DuckDB.
pub const DEMO_QUERY: &str = "SELECT c.claim_type, count(*) AS claims, \
count(DISTINCT c.member_id) AS members, sum(c.total_billed) AS billed, \
sum(c.total_paid) AS paid FROM claims c GROUP BY c.claim_type ORDER BY paid DESC";

/// What `healthsim demo` did.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    /// The scenario created.
    pub scenario_id: String,
    /// Its name.
    pub scenario_name: String,
    /// The generator's seed.
    pub seed: u64,
    /// Persons generated.
    pub persons: usize,
    /// Entities persisted.
    pub total_persisted: u64,
    /// Persist calls (batches of 50).
    pub batches: usize,
    /// The scenario's summary, with samples.
    pub summary: healthsim_summary::ScenarioSummary,
    /// The example query.
    pub example_query: String,
    /// Its first page.
    pub example_result: QueryResult,
}

/// `healthsim demo`.
pub fn run(config: &DbConfig, args: &DemoArgs) -> CliResult<Output> {
    let store = config.open()?;
    let generator = Generator::new(GeneratorConfig {
        seed: args.seed,
        persons: args.persons,
        ..GeneratorConfig::default()
    });
    let provenance = Provenance {
        source_type: Some("synthetic".into()),
        source_system: Some("healthsim demo".into()),
        skill_used: None,
        generation_seed: i64::try_from(args.seed).ok(),
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("demo-{}-persons-seed-{}", args.persons, args.seed));
    let mut target = ScenarioTarget::New {
        name: Some(name),
        context: Some(DEMO_CONTEXT.into()),
        description: Some(format!(
            "healthsim demo: {} persons, seed {}",
            args.persons, args.seed
        )),
        tags: vec!["demo".into()],
    };
    let progress = entity_progress();
    let mut scenario = None;
    let mut batches = 0;
    let mut total = 0;
    let mut batch: Map<String, Json> = Map::new();
    let mut in_batch = 0;
    let mut entities = generator.peekable();
    while let Some((table, entity)) = entities.next() {
        if let Json::Array(list) = batch
            .entry(table)
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            list.push(entity);
        }
        in_batch += 1;
        if in_batch < DEMO_BATCH_SIZE && entities.peek().is_some() {
            continue;
        }
        let request = PersistRequest::by_type(std::mem::take(&mut batch))
            .with_scenario(target.clone())
            .with_provenance(provenance.clone());
        let result = store.persist_entities(&request).inspect_err(|_| {
            progress.finish_and_clear();
        })?;
        batches += 1;
        total += result.total_persisted;
        progress.inc(u64::try_from(in_batch).unwrap_or(u64::MAX));
        in_batch = 0;
        target = ScenarioTarget::existing(result.scenario_id.clone());
        scenario.get_or_insert((result.scenario_id, result.scenario_name));
    }
    progress.finish_and_clear();
    let Some((scenario_id, scenario_name)) = scenario else {
        return Err(crate::error::CliError::input(
            "the generator produced no entities; use --persons 1 or more",
        ));
    };
    let summary = store.scenario_summary(&scenario_id, &SummaryOptions::default())?;
    let example_result = query::run_query(&store, &scenario_id, DEMO_QUERY, None, None)?;
    let mut text = format!(
        "Generated {} persons (seed {}) and persisted {total} entities in {batches} batches of \
         up to {DEMO_BATCH_SIZE} into scenario '{scenario_name}'.\n\n",
        args.persons, args.seed
    );
    text.push_str(&summary.render_text());
    text.push_str(&format!(
        "\n\nExample query (paid amounts by claim type):\n  healthsim query {scenario_name} \"{DEMO_QUERY}\"\n\n"
    ));
    text.push_str(&query::page_text(&example_result));
    text.push_str(&format!(
        "\nNext: `healthsim summary {scenario_name}`, `healthsim schema claims`, or connect an \
         agent with `healthsim mcp`.\n"
    ));
    let report = DemoReport {
        scenario_id,
        scenario_name,
        seed: args.seed,
        persons: args.persons,
        total_persisted: total,
        batches,
        summary,
        example_query: DEMO_QUERY.to_string(),
        example_result,
    };
    Output::new(&report, text)
}
