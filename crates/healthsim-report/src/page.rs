//! The HTML page: one self-contained document with inline CSS and inline SVG, no script and no
//! URL. Every piece of text that came from the database goes through [`escape`] here, once:
//! callers hand over plain text, never markup (charts are SVG from plotters, which escapes its
//! own labels).
//!
//! Numbers carry stable attributes for tests and readers: a [`Cell`] with a figure key renders
//! as `<td data-figure="KEY" data-value="RAW">formatted</td>`.

use std::fmt::Write as _;

use crate::chart::{Chart, PALETTE};
use crate::format::{self, escape};

/// The style sheet: readable on screen, clean on paper (no navigation, no shadows, sections
/// and figures kept whole), system fonts only.
const CSS: &str = r#"
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; --bg: #f4f6f9; --card: #ffffff;
        --accent: #0b5cad; --warn: #b3261e; --ok: #1b7f3b; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { background: #12324f; color: #fff; padding: 22px 32px 18px; }
header.top h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; overflow-wrap: anywhere; }
header.top .meta { color: #c9d6e3; font-size: 13px; }
p.description { margin: 0 0 8px; max-width: 70em; overflow-wrap: anywhere; }
.tags { margin: 0 0 8px; }
.tag { display: inline-block; background: #e4ecf5; color: #12324f; border-radius: 10px; padding: 1px 9px;
       margin: 2px 4px 2px 0; font-size: 12px; overflow-wrap: anywhere; }
nav.toc { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 1px solid var(--line);
          padding: 8px 32px; font-size: 14px; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 18px; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 24px 40px; }
section.report { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
                 padding: 16px 22px 20px; margin: 0 0 20px; }
section.report > h2 { margin: 0 0 10px; font-size: 21px; border-bottom: 2px solid var(--accent);
                      padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
p.note { color: var(--muted); font-size: 13px; margin: 4px 0 10px; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 12px; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 130px; }
.kpi .label { color: var(--muted); font-size: 12px; }
.kpi .value { font-size: 19px; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 14px 22px;
        align-items: start; }
figure { margin: 6px 0 12px; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; max-width: 100%; height: auto; }
.legend { font-size: 12px; margin: 0 0 2px; }
.legend .key { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; vertical-align: -1px; }
details { margin: 2px 0 0; font-size: 13px; }
details summary { color: var(--accent); cursor: pointer; }
figcaption { font-size: 13px; font-weight: 600; color: var(--ink); margin: 0 0 4px; }
table.data { border-collapse: collapse; font-size: 13px; margin: 4px 0 12px; width: auto; max-width: 100%; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0;
                               text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.data th { color: var(--muted); font-weight: 600; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data tr.problem td { color: var(--warn); font-weight: 600; }
table.data tr.noted td { color: #8a5a00; }
table.data td.muted { color: var(--muted); }
.status-ok { color: var(--ok); font-weight: 600; }
.status-problem { color: var(--warn); font-weight: 600; }
code, .id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 10px; }
@media print {
  body { background: #fff; font-size: 11pt; }
  nav.toc { display: none; }
  header.top { background: #fff; color: #000; border-bottom: 2px solid #000; padding: 0 0 8px; }
  header.top .meta { color: #333; }
  .tag { border: 1px solid #777; }
  main { max-width: none; padding: 0; }
  section.report { border: none; border-radius: 0; padding: 0; margin: 0 0 14px; }
  section.report > h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  table.data, .kpis { break-inside: avoid; page-break-inside: avoid; }
  .grid { display: block; }
  @page { margin: 14mm; }
}
"#;

/// Forbids every fetch, script and frame: the page is complete as it is. Inline styles stay
/// allowed (the style sheet above and plotters' SVG attributes).
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; \
     script-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'";

/// How a cell's value reads and how its raw value is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Text as it is (escaped).
    Text(String),
    /// An identifier or code, shown in monospace.
    Code(String),
    Count(u64),
    Money(f64),
    /// A share 0..1 shown as a percentage; the raw value is the share.
    Share(f64),
    Number(f64, usize),
    /// Nothing to show.
    Empty,
}

/// One table cell or key figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    value: Value,
    figure: Option<String>,
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell::new(Value::Text(text.into()))
    }

    pub(crate) fn code(code: impl Into<String>) -> Cell {
        Cell::new(Value::Code(code.into()))
    }

    pub(crate) fn new(value: Value) -> Cell {
        Cell {
            value,
            figure: None,
        }
    }

    pub(crate) fn empty() -> Cell {
        Cell::new(Value::Empty)
    }

    /// Tags the cell with a stable figure key (`data-figure`) and its raw value (`data-value`).
    pub(crate) fn figure(mut self, key: impl Into<String>) -> Cell {
        self.figure = Some(key.into());
        self
    }

    fn is_numeric(&self) -> bool {
        matches!(
            self.value,
            Value::Count(_) | Value::Money(_) | Value::Share(_) | Value::Number(..)
        )
    }

    fn shown(&self) -> String {
        match &self.value {
            Value::Text(t) => escape(t),
            Value::Code(t) => format!("<span class=\"id\">{}</span>", escape(t)),
            Value::Count(n) => format::count(*n),
            Value::Money(x) => format::money(*x),
            Value::Share(x) => format::percent(*x),
            Value::Number(x, decimals) => format::number(*x, *decimals),
            Value::Empty => "–".to_string(),
        }
    }

    fn raw(&self) -> Option<String> {
        match &self.value {
            Value::Text(t) | Value::Code(t) => Some(t.clone()),
            Value::Count(n) => Some(n.to_string()),
            Value::Money(x) => Some(format!("{x:.2}")),
            Value::Share(x) | Value::Number(x, _) => Some(x.to_string()),
            Value::Empty => None,
        }
    }

    /// ` data-figure="…" data-value="…"` or nothing.
    fn attributes(&self) -> String {
        let Some(key) = &self.figure else {
            return String::new();
        };
        let mut out = format!(" data-figure=\"{}\"", escape(key));
        if let Some(raw) = self.raw() {
            let _ = write!(out, " data-value=\"{}\"", escape(&raw));
        }
        out
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::text(text)
    }
}

/// A table: header cells and rows; a row can be flagged (a problem in red, a note in amber).
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    id: String,
    headers: Vec<String>,
    rows: Vec<(Option<&'static str>, Vec<Cell>)>,
}

impl Table {
    pub(crate) fn new(id: &str, headers: &[&str]) -> Table {
        Table {
            id: id.to_string(),
            headers: headers.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push((None, cells));
    }

    /// A row shown in red when `problem`.
    pub(crate) fn problem_row(&mut self, problem: bool, cells: Vec<Cell>) {
        self.rows.push((problem.then_some("problem"), cells));
    }

    /// A row shown in amber when `noted` (worth a look, not necessarily wrong).
    pub(crate) fn noted_row(&mut self, noted: bool, cells: Vec<Cell>) {
        self.rows.push((noted.then_some("noted"), cells));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The document being written.
#[derive(Debug, Default)]
pub(crate) struct Page {
    body: String,
    toc: Vec<(String, String)>,
    charts: usize,
}

impl Page {
    pub(crate) fn new() -> Page {
        Page::default()
    }

    /// Charts placed so far.
    pub(crate) fn charts(&self) -> usize {
        self.charts
    }

    /// The page header: the scenario's name and a metadata line (escaped here).
    pub(crate) fn header(&mut self, name: &str, meta: &[String]) {
        let _ = write!(
            self.body,
            "<header class=\"top\"><h1 data-figure=\"scenario.name\">{}</h1><div class=\"meta\">{}</div></header>\n<!--TOC-->\n<main>\n",
            escape(name),
            meta.iter().map(|m| escape(m)).collect::<Vec<_>>().join(" · ")
        );
    }

    /// The scenario's description, as a paragraph.
    pub(crate) fn description(&mut self, text: &str) {
        let _ = writeln!(
            self.body,
            "<p class=\"description\" data-figure=\"scenario.description\">{}</p>",
            escape(text)
        );
    }

    /// Tags as chips; `more` counts the tags not shown.
    pub(crate) fn tags(&mut self, tags: &[String], more: usize) {
        self.body.push_str("<div class=\"tags\">");
        for tag in tags {
            let _ = write!(
                self.body,
                "<span class=\"tag\" data-figure=\"scenario.tag\">{}</span>",
                escape(tag)
            );
        }
        if more > 0 {
            let _ = write!(self.body, "<span class=\"tag\">+{more} more</span>");
        }
        self.body.push_str("</div>\n");
    }

    /// Opens a section; [`Page::end_section`] closes it.
    pub(crate) fn section(&mut self, id: &str, title: &str) {
        self.toc.push((id.to_string(), title.to_string()));
        let _ = writeln!(
            self.body,
            "<section class=\"report\" id=\"{id}\" data-section=\"{id}\"><h2>{}</h2>",
            escape(title)
        );
    }

    pub(crate) fn end_section(&mut self) {
        self.body.push_str("</section>\n");
    }

    pub(crate) fn h3(&mut self, title: &str) {
        let _ = writeln!(self.body, "<h3>{}</h3>", escape(title));
    }

    pub(crate) fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", escape(text));
    }

    /// A row of key figures: label above a large value.
    pub(crate) fn kpis(&mut self, items: &[(&str, Cell)]) {
        self.body.push_str("<div class=\"kpis\">");
        for (label, cell) in items {
            let _ = write!(
                self.body,
                "<div class=\"kpi\"><div class=\"label\">{}</div><div class=\"value\"{}>{}</div></div>",
                escape(label),
                cell.attributes(),
                cell.shown()
            );
        }
        self.body.push_str("</div>\n");
    }

    /// Starts a responsive grid of figures and tables; [`Page::end_grid`] closes it.
    pub(crate) fn grid(&mut self) {
        self.body.push_str("<div class=\"grid\">\n");
    }

    pub(crate) fn end_grid(&mut self) {
        self.body.push_str("</div>\n");
    }

    /// A chart and, folded below it, the numbers it shows (a `<details>` element: no script,
    /// closed on screen and on paper, open for readers and screen readers who want them).
    pub(crate) fn figure_with_data(
        &mut self,
        id: &str,
        caption: &str,
        chart: &Chart,
        data: &Table,
    ) {
        self.figure_start(id, caption, chart);
        if !data.is_empty() {
            self.body.push_str("<details><summary>numbers</summary>");
            self.table_element(data);
            self.body.push_str("</details>");
        }
        self.body.push_str("</figure>\n");
    }

    /// A chart with its caption and legend.
    pub(crate) fn figure(&mut self, id: &str, caption: &str, chart: &Chart) {
        self.figure_start(id, caption, chart);
        self.body.push_str("</figure>\n");
    }

    fn figure_start(&mut self, id: &str, caption: &str, chart: &Chart) {
        self.charts += 1;
        let _ = write!(
            self.body,
            "<figure data-chart=\"{}\"><figcaption>{}</figcaption>",
            escape(id),
            escape(caption)
        );
        if !chart.legend.is_empty() {
            self.body.push_str("<div class=\"legend\">");
            for (name, color) in &chart.legend {
                let _ = write!(
                    self.body,
                    "<span class=\"key\"><span class=\"swatch c{color}\"></span>{}</span>",
                    escape(name)
                );
            }
            self.body.push_str("</div>");
        }
        self.body.push_str(&chart.svg);
    }

    /// A table with an optional caption.
    pub(crate) fn table(&mut self, caption: Option<&str>, table: &Table) {
        if table.is_empty() {
            return;
        }
        let _ = write!(self.body, "<figure data-table=\"{}\">", escape(&table.id));
        if let Some(caption) = caption {
            let _ = write!(self.body, "<figcaption>{}</figcaption>", escape(caption));
        }
        self.table_element(table);
        self.body.push_str("</figure>\n");
    }

    fn table_element(&mut self, table: &Table) {
        self.body.push_str("<table class=\"data\"><thead><tr>");
        let numeric: Vec<bool> = (0..table.headers.len())
            .map(|i| {
                table
                    .rows
                    .iter()
                    .any(|(_, cells)| cells.get(i).is_some_and(Cell::is_numeric))
            })
            .collect();
        for (i, header) in table.headers.iter().enumerate() {
            let class = if numeric[i] { " class=\"num\"" } else { "" };
            let _ = write!(self.body, "<th{class}>{}</th>", escape(header));
        }
        self.body.push_str("</tr></thead><tbody>");
        for (class, cells) in &table.rows {
            match class {
                Some(class) => {
                    let _ = write!(self.body, "<tr class=\"{class}\">");
                }
                None => self.body.push_str("<tr>"),
            }
            for cell in cells {
                let class = if cell.is_numeric() {
                    " class=\"num\""
                } else if cell.value == Value::Empty {
                    " class=\"muted\""
                } else {
                    ""
                };
                let _ = write!(
                    self.body,
                    "<td{class}{}>{}</td>",
                    cell.attributes(),
                    cell.shown()
                );
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</tbody></table>");
    }

    /// A status line: green when `ok`, red otherwise.
    pub(crate) fn status(&mut self, ok: bool, text: &str) {
        let class = if ok { "status-ok" } else { "status-problem" };
        let _ = writeln!(self.body, "<p class=\"{class}\">{}</p>", escape(text));
    }

    /// The whole document.
    pub(crate) fn finish(self, title: &str, footer: &str) -> String {
        let mut toc = String::from("<nav class=\"toc\">");
        for (id, title) in &self.toc {
            let _ = write!(toc, "<a href=\"#{id}\">{}</a>", escape(title));
        }
        toc.push_str("</nav>");
        let body = self.body.replacen("<!--TOC-->", &toc, 1);
        // Legend swatches in the charts' own colours (one list, in `chart`).
        let swatches: String = PALETTE
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    ".swatch.c{i} {{ background: #{:02x}{:02x}{:02x}; }}\n",
                    c.0, c.1, c.2
                )
            })
            .collect();
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title><style>{CSS}{swatches}</style></head>\n<body>\n{body}</main>\n\
             <footer>{}</footer>\n</body></html>\n",
            escape(title),
            escape(footer)
        )
    }
}
