//! Legitimate queries through the sandbox give exactly the answers of the same SQL on a
//! database that holds only the scenario's rows: every table reference is scoped, whatever the
//! query's shape (joins, subqueries, CTEs, recursive CTEs, set operations, LATERAL, ...).

mod query_fixture;

use healthsim_query::{run_query, validate_query, QueryOptions};
use query_fixture::{sorted, Fixture, A, B};
use serde_json::json;

/// `ordered`: the query fixes its own row order (compare sequences, not sets).
const CASES: &[(&str, bool)] = &[
    ("SELECT * FROM patients", false),
    (
        "SELECT p.patient_id, p.given_name, e.encounter_id, e.encounter_class, d.code
         FROM patients p
         JOIN encounters e ON e.patient_id = p.patient_id
         JOIN diagnoses d ON d.encounter_id = e.encounter_id
         WHERE d.code LIKE 'E%'",
        false,
    ),
    (
        "SELECT c.claim_id, p.family_name, sum(l.paid_amount) AS paid, count(*) AS lines
         FROM claims c JOIN claim_lines l USING (claim_id)
         JOIN patients p ON p.patient_id = c.patient_id
         GROUP BY ALL ORDER BY c.claim_id",
        true,
    ),
    (
        "SELECT patient_id,
                (SELECT count(*) FROM encounters e WHERE e.patient_id = p.patient_id) AS n_enc
         FROM patients p ORDER BY patient_id",
        true,
    ),
    (
        "SELECT patient_id FROM patients
         WHERE patient_id IN (SELECT patient_id FROM diagnoses WHERE code = 'I10')
           AND NOT EXISTS (SELECT 1 FROM claims c
                           WHERE c.patient_id = patients.patient_id AND c.status = 'denied')",
        false,
    ),
    (
        "WITH heavy AS (SELECT patient_id, count(*) AS n FROM encounters GROUP BY patient_id)
         SELECT p.given_name, h.n FROM heavy h JOIN patients p USING (patient_id) WHERE h.n > 2",
        false,
    ),
    // A user CTE named like the table it filters still starts from the scenario's rows.
    (
        "WITH patients AS (SELECT * FROM patients WHERE gender = 'female')
         SELECT patient_id, birth_date FROM patients",
        false,
    ),
    (
        "WITH claims AS (SELECT * FROM claim_lines)
         SELECT count(*) AS n, sum(paid_amount) AS s FROM claims",
        false,
    ),
    (
        "WITH encounters AS (SELECT * FROM encounters WHERE encounter_class = 'inpatient'),
              x AS (SELECT patient_id FROM encounters)
         SELECT count(*) AS n FROM x",
        false,
    ),
    (
        "WITH RECURSIVE chain(n, pid) AS (
             SELECT 1, 'p0' UNION ALL SELECT n + 1, 'p' || n FROM chain WHERE n < 12)
         SELECT c.n, p.patient_id, p.given_name FROM chain c JOIN patients p ON p.patient_id = c.pid",
        false,
    ),
    (
        "WITH RECURSIVE walk(eid, depth) AS (
             SELECT min(encounter_id), 0 FROM encounters
             UNION ALL
             SELECT e.encounter_id, w.depth + 1 FROM walk w
             JOIN encounters e ON e.encounter_id = 'e' || (CAST(substr(w.eid, 2) AS INTEGER) + 7)
             WHERE w.depth < 5)
         SELECT w.*, e.start_datetime, e.patient_id FROM walk w
         JOIN encounters e ON e.encounter_id = w.eid",
        false,
    ),
    // A recursive CTE named like a table: its anchor reads the scenario's rows.
    (
        "WITH RECURSIVE patients AS (
             SELECT patient_id, birth_date, 0 AS k FROM patients
             UNION ALL SELECT patient_id, birth_date, k + 1 FROM patients WHERE k < 1)
         SELECT * FROM patients",
        false,
    ),
    (
        "SELECT claim_id, patient_id, total_paid,
                rank() OVER (PARTITION BY patient_id ORDER BY total_paid DESC, claim_id) AS r,
                sum(total_paid) OVER (PARTITION BY patient_id) AS patient_total
         FROM claims",
        false,
    ),
    (
        "SELECT patient_id AS id, 'patient' AS kind FROM patients
         UNION SELECT encounter_id, 'encounter' FROM encounters
         UNION ALL SELECT claim_id, 'claim' FROM claims",
        false,
    ),
    (
        "SELECT patient_id FROM encounters EXCEPT SELECT patient_id FROM claims",
        false,
    ),
    (
        "SELECT patient_id FROM diagnoses INTERSECT SELECT patient_id FROM claims",
        false,
    ),
    (
        "SELECT gender, state, count(*) AS n, min(birth_date) AS oldest,
                avg(date_diff('year', birth_date, DATE '2024-01-01')) AS avg_age
         FROM patients GROUP BY ROLLUP (gender, state)",
        false,
    ),
    (
        "SELECT claim_type, status, sum(total_billed) AS billed, sum(total_paid) AS paid,
                round(avg(total_paid), 2) AS avg_paid
         FROM claims GROUP BY ALL HAVING count(*) > 1",
        false,
    ),
    (
        "SELECT p.patient_id, last.encounter_id, last.start_datetime
         FROM patients p,
              LATERAL (SELECT encounter_id, start_datetime FROM encounters e
                       WHERE e.patient_id = p.patient_id
                       ORDER BY start_datetime DESC LIMIT 1) AS last",
        false,
    ),
    ("VALUES (1, 'one'), (2, 'two')", false),
    (
        "SELECT v.code, v.label, count(d.diagnosis_id) AS n
         FROM (VALUES ('I10', 'hypertension'), ('E11.9', 'diabetes')) AS v(code, label)
         LEFT JOIN diagnoses d ON d.code = v.code GROUP BY ALL",
        false,
    ),
    (
        "-- DROP TABLE patients;
         SELECT patient_id, '--' AS dashes, 'DROP TABLE x; DELETE FROM y' AS s /* ; DROP */
         FROM patients WHERE family_name <> 'DROP' -- trailing ; comment",
        false,
    ),
    (
        "SELECT encounter_id, chief_complaint FROM encounters
         WHERE chief_complaint LIKE '%DROP TABLE%'",
        false,
    ),
    (
        "SELECT patient_id, birth_date FROM patients
         ORDER BY birth_date DESC, patient_id LIMIT 5 OFFSET 2",
        true,
    ),
    ("SELECT count(*) AS n FROM claim_lines;", false),
    ("SELECT count(*) AS n FROM diagnoses; -- done", false),
    ("FROM patients SELECT patient_id, state WHERE state = 'AZ'", false),
    (
        "SELECT patient_id, extra, extra->>'favorite_color' AS color
         FROM patients WHERE extra IS NOT NULL",
        false,
    ),
    ("SELECT claim_id, other_diagnoses, total_billed, service_date FROM claims", false),
    (
        "SELECT r.i, p.patient_id FROM range(3) r(i) JOIN patients p ON p.patient_id = 'p' || r.i",
        false,
    ),
    (
        "SELECT g.d, count(c.claim_id) AS n
         FROM generate_series(DATE '2023-01-01', DATE '2023-03-01', INTERVAL 1 MONTH) g(d)
         LEFT JOIN claims c ON date_trunc('month', c.service_date) = g.d GROUP BY g.d",
        false,
    ),
    ("SELECT unnest(['a', 'b']) AS x, 1 AS y", false),
    ("SELECT count(*) AS n FROM PATIENTS", false),
    ("SELECT count(*) AS n FROM \"Patients\"", false),
    (
        "SELECT * FROM (WITH x AS (SELECT * FROM claims) SELECT claim_id FROM x) sub",
        false,
    ),
    (
        "WITH a AS (SELECT patient_id FROM patients)
         SELECT * FROM a UNION SELECT patient_id FROM claims",
        false,
    ),
    (
        "SELECT patient_id, encounter_id FROM encounters
         QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY start_datetime) = 1",
        false,
    ),
    (
        "SELECT DISTINCT ON (patient_id) patient_id, claim_id FROM claims
         ORDER BY patient_id, claim_id",
        true,
    ),
    (
        "WITH x AS MATERIALIZED (SELECT * FROM diagnoses) SELECT code, count(*) AS n FROM x GROUP BY code",
        false,
    ),
    (
        "SELECT (SELECT count(*) FROM patients) AS p, (SELECT count(*) FROM claims) AS c,
                (SELECT sum(paid_amount) FROM claim_lines) AS s",
        false,
    ),
    (
        "SELECT p.patient_id, e.patient_id, e.encounter_id FROM patients p
         JOIN encounters e USING (patient_id)",
        false,
    ),
    (
        "SELECT * FROM (PIVOT patients ON gender IN ('female', 'male') USING count(*) GROUP BY state)",
        false,
    ),
    (
        "SELECT e.encounter_class, count(DISTINCT e.patient_id) AS patients,
                list(DISTINCT d.code ORDER BY d.code) AS codes
         FROM encounters e LEFT JOIN diagnoses d USING (encounter_id) GROUP BY 1",
        false,
    ),
];

