//! Streaming FHIR sources: files and folders of `.json` (a resource or a Bundle) and `.ndjson`
//! (one resource — or one Bundle — per line, as FHIR Bulk Data exports them), plain or
//! gzip-compressed (`.json.gz`, `.ndjson.gz`, as bulk-export servers and archives ship them).
//!
//! [`FhirSource`] is an iterator of [`SourcedResource`]s that reads as it goes, so memory stays
//! bounded however large the file or folder is:
//! - an NDJSON file is read line by line through a buffer (bounded by the longest line);
//! - a `.json` document is scanned, not parsed whole: its top-level fields are parsed one by
//!   one, and the `entry` list of a Bundle is read entry by entry (each entry's text is cut
//!   out of the stream and parsed alone), so one entry's JSON is alive at a time whatever the
//!   size of the Bundle. (Only a Bundle whose `entry` comes before its `resourceType` is
//!   held whole, since its entries cannot be told from another resource's field until then.)
//! - a `.gz` file goes through a streaming gzip decoder (several concatenated members, as
//!   `cat a.gz b.gz` makes, are read as one stream).
//!
//! Rules:
//! - A folder expands to its `*.json`, `*.ndjson`, `*.json.gz` and `*.ndjson.gz` files (not
//!   recursive; other names are ignored), sorted by name; files given explicitly are read
//!   whatever their extension (`.ndjson` and `.jsonl`, optionally with `.gz`, as NDJSON,
//!   anything else as one JSON document; `.gz` decompressed).
//! - A `.json` file found in a folder that is not FHIR at all — a JSON document whose top level
//!   is not an object with a string `resourceType`, such as a generator's metadata file — is
//!   skipped and listed in [`FhirSource::skipped_files`]. Named explicitly it is an error, as
//!   is malformed FHIR (a `resourceType` with invalid content) wherever it is.
//! - Any Bundle (transaction, batch, collection, searchset, document, ...) yields the resources
//!   of its entries, each with its entry's `fullUrl` and index; an entry without a resource
//!   (a transaction DELETE) yields nothing.
//! - Blank lines are skipped; a UTF-8 byte-order mark at the start of a file is ignored.
//! - Errors are items too, carrying file, line and entry: after a bad NDJSON line (or a bad
//!   Bundle entry) the next one is read; after an I/O error, a gzip stream that does not
//!   decompress ([`Error::Decompress`]) or JSON whose structure breaks, the rest of that file
//!   is skipped (the resources before the break have been yielded already).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use healthsim_schema::text::json_kind;
use serde_json::{Map, Value};

use crate::map::{map_taking, map_with_full_url, Mapped};
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
    /// The format a file name implies: `.ndjson` / `.jsonl` are NDJSON, anything else JSON; a
    /// `.gz` suffix is looked through (`Patient.ndjson.gz` is NDJSON).
    pub fn of(path: &Path) -> Format {
        match inner_extension(path).as_deref() {
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => Format::Json,
        }
    }
}

/// Whether a file name says gzip (`.gz`, any case).
pub fn is_gzip(path: &Path) -> bool {
    extension(path).as_deref() == Some("gz")
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// The extension under a `.gz` suffix (`json` for `x.json.gz`), else the extension.
fn inner_extension(path: &Path) -> Option<String> {
    if is_gzip(path) {
        path.file_stem().map(Path::new).and_then(extension)
    } else {
        extension(path)
    }
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

    /// [`SourcedResource::map_resource`] for a caller done with the resource: it moves into
    /// the row that keeps it ([`map_taking`]), and `resource` is left `null` (unless the
    /// mapping fails).
    pub fn map_resource_taking(&mut self) -> Result<Mapped, Error> {
        map_taking(&mut self.resource, self.full_url.as_deref())
            .map_err(|e| e.located(&self.file, self.line, self.entry))
    }
}

/// A file of a folder that was not read because it is not FHIR (see the [module](self) docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it is not FHIR, e.g. "no resourceType: not a FHIR resource or Bundle".
    pub reason: String,
}

/// An input not started yet.
enum Input {
    File {
        path: PathBuf,
        format: Format,
        gzip: bool,
        /// Found in a folder (a non-FHIR document is skipped) rather than named.
        listed: bool,
    },
    Reader(PathBuf, Box<dyn Read + Send>, Format),
}

