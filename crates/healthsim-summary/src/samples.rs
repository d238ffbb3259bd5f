//! Samples of one entity type: diverse, random or recent, chosen inside DuckDB by a `LIMIT`ed
//! query (rows are never all loaded), rendered compactly for the agent.
//!
//! A sample is a JSON object of the entity's domain columns plus the fields of its `extra`
//! JSON; NULL fields, `scenario_id`, provenance and `created_at` are left out, and long text is
//! truncated ([`SAMPLE_TEXT_CHARS`] characters and an ellipsis).
//!
//! The strategies ([`SampleStrategy`]):
//! - diverse: stratified by the type's category column (largest categories first, round
//!   robin), pseudo-random inside each category (lowest hash of the primary key first).
//!   Deterministic: the same rows give the same samples.
//! - random: uniformly random rows; differs from call to call.
//! - recent: most recently created first, then latest by the type's date column.

use std::str::FromStr;

use duckdb::types::Value;
use duckdb::Connection;
use healthsim_schema::value::{json_column, to_json};
use healthsim_schema::{ColumnKind, EntityType, EXTRA_COLUMN};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::scenario::ensure_scenario;
use crate::sql::{query_rows, row_values, scope_filter, scoped_from};
use crate::text::compact_value;
use crate::Error;

/// Longest text value in a sample before it is cut (with an ellipsis).
pub const SAMPLE_TEXT_CHARS: usize = 60;

/// The system column that orders "recent" samples.
const CREATED_AT: &str = "created_at";

/// DuckDB's `min_by(arg, val, n)` accepts `n` below this; larger diverse requests rank every row.
const MAX_HEAP_CANDIDATES: usize = 1_000_000;
/// Diverse samples up to this many are read by row id, one lookup each (see [`diverse`]).
const MAX_POINT_LOOKUPS: usize = 64;

/// Importance tier of `extra`'s fields (the columns' tiers are 0 to 4).
const EXTRA_TIER: u8 = 5;

/// How samples are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SampleStrategy {
    /// Spread over the data (default).
    Diverse,
    /// Uniformly random.
    Random,
    /// Most recent first.
    Recent,
}

impl SampleStrategy {
    /// Every strategy, in documentation order.
    pub const ALL: [SampleStrategy; 3] = [
        SampleStrategy::Diverse,
        SampleStrategy::Random,
        SampleStrategy::Recent,
    ];

    /// The lowercase name, as accepted by [`FromStr`] and used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SampleStrategy::Diverse => "diverse",
            SampleStrategy::Random => "random",
            SampleStrategy::Recent => "recent",
        }
    }
}

impl std::fmt::Display for SampleStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SampleStrategy {
    type Err = Error;

    /// Case-insensitive name; anything else is [`Error::UnknownSampleStrategy`] listing the valid ones.
    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let wanted = given.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.name() == wanted)
            .ok_or_else(|| Error::UnknownSampleStrategy {
                given: given.to_string(),
                valid: Self::ALL.iter().map(|s| s.name()).collect(),
            })
    }
}

/// `count` samples of one entity type of a scenario, chosen by `strategy`.
///
/// `entity_type` is any table name, singular form or alias of the registry. Fewer samples come
/// back when the scenario has fewer entities of the type. Errors: [`Error::UnknownEntityType`],
/// [`Error::ScenarioNotFound`], [`Error::Database`].
pub fn entity_samples(
    conn: &Connection,
    scenario_id: &str,
    entity_type: &str,
    count: usize,
    strategy: SampleStrategy,
) -> Result<Vec<Json>, Error> {
    let t = healthsim_schema::entity_type(entity_type)?;
    ensure_scenario(conn, scenario_id)?;
    let samples = fetch(conn, t, scenario_id, count, strategy)?;
    Ok(samples
        .iter()
        .map(|s| s.render(SAMPLE_TEXT_CHARS, usize::MAX))
        .collect())
}

/// One sampled entity before compaction: its non-NULL fields in output order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawSample {
    fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    value: Json,
    /// Lower is more important: kept first when fields are capped.
    rank: (u8, usize),
}

