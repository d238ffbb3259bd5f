//! The prebuilt DuckDB library: `cargo xtask setup` fetches the one for the build platform, and
//! `cargo xtask install --prefix DIR` lays out `DIR/bin/healthsim` with it in `DIR/lib`.
//!
//! Why it is kept where it is: the verified library lives in a per-user folder outside the
//! checkout (`$XDG_DATA_HOME` or `~/.local/share`, then `healthsim/duckdb/<package version>-<
//! platform>/`), and `target/duckdb/<library>` is a link to it for the linker
//! (`DUCKDB_LIB_DIR`). healthsim-cli's build script gives the `healthsim` binary an absolute
//! rpath to that folder, so a binary copied anywhere or installed with `cargo install --path`
//! still starts after `cargo clean` or after the checkout is moved or deleted; the folder is
//! versioned, so a later DuckDB does not pull the library from under an older binary. Where no
//! such folder can be made (no home), the library stays in `target/duckdb` itself. The signed
//! DuckLake and PostgreSQL extensions for the same version go into `extensions/` of that folder
//! (`extensions.rs`).
//!
//! Each platform's library comes from the npm package of DuckDB's own Node bindings for that
//! platform, all at one version, and is refused unless its SHA-256 is the pinned one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{output, root, run, sha256_file};

/// The DuckDB release every platform links (npm version of the Node bindings packages).
pub(crate) const DUCKDB_VERSION: &str = "1.5.5";
const NPM_VERSION: &str = "1.5.5-r.5";

/// One platform's prebuilt library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Platform {
    /// Rust's names for the platform (`std::env::consts::OS`, `ARCH`).
    pub(crate) os: &'static str,
    pub(crate) arch: &'static str,
    /// The npm package that ships the library (at [`NPM_VERSION`]).
    pub(crate) npm_package: &'static str,
    /// The library's file name in the package, and as installed.
    pub(crate) library: &'static str,
    /// SHA-256 of that file at [`NPM_VERSION`].
    pub(crate) sha256: &'static str,
    /// Whether CI builds and tests on it; the others are fetched and verified the same way but
    /// never linked or run here.
    pub(crate) tested: bool,
}

/// Every platform with a prebuilt library. The digests were computed from `npm pack` of each
/// package at [`NPM_VERSION`] (both macOS packages ship the same universal library).
pub(crate) const PLATFORMS: &[Platform] = &[
    Platform {
        os: "linux",
        arch: "x86_64",
        npm_package: "@duckdb/node-bindings-linux-x64",
        library: "libduckdb.so",
        sha256: "fc23f12e376c47be520f75221288281906e7942e8fd6f6ce4849198ba60d0405",
        tested: true,
    },
    Platform {
        os: "linux",
        arch: "aarch64",
        npm_package: "@duckdb/node-bindings-linux-arm64",
        library: "libduckdb.so",
        sha256: "d00d007f3f7ca1f2896a5e4b89c2ce141bf0508506a9d6d56f9598b8e59d074e",
        tested: false,
    },
    Platform {
        os: "macos",
        arch: "x86_64",
        npm_package: "@duckdb/node-bindings-darwin-x64",
        library: "libduckdb.dylib",
        sha256: "b9027d18ef3e8d960568f77e946a83ca68009cb22d71cf7f94de842afdd094d8",
        tested: false,
    },
    Platform {
        os: "macos",
        arch: "aarch64",
        npm_package: "@duckdb/node-bindings-darwin-arm64",
        library: "libduckdb.dylib",
        sha256: "b9027d18ef3e8d960568f77e946a83ca68009cb22d71cf7f94de842afdd094d8",
        tested: false,
    },
    Platform {
        os: "windows",
        arch: "x86_64",
        npm_package: "@duckdb/node-bindings-win32-x64",
        library: "duckdb.dll",
        sha256: "2b7468a4ad844429e6af2fde0b5f91893e8130a5686a88f11442ab547c7ede46",
        tested: false,
    },
];

/// The platform entry for `os`-`arch`, or an error that names the supported ones and the way
/// out (compiling DuckDB from source).
pub(crate) fn platform(os: &str, arch: &str) -> Result<&'static Platform> {
    PLATFORMS
        .iter()
        .find(|p| p.os == os && p.arch == arch)
        .ok_or_else(|| {
            let supported: Vec<String> = PLATFORMS
                .iter()
                .map(|p| format!("{}-{}", p.os, p.arch))
                .collect();
            anyhow::anyhow!(
                "no prebuilt DuckDB library for {os}-{arch} (prebuilt: {}); build DuckDB from \
                 source instead with --features healthsim-schema/bundled",
                supported.join(", ")
            )
        })
}

