//! `list` / `list_scenarios`: scenarios with their entity counts.

use healthsim_persist::{ListOptions, ScenarioInfo, SortBy, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::ListArgs;
use crate::db::DbConfig;
use crate::error::{CliError, CliResult};
use crate::mcp::tool::{Effect, Tool, ToolContext};
use crate::output::{self, Output};

/// How many scenarios a page holds by default (an agent rarely needs more).
pub const DEFAULT_LIST_LIMIT: usize = 20;
/// The most scenarios a page holds.
pub const MAX_LIST_LIMIT: usize = 50;
/// The most tokens a page takes (its JSON, cl100k_base): a page stops before the scenario that
/// would pass it, and `next_offset` continues there.
pub const LIST_TOKEN_BUDGET: usize = 4_000;
/// A listed scenario's description is cut to this many characters.
pub const LISTED_DESCRIPTION_CHARS: usize = 200;
/// A listed scenario shows at most this many of its tags (`tags_total` counts them all).
pub const LISTED_TAGS: usize = 10;

/// list_scenarios arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only names containing this text (case-insensitive).
    pub filter: Option<String>,
    /// Only scenarios with this tag.
    pub tag: Option<String>,
    /// updated (most recently updated first), created or name.
    #[schemars(extend("default" = "updated"))]
    pub sort_by: Option<SortBy>,
    /// Scenarios per page, 1 to 50 (fewer when the page would pass its token bound).
    #[schemars(range(min = 1, max = 50), extend("default" = 20))]
    pub limit: Option<u64>,
    /// Scenarios to skip: the next_offset of the previous page.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub offset: Option<u64>,
}

/// The `list_scenarios` tool.
#[derive(Debug)]
pub struct ListScenarios;

impl Tool for ListScenarios {
    const NAME: &'static str = "list_scenarios";
    const COMMAND: &'static str = "list";
    const TITLE: &'static str = "List scenarios";
    const EFFECT: Effect = Effect::ReadOnly;
    const DESCRIPTION: &'static str = "\
List saved scenarios with id, name, description, tags, entity count and \
timestamps, one page at a time. Use it when the user refers to earlier work ('my diabetes cohort \
from yesterday') or asks what exists. filter matches part of the name; tag restricts to a tag; \
sort_by is updated (default), created or name. Pages: limit (default 20, max 50) and offset; \
the result has total_count, has_more and next_offset (pass it as offset for the next page). \
Descriptions are cut to 200 characters and at most 10 tags are shown per scenario.";
    const MAX_RESULT_TOKENS: usize = LIST_TOKEN_BUDGET;
    type Params = ListParams;
    type Output = ScenarioList;

    async fn call(context: ToolContext, params: ListParams) -> CliResult<ScenarioList> {
        let page = Page {
            limit: params.limit.map_or(DEFAULT_LIST_LIMIT, to_usize),
            offset: params.offset.map_or(0, to_usize),
        };
        let options = ListOptions {
            filter: params.filter,
            tag: params.tag,
            sort: params.sort_by.unwrap_or(SortBy::Updated),
            limit: usize::MAX,
        };
        context
            .run(move |store| list_scenarios(store, &options, page))
            .await
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Which page of the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many scenarios, 1 to [`MAX_LIST_LIMIT`].
    pub limit: usize,
    /// Scenarios skipped.
    pub offset: usize,
}

/// One page of scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScenarioList {
    /// The scenarios of this page, in the requested order (descriptions cut to 200 characters,
    /// at most 10 tags each).
    pub scenarios: Vec<ListedScenario>,
    /// How many are on this page.
    pub count: usize,
    /// How many scenarios match, over all pages.
    pub total_count: usize,
    /// Scenarios skipped before this page.
    pub offset: usize,
    /// Whether more scenarios follow.
    pub has_more: bool,
    /// The offset of the next page (absent on the last page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

/// A scenario as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ListedScenario {
    /// Id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Description, if any, cut to 200 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Creation time, ISO 8601 UTC.
    pub created_at: String,
    /// Last update, ISO 8601 UTC.
    pub updated_at: String,
    /// Tags, alphabetical, at most 10.
    pub tags: Vec<String>,
    /// How many tags it has, when more than are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_total: Option<usize>,
    /// Entities over all types.
    pub entity_count: u64,
}

