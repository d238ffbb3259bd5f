//! The reader on the inputs real generators and bulk-export servers produce: gzip-compressed
//! files, folders holding non-FHIR files beside the FHIR ones, and Bundles too large to parse
//! whole.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flate2::write::GzEncoder;
use flate2::Compression;
use healthsim_fhir::{Error, FhirSource, Format, SkippedFile, SourcedResource};

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fhir")
        .join(relative)
}

/// Every item of a source, errors as their message.
fn items(source: FhirSource) -> Vec<Result<SourcedResource, String>> {
    source.map(|item| item.map_err(|e| e.to_string())).collect()
}

/// The items without their file (a compressed copy has another name), `files` in messages
/// replaced by `<file>`.
fn placeless(
    items: Vec<Result<SourcedResource, String>>,
    files: &[&Path],
) -> Vec<Result<SourcedResource, String>> {
    items
        .into_iter()
        .map(|item| {
            item.map(|mut s| {
                s.file = PathBuf::new();
                s
            })
            .map_err(|message| {
                files.iter().fold(message, |m, f| {
                    m.replace(&f.display().to_string(), "<file>")
                })
            })
        })
        .collect()
}

fn gzip(from: &Path, to: &Path) {
    let text = std::fs::read(from).expect("read");
    let mut encoder = GzEncoder::new(
        std::fs::File::create(to).expect("create"),
        Compression::fast(),
    );
    encoder.write_all(&text).expect("write");
    encoder.finish().expect("finish");
}

#[test]
fn gzip_files_give_the_same_items_as_the_plain_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = [
        data("bulk/Patient.ndjson"),
        data("malformed/bad.ndjson"),
        data("transaction-bundle.json"),
        data("collection-bundle.json"),
    ];
    for file in plain {
        let name = format!(
            "{}.GZ",
            file.file_name().and_then(|n| n.to_str()).expect("name")
        );
        let compressed = dir.path().join(name);
        gzip(&file, &compressed);
        let expected = items(FhirSource::open([&file]).expect("open"));
        assert!(expected.len() >= 3, "{}", file.display());
        let got = items(FhirSource::open([&compressed]).expect("open"));
        let located: Vec<&PathBuf> = got.iter().flatten().map(|s| &s.file).collect();
        assert!(located.iter().all(|f| **f == compressed));
        assert_eq!(
            placeless(got, &[&compressed]),
            placeless(expected, &[&file]),
            "{}",
            file.display()
        );
    }
    // In a folder, .ndjson.gz and .json.gz are read, in name order.
    let folder = tempfile::tempdir().expect("tempdir");
    gzip(
        &data("bulk/Patient.ndjson"),
        &folder.path().join("Patient.ndjson.gz"),
    );
    gzip(
        &data("collection-bundle.json"),
        &folder.path().join("bundle.json.gz"),
    );
    std::fs::write(folder.path().join("notes.txt.gz"), b"ignored").expect("write");
    let source = FhirSource::open([folder.path()]).expect("open");
    let files: Vec<String> = source
        .files()
        .iter()
        .map(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(files, ["Patient.ndjson.gz", "bundle.json.gz"]);
    let read = items(source);
    let expected = items(
        FhirSource::open([data("bulk/Patient.ndjson"), data("collection-bundle.json")])
            .expect("open"),
    );
    assert_eq!(placeless(read, &[]), placeless(expected, &[]));
    // Several gzip members one after the other (`cat a.gz b.gz`) are one stream.
    let twice = dir.path().join("twice.ndjson.gz");
    let member = std::fs::read(dir.path().join("Patient.ndjson.GZ")).expect("read");
    std::fs::write(&twice, [member.clone(), member].concat()).expect("write");
    let once = items(FhirSource::open([data("bulk/Patient.ndjson")]).expect("open")).len();
    assert_eq!(
        items(FhirSource::open([&twice]).expect("open")).len(),
        2 * once
    );
    assert_eq!(Format::of(Path::new("a/Patient.ndjson.gz")), Format::Ndjson);
    assert_eq!(Format::of(Path::new("a/bundle.json.gz")), Format::Json);
    assert!(healthsim_fhir::read::is_gzip(Path::new("a/b.NDJSON.Gz")));
}

