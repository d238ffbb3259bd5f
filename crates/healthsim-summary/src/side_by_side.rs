//! Work split over two connections to one database, so that a summary of many types keeps both
//! cores busy.
//!
//! Why: each statement of a summary is parsed, bound and planned again for its parameters on
//! the calling thread (DuckDB 1.5 plans a prepared statement that reads a table at every
//! execution), and the statement of a type smaller than a row group runs on one thread, so one
//! connection leaves a core idle for much of a summary of many types. A second connection
//! (`Connection::try_clone`, the same database instance) on a second thread takes every other
//! type, and the sample rows of every other type: the summary of 1.7M entities of 23 types
//! through the store, 2-vCPU Intel Xeon, four A/B rounds: without samples 104–113 → 86–96 ms,
//! with samples 204–218 → 171–201 ms.
//!
//! What it does not know: whether the two connections see the same data. That is the caller's
//! promise ([`crate::SummaryOptions::side_by_side_from`]): no uncommitted write on the first
//! connection (the second would not see it) and no other writer between the statements (each
//! connection reads its own snapshot per statement).

use std::sync::atomic::{AtomicUsize, Ordering};

use duckdb::Connection;

/// Rows of a scenario from which a caller that may ([`crate::SummaryOptions::side_by_side_from`])
/// should let the summary use two connections. Below, a summary takes a few milliseconds and a
/// second connection and thread cost a few tenths of one; one type alone gains nothing (the
/// summary of 100,000 patients: 8.5 → 9.0 ms).
pub const SIDE_BY_SIDE_FROM: u64 = 100_000;

/// `f(connection, i)` for every `i` in `order`, on `conn` and, when given, `helper` side by side
/// (each takes the next `i` when it is done with one), returned in the order of `i` (0 to
/// `order.len() - 1`). A panic on the helper's thread is resumed on the caller's.
pub(crate) fn each<T: Send>(
    conn: &Connection,
    helper: Option<&mut Connection>,
    order: &[usize],
    f: impl Fn(&Connection, usize) -> T + Sync,
) -> Vec<T> {
    let Some(helper) = helper else {
        let mut done: Vec<(usize, T)> = order.iter().map(|&i| (i, f(conn, i))).collect();
        done.sort_by_key(|(i, _)| *i);
        return done.into_iter().map(|(_, t)| t).collect();
    };
    let next = AtomicUsize::new(0);
    let work = |c: &Connection| {
        let mut done = Vec::new();
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((i, f(c, i)));
        }
        done
    };
    let work = &work;
    let (mut done, theirs) = std::thread::scope(|s| {
        let other = s.spawn(move || work(helper));
        (work(conn), other.join())
    });
    match theirs {
        Ok(theirs) => done.extend(theirs),
        Err(panic) => std::panic::resume_unwind(panic),
    }
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(two: bool, order: &[usize], expected: &[usize]) {
        let conn = Connection::open_in_memory().expect("connection");
        let mut second = conn.try_clone().expect("second connection");
        let got = each(&conn, two.then_some(&mut second), order, |c, i| {
            c.query_row("SELECT ? * 10", [i as i64], |r| r.get::<_, i64>(0))
                .map(|v| v as usize)
                .expect("query")
        });
        assert_eq!(got, expected, "two connections: {two}, order {order:?}");
    }

    #[test]
    fn every_item_comes_back_in_its_own_place_whoever_ran_it() {
        check(false, &[2, 0, 1], &[0, 10, 20]);
        check(true, &[2, 0, 1], &[0, 10, 20]);
        check(true, &[0], &[0]);
        check(true, &[], &[]);
        check(true, &[4, 3, 2, 1, 0], &[0, 10, 20, 30, 40]);
    }
}
