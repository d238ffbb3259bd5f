//! Trial: enrollment by arm (the summary's arm counts, labelled with the arms' names) and by
//! site and arm, adverse events by severity and arm, and the top adverse-event terms (the
//! summary's).

use std::collections::BTreeMap;

use duckdb::types::Value as Param;
use healthsim_schema::EntityType;

use crate::chart::{self, Axis};
use crate::figure::ShareBars;
use crate::format;
use crate::options::ReportOptions;
use crate::overview::Present;
use crate::page::{Cell, Page, Table, Value};
use crate::sql::{column, count, scope_of, scoped, Db};
use crate::stats::TypeStats;
use crate::Error;

/// Label of a missing arm, site or severity (the summary's label for NULL).
const MISSING: &str = "(missing)";
/// Arms whose names are looked up at most.
const MAX_ARMS: i64 = 200;
/// Severity words in their clinical order (CDISC AESEV); other values follow alphabetically.
const SEVERITY_ORDER: [&str; 5] = ["mild", "moderate", "severe", "life threatening", "fatal"];

/// The trial types counted at the top of the section, with their labels.
const COUNTED: [(&str, &str); 5] = [
    ("studies", "studies"),
    ("sites", "sites"),
    ("treatment_arms", "treatment arms"),
    ("subjects", "subjects"),
    ("adverse_events", "adverse events"),
];

