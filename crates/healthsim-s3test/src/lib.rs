//! # healthsim-s3test
//!
//! Test-only: a throwaway S3-compatible server for the tests of a lake whose data files are in
//! object storage (`data_path=s3://bucket/prefix/`), and a fresh bucket per call.
//!
//! Why it exists: S3 support must be tested against a server that speaks S3 (listing, multipart
//! uploads, deletes), on a machine without network access, and without a server someone started
//! by hand. [`server`] starts one per test process on first use: moto's standalone server
//! (`moto_server`, pinned in this crate's `requirements.txt` and installed by `cargo xtask
//! setup` into `target/s3-test-venv`) on a free TCP port of 127.0.0.1. It accepts any
//! credentials and keeps everything in memory. [`Server::bucket`] creates a bucket with a unique
//! name; [`Server::keys`] and [`Server::put`] let a test look at and plant objects directly.
//!
//! How it is cleaned: Rust never drops statics, so the server runs under a small watchdog
//! (`setsid sh`) that waits for the test process to end, however it ends, then stops it and
//! removes its log.
//!
//! With `$HEALTHSIM_TEST_S3` set to the `http://host:port` of an existing S3-compatible server
//! that accepts the credentials of [`Server::env`] (or any), it is used instead and nothing is
//! started; buckets created there are left for its owner.
//!
//! No server installed is a panic that says to run `cargo xtask setup`: a test that needs S3
//! fails rather than passing without having run.
//!
//! What it does not do: TLS, authentication checks, or anything beyond the plain HTTP requests
//! its helpers send (unsigned; moto accepts them).
#![warn(missing_docs)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use healthsim_pgtest::watched;

/// The variable naming an existing server to use instead of starting one.
pub const SERVER_VARIABLE: &str = "HEALTHSIM_TEST_S3";

/// How long a started server may take to answer.
const STARTUP: Duration = Duration::from_secs(60);

/// How often the start is retried when another process took the free port first.
const PORT_ATTEMPTS: usize = 5;

/// An S3-compatible server the tests of this process create buckets in.
#[derive(Debug)]
pub struct Server {
    /// `host:port`.
    host: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_BUCKET: AtomicU64 = AtomicU64::new(0);

/// The server of this test process: started on first use (or `$HEALTHSIM_TEST_S3`'s), the same
/// one for every later call. Panics, naming what to run, when there is no server to start.
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var(SERVER_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Server {
            host: url
                .trim()
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string(),
        },
        _ => Server::start(),
    })
}

