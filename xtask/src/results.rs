//! `cargo xtask docs`: the tables of docs/performance.md and docs/reliability.md that report
//! measurements are generated from the committed results files in docs/results/, so a figure in
//! the docs is always one a run wrote down (issue 21, "docs ahead of evidence").
//!
//! A generated block sits between `<!-- results:NAME -->` and `<!-- /results -->`, where NAME is
//! a results file (`bench-2026-12-05.json`) or a prefix of several (`reliability-random-kills`).
//! `cargo xtask docs` rewrites every block; `cargo xtask check` fails when one differs from what
//! its results files give. Results files come from `cargo xtask bench` (target/bench/results.json,
//! copied to docs/results/bench-<date>.json) and from the crash suite run with
//! `HEALTHSIM_RESULTS_DIR=docs/results`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::root;

/// The docs with generated blocks.
const DOCS: &[&str] = &["docs/performance.md", "docs/reliability.md"];

const OPEN: &str = "<!-- results:";
const CLOSE: &str = "<!-- /results -->";

/// `cargo xtask docs`: rewrites every generated block.
pub(crate) fn docs() -> Result<()> {
    for doc in DOCS {
        let path = root().join(doc);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {doc}"))?;
        let generated = regenerate(&text, &root().join("docs/results"))?;
        if generated != text {
            std::fs::write(&path, generated)?;
            eprintln!("xtask: rewrote the results blocks of {doc}");
        }
    }
    Ok(())
}

/// For `cargo xtask check`: every generated block matches its results files.
pub(crate) fn check_docs() -> Result<()> {
    let mut stale = Vec::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(root().join(doc))?;
        if regenerate(&text, &root().join("docs/results"))? != text {
            stale.push(*doc);
        }
    }
    if !stale.is_empty() {
        bail!(
            "results blocks of {} differ from docs/results/: run `cargo xtask docs` and commit",
            stale.join(", ")
        );
    }
    eprintln!("xtask: the results blocks of the docs match docs/results/");
    Ok(())
}

/// `text` with every `<!-- results:NAME -->…<!-- /results -->` block rendered afresh.
fn regenerate(text: &str, results: &Path) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after_open = &rest[start + OPEN.len()..];
        let name_end = after_open
            .find("-->")
            .context("an unterminated <!-- results: marker")?;
        let name = after_open[..name_end].trim();
        let body_start = start + OPEN.len() + name_end + 3;
        let close = rest[body_start..]
            .find(CLOSE)
            .with_context(|| format!("<!-- results:{name} --> has no {CLOSE}"))?;
        out.push_str(&rest[..body_start]);
        out.push('\n');
        out.push_str(&render(name, results)?);
        out.push_str(CLOSE);
        rest = &rest[body_start + close + CLOSE.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The results files a block names: the file itself, or every `NAME*.json`, sorted.
fn files(name: &str, results: &Path) -> Result<Vec<PathBuf>> {
    let exact = results.join(name);
    if exact.is_file() {
        return Ok(vec![exact]);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(results)
        .with_context(|| format!("listing {}", results.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(name) && n.ends_with(".json"))
        })
        .collect();
    found.sort();
    if found.is_empty() {
        bail!("no results file docs/results/{name}*.json");
    }
    Ok(found)
}

fn read(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "not recorded".to_string(),
        other => other.to_string(),
    }
}

/// One block's Markdown (ending with a newline).
fn render(name: &str, results: &Path) -> Result<String> {
    let paths = files(name, results)?;
    if name.starts_with("bench-") {
        let [path] = paths.as_slice() else {
            bail!("{name}: a bench block names exactly one results file");
        };
        return render_bench(path);
    }
    if name.starts_with("reliability-crash-points") {
        return render_points(&paths);
    }
    if name.starts_with("reliability-random-kills") {
        return render_random(&paths);
    }
    bail!("no renderer for results block {name}")
}

/// Where a results file comes from: file, date, commit, machine.
fn provenance(path: &Path, doc: &Value) -> String {
    format!("`docs/results/{}`, {}", file_name(path), run_of(doc))
}

