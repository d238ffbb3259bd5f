//! DuckDB's DuckLake, PostgreSQL and httpfs extensions: `cargo xtask setup` fetches the build platform's
//! signed binaries, verifies them against pinned digests and keeps them next to the library.
//!
//! Why this exists: the lake backend (scenarios in a DuckLake with a PostgreSQL catalog) loads
//! the `ducklake` and `postgres_scanner` extensions, and `httpfs` when the lake's data is in S3
//! object storage. DuckDB would download them itself on first
//! use, from its own servers, at run time; we want them fetched once, at setup, pinned and
//! verified like the library, and loaded from a local file with nothing downloaded later. The
//! only offline source of DuckDB's official binaries for our version is a set of third-party
//! Python wheels (`duckdb-extension-ducklake`, `-postgres-scanner`, `-httpfs`) that carry
//! them unchanged, with DuckDB's signature, under `extensions/v<version>/`. `pip download`
//! fetches the wheel; the wheel's SHA-256 and the extracted file's SHA-256 are both pinned here,
//! and either mismatch is refused. DuckDB checks the signature again when the file is loaded
//! (healthsim-schema's `extensions` module).
//!
//! Where they are kept: `extensions/` inside the versioned per-user folder of the library (see
//! `duckdb.rs`), with `target/duckdb/extensions` a link to it; an extension loads only into the
//! exact DuckDB version it was built for, so it belongs with that version's library. The
//! postgres extension's file is named after its entry point, `postgres_scanner`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::duckdb::{Platform, DUCKDB_VERSION};
use crate::{output, sha256_file};

/// One extension: the Python package that carries it and the file DuckDB loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extension {
    /// The package `pip download` fetches (at [`DUCKDB_VERSION`]).
    pub(crate) package: &'static str,
    /// The file in the wheel's `<module>/extensions/v<version>/` folder, and as kept.
    pub(crate) file: &'static str,
}

pub(crate) const DUCKLAKE: Extension = Extension {
    package: "duckdb-extension-ducklake",
    file: "ducklake.duckdb_extension",
};

pub(crate) const POSTGRES: Extension = Extension {
    package: "duckdb-extension-postgres-scanner",
    file: "postgres_scanner.duckdb_extension",
};

pub(crate) const HTTPFS: Extension = Extension {
    package: "duckdb-extension-httpfs",
    file: "httpfs.duckdb_extension",
};

/// The pinned digests of one extension on one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pinned {
    pub(crate) extension: Extension,
    /// SHA-256 of the wheel `pip download` saves.
    pub(crate) wheel_sha256: &'static str,
    /// SHA-256 of the `.duckdb_extension` file inside it.
    pub(crate) file_sha256: &'static str,
}

/// One platform's wheels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlatformWheels {
    /// Rust's names for the platform, as in [`Platform`].
    pub(crate) os: &'static str,
    pub(crate) arch: &'static str,
    /// The wheel platform tag given to `pip download --platform`.
    pub(crate) wheel_platform: &'static str,
    pub(crate) extensions: [Pinned; 3],
}

