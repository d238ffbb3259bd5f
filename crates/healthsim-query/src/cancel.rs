//! [`Cancel`]: stopping a running query from another thread.
//!
//! An MCP client may cancel a request it no longer needs (`notifications/cancelled`); the work
//! behind it should stop then, not at its timeout. The caller keeps a clone of the handle that
//! it put in [`QueryOptions::cancel`](crate::QueryOptions::cancel) and calls [`Cancel::cancel`];
//! the in-process run interrupts DuckDB, the contained run kills its worker process. Either way
//! the call returns [`Error::Cancelled`](crate::Error::Cancelled).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often a waiting run looks at the flag: the delay between `cancel()` and the stop.
pub(crate) const CANCEL_POLL: Duration = Duration::from_millis(10);

/// A handle that cancels the query it was given to; clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
}

impl Cancel {
    /// A fresh handle, not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the query to stop. Idempotent; has no effect on a query that already ended.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called on this handle or a clone of it.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// Two handles are equal when they share one flag (so [`QueryOptions`](crate::QueryOptions) can
/// stay comparable).
impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.flag, &other.flag)
    }
}

impl Eq for Cancel {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag_and_fresh_handles_do_not() {
        let a = Cancel::new();
        let b = a.clone();
        let other = Cancel::new();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
        assert!(!other.is_cancelled());
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}
