//! Fuzzing entity JSON → typed rows ([`healthsim_persist::convert`], and
//! [`healthsim_persist::convert_owned`] against it) and the persist call on top.
//!
//! Inputs are arbitrary JSON, biased towards what reaches the conversion code: objects whose
//! keys are the table's own columns (snake_case and camelCase), provenance and nested FHIR-like
//! keys, with values that are almost right for the column's type (impossible dates, `"NaN"`,
//! money text, huge integers, offsets out of range, ...).
//!
//! Properties:
//! - `convert` never panics; it returns one row per entity with one value per column and an
//!   `extra` that is a JSON object, or an error naming the entity type, index and field (values
//!   cut to about 80 characters);
//! - `convert_owned` (which moves each entity's `extra` object instead of copying it) gives
//!   `convert`'s rows and errors;
//! - `Store::persist_entities` accepts exactly what `convert` accepts, and refuses everything
//!   else with an input error before writing: never a database error (which would mean a value
//!   got past validation), and never a partial write.
//!
//! Cases: 512 (convert) and 48 (persist) by default; `PROPTEST_CASES` sets both, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p healthsim-persist --test fuzz_convert`.

#[path = "common/state.rs"]
mod state;

use healthsim_persist::{
    convert, convert_owned, Error, InputError, PersistRequest, ScenarioTarget, Store, StoreOptions,
};
use healthsim_schema::{ColumnKind, EntityType, ENTITY_TYPES};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Map, Number, Value};

/// `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "\\PC{0,12}",
        1 => any::<String>(),
        1 => Just(String::new()),
        1 => "[ \t\n\r\u{0}\u{202e}]{1,3}",
        1 => prop::sample::select(vec![
            "NaN", "Infinity", "-Infinity", "inf", "1e400", "-0", "0x1F", "true", "yes", "n",
            "$1,234.56", "-$0.005", "1,2,3", "12.345.678", "9223372036854775808", "null",
            "'; DROP TABLE patients; --", "../../etc/passwd", "😀", "Müller",
        ])
        .prop_map(str::to_string),
    ]
    .boxed()
}

fn date_like() -> BoxedStrategy<String> {
    (
        prop_oneof![0i64..=3000, -5000i64..=300_000],
        0u32..=14,
        0u32..=33,
        prop::option::of((0u32..=25, 0u32..=61, 0u32..=61)),
        prop::sample::select(vec!["", "Z", "+05:30", "-25:00", ".123456789Z", " UTC"]),
        prop::sample::select(vec!["T", " ", "t"]),
    )
        .prop_map(|(y, m, d, time, zone, sep)| match time {
            None => format!("{y:04}-{m:02}-{d:02}"),
            Some((h, mi, s)) => format!("{y:04}-{m:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{zone}"),
        })
        .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(n, scale)| {
            Number::from_f64(n as f64 / 10f64.powi(scale as i32)).map_or(Value::Null, Value::Number)
        }),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        3 => text().prop_map(Value::String),
        1 => date_like().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, at most 4 levels deep.
fn any_json() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("\\PC{0,8}", inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// A value that is nearly right for a column of `kind`, or anything.
fn value_for(kind: ColumnKind) -> BoxedStrategy<Value> {
    let typed: BoxedStrategy<Value> = match kind {
        ColumnKind::Text | ColumnKind::Code => text().prop_map(Value::String).boxed(),
        ColumnKind::Integer => prop_oneof![
            number(),
            any::<i64>().prop_map(|n| Value::String(n.to_string())),
            "-?[0-9]{1,25}".prop_map(Value::String),
        ]
        .boxed(),
        ColumnKind::Number => prop_oneof![number(), text().prop_map(Value::String)].boxed(),
        ColumnKind::Money => prop_oneof![
            number(),
            "-?\\$?[0-9,]{0,22}(\\.[0-9]{0,5})?".prop_map(Value::String),
        ]
        .boxed(),
        ColumnKind::Date | ColumnKind::Timestamp => date_like().prop_map(Value::String).boxed(),
        ColumnKind::Boolean => prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            (-2i64..3).prop_map(Value::from),
            prop::sample::select(vec!["true", "F", "yes", "N", "1", "0", "maybe", ""])
                .prop_map(|s| Value::String(s.to_string())),
        ]
        .boxed(),
        ColumnKind::Json => any_json(),
    };
    prop_oneof![4 => typed, 1 => any_json()].boxed()
}

