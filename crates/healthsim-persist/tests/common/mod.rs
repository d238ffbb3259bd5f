//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use healthsim_persist::target::Target;
use healthsim_persist::{PersistRequest, PersistResult, ScenarioTarget, Store, StoreOptions};
use healthsim_schema::{ColumnKind, EntityType, ENTITY_TYPES};
use serde_json::{json, Map, Value as Json};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(crate) mod state;

/// The whole state of the store's database (every table's rows; see [`state`]).
pub(crate) fn store_state(store: &Store) -> Result<state::DbState, Box<dyn std::error::Error>> {
    Ok(store.with_reader(|conn| Ok(state::db_state(conn)))??)
}

pub(crate) use healthsim_pgtest::on_lake;

/// How many cases a property test whose every case opens a new store runs: `on_file` on a file;
/// on a lake a quarter of it, at least two. Each case there creates a catalog database and
/// migrates it (seconds, not milliseconds), and every statement asks the catalog server for
/// its tables' files; the file runs keep the full count, so the property is searched as widely
/// as before, and the lake runs check that it holds there too.
pub(crate) fn store_cases(on_file: u32) -> u32 {
    if on_lake() {
        (on_file / 4).max(2)
    } else {
        on_file
    }
}

/// A fresh store in its own temporary directory (kept alive by the returned guard): a new
/// file, or with [`healthsim_pgtest::BACKEND_VARIABLE`]`=lake` a new lake (a new database of the test
/// PostgreSQL server for its catalog, the directory for its data). It keeps running statistics
/// from the first row of a type (`running_statistics_from: 0`), so every persist of the tests
/// maintains them and every summary after one reads them, and summarizes a file's scenarios of
/// two types or more on two connections at any size (`summary_side_by_side_from: 0`).
pub(crate) fn store() -> (tempfile::TempDir, Store) {
    store_with(StoreOptions {
        running_statistics_from: 0,
        summary_side_by_side_from: 0,
        ..StoreOptions::default()
    })
}

/// [`store`] with other options.
pub(crate) fn store_with(options: StoreOptions) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = if on_lake() {
        lake_target(dir.path())
    } else {
        Target::File(dir.path().join("test.duckdb"))
    };
    let store = Store::open_target(target, options).expect("open a fresh store");
    (dir, store)
}

/// A new lake: a new catalog database on the test server, data in `data`.
pub(crate) fn lake_target(data: &std::path::Path) -> Target {
    let conninfo = healthsim_pgtest::cluster().database("persist");
    let text = format!(
        "ducklake:postgres:{conninfo} data_path={}/",
        data.join("lake").display()
    );
    Target::parse(&text).expect("a lake target")
}

/// A value of the right kind for a column, varied by `i`.
pub(crate) fn value_for(t: &EntityType, column: &str, kind: ColumnKind, i: usize) -> Json {
    if column == t.primary_key {
        return json!(format!("{}-{i}", t.singular));
    }
    match kind {
        ColumnKind::Text => json!(format!("{column} {i}")),
        ColumnKind::Code => json!(format!("C{i}")),
        ColumnKind::Integer => json!(40 + i),
        ColumnKind::Number => json!(12.25 + i as f64),
        ColumnKind::Money => json!(1234.56 + i as f64),
        ColumnKind::Date => json!("2024-02-29"),
        ColumnKind::Timestamp => json!("2024-03-01T08:30:00Z"),
        ColumnKind::Boolean => json!(i.is_multiple_of(2)),
        ColumnKind::Json => json!({"codes": ["E11.9", "I10"], "i": i}),
    }
}

/// An entity with a value for every column of `t`, in canonical shape.
pub(crate) fn full_entity(t: &EntityType, i: usize) -> Json {
    let mut object = Map::new();
    for c in t.columns() {
        object.insert(c.name.to_string(), value_for(t, c.name, c.kind, i));
    }
    Json::Object(object)
}

/// An entity with only its required columns.
pub(crate) fn minimal_entity(t: &EntityType, i: usize) -> Map<String, Json> {
    t.columns()
        .filter(|c| c.required)
        .map(|c| (c.name.to_string(), value_for(t, c.name, c.kind, i)))
        .collect()
}

