//! Reading a JSON export without holding it: the import's two passes over the file.
//!
//! A JSON export of a million entities is a document of several hundred megabytes; parsed into
//! `serde_json` trees and converted whole it took over ten times its size in memory. So
//! [`super::import`] reads it twice, each time as a stream:
//!
//! 1. [`outline`] checks the whole file's syntax and keeps only what is small: the top-level
//!    fields an import reads (`format`, `format_version`, `scenario`, `counts`) and, per key of
//!    `entities`, how many entities it lists (or what JSON came instead of a list). The import
//!    checks the document against that before it writes anything.
//! 2. [`for_each_chunk`] hands the entities of each type to a callback in chunks of a given size,
//!    with the index of the chunk's first entity in its list. Only one chunk is held.
//!
//! Errors of the callback stop the reading and are returned as they are; JSON errors are
//! `TransferError::InvalidImportFile` naming the file, line and column.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

use super::paths::io;
use super::TransferError;
use crate::error::{Error, Result};

/// The top-level fields an import reads; every other field is skipped.
const OUTLINE_FIELDS: [&str; 4] = ["format", "format_version", "scenario", "counts"];
/// The field holding the entities, by type.
const ENTITIES: &str = "entities";

/// The scalar `visit_*` methods of a visitor: each returns `Ok($on(kind))`, `kind` being the
/// JSON kind of the value as `healthsim_schema::text::json_kind` names it.
macro_rules! visit_scalars {
    ($on:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Self::Value, E> {
            Ok(($on)("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Self::Value, E> {
            Ok(($on)("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Self::Value, E> {
            Ok(($on)("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Self::Value, E> {
            Ok(($on)("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Self::Value, E> {
            Ok(($on)("a string"))
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(($on)("null"))
        }
    };
}

/// What the first pass found.
pub(super) enum Outline {
    /// The document is valid JSON but not an object.
    NotAnObject,
    /// An object: its [`OUTLINE_FIELDS`] and its entities' shape (`None` without `entities`).
    Object {
        fields: Map<String, Json>,
        entities: Option<Entities>,
    },
}

/// The shape of `entities`.
pub(super) enum Entities {
    /// Not an object.
    NotAnObject,
    /// Per key, in document order: the number of entities, or the JSON kind of a non-list.
    Lists(Vec<(String, std::result::Result<usize, &'static str>)>),
}

/// Pass 1: the document's outline (see the module documentation).
pub(super) fn outline(path: &Path) -> Result<Outline> {
    let file = File::open(path).map_err(io("open", path))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
    let outline = de
        .deserialize_any(OutlineVisitor)
        .map_err(|e| parse_error(path, e))?;
    de.end().map_err(|e| parse_error(path, e))?;
    Ok(outline)
}

/// Pass 2: calls `f(key, first_index, entities)` for each chunk of up to `chunk` entities of
/// each list of `entities`, in document order. The file must have passed [`outline`];
/// non-list values are skipped (the caller refused them after pass 1).
pub(super) fn for_each_chunk(
    path: &Path,
    chunk: usize,
    mut f: impl FnMut(&str, usize, Vec<Json>) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(io("open", path))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
    let failed = RefCell::new(None);
    let sink = ChunkSink {
        chunk: chunk.max(1),
        f: &mut f,
        failed: &failed,
    };
    let parsed = de.deserialize_map(sink);
    if let Some(error) = failed.into_inner() {
        return Err(error);
    }
    parsed.map_err(|e| parse_error(path, e))
}

/// A JSON syntax error or a truncated file, with its line and column.
fn parse_error(path: &Path, error: serde_json::Error) -> Error {
    if error.is_io() {
        return io("read", path)(error.into());
    }
    let text = error.to_string();
    // serde_json appends " at line L column C"; the error carries those as fields.
    let message = text.split(" at line ").next().unwrap_or(&text);
    let reason = if error.is_eof() {
        format!("the file ends early, it is probably truncated ({message})")
    } else {
        format!("invalid JSON: {message}")
    };
    Error::from(TransferError::InvalidImportFile {
        path: path.to_path_buf(),
        line: Some(error.line()),
        column: Some(error.column()),
        reason,
    })
}

/// The JSON kind of a value being skipped, as `healthsim_schema::text::json_kind` names it.
struct Kind;

impl<'de> Visitor<'de> for Kind {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    visit_scalars!(|kind| kind);
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok("a list")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok("an object")
    }
}

struct OutlineVisitor;

impl<'de> Visitor<'de> for OutlineVisitor {
    type Value = Outline;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scenario export")
    }
    visit_scalars!(|_| Outline::NotAnObject);
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Outline, A::Error> {
        Kind.visit_seq(seq).map(|_| Outline::NotAnObject)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Outline, A::Error> {
        let mut fields = Map::new();
        let mut entities = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == ENTITIES {
                entities = Some(map.next_value_seed(EntitiesOutline)?);
            } else if OUTLINE_FIELDS.contains(&key.as_str()) {
                fields.insert(key, map.next_value::<Json>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Outline::Object { fields, entities })
    }
}

/// `entities` in pass 1: per key, the length of its list.
struct EntitiesOutline;

impl<'de> DeserializeSeed<'de> for EntitiesOutline {
    type Value = Entities;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Entities, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntitiesOutline {
    type Value = Entities;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping entity types to lists")
    }
    visit_scalars!(|_| Entities::NotAnObject);
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Entities, A::Error> {
        Kind.visit_seq(seq).map(|_| Entities::NotAnObject)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Entities, A::Error> {
        let mut lists = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            lists.push((key, map.next_value_seed(ListLength)?));
        }
        Ok(Entities::Lists(lists))
    }
}

/// One list of `entities` in pass 1: its length, or the kind of a non-list.
struct ListLength;

impl<'de> DeserializeSeed<'de> for ListLength {
    type Value = std::result::Result<usize, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListLength {
    type Value = std::result::Result<usize, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of entities")
    }
    visit_scalars!(Err);
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Self::Value, A::Error> {
        Kind.visit_map(map).map(Err)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Ok(n))
    }
}

/// Pass 2's top level: skips everything but `entities`.
struct ChunkSink<'a, F> {
    chunk: usize,
    f: &'a mut F,
    failed: &'a RefCell<Option<Error>>,
}

impl<'de, F: FnMut(&str, usize, Vec<Json>) -> Result<()>> Visitor<'de> for ChunkSink<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scenario export")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == ENTITIES {
                map.next_value_seed(EntitiesSink {
                    chunk: self.chunk,
                    f: &mut *self.f,
                    failed: self.failed,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Pass 2's `entities`: each list in chunks.
struct EntitiesSink<'a, F> {
    chunk: usize,
    f: &'a mut F,
    failed: &'a RefCell<Option<Error>>,
}

impl<'de, F: FnMut(&str, usize, Vec<Json>) -> Result<()>> DeserializeSeed<'de>
    for EntitiesSink<'_, F>
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(&str, usize, Vec<Json>) -> Result<()>> Visitor<'de> for EntitiesSink<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping entity types to lists")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            map.next_value_seed(ListSink {
                key: &key,
                chunk: self.chunk,
                f: &mut *self.f,
                failed: self.failed,
            })?;
        }
        Ok(())
    }
}

/// Pass 2's list of one type: chunks handed to the callback.
struct ListSink<'a, F> {
    key: &'a str,
    chunk: usize,
    f: &'a mut F,
    failed: &'a RefCell<Option<Error>>,
}

impl<F: FnMut(&str, usize, Vec<Json>) -> Result<()>> ListSink<'_, F> {
    fn hand_over<E: de::Error>(
        &mut self,
        first: usize,
        items: Vec<Json>,
    ) -> std::result::Result<(), E> {
        (self.f)(self.key, first, items).map_err(|error| {
            *self.failed.borrow_mut() = Some(error);
            E::custom("stopped by the import")
        })
    }
}

impl<'de, F: FnMut(&str, usize, Vec<Json>) -> Result<()>> DeserializeSeed<'de> for ListSink<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, usize, Vec<Json>) -> Result<()>> Visitor<'de> for ListSink<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of entities")
    }
    visit_scalars!(|_| ());
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<(), A::Error> {
        Kind.visit_map(map).map(|_| ())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut first = 0;
        let mut items = Vec::with_capacity(self.chunk);
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
            if items.len() == self.chunk {
                let full = std::mem::replace(&mut items, Vec::with_capacity(self.chunk));
                self.hand_over(first, full)?;
                first += self.chunk;
            }
        }
        if !items.is_empty() {
            self.hand_over(first, items)?;
        }
        Ok(())
    }
}
