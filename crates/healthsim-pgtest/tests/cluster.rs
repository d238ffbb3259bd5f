//! The throwaway server: it starts, hands out distinct databases, and takes connections.

use healthsim_pgtest::{cluster, SERVER_VARIABLE};

#[test]
fn a_cluster_starts_and_answers_on_its_port() {
    let cluster = cluster();
    let conninfo = cluster.database("starts");
    let answer = cluster.psql(&conninfo, "SELECT current_database(), current_user");
    let database = conninfo
        .split_whitespace()
        .find_map(|w| w.strip_prefix("dbname="))
        .expect("dbname in the connection string");
    assert_eq!(answer.trim(), format!("{database}|postgres"));
    if std::env::var_os(SERVER_VARIABLE).is_none() {
        let started = cluster.started().expect("this process started the server");
        assert!(
            conninfo.ends_with(&format!(
                "host=127.0.0.1 port={} user=postgres",
                started.port
            )),
            "{conninfo}"
        );
        assert!(started.root.join("data").join("postmaster.pid").is_file());
    }
}

#[test]
fn two_databases_are_distinct() {
    let cluster = cluster();
    let first = cluster.database("distinct");
    let second = cluster.database("distinct");
    assert_ne!(first, second);
    cluster.psql(
        &first,
        "CREATE TABLE only_here (x int); INSERT INTO only_here VALUES (1)",
    );
    assert_eq!(
        cluster
            .psql(
                &second,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"
            )
            .trim(),
        "0"
    );
    assert_eq!(
        cluster.psql(&first, "SELECT sum(x) FROM only_here").trim(),
        "1"
    );
}

#[test]
fn every_test_of_a_process_shares_one_server() {
    assert!(std::ptr::eq(cluster(), cluster()));
}
