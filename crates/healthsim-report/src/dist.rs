//! Distributions shared by several sections: counts per month of a date column, and amounts
//! of money on a logarithmic scale (claim amounts and drug costs span five decades).

use duckdb::types::Value as Param;
use healthsim_schema::EntityType;

use crate::chart::{self, Axis};
use crate::format;
use crate::page::{Cell, Page, Table, Value};
use crate::sql::{count, scoped, Db};
use crate::Error;

/// Months shown at most (the most recent ones).
const MAX_MONTHS: usize = 240;
/// Bins per factor of ten of the money histograms.
const BINS_PER_DECADE: f64 = 4.0;

/// Rows per calendar month (`YYYY-MM`) of a date or timestamp column, oldest first.
pub(crate) fn monthly(
    db: Db<'_>,
    t: &'static EntityType,
    column: &str,
) -> Result<Vec<(String, u64)>, Error> {
    let mut months = db.rows(
        &format!("the monthly volume of {}", t.table),
        &format!(
            "SELECT strftime(date_trunc('month', {column}), '%Y-%m') AS month, count(*) {} \
             AND {column} IS NOT NULL GROUP BY 1 ORDER BY 1 DESC LIMIT ?",
            scoped(t)
        ),
        vec![db.scenario(), Param::from(MAX_MONTHS as i64)],
        |r| Ok((r.get::<_, String>(0)?, count(r, 1)?)),
    )?;
    months.reverse();
    Ok(months)
}

/// A monthly volume chart with its numbers; nothing when there are no months.
pub(crate) fn render_monthly(
    page: &mut Page,
    id: &str,
    caption: &str,
    unit: &str,
    months: &[(String, u64)],
) -> Result<(), Error> {
    if months.is_empty() {
        return Ok(());
    }
    let items: Vec<(String, f64)> = months.iter().map(|(m, n)| (m.clone(), *n as f64)).collect();
    let svg = chart::columns(id, caption, &items, Axis::Count, chart::BLUE)?;
    let mut data = Table::new(id, &["month", unit]);
    for (month, n) in months {
        data.row(vec![
            Cell::text(month.clone()),
            Cell::new(Value::Count(*n)).figure(format!("{id}.{month}")),
        ]);
    }
    page.figure_with_data(id, caption, &svg, &data);
    Ok(())
}

/// Per money column: its histogram bins (log10 dollars × [`BINS_PER_DECADE`]) and quantiles.
#[derive(Debug, Clone)]
pub(crate) struct Money {
    pub(crate) column: &'static str,
    /// `(bin, rows)`; amounts under $1 (also $0) fall in bin 0.
    pub(crate) bins: Vec<(i64, u64)>,
    /// Rows with a value.
    pub(crate) values: u64,
    pub(crate) median: Option<f64>,
    pub(crate) p90: Option<f64>,
}

/// Histograms and quantiles of money columns of `t`, two statements for all columns.
pub(crate) fn money(
    db: Db<'_>,
    t: &'static EntityType,
    columns: &[&'static str],
) -> Result<Vec<Money>, Error> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let bins_sql: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(j, c)| {
            format!(
                "SELECT {j} AS s, CAST(floor(log10(greatest(CAST({c} AS DOUBLE), 1.0)) * {BINS_PER_DECADE}) AS BIGINT) AS bin, \
                 count(*) {} AND {c} IS NOT NULL GROUP BY ALL",
                scoped(t)
            )
        })
        .collect();
    let rows = db.rows(
        &format!("the amount distributions of {}", t.table),
        &format!("{} ORDER BY 1, 2", bins_sql.join(" UNION ALL ")),
        columns.iter().map(|_| db.scenario()).collect(),
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, count(r, 2)?)),
    )?;
    let aggregates: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "count({c}), quantile_cont(CAST({c} AS DOUBLE), 0.5), quantile_cont(CAST({c} AS DOUBLE), 0.9)"
            )
        })
        .collect();
    let quantiles = db.row(
        &format!("the amount quantiles of {}", t.table),
        &format!("SELECT {} {}", aggregates.join(", "), scoped(t)),
        vec![db.scenario()],
        |r| {
            (0..columns.len())
                .map(|j| {
                    Ok((
                        count(r, 3 * j)?,
                        r.get::<_, Option<f64>>(3 * j + 1)?,
                        r.get::<_, Option<f64>>(3 * j + 2)?,
                    ))
                })
                .collect::<duckdb::Result<Vec<_>>>()
        },
    )?;
    Ok(columns
        .iter()
        .zip(quantiles)
        .enumerate()
        .map(|(j, (column, (values, median, p90)))| Money {
            column,
            bins: rows
                .iter()
                .filter(|(s, _, _)| usize::try_from(*s).ok() == Some(j))
                .map(|(_, bin, n)| (*bin, *n))
                .collect(),
            values,
            median,
            p90,
        })
        .collect())
}

