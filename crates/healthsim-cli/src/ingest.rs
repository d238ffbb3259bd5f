//! Reading `healthsim persist` input as a stream of batches.
//!
//! Accepted formats (detected from the content, not the file name):
//! - a JSON array of entities of one type (`--type` required), streamed element by element;
//! - a JSON object mapping entity type → array (`{"patients": [...], ...}`), streamed;
//! - JSON Lines: one JSON object per line, each either an entity (`--type` required), a typed
//!   envelope `{"type": T, "entity": {...}}` (what the synthetic generator writes), or an object
//!   mapping types to arrays. Blank lines are skipped.
//!
//! Entities are handed to a callback in batches of `batch_size`, with their position in the
//! input (line number, or index in the array) so failures can be reported precisely. Nothing is
//! held in memory beyond one batch, except a single-document object given with `--type` (which is
//! read whole to tell a type map from one entity). A compact document on one line is told from
//! JSON Lines by its length: a first line longer than `FIRST_LINE_LIMIT` (16 MiB, also DuckDB's
//! usual object limit) is streamed as a document rather than parsed whole as a line.
//!
//! The input-shape checks the `persist_entities` tool shares with this reader live here once:
//! `is_type_map` (and uses the shared `json_kind`).

use std::fmt;
use std::io::{BufRead, Read};

use healthsim_synth::{ENVELOPE_ENTITY_KEY, ENVELOPE_TYPE_KEY};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

use crate::error::{CliError, CliResult};

/// Where an entity was in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// 1-based line of a JSON Lines input.
    Line(usize),
    /// 0-based index in the top-level array, or in the array of its type in a type map.
    Index {
        /// The type key in a type map (`None` for a top-level array).
        key: Option<String>,
        /// Index in that array.
        index: usize,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Index { key: None, index } => write!(f, "element [{index}]"),
            Position::Index {
                key: Some(key),
                index,
            } => write!(f, "{key}[{index}]"),
        }
    }
}

/// One entity read from the input, with the type it was given under (as written, not resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct InputEntity {
    /// The type name as given (table name, singular or alias).
    pub entity_type: String,
    /// The entity.
    pub value: Json,
    /// Where it was.
    pub position: Position,
}

/// A batch of entities to persist in one transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// 1-based batch number.
    pub number: usize,
    /// The entities, in input order.
    pub entities: Vec<InputEntity>,
}

impl Batch {
    /// A short description of where the batch was in the input: `lines 3-52`, `patients[0]-[49]`.
    pub fn span(&self) -> String {
        match (self.entities.first(), self.entities.last()) {
            (Some(first), Some(last)) if first.position == last.position => {
                first.position.to_string()
            }
            (Some(first), Some(last)) => match (&first.position, &last.position) {
                (Position::Line(a), Position::Line(b)) => format!("lines {a}-{b}"),
                (a, b) => format!("{a} to {b}"),
            },
            _ => "empty batch".to_string(),
        }
    }

    /// Groups the entities by type (as given), keeping the first-seen order of types and entities.
    pub fn by_type(&self) -> Vec<(String, Vec<&InputEntity>)> {
        let mut groups: Vec<(String, Vec<&InputEntity>)> = Vec::new();
        for entity in &self.entities {
            match groups.iter_mut().find(|(t, _)| *t == entity.entity_type) {
                Some((_, list)) => list.push(entity),
                None => groups.push((entity.entity_type.clone(), vec![entity])),
            }
        }
        groups
    }
}

/// What the reader saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Entities read.
    pub entities: usize,
    /// Batches handed to the callback.
    pub batches: usize,
}

/// Collects entities and hands full batches to the callback.
struct Batcher<'f> {
    batch_size: usize,
    current: Batch,
    stats: ReadStats,
    on_batch: &'f mut dyn FnMut(Batch) -> CliResult<()>,
}

