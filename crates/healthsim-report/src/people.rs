//! People: who the scenario's population is. Ages, gender shares and top states are the
//! summary's statistics of the population type; the pyramid (age band × gender) and the top
//! counties are aggregates of their own.

use duckdb::types::Value as Param;
use healthsim_schema::EntityType;

use crate::chart;
use crate::figure::ShareBars;
use crate::format;
use crate::options::ReportOptions;
use crate::overview::Present;
use crate::page::{Cell, Page, Table, Value};
use crate::sql::{column, count, scoped, Db};
use crate::stats::TypeStats;
use crate::Error;

/// The person-like types, in the order the population is taken from: the clinical population
/// first, then the cross-product persons, then each product's own people.
const POPULATION_TYPES: [&str; 5] = ["patients", "persons", "members", "rx_members", "subjects"];

/// Width of an age band, in years, and the number of bands (the last is open: 85+).
const BAND_YEARS: i64 = 5;
const BANDS: i64 = 18;

/// Gender values counted as female and male (compared lowercase); anything else is "other or
/// unknown". Bound as parameters.
const FEMALE: [&str; 2] = ["f", "female"];
const MALE: [&str; 2] = ["m", "male"];

/// The population pyramid: counts per band for female, male and other.
struct Pyramid {
    female: Vec<u64>,
    male: Vec<u64>,
    other: Vec<u64>,
    no_birth_date: u64,
}

fn band_label(band: usize) -> String {
    let from = band as i64 * BAND_YEARS;
    if band as i64 == BANDS - 1 {
        format!("{from}+")
    } else {
        format!("{from}–{}", from + BAND_YEARS - 1)
    }
}

fn pyramid(
    db: Db<'_>,
    t: &'static EntityType,
    birth_date: &str,
    gender: Option<&str>,
    options: &ReportOptions,
) -> Result<Pyramid, Error> {
    let sex = match gender {
        Some(g) => format!(
            "CASE WHEN lower({g}) IN (?, ?) THEN 0 WHEN lower({g}) IN (?, ?) THEN 1 ELSE 2 END"
        ),
        None => "2".to_string(),
    };
    let mut params = vec![Param::from(options.as_of.format("%Y-%m-%d").to_string())];
    if gender.is_some() {
        params.extend(
            FEMALE
                .iter()
                .chain(&MALE)
                .map(|v| Param::from(v.to_string())),
        );
    }
    params.push(db.scenario());
    // The age is the summary's: whole years by date_sub, as of the report's date.
    let rows = db.rows(
        "the population pyramid",
        &format!(
            "SELECT least(greatest(CAST(floor(date_sub('year', {birth_date}, CAST(? AS DATE)) / {BAND_YEARS}) AS BIGINT), 0), {last}) AS band, \
             {sex} AS sex, count(*) {from} AND {birth_date} IS NOT NULL GROUP BY ALL",
            last = BANDS - 1,
            from = scoped(t),
        ),
        params,
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, count(r, 2)?)),
    )?;
    let bands = usize::try_from(BANDS).unwrap_or(18);
    let mut pyramid = Pyramid {
        female: vec![0; bands],
        male: vec![0; bands],
        other: vec![0; bands],
        no_birth_date: 0,
    };
    for (band, sex, n) in rows {
        let Some(band) = usize::try_from(band).ok().filter(|b| *b < bands) else {
            continue;
        };
        let side = match sex {
            0 => &mut pyramid.female,
            1 => &mut pyramid.male,
            _ => &mut pyramid.other,
        };
        side[band] += n;
    }
    pyramid.no_birth_date = db.row(
        "persons without a birth date",
        &format!("SELECT count(*) - count({birth_date}) {}", scoped(t)),
        vec![db.scenario()],
        |r| count(r, 0),
    )?;
    Ok(pyramid)
}

/// The most frequent counties (`county_fips`) with their share of the type's rows.
fn top_counties(
    db: Db<'_>,
    t: &'static EntityType,
    county: &str,
    total: u64,
    options: &ReportOptions,
) -> Result<Vec<(String, u64, f64)>, Error> {
    let rows = db.rows(
        "the top counties",
        &format!(
            "SELECT {county}, count(*) AS n {} AND {county} IS NOT NULL \
             GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?",
            scoped(t)
        ),
        vec![db.scenario(), Param::from(options.top_n as i64)],
        |r| Ok((r.get::<_, String>(0)?, count(r, 1)?)),
    )?;
    Ok(rows
        .into_iter()
        .map(|(c, n)| {
            (
                c,
                n,
                if total > 0 {
                    n as f64 / total as f64
                } else {
                    0.0
                },
            )
        })
        .collect())
}