/// When and where a results file's run was made: date, commit, machine, build, scale.
fn run_of(doc: &Value) -> String {
    let machine = doc.get("machine").unwrap_or(doc);
    let mut parts = vec![
        format!(
            "date {}",
            text(
                &doc.get("date")
                    .or(machine.get("date"))
                    .cloned()
                    .unwrap_or(Value::Null)
            )
        ),
        format!(
            "commit {}",
            text(
                &doc.get("commit")
                    .or(machine.get("commit"))
                    .cloned()
                    .unwrap_or(Value::Null)
            )
        ),
        format!("{} × {}", text(&machine["cores"]), text(&machine["cpu"])),
    ];
    if let Some(build) = doc.get("build") {
        parts.push(format!("{} build", text(build)));
    }
    if let Some(scale) = doc.get("scale") {
        parts.push(format!("scale {}", text(scale)));
    }
    parts.join(", ")
}

fn render_bench(path: &Path) -> Result<String> {
    let doc = read(path)?;
    let mut out = format!("Generated from {}.\n\n", provenance(path, &doc));
    out.push_str("| figure | value | target | met | note |\n|---|---|---|---|---|\n");
    for figure in doc["figures"].as_array().context("no figures")? {
        let name = text(&figure["figure"]);
        let value = text(&figure["value"]);
        let target = text(&figure["target"]);
        let mut note = text(&figure["note"]);
        // `cargo xtask bench` persists each scaling size once (its summaries are medians).
        if name.starts_with("scaling") && !note.contains("single") {
            note = if note.is_empty() {
                "persist: a single run".to_string()
            } else {
                format!("{note}; persist: a single run")
            };
        }
        out.push_str(&format!(
            "| {name} | {value} | {target} | {} | {note} |\n",
            met(&measured(&value, &target, &note), &target)
        ));
    }
    Ok(out)
}

/// What a target is checked against: the value, or for a target on the ratio to the
/// yardstick (`ratio >= 2.0`) the ratio the bench wrote in the note (`ratio 0.35 to ...`).
pub(crate) fn measured(value: &str, target: &str, note: &str) -> String {
    match (target.trim().strip_prefix("ratio"), note.find("ratio ")) {
        (Some(_), Some(at)) => note[at..].to_string(),
        _ => value.to_string(),
    }
}

/// Whether `value` meets `target`, part by part (`a / b` against `<= x / <= y`, or one
/// target for every part with `each`): `yes`, `no`, or `—` when the target is not a number.
pub(crate) fn met(value: &str, target: &str) -> String {
    let values: Vec<&str> = value.split(" / ").collect();
    let mut targets: Vec<&str> = target.split(" / ").collect();
    if targets.len() == 1 && target.ends_with(" each") {
        targets = vec![target.trim_end_matches(" each"); values.len()];
    }
    if targets.len() != values.len() {
        return "—".to_string();
    }
    let verdicts: Option<Vec<&str>> = values
        .iter()
        .zip(&targets)
        .map(|(v, t)| {
            let t = t.trim().strip_prefix("ratio").unwrap_or(t);
            let (at_least, bound) = if let Some(b) = t.trim().strip_prefix(">=") {
                (true, b)
            } else {
                (false, t.trim().strip_prefix("<=")?)
            };
            let (bound, value) = (number(bound)?, number(v)?);
            let ok = if at_least {
                value >= bound
            } else {
                value <= bound
            };
            Some(if ok { "yes" } else { "no" })
        })
        .collect();
    match verdicts {
        Some(v) => v.join(" / "),
        None => "—".to_string(),
    }
}

/// The first number of `text` (`90384/s`, `≥ 500,000/s`, `103.7 ms`).
fn number(text: &str) -> Option<f64> {
    let digits: String = text
        .trim()
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

fn render_points(paths: &[PathBuf]) -> Result<String> {
    let mut out = String::new();
    for path in paths {
        let doc = read(path)?;
        out.push_str(&format!("Generated from {}.\n\n", provenance(path, &doc)));
        out.push_str(
            "| write path | crash point | died by | after reopening |\n|---|---|---|---|\n",
        );
        for row in doc["results"].as_array().context("no results")? {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                text(&row["path"]),
                text(&row["point"]),
                text(&row["died_by"]),
                text(&row["after_reopen"])
            ));
        }
        out.push('\n');
    }
    Ok(out)
}

