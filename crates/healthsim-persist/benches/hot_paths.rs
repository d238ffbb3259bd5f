//! Criterion micro-benchmarks of the hot paths: entity JSON → typed rows, scenario name
//! generation, and query validation (DuckDB's parser plus the allow-list walk).
//!
//! `cargo bench -p healthsim-persist --bench hot_paths`; end-to-end figures come from
//! `cargo xtask bench`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use healthsim_persist::{convert, query::validate_query};
use serde_json::{json, Value};

fn patients(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "patient_id": format!("pat-{i:06}"),
                "given_name": "Maria", "family_name": "Lopez",
                "birth_date": "1951-04-12", "gender": "female", "race": "White",
                "address": "12 Main St", "city": "Phoenix", "state": "AZ", "postal_code": "85004",
                "county_fips": "04013", "mrn": format!("MRN{i:08}"),
            })
        })
        .collect()
}

fn camel_case_patients(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "id": format!("pat-{i:06}"),
                "name": {"given": ["Maria"], "family": "Lopez"},
                "birthDate": "1951-04-12", "gender": "female",
                "address": {"line": ["12 Main St"], "city": "Phoenix", "state": "AZ", "postalCode": "85004"},
                "favoriteColor": "teal",
            })
        })
        .collect()
}

fn claims(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "claim_id": format!("clm-{i:06}"), "member_id": format!("mem-{i:06}"),
                "claim_type": "professional", "status": "paid",
                "service_date": "2024-03-05", "principal_diagnosis": "E11.9",
                "total_billed": 180.0, "total_allowed": "120.50", "total_paid": 96.4, "total_patient_resp": 24.1,
            })
        })
        .collect()
}

fn conversion(c: &mut Criterion) {
    let mut group = c.benchmark_group("convert");
    for (label, table, entities) in [
        ("patients canonical", "patients", patients(1_000)),
        (
            "patients camelCase+nested",
            "patients",
            camel_case_patients(1_000),
        ),
        ("claims with money", "claims", claims(1_000)),
    ] {
        let t = healthsim_schema::entity_type(table).expect("registry type");
        group.throughput(Throughput::Elements(entities.len() as u64));
        group.bench_function(label, |b| {
            let mut n = 0u64;
            b.iter(|| {
                convert(t, &entities, &mut || {
                    n += 1;
                    n.to_string()
                })
                .expect("valid entities")
            })
        });
    }
    group.finish();
}

fn naming(c: &mut Criterion) {
    let date = chrono::NaiveDate::from_ymd_opt(2024, 12, 26).expect("date");
    let taken: std::collections::HashSet<String> = (1..20)
        .map(|i| {
            if i == 1 {
                "diabetic-medicare-members-20241226".to_string()
            } else {
                format!("diabetic-medicare-members-20241226-{i}")
            }
        })
        .collect();
    c.bench_function("generate_name (19 taken)", |b| {
        b.iter(|| {
            let request = healthsim_naming::NameRequest {
                context: Some(
                    "Generate 500 diabetic Medicare members in Maricopa County with their claims",
                ),
                entity_type: Some("member"),
                ..healthsim_naming::NameRequest::new(date)
            };
            healthsim_naming::generate_name(&request, |n| taken.contains(n)).expect("a name")
        })
    });
}

fn query_validation(c: &mut Criterion) {
    let conn = healthsim_schema::duckdb::Connection::open_in_memory().expect("database");
    healthsim_schema::migrate(&conn).expect("migrate");
    let mut group = c.benchmark_group("validate_query");
    for (label, sql) in [
        ("filter", "SELECT * FROM claims WHERE total_billed > 10000 ORDER BY service_date"),
        (
            "3-table join with CTE",
            "WITH dm AS (SELECT DISTINCT patient_id FROM diagnoses WHERE code LIKE 'E11%') \
             SELECT p.patient_id, count(e.encounter_id) AS visits, sum(c.total_paid) AS paid \
             FROM patients p JOIN dm USING (patient_id) JOIN encounters e ON e.patient_id = p.patient_id \
             LEFT JOIN claims c ON c.encounter_id = e.encounter_id GROUP BY 1 ORDER BY paid DESC",
        ),
    ] {
        group.bench_function(label, |b| {
            b.iter_batched(|| sql, |sql| validate_query(&conn, sql).expect("valid"), BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group!(benches, conversion, naming, query_validation);
criterion_main!(benches);