/// Every platform with wheels at [`DUCKDB_VERSION`]. The digests were computed from
/// `pip download --no-deps --only-binary=:all: --platform <tag> --python-version 3.11` of the
/// three packages at 1.5.5 and the files unpacked from them. Only linux-x86_64 is loaded and tested
/// here; the others are fetched and verified the same way.
pub(crate) const WHEELS: &[PlatformWheels] = &[
    PlatformWheels {
        os: "linux",
        arch: "x86_64",
        wheel_platform: "manylinux2014_x86_64",
        extensions: [
            Pinned {
                extension: DUCKLAKE,
                wheel_sha256: "b631ae4dd4bd649b3db35a789dbcc859476fe231ef449b3f03f4fe4e2ef4a946",
                file_sha256: "e51bf9e8d933d0e83780ae096455501b542cf962569a2ce5613532d702c08302",
            },
            Pinned {
                extension: POSTGRES,
                wheel_sha256: "fea9413d1b5bded7ead650aff91b3d7578c5149d832f666100b362f64404bf18",
                file_sha256: "b1ced4cfc6311313e117c2afb3eac76508718778dde0716421503c7dbfb5605c",
            },
            Pinned {
                extension: HTTPFS,
                wheel_sha256: "84913dbe172ccb54368de2c4a020c38ca8b0e76f99df548f7fac37934cc7826f",
                file_sha256: "887c392b1e49128d11667c81e3698d8b00dfdeb456771acf66d05a0f74f7b7d8",
            },
        ],
    },
    PlatformWheels {
        os: "linux",
        arch: "aarch64",
        wheel_platform: "manylinux2014_aarch64",
        extensions: [
            Pinned {
                extension: DUCKLAKE,
                wheel_sha256: "cd8280d3a20c744f7e113137a17a053f751b9cc469a9b694c43e1b8539fd30af",
                file_sha256: "d0b57c8e261b89a1ae367c7224f0857cfde72ab6cf2609f188e0de9b897b1088",
            },
            Pinned {
                extension: POSTGRES,
                wheel_sha256: "5b50d53ecb192fca381c79ebd70da43b98fefe28a5781162081777f65efc8268",
                file_sha256: "e2469cce1e855e8c842a1487dd8168cf27904c03baaf1f2c227529403315d819",
            },
            Pinned {
                extension: HTTPFS,
                wheel_sha256: "567d17e398fc29f7ea4bc42ea277ea19643bd1ad1815f676cb6dd994b50399bb",
                file_sha256: "eba6e263e395a83966090f1f11ade63630b1b21422f0f2813858d179d42ea1e9",
            },
        ],
    },
    PlatformWheels {
        os: "macos",
        arch: "x86_64",
        wheel_platform: "macosx_11_0_x86_64",
        extensions: [
            Pinned {
                extension: DUCKLAKE,
                wheel_sha256: "48b089cccf3d609a51e2372dabf85de9dad96ce09f478b0647a2ffd316f495ef",
                file_sha256: "c7baf45b87f19cb3191c228b820857d573761d344c7855570dcc7eb3b8f1ff9e",
            },
            Pinned {
                extension: POSTGRES,
                wheel_sha256: "797acdb64f10280303b66fb56c3537d3a7c82eab7cf6dfb4c71307c81c3e7b0d",
                file_sha256: "0df780444ce04a75c5a4e7b89896eab5cebe1ca21163fc6c267f3365ffe4a3c1",
            },
            Pinned {
                extension: HTTPFS,
                wheel_sha256: "5dc6e48e7a6d4c775d88fcd9b6529b385559600c0cd17a2600addfdd34ae3060",
                file_sha256: "a2f48ae06834c165ae73db71f2320360a4b30e7acf4c87187b2241caa48a990d",
            },
        ],
    },
    PlatformWheels {
        os: "macos",
        arch: "aarch64",
        wheel_platform: "macosx_11_0_arm64",
        extensions: [
            Pinned {
                extension: DUCKLAKE,
                wheel_sha256: "d6a65e39a38bd03270ed54715f5c16f6695954742b74c0c77ed1cfc0eda33f67",
                file_sha256: "1b72fc42164dbf21948e5a912cefc383b24071852f9e70209874ebd0a73b7caa",
            },
            Pinned {
                extension: POSTGRES,
                wheel_sha256: "053b9ee8abf30f1880a244c9396323273ec99cf4d72a658e702cf536848b7e5c",
                file_sha256: "f39dd59bf57679d0242e19e180d90b4222e5cdb691ab67c7506658f3548c0e05",
            },
            Pinned {
                extension: HTTPFS,
                wheel_sha256: "a6d9b245ac83834543354e826020b35b8dba16291bb876b2b00bd49f2c6aeb9d",
                file_sha256: "10514b4ef19f80bf4ec4bf90c124f5d34625f2606263b40ae8ec7979905bb779",
            },
        ],
    },
    PlatformWheels {
        os: "windows",
        arch: "x86_64",
        wheel_platform: "win_amd64",
        extensions: [
            Pinned {
                extension: DUCKLAKE,
                wheel_sha256: "f1722cf7d6fba148cc443a0f9c8bc3b20b0bce44c6c6ae54193784bd15acb0b1",
                file_sha256: "4546a5c6d9bc52cc122bc76e521c996e1ac31e71a25e01c531db8d3bb65e2ef0",
            },
            Pinned {
                extension: POSTGRES,
                wheel_sha256: "41fe1e2600059198300c40a0228b3a179586d197d33872a0849c7edd91426f78",
                file_sha256: "fc026ca03659889080606f0dacfd4e3976479df52660fafc763642e14bb36be2",
            },
            Pinned {
                extension: HTTPFS,
                wheel_sha256: "138fd4368906c04636642023c123bd564d1bd1b9b75cd762f9f9bfad6fccb1ba",
                file_sha256: "65661c40463e74751993e8a7cb7b4c8906be9218319616a0bdfc1b4ae9ffdf9a",
            },
        ],
    },
];

/// The wheels of `platform`, or an error naming the platforms that have them.
pub(crate) fn wheels(platform: &Platform) -> Result<&'static PlatformWheels> {
    WHEELS
        .iter()
        .find(|w| w.os == platform.os && w.arch == platform.arch)
        .ok_or_else(|| {
            let supported: Vec<String> = WHEELS
                .iter()
                .map(|w| format!("{}-{}", w.os, w.arch))
                .collect();
            anyhow::anyhow!(
                "no DuckDB extension wheels for {}-{} (there are: {})",
                platform.os,
                platform.arch,
                supported.join(", ")
            )
        })
}

