//! The `healthsim` binary on a lake whose data is in S3 object storage, as a user runs it: the
//! credentials in the environment, a throwaway S3-compatible server (healthsim-s3test) and
//! PostgreSQL catalog (healthsim-pgtest). Persist writes Parquet objects under the data path,
//! a query runs in the CLI's worker process (which gets the credentials through its setup, not
//! its environment), maintenance runs, and no output ever shows the secret key — also when the
//! server cannot be reached or a credential is missing.

use std::process::{Command, Output};

use serde_json::Value;

/// The binary with `--db <lake>`, the server's environment and `args`.
fn healthsim(lake: &str, env: &[(&'static str, String)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthsim"))
        .arg("--db")
        .arg(lake)
        .args(args)
        .env_remove("HEALTHSIM_DB")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run healthsim")
}

/// The JSON document of a successful `--json` run; panics with its stderr otherwise.
fn json_of(output: &Output, secret: &str) -> Value {
    let (stdout, stderr) = texts(output);
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{stdout}{stderr}"
    );
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_cli_persists_queries_and_maintains_a_lake_in_s3_and_never_shows_the_secret_key() {
    let server = healthsim_s3test::server();
    let env = server.env();
    let secret = env
        .iter()
        .find(|(k, _)| *k == "AWS_SECRET_ACCESS_KEY")
        .map(|(_, v)| v.clone())
        .expect("the server's secret key");
    let bucket = server.bucket("cli");
    let conninfo = healthsim_pgtest::cluster().database("s3cli");
    let lake = format!("ducklake:postgres:{conninfo} data_path=s3://{bucket}/team/");

    let dir = tempfile::tempdir().expect("temporary directory");
    let input = dir.path().join("patients.jsonl");
    let lines: Vec<String> = (0..1_500)
        .map(|i| {
            format!(
                r#"{{"patient_id":"p{i}","birth_date":"1980-01-0{}","gender":"{}","state":"AZ"}}"#,
                1 + i % 9,
                if i % 3 == 0 { "female" } else { "male" }
            )
        })
        .collect();
    std::fs::write(&input, lines.join("\n")).expect("write the input");
    let path = input.to_str().expect("a UTF-8 path");

    let persisted = json_of(
        &healthsim(
            &lake,
            &env,
            &[
                "--json", "persist", "--type", "patients", "--name", "s3 team", path,
            ],
        ),
        &secret,
    );
    assert_eq!(persisted["counts"]["patients"]["inserted"], 1_500);
    let scenario = persisted["scenario_id"]
        .as_str()
        .expect("the scenario's id")
        .to_string();
    assert!(server
        .keys(&bucket, "team/main/")
        .iter()
        .any(|k| k.ends_with(".parquet")));

    let page = json_of(
        &healthsim(
            &lake,
            &env,
            &[
                "--json",
                "query",
                &scenario,
                "SELECT count(*) AS women FROM patients WHERE gender = 'F'",
            ],
        ),
        &secret,
    );
    assert_eq!(page["results"][0]["women"], 500);

    let maintained = json_of(
        &healthsim(
            &lake,
            &env,
            &["--json", "db", "maintain", "--older-than-minutes", "0"],
        ),
        &secret,
    );
    assert!(maintained.is_object(), "{maintained}");

    // An endpoint where nothing listens: the write fails, naming no secret.
    let closed: Vec<(&'static str, String)> = env
        .iter()
        .map(|(k, v)| match *k {
            "AWS_ENDPOINT_URL" => (*k, "http://127.0.0.1:1".to_string()),
            _ => (*k, v.clone()),
        })
        .collect();
    let failed = healthsim(
        &lake,
        &closed,
        &[
            "persist",
            "--type",
            "patients",
            "--scenario",
            &scenario,
            path,
        ],
    );
    let (stdout, stderr) = texts(&failed);
    assert!(!failed.status.success(), "{stdout}");
    assert!(stderr.contains("http://127.0.0.1:1/"), "{stderr}");
    assert!(
        !stdout.contains(&secret) && !stderr.contains(&secret),
        "{stderr}"
    );

    // No secret key at all: the message names the variable.
    let missing: Vec<(&'static str, String)> = env
        .iter()
        .filter(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY")
        .cloned()
        .collect();
    let mut command = Command::new(env!("CARGO_BIN_EXE_healthsim"));
    command
        .args(["--db", &lake, "list"])
        .env_remove("HEALTHSIM_DB")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .envs(missing.iter().map(|(k, v)| (*k, v.as_str())));
    let refused = command.output().expect("run healthsim");
    let (_, stderr) = texts(&refused);
    assert!(!refused.status.success());
    assert!(stderr.contains("AWS_SECRET_ACCESS_KEY not set"), "{stderr}");
}
