//! Lets an installed `healthsim` find the DuckDB library it links, wherever the binary is put.
//!
//! The workspace's rpath (`.cargo/config.toml`) reaches `target/duckdb` only from inside
//! `target/`. For the `healthsim` binary this adds, in this order:
//! - `$ORIGIN/../lib` (`@loader_path/../lib` on macOS): the layout of
//!   `cargo xtask install --prefix DIR`, `DIR/bin/healthsim` next to `DIR/lib/`, which can be
//!   moved or copied as a whole;
//! - the absolute folder that really holds the library `DUCKDB_LIB_DIR` points at (after
//!   following `target/duckdb`'s link into the per-user store of `cargo xtask setup`), so a
//!   binary copied to any bin folder or installed with `cargo install --path` starts too, for as
//!   long as that folder exists on this machine.
//!
//! Nothing is added when DuckDB is compiled from source (no `DUCKDB_LIB_DIR` library), or on
//! Windows, which has no rpath (`cargo xtask install` puts the DLL next to the binary there).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let (origin, library) = match os.as_str() {
        "linux" => ("$ORIGIN", "libduckdb.so"),
        "macos" => ("@loader_path", "libduckdb.dylib"),
        _ => return,
    };
    let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") else {
        return;
    };
    let linked = Path::new(&dir).join(library);
    println!("cargo:rerun-if-changed={}", linked.display());
    let Some(real_dir) = std::fs::canonicalize(&linked)
        .ok()
        .and_then(|real| real.parent().map(Path::to_path_buf))
    else {
        return;
    };
    let Some(real_dir) = real_dir.to_str().filter(|d| !d.contains([':', ','])) else {
        println!(
            "cargo:warning=the DuckDB folder {} cannot be an rpath entry; an installed healthsim \
             will need `cargo xtask install`",
            real_dir.display()
        );
        return;
    };
    if os == "linux" {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{origin}/../lib:{real_dir}");
    } else {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{origin}/../lib");
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{real_dir}");
    }
}
