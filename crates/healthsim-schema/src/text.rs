//! Small text helpers that every crate above needs the same way: cutting text to a number of
//! characters (never inside a UTF-8 sequence), naming a JSON value's kind in an error message,
//! and a DuckDB value as display text. One home, so the crates cannot drift apart.

use duckdb::types::Value;
use serde_json::Value as Json;

/// The first `max_chars` characters of `text`, or `None` when `text` is no longer than that.
/// Callers add their own marker (`…` for an agent, `...` in an error message).
pub fn cut_chars(text: &str, max_chars: usize) -> Option<&str> {
    text.char_indices()
        .nth(max_chars)
        .map(|(end, _)| &text[..end])
}

/// How an error message names what came instead of the expected JSON: `null`, `a boolean`,
/// `a number`, `a string`, `a list` or `an object`.
pub fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// A DuckDB value as text: a string as it is, anything else as its JSON rendering
/// ([`crate::value::to_json`]), so a timestamp reads as ISO 8601.
pub fn display_text(value: &Value) -> String {
    match crate::value::to_json(value) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_cut(text: &str, max: usize, expected: Option<&str>) {
        assert_eq!(cut_chars(text, max), expected, "cut_chars({text:?}, {max})");
    }

    #[test]
    fn cuts_by_characters_not_bytes() {
        check_cut("abc", 3, None);
        check_cut("abc", 5, None);
        check_cut("abcd", 3, Some("abc"));
        check_cut("ÄÖÜß", 2, Some("ÄÖ"));
        check_cut("日本語テキスト", 3, Some("日本語"));
        check_cut("", 0, None);
        check_cut("a", 0, Some(""));
    }

    #[test]
    fn names_json_kinds() {
        for (value, kind) in [
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(1.5), "a number"),
            (json!("x"), "a string"),
            (json!([1]), "a list"),
            (json!({"a": 1}), "an object"),
        ] {
            assert_eq!(json_kind(&value), kind, "{value}");
        }
    }

    #[test]
    fn renders_values_as_display_text() {
        assert_eq!(display_text(&Value::Text("plain".into())), "plain");
        assert_eq!(display_text(&Value::BigInt(42)), "42");
        assert_eq!(display_text(&Value::Null), "null");
    }
}
