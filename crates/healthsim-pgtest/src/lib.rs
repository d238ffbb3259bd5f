//! # healthsim-pgtest
//!
//! Test-only: a throwaway PostgreSQL server for the tests that need one (the DuckLake catalog of
//! the lake backend lives in PostgreSQL), and a fresh database per call.
//!
//! Why it exists: tests must not depend on a server someone started by hand, nor skip when there
//! is none. [`cluster`] starts one private server per test process on first use, from Debian's
//! PostgreSQL (`/usr/lib/postgresql/<highest version>/bin`): `initdb` with trust authentication
//! into a temporary folder, `pg_ctl start` on a free TCP port of 127.0.0.1 with its socket in
//! that folder (durability off: the data is thrown away). PostgreSQL refuses to run as root, so
//! when the test process is root the server runs as the `postgres` user (`runuser -u postgres
//! --`) and owns the folder. [`Cluster::database`] creates a database with a unique name and
//! returns its libpq connection string, so tests never share tables.
//!
//! How it is cleaned: Rust never drops statics, and a test process may end by a panic, an abort
//! or a kill, so at start a small watchdog (`setsid sh`) is spawned that waits for the test
//! process to end, then stops the server (`pg_ctl stop -m immediate`) and removes the folder.
//!
//! With `$HEALTHSIM_TEST_PG` set to the connection string (`key=value` words) of an existing
//! server where `postgres`-like rights allow `CREATE DATABASE`, that server is used instead and
//! nothing is started; the databases created there are left for its owner to drop (their names
//! start with the given prefix and carry the process id).
//!
//! No PostgreSQL installed is a panic that says what to install: a test that needs a server
//! fails rather than passing without having run.
//!
//! ```no_run
//! let conninfo = healthsim_pgtest::cluster().database("lake");
//! assert!(conninfo.starts_with("dbname=lake_"));
//! ```
#![warn(missing_docs)]

pub mod watched;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable naming an existing server to use instead of starting one.
pub const SERVER_VARIABLE: &str = "HEALTHSIM_TEST_PG";

/// The variable that runs the service-level suites (persist's, the query sandbox's) on lakes
/// instead of files: `HEALTHSIM_TEST_BACKEND=lake` (`.ci/run` runs them once each way).
pub const BACKEND_VARIABLE: &str = "HEALTHSIM_TEST_BACKEND";

/// Whether this test process runs on lakes ([`BACKEND_VARIABLE`]); any value other than `lake`
/// or `file` is refused, so a typo cannot quietly test the file twice.
pub fn on_lake() -> bool {
    match std::env::var(BACKEND_VARIABLE).as_deref() {
        Ok("lake") => true,
        Ok("file") | Err(_) => false,
        Ok(other) => panic!("{BACKEND_VARIABLE}={other}: expected lake or file"),
    }
}

/// Where Debian installs PostgreSQL's programs, one folder per major version.
const DEBIAN_POSTGRESQL: &str = "/usr/lib/postgresql";

/// How often the server start is retried when another process took the free port first.
const PORT_ATTEMPTS: usize = 5;

/// A PostgreSQL server the tests of this process create databases in.
#[derive(Debug)]
pub struct Cluster {
    /// The connection string without a database name (`host=… port=… user=…`).
    server: String,
    /// The `psql` that creates databases.
    psql: PathBuf,
    /// Set when this process started the server.
    started: Option<Started>,
}

/// What this process started.
#[derive(Debug, Clone)]
pub struct Started {
    /// The temporary folder with the data folder, the socket and the server log.
    pub root: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// The PostgreSQL major version (its folder name under `/usr/lib/postgresql`).
    pub version: String,
    /// How long `initdb` and `pg_ctl start` took.
    pub startup: Duration,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// The server of this test process: started on first use (or `$HEALTHSIM_TEST_PG`'s), the same
/// one for every later call. Panics, naming what to install, when there is no PostgreSQL.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| match std::env::var(SERVER_VARIABLE) {
        Ok(conninfo) if !conninfo.trim().is_empty() => Cluster::existing(&conninfo),
        _ => Cluster::start(),
    })
}

impl Cluster {
    /// Creates a database named `<name_prefix>_<process id>_<unique suffix>` (the prefix reduced
    /// to lowercase letters, digits and `_`) and returns its connection string,
    /// `dbname=… host=127.0.0.1 port=… user=postgres` for a server started here.
    pub fn database(&self, name_prefix: &str) -> String {
        let name = unique_name(name_prefix);
        self.psql(
            &format!("dbname=postgres {}", self.server),
            &format!("CREATE DATABASE \"{name}\""),
        );
        format!("dbname={name} {}", self.server)
    }

