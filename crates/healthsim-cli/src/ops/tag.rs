//! `tag add|remove|list` / `add_tag`, `remove_tag`, `list_tags`: scenario tags.

use std::collections::BTreeMap;

use healthsim_persist::{Store, TagCount};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::TagCommand;
use crate::db::DbConfig;
use crate::error::CliResult;
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// add_tag / remove_tag arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagParams {
    /// Scenario id or name.
    pub scenario_id: String,
    /// The tag (stored lowercase, trimmed).
    pub tag: String,
}

/// list_tags arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTagsParams {
    /// A scenario (id or name) to list the tags of; omit for every tag with its scenario count.
    pub scenario_id: Option<String>,
}

/// The `add_tag` tool.
#[derive(Debug)]
pub struct AddTag;

impl Tool for AddTag {
    const NAME: &'static str = "add_tag";
    const COMMAND: &'static str = "tag add";
    const TITLE: &'static str = "Add tag";
    const EFFECT: Effect = Effect::Adds { idempotent: true };
    const MAX_RESULT_TOKENS: usize = super::TAGS_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Add a tag to a scenario (stored lowercase), e.g. 'diabetes' or 'medicare', \
so it can be found with list_scenarios(tag=...). Returns the scenario's tags.";
    type Params = TagParams;
    type Output = ScenarioTags;

    async fn call(context: ToolContext, params: TagParams) -> CliResult<ScenarioTags> {
        context
            .run(move |store| change_tags(store, &params.scenario_id, &[params.tag], true))
            .await
    }
}

/// The `remove_tag` tool.
#[derive(Debug)]
pub struct RemoveTag;

impl Tool for RemoveTag {
    const NAME: &'static str = "remove_tag";
    const COMMAND: &'static str = "tag remove";
    const TITLE: &'static str = "Remove tag";
    const EFFECT: Effect = Effect::Changes { idempotent: true };
    const MAX_RESULT_TOKENS: usize = super::TAGS_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
Remove a tag from a scenario. Returns the scenario's remaining tags.";
    type Params = TagParams;
    type Output = ScenarioTags;

    async fn call(context: ToolContext, params: TagParams) -> CliResult<ScenarioTags> {
        context
            .run(move |store| change_tags(store, &params.scenario_id, &[params.tag], false))
            .await
    }
}

/// The `list_tags` tool.
#[derive(Debug)]
pub struct ListTags;

impl Tool for ListTags {
    const NAME: &'static str = "list_tags";
    const COMMAND: &'static str = "tag list";
    const TITLE: &'static str = "List tags";
    const EFFECT: Effect = Effect::ReadOnly;
    const MAX_RESULT_TOKENS: usize = super::TAGS_TOKEN_BUDGET;
    const DESCRIPTION: &'static str = "\
List the tags of one scenario (give scenario_id), or every tag in use \
with the number of scenarios that have it (omit scenario_id).";
    type Params = ListTagsParams;
    type Output = TagList;

    async fn call(context: ToolContext, params: ListTagsParams) -> CliResult<TagList> {
        context
            .run(move |store| list_tags(store, params.scenario_id.as_deref()))
            .await
    }
}

/// A scenario's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScenarioTags {
    /// Scenario id.
    pub scenario_id: String,
    /// Scenario name.
    pub name: String,
    /// Its tags, alphabetical (as many as fit the result's bound).
    pub tags: Vec<String>,
    /// How many tags it has, when more than are listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_total: Option<usize>,
}

/// Tags of one scenario, or every tag in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TagList {
    /// The scenario's id (absent when listing every tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// The scenario's name (absent when listing every tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The scenario's tags (alphabetical), or every tag in use (most used first); as many as fit
    /// the result's bound.
    pub tags: Vec<String>,
    /// How many tags there are, when more than are listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_total: Option<usize>,
    /// Scenarios per tag (only when listing every tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_counts: Option<BTreeMap<String, u64>>,
}

impl TagList {
    /// Every tag with its count, from the service's listing.
    fn all(tags: Vec<TagCount>) -> Self {
        let mut names = Vec::with_capacity(tags.len());
        let mut counts = BTreeMap::new();
        for TagCount { tag, count } in tags {
            names.push(tag.clone());
            counts.insert(tag, count);
        }
        Self {
            scenario_id: None,
            name: None,
            tags: names,
            tags_total: None,
            scenario_counts: Some(counts),
        }
    }

