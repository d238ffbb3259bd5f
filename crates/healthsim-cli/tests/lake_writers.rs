//! Many writers, one lake: four MCP servers, each its own process and DuckDB instance as on four
//! machines, persist 50 calls of 50 patients each into one DuckLake (a PostgreSQL catalog
//! started for the test, Parquet data in a temporary folder) — two into a shared scenario, two
//! into scenarios of their own — while a fifth server takes summaries and queries throughout.
//!
//! What must hold: every call succeeds (DuckLake's commit conflicts are retried inside the
//! store), the lake ends with exactly the 10,000 ids sent, none twice, and every reading taken
//! while the writers ran saw whole calls only (a multiple of 50 new rows), never a duplicate,
//! and never fewer rows than an earlier reading.

mod mcp_client;

use std::path::Path;

use mcp_client::{call, connect, Client};
use serde_json::{json, Value};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const WRITERS: usize = 4;
const CALLS: usize = 50;
const PER_CALL: usize = 50;

/// The scenario writer `w` writes into: the first two share one.
fn scenario_of(w: usize) -> &'static str {
    match w {
        0 | 1 => "shared",
        2 => "own-two",
        _ => "own-three",
    }
}

/// A successful call's structured result.
async fn ok(client: &Client, tool: &'static str, args: Value) -> TestResult<Value> {
    let result = call(client, tool, args.clone())
        .await
        .map_err(|e| e.to_string())?;
    if result.is_error == Some(true) {
        return Err(format!("{tool} failed: {:?}", result.content).into());
    }
    result
        .structured_content
        .ok_or_else(|| format!("{tool} returned no structured content").into())
}

async fn client(lake: &str) -> TestResult<Client> {
    connect(Path::new(lake))
        .await
        .map_err(|e| e.to_string().into())
}

/// The patients of call `c` of writer `w`.
fn batch(w: usize, c: usize) -> Value {
    let patients: Vec<Value> = (0..PER_CALL)
        .map(|e| {
            json!({
                "patient_id": format!("w{w}-c{c}-e{e}"),
                "birth_date": "1970-01-01",
                "gender": if e % 2 == 0 { "female" } else { "male" },
                "state": "AZ",
            })
        })
        .collect();
    json!(patients)
}

/// One reading of a scenario through the sandbox: rows and distinct ids.
async fn reading(reader: &Client, scenario: &str) -> TestResult<(u64, u64)> {
    let page = ok(
        reader,
        "query_scenario",
        json!({
            "scenario_id": scenario,
            "query": "SELECT count(*) AS n, count(DISTINCT patient_id) AS d FROM patients",
        }),
    )
    .await?;
    let row = &page["results"][0];
    let n = row["n"].as_u64().ok_or("no count")?;
    let d = row["d"].as_u64().ok_or("no distinct count")?;
    Ok((n, d))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_writers_and_a_reader_share_one_lake_without_duplicates_or_lost_calls() -> TestResult {
    let conninfo = healthsim_pgtest::cluster().database("writers");
    let data = tempfile::tempdir()?;
    let lake = format!(
        "ducklake:postgres:{conninfo} data_path={}/",
        data.path().join("lake").display()
    );

    // Each scenario starts with one patient, so that the writers all add to existing ones.
    let setup = client(&lake).await?;
    for name in ["shared", "own-two", "own-three"] {
        let made = ok(
            &setup,
            "persist_entities",
            json!({"entity_type": "patients", "scenario_name": name,
                   "entities": [{"patient_id": format!("seed-{name}")}]}),
        )
        .await?;
        assert_eq!(made["scenario_name"], name, "{made}");
    }
    setup.cancel().await?;

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let lake = lake.clone();
        writers.push(tokio::spawn(async move {
            let writer = client(&lake).await?;
            for c in 0..CALLS {
                let result = ok(
                    &writer,
                    "persist_entities",
                    json!({"entity_type": "patients", "scenario_id": scenario_of(w),
                           "entities": batch(w, c)}),
                )
                .await?;
                assert_eq!(
                    result["counts"]["patients"]["inserted"], PER_CALL,
                    "writer {w} call {c}: {result}"
                );
            }
            writer.cancel().await?;
            TestResult::Ok(())
        }));
    }

    // The reader: readings until every writer has finished.
    let reader = client(&lake).await?;
    let mut last = std::collections::HashMap::<&str, u64>::new();
    let mut readings = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        for scenario in ["shared", "own-two"] {
            let (n, d) = reading(&reader, scenario).await?;
            assert_eq!(
                n, d,
                "{scenario}: a duplicate id was visible ({n} rows, {d} ids)"
            );
            assert_eq!(
                (n - 1) % PER_CALL as u64,
                0,
                "{scenario}: {n} rows is not the seed plus whole calls"
            );
            let before = last.insert(scenario, n).unwrap_or(0);
            assert!(n >= before, "{scenario}: {n} rows after {before}");
            let summary = ok(
                &reader,
                "get_scenario_summary",
                json!({"scenario_id": scenario}),
            )
            .await?;
            let counted = summary["entity_counts"]["patients"]
                .as_u64()
                .ok_or("no patient count in the summary")?;
            assert_eq!(
                (counted - 1) % PER_CALL as u64,
                0,
                "{scenario}: the summary counts {counted}, not whole calls"
            );
            readings += 1;
        }
    }
    for writer in writers {
        writer.await??;
    }
    assert!(readings > 0, "the reader read while the writers wrote");

    let expected = [("shared", 2), ("own-two", 1), ("own-three", 1)];
    for (scenario, writers) in expected {
        let (n, d) = reading(&reader, scenario).await?;
        let want = 1 + (writers * CALLS * PER_CALL) as u64;
        assert_eq!((n, d), (want, want), "{scenario}");
    }
    // Exactly the ids sent, across the whole lake.
    let ids = ok(
        &reader,
        "query_scenario",
        json!({"scenario_id": "shared",
               "query": "SELECT count(*) AS n FROM patients WHERE patient_id LIKE 'w0-%' OR patient_id LIKE 'w1-%'"}),
    )
    .await?;
    assert_eq!(ids["results"][0]["n"], 2 * CALLS * PER_CALL);
    reader.cancel().await?;
    Ok(())
}
