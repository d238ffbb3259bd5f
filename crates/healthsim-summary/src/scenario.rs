//! The scenario as a summary reads it: its own row, its tags and the manifest's counts, cut to
//! the lengths a summary shows. Shared by the summary, its budget and the samples, so none of
//! them reaches into another for it.

use duckdb::Connection;
use healthsim_schema::{by_table, EntityType, ENTITY_TYPES};

use crate::sql::query_rows;
use crate::text::truncate;
use crate::Error;

/// Tags listed in a summary before the rest is reported as a count.
const MAX_TAGS: usize = 10;
/// Longest tag in a summary.
const MAX_TAG_CHARS: usize = 32;
/// Longest description in a summary.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 200;
/// Longest name in a summary (names made by healthsim-naming are far shorter).
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// The scenario's own row and tags.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metadata {
    pub(crate) scenario_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// The first tags (alphabetically), each truncated.
    pub(crate) tags: Vec<String>,
    /// How many tags there are in all.
    pub(crate) tag_count: usize,
}

/// [`Error::ScenarioNotFound`] unless a scenario has this id.
pub(crate) fn ensure_scenario(conn: &Connection, scenario_id: &str) -> Result<(), Error> {
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM scenarios WHERE scenario_id = ?",
            [scenario_id],
            |r| r.get(0),
        )
        .map_err(|source| Error::Database {
            context: format!("looking up scenario '{scenario_id}'"),
            source,
        })?;
    if found == 0 {
        return Err(Error::ScenarioNotFound {
            scenario_id: scenario_id.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn read_metadata(conn: &Connection, scenario_id: &str) -> Result<Metadata, Error> {
    let database = |what: &str| {
        let context = format!("reading {what} of scenario '{scenario_id}'");
        move |source| Error::Database { context, source }
    };
    let rows = query_rows(
        conn,
        "SELECT name, description, created_at, updated_at FROM scenarios WHERE scenario_id = ?",
        [scenario_id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, duckdb::types::Value>(2)?,
                r.get::<_, duckdb::types::Value>(3)?,
            ))
        },
    )
    .map_err(database("the record"))?;
    let Some((name, description, created_at, updated_at)) = rows.into_iter().next() else {
        return Err(Error::ScenarioNotFound {
            scenario_id: scenario_id.to_string(),
        });
    };
    let tags = query_rows(
        conn,
        "SELECT tag, count(*) OVER () FROM scenario_tags WHERE scenario_id = ? ORDER BY tag LIMIT ?",
        duckdb::params![scenario_id, MAX_TAGS as i64],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )
    .map_err(database("the tags"))?;
    let tag_count = tags
        .first()
        .map_or(0, |(_, n)| usize::try_from(*n).unwrap_or(usize::MAX));
    Ok(Metadata {
        scenario_id: scenario_id.to_string(),
        name,
        description,
        created_at: to_seconds(iso(&created_at)),
        updated_at: to_seconds(iso(&updated_at)),
        tags: tags.into_iter().map(|(tag, _)| tag).collect(),
        tag_count,
    })
}

/// A timestamp (or any value) as ISO 8601 text.
use healthsim_schema::text::display_text as iso;

/// An ISO 8601 timestamp without its fraction of a second (`2026-12-05T16:08:02Z`): the
/// microseconds cost a summary three tokens each and tell the agent nothing.
fn to_seconds(mut timestamp: String) -> String {
    if let Some(dot) = timestamp.find('.') {
        let fraction_end = timestamp[dot + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(timestamp.len(), |i| dot + 1 + i);
        timestamp.replace_range(dot..fraction_end, "");
    }
    timestamp
}

/// Non-zero counts of the manifest, in registry order (one query for every type).
pub(crate) fn read_counts(
    conn: &Connection,
    scenario_id: &str,
) -> Result<Vec<(&'static EntityType, u64)>, Error> {
    let rows = query_rows(
        conn,
        "SELECT entity_type, entity_count FROM scenario_entities \
         WHERE scenario_id = ? AND entity_count > 0",
        [scenario_id],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )
    .map_err(|source| Error::Database {
        context: format!("reading the entity counts of scenario '{scenario_id}'"),
        source,
    })?;
    let mut counts: Vec<(&'static EntityType, u64)> = rows
        .into_iter()
        .filter_map(|(table, n)| Some((by_table(&table)?, u64::try_from(n).ok()?)))
        .collect();
    counts.sort_by_key(|(t, _)| registry_position(t));
    Ok(counts)
}

/// Position of a type in the registry (its documentation order).
pub(crate) fn registry_position(t: &EntityType) -> usize {
    ENTITY_TYPES
        .iter()
        .position(|e| e.table == t.table)
        .unwrap_or(usize::MAX)
}

impl Metadata {
    /// Tags as listed in a summary: at most `max_tags`, then `+N more`.
    pub(crate) fn summary_tags(&self, max_tags: usize) -> Vec<String> {
        let mut tags: Vec<String> = self
            .tags
            .iter()
            .take(max_tags)
            .map(|t| truncate(t, MAX_TAG_CHARS))
            .collect();
        let shown = tags.len();
        if self.tag_count > shown {
            tags.push(format!("+{} more", self.tag_count - shown));
        }
        tags
    }

    /// Name and description cut to the given numbers of characters.
    pub(crate) fn name_and_description(
        &self,
        name_chars: usize,
        description_chars: usize,
    ) -> (String, Option<String>) {
        (
            truncate(&self.name, name_chars),
            self.description
                .as_deref()
                .map(|d| truncate(d, description_chars)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(tags: &[&str], tag_count: usize) -> Metadata {
        Metadata {
            scenario_id: "s".into(),
            name: "n".into(),
            description: None,
            created_at: String::new(),
            updated_at: String::new(),
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
            tag_count,
        }
    }

    fn check_tags(tags: &[&str], tag_count: usize, max: usize, expected: &[&str]) {
        assert_eq!(meta(tags, tag_count).summary_tags(max), expected);
    }

    #[test]
    fn lists_tags_with_a_remainder() {
        check_tags(&[], 0, 10, &[]);
        check_tags(&["a", "b"], 2, 10, &["a", "b"]);
        check_tags(&["a", "b"], 12, 10, &["a", "b", "+10 more"]);
        check_tags(&["a", "b", "c"], 3, 1, &["a", "+2 more"]);
    }
    fn check_seconds(timestamp: &str, expected: &str) {
        assert_eq!(to_seconds(timestamp.to_string()), expected, "{timestamp}");
    }

    #[test]
    fn timestamps_lose_their_fraction_of_a_second() {
        check_seconds("2026-12-05T16:08:02.586830Z", "2026-12-05T16:08:02Z");
        check_seconds("2026-12-05T16:08:02.5Z", "2026-12-05T16:08:02Z");
        check_seconds("2026-12-05T16:08:02Z", "2026-12-05T16:08:02Z");
        check_seconds("2026-12-05T16:08:02.123", "2026-12-05T16:08:02");
        check_seconds("", "");
    }
}
