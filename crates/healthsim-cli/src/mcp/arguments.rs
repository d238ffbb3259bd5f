//! The tools' JSON Schemas as every mainstream client reads them, and arguments checked against
//! them in JSON terms, in one place for every tool.
//!
//! Why: schemars writes what Rust knows (`"type": ["integer", "null"]` for an `Option`,
//! `"format": "uint64"`), which some clients' validators reject or turn into odd forms, and
//! serde's errors name Rust types ("expected usize") that mean nothing to an agent. So:
//!
//! - [`input_schema`]: an optional argument has its plain type (absent means its default, which
//!   the schema declares where there is one), and only standard formats are left
//!   ([`output_schema`] strips the others from the results' schemas too);
//! - [`check`]: the arguments against that schema before serde sees them: unknown and missing
//!   arguments, types and ranges, enum values, each refused with a message naming the argument
//!   and what JSON it takes. The schema's `minimum`/`maximum` are therefore exactly what the
//!   server enforces.
//! - The leniency is one rule for every tool: a string where a number, a boolean, a list or an
//!   object is expected is read as what it says ("5", "true", a JSON text); a list of names may
//!   be one comma-separated string ("a,b"); a list of paths may be one path; `null` is the same
//!   as leaving an optional argument out.

use std::collections::BTreeSet;

use rmcp::model::JsonObject;
use serde_json::{Map, Number, Value as Json};

/// The formats JSON Schema 2020-12 defines; any other (`uint`, `uint64`, `double`, ...) is
/// removed from the schemas.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// List arguments whose one-string form is one item, not a comma-separated list (a path may
/// contain a comma).
const WHOLE_STRING_LISTS: &[&str] = &["paths"];

/// A tool's input schema, from schemars' schema of its parameters.
pub(crate) fn input_schema(mut schema: JsonObject) -> JsonObject {
    // The type's own title and doc are noise to the model; the tool's description says it.
    schema.remove("title");
    schema.remove("description");
    drop_null_alternatives(&mut schema);
    // The same for the properties of nested parameter objects (e.g. `provenance`).
    if let Some(Json::Object(definitions)) = schema.get_mut("$defs") {
        for definition in definitions.values_mut() {
            if let Json::Object(definition) = definition {
                drop_null_alternatives(definition);
            }
        }
    }
    let mut schema = Json::Object(schema);
    clean(&mut schema);
    match schema {
        Json::Object(object) => object,
        _ => JsonObject::new(),
    }
}

/// A tool's output schema: schemars' schema with only standard formats.
pub(crate) fn output_schema(schema: JsonObject) -> JsonObject {
    let mut schema = Json::Object(schema);
    clean(&mut schema);
    match schema {
        Json::Object(object) => object,
        _ => JsonObject::new(),
    }
}

/// [`drop_null_alternative`] for every property of an object schema.
fn drop_null_alternatives(schema: &mut Map<String, Json>) {
    if let Some(Json::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Json::Object(property) = property {
                drop_null_alternative(property);
            }
        }
    }
}

/// `"type": ["integer", "null"]` becomes `"type": "integer"`; `"anyOf": [X, {"type": "null"}]`
/// becomes X (with the property's own description and default).
fn drop_null_alternative(property: &mut Map<String, Json>) {
    if let Some(Json::Array(types)) = property.get("type") {
        let kept: Vec<Json> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        let kept = match <[Json; 1]>::try_from(kept) {
            Ok([one]) => one,
            Err(many) => Json::Array(many),
        };
        property.insert("type".into(), kept);
    }
    let alternatives = match property.get("anyOf") {
        Some(Json::Array(alternatives)) => alternatives.clone(),
        _ => return,
    };
    let mut kept: Vec<Json> = alternatives
        .into_iter()
        .filter(|a| a.get("type").and_then(Json::as_str) != Some("null"))
        .collect();
    if kept.len() == 1 {
        property.remove("anyOf");
        if let Some(Json::Object(only)) = kept.pop() {
            for (key, value) in only {
                property.entry(key).or_insert(value);
            }
        }
    } else {
        property.insert("anyOf".into(), Json::Array(kept));
    }
}