/// The platform this xtask runs on, which is the one it builds for.
pub(crate) fn build_platform() -> Result<&'static Platform> {
    platform(std::env::consts::OS, std::env::consts::ARCH)
}

impl Platform {
    /// `package@version`, what `npm pack` fetches.
    fn npm_spec(&self) -> String {
        format!("{}@{NPM_VERSION}", self.npm_package)
    }

    /// The per-user folder that keeps this platform's verified library, if there is a home.
    fn store(&self) -> Option<PathBuf> {
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .filter(|d| Path::new(d).is_absolute())
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".local").join("share")))?;
        Some(
            data_home
                .join("healthsim")
                .join("duckdb")
                .join(format!("{NPM_VERSION}-{}-{}", self.os, self.arch)),
        )
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
}

/// Whether `path` is a file whose SHA-256 is `sha256`.
fn verified(path: &Path, sha256: &str) -> bool {
    path.is_file() && sha256_file(path).is_ok_and(|got| got == sha256)
}

/// `cargo xtask setup`: the build platform's library, verified, kept in the per-user store and
/// linked from `target/duckdb` (see the module documentation). Returns the library's path in
/// `target/duckdb`.
pub(crate) fn setup() -> Result<PathBuf> {
    let platform = build_platform()?;
    if !platform.tested {
        eprintln!(
            "xtask: note: {}-{} gets DuckDB's verified library, but CI builds and tests only on \
             linux-x86_64; report what fails",
            platform.os, platform.arch
        );
    }
    let target_dir = root().join("target").join("duckdb");
    std::fs::create_dir_all(&target_dir)?;
    let linked = target_dir.join(platform.library);
    let store = platform.store().and_then(|store| {
        std::fs::create_dir_all(&store)
            .map_err(|e| {
                eprintln!(
                    "xtask: cannot create {} ({e}); keeping DuckDB in {} only: an installed \
                     healthsim then needs this checkout's target/",
                    store.display(),
                    target_dir.display()
                )
            })
            .ok()
            .map(|()| store)
    });
    let home = store.clone().unwrap_or_else(|| target_dir.clone());
    let kept = home.join(platform.library);
    if !verified(&kept, platform.sha256) {
        // A verified copy already in target/duckdb (an earlier setup) saves the download.
        let earlier = std::fs::symlink_metadata(&linked).is_ok_and(|m| m.is_file())
            && verified(&linked, platform.sha256);
        if earlier && kept != linked {
            std::fs::copy(&linked, &kept)
                .with_context(|| format!("copying {} to {}", linked.display(), kept.display()))?;
        } else if !earlier {
            download(platform, &home)?;
        }
    }
    if kept != linked {
        replace_with_link(&kept, &linked)?;
    }
    if !verified(&linked, platform.sha256) {
        bail!("{} does not hold the verified library", linked.display());
    }
    link_into_deps_dirs(&linked)?;
    eprintln!(
        "xtask: DuckDB {DUCKDB_VERSION} for {}-{} at {}{}",
        platform.os,
        platform.arch,
        kept.display(),
        if kept == linked {
            String::new()
        } else {
            format!(" (linked from {})", linked.display())
        }
    );
    crate::extensions::setup(platform, &home, &target_dir.join("extensions"))?;
    Ok(linked)
}

