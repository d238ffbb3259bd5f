//! Scenario lifecycle on [`Store`]: resolve, list, rename, delete, tags, and the read-only
//! pass-throughs to healthsim-summary.
//!
//! No table has a key constraint (schema V0005): this module keeps the logical keys of the
//! bookkeeping tables itself, with explicit checks in the writing transaction (a scenario name
//! is used once, a tag and a manifest row exist once per scenario). Two *guard rows* make the
//! checks hold between processes on a DuckLake catalog, which refuses constraints but detects
//! two transactions that update or delete the same row: every transaction that creates,
//! renames or deletes a scenario first increments the one row of `scenario_namespace`
//! ([`guard_namespace`]), and every transaction that writes a scenario's entities, tags or
//! manifest updates that scenario's own `scenarios` row ([`touch`]). Two such writers then
//! conflict at commit (the store retries one) instead of both passing their check. On the
//! local file, which has one writer at a time (DuckDB's file lock), the guards cost one
//! single-row UPDATE each.

use healthsim_schema::crash;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use duckdb::types::Value;
use duckdb::{params, Connection, OptionalExt};
use healthsim_query::{QueryOptions, QueryResult};
use healthsim_schema::ddl::GUARD_TABLE;
use healthsim_schema::{ENTITY_TYPES, SCENARIO_COLUMN};
use healthsim_summary::{SampleStrategy, ScenarioSummary, SummaryOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::{db, truncate, Error, Result};
use crate::store::{in_transaction, Store};

/// The name prefix of a scenario that a chunked import is still writing
/// (`transfer::import`). Names are lowercase words joined by hyphens, so no user gives one;
/// [`resolve_on`] and the listings pass over every name that starts with `.` until the import's
/// last transaction gives the scenario its real name.
pub(crate) const IMPORTING_PREFIX: &str = ".importing ";

/// How many names an [`Error::AmbiguousScenario`] lists.
pub const MAX_CANDIDATES: usize = 10;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// How many scenarios [`ListOptions::default`] lists.
pub const DEFAULT_LIST_LIMIT: usize = 50;

/// A scenario's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ScenarioRef {
    /// Id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
}

/// Sort order of list_scenarios.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Most recently updated first (default).
    #[default]
    Updated,
    /// Most recently created first.
    Created,
    /// By name.
    Name,
}

impl SortBy {
    /// Every order, in documentation order.
    pub const ALL: [SortBy; 3] = [SortBy::Updated, SortBy::Created, SortBy::Name];

    /// The lowercase name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SortBy::Updated => "updated",
            SortBy::Created => "created",
            SortBy::Name => "name",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            SortBy::Updated => "s.updated_at DESC, s.name",
            SortBy::Created => "s.created_at DESC, s.name",
            SortBy::Name => "s.name",
        }
    }
}

/// What [`Store::list_scenarios`] lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListOptions {
    /// Only names containing this text (case-insensitive).
    pub filter: Option<String>,
    /// Only scenarios with this tag (normalized like tags are).
    pub tag: Option<String>,
    /// Order.
    pub sort: SortBy,
    /// At most this many (default 50).
    pub limit: usize,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            filter: None,
            tag: None,
            sort: SortBy::default(),
            limit: DEFAULT_LIST_LIMIT,
        }
    }
}

impl std::fmt::Display for SortBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One scenario in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ScenarioInfo {
    /// Id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Creation time, ISO 8601 UTC.
    pub created_at: String,
    /// Last update, ISO 8601 UTC.
    pub updated_at: String,
    /// Tags, alphabetical.
    pub tags: Vec<String>,
    /// Entities over all types.
    pub entity_count: u64,
}

/// What [`Store::delete_scenario`] removed (tables without rows are left out of the counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct DeleteResult {
    /// Id of the deleted scenario.
    pub scenario_id: String,
    /// Its name.
    pub name: String,
    /// Rows removed per table.
    pub deleted_counts: BTreeMap<String, u64>,
    /// How many tags it had.
    pub tags_removed: u64,
}