#[test]
fn a_corrupt_gzip_file_is_a_decompress_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.ndjson.gz");
    gzip(&data("bulk/Patient.ndjson"), &good);
    let bytes = std::fs::read(&good).expect("read");
    // (name, content, items before the error)
    let not_gzip = dir.path().join("plain-text.ndjson.gz");
    std::fs::write(
        &not_gzip,
        std::fs::read(data("bulk/Patient.ndjson")).expect("read"),
    )
    .expect("write");
    let truncated = dir.path().join("truncated.json.gz");
    gzip(&data("transaction-bundle.json"), &truncated);
    let whole = std::fs::read(&truncated).expect("read");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).expect("write");
    let corrupt = dir.path().join("corrupt.ndjson.gz");
    let mut damaged = bytes.clone();
    for b in damaged.iter_mut().skip(20).take(40) {
        *b = !*b;
    }
    std::fs::write(&corrupt, &damaged).expect("write");
    for file in [&not_gzip, &truncated, &corrupt] {
        let all: Vec<Result<SourcedResource, Error>> =
            FhirSource::open([file]).expect("open").collect();
        let errors: Vec<&Error> = all.iter().filter_map(|i| i.as_ref().err()).collect();
        assert_eq!(errors.len(), 1, "{}: {all:?}", file.display());
        match errors[0] {
            Error::Decompress { file: named, .. } => assert_eq!(named, file),
            other => panic!("{}: {other:?}", file.display()),
        }
        assert!(errors[0].is_caller_error());
        let message = errors[0].to_string();
        assert!(
            message.starts_with(&format!("cannot decompress {} (gzip): ", file.display())),
            "{message}"
        );
        assert!(
            matches!(all.last(), Some(Err(Error::Decompress { .. }))),
            "the error ends the file"
        );
    }
}

#[test]
fn a_folder_skips_json_documents_that_are_not_fhir_and_lists_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path();
    std::fs::copy(data("bulk/Patient.ndjson"), folder.join("Patient.ndjson")).expect("copy");
    std::fs::copy(data("collection-bundle.json"), folder.join("bundle.json")).expect("copy");
    let not_fhir = [
        (
            "metadata.json",
            r#"{"generator": "synthea", "version": "3.2", "seed": 42, "entry": [1]}"#,
            "no resourceType: not a FHIR resource or Bundle",
        ),
        (
            "list.json",
            r#"[{"resourceType": "Patient", "id": "x"}]"#,
            "not a FHIR resource or Bundle: the document is a list",
        ),
        (
            "numbered.json",
            r#"{"resourceType": 7, "id": "x"}"#,
            "resourceType is a number, not a string: not a FHIR resource or Bundle",
        ),
    ];
    for (name, text, _) in not_fhir {
        std::fs::write(folder.join(name), text).expect("write");
    }
    std::fs::write(folder.join("README.md"), "not read at all").expect("write");
    let mut source = FhirSource::open([folder]).expect("open");
    let read: Vec<SourcedResource> = source.by_ref().map(|i| i.expect("item")).collect();
    let expected = FhirSource::open([data("collection-bundle.json"), data("bulk/Patient.ndjson")])
        .expect("open")
        .count();
    assert_eq!(read.len(), expected);
    let mut skipped: Vec<SkippedFile> = source.skipped_files().to_vec();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let mut wanted: Vec<SkippedFile> = not_fhir
        .iter()
        .map(|(name, _, reason)| SkippedFile {
            path: folder.join(name),
            reason: reason.to_string(),
        })
        .collect();
    wanted.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(skipped, wanted);

    // Named explicitly, a non-FHIR document is an error, and so is malformed FHIR in a folder.
    for (name, _, _) in not_fhir {
        let file = folder.join(name);
        let outcome: Vec<Result<(), Error>> = FhirSource::open([&file])
            .expect("open")
            .map(|i| i.and_then(|s| s.map_resource()).map(|_| ()))
            .collect();
        assert!(
            matches!(outcome.as_slice(), [Err(Error::Malformed { .. })]),
            "{name}: {outcome:?}"
        );
    }
    let bad = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        bad.path().join("broken.json"),
        r#"{"resourceType": "Patient", "id": "#,
    )
    .expect("write");
    let mut source = FhirSource::open([bad.path()]).expect("open");
    assert!(matches!(
        source.next(),
        Some(Err(Error::InvalidJson { .. }))
    ));
    assert!(source.skipped_files().is_empty());
}

/// A Bundle of `entries` Patients generated as it is read, counting the bytes handed out.
struct BigBundle {
    entries_left: usize,
    next: usize,
    pending: Vec<u8>,
    served: Arc<AtomicUsize>,
    closed: bool,
}

impl BigBundle {
    fn new(entries: usize, served: &Arc<AtomicUsize>) -> Self {
        BigBundle {
            entries_left: entries,
            next: 0,
            pending: b"{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"collection\",\n  \"id\": \"big\",\n  \"entry\": [\n".to_vec(),
            served: Arc::clone(served),
            closed: false,
        }
    }
}

impl Read for BigBundle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            if self.entries_left > 0 {
                self.entries_left -= 1;
                self.next += 1;
                let comma = if self.entries_left > 0 { "," } else { "" };
                self.pending = format!(
                    "    {{\"fullUrl\": \"urn:uuid:{0}\", \"resource\": {{\"resourceType\": \"Patient\", \"id\": \"b{0}\", \"name\": [{{\"family\": \"A \\\"quoted\\\" [name] {{x}}\"}}], \"gender\": \"other\"}}}}{comma}\n",
                    self.next
                )
                .into_bytes();
            } else if !self.closed {
                self.closed = true;
                self.pending = b"  ]\n}\n".to_vec();
            } else {
                return Ok(0);
            }
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.served.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
}

