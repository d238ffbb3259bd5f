//! Containment ([`run_contained`]): a query that crashes the engine, exhausts memory or ignores
//! interruption ends only its own worker process; the caller gets a clear error within the
//! query's timeout plus one second, and the next query runs normally.
//!
//! The worker is this crate's `healthsim-query-worker` binary (the `healthsim` binary plays the
//! same role in the product). Peak memory is the operating system's maximum over this test
//! process's finished children (`RUSAGE_CHILDREN`), so it covers every worker of the test.

mod query_fixture;

use std::time::{Duration, Instant};

use healthsim_query::{
    run_contained, run_query, Error, QueryOptions, Source, Worker, WorkerSession, WORKER_GRACE,
};
use query_fixture::{cancelled_after, Fixture, A};

/// The tests of this file run one at a time: each measures time and memory of worker processes,
/// which two heavy queries on a 2-core machine would distort.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn worker() -> Worker {
    Worker::new(
        env!("CARGO_BIN_EXE_healthsim-query-worker"),
        Vec::<String>::new(),
    )
}

fn options(timeout: Duration) -> QueryOptions {
    QueryOptions {
        timeout,
        ..QueryOptions::default()
    }
}

/// Peak resident memory of the largest finished child of this process, in bytes.
fn peak_child_rss() -> u64 {
    use nix::sys::resource::{getrusage, UsageWho};
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    u64::try_from(usage.max_rss()).unwrap_or(0) * 1024
}

/// Runs `sql` contained with `timeout`, asserts how it ended and that it ended in time, and
/// that the next query runs; returns the error.
fn check(fixture: &Fixture, sql: &str, timeout: Duration, expect: fn(&Error) -> bool) -> Error {
    let started = Instant::now();
    let outcome = run_contained(&worker(), fixture.source(), A, sql, &options(timeout));
    let took = started.elapsed();
    let error = match outcome {
        Err(e) if expect(&e) => e,
        other => panic!("{sql}\n  unexpected outcome: {other:?}"),
    };
    assert!(
        took <= timeout + Duration::from_secs(1),
        "{sql}\n  ended after {took:?}, more than its timeout {timeout:?} + 1 s"
    );
    // The next query runs normally.
    let page = run_contained(
        &worker(),
        fixture.source(),
        A,
        "SELECT count(*) AS n FROM patients",
        &QueryOptions::default(),
    )
    .unwrap_or_else(|e| panic!("the query after\n{sql}\nfailed: {e}"));
    assert_eq!(page.results[0]["n"], 12);
    error
}

fn crashed(e: &Error) -> bool {
    matches!(e, Error::Crashed { .. })
}

/// Stopped by the worker's memory ceiling (a crash), by DuckDB's memory limit, by DuckDB's
/// own bound on a value's size, or killed at the deadline while it filled memory it had.
fn stopped_for_memory(e: &Error) -> bool {
    match e {
        Error::Crashed { .. } | Error::Timeout { .. } => true,
        Error::Execution { message, .. } => {
            message.contains("Out of Memory") || message.contains("maximum supported")
        }
        _ => false,
    }
}

fn timed_out(e: &Error) -> bool {
    matches!(e, Error::Timeout { .. })
}