impl RawSample {
    /// The sample as a JSON object: the `max_fields` most important fields (primary key,
    /// category, date, required columns, other columns, extra fields) in their natural order,
    /// text cut to `max_chars`.
    pub(crate) fn render(&self, max_chars: usize, max_fields: usize) -> Json {
        let mut by_importance: Vec<&Field> = self.fields.iter().collect();
        by_importance.sort_by_key(|f| f.rank);
        let cutoff = by_importance.get(max_fields).map(|f| f.rank);
        Json::Object(
            self.fields
                .iter()
                .filter(|f| cutoff.is_none_or(|cut| f.rank < cut))
                .map(|f| (f.name.clone(), compact_value(&f.value, max_chars)))
                .collect(),
        )
    }
}

impl RawSample {
    /// Samples of one type as a table: a header row of field names, then one row per sample
    /// (`null` where a sample has no value), so a field's name is written once, not once per
    /// sample. The fields are the `max_fields` most important any sample has, in natural order;
    /// text is cut to `max_chars`.
    pub(crate) fn table(samples: &[RawSample], max_chars: usize, max_fields: usize) -> Vec<Json> {
        let mut fields: Vec<&Field> = Vec::new();
        for field in samples.iter().flat_map(|s| &s.fields) {
            match fields.iter_mut().find(|f| f.name == field.name) {
                Some(known) if field.rank < known.rank => *known = field,
                Some(_) => {}
                None => fields.push(field),
            }
        }
        let mut by_importance: Vec<(u8, usize)> = fields.iter().map(|f| f.rank).collect();
        by_importance.sort_unstable();
        let cutoff = by_importance.get(max_fields).copied();
        fields.retain(|f| cutoff.is_none_or(|cut| f.rank < cut));
        // Columns in table order, then `extra`'s fields in theirs.
        fields.sort_by_key(|f| (f.rank.0 == EXTRA_TIER, f.rank.1));
        let header = fields.iter().map(|f| Json::from(f.name.as_str())).collect();
        std::iter::once(Json::Array(header))
            .chain(samples.iter().map(|sample| {
                Json::Array(
                    fields
                        .iter()
                        .map(|f| {
                            sample
                                .fields
                                .iter()
                                .find(|own| own.name == f.name)
                                .map_or(Json::Null, |own| compact_value(&own.value, max_chars))
                        })
                        .collect(),
                )
            }))
            .collect()
    }
}

/// Selects `count` rows with `strategy` and turns them into raw samples.
pub(crate) fn fetch(
    conn: &Connection,
    t: &'static EntityType,
    scenario_id: &str,
    count: usize,
    strategy: SampleStrategy,
) -> Result<Vec<RawSample>, Error> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(count).unwrap_or(i64::MAX);
    let select = select_list(t);
    let from = scoped_from(t.table);
    let pk = t.primary_key;
    let rows = match strategy {
        SampleStrategy::Diverse => diverse(conn, t, scenario_id, count),
        SampleStrategy::Random => {
            let sql = format!("SELECT {select} {from} ORDER BY random() LIMIT ?");
            run(conn, t, &sql, duckdb::params![scenario_id, limit])
        }
        SampleStrategy::Recent => {
            let then_date = t
                .date_column
                .map_or(String::new(), |d| format!("{d} DESC NULLS LAST, "));
            let sql = format!(
                "SELECT {select} {from} ORDER BY {CREATED_AT} DESC, {then_date}{pk} DESC LIMIT ?"
            );
            run(conn, t, &sql, duckdb::params![scenario_id, limit])
        }
    };
    rows.map_err(|source| Error::Database {
        context: format!("sampling {} ({strategy})", t.table),
        source,
    })
}

