//! Charts, drawn by plotters into SVG text and inlined in the page.
//!
//! Each function takes the few numbers a chart shows (already aggregated in DuckDB) and
//! returns a [`Chart`]: an `<svg>` element and, for charts with several series, their legend
//! (the page writes it in HTML above the chart, where it can never cover a bar). Axes, ticks,
//! labels, bars and lines are plotters'; this module only chooses sizes, colours and label
//! formats. Plotters escapes the text it writes (labels come from the database). The root
//! element is rewritten to scale with the page (`viewBox`, and its natural `width` as the
//! largest size) and to carry an accessible name; its `xmlns` URL goes, as inline SVG in HTML
//! needs none and the page holds no URL at all.

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{self, escape};
use crate::Error;

/// Width of a chart, in SVG units: about the width of a grid column, so text keeps its size
/// (the page shrinks charts to their column, never enlarges them).
const WIDTH: u32 = 560;
/// Width of the charts that span the page.
const WIDE: u32 = 900;
/// Height of one bar row in bar charts.
const ROW: u32 = 24;
/// Font family: a generic family, so the browser uses a local font and fetches nothing.
const FONT: &str = "sans-serif";
/// Font size as plotters counts it (it writes size / 1.24 into the SVG: 16 → 12.9px).
const FONT_SIZE: u32 = 16;
/// Longest category label drawn in a chart (tables next to charts show the full text).
const LABEL_CHARS: usize = 30;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
pub(crate) const BLUE: RGBColor = RGBColor(0, 114, 178);
pub(crate) const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub(crate) const GREEN: RGBColor = RGBColor(0, 158, 115);
pub(crate) const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub(crate) const SKY: RGBColor = RGBColor(86, 180, 233);
pub(crate) const PURPLE: RGBColor = RGBColor(204, 121, 167);
const GREY: RGBColor = RGBColor(110, 118, 129);
const LIGHT: RGBColor = RGBColor(225, 229, 235);
/// Series colours in order; the page's legend swatches use the same list.
pub(crate) const PALETTE: [RGBColor; 6] = [BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE];

type Drawn = Result<(), Box<dyn std::error::Error + Send + Sync>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A drawn chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    /// The `<svg>` element.
    pub(crate) svg: String,
    /// Series names and their [`PALETTE`] index; empty for single-series charts.
    pub(crate) legend: Vec<(String, usize)>,
}

/// How axis ticks and value labels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    Count,
    /// Shares 0..1, shown as percentages.
    Share,
    Money,
}

impl Axis {
    fn tick(self, x: f64) -> String {
        match self {
            Axis::Count => format::count_short(x),
            Axis::Share => format!("{:.0}%", x * 100.0),
            Axis::Money => format::money_short(x),
        }
    }

    fn value(self, x: f64) -> String {
        match self {
            Axis::Count => format::count(x.round().max(0.0) as u64),
            Axis::Share => format::percent(x),
            Axis::Money => format::money_short(x),
        }
    }
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

fn label_font() -> TextStyle<'static> {
    (FONT, FONT_SIZE).into_font().color(&RGBColor(40, 46, 54))
}

/// Width of the label area for category labels (at most [`LABEL_CHARS`] are drawn).
fn label_width(labels: &[String]) -> u32 {
    let chars = labels
        .iter()
        .map(|l| l.chars().count().min(LABEL_CHARS + 1))
        .max()
        .unwrap_or(1);
    (u32::try_from(chars).unwrap_or(30) * 8 + 16).clamp(40, 260)
}

/// `n` categories as a segmented axis (plotters' integer ranges include their end).
fn segments(n: usize) -> SegmentedCoord<RangedCoordusize> {
    (0..n.max(1) - 1).into_segmented()
}

