//! JSON entities → typed rows, and typed rows → JSON. Pure: no database.
//!
//! [`convert`] is the hot path of every persist call: it maps each input field onto a column of
//! the entity's table (as the registry defines it), parses the value into the column's type, and
//! keeps every field that has no column in the `extra` JSON. Nothing is dropped, except an input
//! `scenario_id`: the scenario of the call wins.
//!
//! # Field mapping
//!
//! - A canonical column name maps to its column; the primary key may also come as `id`.
//! - camelCase keys map to snake_case (`birthDate` → `birth_date`, `postalCode` →
//!   `postal_code`, `patientID` → `patient_id`); `first_name`, `last_name`, `zip`, `zip_code` and
//!   `date_of_birth` are accepted for the demographic columns.
//! - Nested shapes, as objects or FHIR-style lists of objects (the first element is used, the
//!   rest is kept in `extra`):
//!   - `name: {given, middle, family}` (also `first`/`last`, FHIR `given: [..]` whose further
//!     names become the middle name) → `given_name`, `middle_name`, `family_name`;
//!   - `address: {line1 | line | street, city, state, postalCode | postal_code | zip}` (FHIR
//!     `line: [..]` is joined with `, `) → `address`, `city`, `state`, `postal_code` (and
//!     `county_fips`, `country` where the table has them);
//!   - `period: {start, end}` → the table's start and end columns (encounters:
//!     `start_datetime` / `end_datetime`; otherwise the first columns whose names contain
//!     `start_date` / `start_datetime` and `end_date` / `end_datetime`).
//!
//!   Keys of a nested object that map to no column stay in `extra` under the parent key, or
//!   under `<key>_extra` when the parent key is itself a column (`address_extra`).
//! - When two fields name the same column, the canonical name wins over camelCase and `id`,
//!   and both win over a nested shape; the loser is kept in `extra` under its own key.
//! - `source_type`, `source_system`, `skill_used`, `generation_seed` are the provenance columns;
//!   an input `extra` object is merged into `extra` (top-level fields win on equal keys);
//!   `created_at` is kept when it parses as a timestamp (else it stays in `extra`).
//! - `gender` and `state` are stored in one code set each (`F`/`M`/`O`/`U`, USPS codes: see
//!   [`crate::normalize`]); a value given in another spelling (`female`, `Arizona`) is kept in
//!   `extra.normalized_from` (`{"gender": "female"}`), a value outside the code set as given.
//!
//! # Types (by [`ColumnKind`])
//!
//! | kind | accepted |
//! |---|---|
//! | Text, Code | a string; a number or boolean is stored as its JSON text (`250.0`, `true`) |
//! | Integer | an integral number, or a string holding one |
//! | Number | a finite number, or a string holding one |
//! | Money | a number or a string like `"$1,234.56"`; rounded half-to-even to cents; at most 16 digits before the point |
//! | Date | `YYYY-MM-DD`; a full timestamp is accepted and its date taken as written |
//! | Timestamp | RFC 3339 with `Z` or an offset (converted to UTC); naive `YYYY-MM-DDTHH:MM:SS[.fff]` or with a space (taken as UTC); `YYYY-MM-DD` (midnight) |
//! | Boolean | `true`/`false`, `1`/`0`, strings `true`, `false`, `yes`, `no`, `y`, `n`, `t`, `f`, `1`, `0` |
//! | Json | any JSON value |
//!
//! `null` is NULL. A missing or null required column is [`InputError::MissingField`], except the
//! primary key, which gets a generated id.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use duckdb::types::{Decimal, TimeUnit, Value};
use healthsim_schema::value::{json_column, to_json};
use healthsim_schema::{ColumnKind, EntityType, ENTITY_TYPES, EXTRA_COLUMN};
use once_cell::sync::Lazy;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::normalize::{CodeSet, NORMALIZED_FROM};

pub use crate::error::InputError;
use crate::error::{truncate, Error};

/// The longest primary key [`convert`] accepts, in characters. FHIR ids have at most 64
/// characters and UUIDs 36; a longer key is almost certainly a mistake, and every persist result
/// lists the ids it stored, so one megabyte-long id made each call slow (it is serialized and
/// measured against the result's token budget). Reference columns (`patient_id` of an
/// encounter, ...) are not bounded: they are ordinary text that no result repeats, and one
/// longer than this simply matches no entity.
pub const MAX_ID_CHARS: usize = 256;

/// The longest provenance text (`source_type`, `source_system`, `skill_used`) a call may set for
/// all its rows, in characters.
pub const MAX_PROVENANCE_CHARS: usize = 200;

/// The provenance columns of a row: who generated it and how.
///
/// Set per entity (its own `source_type`, ... fields) or once per call (the request's
/// provenance, checked by [`Provenance::validate`]); a per-entity value wins over the per-call
/// one, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Provenance {
    /// Kind of source (`generated`, `imported`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The system the data imitates or came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_system: Option<String>,
    /// The HealthSim skill that generated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_used: Option<String>,
    /// The random seed of the generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_seed: Option<i64>,
}