/// Renders the section; `false` (nothing written) when the scenario has no person-like type.
pub(crate) fn render(
    db: Db<'_>,
    present: &Present,
    options: &ReportOptions,
    page: &mut Page,
) -> Result<bool, Error> {
    let Some(t) = POPULATION_TYPES.iter().find_map(|table| present.get(table)) else {
        return Ok(false);
    };
    let total = present.count(t.table);
    let stats = TypeStats::load(db, t, options)?;
    page.section("people", "People");
    page.note(&format!(
        "Population: the {} {} of the scenario (ages in whole years as of {}).",
        format::count(total),
        t.table,
        options.as_of.format("%Y-%m-%d")
    ));

    let mut kpis: Vec<(&str, Cell)> = Vec::new();
    for (label, key, decimals) in [
        ("age min", "min", 0),
        ("age median", "median", 1),
        ("age max", "max", 0),
    ] {
        if let Some(age) = stats.number(&format!("/age/{key}")) {
            kpis.push((
                label,
                Cell::new(Value::Number(age, decimals)).figure(format!("people.age.{key}")),
            ));
        }
    }
    let gender = column(t, "gender");
    let shares = gender.map(|g| stats.ranked(g)).unwrap_or_default();
    let gender_labels: Vec<String> = shares.iter().map(|(g, _)| format!("{g} share")).collect();
    for ((g, share), label) in shares.iter().zip(&gender_labels) {
        kpis.push((
            label.as_str(),
            Cell::new(Value::Share(*share)).figure(format!("people.gender.{g}")),
        ));
    }
    page.kpis(&kpis);

    page.grid();
    if let Some(birth_date) = column(t, "birth_date") {
        let p = pyramid(db, t, birth_date, gender, options)?;
        let bands: Vec<String> = (0..p.female.len()).map(band_label).collect();
        let mut data = Table::new(
            "people.pyramid",
            &["age band", "female", "male", "other or unknown"],
        );
        for (i, band) in bands.iter().enumerate().rev() {
            data.row(vec![
                Cell::text(band.clone()),
                Cell::new(Value::Count(p.female[i]))
                    .figure(format!("people.pyramid.{band}.female")),
                Cell::new(Value::Count(p.male[i])).figure(format!("people.pyramid.{band}.male")),
                Cell::new(Value::Count(p.other[i])).figure(format!("people.pyramid.{band}.other")),
            ]);
        }
        let other: u64 = p.other.iter().sum();
        if p.female.iter().chain(&p.male).any(|n| *n > 0) {
            let svg = chart::pyramid(
                "people.pyramid",
                "population pyramid: persons per 5-year age band, female left, male right",
                &bands,
                ("female", &p.female),
                ("male", &p.male),
            )?;
            let mut caption = "Population pyramid (5-year age bands)".to_string();
            if other > 0 {
                caption.push_str(&format!(
                    "; {} of other or unknown gender not drawn",
                    format::count(other)
                ));
            }
            if p.no_birth_date > 0 {
                caption.push_str(&format!(
                    "; {} without birth date",
                    format::count(p.no_birth_date)
                ));
            }
            page.figure_with_data("people.pyramid", &caption, &svg, &data);
        } else {
            page.table(Some("Age bands"), &data);
        }
    }
    let (location_key, location_label) = if stats.ranked("top_states").is_empty() {
        ("top_counties", "county")
    } else {
        ("top_states", "state")
    };
    let locations = stats.ranked(location_key);
    if !locations.is_empty() {
        let id = format!("people.{location_key}");
        ShareBars {
            id: &id,
            aria: &format!("share of {} by {location_label}", t.table),
            caption: &format!("Top {location_label}s (share of {})", t.table),
            headers: [location_label, "share"],
            figure_key: &id,
            codes: true,
            color: chart::BLUE,
        }
        .draw(page, &locations)?;
    }
    if let (Some(county), "top_states") = (column(t, "county_fips"), location_key) {
        let counties = top_counties(db, t, county, total, options)?;
        if !counties.is_empty() {
            let mut table = Table::new(
                "people.top_counties",
                &["county (FIPS)", "persons", "share"],
            );
            for (fips, n, share) in &counties {
                table.row(vec![
                    Cell::code(fips.clone()),
                    Cell::new(Value::Count(*n)).figure(format!("people.top_counties.{fips}")),
                    Cell::new(Value::Share(*share)),
                ]);
            }
            page.table(
                Some(&format!("Top counties (share of {})", t.table)),
                &table,
            );
        }
    }
    page.end_grid();
    page.end_section();
    Ok(true)
}