/// One field of an entity of `t`: a column (by its own or camelCase name), the id alias,
/// provenance and bookkeeping keys, nested FHIR-like shapes, or anything.
fn field(t: &'static EntityType) -> BoxedStrategy<(String, Value)> {
    let columns: Vec<(&'static str, ColumnKind)> = t.columns().map(|c| (c.name, c.kind)).collect();
    let column = prop::sample::select(columns)
        .prop_flat_map(|(name, kind)| {
            (
                prop_oneof![Just(name.to_string()), Just(camel(name))],
                value_for(kind),
            )
        })
        .boxed();
    let special = prop_oneof![
        ("id", any_json()).prop_map(|(k, v)| (k.to_string(), v)),
        (
            prop::sample::select(vec![
                "source_type",
                "source_system",
                "skill_used",
                "generation_seed",
                "created_at",
                "scenario_id",
                "extra",
            ]),
            prop_oneof![any_json(), number(), date_like().prop_map(Value::String)],
        )
            .prop_map(|(k, v)| (k.to_string(), v)),
        (
            prop::sample::select(vec!["name", "address", "period", "telecom", "identifier"]),
            prop_oneof![
                any_json(),
                prop::collection::vec(
                    (
                        prop::sample::select(vec![
                            "given",
                            "family",
                            "middle",
                            "first",
                            "last",
                            "line",
                            "line1",
                            "street",
                            "city",
                            "state",
                            "postalCode",
                            "zip",
                            "start",
                            "end",
                            "use",
                        ]),
                        prop_oneof![
                            scalar(),
                            prop::collection::vec(scalar(), 0..3).prop_map(Value::Array)
                        ],
                    ),
                    0..5,
                )
                .prop_map(|pairs| Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ],
        )
            .prop_map(|(k, v)| (k.to_string(), v)),
    ];
    prop_oneof![6 => column, 2 => special, 1 => ("\\PC{0,10}", any_json())].boxed()
}

/// A value a column of `kind` accepts.
fn valid_value(kind: ColumnKind) -> BoxedStrategy<Value> {
    match kind {
        ColumnKind::Text => prop_oneof!["[a-zA-Z0-9 ,.'-]{0,16}", "\\PC{0,16}"]
            .prop_map(Value::String)
            .boxed(),
        ColumnKind::Code => "[A-Z0-9.]{1,8}".prop_map(Value::String).boxed(),
        ColumnKind::Integer => (-100_000i64..100_000).prop_map(Value::from).boxed(),
        ColumnKind::Number => (-1e6f64..1e6)
            .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number))
            .boxed(),
        ColumnKind::Money => (-100_000_000i64..100_000_000)
            .prop_map(|cents| {
                Number::from_f64(cents as f64 / 100.0).map_or(Value::Null, Value::Number)
            })
            .boxed(),
        ColumnKind::Date => (1900i32..2100, 1u32..=12, 1u32..=28)
            .prop_map(|(y, m, d)| Value::String(format!("{y:04}-{m:02}-{d:02}")))
            .boxed(),
        ColumnKind::Timestamp => (1900i32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60)
            .prop_map(|(y, m, d, h, mi)| {
                Value::String(format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:00Z"))
            })
            .boxed(),
        ColumnKind::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        ColumnKind::Json => any_json(),
    }
}

/// An entity `t` accepts: every required column and some optional ones, a random id.
fn valid_entity(t: &'static EntityType) -> BoxedStrategy<Value> {
    let columns: Vec<BoxedStrategy<Option<(String, Value)>>> = t
        .columns()
        .map(|c| {
            let name = c.name.to_string();
            let value = if c.name == t.primary_key {
                "[a-z0-9]{10}".prop_map(Value::String).boxed()
            } else {
                valid_value(c.kind)
            };
            if c.required {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                prop::option::weighted(0.4, value)
                    .prop_map(move |v| v.map(|v| (name.clone(), v)))
                    .boxed()
            }
        })
        .collect();
    columns
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

/// An entity of `t`: valid, valid with one field replaced by anything `field` makes, mostly
/// invalid, or (rarely) not an object.
fn entity(t: &'static EntityType) -> BoxedStrategy<Value> {
    prop_oneof![
        6 => valid_entity(t),
        6 => (valid_entity(t), field(t)).prop_map(|(mut entity, (key, value))| {
            if let Value::Object(fields) = &mut entity {
                fields.insert(key, value);
            }
            entity
        }),
        4 => prop::collection::vec(field(t), 0..10)
            .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        1 => any_json(),
    ]
    .boxed()
}

/// A table and 1 to 8 entities of it.
fn batch() -> BoxedStrategy<(&'static EntityType, Vec<Value>)> {
    (0..ENTITY_TYPES.len())
        .prop_flat_map(|i| {
            let t: &'static EntityType = &ENTITY_TYPES[i];
            (Just(t), prop::collection::vec(entity(t), 1..8))
        })
        .boxed()
}

/// A table and 1 to 4 entities of it, each valid, some with a field more, and each with an
/// `extra` object whose keys may be a column's (so a top-level field wins over them), `fhir`,
/// `normalized_from` or a short text.
fn batch_with_extra_objects() -> BoxedStrategy<(&'static EntityType, Vec<Value>)> {
    (0..ENTITY_TYPES.len())
        .prop_flat_map(|i| {
            let t: &'static EntityType = &ENTITY_TYPES[i];
            let columns: Vec<String> = t.columns().map(|c| c.name.to_string()).collect();
            let key = prop_oneof![
                prop::sample::select(columns),
                prop::sample::select(vec!["fhir".to_string(), "normalized_from".to_string()]),
                "\\PC{0,3}",
            ];
            let extra = prop::collection::vec((key, any_json()), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect()));
            let one = (valid_entity(t), prop::option::of(field(t)), extra).prop_map(
                |(mut entity, field, extra)| {
                    if let Value::Object(fields) = &mut entity {
                        if let Some((key, value)) = field {
                            fields.insert(key, value);
                        }
                        fields.insert("extra".into(), extra);
                    }
                    entity
                },
            );
            (Just(t), prop::collection::vec(one, 1..4))
        })
        .boxed()
}

/// Where an entity-level error points, if it is one.
fn entity_error(error: &Error) -> Option<(&'static str, usize)> {
    match error {
        Error::Input(InputError::NotAnObject { entity_type, index })
        | Error::Input(InputError::MissingField {
            entity_type, index, ..
        })
        | Error::Input(InputError::InvalidField {
            entity_type, index, ..
        })
        | Error::Input(InputError::DuplicateId {
            entity_type, index, ..
        }) => Some((entity_type, *index)),
        _ => None,
    }
}

fn check_convert(t: &'static EntityType, entities: &[Value]) -> Result<bool, TestCaseError> {
    let mut n = 0;
    let mut new_id = || {
        n += 1;
        format!("generated-{n}")
    };
    match convert(t, entities, &mut new_id) {
        Ok(rows) => {
            prop_assert_eq!(rows.len(), entities.len());
            let columns = t.columns().count();
            let mut ids = std::collections::HashSet::new();
            for row in &rows {
                prop_assert_eq!(row.values.len(), columns);
                prop_assert!(ids.insert(row.id.clone()), "id {} twice", row.id);
                if let Some(extra) = &row.extra {
                    let parsed: Value = serde_json::from_str(extra)
                        .map_err(|e| TestCaseError::fail(format!("extra is not JSON: {e}")))?;
                    prop_assert!(parsed.is_object(), "extra is not an object: {}", extra);
                }
            }
            Ok(true)
        }
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            let (table, index) = entity_error(&error)
                .ok_or_else(|| TestCaseError::fail(format!("not an entity error: {message}")))?;
            prop_assert_eq!(table, t.table);
            prop_assert!(index < entities.len(), "{}", message);
            prop_assert!(
                message.contains(&format!("{}[{index}]", t.table)),
                "{}",
                message
            );
            if let Error::Input(InputError::InvalidField { value, .. }) = &error {
                prop_assert!(value.chars().count() <= 83, "value not cut: {}", message);
            }
            Ok(false)
        }
    }
}