    /// Runs `sql` with `psql` on `conninfo` (stopping at the first error) and returns what it
    /// printed, unaligned and without headers; panics with psql's message when it fails.
    pub fn psql(&self, conninfo: &str, sql: &str) -> String {
        let out = Command::new(&self.psql)
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                conninfo,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("healthsim-pgtest: cannot run {}: {e}", self.psql.display())
            });
        if !out.status.success() {
            panic!(
                "healthsim-pgtest: psql on '{conninfo}' failed ({}) for: {sql}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What this process started, or `None` when `$HEALTHSIM_TEST_PG` named the server.
    pub fn started(&self) -> Option<&Started> {
        self.started.as_ref()
    }

    /// The server named by `$HEALTHSIM_TEST_PG`, without its `dbname` (each database gets its
    /// own).
    fn existing(conninfo: &str) -> Cluster {
        let server: Vec<&str> = conninfo
            .split_whitespace()
            .filter(|word| !word.starts_with("dbname="))
            .collect();
        let psql = postgres_bin()
            .map(|(_, bin)| bin.join("psql"))
            .unwrap_or_else(|| PathBuf::from("psql"));
        Cluster {
            server: server.join(" "),
            psql,
            started: None,
        }
    }

    /// Starts a private server (see the crate documentation).
    fn start() -> Cluster {
        let clock = Instant::now();
        let Some((version, bin)) = postgres_bin() else {
            panic!(
                "healthsim-pgtest: no PostgreSQL under {DEBIAN_POSTGRESQL}/<version>/bin (these \
                 tests start their own server from it); install it (Debian: apt-get install \
                 postgresql), or set {SERVER_VARIABLE} to the connection string of a server \
                 where you may CREATE DATABASE"
            );
        };
        let as_postgres = running_as_root();
        let root = std::env::temp_dir().join(format!(
            "healthsim-pgtest-{}-{:x}",
            std::process::id(),
            nanos()
        ));
        std::fs::create_dir_all(&root)
            .unwrap_or_else(|e| panic!("healthsim-pgtest: creating {}: {e}", root.display()));
        // The watchdog first, so a failure below still leaves nothing behind.
        spawn_watchdog(&root, &bin, as_postgres);
        if as_postgres {
            checked(
                "chown",
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:")
                    .arg(&root)
                    .output(),
            );
        }
        let data = root.join("data");
        checked(
            "initdb",
            server_command(as_postgres, &bin.join("initdb"), &root)
                .arg("-D")
                .arg(&data)
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ])
                .output(),
        );
        let log = root.join("server.log");
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = watched::free_port("healthsim-pgtest");
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off",
                root.display()
            );
            let out = server_command(as_postgres, &bin.join("pg_ctl"), &root)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .output();
            match out {
                Ok(out) if out.status.success() => {
                    let started = Started {
                        root: root.clone(),
                        port,
                        version: version.clone(),
                        startup: clock.elapsed(),
                    };
                    eprintln!(
                        "healthsim-pgtest: PostgreSQL {version} on 127.0.0.1:{port} in {} \
                         (started in {} ms; stopped and removed when this process ends)",
                        root.display(),
                        started.startup.as_millis()
                    );
                    return Cluster {
                        server: format!("host=127.0.0.1 port={port} user=postgres"),
                        psql: bin.join("psql"),
                        started: Some(started),
                    };
                }
                Ok(_) | Err(_) => {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let port_taken =
                        text.contains("could not bind") || text.contains("Address already in use");
                    failures.push(format!("port {port}: {}", describe(&out)));
                    if !port_taken {
                        break;
                    }
                }
            }
        }
        panic!(
            "healthsim-pgtest: pg_ctl start failed: {}\nserver log {}:\n{}",
            failures.join("; "),
            log.display(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
}

/// The highest PostgreSQL version installed by Debian, and its `bin` folder with `initdb`.
fn postgres_bin() -> Option<(String, PathBuf)> {
    let mut versions: Vec<(u32, String, PathBuf)> = std::fs::read_dir(DEBIAN_POSTGRESQL)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().to_str()?.to_owned();
            let major: u32 = name.split('.').next()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, name, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, name, bin)| (name, bin))
}

/// Whether this process runs as root (PostgreSQL's programs then run as `postgres`).
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's effective user.
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            return meta.uid() == 0;
        }
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// `program`, run as `postgres` when this process is root, from `dir` (which that user can
/// enter, unlike perhaps the test's working folder).
fn server_command(as_postgres: bool, program: &Path, dir: &Path) -> Command {
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.current_dir(dir).stdin(Stdio::null());
    command
}

/// A process that waits for this one to end, then stops the server and removes `root`.
fn spawn_watchdog(root: &Path, bin: &Path, as_postgres: bool) {
    const SCRIPT: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
        if [ -f "$2/data/postmaster.pid" ]; then
            if [ "$4" = yes ]; then
                runuser -u postgres -- "$3/pg_ctl" -D "$2/data" -m immediate stop
            else
                "$3/pg_ctl" -D "$2/data" -m immediate stop
            fi
        fi
        rm -rf "$2"
    "#;
    let as_postgres = OsStr::new(if as_postgres { "yes" } else { "no" });
    watched::spawn_watchdog(
        "healthsim-pgtest-watchdog",
        SCRIPT,
        [root.as_os_str(), bin.as_os_str(), as_postgres],
    );
}

/// Panics with the command's output unless it succeeded.
fn checked(step: &str, out: std::io::Result<Output>) {
    match &out {
        Ok(o) if o.status.success() => {}
        _ => panic!("healthsim-pgtest: {step} failed: {}", describe(&out)),
    }
}

fn describe(out: &std::io::Result<Output>) -> String {
    match out {
        Ok(o) => format!(
            "{}: {}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => e.to_string(),
    }
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// `<prefix>_<pid>_<time>_<counter>`, at most 63 bytes (PostgreSQL's identifier limit).
fn unique_name(prefix: &str) -> String {
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    if clean.is_empty() {
        clean.push_str("db");
    }
    format!(
        "{clean}_{}_{:x}_{}",
        std::process::id(),
        nanos() % (1 << 40),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_clean_unique_and_short() {
        let a = unique_name("Lake Test-1 ✓ with a much longer prefix than allowed");
        let b = unique_name("Lake Test-1 ✓ with a much longer prefix than allowed");
        assert_ne!(a, b);
        assert!(a.starts_with("lake_test_1___with_a_muc_"), "{a}");
        assert!(a.len() <= 63, "{a}");
        assert!(
            a.chars().all(|c| c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '_'
                || c.is_ascii_hexdigit()),
            "{a}"
        );
        assert!(unique_name("").starts_with("db_"));
    }
}
