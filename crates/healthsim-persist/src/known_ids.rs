//! The ids a run of bulk writes knows its scenario holds, per table ([`KnownIds`]), so that a
//! batch of new ids is appended without asking the database which of them exist.
//!
//! Why: every batch counts its ids that the scenario already has (persist upserts by id, and
//! no constraint keeps the key unique: ARCHITECTURE.md, "Logical keys"). That is a statement
//! over the scenario's rows of the batch's table, per table a batch touches. A multi-product
//! stream touches ~19 tables per 10,000 entities, and the statements grow with the scenario:
//! on a 2-vCPU Intel Xeon, `healthsim persist` of the bench's 1,699,980 mixed entities took
//! 37.8–38.2 s with them and 23.6–25.2 s with these hashes instead (A/B pairs). A stream of one
//! type gains nothing (1,000,000 patients: one statement per batch, as cheap as the hashes).
//!
//! A `KnownIds` holds a 64-bit hash of every id of one scenario's tables that it has seen: read
//! from a table the first time a batch of it is written, then every batch's ids added as the
//! batch is written. A batch none of whose ids hashes to a known value is all new, exactly; when
//! one does (a repeated id, or two ids sharing a hash), the database is asked as before. So the
//! hashes only ever answer "certainly new", and stay right as long as every id the scenario's
//! tables gain passes through them. The owner guarantees that: it is kept only on a file's
//! writer connection (which DuckDB locks against every other process) for one operation that
//! writes nothing else, or for consecutive bulk writes of a [`crate::Store`] (any other write
//! drops it, see `Store::with_bulk_writer`); never on a lake, where other machines write.
//! Hashes of ids that a rolled-back transaction wrote may stay: they cost a question, never a
//! wrong answer.
//!
//! Memory: a hash set of 8-byte values per table (1,000,000 patients: ~19 MB).
//!
//! Neighbours: `crate::persist::write_batch` asks it and feeds it ([`KnownIds::learn`]). It does
//! not know the running statistics: a write that keeps them still asks the database, which also
//! reads the manifest's count for them.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hasher};

use duckdb::Connection;
use healthsim_schema::SCENARIO_COLUMN;

use crate::error::{db, Result};
use crate::persist::Batch;

/// The hashes of the ids one scenario's tables hold (see the [module documentation](self)).
#[derive(Debug, Default)]
pub(crate) struct KnownIds {
    scenario_id: String,
    tables: HashMap<&'static str, Hashes>,
}

/// A set of id hashes, which are their own hash in the set.
type Hashes = HashSet<u64, BuildHasherDefault<Prehashed>>;

impl KnownIds {
    /// Adds the ids of `batch`, about to be written, and says whether every one of them is
    /// certainly new to the scenario's table. Reads the table's ids the first time it meets the
    /// table (inside the caller's transaction); meeting another scenario, it forgets the one it
    /// knew.
    pub(crate) fn learn(
        &mut self,
        conn: &Connection,
        scenario_id: &str,
        batch: &Batch,
    ) -> Result<bool> {
        if self.scenario_id != scenario_id {
            self.scenario_id = scenario_id.to_string();
            self.tables.clear();
        }
        let known = match self.tables.entry(batch.entity_type.table) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(stored_hashes(conn, scenario_id, batch)?)
            }
        };
        known.reserve(batch.rows.len());
        let mut all_new = true;
        for row in &batch.rows {
            // Every id is added, also after the first known one.
            all_new &= known.insert(hash_id(&row.id));
        }
        Ok(all_new)
    }
}

/// The hash of one id: the same for the same text, so hashes read from the table and from a
/// batch compare (within one process: they are never stored).
fn hash_id(id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// The hasher of [`Hashes`]: a value that is a hash already is taken as it is.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The hashes of the ids the scenario has in the batch's table.
fn stored_hashes(conn: &Connection, scenario_id: &str, batch: &Batch) -> Result<Hashes> {
    let t = batch.entity_type;
    let context = || db(format!("reading the ids of {}", t.table));
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {pk} FROM main.{table} WHERE {SCENARIO_COLUMN} = ?",
            pk = t.primary_key,
            table = t.table
        ))
        .map_err(context())?;
    let mut rows = statement.query([scenario_id]).map_err(context())?;
    let mut hashes = Hashes::default();
    while let Some(row) = rows.next().map_err(context())? {
        let id: String = row.get(0).map_err(context())?;
        hashes.insert(hash_id(&id));
    }
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::input::Row;

    fn patients(ids: &[&str]) -> Batch {
        let row = |id: &&str| Row {
            id: id.to_string(),
            values: Vec::new(),
            provenance: Default::default(),
            extra: None,
            created_at: None,
        };
        Batch {
            entity_type: healthsim_schema::by_table("patients").expect("a registry table"),
            rows: ids.iter().map(row).collect(),
        }
    }

    /// A database whose scenario "s" holds patient p1 (the two columns `learn` reads).
    fn database() -> Connection {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        conn.execute_batch(
            "CREATE TABLE patients (scenario_id VARCHAR, patient_id VARCHAR); \
             INSERT INTO patients VALUES ('s', 'p1'), ('t', 'p9')",
        )
        .expect("the table");
        conn
    }

    #[test]
    fn a_batch_is_all_new_until_one_of_its_ids_is_stored_or_learnt() -> Result<()> {
        let conn = database();
        let mut known = KnownIds::default();
        let mut check = |scenario: &str, ids: &[&str], all_new: bool| -> Result<()> {
            assert_eq!(
                known.learn(&conn, scenario, &patients(ids))?,
                all_new,
                "{scenario} {ids:?}"
            );
            Ok(())
        };
        check("s", &["p2", "p3"], true)?;
        check("s", &["p1"], false)?; // stored before
        check("s", &["p4", "p3"], false)?; // learnt from the first batch
        check("s", &["p4"], false)?; // learnt although its batch had a known id
        check("s", &["p9"], true)?; // stored, but in another scenario
        check("t", &["p2"], true)?; // another scenario: what "s" taught is forgotten
        check("t", &["p9"], false)?;
        Ok(())
    }

    #[test]
    fn a_table_it_cannot_read_is_named() {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        let error = KnownIds::default()
            .learn(&conn, "s", &patients(&["p1"]))
            .expect_err("there is no patients table");
        assert!(
            matches!(&error, Error::Database { context, .. } if context == "reading the ids of patients"),
            "{error}"
        );
    }

    #[test]
    fn an_id_hashes_the_same_every_time_and_apart_from_another() {
        assert_eq!(hash_id("pat-000001"), hash_id("pat-000001"));
        assert_ne!(hash_id("pat-000001"), hash_id("pat-000002"));
    }

    #[test]
    fn a_hash_is_its_own_key_in_the_set() {
        let build = BuildHasherDefault::<Prehashed>::default();
        assert_eq!(
            build.hash_one(0x1234_5678_9abc_def0_u64),
            0x1234_5678_9abc_def0
        );
    }
}
