#[test]
fn scratch() {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let sqls = std::fs::read_to_string("/tmp/scratch.sql").unwrap();
    let mut out = String::new();
    for sql in sqls.split("\n====\n") {
        let r: Result<String, _> = conn.query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0));
        let prep = conn.prepare(sql).map(|s| format!("{:?}", "prepared")).map_err(|e| e.to_string());
        out.push_str(&format!("---- {sql}\nprepare: {prep:?}\n{}\n", match r { Ok(s) => s, Err(e) => format!("ERR {e}") }));
    }
    std::fs::write("/tmp/scratch.out", out).unwrap();
}
