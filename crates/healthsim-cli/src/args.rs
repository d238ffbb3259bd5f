//! The command line (clap): global options and the command tree. The names are fixed so scripts
//! can rely on them; every command's `--help` ends with examples.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use healthsim_persist::{ExportFormat, NameConflict, OnConflict, SampleStrategy, SortBy};

/// Default entities per transaction when `persist` reads a file (see `healthsim persist --help`).
pub const DEFAULT_FILE_BATCH_SIZE: u64 = 10_000;

/// Default number of persons in `healthsim demo`.
pub const DEFAULT_DEMO_PERSONS: usize = 200;

/// Default seed of `healthsim demo`.
pub const DEFAULT_DEMO_SEED: u64 = 42;

/// Default number of persons in `healthsim generate`.
pub const DEFAULT_GENERATE_PERSONS: usize = 100;

/// Default wait for the database file lock, seconds.
pub const DEFAULT_LOCK_TIMEOUT_SECS: u64 = 10;

const TOP_EXAMPLES: &str = "\
Examples:
  healthsim demo                                   # generate, persist and summarize a demo cohort
  healthsim persist --type patients patients.json --context \"diabetic members in Maricopa\"
  healthsim list --tag diabetes
  healthsim summary diabetic-maricopa-20250101
  healthsim query diabetic-maricopa-20250101 \"SELECT gender, count(*) n FROM patients GROUP BY gender\"
  healthsim --json summary diabetic-maricopa-20250101 --no-samples | jq .entity_counts
  healthsim export diabetic-maricopa-20250101 --format parquet --out ./exports
  healthsim import-fhir synthea/output/fhir --context \"synthea patients\"
  healthsim mcp                                    # MCP stdio server for Claude Desktop / Claude Code

Database: --db, else $HEALTHSIM_DB, else ~/.healthsim/healthsim.duckdb (created and migrated on first use).
Exit codes: 0 ok; 2 bad input (usage, invalid entities, rejected query, unknown type or scenario);
1 other failure (database locked by another process, I/O). Errors are explained on stderr.";

/// HealthSim Persist: store synthetic healthcare entities in scenario-scoped DuckDB tables,
/// summarize them, and query them with safe, paginated SQL.
#[derive(Debug, Parser)]
#[command(name = "healthsim", version, after_help = TOP_EXAMPLES)]
pub struct Cli {
    /// Database file, or a lake (`ducklake:postgres:dbname=… host=… data_path=/folder/`)
    /// [default: $HEALTHSIM_DB, else ~/.healthsim/healthsim.duckdb].
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    pub db: Option<PathBuf>,

