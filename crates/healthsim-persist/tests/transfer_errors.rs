//! The text of every clone, merge, export and import error a caller can meet, as one
//! snapshot (DuckDB's own messages left out: they belong to DuckDB).

mod common;

use std::fs;
use std::path::PathBuf;

use common::{patients, persist_new, store, store_state, TestResult};
use healthsim_persist::{
    CloneOptions, Error, ExportFormat, ExportOptions, ImportOptions, MergeOptions,
};

/// One line per case: `case: message`, with the temporary directory redacted. Every refused
/// call must also leave the store's whole database as it was.
struct Messages<'s> {
    lines: Vec<String>,
    dir: String,
    store: &'s healthsim_persist::Store,
    before: common::state::DbState,
}

impl Messages<'_> {
    fn check<T: std::fmt::Debug>(&mut self, case: &str, result: Result<T, Error>) {
        let message = match result {
            Err(e) => e.to_string(),
            Ok(value) => panic!("{case}: expected an error, got {value:?}"),
        };
        let after = store_state(self.store).expect("reading the database state");
        if let Err(changed) = self.before.expect_same(&after, case) {
            panic!("{changed}");
        }
        self.lines
            .push(format!("{case}: {}", message.replace(&self.dir, "<dir>")));
    }
}

#[test]
fn transfer_error_messages() -> TestResult {
    let (dir, store) = store();
    persist_new(&store, "diabetes-cohort", "patients", patients(2));
    persist_new(&store, "asthma-kids", "patients", patients(1));
    let mut m = Messages {
        lines: Vec::new(),
        dir: dir.path().display().to_string(),
        store: &store,
        before: store_state(&store)?,
    };
    let path = |name: &str| dir.path().join(name);

    m.check(
        "merge one source",
        store.merge_scenarios(&["diabetes-cohort"], &MergeOptions::default()),
    );
    m.check(
        "merge a source twice",
        store.merge_scenarios(
            &["diabetes-cohort", "Diabetes-Cohort"],
            &MergeOptions::default(),
        ),
    );
    m.check(
        "clone empty type list",
        store.clone_scenario(
            "asthma-kids",
            &CloneOptions {
                types: Some(Vec::new()),
                ..CloneOptions::default()
            },
        ),
    );

    let export = |out: PathBuf, format: ExportFormat| {
        store.export_scenario(
            "asthma-kids",
            &ExportOptions {
                format,
                out: Some(out),
                ..ExportOptions::default()
            },
        )
    };
    m.check(
        "export ../",
        export(PathBuf::from("../x.json"), ExportFormat::Json),
    );
    m.check(
        "export missing parent",
        export(path("missing/x.json"), ExportFormat::Json),
    );
    m.check(
        "export csv to a folder whose parent is missing",
        export(path("missing/exports"), ExportFormat::Csv),
    );
    fs::write(path("notes.txt"), "x")?;
    m.check(
        "export json to a file without .json",
        export(path("notes.txt"), ExportFormat::Json),
    );
    m.check(
        "export csv to a file",
        export(path("notes.txt"), ExportFormat::Csv),
    );
    export(dir.path().to_path_buf(), ExportFormat::Json)?;
    m.check(
        "export exists",
        export(dir.path().to_path_buf(), ExportFormat::Json),
    );

    let import = |name: &str, content: &str| {
        fs::write(path(name), content).expect("write");
        store.import_scenario(path(name), &ImportOptions::default())
    };
    m.check(
        "import truncated",
        import(
            "cut.json",
            "{\n  \"entities\": {\n    \"patients\": [\n      {\"patient_id\": \"p",
        ),
    );
    m.check(
        "import bad json",
        import("bad.json", "{\"entities\": nope}"),
    );
    m.check("import not an export", import("array.json", "[]"));
    m.check(
        "import no entities",
        import("none.json", "{\"scenario\": {}}"),
    );
    m.check(
        "import other format",
        import("other.json", "{\"format\": \"fhir\", \"entities\": {}}"),
    );
    m.check(
        "import newer version",
        import("newer.json", "{\"format_version\": 9, \"entities\": {}}"),
    );
    m.check(
        "import wrong count",
        import("count.json", "{\"counts\": {\"patients\": 2}, \"entities\": {\"patients\": [{\"patient_id\": \"p\"}]}}"),
    );
    m.check(
        "import bad entity",
        import("entity.json", "{\"entities\": {\"patients\": [{\"patient_id\": \"p\"}, {\"patient_id\": \"q\", \"birthDate\": \"soon\"}]}}"),
    );
    m.check(
        "import entities not a list",
        import("not-list.json", "{\"entities\": {\"patients\": \"p1\"}}"),
    );
    m.check(
        "import entities not an object",
        import(
            "entities-list.json",
            "{\"entities\": [{\"patient_id\": \"p\"}]}",
        ),
    );
    m.check(
        "import one type under two names",
        import(
            "two-names.json",
            "{\"entities\": {\"patients\": [], \"patient\": []}}",
        ),
    );
    m.check(
        "import missing file",
        store.import_scenario(path("absent.json"), &ImportOptions::default()),
    );
    let folder = path("folder");
    fs::create_dir(&folder)?;
    m.check(
        "import empty folder",
        store.import_scenario(&folder, &ImportOptions::default()),
    );
    fs::write(folder.join("patients.csv"), "patient_id,shoe_size\np1,9\n")?;
    m.check(
        "import unknown column",
        store.import_scenario(&folder, &ImportOptions::default()),
    );
    fs::write(folder.join("claim_lines.csv"), "claim_line_id\nl1\n")?;
    fs::write(folder.join("patients.csv"), "patient_id\np1\n")?;
    m.check(
        "import missing required column",
        store.import_scenario(&folder, &ImportOptions::default()),
    );
    fs::write(folder.join("spaceships.csv"), "id\n1\n")?;
    m.check(
        "import unknown file",
        store.import_scenario(&folder, &ImportOptions::default()),
    );

    insta::assert_snapshot!(m.lines.join("\n"));
    Ok(())
}