impl Batcher<'_> {
    fn push(&mut self, entity: InputEntity) -> CliResult<()> {
        self.current.entities.push(entity);
        self.stats.entities += 1;
        if self.current.entities.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> CliResult<()> {
        if self.current.entities.is_empty() {
            return Ok(());
        }
        self.stats.batches += 1;
        let batch = std::mem::replace(
            &mut self.current,
            Batch {
                number: self.stats.batches + 1,
                entities: Vec::new(),
            },
        );
        (self.on_batch)(batch)
    }
}

/// Reads `input` and calls `on_batch` for every `batch_size` entities (and once for the rest).
/// `default_type` is `--type`. An error of the callback stops reading and is returned as is.
pub fn read_batches(
    mut input: impl BufRead,
    default_type: Option<&str>,
    batch_size: usize,
    on_batch: &mut dyn FnMut(Batch) -> CliResult<()>,
) -> CliResult<ReadStats> {
    let mut batcher = Batcher {
        batch_size: batch_size.max(1),
        current: Batch {
            number: 1,
            entities: Vec::new(),
        },
        stats: ReadStats::default(),
        on_batch,
    };
    skip_bom_and_whitespace(&mut input)?;
    let first = input.fill_buf()?.first().copied();
    match first {
        None => {
            return Err(CliError::input(
                "the input is empty; expected JSON entities",
            ))
        }
        Some(b'[') => {
            let Some(entity_type) = default_type else {
                return Err(CliError::input(
                    "the input is a JSON array: pass --type to say which entity type it holds \
                     (or give an object {\"patients\": [...]})",
                ));
            };
            stream_document(&mut input, &mut batcher, DocumentShape::Array(entity_type))?;
        }
        Some(b'{') => {
            let mut first_line = Vec::new();
            if !read_first_line(&mut input, &mut first_line)? {
                // A first line this long is a one-line document (a compact `{type: [...]}`),
                // streamed like any document instead of parsed whole as a JSON Lines object.
                let mut whole = std::io::Cursor::new(first_line).chain(input);
                match default_type {
                    None => stream_document(&mut whole, &mut batcher, DocumentShape::TypeMap)?,
                    Some(entity_type) => {
                        read_object_document(&mut whole, entity_type, &mut batcher)?;
                    }
                }
                batcher.flush()?;
                return Ok(batcher.stats);
            }
            let first_text = utf8_line(&first_line, 1)?;
            match serde_json::from_str::<Json>(first_text.trim()) {
                Ok(Json::Object(object)) => {
                    read_json_lines(object, input, default_type, &mut batcher)?;
                }
                // Starting with `{`, a whole JSON value can only be an object.
                Ok(_) => {
                    return Err(CliError::input(
                        "line 1: expected a JSON object on each line of JSON Lines input",
                    ))
                }
                Err(line_error) => {
                    // Not one JSON object on line 1: a multi-line document (pretty-printed), or
                    // JSON Lines whose first line is broken. Decide before anything is read
                    // further, without loading the document.
                    let lookahead = match first_line_verdict(&first_line, &mut input)? {
                        Verdict::Document(lookahead) => lookahead,
                        Verdict::BrokenFirstLine => {
                            return Err(CliError::input(format!(
                                "line 1: invalid JSON: {line_error}"
                            )))
                        }
                    };
                    first_line.extend_from_slice(&lookahead);
                    let mut whole = std::io::Cursor::new(first_line).chain(input);
                    match default_type {
                        None => stream_document(&mut whole, &mut batcher, DocumentShape::TypeMap)?,
                        Some(entity_type) => {
                            read_object_document(&mut whole, entity_type, &mut batcher)?;
                        }
                    }
                }
            }
        }
        Some(other) => {
            return Err(CliError::input(format!(
                "the input does not start with JSON ('{}'); expected a JSON array, an object of \
                 type -> array, or JSON Lines",
                char::from(other).escape_default()
            )))
        }
    }
    batcher.flush()?;
    Ok(batcher.stats)
}