    /// Machine output: one JSON document on stdout (field names as in the service types).
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// Seconds to wait for the database: another process's file lock, or a lake's commit conflicts.
    #[arg(long, global = true, value_name = "SECS", default_value_t = DEFAULT_LOCK_TIMEOUT_SECS,
          help_heading = "Global options")]
    pub lock_timeout: u64,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store entities from a file or stdin into a new or existing scenario.
    #[command(after_help = PERSIST_EXAMPLES)]
    Persist(PersistArgs),
    /// Show a scenario's summary: counts per type, statistics and a few samples.
    #[command(after_help = SUMMARY_EXAMPLES)]
    Summary(SummaryArgs),
    /// Run one read-only SQL query (SELECT or WITH) scoped to a scenario, one page at a time.
    #[command(after_help = QUERY_EXAMPLES)]
    Query(QueryArgs),
    /// Show a few entities of one type.
    #[command(after_help = SAMPLES_EXAMPLES)]
    Samples(SamplesArgs),
    /// List scenarios with their entity counts.
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Rename a scenario (its id stays the same).
    #[command(after_help = RENAME_EXAMPLES)]
    Rename(RenameArgs),
    /// Delete a scenario with all its entities and tags.
    #[command(after_help = DELETE_EXAMPLES)]
    Delete(DeleteArgs),
    /// Add, remove or list scenario tags.
    #[command(subcommand, after_help = TAG_EXAMPLES)]
    Tag(TagCommand),
    /// Copy a scenario (all entities or some types) into a new scenario.
    #[command(after_help = CLONE_EXAMPLES)]
    Clone(CloneArgs),
    /// Combine two or more scenarios into a new scenario (the sources stay as they are).
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Write a scenario to a JSON file or a folder of CSV or Parquet files.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Load a JSON export file or a folder of CSV/Parquet exports into a new scenario.
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(ImportArgs),
    /// Import FHIR R4 files (Bundles, resources, NDJSON; e.g. Synthea output) into a scenario.
    #[command(name = "import-fhir", after_help = IMPORT_FHIR_EXAMPLES)]
    ImportFhir(ImportFhirArgs),
    /// Import the scenarios and cohorts of the Python HealthSim (its database or JSON files).
    #[command(name = "import-legacy", after_help = IMPORT_LEGACY_EXAMPLES)]
    ImportLegacy(ImportLegacyArgs),
    /// Write a self-contained HTML report of a scenario: charts and a data-quality check.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Describe entity types, tables and columns (for writing SQL).
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// Database status and migrations.
    #[command(subcommand, after_help = DB_EXAMPLES)]
    Db(DbCommand),
    /// Run the MCP stdio server (for Claude Desktop / Claude Code).
    #[command(after_help = MCP_EXAMPLES)]
    Mcp,
    /// Generate a realistic multi-product cohort, persist it in batches of 50, summarize it.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(DemoArgs),
    /// Write deterministic synthetic entities as JSON Lines or one JSON document (no database).
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
}

