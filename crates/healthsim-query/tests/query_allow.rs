//! The function allow-list, control characters, constant sizes and the analyst queries the
//! sandbox used to refuse (issue 16): each refusal is asserted with its exact error variant,
//! and each legitimate query with its rows on a real scenario.

mod query_fixture;

use duckdb::Connection;
use healthsim_query::{
    run_query, validate_query, Error, QueryOptions, QueryResult, MAX_BUILT_SIZE,
};
use query_fixture::{insert_scenario, Database, Fixture, A, B};
use serde_json::{json, Value as Json};

/// A sandbox over scenarios A and B whose patients also have MRNs (`M0001`, ... in A and
/// `B0001`, ... in B, so a leak shows).
struct WithMrns {
    _dir: tempfile::TempDir,
    sandbox: Connection,
}

fn with_mrns() -> WithMrns {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::create(dir.path(), |conn| {
        insert_scenario(conn, A, 1);
        insert_scenario(conn, B, 2);
        conn.execute_batch(&format!(
            "UPDATE patients SET mrn = CASE WHEN scenario_id = '{A}' THEN 'M' ELSE 'B' END
                 || lpad(substr(patient_id, 2), 4, '0')"
        ))
        .expect("set MRNs");
    });
    let sandbox = database.sandbox();
    WithMrns { _dir: dir, sandbox }
}

fn rows(page: &QueryResult) -> Vec<Json> {
    page.results.iter().cloned().map(Json::Object).collect()
}

fn run(conn: &Connection, sql: &str) -> Result<QueryResult, Error> {
    let options = QueryOptions {
        limit: Some(100),
        ..QueryOptions::default()
    };
    run_query(conn, A, sql, &options)
}

/// Runs `sql` and returns its rows, failing the test with DuckDB's or the sandbox's message.
fn rows_of(conn: &Connection, sql: &str) -> Vec<Json> {
    match run(conn, sql) {
        Ok(page) => {
            assert!(!page.has_more, "{sql}: more than one page");
            rows(&page)
        }
        Err(e) => panic!("{sql}\n  refused: {e}"),
    }
}

/// `sql` is refused by both `run_query` and `validate_query`; returns the error of `run_query`.
fn refusal(conn: &Connection, sql: &str) -> Error {
    let validated = validate_query(conn, sql);
    match run(conn, sql) {
        Err(e) => {
            assert!(
                validated.is_err(),
                "{sql}: run_query refused ({e}) but validate_query accepted it"
            );
            e
        }
        Ok(page) => panic!("{sql}: accepted, {} rows", page.total_count),
    }
}

// ---------------------------------------------------------------- refused functions

