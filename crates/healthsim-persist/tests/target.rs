//! Database names: a file path, or a DuckLake string whose secrets are never shown.

use std::path::Path;

use healthsim_persist::target::{is_object_storage, Target, TargetError};

/// `text` read as a target (the test fails naming it if it is refused).
fn parsed(text: &str) -> Target {
    Target::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// `text` read as a lake.
fn lake(text: &str) -> healthsim_persist::target::LakeTarget {
    parsed(text)
        .lake()
        .cloned()
        .unwrap_or_else(|| panic!("{text}: not read as a lake"))
}

/// `text` read as a target, shown back (secrets hidden).
fn check(text: &str, shown: &str) {
    assert_eq!(parsed(text).to_string(), shown, "{text}");
}

fn refused(text: &str) -> TargetError {
    Target::parse(text).expect_err(text)
}

#[test]
fn a_name_without_the_lake_prefix_is_a_file_path() {
    check("/tmp/h.duckdb", "/tmp/h.duckdb");
    check("relative/h.duckdb", "relative/h.duckdb");
    check("ducklake.duckdb", "ducklake.duckdb");
    assert_eq!(parsed("x.duckdb").file(), Some(Path::new("x.duckdb")));
}

#[test]
fn a_lake_string_is_read_as_libpq_words_plus_the_data_path() {
    check(
        "ducklake:postgres:dbname=lake host=127.0.0.1 port=5433 user=postgres data_path=/srv/lake/",
        "ducklake:postgres:dbname=lake host=127.0.0.1 port=5433 user=postgres data_path=/srv/lake/",
    );
    check(
        "ducklake:postgres:  dbname = lake   host=h  ",
        "ducklake:postgres:dbname=lake host=h",
    );
    check(
        "ducklake:postgres:dbname='my lake' data_path='/mnt/shared lake/'",
        "ducklake:postgres:dbname='my lake' data_path='/mnt/shared lake/'",
    );
    check(
        r"ducklake:postgres:dbname='it\'s' host=h",
        r"ducklake:postgres:dbname='it\'s' host=h",
    );
    check(
        "ducklake:postgres:service=team",
        "ducklake:postgres:service=team",
    );
}

#[test]
fn the_driver_gets_every_word_but_the_data_path() {
    let given =
        lake("ducklake:postgres:dbname='my lake' password=s3cret data_path=/srv/lake host=h");
    assert_eq!(given.conninfo(), "dbname='my lake' password=s3cret host=h");
    assert_eq!(given.conninfo_without_password(), "dbname='my lake' host=h");
    assert_eq!(given.password(), Some("s3cret"));
    assert_eq!(given.data_path(), Some(Path::new("/srv/lake")));
    assert_eq!(lake("ducklake:postgres:dbname=lake").data_path(), None);
}

#[test]
fn a_password_is_never_shown_and_is_removed_from_messages() {
    let target = parsed("ducklake:postgres:dbname=lake password=s3cret sslpassword=k3y");
    check(
        "ducklake:postgres:dbname=lake password=s3cret sslpassword=k3y",
        "ducklake:postgres:dbname=lake password=*** sslpassword=***",
    );
    assert!(!format!("{target:?}").contains("s3cret"));
    let lake = lake("ducklake:postgres:dbname=lake password=s3cret sslpassword=k3y");
    assert_eq!(
        lake.redact("connection to dbname=lake password=s3cret failed (k3y)"),
        "connection to dbname=lake password=*** failed (***)"
    );
}

#[test]
fn another_catalog_kind_is_refused_by_name() {
    assert_eq!(
        refused("ducklake:sqlite:/tmp/meta.sqlite"),
        TargetError::UnsupportedCatalog {
            given: "sqlite".into()
        }
    );
    assert_eq!(
        refused("ducklake:meta.ducklake"),
        TargetError::UnsupportedCatalog {
            given: "meta.ducklake".into()
        }
    );
}

#[test]
fn an_empty_or_uri_connection_is_refused() {
    assert_eq!(refused("ducklake:postgres:"), TargetError::EmptyConnection);
    assert_eq!(
        refused("ducklake:postgres:   "),
        TargetError::EmptyConnection
    );
    assert_eq!(
        refused("ducklake:postgres:data_path=/srv/lake"),
        TargetError::EmptyConnection
    );
    assert_eq!(
        refused("ducklake:postgres:postgresql://u:p@h/db"),
        TargetError::UriForm
    );
}

#[test]
fn a_malformed_word_is_refused_without_showing_a_value() {
    assert_eq!(
        refused("ducklake:postgres:dbname=lake host"),
        TargetError::Malformed {
            at: "host".into(),
            reason: "expected key=value"
        }
    );
    assert_eq!(
        refused("ducklake:postgres:password='open"),
        TargetError::Malformed {
            at: "password".into(),
            reason: "a quoted value is not closed"
        }
    );
    assert_eq!(
        refused("ducklake:postgres:=x"),
        TargetError::Malformed {
            at: "=".into(),
            reason: "a value without a key"
        }
    );
}

#[test]
fn the_data_path_must_be_an_absolute_folder() {
    assert_eq!(
        refused("ducklake:postgres:dbname=l data_path=lake/"),
        TargetError::RelativeDataPath {
            given: "lake/".into()
        }
    );
    assert_eq!(
        refused("ducklake:postgres:dbname=l data_path=''"),
        TargetError::RelativeDataPath { given: "".into() }
    );
}

#[test]
fn the_data_path_may_be_s3_with_a_bucket_and_no_other_storage() {
    let lake = Target::parse("ducklake:postgres:dbname=l data_path=s3://bucket/lake/")
        .expect("an S3 lake");
    let data = lake
        .lake()
        .and_then(|l| l.data_path())
        .expect("its data path");
    assert_eq!(data, Path::new("s3://bucket/lake/"));
    assert!(is_object_storage(data));
    assert!(!is_object_storage(Path::new("/srv/s3://lake/")));
    assert_eq!(
        refused("ducklake:postgres:dbname=l data_path=s3:///lake/"),
        TargetError::NoBucket {
            given: "s3:///lake/".into()
        }
    );
    assert_eq!(
        refused("ducklake:postgres:dbname=l data_path=s3://"),
        TargetError::NoBucket {
            given: "s3://".into()
        }
    );
    for other in [
        "gs://bucket/lake/",
        "az://c/lake/",
        "https://host/lake/",
        "S3://b/l/",
    ] {
        assert_eq!(
            refused(&format!("ducklake:postgres:dbname=l data_path={other}")),
            TargetError::UnsupportedStorage {
                given: other.into()
            },
            "{other}"
        );
    }
}
