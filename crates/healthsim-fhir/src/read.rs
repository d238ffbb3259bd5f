//! Streaming FHIR sources: files and folders of `.json` (a resource or a Bundle) and `.ndjson`
//! (one resource — or one Bundle — per line, as FHIR Bulk Data exports them).
//!
//! [`FhirSource`] is an iterator of [`SourcedResource`]s that reads as it goes: an NDJSON file
//! is read line by line through a buffer, so memory stays bounded by the longest line however
//! large the file or folder is. A `.json` file is one JSON document and is parsed whole (a
//! Bundle needs its closing bracket); for large inputs use NDJSON.
//!
//! - A folder expands to its `*.json` and `*.ndjson` files (not recursive), sorted by name;
//!   files given explicitly are read whatever their extension (`.ndjson` and `.jsonl` as
//!   NDJSON, anything else as one JSON document).
//! - Any Bundle (transaction, batch, collection, searchset, document, ...) yields the resources
//!   of its entries, each with its entry's `fullUrl` and index; an entry without a resource
//!   (a transaction DELETE) yields nothing.
//! - Blank lines are skipped; a UTF-8 byte-order mark at the start of a file is ignored.
//! - Errors are items too, carrying file, line and entry: after a bad NDJSON line the next line
//!   is read; after an I/O error the rest of that file is skipped.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use healthsim_schema::text::json_kind;
use serde_json::Value;

use crate::map::{map_with_full_url, Mapped};
use crate::Error;

/// How a file's content is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// One JSON document: a resource or a Bundle.
    Json,
    /// One JSON document per line (each a resource or a Bundle).
    Ndjson,
}

impl Format {
    /// The format a file name implies: `.ndjson` / `.jsonl` are NDJSON, anything else JSON.
    pub fn of(path: &Path) -> Format {
        match extension(path).as_deref() {
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => Format::Json,
        }
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// One resource read from a source, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedResource {
    /// The resource (a JSON object).
    pub resource: Value,
    /// The file it was read from (or the label given to [`FhirSource::from_reader`]).
    pub file: PathBuf,
    /// 1-based line, for NDJSON.
    pub line: Option<usize>,
    /// 0-based index of its entry, when it came out of a Bundle.
    pub entry: Option<usize>,
    /// The `fullUrl` of its Bundle entry, which gives the id of a resource without one.
    pub full_url: Option<String>,
}

impl SourcedResource {
    /// Maps the resource ([`map_with_full_url`]); an [`Error::Malformed`] names this
    /// resource's file, line and entry.
    pub fn map_resource(&self) -> Result<Mapped, Error> {
        map_with_full_url(&self.resource, self.full_url.as_deref())
            .map_err(|e| e.located(&self.file, self.line, self.entry))
    }
}

/// An input not started yet.
enum Input {
    File(PathBuf, Format),
    Reader(PathBuf, Box<dyn Read + Send>, Format),
}

/// An NDJSON input being read line by line.
struct Lines {
    file: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: usize,
    buffer: Vec<u8>,
}

/// A lazy iterator over the resources of FHIR files and folders. See the [module](self) docs.
///
/// ```no_run
/// use healthsim_fhir::{FhirSource, Mapped};
///
/// let mut counts = std::collections::BTreeMap::<String, usize>::new();
/// for item in FhirSource::open(["exports/bulk-2024-06"])? {
///     match item.and_then(|sourced| sourced.map_resource()) {
///         Ok(Mapped::Entities(rows)) => {
///             for (table, _) in rows {
///                 *counts.entry(table.to_string()).or_default() += 1;
///             }
///         }
///         Ok(Mapped::Raw { resource_type, .. }) => {
///             *counts.entry(format!("kept whole: {resource_type}")).or_default() += 1;
///         }
///         Ok(_) => {}
///         Err(error) => eprintln!("{error}"),
///     }
/// }
/// # Ok::<(), healthsim_fhir::Error>(())
/// ```
pub struct FhirSource {
    inputs: VecDeque<Input>,
    files: Vec<PathBuf>,
    current: Option<Lines>,
    pending: VecDeque<Result<SourcedResource, Error>>,
}

impl std::fmt::Debug for FhirSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirSource")
            .field("files", &self.files)
            .field("inputs_left", &self.inputs.len())
            .field("reading", &self.current.as_ref().map(|c| (&c.file, c.line)))
            .finish_non_exhaustive()
    }
}

