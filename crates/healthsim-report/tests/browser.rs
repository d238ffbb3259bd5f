//! The report in a real browser: headless Chromium (Debian's `chromium` package) renders it to
//! a screenshot and dumps its DOM. The page must render (the screenshot is not blank), show
//! every section, log nothing to the console, and attempt no network request.
//!
//! This test fails, never skips, when Chromium is missing: CI installs it.
//!
//! How "no network request" is observed: Chromium runs with `--host-resolver-rules=MAP *
//! ~NOTFOUND`, so nothing can leave the machine, and with `--log-net-log`, which records every
//! URL request its network stack starts. Chromium's own background services (component
//! updates, the network time query, ...) appear there too, despite the flags that disable most
//! of them, with initiator "not an origin"; a request made on behalf of a page carries the
//! page's origin as its initiator (`null` for a `file:` page). The test counts those. A
//! control page with one image URL and one `console.error` proves, in the same run, that both
//! detectors see what they are meant to see (so a Chromium whose log format changed fails the
//! test instead of passing it silently).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, options};
use healthsim_report::{write_report, Section};
use serde_json::Value as Json;

/// Longest a Chromium run may take before the test fails.
const TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(paths) = std::env::var("PATH") {
            for dir in std::env::split_paths(&paths) {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return candidate;
                }
            }
        }
    }
    panic!(
        "headless Chromium is required by this test and was not found on PATH; \
         install Debian's package: apt-get update && apt-get install -y chromium"
    );
}

/// What one Chromium run left behind.
struct Run {
    stdout: String,
    stderr: String,
    net_log: PathBuf,
}

/// Runs Chromium on `page` with the isolation and logging flags and `extra` arguments.
fn run(page: &Path, work: &Path, name: &str, extra: &[String]) -> Run {
    let profile = work.join(format!("{name}-profile"));
    let net_log = work.join(format!("{name}-netlog.json"));
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
        "--net-log-capture-mode=Default",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--log-net-log={}", net_log.display()));
    args.extend(extra.iter().cloned());
    args.push(format!("file://{}", page.display()));
    let stdout_path = work.join(format!("{name}.stdout"));
    let stderr_path = work.join(format!("{name}.stderr"));
    let mut child = Command::new(chromium())
        .args(&args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium runs") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {TIMEOUT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    Run {
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr,
        net_log,
    }
}

impl Run {
    /// Console messages of the page (Chromium logs each as `...:CONSOLE:...] "message"`).
    fn console(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .collect()
    }

    /// URLs of the requests the network stack started on behalf of a page.
    fn page_requests(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.net_log).expect("the net log was written");
        // A log cut short at exit lacks its closing brackets; the events before are whole.
        let log: Json = serde_json::from_str(&text)
            .or_else(|_| {
                serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(',')))
            })
            .expect("the net log is JSON");
        let start_job = log
            .pointer("/constants/logEventTypes/URL_REQUEST_START_JOB")
            .and_then(Json::as_i64)
            .expect("the net log names URL_REQUEST_START_JOB");
        log["events"]
            .as_array()
            .expect("net log events")
            .iter()
            .filter(|e| e["type"].as_i64() == Some(start_job))
            .filter_map(|e| {
                let params = &e["params"];
                let url = params["url"].as_str()?;
                let initiator = params["initiator"].as_str()?;
                (initiator != "not an origin").then(|| url.to_string())
            })
            .collect()
    }
}

/// Luminance mean and standard deviation of an 8-bit RGB(A) PNG, and its size.
fn luminance(png_path: &Path) -> (f64, f64, u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).expect("screenshot exists"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit screenshot");
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    let pixels: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| 0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2]))
        .collect();
    let n = pixels.len() as f64;
    let mean = pixels.iter().sum::<f64>() / n;
    let variance = pixels.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt(), info.width, info.height)
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let f = fixture(80);
    let work = tempfile::tempdir().expect("temp dir");
    let page = work.path().join("report.html");
    let summary = f
        .store
        .with_reader(|conn| Ok(write_report(conn, &f.scenario_id, &page, &options())))
        .expect("connection")
        .expect("report written");
    assert_eq!(summary.headline.sections.len(), Section::ALL.len());

    // The control page: one request and one console message the detectors must see.
    let control = work.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><h1>control</h1>\
         <img src=\"http://report-test.invalid/pixel.png\">\
         <script>console.error(\"control-console-marker\")</script></body></html>",
    )
    .expect("control page");
    let control_run = run(&control, work.path(), "control", &["--dump-dom".into()]);
    assert!(
        control_run
            .page_requests()
            .iter()
            .any(|u| u.contains("report-test.invalid")),
        "the net log check does not see a page's request: {:?}",
        control_run.page_requests()
    );
    assert!(
        control_run
            .console()
            .iter()
            .any(|l| l.contains("control-console-marker")),
        "the console check does not see console.error: {}",
        control_run.stderr
    );

    let screenshot = work.path().join("report.png");
    let shot = run(
        &page,
        work.path(),
        "screenshot",
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,4000".into(),
        ],
    );
    let dom = run(&page, work.path(), "dom", &["--dump-dom".into()]);

    // Keep the picture for people (target/tmp), the test itself needs nothing more.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("healthsim-report");
    if std::fs::create_dir_all(&keep).is_ok() {
        let _ = std::fs::copy(&screenshot, keep.join("report.png"));
        let _ = std::fs::copy(&page, keep.join("report.html"));
    }

    let (mean, deviation, width, height) = luminance(&screenshot);
    assert_eq!((width, height), (1280, 4000));
    assert!(
        deviation > 20.0 && mean > 60.0 && mean < 250.0,
        "the screenshot looks blank: mean {mean:.1}, deviation {deviation:.1}"
    );

    for section in Section::ALL {
        let heading = format!(
            "<section class=\"report\" id=\"{id}\" data-section=\"{id}\"><h2>{}</h2>",
            section.title(),
            id = section.id()
        );
        assert!(
            dom.stdout.contains(&heading),
            "section {} missing from the DOM",
            section.id()
        );
    }
    assert!(
        dom.stdout.matches("<svg").count() >= 15,
        "charts missing from the DOM"
    );

    for run in [&shot, &dom] {
        assert_eq!(run.console(), Vec::<&str>::new(), "console messages");
        assert_eq!(
            run.page_requests(),
            Vec::<String>::new(),
            "network requests"
        );
    }
}