#[test]
fn a_large_bundle_is_read_entry_by_entry() {
    const ENTRIES: usize = 50_000;
    let served = Arc::new(AtomicUsize::new(0));
    let mut source =
        FhirSource::from_reader("big.json", BigBundle::new(ENTRIES, &served), Format::Json);
    let first = source.next().expect("item").expect("resource");
    assert_eq!(
        (first.entry, first.resource["id"].as_str()),
        (Some(0), Some("b1"))
    );
    assert_eq!(first.full_url.as_deref(), Some("urn:uuid:1"));
    assert_eq!(
        first.resource["name"][0]["family"],
        "A \"quoted\" [name] {x}"
    );
    // About 170 bytes an entry: the first one costs a buffer fill, not the ~8 MB document.
    let after_first = served.load(Ordering::SeqCst);
    assert!(
        after_first <= 128 * 1024,
        "read {after_first} bytes for one entry"
    );
    let mut count = 1;
    for item in source {
        let item = item.expect("resource");
        assert_eq!(item.entry, Some(count));
        count += 1;
    }
    assert_eq!(count, ENTRIES);
    assert!(served.load(Ordering::SeqCst) > 50 * after_first);
}

#[test]
fn scanned_documents_keep_the_rules_of_parsed_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    // `entry` before `resourceType`: held until the type is known, then the same entries.
    let late_type = write(
        "late-type.json",
        r#"{"entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "l1"}}, {"request": {"method": "DELETE"}}], "resourceType": "Bundle"}"#,
    );
    let got = items(FhirSource::open([&late_type]).expect("open"));
    assert_eq!(got.len(), 1);
    assert!(matches!(&got[0], Ok(s) if s.resource["id"] == "l1" && s.entry == Some(0)));
    // A resource with nested arrays, numbers, literals and escapes comes out whole.
    let resource = serde_json::json!({
        "resourceType": "Observation", "id": "o\"1", "valueQuantity": {"value": -1.5e3},
        "flags": [true, false, null, [], {}], "note": [{"text": "a ] } \\ , \n b"}]
    });
    let single = write(
        "single.json",
        &format!(
            "  {}  \n\n",
            serde_json::to_string_pretty(&resource).expect("json")
        ),
    );
    let got = items(FhirSource::open([&single]).expect("open"));
    assert!(
        matches!(got.as_slice(), [Ok(s)] if s.resource == resource),
        "{got:?}"
    );
    // Broken JSON inside an entry: the error names the line and the entry; entries before it
    // were read.
    let broken_entry = write(
        "broken-entry.json",
        "{\"resourceType\": \"Bundle\", \"entry\": [\n{\"resource\": {\"resourceType\": \"Patient\", \"id\": \"ok\"}},\n{\"resource\": {\"resourceType\": \"Patient\",\n \"id\": tru}}\n]}",
    );
    let got = items(FhirSource::open([&broken_entry]).expect("open"));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(matches!(&got[0], Ok(s) if s.resource["id"] == "ok"));
    let message = got[1].as_ref().err().cloned().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "invalid json in {} line 4: ",
            broken_entry.display()
        )) && message.ends_with("(in bundle entry 1)"),
        "{message}"
    );
    // Structure errors between the pieces name their line.
    let cases = [
        (
            "trailing.json",
            "{\"resourceType\": \"Patient\", \"id\": \"t\"}\n{}",
            2,
            "expected the end of the document, found '{'",
        ),
        (
            "no-colon.json",
            "{\"resourceType\" \"Patient\"}",
            1,
            "expected ':' after a field name, found '\"'",
        ),
        (
            "no-comma.json",
            "{\"resourceType\": \"Bundle\", \"entry\": [{}\n {}]}",
            2,
            "expected ',' or ']' after a bundle entry, found '{'",
        ),
        (
            "cut.json",
            "{\"resourceType\": \"Patient\",\n\"id\": \"x\"",
            2,
            "EOF while parsing: expected ',' or '}' after a field",
        ),
        ("empty.json", "", 1, "EOF while parsing a value"),
    ];
    for (name, text, line, reason) in cases {
        let path = write(name, text);
        let got: Vec<Result<SourcedResource, Error>> =
            FhirSource::open([&path]).expect("open").collect();
        match got.as_slice() {
            [Err(Error::InvalidJson {
                file,
                line: l,
                reason: r,
            })] => {
                assert_eq!(
                    (file, *l, r.as_str()),
                    (&path, Some(line), reason),
                    "{name}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}