/// The longest first line read as one JSON Lines object; a longer one is read as a document.
pub(crate) const FIRST_LINE_LIMIT: usize = 16 << 20;

/// Reads the first line (with its newline) into `line`, up to [`FIRST_LINE_LIMIT`] bytes.
/// Returns whether the line ended (newline or end of input) within the limit.
fn read_first_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> CliResult<bool> {
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(true);
        }
        let room = FIRST_LINE_LIMIT.saturating_sub(line.len());
        let window = &buffer[..buffer.len().min(room)];
        if let Some(end) = window.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&window[..=end]);
            input.consume(end + 1);
            return Ok(true);
        }
        let taken = window.len();
        line.extend_from_slice(window);
        input.consume(taken);
        if line.len() >= FIRST_LINE_LIMIT {
            return Ok(false);
        }
    }
}

fn skip_bom_and_whitespace(input: &mut impl BufRead) -> CliResult<()> {
    let mut at_start = true;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if at_start && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            input.consume(3);
            at_start = false;
            continue;
        }
        at_start = false;
        let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let whole = n == buf.len();
        input.consume(n);
        if !whole {
            return Ok(());
        }
    }
}

/// `{"type": "patients", "entity": {...}}` → (type, entity), taking the entity without copying
/// it (this is the hot path of large JSON Lines files); any other shape is given back unchanged.
fn envelope(mut object: Map<String, Json>) -> Result<(String, Json), Map<String, Json>> {
    let is_envelope = object.len() == 2
        && matches!(object.get(ENVELOPE_TYPE_KEY), Some(Json::String(_)))
        && matches!(object.get(ENVELOPE_ENTITY_KEY), Some(Json::Object(_)));
    if !is_envelope {
        return Err(object);
    }
    match (
        object.remove(ENVELOPE_TYPE_KEY),
        object.remove(ENVELOPE_ENTITY_KEY),
    ) {
        (Some(Json::String(t)), Some(entity)) => Ok((t, entity)),
        // Unreachable after the check above; keeping the shape honest costs nothing.
        _ => Err(object),
    }
}

/// A non-empty object whose values are all arrays, and whose keys are all entity types.
fn is_nonempty_type_map(object: &Map<String, Json>) -> bool {
    !object.is_empty() && is_type_map(object)
}

/// An object whose keys are all entity types and whose values are all lists (the empty object
/// is one: a persist call refuses it as "no entities").
pub(crate) fn is_type_map(object: &Map<String, Json>) -> bool {
    object
        .iter()
        .all(|(k, v)| v.is_array() && healthsim_schema::entity_type(k).is_ok())
}

fn push_line_object(
    object: Map<String, Json>,
    line: usize,
    default_type: Option<&str>,
    batcher: &mut Batcher<'_>,
) -> CliResult<()> {
    let object = match envelope(object) {
        Ok((entity_type, value)) => {
            return batcher.push(InputEntity {
                entity_type,
                value,
                position: Position::Line(line),
            })
        }
        Err(object) => object,
    };
    if let Some(entity_type) = default_type {
        return batcher.push(InputEntity {
            entity_type: entity_type.to_string(),
            value: Json::Object(object),
            position: Position::Line(line),
        });
    }
    if is_nonempty_type_map(&object) {
        for (entity_type, values) in object {
            let Json::Array(values) = values else {
                continue; // is_nonempty_type_map checked that every value is an array
            };
            for value in values {
                batcher.push(InputEntity {
                    entity_type: entity_type.clone(),
                    value,
                    position: Position::Line(line),
                })?;
            }
        }
        return Ok(());
    }
    Err(CliError::input(format!(
        "line {line}: an entity without a type; pass --type, or write typed lines \
         {{\"type\": \"patients\", \"entity\": {{...}}}}"
    )))
}

