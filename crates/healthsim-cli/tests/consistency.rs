//! The command line, the MCP tools and their documentation list the same things.
//!
//! Four lists name the operations: the clap command tree, the MCP server's tools (each with the
//! `healthsim` command that does the same, [`HealthsimServer::tool_commands`]), the user guide's
//! command and tool tables (`docs/user-guide.md`) and the skills' tool tables (`skills/*.md`,
//! tables with a `tool` column). A command or tool added, renamed or removed in one of them
//! and not in the others fails here, naming what is missing where.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use healthsim_cli::args::Cli;
use healthsim_cli::mcp::HealthsimServer;

/// Commands with no MCP tool: they serve the terminal (the server itself, the database and a
/// lake's maintenance, the demo and the generator), not an agent.
const CLI_ONLY: &[&str] = &[
    "db maintain",
    "db migrate",
    "db status",
    "demo",
    "generate",
    "mcp",
];

/// Tools the skills' tool tables may leave out (none today). Each entry must still be missing
/// (remove it when a skill gains the tool).
const NOT_IN_SKILL_TABLES: &[&str] = &[];

/// A markdown table: its header cells and rows of cells (`\|` inside a cell is a literal bar).
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// The cells of the column named `name`, if the table has one.
    fn column(&self, name: &str) -> Option<Vec<&str>> {
        let index = self.header.iter().position(|h| h == name)?;
        Some(
            self.rows
                .iter()
                .filter_map(|row| row.get(index).map(String::as_str))
                .collect(),
        )
    }
}

/// Every table of a markdown text.
fn tables(text: &str) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut lines: Vec<Vec<String>> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        let line = line.trim();
        if line.starts_with('|') {
            lines.push(cells(line));
            continue;
        }
        if lines.len() >= 2 {
            let mut rows = std::mem::take(&mut lines).into_iter();
            let header = rows.next().unwrap_or_default();
            // The second line is the |---|---| rule.
            tables.push(Table {
                header,
                rows: rows.skip(1).collect(),
            });
        }
        lines.clear();
    }
    tables
}

/// The cells of a table line, trimmed.
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.trim_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            other => cell.push(other),
        }
    }
    cells.push(cell.trim().to_string());
    cells
}

/// The `code` spans of a cell.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// Every command of the clap tree that runs something: `persist`, `tag add`, `db status`, ...
fn cli_commands() -> BTreeSet<String> {
    let mut commands = BTreeSet::new();
    for command in Cli::command().get_subcommands() {
        let name = command.get_name();
        if command.has_subcommands() {
            for sub in command.get_subcommands() {
                commands.insert(format!("{name} {}", sub.get_name()));
            }
        } else {
            commands.insert(name.to_string());
        }
    }
    commands
}

/// The commands the user guide's `command` tables document: the first word of each code span
/// of the first column, with its `a|b` subcommands for commands that have some.
fn guide_commands(guide: &str, cli: &BTreeSet<String>) -> BTreeSet<String> {
    let mut commands = BTreeSet::new();
    for table in tables(guide) {
        for cell in table.column("command").into_iter().flatten() {
            for span in code_spans(cell) {
                let mut words = span.split_whitespace();
                let Some(name) = words.next() else { continue };
                let has_subcommands = cli.iter().any(|c| c.starts_with(&format!("{name} ")));
                match words.next().filter(|_| has_subcommands) {
                    Some(subs) => {
                        for sub in subs.split('|') {
                            commands.insert(format!("{name} {sub}"));
                        }
                    }
                    None => {
                        commands.insert(name.to_string());
                    }
                }
            }
        }
    }
    commands
}

/// The code spans of the `tool` columns of `text`'s tables, with a `: value` part cut off
/// (`confirm: true` is the parameter `confirm`).
fn tool_column_spans(text: &str) -> BTreeSet<String> {
    tables(text)
        .iter()
        .filter_map(|t| t.column("tool"))
        .flatten()
        .flat_map(code_spans)
        .map(|span| span.split(':').next().unwrap_or(span).trim().to_string())
        .collect()
}

