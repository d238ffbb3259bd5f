//! The figure most sections draw: a bar chart of shares with its numbers as a folded table,
//! each share marked with a `data-figure` key so tests can read it back.

use plotters::style::RGBColor;

use crate::chart::{self, Axis};
use crate::page::{Cell, Page, Table, Value};
use crate::Error;

/// A bar chart of shares and its table.
pub(crate) struct ShareBars<'a> {
    /// The figure's id (`claims.status`); also the chart's and the table's.
    pub(crate) id: &'a str,
    /// What the chart shows, for screen readers.
    pub(crate) aria: &'a str,
    /// The figure's caption.
    pub(crate) caption: &'a str,
    /// The table's column headers: the label, then the share.
    pub(crate) headers: [&'a str; 2],
    /// The prefix of each share's `data-figure` key (`claims.status` → `claims.status.paid`).
    pub(crate) figure_key: &'a str,
    /// The labels are codes (shown as code) rather than text.
    pub(crate) codes: bool,
    /// The bars' colour.
    pub(crate) color: RGBColor,
}

impl ShareBars<'_> {
    /// Draws `items` (label, share) onto `page`.
    pub(crate) fn draw(&self, page: &mut Page, items: &[(String, f64)]) -> Result<(), Error> {
        let svg = chart::bars(self.id, self.aria, items, Axis::Share, self.color)?;
        let mut data = Table::new(self.id, &self.headers);
        for (label, share) in items {
            let label_cell = if self.codes {
                Cell::code(label.clone())
            } else {
                Cell::text(label.clone())
            };
            data.row(vec![
                label_cell,
                Cell::new(Value::Share(*share)).figure(format!("{}.{label}", self.figure_key)),
            ]);
        }
        page.figure_with_data(self.id, self.caption, &svg, &data);
        Ok(())
    }
}
