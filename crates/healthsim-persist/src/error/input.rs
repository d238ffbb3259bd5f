//! [`InputError`]: the failures of `crate::input`, kept under `error` so the error types form
//! one leaf that every module uses (the module re-exports it).

/// Why the entities of a call are unusable, naming the entity type, index and field; found
/// before anything is written. Wrapped in [`Error::Input`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The entities of a type were not sent as a JSON array.
    #[error("entities of type '{entity_type}' must be a JSON array of objects, got {found}")]
    NotAList {
        /// The type as the caller named it.
        entity_type: String,
        /// The JSON type that came instead (`an object`, `a string`, ...).
        found: &'static str,
    },

    /// An entity is not a JSON object.
    #[error("{entity_type}[{index}] is not a JSON object")]
    NotAnObject {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// Position in the list of that type.
        index: usize,
    },

    /// A required (NOT NULL) column has no value.
    #[error("{entity_type}[{index}]: required field '{field}' is missing or null")]
    MissingField {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// Position in the list of that type.
        index: usize,
        /// The column.
        field: &'static str,
    },

    /// A value cannot be converted to its column's type.
    #[error("{entity_type}[{index}].{field}: {reason}, got {value}")]
    InvalidField {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// Position in the list of that type.
        index: usize,
        /// The field as the input named it (`birthDate`, `name.given`, `period.start`).
        field: String,
        /// The offending value as JSON, cut to about 80 characters.
        value: String,
        /// What was expected.
        reason: String,
    },

    /// The same primary key appears twice for one type in one call.
    #[error(
        "{entity_type}[{index}]: id '{id}' already appears at index {first_index} in this call"
    )]
    DuplicateId {
        /// Table name of the entity type.
        entity_type: &'static str,
        /// The repeated id (cut to about 80 characters).
        id: String,
        /// Where it appeared first.
        first_index: usize,
        /// Where it appeared again.
        index: usize,
    },

    /// A provenance value given for the whole call (`source_type`, `source_system`,
    /// `skill_used`) is empty, too long or holds control characters.
    #[error("provenance {field}: {reason}, got {value}")]
    InvalidProvenance {
        /// The provenance field.
        field: &'static str,
        /// The offending value as JSON, cut to about 80 characters.
        value: String,
        /// What is accepted.
        reason: String,
    },
}

impl InputError {
    /// Always true: every variant is about the entities the caller sent. See
    /// [`Error::is_caller_error`].
    pub fn is_caller_error(&self) -> bool {
        match self {
            InputError::NotAList { .. }
            | InputError::NotAnObject { .. }
            | InputError::MissingField { .. }
            | InputError::InvalidField { .. }
            | InputError::DuplicateId { .. }
            | InputError::InvalidProvenance { .. } => true,
        }
    }
}
