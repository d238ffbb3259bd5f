//! The overview: the scenario's own row and tags, the manifest's counts per type (the same
//! counts the summary reads), and the date range of each type's registry date column.

use healthsim_schema::{by_table, EntityType, ENTITY_TYPES};

use crate::page::{Cell, Page, Table, Value};
use crate::sql::{count, scoped, Db};
use crate::Error;

/// Tags shown before the rest is counted.
const MAX_TAGS: usize = 50;

/// The scenario's row and tags.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) scenario_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) tags: Vec<String>,
    pub(crate) tag_count: usize,
}

/// The entity types with entities in the scenario and their counts, in registry order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Present(Vec<(&'static EntityType, u64)>);

impl Present {
    /// The registry's type for `table` when the scenario has entities of it.
    pub(crate) fn get(&self, table: &str) -> Option<&'static EntityType> {
        self.0
            .iter()
            .find(|(t, _)| t.table == table)
            .map(|(t, _)| *t)
    }

    /// The scenario's count of `table` (0 when absent).
    pub(crate) fn count(&self, table: &str) -> u64 {
        self.0
            .iter()
            .find(|(t, _)| t.table == table)
            .map_or(0, |(_, n)| *n)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static EntityType, u64)> + '_ {
        self.0.iter().copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

/// First and last date of one type's date column.
#[derive(Debug, Clone)]
pub(crate) struct TypeRange {
    pub(crate) column: &'static str,
    pub(crate) first: String,
    pub(crate) last: String,
}

/// Everything the overview shows.
#[derive(Debug, Clone)]
pub(crate) struct Overview {
    pub(crate) scenario: Scenario,
    pub(crate) present: Present,
    /// Per present type (same order), its date range when it has one.
    pub(crate) ranges: Vec<Option<TypeRange>>,
    /// Earliest first and latest last date over all types.
    pub(crate) span: Option<(String, String)>,
}

pub(crate) fn gather(db: Db<'_>) -> Result<Overview, Error> {
    let scenario = read_scenario(db)?;
    let present = read_counts(db)?;
    let ranges = read_ranges(db, &present)?;
    let span = ranges.iter().flatten().fold(None, |span, r| match span {
        None => Some((r.first.clone(), r.last.clone())),
        Some((a, b)) => Some((
            std::cmp::min(a, r.first.clone()),
            std::cmp::max(b, r.last.clone()),
        )),
    });
    Ok(Overview {
        scenario,
        present,
        ranges,
        span,
    })
}

fn read_scenario(db: Db<'_>) -> Result<Scenario, Error> {
    let rows = db.rows(
        "the scenario",
        "SELECT name, description, strftime(created_at, '%Y-%m-%d %H:%M UTC'), \
         strftime(updated_at, '%Y-%m-%d %H:%M UTC') FROM scenarios WHERE scenario_id = ?",
        vec![db.scenario()],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        },
    )?;
    let Some((name, description, created_at, updated_at)) = rows.into_iter().next() else {
        return Err(Error::ScenarioNotFound {
            scenario_id: db.scenario_id.to_string(),
        });
    };
    let tags = db.rows(
        "the scenario's tags",
        "SELECT tag, count(*) OVER () FROM scenario_tags WHERE scenario_id = ? ORDER BY tag LIMIT ?",
        vec![db.scenario(), duckdb::types::Value::from(MAX_TAGS as i64)],
        |r| Ok((r.get::<_, String>(0)?, count(r, 1)?)),
    )?;
    let tag_count = tags
        .first()
        .map_or(0, |(_, n)| usize::try_from(*n).unwrap_or(usize::MAX));
    Ok(Scenario {
        scenario_id: db.scenario_id.to_string(),
        name,
        description,
        created_at: created_at.unwrap_or_default(),
        updated_at: updated_at.unwrap_or_default(),
        tags: tags.into_iter().map(|(t, _)| t).collect(),
        tag_count,
    })
}