    /// The list cut to [`super::TAGS_TOKEN_BUDGET`] (the last tags go first).
    fn within_bound(mut self) -> Self {
        if tokens(&self) <= super::TAGS_TOKEN_BUDGET {
            return self;
        }
        let all = std::mem::take(&mut self.tags);
        let counts = self.scenario_counts.take();
        self.tags_total = Some(all.len());
        let keep = longest_prefix_within(all.len(), |n| {
            self.tags = all[..n].to_vec();
            self.scenario_counts = counts.as_ref().map(|c| {
                self.tags
                    .iter()
                    .filter_map(|t| c.get(t).map(|n| (t.clone(), *n)))
                    .collect()
            });
            tokens(&self) <= super::TAGS_TOKEN_BUDGET
        });
        self.tags = all[..keep].to_vec();
        self.scenario_counts = counts.map(|c| {
            self.tags
                .iter()
                .filter_map(|t| c.get(t).map(|n| (t.clone(), *n)))
                .collect()
        });
        self
    }
}

/// The largest `n` in `0..len` for which `fits(n)` holds, `fits` being monotone and `fits(len)`
/// known to fail (binary search: a handful of token counts instead of one per tag).
fn longest_prefix_within(len: usize, mut fits: impl FnMut(usize) -> bool) -> usize {
    let (mut good, mut bad) = (0, len);
    while bad - good > 1 {
        let middle = (good + bad) / 2;
        if fits(middle) {
            good = middle;
        } else {
            bad = middle;
        }
    }
    good
}

fn tokens(value: &impl Serialize) -> usize {
    serde_json::to_string(value)
        .map(|text| healthsim_summary::count_tokens(&text))
        .unwrap_or(usize::MAX)
}

/// Adds or removes tags and reports the scenario's tags.
pub fn change_tags(
    store: &Store,
    scenario: &str,
    tags: &[String],
    add: bool,
) -> CliResult<ScenarioTags> {
    let target = store.resolve_scenario(scenario)?;
    let tags = if add {
        store.add_tags(&target.scenario_id, tags)?
    } else {
        store.remove_tags(&target.scenario_id, tags)?
    };
    let total = tags.len();
    let mut view = ScenarioTags {
        scenario_id: target.scenario_id,
        name: target.name,
        tags,
        tags_total: None,
    };
    if tokens(&view) > super::TAGS_TOKEN_BUDGET {
        let all = std::mem::take(&mut view.tags);
        view.tags_total = Some(total);
        let keep = longest_prefix_within(total, |n| {
            view.tags = all[..n].to_vec();
            tokens(&view) <= super::TAGS_TOKEN_BUDGET
        });
        view.tags = all[..keep].to_vec();
    }
    Ok(view)
}

/// A scenario's tags, or (without a scenario) every tag with its scenario count.
pub fn list_tags(store: &Store, scenario: Option<&str>) -> CliResult<TagList> {
    match scenario {
        Some(scenario) => {
            let target = store.resolve_scenario(scenario)?;
            let tags = store.scenario_tags(&target.scenario_id)?;
            Ok(TagList {
                scenario_id: Some(target.scenario_id),
                name: Some(target.name),
                tags,
                tags_total: None,
                scenario_counts: None,
            }
            .within_bound())
        }
        None => Ok(TagList::all(store.all_tags()?).within_bound()),
    }
}

/// `healthsim tag ...`.
pub fn run(config: &DbConfig, command: &TagCommand) -> CliResult<Output> {
    let store = config.open()?;
    let tags_text = |view: &ScenarioTags| {
        let tags = if view.tags.is_empty() {
            "(none)".to_string()
        } else {
            view.tags.join(", ")
        };
        format!("{}: {tags}\n", view.name)
    };
    match command {
        TagCommand::Add { scenario, tags } => {
            let view = change_tags(&store, scenario, tags, true)?;
            let text = tags_text(&view);
            Output::new(&view, text)
        }
        TagCommand::Remove { scenario, tags } => {
            let view = change_tags(&store, scenario, tags, false)?;
            let text = tags_text(&view);
            Output::new(&view, text)
        }
        TagCommand::List { scenario } => {
            let view = list_tags(&store, scenario.as_deref())?;
            let text = match (&view.name, &view.scenario_counts) {
                (Some(name), _) if view.tags.is_empty() => format!("{name}: (none)\n"),
                (Some(name), _) => format!("{name}: {}\n", view.tags.join(", ")),
                (None, _) if view.tags.is_empty() => "No tags.\n".to_string(),
                (None, counts) => {
                    let rows: Vec<Vec<String>> = view
                        .tags
                        .iter()
                        .map(|t| {
                            let n = counts.as_ref().and_then(|c| c.get(t)).copied();
                            vec![t.clone(), n.unwrap_or(0).to_string()]
                        })
                        .collect();
                    output::table(&["tag", "scenarios"], &rows)
                }
            };
            Output::new(&view, text)
        }
    }
}