const PERSIST_EXAMPLES: &str = "\
Input formats (FILE, or stdin when FILE is - or omitted):
  JSON array of entities of one type         needs --type
  JSON object of type -> array               {\"patients\": [...], \"encounters\": [...]}
  JSON Lines, one entity per line            needs --type
  JSON Lines of typed envelopes              {\"type\": \"patients\", \"entity\": {...}} per line
                                             (as written by the synthetic generator)
Large inputs are streamed: every --batch-size entities are one transaction. The first batch
creates the scenario (auto-named from --context unless --name is given); later batches go to the
same scenario. A failed batch is rolled back and reported with its line numbers (JSON Lines) or
entity positions; the other batches are still stored, and the exit code is 2.

Examples:
  healthsim persist --type patients patients.json --context \"diabetic patients in Arizona\"
  healthsim persist cohort.json --name diabetes-cohort --tag diabetes --tag medicare
  healthsim persist --scenario diabetes-cohort --type claims claims.jsonl
  generator | healthsim persist --type members - --batch-size 50";

const SUMMARY_EXAMPLES: &str = "\
Examples:
  healthsim summary diabetes-cohort
  healthsim summary diabetes --no-samples          # unique substring of a name works too
  healthsim --json summary 5f1c...e2 --samples 5";

const QUERY_EXAMPLES: &str = "\
Every table reference is scoped to the scenario (joins and subqueries too). Only one SELECT or
WITH statement; no writes, files, settings or extensions. Tables: `healthsim schema`.

Examples:
  healthsim query diabetes-cohort \"SELECT * FROM patients WHERE gender = 'female'\"
  healthsim query diabetes-cohort \"SELECT * FROM patients\" --limit 20 --offset 20
  healthsim query diabetes-cohort \"SELECT c.claim_type, sum(l.paid_amount) paid
      FROM claims c JOIN claim_lines l USING (claim_id) GROUP BY 1 ORDER BY 2 DESC\"";

const SAMPLES_EXAMPLES: &str = "\
Examples:
  healthsim samples diabetes-cohort patients
  healthsim samples diabetes-cohort claims --count 5 --strategy recent";

const LIST_EXAMPLES: &str = "\
Examples:
  healthsim list
  healthsim list --filter diabetes --sort name
  healthsim --json list --tag medicare --limit 100";

const RENAME_EXAMPLES: &str = "\
The name is sanitized (lowercase, dashes) and kept unique.

Examples:
  healthsim rename diabetes-cohort-20250101 maricopa-diabetes-baseline";

const DELETE_EXAMPLES: &str = "\
Examples:
  healthsim delete old-test-scenario --yes";

const TAG_EXAMPLES: &str = "\
Tags are lowercase and trimmed.

Examples:
  healthsim tag add diabetes-cohort diabetes medicare
  healthsim tag remove diabetes-cohort medicare
  healthsim tag list diabetes-cohort
  healthsim tag list                               # every tag with its scenario count";

const CLONE_EXAMPLES: &str = "\
The copy keeps every id, so references inside it stay valid. Its name defaults to
{source}-copy (made unique); description and tags default to the source's.

Examples:
  healthsim clone maricopa-baseline --name maricopa-what-if --tag what-if
  healthsim clone maricopa-baseline --types patients,encounters,diagnoses
  healthsim --json clone maricopa-baseline | jq -r .scenario_id";

const MERGE_EXAMPLES: &str = "\
An id that two sources hold in the same table is a conflict:
  skip       keep the entity of the first source that has it (default)
  overwrite  keep the entity of the last source that has it
  rename     keep both; the later one gets a new id ({id}~2, ...) and references to it inside
             its own source are rewritten

Examples:
  healthsim merge clinical-cohort claims-cohort --name combined-cohort
  healthsim merge cohort-a cohort-b cohort-c --on-conflict rename --tag merged
  healthsim merge baseline-v1 baseline-v2 --on-conflict overwrite";

const REPORT_EXAMPLES: &str = "\
One HTML file with inline SVG charts and CSS: no script, nothing fetched, opens offline in any
browser and prints cleanly. Sections per product present (people, clinical, claims, pharmacy,
trial) and a data-quality check: null rates, repeated natural keys (MRN, NPI, ...), references
that point at no entity, with examples.

Where it goes (--out):
  a path ending in .html      the report itself
  any other path              the folder that receives {scenario-name}.html (created if
                              missing; its parent must exist)
  nothing                     exports/{scenario-name}.html next to the database file
                              (for a lake: in ~/.healthsim)
An existing file is replaced only with --overwrite.

Examples:
  healthsim report diabetic-medicare-providers-20261125
  healthsim report diabetic --out review.html --overwrite";

const EXPORT_EXAMPLES: &str = "\
Where it goes (--out):
  a folder                    receives {scenario-name}.json, or {scenario-name}/ for csv/parquet;
                              created if missing (its parent must exist), so a second call
                              names the same target as the first
  a path ending in .json      the JSON file itself
  nothing                     exports/ next to the database file (for a lake: in ~/.healthsim)
Paths with '..' are refused. An existing export is replaced only with --overwrite (a folder only
if it holds nothing but a previous export's table files). JSON exports can be imported again
with `healthsim import`; so can CSV and Parquet folders.

Examples:
  healthsim export maricopa-baseline --format json --out maricopa.json
  healthsim export maricopa-baseline --format parquet --out ./exports
  healthsim export maricopa-baseline --format csv --types claims,claim_lines --no-provenance
  healthsim export maricopa-baseline --format json --out maricopa.json --overwrite";

const IMPORT_EXAMPLES: &str = "\
An invalid or truncated file writes nothing, and the error names the file and the problem. A
folder is one transaction; a JSON export is one (--commit all) or is committed in chunks under a
hidden name that becomes the scenario's only when the last one is in (--commit chunks), so either
way the scenario appears whole or not at all. The new scenario is named --name, else the
exported scenario's name (JSON) or the folder's name, made unique.

Examples:
  healthsim import maricopa.json
  healthsim import ./exports/maricopa-baseline --name maricopa-restored";

const IMPORT_FHIR_EXAMPLES: &str = "\
PATH: .json files (a resource or any Bundle), .ndjson files (FHIR Bulk Data) or folders of them.
How it commits is --commit's: one transaction (all) or one per chunk (chunks); auto picks by the
input's size and the output says which ran. By default one invalid resource fails the import
(with all nothing is written; with chunks the chunks committed before it stay, and re-running
into the same scenario completes it); with --skip-invalid invalid resources are left out and
listed. Resource types without a table are kept whole and counted. References without a target
in the scenario are counted.

Examples:
  healthsim import-fhir synthea/output/fhir --context \"synthea patients in Massachusetts\"
  healthsim import-fhir Patient.ndjson Encounter.ndjson Condition.ndjson --name bulk-export
  healthsim import-fhir more-bundles/ --scenario synthea-patients --skip-invalid";

const IMPORT_LEGACY_EXAMPLES: &str = "\
PATH: a database of the Python HealthSim (either schema era: scenarios or cohorts), opened
read-only and never modified; or one of its JSON scenario, cohort or workspace files, or a
folder of them. Every scenario/cohort becomes a new scenario (one transaction each) with its
name (sanitized), description, tags and entities. A name that is taken here is skipped
(--on-name-conflict rename imports it as NAME-2). Entities of types without a table here,
entities that fail validation and fields kept in extra are listed per scenario.

The Python HealthSim keeps its database at ~/.healthsim/healthsim.duckdb, this program's
default too: give this program another file with --db.

Examples:
  healthsim import-legacy ~/.healthsim/healthsim.duckdb --db ~/.healthsim/persist.duckdb
  healthsim import-legacy ~/.healthsim/cohorts --dry-run
  healthsim import-legacy old-export.json --on-name-conflict rename";

const GENERATE_EXAMPLES: &str = "\
The same --persons, --seed and --mix always give byte-identical output. jsonl is one typed
envelope per line ({\"type\": \"patients\", \"entity\": {...}}); document is one
{\"providers\": [...], \"patients\": [...], ...} object. Both can be stored with `healthsim persist`.
A one-line summary goes to stderr; with --out FILE, stdout lists what was written (--json too).

Examples:
  healthsim generate --persons 1000 --seed 7 --out cohort.jsonl
  healthsim generate --mix patients --persons 50 --format document > patients.json
  healthsim generate --persons 200 | healthsim persist --name generated-cohort";

const SCHEMA_EXAMPLES: &str = "\
Examples:
  healthsim schema                                 # every entity type
  healthsim schema claims                          # one type's columns (aliases work: labs, vital_signs)
  healthsim schema claims,claim_lines";

const DB_EXAMPLES: &str = "\
Examples:
  healthsim db status
  healthsim --db /data/team.duckdb db migrate
  export HEALTHSIM_DB='ducklake:postgres:dbname=lake host=pg.internal data_path=/mnt/lake/'
  healthsim db maintain --older-than-minutes 60      # a lake's snapshots, small and orphaned files";

const MCP_EXAMPLES: &str = "\
stdout carries only MCP protocol messages; logs go to stderr. The database lock is released
after about a second without calls, so the CLI and other servers can share the file.

Claude Code:     claude mcp add healthsim -- healthsim mcp
Claude Desktop:  {\"mcpServers\": {\"healthsim\": {\"command\": \"healthsim\", \"args\": [\"mcp\"]}}}";

const DEMO_EXAMPLES: &str = "\
Examples:
  healthsim demo
  healthsim demo --persons 1000 --seed 7 --name big-demo
  healthsim --db /tmp/demo.duckdb --json demo";

/// A library enum the command line takes by name (the same enum the MCP tools take, so the
/// two cannot drift apart).
pub trait Choice: Copy + Send + Sync + 'static {
    /// Every value, in the order `--help` lists them.
    fn all() -> &'static [Self];
    /// The lowercase name on the command line (and in JSON).
    fn name(self) -> &'static str;
}

/// The library enums offered as choices: each has `ALL` and `name()`.
macro_rules! choices {
    ($($library_enum:ty),* $(,)?) => {$(
        impl Choice for $library_enum {
            fn all() -> &'static [Self] {
                &<$library_enum>::ALL
            }
            fn name(self) -> &'static str {
                <$library_enum>::name(self)
            }
        }
    )*};
}

choices!(
    SampleStrategy,
    SortBy,
    OnConflict,
    ExportFormat,
    NameConflict
);

/// The parser of a [`Choice`]: its names are the possible values, each with the help text
/// `help` gives it (so `--help` lists them), and a name parses back into its value.
pub fn one_of<T: Choice>(help: fn(T) -> &'static str) -> impl TypedValueParser<Value = T> {
    let values = T::all()
        .iter()
        .map(move |&value| PossibleValue::new(value.name()).help(help(value)));
    PossibleValuesParser::new(values).try_map(|given: String| {
        T::all()
            .iter()
            .copied()
            .find(|value| value.name() == given)
            .ok_or_else(|| format!("'{given}' is not one of the possible values"))
    })
}

/// `healthsim persist`.
#[derive(Debug, Args)]
pub struct PersistArgs {
    /// Entity type of every entity in the input (any alias: patient, labs, vital_signs, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub entity_type: Option<String>,

    /// Add to this existing scenario (id or name).
    #[arg(long, value_name = "ID|NAME", conflicts_with = "name")]
    pub scenario: Option<String>,

    /// Name of the new scenario (default: generated from --context keywords and today's date).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// What the data is about; keywords become the scenario name.
    #[arg(long, value_name = "TEXT")]
    pub context: Option<String>,

    /// Description of a new scenario.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Tag for the scenario (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Entities per transaction.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FILE_BATCH_SIZE,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_size: u64,

    /// Input file; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub provenance: ProvenanceArgs,
}

/// Provenance for every row a command writes that has none of its own (an entity's own
/// `source_type`, ... wins, field by field): `persist`, `import`, `import-fhir`,
/// `import-legacy`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Provenance (every row without its own)")]
pub struct ProvenanceArgs {
    /// Kind of source (synthetic, imported, ...).
    #[arg(long, value_name = "TEXT")]
    pub source_type: Option<String>,

    /// The system the data imitates or came from.
    #[arg(long, value_name = "TEXT")]
    pub source_system: Option<String>,

    /// The skill that generated the data.
    #[arg(long, value_name = "TEXT")]
    pub skill_used: Option<String>,

    /// The random seed of the generation.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub generation_seed: Option<i64>,
}

impl ProvenanceArgs {
    /// The library's provenance (checked by the write itself).
    pub fn to_provenance(&self) -> healthsim_persist::Provenance {
        healthsim_persist::Provenance {
            source_type: self.source_type.clone(),
            source_system: self.source_system.clone(),
            skill_used: self.skill_used.clone(),
            generation_seed: self.generation_seed,
        }
    }
}

/// `healthsim summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Scenario id or name.
    pub scenario: String,

    /// Samples per major entity type.
    #[arg(long, value_name = "N", conflicts_with = "no_samples",
          default_value_t = healthsim_summary::DEFAULT_SAMPLES_PER_TYPE)]
    pub samples: usize,

    /// Leave samples out.
    #[arg(long)]
    pub no_samples: bool,
}

/// `healthsim query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Scenario id or name.
    pub scenario: String,

    /// One SELECT or WITH statement.
    pub sql: String,

    /// Rows per page (max 100) [default: 20].
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Rows to skip.
    #[arg(long, value_name = "N")]
    pub offset: Option<u64>,
}

