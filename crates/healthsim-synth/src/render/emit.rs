//! The two [`Emit`] implementations: [`ValueEmitter`] builds `serde_json::Value` objects for the
//! iterator, [`JsonEmitter`] writes JSON text directly for `write_jsonl` and `write_document`.
//!
//! Both must produce the same entities byte for byte (the writers' output is the serialization of
//! the iterator's values), so they share the renderers and differ only in where fields go.

use std::collections::VecDeque;

use serde_json::{Map, Number, Value};

use crate::{ENVELOPE_ENTITY_KEY, ENVELOPE_TYPE_KEY};

use super::Emit;

/// Empty objects with the keys of each entity shape seen so far, in order.
///
/// Inserting into a `serde_json::Map` hashes every key (SipHash); cloning a map with the same
/// keys copies its hash index instead, and values are then filled in by position. Entities of one
/// table come in a handful of shapes (which optional fields are present), so this cache stays
/// small; it is capped anyway, and past the cap objects are built by insertion.
#[derive(Default)]
pub(crate) struct Templates {
    shapes: Vec<Shape>,
    fields: Vec<(&'static str, Value)>,
}

/// One entity shape: a table and its present keys in order, with an object of `null`s.
struct Shape {
    signature: u64,
    table: &'static str,
    keys: Vec<&'static str>,
    template: Map<String, Value>,
}

const MAX_TEMPLATES: usize = 1_024;

impl Templates {
    /// The object for `table` with `fields`, built from (or added to) the cache.
    fn object(&mut self, table: &'static str) -> Map<String, Value> {
        let mut signature = (table.as_ptr() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (key, _) in &self.fields {
            signature = (signature ^ key.as_ptr() as u64 ^ key.len() as u64)
                .wrapping_mul(0x100_0000_01B3)
                .rotate_left(23);
        }
        let fields = &self.fields;
        let same_shape = |keys: &[&str]| {
            keys.len() == fields.len() && keys.iter().zip(fields).all(|(a, (b, _))| a == b)
        };
        let found = self
            .shapes
            .iter()
            .position(|s| s.signature == signature && s.table == table && same_shape(&s.keys));
        let index = match found {
            Some(i) => Some(i),
            None if self.shapes.len() < MAX_TEMPLATES => {
                let mut template = Map::with_capacity(fields.len());
                for (key, _) in fields {
                    template.insert((*key).to_owned(), Value::Null);
                }
                // A repeated key would misalign positions: such shapes are never cached.
                (template.len() == fields.len()).then(|| {
                    let keys = fields.iter().map(|(k, _)| *k).collect();
                    self.shapes.push(Shape {
                        signature,
                        table,
                        keys,
                        template,
                    });
                    self.shapes.len() - 1
                })
            }
            None => None,
        };
        match index {
            Some(i) => {
                let mut map = self.shapes[i].template.clone();
                for (slot, (_, value)) in map.values_mut().zip(self.fields.drain(..)) {
                    *slot = value;
                }
                map
            }
            None => {
                let mut map = Map::with_capacity(self.fields.len());
                for (key, value) in self.fields.drain(..) {
                    map.insert(key.to_owned(), value);
                }
                map
            }
        }
    }
}

/// Builds `serde_json::Value` objects into a queue (the iterator).
pub(crate) struct ValueEmitter<'a> {
    /// Rendered `(table, entity)` pairs, in stream order.
    out: &'a mut VecDeque<(&'static str, Value)>,
    templates: &'a mut Templates,
    table: &'static str,
}

impl<'a> ValueEmitter<'a> {
    /// An emitter appending to `out`, reusing `templates` across calls.
    pub(crate) fn new(
        out: &'a mut VecDeque<(&'static str, Value)>,
        templates: &'a mut Templates,
    ) -> Self {
        ValueEmitter {
            out,
            templates,
            table: "",
        }
    }

    fn field(&mut self, key: &'static str, value: Value) {
        self.templates.fields.push((key, value));
    }
}