impl Provenance {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Provenance::default()
    }

    /// Checks provenance given for a whole call: each text must hold something besides
    /// spaces, at most [`MAX_PROVENANCE_CHARS`] characters and no control characters (it is
    /// stored on every row of the call). Errors: [`InputError::InvalidProvenance`] naming the
    /// field.
    pub fn validate(&self) -> Result<(), Error> {
        let texts = [
            ("source_type", &self.source_type),
            ("source_system", &self.source_system),
            ("skill_used", &self.skill_used),
        ];
        for (field, value) in texts {
            let Some(value) = value else { continue };
            let length = value.chars().count();
            let reason = if value.trim().is_empty() {
                Some("must not be empty (omit it instead)".to_string())
            } else if length > MAX_PROVENANCE_CHARS {
                Some(format!(
                    "has at most {MAX_PROVENANCE_CHARS} characters, this one has {length}"
                ))
            } else if value.chars().any(char::is_control) {
                Some("must not hold control characters (line breaks, tabs, ...)".to_string())
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(InputError::InvalidProvenance {
                    field,
                    value: truncate(&Json::from(value.as_str()).to_string()),
                    reason,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Each field of `self`, or the one of `defaults` where `self` has none.
    pub fn or(&self, defaults: &Provenance) -> Provenance {
        Provenance {
            source_type: self
                .source_type
                .clone()
                .or_else(|| defaults.source_type.clone()),
            source_system: self
                .source_system
                .clone()
                .or_else(|| defaults.source_system.clone()),
            skill_used: self
                .skill_used
                .clone()
                .or_else(|| defaults.skill_used.clone()),
            generation_seed: self.generation_seed.or(defaults.generation_seed),
        }
    }
}

/// One entity converted to the columns of its table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The primary key (given, or generated).
    pub id: String,
    /// One value per domain column of the registry, in registry order.
    pub values: Vec<Value>,
    /// The provenance columns given by the entity itself.
    pub provenance: Provenance,
    /// Every field without a column, as the text of a JSON object; `None` when there is none.
    pub extra: Option<String>,
    /// The entity's own `created_at`, when it had one that parses.
    pub created_at: Option<NaiveDateTime>,
}

/// Keeps the spelling a normalized column was given under `extra.normalized_from.<column>`
/// (an earlier record of the same column, e.g. of an exported entity, is kept). When the input
/// already used `normalized_from` for something else than an object, that is kept instead.
fn record_given(extra: &mut Map<String, Json>, column: &str, given: String) {
    let record = extra
        .entry(NORMALIZED_FROM)
        .or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(record) = record {
        record.entry(column).or_insert_with(|| Json::String(given));
    }
}

/// Converts the entities of one type into rows. See the [module documentation](self) for the
/// mapping and the accepted values.
///
/// `new_id` makes a primary key for an entity that has none.
///
/// # Errors
///
/// [`InputError::NotAnObject`], [`InputError::MissingField`], [`InputError::InvalidField`]
/// (naming the entity type, index, field and value; also an empty id, or one longer than
/// [`MAX_ID_CHARS`]) and [`InputError::DuplicateId`] (the same id twice in `entities`), each
/// wrapped in [`Error::Input`].
pub fn convert(
    entity_type: &'static EntityType,
    entities: &[Json],
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<Row>, Error> {
    convert_with_extras(
        entity_type,
        entities,
        std::iter::repeat_with(Map::new),
        new_id,
    )
}

/// [`convert`] for entities the caller hands over: each entity's `extra` object is moved into
/// its row's `extra` instead of copied. The rows and the errors are [`convert`]'s; only the
/// order of the keys in a row's `extra` may differ, the input's `extra` fields coming first.
/// A FHIR import keeps each whole resource there, so this saves copying every resource.
///
/// # Errors
///
/// As [`convert`].
pub fn convert_owned(
    entity_type: &'static EntityType,
    mut entities: Vec<Json>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<Row>, Error> {
    let extras: Vec<Map<String, Json>> = entities.iter_mut().map(take_extra_object).collect();
    convert_with_extras(entity_type, &entities, extras, new_id)
}

/// An entity's `extra` object, taken out of it: an empty one stays in its place, which
/// [`Converter::row`] merges as nothing. An empty map when the entity has no `extra` object (an
/// `extra` that is not an object stays for [`Converter::row`] to keep).
fn take_extra_object(entity: &mut Json) -> Map<String, Json> {
    match entity.get_mut(EXTRA_COLUMN) {
        Some(Json::Object(extra)) => std::mem::take(extra),
        _ => Map::new(),
    }
}

/// [`convert`], each row's `extra` starting from the next of `extras` (top-level fields still
/// win over its keys, as they win over the fields of an `extra` object).
fn convert_with_extras(
    entity_type: &'static EntityType,
    entities: &[Json],
    extras: impl IntoIterator<Item = Map<String, Json>>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<Row>, Error> {
    let owned;
    let layout = match ENTITY_TYPES
        .iter()
        .position(|t| t.table == entity_type.table)
    {
        Some(i) => &LAYOUTS[i],
        None => {
            owned = Layout::new(entity_type);
            &owned
        }
    };
    let mut converter = Converter::new(entity_type, layout);
    let mut rows = Vec::with_capacity(entities.len());
    for ((index, entity), extra) in entities.iter().enumerate().zip(extras) {
        let Json::Object(object) = entity else {
            return Err(InputError::NotAnObject {
                entity_type: entity_type.table,
                index,
            }
            .into());
        };
        rows.push(converter.row(index, object, extra, new_id)?);
    }
    check_duplicates(entity_type, &rows)?;
    Ok(rows)
}

/// The inverse of [`convert`] for reading back: the non-NULL domain columns under their
/// canonical names, then the fields of `extra` (a column wins over an `extra` field of the same
/// name). Values are rendered by [`healthsim_schema::value::to_json`]: dates `YYYY-MM-DD`,
/// timestamps `YYYY-MM-DDTHH:MM:SSZ`, money as numbers, JSON columns as JSON.
pub fn row_to_json(
    entity_type: &EntityType,
    values: &[Value],
    extra: Option<&str>,
) -> Map<String, Json> {
    let mut out = Map::new();
    for (column, value) in entity_type.columns().zip(values) {
        let json = match (column.kind, value) {
            (_, Value::Null) => continue,
            (ColumnKind::Json, Value::Text(text)) => json_column(text),
            _ => to_json(value),
        };
        out.insert(column.name.to_string(), json);
    }
    match extra.map(json_column) {
        None | Some(Json::Null) => {}
        Some(Json::Object(fields)) => {
            for (key, value) in fields {
                out.entry(key).or_insert(value);
            }
        }
        Some(other) => {
            out.entry("extra").or_insert(other);
        }
    }
    out
}

fn check_duplicates(entity_type: &'static EntityType, rows: &[Row]) -> Result<(), Error> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        if let Some(first_index) = seen.insert(&row.id, index) {
            return Err(InputError::DuplicateId {
                entity_type: entity_type.table,
                id: truncate(&row.id),
                first_index,
                index,
            }
            .into());
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Layout: where each input key goes, computed once per entity type.

/// A destination of an input value. Columns come first, then the extra slots below.
type Slot = usize;

/// The non-column slots, after the domain columns.
const SOURCE_TYPE: usize = 0;
const SOURCE_SYSTEM: usize = 1;
const SKILL_USED: usize = 2;
const GENERATION_SEED: usize = 3;
const CREATED_AT: usize = 4;
const SYSTEM_SLOTS: usize = 5;

/// What a top-level key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// A column or system slot.
    Slot(Slot),
    /// The input's own `extra` object.
    Extra,
    /// `scenario_id`: the call's scenario wins.
    Ignored,
    /// `name` / `address` / `period`, when given as an object.
    Nested(Group),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Name,
    Address,
    Period,
}

/// Where one entity type's input goes.
struct Layout {
    kinds: Vec<ColumnKind>,
    required: Vec<bool>,
    names: Vec<&'static str>,
    pk: usize,
    /// Canonical keys: column names, provenance, created_at, extra, scenario_id.
    exact: HashMap<&'static str, Key>,
    /// given, middle, family.
    name: [Option<Slot>; 3],
    /// address, city, state, postal_code, county_fips, country.
    address: [Option<Slot>; 6],
    /// start, end.
    period: [Option<Slot>; 2],
    /// Columns stored in a code set (see [`crate::normalize`]).
    code_sets: Vec<(Slot, CodeSet)>,
}

static LAYOUTS: Lazy<Vec<Layout>> = Lazy::new(|| ENTITY_TYPES.iter().map(Layout::new).collect());

/// Top-level synonyms, looked up after snake_casing, used only where the table has the target.
const SYNONYMS: &[(&str, &str)] = &[
    ("first_name", "given_name"),
    ("last_name", "family_name"),
    ("zip", "postal_code"),
    ("zip_code", "postal_code"),
    ("date_of_birth", "birth_date"),
];

impl Layout {
    fn new(t: &EntityType) -> Layout {
        let columns: Vec<_> = t.columns().collect();
        let n = columns.len();
        let mut exact: HashMap<&'static str, Key> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, Key::Slot(i)))
            .collect();
        for (name, slot) in [
            ("source_type", SOURCE_TYPE),
            ("source_system", SOURCE_SYSTEM),
            ("skill_used", SKILL_USED),
            ("generation_seed", GENERATION_SEED),
            ("created_at", CREATED_AT),
        ] {
            exact.insert(name, Key::Slot(n + slot));
        }
        exact.insert(healthsim_schema::EXTRA_COLUMN, Key::Extra);
        exact.insert(healthsim_schema::SCENARIO_COLUMN, Key::Ignored);
        let find = |name: &str| columns.iter().position(|c| c.name == name);
        let find_containing = |parts: &[&str]| {
            columns
                .iter()
                .position(|c| parts.iter().any(|p| c.name.contains(p)))
        };
        let (start, end) = if t.table == "encounters" {
            (find("start_datetime"), find("end_datetime"))
        } else {
            (
                find_containing(&["start_date", "start_datetime"]),
                find_containing(&["end_date", "end_datetime"]),
            )
        };
        Layout {
            kinds: columns.iter().map(|c| c.kind).collect(),
            required: columns.iter().map(|c| c.required).collect(),
            names: columns.iter().map(|c| c.name).collect(),
            pk: find(t.primary_key).unwrap_or(0),
            exact,
            name: [find("given_name"), find("middle_name"), find("family_name")],
            address: [
                find("address"),
                find("city"),
                find("state"),
                find("postal_code"),
                find("county_fips"),
                find("country"),
            ],
            // A period needs somewhere to put its start; without one it stays in extra.
            period: if start.is_some() {
                [start, end]
            } else {
                [None, None]
            },
            code_sets: columns
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c.kind, ColumnKind::Code | ColumnKind::Text))
                .filter_map(|(i, c)| Some((i, CodeSet::of_column(c.name)?)))
                .collect(),
        }
    }

    fn columns(&self) -> usize {
        self.kinds.len()
    }

    fn group_targets(&self, group: Group) -> &[Option<Slot>] {
        match group {
            Group::Name => &self.name,
            Group::Address => &self.address,
            Group::Period => &self.period,
        }
    }

    /// Whether `value` under a group key is taken apart rather than stored as one value.
    fn nests(&self, group: Group, value: &Json) -> bool {
        let shaped = match value {
            Json::Object(_) => true,
            Json::Array(items) => matches!(items.first(), Some(Json::Object(_))),
            _ => false,
        };
        shaped && self.group_targets(group).iter().any(Option::is_some)
    }

    /// Where a top-level key goes, and whether it is an alias (loses to a canonical key).
    fn classify(&self, key: &str, value: &Json) -> Option<(Key, bool)> {
        let snake = to_snake(key);
        let canonical = snake.as_deref().unwrap_or(key);
        let alias = snake.is_some();
        if let Some(group) = group_of(canonical) {
            if self.nests(group, value) {
                return Some((Key::Nested(group), alias));
            }
        }
        if let Some(found) = self.exact.get(canonical) {
            return Some((*found, alias));
        }
        if canonical == "id" {
            return Some((Key::Slot(self.pk), true));
        }
        SYNONYMS
            .iter()
            .find(|(from, _)| *from == canonical)
            .and_then(|(_, to)| self.exact.get(to))
            .map(|found| (*found, true))
    }
}

fn group_of(key: &str) -> Option<Group> {
    match key {
        "name" => Some(Group::Name),
        "address" => Some(Group::Address),
        "period" => Some(Group::Period),
        _ => None,
    }
}

/// Index into the group's targets for a key of a nested object.
fn nested_target(group: Group, key: &str) -> Option<usize> {
    match group {
        Group::Name => match key {
            "given" | "first" | "given_name" | "givenName" | "first_name" | "firstName" => Some(0),
            "middle" | "middle_name" | "middleName" => Some(1),
            "family" | "last" | "family_name" | "familyName" | "last_name" | "lastName"
            | "surname" => Some(2),
            _ => None,
        },
        Group::Address => match key {
            "line1" | "line" | "street" | "address" | "address_line1" | "addressLine1"
            | "street_address" | "streetAddress" => Some(0),
            "city" => Some(1),
            "state" => Some(2),
            "postalCode" | "postal_code" | "zip" | "zipCode" | "zip_code" | "postcode" => Some(3),
            "county_fips" | "countyFips" => Some(4),
            "country" => Some(5),
            _ => None,
        },
        Group::Period => match key {
            "start" => Some(0),
            "end" => Some(1),
            _ => None,
        },
    }
}

/// snake_case of a camelCase (or kebab-case) key; `None` when the key has nothing to change,
/// so the common case allocates nothing.
fn to_snake(key: &str) -> Option<String> {
    if !key
        .bytes()
        .any(|b| b.is_ascii_uppercase() || b == b'-' || b == b' ')
    {
        return None;
    }
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == ' ' {
            out.push('_');
        } else if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

// ------------------------------------------------------------------------------------------
// Conversion of one entity.

/// Where an assigned value came from, for error messages.
#[derive(Debug, Clone, Copy)]
enum Field<'a> {
    Top(&'a str),
    Nested(&'a str, &'a str),
}

impl Field<'_> {
    fn render(self) -> String {
        match self {
            Field::Top(key) => key.to_string(),
            Field::Nested(parent, key) => format!("{parent}.{key}"),
        }
    }

    fn key(self) -> String {
        match self {
            Field::Top(key) | Field::Nested(_, key) => key.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
struct Assigned<'a> {
    field: Field<'a>,
    value: Cow<'a, Json>,
}

/// Reusable buffers for converting the entities of one call.
struct Converter<'l, 'a> {
    entity_type: &'static EntityType,
    layout: &'l Layout,
    slots: Vec<Option<Assigned<'a>>>,
    aliases: Vec<(&'a str, &'a Json, Slot)>,
    nested: Vec<(&'a str, &'a Json, Group)>,
}

impl<'l, 'a> Converter<'l, 'a> {
    fn new(entity_type: &'static EntityType, layout: &'l Layout) -> Self {
        Converter {
            entity_type,
            layout,
            slots: Vec::new(),
            aliases: Vec::new(),
            nested: Vec::new(),
        }
    }

    fn row(
        &mut self,
        index: usize,
        object: &'a Map<String, Json>,
        mut extra: Map<String, Json>,
        new_id: &mut dyn FnMut() -> String,
    ) -> Result<Row, Error> {
        let layout = self.layout;
        let n = layout.columns();
        self.slots.clear();
        self.slots.resize(n + SYSTEM_SLOTS, None);
        self.aliases.clear();
        self.nested.clear();

        // Canonical keys first; aliases and nested shapes only fill what is left.
        for (key, value) in object {
            match layout.classify(key, value) {
                Some((Key::Slot(slot), false)) => {
                    self.slots[slot] = Some(Assigned {
                        field: Field::Top(key),
                        value: Cow::Borrowed(value),
                    });
                }
                Some((Key::Slot(slot), true)) => self.aliases.push((key, value, slot)),
                Some((Key::Nested(group), _)) => self.nested.push((key, value, group)),
                Some((Key::Extra, _)) => match value {
                    Json::Object(fields) => {
                        for (k, v) in fields {
                            extra.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    Json::Null => {}
                    other => {
                        extra.insert(key.clone(), other.clone());
                    }
                },
                Some((Key::Ignored, _)) => {}
                None => {
                    extra.insert(key.clone(), value.clone());
                }
            }
        }
        for i in 0..self.aliases.len() {
            let (key, value, slot) = self.aliases[i];
            if self.slots[slot].is_none() {
                self.slots[slot] = Some(Assigned {
                    field: Field::Top(key),
                    value: Cow::Borrowed(value),
                });
            } else {
                extra.insert(key.to_string(), value.clone());
            }
        }
        for i in 0..self.nested.len() {
            let (key, value, group) = self.nested[i];
            if let Some(leftover) = self.take_apart(index, key, value, group)? {
                // Under its own key, unless that key is a column (`address`), which would hide it.
                let extra_key = match layout.exact.get(key) {
                    Some(Key::Slot(_)) => format!("{key}_extra"),
                    _ => key.to_string(),
                };
                extra.insert(extra_key, leftover);
            }
        }

        let mut values = Vec::with_capacity(n);
        let mut id = None;
        for slot in 0..n {
            let given_as = self.slots[slot].as_ref().map(|assigned| assigned.field);
            let value = match self.slots[slot].take() {
                Some(Assigned { value, .. }) if value.is_null() => Value::Null,
                Some(Assigned { field, value }) => parse_value(layout.kinds[slot], &value)
                    .map_err(|reason| invalid(self.entity_type, index, field, &value, reason))?,
                None => Value::Null,
            };
            if slot == layout.pk {
                let text = match value {
                    Value::Text(text) => text,
                    _ => new_id(),
                };
                if text.is_empty() {
                    let field = Field::Top(layout.names[slot]);
                    return Err(invalid(
                        self.entity_type,
                        index,
                        field,
                        &Json::from(""),
                        "an id must not be empty",
                    ));
                }
                let length = text.chars().count();
                if length > MAX_ID_CHARS {
                    let field = given_as.unwrap_or(Field::Top(layout.names[slot]));
                    return Err(invalid(
                        self.entity_type,
                        index,
                        field,
                        &Json::from(text),
                        format!(
                            "an id has at most {MAX_ID_CHARS} characters, this one has {length}"
                        ),
                    ));
                }
                values.push(Value::Text(text.clone()));
                id = Some(text);
                continue;
            }
            if layout.required[slot] && matches!(value, Value::Null) {
                return Err(InputError::MissingField {
                    entity_type: self.entity_type.table,
                    index,
                    field: layout.names[slot],
                }
                .into());
            }
            values.push(value);
        }

        for &(slot, code_set) in &layout.code_sets {
            let Some(Value::Text(given)) = values.get(slot) else {
                continue;
            };
            let Some(code) = code_set.normalize(given).filter(|code| code != given) else {
                continue;
            };
            let given = std::mem::replace(&mut values[slot], Value::Text(code.to_string()));
            if let Value::Text(given) = given {
                record_given(&mut extra, layout.names[slot], given);
            }
        }

        let mut text_slot = |slot: usize| -> Result<Option<String>, Error> {
            match self.slots[n + slot].take() {
                Some(Assigned { field, value }) if !value.is_null() => {
                    match parse_value(ColumnKind::Text, &value) {
                        Ok(Value::Text(text)) => Ok(Some(text)),
                        Ok(_) => Ok(None),
                        Err(reason) => Err(invalid(self.entity_type, index, field, &value, reason)),
                    }
                }
                _ => Ok(None),
            }
        };
        let source_type = text_slot(SOURCE_TYPE)?;
        let source_system = text_slot(SOURCE_SYSTEM)?;
        let skill_used = text_slot(SKILL_USED)?;
        let generation_seed = match self.slots[n + GENERATION_SEED].take() {
            Some(Assigned { field, value }) if !value.is_null() => {
                match parse_value(ColumnKind::Integer, &value) {
                    Ok(Value::BigInt(seed)) => Some(seed),
                    Ok(_) => None,
                    Err(reason) => {
                        return Err(invalid(self.entity_type, index, field, &value, reason))
                    }
                }
            }
            _ => None,
        };
        let created_at = match self.slots[n + CREATED_AT].take() {
            Some(Assigned { field, value }) if !value.is_null() => {
                match value.as_str().map(parse_timestamp) {
                    Some(Ok(at)) => Some(at),
                    // Not a timestamp: kept as data rather than dropped.
                    _ => {
                        extra.insert(field.key(), value.into_owned());
                        None
                    }
                }
            }
            _ => None,
        };

        Ok(Row {
            id: id.unwrap_or_default(),
            values,
            provenance: Provenance {
                source_type,
                source_system,
                skill_used,
                generation_seed,
            },
            extra: (!extra.is_empty()).then(|| json_text(&extra)),
            created_at,
        })
    }

    /// Assigns the parts of a nested `name` / `address` / `period` (object, or list whose first
    /// element is an object) to free columns; returns what is left to keep in `extra`.
    fn take_apart(
        &mut self,
        index: usize,
        key: &'a str,
        value: &'a Json,
        group: Group,
    ) -> Result<Option<Json>, Error> {
        let (object, rest) = match value {
            Json::Object(object) => (object, &[][..]),
            Json::Array(items) => match items.split_first() {
                Some((Json::Object(object), rest)) => (object, rest),
                _ => return Ok(Some(value.clone())),
            },
            _ => return Ok(Some(value.clone())),
        };
        let targets = self.layout.group_targets(group);
        let mut leftover = Map::new();
        for (sub_key, sub_value) in object {
            let slot = nested_target(group, sub_key).and_then(|i| targets[i]);
            let Some(slot) = slot.filter(|s| self.slots[*s].is_none()) else {
                leftover.insert(sub_key.clone(), sub_value.clone());
                continue;
            };
            let field = Field::Nested(key, sub_key);
            let value = match (group, nested_target(group, sub_key), sub_value) {
                // FHIR HumanName.given: first name, then middle names.
                (Group::Name, Some(0), Json::Array(names)) => {
                    let names = strings(names).ok_or_else(|| {
                        invalid(
                            self.entity_type,
                            index,
                            field,
                            sub_value,
                            "expected a list of names (strings)",
                        )
                    })?;
                    let Some((first, more)) = names.split_first() else {
                        leftover.insert(sub_key.clone(), sub_value.clone());
                        continue;
                    };
                    if let Some(middle) =
                        targets[1].filter(|s| !more.is_empty() && self.slots[*s].is_none())
                    {
                        self.slots[middle] = Some(Assigned {
                            field,
                            value: Cow::Owned(Json::from(more.join(" "))),
                        });
                    }
                    Cow::Owned(Json::from(*first))
                }
                // FHIR Address.line: the lines joined.
                (Group::Address, Some(0), Json::Array(lines)) => {
                    let lines = strings(lines).ok_or_else(|| {
                        invalid(
                            self.entity_type,
                            index,
                            field,
                            sub_value,
                            "expected a list of address lines (strings)",
                        )
                    })?;
                    Cow::Owned(Json::from(lines.join(", ")))
                }
                _ => Cow::Borrowed(sub_value),
            };
            self.slots[slot] = Some(Assigned { field, value });
        }
        Ok(if rest.is_empty() {
            (!leftover.is_empty()).then_some(Json::Object(leftover))
        } else {
            let mut items = vec![Json::Object(leftover)];
            items.extend(rest.iter().cloned());
            Some(Json::Array(items))
        })
    }
}

/// A row's `extra` as JSON text, serialized straight into bytes: `Display` goes through a
/// formatter, which made this step about three times as costly in a FHIR import's profile. A
/// map of JSON values always serializes; the fallback is `Display`'s text, never reached.
fn json_text(extra: &Map<String, Json>) -> String {
    serde_json::to_string(extra).unwrap_or_else(|_| Json::Object(extra.clone()).to_string())
}

fn invalid(
    entity_type: &'static EntityType,
    index: usize,
    field: Field<'_>,
    value: &Json,
    reason: impl Into<String>,
) -> Error {
    InputError::InvalidField {
        entity_type: entity_type.table,
        index,
        field: field.render(),
        value: truncate(&value.to_string()),
        reason: reason.into(),
    }
    .into()
}

fn strings(items: &[Json]) -> Option<Vec<&str>> {
    items.iter().map(Json::as_str).collect()
}

// ------------------------------------------------------------------------------------------
// Values.

/// Why a value does not fit its column.
type Reason = Cow<'static, str>;

/// Parses one non-null JSON value into the DuckDB value of a column of `kind`.
fn parse_value(kind: ColumnKind, value: &Json) -> Result<Value, Reason> {
    match kind {
        ColumnKind::Text | ColumnKind::Code => match value {
            Json::String(s) => Ok(Value::Text(s.clone())),
            Json::Number(n) => Ok(Value::Text(n.to_string())),
            Json::Bool(b) => Ok(Value::Text(b.to_string())),
            Json::Null => Ok(Value::Null),
            Json::Array(_) => Err("expected text, not a list".into()),
            Json::Object(_) => Err("expected text, not an object".into()),
        },
        ColumnKind::Integer => parse_integer(value).map(Value::BigInt),
        ColumnKind::Number => parse_number(value).map(Value::Double),
        ColumnKind::Money => {
            let cents = match value {
                Json::Number(n) => parse_cents(&n.to_string()),
                Json::String(s) => parse_cents(s),
                _ => Err(MONEY.into()),
            }?;
            Decimal::new(18, 2, cents)
                .map(Value::Decimal)
                .map_err(|_| MONEY_RANGE.into())
        }
        ColumnKind::Date => {
            let text = value.as_str().ok_or(DATE)?;
            parse_date(text).map(|d| Value::Date32(days_since_epoch(d)))
        }
        ColumnKind::Timestamp => {
            let text = value.as_str().ok_or(TIMESTAMP)?;
            parse_timestamp(text)
                .map(|t| Value::Timestamp(TimeUnit::Microsecond, t.and_utc().timestamp_micros()))
        }
        ColumnKind::Boolean => parse_boolean(value).map(Value::Boolean),
        ColumnKind::Json => Ok(Value::Text(value.to_string())),
    }
}

const INTEGER: &str = "expected a whole number";
const NUMBER: &str = "expected a number";
const MONEY: &str = "expected an amount of money (a number, or text like \"$1,234.56\")";
const MONEY_RANGE: &str =
    "amount out of range for DECIMAL(18,2) (at most 16 digits before the point)";
const DATE: &str = "expected a date YYYY-MM-DD";
const TIMESTAMP: &str =
    "expected a timestamp YYYY-MM-DDTHH:MM:SS (with Z, an offset, or none for UTC)";
const CALENDAR: &str = "not a valid calendar date";
const BOOLEAN: &str = "expected true/false (or yes/no, y/n, 1/0)";

fn parse_integer(value: &Json) -> Result<i64, Reason> {
    let from_float = |f: f64| -> Result<i64, Reason> {
        // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
        if f.is_finite() && f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) {
            Ok(f as i64)
        } else {
            Err(INTEGER.into())
        }
    };
    match value {
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i),
            (None, _) if n.is_u64() => Err("whole number out of range (64-bit)".into()),
            (None, Some(f)) => from_float(f),
            (None, None) => Err(INTEGER.into()),
        },
        Json::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => Ok(i),
                Err(_) => from_float(s.parse::<f64>().map_err(|_| INTEGER)?),
            }
        }
        _ => Err(INTEGER.into()),
    }
}

fn parse_number(value: &Json) -> Result<f64, Reason> {
    let f = match value {
        Json::Number(n) => n.as_f64().ok_or(NUMBER)?,
        Json::String(s) => s.trim().parse::<f64>().map_err(|_| NUMBER)?,
        _ => return Err(NUMBER.into()),
    };
    if f.is_finite() {
        Ok(f)
    } else {
        Err("expected a finite number (not NaN or infinity)".into())
    }
}

fn parse_boolean(value: &Json) -> Result<bool, Reason> {
    match value {
        Json::Bool(b) => Ok(*b),
        Json::Number(n) => match n.as_f64() {
            Some(1.0) => Ok(true),
            Some(0.0) => Ok(false),
            _ => Err(BOOLEAN.into()),
        },
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "t" | "1" => Ok(true),
            "false" | "no" | "n" | "f" | "0" => Ok(false),
            _ => Err(BOOLEAN.into()),
        },
        _ => Err(BOOLEAN.into()),
    }
}

/// Largest number of cents in a DECIMAL(18,2).
const MAX_CENTS: i128 = 999_999_999_999_999_999;

/// Parses an amount (`1234.5`, `-0.005`, `"$1,234.56"`, `"-$5"`, `1e3`) into cents, rounding
/// half to even.
fn parse_cents(text: &str) -> Result<i128, Reason> {
    let mut s = text.trim();
    let mut negative = false;
    for _ in 0..2 {
        if let Some(rest) = s.strip_prefix('-') {
            negative = !negative;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        if let Some(rest) = s.strip_prefix('$') {
            s = rest.trim_start();
        }
    }
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], s[at + 1..].parse::<i32>().map_err(|_| MONEY)?),
        None => (s, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let int_digits: String = int_part.chars().filter(|c| *c != ',').collect();
    let groups_ok = int_part.is_empty()
        || !int_part.starts_with(',') && !int_part.ends_with(',') && !int_part.contains(",,");
    if !groups_ok
        || (int_digits.is_empty() && frac_part.is_empty())
        || !int_digits.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(MONEY.into());
    }
    let digits = format!("{int_digits}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 36 {
        return Err(MONEY_RANGE.into());
    }
    let mut value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| MONEY)?
    };
    // value * 10^-(scale) is the amount; cents need scale 2.
    let frac_len = i32::try_from(frac_part.len()).map_err(|_| MONEY)?;
    let scale = frac_len.saturating_sub(exponent);
    if scale <= 2 {
        for _ in 0..(2 - scale) {
            value = value.checked_mul(10).ok_or(MONEY_RANGE)?;
            if value > MAX_CENTS {
                return Err(MONEY_RANGE.into());
            }
        }
    } else {
        let shift = scale - 2;
        if shift > 38 {
            value = 0;
        } else {
            let divisor = 10i128.pow(shift.unsigned_abs());
            let (quotient, remainder) = (value / divisor, value % divisor);
            value = match (2 * remainder).cmp(&divisor) {
                std::cmp::Ordering::Greater => quotient + 1,
                std::cmp::Ordering::Equal => quotient + (quotient & 1),
                std::cmp::Ordering::Less => quotient,
            };
        }
    }
    if value > MAX_CENTS {
        return Err(MONEY_RANGE.into());
    }
    Ok(if negative { -value } else { value })
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    let days = date.signed_duration_since(NaiveDate::default()).num_days();
    // Four-digit years keep this far inside i32.
    i32::try_from(days).unwrap_or(i32::MAX)
}