impl ListedScenario {
    fn new(info: ScenarioInfo) -> Self {
        let tags_total = (info.tags.len() > LISTED_TAGS).then_some(info.tags.len());
        let description = info.description.map(|d| {
            match healthsim_schema::text::cut_chars(&d, LISTED_DESCRIPTION_CHARS) {
                Some(head) => format!("{}…", head.trim_end()),
                None => d,
            }
        });
        Self {
            scenario_id: info.scenario_id,
            name: info.name,
            description,
            created_at: info.created_at,
            updated_at: info.updated_at,
            tags: info.tags.into_iter().take(LISTED_TAGS).collect(),
            tags_total,
            entity_count: info.entity_count,
        }
    }
}

/// One page of the scenarios `options` select: at most `page.limit` (refused outside 1 to
/// [`MAX_LIST_LIMIT`]), and fewer when the page would pass [`LIST_TOKEN_BUDGET`].
pub fn list_scenarios(store: &Store, options: &ListOptions, page: Page) -> CliResult<ScenarioList> {
    if !(1..=MAX_LIST_LIMIT).contains(&page.limit) {
        return Err(CliError::input(format!(
            "limit must be between 1 and {MAX_LIST_LIMIT}, got {}",
            page.limit
        )));
    }
    let all = store.list_scenarios(options)?;
    let total_count = all.len();
    let mut scenarios: Vec<ListedScenario> = all
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .map(ListedScenario::new)
        .collect();
    loop {
        let list = ScenarioList::new(std::mem::take(&mut scenarios), total_count, page.offset);
        let tokens = serde_json::to_string(&list)
            .map(|text| healthsim_summary::count_tokens(&text))
            .unwrap_or(usize::MAX);
        if tokens <= LIST_TOKEN_BUDGET || list.scenarios.len() <= 1 {
            return Ok(list);
        }
        scenarios = list.scenarios;
        scenarios.pop();
    }
}

impl ScenarioList {
    fn new(scenarios: Vec<ListedScenario>, total_count: usize, offset: usize) -> Self {
        let end = offset.saturating_add(scenarios.len());
        let has_more = end < total_count;
        Self {
            count: scenarios.len(),
            scenarios,
            total_count,
            offset,
            has_more,
            next_offset: has_more.then_some(end),
        }
    }
}

/// `healthsim list`.
pub fn run(config: &DbConfig, args: &ListArgs) -> CliResult<Output> {
    let store = config.open()?;
    let view = list_scenarios(
        &store,
        &ListOptions {
            filter: args.filter.clone(),
            tag: args.tag.clone(),
            sort: args.sort,
            limit: usize::MAX,
        },
        Page {
            limit: args.limit,
            offset: args.offset,
        },
    )?;
    let text = if view.total_count == 0 {
        "No scenarios. Create one with `healthsim persist` or `healthsim demo`.\n".to_string()
    } else if view.scenarios.is_empty() {
        format!(
            "No scenarios after offset {} ({} in all).\n",
            view.offset, view.total_count
        )
    } else {
        let rows: Vec<Vec<String>> = view
            .scenarios
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.entity_count.to_string(),
                    s.tags.join(","),
                    s.updated_at.clone(),
                    s.scenario_id.clone(),
                ]
            })
            .collect();
        let mut text = output::table(&["name", "entities", "tags", "updated", "id"], &rows);
        text.push_str(&format!(
            "\nscenarios {}-{} of {}",
            view.offset + 1,
            view.offset + view.count,
            view.total_count
        ));
        if let Some(next) = view.next_offset {
            text.push_str(&format!("; next page: --offset {next}"));
        }
        text.push('\n');
        text
    };
    Output::new(&view, text)
}