/// Every parameter name of every tool (from the input schemas).
fn parameter_names() -> BTreeSet<String> {
    HealthsimServer::tools()
        .iter()
        .filter_map(|t| t.input_schema.get("properties")?.as_object())
        .flat_map(|properties| properties.keys().cloned())
        .collect()
}

fn tools() -> BTreeSet<String> {
    HealthsimServer::tool_commands()
        .into_iter()
        .map(|(tool, _)| tool)
        .collect()
}

/// `wanted` minus `present`, for the messages.
fn missing<'a>(wanted: &'a BTreeSet<String>, present: &'a BTreeSet<String>) -> Vec<&'a str> {
    wanted.difference(present).map(String::as_str).collect()
}

#[test]
fn every_tool_has_a_command_and_every_command_a_tool_or_a_reason() {
    let cli = cli_commands();
    let mut with_tool = BTreeSet::new();
    for (tool, command) in HealthsimServer::tool_commands() {
        assert!(
            cli.contains(command),
            "tool {tool} names the command '{command}', which the CLI does not have"
        );
        with_tool.insert(command.to_string());
    }
    for command in CLI_ONLY {
        assert!(
            cli.contains(*command),
            "CLI_ONLY lists '{command}', which the CLI does not have"
        );
        assert!(
            !with_tool.contains(*command),
            "CLI_ONLY lists '{command}', but a tool does the same: remove it from CLI_ONLY"
        );
    }
    let accounted: BTreeSet<String> = with_tool
        .into_iter()
        .chain(CLI_ONLY.iter().map(|c| c.to_string()))
        .collect();
    assert_eq!(
        missing(&cli, &accounted),
        Vec::<&str>::new(),
        "commands without an MCP tool: give them one (Tool::COMMAND) or list them in CLI_ONLY"
    );
}

#[test]
fn the_user_guide_documents_every_command() {
    let cli = cli_commands();
    let documented = guide_commands(&read("docs/user-guide.md"), &cli);
    assert_eq!(
        missing(&cli, &documented),
        Vec::<&str>::new(),
        "commands missing from the command table of docs/user-guide.md"
    );
    assert_eq!(
        missing(&documented, &cli),
        Vec::<&str>::new(),
        "docs/user-guide.md documents commands the CLI does not have"
    );
}

#[test]
fn the_user_guide_documents_every_tool() {
    let tools = tools();
    let documented = tool_column_spans(&read("docs/user-guide.md"));
    assert_eq!(
        missing(&tools, &documented),
        Vec::<&str>::new(),
        "tools missing from the tool table of docs/user-guide.md"
    );
    assert_eq!(
        missing(&documented, &tools),
        Vec::<&str>::new(),
        "docs/user-guide.md's tool table lists tools the server does not have"
    );
}

#[test]
fn the_skills_name_every_tool_and_only_tools_and_their_parameters() {
    let tools = tools();
    let skills = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../skills");
    let mut listed = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&skills)
        .unwrap_or_else(|e| panic!("cannot list skills/: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no skills/*.md");
    let parameters = parameter_names();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for span in tool_column_spans(&text) {
            assert!(
                tools.contains(&span) || parameters.contains(&span),
                "{}: the tool table names `{span}`, which is neither a tool nor a parameter of one",
                file.display()
            );
            if tools.contains(&span) {
                listed.insert(span);
            }
        }
    }
    let known_gaps: BTreeSet<String> = NOT_IN_SKILL_TABLES.iter().map(|t| t.to_string()).collect();
    for gap in &known_gaps {
        assert!(
            tools.contains(gap),
            "NOT_IN_SKILL_TABLES lists {gap}, not a tool"
        );
        assert!(
            !listed.contains(gap),
            "a skill's tool table lists {gap} now: remove it from NOT_IN_SKILL_TABLES"
        );
    }
    let expected: BTreeSet<String> = tools.difference(&known_gaps).cloned().collect();
    assert_eq!(
        missing(&expected, &listed),
        Vec::<&str>::new(),
        "tools missing from the skills' tool tables (skills/*.md, a table with a 'tool' column)"
    );
}