/// `convert_owned` against `convert` on the same entities: the same rows (each `extra` the
/// same JSON object, its keys' order aside) or the same error.
fn check_owned(t: &'static EntityType, entities: &[Value]) -> Result<(), TestCaseError> {
    let numbered = || {
        let mut n = 0;
        move || {
            n += 1;
            format!("generated-{n}")
        }
    };
    let borrowed = convert(t, entities, &mut numbered());
    let owned = convert_owned(t, entities.to_vec(), &mut numbered());
    match (borrowed, owned) {
        (Ok(borrowed), Ok(owned)) => {
            prop_assert_eq!(borrowed.len(), owned.len());
            for (mut b, mut o) in borrowed.into_iter().zip(owned) {
                let extra = |row: &mut healthsim_persist::Row| -> Option<Value> {
                    row.extra
                        .take()
                        .map(|text| serde_json::from_str(&text).expect("extra is JSON"))
                };
                prop_assert_eq!(extra(&mut b), extra(&mut o));
                prop_assert_eq!(b, o);
            }
        }
        (Err(borrowed), Err(owned)) => prop_assert_eq!(borrowed.to_string(), owned.to_string()),
        (borrowed, owned) => {
            return Err(TestCaseError::fail(format!(
                "convert: {borrowed:?}, convert_owned: {owned:?}"
            )))
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn convert_never_panics_and_explains_every_refusal((t, entities) in batch()) {
        check_convert(t, &entities)?;
    }

    #[test]
    fn convert_owned_gives_the_rows_and_errors_of_convert((t, entities) in batch()) {
        check_owned(t, &entities)?;
    }

    #[test]
    fn convert_owned_keeps_every_extra_object_as_convert_does(
        (t, entities) in batch_with_extra_objects()
    ) {
        check_owned(t, &entities)?;
    }
}

/// Rows over all canonical tables and scenarios.
fn total_rows(store: &Store) -> Result<i64, TestCaseError> {
    let sql = ENTITY_TYPES
        .iter()
        .map(|t| format!("SELECT count(*) AS n FROM {}", t.table))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    // A failing count fails the case: it must never pass as "nothing written".
    store
        .with_reader(|conn| {
            Ok(
                conn.query_row(&format!("SELECT sum(n)::BIGINT FROM ({sql})"), [], |r| {
                    r.get::<_, i64>(0)
                }),
            )
        })
        .map_err(|e| e.to_string())
        .and_then(|counted| counted.map_err(|e| e.to_string()))
        .map_err(|e| TestCaseError::fail(format!("counting rows failed: {e}")))
}

/// The whole database (see `common/state.rs`); a failing read fails the case.
fn db_state(store: &Store) -> Result<state::DbState, TestCaseError> {
    store
        .with_reader(|conn| Ok(state::db_state(conn)))
        .map_err(|e| e.to_string())
        .and_then(|read| read)
        .map_err(|e| TestCaseError::fail(format!("reading the database state failed: {e}")))
}

fn persist_case(
    store: &Store,
    t: &'static EntityType,
    entities: Vec<Value>,
    accepted: &std::cell::Cell<(u32, u32)>,
) -> Result<(), TestCaseError> {
    let convertible = check_convert(t, &entities)?;
    let before = total_rows(store)?;
    let before_state = db_state(store)?;
    let request = PersistRequest::new(t.table, entities.clone())
        // A fresh name per case: a taken name costs one lookup per `-N` candidate.
        .with_scenario(ScenarioTarget::new_named(format!(
            "fuzz-case-{}",
            accepted.get().0 + accepted.get().1
        )));
    match store.persist_entities(&request) {
        Ok(result) => {
            prop_assert!(convertible, "persist accepted what convert refused");
            prop_assert_eq!(result.total_persisted, entities.len() as u64);
            prop_assert_eq!(total_rows(store)?, before + entities.len() as i64);
            accepted.set((accepted.get().0 + 1, accepted.get().1));
        }
        Err(error) => {
            prop_assert!(
                !convertible,
                "convert accepted it, persist failed: {}",
                error
            );
            prop_assert!(
                entity_error(&error).is_some(),
                "not an input error: {}",
                error
            );
            // Every table, every column: no leftover scenario, tag or manifest row either.
            if let Err(changed) = before_state.expect_same(&db_state(store)?, "a refused call") {
                return Err(TestCaseError::fail(changed));
            }
            accepted.set((accepted.get().0, accepted.get().1 + 1));
        }
    }
    Ok(())
}

// A plain test driving proptest's runner, so the store (one for all cases: opening one per case
// would dominate the run) is closed before the test returns. A store left in a thread-local
// closes while the process exits, which DuckDB does not survive (SIGSEGV in duckdb_close).
#[test]
fn persist_accepts_what_convert_accepts_and_writes_nothing_else(
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("fuzz.duckdb"), StoreOptions::default())?;
    let mut runner = TestRunner::new(ProptestConfig {
        cases: cases(48),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    });
    let accepted = std::cell::Cell::new((0, 0));
    let outcome = runner.run(&batch(), |(t, entities)| {
        persist_case(&store, t, entities, &accepted)
    });
    drop(store);
    let (ok, refused) = accepted.get();
    eprintln!("persist fuzz: {ok} calls accepted, {refused} refused");
    outcome.map_err(|e| e.to_string())?;
    // Both sides were exercised: a generator that only produced refusals (or only valid
    // batches) would pass without testing that refusals write nothing.
    let cases = cases(48);
    assert!(
        ok >= cases / 8,
        "only {ok} of {cases} batches were accepted"
    );
    assert!(
        refused >= cases / 8,
        "only {refused} of {cases} batches were refused"
    );
    Ok(())
}
