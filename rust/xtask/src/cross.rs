//! The platforms WasGo's library is built for, and the cross builds from a Linux x86_64 machine.
//!
//! [`PLATFORMS`] is the one table of every platform `wasgo.gdextension` names: Godot's feature
//! tags of its entries, the Rust target, and the file name in `addons/wasgo/bin/`. The tests below
//! read `wasgo.gdextension` and fail if an entry and the table disagree, so the file names cannot
//! drift from what xtask produces.
//!
//! | platform | how | library in `bin/` |
//! |---|---|---|
//! | Linux x86_64 | the host build ([`crate::cargo_steps::build_extension`]) | `libwasgo.so` |
//! | Linux arm64 | cross, `aarch64-linux-gnu-gcc` (Debian `gcc-aarch64-linux-gnu`) | `libwasgo.arm64.so` |
//! | Windows x86_64 | cross, mingw-w64 (Debian `gcc-mingw-w64-x86-64`) | `wasgo.dll` |
//! | macOS (universal) | not built here (needs the macOS SDK: a Mac or osxcross) | `libwasgo.dylib` |
//!
//! A cross build needs three things for its target: the Rust standard library (`rustup target
//! add`), a C compiler and archiver for the C that build scripts compile (wasmtime's helpers,
//! through the `cc` crate, which reads `CC_<triple>` and `AR_<triple>`), and a linker for the
//! library (`CARGO_TARGET_<TRIPLE>_LINKER`). [`ensure_toolchain`] installs the first two (rustup,
//! Debian packages); [`cross_env`] gives the variables, set on the cargo command only, so a fresh
//! clone needs no `.cargo/config.toml` and a user's own settings are not overridden for other
//! builds.
//!
//! - `cargo xtask test` runs [`start_check`]: `cargo check -p wasgo` for both cross targets in one
//!   cargo run (it compiles every dependency, runs every build script, including the C compiles,
//!   but does not link), in the background at the lowest CPU priority while the other steps run,
//!   since it costs about 1,600 CPU-seconds cold (a full cross build costs far more).
//! - `cargo xtask cross [--release]` runs [`build`]: the libraries, linked, one target after the
//!   other, each copied into `addons/wasgo/bin/` under its name in `wasgo.gdextension`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::cargo_steps::{install, Profile};
use crate::command::{self, cargo};
use crate::{Failure, Repo, Result};

/// How a platform's library comes to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// Built by `cargo build` on this (Linux x86_64) machine, for itself.
    Host,
    /// Cross-compiled here with the GNU tools named `<tool_prefix>-gcc` and `<tool_prefix>-ar`,
    /// which the Debian `packages` install.
    Cross {
        tool_prefix: &'static str,
        packages: &'static [&'static str],
    },
    /// Not built here (the README's "Platforms" says what it needs).
    Elsewhere,
}

/// One platform of `wasgo.gdextension`.
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// What the README and messages call it.
    pub name: &'static str,
    /// Godot's OS feature tag of the entries (`linux`, `windows`, `macos`).
    pub os: &'static str,
    /// Godot's architecture tag, or `None` for an entry without one (macOS's universal library).
    pub arch: Option<&'static str>,
    /// The Rust target triple.
    pub triple: &'static str,
    /// The name in `addons/wasgo/bin/` when it is not cargo's own (two Linux libraries would both
    /// be `libwasgo.so`).
    pub renamed: Option<&'static str>,
    pub build: Build,
}

impl Platform {
    /// The library's file name in `addons/wasgo/bin/`.
    pub fn installed_name(&self) -> String {
        match self.renamed {
            Some(name) => name.to_owned(),
            None => cdylib_file_name(self.triple),
        }
    }

    /// The `[libraries]` key of `wasgo.gdextension` that loads this platform's library built
    /// with `profile` (`linux.debug.arm64`, `macos.release`).
    pub fn gdextension_key(&self, profile: Profile) -> String {
        let build = match profile {
            Profile::Dev => "debug",
            Profile::Release => "release",
        };
        match self.arch {
            Some(arch) => format!("{}.{build}.{arch}", self.os),
            None => format!("{}.{build}", self.os),
        }
    }
}