/// The help text of each sample strategy.
fn strategy_help(strategy: SampleStrategy) -> &'static str {
    match strategy {
        SampleStrategy::Diverse => "Spread over the data",
        SampleStrategy::Random => "Uniformly random",
        SampleStrategy::Recent => "Most recent first",
    }
}

/// `healthsim samples`.
#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// Scenario id or name.
    pub scenario: String,

    /// Entity type (any alias).
    #[arg(value_name = "TYPE")]
    pub entity_type: String,

    /// How many.
    #[arg(long, value_name = "N", default_value_t = healthsim_summary::DEFAULT_SAMPLES_PER_TYPE)]
    pub count: usize,

    /// How they are chosen.
    #[arg(long, value_parser = one_of(strategy_help), default_value_t = SampleStrategy::Diverse)]
    pub strategy: SampleStrategy,
}

/// The help text of each sort order of `list`.
fn sort_help(sort: SortBy) -> &'static str {
    match sort {
        SortBy::Updated => "Most recently updated first",
        SortBy::Created => "Most recently created first",
        SortBy::Name => "By name",
    }
}

/// `healthsim list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only names containing this text (case-insensitive).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,

    /// Only scenarios with this tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// Sort order.
    #[arg(long, value_parser = one_of(sort_help), default_value_t = SortBy::Updated)]
    pub sort: SortBy,

    /// At most this many scenarios, 1 to 50 (a page; fewer when it would pass 4,000 tokens).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,

    /// Scenarios to skip: the next page's offset, as the previous page says.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: usize,
}

