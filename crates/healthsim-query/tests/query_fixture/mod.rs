//! Shared fixture of the query sandbox tests: a database with two scenarios that hold the
//! SAME entity ids with different values (so a leak between scenarios shows up as wrong
//! values), a reference database holding only scenario A, and helpers to run and render queries.
//!
//! The database under test is a DuckDB file, or with [`healthsim_pgtest::BACKEND_VARIABLE`]`=lake` a DuckLake (its
//! catalog a new database of the test PostgreSQL server, its data Parquet files in the test's
//! folder), opened the way the product opens it: through [`open_sandbox`] on a [`Source`]. The
//! reference database, which only computes expected results, is always a file.
#![allow(dead_code)] // each test binary uses a different part of the fixture

use std::path::{Path, PathBuf};

use duckdb::types::Value;
use duckdb::Connection;
use healthsim_query::{open_sandbox, run_query, Prepared, QueryOptions, QueryResult, Source};
use healthsim_schema::extensions::{self, Extension};
use healthsim_schema::value::{json_column, to_json};
use serde_json::Value as Json;

pub(crate) use healthsim_pgtest::on_lake;

/// The catalog name a lake is attached under, as the product attaches it.
pub(crate) const LAKE_ALIAS: &str = "lake";

/// A migrated database of the test backend ([`on_lake`]) in a folder of the test.
pub(crate) struct Database {
    /// What a sandbox opens.
    pub(crate) source: Source,
    backend: Backend,
}

enum Backend {
    File(PathBuf),
    Lake {
        /// The catalog's libpq connection string.
        conninfo: String,
        /// The data folder (ends without `/`).
        data: PathBuf,
    },
}

/// A SQL string literal (`'` doubled), for the fixture's own paths and connection strings.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Database {
    /// Creates the database in `dir` (a file `scenarios.duckdb`, or a lake whose data folder is
    /// `dir/lake`), migrates it and fills it with `fill` on a read-write connection.
    pub(crate) fn create(dir: &Path, fill: impl FnOnce(&Connection)) -> Database {
        let backend = if on_lake() {
            Backend::Lake {
                conninfo: healthsim_pgtest::cluster().database("query"),
                data: dir.join("lake"),
            }
        } else {
            Backend::File(dir.join("scenarios.duckdb"))
        };
        let source = match &backend {
            Backend::File(path) => Source::File(path.clone()),
            Backend::Lake { conninfo, data } => lake_source(conninfo, data),
        };
        let database = Database { source, backend };
        let conn = database.writer();
        healthsim_schema::migrate(&conn).expect("migrate");
        fill(&conn);
        database
    }

    /// A new read-write connection without any sandbox setting: for filling the database and
    /// for reading what the sandbox must not change. (Close it before opening a sandbox on a
    /// file: DuckDB locks a file open for writing.)
    pub(crate) fn writer(&self) -> Connection {
        match &self.backend {
            Backend::File(path) => Connection::open(path).expect("open database file"),
            Backend::Lake { conninfo, data } => {
                let conn = Connection::open_in_memory().expect("in-memory instance");
                for ext in [Extension::Postgres, Extension::Ducklake] {
                    extensions::load(&conn, ext).expect("load the lake's extensions");
                }
                for statement in attach(conninfo, data, false) {
                    conn.execute_batch(&statement).expect("attach the lake");
                }
                conn
            }
        }
    }

    /// A sandboxed connection, opened as the product opens it.
    pub(crate) fn sandbox(&self) -> Connection {
        open_sandbox(&self.source).unwrap_or_else(|e| panic!("open the sandbox: {e}"))
    }

    /// A source like this one whose database does not exist, and the name an error about it
    /// must mention: a file next to this one, or a lake whose catalog database is missing.
    pub(crate) fn missing_source(&self) -> (Source, String) {
        match &self.backend {
            Backend::File(path) => (
                Source::File(path.with_file_name("no-such.duckdb")),
                "no-such.duckdb".to_string(),
            ),
            Backend::Lake { conninfo, data } => {
                let name = "no_such_catalog_database";
                let missing: Vec<String> = conninfo
                    .split_whitespace()
                    .map(|word| {
                        if word.starts_with("dbname=") {
                            format!("dbname={name}")
                        } else {
                            word.to_string()
                        }
                    })
                    .collect();
                (lake_source(&missing.join(" "), data), name.to_string())
            }
        }
    }

    /// The lake's data folder; `None` for a file.
    pub(crate) fn data_path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::File(_) => None,
            Backend::Lake { data, .. } => Some(data),
        }
    }

    /// The lake's catalog connection string; `None` for a file.
    pub(crate) fn conninfo(&self) -> Option<&str> {
        match &self.backend {
            Backend::File(_) => None,
            Backend::Lake { conninfo, .. } => Some(conninfo),
        }
    }
}