/// Fetches `platform`'s package with `npm pack` into `dir`, checks the library's digest and
/// moves it into `dir`.
fn download(platform: &Platform, dir: &Path) -> Result<()> {
    let spec = platform.npm_spec();
    let download = dir.join("download");
    if download.exists() {
        std::fs::remove_dir_all(&download)?;
    }
    std::fs::create_dir_all(&download)?;
    let tarball = output(
        &format!("npm pack {spec}"),
        Command::new("npm")
            .args(["pack", &spec, "--silent", "--pack-destination"])
            .arg(&download),
    )
    .context(
        "fetching the prebuilt DuckDB needs npm (Debian: apt-get install npm); or build with \
         --features healthsim-schema/bundled",
    )?;
    let tarball = download.join(tarball.trim());
    let member = format!("package/{}", platform.library);
    run(
        &format!("unpacking {}", platform.library),
        // `-m`: the file gets the time of unpacking, not the package's fixed 1985 date, so the
        // build scripts that watch the linked library (`rerun-if-changed`) notice a new version.
        Command::new("tar")
            .arg("-xmzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&download)
            .arg(&member),
    )?;
    let unpacked = download.join(&member);
    let got = sha256_file(&unpacked)?;
    if got != platform.sha256 {
        bail!(
            "{} from {spec} has sha256 {got}, expected {}; refusing to use it",
            platform.library,
            platform.sha256
        );
    }
    std::fs::rename(&unpacked, dir.join(platform.library))?;
    std::fs::remove_dir_all(&download)?;
    Ok(())
}

/// Makes `link` point at `target` (a symbolic link; a copy where there are none). A link that
/// already points there is left alone, and a new one replaces the old by a rename, so a test
/// binary that starts meanwhile (tests run while `cargo xtask install` runs setup) always finds
/// the library.
pub(crate) fn replace_with_link(target: &Path, link: &Path) -> Result<()> {
    if std::fs::read_link(link).is_ok_and(|current| current == target) {
        return Ok(());
    }
    if std::fs::symlink_metadata(link).is_ok_and(|m| m.is_dir()) {
        // A real folder where the link belongs (kept there by a setup without a per-user
        // store); the store now holds the verified files.
        std::fs::remove_dir_all(link).with_context(|| format!("replacing {}", link.display()))?;
    }
    let name = link.file_name().context("a link path has no file name")?;
    let temporary = link.with_file_name(format!(".{}.linking", name.to_string_lossy()));
    if std::fs::symlink_metadata(&temporary).is_ok() {
        std::fs::remove_file(&temporary)?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &temporary)
        .with_context(|| format!("linking {} to {}", temporary.display(), target.display()))?;
    #[cfg(not(unix))]
    if target.is_dir() {
        // No links here: the folder is used where it is (healthsim-schema's build script
        // resolves it from the library's real folder, not through target/duckdb).
        return Ok(());
    }
    #[cfg(not(unix))]
    std::fs::copy(target, &temporary)
        .with_context(|| format!("copying {} to {}", target.display(), temporary.display()))?;
    std::fs::rename(&temporary, link).with_context(|| format!("replacing {}", link.display()))?;
    Ok(())
}

/// Doctests are linked and run from a temporary directory, so the `$ORIGIN` rpath cannot reach
/// `target/duckdb`; cargo does put `target/<profile>/deps` on their library path, so a link
/// there lets them load the library too.
fn link_into_deps_dirs(library: &Path) -> Result<()> {
    let name = library
        .file_name()
        .context("the library has no file name")?;
    for profile in ["debug", "release"] {
        let deps = root().join("target").join(profile).join("deps");
        std::fs::create_dir_all(&deps)?;
        replace_with_link(library, &deps.join(name))?;
    }
    Ok(())
}

/// `cargo xtask install --prefix DIR [--binary FILE]`: `DIR/bin/healthsim` and the library in
/// `DIR/lib` (next to the binary on Windows, where DLLs are looked up). The binary finds it
/// through its `$ORIGIN/../lib` rpath, so the prefix can be moved or copied as a whole.
/// Without `--binary`, the release binary is built first; with it, that binary is installed
/// (tests reuse the one they built).
pub(crate) fn install(args: &[String]) -> Result<()> {
    let usage = "usage: cargo xtask install --prefix DIR [--binary FILE]";
    let mut prefix = None;
    let mut binary = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = rest
            .next()
            .with_context(|| format!("{arg} needs a value; {usage}"))?;
        match arg.as_str() {
            "--prefix" => prefix = Some(PathBuf::from(value)),
            "--binary" => binary = Some(PathBuf::from(value)),
            other => bail!("unknown option {other}; {usage}"),
        }
    }
    let prefix = prefix.with_context(|| format!("--prefix is required; {usage}"))?;
    if prefix.as_os_str().is_empty() {
        bail!("--prefix is empty; {usage}");
    }
    let platform = build_platform()?;
    let library = setup()?;
    let binary = match binary {
        Some(binary) => {
            if !binary.is_file() {
                bail!("--binary {} is not a file", binary.display());
            }
            binary
        }
        None => {
            run(
                "cargo build --release -p healthsim-cli",
                crate::cargo().args(["build", "--release", "-p", "healthsim-cli"]),
            )?;
            root()
                .join("target")
                .join("release")
                .join(format!("healthsim{}", std::env::consts::EXE_SUFFIX))
        }
    };
    let layout = Layout::new(&prefix, platform);
    layout.write(&binary, &library, platform)?;
    eprintln!(
        "xtask: installed {} and {}\n\
         xtask: put {} on your PATH, or give Claude Desktop / Claude Code the absolute path \
         {} with the argument mcp",
        layout.binary.display(),
        layout.library.display(),
        layout.bin_dir.display(),
        layout.binary.display()
    );
    Ok(())
}

/// Where an install under a prefix puts things.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) bin_dir: PathBuf,
    pub(crate) binary: PathBuf,
    pub(crate) library: PathBuf,
}

impl Layout {
    pub(crate) fn new(prefix: &Path, platform: &Platform) -> Layout {
        let bin_dir = prefix.join("bin");
        let lib_dir = if platform.os == "windows" {
            bin_dir.clone()
        } else {
            prefix.join("lib")
        };
        Layout {
            binary: bin_dir.join(format!(
                "healthsim{}",
                if platform.os == "windows" { ".exe" } else { "" }
            )),
            library: lib_dir.join(platform.library),
            bin_dir,
        }
    }

