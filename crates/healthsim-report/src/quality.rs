//! Data quality: null rates of the columns that matter, duplicated natural keys, and the
//! referential integrity of every foreign key of the registry.
//!
//! - The columns that matter, per type present: its references, its category and date
//!   columns, its money columns, and the demographics a person-like type is read by
//!   (birth date, gender, state). Required columns are left out: the schema declares them
//!   NOT NULL, so they cannot be null. One query per type counts them all.
//! - Natural keys are identifiers that should be unique per scenario although the schema does
//!   not enforce it (MRN, SSN, NPI, NCPDP id, USUBJID): [`NATURAL_KEYS`], each checked against
//!   the registry before use.
//! - Referential integrity: for each reference of each type present, the non-null values with
//!   no entity of the target type in the scenario (a left join on the target's primary key,
//!   one pass), with the first few referencing ids (by id) and the ids they point at.

use duckdb::types::Value as Param;
use healthsim_schema::{by_table, ColumnKind, EntityType, Reference};

use crate::format;
use crate::options::ReportOptions;
use crate::overview::Present;
use crate::page::{Cell, Page, Table, Value};
use crate::sql::{column, count, scope_of, scoped, Db};
use crate::Error;

/// `(table, column)` pairs that identify an entity outside HealthSim and should not repeat
/// within a scenario. Subscriber ids and cardholder ids are shared by a family, so they are
/// not here.
pub(crate) const NATURAL_KEYS: [(&str, &str); 7] = [
    ("persons", "ssn"),
    ("patients", "mrn"),
    ("providers", "npi"),
    ("facilities", "npi"),
    ("pharmacies", "ncpdp_id"),
    ("pharmacies", "npi"),
    ("subjects", "usubjid"),
];

/// Demographic columns a person-like type is read by.
const DEMOGRAPHICS: [&str; 3] = ["birth_date", "gender", "state"];

/// How many foreign keys with dangling references the headline names.
const HEADLINE_BROKEN_KEYS: usize = 3;

/// What the headline reports of this section.
#[derive(Debug, Clone, Default)]
pub(crate) struct Findings {
    pub(crate) dangling_references: u64,
    pub(crate) broken_foreign_keys: Vec<String>,
    pub(crate) duplicate_key_values: u64,
}

/// Why a column is checked for nulls.
fn role(t: &EntityType, name: &str) -> Option<String> {
    if let Some(r) = t.references.iter().find(|r| r.column == name) {
        return Some(format!("reference → {}", r.target));
    }
    if t.category_column == Some(name) {
        return Some("category".to_string());
    }
    if t.date_column == Some(name) {
        return Some("date".to_string());
    }
    if t.column(name).is_some_and(|c| c.kind == ColumnKind::Money) {
        return Some("amount".to_string());
    }
    if t.is_person_like() && DEMOGRAPHICS.contains(&name) {
        return Some("demographics".to_string());
    }
    None
}

/// The optional columns of `t` that matter, in table order, with their role.
pub(crate) fn checked_columns(t: &EntityType) -> Vec<(&'static str, String)> {
    t.columns()
        .filter(|c| !c.required)
        .filter_map(|c| Some((c.name, role(t, c.name)?)))
        .collect()
}

struct NullRate {
    table: &'static str,
    column: &'static str,
    role: String,
    rows: u64,
    nulls: u64,
}

fn null_rates(db: Db<'_>, present: &Present) -> Result<Vec<NullRate>, Error> {
    let mut out = Vec::new();
    for (t, _) in present.iter() {
        let columns = checked_columns(t);
        if columns.is_empty() {
            continue;
        }
        let counts: String = columns
            .iter()
            .map(|(c, _)| format!(", count(*) - count({c})"))
            .collect();
        let values = db.row(
            &format!("the null rates of {}", t.table),
            &format!("SELECT count(*){counts} {}", scoped(t)),
            vec![db.scenario()],
            |r| {
                (0..=columns.len())
                    .map(|i| count(r, i))
                    .collect::<duckdb::Result<Vec<u64>>>()
            },
        )?;
        let rows = values.first().copied().unwrap_or(0);
        for ((column, role), nulls) in columns.into_iter().zip(values.into_iter().skip(1)) {
            out.push(NullRate {
                table: t.table,
                column,
                role,
                rows,
                nulls,
            });
        }
    }
    Ok(out)
}

struct Duplicates {
    table: &'static str,
    column: &'static str,
    /// Values held by more than one entity.
    values: u64,
    /// Entities holding such a value.
    rows: u64,
    examples: Vec<String>,
}

