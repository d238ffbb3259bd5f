//! Registry lookups: every way an agent may name an entity type.

use healthsim_schema::{entity_type, registry, Error, SummaryProfile, ENTITY_TYPES};

fn check(given: &str, expected_table: &str) {
    match entity_type(given) {
        Ok(t) => assert_eq!(t.table, expected_table, "lookup of {given:?}"),
        Err(e) => panic!("lookup of {given:?} failed: {e}"),
    }
}

#[test]
fn resolves_tables_singulars_and_aliases() {
    check("patients", "patients");
    check("patient", "patients");
    check("Patient", "patients");
    check("  PATIENTS ", "patients");
    check("vital_signs", "vitals");
    check("vital-signs", "vitals");
    check("Vital Signs", "vitals");
    check("lab", "lab_results");
    check("labs", "lab_results");
    check("lab_result", "lab_results");
    check("condition", "diagnoses");
    check("conditions", "diagnoses");
    check("diagnosis", "diagnoses");
    check("claim_line", "claim_lines");
    check("rx", "prescriptions");
    check("rx_member", "rx_members");
    check("pharmacy", "pharmacies");
    check("trial", "studies");
    check("arm", "treatment_arms");
    check("ae", "adverse_events");
    check("scheduled_visit", "visit_schedule");
    check("sdoh", "sdoh_indices");
    check("cohort", "cohort_specifications");
    check("practitioner", "providers");
    check("location", "facilities");
    check("specialty", "provider_specialties");
}

#[test]
fn every_type_resolves_by_table_singular_and_each_alias() {
    for t in ENTITY_TYPES {
        check(t.table, t.table);
        check(t.singular, t.table);
        check(&t.singular.to_uppercase(), t.table);
        for alias in t.aliases {
            check(alias, t.table);
        }
    }
}

#[test]
fn names_are_unambiguous() {
    let mut seen = std::collections::HashMap::new();
    for t in ENTITY_TYPES {
        for name in [t.table, t.singular].iter().chain(t.aliases) {
            if let Some(other) = seen.insert(*name, t.table) {
                panic!("{name} names both {other} and {}", t.table);
            }
        }
    }
}

#[test]
fn unknown_type_lists_the_valid_ones() {
    let err = entity_type("spaceships").expect_err("not a type");
    match &err {
        Error::UnknownEntityType { given, valid } => {
            assert_eq!(given, "spaceships");
            assert_eq!(valid.len(), ENTITY_TYPES.len());
            assert!(valid.contains(&"patients") && valid.contains(&"provider_specialties"));
        }
        other => panic!("wrong error: {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.starts_with("unknown entity type 'spaceships'; valid types: persons, providers")
    );
}

#[test]
fn empty_and_hostile_names_are_unknown() {
    for given in [
        "",
        " ",
        "patients; DROP TABLE patients",
        "main.patients",
        "../patients",
        "scenarios",
    ] {
        assert!(
            matches!(entity_type(given), Err(Error::UnknownEntityType { .. })),
            "{given:?} must not resolve"
        );
    }
}

// The one written-out table list outside the registry: a snapshot of the registry itself, so a
// new entity type shows up here as a reviewed diff, not as a count to bump in a dozen tests.
#[test]
fn registry_shape_matches_the_spec() {
    let by_layer: Vec<String> = healthsim_schema::Layer::ALL
        .iter()
        .map(|layer| {
            let tables: Vec<&str> = ENTITY_TYPES
                .iter()
                .filter(|t| t.layer == *layer)
                .map(|t| t.table)
                .collect();
            format!(
                "{} ({}): {}",
                layer.label(),
                tables.len(),
                tables.join(", ")
            )
        })
        .collect();
    insta::assert_snapshot!("tables_by_layer", by_layer.join("\n"));
    for t in ENTITY_TYPES {
        let first = t.columns().next().expect("a primary key column");
        assert_eq!(
            first.name, t.primary_key,
            "{}: primary key is the first column",
            t.table
        );
        assert!(first.required, "{}: primary key is NOT NULL", t.table);
        let mut names: Vec<_> = t.columns().map(|c| c.name).collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "{}: duplicate column", t.table);
        for sys in healthsim_schema::SYSTEM_COLUMNS {
            assert!(
                t.column(sys.name).is_none(),
                "{}: {} is a system column",
                t.table,
                sys.name
            );
        }
        for r in t.references {
            let target = registry::by_table(r.target).expect("reference target exists");
            let kind = t.column(r.column).expect("reference column exists").kind;
            assert_eq!(
                kind,
                target.columns().next().map(|c| c.kind).expect("pk"),
                "{}.{}",
                t.table,
                r.column
            );
        }
    }
    let person_like: Vec<_> = ENTITY_TYPES
        .iter()
        .filter(|t| t.is_person_like())
        .map(|t| t.table)
        .collect();
    assert_eq!(
        person_like,
        ["persons", "patients", "members", "rx_members", "subjects"]
    );
    for t in ENTITY_TYPES {
        assert_eq!(
            t.summary == SummaryProfile::Person,
            t.is_person_like(),
            "{}: the person summary profile is for the types with inline demographics",
            t.table
        );
    }
}

#[test]
fn references_to_finds_every_referrer() {
    let referrers: Vec<_> = registry::references_to("claims")
        .map(|(t, r)| (t.table, r.column))
        .collect();
    assert_eq!(referrers, [("claim_lines", "claim_id")]);
    let to_patients = registry::references_to("patients").count();
    assert!(
        to_patients >= 10,
        "patients is referenced by {to_patients} columns"
    );
}

/// One line per variant: whether the caller is at fault (the CLI's exit code 2).
#[test]
fn every_schema_error_says_whose_fault_it_is() {
    fn check(error: Error, caller: bool) {
        assert_eq!(error.is_caller_error(), caller, "{error}");
    }
    let database = || duckdb::Error::InvalidParameterCount(1, 2);
    check(entity_type("spaceships").expect_err("unknown"), true);
    check(
        Error::DatabaseNewer {
            database_version: 9,
            code_version: 3,
        },
        false,
    );
    check(
        Error::ChecksumMismatch {
            version: 1,
            name: "initial_schema".into(),
            recorded: "sha256:a".into(),
            expected: "sha256:b".into(),
        },
        false,
    );
    check(
        Error::EditedMigration {
            version: 1,
            name: "initial_schema".into(),
            pinned: "sha256:a".into(),
            actual: "sha256:b".into(),
        },
        false,
    );
    check(Error::MissingMigration { version: 2 }, false);
    check(Error::DuplicateMigration { version: 2 }, false);
    check(
        Error::MigrationFailed {
            version: 4,
            name: "x".into(),
            source: database(),
        },
        false,
    );
    check(
        Error::Database {
            context: "reading".into(),
            source: database(),
        },
        false,
    );
}