/// A line given as bytes, as text; invalid UTF-8 is bad input named by its line and column.
fn utf8_line(bytes: &[u8], number: usize) -> CliResult<&str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        CliError::input(format!(
            "line {number}: invalid UTF-8 (byte 0x{:02x} at column {}); the input must be UTF-8 text",
            bytes.get(at).copied().unwrap_or_default(),
            at + 1
        ))
    })
}

/// How to read an input whose first line starts with `{` but is not a JSON object by itself.
enum Verdict {
    /// A multi-line JSON document; these bytes were read after the first line and belong to it.
    Document(Vec<u8>),
    /// The input cannot be one document, and it looks like JSON Lines: its first line is broken.
    BrokenFirstLine,
}

/// Tells a multi-line JSON document from JSON Lines with a broken first line.
///
/// The first line (with its newline) is checked as the start of a document: if it is already
/// invalid there (a syntax error) or whole (it failed on a limit such as the nesting depth), the
/// input is wrong at line 1 whatever follows.
/// If it is an unfinished start (`{`, `{"patients": [`), the following lines are looked at while
/// each is a complete JSON object by itself, which is what JSON Lines has and a pretty-printed
/// document rarely does: as soon as the first line plus those lines stop being the start of a
/// valid document, or the input ends before the document does, the input is JSON Lines with a
/// broken first line. A line that is not a complete object by itself ends the look-ahead, and
/// the input is read as one document (whose own errors then name their line and column).
fn first_line_verdict(first_line: &[u8], input: &mut impl BufRead) -> CliResult<Verdict> {
    // A line that is invalid as the start of a document, or whole by itself (then it failed
    // only on a limit, such as the nesting depth), is wrong whatever follows.
    if !matches!(document_prefix(first_line), Prefix::Unfinished) {
        return Ok(Verdict::BrokenFirstLine);
    }
    let mut prefix = first_line.to_vec();
    let mut lookahead = Vec::new();
    loop {
        match document_prefix(&prefix) {
            Prefix::Invalid => return Ok(Verdict::BrokenFirstLine),
            Prefix::Complete => return Ok(Verdict::Document(lookahead)),
            Prefix::Unfinished => {}
        }
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line)? == 0 {
            // The input ended inside the document that line 1 opened.
            return Ok(Verdict::BrokenFirstLine);
        }
        lookahead.extend_from_slice(&line);
        let text = line.trim_ascii();
        if text.is_empty() {
            prefix.extend_from_slice(&line);
            continue;
        }
        if !matches!(serde_json::from_slice::<Json>(text), Ok(Json::Object(_))) {
            return Ok(Verdict::Document(lookahead));
        }
        prefix.extend_from_slice(&line);
    }
}

/// What a byte string is as the start of one JSON document.
enum Prefix {
    /// A whole value (possibly followed by whitespace).
    Complete,
    /// The start of a value that more input could finish.
    Unfinished,
    /// Invalid whatever follows.
    Invalid,
}

fn document_prefix(bytes: &[u8]) -> Prefix {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match <de::IgnoredAny as serde::Deserialize>::deserialize(&mut de).and_then(|_| de.end()) {
        Ok(()) => Prefix::Complete,
        Err(e) if e.is_eof() => Prefix::Unfinished,
        Err(_) => Prefix::Invalid,
    }
}

fn read_json_lines(
    first: Map<String, Json>,
    mut input: impl BufRead,
    default_type: Option<&str>,
    batcher: &mut Batcher<'_>,
) -> CliResult<()> {
    push_line_object(first, 1, default_type, batcher)?;
    let mut line = Vec::new();
    for number in 2.. {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = utf8_line(&line, number)?.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(object)) => push_line_object(object, number, default_type, batcher)?,
            Ok(_) => {
                return Err(CliError::input(format!(
                    "line {number}: expected a JSON object on each line of JSON Lines input"
                )))
            }
            Err(e) => return Err(CliError::input(format!("line {number}: invalid JSON: {e}"))),
        }
    }
    Ok(())
}

