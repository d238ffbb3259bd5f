//! [`ReportOptions`]: what a report shows and as of when. Its own module because every section
//! reads it and the report assembles the sections.

use chrono::NaiveDate;

/// What a report shows and how [`crate::write_report`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// The date ages are computed at (fixed in tests, today in use).
    pub as_of: NaiveDate,
    /// Entries of ranked lists (top diagnoses, drugs, states, ...); at least 1.
    pub top_n: usize,
    /// Lab tests shown with their distribution (the most frequent ones).
    pub lab_tests: usize,
    /// Example ids listed per integrity problem (dangling reference, duplicated key).
    pub examples: usize,
    /// [`crate::write_report`] replaces an existing file instead of failing with
    /// [`Error::FileExists`].
    pub overwrite: bool,
}

impl Default for ReportOptions {
    /// Ages as of today (UTC), top 10, 6 lab tests, 3 examples, no overwrite.
    fn default() -> Self {
        Self {
            as_of: chrono::Utc::now().date_naive(),
            top_n: 10,
            lab_tests: 6,
            examples: 3,
            overwrite: false,
        }
    }
}

impl ReportOptions {
    /// The options with limits brought into range (top-N at least 1, at most 50 of anything).
    pub(crate) fn bounded(&self) -> ReportOptions {
        ReportOptions {
            top_n: self.top_n.clamp(1, 50),
            lab_tests: self.lab_tests.min(50),
            examples: self.examples.min(50),
            ..self.clone()
        }
    }
}