/// The sandbox's source on a lake, as `healthsim-persist` writes it: the extensions loaded
/// from their folder, the lake attached read-only as the default catalog, its data folder the
/// only readable one.
fn lake_source(conninfo: &str, data: &Path) -> Source {
    let mut setup: Vec<String> = [Extension::Postgres, Extension::Ducklake]
        .into_iter()
        .map(|ext| extensions::load_statement(ext).expect("the extension's file"))
        .collect();
    setup.extend(attach(conninfo, data, true));
    Source::Prepared(Prepared {
        label: format!("test lake {}", data.display()),
        setup,
        readable: vec![data.to_path_buf()],
        // libpq's variables (a server named by HEALTHSIM_TEST_PG may need them).
        env: std::env::vars()
            .filter(|(key, _)| key.starts_with("PG") || key == "HOME")
            .collect(),
        secrets: Vec::new(),
    })
}

/// The statements that attach a lake as the default catalog, as the product writes them.
fn attach(conninfo: &str, data: &Path, read_only: bool) -> Vec<String> {
    let read_only = if read_only { ", READ_ONLY" } else { "" };
    vec![
        format!(
            "ATTACH {} AS {LAKE_ALIAS} (DATA_PATH {}{read_only})",
            literal(&format!("ducklake:postgres:{conninfo}")),
            literal(&format!("{}/", data.display()))
        ),
        format!("USE {LAKE_ALIAS}"),
    ]
}

/// The scenario the tests query.
pub(crate) const A: &str = "11111111-aaaa-4aaa-8aaa-000000000001";
/// The other scenario, whose rows must never show up.
pub(crate) const B: &str = "22222222-bbbb-4bbb-8bbb-000000000002";

/// The canonical tables the fixture fills.
pub(crate) const FILLED: &[&str] = &[
    "patients",
    "encounters",
    "diagnoses",
    "claims",
    "claim_lines",
];

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    /// The two-scenario database (a file or a lake, see the module header).
    pub(crate) database: Database,
    /// Read-only sandboxed connection to the two-scenario database.
    pub(crate) sandbox: Connection,
    /// A separate database file holding only scenario A's rows.
    pub(crate) reference: Connection,
}