/// Whether `path` is a file whose SHA-256 is `sha256`.
fn verified(path: &Path, sha256: &str) -> bool {
    path.is_file() && sha256_file(path).is_ok_and(|got| got == sha256)
}

/// `cargo xtask setup`'s extension step: every extension of `platform`, verified, in
/// `store/extensions` (`store` is the library's folder), linked from `linked` (target/duckdb/
/// extensions) when the two differ. Returns the folder that holds them.
pub(crate) fn setup(platform: &Platform, store: &Path, linked: &Path) -> Result<PathBuf> {
    let wheels = wheels(platform)?;
    let dir = store.join("extensions");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for pinned in &wheels.extensions {
        let kept = dir.join(pinned.extension.file);
        if verified(&kept, pinned.file_sha256) {
            eprintln!(
                "xtask: {} {DUCKDB_VERSION} is present and verified at {}",
                pinned.extension.file,
                kept.display()
            );
            continue;
        }
        fetch(wheels.wheel_platform, pinned, &dir)?;
        eprintln!(
            "xtask: fetched and verified {} {DUCKDB_VERSION} ({}) into {}",
            pinned.extension.file,
            pinned.extension.package,
            kept.display()
        );
    }
    if dir != linked {
        crate::duckdb::replace_with_link(&dir, linked)?;
        eprintln!("xtask: {} links to {}", linked.display(), dir.display());
    }
    Ok(dir)
}

/// Fetches `pinned`'s wheel with `pip download` into a scratch folder of `dir`, checks the
/// wheel's and the extension file's digests and moves the file into `dir`.
fn fetch(wheel_platform: &str, pinned: &Pinned, dir: &Path) -> Result<()> {
    let spec = format!("{}=={DUCKDB_VERSION}", pinned.extension.package);
    let scratch = dir.join(format!("download-{}", pinned.extension.package));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    output(
        &format!("pip download {spec} for {wheel_platform}"),
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--platform",
                wheel_platform,
                "--python-version",
                "3.11",
                "-d",
            ])
            .arg(&scratch)
            .arg(&spec),
    )
    .context(
        "fetching DuckDB's extensions needs python3 with pip (Debian: apt-get install \
         python3-pip)",
    )?;
    let installed = only_wheel(&scratch).and_then(|wheel| install_from_wheel(&wheel, pinned, dir));
    // The scratch folder goes either way: a refused download leaves nothing behind.
    std::fs::remove_dir_all(&scratch)?;
    installed
}

/// Checks `wheel`'s digest, unpacks it next to itself, checks the extension file's digest and
/// moves the file into `dir`. Nothing reaches `dir` unless both digests are the pinned ones.
fn install_from_wheel(wheel: &Path, pinned: &Pinned, dir: &Path) -> Result<()> {
    let got = sha256_file(wheel)?;
    if got != pinned.wheel_sha256 {
        bail!(
            "{} ({}=={DUCKDB_VERSION}) has sha256 {got}, expected {}; refusing to use it",
            wheel.display(),
            pinned.extension.package,
            pinned.wheel_sha256
        );
    }
    let unpacked = wheel.with_extension("unpacked");
    crate::run(
        &format!("unpacking {}", pinned.extension.file),
        Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(wheel)
            .arg(&unpacked),
    )?;
    let module = pinned.extension.package.replace('-', "_");
    let member = unpacked
        .join(&module)
        .join("extensions")
        .join(format!("v{DUCKDB_VERSION}"))
        .join(pinned.extension.file);
    if !member.is_file() {
        bail!(
            "{} holds no {module}/extensions/v{DUCKDB_VERSION}/{}",
            wheel.display(),
            pinned.extension.file
        );
    }
    let got = sha256_file(&member)?;
    if got != pinned.file_sha256 {
        bail!(
            "{} in {} has sha256 {got}, expected {}; refusing to use it",
            pinned.extension.file,
            wheel.display(),
            pinned.file_sha256
        );
    }
    std::fs::rename(&member, dir.join(pinned.extension.file))?;
    Ok(())
}