/// The input being read.
enum Current {
    Lines(Lines),
    Document(Box<Document>),
}

/// Where a reader's bytes come from: what an I/O error during reading means.
#[derive(Clone)]
struct Origin {
    file: PathBuf,
    gzip: bool,
}

impl Origin {
    /// The error for an I/O failure while reading: a gzip stream's own failures (bad header,
    /// corrupt deflate data, truncated) are [`Error::Decompress`], anything else [`Error::Io`].
    fn error(&self, source: std::io::Error) -> Error {
        use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
        if self.gzip && matches!(source.kind(), InvalidData | InvalidInput | UnexpectedEof) {
            Error::Decompress {
                file: self.file.clone(),
                source,
            }
        } else {
            Error::Io {
                file: self.file.clone(),
                source,
            }
        }
    }
}

/// An NDJSON input being read line by line.
struct Lines {
    origin: Origin,
    reader: Box<dyn BufRead + Send>,
    line: usize,
    buffer: Vec<u8>,
}

/// A JSON document being scanned: top-level fields one by one, a Bundle's entries one by one.
struct Document {
    origin: Origin,
    listed: bool,
    reader: Box<dyn BufRead + Send>,
    /// 1-based line of the next byte.
    line: usize,
    stage: Stage,
    /// The top-level fields read so far (a Bundle's streamed entries are not among them).
    fields: Map<String, Value>,
    /// Index of the next Bundle entry.
    next_entry: usize,
    buffer: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before the first byte.
    Start,
    /// Inside the top-level object, before a field (`first`: no field read yet).
    Field { first: bool },
    /// Inside a Bundle's `entry` list, before an entry (`first`: no entry read yet).
    Entry { first: bool },
    /// Finished (or abandoned after an error).
    Done,
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
    current: Option<Current>,
    pending: VecDeque<Result<SourcedResource, Error>>,
    skipped_files: Vec<SkippedFile>,
}

impl std::fmt::Debug for FhirSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reading = self.current.as_ref().map(|c| match c {
            Current::Lines(lines) => (&lines.origin.file, lines.line),
            Current::Document(document) => (&document.origin.file, document.line),
        });
        f.debug_struct("FhirSource")
            .field("files", &self.files)
            .field("inputs_left", &self.inputs.len())
            .field("reading", &reading)
            .field("skipped_files", &self.skipped_files)
            .finish_non_exhaustive()
    }
}

impl FhirSource {
    /// A source over files and folders. Folders are listed now (their `*.json`, `*.ndjson`,
    /// `*.json.gz` and `*.ndjson.gz` files, sorted); files are opened when reached. A path
    /// that does not exist or a folder that cannot be listed is [`Error::Io`].
    pub fn open<I, P>(paths: I) -> Result<FhirSource, Error>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut files = Vec::new();
        let mut inputs = VecDeque::new();
        for path in paths {
            let path = path.as_ref();
            let io = |source| Error::Io {
                file: path.to_path_buf(),
                source,
            };
            let input = |path: PathBuf, listed| Input::File {
                format: Format::of(&path),
                gzip: is_gzip(&path),
                path,
                listed,
            };
            if path.metadata().map_err(io)?.is_dir() {
                let mut listed = Vec::new();
                for entry in std::fs::read_dir(path).map_err(io)? {
                    let entry = entry.map_err(io)?;
                    let file = entry.path();
                    let wanted =
                        matches!(inner_extension(&file).as_deref(), Some("json" | "ndjson"));
                    if wanted && entry.file_type().map_err(io)?.is_file() {
                        listed.push(file);
                    }
                }
                listed.sort();
                inputs.extend(listed.iter().map(|f| input(f.clone(), true)));
                files.extend(listed);
            } else {
                inputs.push_back(input(path.to_path_buf(), false));
                files.push(path.to_path_buf());
            }
        }
        Ok(FhirSource {
            inputs,
            files,
            current: None,
            pending: VecDeque::new(),
            skipped_files: Vec::new(),
        })
    }

    /// A source over one reader (standard input, a decompressor, a network body), named
    /// `label` in items and errors. A JSON document that is not FHIR is an error, as for a
    /// file named explicitly.
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
            skipped_files: Vec::new(),
        }
    }

    /// The files this source reads, in order (including the ones it skips as not FHIR).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The files of folders skipped so far because they are not FHIR, in input order.
    pub fn skipped_files(&self) -> &[SkippedFile] {
        &self.skipped_files
    }

    /// Starts the next input: NDJSON becomes a line reader, JSON a document scanner.
    fn start(&mut self, input: Input) {
        let (origin, reader, format, listed): (Origin, Box<dyn Read + Send>, Format, bool) =
            match input {
                Input::Reader(file, reader, format) => {
                    (Origin { file, gzip: false }, reader, format, false)
                }
                Input::File {
                    path,
                    format,
                    gzip,
                    listed,
                } => match File::open(&path) {
                    Ok(opened) => {
                        let reader: Box<dyn Read + Send> = if gzip {
                            Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(opened)))
                        } else {
                            Box::new(opened)
                        };
                        (Origin { file: path, gzip }, reader, format, listed)
                    }
                    Err(source) => {
                        self.pending
                            .push_back(Err(Error::Io { file: path, source }));
                        return;
                    }
                },
            };
        let mut reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(READ_BUFFER, reader));
        if let Err(source) = skip_bom(&mut reader) {
            self.pending.push_back(Err(origin.error(source)));
            return;
        }
        self.current = Some(match format {
            Format::Ndjson => Current::Lines(Lines {
                origin,
                reader,
                line: 0,
                buffer: Vec::new(),
            }),
            Format::Json => Current::Document(Box::new(Document {
                origin,
                listed,
                reader,
                line: 1,
                stage: Stage::Start,
                fields: Map::new(),
                next_entry: 0,
                buffer: Vec::new(),
            })),
        });
    }
}

