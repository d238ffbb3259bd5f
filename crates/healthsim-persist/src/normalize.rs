//! One code per meaning in the columns statistics group by.
//!
//! Agents write the same gender as `F`, `female` or `Female` (FHIR says `female`, X12 and our
//! generator `F`) and the same state as `AZ`, `az` or `Arizona`; stored as given, one group of
//! a summary or query splits into several. So [`crate::convert`], which every write path that
//! takes entities goes through (persist, JSON import, FHIR import), stores these columns in one
//! documented code set and keeps the spelling it was given in the entity's `extra`, under
//! [`NORMALIZED_FROM`] (`{"normalized_from": {"gender": "female"}}`), only when it differed.
//! [`normalize_stored`] does the same in SQL for a CSV or Parquet folder import, which inserts
//! rows without `convert`.
//! A value outside the code set is kept as given: it is data, not an error.
//!
//! | column | code set | accepted (case and surrounding spaces ignored) |
//! |---|---|---|
//! | `gender` | `F`, `M`, `O` (other), `U` (unknown): HL7 v2 administrative sex, as X12 and SDTM write it | `f`/`female`/`woman`, `m`/`male`/`man`, `o`/`other`, `u`/`unknown`/`unk` |
//! | `state` | USPS two-letter codes of the 50 states, DC and the inhabited territories | the code in any case, the full name (`Arizona`, `district of columbia`) |

use std::collections::HashMap;

use duckdb::types::Value;
use duckdb::Connection;
use healthsim_schema::{EntityType, EXTRA_COLUMN, SCENARIO_COLUMN};
use once_cell::sync::Lazy;

/// The key of `extra` that holds the given spellings of normalized columns.
pub const NORMALIZED_FROM: &str = "normalized_from";

/// The columns normalized at write time and what each holds afterwards (for `describe_schema`
/// and the docs).
pub const NORMALIZED_COLUMNS: &[(&str, &str)] = &[
    ("gender", "F, M, O (other) or U (unknown)"),
    ("state", "the USPS code of a US state, DC or territory (AZ)"),
];

/// The code set a column is normalized to, by column name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeSet {
    Gender,
    UsState,
}

impl CodeSet {
    /// The code set of a registry column, if it has one.
    pub(crate) fn of_column(name: &str) -> Option<CodeSet> {
        match name {
            "gender" => Some(CodeSet::Gender),
            "state" => Some(CodeSet::UsState),
            _ => None,
        }
    }

    /// Every accepted lowercase spelling with its code.
    fn spellings(self) -> Vec<(String, &'static str)> {
        match self {
            CodeSet::Gender => GENDERS
                .iter()
                .flat_map(|(code, spellings)| spellings.iter().map(|s| (s.to_string(), *code)))
                .collect(),
            CodeSet::UsState => STATES_BY_SPELLING
                .iter()
                .map(|(spelling, code)| (spelling.clone(), *code))
                .collect(),
        }
    }

    /// The code for `given`, or `None` when it is not a spelling of one (kept as given).
    pub(crate) fn normalize(self, given: &str) -> Option<&'static str> {
        let key = given.trim().to_lowercase();
        match self {
            CodeSet::Gender => GENDERS
                .iter()
                .find(|(_, spellings)| spellings.contains(&key.as_str()))
                .map(|(code, _)| *code),
            CodeSet::UsState => STATES_BY_SPELLING.get(key.as_str()).copied(),
        }
    }
}

/// Gender codes and their lowercase spellings.
const GENDERS: [(&str, &[&str]); 4] = [
    ("F", &["f", "female", "woman"]),
    ("M", &["m", "male", "man"]),
    ("O", &["o", "other"]),
    ("U", &["u", "unknown", "unk"]),
];

/// USPS codes and full names.
const STATES: [(&str, &str); 56] = [
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("PR", "Puerto Rico"),
    ("GU", "Guam"),
    ("VI", "U.S. Virgin Islands"),
    ("AS", "American Samoa"),
    ("MP", "Northern Mariana Islands"),
];

/// Lowercase code or name → code.
static STATES_BY_SPELLING: Lazy<HashMap<String, &'static str>> = Lazy::new(|| {
    STATES
        .iter()
        .flat_map(|(code, name)| [(code.to_lowercase(), *code), (name.to_lowercase(), *code)])
        .chain([("virgin islands".to_string(), "VI")])
        .collect()
});

