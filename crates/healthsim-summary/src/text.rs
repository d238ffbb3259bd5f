//! Compacting values for the agent: truncated strings and short numbers.

use serde_json::Value as Json;

/// Marks text that was cut short.
pub(crate) const ELLIPSIS: char = '…';

/// `text` cut to at most `max_chars` characters plus an ellipsis when it was longer.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match healthsim_schema::text::cut_chars(text, max_chars) {
        None => text.to_string(),
        Some(head) => {
            let mut short = head.trim_end().to_string();
            short.push(ELLIPSIS);
            short
        }
    }
}

/// A JSON value made compact: long strings truncated, and arrays or objects whose compact form
/// is longer than `max_chars` replaced by their truncated text (numbers and booleans stay).
pub(crate) fn compact_value(value: &Json, max_chars: usize) -> Json {
    match value {
        Json::String(s) => Json::String(truncate(s, max_chars)),
        Json::Array(_) | Json::Object(_) => {
            let text = value.to_string();
            if text.chars().count() > max_chars {
                Json::String(truncate(&text, max_chars))
            } else {
                value.clone()
            }
        }
        other => other.clone(),
    }
}

/// A number as JSON, rounded to `decimals`, written as an integer when it is whole (`45`, not `45.0`).
pub(crate) fn number(value: f64, decimals: i32) -> Json {
    let factor = 10f64.powi(decimals);
    let rounded = (value * factor).round() / factor;
    if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
        // Whole and exactly representable: an integer reads shorter.
        Json::from(rounded as i64)
    } else {
        serde_json::Number::from_f64(rounded).map_or(Json::Null, Json::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_truncate(text: &str, max: usize, expected: &str) {
        assert_eq!(truncate(text, max), expected, "truncate({text:?}, {max})");
    }

    #[test]
    fn truncates_by_characters() {
        check_truncate("", 3, "");
        check_truncate("abc", 3, "abc");
        check_truncate("abcd", 3, "abc…");
        check_truncate("ab cd", 3, "ab…");
        check_truncate("éèêë", 2, "éè…");
        check_truncate("日本語テキスト", 3, "日本語…");
    }

    fn check_compact(value: Json, max: usize, expected: Json) {
        assert_eq!(
            compact_value(&value, max),
            expected,
            "compact({value}, {max})"
        );
    }

    #[test]
    fn compacts_values() {
        check_compact(json!("abcdef"), 3, json!("abc…"));
        check_compact(json!(123456789), 3, json!(123456789));
        check_compact(json!(true), 1, json!(true));
        check_compact(json!([1, 2]), 10, json!([1, 2]));
        check_compact(json!([1, 2, 3, 4, 5, 6]), 6, json!("[1,2,3…"));
        check_compact(json!({"a": "b"}), 20, json!({"a": "b"}));
        check_compact(json!({"a": "bbbbbbbbbb"}), 5, json!("{\"a\":…"));
    }

    fn check_number(value: f64, decimals: i32, expected: Json) {
        assert_eq!(
            number(value, decimals),
            expected,
            "number({value}, {decimals})"
        );
    }

    #[test]
    fn numbers_are_short() {
        check_number(45.0, 1, json!(45));
        check_number(45.25, 1, json!(45.3));
        check_number(0.12345, 3, json!(0.123));
        check_number(1234.5, 2, json!(1234.5));
        check_number(-0.004, 2, json!(0));
        check_number(1e20, 2, json!(1e20));
        check_number(f64::NAN, 2, Json::Null);
    }
}