#[test]
fn tables_are_read_with_escaped_bars() {
    let parsed = tables("| a | b |\n|---|---|\n| `x \\| y` | z |\n\ntext\n| c |\n");
    assert_eq!(parsed.len(), 1, "a one-line table is not a table");
    assert_eq!(parsed[0].header, ["a", "b"]);
    assert_eq!(
        parsed[0].rows,
        [vec!["`x | y`".to_string(), "z".to_string()]]
    );
    assert_eq!(
        code_spans("`add_tag`, `remove_tag` and `x`"),
        ["add_tag", "remove_tag", "x"]
    );
}

/// The identifier at the start of a documented parameter or flag (`tags?` → `tags`,
/// `--batch-size` → `batch-size`).
fn identifier(text: &str) -> &str {
    let text = text.trim_start_matches('-');
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(text.len());
    &text[..end]
}

#[test]
fn the_user_guide_lists_every_tool_parameter() {
    let guide = read("docs/user-guide.md");
    let schemas: std::collections::BTreeMap<String, BTreeSet<String>> = HealthsimServer::tools()
        .iter()
        .map(|t| {
            let properties = t
                .input_schema
                .get("properties")
                .and_then(|p| p.as_object())
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            (t.name.to_string(), properties)
        })
        .collect();
    let mut compared = 0;
    for table in tables(&guide) {
        let (Some(tools), Some(parameters)) = (table.column("tool"), table.column("parameters"))
        else {
            continue;
        };
        for (tool_cell, parameter_cell) in tools.iter().zip(parameters) {
            let documented: BTreeSet<String> = code_spans(parameter_cell)
                .into_iter()
                .map(|span| identifier(span).to_string())
                .collect();
            for tool in code_spans(tool_cell) {
                let schema = schemas
                    .get(tool)
                    .unwrap_or_else(|| panic!("{tool} is not a tool"));
                assert_eq!(
                    &documented, schema,
                    "docs/user-guide.md's parameters of {tool} differ from its input schema"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(
        compared,
        schemas.len(),
        "every tool's parameters are compared"
    );
}

/// The flags of a command in the user guide's command table are the command's own flags
/// (global options and `--help` aside); `PROVENANCE` stands for the flags the guide defines
/// under that name.
#[test]
fn the_user_guide_lists_every_flag_of_the_provenance_commands() {
    let guide = read("docs/user-guide.md");
    let definition = guide
        .split("`PROVENANCE` is `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the guide defines PROVENANCE");
    let flags_of = |usage: &str| -> BTreeSet<String> {
        usage
            .split_whitespace()
            .flat_map(|word| {
                if word.contains("PROVENANCE") {
                    definition.split_whitespace().collect::<Vec<_>>()
                } else {
                    vec![word]
                }
            })
            .filter_map(|word| word.trim_start_matches(['[', '|']).strip_prefix("--"))
            .map(|flag| identifier(flag).to_string())
            .collect()
    };
    let cli = Cli::command();
    let guide_tables = tables(&guide);
    for name in ["persist", "import", "import-fhir"] {
        let usage = guide_tables
            .iter()
            .filter_map(|t| t.column("command"))
            .flatten()
            .flat_map(|cell| code_spans(cell))
            .find(|span| span.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in the command table"));
        let command = cli
            .get_subcommands()
            .find(|c| c.get_name() == name)
            .unwrap_or_else(|| panic!("no command {name}"));
        let flags: BTreeSet<String> = command
            .get_arguments()
            .filter(|a| !a.is_global_set())
            .filter_map(|a| a.get_long())
            .filter(|long| *long != "help")
            .map(str::to_string)
            .collect();
        assert_eq!(flags_of(usage), flags, "the guide's flags of {name}");
    }
}
