//! Clinical: encounters (class mix from the summary, monthly volume), diagnoses (the summary's
//! top codes with prevalence = share of patients), lab results (per common test: a histogram
//! against the reference range, and the shares below, within and above it, each result judged
//! by its own range), medications (the summary's top drugs).

use duckdb::types::Value as Param;
use healthsim_schema::EntityType;

use crate::chart::{self, Axis};
use crate::dist;
use crate::figure::ShareBars;
use crate::format;
use crate::options::ReportOptions;
use crate::overview::Present;
use crate::page::{Cell, Page, Table, Value};
use crate::sql::{column, count, scope_of, scoped, Db};
use crate::stats::TypeStats;
use crate::Error;

/// Bins of a lab test's histogram.
const LAB_BINS: i64 = 20;

/// Renders the section; `false` when the scenario has no clinical data.
pub(crate) fn render(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<bool, Error> {
    let encounters = present.get("encounters");
    let diagnoses = present.get("diagnoses");
    let labs = present.get("lab_results");
    let medications = present.get("medications");
    if encounters.is_none() && diagnoses.is_none() && labs.is_none() && medications.is_none() {
        return Ok(false);
    }
    page.section("clinical", "Clinical");
    if let Some(t) = encounters {
        render_encounters(db, t, present.count(t.table), options, page)?;
    }
    if let Some(t) = diagnoses {
        render_diagnoses(db, t, options, page)?;
    }
    if let Some(t) = labs {
        render_labs(db, t, options, page)?;
    }
    if let Some(t) = medications {
        render_medications(db, t, present.count(t.table), options, page)?;
    }
    page.end_section();
    Ok(true)
}

fn render_encounters(
    db: Db<'_>,
    t: &'static EntityType,
    total: u64,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<(), Error> {
    let stats = TypeStats::load(db, t, options)?;
    page.h3("Encounters");
    let mut kpis = vec![(
        "encounters",
        Cell::new(Value::Count(total)).figure("clinical.encounters.count"),
    )];
    if let Some(days) = stats.scalar("inpatient_avg_los_days") {
        kpis.push((
            "inpatient stay, average days",
            Cell::new(Value::Number(days, 1)).figure("clinical.encounters.inpatient_avg_los_days"),
        ));
    }
    page.kpis(&kpis);
    page.grid();
    if let Some(class) = t.category_column {
        let mix = stats.ranked(class);
        if !mix.is_empty() {
            ShareBars {
                id: "clinical.encounter_class",
                aria: "share of encounters by class",
                caption: "Encounter class mix (share of encounters)",
                headers: ["class", "share"],
                figure_key: "clinical.encounter_class",
                codes: true,
                color: chart::BLUE,
            }
            .draw(page, &mix)?;
        }
    }
    if let Some(date) = t.date_column {
        let months = dist::monthly(db, t, date)?;
        dist::render_monthly(
            page,
            "clinical.encounters_per_month",
            "Encounters per month",
            "encounters",
            &months,
        )?;
    }
    page.end_grid();
    Ok(())
}

fn render_diagnoses(
    db: Db<'_>,
    t: &'static EntityType,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<(), Error> {
    let stats = TypeStats::load(db, t, options)?;
    let codes = stats.top_codes();
    if codes.is_empty() {
        return Ok(());
    }
    let patients = stats.scalar("patients").unwrap_or(0.0);
    page.h3("Diagnoses");
    page.note(&format!(
        "Prevalence: the share of the {} patients with any diagnosis who have the code.",
        format::count(patients.max(0.0) as u64)
    ));
    let items: Vec<(String, f64)> = codes
        .iter()
        .map(|(code, description, share)| {
            let label = match description {
                Some(d) => format!("{code} {d}"),
                None => code.clone(),
            };
            (label, *share)
        })
        .collect();
    let svg = chart::bars(
        "clinical.top_diagnoses",
        "prevalence of the top diagnosis codes",
        &items,
        Axis::Share,
        chart::VERMILLION,
    )?;
    let mut data = Table::new(
        "clinical.top_diagnoses",
        &["code", "description", "prevalence"],
    );
    for (code, description, share) in &codes {
        data.row(vec![
            Cell::code(code.clone()),
            description.clone().map_or(Cell::empty(), Cell::text),
            Cell::new(Value::Share(*share)).figure(format!("clinical.prevalence.{code}")),
        ]);
    }
    page.grid();
    page.figure(
        "clinical.top_diagnoses",
        "Top diagnoses by prevalence",
        &svg,
    );
    page.table(None, &data);
    page.end_grid();
    Ok(())
}

/// One common lab test: counts, reference range and its histogram.
struct LabTest {
    code: String,
    name: Option<String>,
    unit: Option<String>,
    results: u64,
    numeric: u64,
    low: Option<f64>,
    high: Option<f64>,
    median: Option<f64>,
    /// Results with a value and at least one bound, then below / within / above their own
    /// range (a missing bound is open).
    ranged: u64,
    below: u64,
    within: u64,
    above: u64,
    /// Histogram range (2nd to 98th percentile widened to the reference range).
    from: f64,
    to: f64,
    bins: Vec<u64>,
}

fn render_labs(
    db: Db<'_>,
    t: &'static EntityType,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<(), Error> {
    let (Some(code), Some(value)) = (column(t, "loinc_code"), column(t, "value_numeric")) else {
        return Ok(());
    };
    let (Some(low), Some(high)) = (column(t, "reference_low"), column(t, "reference_high")) else {
        return Ok(());
    };
    let name = column(t, "test_name").unwrap_or(code);
    let unit = column(t, "unit").map_or("NULL".to_string(), str::to_string);
    if options.lab_tests == 0 {
        return Ok(());
    }
    let mut tests = db.rows(
        "the common lab tests",
        &format!(
            "WITH base AS (SELECT {code} AS code, {name} AS name, {unit} AS unit, {value} AS v, \
                              {low} AS lo, {high} AS hi {from}), \
                  ranged AS (SELECT *, v IS NOT NULL AND (lo IS NOT NULL OR hi IS NOT NULL) AS r, \
                                    coalesce(v < lo, false) AS under, coalesce(v > hi, false) AS over FROM base) \
             SELECT code, min(name), mode(unit), count(*) AS n, count(v), median(lo), median(hi), median(v), \
                    quantile_cont(v, 0.02), quantile_cont(v, 0.98), \
                    count(*) FILTER (WHERE r), count(*) FILTER (WHERE r AND under), \
                    count(*) FILTER (WHERE r AND NOT under AND NOT over), count(*) FILTER (WHERE r AND over) \
             FROM ranged GROUP BY code ORDER BY n DESC, code LIMIT ?",
            from = scoped(t),
        ),
        vec![db.scenario(), Param::from(options.lab_tests as i64)],
        |r| {
            let low: Option<f64> = r.get(5)?;
            let high: Option<f64> = r.get(6)?;
            let p02: Option<f64> = r.get(8)?;
            let p98: Option<f64> = r.get(9)?;
            let from = [p02, low].into_iter().flatten().fold(f64::INFINITY, f64::min);
            let to = [p98, high].into_iter().flatten().fold(f64::NEG_INFINITY, f64::max);
            let (from, to) = if from.is_finite() && to.is_finite() {
                if to > from {
                    (from, to)
                } else {
                    (from - 0.5, from + 0.5)
                }
            } else {
                (0.0, 1.0)
            };
            Ok(LabTest {
                code: r.get(0)?,
                name: r.get(1)?,
                unit: r.get(2)?,
                results: count(r, 3)?,
                numeric: count(r, 4)?,
                low,
                high,
                median: r.get(7)?,
                ranged: count(r, 10)?,
                below: count(r, 11)?,
                within: count(r, 12)?,
                above: count(r, 13)?,
                from,
                to,
                bins: vec![0; usize::try_from(LAB_BINS).unwrap_or(20)],
            })
        },
    )?;
    let with_values: Vec<usize> = (0..tests.len()).filter(|i| tests[*i].numeric > 0).collect();
    if !with_values.is_empty() {
        // Bounds per test as bound parameters: (code, from, bin width).
        let values: Vec<&str> = with_values
            .iter()
            .map(|_| "(?, CAST(? AS DOUBLE), CAST(? AS DOUBLE))")
            .collect();
        let mut params = Vec::new();
        for i in &with_values {
            let test = &tests[*i];
            params.push(Param::from(test.code.clone()));
            params.push(Param::from(test.from));
            params.push(Param::from((test.to - test.from) / LAB_BINS as f64));
        }
        params.push(db.scenario());
        let rows = db.rows(
            "the lab value histograms",
            &format!(
                "WITH bounds(code, a, w) AS (VALUES {values}) \
                 SELECT x.{code}, least(greatest(CAST(floor((x.{value} - bounds.a) / bounds.w) AS BIGINT), 0), {last}) AS bin, \
                        count(*) FROM {table} x JOIN bounds ON x.{code} = bounds.code \
                 WHERE {scope} = ? AND x.{value} IS NOT NULL GROUP BY ALL",
                values = values.join(", "),
                last = LAB_BINS - 1,
                table = t.table,
                scope = scope_of("x"),
            ),
            params,
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, count(r, 2)?)),
        )?;
        for (code, bin, n) in rows {
            if let (Some(test), Ok(bin)) = (
                tests.iter_mut().find(|t| t.code == code),
                usize::try_from(bin),
            ) {
                if let Some(slot) = test.bins.get_mut(bin) {
                    *slot += n;
                }
            }
        }
    }
    if tests.is_empty() {
        return Ok(());
    }
    page.h3("Lab results");
    page.note(
        "The most frequent tests. Each result is judged against its own reference range (a \
         missing bound is open); the chart shades the typical (median) range. Values beyond the 2nd and 98th \
         percentiles are counted in the edge bins.",
    );
    let mut summary = Table::new(
        "clinical.labs",
        &[
            "test",
            "LOINC",
            "results",
            "median",
            "reference range",
            "below",
            "within",
            "above",
        ],
    );
    let share = |n: u64, of: u64| {
        if of == 0 {
            Cell::empty()
        } else {
            Cell::new(Value::Share(n as f64 / of as f64))
        }
    };
    for test in &tests {
        let unit = test.unit.clone().unwrap_or_default();
        let range = match (test.low, test.high) {
            (Some(lo), Some(hi)) => format!("{}–{} {unit}", trim(lo), trim(hi)),
            (Some(lo), None) => format!("≥ {} {unit}", trim(lo)),
            (None, Some(hi)) => format!("≤ {} {unit}", trim(hi)),
            (None, None) => String::new(),
        };
        let key = format!("clinical.lab.{}", test.code);
        summary.row(vec![
            Cell::text(test.name.clone().unwrap_or_else(|| test.code.clone())),
            Cell::code(test.code.clone()),
            Cell::new(Value::Count(test.results)).figure(format!("{key}.results")),
            test.median
                .map_or(Cell::empty(), |m| Cell::new(Value::Number(m, 2)))
                .figure(format!("{key}.median")),
            Cell::text(range),
            share(test.below, test.ranged).figure(format!("{key}.below")),
            share(test.within, test.ranged).figure(format!("{key}.within")),
            share(test.above, test.ranged).figure(format!("{key}.above")),
        ]);
    }
    page.table(None, &summary);
    page.grid();
    for test in tests.iter().filter(|t| t.numeric > 0) {
        let width = (test.to - test.from) / LAB_BINS as f64;
        let bins: Vec<(f64, f64, u64)> = test
            .bins
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let from = test.from + width * i as f64;
                (from, from + width, *n)
            })
            .collect();
        let title = test.name.clone().unwrap_or_else(|| test.code.clone());
        // One-sided ranges (eGFR ≥ 60) shade to the edge of the axis.
        let band = match (test.low, test.high) {
            (Some(lo), Some(hi)) if hi > lo => Some((lo, hi)),
            (Some(lo), None) => Some((lo, f64::INFINITY)),
            (None, Some(hi)) => Some((f64::NEG_INFINITY, hi)),
            _ => None,
        };
        let id = format!("clinical.lab.{}", test.code);
        let svg = chart::histogram(
            &id,
            &format!("distribution of {title} results"),
            &bins,
            band,
            test.unit.as_deref().unwrap_or("value"),
        )?;
        page.figure(&id, &format!("{title} ({})", test.code), &svg);
    }
    page.end_grid();
    Ok(())
}

/// A reference bound without needless decimals: `70`, `5.7`, `0.45`.
fn trim(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn render_medications(
    db: Db<'_>,
    t: &'static EntityType,
    total: u64,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<(), Error> {
    let Some(drug) = t.category_column else {
        return Ok(());
    };
    let stats = TypeStats::load(db, t, options)?;
    let drugs = stats.ranked(drug);
    if drugs.is_empty() {
        return Ok(());
    }
    page.h3("Medications");
    ShareBars {
        id: "clinical.top_medications",
        aria: "share of medication orders by drug",
        caption: &format!(
            "Top medications (share of {} medication orders)",
            format::count(total)
        ),
        headers: ["drug", "share of orders"],
        figure_key: "clinical.medication",
        codes: false,
        color: chart::GREEN,
    }
    .draw(page, &drugs)
}