/// Every platform `wasgo.gdextension` names (see the table at the top of this file).
pub const PLATFORMS: &[Platform] = &[
    Platform {
        name: "Linux x86_64",
        os: "linux",
        arch: Some("x86_64"),
        triple: "x86_64-unknown-linux-gnu",
        renamed: None,
        build: Build::Host,
    },
    Platform {
        name: "Linux arm64",
        os: "linux",
        arch: Some("arm64"),
        triple: "aarch64-unknown-linux-gnu",
        renamed: Some("libwasgo.arm64.so"),
        build: Build::Cross {
            tool_prefix: "aarch64-linux-gnu",
            packages: &["gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"],
        },
    },
    Platform {
        name: "Windows x86_64",
        os: "windows",
        arch: Some("x86_64"),
        triple: "x86_64-pc-windows-gnu",
        renamed: None,
        build: Build::Cross {
            tool_prefix: "x86_64-w64-mingw32",
            packages: &["gcc-mingw-w64-x86-64", "mingw-w64-x86-64-dev"],
        },
    },
    Platform {
        name: "macOS",
        os: "macos",
        arch: None,
        triple: "aarch64-apple-darwin",
        renamed: None,
        build: Build::Elsewhere,
    },
];

/// The platforms cross-compiled here.
pub fn cross_platforms() -> impl Iterator<Item = &'static Platform> {
    PLATFORMS
        .iter()
        .filter(|p| matches!(p.build, Build::Cross { .. }))
}

/// The file cargo makes of the `wasgo` cdylib for `triple`: `wasgo.dll` on Windows,
/// `libwasgo.dylib` on Apple targets, `libwasgo.so` elsewhere.
pub fn cdylib_file_name(triple: &str) -> String {
    if triple.contains("-windows-") {
        "wasgo.dll".into()
    } else if triple.contains("-apple-") {
        "libwasgo.dylib".into()
    } else {
        "libwasgo.so".into()
    }
}

/// The environment a cargo command needs to build for a cross `platform`: the C compiler and
/// archiver for the `cc` crate (`CC_<triple>`, `AR_<triple>`) and the linker
/// (`CARGO_TARGET_<TRIPLE>_LINKER`). Empty for other platforms.
pub fn cross_env(platform: &Platform) -> Vec<(String, String)> {
    let Build::Cross { tool_prefix, .. } = platform.build else {
        return Vec::new();
    };
    let under = platform.triple.replace('-', "_");
    vec![
        (format!("CC_{under}"), format!("{tool_prefix}-gcc")),
        (format!("AR_{under}"), format!("{tool_prefix}-ar")),
        (
            format!("CARGO_TARGET_{}_LINKER", under.to_uppercase()),
            format!("{tool_prefix}-gcc"),
        ),
    ]
}

/// Installs what building for a cross `platform` needs, where missing: the target's standard
/// library (rustup) and the C cross compiler and linker (Debian packages).
pub fn ensure_toolchain(platform: &Platform) -> Result<()> {
    let Build::Cross {
        tool_prefix,
        packages,
    } = platform.build
    else {
        return Ok(());
    };
    crate::cargo_steps::ensure_target(platform.triple)?;
    let gcc = format!("{tool_prefix}-gcc");
    crate::toolchains::ensure_debian_packages(
        packages,
        &format!("building for {} (`{}`)", platform.name, platform.triple),
    )?;
    if crate::command::find_on_path(&gcc).is_none() {
        return Err(Failure::new(
            format!(
                "`{gcc}`, the C compiler and linker for {}, is not on `PATH`",
                platform.name
            ),
            format!(
                "install the Debian packages {} or put `{gcc}` on `PATH`",
                packages.join(" ")
            ),
        ));
    }
    Ok(())
}