/// [`SampleStrategy::Diverse`] samples of several types of a scenario (the summary's), the
/// same rows as [`fetch`] per type chooses: the picks of every type from one statement
/// ([`picks_of_types`]), then each type's rows looked up, on `conn` and `helper` side by side
/// when given (see `crate::side_by_side`). A failing statement is retried type
/// by type, so the error names the type (inside a transaction, which a failed statement aborts
/// — a lake's reads run in one — the retry fails too, naming the first type).
pub(crate) fn diverse_of_types(
    conn: &Connection,
    helper: Option<&mut Connection>,
    types: &[&'static EntityType],
    scenario_id: &str,
    count: usize,
) -> Result<Vec<Vec<RawSample>>, Error> {
    let alone = |t| fetch(conn, t, scenario_id, count, SampleStrategy::Diverse);
    let picks = match count {
        1..=MAX_POINT_LOOKUPS => picks_of_types(conn, types, scenario_id, count).ok(),
        _ => None,
    };
    let Some(picks) = picks else {
        return types.iter().map(|t| alone(t)).collect();
    };
    let order: Vec<usize> = (0..types.len()).collect();
    crate::side_by_side::each(conn, helper, &order, |c, i| {
        match look_up(c, types[i], scenario_id, &picks[i]) {
            Ok(Some(samples)) => Ok(samples),
            // A write since the picks were chosen, or a failure: the type on its own.
            _ => fetch(c, types[i], scenario_id, count, SampleStrategy::Diverse),
        }
    })
    .into_iter()
    .collect()
}

/// The row ids of each type's first `count` diverse picks (see [`diverse`]), from one
/// statement: the per-type choices joined by `UNION ALL`, which DuckDB runs side by side, where
/// one statement per type leaves a core idle on every table smaller than a row group (23 types
/// of 1.7M mixed entities, 2-vCPU Intel Xeon: 104 ms one by one, 63 ms together).
fn picks_of_types(
    conn: &Connection,
    types: &[&'static EntityType],
    scenario_id: &str,
    count: usize,
) -> duckdb::Result<Vec<Vec<i64>>> {
    let branches: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "SELECT {i} AS __t, * FROM ({})",
                per_category_sql(t, "rowid")
            )
        })
        .collect();
    let sql = format!(
        "SELECT __t, __picks FROM ({}) ORDER BY __t, __m DESC, __cat NULLS LAST",
        branches.join(" UNION ALL ")
    );
    let limit = Value::BigInt(i64::try_from(count).unwrap_or(i64::MAX));
    let params = types
        .iter()
        .flat_map(|_| [limit.clone(), Value::from(scenario_id.to_string())]);
    let rows = query_rows(conn, &sql, duckdb::params_from_iter(params), |r| {
        Ok((r.get::<_, usize>(0)?, r.get::<_, Value>(1)?))
    })?;
    let mut categories: Vec<Vec<Value>> = vec![Vec::new(); types.len()];
    for (i, picks) in rows {
        if let Some(of_type) = categories.get_mut(i) {
            of_type.push(picks);
        }
    }
    Ok(categories
        .iter()
        .map(|of_type| take_turns(of_type, count))
        .collect())
}

/// Which rows of each category the diverse sampler ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidates {
    /// The `n` whose primary key hashes lowest, kept by a bounded heap per category
    /// (`min_by(.., hash(pk), n)`): one streaming aggregate over the key and category columns,
    /// no sort of the rows.
    LowestHashes,
    /// Every row (for `n` beyond the heap's limit, where every row is wanted anyway).
    EveryRow,
}