/// Removes non-standard formats and joins descriptions wrapped over several source lines.
fn clean(value: &mut Json) {
    match value {
        Json::Object(map) => {
            if map
                .get("format")
                .and_then(Json::as_str)
                .is_some_and(|f| !STANDARD_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            for (key, inner) in map.iter_mut() {
                match inner {
                    Json::String(text) if key == "description" => {
                        *text = text.replace('\n', " ");
                    }
                    other => clean(other),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(clean),
        _ => {}
    }
}

/// The arguments of a call to `tool`, checked against its (normalized) input `schema` and
/// made to match it as the module's leniency rule says; or the message saying what is wrong.
pub(crate) fn check(
    tool: &str,
    schema: &JsonObject,
    arguments: Option<JsonObject>,
) -> Result<JsonObject, String> {
    let wrong = |message: String| format!("invalid arguments for {tool}: {message}");
    let empty = Map::new();
    let properties = match schema.get("properties") {
        Some(Json::Object(p)) => p,
        _ => &empty,
    };
    let names = || {
        properties
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut checked = JsonObject::new();
    for (name, value) in arguments.unwrap_or_default() {
        let Some(property) = properties.get(&name) else {
            return Err(wrong(format!(
                "unknown argument '{name}' (the arguments are: {})",
                names()
            )));
        };
        if value.is_null() {
            continue; // the same as leaving it out; a required one is reported below
        }
        let property = resolve(property, schema);
        let value = coerce(&name, value, &property, schema).map_err(wrong)?;
        checked.insert(name, value);
    }
    if let Some(Json::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Json::as_str) {
            if !checked.contains_key(name) {
                return Err(wrong(format!("missing argument '{name}'")));
            }
        }
    }
    Ok(checked)
}

/// The property's schema with a `$ref` to `$defs` followed (the property's own keywords win).
fn resolve(property: &Json, schema: &JsonObject) -> Map<String, Json> {
    let mut own = property.as_object().cloned().unwrap_or_default();
    let target = own
        .get("$ref")
        .and_then(Json::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| schema.get("$defs")?.get(name))
        .and_then(Json::as_object)
        .cloned();
    if let Some(target) = target {
        own.remove("$ref");
        for (key, value) in target {
            own.entry(key).or_insert(value);
        }
    }
    own
}

/// The JSON type a schema asks for, when it asks for one.
fn expected_type(schema: &Map<String, Json>) -> Option<&str> {
    if let Some(t) = schema.get("type").and_then(Json::as_str) {
        return Some(t);
    }
    // An enum of string constants (schemars' `oneOf` of `const`s).
    let all_strings = |alternatives: &Json| {
        alternatives.as_array().is_some_and(|a| {
            a.iter()
                .all(|x| x.get("type").and_then(Json::as_str) == Some("string"))
        })
    };
    if schema.get("oneOf").is_some_and(all_strings) || schema.get("enum").is_some() {
        return Some("string");
    }
    None
}

/// The values an enum allows, when the schema is one.
fn allowed_values(schema: &Map<String, Json>) -> Option<Vec<String>> {
    if let Some(Json::Array(values)) = schema.get("enum") {
        return Some(
            values
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect(),
        );
    }
    let alternatives = schema.get("oneOf")?.as_array()?;
    alternatives
        .iter()
        .map(|a| a.get("const").and_then(Json::as_str).map(str::to_string))
        .collect()
}

/// How a value is named in a message: its JSON type and a short form of it.
fn describe(value: &Json) -> String {
    let kind = healthsim_schema::text::json_kind(value);
    let mut text = value.to_string();
    if text.chars().count() > 40 {
        text = text.chars().take(40).collect::<String>() + "…";
    }
    format!("{kind} {text}")
}

/// `value` as the JSON type `schema` asks for, or why it cannot be.
fn coerce(
    name: &str,
    value: Json,
    schema: &Map<String, Json>,
    root: &JsonObject,
) -> Result<Json, String> {
    let Some(kind) = expected_type(schema) else {
        // A composite shape (persist's entities): a JSON text is read as what it encodes; the
        // tool checks the shape with its own precise messages.
        return Ok(decode_json_text(value));
    };
    match kind {
        "integer" => {
            let number = match &value {
                Json::Number(n) => integer_of(n),
                Json::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(number) = number else {
                return Err(format!(
                    "{name} must be an integer, got {}",
                    describe(&value)
                ));
            };
            check_range(name, number, schema)?;
            Ok(Json::from(number))
        }
        "number" => {
            let number = match &value {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
                _ => None,
            };
            number
                .and_then(Number::from_f64)
                .map(Json::Number)
                .ok_or_else(|| format!("{name} must be a number, got {}", describe(&value)))
        }
        "boolean" => match &value {
            Json::Bool(_) => Ok(value),
            Json::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Json::Bool(true)),
            Json::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Json::Bool(false)),
            _ => Err(format!(
                "{name} must be true or false, got {}",
                describe(&value)
            )),
        },
        "string" => {
            let Json::String(text) = &value else {
                return Err(format!("{name} must be a string, got {}", describe(&value)));
            };
            if let Some(allowed) = allowed_values(schema) {
                if !allowed.iter().any(|a| a == text) {
                    return Err(format!(
                        "{name} must be one of {}, got {}",
                        allowed.join(", "),
                        describe(&value)
                    ));
                }
            }
            Ok(value)
        }
        "array" => {
            let items = match decode_json_text(value) {
                Json::Array(items) => items,
                Json::String(text) if WHOLE_STRING_LISTS.contains(&name) => {
                    vec![Json::String(text)]
                }
                Json::String(text) => text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Json::String(s.to_string()))
                    .collect(),
                other => {
                    return Err(format!("{name} must be a list, got {}", describe(&other)));
                }
            };
            let count = items.len();
            let at_least = schema.get("minItems").and_then(Json::as_u64);
            let at_most = schema.get("maxItems").and_then(Json::as_u64);
            let count_u64 = u64::try_from(count).unwrap_or(u64::MAX);
            if at_least.is_some_and(|m| count_u64 < m) || at_most.is_some_and(|m| count_u64 > m) {
                let range = match (at_least, at_most) {
                    (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
                    (Some(lo), None) => format!("at least {lo}"),
                    (None, Some(hi)) => format!("at most {hi}"),
                    (None, None) => String::new(),
                };
                return Err(format!("{name} must have {range} items, got {count}"));
            }
            let item_schema = schema
                .get("items")
                .map(|i| resolve(i, root))
                .unwrap_or_default();
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| coerce(&format!("{name}[{i}]"), item, &item_schema, root))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array)
        }
        "object" => match decode_json_text(value) {
            object @ Json::Object(_) => Ok(object),
            other => Err(format!(
                "{name} must be an object, got {}",
                describe(&other)
            )),
        },
        _ => Ok(value),
    }
}

/// A whole number, also written as `5.0`.
fn integer_of(n: &Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// The schema's `minimum` and `maximum`, enforced.
fn check_range(name: &str, number: i64, schema: &Map<String, Json>) -> Result<(), String> {
    let minimum = schema.get("minimum").and_then(Json::as_i64);
    let maximum = schema.get("maximum").and_then(Json::as_i64);
    let outside = minimum.is_some_and(|m| number < m) || maximum.is_some_and(|m| number > m);
    if !outside {
        return Ok(());
    }
    Err(match (minimum, maximum) {
        (Some(lo), Some(hi)) => format!("{name} must be between {lo} and {hi}, got {number}"),
        (Some(lo), None) => format!("{name} must be at least {lo}, got {number}"),
        (None, Some(hi)) => format!("{name} must be at most {hi}, got {number}"),
        (None, None) => format!("{name} is out of range, got {number}"),
    })
}

/// A string holding a JSON list or object, as that list or object; anything else as it is.
fn decode_json_text(value: Json) -> Json {
    match &value {
        Json::String(text) if text.trim_start().starts_with(['[', '{']) => {
            serde_json::from_str::<Json>(text).unwrap_or(value)
        }
        _ => value,
    }
}

/// A serde error in JSON terms: Rust's type names replaced by what JSON they take (checked
/// arguments rarely reach serde with a wrong type; this is for what the schema cannot say).
pub(crate) fn json_terms(message: &str) -> String {
    const RUST_TERMS: &[(&str, &str)] = &[
        ("usize", "a non-negative integer"),
        ("u64", "a non-negative integer"),
        ("u32", "a non-negative integer"),
        ("u16", "a non-negative integer"),
        ("u8", "a non-negative integer"),
        ("i64", "an integer"),
        ("i32", "an integer"),
        ("f64", "a number"),
        ("f32", "a number"),
        ("a sequence", "a list"),
        ("a map", "an object"),
    ];
    let mut text = message.to_string();
    for (rust, json) in RUST_TERMS {
        text = text.replace(&format!("expected {rust}"), &format!("expected {json}"));
    }
    // `expected struct ListParams` and the like.
    if let Some(at) = text.find("expected struct ") {
        let rest = &text[at + "expected struct ".len()..];
        let end = rest
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        text = format!("{}expected an object{}", &text[..at], &rest[end..]);
    }
    text
}

/// The argument names of a schema (for tests and documentation).
pub fn argument_names(schema: &JsonObject) -> BTreeSet<String> {
    schema
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Json) -> JsonObject {
        value.as_object().cloned().unwrap_or_default()
    }

    fn schema() -> JsonObject {
        input_schema(object(json!({
            "title": "P",
            "type": "object",
            "required": ["id"],
            "additionalProperties": false,
            "$defs": {"Format": {"oneOf": [
                {"type": "string", "const": "json"}, {"type": "string", "const": "csv"}]}},
            "properties": {
                "id": {"type": "string"},
                "limit": {"type": ["integer", "null"], "format": "uint64", "minimum": 1, "maximum": 100},
                "flag": {"type": ["boolean", "null"]},
                "format": {"anyOf": [{"$ref": "#/$defs/Format"}, {"type": "null"}], "description": "d"},
                "tags": {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 3},
                "paths": {"type": "array", "items": {"type": "string"}},
                "entities": {"anyOf": [{"type": "array"}, {"type": "object"}]}
            }
        })))
    }

    fn check_ok(args: Json, expected: Json) {
        assert_eq!(
            check("t", &schema(), Some(object(args.clone()))).map(Json::Object),
            Ok(expected),
            "{args}"
        );
    }

    fn check_err(args: Json, expected: &str) {
        assert_eq!(
            check("t", &schema(), Some(object(args.clone()))),
            Err(format!("invalid arguments for t: {expected}")),
            "{args}"
        );
    }

    #[test]
    fn schemas_have_plain_types_and_standard_formats() {
        let s = schema();
        assert_eq!(s.get("title"), None);
        assert_eq!(
            s["properties"]["limit"],
            json!({"type": "integer", "minimum": 1, "maximum": 100})
        );
        assert_eq!(
            s["properties"]["format"],
            json!({"$ref": "#/$defs/Format", "description": "d"})
        );
        let out = output_schema(object(
            json!({"properties": {"n": {"type": "integer", "format": "uint"},
                    "at": {"type": "string", "format": "date-time"}}}),
        ));
        assert_eq!(out["properties"]["n"], json!({"type": "integer"}));
        assert_eq!(out["properties"]["at"]["format"], "date-time");
    }

    #[test]
    fn lenient_forms_are_read_as_what_they_say() {
        check_ok(
            json!({"id": "a", "limit": "5", "flag": "true", "tags": "x, y"}),
            json!({"id": "a", "limit": 5, "flag": true, "tags": ["x", "y"]}),
        );
        check_ok(
            json!({"id": "a", "limit": 5.0, "tags": "[\"x,y\"]", "paths": "/a,b"}),
            json!({"id": "a", "limit": 5, "tags": ["x,y"], "paths": ["/a,b"]}),
        );
        check_ok(
            json!({"id": "a", "limit": null, "entities": "[{\"k\": 1}]"}),
            json!({"id": "a", "entities": [{"k": 1}]}),
        );
        check_ok(
            json!({"id": "a", "format": "csv"}),
            json!({"id": "a", "format": "csv"}),
        );
    }

    #[test]
    fn wrong_arguments_are_named_in_json_terms() {
        check_err(json!({}), "missing argument 'id'");
        check_err(json!({"id": null}), "missing argument 'id'");
        check_err(
            json!({"id": "a", "x": 1}),
            "unknown argument 'x' (the arguments are: id, limit, flag, format, tags, paths, entities)",
        );
        check_err(
            json!({"id": "a", "limit": "five"}),
            "limit must be an integer, got a string \"five\"",
        );
        check_err(
            json!({"id": "a", "limit": 0}),
            "limit must be between 1 and 100, got 0",
        );
        check_err(
            json!({"id": "a", "limit": 2.5}),
            "limit must be an integer, got a number 2.5",
        );
        check_err(
            json!({"id": "a", "flag": "yes"}),
            "flag must be true or false, got a string \"yes\"",
        );
        check_err(json!({"id": 5}), "id must be a string, got a number 5");
        check_err(
            json!({"id": "a", "format": "xml"}),
            "format must be one of json, csv, got a string \"xml\"",
        );
        check_err(
            json!({"id": "a", "tags": [1]}),
            "tags[0] must be a string, got a number 1",
        );
        check_err(
            json!({"id": "a", "tags": "a,b,c,d"}),
            "tags must have at most 3 items, got 4",
        );
        check_err(
            json!({"id": "a", "tags": {"a": 1}}),
            "tags must be a list, got an object {\"a\":1}",
        );
    }

    #[test]
    fn serde_messages_lose_rust_type_names() {
        assert_eq!(
            json_terms("invalid type: string \"5\", expected usize"),
            "invalid type: string \"5\", expected a non-negative integer"
        );
        assert_eq!(
            json_terms("invalid type: integer `3`, expected struct ListParams"),
            "invalid type: integer `3`, expected an object"
        );
    }
}
