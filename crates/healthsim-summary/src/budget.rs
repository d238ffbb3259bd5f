//! Trimming a summary until its compact JSON fits the token budget.
//!
//! The full content is computed once; trimming only re-renders it. Levels form a fixed list,
//! each trimming more than the one before; the first that fits wins (found by bisection), so the
//! result is deterministic:
//!
//! 1. statistics (budget [`crate::BUDGET_WITHOUT_SAMPLES`]): top-N lists 5 → 3; then minor types'
//!    statistics are reduced to their count (least entities first); tags and description get
//!    shorter; top-N lists → 2; major types keep only their primary statistic (least entities
//!    first); top-N lists → 1; then major types too are reduced to their count; last, tags
//!    are only counted and the description is cut to a stub;
//! 2. samples, on top of the statistics that fit (budget [`BUDGET_WITH_SAMPLES`]): text
//!    60 → 40 characters, at most 20 → 12 fields, fewer samples per type, 8 → 5 fields and
//!    24 characters, then types' samples are dropped (least entities first).
//!
//! A summary with samples therefore carries exactly the statistics of the one without.

use std::collections::{BTreeMap, BTreeSet};

use healthsim_schema::EntityType;
use serde_json::Value as Json;

use crate::samples::{RawSample, SAMPLE_TEXT_CHARS};
use crate::scenario::{registry_position, Metadata, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
use crate::shape::ScenarioSummary;
use crate::stats::{TypeStats, MAX_TOP};
use crate::tokens::count_tokens;
use crate::BUDGET_WITH_SAMPLES;

/// Tags listed before trimming.
const FULL_TAGS: usize = 10;
/// Tags listed once metadata is shortened.
const SHORT_TAGS: usize = 3;
/// Name and description lengths: full, shortened, and the last resort.
const FULL_META: (usize, usize) = (MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS);
const SHORT_META: (usize, usize) = (40, 60);
const MINIMAL_META: (usize, usize) = (40, 20);

/// The samples of one major type, before compaction.
#[derive(Debug, Clone)]
pub(crate) struct TypeSamples {
    pub(crate) entity_type: &'static EntityType,
    pub(crate) count: u64,
    pub(crate) samples: Vec<RawSample>,
}

/// Everything a summary may contain, untrimmed.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    pub(crate) meta: Metadata,
    /// Non-zero counts in registry order.
    pub(crate) counts: Vec<(&'static EntityType, u64)>,
    /// Statistics per type present, in registry order.
    pub(crate) statistics: Vec<TypeStats>,
    /// Samples per major type present.
    pub(crate) samples: Vec<TypeSamples>,
    pub(crate) samples_per_type: usize,
    /// Token budget of the summary without samples (normally [`crate::BUDGET_WITHOUT_SAMPLES`]).
    pub(crate) statistics_budget: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatsLevel {
    top_n: usize,
    /// How many types, in drop order, are reduced to their count.
    reduced: usize,
    /// How many major types, in drop order, keep only their primary statistic.
    primary_only: usize,
    max_tags: usize,
    /// Longest name and description, in characters.
    meta_chars: (usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SampleLevel {
    max_chars: usize,
    max_fields: usize,
    per_type: usize,
    /// How many types, in drop order, lose their samples.
    dropped: usize,
}

/// The largest summary of `parts` that fits its budget.
pub(crate) fn fit(parts: &Parts) -> ScenarioSummary {
    let order = stats_drop_order(&parts.statistics);
    let minor = order
        .iter()
        .filter(|&&i| !parts.statistics[i].entity_type.major)
        .count();
    let levels = stats_levels(minor, order.len() - minor);
    let build_stats = |level: &StatsLevel| assemble(parts, &order, minor, level, None);
    let (stats_level, without_samples) =
        match first_fitting(&levels, parts.statistics_budget, build_stats) {
            // When even the last level is too large, it is still the smallest summary there is.
            Some(Fitted { level, summary, .. }) => (level, summary),
            None => {
                let level = smallest_stats_level();
                (level, build_stats(&level))
            }
        };
    let has_samples = parts.samples.iter().any(|t| !t.samples.is_empty());
    if parts.samples_per_type == 0 || !has_samples {
        return without_samples;
    }
    let sample_order = samples_drop_order(&parts.samples);
    let levels = sample_levels(parts.samples_per_type, sample_order.len());
    let build_samples = |level: &SampleLevel| {
        assemble(
            parts,
            &order,
            minor,
            &stats_level,
            Some((level, &sample_order)),
        )
    };
    match first_fitting(&levels, BUDGET_WITH_SAMPLES, build_samples) {
        Some(Fitted {
            summary,
            fits: true,
            ..
        }) => summary,
        _ => without_samples,
    }
}

/// The outcome of [`first_fitting`].
struct Fitted<L> {
    level: L,
    summary: ScenarioSummary,
    /// false when even the last level is over budget (`summary` is then the last level's).
    fits: bool,
}

/// The first level whose summary fits `budget`, found by bisection: levels trim more and more,
/// so sizes shrink along the list, and a large summary (50 samples per type) is measured a
/// handful of times instead of once per level. The first level is tried alone first, as it
/// usually fits. `None` only for an empty list.
fn first_fitting<L: Copy>(
    levels: &[L],
    budget: usize,
    build: impl Fn(&L) -> ScenarioSummary,
) -> Option<Fitted<L>> {
    let fitted = |level: L, summary: ScenarioSummary| Fitted {
        level,
        fits: summary.token_estimate <= budget,
        summary,
    };
    let first = fitted(*levels.first()?, build(levels.first()?));
    if first.fits {
        return Some(first);
    }
    let last = levels.last()?;
    let mut best = fitted(*last, build(last));
    if !best.fits {
        return Some(best);
    }
    // Invariant: levels[low] does not fit, levels[high] fits (and is `best`).
    let (mut low, mut high) = (0, levels.len() - 1);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        let candidate = fitted(levels[middle], build(&levels[middle]));
        if candidate.fits {
            high = middle;
            best = candidate;
        } else {
            low = middle;
        }
    }
    Some(best)
}

/// Statistics indices, least important first: minor types, then major types; each by fewest
/// entities, then later in the registry.
fn stats_drop_order(statistics: &[TypeStats]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..statistics.len()).collect();
    order.sort_by_key(|&i| {
        let s = &statistics[i];
        (
            s.entity_type.major,
            s.count,
            std::cmp::Reverse(registry_position(s.entity_type)),
        )
    });
    order
}

fn samples_drop_order(samples: &[TypeSamples]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    order.sort_by_key(|&i| {
        let s = &samples[i];
        (s.count, std::cmp::Reverse(registry_position(s.entity_type)))
    });
    order
}

fn smallest_stats_level() -> StatsLevel {
    StatsLevel {
        top_n: 1,
        reduced: usize::MAX,
        primary_only: 0,
        max_tags: 0,
        meta_chars: MINIMAL_META,
    }
}

fn stats_levels(minor: usize, major: usize) -> Vec<StatsLevel> {
    let full = StatsLevel {
        top_n: MAX_TOP,
        reduced: 0,
        primary_only: 0,
        max_tags: FULL_TAGS,
        meta_chars: FULL_META,
    };
    let mut levels = vec![full];
    let mut level = StatsLevel { top_n: 3, ..full };
    levels.push(level);
    for reduced in 1..=minor {
        level.reduced = reduced;
        levels.push(level);
    }
    level.max_tags = SHORT_TAGS;
    level.meta_chars = SHORT_META;
    levels.push(level);
    level.top_n = 2;
    levels.push(level);
    for primary_only in 1..=major {
        level.primary_only = primary_only;
        levels.push(level);
    }
    level.top_n = 1;
    levels.push(level);
    for reduced in 1..=major {
        level.reduced = minor + reduced;
        levels.push(level);
    }
    level.max_tags = 0;
    level.meta_chars = MINIMAL_META;
    levels.push(level);
    levels
}

fn sample_levels(per_type: usize, types: usize) -> Vec<SampleLevel> {
    let full = SampleLevel {
        max_chars: SAMPLE_TEXT_CHARS,
        max_fields: 20,
        per_type,
        dropped: 0,
    };
    let mut levels = vec![full];
    let mut level = SampleLevel {
        max_chars: 40,
        ..full
    };
    levels.push(level);
    level.max_fields = 12;
    levels.push(level);
    while level.per_type > 1 {
        level.per_type = if level.per_type > 4 {
            level.per_type / 2
        } else {
            level.per_type - 1
        };
        levels.push(level);
    }
    level.max_chars = 24;
    level.max_fields = 8;
    levels.push(level);
    level.max_fields = 5;
    levels.push(level);
    for dropped in 1..types {
        level.dropped = dropped;
        levels.push(level);
    }
    levels
}

fn assemble(
    parts: &Parts,
    order: &[usize],
    minor: usize,
    level: &StatsLevel,
    samples: Option<(&SampleLevel, &[usize])>,
) -> ScenarioSummary {
    let reduced: BTreeSet<usize> = order.iter().take(level.reduced).copied().collect();
    let primary_only: BTreeSet<usize> = order
        .iter()
        .skip(minor)
        .take(level.primary_only)
        .copied()
        .collect();
    let mut statistics = BTreeMap::new();
    for (i, s) in parts.statistics.iter().enumerate() {
        if reduced.contains(&i) {
            continue;
        }
        let object = s.to_json(level.top_n, primary_only.contains(&i));
        if object.as_object().is_some_and(|o| !o.is_empty()) {
            statistics.insert(s.entity_type.table.to_string(), object);
        }
    }
    let mut sample_map = BTreeMap::new();
    if let Some((sample_level, sample_order)) = samples {
        let dropped: BTreeSet<usize> = sample_order
            .iter()
            .take(sample_level.dropped)
            .copied()
            .collect();
        for (i, t) in parts.samples.iter().enumerate() {
            if dropped.contains(&i) || t.samples.is_empty() {
                continue;
            }
            let rendered: Vec<Json> = t
                .samples
                .iter()
                .take(sample_level.per_type)
                .map(|s| s.render(sample_level.max_chars, sample_level.max_fields))
                .collect();
            sample_map.insert(t.entity_type.table.to_string(), rendered);
        }
    }
    let (name, description) = parts
        .meta
        .name_and_description(level.meta_chars.0, level.meta_chars.1);
    let entity_counts: BTreeMap<String, u64> = parts
        .counts
        .iter()
        .map(|(t, n)| (t.table.to_string(), *n))
        .collect();
    let total_entities = parts
        .counts
        .iter()
        .fold(0u64, |sum, (_, n)| sum.saturating_add(*n));
    measured(ScenarioSummary {
        scenario_id: parts.meta.scenario_id.clone(),
        name,
        description,
        created_at: parts.meta.created_at.clone(),
        updated_at: parts.meta.updated_at.clone(),
        tags: parts.meta.summary_tags(level.max_tags),
        entity_counts,
        total_entities,
        statistics,
        samples: sample_map,
        token_estimate: 0,
    })
}

/// Sets `token_estimate` to the token count of the summary's JSON, which includes that number:
/// iterated to the fixed point (the count only grows when the number gains a token).
fn measured(mut summary: ScenarioSummary) -> ScenarioSummary {
    for _ in 0..8 {
        let tokens = count_tokens(&summary.compact_json());
        if tokens == summary.token_estimate {
            break;
        }
        summary.token_estimate = tokens;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_levels_only_ever_trim_more() {
        let levels = stats_levels(3, 2);
        assert_eq!(levels.first().map(|l| l.top_n), Some(MAX_TOP));
        for pair in levels.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(
                b.top_n <= a.top_n && b.reduced >= a.reduced,
                "{a:?} -> {b:?}"
            );
            assert!(b.max_tags <= a.max_tags && b.primary_only >= a.primary_only);
            assert!(b.meta_chars.0 <= a.meta_chars.0 && b.meta_chars.1 <= a.meta_chars.1);
            assert_ne!(a, b, "levels repeat");
        }
        assert_eq!(levels.last().map(|l| l.reduced), Some(5));
    }

    #[test]
    fn sample_levels_only_ever_trim_more() {
        for per_type in [1, 3, 10, 100] {
            let levels = sample_levels(per_type, 4);
            for pair in levels.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                assert!(b.max_chars <= a.max_chars && b.max_fields <= a.max_fields);
                assert!(b.per_type <= a.per_type && b.dropped >= a.dropped);
                assert_ne!(a, b, "levels repeat");
            }
            assert_eq!(levels.last().map(|l| (l.per_type, l.dropped)), Some((1, 3)));
        }
    }
}
