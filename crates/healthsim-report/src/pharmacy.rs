//! Pharmacy: top drugs and money totals (the summary's), fills per month and the distribution
//! of the cost per fill, from pharmacy claims; the prescriptions' top drugs when there are no
//! pharmacy claims.

use crate::chart;
use crate::dist;
use crate::figure::ShareBars;
use crate::format;
use crate::options::ReportOptions;
use crate::overview::Present;
use crate::page::{Cell, Page, Value};
use crate::sql::{column, Db};
use crate::stats::TypeStats;
use crate::Error;

/// Money columns of a pharmacy claim shown as totals, with their labels.
const TOTALS: [(&str, &str); 5] = [
    ("ingredient_cost", "ingredient cost"),
    ("dispensing_fee", "dispensing fees"),
    ("gross_amount_due", "gross amount due"),
    ("patient_pay_amount", "patient pay"),
    ("plan_paid_amount", "plan paid"),
];

/// The cost per fill whose distribution is drawn, with its label.
const COST: [(&str, &str); 2] = [
    ("gross_amount_due", "gross amount due"),
    ("plan_paid_amount", "plan paid"),
];

/// Renders the section; `false` when the scenario has neither pharmacy claims nor
/// prescriptions.
pub(crate) fn render(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<bool, Error> {
    let fills = present.get("pharmacy_claims");
    let prescriptions = present.get("prescriptions");
    let Some(t) = fills.or(prescriptions) else {
        return Ok(false);
    };
    let stats = TypeStats::load(db, t, options)?;
    page.section("pharmacy", "Pharmacy");
    let mut kpis = Vec::new();
    if let Some(p) = prescriptions {
        kpis.push((
            "prescriptions",
            Cell::new(Value::Count(present.count(p.table))).figure("pharmacy.prescriptions"),
        ));
    }
    let labels: Vec<(&str, String)> = TOTALS
        .iter()
        .map(|(c, l)| (*c, format!("total {l}")))
        .collect();
    if let Some(f) = fills {
        kpis.push((
            "pharmacy claims (fills)",
            Cell::new(Value::Count(present.count(f.table))).figure("pharmacy.fills"),
        ));
        for (c, label) in &labels {
            if let Some(sum) = stats.number(&format!("/totals/{c}")) {
                kpis.push((
                    label.as_str(),
                    Cell::new(Value::Money(sum)).figure(format!("pharmacy.total.{c}")),
                ));
            }
        }
    }
    page.kpis(&kpis);

    let drugs = stats.ranked("top_drugs");
    page.grid();
    if !drugs.is_empty() {
        let what = if fills.is_some() {
            "fills"
        } else {
            "prescriptions"
        };
        ShareBars {
            id: "pharmacy.top_drugs",
            aria: &format!("share of {what} by drug"),
            caption: &format!(
                "Top drugs (share of {} {what})",
                format::count(present.count(t.table))
            ),
            headers: ["drug", &format!("share of {what}")],
            figure_key: "pharmacy.drug",
            codes: false,
            color: chart::GREEN,
        }
        .draw(page, &drugs)?;
    }
    if let Some(f) = fills {
        if let Some(date) = f.date_column {
            let months = dist::monthly(db, f, date)?;
            dist::render_monthly(
                page,
                "pharmacy.fills_per_month",
                "Fills per month",
                "fills",
                &months,
            )?;
        }
    }
    page.end_grid();
    if let Some(f) = fills {
        let cost: Vec<(&'static str, &str)> = COST
            .iter()
            .filter_map(|(c, l)| Some((column(f, c)?, *l)))
            .collect();
        let distributions = dist::money(db, f, &cost.iter().map(|(c, _)| *c).collect::<Vec<_>>())?;
        // The summary has no averages for pharmacy claims: the mean is the total over values.
        let mean = |c: &str| {
            let values = distributions.iter().find(|m| m.column == c)?.values;
            let sum = stats.number(&format!("/totals/{c}"))?;
            (values > 0).then(|| sum / values as f64)
        };
        dist::render_money(
            page,
            "pharmacy.cost",
            "Cost per fill",
            "fill",
            &distributions,
            &cost,
            &mean,
        )?;
    }
    page.end_section();
    Ok(true)
}
