//! Schema maintenance tool driven by `cargo xtask`: `schema_tool doc|head-sql|check`.
//!
//! - `doc`: print docs/schema.md (the data dictionary) generated from the registry.
//! - `head-sql`: print the head schema DDL generated from the registry (to draft a new migration).
//! - `check`: build a fresh database from the migrations and one from the registry's DDL, upgrade
//!   from every historical version, and report every difference or structural problem.

use healthsim_schema::{catalog, ddl, migrations};

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let code = match arg.as_str() {
        "doc" => {
            print!("{}", catalog::render_schema_markdown());
            0
        }
        "head-sql" => {
            print!("{}", ddl::head_schema_sql());
            0
        }
        "check" => match check() {
            Ok(problems) if problems.is_empty() => {
                println!(
                    "schema check: ok ({} migrations, each with its pinned checksum; {} entity + {} state tables + {})",
                    migrations::MIGRATIONS.len(),
                    healthsim_schema::ENTITY_TYPES.len(),
                    healthsim_schema::registry::STATE_TABLES.len(),
                    healthsim_schema::registry::MIGRATIONS_TABLE
                );
                0
            }
            Ok(problems) => {
                for p in &problems {
                    eprintln!("schema problem: {p}");
                }
                1
            }
            Err(e) => {
                eprintln!("schema check failed: {e}");
                1
            }
        },
        other => {
            eprintln!("usage: schema_tool doc|head-sql|check (got '{other}')");
            2
        }
    };
    std::process::exit(code);
}

fn check() -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut problems = Vec::new();
    if let Err(edited) = migrations::verify_pins(migrations::MIGRATIONS) {
        problems.push(edited.to_string());
    }
    let fresh = duckdb::Connection::open_in_memory()?;
    migrations::migrate(&fresh)?;
    let fresh_catalog = catalog::read_catalog(&fresh)?;
    problems.extend(catalog::check_catalog(&fresh_catalog));

    let from_registry = duckdb::Connection::open_in_memory()?;
    from_registry.execute_batch(&ddl::head_schema_sql())?;
    migrations::migrate_with(&from_registry, &[], None)?; // creates schema_migrations only
    let registry_catalog = catalog::read_catalog(&from_registry)?;
    if registry_catalog != fresh_catalog {
        problems.push(
            "the migrations do not produce the schema the registry describes: add a migration (see `schema_tool head-sql`)".into(),
        );
        for (a, b) in fresh_catalog.tables.iter().zip(&registry_catalog.tables) {
            if a != b {
                problems.push(format!(
                    "  differs: table {} (migrations) vs {} (registry)",
                    a.name, b.name
                ));
            }
        }
    }
    for start in 1..migrations::head_version() {
        let dir = std::env::temp_dir().join(format!(
            "healthsim-schema-check-{}-{start}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("old.duckdb");
        {
            let old = duckdb::Connection::open(&path)?;
            migrations::migrate_with(&old, migrations::MIGRATIONS, Some(start))?;
        }
        let reopened = duckdb::Connection::open(&path)?;
        migrations::migrate(&reopened)?;
        if catalog::read_catalog(&reopened)? != fresh_catalog {
            problems.push(format!(
                "upgrading a database from version {start} does not give the fresh catalog"
            ));
        }
        drop(reopened);
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(problems)
}