/// Normalizes the coded columns of `t`'s rows of a scenario in place, as [`crate::convert`]
/// does for entities: the given spelling goes to `extra.normalized_from`. For writes that
/// insert rows with SQL (the CSV / Parquet folder import). The spellings and the scenario are
/// bound parameters; the table and column names come from the registry.
pub(crate) fn normalize_stored(
    conn: &Connection,
    t: &EntityType,
    scenario_id: &str,
) -> duckdb::Result<()> {
    for column in t.columns() {
        let Some(code_set) = CodeSet::of_column(column.name) else {
            continue;
        };
        let spellings = code_set.spellings();
        // Numbered: DuckDB does not number `?` of an UPDATE in the order of the text.
        let placeholders = (0..spellings.len())
            .map(|i| format!("(${}, ${})", 2 + 2 * i, 3 + 2 * i))
            .collect::<Vec<_>>()
            .join(", ");
        let scenario_param = 2 + 2 * spellings.len();
        // In the order of the statement: the key in `normalized_from`, the spellings, the scenario.
        let params: Vec<Value> = std::iter::once(Value::Text(column.name.to_string()))
            .chain(spellings.into_iter().flat_map(|(spelling, code)| {
                [Value::Text(spelling), Value::Text(code.to_string())]
            }))
            .chain(std::iter::once(Value::Text(scenario_id.to_string())))
            .collect();
        let (table, name) = (t.table, column.name);
        let sql = format!(
            "UPDATE main.{table} SET {name} = m.code, \
               {EXTRA_COLUMN} = json_merge_patch(coalesce({EXTRA_COLUMN}, '{{}}'::JSON), \
                   json_object('{NORMALIZED_FROM}', json_object($1, {table}.{name}))) \
             FROM (VALUES {placeholders}) AS m(spelling, code) \
             WHERE {table}.{SCENARIO_COLUMN} = ${scenario_param} AND lower(trim({table}.{name})) = m.spelling \
               AND {table}.{name} <> m.code"
        );
        conn.execute(&sql, duckdb::params_from_iter(params))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(set: CodeSet, given: &str, expected: Option<&str>) {
        assert_eq!(set.normalize(given), expected, "{set:?} {given:?}");
    }

    #[test]
    fn genders_have_one_code() {
        use CodeSet::Gender;
        check(Gender, "F", Some("F"));
        check(Gender, "f", Some("F"));
        check(Gender, "female", Some("F"));
        check(Gender, "Female", Some("F"));
        check(Gender, " FEMALE ", Some("F"));
        check(Gender, "woman", Some("F"));
        check(Gender, "M", Some("M"));
        check(Gender, "male", Some("M"));
        check(Gender, "Male", Some("M"));
        check(Gender, "other", Some("O"));
        check(Gender, "unknown", Some("U"));
        check(Gender, "UNK", Some("U"));
        check(Gender, "nonbinary", None);
        check(Gender, "fem", None);
        check(Gender, "", None);
    }

    #[test]
    fn states_have_their_usps_code() {
        use CodeSet::UsState;
        check(UsState, "AZ", Some("AZ"));
        check(UsState, "az", Some("AZ"));
        check(UsState, "Az", Some("AZ"));
        check(UsState, "Arizona", Some("AZ"));
        check(UsState, "ARIZONA", Some("AZ"));
        check(UsState, " new mexico ", Some("NM"));
        check(UsState, "District of Columbia", Some("DC"));
        check(UsState, "Puerto Rico", Some("PR"));
        check(UsState, "Virgin Islands", Some("VI"));
        check(UsState, "West Virginia", Some("WV"));
        check(UsState, "Ontario", None);
        check(UsState, "A Z", None);
        check(UsState, "", None);
    }

    #[test]
    fn every_state_code_is_two_capitals_and_unique() {
        let mut codes: Vec<&str> = STATES.iter().map(|(code, _)| *code).collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase())));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), STATES.len());
    }

    #[test]
    fn normalized_columns_are_the_code_sets_columns() {
        for (column, _) in NORMALIZED_COLUMNS {
            assert!(CodeSet::of_column(column).is_some(), "{column}");
        }
        assert_eq!(CodeSet::of_column("city"), None);
    }
}