/// The cross check of `cargo xtask test`, running beside the test command's other steps (see
/// [`start_check`]).
pub struct RunningCheck {
    child: Child,
    line: String,
    log: PathBuf,
    started: Instant,
}

/// Starts the cross check of `cargo xtask test`: `cargo check -p wasgo --lib` for every cross
/// platform in one cargo run. Their toolchains are installed first, in the foreground (package
/// installs must not race the test command's others). The check itself runs in the background
/// at the lowest CPU priority (`nice -n 19` where `nice` exists), so it takes only the CPU the
/// other steps leave idle (Godot's tests keep theirs: a niced process yields at once), in its
/// own target directory (`target/cross-check`, so it never waits for the lock of the main build
/// directory), with its output in `target/cross-check.log`. [`RunningCheck::finish`] waits for it.
pub fn start_check(repo: &Repo) -> Result<RunningCheck> {
    let cargo_program = cargo().get_program().to_owned();
    let mut cmd = match crate::command::find_on_path("nice") {
        Some(nice) => {
            let mut cmd = Command::new(nice);
            cmd.args(["-n", "19"]).arg(&cargo_program);
            cmd
        }
        None => Command::new(&cargo_program),
    };
    cmd.current_dir(&repo.root)
        .args(["check", "-p", "wasgo", "--lib"])
        .env("CARGO_TARGET_DIR", repo.target_dir().join("cross-check"));
    for platform in cross_platforms() {
        ensure_toolchain(platform)?;
        cmd.args(["--target", platform.triple]);
        cmd.envs(cross_env(platform));
    }
    let log = repo.target_dir().join("cross-check.log");
    let line = command::describe(&cmd);
    let fix = "check that `target/` is writable and cargo is installed";
    std::fs::create_dir_all(repo.target_dir())
        .map_err(|e| Failure::new(format!("could not create `target/`: {e}"), fix))?;
    let out = std::fs::File::create(&log)
        .map_err(|e| Failure::new(format!("could not create `{}`: {e}", log.display()), fix))?;
    let err = out
        .try_clone()
        .map_err(|e| Failure::new(format!("could not open `{}`: {e}", log.display()), fix))?;
    println!(
        "xtask: $ {line} (in the background, output in {})",
        log.display()
    );
    let child = cmd
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| Failure::new(format!("could not start `{line}`: {e}"), fix))?;
    Ok(RunningCheck {
        child,
        line,
        log,
        started: Instant::now(),
    })
}

impl RunningCheck {
    /// Waits for the check; on failure prints the end of its log and fails naming the log.
    pub fn finish(mut self) -> Result<()> {
        let fix = "fix the error above for that target (Windows or Linux arm64 code behind `#[cfg]`, or a dependency that does not build there); `cargo xtask test --filter cross` runs only this check";
        let status = self
            .child
            .wait()
            .map_err(|e| Failure::new(format!("could not wait for `{}`: {e}", self.line), fix))?;
        let took = self.started.elapsed().as_secs();
        if status.success() {
            println!("xtask: the cross check passed ({took} s in the background)");
            return Ok(());
        }
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("xtask: the end of {}:", self.log.display());
        for line in &lines[lines.len().saturating_sub(80)..] {
            eprintln!("{line}");
        }
        Err(Failure::new(
            format!(
                "`{}` failed ({status}) after {took} s; its whole output is in `{}`",
                self.line,
                self.log.display()
            ),
            fix,
        ))
    }
}

/// `cargo xtask cross [--release]`: builds the library for every cross platform, one after the
/// other, and copies each into `addons/wasgo/bin/` under its `wasgo.gdextension` name.
pub fn build(repo: &Repo, profile: Profile) -> Result<()> {
    for platform in cross_platforms() {
        ensure_toolchain(platform)?;
        let mut cmd = cargo();
        cmd.current_dir(&repo.root)
            .args(["build", "-p", "wasgo", "--lib", "--target", platform.triple])
            .envs(cross_env(platform));
        if profile == Profile::Release {
            cmd.arg("--release");
        }
        command::run(
            &mut cmd,
            &format!("fix the build error above for {}", platform.name),
        )?;
        let built = built_library(repo, platform, profile);
        let dest = repo
            .project()
            .join("addons/wasgo/bin")
            .join(platform.installed_name());
        install(
            &built,
            &dest,
            "check that the build produced the library and the addon folder is writable",
        )?;
        println!(
            "xtask: installed {} ({}, `{}` in wasgo.gdextension)",
            dest.display(),
            platform.name,
            platform.gdextension_key(profile)
        );
    }
    Ok(())
}

