//! Helpers shared by the transfer tests: multi-product scenarios with wired references, and
//! generic checks over the registry's references.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use healthsim_persist::{PersistRequest, ScenarioTarget, Store};
use healthsim_schema::ENTITY_TYPES;
use serde_json::{json, Map, Value as Json};

/// How many entities of each type a generated scenario has, and where its ids start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// First id number: two shapes with overlapping ranges share ids.
    pub(crate) offset: usize,
    pub(crate) patients: usize,
    pub(crate) encounters: usize,
    pub(crate) diagnoses: usize,
    pub(crate) members: usize,
    pub(crate) claims: usize,
    pub(crate) lines_per_claim: usize,
    pub(crate) rx_members: usize,
    pub(crate) prescriptions: usize,
    pub(crate) studies: usize,
    pub(crate) subjects: usize,
    pub(crate) adverse_events: usize,
    pub(crate) geos: usize,
}

impl Shape {
    /// A small scenario with some of everything.
    pub(crate) fn small(offset: usize) -> Shape {
        Shape {
            offset,
            patients: 3,
            encounters: 4,
            diagnoses: 4,
            members: 2,
            claims: 3,
            lines_per_claim: 2,
            rx_members: 2,
            prescriptions: 3,
            studies: 1,
            subjects: 2,
            adverse_events: 3,
            geos: 4,
        }
    }
}

/// Entities of a multi-product scenario (type → list) with every reference wired to an
/// entity of the same scenario, and the field `origin` (kept in `extra`) naming the source.
pub(crate) fn entities(shape: &Shape, origin: &str) -> Map<String, Json> {
    let o = shape.offset;
    let id = |prefix: &str, i: usize| format!("{prefix}{}", o + i);
    let pick = |i: usize, n: usize| i % n.max(1);
    let mut map = Map::new();
    let mut put = |table: &str, list: Vec<Json>| {
        if !list.is_empty() {
            map.insert(table.to_string(), Json::Array(list));
        }
    };
    let patients = shape.patients.max(1);
    put(
        "patients",
        (0..patients)
            .map(|i| json!({"patient_id": id("p", i), "given_name": format!("{origin}{i}"), "birth_date": "1950-06-01", "origin": origin}))
            .collect(),
    );
    let encounters = shape.encounters;
    put(
        "encounters",
        (0..encounters)
            .map(|i| json!({"encounter_id": id("e", i), "patient_id": id("p", pick(i, patients)), "encounter_class": "outpatient", "start_datetime": "2024-03-01T08:30:00Z", "origin": origin}))
            .collect(),
    );
    put(
        "diagnoses",
        (0..shape.diagnoses)
            .map(|i| {
                let mut d = json!({"diagnosis_id": id("d", i), "patient_id": id("p", pick(i, patients)), "code": "E11.9", "origin": origin});
                if encounters > 0 {
                    d["encounter_id"] = json!(id("e", pick(i, encounters)));
                }
                d
            })
            .collect(),
    );
    let members = shape.members.max(1);
    put(
        "members",
        (0..members)
            .map(|i| json!({"member_id": id("m", i), "patient_id": id("p", pick(i, patients)), "origin": origin}))
            .collect(),
    );
    put(
        "claims",
        (0..shape.claims)
            .map(|i| {
                let mut c = json!({"claim_id": id("c", i), "member_id": id("m", pick(i, members)), "patient_id": id("p", pick(i, patients)), "total_billed": 100.25 + i as f64, "origin": origin});
                if encounters > 0 {
                    c["encounter_id"] = json!(id("e", pick(i, encounters)));
                }
                c
            })
            .collect(),
    );
    put(
        "claim_lines",
        (0..shape.claims)
            .flat_map(|c| {
                (0..shape.lines_per_claim).map(move |l| (c, l))
            })
            .map(|(c, l)| json!({"claim_line_id": format!("{}-{}", id("cl", c), l + 1), "claim_id": id("c", c), "line_number": l + 1, "origin": origin}))
            .collect(),
    );
    let rx_members = shape.rx_members;
    put(
        "rx_members",
        (0..rx_members)
            .map(|i| json!({"rx_member_id": id("rx", i), "member_id": id("m", pick(i, members)), "origin": origin}))
            .collect(),
    );
    put(
        "prescriptions",
        (0..shape.prescriptions)
            .map(|i| {
                let mut p = json!({"prescription_id": id("rxp", i), "patient_id": id("p", pick(i, patients)), "drug_name": "metformin", "origin": origin});
                if rx_members > 0 {
                    p["rx_member_id"] = json!(id("rx", pick(i, rx_members)));
                }
                p
            })
            .collect(),
    );
    let studies = shape.studies.max(1);
    put(
        "studies",
        (0..studies)
            .map(|i| json!({"study_id": id("st", i), "origin": origin}))
            .collect(),
    );
    let subjects = shape.subjects;
    put(
        "subjects",
        (0..subjects)
            .map(|i| json!({"subject_id": id("s", i), "study_id": id("st", pick(i, studies)), "patient_id": id("p", pick(i, patients)), "origin": origin}))
            .collect(),
    );
    if subjects > 0 {
        put(
            "adverse_events",
            (0..shape.adverse_events)
                .map(|i| json!({"ae_id": id("ae", i), "subject_id": id("s", pick(i, subjects)), "study_id": id("st", pick(i, studies)), "aeterm": "headache", "origin": origin}))
                .collect(),
        );
    }
    // A tree: geo i's parent is geo (i - 1) / 2 (a self reference).
    put(
        "geographic_entities",
        (0..shape.geos)
            .map(|i| {
                let mut g = json!({"geo_id": id("g", i), "geo_level": "county", "origin": origin});
                if i > 0 {
                    g["parent_geo_id"] = json!(id("g", (i - 1) / 2));
                }
                g
            })
            .collect(),
    );
    map
}

