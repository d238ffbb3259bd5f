//! The catalog of a fresh database, snapshotted; the data dictionary is generated from the registry.

use healthsim_schema::catalog::{check_catalog, read_catalog, render_schema_markdown};

#[test]
fn catalog_snapshot() {
    let conn = duckdb::Connection::open_in_memory().expect("db");
    healthsim_schema::migrate(&conn).expect("migrate");
    let catalog = read_catalog(&conn).expect("catalog");
    insta::assert_json_snapshot!("catalog", catalog);
}

#[test]
fn check_catalog_reports_what_is_wrong() {
    let conn = duckdb::Connection::open_in_memory().expect("db");
    healthsim_schema::migrate(&conn).expect("migrate");
    conn.execute_batch(
        "CREATE INDEX idx_vitals_scenario ON vitals (scenario_id); ALTER TABLE claims DROP COLUMN extra; CREATE TABLE stray (x INTEGER PRIMARY KEY);",
    )
        .expect("damage");
    let problems = check_catalog(&read_catalog(&conn).expect("catalog"));
    assert_eq!(
        problems,
        [
            "unexpected table stray",
            "stray: unexpected constraint PRIMARY KEY(x) (logical keys are kept by the write path)",
            "vitals: unexpected index idx_vitals_scenario [scenario_id] (canonical tables have no index)",
            "claims: column extra is missing",
        ]
    );
}

#[test]
fn schema_doc_covers_every_table() {
    let doc = render_schema_markdown();
    for t in healthsim_schema::ENTITY_TYPES {
        assert!(
            doc.contains(&format!("### `{}`", t.table)),
            "{} missing from docs/schema.md",
            t.table
        );
    }
    for t in healthsim_schema::registry::STATE_TABLES {
        assert!(doc.contains(&format!("### `{t}`")));
    }
}

#[test]
fn committed_schema_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == render_schema_markdown(),
        "docs/schema.md is stale: run `cargo xtask schema`"
    );
}