/// Where cargo puts the library it built for `platform`.
fn built_library(repo: &Repo, platform: &Platform, profile: Profile) -> PathBuf {
    repo.target_dir()
        .join(platform.triple)
        .join(profile.dir())
        .join(cdylib_file_name(platform.triple))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The `[libraries]` entries of a `.gdextension` file, key to path.
    fn libraries(text: &str) -> BTreeMap<String, String> {
        let mut in_libraries = false;
        let mut entries = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                in_libraries = line == "[libraries]";
                continue;
            }
            if let (true, Some((key, value))) = (in_libraries, line.split_once('=')) {
                entries.insert(
                    key.trim().to_owned(),
                    value.trim().trim_matches('"').to_owned(),
                );
            }
        }
        entries
    }

    #[test]
    fn the_gdextension_names_exactly_the_libraries_xtask_produces() {
        let path = Repo::locate()
            .project()
            .join("addons/wasgo/wasgo.gdextension");
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: BTreeMap<String, String> = PLATFORMS
            .iter()
            .flat_map(|p| {
                [Profile::Dev, Profile::Release].map(|profile| {
                    (
                        p.gdextension_key(profile),
                        format!("bin/{}", p.installed_name()),
                    )
                })
            })
            .collect();
        assert_eq!(
            libraries(&text),
            expected,
            "`{}` and xtask's platform table (rust/xtask/src/cross.rs) disagree: change both together",
            path.display()
        );
    }

    #[test]
    fn the_library_reader_takes_only_the_libraries_section() {
        let text = "[configuration]\nentry_symbol = \"x\"\n[libraries]\n; note\nlinux.debug.x86_64 = \"bin/a.so\"\n\n[icons]\nA = \"b.svg\"\n";
        let found = libraries(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found["linux.debug.x86_64"], "bin/a.so");
    }

    #[test]
    fn cargo_names_the_cdylib_per_target() {
        assert_eq!(cdylib_file_name("x86_64-pc-windows-gnu"), "wasgo.dll");
        assert_eq!(cdylib_file_name("aarch64-unknown-linux-gnu"), "libwasgo.so");
        assert_eq!(cdylib_file_name("aarch64-apple-darwin"), "libwasgo.dylib");
        let host = PLATFORMS.iter().find(|p| p.build == Build::Host).unwrap();
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            // The host build installs `library_file_name()`: the table must say the same.
            assert_eq!(
                host.installed_name(),
                crate::cargo_steps::library_file_name()
            );
        }
    }

    #[test]
    fn no_two_platforms_share_a_library_file() {
        let mut names: Vec<String> = PLATFORMS.iter().map(Platform::installed_name).collect();
        names.sort();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "two platforms install the same file");
    }

    #[test]
    fn cross_env_names_the_compiler_archiver_and_linker_of_the_target() {
        let windows = PLATFORMS
            .iter()
            .find(|p| p.triple == "x86_64-pc-windows-gnu")
            .unwrap();
        assert_eq!(
            cross_env(windows),
            [
                ("CC_x86_64_pc_windows_gnu", "x86_64-w64-mingw32-gcc"),
                ("AR_x86_64_pc_windows_gnu", "x86_64-w64-mingw32-ar"),
                (
                    "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER",
                    "x86_64-w64-mingw32-gcc"
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let host = PLATFORMS.iter().find(|p| p.build == Build::Host).unwrap();
        assert!(cross_env(host).is_empty());
        assert_eq!(cross_platforms().count(), 2);
    }
}