    /// Copies the binary and the (verified) library into place, each under a temporary name
    /// first, so an interrupted install does not leave a half-written file under the real name.
    fn write(&self, binary: &Path, library: &Path, platform: &Platform) -> Result<()> {
        for (from, to) in [(library, &self.library), (binary, &self.binary)] {
            let dir = to.parent().context("an install path has no folder")?;
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let name = to.file_name().context("an install path has no file name")?;
            let temporary = dir.join(format!(".{}.installing", name.to_string_lossy()));
            std::fs::copy(from, &temporary).with_context(|| {
                format!("copying {} to {}", from.display(), temporary.display())
            })?;
            std::fs::rename(&temporary, to)
                .with_context(|| format!("moving {} into place", to.display()))?;
        }
        if !verified(&self.library, platform.sha256) {
            bail!(
                "{} is not the verified library after copying",
                self.library.display()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(os: &str, arch: &str, package: &str, library: &str) {
        let p = platform(os, arch).unwrap_or_else(|e| panic!("{os}-{arch}: {e}"));
        assert_eq!(
            (p.npm_package, p.library),
            (package, library),
            "{os}-{arch}"
        );
        assert_eq!(p.npm_spec(), format!("{package}@1.5.5-r.5"));
        assert_eq!(p.sha256.len(), 64, "{os}-{arch}: a SHA-256 in hex");
        assert!(
            p.sha256
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{os}-{arch}: lowercase hex"
        );
    }

    #[test]
    fn each_platform_has_its_package_library_and_digest() {
        check(
            "linux",
            "x86_64",
            "@duckdb/node-bindings-linux-x64",
            "libduckdb.so",
        );
        check(
            "linux",
            "aarch64",
            "@duckdb/node-bindings-linux-arm64",
            "libduckdb.so",
        );
        check(
            "macos",
            "x86_64",
            "@duckdb/node-bindings-darwin-x64",
            "libduckdb.dylib",
        );
        check(
            "macos",
            "aarch64",
            "@duckdb/node-bindings-darwin-arm64",
            "libduckdb.dylib",
        );
        check(
            "windows",
            "x86_64",
            "@duckdb/node-bindings-win32-x64",
            "duckdb.dll",
        );
        assert_eq!(PLATFORMS.len(), 5, "a new platform gets a check line above");
        // The linux-x64 digest is the one the project has linked and tested all along.
        assert_eq!(
            platform("linux", "x86_64")
                .map(|p| (p.sha256, p.tested))
                .ok(),
            Some((
                "fc23f12e376c47be520f75221288281906e7942e8fd6f6ce4849198ba60d0405",
                true
            ))
        );
        assert!(
            PLATFORMS.iter().filter(|p| p.tested).count() == 1,
            "only linux-x86_64 is built and tested here"
        );
    }

    #[test]
    fn an_unsupported_platform_is_refused_with_the_way_out() {
        for (os, arch) in [
            ("freebsd", "x86_64"),
            ("linux", "riscv64"),
            ("windows", "aarch64"),
        ] {
            let message = match platform(os, arch) {
                Ok(p) => panic!("{os}-{arch} has a prebuilt library: {}", p.npm_package),
                Err(e) => e.to_string(),
            };
            assert!(
                message.contains(&format!("no prebuilt DuckDB library for {os}-{arch}")),
                "{message}"
            );
            assert!(message.contains("linux-x86_64, linux-aarch64"), "{message}");
            assert!(message.contains("healthsim-schema/bundled"), "{message}");
        }
    }

    #[test]
    fn an_install_lays_out_bin_and_lib() {
        let linux = platform("linux", "x86_64").expect("linux");
        assert_eq!(
            Layout::new(Path::new("/opt/hs"), linux),
            Layout {
                bin_dir: PathBuf::from("/opt/hs/bin"),
                binary: PathBuf::from("/opt/hs/bin/healthsim"),
                library: PathBuf::from("/opt/hs/lib/libduckdb.so"),
            }
        );
        let mac = platform("macos", "aarch64").expect("macos");
        assert_eq!(
            Layout::new(Path::new("/opt/hs"), mac).library,
            PathBuf::from("/opt/hs/lib/libduckdb.dylib")
        );
        let windows = platform("windows", "x86_64").expect("windows");
        let layout = Layout::new(Path::new("/opt/hs"), windows);
        assert_eq!(layout.binary, PathBuf::from("/opt/hs/bin/healthsim.exe"));
        assert_eq!(layout.library, PathBuf::from("/opt/hs/bin/duckdb.dll"));
    }
}
