//! What a command prints: a JSON document for scripts (`--json`) or readable text for people.
//!
//! Commands build an [`Output`] and return it; `main` writes exactly one of its two forms to
//! stdout. Logs and progress go to stderr elsewhere, so stdout stays parseable. The text helpers
//! every command shares (tables, cells, cutting text, byte sizes) live here, once.

use std::io::Write;

use serde::Serialize;
use serde_json::Value as Json;

use crate::error::{CliError, CliResult};

/// The result of a command, in both forms.
#[derive(Debug, Clone)]
pub struct Output {
    /// Machine form (field names follow the service types).
    pub json: Json,
    /// Human form (tables, key-value lines), ending with a newline.
    pub text: String,
    /// Printed to stderr after the output, and decides the exit code (a partial success).
    pub failure: Option<CliError>,
}

impl Output {
    /// An output whose JSON form is `value` serialized and whose text form is `text`.
    pub fn new(value: &impl Serialize, text: impl Into<String>) -> CliResult<Self> {
        Ok(Self {
            json: serde_json::to_value(value)?,
            text: text.into(),
            failure: None,
        })
    }

    /// Writes the chosen form to `out`. A closed pipe (`healthsim list | head`) is not an error.
    pub fn write_to(&self, out: &mut impl Write, json: bool) -> CliResult<()> {
        let result = if json {
            serde_json::to_writer_pretty(&mut *out, &self.json)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
        } else {
            out.write_all(self.text.as_bytes())
        }
        .and_then(|()| out.flush());
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(CliError::failure(format!("could not write output: {e}"))),
            Ok(()) => Ok(()),
        }
    }
}

/// Longest cell text in a table before it is cut with an ellipsis.
const MAX_CELL_CHARS: usize = 40;

/// A JSON value as table cell text: strings unquoted, null empty, structures compact.
pub fn cell(value: &Json) -> String {
    let text = match value {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    truncate(&text.replace(['\n', '\r', '\t'], " "), MAX_CELL_CHARS)
}

/// `text` cut to `max` characters, with an ellipsis when it was longer.
pub fn truncate(text: &str, max: usize) -> String {
    match healthsim_schema::text::cut_chars(text, max) {
        None => text.to_string(),
        Some(head) => format!("{head}…"),
    }
}

/// `n` bytes for people: `812 B`, `14.2 KiB`, `3.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// A plain text table: a header row, a rule, and left-aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(value.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let mut parts = Vec::new();
        for (i, value) in cells.enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(value.chars().count());
            parts.push(format!("{value}{}", " ".repeat(pad)));
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&mut rule.iter().map(String::as_str), &mut out);
    for row in rows {
        line(&mut row.iter().map(String::as_str), &mut out);
    }
    out
}

/// Aligned `key: value` lines.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {v}\n", width = width + 1, k = format!("{k}:")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_cell(value: Json, expected: &str) {
        assert_eq!(cell(&value), expected, "cell({value})");
    }

    #[test]
    fn cells() {
        check_cell(json!(null), "");
        check_cell(json!("text"), "text");
        check_cell(json!(12.5), "12.5");
        check_cell(json!(true), "true");
        check_cell(json!({"a": 1}), "{\"a\":1}");
        check_cell(json!("line\nbreak"), "line break");
        check_cell(json!("x".repeat(50)), &format!("{}…", "x".repeat(40)));
    }

    fn check_bytes(n: u64, expected: &str) {
        assert_eq!(human_bytes(n), expected, "{n}");
    }

    #[test]
    fn bytes_for_people() {
        check_bytes(0, "0 B");
        check_bytes(1023, "1023 B");
        check_bytes(1024, "1.0 KiB");
        check_bytes(14_540, "14.2 KiB");
        check_bytes(3 * 1024 * 1024, "3.0 MiB");
        check_bytes(5 * 1024 * 1024 * 1024, "5.0 GiB");
    }

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["id", "name"],
            &[
                vec!["1".into(), "alpha".into()],
                vec!["22".into(), "b".into()],
            ],
        );
        assert_eq!(text, "id  name\n--  -----\n1   alpha\n22  b\n");
    }

    #[test]
    fn key_value_lines() {
        let text = key_values(&[("id", "s1".into()), ("entities", "3".into())]);
        assert_eq!(text, "id:        s1\nentities:  3\n");
    }
}