/// Inserts one scenario's rows. `variant` changes every value but not the ids; scenario B
/// (variant 2) also has a few more patients than A.
pub(crate) fn insert_scenario(conn: &Connection, scenario: &str, variant: u32) {
    let v = variant;
    let patients = 12 + 3 * (v - 1);
    let sql = format!(
        "
        INSERT INTO scenarios (scenario_id, name, created_at, updated_at)
            VALUES ('{scenario}', 'scenario-{v}', TIMESTAMP '2024-01-0{v}', TIMESTAMP '2024-01-0{v}');
        INSERT INTO scenario_tags VALUES ('{scenario}', 'tag{v}', TIMESTAMP '2024-01-01');
        INSERT INTO scenario_entities VALUES ('{scenario}', 'patients', {patients}, TIMESTAMP '2024-01-01');
        INSERT INTO patients (scenario_id, patient_id, given_name, family_name, birth_date, gender,
                              state, city, extra, created_at)
            SELECT '{scenario}', 'p' || i,
                   ['Ana','Ben','Cara','Dev','Eli','Fay','Gus'][1 + (i * {v}) % 7],
                   'Family' || ((i * 7 * {v}) % 11),
                   DATE '1940-01-01' + CAST((i * 1373 * {v}) % 25000 AS INTEGER),
                   CASE WHEN (i + {v}) % 2 = 0 THEN 'female' ELSE 'male' END,
                   ['AZ','CA','TX','NY'][1 + (i + {v}) % 4],
                   'City ' || (i % 5),
                   CASE WHEN i % 3 = 0 THEN json_object('favorite_color', 'teal{v}', 'n', i) END,
                   TIMESTAMP '2024-02-01 10:00:00' + INTERVAL (i * {v}) MINUTE
            FROM range({patients}) t(i);
        INSERT INTO encounters (scenario_id, encounter_id, patient_id, encounter_class, status,
                                start_datetime, end_datetime, chief_complaint, created_at)
            SELECT '{scenario}', 'e' || i, 'p' || ((i * {v}) % 12),
                   ['inpatient','outpatient','emergency'][1 + (i * {v}) % 3],
                   'finished',
                   TIMESTAMP '2023-01-01 08:00:00' + INTERVAL (i * 37 * {v}) HOUR,
                   TIMESTAMP '2023-01-01 08:00:00' + INTERVAL (i * 37 * {v} + 5) HOUR,
                   'complaint ' || (i % 4) || ' -- DROP TABLE patients; ''quoted''',
                   TIMESTAMP '2024-02-01 10:00:00'
            FROM range(30) t(i);
        INSERT INTO diagnoses (scenario_id, diagnosis_id, patient_id, encounter_id, code,
                               description, onset_date, created_at)
            SELECT '{scenario}', 'd' || i, 'p' || ((i * 5 * {v}) % 12), 'e' || ((i * {v}) % 30),
                   ['E11.9','I10','J45.909','E78.5','N18.3'][1 + (i * {v}) % 5],
                   'diagnosis ' || i,
                   DATE '2020-01-01' + CAST(i * 11 * {v} AS INTEGER),
                   TIMESTAMP '2024-02-01 10:00:00'
            FROM range(40) t(i);
        INSERT INTO claims (scenario_id, claim_id, patient_id, encounter_id, claim_type, status,
                            service_date, principal_diagnosis, other_diagnoses, total_billed,
                            total_allowed, total_paid, total_patient_resp, created_at)
            SELECT '{scenario}', 'c' || i, 'p' || ((i * 3 * {v}) % 12), 'e' || ((i * 2) % 30),
                   ['professional','institutional'][1 + (i + {v}) % 2],
                   ['paid','denied','pending'][1 + (i * {v}) % 3],
                   DATE '2023-01-01' + CAST(i * 9 * {v} AS INTEGER),
                   ['E11.9','I10','J45.909'][1 + i % 3],
                   CASE WHEN i % 4 = 0 THEN to_json(['I10', 'E78.' || {v}]) END,
                   CAST(100 + i * 37.25 * {v} AS DECIMAL(18,2)),
                   CAST(80 + i * 20.10 * {v} AS DECIMAL(18,2)),
                   CAST(60 + i * 15.05 * {v} AS DECIMAL(18,2)),
                   CAST(i * 1.5 AS DECIMAL(18,2)),
                   TIMESTAMP '2024-02-01 10:00:00'
            FROM range(25) t(i);
        INSERT INTO claim_lines (scenario_id, claim_line_id, claim_id, line_number, procedure_code,
                                 units, billed_amount, paid_amount, created_at)
            SELECT '{scenario}', 'l' || i, 'c' || (i % 25), 1 + i // 25,
                   ['99213','99214','80053','93000'][1 + (i * {v}) % 4],
                   1 + (i * {v}) % 3,
                   CAST(20 + i * 3.5 * {v} AS DECIMAL(18,2)),
                   CAST(10 + i * 2.25 * {v} AS DECIMAL(18,2)),
                   TIMESTAMP '2024-02-01 10:00:00'
            FROM range(60) t(i);
        "
    );
    conn.execute_batch(&sql).expect("insert fixture rows");
}