/// `healthsim rename`.
#[derive(Debug, Args)]
pub struct RenameArgs {
    /// Scenario id or name.
    pub scenario: String,
    /// The new name.
    pub new_name: String,
}

/// `healthsim delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Scenario id or name.
    pub scenario: String,
    /// Confirm the deletion (required).
    #[arg(long)]
    pub yes: bool,
}

/// `healthsim tag ...`.
#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Add tags to a scenario.
    #[command(after_help = TAG_EXAMPLES)]
    Add {
        /// Scenario id or name.
        scenario: String,
        /// Tags to add.
        #[arg(required = true, value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Remove tags from a scenario.
    #[command(after_help = TAG_EXAMPLES)]
    Remove {
        /// Scenario id or name.
        scenario: String,
        /// Tags to remove.
        #[arg(required = true, value_name = "TAG")]
        tags: Vec<String>,
    },
    /// List a scenario's tags, or every tag with its scenario count.
    #[command(after_help = TAG_EXAMPLES)]
    List {
        /// Scenario id or name (omit for every tag).
        scenario: Option<String>,
    },
}

/// `healthsim schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Entity type(s), comma-separated (any alias); omit for the list of every type.
    #[arg(value_name = "TYPE")]
    pub entity_type: Option<String>,
}

/// `healthsim db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show the database file, its schema version and pending migrations.
    #[command(after_help = DB_EXAMPLES)]
    Status,
    /// Apply pending migrations.
    #[command(after_help = DB_EXAMPLES)]
    Migrate,
    /// Maintain a lake: flush inlined rows into files, expire old snapshots, merge small files,
    /// and delete unreferenced and orphaned data files (left by a writer killed mid-write).
    #[command(after_help = DB_EXAMPLES)]
    Maintain(MaintainArgs),
}