#[test]
fn a_contained_query_answers_exactly_like_one_in_process() {
    let _serial = serial();
    let fixture = Fixture::new();
    for sql in [
        "SELECT patient_id, gender, state FROM patients ORDER BY patient_id",
        "SELECT encounter_class, count(*) AS n FROM encounters GROUP BY 1 ORDER BY 1",
        "SELECT c.claim_id, sum(l.billed_amount) AS billed FROM claims c \
         JOIN claim_lines l USING (claim_id) GROUP BY 1 ORDER BY 1",
    ] {
        let contained = run_contained(
            &worker(),
            fixture.source(),
            A,
            sql,
            &QueryOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let in_process = run_query(&fixture.sandbox, A, sql, &QueryOptions::default())
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(contained, in_process, "{sql}");
    }
}

#[test]
fn refusals_cross_the_process_boundary_as_the_same_errors() {
    let _serial = serial();
    let fixture = Fixture::new();
    let run = |sql: &str| {
        run_contained(
            &worker(),
            fixture.source(),
            A,
            sql,
            &QueryOptions::default(),
        )
        .expect_err(sql)
    };
    assert!(matches!(
        run("DELETE FROM patients"),
        Error::NotReadOnly { .. }
    ));
    assert!(matches!(
        run("SELECT * FROM scenarios"),
        Error::ForbiddenTable { .. }
    ));
    assert!(matches!(
        run("SELECT * FROM main.patients"),
        Error::QualifiedName { .. }
    ));
    match run("SELECT no_such_column FROM patients") {
        Error::Execution {
            message,
            valid_tables,
        } => {
            assert!(message.contains("no_such_column"), "{message}");
            assert!(valid_tables.contains(&"patients"));
        }
        other => panic!("{other:?}"),
    }
    let limit = QueryOptions {
        limit: Some(0),
        ..QueryOptions::default()
    };
    assert!(matches!(
        run_contained(&worker(), fixture.source(), A, "SELECT 1", &limit),
        Err(Error::InvalidLimit { given: 0, .. })
    ));
}

#[test]
fn a_stack_overflow_in_a_json_function_ends_only_its_query() {
    let _serial = serial();
    let fixture = Fixture::new();
    // Deeply nested JSON text: DuckDB's recursive JSON walkers abort the process.
    for sql in [
        "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000)) AS x",
        "SELECT json_contains(repeat('[', 300000) || repeat(']', 300000), '1') AS x",
        "SELECT json_structure(repeat('{\"a\":', 200000 + count(*)::INT) || '1' \
         || repeat('}', 200000 + count(*)::INT)) AS x FROM patients",
    ] {
        check(&fixture, sql, Duration::from_secs(5), crashed);
    }
}

#[test]
fn runaway_memory_is_stopped_below_the_ceiling() {
    let _serial = serial();
    let fixture = Fixture::new();
    let mut ceiling_kills = 0;
    for sql in [
        // List builders whose size comes from the data, not from a constant.
        "SELECT len(range(count(*) * 100000000)) AS n FROM patients",
        "SELECT len(generate_series(1, count(*) * 100000000)) AS n FROM patients",
        // Nested string builders with a data-dependent size.
        "SELECT length(repeat(repeat('x', 1000000), count(*)::INT * 1000)) AS n FROM patients",
        "SELECT length(lpad('x', (count(*) * 150000000)::INT, 'y')) AS n FROM patients",
        "SELECT length(replace(repeat('a', 1000000), 'a', repeat('b', count(*)::INT * 1000))) \
         AS n FROM patients",
    ] {
        let error = check(&fixture, sql, Duration::from_secs(5), stopped_for_memory);
        ceiling_kills += u32::from(error.to_string().contains("MB of memory"));
    }
    // The resident-memory ceiling itself was reached (not only DuckDB's own limits).
    assert!(
        ceiling_kills >= 1,
        "no query reached the worker's memory ceiling"
    );
    let peak = peak_child_rss();
    assert!(
        peak < 1_500_000_000,
        "a worker peaked at {peak} bytes of resident memory"
    );
}

#[test]
fn functions_that_ignore_interruption_are_killed_at_the_deadline() {
    let _serial = serial();
    let fixture = Fixture::new();
    let timeout = Duration::from_millis(1500);
    for sql in [
        "SELECT levenshtein(repeat('ab', 20000 + count(*)::INT), repeat('ba', 20000)) FROM patients",
        "SELECT repeat('a', 30000 + count(*)::INT) GLOB repeat('*a', 3000) || 'b' FROM patients",
        "SELECT repeat('a', 30000) ILIKE repeat('%a', 3000) || '%b' AS x",
        "SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b",
    ] {
        check(&fixture, sql, timeout, |e| timed_out(e) || stopped_for_memory(e));
    }
    assert!(WORKER_GRACE < Duration::from_secs(1));
}

#[test]
fn a_cancelled_contained_query_stops_and_the_next_one_runs() {
    let _serial = serial();
    let fixture = Fixture::new();
    let (slow, opts, canceller) = cancelled_after(Duration::from_millis(200));
    // Without the cancellation this query would run for the whole 600 s timeout.
    assert!(matches!(
        run_contained(&worker(), fixture.source(), A, slow, &opts),
        Err(Error::Cancelled)
    ));
    canceller.join().expect("canceller");
    let next = run_contained(
        &worker(),
        fixture.source(),
        A,
        "SELECT 1 AS x",
        &QueryOptions::default(),
    );
    assert_eq!(next.expect("the next query").results[0]["x"], 1);
}

#[test]
fn a_missing_worker_program_or_database_is_a_clear_sandbox_failure() {
    let _serial = serial();
    let fixture = Fixture::new();
    let missing = Worker::new("/nonexistent/healthsim-query-worker", Vec::<String>::new());
    match run_contained(
        &missing,
        fixture.source(),
        A,
        "SELECT 1",
        &QueryOptions::default(),
    ) {
        Err(e @ Error::Worker { .. }) => {
            assert!(
                e.to_string()
                    .contains("/nonexistent/healthsim-query-worker"),
                "{e}"
            );
            assert!(!e.is_caller_error());
        }
        other => panic!("{other:?}"),
    }
    // A file that is not there, or a lake whose catalog database is not there: the worker
    // cannot open it, and says which.
    let (gone, name) = fixture.database.missing_source();
    match run_contained(&worker(), gone, A, "SELECT 1", &QueryOptions::default()) {
        Err(e @ Error::Open { .. }) => {
            assert!(e.to_string().contains(&name), "{e}");
            assert!(!e.is_caller_error());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_worker_refuses_input_that_is_not_a_request() {
    let _serial = serial();
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_healthsim-query-worker"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the worker");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"SELECT 1")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not a request"), "{said}");
}

#[test]
fn the_worker_answers_each_request_line_with_one_response_line() {
    let _serial = serial();
    use std::io::Write;
    let fixture = Fixture::new();
    let source = match fixture.source() {
        Source::File(path) => Source::File(std::fs::canonicalize(path).expect("path")),
        prepared => prepared,
    };
    let request = |sql: &str| {
        serde_json::json!({
            "source": source, "scenario_id": A, "sql": sql, "limit": null, "offset": 0,
            "timeout_ms": 5000, "max_cell_chars": 500
        })
        .to_string()
    };
    let env = match &source {
        Source::File(_) => Vec::new(),
        Source::Prepared(prepared) => prepared.env.clone(),
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_healthsim-query-worker"))
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the worker");
    let input = format!(
        "{}\n{}\n",
        request("SELECT count(*) AS n FROM patients"),
        request("SELECT * FROM scenarios")
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "stdin ended: a clean exit");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["Page"]["results"][0]["n"], 12);
    assert!(
        lines[1]["Refused"]["ForbiddenTable"].is_object(),
        "{}",
        lines[1]
    );
}

#[test]
fn one_session_answers_many_queries_with_one_worker() {
    let _serial = serial();
    let fixture = Fixture::new();
    let mut session = WorkerSession::start(&worker(), fixture.source()).expect("start");
    for offset in 0..5 {
        let options = QueryOptions {
            limit: Some(2),
            offset,
            ..QueryOptions::default()
        };
        let page = session
            .query(
                A,
                "SELECT patient_id FROM patients ORDER BY patient_id",
                &options,
            )
            .expect("page");
        assert_eq!(page.total_count, 12);
        assert_eq!(page.offset, offset);
        assert!(session.is_alive(), "the worker serves the next page too");
    }
    // A refusal does not end the worker either.
    assert!(matches!(
        session.query(A, "SELECT * FROM scenarios", &QueryOptions::default()),
        Err(Error::ForbiddenTable { .. })
    ));
    assert!(session.is_alive());
}

#[test]
fn a_session_whose_worker_crashed_says_so_and_refuses_further_queries() {
    let _serial = serial();
    let fixture = Fixture::new();
    let mut session = WorkerSession::start(&worker(), fixture.source()).expect("start");
    let crash = "SELECT json_structure(repeat('[', 200000) || repeat(']', 200000)) AS x";
    assert!(matches!(
        session.query(A, crash, &QueryOptions::default()),
        Err(Error::Crashed { .. })
    ));
    assert!(!session.is_alive());
    match session.query(A, "SELECT 1 AS x", &QueryOptions::default()) {
        Err(Error::Worker { detail }) => assert!(detail.contains("has ended"), "{detail}"),
        other => panic!("{other:?}"),
    }
}