impl Server {
    /// The endpoint URL (`http://127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.host)
    }

    /// The environment a lake's user sets to reach this server: test credentials, a region and
    /// the endpoint (the variables `healthsim-persist`'s `s3` module reads).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "healthsim-test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "healthsim-test-secret".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
        ]
    }

    /// Creates a bucket named `<prefix>-<process id>-<unique suffix>` (the prefix reduced to
    /// lowercase letters, digits and `-`) and returns its name.
    pub fn bucket(&self, prefix: &str) -> String {
        let name = unique_name(prefix);
        let (status, body) = self.request("PUT", &format!("/{name}"), b"");
        assert_eq!(
            status, 200,
            "healthsim-s3test: creating bucket {name}: {body}"
        );
        name
    }

    /// The keys of `bucket` under `prefix`, sorted (at most the server's first 1,000).
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, body) = self.request(
            "GET",
            &format!("/{bucket}?list-type=2&prefix={}", escape(prefix)),
            b"",
        );
        assert_eq!(status, 200, "healthsim-s3test: listing {bucket}: {body}");
        let mut keys: Vec<String> = body
            .split("<Key>")
            .skip(1)
            .filter_map(|part| part.split_once("</Key>").map(|(key, _)| unescape_xml(key)))
            .collect();
        keys.sort();
        keys
    }

    /// Writes `body` as the object `key` of `bucket`.
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let (status, text) = self.request("PUT", &format!("/{bucket}/{}", escape(key)), body);
        assert_eq!(
            status, 200,
            "healthsim-s3test: writing {bucket}/{key}: {text}"
        );
    }

    /// One HTTP/1.1 request; the status code and the body as text.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let attempt = || -> std::io::Result<(u16, String)> {
            let mut stream = TcpStream::connect(&self.host)?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                self.host,
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            stream.write_all(body)?;
            let mut response = Vec::new();
            stream.read_to_end(&mut response)?;
            let text = String::from_utf8_lossy(&response).into_owned();
            let status = text
                .split_whitespace()
                .nth(1)
                .and_then(|code| code.parse().ok())
                .unwrap_or(0);
            let body = text
                .split_once("\r\n\r\n")
                .map_or(String::new(), |(_, b)| b.to_string());
            Ok((status, body))
        };
        attempt()
            .unwrap_or_else(|e| panic!("healthsim-s3test: {method} {path} on {}: {e}", self.host))
    }

    /// Starts a private server (see the crate documentation).
    fn start() -> Server {
        let program = venv().join("bin").join("moto_server");
        if !program.is_file() {
            panic!(
                "healthsim-s3test: no S3 test server at {} (run `cargo xtask setup`, which \
                 installs it), or set {SERVER_VARIABLE} to the http://host:port of one",
                program.display()
            );
        }
        let clock = Instant::now();
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = watched::free_port("healthsim-s3test");
            let log = std::env::temp_dir().join(format!(
                "healthsim-s3test-{}-{port}.log",
                std::process::id()
            ));
            spawn_watched(&program, port, &log);
            let server = Server {
                host: format!("127.0.0.1:{port}"),
            };
            if server.answers(clock) {
                eprintln!(
                    "healthsim-s3test: S3 server on 127.0.0.1:{port} (started in {} ms; \
                     stopped when this process ends; log {} until then)",
                    clock.elapsed().as_millis(),
                    log.display()
                );
                return server;
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            failures.push(format!("port {port}: {text}"));
            if !text.contains("Address already in use") {
                break;
            }
        }
        panic!(
            "healthsim-s3test: the S3 server did not start: {}",
            failures.join("; ")
        );
    }

    /// Whether the server answers HTTP before [`STARTUP`] has passed since `clock` started.
    fn answers(&self, clock: Instant) -> bool {
        while clock.elapsed() < STARTUP {
            if let Ok(mut stream) = TcpStream::connect(&self.host) {
                let probe = format!(
                    "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.host
                );
                let mut first = [0u8; 12];
                if stream.write_all(probe.as_bytes()).is_ok()
                    && stream.read_exact(&mut first).is_ok()
                    && first.starts_with(b"HTTP/1.")
                {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

/// The virtual environment `cargo xtask setup` installs the server into.
fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("target")
        .join("s3-test-venv")
}

/// Starts `program` on `port`, logging to `log`, under a watchdog that stops it and removes the
/// log when this process ends.
fn spawn_watched(program: &std::path::Path, port: u16, log: &std::path::Path) {
    const SCRIPT: &str = r#"
        "$2" -H 127.0.0.1 -p "$3" >"$4" 2>&1 &
        server=$!
        while kill -0 "$1" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
        kill "$server" 2>/dev/null
        wait "$server" 2>/dev/null
        rm -f "$4"
    "#;
    let port = port.to_string();
    watched::spawn_watchdog(
        "healthsim-s3test-watchdog",
        SCRIPT,
        [program.as_os_str(), OsStr::new(&port), log.as_os_str()],
    );
}

/// `<prefix>-<pid>-<time>-<counter>`, a valid bucket name (3 to 63 lowercase letters, digits
/// and `-`).
fn unique_name(prefix: &str) -> String {
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(20)
        .collect();
    let trimmed = clean.trim_matches('-');
    clean = if trimmed.is_empty() {
        "bucket".to_string()
    } else {
        trimmed.to_string()
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{clean}-{}-{:x}-{}",
        std::process::id(),
        nanos % (1 << 40),
        NEXT_BUCKET.fetch_add(1, Ordering::Relaxed)
    )
}

/// `text` with every byte outside S3's unreserved set (and `/`) percent-encoded.
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// XML text with its five predefined entities decoded.
fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_are_clean_unique_and_valid() {
        let a = unique_name("Lake Test_1 ✓ with a much longer prefix");
        let b = unique_name("Lake Test_1 ✓ with a much longer prefix");
        assert_ne!(a, b);
        assert!(a.starts_with("lake-test-1---with-a-"), "{a}");
        assert!(a.len() <= 63, "{a}");
        assert!(unique_name("✓").starts_with("bucket-"));
    }

    #[test]
    fn keys_are_escaped_for_urls_and_unescaped_from_xml() {
        assert_eq!(escape("a b/c&d.parquet"), "a%20b/c%26d.parquet");
        assert_eq!(unescape_xml("a&amp;b&lt;c"), "a&b<c");
    }

    #[test]
    fn a_started_server_takes_buckets_objects_and_lists_them() {
        let server = server();
        let bucket = server.bucket("selftest");
        server.put(&bucket, "data/one.parquet", b"1");
        server.put(&bucket, "data/a b.parquet", b"2");
        server.put(&bucket, "other/x", b"3");
        assert_eq!(
            server.keys(&bucket, "data/"),
            ["data/a b.parquet", "data/one.parquet"]
        );
    }
}