fn render_random(paths: &[PathBuf]) -> Result<String> {
    let mut out = String::new();
    let (mut names, mut runs) = (Vec::new(), Vec::new());
    out.push_str(
        "| command | trials | kill outcomes | state after reopening |\n|---|---|---|---|\n",
    );
    for path in paths {
        let doc = read(path)?;
        names.push(format!("`docs/results/{}`", file_name(path)));
        runs.push(run_of(&doc));
        let r = &doc["results"];
        let command = file_name(path)
            .trim_start_matches("reliability-random-kills-")
            .trim_end_matches(".json")
            .to_string();
        let state = if let Some(batches) = r.get("committed_batches_per_trial") {
            format!(
                "committed batches (of {}) per trial: {}",
                text(&r["batches"]),
                histogram(batches)
            )
        } else if let Some(after) = r.get("after_reopen") {
            histogram(after)
        } else {
            histogram(&r["after_kill"])
        };
        out.push_str(&format!(
            "| {command} | {} | {} | {state} |\n",
            text(&r["trials"]),
            histogram(&r["outcomes"])
        ));
    }
    runs.dedup();
    out.push_str(&format!(
        "\nGenerated from {} ({}).\n",
        names.join(", "),
        runs.join("; ")
    ));
    Ok(out)
}

/// `{"3": 2, "10": 6}` as `3×2 10×6`, numeric keys in numeric order.
fn histogram(value: &Value) -> String {
    let Some(map) = value.as_object() else {
        return "—".to_string();
    };
    let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
    pairs.sort_by(
        |(a, _), (b, _)| match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        },
    );
    pairs
        .iter()
        .map(|(k, n)| format!("{k}×{}", text(n)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Today's date (UTC) as YYYY-MM-DD, for results files.
pub(crate) fn today_utc() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The commit the workspace is at (`unknown` outside git), `+changes` when the tree differs.
pub(crate) fn head_commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit)
            if git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| s.is_empty()) =>
        {
            commit
        }
        Some(commit) => format!("{commit}+changes"),
        None => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn met_compares_each_part_with_its_target() {
        assert_eq!(met("90384/s", ">= 500,000/s"), "no");
        let ratio = |note: &str| met(&measured("89813/s", "ratio >= 2.0", note), "ratio >= 2.0");
        assert_eq!(ratio("ratio 0.35 to DuckDB's direct load: 258339/s"), "no");
        assert_eq!(ratio("ratio 2.10 to DuckDB's direct load: 258339/s"), "yes");
        assert_eq!(ratio("no ratio written"), "—");
        assert_eq!(
            met("103.7 ms / 271.9 ms", "<= 100 ms / <= 200 ms"),
            "no / no"
        );
        assert_eq!(met("7.0 ms / 21.5 ms", "<= 50 ms / <= 200 ms"), "yes / yes");
        assert_eq!(met("7.15 s / 1.38 s", "<= 2 s each"), "no / yes");
        assert_eq!(met("12.0 ms / 20.8 ms", "<= 10 ms / <= 50 ms"), "no / yes");
        assert_eq!(
            met("23667/s / 9.6 ms", "summary grows far slower than data"),
            "—"
        );
    }

    #[test]
    fn blocks_are_rewritten_and_the_rest_kept() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("xtask-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("bench-x.json"),
            r#"{"machine": {"cpu": "C", "cores": 2, "date": "2026-12-05", "commit": "abc"},
                "figures": [{"figure": "f", "value": "1 ms", "target": "<= 2 ms", "note": ""}]}"#,
        )?;
        let doc = "before\n<!-- results:bench-x.json -->\nstale\n<!-- /results -->\nafter\n";
        let out = regenerate(doc, &dir)?;
        assert!(out.starts_with("before\n<!-- results:bench-x.json -->\nGenerated from"));
        assert!(out.contains("| f | 1 ms | <= 2 ms | yes |  |\n<!-- /results -->\nafter\n"));
        assert_eq!(
            regenerate(&out, &dir)?,
            out,
            "generating twice changes nothing"
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
