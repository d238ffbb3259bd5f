//! What containment costs: the same first page of a filtered query, run in process on a held
//! sandbox connection (the yardstick), in a new worker process per query (start, open the file
//! read-only, run, answer), and in a held worker (what the CLI and the MCP server keep between
//! queries until the next write).
//!
//! `cargo bench -p healthsim-query --bench containment`; `HEALTHSIM_BENCH_PATIENTS` sets the
//! scenario's size (default 200,000 patients, plus 200,000 of another scenario). The difference
//! of the two medians is the per-query overhead reported in docs/performance.md.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use duckdb::Connection;
use healthsim_query::{
    run_contained, run_query, sandbox_config, QueryOptions, Worker, WorkerSession,
};

const A: &str = "11111111-aaaa-4aaa-8aaa-000000000001";
const B: &str = "22222222-bbbb-4bbb-8bbb-000000000002";

fn database(path: &Path, patients: i64) {
    let conn = Connection::open(path).expect("open");
    healthsim_schema::migrate(&conn).expect("migrate");
    for scenario in [A, B] {
        conn.execute(
            "INSERT INTO patients (scenario_id, patient_id, given_name, family_name, birth_date,
                                   gender, state, created_at)
             SELECT ?, 'p' || i, 'Name' || (i % 97), 'Family' || (i % 89),
                    DATE '1940-01-01' + CAST(i % 25000 AS INTEGER),
                    CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
                    ['AZ', 'CA', 'TX', 'NY'][1 + i % 4], TIMESTAMP '2024-01-01'
             FROM range(?) t(i)",
            duckdb::params![scenario, patients],
        )
        .expect("insert patients");
    }
    conn.execute_batch("CHECKPOINT").expect("checkpoint");
}

fn containment(c: &mut Criterion) {
    let patients = std::env::var("HEALTHSIM_BENCH_PATIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bench.duckdb");
    database(&path, patients);
    let worker = Worker::new(
        env!("CARGO_BIN_EXE_healthsim-query-worker"),
        Vec::<String>::new(),
    );
    let sql = "SELECT * FROM patients WHERE state = 'AZ' AND gender = 'F'";
    let options = QueryOptions::default();
    let mut group = c.benchmark_group(format!("first page, {patients} patients"));
    group.measurement_time(Duration::from_secs(10));
    {
        let sandbox =
            Connection::open_with_flags(&path, sandbox_config().expect("config")).expect("sandbox");
        group.bench_function("in process (held connection)", |b| {
            b.iter(|| run_query(&sandbox, A, sql, &options).expect("page"));
        });
    }
    group.bench_function("contained (worker process)", |b| {
        b.iter(|| run_contained(&worker, &path, A, sql, &options).expect("page"));
    });
    group.bench_function("contained, trivial query", |b| {
        b.iter(|| run_contained(&worker, &path, A, "SELECT 1 AS x", &options).expect("page"));
    });
    {
        let mut session = WorkerSession::start(&worker, &path).expect("worker");
        group.bench_function("held worker (what the CLI and MCP server keep)", |b| {
            b.iter(|| session.query(A, sql, &options).expect("page"));
        });
    }
    group.finish();
}

criterion_group!(benches, containment);
criterion_main!(benches);