impl FhirSource {
    /// A source over files and folders. Folders are listed now (their `*.json` and `*.ndjson`
    /// files, sorted); files are opened when reached. A path that does not exist or a folder
    /// that cannot be listed is [`Error::Io`].
    pub fn open<I, P>(paths: I) -> Result<FhirSource, Error>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut files = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let io = |source| Error::Io {
                file: path.to_path_buf(),
                source,
            };
            if path.metadata().map_err(io)?.is_dir() {
                let mut listed = Vec::new();
                for entry in std::fs::read_dir(path).map_err(io)? {
                    let entry = entry.map_err(io)?;
                    let file = entry.path();
                    let wanted = matches!(extension(&file).as_deref(), Some("json" | "ndjson"));
                    if wanted && entry.file_type().map_err(io)?.is_file() {
                        listed.push(file);
                    }
                }
                listed.sort();
                files.extend(listed);
            } else {
                files.push(path.to_path_buf());
            }
        }
        Ok(FhirSource {
            inputs: files
                .iter()
                .map(|f| Input::File(f.clone(), Format::of(f)))
                .collect(),
            files,
            current: None,
            pending: VecDeque::new(),
        })
    }

    /// A source over one reader (standard input, a decompressor, a network body), named
    /// `label` in items and errors.
    pub fn from_reader(
        label: impl Into<PathBuf>,
        reader: impl Read + Send + 'static,
        format: Format,
    ) -> FhirSource {
        let label = label.into();
        FhirSource {
            files: vec![label.clone()],
            inputs: VecDeque::from([Input::Reader(label, Box::new(reader), format)]),
            current: None,
            pending: VecDeque::new(),
        }
    }

    /// The files this source reads, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Starts the next input: NDJSON becomes the current line reader, JSON is parsed whole
    /// into `pending`.
    fn start(&mut self, input: Input) {
        let (file, reader, format): (PathBuf, Box<dyn Read + Send>, Format) = match input {
            Input::Reader(file, reader, format) => (file, reader, format),
            Input::File(file, format) => match File::open(&file) {
                Ok(opened) => (file, Box::new(opened), format),
                Err(source) => {
                    self.pending.push_back(Err(Error::Io { file, source }));
                    return;
                }
            },
        };
        let mut reader: Box<dyn BufRead + Send> = Box::new(BufReader::new(reader));
        if let Err(source) = skip_bom(&mut reader) {
            self.pending.push_back(Err(Error::Io { file, source }));
            return;
        }
        match format {
            Format::Ndjson => {
                self.current = Some(Lines {
                    file,
                    reader,
                    line: 0,
                    buffer: Vec::new(),
                });
            }
            Format::Json => match serde_json::from_reader::<_, Value>(reader) {
                Ok(value) => unpack(value, &file, None, &mut self.pending),
                Err(e) if e.is_io() => self.pending.push_back(Err(Error::Io {
                    file,
                    source: e.into(),
                })),
                Err(e) => self.pending.push_back(Err(Error::InvalidJson {
                    line: Some(e.line()),
                    reason: without_position(&e),
                    file,
                })),
            },
        }
    }

    /// Reads the current NDJSON input's next non-blank line into `pending`; false at its end.
    fn read_line(&mut self) -> bool {
        let Some(lines) = self.current.as_mut() else {
            return false;
        };
        loop {
            lines.buffer.clear();
            match lines.reader.read_until(b'\n', &mut lines.buffer) {
                Ok(0) => return false,
                Ok(_) => {
                    lines.line += 1;
                    if lines.buffer.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<Value>(&lines.buffer) {
                        Ok(value) => {
                            unpack(value, &lines.file, Some(lines.line), &mut self.pending)
                        }
                        Err(e) => self.pending.push_back(Err(Error::InvalidJson {
                            file: lines.file.clone(),
                            line: Some(lines.line),
                            reason: format!("{} at column {}", without_position(&e), e.column()),
                        })),
                    }
                    return true;
                }
                Err(source) => {
                    self.pending.push_back(Err(Error::Io {
                        file: lines.file.clone(),
                        source,
                    }));
                    return false;
                }
            }
        }
    }
}

impl Iterator for FhirSource {
    type Item = Result<SourcedResource, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.current.is_some() {
                if !self.read_line() {
                    self.current = None;
                }
                continue;
            }
            let input = self.inputs.pop_front()?;
            self.start(input);
        }
    }
}

/// Drops a UTF-8 byte-order mark at the start of a reader.
fn skip_bom(reader: &mut Box<dyn BufRead + Send>) -> std::io::Result<()> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if reader.fill_buf()?.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    Ok(())
}

/// serde_json's message without its ` at line L column C` suffix (we say where ourselves).
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    message
        .strip_suffix(&suffix)
        .map(str::to_string)
        .unwrap_or(message)
}

/// A parsed document: a Bundle's entries, or the resource itself.
fn unpack(
    value: Value,
    file: &Path,
    line: Option<usize>,
    out: &mut VecDeque<Result<SourcedResource, Error>>,
) {
    let located = |error: Error| error.located(file, line, None);
    let Value::Object(mut object) = value else {
        out.push_back(Err(located(Error::malformed(
            None,
            None,
            format!(
                "expected a FHIR resource or Bundle (a json object), found {}",
                json_kind(&value)
            ),
        ))));
        return;
    };
    if object.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        out.push_back(Ok(SourcedResource {
            resource: Value::Object(object),
            file: file.to_path_buf(),
            line,
            entry: None,
            full_url: None,
        }));
        return;
    }
    let bundle_id = object.get("id").and_then(Value::as_str).map(str::to_string);
    let bundle_error = |reason: String| {
        located(Error::malformed(
            Some("Bundle"),
            bundle_id.as_deref(),
            reason,
        ))
    };
    let entries = match object.remove("entry") {
        None | Some(Value::Null) => return,
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            out.push_back(Err(bundle_error(format!(
                "entry must be a list, found {}",
                json_kind(&other)
            ))));
            return;
        }
    };
    for (index, entry) in entries.into_iter().enumerate() {
        let entry_error = |reason: String| bundle_error(reason).located(file, line, Some(index));
        let Value::Object(mut entry) = entry else {
            out.push_back(Err(entry_error(format!(
                "a bundle entry must be an object, found {}",
                json_kind(&entry)
            ))));
            continue;
        };
        let full_url = match entry.remove("fullUrl") {
            None | Some(Value::Null) => None,
            Some(Value::String(url)) => Some(url),
            Some(other) => {
                out.push_back(Err(entry_error(format!(
                    "entry.fullUrl must be a string, found {}",
                    json_kind(&other)
                ))));
                continue;
            }
        };
        match entry.remove("resource") {
            None | Some(Value::Null) => {}
            Some(resource) => out.push_back(Ok(SourcedResource {
                resource,
                file: file.to_path_buf(),
                line,
                entry: Some(index),
                full_url,
            })),
        }
    }
}
