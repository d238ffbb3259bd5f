//! The export formats and the JSON export's header fields, shared by export, import and the
//! path planning that both use.

use serde::{Deserialize, Serialize};

/// The `format` field of a JSON export.
pub const FORMAT_NAME: &str = "healthsim-scenario-export";
/// The `format_version` field of a JSON export; imports refuse newer versions.
pub const FORMAT_VERSION: u64 = 1;

/// The file format of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON document (re-importable with import_scenario).
    #[default]
    Json,
    /// A folder with one CSV file per table (with a header line).
    Csv,
    /// A folder with one Parquet file per table (typed columns).
    Parquet,
}

impl ExportFormat {
    /// Every format, in documentation order.
    pub const ALL: [ExportFormat; 3] =
        [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Parquet];

    /// The lowercase name, also the file extension (`json`, `csv`, `parquet`).
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
        }
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
