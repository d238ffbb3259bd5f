//! Fails early, with instructions, when the prebuilt DuckDB library is missing.
//! Without this the build dies much later with an opaque `cannot find -lduckdb` from the linker.

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if std::env::var_os("CARGO_FEATURE_BUNDLED").is_some() {
        return;
    }
    let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") else {
        return; // libduckdb-sys then looks in the system library paths
    };
    let lib = std::path::Path::new(&dir).join("libduckdb.so");
    println!("cargo:rerun-if-changed={}", lib.display());
    if !lib.exists() {
        panic!(
            "\n\nlibduckdb.so not found at {}.\nRun `cargo xtask setup` once (fetches the pinned prebuilt DuckDB 1.5.5), \
             or build with `--features healthsim-schema/bundled` to compile DuckDB from source (slow).\n\n",
            lib.display()
        );
    }
}
