//! `healthsim generate`: the deterministic synthetic generator ([`healthsim_synth`]) as a command.
//!
//! Writes JSON Lines ([`synth::write_jsonl`]) or one JSON document ([`synth::write_document`])
//! to a file or to stdout, and a one-line summary of what was written to stderr. It does not
//! touch a database: pipe the output into `healthsim persist`, or keep the file.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::time::Instant;

use healthsim_synth::{self as synth, GenerationStats, GeneratorConfig};
use serde::Serialize;

use crate::args::{GenerateArgs, GenerateFormatArg, MixArg};
use crate::error::{CliError, CliResult};
use crate::output::{self, human_bytes, Output};

/// What `healthsim generate --out FILE` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateReport {
    /// The file written.
    pub path: String,
    /// `jsonl` or `document`.
    pub format: &'static str,
    /// `patients` or `multi`.
    pub mix: &'static str,
    /// Persons generated.
    pub persons: usize,
    /// The seed.
    pub seed: u64,
    /// Entities per table.
    pub per_type: std::collections::BTreeMap<&'static str, u64>,
    /// All entities.
    pub total: u64,
    /// Size of the file, in bytes.
    pub bytes_written: u64,
}

/// Counts the bytes going through to the inner writer.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `healthsim generate`: `None` when the data went to stdout (stdout is the data), else what
/// was written.
pub fn run(args: &GenerateArgs) -> CliResult<Option<Output>> {
    let config = GeneratorConfig {
        seed: args.seed,
        persons: args.persons,
        mix: args.mix.into(),
        ..GeneratorConfig::default()
    };
    let to_stdout = args.out.as_os_str() == "-";
    let started = Instant::now();
    let written = if to_stdout {
        write(config, args.format, std::io::stdout().lock())
    } else {
        write(config, args.format, create(&args.out)?)
    };
    let (stats, bytes) = match written {
        Ok(done) => done,
        // `healthsim generate | head`: the reader has what it wanted.
        Err(e) if to_stdout && e.kind() == ErrorKind::BrokenPipe => return Ok(None),
        Err(e) => {
            return Err(CliError::failure(format!(
                "cannot write {}: {e}",
                target_name(&args.out)
            )))
        }
    };
    let (format, mix) = (format_name(args.format), mix_name(args.mix));
    eprintln!(
        "generated {} entities ({} types) for {} persons, seed {}, mix {mix}, as {format} to {} \
         ({}, {:.2} s)",
        stats.total,
        stats.per_type.len(),
        args.persons,
        args.seed,
        target_name(&args.out),
        human_bytes(bytes),
        started.elapsed().as_secs_f64()
    );
    if to_stdout {
        return Ok(None);
    }
    let GenerationStats { per_type, total } = stats;
    let report = GenerateReport {
        path: args.out.to_string_lossy().into_owned(),
        format,
        mix,
        persons: args.persons,
        seed: args.seed,
        per_type,
        total,
        bytes_written: bytes,
    };
    let rows: Vec<Vec<String>> = report
        .per_type
        .iter()
        .map(|(t, n)| vec![t.to_string(), n.to_string()])
        .collect();
    let text = format!(
        "Wrote {} entities to {} ({format}, {}).\n\n{}",
        report.total,
        report.path,
        human_bytes(bytes),
        output::table(&["type", "entities"], &rows)
    );
    Output::new(&report, text).map(Some)
}

fn write(
    config: GeneratorConfig,
    format: GenerateFormatArg,
    out: impl Write,
) -> std::io::Result<(GenerationStats, u64)> {
    let mut out = Counting {
        inner: out,
        bytes: 0,
    };
    let stats = match format {
        GenerateFormatArg::Jsonl => synth::write_jsonl(config, &mut out)?,
        GenerateFormatArg::Document => synth::write_document(config, &mut out)?,
    };
    Ok((stats, out.bytes))
}

/// The output file, created or truncated. A folder or a missing parent folder is the caller's
/// mistake (exit code 2).
fn create(path: &Path) -> CliResult<File> {
    if path.is_dir() {
        return Err(CliError::input(format!(
            "{} is a folder; give a file path for --out",
            path.display()
        )));
    }
    File::create(path).map_err(|e| {
        let class = if e.kind() == ErrorKind::NotFound {
            CliError::input
        } else {
            CliError::failure
        };
        class(format!("cannot create {}: {e}", path.display()))
    })
}

fn target_name(out: &Path) -> String {
    if out.as_os_str() == "-" {
        "stdout".to_string()
    } else {
        out.display().to_string()
    }
}

fn format_name(format: GenerateFormatArg) -> &'static str {
    match format {
        GenerateFormatArg::Jsonl => "jsonl",
        GenerateFormatArg::Document => "document",
    }
}

fn mix_name(mix: MixArg) -> &'static str {
    match mix {
        MixArg::Patients => "patients",
        MixArg::Multi => "multi",
    }
}