/// The one `.whl` file `pip download` left in `dir`.
fn only_wheel(dir: &Path) -> Result<PathBuf> {
    let wheels: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!(
            "pip download left {} wheels in {}, expected one",
            wheels.len(),
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_sha256(s: &str) -> bool {
        s.len() == 64
            && s.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }

    #[test]
    fn every_platform_with_a_library_has_all_three_extensions_pinned() {
        for platform in crate::duckdb::PLATFORMS {
            let wheels = wheels(platform).unwrap_or_else(|e| panic!("{e}"));
            let files: Vec<&str> = wheels.extensions.iter().map(|p| p.extension.file).collect();
            assert_eq!(
                files,
                [
                    "ducklake.duckdb_extension",
                    "postgres_scanner.duckdb_extension",
                    "httpfs.duckdb_extension"
                ],
                "{}-{}",
                platform.os,
                platform.arch
            );
            for pinned in &wheels.extensions {
                assert!(is_sha256(pinned.wheel_sha256), "{pinned:?}");
                assert!(is_sha256(pinned.file_sha256), "{pinned:?}");
            }
        }
        assert_eq!(WHEELS.len(), crate::duckdb::PLATFORMS.len());
    }

    /// A wheel laid out like the real ones, holding `content` as the ducklake extension.
    fn fake_wheel(dir: &Path, content: &[u8]) -> PathBuf {
        let source = dir.join("source");
        let inner = source
            .join("duckdb_extension_ducklake")
            .join("extensions")
            .join(format!("v{DUCKDB_VERSION}"));
        std::fs::create_dir_all(&inner).expect("mkdir");
        std::fs::write(inner.join("ducklake.duckdb_extension"), content).expect("write");
        let wheel = dir.join("fake.whl");
        crate::run(
            "zipping a fake wheel",
            Command::new("python3")
                .args(["-m", "zipfile", "-c"])
                .arg(&wheel)
                .arg("duckdb_extension_ducklake")
                .current_dir(&source),
        )
        .expect("python3 zipfile");
        wheel
    }

    fn digest(path: &Path) -> &'static str {
        sha256_file(path).expect("sha256").leak()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-ext-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("kept")).expect("mkdir");
        dir
    }

    #[test]
    fn a_wheel_with_the_pinned_digests_lands_in_the_folder() {
        let dir = scratch("good");
        let wheel = fake_wheel(&dir, b"signed extension bytes");
        let content = dir.join("expected");
        std::fs::write(&content, b"signed extension bytes").expect("write");
        let pinned = Pinned {
            extension: DUCKLAKE,
            wheel_sha256: digest(&wheel),
            file_sha256: digest(&content),
        };
        install_from_wheel(&wheel, &pinned, &dir.join("kept")).expect("install");
        assert_eq!(
            std::fs::read(dir.join("kept").join("ducklake.duckdb_extension")).expect("kept"),
            b"signed extension bytes"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_wheel_or_file_with_another_digest_is_refused_and_nothing_lands() {
        let dir = scratch("bad");
        let wheel = fake_wheel(&dir, b"tampered extension bytes");
        let content = dir.join("expected");
        std::fs::write(&content, b"signed extension bytes").expect("write");
        let kept = dir.join("kept");
        let cases = [
            (
                // the wheel itself differs
                Pinned {
                    extension: DUCKLAKE,
                    wheel_sha256: digest(&content),
                    file_sha256: digest(&content),
                },
                format!(
                    "fake.whl ({}=={DUCKDB_VERSION}) has sha256",
                    DUCKLAKE.package
                ),
            ),
            (
                // the wheel is the pinned one, the file inside is not
                Pinned {
                    extension: DUCKLAKE,
                    wheel_sha256: digest(&wheel),
                    file_sha256: digest(&content),
                },
                "ducklake.duckdb_extension in ".to_string(),
            ),
        ];
        for (pinned, expected) in cases {
            let message = match install_from_wheel(&wheel, &pinned, &kept) {
                Ok(()) => panic!("{pinned:?} was accepted"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(&expected), "{message}");
            assert!(message.contains(pinned.file_sha256) || message.contains(pinned.wheel_sha256));
            assert!(message.contains("refusing to use it"), "{message}");
            assert_eq!(
                std::fs::read_dir(&kept).expect("read_dir").count(),
                0,
                "a refused file reached the folder"
            );
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_wheel_without_the_extension_file_is_refused() {
        let dir = scratch("empty");
        let wheel = fake_wheel(&dir, b"x");
        let pinned = Pinned {
            extension: POSTGRES, // the fake wheel holds only the ducklake module
            wheel_sha256: digest(&wheel),
            file_sha256: digest(&wheel),
        };
        let message = match install_from_wheel(&wheel, &pinned, &dir.join("kept")) {
            Ok(()) => panic!("a wheel without the file was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            message.contains(&format!(
                "holds no duckdb_extension_postgres_scanner/extensions/v{DUCKDB_VERSION}/\
                 postgres_scanner.duckdb_extension"
            )),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn no_two_pins_share_a_digest() {
        let mut all: Vec<&str> = WHEELS
            .iter()
            .flat_map(|w| w.extensions.iter())
            .flat_map(|p| [p.wheel_sha256, p.file_sha256])
            .collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "a digest was copied into two places");
    }
}