/// Draws into a fresh SVG of `size` and returns the element, root rewritten (see module doc).
fn svg(
    id: &str,
    aria: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Drawn,
) -> Result<String, Error> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.into())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.into()));
        drawn.map_err(|e: Box<dyn std::error::Error + Send + Sync>| Error::Chart {
            chart: id.to_string(),
            message: e.to_string(),
        })?;
    }
    let body = buf
        .find("<svg")
        .and_then(|start| Some(&buf[start + buf[start..].find('>')? + 1..]))
        .unwrap_or_default();
    Ok(format!(
        "<svg width=\"{w}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">{}",
        escape(aria),
        body.trim_start(),
        w = size.0,
        h = size.1,
    ))
}

fn single(svg: String) -> Chart {
    Chart {
        svg,
        legend: Vec::new(),
    }
}

fn legend_of<'a>(names: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    names
        .enumerate()
        .map(|(j, name)| (name.to_string(), j % PALETTE.len()))
        .collect()
}

/// Categories top to bottom, best first: index `i` sits in segment `n - 1 - i`.
fn slot(n: usize, i: usize) -> usize {
    n - 1 - i
}

fn category_formatter(labels: &[String]) -> impl Fn(&SegmentValue<usize>) -> String + '_ {
    move |v| match v {
        SegmentValue::CenterOf(s) if *s < labels.len() => {
            format::shorten(&labels[slot(labels.len(), *s)], LABEL_CHARS)
        }
        _ => String::new(),
    }
}

fn padded_max(values: impl Iterator<Item = f64>, pad: f64) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max > 0.0 {
        max * pad
    } else {
        1.0
    }
}

/// The mesh of a horizontal category chart: values along x, categories down y.
fn category_mesh<'a, 'b>(
    chart: &mut ChartContext<
        'a,
        SVGBackend<'b>,
        Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>,
    >,
    labels: &[String],
    n: usize,
    axis: Axis,
) -> Drawn {
    let y_format = category_formatter(labels);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .axis_style(GREY)
        .y_labels(n)
        .y_label_formatter(&y_format)
        .x_labels(5)
        .x_label_formatter(&|x| axis.tick(*x))
        .label_style(label_font())
        .draw()?;
    Ok(())
}

/// Horizontal bars, one per `(label, value)`, best first, with the value at the bar's end.
pub(crate) fn bars(
    id: &str,
    aria: &str,
    items: &[(String, f64)],
    axis: Axis,
    color: RGBColor,
) -> Result<Chart, Error> {
    let n = items.len().max(1);
    let labels: Vec<String> = items.iter().map(|(l, _)| l.clone()).collect();
    let max = padded_max(items.iter().map(|(_, v)| *v), 1.2);
    let height = 36 + ROW * u32::try_from(n).unwrap_or(1);
    svg(id, aria, (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .margin_right(16)
            .x_label_area_size(24)
            .y_label_area_size(label_width(&labels))
            .build_cartesian_2d(0f64..max, segments(n))?;
        category_mesh(&mut chart, &labels, n, axis)?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let s = slot(n, i);
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(s)),
                    (*v, SegmentValue::Exact(s + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        }))?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            EmptyElement::at((*v, SegmentValue::CenterOf(slot(n, i))))
                + Text::new(
                    axis.value(*v),
                    (4, 0),
                    font(FONT_SIZE - 1).pos(Pos::new(HPos::Left, VPos::Center)),
                )
        }))?;
        Ok(())
    })
    .map(single)
}