/// A single JSON object document given with `--type`: a type map, or one entity of that type.
fn read_object_document(
    input: &mut impl Read,
    entity_type: &str,
    batcher: &mut Batcher<'_>,
) -> CliResult<()> {
    let value: Json = serde_json::from_reader(input)
        .map_err(|e| CliError::input(format!("invalid JSON: {e}")))?;
    let Json::Object(object) = value else {
        return Err(CliError::input("expected a JSON object"));
    };
    if is_nonempty_type_map(&object) {
        for (key, values) in object {
            for (index, value) in values.as_array().into_iter().flatten().enumerate() {
                batcher.push(InputEntity {
                    entity_type: key.clone(),
                    value: value.clone(),
                    position: Position::Index {
                        key: Some(key.clone()),
                        index,
                    },
                })?;
            }
        }
        Ok(())
    } else {
        batcher.push(InputEntity {
            entity_type: entity_type.to_string(),
            value: Json::Object(object),
            position: Position::Index {
                key: None,
                index: 0,
            },
        })
    }
}

#[derive(Clone, Copy)]
enum DocumentShape<'t> {
    /// A top-level array of entities of this type.
    Array(&'t str),
    /// A top-level object of type → array.
    TypeMap,
}

/// Streams a whole JSON document (array or type map) through the batcher without loading it.
fn stream_document(
    input: &mut impl Read,
    batcher: &mut Batcher<'_>,
    shape: DocumentShape<'_>,
) -> CliResult<()> {
    let mut failure: Option<CliError> = None;
    let mut de = serde_json::Deserializer::from_reader(input);
    let result = match shape {
        DocumentShape::Array(entity_type) => ArraySink {
            entity_type,
            key: None,
            batcher,
            failure: &mut failure,
        }
        .deserialize(&mut de),
        DocumentShape::TypeMap => MapSink {
            batcher,
            failure: &mut failure,
        }
        .deserialize(&mut de),
    };
    if let Some(error) = failure {
        return Err(error);
    }
    result.map_err(|e| CliError::input(format!("invalid JSON input: {e}")))?;
    de.end()
        .map_err(|e| CliError::input(format!("unexpected content after the JSON document: {e}")))
}

/// Marks a de error that only carries a failure stored aside (a batch that failed to persist).
const STOPPED: &str = "stopped";

struct ArraySink<'a, 'b, 'f> {
    entity_type: &'a str,
    key: Option<&'a str>,
    batcher: &'b mut Batcher<'f>,
    failure: &'b mut Option<CliError>,
}

impl<'de> DeserializeSeed<'de> for ArraySink<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArraySink<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            Some(key) => write!(f, "an array of {key} entities"),
            None => f.write_str("an array of entities"),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(value) = seq.next_element::<Json>()? {
            let entity = InputEntity {
                entity_type: self.entity_type.to_string(),
                value,
                position: Position::Index {
                    key: self.key.map(str::to_string),
                    index,
                },
            };
            if let Err(e) = self.batcher.push(entity) {
                *self.failure = Some(e);
                return Err(de::Error::custom(STOPPED));
            }
            index += 1;
        }
        Ok(())
    }
}

struct MapSink<'b, 'f> {
    batcher: &'b mut Batcher<'f>,
    failure: &'b mut Option<CliError>,
}

