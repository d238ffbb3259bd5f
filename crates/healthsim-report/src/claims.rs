//! Claims: totals and averages (the summary's), totals by claim type with the paid-to-billed
//! ratio, the distributions of billed, allowed and paid amounts per claim, and the status mix.
//!
//! The paid-to-billed ratio is total paid / total billed over all claims (a claim not paid
//! yet adds its billed amount and nothing paid), overall and per claim type.

use duckdb::types::Value as Param;
use healthsim_schema::EntityType;

use crate::chart::{self, Axis};
use crate::dist;
use crate::figure::ShareBars;
use crate::options::ReportOptions;
use crate::overview::Present;
use crate::page::{Cell, Page, Table, Value};
use crate::sql::{column, count, scoped, Db};
use crate::stats::TypeStats;
use crate::Error;

/// Claim types listed at most (claim types are a short code list).
const MAX_CLAIM_TYPES: i64 = 50;
/// Label of claims without a type.
const MISSING: &str = "(missing)";

/// The money columns shown, with their labels, in the order billed ⊇ allowed ⊇ paid.
const AMOUNTS: [(&str, &str); 3] = [
    ("total_billed", "billed"),
    ("total_allowed", "allowed"),
    ("total_paid", "paid"),
];

struct ByType {
    claim_type: String,
    claims: u64,
    /// Sums in the order of [`AMOUNTS`] (only the columns the registry has).
    sums: Vec<Option<f64>>,
}

/// Renders the section; `false` when the scenario has no claims.
pub(crate) fn render(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<bool, Error> {
    let Some(t) = present.get("claims") else {
        return Ok(false);
    };
    let stats = TypeStats::load(db, t, options)?;
    let amounts: Vec<(&'static str, &str)> = AMOUNTS
        .iter()
        .filter_map(|(c, label)| Some((column(t, c)?, *label)))
        .collect();
    page.section("claims", "Claims");

    let total = |c: &str| stats.number(&format!("/totals/{c}"));
    let mut kpis = vec![(
        "claims",
        Cell::new(Value::Count(present.count(t.table))).figure("claims.count"),
    )];
    let patient_resp = column(t, "total_patient_resp");
    let kpi_labels: Vec<(&str, String)> = amounts
        .iter()
        .map(|(c, l)| (*c, format!("total {l}")))
        .chain(patient_resp.map(|c| (c, "total patient responsibility".to_string())))
        .collect();
    for (c, label) in &kpi_labels {
        if let Some(sum) = total(c) {
            kpis.push((
                label.as_str(),
                Cell::new(Value::Money(sum)).figure(format!("claims.total.{c}")),
            ));
        }
    }
    let ratio = match (total("total_paid"), total("total_billed")) {
        (Some(paid), Some(billed)) if billed > 0.0 => Some(paid / billed),
        _ => None,
    };
    if let Some(ratio) = ratio {
        kpis.push((
            "paid-to-billed ratio",
            Cell::new(Value::Share(ratio)).figure("claims.paid_to_billed"),
        ));
    }
    page.kpis(&kpis);

    if let Some(claim_type) = column(t, "claim_type") {
        let by_type = by_type(db, t, claim_type, &amounts)?;
        render_by_type(page, &by_type, &amounts)?;
    }
    let distributions = dist::money(db, t, &amounts.iter().map(|(c, _)| *c).collect::<Vec<_>>())?;
    let mean = |c: &str| stats.number(&format!("/avg_per_claim/{c}"));
    dist::render_money(
        page,
        "claims.distribution",
        "Amounts per claim",
        "claim",
        &distributions,
        &amounts,
        &mean,
    )?;
    if let Some(status) = column(t, "status") {
        let mix = stats.ranked(status);
        if !mix.is_empty() {
            ShareBars {
                id: "claims.status",
                aria: "share of claims by status",
                caption: "Claim status (share of claims)",
                headers: ["status", "share"],
                figure_key: "claims.status",
                codes: true,
                color: chart::SKY,
            }
            .draw(page, &mix)?;
        }
    }
    page.end_section();
    Ok(true)
}

fn by_type(
    db: Db<'_>,
    t: &'static EntityType,
    claim_type: &str,
    amounts: &[(&'static str, &str)],
) -> Result<Vec<ByType>, Error> {
    let sums: String = amounts
        .iter()
        .map(|(c, _)| format!(", CAST(sum({c}) AS DOUBLE)"))
        .collect();
    db.rows(
        "the claims by type",
        &format!(
            "SELECT {claim_type}, count(*) AS n{sums} {} GROUP BY 1 ORDER BY n DESC, 1 NULLS LAST LIMIT ?",
            scoped(t)
        ),
        vec![db.scenario(), Param::from(MAX_CLAIM_TYPES)],
        |r| {
            Ok(ByType {
                claim_type: r
                    .get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| MISSING.to_string()),
                claims: count(r, 1)?,
                sums: (0..amounts.len())
                    .map(|j| r.get::<_, Option<f64>>(2 + j))
                    .collect::<duckdb::Result<_>>()?,
            })
        },
    )
}

fn render_by_type(
    page: &mut Page,
    rows: &[ByType],
    amounts: &[(&'static str, &str)],
) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut headers = vec!["claim type", "claims"];
    headers.extend(amounts.iter().map(|(_, l)| *l));
    headers.push("paid-to-billed");
    let mut table = Table::new("claims.by_type", &headers);
    let position = |name: &str| amounts.iter().position(|(c, _)| *c == name);
    for row in rows {
        let key = format!("claims.type.{}", row.claim_type);
        let mut cells = vec![
            Cell::code(row.claim_type.clone()),
            Cell::new(Value::Count(row.claims)).figure(format!("{key}.claims")),
        ];
        for ((c, _), sum) in amounts.iter().zip(&row.sums) {
            cells.push(
                sum.map_or(Cell::empty(), |s| Cell::new(Value::Money(s)))
                    .figure(format!("{key}.{c}")),
            );
        }
        let sum_of = |name: &str| position(name).and_then(|i| row.sums[i]);
        let ratio = match (sum_of("total_paid"), sum_of("total_billed")) {
            (Some(paid), Some(billed)) if billed > 0.0 => {
                Cell::new(Value::Share(paid / billed)).figure(format!("{key}.paid_to_billed"))
            }
            _ => Cell::empty(),
        };
        cells.push(ratio);
        table.row(cells);
    }
    let categories: Vec<String> = rows.iter().map(|r| r.claim_type.clone()).collect();
    let series: Vec<(&str, Vec<f64>)> = amounts
        .iter()
        .enumerate()
        .map(|(j, (_, label))| {
            (
                *label,
                rows.iter().map(|r| r.sums[j].unwrap_or(0.0)).collect(),
            )
        })
        .collect();
    let svg = chart::nested_bars(
        "claims.by_type",
        "billed, allowed and paid totals by claim type",
        &categories,
        &series,
        Axis::Money,
    )?;
    page.figure("claims.by_type", "Totals by claim type", &svg);
    page.table(None, &table);
    Ok(())
}