/// The `YYYY-MM-DD` head of a date or timestamp, checked for shape then for the calendar.
fn date_head(text: &str, shape_error: &'static str) -> Result<NaiveDate, Reason> {
    let head = text.get(..10).ok_or(shape_error)?;
    let shaped = head.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    if !shaped {
        return Err(shape_error.into());
    }
    NaiveDate::parse_from_str(head, "%Y-%m-%d").map_err(|_| CALENDAR.into())
}

/// A date; a full timestamp is accepted (and validated) and its date taken as written.
fn parse_date(text: &str) -> Result<NaiveDate, Reason> {
    let text = text.trim();
    let date = date_head(text, DATE)?;
    if text.len() > 10 {
        parse_timestamp(text).map_err(|_| Reason::from(DATE))?;
    }
    Ok(date)
}

/// A timestamp in UTC.
pub(crate) fn parse_timestamp(text: &str) -> Result<NaiveDateTime, Reason> {
    let text = text.trim();
    let date = date_head(text, TIMESTAMP)?;
    if text.len() == 10 {
        return Ok(date.and_time(chrono::NaiveTime::MIN));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc).naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.with_timezone(&Utc).naive_utc());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t);
        }
    }
    Err(TIMESTAMP.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_snake(key: &str, expected: Option<&str>) {
        assert_eq!(to_snake(key).as_deref(), expected, "to_snake({key})");
    }

    #[test]
    fn snake_cases_keys() {
        check_snake("birth_date", None);
        check_snake("birthDate", Some("birth_date"));
        check_snake("postalCode", Some("postal_code"));
        check_snake("patientID", Some("patient_id"));
        check_snake("NPI", Some("npi"));
        check_snake("HTTPServer", Some("http_server"));
        check_snake("drg-code", Some("drg_code"));
        check_snake("spo2", None);
    }

    fn check_cents(text: &str, expected: Result<i128, ()>) {
        assert_eq!(
            parse_cents(text).map_err(|_| ()),
            expected,
            "parse_cents({text})"
        );
    }

    #[test]
    fn parses_money_to_cents() {
        check_cents("0", Ok(0));
        check_cents("1234.56", Ok(123_456));
        check_cents("$1,234.56", Ok(123_456));
        check_cents("-$5", Ok(-500));
        check_cents("$-5.5", Ok(-550));
        check_cents("+3", Ok(300));
        check_cents(".5", Ok(50));
        check_cents("5.", Ok(500));
        check_cents("0.125", Ok(12)); // half to even: down
        check_cents("0.135", Ok(14)); // half to even: up
        check_cents("0.1251", Ok(13));
        check_cents("1e3", Ok(100_000));
        check_cents("1.5e-7", Ok(0));
        check_cents("9999999999999999.99", Ok(MAX_CENTS));
        check_cents("10000000000000000", Err(()));
        check_cents("1e30", Err(()));
        check_cents("", Err(()));
        check_cents("$", Err(()));
        check_cents("12a", Err(()));
        check_cents("1,,000", Err(()));
        check_cents("1.2.3", Err(()));
    }

    fn check_timestamp(text: &str, expected: Option<&str>) {
        let got = parse_timestamp(text)
            .ok()
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string());
        assert_eq!(got.as_deref(), expected, "parse_timestamp({text})");
    }

    #[test]
    fn parses_timestamps_to_utc() {
        check_timestamp("2024-03-01T08:30:00Z", Some("2024-03-01T08:30:00"));
        check_timestamp("2024-03-01T08:30:00.250Z", Some("2024-03-01T08:30:00.250"));
        check_timestamp("2024-03-01T08:30:00-05:00", Some("2024-03-01T13:30:00"));
        check_timestamp("2024-03-01T08:30:00+0100", Some("2024-03-01T07:30:00"));
        check_timestamp("2024-03-01 08:30:00+01:00", Some("2024-03-01T07:30:00"));
        check_timestamp("2024-03-01T08:30:00", Some("2024-03-01T08:30:00"));
        check_timestamp("2024-03-01 08:30:00.5", Some("2024-03-01T08:30:00.500"));
        check_timestamp("2024-03-01T08:30", Some("2024-03-01T08:30:00"));
        check_timestamp("2024-03-01", Some("2024-03-01T00:00:00"));
        check_timestamp("2024-02-30T08:30:00Z", None);
        check_timestamp("2024-03-01T25:00:00Z", None);
        check_timestamp("yesterday", None);
    }
}