/// Diverse samples: the rows are chosen by [`chosen_cte`], then read in full.
///
/// Reading a few rows of a large table by their key still costs a scan of every column in
/// DuckDB (about 15 ms for 3 of 200,000 pharmacy claims), while a `rowid = ?` lookup reads just
/// the row (about 1 ms). So up to [`MAX_POINT_LOOKUPS`] samples, the choice returns row ids only
/// (the heap then compares and keeps plain integers: about half the cost of carrying the key,
/// 27 → 11 ms for 333,000 pharmacy claims) and each row is looked up by its id within its
/// scenario; when a row is no longer there (a write between the two statements), or for more
/// samples, one statement joins the choice with the table instead. The two forms choose the same
/// rows unless two keys share a 64-bit hash at the edge of a category's picks (the joined form
/// then takes the smaller key, the looked-up form either of the two).
fn diverse(
    conn: &Connection,
    t: &'static EntityType,
    scenario_id: &str,
    count: usize,
) -> duckdb::Result<Vec<RawSample>> {
    let candidates = if count < MAX_HEAP_CANDIDATES {
        Candidates::LowestHashes
    } else {
        Candidates::EveryRow
    };
    let limit = i64::try_from(count).unwrap_or(i64::MAX);
    let (table, pk, scope) = (t.table, t.primary_key, scope_filter());
    if count <= MAX_POINT_LOOKUPS {
        let picks = picks_of_types(conn, &[t], scenario_id, count)?;
        if let Some(samples) = look_up(conn, t, scenario_id, &picks[0])? {
            return Ok(samples);
        }
    }
    let chosen = chosen_cte(t, candidates);
    let mut params: Vec<Value> = Vec::new();
    if candidates == Candidates::LowestHashes {
        params.push(Value::BigInt(limit));
    }
    let scenario = Value::from(scenario_id.to_string());
    params.extend([scenario.clone(), Value::BigInt(limit), scenario]);
    let sql = format!(
        "{chosen} SELECT {names} FROM (\
           SELECT {select}, __turn, __rank FROM {table} JOIN chosen ON {pk} = __pk WHERE {scope}) \
         ORDER BY __turn, __rank",
        select = select_list(t),
        names = output_names(t),
    );
    run(conn, t, &sql, duckdb::params_from_iter(&params))
}

/// The rows `picks` (row ids) of the scenario, in that order, read by one statement
/// `rowid = ANY([?, ...])`. DuckDB 1.5 pushes an equality or `ANY` list on the row id into the
/// scan, but not `rowid IN (..)`, which scans the whole table; one statement for a type's picks
/// instead of one per pick saves a plan per row (3 of 333,339 pharmacy claims, 2-vCPU Intel
/// Xeon: 4.9 → 2.8 ms). `None` when a row is no longer there (a write since the picks were
/// chosen).
fn look_up(
    conn: &Connection,
    t: &'static EntityType,
    scenario_id: &str,
    picks: &[i64],
) -> duckdb::Result<Option<Vec<RawSample>>> {
    if picks.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let sql = format!(
        "SELECT {select}, rowid FROM {table} WHERE rowid = ANY([{ids}]) AND {scope}",
        select = select_list(t),
        table = t.table,
        ids = vec!["?"; picks.len()].join(", "),
        scope = scope_filter(),
    );
    let params = picks
        .iter()
        .map(|rid| Value::BigInt(*rid))
        .chain(std::iter::once(Value::from(scenario_id.to_string())));
    let found = query_rows(conn, &sql, duckdb::params_from_iter(params), |row| {
        Ok((row.get::<_, i64>(width(t))?, row_values(row, width(t))?))
    })?;
    Ok(picks
        .iter()
        .map(|rid| {
            found
                .iter()
                .find(|(id, _)| id == rid)
                .map(|(_, values)| raw_sample(t, values))
        })
        .collect())
}

/// The category column as text (NULL for a type without one: a single stratum).
fn category_expr(t: &'static EntityType) -> String {
    t.category_column
        .map_or("NULL".to_string(), |c| format!("CAST({c} AS VARCHAR)"))
}

/// Per category `(__cat, __m, __picks)`: its value, its number of rows, and its
/// [`Candidates::LowestHashes`] as a list of `pick` (an expression of the row: its `rowid` or
/// its key) in ascending order of the key's hash. Parameters: the number of candidates and the
/// scenario id.
fn per_category_sql(t: &'static EntityType, pick: &str) -> String {
    let (table, pk, scope) = (t.table, t.primary_key, scope_filter());
    let category = category_expr(t);
    format!(
        "SELECT {category} AS __cat, count(*) AS __m, \
                min_by({pick}, hash({pk}), CAST(? AS BIGINT)) AS __picks \
         FROM {table} WHERE {scope} GROUP BY 1"
    )
}