fn duplicates(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
) -> Result<Vec<Duplicates>, Error> {
    let mut out = Vec::new();
    for (table, name) in NATURAL_KEYS {
        let Some(t) = present.get(table) else {
            continue;
        };
        let Some(key) = column(t, name) else {
            continue;
        };
        let (values, rows, examples) = db.row(
            &format!("the duplicated {} of {}", key, t.table),
            &format!(
                "WITH repeated AS (SELECT {key} AS v, count(*) AS n {} AND {key} IS NOT NULL \
                                   GROUP BY 1 HAVING count(*) > 1) \
                 SELECT count(*), sum(n), \
                        (SELECT list(v ORDER BY n DESC, v) FROM \
                           (SELECT v, n FROM repeated ORDER BY n DESC, v LIMIT ?)) FROM repeated",
                scoped(t)
            ),
            vec![db.scenario(), Param::from(options.examples.max(1) as i64)],
            |r| Ok((count(r, 0)?, count(r, 1)?, texts(r.get(2)?))),
        )?;
        out.push(Duplicates {
            table: t.table,
            column: key,
            values,
            rows,
            examples: examples.into_iter().take(options.examples).collect(),
        });
    }
    Ok(out)
}

struct Integrity {
    table: &'static str,
    reference: &'static Reference,
    /// Non-null references.
    references: u64,
    /// References that point at nothing.
    dangling: u64,
    /// Distinct ids pointed at that do not exist.
    missing_targets: u64,
    /// `(referencing id, id pointed at)`, first by referencing id.
    examples: Vec<(String, String)>,
}