impl<'de> DeserializeSeed<'de> for MapSink<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MapSink<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping entity types to arrays of entities")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if let Err(e) = healthsim_schema::entity_type(&key) {
                *self.failure = Some(CliError::input(format!(
                    "key '{key}' of the input object is not an entity type: {e} \
                     (to persist one entity, pass --type)"
                )));
                return Err(de::Error::custom(STOPPED));
            }
            map.next_value_seed(ArraySink {
                entity_type: &key,
                key: Some(&key),
                batcher: &mut *self.batcher,
                failure: &mut *self.failure,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reads `input` with batches of 2 and returns (type, value, position) per batch.
    fn read(
        input: &str,
        default_type: Option<&str>,
    ) -> CliResult<Vec<Vec<(String, Json, String)>>> {
        read_bytes(input.as_bytes(), default_type)
    }

    fn read_bytes(
        input: &[u8],
        default_type: Option<&str>,
    ) -> CliResult<Vec<Vec<(String, Json, String)>>> {
        let mut batches = Vec::new();
        read_batches(input, default_type, 2, &mut |batch| {
            batches.push(
                batch
                    .entities
                    .into_iter()
                    .map(|e| (e.entity_type, e.value, e.position.to_string()))
                    .collect(),
            );
            Ok(())
        })?;
        Ok(batches)
    }

    fn check(input: &str, default_type: Option<&str>, expected: Json) {
        let got = read(input, default_type).map(|batches| {
            Json::Array(
                batches
                    .into_iter()
                    .map(|b| Json::Array(b.into_iter().map(|(t, v, p)| json!([t, v, p])).collect()))
                    .collect(),
            )
        });
        match got {
            Ok(got) => assert_eq!(got, expected, "input {input:?}"),
            Err(e) => panic!("input {input:?} failed: {e}"),
        }
    }

    fn check_error(input: &str, default_type: Option<&str>, expected: &str) {
        match read(input, default_type) {
            Ok(batches) => panic!("input {input:?} was accepted: {batches:?}"),
            Err(e) => {
                assert!(
                    e.message().contains(expected),
                    "input {input:?}: '{}' does not contain '{expected}'",
                    e.message()
                );
                assert_eq!(e.exit_code(), 2);
            }
        }
    }

    #[test]
    fn arrays_stream_in_batches() {
        check(
            r#"[{"id":1},{"id":2},{"id":3}]"#,
            Some("patients"),
            json!([
                [["patients", {"id":1}, "element [0]"], ["patients", {"id":2}, "element [1]"]],
                [["patients", {"id":3}, "element [2]"]]
            ]),
        );
        check("\u{feff}  \n [ ]", Some("patients"), json!([]));
    }

    #[test]
    fn type_maps_stream_in_batches() {
        check(
            "{\n \"patients\": [{\"id\":1}],\n \"labs\": [{\"id\":2},{\"id\":3}]\n}",
            None,
            json!([
                [["patients", {"id":1}, "patients[0]"], ["labs", {"id":2}, "labs[0]"]],
                [["labs", {"id":3}, "labs[1]"]]
            ]),
        );
        check(
            "{\n \"patients\": [{\"id\":1}]\n}",
            Some("claims"),
            json!([[["patients", {"id":1}, "patients[0]"]]]),
        );
        check(
            "{\n \"id\": 7\n}",
            Some("claims"),
            json!([[["claims", {"id":7}, "element [0]"]]]),
        );
    }

    #[test]
    fn json_lines_of_entities_envelopes_and_maps() {
        check(
            "{\"id\":1}\n\n{\"id\":2}\n",
            Some("patients"),
            json!([[["patients", {"id":1}, "line 1"], ["patients", {"id":2}, "line 3"]]]),
        );
        check(
            "{\"type\":\"patients\",\"entity\":{\"id\":1}}\n{\"type\":\"claims\",\"entity\":{\"id\":2}}\n{\"patients\":[{\"id\":3}]}",
            None,
            json!([
                [["patients", {"id":1}, "line 1"], ["claims", {"id":2}, "line 2"]],
                [["patients", {"id":3}, "line 3"]]
            ]),
        );
    }

    #[test]
    fn bad_inputs_name_what_is_wrong() {
        check_error("", None, "empty");
        check_error("[{\"id\":1}]", None, "--type");
        check_error(
            "{\"id\":1}\n{\"id\":2}",
            None,
            "line 1: an entity without a type",
        );
        check_error(
            "{\"id\":1}\n{oops}",
            Some("patients"),
            "line 2: invalid JSON",
        );
        check_error(
            "{\"id\":1}\n[1]",
            Some("patients"),
            "line 2: expected a JSON object",
        );
        check_error(
            "{\n \"spaceships\": []\n}",
            None,
            "'spaceships' of the input object",
        );
        check_error("[{\"id\":1}, oops]", Some("patients"), "invalid JSON input");
        check_error(
            "[{\"id\":1}] trailing",
            Some("patients"),
            "after the JSON document",
        );
        check_error("hello", None, "does not start with JSON");
    }

    // Regression: invalid UTF-8 in JSON Lines was an i/o failure (exit 1) without a line.
    #[test]
    fn invalid_utf8_names_its_line_and_column() {
        let check_bytes = |input: &[u8], expected: &str| match read_bytes(input, None) {
            Ok(batches) => panic!("{input:?} was accepted: {batches:?}"),
            Err(e) => {
                assert_eq!(e.message(), expected);
                assert_eq!(e.exit_code(), 2);
            }
        };
        check_bytes(
            b"{\"type\":\"patients\",\"entity\":{\"id\":1}}\n{\"type\":\"patients\",\"entity\":{\"id\":\"\xff\"}}\n",
            "line 2: invalid UTF-8 (byte 0xff at column 36); the input must be UTF-8 text",
        );
        // A one-line type map, and a broken first line of JSON Lines.
        check_bytes(
            b"{\"patients\":[{\"id\":\"A\xfe\"}]}",
            "line 1: invalid UTF-8 (byte 0xfe at column 22); the input must be UTF-8 text",
        );
        check_bytes(
            b"{\"id\xc3\":1}\n{\"id\":2}",
            "line 1: invalid UTF-8 (byte 0xc3 at column 5); the input must be UTF-8 text",
        );
    }

    // Regression: a broken first line of JSON Lines was re-read as one document, and the error
    // blamed the key 'type' (known issue 3 in docs/reliability.md).
    #[test]
    fn a_broken_first_line_of_json_lines_is_named() {
        let second = "{\"type\":\"patients\",\"entity\":{\"id\":2}}";
        for (first, expected) in [
            // The closing brace dropped: line 2 cannot continue the object.
            (
                "{\"type\":\"patients\",\"entity\":{\"id\":1}",
                "line 1: invalid JSON: EOF while parsing an object at line 1 column 36",
            ),
            // Cut inside a string (a JSON string cannot span lines).
            (
                "{\"type\":\"patients\",\"entity\":{\"id\":\"ab",
                "line 1: invalid JSON: EOF while parsing a string at line 1 column 37",
            ),
            // Cut where a value starts: line 2 fills it, line 3 cannot follow.
            (
                "{\"type\":\"patients\",\"entity\":",
                "line 1: invalid JSON: EOF while parsing a value at line 1 column 28",
            ),
            (
                "{oops}",
                "line 1: invalid JSON: key must be a string at line 1 column 2",
            ),
        ] {
            check_error(&format!("{first}\n{second}\n{second}\n"), None, expected);
            check_error(
                &format!("{first}\n{second}\n{second}\n"),
                Some("patients"),
                expected,
            );
        }
        // Only two lines, and the input ends inside the object line 1 opened.
        check_error(
            &format!("{{\"type\":\"patients\",\"entity\":\n{second}\n"),
            None,
            "line 1: invalid JSON: EOF while parsing a value",
        );
        // The only line, cut.
        check_error(
            "{\"type\":\"patients\",\"entity\":{\"id\":1",
            None,
            "line 1: invalid JSON: EOF while parsing an object",
        );
        // Too deep.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        check_error(
            &format!("{{\"type\":\"patients\",\"entity\":{{\"id\":1,\"n\":{deep}}}}}\n{second}"),
            None,
            "line 1: invalid JSON: recursion limit exceeded",
        );
    }

    /// A compact one-line document longer than the first-line limit: `count` patients whose
    /// notes make each about 1 MiB.
    fn long_one_line_document(count: usize) -> String {
        let note = "x".repeat(1 << 20);
        let patients: Vec<Json> = (0..count)
            .map(|i| json!({"patient_id": format!("p{i}"), "note": note}))
            .collect();
        json!({ "patients": patients }).to_string()
    }

    #[test]
    fn a_one_line_document_longer_than_the_limit_is_streamed_as_a_document() {
        let input = long_one_line_document(FIRST_LINE_LIMIT / (1 << 20) + 2);
        assert!(input.len() > FIRST_LINE_LIMIT && !input.contains('\n'));
        let batches = read(&input, None).unwrap_or_else(|e| panic!("{e}"));
        let positions: Vec<String> = batches
            .iter()
            .flatten()
            .map(|(_, _, p)| p.clone())
            .collect();
        let expected: Vec<String> = (0..positions.len())
            .map(|i| format!("patients[{i}]"))
            .collect();
        // Positions in the array, not "line 1": the document path, which streams.
        assert_eq!(positions, expected);
        assert_eq!(positions.len(), FIRST_LINE_LIMIT / (1 << 20) + 2);
        assert!(batches.iter().all(|b| b.len() <= 2));
    }

    #[test]
    fn a_long_first_line_followed_by_more_lines_is_named_as_a_document_with_trailing_content() {
        let input = format!(
            "{}\n{{\"type\":\"patients\",\"entity\":{{}}}}\n",
            long_one_line_document(17)
        );
        check_error(&input, None, "unexpected content after the JSON document");
    }

    #[test]
    fn multi_line_documents_are_still_documents() {
        let two =
            json!([[["patients", {"id":1}, "patients[0]"], ["patients", {"id":2}, "patients[1]"]]]);
        // Pretty-printed.
        check(
            "{\n  \"patients\": [\n    {\"id\": 1},\n    {\"id\": 2}\n  ]\n}\n",
            None,
            two.clone(),
        );
        // Lines that are whole objects by themselves inside a document.
        check(
            "{\"patients\": [\n{\"id\":1}\n,\n{\"id\":2}\n]}",
            None,
            two.clone(),
        );
        check("{\"patients\": [\n{\"id\":1},\n{\"id\":2}\n]}", None, two);
        check(
            "{\"a\":\n{\"id\":1}\n}",
            Some("claims"),
            json!([[["claims", {"a": {"id":1}}, "element [0]"]]]),
        );
        // A document that is broken later is reported as a document, with its line.
        check_error(
            "{\n  \"patients\": [\n    {\"id\": 1},\n    oops\n  ]\n}\n",
            None,
            "invalid JSON input: expected value at line 4 column 5",
        );
    }

    #[test]
    fn a_failing_batch_stops_reading() {
        let mut seen = 0;
        let result = read_batches(
            r#"[{"id":1},{"id":2},{"id":3},{"id":4}]"#.as_bytes(),
            Some("patients"),
            1,
            &mut |_| {
                seen += 1;
                Err(CliError::failure("database is locked"))
            },
        );
        assert_eq!(seen, 1);
        assert_eq!(result.err().map(|e| e.exit_code()), Some(1));
    }

    #[test]
    fn spans_describe_batches() {
        let batch = |positions: Vec<Position>| Batch {
            number: 1,
            entities: positions
                .into_iter()
                .map(|position| InputEntity {
                    entity_type: "patients".into(),
                    value: json!({}),
                    position,
                })
                .collect(),
        };
        assert_eq!(
            batch(vec![Position::Line(3), Position::Line(9)]).span(),
            "lines 3-9"
        );
        assert_eq!(batch(vec![Position::Line(3)]).span(), "line 3");
        assert_eq!(
            batch(vec![
                Position::Index {
                    key: None,
                    index: 0
                },
                Position::Index {
                    key: None,
                    index: 49
                }
            ])
            .span(),
            "element [0] to element [49]"
        );
    }
}