#[test]
fn functions_outside_the_review_are_refused_naming_the_function_and_its_reason_category() {
    let fixture = Fixture::new();
    let state = fixture.state();
    // (query, the function named, the reason category)
    #[rustfmt::skip]
    let cases = [
        ("SELECT json_serialize_plan('SELECT 1')", "json_serialize_plan", "plan"),
        ("SELECT json_deserialize_sql(json_serialize_sql('SELECT 1'))", "json_deserialize_sql", "sql"),
        ("SELECT length(json_serialize_sql('SELECT * FROM scenarios'))", "json_serialize_sql", "sql"),
        ("SELECT current_setting('threads')", "current_setting", "settings"),
        ("SELECT getvariable('anything') AS v FROM patients", "getvariable", "settings"),
        ("SELECT stats(patient_id) FROM patients", "stats", "statistics"),
        ("SELECT version()", "version", "system"),
        ("SELECT current_database()", "current_database", "system"),
        ("SELECT current_schemas(true)", "current_schemas", "system"),
        ("SELECT txid_current()", "txid_current", "system"),
        ("SELECT current_connection_id()", "current_connection_id", "system"),
        ("SELECT nextval('s')", "nextval", "side-effect"),
        ("SELECT setseed(0.5)", "setseed", "side-effect"),
        ("SELECT sleep_ms(10)", "sleep_ms", "side-effect"),
        ("SELECT pg_sleep(1)", "pg_sleep", "side-effect"),
        ("SELECT write_log('hello')", "write_log", "side-effect"),
        ("SELECT format_type(1, 2)", "format_type", "catalog"),
        ("SELECT has_table_privilege('patients', 'select')", "has_table_privilege", "catalog"),
        ("SELECT pg_get_viewdef(1)", "pg_get_viewdef", "catalog"),
        ("SELECT in_search_path('main', 'main')", "in_search_path", "system"),
        ("SELECT get_block_size('scenarios')", "get_block_size", "statistics"),
        ("SELECT * FROM duckdb_extensions()", "duckdb_extensions", "system"),
        ("SELECT * FROM duckdb_secrets()", "duckdb_secrets", "secrets"),
        ("SELECT * FROM which_secret('s3://x', 's3')", "which_secret", "secrets"),
        ("SELECT * FROM pragma_version()", "pragma_version", "system"),
        ("SELECT * FROM duckdb_memory()", "duckdb_memory", "statistics"),
        ("SELECT * FROM read_text('/etc/hostname')", "read_text", "files"),
        ("SELECT * FROM checkpoint()", "checkpoint", "session"),
        ("SELECT * FROM arrow_scan(0, 0, 0)", "arrow_scan", "internal"),
        ("SELECT vector_type(1)", "vector_type", "internal"),
        // Bare value functions are calls too.
        ("SELECT current_catalog", "current_catalog", "system"),
        ("SELECT current_schema AS s FROM patients", "current_schema", "system"),
        ("SELECT user", "user", "system"),
        ("SELECT patient_id FROM patients WHERE session_user <> ''", "session_user", "system"),
        // A refused name inside an allowed one, a window, a lambda or a CTE.
        ("SELECT upper(current_setting('memory_limit'))", "current_setting", "settings"),
        ("SELECT list_transform([1], x -> getvariable('v'))", "getvariable", "settings"),
        ("WITH s AS (SELECT version() AS v) SELECT * FROM s", "version", "system"),
        ("SELECT txid_current() OVER ()", "txid_current", "system"),
        // The aggregate list_aggr applies is named in a text.
        ("SELECT list_aggr([1, 2], 'current_setting')", "current_setting", "settings"),
    ];
    let mut wrong = Vec::new();
    for (sql, function, category) in cases {
        match refusal(&fixture.sandbox, sql) {
            Error::ForbiddenFunction { name, reason } => {
                if !name.eq_ignore_ascii_case(function)
                    || !reason.starts_with(&format!("{category}: "))
                {
                    wrong.push(format!("{sql}\n  got {name}: {reason}"));
                }
            }
            other => wrong.push(format!("{sql}\n  got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(fixture.state(), state);
}

#[test]
fn a_refusal_reads_as_one_sentence_that_names_the_function_and_what_it_does() {
    let fixture = Fixture::new();
    let message = |sql: &str| refusal(&fixture.sandbox, sql).to_string();
    assert_eq!(
        message("SELECT current_setting('threads')"),
        "function 'current_setting' is not allowed in scenario queries: settings: it reads or \
         changes settings or variables"
    );
    assert_eq!(
        message("SELECT user"),
        "function 'user' is not allowed in scenario queries: system: it reveals facts about the \
         installation or the session (a column of that name must be qualified, e.g. t.user)"
    );
    assert_eq!(
        message("SELECT lenght(patient_id) FROM patients"),
        "function 'lenght' is not allowed in scenario queries: unknown: it is not a function \
         the sandbox knows; did you mean length?"
    );
    assert_eq!(
        message("SELECT list_aggr([1, 2], name) FROM (SELECT 'sum' AS name)"),
        "function 'list_aggr' is not allowed in scenario queries: its argument 2 must be the \
         aggregate's name written as a constant text, e.g. list_aggr(l, 'sum')"
    );
    // A refusal never points to what the sandbox forbids anyway.
    for sql in [
        "SELECT current_setting('threads')",
        "SELECT * FROM duckdb_settings()",
        "SELECT getvariable('x')",
        "SELECT nextval('s')",
    ] {
        let text = message(sql);
        for forbidden in ["SET ", "PRAGMA", "INSTALL", "LOAD ", "main."] {
            assert!(!text.contains(forbidden), "{sql}: {text}");
        }
    }
}

#[test]
fn unknown_and_misspelt_functions_are_refused_before_they_run() {
    let fixture = Fixture::new();
    for (sql, name) in [
        ("SELECT no_such_function(1)", "no_such_function"),
        ("SELECT uper(gender) FROM patients", "uper"),
        (
            "SELECT count(*) FILTER (WHERE maybe_function(gender)) FROM patients",
            "maybe_function",
        ),
        ("SELECT overlay('abc' PLACING 'x' FROM 1)", "overlay"),
    ] {
        match refusal(&fixture.sandbox, sql) {
            Error::ForbiddenFunction { name: got, reason } => {
                assert_eq!(got, name, "{sql}");
                assert!(reason.starts_with("unknown: "), "{sql}: {reason}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

#[test]
fn schema_or_catalog_qualified_function_names_are_refused() {
    let fixture = Fixture::new();
    for (sql, qualified) in [
        ("SELECT main.lower('x')", "main.lower"),
        ("SELECT pg_catalog.lower('x')", "pg_catalog.lower"),
        ("SELECT system.main.upper('x')", "system.main.upper"),
        ("SELECT memory.main.abs(-1)", "memory.main.abs"),
        ("SELECT main.sum(1) OVER ()", "main.sum"),
        ("SELECT * FROM main.range(3)", "main.range"),
    ] {
        match refusal(&fixture.sandbox, sql) {
            Error::QualifiedName { name } => assert_eq!(name, qualified, "{sql}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    // A refused function stays refused for what it is, however it is qualified.
    assert!(matches!(
        refusal(
            &fixture.sandbox,
            "SELECT system.main.current_setting('threads')"
        ),
        Error::ForbiddenFunction { .. }
    ));
}

#[test]
fn syntax_the_parser_qualifies_itself_still_runs() {
    // DuckDB's parser writes `main.list_value`, `main.trim`, ... for these forms.
    let fixture = Fixture::new();
    let got = rows_of(
        &fixture.sandbox,
        "SELECT [1, 2] AS l, {'a': 1} AS s, MAP {'k': 2} AS m, TRIM(BOTH 'x' FROM 'xax') AS t,
                SUBSTRING('hello' FROM 2 FOR 3) AS sub, POSITION('l' IN 'hello') AS pos,
                EXTRACT(year FROM DATE '2024-05-06') AS y, [x * 2 FOR x IN [1, 2, 3] IF x > 1] AS c,
                ROW(1, 'a') AS r, (TIMESTAMP '2024-01-01 12:00' AT TIME ZONE 'UTC') IS NOT NULL AS tz",
    );
    assert_eq!(got.len(), 1);
    let row = &got[0];
    assert_eq!(row["l"], json!([1, 2]));
    assert_eq!(row["s"], json!({"a": 1}));
    assert_eq!(row["t"], "a");
    assert_eq!(row["sub"], "ell");
    assert_eq!(row["pos"], 3);
    assert_eq!(row["y"], 2024);
    assert_eq!(row["c"], json!([4, 6]));
    assert_eq!(row["tz"], true);
}

#[test]
fn the_functions_analysts_use_run() {
    let fixture = Fixture::new();
    let got = rows_of(
        &fixture.sandbox,
        "SELECT count(*) AS n, count(DISTINCT gender) AS genders, min(birth_date) < max(birth_date) AS span,
                round(avg(date_diff('year', birth_date, DATE '2024-01-01')), 0) > 0 AS ages,
                string_agg(DISTINCT state, ',' ORDER BY state) AS states,
                list_sum([1, 2, 3]) AS macro_sum, list_aggr([1, 2, 3], 'max') AS named_max,
                levenshtein('kitten', 'sitting') AS edits, jaro_winkler_similarity('a', 'a') AS same,
                regexp_matches('E11.9', '^E1') AS regex, 'abc' LIKE 'a%' AS liked, 'abc' GLOB 'a*' AS globbed,
                'abc' ILIKE 'A%' AS iliked, 'abc' SIMILAR TO 'a.c' AS similar,
                json_extract_string('{\"a\": {\"b\": 7}}', '$.a.b') AS j,
                date_trunc('month', DATE '2024-05-17')::DATE AS month, strftime(DATE '2024-05-17', '%Y/%m') AS ym,
                upper(left('hello', 2)) || '!' AS txt, 7 // 2 AS idiv, 2 ** 10 AS pow,
                nullif(1, 1) IS NULL AS nulled, greatest(1, 5, 3) AS g, md5('x') = md5('x') AS hashed
         FROM patients",
    );
    assert_eq!(
        got,
        vec![json!({
            "n": 12, "genders": 2, "span": true, "ages": true, "states": "AZ,CA,NY,TX",
            "macro_sum": 6, "named_max": 3, "edits": 3, "same": 1.0, "regex": true,
            "liked": true, "globbed": true, "iliked": true, "similar": true, "j": "7",
            "month": "2024-05-01", "ym": "2024/05", "txt": "HE!", "idiv": 3, "pow": 1024.0,
            "nulled": true, "g": 5, "hashed": true
        })]
    );
    let windows = rows_of(
        &fixture.sandbox,
        "SELECT patient_id, row_number() OVER w AS rn, lag(patient_id) OVER w AS prev,
                ntile(2) OVER w AS half, percent_rank() OVER w AS pr
         FROM patients WHERE patient_id IN ('p1', 'p2') WINDOW w AS (ORDER BY patient_id)
         ORDER BY patient_id",
    );
    assert_eq!(
        windows,
        vec![
            json!({"patient_id": "p1", "rn": 1, "prev": null, "half": 1, "pr": 0.0}),
            json!({"patient_id": "p2", "rn": 2, "prev": "p1", "half": 2, "pr": 1.0}),
        ]
    );
    // UNPIVOT binds to DuckDB's internal helpers itself; the query names none of them.
    let unpivoted = rows_of(
        &fixture.sandbox,
        "UNPIVOT (SELECT patient_id, gender, state FROM patients WHERE patient_id = 'p1')
         ON gender, state INTO NAME field VALUE value ORDER BY field",
    );
    assert_eq!(
        unpivoted,
        vec![
            json!({"patient_id": "p1", "field": "gender", "value": "female"}),
            json!({"patient_id": "p1", "field": "state", "value": "TX"}),
        ]
    );
    // A column may still carry a value function's name when it is qualified.
    let qualified = rows_of(
        &fixture.sandbox,
        "SELECT t.user FROM (SELECT 'analyst' AS user) t",
    );
    assert_eq!(qualified, vec![json!({"user": "analyst"})]);
    // Allowed value functions run bare.
    let today = rows_of(
        &fixture.sandbox,
        "SELECT current_date >= DATE '2024-01-01' AS now_ok, current_timestamp IS NOT NULL AS ts",
    );
    assert_eq!(today, vec![json!({"now_ok": true, "ts": true})]);
}

// ---------------------------------------------------------------- control characters

#[test]
fn control_characters_are_refused_before_parsing_naming_the_character_and_its_position() {
    let fixture = Fixture::new();
    let counts = fixture.counts();
    let state = fixture.state();
    // (query, the character, its position counting from 1)
    let cases = [
        ("SELECT 1 \0; DROP TABLE patients", "U+0000", 10),
        ("\0SELECT 1", "U+0000", 1),
        ("SELECT * FROM patients\0", "U+0000", 23),
        ("SELECT 'a\u{7}b'", "U+0007", 10),
        ("SELECT 1 -- bell \u{7}", "U+0007", 18),
        ("SELECT \u{1b}[31m 1", "U+001B", 8),
        ("SELECT 'é', '\u{7f}'", "U+007F", 14),
        ("SELECT 1\u{b}", "U+000B", 9),
        ("SELECT 1\u{c}", "U+000C", 9),
        ("SELECT \"a\u{1f}\" FROM patients", "U+001F", 10),
    ];
    for (sql, character, position) in cases {
        let error = refusal(&fixture.sandbox, sql);
        match &error {
            Error::ControlCharacter {
                character: got,
                position: at,
            } => assert_eq!((got.as_str(), *at), (character, position), "{sql:?}"),
            other => panic!("{sql:?}: {other:?}"),
        }
        assert!(
            error.to_string().contains(&format!(
                "control character {character} at character {position}"
            )),
            "{error}"
        );
        assert!(error.is_caller_error());
    }
    assert_eq!(fixture.counts(), counts);
    assert_eq!(fixture.state(), state);
}

#[test]
fn tabs_newlines_and_carriage_returns_are_ordinary_whitespace() {
    let fixture = Fixture::new();
    let got = rows_of(
        &fixture.sandbox,
        "SELECT\tcount(*) AS n\r\nFROM patients\n\t-- a comment\r\n",
    );
    assert_eq!(got, vec![json!({"n": 12})]);
}

// ---------------------------------------------------------------- sizes

#[test]
fn constant_sizes_over_the_bound_are_refused_however_they_are_nested_or_computed() {
    let fixture = Fixture::new();
    // (query, the function named, the least size it really builds): the refusal may count a
    // little more (a format's own text, every possible replacement), never less.
    #[rustfmt::skip]
    let cases = [
        ("SELECT repeat(repeat('x', 100000), 100000)", "repeat", 10_000_000_000),
        ("SELECT length(repeat(repeat(repeat('ab', 100), 100), 100))", "repeat", 2_000_000),
        ("SELECT repeat('x', 10 ** 7)", "repeat", 10_000_000),
        ("SELECT repeat('x', 1000 * 1001)", "repeat", 1_001_000),
        ("SELECT repeat('x', '2000000'::INTEGER)", "repeat", 2_000_000),
        ("SELECT repeat('x', CAST(2.5e6 AS BIGINT))", "repeat", 2_500_000),
        ("SELECT repeat([1, 2, 3], 400000)", "repeat", 1_200_000),
        ("SELECT lpad('x', 500000 * 3, '-')", "lpad", 1_500_000),
        ("SELECT rpad(patient_id, 1000001, ' ') FROM patients", "rpad", 1_000_001),
        ("SELECT list_resize([1], 99999999999)", "list_resize", 99_999_999_999),
        ("SELECT array_resize([1], 2000000, 0)", "array_resize", 2_000_000),
        ("SELECT bitstring('1', 5000000)", "bitstring", 5_000_000),
        ("SELECT bar(5, 0, 10, 2000000)", "bar", 2_000_000),
        ("SELECT equi_width_bins(0, 10, 2000000, false)", "equi_width_bins", 2_000_000),
        ("SELECT range(2000000)", "range", 2_000_000),
        ("SELECT range(0, 3000000, 1)", "range", 3_000_000),
        ("SELECT generate_series(1, 5000000)", "generate_series", 5_000_000),
        ("SELECT printf('%2000000d', 1)", "printf", 2_000_000),
        ("SELECT printf('%.3000000f', 1.5)", "printf", 3_000_002),
        ("SELECT printf('%*d', 2000000, 1)", "printf", 2_000_000),
        ("SELECT format('{:>2000000}', 'x')", "format", 2_000_000),
        ("SELECT format('{:>{}}', 'x', 3000000)", "format", 3_000_000),
        ("SELECT replace(repeat('a', 2000), 'a', repeat('b', 1000))", "replace", 2_000_000),
        ("SELECT replace(repeat('ab', 1000), 'ab', repeat('c', 2000))", "replace", 2_000_000),
        ("SELECT regexp_replace(repeat('a', 2000), 'a', repeat('b', 1000), 'g')", "regexp_replace", 2_000_000),
        ("SELECT regexp_replace(repeat('a', 100), 'a+', repeat('\\0', 20000))", "regexp_replace", 2_000_000),
        ("SELECT concat(repeat('x', 600000), repeat('y', 600000))", "concat", 1_200_000),
        ("SELECT repeat('x', 700000) || repeat('y', 700000)", "||", 1_400_000),
        ("SELECT length(repeat(concat('ab', patient_id), 600000)) FROM patients", "repeat", 1_200_000),
        ("SELECT bitstring_agg(i, 0, 5000000) FROM range(3) t(i)", "bitstring_agg", 5_000_001),
    ];
    let mut wrong = Vec::new();
    for (sql, function, size) in cases {
        match refusal(&fixture.sandbox, sql) {
            Error::UnboundedSize { name, reason, max } => {
                let counted: Option<u64> = reason
                    .strip_prefix("this call would build ")
                    .and_then(|n| n.parse().ok());
                let right = counted.is_some_and(|n| n >= size && n > MAX_BUILT_SIZE);
                if name != function || !right || max != MAX_BUILT_SIZE {
                    wrong.push(format!("{sql}\n  got {name}: {reason}"));
                }
            }
            other => wrong.push(format!("{sql}\n  got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn sizes_within_the_bound_or_taken_from_the_data_run() {
    let fixture = with_mrns();
    let got = rows_of(
        &fixture.sandbox,
        "SELECT length(repeat(repeat('x', 1000), 1000)) AS nested, length(range(1000000)) AS r,
                length(printf('%10d|%-5s|', 42, 'ab')) AS p, format('{:>6}', 'ab') AS f,
                length(generate_series(1, 10)) AS g, bar(5, 0, 10, 10) AS b,
                replace('a-b-c', '-', '+') AS rep, regexp_replace('a1b22', '[0-9]+', '#', 'g') AS rx,
                printf('%d items cost %s dollars in 2000000 ways', 3, '4') AS literal_digits,
                length(replace(repeat('a', 1000), 'a', repeat('b', 1000))) AS replaced",
    );
    assert_eq!(
        got,
        vec![json!({
            "nested": 1000000, "r": 1000000, "p": 17, "f": "    ab", "g": 10, "b": "█████     ",
            "rep": "a+b+c", "rx": "a#b#", "literal_digits": "3 items cost 4 dollars in 2000000 ways",
            "replaced": MAX_BUILT_SIZE
        })]
    );
    // Sizes that come from the data: the scenario's own values, aggregates, subqueries.
    let data = rows_of(
        &fixture.sandbox,
        "SELECT patient_id, repeat('ab', length(patient_id)::INT) AS r,
                rpad(patient_id, (SELECT count(*) FROM patients)::INT, '.') AS padded
         FROM patients WHERE patient_id IN ('p1', 'p10') ORDER BY patient_id",
    );
    assert_eq!(
        data,
        vec![
            json!({"patient_id": "p1", "r": "abab", "padded": "p1.........."}),
            json!({"patient_id": "p10", "r": "ababab", "padded": "p10........."}),
        ]
    );
}

// ---------------------------------------------------------------- analyst queries

#[test]
fn an_mrn_padded_by_its_own_length_runs() {
    let fixture = with_mrns();
    // The sandbox lets the size through (it depends on the data); DuckDB itself then wants the
    // length, a BIGINT, cast to lpad's INTEGER, and says so.
    match run(
        &fixture.sandbox,
        "SELECT lpad(mrn, length(mrn) + 2, '0') AS padded FROM patients",
    ) {
        Err(Error::Execution { message, .. }) => {
            assert!(message.contains("explicit type casts"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let got = rows_of(
        &fixture.sandbox,
        "SELECT patient_id, lpad(mrn, (length(mrn) + 2)::INT, '0') AS padded FROM patients
         WHERE patient_id IN ('p1', 'p11') ORDER BY patient_id",
    );
    assert_eq!(
        got,
        vec![
            json!({"patient_id": "p1", "padded": "00M0001"}),
            json!({"patient_id": "p11", "padded": "00M0011"}),
        ]
    );
}

#[test]
fn a_text_bar_chart_of_counts_runs() {
    let fixture = Fixture::new();
    let got = rows_of(
        &fixture.sandbox,
        "SELECT encounter_class, count(*) AS n, repeat('*', count(*)::INT) AS bar
         FROM encounters GROUP BY encounter_class ORDER BY encounter_class",
    );
    assert_eq!(
        got,
        vec![
            json!({"encounter_class": "emergency", "n": 10, "bar": "**********"}),
            json!({"encounter_class": "inpatient", "n": 10, "bar": "**********"}),
            json!({"encounter_class": "outpatient", "n": 10, "bar": "**********"}),
        ]
    );
    let by_state = rows_of(
        &fixture.sandbox,
        "SELECT state, lpad('', count(*)::INT, '#') AS bar, rpad(state, 2 + count(*)::INT, '=') AS line
         FROM patients GROUP BY state ORDER BY state",
    );
    assert_eq!(
        by_state,
        vec![
            json!({"state": "AZ", "bar": "###", "line": "AZ==="}),
            json!({"state": "CA", "bar": "###", "line": "CA==="}),
            json!({"state": "NY", "bar": "###", "line": "NY==="}),
            json!({"state": "TX", "bar": "###", "line": "TX==="}),
        ]
    );
}

#[test]
fn a_pivot_without_an_in_list_runs_over_the_scenarios_own_values() {
    let fixture = Fixture::new();
    // The values are looked up with a scoped query first: only scenario A's (its favorite
    // colors are 'teal1'; scenario B's 'teal2' must not become a column).
    #[rustfmt::skip]
    let cases = [
        ("PIVOT (SELECT gender FROM patients) ON gender USING count(*)",
         vec![json!({"female": 6, "male": 6})]),
        ("PIVOT (SELECT extra->>'favorite_color' AS color FROM patients) ON color USING count(*)",
         vec![json!({"teal1": 4})]),
        ("pivot patients on gender using count(*) group by state order by state", vec![
            json!({"state": "AZ", "female": 3, "male": 0}),
            json!({"state": "CA", "female": 0, "male": 3}),
            json!({"state": "NY", "female": 0, "male": 3}),
            json!({"state": "TX", "female": 3, "male": 0}),
        ]),
        ("WITH p AS (SELECT gender, state FROM patients WHERE state = 'AZ') \
          PIVOT p ON gender USING count(*)", vec![json!({"state": "AZ", "female": 3})]),
        ("SELECT * FROM (PIVOT (SELECT gender FROM patients) ON gender USING count(*))",
         vec![json!({"female": 6, "male": 6})]),
        ("PIVOT_WIDER (SELECT gender FROM patients) ON gender USING count(*)",
         vec![json!({"female": 6, "male": 6})]),
        ("PIVOT (SELECT gender, state FROM patients) ON gender IN ('female'), state USING count(*)",
         vec![json!({"female_AZ": 3, "female_CA": 0, "female_NY": 0, "female_TX": 3})]),
        ("PIVOT (SELECT gender FROM patients) ON gender IN ('female', 'male') USING count(*)",
         vec![json!({"female": 6, "male": 6})]),
    ];
    for (sql, expected) in cases {
        assert_eq!(rows_of(&fixture.sandbox, sql), expected, "{sql}");
        assert!(validate_query(&fixture.sandbox, sql).is_ok(), "{sql}");
    }
}

#[test]
fn a_pivot_without_an_in_list_is_refused_where_its_lookup_would_be() {
    let fixture = Fixture::new();
    // The lookup is an ordinary query: what it may not read, the pivot may not either.
    assert!(matches!(
        refusal(&fixture.sandbox, "PIVOT scenarios ON name USING count(*)"),
        Error::ForbiddenTable { .. }
    ));
    assert!(matches!(
        refusal(
            &fixture.sandbox,
            "PIVOT main.patients ON gender USING count(*)"
        ),
        Error::QualifiedName { .. }
    ));
    // Too many values to pivot on: the message says to write the IN list.
    match run(
        &fixture.sandbox,
        "PIVOT range(500) t(i) ON i USING count(*)",
    ) {
        Err(Error::Unsupported { construct }) => assert!(
            construct.contains("500 distinct values") && construct.contains("write the IN list"),
            "{construct}"
        ),
        other => panic!("{other:?}"),
    }
    // A value that is not a simple word still becomes one quoted literal.
    let got = rows_of(
        &fixture.sandbox,
        "PIVOT (SELECT 'O''Brien; DROP TABLE patients' AS v FROM patients LIMIT 1) ON v \
         USING count(*)",
    );
    assert_eq!(got, vec![json!({"O'Brien; DROP TABLE patients": 1})]);
    // A statement that writes is still named for what it is, PIVOT or not.
    assert!(matches!(
        refusal(
            &fixture.sandbox,
            "CREATE TABLE x AS PIVOT patients ON gender USING count(*)"
        ),
        Error::NotReadOnly { .. }
    ));
}

#[test]
fn quoted_names_with_dots_are_names_not_file_paths() {
    let fixture = Fixture::new();
    let got = rows_of(
        &fixture.sandbox,
        "SELECT count(*) AS \"a.b\", 'x' AS \"file.csv\" FROM patients",
    );
    assert_eq!(got, vec![json!({"a.b": 12, "file.csv": "x"})]);
    let got = rows_of(
        &fixture.sandbox,
        "WITH \"x.y\" AS (SELECT gender FROM patients) SELECT count(*) AS n FROM \"x.y\"",
    );
    assert_eq!(got, vec![json!({"n": 12})]);
    let got = rows_of(
        &fixture.sandbox,
        "WITH \"by.state\" AS (SELECT state, count(*) AS n FROM patients GROUP BY state),
              \"top.one\" AS (SELECT * FROM \"by.state\" ORDER BY state LIMIT 1)
         SELECT \"t.s\".state AS \"the.state\" FROM \"top.one\" AS \"t.s\"",
    );
    assert_eq!(got, vec![json!({"the.state": "AZ"})]);
    // An unknown quoted name with a dot is an unknown table, not a file (even after text
    // whose characters take more than one byte).
    match refusal(&fixture.sandbox, "SELECT 'é→' AS e FROM \"no.such\"") {
        Error::ForbiddenTable { name, reason, .. } => {
            assert_eq!(name, "no.such");
            assert!(!reason.contains("file"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A string used as a table still is a file path, and refused as one (positions are
    // DuckDB's byte offsets, so characters of several bytes before it must not shift them).
    for sql in [
        "SELECT * FROM 'no.such'",
        "SELECT 'é→' AS e FROM 'no.such'",
        "SELECT \"ünïcode\" FROM patients, 'data.csv'",
    ] {
        match refusal(&fixture.sandbox, sql) {
            Error::ForbiddenTable { reason, .. } => {
                assert!(reason.contains("file paths"), "{sql}: {reason}")
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

#[test]
fn recursive_ctes_with_using_key_read_their_recurring_rows() {
    let fixture = Fixture::new();
    // Each patient's encounters counted up one by one, keyed by patient.
    let got = rows_of(
        &fixture.sandbox,
        "WITH RECURSIVE tally(patient_id, n) USING KEY (patient_id) AS (
             SELECT patient_id, 0 FROM patients WHERE patient_id IN ('p0', 'p1')
             UNION
             SELECT t.patient_id, t.n + 1 FROM tally t
             JOIN recurring.tally r USING (patient_id)
             WHERE t.n < (SELECT count(*) FROM encounters e WHERE e.patient_id = t.patient_id))
         SELECT * FROM tally ORDER BY patient_id",
    );
    assert_eq!(
        got,
        vec![
            json!({"patient_id": "p0", "n": 3}),
            json!({"patient_id": "p1", "n": 3}),
        ]
    );
    let got = rows_of(
        &fixture.sandbox,
        "WITH RECURSIVE c(k, v) USING KEY (k) AS (
             SELECT 1, 1 UNION SELECT c.k, c.v * 2 FROM c, recurring.c AS r WHERE c.v < 8)
         SELECT * FROM c",
    );
    assert_eq!(got, vec![json!({"k": 1, "v": 8})]);
    // `recurring.` names only a CTE in scope; anything else is a qualified name.
    for (sql, qualified) in [
        ("SELECT * FROM recurring.patients", "recurring.patients"),
        (
            "WITH RECURSIVE c(k) USING KEY (k) AS (SELECT 1 UNION SELECT k FROM recurring.scenarios)
             SELECT * FROM c",
            "recurring.scenarios",
        ),
    ] {
        match refusal(&fixture.sandbox, sql) {
            Error::QualifiedName { name } => assert_eq!(name, qualified),
            other => panic!("{sql}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------- DuckDB's advice

// Regression: out of memory, DuckDB advised setting a temp directory, the memory limit or the
// threads, none of which a scenario query can do (docs/reliability.md).
#[test]
fn duckdb_advice_the_sandbox_forbids_is_replaced_by_advice_that_works_here() {
    let fixture = Fixture::new();
    let sql = "SELECT length(string_agg(repeat('x', 100000), ',')) AS n FROM range(100000)";
    match run(&fixture.sandbox, sql) {
        Err(error @ Error::Execution { .. }) => {
            let text = error.to_string();
            assert!(text.contains("Out of Memory"), "{text}");
            assert!(
                text.contains("filter rows early, aggregate inside SQL"),
                "{text}"
            );
            for forbidden in [
                "SET ",
                "temp_directory",
                "memory_limit",
                "threads",
                "PRAGMA",
            ] {
                assert!(!text.contains(forbidden), "{forbidden}: {text}");
            }
        }
        other => panic!("{other:?}"),
    }
}