/// `healthsim db maintain`.
#[derive(Debug, Args)]
pub struct MaintainArgs {
    /// Keep snapshots and files younger than this many minutes: a younger file may belong to a
    /// write still in progress on another machine.
    #[arg(long, value_name = "MINUTES", default_value_t = 1440)]
    pub older_than_minutes: u64,
}

/// `healthsim demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of persons in the cohort.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DEMO_PERSONS,
          value_parser = parse_persons)]
    pub persons: usize,

    /// Random seed: the same seed generates the same data.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DEMO_SEED)]
    pub seed: u64,

    /// Scenario name [default: demo-N-persons-seed-S for --persons N --seed S, made unique].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

fn parse_persons(given: &str) -> Result<usize, String> {
    let n: usize = given
        .parse()
        .map_err(|_| format!("'{given}' is not a whole number"))?;
    if (1..=1_000_000).contains(&n) {
        Ok(n)
    } else {
        Err("must be between 1 and 1000000".to_string())
    }
}

/// `healthsim clone`.
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// Scenario id or name to copy.
    pub scenario: String,

    /// Name of the copy [default: {source name}-copy, made unique].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Description of the copy [default: the source's].
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Tag for the copy (repeatable) [default: the source's tags].
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Only these entity types, comma-separated (any alias) [default: all].
    #[arg(long, value_name = "TYPE,..", value_delimiter = ',')]
    pub types: Option<Vec<String>>,
}

