//! The scenario driver and the [`Generator`] iterator over it.
//!
//! [`Driver`] plans and renders one step at a time — a header entity, or a person with everything
//! that depends on them — into any [`Emit`] target, so the iterator and the writers share one
//! order and one set of renderers.

use std::collections::VecDeque;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use crate::plan::calendar::Day;
use crate::plan::header::Header;
use crate::plan::{Person, PersonPlanner, PERSON_TABLES};
use crate::render::emit::{Templates, ValueEmitter};
use crate::render::header::HEADER_TABLES;
use crate::render::{self, Emit};
use crate::{GeneratorConfig, Mix};

/// Plans and renders a scenario step by step into any [`Emit`] target.
pub(crate) struct Driver {
    persons: u64,
    mix: Mix,
    as_of: Day,
    header: Header,
    planner: PersonPlanner,
    person: Person,
    /// Next header entity: (index into `HEADER_TABLES`, index within the table).
    header_cursor: (usize, usize),
    /// Next person to plan (1-based).
    next_person: u64,
}

impl Driver {
    pub(crate) fn new(config: &GeneratorConfig) -> Self {
        let lowest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        let highest = NaiveDate::from_ymd_opt(9000, 12, 31).unwrap_or(NaiveDate::MAX);
        let as_of = config.as_of.clamp(lowest, highest).num_days_from_ce();
        let header_cursor = match config.mix {
            Mix::MultiProduct => (0, 0),
            Mix::Patients => (HEADER_TABLES.len(), 0),
        };
        Driver {
            persons: config.persons as u64,
            mix: config.mix,
            as_of,
            header: Header::build(config.seed, config.persons, as_of),
            planner: PersonPlanner::new(config.seed, as_of),
            person: Person::default(),
            header_cursor,
            next_person: 1,
        }
    }

    /// Renders the next header entity, or the next person with everything that depends on them;
    /// false when the scenario is complete. A step may render nothing the emitter wants.
    pub(crate) fn step(&mut self, emit: &mut impl Emit) -> bool {
        while let Some(&table) = HEADER_TABLES.get(self.header_cursor.0) {
            let (t, i) = self.header_cursor;
            if !emit.wants(table) || i >= render::header::header_len(&self.header, t) {
                self.header_cursor = (t + 1, 0);
                continue;
            }
            self.header_cursor = (t, i + 1);
            render::header::header_entity(&self.header, t, i, emit);
            return true;
        }
        // Plan people only as far as the wanted tables need (all of it for the iterator).
        let Some(depth) = PERSON_TABLES
            .iter()
            .filter(|(table, _)| emit.wants(table))
            .map(|&(_, depth)| depth)
            .max()
        else {
            return false;
        };
        if self.next_person > self.persons {
            return false;
        }
        let index = self.next_person;
        self.next_person += 1;
        match self.mix {
            Mix::Patients => {
                self.planner
                    .plan_demographics_only(&self.header, index, &mut self.person);
                render::person::patient_only(&self.person, emit);
            }
            Mix::MultiProduct => {
                self.planner
                    .plan(&self.header, index, &mut self.person, depth);
                render::person(&self.header, self.as_of, &self.person, emit);
            }
        }
        true
    }
}

/// The lazy entity stream: an iterator of `(table name, entity object)`.
///
/// The header pools come first, then each person with their dependent entities. Only the current
/// person's entities are buffered.
pub struct Generator {
    driver: Driver,
    queue: VecDeque<(&'static str, Value)>,
    templates: Templates,
}

impl Generator {
    /// A generator for `config`; nothing is generated until the iterator is advanced (apart from
    /// the small header pools).
    pub fn new(config: GeneratorConfig) -> Self {
        Generator {
            driver: Driver::new(&config),
            queue: VecDeque::with_capacity(128),
            templates: Templates::default(),
        }
    }
}

impl Iterator for Generator {
    type Item = (&'static str, Value);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            let mut emit = ValueEmitter::new(&mut self.queue, &mut self.templates);
            if !self.driver.step(&mut emit) {
                return None;
            }
        }
    }
}