/// Persists generated entities as a new scenario named `name`; returns its id.
pub(crate) fn persist_shape(store: &Store, name: &str, shape: &Shape, origin: &str) -> String {
    let request = PersistRequest::by_type(entities(shape, origin))
        .with_scenario(ScenarioTarget::new_named(name));
    let result = store.persist_entities(&request).expect("persist");
    assert_eq!(result.scenario_name, name, "test scenario names are free");
    result.scenario_id
}

fn db(e: duckdb::Error) -> healthsim_persist::Error {
    healthsim_persist::Error::Database {
        context: "test query".into(),
        source: e,
    }
}

/// Runs one `count(*)` query per declared reference of the registry (built by `query` from
/// the referencing table, column, referenced table and its key; `$1` is the scenario) as a
/// single UNION ALL, and lists the references whose count is not zero as
/// `table.column -> target: count`.
fn per_reference(
    store: &Store,
    scenario_id: &str,
    query: impl Fn(&str, &str, &str, &str) -> String,
) -> Vec<String> {
    let mut parts = Vec::new();
    for t in ENTITY_TYPES {
        for r in t.references {
            let target =
                healthsim_schema::by_table(r.target).expect("references name registry tables");
            let label = format!("{}.{} -> {}", t.table, r.column, r.target);
            parts.push(format!(
                "SELECT '{label}' AS reference, ({}) AS n",
                query(t.table, r.column, target.table, target.primary_key)
            ));
        }
    }
    let sql = format!(
        "SELECT reference, n FROM ({}) WHERE n > 0 ORDER BY reference",
        parts.join(" UNION ALL ")
    );
    store
        .with_reader(|conn| {
            let mut stmt = conn.prepare(&sql).map_err(db)?;
            let rows = stmt
                .query_map([scenario_id], |r| {
                    Ok(format!(
                        "{}: {}",
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?
                    ))
                })
                .map_err(db)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db)
        })
        .expect("reference check")
}

/// Every declared reference of the registry whose non-null values do not all resolve inside
/// the scenario, as `table.column -> target: count`.
pub(crate) fn dangling_references(store: &Store, scenario_id: &str) -> Vec<String> {
    per_reference(store, scenario_id, |t, c, u, pk| {
        format!(
            "SELECT count(*) FROM {t} x WHERE x.scenario_id = $1 AND x.{c} IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM {u} y WHERE y.scenario_id = x.scenario_id AND y.{pk} = x.{c})"
        )
    })
}

/// Every declared reference whose referencing and referenced rows have a different `origin`
/// (the source they were generated for), as `table.column -> target: count`.
pub(crate) fn cross_origin_references(store: &Store, scenario_id: &str) -> Vec<String> {
    per_reference(store, scenario_id, |t, c, u, pk| {
        format!(
            "SELECT count(*) FROM {t} x JOIN {u} y ON y.scenario_id = x.scenario_id AND y.{pk} = x.{c}
             WHERE x.scenario_id = $1 AND (x.extra->>'origin') IS DISTINCT FROM (y.extra->>'origin')"
        )
    })
}

/// The ids of one table in a scenario, with each row's `origin`.
pub(crate) fn ids_with_origin(
    store: &Store,
    scenario_id: &str,
    table: &str,
) -> BTreeMap<String, Option<String>> {
    let t = healthsim_schema::by_table(table).expect("a registry table");
    store
        .with_reader(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {pk}, extra->>'origin' FROM {table} WHERE scenario_id = ?",
                    pk = t.primary_key
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([scenario_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)
        })
        .expect("ids")
}

/// The ids of one table in a scenario.
pub(crate) fn ids(store: &Store, scenario_id: &str, table: &str) -> BTreeSet<String> {
    ids_with_origin(store, scenario_id, table)
        .into_keys()
        .collect()
}

/// Rows per table of a scenario (tables without rows left out), by `count(*)` (one query).
pub(crate) fn row_counts(store: &Store, scenario_id: &str) -> BTreeMap<String, u64> {
    let sql = ENTITY_TYPES
        .iter()
        .map(|t| {
            format!(
                "SELECT '{0}' AS t, count(*) AS n FROM {0} WHERE scenario_id = $1",
                t.table
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    store
        .with_reader(|conn| {
            let mut stmt = conn
                .prepare(&format!("SELECT t, n FROM ({sql}) WHERE n > 0"))
                .map_err(db)?;
            let rows = stmt
                .query_map([scenario_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)
        })
        .expect("row counts")
}

/// The scenario's rows of every table, without `scenario_id`, as sorted JSON text: equal for
/// two scenarios exactly when they hold the same entities with the same values.
pub(crate) fn contents(store: &Store, scenario_id: &str) -> BTreeMap<String, Vec<String>> {
    store
        .with_reader(|conn| {
            let mut all = BTreeMap::new();
            for t in ENTITY_TYPES {
                let mut stmt = conn
                    .prepare(&format!(
                        "SELECT to_json(x)::VARCHAR FROM (SELECT * EXCLUDE (scenario_id) FROM {} WHERE scenario_id = ?) x ORDER BY 1",
                        t.table
                    ))
                    .map_err(db)?;
                let rows: Vec<String> = stmt
                    .query_map([scenario_id], |r| r.get(0))
                    .map_err(db)?
                    .collect::<Result<_, _>>()
                    .map_err(db)?;
                if !rows.is_empty() {
                    all.insert(t.table.to_string(), rows);
                }
            }
            Ok(all)
        })
        .expect("contents")
}