/// The read buffer of every input.
const READ_BUFFER: usize = 64 * 1024;

impl Lines {
    /// Reads the next non-blank line into `pending`; false at the end of the input.
    fn advance(&mut self, pending: &mut VecDeque<Result<SourcedResource, Error>>) -> bool {
        loop {
            self.buffer.clear();
            match self.reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return false,
                Ok(_) => {
                    self.line += 1;
                    if self.buffer.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<Value>(&self.buffer) {
                        Ok(value) => unpack(value, &self.origin.file, Some(self.line), pending),
                        Err(e) => pending.push_back(Err(Error::InvalidJson {
                            file: self.origin.file.clone(),
                            line: Some(self.line),
                            reason: format!("{} at column {}", without_position(&e), e.column()),
                        })),
                    }
                    return true;
                }
                Err(source) => {
                    pending.push_back(Err(self.origin.error(source)));
                    return false;
                }
            }
        }
    }
}

/// Why scanning a document stopped early.
enum Stop {
    /// Reading failed.
    Io(std::io::Error),
    /// The JSON is broken at `line`.
    Syntax { line: usize, reason: String },
}

impl From<std::io::Error> for Stop {
    fn from(error: std::io::Error) -> Self {
        Stop::Io(error)
    }
}

impl Document {
    /// Scans on until at least one item is in `pending` or the document ends; false at its end.
    fn advance(
        &mut self,
        pending: &mut VecDeque<Result<SourcedResource, Error>>,
        skipped: &mut Vec<SkippedFile>,
    ) -> bool {
        if self.stage == Stage::Done {
            return false;
        }
        match self.step(pending, skipped) {
            Ok(()) => true,
            Err(stop) => {
                self.stage = Stage::Done;
                pending.push_back(Err(match stop {
                    Stop::Io(source) => self.origin.error(source),
                    Stop::Syntax { line, reason } => Error::InvalidJson {
                        file: self.origin.file.clone(),
                        line: Some(line),
                        reason,
                    },
                }));
                true
            }
        }
    }