/// Renders the section; `false` when the scenario has no trial data at all.
pub(crate) fn render(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<bool, Error> {
    if COUNTED
        .iter()
        .all(|(table, _)| present.get(table).is_none())
    {
        return Ok(false);
    }
    let subjects = present.get("subjects");
    let events = present.get("adverse_events");
    page.section("trial", "Trial");
    let arm_names = match present.get("treatment_arms") {
        Some(arms) => arm_names(db, arms)?,
        None => BTreeMap::new(),
    };
    let arm_label = |arm: &str| match arm_names.get(arm) {
        Some(name) if name != arm => format!("{name} ({arm})"),
        _ => arm.to_string(),
    };
    let kpis: Vec<(&str, Cell)> = COUNTED
        .iter()
        .filter(|(table, _)| present.get(table).is_some() || *table == "subjects")
        .map(|(table, label)| {
            (
                *label,
                Cell::new(Value::Count(present.count(table))).figure(format!("trial.{table}")),
            )
        })
        .collect();
    page.kpis(&kpis);
    if subjects.is_none() {
        page.note("No subject is enrolled in this scenario.");
    }
    // Arms in the order of the enrollment chart, so each arm keeps its colour in every chart.
    let subject_stats = match subjects {
        Some(s) => TypeStats::load(db, s, options)?,
        None => TypeStats::default(),
    };
    let arm_order: Vec<String> = subject_stats
        .ranked("arms")
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    page.grid();
    if let Some(s) = subjects {
        render_enrollment(db, s, &subject_stats, options, page, &arm_label)?;
    }
    if let Some(e) = events {
        render_adverse_events(db, e, subjects, &arm_order, options, page, &arm_label)?;
    }
    page.end_grid();
    page.end_section();
    Ok(true)
}

/// `arm_id → name` of the scenario's treatment arms.
fn arm_names(db: Db<'_>, arms: &'static EntityType) -> Result<BTreeMap<String, String>, Error> {
    let Some(name) = column(arms, "name") else {
        return Ok(BTreeMap::new());
    };
    let rows = db.rows(
        "the treatment arms",
        &format!(
            "SELECT {pk}, {name} {} AND {name} IS NOT NULL ORDER BY 1 LIMIT ?",
            scoped(arms),
            pk = arms.primary_key
        ),
        vec![db.scenario(), Param::from(MAX_ARMS)],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    Ok(rows.into_iter().collect())
}

fn render_enrollment(
    db: Db<'_>,
    t: &'static EntityType,
    stats: &TypeStats,
    options: &ReportOptions,
    page: &mut Page,
    arm_label: &dyn Fn(&str) -> String,
) -> Result<(), Error> {
    let arms = stats.ranked("arms");
    if !arms.is_empty() {
        let items: Vec<(String, f64)> = arms.iter().map(|(a, n)| (arm_label(a), *n)).collect();
        let svg = chart::bars(
            "trial.enrollment_by_arm",
            "subjects per treatment arm",
            &items,
            Axis::Count,
            chart::BLUE,
        )?;
        let mut data = Table::new("trial.enrollment_by_arm", &["arm", "subjects"]);
        for (arm, n) in &arms {
            data.row(vec![
                Cell::text(arm_label(arm)),
                Cell::new(Value::Count(n.max(0.0) as u64)).figure(format!("trial.arm.{arm}")),
            ]);
        }
        page.figure_with_data("trial.enrollment_by_arm", "Enrollment by arm", &svg, &data);
    }
    let (Some(site), Some(arm)) = (column(t, "site_id"), column(t, "arm_id")) else {
        return Ok(());
    };
    let site_type = healthsim_schema::by_table("sites");
    // Site names come from the scenario's sites when the registry has them.
    let (join, name) = match site_type.and_then(|s| Some((s, column(s, "name")?))) {
        Some((s, name)) => (
            format!(
                "LEFT JOIN (SELECT {pk}, {name} AS site_name {from}) st ON st.{pk} = x.{site}",
                pk = s.primary_key,
                from = scoped(s),
            ),
            "min(st.site_name)".to_string(),
        ),
        None => (String::new(), "NULL".to_string()),
    };
    let mut params = Vec::new();
    if !join.is_empty() {
        params.push(db.scenario());
    }
    params.push(db.scenario());
    let rows = db.rows(
        "the enrollment by site and arm",
        &format!(
            "SELECT x.{site}, {name}, x.{arm}, count(*) FROM {table} x {join} \
             WHERE {scope} = ? GROUP BY x.{site}, x.{arm}",
            table = t.table,
            scope = scope_of("x"),
        ),
        params,
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                count(r, 3)?,
            ))
        },
    )?;
    if rows.is_empty() {
        return Ok(());
    }
    // Sites by enrollment (top N), arms in the order of the arm chart.
    let mut per_site: BTreeMap<String, (Option<String>, u64)> = BTreeMap::new();
    for (site, name, _, n) in &rows {
        let entry = per_site
            .entry(site.clone().unwrap_or_else(|| MISSING.to_string()))
            .or_insert((name.clone(), 0));
        entry.1 += n;
    }
    let mut sites: Vec<(String, Option<String>, u64)> = per_site
        .into_iter()
        .map(|(s, (name, n))| (s, name, n))
        .collect();
    sites.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let hidden = sites.len().saturating_sub(options.top_n);
    sites.truncate(options.top_n);
    let mut arm_ids: Vec<String> = arms.iter().map(|(a, _)| a.clone()).collect();
    for (_, _, a, _) in &rows {
        let a = a.clone().unwrap_or_else(|| MISSING.to_string());
        if !arm_ids.contains(&a) {
            arm_ids.push(a);
        }
    }
    let cell = |site: &str, arm: &str| -> u64 {
        rows.iter()
            .filter(|(s, _, a, _)| {
                s.as_deref().unwrap_or(MISSING) == site && a.as_deref().unwrap_or(MISSING) == arm
            })
            .map(|(_, _, _, n)| n)
            .sum()
    };
    let site_label = |(id, name, _): &(String, Option<String>, u64)| match name {
        Some(name) => format!("{name} ({id})"),
        None => id.clone(),
    };
    let categories: Vec<String> = sites
        .iter()
        .map(|(id, name, _)| name.clone().unwrap_or_else(|| id.clone()))
        .collect();
    let labels: Vec<String> = sites.iter().map(site_label).collect();
    let series: Vec<(String, Vec<f64>)> = arm_ids
        .iter()
        .map(|a| {
            (
                arm_label(a),
                sites.iter().map(|(s, _, _)| cell(s, a) as f64).collect(),
            )
        })
        .collect();
    let svg = chart::stacked_bars(
        "trial.enrollment_by_site",
        "subjects per site, split by arm",
        &categories,
        &series,
        Axis::Count,
    )?;
    let mut headers: Vec<String> = vec!["site".into(), "subjects".into()];
    headers.extend(arm_ids.iter().map(|a| arm_label(a)));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut data = Table::new("trial.enrollment_by_site", &header_refs);
    for (site, label) in sites.iter().zip(&labels) {
        let mut cells = vec![
            Cell::text(label.clone()),
            Cell::new(Value::Count(site.2)).figure(format!("trial.site.{}", site.0)),
        ];
        for a in &arm_ids {
            cells.push(
                Cell::new(Value::Count(cell(&site.0, a)))
                    .figure(format!("trial.site.{}.{a}", site.0)),
            );
        }
        data.row(cells);
    }
    let mut caption = "Enrollment by site and arm".to_string();
    if hidden > 0 {
        caption.push_str(&format!(
            " (top {}; {} more sites)",
            sites.len(),
            format::count(hidden as u64)
        ));
    }
    page.figure_with_data("trial.enrollment_by_site", &caption, &svg, &data);
    Ok(())
}

/// Position of a severity in clinical order (unknown words after, missing last).
fn severity_rank(severity: &str) -> (usize, String) {
    let lower = severity.to_lowercase();
    let rank = SEVERITY_ORDER
        .iter()
        .position(|s| *s == lower)
        .unwrap_or(if severity == MISSING {
            usize::MAX
        } else {
            SEVERITY_ORDER.len()
        });
    (rank, lower)
}