/// One bar per category and series, drawn inside each other (widest first): for amounts where
/// each series is part of the one before (billed ⊇ allowed ⊇ paid).
pub(crate) fn nested_bars(
    id: &str,
    aria: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>)],
    axis: Axis,
) -> Result<Chart, Error> {
    let n = categories.len().max(1);
    let max = padded_max(series.iter().flat_map(|(_, v)| v.iter().copied()), 1.05);
    let height = 36 + 36 * u32::try_from(n).unwrap_or(1);
    let svg = svg(id, aria, (WIDE, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .margin_right(24)
            .x_label_area_size(24)
            .y_label_area_size(label_width(categories))
            .build_cartesian_2d(0f64..max, segments(n))?;
        category_mesh(&mut chart, categories, n, axis)?;
        for (j, (_, values)) in series.iter().enumerate() {
            let color = PALETTE[j % PALETTE.len()];
            let inset = 3 + 6 * u32::try_from(j).unwrap_or(0);
            chart.draw_series(values.iter().enumerate().map(|(i, v)| {
                let s = slot(n, i);
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(s)),
                        (*v, SegmentValue::Exact(s + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(inset, inset, 0, 0);
                bar
            }))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        svg,
        legend: legend_of(series.iter().map(|(name, _)| *name)),
    })
}

/// Horizontal bars per category, split into stacked segments per series.
pub(crate) fn stacked_bars(
    id: &str,
    aria: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
    axis: Axis,
) -> Result<Chart, Error> {
    let n = categories.len().max(1);
    let totals: Vec<f64> = (0..categories.len())
        .map(|i| {
            series
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let max = padded_max(totals.iter().copied(), 1.08);
    let height = 36 + ROW * u32::try_from(n).unwrap_or(1);
    let svg = svg(id, aria, (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .margin_right(16)
            .x_label_area_size(24)
            .y_label_area_size(label_width(categories))
            .build_cartesian_2d(0f64..max, segments(n))?;
        category_mesh(&mut chart, categories, n, axis)?;
        let mut base = vec![0.0; categories.len()];
        for (j, (_, values)) in series.iter().enumerate() {
            let color = PALETTE[j % PALETTE.len()];
            let segments: Vec<(usize, f64, f64)> = values
                .iter()
                .enumerate()
                .take(categories.len())
                .map(|(i, v)| {
                    let from = base[i];
                    base[i] += v;
                    (i, from, from + v)
                })
                .collect();
            chart.draw_series(segments.into_iter().map(|(i, from, to)| {
                let s = slot(n, i);
                let mut bar = Rectangle::new(
                    [
                        (from, SegmentValue::Exact(s)),
                        (to, SegmentValue::Exact(s + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        svg,
        legend: legend_of(series.iter().map(|(name, _)| name.as_str())),
    })
}

/// A population pyramid: `bands` bottom (youngest) to top, `left` and `right` counts per band;
/// the side names head the two halves (a top row of their own, so nothing covers a bar).
pub(crate) fn pyramid(
    id: &str,
    aria: &str,
    bands: &[String],
    left: (&str, &[u64]),
    right: (&str, &[u64]),
) -> Result<Chart, Error> {
    let n = bands.len().max(1);
    let max = padded_max(left.1.iter().chain(right.1).map(|v| *v as f64), 1.08);
    let height = 40 + 18 * u32::try_from(n + 1).unwrap_or(1);
    svg(id, aria, (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .margin_right(16)
            .x_label_area_size(24)
            .y_label_area_size(52)
            .build_cartesian_2d(-max..max, segments(n + 1))?;
        let y_format = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(s) => bands.get(*s).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .axis_style(GREY)
            .y_labels(n + 1)
            .y_label_formatter(&y_format)
            .x_labels(7)
            .x_label_formatter(&|x| format::count_short(x.abs()))
            .label_style(label_font())
            .draw()?;
        for (sign, (name, counts), color) in [(-1.0, left, PURPLE), (1.0, right, BLUE)] {
            chart.draw_series(counts.iter().enumerate().map(|(s, c)| {
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(s)),
                        (sign * *c as f64, SegmentValue::Exact(s + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(1, 1, 0, 0);
                bar
            }))?;
            chart.draw_series(std::iter::once(Text::new(
                name.to_string(),
                (sign * max / 2.0, SegmentValue::CenterOf(n)),
                font(FONT_SIZE)
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
        Ok(())
    })
    .map(single)
}

/// Vertical bars over time (months), with at most about 12 labels on the axis.
pub(crate) fn columns(
    id: &str,
    aria: &str,
    items: &[(String, f64)],
    axis: Axis,
    color: RGBColor,
) -> Result<Chart, Error> {
    let n = items.len().max(1);
    let labels: Vec<String> = items.iter().map(|(l, _)| l.clone()).collect();
    let max = padded_max(items.iter().map(|(_, v)| *v), 1.1);
    svg(id, aria, (WIDTH, 240), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .margin_right(16)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(segments(n), 0f64..max)?;
        let x_format = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .axis_style(GREY)
            .x_labels(n.min(8))
            .x_label_formatter(&x_format)
            .y_labels(5)
            .y_label_formatter(&|y| axis.tick(*y))
            .label_style(label_font())
            .draw()?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                color.filled(),
            );
            bar.set_margin(0, 0, 1, 1);
            bar
        }))?;
        Ok(())
    })
    .map(single)
}

/// A histogram of `(from, to, count)` bins with an optional shaded band (a reference range).
pub(crate) fn histogram(
    id: &str,
    aria: &str,
    bins: &[(f64, f64, u64)],
    band: Option<(f64, f64)>,
    unit: &str,
) -> Result<Chart, Error> {
    let lo = bins.first().map_or(0.0, |b| b.0);
    let hi = bins.last().map_or(1.0, |b| b.1).max(lo + f64::EPSILON);
    let max = padded_max(bins.iter().map(|b| b.2 as f64), 1.12);
    svg(id, aria, (WIDTH, 230), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .margin_right(16)
            .x_label_area_size(40)
            .y_label_area_size(44)
            .build_cartesian_2d(lo..hi, 0f64..max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .axis_style(GREY)
            .x_labels(6)
            .x_desc(unit)
            .y_labels(4)
            .y_label_formatter(&|y| format::count_short(*y))
            .label_style(label_font())
            .axis_desc_style(label_font())
            .draw()?;
        if let Some((from, to)) = band {
            let (from, to) = (from.max(lo), to.min(hi));
            if from < to {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(from, 0.0), (to, max)],
                    GREEN.mix(0.18).filled(),
                )))?;
            }
        }
        chart.draw_series(bins.iter().map(|(from, to, c)| {
            let mut bar = Rectangle::new([(*from, 0.0), (*to, *c as f64)], BLUE.mix(0.85).filled());
            bar.set_margin(0, 0, 1, 1);
            bar
        }))?;
        Ok(())
    })
    .map(single)
}

/// Frequency polygons over a logarithmic money axis: each series is `(log10(dollars), count)`,
/// one point per bin (empty bins included); `x` is the axis range in log10 dollars.
pub(crate) fn money_distribution(
    id: &str,
    aria: &str,
    series: &[(&str, Vec<(f64, f64)>)],
    x: (f64, f64),
    x_desc: &str,
) -> Result<Chart, Error> {
    let max = padded_max(
        series.iter().flat_map(|(_, p)| p.iter().map(|(_, c)| *c)),
        1.1,
    );
    let (lo, hi) = (x.0, x.1.max(x.0 + 1.0));
    let decades = (hi - lo).ceil() as usize + 1;
    let svg = svg(id, aria, (WIDE, 280), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(52)
            .build_cartesian_2d(lo..hi, 0f64..max)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .axis_style(GREY)
            .x_labels(decades.min(9))
            .x_label_formatter(&|x| format::money_short(10f64.powf(*x)))
            .x_desc(x_desc)
            .y_labels(5)
            .y_label_formatter(&|y| format::count_short(*y))
            .label_style(label_font())
            .axis_desc_style(label_font())
            .draw()?;
        for (j, (_, points)) in series.iter().enumerate() {
            let color = PALETTE[j % PALETTE.len()];
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?;
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 2, color.filled())))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        svg,
        legend: legend_of(series.iter().map(|(name, _)| *name)),
    })
}