    fn step(
        &mut self,
        pending: &mut VecDeque<Result<SourcedResource, Error>>,
        skipped: &mut Vec<SkippedFile>,
    ) -> Result<(), Stop> {
        loop {
            match self.stage {
                Stage::Done => return Ok(()),
                Stage::Start => {
                    self.skip_whitespace()?;
                    if self.peek()? == Some(b'{') {
                        self.reader.consume(1);
                        self.stage = Stage::Field { first: true };
                        continue;
                    }
                    // Not an object: parse what is there (an error, or a non-FHIR document).
                    let line = self.line;
                    let mut text = Vec::new();
                    self.reader.read_to_end(&mut text)?;
                    self.stage = Stage::Done;
                    let value = parse(&text, line)?;
                    let kind = json_kind(&value);
                    if self.listed {
                        self.skip_file(
                            skipped,
                            format!("not a FHIR resource or Bundle: the document is {kind}"),
                        );
                    } else {
                        unpack(value, &self.origin.file, None, pending);
                    }
                    return Ok(());
                }
                Stage::Field { first } => {
                    self.skip_whitespace()?;
                    if self.separator(b'}', first, "a field")? {
                        self.end_of_document()?;
                        self.finish(pending, skipped);
                        return Ok(());
                    }
                    let line = self.line;
                    let mut key = Vec::new();
                    self.capture(&mut key)?;
                    let key: String = serde_json::from_slice(&key)
                        .map_err(|e| syntax(&e, line, "a field name"))?;
                    self.skip_whitespace()?;
                    self.expect(b':', "':' after a field name")?;
                    self.skip_whitespace()?;
                    self.stage = Stage::Field { first: false };
                    let is_bundle =
                        self.fields.get("resourceType").and_then(Value::as_str) == Some("Bundle");
                    if key == "entry" && is_bundle && self.peek()? == Some(b'[') {
                        self.reader.consume(1);
                        self.stage = Stage::Entry { first: true };
                        continue;
                    }
                    let line = self.line;
                    self.buffer.clear();
                    let mut buffer = std::mem::take(&mut self.buffer);
                    self.capture(&mut buffer)?;
                    let value = parse(&buffer, line);
                    self.buffer = buffer;
                    self.fields.insert(key, value?);
                }
                Stage::Entry { first } => {
                    self.skip_whitespace()?;
                    if self.separator(b']', first, "a bundle entry")? {
                        self.stage = Stage::Field { first: false };
                        continue;
                    }
                    self.stage = Stage::Entry { first: false };
                    let index = self.next_entry;
                    self.next_entry += 1;
                    let line = self.line;
                    self.buffer.clear();
                    let mut buffer = std::mem::take(&mut self.buffer);
                    self.capture(&mut buffer)?;
                    let entry = serde_json::from_slice(&buffer)
                        .map_err(|e| syntax(&e, line, &format!("bundle entry {index}")));
                    self.buffer = buffer;
                    let bundle_id = self.fields.get("id").and_then(Value::as_str);
                    unpack_entry(entry?, index, &self.origin.file, None, bundle_id, pending);
                    if !pending.is_empty() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The top-level object has closed: the resource, or the end of a streamed Bundle.
    fn finish(
        &mut self,
        pending: &mut VecDeque<Result<SourcedResource, Error>>,
        skipped: &mut Vec<SkippedFile>,
    ) {
        self.stage = Stage::Done;
        let fields = std::mem::take(&mut self.fields);
        match fields.get("resourceType") {
            Some(Value::String(t)) if t == "Bundle" && !fields.contains_key("entry") => {}
            Some(Value::String(_)) => {
                unpack(Value::Object(fields), &self.origin.file, None, pending)
            }
            other if self.listed => {
                let reason = match other {
                    None => "no resourceType: not a FHIR resource or Bundle".to_string(),
                    Some(value) => format!(
                        "resourceType is {}, not a string: not a FHIR resource or Bundle",
                        json_kind(value)
                    ),
                };
                self.skip_file(skipped, reason);
            }
            _ => unpack(Value::Object(fields), &self.origin.file, None, pending),
        }
    }

    fn skip_file(&self, skipped: &mut Vec<SkippedFile>, reason: String) {
        skipped.push(SkippedFile {
            path: self.origin.file.clone(),
            reason,
        });
    }

    /// The next byte, not consumed; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn skip_whitespace(&mut self) -> Result<(), Stop> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            let mut n = 0;
            for &b in available {
                match b {
                    b'\n' => self.line += 1,
                    b' ' | b'\t' | b'\r' => {}
                    _ => break,
                }
                n += 1;
            }
            let all = n == available.len();
            self.reader.consume(n);
            if !all {
                return Ok(());
            }
        }
    }

    /// Consumes `byte` or fails naming `what` was expected.
    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Stop> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.reader.consume(1);
                Ok(())
            }
            found => Err(self.unexpected(found, what)),
        }
    }

    /// Before an element of a list or object (whitespace skipped): true when `close` ends it,
    /// else consumes the `,` that must come before every element but the first.
    fn separator(&mut self, close: u8, first: bool, what: &str) -> Result<bool, Stop> {
        match self.peek()? {
            Some(b) if b == close => {
                self.reader.consume(1);
                Ok(true)
            }
            Some(b',') if !first => {
                self.reader.consume(1);
                self.skip_whitespace()?;
                Ok(false)
            }
            _ if first => Ok(false),
            found => {
                Err(self.unexpected(found, &format!("',' or '{}' after {what}", close as char)))
            }
        }
    }

    fn unexpected(&self, found: Option<u8>, what: &str) -> Stop {
        Stop::Syntax {
            line: self.line,
            reason: match found {
                None => format!("EOF while parsing: expected {what}"),
                Some(b) if b.is_ascii_graphic() => {
                    format!("expected {what}, found '{}'", b as char)
                }
                Some(b) => format!("expected {what}, found byte 0x{b:02x}"),
            },
        }
    }

    /// After the top-level object: only whitespace may follow.
    fn end_of_document(&mut self) -> Result<(), Stop> {
        self.skip_whitespace()?;
        match self.peek()? {
            None => Ok(()),
            found => Err(self.unexpected(found, "the end of the document")),
        }
    }

    /// Appends the text of the JSON value that starts here (whitespace skipped) to `out`,
    /// without checking it beyond its brackets and strings: the parser of the piece does.
    fn capture(&mut self, out: &mut Vec<u8>) -> Result<(), Stop> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut scalar = None;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                // The end inside a value: its parser reports what is missing.
                return Ok(());
            }
            let mut end = None;
            for (i, &b) in available.iter().enumerate() {
                if b == b'\n' {
                    self.line += 1;
                }
                let is_scalar = *scalar.get_or_insert(!matches!(b, b'"' | b'{' | b'['));
                if is_scalar {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        if b == b'\n' {
                            self.line -= 1;
                        }
                        end = Some(i);
                        break;
                    }
                    continue;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let n = end.unwrap_or(available.len());
            out.extend_from_slice(&available[..n]);
            self.reader.consume(n);
            if end.is_some() {
                return Ok(());
            }
        }
    }
}