fn render_adverse_events(
    db: Db<'_>,
    t: &'static EntityType,
    subjects: Option<&'static EntityType>,
    arm_order: &[String],
    options: &ReportOptions,
    page: &mut Page,
    arm_label: &dyn Fn(&str) -> String,
) -> Result<(), Error> {
    let stats = TypeStats::load(db, t, options)?;
    let Some(severity) = column(t, "aesev") else {
        return Ok(());
    };
    let subject = column(t, "subject_id");
    // The arm of each event's subject, when subjects are there to join.
    let arm_join = match (subjects, subject) {
        (Some(s), Some(subject)) => column(s, "arm_id").map(|arm| {
            (
                format!(
                    "LEFT JOIN (SELECT {pk}, {arm} AS arm {from}) sj ON sj.{pk} = x.{subject}",
                    pk = s.primary_key,
                    from = scoped(s),
                ),
                "sj.arm",
            )
        }),
        _ => None,
    };
    let (join, arm) = arm_join.clone().unwrap_or((String::new(), "NULL"));
    let mut params = Vec::new();
    if arm_join.is_some() {
        params.push(db.scenario());
    }
    params.push(db.scenario());
    let rows = db.rows(
        "the adverse events by severity",
        &format!(
            "SELECT x.{severity}, {arm}, count(*) FROM {table} x {join} WHERE {scope} = ? GROUP BY ALL",
            table = t.table,
            scope = scope_of("x"),
        ),
        params,
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| MISSING.to_string()),
                r.get::<_, Option<String>>(1)?
                    .unwrap_or_else(|| MISSING.to_string()),
                count(r, 2)?,
            ))
        },
    )?;
    if !rows.is_empty() {
        let mut severities: Vec<String> = rows.iter().map(|(s, _, _)| s.clone()).collect();
        severities.sort_by_key(|s| severity_rank(s));
        severities.dedup();
        let mut arms: Vec<String> = rows.iter().map(|(_, a, _)| a.clone()).collect();
        arms.sort_by_key(|a| {
            (
                arm_order.iter().position(|o| o == a).unwrap_or(usize::MAX),
                a.clone(),
            )
        });
        arms.dedup();
        let cell = |sev: &str, arm: &str| -> u64 {
            rows.iter()
                .filter(|(s, a, _)| s == sev && a == arm)
                .map(|(_, _, n)| n)
                .sum()
        };
        let by_arm = arm_join.is_some();
        let series: Vec<(String, Vec<f64>)> = arms
            .iter()
            .map(|a| {
                let name = if by_arm {
                    arm_label(a)
                } else {
                    "events".to_string()
                };
                (name, severities.iter().map(|s| cell(s, a) as f64).collect())
            })
            .collect();
        let svg = chart::stacked_bars(
            "trial.adverse_events_by_severity",
            "adverse events per severity, split by the subject's arm",
            &severities,
            &series,
            Axis::Count,
        )?;
        let shares = stats.ranked(severity);
        let mut headers: Vec<String> = vec!["severity".into(), "events".into(), "share".into()];
        if by_arm {
            headers.extend(arms.iter().map(|a| arm_label(a)));
        }
        let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut data = Table::new("trial.adverse_events_by_severity", &header_refs);
        for s in &severities {
            let total: u64 = arms.iter().map(|a| cell(s, a)).sum();
            let share = shares
                .iter()
                .find(|(label, _)| label == s)
                .map_or(Cell::empty(), |(_, x)| Cell::new(Value::Share(*x)));
            let mut cells = vec![
                Cell::code(s.clone()),
                Cell::new(Value::Count(total)).figure(format!("trial.severity.{s}")),
                share.figure(format!("trial.severity_share.{s}")),
            ];
            if by_arm {
                for a in &arms {
                    cells.push(
                        Cell::new(Value::Count(cell(s, a)))
                            .figure(format!("trial.severity.{s}.{a}")),
                    );
                }
            }
            data.row(cells);
        }
        page.figure_with_data(
            "trial.adverse_events_by_severity",
            if by_arm {
                "Adverse events by severity and arm"
            } else {
                "Adverse events by severity"
            },
            &svg,
            &data,
        );
    }
    let terms = stats.ranked("top_terms");
    if !terms.is_empty() {
        ShareBars {
            id: "trial.top_terms",
            aria: "share of adverse events by term",
            caption: "Top adverse-event terms (share of events)",
            headers: ["term", "share of events"],
            figure_key: "trial.term",
            codes: false,
            color: chart::VERMILLION,
        }
        .draw(page, &terms)?;
    }
    Ok(())
}