/// A tag and how many scenarios have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// Scenarios with it.
    pub count: u64,
}

impl Store {
    /// Finds a scenario by exact id, then exact name, then case-insensitive name, then a unique
    /// name containing `id_or_name` (case-insensitive).
    ///
    /// # Errors
    ///
    /// [`Error::AmbiguousScenario`] (listing the candidates) or [`Error::ScenarioNotFound`].
    pub fn resolve_scenario(&self, id_or_name: &str) -> Result<ScenarioRef> {
        self.with_reader(|conn| resolve_on(conn, id_or_name))
    }

    /// Lists scenarios with their tags and entity counts, in one query.
    pub fn list_scenarios(&self, options: &ListOptions) -> Result<Vec<ScenarioInfo>> {
        let tag = options.tag.as_deref().map(normalize_tag).transpose()?;
        self.with_reader(|conn| {
            list_on(
                conn,
                options.filter.as_deref(),
                tag.as_deref(),
                options.sort,
                options.limit,
            )
        })
    }

    /// Renames a scenario; the new name is sanitized and made unique (a taken name gets a
    /// `-2`, `-3`, ... counter). The id is kept and `updated_at` bumped.
    pub fn rename_scenario(&self, id_or_name: &str, new_name: &str) -> Result<ScenarioRef> {
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                guard_namespace(conn)?;
                let current = resolve_on(conn, id_or_name)?;
                let name = unique_name(conn, new_name, Some(&current.name))?;
                rename_on(conn, &current.scenario_id, &name, now())?;
                Ok(ScenarioRef {
                    scenario_id: current.scenario_id,
                    name,
                })
            })
        })
    }

    /// Deletes a scenario: its entities in every table, its manifest, tags and row, in one
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`Error::ConfirmationRequired`] unless `confirm` (nothing is deleted), and the errors of
    /// [`Store::resolve_scenario`].
    pub fn delete_scenario(&self, id_or_name: &str, confirm: bool) -> Result<DeleteResult> {
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let target = resolve_on(conn, id_or_name)?;
                if !confirm {
                    return Err(Error::ConfirmationRequired {
                        entity_count: entity_count(conn, &target.scenario_id)?,
                        scenario_id: target.scenario_id,
                        name: target.name,
                    });
                }
                guard_namespace(conn)?;
                let (deleted_counts, tags_removed) = delete_scenario_on(conn, &target.scenario_id)?;
                Ok(DeleteResult {
                    scenario_id: target.scenario_id,
                    name: target.name,
                    deleted_counts,
                    tags_removed,
                })
            })
        })
    }

    /// Adds tags (lowercased, trimmed; already present ones are kept once) and returns the
    /// scenario's tags.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTag`] for an empty, too long or control-character tag (nothing is added).
    pub fn add_tags(&self, id_or_name: &str, tags: &[String]) -> Result<Vec<String>> {
        let tags = normalize_tags(tags)?;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let target = resolve_on(conn, id_or_name)?;
                let now = now();
                // A tag it already has changes nothing, not even updated_at: the call is
                // idempotent, as the MCP tool's annotations say.
                if insert_tags(conn, &target.scenario_id, &tags, now)? > 0 {
                    // Tags are not statistics: the running statistics stay.
                    touch_keeping_statistics(conn, &target.scenario_id, now)?;
                }
                tags_of(conn, &target.scenario_id)
            })
        })
    }

    /// Removes tags (absent ones are ignored) and returns the scenario's tags.
    pub fn remove_tags(&self, id_or_name: &str, tags: &[String]) -> Result<Vec<String>> {
        let tags = normalize_tags(tags)?;
        self.with_writer(|conn| {
            in_transaction(conn, |conn| {
                let target = resolve_on(conn, id_or_name)?;
                let mut removed = 0;
                for tag in &tags {
                    removed += conn
                        .execute(
                            "DELETE FROM scenario_tags WHERE scenario_id = ? AND tag = ?",
                            params![target.scenario_id, tag],
                        )
                        .map_err(db("removing a tag"))?;
                }
                // Removing an absent tag changes nothing, not even updated_at (idempotent).
                if removed > 0 {
                    // Tags are not statistics: the running statistics stay.
                    touch_keeping_statistics(conn, &target.scenario_id, now())?;
                }
                tags_of(conn, &target.scenario_id)
            })
        })
    }

    /// The scenario's tags, alphabetical.
    pub fn scenario_tags(&self, id_or_name: &str) -> Result<Vec<String>> {
        self.with_reader(|conn| {
            let target = resolve_on(conn, id_or_name)?;
            tags_of(conn, &target.scenario_id)
        })
    }

    /// Every tag with the number of scenarios that have it, most used first.
    pub fn all_tags(&self) -> Result<Vec<TagCount>> {
        self.with_reader(|conn| {
            let mut stmt = conn
                .prepare("SELECT tag, count(*) FROM scenario_tags GROUP BY tag ORDER BY count(*) DESC, tag")
                .map_err(db("listing tags"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(TagCount {
                        tag: r.get(0)?,
                        count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    })
                })
                .map_err(db("listing tags"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db("listing tags"))
        })
    }

    /// Every scenario with this tag, most recently updated first.
    pub fn scenarios_by_tag(&self, tag: &str) -> Result<Vec<ScenarioInfo>> {
        let tag = normalize_tag(tag)?;
        self.with_reader(|conn| list_on(conn, None, Some(&tag), SortBy::Updated, usize::MAX))
    }

    /// The scenario's summary (see [`healthsim_summary::scenario_summary`]), by id or name;
    /// running statistics are looked for from the store's
    /// [`StoreOptions::running_statistics_from`](crate::StoreOptions::running_statistics_from),
    /// and on a database file a scenario of
    /// [`StoreOptions::summary_side_by_side_from`](crate::StoreOptions::summary_side_by_side_from)
    /// rows is summarized on two connections side by side.
    pub fn scenario_summary(
        &self,
        id_or_name: &str,
        options: &SummaryOptions,
    ) -> Result<ScenarioSummary> {
        // On a file, nothing writes while the store is held for the read (see
        // `StoreOptions::summary_side_by_side_from`); a lake's read is one snapshot.
        let side_by_side_from = match self.target().lake() {
            Some(_) => u64::MAX,
            None => self.options().summary_side_by_side_from,
        };
        let options = SummaryOptions {
            running_statistics_from: self.options().running_statistics_from,
            side_by_side_from,
            ..options.clone()
        };
        self.with_reader(|conn| {
            let target = resolve_on(conn, id_or_name)?;
            Ok(healthsim_summary::scenario_summary(
                conn,
                &target.scenario_id,
                &options,
            )?)
        })
    }

    /// Runs one read-only SQL query over the scenario's rows and returns one page (see
    /// [`healthsim_query`]).
    ///
    /// With [`StoreOptions::query_worker`](crate::StoreOptions::query_worker) set, the scenario
    /// is resolved here and the query runs in the held worker process
    /// ([`Store::with_query_worker`]), which has the file open read-only (its open waits up to
    /// the lock timeout while another process writes). Without it, the query runs in the
    /// sandbox connection ([`Store::with_sandbox`]), where the scenario is resolved too.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] for a refused or failed query, and the errors of
    /// [`Store::resolve_scenario`].
    pub fn query_scenario(
        &self,
        id_or_name: &str,
        sql: &str,
        options: &QueryOptions,
    ) -> Result<QueryResult> {
        if let Some(worker) = &self.options().query_worker {
            let timeout = self.options().lock_timeout;
            // Only a file's worker can meet a lock; a lake's name stands in for its messages.
            let shown = std::path::PathBuf::from(self.target().to_string());
            let resolve = |conn: &Connection| Ok(resolve_on(conn, id_or_name)?.scenario_id);
            return self.with_query_worker(worker, id_or_name, resolve, |session, id| {
                crate::store::retry_text_while_locked(&shown, timeout, || {
                    session.query(id, sql, options).map_err(|e| match &e {
                        healthsim_query::Error::Open { detail } => (Some(detail.clone()), e),
                        _ => (None, e),
                    })
                })?
                .map_err(Error::from)
            });
        }
        self.with_sandbox(|conn| {
            let target = resolve_on(conn, id_or_name)?;
            Ok(healthsim_query::run_query(
                conn,
                &target.scenario_id,
                sql,
                options,
            )?)
        })
    }

    /// `count` samples of one entity type (see [`healthsim_summary::entity_samples`]), by
    /// scenario id or name.
    pub fn entity_samples(
        &self,
        id_or_name: &str,
        entity_type: &str,
        count: usize,
        strategy: SampleStrategy,
    ) -> Result<Vec<Json>> {
        let t = crate::error::entity_type(entity_type)?;
        self.with_reader(|conn| {
            let target = resolve_on(conn, id_or_name)?;
            Ok(healthsim_summary::entity_samples(
                conn,
                &target.scenario_id,
                t.table,
                count,
                strategy,
            )?)
        })
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// [`Store::resolve_scenario`] on a connection (inside a caller's transaction).
pub(crate) fn resolve_on(conn: &Connection, given: &str) -> Result<ScenarioRef> {
    let not_found = || Error::ScenarioNotFound {
        given: truncate(given),
    };
    if given.trim().is_empty() {
        return Err(not_found());
    }
    let context = || format!("looking up scenario '{}'", truncate(given));
    let one = |sql: &str| -> Result<Vec<ScenarioRef>> {
        let mut stmt = conn.prepare_cached(sql).map_err(db(context()))?;
        let rows = stmt
            .query_map(params![given, (MAX_CANDIDATES + 1) as i64], |r| {
                Ok(ScenarioRef {
                    scenario_id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .map_err(db(context()))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(context()))
    };
    for sql in [
        "SELECT scenario_id, name FROM scenarios WHERE scenario_id = ? AND NOT starts_with(name, '.') ORDER BY name LIMIT ?",
        "SELECT scenario_id, name FROM scenarios WHERE name = ? AND NOT starts_with(name, '.') ORDER BY name LIMIT ?",
        "SELECT scenario_id, name FROM scenarios WHERE lower(name) = lower(?) AND NOT starts_with(name, '.') ORDER BY name LIMIT ?",
        "SELECT scenario_id, name FROM scenarios WHERE contains(lower(name), lower(?)) AND NOT starts_with(name, '.') ORDER BY name LIMIT ?",
    ] {
        let mut found = one(sql)?;
        match found.len() {
            0 => continue,
            1 => return Ok(found.remove(0)),
            _ => {
                found.truncate(MAX_CANDIDATES);
                return Err(Error::AmbiguousScenario {
                    given: truncate(given),
                    candidates: found.into_iter().map(|s| s.name).collect(),
                });
            }
        }
    }
    Err(not_found())
}

fn list_on(
    conn: &Connection,
    filter: Option<&str>,
    tag: Option<&str>,
    sort: SortBy,
    limit: usize,
) -> Result<Vec<ScenarioInfo>> {
    let sql = format!(
        "SELECT s.scenario_id, s.name, s.description, s.created_at, s.updated_at,
                coalesce((SELECT list(t.tag ORDER BY t.tag) FROM scenario_tags t
                          WHERE t.scenario_id = s.scenario_id), []),
                coalesce((SELECT sum(e.entity_count) FROM scenario_entities e
                          WHERE e.scenario_id = s.scenario_id), 0)::BIGINT
         FROM scenarios s
         WHERE NOT starts_with(s.name, '.')
           AND (?::VARCHAR IS NULL OR contains(lower(s.name), lower(?::VARCHAR)))
           AND (?::VARCHAR IS NULL OR EXISTS (SELECT 1 FROM scenario_tags t
                                     WHERE t.scenario_id = s.scenario_id AND t.tag = ?::VARCHAR))
         ORDER BY {}
         LIMIT ?",
        sort.order_by()
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(&sql).map_err(db("listing scenarios"))?;
    let rows = stmt
        .query_map(params![filter, filter, tag, tag, limit], |r| {
            Ok(ScenarioInfo {
                scenario_id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                created_at: iso(&r.get::<_, Value>(3)?),
                updated_at: iso(&r.get::<_, Value>(4)?),
                tags: match r.get::<_, Value>(5)? {
                    Value::List(items) => items
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::Text(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                entity_count: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
            })
        })
        .map_err(db("listing scenarios"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db("listing scenarios"))
}

/// A timestamp (or any value) as ISO 8601 text.
pub(crate) use healthsim_schema::text::display_text as iso;

/// Whether a scenario has exactly this name.
pub(crate) fn name_exists(conn: &Connection, name: &str) -> Result<bool> {
    conn.query_row("SELECT 1 FROM scenarios WHERE name = ?", [name], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(db("looking up a scenario name"))
}

/// Runs a naming function with an `exists` predicate backed by the `scenarios` table; a
/// database error stops the search (every further name counts as taken) and is returned.
///
/// The first candidate costs one lookup (usually it is free). When it is taken, the names that
/// share the first two candidates' common prefix are loaded in one query and the following
/// candidates are answered from memory, so the 900th `name-N` costs two queries, not 900. A
/// candidate outside that prefix (the naming crate may shorten a long base to fit its counter)
/// is looked up on its own.
fn with_exists<T>(
    conn: &Connection,
    except: Option<&str>,
    name: impl FnOnce(&dyn Fn(&str) -> bool) -> Result<T, healthsim_naming::Error>,
) -> Result<T> {
    let failure: RefCell<Option<Error>> = RefCell::new(None);
    let first: RefCell<Option<String>> = RefCell::new(None);
    let taken: RefCell<Option<(String, HashSet<String>)>> = RefCell::new(None);
    let lookup = |candidate: &str| -> Result<bool> {
        if let Some((prefix, names)) = taken.borrow().as_ref() {
            if candidate.starts_with(prefix.as_str()) {
                return Ok(names.contains(candidate));
            }
        }
        let Some(previous) = first.borrow_mut().take() else {
            *first.borrow_mut() = Some(candidate.to_string());
            return name_exists(conn, candidate);
        };
        let prefix = common_prefix(&previous, candidate);
        let names = names_starting_with(conn, prefix)?;
        let found = names.contains(candidate);
        *taken.borrow_mut() = Some((prefix.to_string(), names));
        Ok(found)
    };
    let exists = |candidate: &str| {
        if failure.borrow().is_some() {
            return true;
        }
        if except == Some(candidate) {
            return false;
        }
        match lookup(candidate) {
            Ok(found) => found,
            Err(e) => {
                *failure.borrow_mut() = Some(e);
                true
            }
        }
    };
    let named = name(&exists);
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    Ok(named?)
}

/// The longest common prefix of `a` and `b`, on a character boundary.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let end = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i);
    &a[..end]
}

/// Every scenario name that starts with `prefix` (a bound parameter: no pattern characters).
fn names_starting_with(conn: &Connection, prefix: &str) -> Result<HashSet<String>> {
    let context = || db("looking up scenario names");
    let mut statement = conn
        .prepare("SELECT name FROM scenarios WHERE starts_with(name, ?)")
        .map_err(context())?;
    let rows = statement
        .query_map([prefix], |row| row.get::<_, String>(0))
        .map_err(context())?;
    rows.collect::<std::result::Result<_, _>>()
        .map_err(context())
}

/// A user-chosen name made safe and unique (`except`: the scenario's own current name).
pub(crate) fn unique_name(conn: &Connection, name: &str, except: Option<&str>) -> Result<String> {
    with_exists(conn, except, |exists| {
        healthsim_naming::unique_name(name, exists)
    })
}

/// A generated name from context keywords, the first entity type and the date of `now`.
pub(crate) fn generated_name(
    conn: &Connection,
    context: Option<&str>,
    entity_type: Option<&str>,
    now: NaiveDateTime,
) -> Result<String> {
    let request = healthsim_naming::NameRequest {
        context,
        entity_type,
        ..healthsim_naming::NameRequest::new(now.date())
    };
    with_exists(conn, None, |exists| {
        healthsim_naming::generate_name(&request, exists)
    })
}

/// The namespace guard: increments the one row of `scenario_namespace`. Every transaction that
/// creates, renames or deletes a scenario runs it, so two of them on a DuckLake catalog conflict
/// at commit (the same row updated twice) instead of both finding a name free (see the
/// [module documentation](self)).
pub(crate) fn guard_namespace(conn: &Connection) -> Result<()> {
    let changed = conn
        .prepare_cached(&format!("UPDATE {GUARD_TABLE} SET version = version + 1"))
        .and_then(|mut s| s.execute([]))
        .map_err(db("guarding the scenario names"))?;
    // Exactly one row since V0005; none would make the guard guard nothing.
    if changed != 1 {
        return Err(Error::Database {
            context: format!(
                "guarding the scenario names: {GUARD_TABLE} has {changed} rows, not 1"
            ),
            source: duckdb::Error::QueryReturnedNoRows,
        });
    }
    Ok(())
}

/// Inserts a new scenario row with a fresh id, after the namespace guard; a name another
/// scenario has is [`Error::ScenarioExists`] (the name's uniqueness is the write path's, not a
/// constraint's).
pub(crate) fn insert_scenario(
    conn: &Connection,
    name: &str,
    description: Option<&str>,
    metadata: Option<&str>,
    now: NaiveDateTime,
) -> Result<ScenarioRef> {
    guard_namespace(conn)?;
    if name_exists(conn, name)? {
        return Err(Error::ScenarioExists {
            name: name.to_string(),
        });
    }
    insert_scenario_row(conn, name, description, metadata, now)
}

/// Inserts a new scenario row with a fresh id and no check of its name: for a hidden name
/// ([`IMPORTING_PREFIX`] and a fresh UUID), which no other scenario can have and none of the
/// namespace's writers compete for.
pub(crate) fn insert_scenario_row(
    conn: &Connection,
    name: &str,
    description: Option<&str>,
    metadata: Option<&str>,
    now: NaiveDateTime,
) -> Result<ScenarioRef> {
    let scenario_id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO scenarios (scenario_id, name, description, created_at, updated_at, metadata)
         VALUES (?, ?, ?, ?, ?, ?)",
        params![
            scenario_id,
            name,
            description,
            timestamp(now),
            timestamp(now),
            metadata
        ],
    )
    .map_err(db("creating the scenario"))?;
    Ok(ScenarioRef {
        scenario_id,
        name: name.to_string(),
    })
}

/// Sets `scenarios.updated_at`: the scenario's guard row, which every transaction that writes
/// its entities, tags or manifest updates (see the [module documentation](self)); and deletes
/// the scenario's running statistics, which only a persist that keeps them up to date may
/// leave ([`touch_keeping_statistics`], [`crate::statistics`]).
pub(crate) fn touch(conn: &Connection, scenario_id: &str, now: NaiveDateTime) -> Result<()> {
    touch_keeping_statistics(conn, scenario_id, now)?;
    crate::statistics::forget(conn, scenario_id)
}

/// [`touch`] for the one write that brings the running statistics up to date itself.
pub(crate) fn touch_keeping_statistics(
    conn: &Connection,
    scenario_id: &str,
    now: NaiveDateTime,
) -> Result<()> {
    conn.prepare_cached("UPDATE scenarios SET updated_at = ? WHERE scenario_id = ?")
        .and_then(|mut s| s.execute(params![timestamp(now), scenario_id]))
        .map_err(db("updating the scenario's time"))?;
    Ok(())
}

/// Updates the scenario's guard row without changing it: for a transaction that writes none of
/// the scenario's entities, tags or manifest but must still take its turn among the scenario's
/// writers (on a lake, a commit conflicts with every other writer's).
pub(crate) fn guard(conn: &Connection, scenario_id: &str) -> Result<()> {
    conn.prepare_cached("UPDATE scenarios SET updated_at = updated_at WHERE scenario_id = ?")
        .and_then(|mut s| s.execute([scenario_id]))
        .map_err(db("updating the scenario's guard row"))?;
    Ok(())
}

/// Adds `inserted` to the manifest count of one table.
pub(crate) fn add_to_manifest(
    conn: &Connection,
    scenario_id: &str,
    table: &str,
    inserted: u64,
    now: NaiveDateTime,
) -> Result<()> {
    let count = i64::try_from(inserted).unwrap_or(i64::MAX);
    let context = || db(format!("updating the entity count of {table}"));
    // UPDATE first, INSERT when the type is new to the scenario: two plain statements cost less
    // than one ON CONFLICT upsert in DuckDB, and the first alone is the common case.
    let changed = conn
        .prepare_cached(
            "UPDATE scenario_entities SET entity_count = entity_count + ?, updated_at = ?
             WHERE scenario_id = ? AND entity_type = ?",
        )
        .and_then(|mut s| s.execute(params![count, timestamp(now), scenario_id, table]))
        .map_err(context())?;
    if changed == 0 {
        conn.prepare_cached(
            "INSERT INTO scenario_entities (scenario_id, entity_type, entity_count, updated_at)
             VALUES (?, ?, ?, ?)",
        )
        .and_then(|mut s| s.execute(params![scenario_id, table, count, timestamp(now)]))
        .map_err(context())?;
    }
    Ok(())
}

/// Entities of a scenario over all types, from its manifest.
pub(crate) fn entity_count(conn: &Connection, scenario_id: &str) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            "SELECT coalesce(sum(entity_count), 0)::BIGINT FROM scenario_entities WHERE scenario_id = ?",
            [scenario_id],
            |r| r.get(0),
        )
        .map_err(db("counting the scenario's entities"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Gives a scenario the name `name`, which the caller found free after the namespace guard.
pub(crate) fn rename_on(
    conn: &Connection,
    scenario_id: &str,
    name: &str,
    now: NaiveDateTime,
) -> Result<()> {
    conn.execute(
        "UPDATE scenarios SET name = ?, updated_at = ? WHERE scenario_id = ?",
        params![name, timestamp(now), scenario_id],
    )
    .map_err(db("renaming the scenario"))?;
    Ok(())
}

/// Deletes a scenario whole: its entities, manifest, tags and row. Returns the rows deleted
/// per table (only tables that had some) and the tags removed. The caller runs the namespace
/// guard first for a named scenario (not for a hidden one, which nobody else can name).
pub(crate) fn delete_scenario_on(
    conn: &Connection,
    scenario_id: &str,
) -> Result<(BTreeMap<String, u64>, u64)> {
    let deleted = delete_contents(conn, scenario_id)?;
    let tags = conn
        .execute(
            "DELETE FROM scenario_tags WHERE scenario_id = ?",
            [scenario_id],
        )
        .map_err(db("deleting the scenario's tags"))?;
    conn.execute("DELETE FROM scenarios WHERE scenario_id = ?", [scenario_id])
        .map_err(db("deleting the scenario"))?;
    Ok((deleted, tags as u64))
}

/// Deletes a scenario's entities from every canonical table and its manifest; returns the
/// rows deleted per table (only tables that had some).
pub(crate) fn delete_contents(
    conn: &Connection,
    scenario_id: &str,
) -> Result<BTreeMap<String, u64>> {
    let mut deleted = BTreeMap::new();
    for t in ENTITY_TYPES {
        let n = conn
            .execute(
                &format!("DELETE FROM main.{} WHERE {SCENARIO_COLUMN} = ?", t.table),
                [scenario_id],
            )
            .map_err(db(format!("deleting the scenario's {}", t.table)))?;
        if n > 0 {
            deleted.insert(t.table.to_string(), n as u64);
            crash::point("delete.table");
        }
    }
    conn.execute(
        "DELETE FROM scenario_entities WHERE scenario_id = ?",
        [scenario_id],
    )
    .map_err(db("deleting the scenario's entity counts"))?;
    crate::statistics::forget(conn, scenario_id)?;
    Ok(deleted)
}

/// A tag lowercased and trimmed.
///
/// # Errors
///
/// [`Error::InvalidTag`] when it is empty, longer than [`MAX_TAG_CHARS`] or has control
/// characters.
pub fn normalize_tag(tag: &str) -> Result<String> {
    let normalized = tag.trim().to_lowercase();
    let invalid = |reason: &str| Error::InvalidTag {
        tag: truncate(tag),
        reason: reason.to_string(),
    };
    if normalized.is_empty() {
        return Err(invalid("a tag must not be empty"));
    }
    if normalized.chars().count() > MAX_TAG_CHARS {
        return Err(invalid(&format!(
            "a tag has at most {MAX_TAG_CHARS} characters"
        )));
    }
    if normalized.chars().any(char::is_control) {
        return Err(invalid("a tag must not contain control characters"));
    }
    Ok(normalized)
}

fn normalize_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = normalize_tag(tag)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// Adds tags to a scenario (normalized here; present ones are kept once: the insert skips a
/// tag the scenario has, since `(scenario_id, tag)` is a logical key, not a constraint). The
/// caller updates the scenario's row in the same transaction (its guard).
pub(crate) fn insert_tags(
    conn: &Connection,
    scenario_id: &str,
    tags: &[String],
    now: NaiveDateTime,
) -> Result<usize> {
    let mut added = 0;
    for tag in normalize_tags(tags)? {
        added += conn
            .prepare_cached(
                "INSERT INTO scenario_tags (scenario_id, tag, created_at)
                 SELECT $1, $2, $3
                 WHERE NOT EXISTS (SELECT 1 FROM scenario_tags WHERE scenario_id = $1 AND tag = $2)",
            )
            .and_then(|mut s| s.execute(params![scenario_id, tag, timestamp(now)]))
            .map_err(db("adding a tag"))?;
    }
    Ok(added)
}

/// A scenario's tags, alphabetical.
pub(crate) fn tags_of(conn: &Connection, scenario_id: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT tag FROM scenario_tags WHERE scenario_id = ? ORDER BY tag")
        .map_err(db("reading tags"))?;
    let rows = stmt
        .query_map([scenario_id], |r| r.get(0))
        .map_err(db("reading tags"))?;
    rows.collect::<Result<Vec<String>, _>>()
        .map_err(db("reading tags"))
}

/// A TIMESTAMP parameter.
pub(crate) fn timestamp(at: NaiveDateTime) -> Value {
    Value::Timestamp(
        duckdb::types::TimeUnit::Microsecond,
        at.and_utc().timestamp_micros(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreOptions;

    // The name's uniqueness is the write path's (no UNIQUE since schema V0005): a second row of
    // one name is refused before it is written, with the error a taken name gets elsewhere.
    #[test]
    fn a_second_scenario_of_one_name_is_refused_and_nothing_is_written() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::InvalidRequest {
            reason: e.to_string(),
        })?;
        let store = Store::open(dir.path().join("t.duckdb"), StoreOptions::default())?;
        let at = now();
        store.with_writer(|conn| {
            in_transaction(conn, |conn| insert_scenario(conn, "cohort", None, None, at))
        })?;
        let refused = store.with_writer(|conn| {
            in_transaction(conn, |conn| insert_scenario(conn, "cohort", None, None, at))
        });
        assert!(
            matches!(refused, Err(Error::ScenarioExists { ref name }) if name == "cohort"),
            "{refused:?}"
        );
        let (rows, guard): (i64, i64) = store.with_reader(|conn| {
            conn.query_row(
                &format!(
                    "SELECT (SELECT count(*) FROM scenarios), (SELECT version FROM {GUARD_TABLE})"
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db("reading the test's scenarios"))
        })?;
        assert_eq!((rows, guard), (1, 1), "one scenario, one guarded creation");
        Ok(())
    }
}