/// Parses one piece of a document that starts at `line`.
fn parse(text: &[u8], line: usize) -> Result<Value, Stop> {
    serde_json::from_slice(text).map_err(|e| syntax(&e, line, "a value"))
}

/// A parse error of a piece that starts at `line`, placed in the document.
fn syntax(error: &serde_json::Error, line: usize, what: &str) -> Stop {
    let reason = without_position(error);
    Stop::Syntax {
        line: line + error.line().saturating_sub(1),
        reason: if what == "a value" {
            reason
        } else {
            format!("{reason} (in {what})")
        },
    }
}

impl Iterator for FhirSource {
    type Item = Result<SourcedResource, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if let Some(current) = self.current.as_mut() {
                let more = match current {
                    Current::Lines(lines) => lines.advance(&mut self.pending),
                    Current::Document(document) => {
                        document.advance(&mut self.pending, &mut self.skipped_files)
                    }
                };
                if !more {
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
    let entries = match object.remove("entry") {
        None | Some(Value::Null) => return,
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            out.push_back(Err(located(Error::malformed(
                Some("Bundle"),
                bundle_id.as_deref(),
                format!("entry must be a list, found {}", json_kind(&other)),
            ))));
            return;
        }
    };
    for (index, entry) in entries.into_iter().enumerate() {
        unpack_entry(entry, index, file, line, bundle_id.as_deref(), out);
    }
}

/// One Bundle entry: its resource with its `fullUrl`, nothing (no resource), or an error.
fn unpack_entry(
    entry: Value,
    index: usize,
    file: &Path,
    line: Option<usize>,
    bundle_id: Option<&str>,
    out: &mut VecDeque<Result<SourcedResource, Error>>,
) {
    let entry_error = |reason: String| {
        Error::malformed(Some("Bundle"), bundle_id, reason).located(file, line, Some(index))
    };
    let Value::Object(mut entry) = entry else {
        out.push_back(Err(entry_error(format!(
            "a bundle entry must be an object, found {}",
            json_kind(&entry)
        ))));
        return;
    };
    let full_url = match entry.remove("fullUrl") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => Some(url),
        Some(other) => {
            out.push_back(Err(entry_error(format!(
                "entry.fullUrl must be a string, found {}",
                json_kind(&other)
            ))));
            return;
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
