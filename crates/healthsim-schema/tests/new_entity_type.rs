//! Adding one more entity type is a registry entry plus one migration: the DDL, the catalog check
//! and the migration history take the new type without any other code changing. This test plays
//! the recipe of ARCHITECTURE.md ("Adding an entity type") with a registry that has one type more.

use duckdb::Connection;
use healthsim_schema::catalog::{check_catalog, check_catalog_for, read_catalog};
use healthsim_schema::migrations::{checksum_of, migrate_with, verify_pins, Migration};
use healthsim_schema::{
    ddl, head_version, Column, ColumnKind, EntityType, Layer, Reference, SummaryProfile,
    ENTITY_TYPES, MIGRATIONS,
};

const fn column(name: &'static str, kind: ColumnKind, required: bool) -> Column {
    Column {
        name,
        kind,
        required,
    }
}

/// Step 1 of the recipe: the registry entry.
static CARE_PLANS: EntityType = EntityType {
    table: "care_plans",
    singular: "care_plan",
    layer: Layer::PatientSim,
    primary_key: "care_plan_id",
    aliases: &["careplans"],
    standard: "FHIR R4 CarePlan",
    column_groups: &[&[
        column("care_plan_id", ColumnKind::Text, true),
        column("patient_id", ColumnKind::Text, true),
        column("category_code", ColumnKind::Code, false),
        column("start_date", ColumnKind::Date, false),
    ]],
    references: &[Reference {
        column: "patient_id",
        target: "patients",
    }],
    category_column: Some("category_code"),
    date_column: Some("start_date"),
    major: false,
    summary: SummaryProfile::Generic,
};

fn extended_registry() -> Vec<&'static EntityType> {
    ENTITY_TYPES.iter().chain([&CARE_PLANS]).collect()
}

/// Step 2 of the recipe: one new migration, its SQL drafted from the registry
/// (`schema_tool head-sql`) and its checksum pinned next to it.
fn migrations_with_the_new_type() -> Vec<Migration> {
    let sql: &'static str = Box::leak(ddl::create_entity_table(&CARE_PLANS).into_boxed_str());
    let pinned: &'static str = Box::leak(checksum_of(sql).into_boxed_str());
    let mut list = MIGRATIONS.to_vec();
    list.push(Migration {
        version: head_version() + 1,
        name: "care_plans",
        sql,
        pinned,
    });
    list
}

#[test]
fn a_registry_with_one_more_type_and_its_migration_pass_the_catalog_and_ddl_checks() {
    let migrations = migrations_with_the_new_type();
    assert_eq!(verify_pins(&migrations).map_err(|e| e.to_string()), Ok(()));

    let migrated = Connection::open_in_memory().expect("in-memory database");
    let report = migrate_with(&migrated, &migrations, None).expect("migrate to the new head");
    assert_eq!(report.to_version, head_version() + 1);
    let catalog = read_catalog(&migrated).expect("catalog");
    assert_eq!(
        check_catalog_for(&catalog, extended_registry()),
        Vec::<String>::new()
    );

    let from_registry = Connection::open_in_memory().expect("in-memory database");
    from_registry
        .execute_batch(&ddl::schema_sql_for(extended_registry()))
        .expect("the registry's DDL runs");
    migrate_with(&from_registry, &[], None).expect("schema_migrations");
    assert_eq!(
        read_catalog(&from_registry).expect("catalog"),
        catalog,
        "the migrations and the extended registry describe the same schema"
    );
}

#[test]
fn an_existing_database_upgrades_to_the_new_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("today.duckdb");
    {
        let today = Connection::open(&path).expect("open");
        healthsim_schema::migrate(&today).expect("today's head");
    }
    let reopened = Connection::open(&path).expect("reopen");
    let report = migrate_with(&reopened, &migrations_with_the_new_type(), None).expect("upgrade");
    assert_eq!(report.applied, [head_version() + 1]);
    let catalog = read_catalog(&reopened).expect("catalog");
    assert_eq!(
        check_catalog_for(&catalog, extended_registry()),
        Vec::<String>::new()
    );
}

#[test]
fn the_catalog_check_of_todays_registry_notices_the_unregistered_table() {
    let migrated = Connection::open_in_memory().expect("in-memory database");
    migrate_with(&migrated, &migrations_with_the_new_type(), None).expect("migrate");
    let catalog = read_catalog(&migrated).expect("catalog");
    assert_eq!(check_catalog(&catalog), ["unexpected table care_plans"]);
}