/// Minimal patients `p0`, `p1`, ...
pub(crate) fn patients(n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            json!({
                "patient_id": format!("p{i}"),
                "given_name": format!("Given{i}"),
                "family_name": "Family",
                "birth_date": "1950-06-01",
                "gender": if i.is_multiple_of(2) { "female" } else { "male" },
                "state": "AZ",
            })
        })
        .collect()
}

/// Persists entities of one type into a new scenario with this exact name.
pub(crate) fn persist_new(
    store: &Store,
    name: &str,
    entity_type: &str,
    entities: Vec<Json>,
) -> PersistResult {
    let request =
        PersistRequest::new(entity_type, entities).with_scenario(ScenarioTarget::new_named(name));
    store.persist_entities(&request).expect("persist")
}

/// Persists entities of one type into an existing scenario.
pub(crate) fn persist_into(
    store: &Store,
    scenario: &str,
    entity_type: &str,
    entities: Vec<Json>,
) -> PersistResult {
    let request = PersistRequest::new(entity_type, entities).into_existing(scenario);
    store.persist_entities(&request).expect("persist")
}

/// Row counts of every table of the database (the registry's tables, the state tables and schema_migrations), for "nothing changed".
pub(crate) fn table_counts(store: &Store) -> BTreeMap<String, i64> {
    store
        .with_reader(|conn| {
            let mut counts = BTreeMap::new();
            let tables = ENTITY_TYPES.iter().map(|t| t.table).chain([
                "scenarios",
                "scenario_entities",
                "scenario_tags",
                "schema_migrations",
            ]);
            for table in tables {
                let n: i64 = conn
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                    .map_err(|e| healthsim_persist::Error::Database {
                        context: table.into(),
                        source: e,
                    })?;
                counts.insert(table.to_string(), n);
            }
            Ok(counts)
        })
        .expect("count rows")
}

/// The invariant: `scenario_entities` equals `count(*)` per scenario and table, and names only
/// existing scenarios.
pub(crate) fn assert_manifest_consistent(store: &Store) {
    store
        .with_reader(|conn| {
            let db = |e| healthsim_persist::Error::Database {
                context: "manifest check".into(),
                source: e,
            };
            let mut actual: BTreeMap<(String, String), i64> = BTreeMap::new();
            for t in ENTITY_TYPES {
                let mut stmt = conn
                    .prepare(&format!("SELECT scenario_id, count(*) FROM {} GROUP BY 1", t.table))
                    .map_err(db)?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(db)?;
                for row in rows {
                    let (scenario, n) = row.map_err(db)?;
                    actual.insert((scenario, t.table.to_string()), n);
                }
            }
            let mut stmt = conn
                .prepare("SELECT scenario_id, entity_type, entity_count FROM scenario_entities WHERE entity_count > 0")
                .map_err(db)?;
            let manifest: BTreeMap<(String, String), i64> = stmt
                .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            assert_eq!(manifest, actual, "scenario_entities must equal count(*) per table");
            let orphans: i64 = conn
                .query_row(
                    "SELECT count(*) FROM scenario_entities e WHERE NOT EXISTS
                     (SELECT 1 FROM scenarios s WHERE s.scenario_id = e.scenario_id)",
                    [],
                    |r| r.get(0),
                )
                .map_err(db)?;
            assert_eq!(orphans, 0, "manifest rows of deleted scenarios");
            // No logical key twice in any table: no constraint holds them (schema V0005).
            assert_eq!(state::expect_unique_keys(conn), Ok(()));
            Ok(())
        })
        .expect("manifest check");
}

/// Sorts a list of entities by a key, for order-insensitive comparison.
pub(crate) fn sorted_by(mut items: Vec<Json>, key: &str) -> Vec<Json> {
    items.sort_by(|a, b| a[key].to_string().cmp(&b[key].to_string()));
    items
}

/// The rows of a query with one `?` (the scenario id), every value cast to text by the query.
pub(crate) fn strings(store: &Store, sql: &str, scenario_id: &str) -> Vec<Vec<Option<String>>> {
    store
        .with_reader(|conn| {
            let db = |e| healthsim_persist::Error::Database {
                context: sql.to_string(),
                source: e,
            };
            let mut stmt = conn.prepare(sql).map_err(db)?;
            let rows = stmt
                .query_map([scenario_id], |r| {
                    let n = r.as_ref().column_count();
                    (0..n)
                        .map(|i| r.get::<_, Option<String>>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(db)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db)
        })
        .expect("query")
}