/// The distribution chart of money columns (one line each) with a table of quantiles; `mean`
/// gives each column's average (from the summary where it has one).
pub(crate) fn render_money(
    page: &mut Page,
    id: &str,
    caption: &str,
    per: &str,
    distributions: &[Money],
    labels: &[(&str, &str)],
    mean: &dyn Fn(&str) -> Option<f64>,
) -> Result<(), Error> {
    let label = |column: &str| {
        labels
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(column.to_string(), |(_, l)| (*l).to_string())
    };
    let shown: Vec<&Money> = distributions.iter().filter(|m| m.values > 0).collect();
    if shown.is_empty() {
        return Ok(());
    }
    let (first, top) = shown
        .iter()
        .flat_map(|m| m.bins.iter().map(|(b, _)| *b))
        .fold((i64::MAX, i64::MIN), |(lo, hi), b| (lo.min(b), hi.max(b)));
    let (first, top) = if first > top {
        (0, 0)
    } else {
        (first.max(0), top)
    };
    // Every bin between the first and last one, empty bins as zeros: a frequency polygon.
    let series: Vec<(String, Vec<(f64, f64)>)> = shown
        .iter()
        .map(|m| {
            let points = (first..=top)
                .map(|bin| {
                    let n: u64 = m
                        .bins
                        .iter()
                        .filter(|(b, _)| *b == bin)
                        .map(|(_, n)| n)
                        .sum();
                    ((bin as f64 + 0.5) / BINS_PER_DECADE, n as f64)
                })
                .collect();
            (label(m.column), points)
        })
        .collect();
    let hi = ((top + 1) as f64 / BINS_PER_DECADE).ceil().max(1.0);
    let named: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, points)| (name.as_str(), points.clone()))
        .collect();
    let svg = chart::money_distribution(
        id,
        caption,
        &named,
        (0.0, hi),
        &format!("amount per {per} (log scale)"),
    )?;
    let mut data = Table::new(
        id,
        &["amount", "values", "mean", "median", "90th percentile"],
    );
    for m in &shown {
        let or_empty = |x: Option<f64>| x.map_or(Cell::empty(), |x| Cell::new(Value::Money(x)));
        data.row(vec![
            Cell::text(label(m.column)),
            Cell::new(Value::Count(m.values)).figure(format!("{id}.{}.values", m.column)),
            or_empty(mean(m.column)).figure(format!("{id}.{}.mean", m.column)),
            or_empty(m.median).figure(format!("{id}.{}.median", m.column)),
            or_empty(m.p90).figure(format!("{id}.{}.p90", m.column)),
        ]);
    }
    page.figure(
        id,
        &format!(
            "{caption} ({} bins per factor of ten; amounts under {} counted at {})",
            BINS_PER_DECADE,
            format::money_short(1.0),
            format::money_short(1.0)
        ),
        &svg,
    );
    page.table(None, &data);
    Ok(())
}
