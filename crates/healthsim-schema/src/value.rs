//! JSON rendering of DuckDB values, shared by every crate that hands data to an agent.
//!
//! Dates become `YYYY-MM-DD`, timestamps ISO 8601 in UTC with a `Z` (TIMESTAMP columns hold UTC),
//! DECIMAL money becomes a JSON number, JSON columns become JSON, lists and structs nest.

use chrono::{DateTime, NaiveDate};
use duckdb::types::{TimeUnit, Value};
use serde_json::Value as Json;

/// Renders one DuckDB value as JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::TinyInt(i) => Json::from(*i),
        Value::SmallInt(i) => Json::from(*i),
        Value::Int(i) => Json::from(*i),
        Value::BigInt(i) => Json::from(*i),
        Value::UTinyInt(i) => Json::from(*i),
        Value::USmallInt(i) => Json::from(*i),
        Value::UInt(i) => Json::from(*i),
        Value::UBigInt(i) => Json::from(*i),
        Value::HugeInt(i) => {
            i64::try_from(*i).map_or_else(|_| Json::String(i.to_string()), Json::from)
        }
        Value::UHugeInt(i) => {
            u64::try_from(*i).map_or_else(|_| Json::String(i.to_string()), Json::from)
        }
        Value::Float(f) => float(f64::from(*f)),
        Value::Double(f) => float(*f),
        Value::Decimal(d) => {
            let text = d.to_string();
            text.parse::<f64>().map_or(Json::String(text), float)
        }
        Value::Timestamp(unit, v) => Json::String(timestamp_iso(*unit, *v)),
        Value::Text(s) | Value::Enum(s) => Json::String(s.clone()),
        Value::Blob(b) | Value::Geometry(b) => Json::String(format!("<{} bytes>", b.len())),
        Value::Date32(days) => Json::String(date_iso(*days)),
        Value::Time64(unit, v) => Json::String(time_iso(*unit, *v)),
        Value::Interval {
            months,
            days,
            nanos,
        } => Json::String(format!(
            "{months} months {days} days {} seconds",
            *nanos as f64 / 1e9
        )),
        Value::List(items) | Value::Array(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Value::Struct(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match to_json(k) {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Value::Union(inner) => to_json(inner),
        other => Json::String(format!("{other:?}")),
    }
}

/// Parses the text of a JSON column; text that is not valid JSON is returned as a string.
pub fn json_column(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string()))
}

fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

fn to_micros(unit: TimeUnit, v: i64) -> i64 {
    match unit {
        TimeUnit::Second => v.saturating_mul(1_000_000),
        TimeUnit::Millisecond => v.saturating_mul(1_000),
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v / 1_000,
    }
}

/// `YYYY-MM-DD` for days since 1970-01-01.
pub fn date_iso(days: i32) -> String {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .map_or_else(
            || format!("{days} days since 1970-01-01"),
            |d| d.format("%Y-%m-%d").to_string(),
        )
}

/// ISO 8601 UTC timestamp (`2024-03-01T08:30:00Z`, fractional seconds only when present).
pub fn timestamp_iso(unit: TimeUnit, v: i64) -> String {
    let micros = to_micros(unit, v);
    match DateTime::from_timestamp_micros(micros) {
        Some(t) if micros % 1_000_000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => format!("{micros} microseconds since 1970-01-01"),
    }
}

fn time_iso(unit: TimeUnit, v: i64) -> String {
    let micros = to_micros(unit, v);
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if frac == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{frac:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duckdb::Connection;

    fn check(sql_expr: &str, expected: Json) {
        let conn = Connection::open_in_memory().expect("in-memory database");
        let v: Value = conn
            .query_row(&format!("SELECT {sql_expr}"), [], |r| r.get(0))
            .expect("query");
        assert_eq!(to_json(&v), expected, "rendering {sql_expr}");
    }

    #[test]
    fn renders_values_json_friendly() {
        use serde_json::json;
        check("NULL", Json::Null);
        check("true", json!(true));
        check("42::BIGINT", json!(42));
        check("1.5::DOUBLE", json!(1.5));
        check("1234.56::DECIMAL(18,2)", json!(1234.56));
        check("-0.05::DECIMAL(18,2)", json!(-0.05));
        check("DATE '2024-02-29'", json!("2024-02-29"));
        check("DATE '1931-07-04'", json!("1931-07-04"));
        check(
            "TIMESTAMP '2024-03-01 08:30:00'",
            json!("2024-03-01T08:30:00Z"),
        );
        check(
            "TIMESTAMP '2024-03-01 08:30:00.25'",
            json!("2024-03-01T08:30:00.250000Z"),
        );
        check("'text'", json!("text"));
        check("[1, 2]", json!([1, 2]));
        check("{'a': 1, 'b': 'x'}", json!({"a": 1, "b": "x"}));
        check("TIME '13:05:09'", json!("13:05:09"));
        check("'nan'::DOUBLE", Json::Null);
    }

    #[test]
    fn json_column_parses_or_keeps_text() {
        assert_eq!(json_column("{\"a\":[1]}"), serde_json::json!({"a": [1]}));
        assert_eq!(json_column("not json"), serde_json::json!("not json"));
    }
}