/// The help text of each way a merge settles an id two sources hold.
fn on_conflict_help(on_conflict: OnConflict) -> &'static str {
    match on_conflict {
        OnConflict::Skip => "Keep the first source's entity",
        OnConflict::Overwrite => "Keep the last source's entity",
        OnConflict::Rename => "Keep both; the later one gets a new id",
    }
}

/// `healthsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The scenarios to merge (ids or names), at least two, in order.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<String>,

    /// Name of the merged scenario [default: {first source name}-merged, made unique].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Description of the merged scenario [default: "merge of <sources>"].
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Tag for the merged scenario (repeatable) [default: the sources' tags].
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// What an id held by two sources in one table does.
    #[arg(long, value_parser = one_of(on_conflict_help), default_value_t = OnConflict::Skip)]
    pub on_conflict: OnConflict,
}

/// The help text of each export format.
fn export_format_help(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Json => "One JSON document (re-importable)",
        ExportFormat::Csv => "A folder with one CSV file per table",
        ExportFormat::Parquet => "A folder with one Parquet file per table",
    }
}

/// `healthsim export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Scenario id or name.
    pub scenario: String,

    /// File format.
    #[arg(long, value_parser = one_of(export_format_help))]
    pub format: ExportFormat,

    /// Folder or file to write [default: exports/ next to the database file, or in ~/.healthsim
    /// for a lake].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Only these entity types, comma-separated (any alias) [default: all].
    #[arg(long, value_name = "TYPE,..", value_delimiter = ',')]
    pub types: Option<Vec<String>>,

    /// Leave out the provenance columns (source_type, source_system, skill_used,
    /// generation_seed).
    #[arg(long)]
    pub no_provenance: bool,

    /// Replace an existing export at the target.
    #[arg(long)]
    pub overwrite: bool,
}

/// `healthsim report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Scenario id or name.
    pub scenario: String,

    /// HTML file or existing folder to write to [default: exports/ next to the database file,
    /// or in ~/.healthsim for a lake].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Replace an existing report at the target.
    #[arg(long)]
    pub overwrite: bool,
}

/// `healthsim import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A JSON export file, or a folder of <table>.csv or <table>.parquet files.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Name of the new scenario [default: the exported name, or the folder's name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// auto|all|chunks, for a JSON export (a folder is one transaction). all: one transaction
    /// (memory grows with the file, about 1.3 KB per entity). chunks: one transaction per
    /// 10,000 entities under a hidden name, bounded memory at any size; the scenario appears
    /// only when the last chunk commits, a failed import deletes what it wrote, and a killed
    /// one leaves a hidden scenario that a later import deletes. auto: all up to 32 MiB of
    /// file, chunks above; the output says which ran.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = CommitArg::Auto,
          hide_possible_values = true)]
    pub commit: CommitArg,

    #[command(flatten)]
    pub provenance: ProvenanceArgs,
}

/// `healthsim import-fhir`.
#[derive(Debug, Args)]
pub struct ImportFhirArgs {
    /// FHIR files (.json, .ndjson, either .gz) or folders of them (non-FHIR JSON files of a
    /// folder are skipped).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Add to this existing scenario (id or name).
    #[arg(long, value_name = "ID|NAME", conflicts_with_all = ["name", "context"])]
    pub scenario: Option<String>,

