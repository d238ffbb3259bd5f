//! Test-only crash points: places inside the write paths where the process can be made to kill
//! itself with SIGKILL, so the crash suite (crates/healthsim-cli/tests/reliability_crash.rs)
//! interrupts a transaction at a known statement instead of at a random moment that rarely
//! lands inside one.
//!
//! A point is one line at the place it names: `healthsim_schema::crash::point("clone.copied")`.
//! With the cargo feature `crash-points` (off by default; healthsim-cli's dev-dependencies turn
//! it on, so `cargo test` builds the hooked binary and a release build has no hook at all),
//! the environment variable `HEALTHSIM_CRASH_AT=<point>` or `<point>:<nth>` makes the process
//! send itself SIGKILL the first (or the `nth`) time it reaches `<point>`; with a suffix
//! `@<micros>` the kill comes that many microseconds after reaching it, from a timer thread,
//! while the process goes on (to land inside work the code cannot mark, such as DuckDB's
//! checkpoint when a connection closes). Without the feature, [`point`] is an empty function
//! and the variable is never read.
//!
//! It lives in the lowest crate that has a point (the migrations); higher crates call it.

/// The environment variable naming the point to die at: `<point>[:<nth>][@<micros>]`.
pub const CRASH_AT_VAR: &str = "HEALTHSIM_CRASH_AT";

/// Whether this build has crash points (the `crash-points` feature).
pub const ENABLED: bool = cfg!(feature = "crash-points");

/// Marks a crash point named `name` (`<area>.<step>`, e.g. `persist.staged`).
#[inline]
pub fn point(name: &'static str) {
    #[cfg(feature = "crash-points")]
    hooked::reach(name);
    #[cfg(not(feature = "crash-points"))]
    let _ = name;
}

#[cfg(feature = "crash-points")]
mod hooked {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// The target read from the environment once: the point's name, which arrival kills, and
    /// the delay after it in microseconds.
    static TARGET: OnceLock<Option<(String, u64, u64)>> = OnceLock::new();
    /// Arrivals at the target point so far.
    static ARRIVALS: AtomicU64 = AtomicU64::new(0);

    fn target() -> Option<&'static (String, u64, u64)> {
        TARGET
            .get_or_init(|| {
                let spec = std::env::var(super::CRASH_AT_VAR).ok()?;
                Some(parse(&spec))
            })
            .as_ref()
    }

    /// `<point>[:<nth>][@<micros>]`; an `nth` or a delay that is not a number is a typo in a
    /// test, and dies loudly rather than never firing.
    fn parse(spec: &str) -> (String, u64, u64) {
        let bad = |what: &str| -> ! {
            eprintln!("{}={spec}: {what}", super::CRASH_AT_VAR);
            std::process::exit(101)
        };
        let (rest, delay) = match spec.split_once('@') {
            None => (spec, 0),
            Some((rest, micros)) => match micros.parse::<u64>() {
                Ok(d) => (rest, d),
                Err(_) => bad("<micros> must be a number"),
            },
        };
        match rest.rsplit_once(':') {
            None => (rest.to_string(), 1, delay),
            Some((name, nth)) => match nth.parse::<u64>() {
                Ok(n) if n > 0 => (name.to_string(), n, delay),
                _ => bad("<nth> must be a positive number"),
            },
        }
    }

    pub(super) fn reach(name: &'static str) {
        let Some((wanted, nth, delay)) = target() else {
            return;
        };
        if wanted != name || ARRIVALS.fetch_add(1, Ordering::SeqCst) + 1 != *nth {
            return;
        }
        if *delay > 0 {
            let delay = std::time::Duration::from_micros(*delay);
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                kill_self()
            });
            return;
        }
        kill_self()
    }

    fn kill_self() -> ! {
        // SIGKILL as a kill -9 from outside would deliver it: no unwinding, no destructors, no
        // flush, no checkpoint on close.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        // Unreachable once the signal is delivered; never go on writing if it was not.
        std::process::abort()
    }
}