/// The manifest's non-zero counts (`scenario_entities`, the summary's source of counts).
fn read_counts(db: Db<'_>) -> Result<Present, Error> {
    let rows = db.rows(
        "the entity counts",
        "SELECT entity_type, entity_count FROM scenario_entities \
         WHERE scenario_id = ? AND entity_count > 0",
        vec![db.scenario()],
        |r| Ok((r.get::<_, String>(0)?, count(r, 1)?)),
    )?;
    let mut present: Vec<(&'static EntityType, u64)> = rows
        .into_iter()
        .filter_map(|(table, n)| Some((by_table(&table)?, n)))
        .collect();
    present.sort_by_key(|(t, _)| ENTITY_TYPES.iter().position(|e| e.table == t.table));
    Ok(Present(present))
}

/// The registry date column of a type that dates its events (not a birth date).
fn event_date_column(t: &EntityType) -> Option<&'static str> {
    t.date_column
        .filter(|c| !(t.is_person_like() && *c == "birth_date"))
}

/// Date ranges of every present type with an event date column, in one statement.
fn read_ranges(db: Db<'_>, present: &Present) -> Result<Vec<Option<TypeRange>>, Error> {
    let mut parts = Vec::new();
    let mut params = Vec::new();
    for (i, (t, _)) in present.iter().enumerate() {
        if let Some(column) = event_date_column(t) {
            parts.push(format!(
                "SELECT {i} AS i, CAST(CAST(min({column}) AS DATE) AS VARCHAR), \
                 CAST(CAST(max({column}) AS DATE) AS VARCHAR) {}",
                scoped(t)
            ));
            params.push(db.scenario());
        }
    }
    let mut ranges: Vec<Option<TypeRange>> = vec![None; present.len()];
    if parts.is_empty() {
        return Ok(ranges);
    }
    let rows = db.rows("the date ranges", &parts.join(" UNION ALL "), params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let types: Vec<&'static EntityType> = present.iter().map(|(t, _)| t).collect();
    for (i, first, last) in rows {
        let Some(i) = usize::try_from(i).ok().filter(|i| *i < types.len()) else {
            continue;
        };
        if let (Some(first), Some(last), Some(column)) = (first, last, event_date_column(types[i]))
        {
            ranges[i] = Some(TypeRange {
                column,
                first,
                last,
            });
        }
    }
    Ok(ranges)
}

pub(crate) fn render(overview: &Overview, page: &mut Page) {
    let present = &overview.present;
    page.section("overview", "Overview");
    if let Some(description) = overview.scenario.description.as_deref() {
        if !description.trim().is_empty() {
            page.description(description);
        }
    }
    if !overview.scenario.tags.is_empty() {
        page.tags(
            &overview.scenario.tags,
            overview
                .scenario
                .tag_count
                .saturating_sub(overview.scenario.tags.len()),
        );
    }
    let layers: Vec<&str> = {
        let mut layers: Vec<&str> = present.iter().map(|(t, _)| t.layer.label()).collect();
        layers.dedup();
        layers
    };
    let span = match &overview.span {
        Some((first, last)) => Cell::text(format!("{first} – {last}")),
        None => Cell::empty(),
    };
    page.kpis(&[
        (
            "entities",
            Cell::new(Value::Count(present.total())).figure("overview.total"),
        ),
        (
            "entity types",
            Cell::new(Value::Count(present.len() as u64)).figure("overview.types"),
        ),
        ("products", Cell::text(layers.join(", "))),
        ("date span", span.figure("overview.span")),
    ]);
    if present.total() == 0 {
        page.note("This scenario has no entities yet.");
    }
    let mut table = Table::new(
        "overview.counts",
        &[
            "product",
            "entity type",
            "entities",
            "date column",
            "first",
            "last",
        ],
    );
    for ((t, n), range) in present.iter().zip(&overview.ranges) {
        let (column, first, last) = match range {
            Some(r) => (
                Cell::code(r.column),
                Cell::text(r.first.clone()).figure(format!("overview.first.{}", t.table)),
                Cell::text(r.last.clone()).figure(format!("overview.last.{}", t.table)),
            ),
            None => (Cell::empty(), Cell::empty(), Cell::empty()),
        };
        table.row(vec![
            Cell::text(t.layer.label()),
            Cell::code(t.table),
            Cell::new(Value::Count(n)).figure(format!("overview.count.{}", t.table)),
            column,
            first,
            last,
        ]);
    }
    page.table(None, &table);
    page.end_section();
}
