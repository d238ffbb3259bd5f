//! Processes a test process leaves running until it ends: a free TCP port to start a server
//! on, and a detached `sh` watchdog that cleans up after the test process however it ends.
//! Shared by this crate's PostgreSQL and healthsim-s3test's S3 server.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

/// A TCP port on 127.0.0.1 that was free a moment ago (`who` names the caller in a panic).
pub fn free_port(who: &str) -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("{who}: no free port on 127.0.0.1: {e}"))
}

/// Runs the `sh` script `script` detached, as `name`, with this process's id as `$1` and `args`
/// as `$2`, `$3`, …: typically it waits while `$1` lives, then stops what the test started.
///
/// A short-lived shell starts it in the background, in a session of its own (no terminal
/// signal reaches it), and exits at once: waiting for that shell leaves no zombie, and the
/// script belongs to init from then on. Panics, naming `name`, when the shell cannot start.
pub fn spawn_watchdog<A: AsRef<OsStr>>(
    name: &str,
    script: &str,
    args: impl IntoIterator<Item = A>,
) {
    const LAUNCH: &str = r#"script=$1; name=$2; shift 2
        setsid sh -c "$script" "$name" "$@" </dev/null >/dev/null 2>&1 &"#;
    let status = Command::new("sh")
        .args(["-c", LAUNCH, "launch", script, name])
        .arg(std::process::id().to_string())
        .args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        panic!("{name}: cannot start the watchdog: {status:?}");
    }
}
