//! S3 access of a lake's data: what `S3Access` reads from the environment, the secret DuckDB
//! gets, and the sentences that say what is missing. (A lake on a real S3-compatible server is
//! tested end to end in healthsim-cli's `lake_s3.rs`.)

use std::collections::HashMap;
use std::path::Path;

use healthsim_persist::s3::S3Access;

/// `S3Access` of the variables `vars` (`NAME=value` words), as the environment would give them.
fn access(vars: &[&str]) -> Result<S3Access, String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|v| {
            let (k, v) = v.split_once('=').expect("NAME=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    S3Access::from_vars(|name| vars.get(name).cloned())
}

/// The secret statement of `vars` for data under `s3://lake/data/`.
fn statement(vars: &[&str]) -> String {
    access(vars)
        .unwrap_or_else(|e| panic!("{e}"))
        .secret_statement(Path::new("s3://lake/data/"))
}

const KEYS: [&str; 2] = ["AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=s3cr'et"];

#[test]
fn credentials_alone_give_a_secret_for_aws_in_its_default_region_scoped_to_the_data() {
    assert_eq!(
        statement(&KEYS),
        "CREATE OR REPLACE TEMPORARY SECRET healthsim_lake_s3 (TYPE s3, KEY_ID 'AKID', \
         SECRET 's3cr''et', REGION 'us-east-1', SCOPE 's3://lake/data/')"
    );
}

#[test]
fn a_session_token_region_and_endpoint_are_passed_on_and_a_custom_endpoint_is_path_style() {
    let vars = [
        KEYS[0],
        KEYS[1],
        "AWS_SESSION_TOKEN=tok",
        "AWS_REGION=eu-west-1",
        "AWS_ENDPOINT_URL=https://minio.internal:9000/",
    ];
    assert_eq!(
        statement(&vars),
        "CREATE OR REPLACE TEMPORARY SECRET healthsim_lake_s3 (TYPE s3, KEY_ID 'AKID', \
         SECRET 's3cr''et', REGION 'eu-west-1', SCOPE 's3://lake/data/', SESSION_TOKEN 'tok', \
         ENDPOINT 'minio.internal:9000', USE_SSL true, URL_STYLE 'path')"
    );
}

#[test]
fn the_s3_specific_variables_win_over_the_general_ones_and_empty_values_count_as_unset() {
    let check = |vars: &[&str], wanted: &str| {
        let all: Vec<&str> = KEYS.iter().chain(vars).copied().collect();
        let got = statement(&all);
        assert!(got.contains(wanted), "{vars:?}: {got}");
    };
    check(&["AWS_DEFAULT_REGION=ap-south-1"], "REGION 'ap-south-1'");
    check(
        &["AWS_DEFAULT_REGION=ap-south-1", "AWS_REGION=eu-north-1"],
        "REGION 'eu-north-1'",
    );
    check(
        &["AWS_REGION=", "AWS_DEFAULT_REGION=ap-south-1"],
        "REGION 'ap-south-1'",
    );
    check(
        &[
            "AWS_ENDPOINT_URL=http://general:1",
            "AWS_ENDPOINT_URL_S3=http://s3only:2",
        ],
        "ENDPOINT 's3only:2', USE_SSL false",
    );
    check(
        &["AWS_ENDPOINT_URL_S3=", "AWS_ENDPOINT_URL=http://general:1"],
        "ENDPOINT 'general:1', USE_SSL false",
    );
}

#[test]
fn missing_credentials_are_named() {
    let check = |vars: &[&str], missing: &str| {
        let error = access(vars).expect_err("refused");
        assert!(
            error.starts_with(&format!("{missing} not set: ")),
            "{vars:?}: {error}"
        );
    };
    check(&[], "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    check(&[KEYS[1]], "AWS_ACCESS_KEY_ID");
    check(&[KEYS[0]], "AWS_SECRET_ACCESS_KEY");
    check(&["AWS_ACCESS_KEY_ID=", KEYS[1]], "AWS_ACCESS_KEY_ID");
}

#[test]
fn an_endpoint_that_is_not_an_http_url_with_a_host_is_refused() {
    for bad in [
        "minio:9000",
        "ftp://minio:9000",
        "http://",
        "https:///bucket",
    ] {
        let vars = [KEYS[0], KEYS[1], &format!("AWS_ENDPOINT_URL={bad}")];
        let error = access(&vars).expect_err("refused");
        assert_eq!(
            error,
            format!(
                "the S3 endpoint {bad:?} (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) is not an \
                 http:// or https:// URL with a host"
            )
        );
    }
}

#[test]
fn the_secret_values_are_listed_for_redaction_and_never_debug_printed() {
    let access = access(&[KEYS[0], KEYS[1], "AWS_SESSION_TOKEN=tok"]).expect("access");
    assert_eq!(access.secrets(), ["s3cr'et", "tok"]);
    let shown = format!("{access:?}");
    assert_eq!(shown, "S3Access(region us-east-1)");
}