fn integrity(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
) -> Result<Vec<Integrity>, Error> {
    let mut out = Vec::new();
    let n = Param::from(options.examples.max(1) as i64);
    for (t, _) in present.iter() {
        for reference in t.references {
            let Some(target) = by_table(reference.target) else {
                continue;
            };
            let fk = reference.column;
            let (pk, target_pk) = (t.primary_key, target.primary_key);
            // The target's ids in the scenario, joined once; unmatched rows are the dangling ones.
            let row = db.row(
                &format!("the integrity of {}.{fk}", t.table),
                &format!(
                    "SELECT count(*), count(*) FILTER (WHERE x.{target_pk} IS NULL), \
                            count(DISTINCT s.{fk}) FILTER (WHERE x.{target_pk} IS NULL), \
                            arg_min(s.{pk}, s.{pk}, ?) FILTER (WHERE x.{target_pk} IS NULL), \
                            arg_min(s.{fk}, s.{pk}, ?) FILTER (WHERE x.{target_pk} IS NULL) \
                     FROM {table} s LEFT JOIN (SELECT {target_pk} {target_scope}) x ON x.{target_pk} = s.{fk} \
                     WHERE {scope} = ? AND s.{fk} IS NOT NULL",
                    table = t.table,
                    target_scope = scoped(target),
                    scope = scope_of("s"),
                ),
                vec![n.clone(), n.clone(), db.scenario(), db.scenario()],
                |r| {
                    Ok((
                        count(r, 0)?,
                        count(r, 1)?,
                        count(r, 2)?,
                        texts(r.get(3)?),
                        texts(r.get(4)?),
                    ))
                },
            )?;
            let (references, dangling, missing_targets, ids, targets) = row;
            out.push(Integrity {
                table: t.table,
                reference,
                references,
                dangling,
                missing_targets,
                examples: ids
                    .into_iter()
                    .zip(targets)
                    .take(options.examples)
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// The strings of a LIST value (NULL or anything else: none).
fn texts(value: duckdb::types::Value) -> Vec<String> {
    match value {
        duckdb::types::Value::List(items) => items
            .into_iter()
            .filter_map(|v| match v {
                duckdb::types::Value::Text(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Renders the section (always) and returns what the headline reports.
pub(crate) fn render(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<Findings, Error> {
    let nulls = null_rates(db, present)?;
    let duplicates = duplicates(db, present, options)?;
    let integrity = integrity(db, present, options)?;
    let dangling: u64 = integrity.iter().map(|i| i.dangling).sum();
    let broken: Vec<&Integrity> = {
        let mut broken: Vec<&Integrity> = integrity.iter().filter(|i| i.dangling > 0).collect();
        broken.sort_by_key(|i| std::cmp::Reverse(i.dangling));
        broken
    };
    let duplicate_values: u64 = duplicates.iter().map(|d| d.values).sum();

    page.section("data_quality", "Data quality");
    page.kpis(&[
        (
            "dangling references",
            Cell::new(Value::Count(dangling)).figure("quality.dangling_references"),
        ),
        (
            "foreign keys checked",
            Cell::new(Value::Count(integrity.len() as u64)).figure("quality.foreign_keys"),
        ),
        (
            "duplicated key values",
            Cell::new(Value::Count(duplicate_values)).figure("quality.duplicate_key_values"),
        ),
        (
            "columns with nulls",
            Cell::new(Value::Count(
                nulls.iter().filter(|n| n.nulls > 0).count() as u64
            ))
            .figure("quality.columns_with_nulls"),
        ),
    ]);

    page.h3("Referential integrity");
    if integrity.is_empty() {
        page.note("No type of this scenario has a foreign key in the registry.");
    } else if broken.is_empty() {
        let references: u64 = integrity.iter().map(|i| i.references).sum();
        page.status(
            true,
            &format!(
                "All {} references of {} foreign keys point at existing entities of the scenario.",
                format::count(references),
                integrity.len()
            ),
        );
    } else {
        page.status(
            false,
            &format!(
                "{} references of {} foreign keys point at nothing.",
                format::count(dangling),
                broken.len()
            ),
        );
    }
    let mut table = Table::new(
        "quality.integrity",
        &[
            "type",
            "column",
            "points at",
            "references",
            "dangling",
            "missing ids",
            "examples (id → missing)",
        ],
    );
    for i in &integrity {
        let key = format!("quality.integrity.{}.{}", i.table, i.reference.column);
        let examples = i
            .examples
            .iter()
            .map(|(id, target)| format!("{id} → {target}"))
            .collect::<Vec<_>>()
            .join(", ");
        table.problem_row(
            i.dangling > 0,
            vec![
                Cell::code(i.table),
                Cell::code(i.reference.column),
                Cell::code(i.reference.target),
                Cell::new(Value::Count(i.references)).figure(format!("{key}.references")),
                Cell::new(Value::Count(i.dangling)).figure(format!("{key}.dangling")),
                Cell::new(Value::Count(i.missing_targets)).figure(format!("{key}.missing")),
                if examples.is_empty() {
                    Cell::empty()
                } else {
                    Cell::code(examples).figure(format!("{key}.examples"))
                },
            ],
        );
    }
    page.table(None, &table);

    page.h3("Duplicated natural keys");
    if duplicates.is_empty() {
        page.note("No type of this scenario has a natural key (MRN, SSN, NPI, NCPDP id, USUBJID).");
    } else {
        let mut table = Table::new(
            "quality.duplicates",
            &[
                "type",
                "key",
                "values held twice or more",
                "entities holding them",
                "examples",
            ],
        );
        for d in &duplicates {
            let key = format!("quality.duplicates.{}.{}", d.table, d.column);
            table.problem_row(
                d.values > 0,
                vec![
                    Cell::code(d.table),
                    Cell::code(d.column),
                    Cell::new(Value::Count(d.values)).figure(format!("{key}.values")),
                    Cell::new(Value::Count(d.rows)).figure(format!("{key}.rows")),
                    if d.examples.is_empty() {
                        Cell::empty()
                    } else {
                        Cell::code(d.examples.join(", ")).figure(format!("{key}.examples"))
                    },
                ],
            );
        }
        page.table(None, &table);
    }

    page.h3("Null rates");
    page.note(
        "Optional columns that matter: references, category and date columns, amounts, and \
         demographics. Required columns are NOT NULL in the schema and not listed.",
    );
    let mut table = Table::new(
        "quality.nulls",
        &["type", "column", "role", "nulls", "null rate"],
    );
    for n in &nulls {
        let key = format!("quality.nulls.{}.{}", n.table, n.column);
        let rate = if n.rows > 0 {
            Cell::new(Value::Share(n.nulls as f64 / n.rows as f64)).figure(format!("{key}.rate"))
        } else {
            Cell::empty()
        };
        table.noted_row(
            n.nulls > 0,
            vec![
                Cell::code(n.table),
                Cell::code(n.column),
                Cell::text(n.role.clone()),
                Cell::new(Value::Count(n.nulls)).figure(format!("{key}.nulls")),
                rate,
            ],
        );
    }
    page.table(None, &table);
    page.end_section();

    Ok(Findings {
        dangling_references: dangling,
        broken_foreign_keys: broken
            .iter()
            .take(HEADLINE_BROKEN_KEYS)
            .map(|i| {
                format!(
                    "{}.{} → {}: {}",
                    i.table, i.reference.column, i.reference.target, i.dangling
                )
            })
            .collect(),
        duplicate_key_values: duplicate_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsim_schema::ENTITY_TYPES;

    #[test]
    fn natural_keys_are_registry_columns() {
        for (table, name) in NATURAL_KEYS {
            let t = by_table(table).unwrap_or_else(|| panic!("{table} is not a registry table"));
            assert!(
                t.column(name).is_some(),
                "{table}.{name} is not a registry column"
            );
        }
    }

    #[test]
    fn every_reference_column_is_checked_for_nulls_unless_required() {
        for t in ENTITY_TYPES {
            let checked: Vec<&str> = checked_columns(t).into_iter().map(|(c, _)| c).collect();
            for r in t.references {
                let required = t.column(r.column).is_some_and(|c| c.required);
                assert_eq!(
                    checked.contains(&r.column),
                    !required,
                    "{}.{}",
                    t.table,
                    r.column
                );
            }
        }
    }

    #[test]
    fn roles_name_why_a_column_matters() {
        let check = |table: &str, column: &str, expected: Option<&str>| {
            let t = by_table(table).expect("registry table");
            assert_eq!(role(t, column).as_deref(), expected, "{table}.{column}");
        };
        check("encounters", "facility_id", Some("reference → facilities"));
        check("encounters", "encounter_class", Some("category"));
        check("encounters", "start_datetime", Some("date"));
        check("claims", "total_paid", Some("amount"));
        check("patients", "gender", Some("category"));
        check("patients", "state", Some("demographics"));
        check("patients", "email", None);
    }
}