    /// Name of the new scenario [default: from the keywords of --context (else "fhir import")
    /// and today's date].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// What the data is about; keywords become the new scenario's name.
    #[arg(long, value_name = "TEXT")]
    pub context: Option<String>,

    /// Leave out invalid resources (listed in the output) instead of failing the import.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Resources per write chunk (memory grows with it; the rows written do not depend on
    /// it).
    #[arg(long, value_name = "N",
          default_value_t = healthsim_persist::fhir::import::DEFAULT_BATCH_SIZE as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_size: u64,

    /// auto|all|chunks. all: one transaction, all or nothing (memory grows with the input,
    /// about 1.1 GB at 1,000,000 resources). chunks: one transaction per chunk, bounded memory
    /// at any size; an import that fails or is killed keeps its committed chunks, and
    /// re-running the same command with --scenario NAME completes it without duplicates. auto:
    /// all up to 32 MiB of input (gzip files count 8 times), chunks above; the output says
    /// which ran.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = CommitArg::Auto,
          hide_possible_values = true)]
    pub commit: CommitArg,

    #[command(flatten)]
    pub provenance: ProvenanceArgs,
}

/// How `import` and `import-fhir` commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CommitArg {
    /// `all` for small inputs, `chunks` for large ones.
    Auto,
    /// One transaction: all or nothing.
    All,
    /// One transaction per chunk: bounded memory.
    Chunks,
}

impl From<CommitArg> for healthsim_persist::ImportCommit {
    fn from(value: CommitArg) -> Self {
        match value {
            CommitArg::Auto => Self::Auto,
            CommitArg::All => Self::All,
            CommitArg::Chunks => Self::Chunks,
        }
    }
}

impl From<CommitArg> for healthsim_persist::fhir::CommitMode {
    fn from(value: CommitArg) -> Self {
        match value {
            CommitArg::Auto => Self::Auto,
            CommitArg::All => Self::All,
            CommitArg::Chunks => Self::Chunks,
        }
    }
}

/// The help text of each way a taken name is handled by `import-legacy`.
fn name_conflict_help(choice: NameConflict) -> &'static str {
    match choice {
        NameConflict::Skip => "Skip that scenario (a repeated import adds nothing twice)",
        NameConflict::Rename => "Import it as NAME-2, NAME-3, ...",
    }
}

/// `healthsim import-legacy`.
#[derive(Debug, Args)]
pub struct ImportLegacyArgs {
    /// A Python HealthSim database, a JSON scenario/cohort file, or a folder of them.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// What a scenario whose name is taken in this database does.
    #[arg(long, value_parser = one_of(name_conflict_help), default_value_t = NameConflict::Skip)]
    pub on_name_conflict: NameConflict,

    /// Read, map and validate everything and show what would be imported; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub provenance: ProvenanceArgs,
}

/// Which entity types `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MixArg {
    /// Only patients.
    Patients,
    /// Every product: clinical, claims, pharmacy and a clinical trial.
    Multi,
}

impl From<MixArg> for healthsim_synth::Mix {
    fn from(value: MixArg) -> Self {
        match value {
            MixArg::Patients => Self::Patients,
            MixArg::Multi => Self::MultiProduct,
        }
    }
}

/// How `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormatArg {
    /// JSON Lines of typed envelopes, one entity per line.
    Jsonl,
    /// One JSON object mapping each type to its entities.
    Document,
}

/// `healthsim generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Which entity types.
    #[arg(long, value_enum, default_value_t = MixArg::Multi)]
    pub mix: MixArg,

    /// Number of persons (about 40 entities each with --mix multi).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_GENERATE_PERSONS,
          value_parser = parse_persons)]
    pub persons: usize,

    /// Random seed: the same seed generates the same data.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DEMO_SEED)]
    pub seed: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = GenerateFormatArg::Jsonl)]
    pub format: GenerateFormatArg,

    /// File to write; `-` is stdout.
    #[arg(long, value_name = "PATH", default_value = "-")]
    pub out: PathBuf,
}