fn migrated(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open database file");
    healthsim_schema::migrate(&conn).expect("migrate");
    conn
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::create(dir.path(), |conn| {
            insert_scenario(conn, A, 1);
            insert_scenario(conn, B, 2);
        });
        let reference = migrated(&dir.path().join("reference.duckdb"));
        insert_scenario(&reference, A, 1);
        let sandbox = database.sandbox();
        Fixture {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            database,
            sandbox,
            reference,
        }
    }

    /// What a worker opens: the two-scenario database's source.
    pub(crate) fn source(&self) -> Source {
        self.database.source.clone()
    }

    /// Every row of `sql` for scenario A through the sandbox, page after page.
    pub(crate) fn sandbox_rows(&self, sql: &str, limit: usize) -> Vec<Json> {
        let mut rows = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.page(sql, limit, offset);
            assert!(
                page.returned > 0 || !page.has_more,
                "no progress at {offset}: {sql}"
            );
            offset += page.returned;
            rows.extend(page.results.into_iter().map(Json::Object));
            if !page.has_more {
                assert_eq!(rows.len() as u64, page.total_count, "{sql}");
                return rows;
            }
        }
    }

    pub(crate) fn page(&self, sql: &str, limit: usize, offset: usize) -> QueryResult {
        let options = QueryOptions {
            limit: Some(limit),
            offset,
            max_cell_chars: 10_000,
            ..QueryOptions::default()
        };
        run_query(&self.sandbox, A, sql, &options)
            .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
    }

    /// Every row of `sql` run directly on the reference database (scenario A only).
    pub(crate) fn reference_rows(&self, sql: &str) -> Vec<Json> {
        render_all(&self.reference, sql)
    }

    /// Row counts of the filled tables and state tables per scenario, read directly.
    pub(crate) fn counts(&self) -> Vec<(String, i64)> {
        let mut tables: Vec<&str> = FILLED.to_vec();
        tables.extend(["scenarios", "scenario_tags", "scenario_entities"]);
        tables
            .iter()
            .map(|table| {
                let n: i64 = self
                    .sandbox
                    .query_row(&format!("SELECT count(*) FROM main.{table}"), [], |r| {
                        r.get(0)
                    })
                    .expect("count");
                (table.to_string(), n)
            })
            .collect()
    }

    /// Settings, attached databases, tables, views, variables, prepared statements, the number
    /// of functions (an extension loaded would add some) and the files of the test's folder.
    pub(crate) fn state(&self) -> Vec<String> {
        let sql = "
            SELECT 'setting ' || name || '=' || coalesce(value, 'NULL') FROM duckdb_settings()
                WHERE name IN ('threads', 'memory_limit', 'access_mode', 'enable_external_access',
                               'lock_configuration', 'temp_directory', 'autoload_known_extensions',
                               'max_temp_directory_size', 'enable_profiling', 'search_path')
            UNION ALL SELECT 'database ' || database_name FROM duckdb_databases()
            UNION ALL SELECT 'table ' || database_name || '.' || table_name FROM duckdb_tables()
            UNION ALL SELECT 'view ' || view_name FROM duckdb_views() WHERE NOT internal
            UNION ALL SELECT 'variable ' || name FROM duckdb_variables()
            UNION ALL SELECT 'prepared ' || name FROM duckdb_prepared_statements()
            UNION ALL SELECT 'functions ' || count(*) FROM duckdb_functions()
            ORDER BY 1";
        let mut stmt = self.sandbox.prepare(sql).expect("state query");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("state rows")
            .collect::<Result<Vec<_>, _>>()
            .expect("state values");
        let mut files = Vec::new();
        list_files(&self.dir, &self.dir, &mut files);
        files.sort();
        rows.into_iter().chain(files).collect()
    }
}

/// Every file and folder under `dir`, as `file <path relative to root>`.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("list dir") {
        let path = entry.expect("entry").path();
        let relative = path.strip_prefix(root).expect("under the root");
        out.push(format!("file {}", relative.display()));
        if path.is_dir() {
            list_files(root, &path, out);
        }
    }
}

/// Runs `sql` on `conn` and renders each row like the sandbox does (JSON columns as JSON).
pub(crate) fn render_all(conn: &Connection, sql: &str) -> Vec<Json> {
    let mut stmt = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("reference failed: {e}\n{sql}"));
    let mut rows = stmt.query([]).expect("reference query");
    let (names, json): (Vec<String>, Vec<bool>) = {
        let stmt = rows.as_ref().expect("statement");
        (0..stmt.column_count())
            .map(|i| {
                (
                    stmt.column_name(i).expect("name").clone(),
                    stmt.column_logical_type(i).get_alias().as_deref() == Some("JSON"),
                )
            })
            .unzip()
    };
    let names = unique(names);
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        let mut object = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let value: Value = row.get(i).expect("value");
            let rendered = match value {
                Value::Text(text) if json[i] => json_column(&text),
                other => to_json(&other),
            };
            object.insert(name.clone(), rendered);
        }
        out.push(Json::Object(object));
    }
    out
}

fn unique(names: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .map(|name| {
            let mut candidate = name.clone();
            let mut n = 1;
            while !seen.insert(candidate.clone()) {
                candidate = format!("{name}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// Rows sorted by their JSON text, for comparing results whose order is not specified.
pub(crate) fn sorted(mut rows: Vec<Json>) -> Vec<Json> {
    rows.sort_by_cached_key(|r| r.to_string());
    rows
}

/// A query that runs for minutes, and options that cancel it after `after` (on another thread,
/// joined by the returned handle) with a 600 s timeout: a cancelled query ends long before it.
pub(crate) fn cancelled_after(
    after: std::time::Duration,
) -> (&'static str, QueryOptions, std::thread::JoinHandle<()>) {
    let cancel = healthsim_query::Cancel::new();
    let options = QueryOptions {
        timeout: std::time::Duration::from_secs(600),
        cancel: Some(cancel.clone()),
        ..QueryOptions::default()
    };
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(after);
        cancel.cancel();
    });
    let slow = "SELECT sum(a.range * b.range) AS s FROM range(100000000) a, range(100000000) b";
    (slow, options, canceller)
}