impl Emit for ValueEmitter<'_> {
    fn wants(&self, _table: &'static str) -> bool {
        true
    }

    fn begin(&mut self, table: &'static str, _fields: usize) {
        self.table = table;
        self.templates.fields.clear();
    }

    fn str(&mut self, key: &'static str, value: &str) {
        self.field(key, Value::String(value.to_owned()));
    }

    fn int(&mut self, key: &'static str, value: i64) {
        self.field(key, Value::from(value));
    }

    fn num(&mut self, key: &'static str, value: f64) {
        self.field(
            key,
            Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }

    fn str_array(&mut self, key: &'static str, values: &[&str]) {
        let items = values
            .iter()
            .map(|v| Value::String((*v).to_owned()))
            .collect();
        self.field(key, Value::Array(items));
    }

    fn end(&mut self) {
        let map = self.templates.object(self.table);
        self.out.push_back((self.table, Value::Object(map)));
    }
}

/// How a [`JsonEmitter`] frames entities.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One `{"type":..,"entity":{..}}` envelope per line.
    Lines,
    /// Entities of one table as elements of `"table":[..]` inside a document object.
    DocumentArray,
}

/// Writes entities directly as JSON text, byte for byte what serializing the iterator's values
/// would give (same key order; numbers and strings formatted by `serde_json`).
pub(crate) struct JsonEmitter {
    /// Only this table is rendered, if set.
    pub(crate) only: Option<&'static str>,
    /// The output so far (the caller drains it).
    pub(crate) buf: Vec<u8>,
    framing: Framing,
    first_field: bool,
    /// Entities written in the current document pass.
    pub(crate) pass_count: u64,
    /// Tables that have been opened in the document.
    pub(crate) tables_open: u64,
    /// Entities per table.
    pub(crate) counts: Vec<(&'static str, u64)>,
    /// The first serialization error (never expected: strings and numbers always serialize).
    pub(crate) error: Option<serde_json::Error>,
}

impl JsonEmitter {
    /// An emitter with the given framing.
    pub(crate) fn new(framing: Framing, capacity: usize) -> Self {
        JsonEmitter {
            only: None,
            buf: Vec::with_capacity(capacity),
            framing,
            first_field: true,
            pass_count: 0,
            tables_open: 0,
            counts: Vec::new(),
            error: None,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.first_field {
            self.buf.push(b',');
        }
        self.first_field = false;
        // Keys are registry column names: lowercase ASCII that needs no escaping.
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        if let Err(e) = serde_json::to_writer(&mut self.buf, value) {
            self.error.get_or_insert(e);
        }
    }
}

impl Emit for JsonEmitter {
    fn wants(&self, table: &'static str) -> bool {
        self.only.is_none_or(|only| only == table)
    }

    fn begin(&mut self, table: &'static str, _fields: usize) {
        match self.framing {
            Framing::Lines => {
                self.buf.extend_from_slice(b"{\"");
                self.buf.extend_from_slice(ENVELOPE_TYPE_KEY.as_bytes());
                self.buf.extend_from_slice(b"\":\"");
                // Table names are registry names (lowercase ASCII): no escaping needed.
                self.buf.extend_from_slice(table.as_bytes());
                self.buf.extend_from_slice(b"\",\"");
                self.buf.extend_from_slice(ENVELOPE_ENTITY_KEY.as_bytes());
                self.buf.extend_from_slice(b"\":{");
            }
            Framing::DocumentArray => {
                if self.pass_count == 0 {
                    if self.tables_open > 0 {
                        self.buf.push(b',');
                    }
                    self.buf.push(b'"');
                    self.buf.extend_from_slice(table.as_bytes());
                    self.buf.extend_from_slice(b"\":[{");
                    self.tables_open += 1;
                } else {
                    self.buf.extend_from_slice(b",{");
                }
                self.pass_count += 1;
            }
        }
        self.first_field = true;
        match self.counts.iter_mut().find(|(t, _)| *t == table) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((table, 1)),
        }
    }

    fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        self.json(value);
    }

    fn int(&mut self, key: &'static str, value: i64) {
        self.key(key);
        self.json(&value);
    }

    fn num(&mut self, key: &'static str, value: f64) {
        self.key(key);
        self.json(&value);
    }

    fn str_array(&mut self, key: &'static str, values: &[&str]) {
        self.key(key);
        self.json(values);
    }

    fn end(&mut self) {
        match self.framing {
            Framing::Lines => self.buf.extend_from_slice(b"}}\n"),
            Framing::DocumentArray => self.buf.push(b'}'),
        }
    }
}