#[test]
fn legitimate_queries_see_exactly_the_scenario() {
    let fixture = Fixture::new();
    let mut failures = Vec::new();
    for (sql, ordered) in CASES {
        let expected = fixture.reference_rows(sql);
        let got = fixture.sandbox_rows(sql, 7);
        let (got, expected) = if *ordered {
            (got, expected)
        } else {
            (sorted(got), sorted(expected))
        };
        if got != expected {
            failures.push(format!(
                "{sql}\n  sandbox:   {}\n  reference: {}",
                serde_json::to_string(&got).unwrap_or_default(),
                serde_json::to_string(&expected).unwrap_or_default()
            ));
        }
        assert!(validate_query(&fixture.sandbox, sql).is_ok(), "{sql}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn each_scenario_sees_only_its_own_rows() {
    let fixture = Fixture::new();
    let count = |scenario: &str, sql: &str| {
        let page = run_query(&fixture.sandbox, scenario, sql, &QueryOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        page.results[0]["n"].clone()
    };
    assert_eq!(count(A, "SELECT count(*) AS n FROM patients"), json!(12));
    assert_eq!(count(B, "SELECT count(*) AS n FROM patients"), json!(15));
    assert_eq!(
        count("no-such-scenario", "SELECT count(*) AS n FROM patients"),
        json!(0)
    );
    // The same ids exist in both scenarios; a join must not pair A's claims with B's lines.
    let join = "SELECT count(*) AS n FROM claims c JOIN claim_lines l USING (claim_id)
                WHERE c.scenario_id <> l.scenario_id";
    assert_eq!(count(A, join), json!(0));
    let scenarios = "SELECT count(DISTINCT scenario_id) AS n FROM (
        SELECT scenario_id FROM patients UNION ALL SELECT scenario_id FROM encounters
        UNION ALL SELECT scenario_id FROM diagnoses UNION ALL SELECT scenario_id FROM claims
        UNION ALL SELECT scenario_id FROM claim_lines)";
    assert_eq!(count(A, scenarios), json!(1));
    // A scenario id that looks like SQL is only ever a bound value.
    assert_eq!(
        count("x' OR '1'='1", "SELECT count(*) AS n FROM patients"),
        json!(0)
    );
}

#[test]
fn time_travel_clauses_read_the_scenarios_current_rows() {
    // A lake keeps its old snapshots, and `AT (VERSION => n)` on a table reads it as it was
    // (every scenario's rows of that time). In a query the table names are the scenario
    // shadows (CTEs), and DuckDB applies no time travel to a CTE: the clause reads the
    // scenario's current rows, on a lake as on a file.
    let fixture = Fixture::new();
    let expected =
        fixture.reference_rows("SELECT patient_id, given_name FROM patients ORDER BY patient_id");
    for clause in [
        "AT (VERSION => 0)",
        "AT (VERSION => 1)",
        "AT (TIMESTAMP => TIMESTAMP '2000-01-01')",
    ] {
        let sql =
            format!("SELECT patient_id, given_name FROM patients {clause} ORDER BY patient_id");
        assert_eq!(fixture.sandbox_rows(&sql, 100), expected, "{sql}");
        let joined = format!(
            "SELECT count(*) AS n FROM patients {clause} JOIN encounters {clause} \
             USING (patient_id)"
        );
        assert_eq!(
            fixture.sandbox_rows(&joined, 100),
            fixture.reference_rows(
                "SELECT count(*) AS n FROM patients JOIN encounters USING (patient_id)"
            ),
            "{joined}"
        );
    }
}

#[test]
fn values_render_json_friendly() {
    let fixture = Fixture::new();
    let page = fixture.page(
        "SELECT c.claim_id, c.total_billed, c.service_date, c.other_diagnoses, p.extra,
                e.start_datetime, p.birth_date, l.units, l.line_number
         FROM claims c JOIN patients p USING (patient_id) JOIN encounters e USING (encounter_id)
         JOIN claim_lines l USING (claim_id)
         WHERE c.claim_id = 'c0' AND p.extra IS NOT NULL
         ORDER BY l.claim_line_id LIMIT 1",
        20,
        0,
    );
    insta::assert_json_snapshot!(page);
}
