//! Fails early, with instructions, when the prebuilt DuckDB library is missing.
//! Without this the build dies much later with an opaque `cannot find -lduckdb` from the linker.
//!
//! It also tells the `extensions` module where `cargo xtask setup` keeps the DuckLake and
//! PostgreSQL extensions of the DuckDB this build links: `extensions/` in the folder that really
//! holds the library `DUCKDB_LIB_DIR` points at (after following `target/duckdb`'s link into the
//! versioned per-user store), baked in as `HEALTHSIM_SETUP_EXTENSION_DIR`. Resolving the link
//! here, the way healthsim-cli's build script resolves the library's rpath, ties the extensions
//! to the exact library version linked: a later DuckDB gets a folder of its own.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_BUNDLED").is_some() {
        return; // compiled from source: no setup folder, `HEALTHSIM_EXTENSION_DIR` names one
    }
    let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") else {
        return; // libduckdb-sys then looks in the system library paths
    };
    let library = match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("macos") => "libduckdb.dylib",
        Ok("windows") => "duckdb.dll",
        _ => "libduckdb.so",
    };
    let lib = Path::new(&dir).join(library);
    println!("cargo:rerun-if-changed={}", lib.display());
    if !lib.exists() {
        panic!(
            "\n\n{library} not found at {}.\nRun `cargo xtask setup` once (fetches the pinned prebuilt DuckDB 1.5.5), \
             or build with `--features healthsim-schema/bundled` to compile DuckDB from source (slow).\n\n",
            lib.display()
        );
    }
    if let Some(real_dir) = std::fs::canonicalize(&lib)
        .ok()
        .and_then(|real| real.parent().map(Path::to_path_buf))
    {
        println!(
            "cargo:rustc-env=HEALTHSIM_SETUP_EXTENSION_DIR={}",
            real_dir.join("extensions").display()
        );
    }
}
