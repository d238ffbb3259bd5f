//! Trimming a summary until its compact JSON fits the token budget: the one place that decides
//! what fits.
//!
//! The full content is computed once; trimming only re-renders it. Levels form a fixed list,
//! each trimming more than the one before; the first that fits wins (found by bisection), so the
//! result is deterministic:
//!
//! 1. statistics (budget [`crate::BUDGET_WITHOUT_SAMPLES`]): top-N lists 5 → 3; then minor types'
//!    statistics are reduced to their count (least entities first); tags and description get
//!    shorter; major types drop their non-core statistics (least entities first), keeping the
//!    **core** ones (ages and gender shares of person-like types, the encounter class mix, top
//!    codes, claim totals and the paid/billed ratio, top dispensed drugs, trial arms and
//!    status: `stats::plan` marks them); labels 40 → 24 → 12 characters (code descriptions
//!    are left out below 16); only then top-N lists → 2 → 1, major types reduced to their
//!    count, and tags only counted with the description cut to a stub. Up to about twenty
//!    types, the core statistics with top-3 lists fit in 500 tokens (the demo's snapshot shows
//!    it);
//! 2. samples, on top of the statistics that fit (budget [`BUDGET_WITH_SAMPLES`]): one table
//!    per type (a header row of field names, then one row per sample, so names are not
//!    repeated); text 60 → 40 → 24 characters and 20 → 12 → 8 → 5 fields before the number
//!    of samples per type drops, then types' samples are dropped (least entities first).
//!
//! A summary with samples therefore carries exactly the statistics of the one without.

use std::collections::{BTreeMap, BTreeSet};

use healthsim_schema::EntityType;

use crate::samples::{RawSample, SAMPLE_TEXT_CHARS};
use crate::scenario::{registry_position, Metadata, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
use crate::shape::ScenarioSummary;
use crate::stats::{Detail, TypeStats, MAX_TOP};
use crate::tokens::count_tokens;
use crate::{BUDGET_WITH_SAMPLES, DEFAULT_SAMPLES_PER_TYPE};

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

/// Longest label of a statistic: full, then shorter twice (see the module documentation).
const LABEL_CHARS: [usize; 3] = [40, 24, 12];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatsLevel {
    detail: Detail,
    /// How many types, in drop order, are reduced to their count.
    reduced: usize,
    /// How many major types, in drop order, keep only their core statistics.
    core_only: usize,
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
        detail: Detail {
            top_n: 1,
            label_chars: LABEL_CHARS[2],
        },
        reduced: usize::MAX,
        core_only: 0,
        max_tags: 0,
        meta_chars: MINIMAL_META,
    }
}

fn stats_levels(minor: usize, major: usize) -> Vec<StatsLevel> {
    let full = StatsLevel {
        detail: Detail {
            top_n: MAX_TOP,
            label_chars: LABEL_CHARS[0],
        },
        reduced: 0,
        core_only: 0,
        max_tags: FULL_TAGS,
        meta_chars: FULL_META,
    };
    let mut levels = vec![full];
    let mut level = full;
    level.detail.top_n = 3;
    levels.push(level);
    for reduced in 1..=minor {
        level.reduced = reduced;
        levels.push(level);
    }
    level.max_tags = SHORT_TAGS;
    level.meta_chars = SHORT_META;
    levels.push(level);
    for core_only in 1..=major {
        level.core_only = core_only;
        levels.push(level);
    }
    for label_chars in &LABEL_CHARS[1..] {
        level.detail.label_chars = *label_chars;
        levels.push(level);
    }
    for top_n in [2, 1] {
        level.detail.top_n = top_n;
        levels.push(level);
    }
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
    // More samples than the default go first; the default few are kept with fewer fields.
    while level.per_type > DEFAULT_SAMPLES_PER_TYPE {
        level.per_type = (level.per_type / 2).max(DEFAULT_SAMPLES_PER_TYPE);
        levels.push(level);
    }
    level.max_chars = 24;
    level.max_fields = 8;
    levels.push(level);
    level.max_fields = 5;
    levels.push(level);
    while level.per_type > 1 {
        level.per_type -= 1;
        levels.push(level);
    }
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
    let core_only: BTreeSet<usize> = order
        .iter()
        .skip(minor)
        .take(level.core_only)
        .copied()
        .collect();
    let mut statistics = BTreeMap::new();
    for (i, s) in parts.statistics.iter().enumerate() {
        if reduced.contains(&i) {
            continue;
        }
        let object = s.to_compact(level.detail, core_only.contains(&i));
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
            let chosen = &t.samples[..t.samples.len().min(sample_level.per_type)];
            let table = RawSample::table(chosen, sample_level.max_chars, sample_level.max_fields);
            sample_map.insert(t.entity_type.table.to_string(), table);
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
        assert_eq!(levels.first().map(|l| l.detail.top_n), Some(MAX_TOP));
        for pair in levels.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(
                b.detail.top_n <= a.detail.top_n && b.reduced >= a.reduced,
                "{a:?} -> {b:?}"
            );
            assert!(b.detail.label_chars <= a.detail.label_chars);
            assert!(b.max_tags <= a.max_tags && b.core_only >= a.core_only);
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