/// The first `count` row ids when the categories (largest first, each a list of row ids from
/// [`per_category_sql`]) take turns, as `chosen` of [`chosen_cte`] orders them.
fn take_turns(categories: &[Value], count: usize) -> Vec<i64> {
    let lists: Vec<&[Value]> = categories
        .iter()
        .map(|c| match c {
            Value::List(picks) => picks.as_slice(),
            _ => &[],
        })
        .collect();
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut picks = Vec::new();
    for turn in 0..longest {
        for list in &lists {
            if picks.len() == count {
                return picks;
            }
            if let Some(Value::BigInt(rid)) = list.get(turn) {
                picks.push(*rid);
            }
        }
    }
    picks
}

/// `WITH .. chosen AS (..)`: the diverse choice as `(__pk, __turn, __rank)`, at most
/// `limit` rows. Parameters: [`Candidates::LowestHashes`] starts with the number of candidates
/// per category; then the scenario id and the limit.
///
/// Inside each category, rows are taken in the order of their primary key's hash (ties by
/// primary key): a fixed pseudo-random order that depends only on the data. Categories take
/// turns, largest first (ties by value, NULL last): the first row of every category, then the
/// second, and so on.
fn chosen_cte(t: &'static EntityType, candidates: Candidates) -> String {
    let table = t.table;
    let pk = t.primary_key;
    let scope = scope_filter();
    let category = category_expr(t);
    let candidates = match candidates {
        Candidates::LowestHashes => format!(
            "per_category AS ({per_category}), \
             candidates AS (SELECT unnest(__picks) AS __pk, __cat, __m FROM per_category)",
            per_category = per_category_sql(t, pk)
        ),
        Candidates::EveryRow => format!(
            "candidates AS (\
               SELECT {pk} AS __pk, {category} AS __cat, \
                      count(*) OVER (PARTITION BY {category}) AS __m \
               FROM {table} WHERE {scope})"
        ),
    };
    format!(
        "WITH {candidates}, \
         chosen AS (\
           SELECT __pk, \
                  row_number() OVER (PARTITION BY __cat ORDER BY hash(__pk), __pk) AS __turn, \
                  dense_rank() OVER (ORDER BY __m DESC, __cat NULLS LAST) AS __rank \
           FROM candidates ORDER BY __turn, __rank LIMIT ?)"
    )
}

/// Domain columns (JSON ones as text) and `extra` as text.
fn select_list(t: &'static EntityType) -> String {
    t.columns()
        .map(|c| match c.kind {
            ColumnKind::Json => format!("CAST({0} AS VARCHAR) AS {0}", c.name),
            _ => c.name.to_string(),
        })
        .chain(std::iter::once(format!(
            "CAST({EXTRA_COLUMN} AS VARCHAR) AS {EXTRA_COLUMN}"
        )))
        .collect::<Vec<_>>()
        .join(", ")
}

