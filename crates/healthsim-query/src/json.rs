//! DuckDB's syntax tree as JSON: a depth-bounded reader, structural equality that ignores
//! source positions, and two accessors the other stages share.
//!
//! `json_serialize_sql` can return trees far deeper than `serde_json`'s recursive parser accepts
//! (it stops at 128 levels), and a recursive reader or comparison would let a query choose how
//! deep our call stack goes. Everything here is iterative and bounded by
//! [`MAX_AST_DEPTH`](crate::MAX_AST_DEPTH).

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use crate::error::{malformed_ast, Error};
use crate::limits::MAX_AST_DEPTH;

/// The `type` of a syntax-tree node (`SELECT_NODE`, `BASE_TABLE`, ...).
pub(crate) fn type_of(value: &Json) -> Option<&str> {
    value.get("type").and_then(Json::as_str)
}

/// A text field of a node, or `""` when it is missing or not text.
pub(crate) fn str_field<'a>(object: &'a Map<String, Json>, key: &str) -> &'a str {
    object.get(key).and_then(Json::as_str).unwrap_or("")
}

/// Parses JSON iteratively, refusing nesting deeper than `max_depth` (serde_json's own parser
/// recurses and stops at 128 levels, too shallow for honest SQL).
pub(crate) fn parse_json_bounded(text: &str, max_depth: usize) -> Result<Json, Error> {
    enum Frame {
        Array(Vec<Json>),
        Object(Map<String, Json>, String),
    }
    let invalid = || malformed_ast("invalid JSON from the parser");
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let skip_ws = |pos: &mut usize| {
        while bytes.get(*pos).is_some_and(u8::is_ascii_whitespace) {
            *pos += 1;
        }
    };
    let read_string = |pos: &mut usize| -> Result<String, Error> {
        let start = *pos;
        if bytes.get(start) != Some(&b'"') {
            return Err(invalid());
        }
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
                None => return Err(invalid()),
            }
        }
        *pos = i + 1;
        let slice = text.get(start..=i).ok_or_else(invalid)?;
        serde_json::from_str(slice).map_err(|_| invalid())
    };
    let read_key = |pos: &mut usize| -> Result<String, Error> {
        skip_ws(pos);
        let key = read_string(pos)?;
        skip_ws(pos);
        if bytes.get(*pos) != Some(&b':') {
            return Err(invalid());
        }
        *pos += 1;
        Ok(key)
    };
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        skip_ws(&mut pos);
        let mut value = match bytes.get(pos) {
            Some(b'{') | Some(b'[') if stack.len() >= max_depth => {
                return Err(Error::TooDeep { max: MAX_AST_DEPTH })
            }
            Some(b'{') => {
                pos += 1;
                skip_ws(&mut pos);
                if bytes.get(pos) == Some(&b'}') {
                    pos += 1;
                    Json::Object(Map::new())
                } else {
                    let key = read_key(&mut pos)?;
                    stack.push(Frame::Object(Map::new(), key));
                    continue;
                }
            }
            Some(b'[') => {
                pos += 1;
                skip_ws(&mut pos);
                if bytes.get(pos) == Some(&b']') {
                    pos += 1;
                    Json::Array(Vec::new())
                } else {
                    stack.push(Frame::Array(Vec::new()));
                    continue;
                }
            }
            Some(b'"') => Json::String(read_string(&mut pos)?),
            Some(_) => {
                let start = pos;
                while bytes
                    .get(pos)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
                {
                    pos += 1;
                }
                let token = text.get(start..pos).ok_or_else(invalid)?;
                serde_json::from_str(token).map_err(|_| invalid())?
            }
            None => return Err(invalid()),
        };
        // Attach the finished value to its parent; close parents as their brackets arrive.
        loop {
            skip_ws(&mut pos);
            match stack.last_mut() {
                None => {
                    return if pos == bytes.len() {
                        Ok(value)
                    } else {
                        Err(invalid())
                    }
                }
                Some(Frame::Array(items)) => {
                    items.push(value);
                    match bytes.get(pos) {
                        Some(b',') => {
                            pos += 1;
                            break;
                        }
                        Some(b']') => {
                            pos += 1;
                            value = match stack.pop() {
                                Some(Frame::Array(items)) => Json::Array(items),
                                _ => return Err(invalid()),
                            };
                        }
                        _ => return Err(invalid()),
                    }
                }
                Some(Frame::Object(map, key)) => {
                    map.insert(std::mem::take(key), value);
                    match bytes.get(pos) {
                        Some(b',') => {
                            pos += 1;
                            *key = read_key(&mut pos)?;
                            break;
                        }
                        Some(b'}') => {
                            pos += 1;
                            value = match stack.pop() {
                                Some(Frame::Object(map, _)) => Json::Object(map),
                                _ => return Err(invalid()),
                            };
                        }
                        _ => return Err(invalid()),
                    }
                }
            }
        }
    }
}

/// Structural equality of two ASTs, ignoring source positions (`query_location`); iterative.
pub(crate) fn ast_eq(a: &Json, b: &Json) -> bool {
    let mut pending = vec![(a, b)];
    while let Some((a, b)) = pending.pop() {
        match (a, b) {
            (Json::Array(x), Json::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                pending.extend(x.iter().zip(y));
            }
            (Json::Object(x), Json::Object(y)) => {
                let keys = |m: &Map<String, Json>| {
                    m.keys()
                        .filter(|k| *k != "query_location")
                        .cloned()
                        .collect::<BTreeSet<_>>()
                };
                if keys(x) != keys(y) {
                    return false;
                }
                for (key, value) in x {
                    if key == "query_location" {
                        continue;
                    }
                    match y.get(key) {
                        Some(other) => pending.push((value, other)),
                        None => return false,
                    }
                }
            }
            (x, y) => {
                if x != y {
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_json_parser_matches_serde_json() {
        for text in [
            r#"{"a":[1,2.5,-3e2,true,false,null,"x\"y\u00e9"],"b":{},"c":[],"d":18446744073709551615}"#,
            r#" [ { "k" : "v" } , [ ] ] "#,
            r#""only a string""#,
            "42",
        ] {
            let expected: Json = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(parse_json_bounded(text, 10).ok(), Some(expected), "{text}");
        }
        for text in ["", "{", r#"{"a" 1}"#, "[1,]", "[1 2]", r#"{"a":1}x"#, "nul"] {
            assert!(
                parse_json_bounded(text, 10).is_err(),
                "{text:?} should fail"
            );
        }
        let deep = format!("{}{}", "[".repeat(50), "]".repeat(50));
        assert!(parse_json_bounded(&deep, 50).is_ok());
        assert!(matches!(
            parse_json_bounded(&deep, 49),
            Err(Error::TooDeep { .. })
        ));
    }

    #[test]
    fn ast_equality_ignores_positions() {
        let a = serde_json::json!({"x": [{"query_location": 1, "v": 2}]});
        let b = serde_json::json!({"x": [{"query_location": 9, "v": 2}]});
        let c = serde_json::json!({"x": [{"query_location": 1, "v": 3}]});
        assert!(ast_eq(&a, &b));
        assert!(!ast_eq(&a, &c));
    }
}
