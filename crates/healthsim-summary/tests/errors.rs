//! Every error variant, triggered the way a caller would meet it, with its message.

mod common;

use common::{as_of, db, products, run, scenario, sync_manifest};
use duckdb::Connection;
use healthsim_summary::{entity_samples, scenario_summary, Error, SampleStrategy, SummaryOptions};

fn options() -> SummaryOptions {
    SummaryOptions {
        samples_per_type: 3,
        as_of: as_of(),
        ..SummaryOptions::default()
    }
}

/// A scenario "s1" with the MemberSim and PatientSim fixtures.
fn fixture() -> Connection {
    let conn = db();
    scenario(&conn, "s1", "s1", None, &[]);
    run(&conn, "s1", products::MEMBER_SIM);
    run(&conn, "s1", products::PATIENT_SIM);
    sync_manifest(&conn, "s1");
    conn
}

/// Breaks a table the way an outdated or hand-edited database would be broken.
fn drop_column(conn: &Connection, table: &str, column: &str) {
    conn.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
        .expect("drop column");
}

fn check_message(error: &Error, expected: &str) {
    let message = error.to_string();
    assert!(
        message.contains(expected),
        "message {message:?} lacks {expected:?}"
    );
    assert!(
        message.chars().next().is_some_and(|c| !c.is_uppercase()),
        "message not lowercase: {message:?}"
    );
}

#[test]
fn unknown_scenario() {
    let conn = fixture();
    let cases = [
        scenario_summary(&conn, "nope", &options()).err(),
        entity_samples(&conn, "nope", "patients", 3, SampleStrategy::Diverse).err(),
    ];
    for error in cases {
        let error = error.expect("an error");
        assert!(
            matches!(&error, Error::ScenarioNotFound { scenario_id } if scenario_id == "nope"),
            "{error:?}"
        );
        check_message(&error, "scenario 'nope' not found");
    }
}

#[test]
fn unknown_entity_type() {
    let conn = fixture();
    let error = entity_samples(&conn, "s1", "widgets", 3, SampleStrategy::Diverse)
        .expect_err("widgets are no entity type");
    assert!(
        matches!(
            &error,
            Error::UnknownEntityType {
                source: healthsim_schema::Error::UnknownEntityType { given, valid }
            } if given == "widgets" && valid.len() == healthsim_schema::ENTITY_TYPES.len()
        ),
        "{error:?}"
    );
    check_message(
        &error,
        "unknown entity type 'widgets'; valid types: persons, providers",
    );
}

#[test]
fn unknown_sample_strategy() {
    let error = "newest"
        .parse::<SampleStrategy>()
        .expect_err("not a strategy");
    assert!(
        matches!(&error, Error::UnknownSampleStrategy { given, valid }
            if given == "newest" && valid == &["diverse", "random", "recent"]),
        "{error:?}"
    );
    check_message(
        &error,
        "unknown sample strategy 'newest'; valid strategies: diverse, random, recent",
    );
}

#[test]
fn failing_statistic_is_an_error_with_context() {
    // The same error on one connection and on two side by side.
    for side_by_side_from in [u64::MAX, 0] {
        let conn = fixture();
        drop_column(&conn, "claims", "total_paid");
        let options = SummaryOptions {
            side_by_side_from,
            ..options()
        };
        let error = scenario_summary(&conn, "s1", &options).expect_err("totals cannot be computed");
        assert!(
            matches!(&error, Error::Statistic { entity_type, statistic, .. }
                if entity_type == "claims" && statistic == "totals"),
            "{error:?}"
        );
        check_message(&error, "statistic 'totals' of claims failed: ");
    }
}

#[test]
fn database_errors_say_what_was_being_done() {
    let unmigrated = Connection::open_in_memory().expect("database");
    let error = scenario_summary(&unmigrated, "s1", &options()).expect_err("no schema");
    assert!(matches!(&error, Error::Database { .. }), "{error:?}");
    check_message(
        &error,
        "database error while reading the record of scenario 's1'",
    );

    let error = entity_samples(&unmigrated, "s1", "patients", 1, SampleStrategy::Recent)
        .expect_err("no schema");
    check_message(&error, "database error while looking up scenario 's1'");

    let conn = fixture();
    drop_column(&conn, "patients", "mrn");
    let side_by_side = SummaryOptions {
        side_by_side_from: 0,
        ..options()
    };
    for error in [
        scenario_summary(&conn, "s1", &options()).expect_err("samples cannot be read"),
        scenario_summary(&conn, "s1", &side_by_side).expect_err("on two connections neither"),
        entity_samples(&conn, "s1", "patients", 1, SampleStrategy::Diverse).expect_err("same"),
    ] {
        assert!(
            matches!(&error, Error::Database { context, .. } if context == "sampling patients (diverse)"),
            "{error:?}"
        );
        check_message(&error, "database error while sampling patients (diverse): ");
    }

    let conn = fixture();
    conn.execute_batch("DROP TABLE scenario_entities")
        .expect("drop manifest");
    let error = scenario_summary(&conn, "s1", &options()).expect_err("no manifest");
    check_message(
        &error,
        "database error while reading the entity counts of scenario 's1'",
    );
}