fn output_names(t: &'static EntityType) -> String {
    t.columns()
        .map(|c| c.name)
        .chain(std::iter::once(EXTRA_COLUMN))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns of [`select_list`].
fn width(t: &'static EntityType) -> usize {
    t.columns().count() + 1
}

fn run<P: duckdb::Params>(
    conn: &Connection,
    t: &'static EntityType,
    sql: &str,
    params: P,
) -> duckdb::Result<Vec<RawSample>> {
    query_rows(conn, sql, params, |row| {
        let values = row_values(row, width(t))?;
        Ok(raw_sample(t, &values))
    })
}

/// Builds the non-NULL fields of one row (domain columns, then `extra`'s fields).
fn raw_sample(t: &'static EntityType, values: &[duckdb::types::Value]) -> RawSample {
    let mut fields = Vec::new();
    for (position, (column, value)) in t.columns().zip(values).enumerate() {
        let json = match (column.kind, value) {
            (ColumnKind::Json, duckdb::types::Value::Text(text)) => json_column(text),
            _ => to_json(value),
        };
        if json.is_null() {
            continue;
        }
        let tier = if column.name == t.primary_key {
            0
        } else if Some(column.name) == t.category_column {
            1
        } else if Some(column.name) == t.date_column {
            2
        } else if column.required {
            3
        } else {
            4
        };
        fields.push(Field {
            name: column.name.to_string(),
            value: json,
            rank: (tier, position),
        });
    }
    let extra = match values.get(t.columns().count()) {
        Some(duckdb::types::Value::Text(text)) => json_column(text),
        _ => Json::Null,
    };
    let extra_fields: Map<String, Json> = match extra {
        Json::Object(map) => map,
        Json::Null => Map::new(),
        other => std::iter::once((EXTRA_COLUMN.to_string(), other)).collect(),
    };
    for (position, (name, value)) in extra_fields.into_iter().enumerate() {
        if value.is_null() || fields.iter().any(|f| f.name == name) {
            continue;
        }
        fields.push(Field {
            name,
            value,
            rank: (EXTRA_TIER, position),
        });
    }
    RawSample { fields }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsim_schema::SYSTEM_COLUMNS;
    use serde_json::json;

    fn check_strategy(given: &str, expected: Option<SampleStrategy>) {
        assert_eq!(
            given.parse::<SampleStrategy>().ok(),
            expected,
            "parsing {given:?}"
        );
    }

    #[test]
    fn parses_strategies() {
        check_strategy("diverse", Some(SampleStrategy::Diverse));
        check_strategy("Random", Some(SampleStrategy::Random));
        check_strategy(" recent ", Some(SampleStrategy::Recent));
        check_strategy("latest", None);
        check_strategy("", None);
    }

    #[test]
    fn recent_orders_by_a_system_column() {
        assert!(SYSTEM_COLUMNS.iter().any(|c| c.name == CREATED_AT));
    }

    #[test]
    fn strategies_serialize_lowercase() {
        for s in SampleStrategy::ALL {
            assert_eq!(serde_json::to_value(s).ok(), Some(json!(s.name())));
            assert_eq!(s.to_string(), s.name());
        }
    }

    /// 300 encounters in each of two scenarios, 60% outpatient, 30% emergency, 10% no class.
    fn skewed_encounters() -> Connection {
        let conn = Connection::open_in_memory().expect("database");
        healthsim_schema::migrate(&conn).expect("migrations");
        conn.execute_batch(
            "INSERT INTO encounters (scenario_id, encounter_id, patient_id, encounter_class)
             SELECT s, 'e' || i, 'p1',
                    CASE WHEN i % 10 < 6 THEN 'outpatient' WHEN i % 10 < 9 THEN 'emergency' END
             FROM range(300) t(i), (VALUES ('s1'), ('s2')) v(s)",
        )
        .expect("insert encounters");
        conn
    }

    fn encounters() -> &'static EntityType {
        healthsim_schema::entity_type("encounters").expect("registry type")
    }

    /// Ids chosen with the given candidates.
    fn chosen_ids(conn: &Connection, candidates: Candidates, count: i64) -> Vec<String> {
        let sql = format!(
            "{} SELECT __pk FROM chosen ORDER BY __turn, __rank",
            chosen_cte(encounters(), candidates)
        );
        let mut statement = conn.prepare(&sql).expect("prepare");
        let rows = match candidates {
            Candidates::LowestHashes => statement.query(duckdb::params![count, "s1", count]),
            Candidates::EveryRow => statement.query(duckdb::params!["s1", count]),
        };
        rows.expect("query")
            .mapped(|r| r.get::<_, String>(0))
            .collect::<Result<_, _>>()
            .expect("ids")
    }

    #[test]
    fn the_heap_and_the_window_choose_the_same_rows() {
        let conn = skewed_encounters();
        for count in [1, 2, 3, 7, 40, 299, 300, 301] {
            let heap = chosen_ids(&conn, Candidates::LowestHashes, count);
            let window = chosen_ids(&conn, Candidates::EveryRow, count);
            assert_eq!(heap, window, "{count} samples");
            assert_eq!(heap.len(), usize::try_from(count.min(300)).unwrap_or(0));
        }
    }

    #[test]
    fn lookups_by_row_id_read_the_rows_the_join_reads() {
        let conn = skewed_encounters();
        let samples = |count: usize| -> Vec<Json> {
            diverse(&conn, encounters(), "s1", count)
                .expect("samples")
                .iter()
                .map(|s| s.render(SAMPLE_TEXT_CHARS, usize::MAX))
                .collect()
        };
        // Up to MAX_POINT_LOOKUPS rows are looked up one by one, beyond that joined; a longer
        // diverse list starts with the shorter one.
        let looked_up = samples(MAX_POINT_LOOKUPS);
        let joined = samples(MAX_POINT_LOOKUPS + 1);
        assert_eq!(looked_up.len(), MAX_POINT_LOOKUPS);
        assert_eq!(joined[..MAX_POINT_LOOKUPS], looked_up[..]);
        assert!(looked_up.iter().all(|s| s["encounter_id"].is_string()));
    }

    /// [`skewed_encounters`] plus 40 patients in `s1` (half F, half M) and none in `s2`.
    fn encounters_and_patients() -> Connection {
        let conn = skewed_encounters();
        conn.execute_batch(
            "INSERT INTO patients (scenario_id, patient_id, gender)
             SELECT 's1', 'p' || i, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END FROM range(40) t(i)",
        )
        .expect("insert patients");
        conn
    }

    fn patients() -> &'static EntityType {
        healthsim_schema::entity_type("patients").expect("registry type")
    }

    #[test]
    fn several_types_at_once_choose_what_each_type_alone_chooses() {
        let conn = encounters_and_patients();
        let types = [encounters(), patients()];
        for (scenario, count) in [("s1", 1), ("s1", 3), ("s1", 7), ("s2", 3), ("s1", 65)] {
            let together =
                diverse_of_types(&conn, None, &types, scenario, count).expect("together");
            let alone: Vec<Vec<RawSample>> = types
                .iter()
                .map(|t| fetch(&conn, t, scenario, count, SampleStrategy::Diverse).expect("alone"))
                .collect();
            assert_eq!(together, alone, "{count} samples of {scenario}");
        }
        let s2 = diverse_of_types(&conn, None, &types, "s2", 3).expect("s2");
        assert_eq!((s2[0].len(), s2[1].len()), (3, 0), "s2 has no patients");
    }

    #[test]
    fn a_type_that_cannot_be_sampled_is_named_in_the_error() {
        let conn = encounters_and_patients();
        conn.execute_batch("DROP TABLE patients").expect("drop");
        let err = diverse_of_types(&conn, None, &[encounters(), patients()], "s1", 3)
            .expect_err("patients is gone");
        assert!(
            matches!(&err, Error::Database { context, .. } if context == "sampling patients (diverse)"),
            "{err:?}"
        );
    }

    fn sample(fields: &[(&str, Json, (u8, usize))]) -> RawSample {
        RawSample {
            fields: fields
                .iter()
                .map(|(name, value, rank)| Field {
                    name: (*name).to_string(),
                    value: value.clone(),
                    rank: *rank,
                })
                .collect(),
        }
    }

    fn check_render(max_chars: usize, max_fields: usize, expected: Json) {
        let s = sample(&[
            ("id", json!("p1"), (0, 0)),
            ("name", json!("a long name indeed"), (4, 1)),
            ("gender", json!("female"), (1, 2)),
            ("note", json!("from extra"), (5, 0)),
        ]);
        assert_eq!(
            s.render(max_chars, max_fields),
            expected,
            "render({max_chars}, {max_fields})"
        );
    }

    #[test]
    fn renders_most_important_fields_in_order() {
        check_render(
            60,
            usize::MAX,
            json!({"id": "p1", "name": "a long name indeed", "gender": "female", "note": "from extra"}),
        );
        check_render(
            6,
            9,
            json!({"id": "p1", "name": "a long…", "gender": "female", "note": "from e…"}),
        );
        check_render(60, 2, json!({"id": "p1", "gender": "female"}));
        check_render(
            60,
            3,
            json!({"id": "p1", "name": "a long name indeed", "gender": "female"}),
        );
        check_render(60, 0, json!({}));
    }
}
