//! Rust steps: the wasm target, the extension build (copied into the addon) and `cargo test`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{self, cargo};
use crate::{Failure, Repo, Result};

/// The target every WasGo Rust mod is built for.
pub const WASM_TARGET: &str = "wasm32-wasip1";

/// Which cargo profile builds the extension.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    /// `cargo build --workspace`: what `cargo xtask test` uses, sharing artifacts with `cargo test`.
    Dev,
    /// `cargo build --release -p wasgo`: what `cargo xtask run` uses.
    Release,
}

impl Profile {
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Dev => "debug",
            Profile::Release => "release",
        }
    }
}

/// Installs the `wasm32-wasip1` standard library with rustup unless the toolchain has it.
pub fn ensure_wasm_target() -> Result<()> {
    ensure_target(WASM_TARGET)
}

/// Installs the standard library for `target` with rustup unless the toolchain has it.
pub fn ensure_target(target: &str) -> Result<()> {
    if toolchain_has_target(target) {
        return Ok(());
    }
    command::run(
        Command::new("rustup").args(["target", "add", target]),
        &format!("install the `{target}` target for the Rust toolchain in use (e.g. `rustup target add {target}`)"),
    )
}

/// Whether the active toolchain's sysroot holds the standard library for `target`.
fn toolchain_has_target(target: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    out.status.success()
        && Path::new(&sysroot)
            .join("lib/rustlib")
            .join(target)
            .join("lib")
            .is_dir()
}

/// Builds the extension and copies the library to `godot_project/addons/wasgo/bin/`.
pub fn build_extension(repo: &Repo, profile: Profile) -> Result<()> {
    let mut build = cargo();
    build.current_dir(&repo.root);
    match profile {
        Profile::Dev => build.args(["build", "--workspace"]),
        Profile::Release => build.args(["build", "--release", "-p", "wasgo"]),
    };
    command::run(
        &mut build,
        "fix the build error above, then run the command again",
    )?;

    let file = library_file_name();
    let built = repo.target_dir().join(profile.dir()).join(&file);
    let dest = repo.project().join("addons/wasgo/bin").join(&file);
    install(
        &built,
        &dest,
        "check that the build produced the library and the addon folder is writable",
    )?;
    println!("xtask: installed {}", dest.display());
    Ok(())
}

/// `cargo test --workspace` with the dev profile (shares dependencies with the dev build).
pub fn test_workspace(repo: &Repo) -> Result<()> {
    command::run(
        cargo()
            .current_dir(&repo.root)
            .args(["test", "--workspace"]),
        "fix the failing Rust test shown above",
    )
}

/// The code gates: `cargo fmt --all --check`, `cargo clippy --workspace --all-targets -- -D
/// warnings` and, so the build without Cranelift cannot rot, `cargo clippy -p wasgo
/// --no-default-features -- -D warnings` (installing the `rustfmt` and `clippy` components with
/// rustup when missing).
pub fn lint_workspace(repo: &Repo) -> Result<()> {
    for (component, probe) in [
        ("rustfmt", ["fmt", "--version"]),
        ("clippy", ["clippy", "--version"]),
    ] {
        let present = cargo()
            .args(probe)
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            command::run(
                Command::new("rustup").args(["component", "add", component]),
                &format!(
                    "install the `{component}` component (`rustup component add {component}`)"
                ),
            )?;
        }
    }
    command::run(
        cargo()
            .current_dir(&repo.root)
            .args(["fmt", "--all", "--check"]),
        "format the code with `cargo fmt --all`",
    )?;
    command::run(
        cargo().current_dir(&repo.root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        "fix the clippy findings shown above (`cargo clippy --workspace --all-targets -- -D warnings`)",
    )?;
    command::run(
        cargo().current_dir(&repo.root).args([
            "clippy",
            "-p",
            "wasgo",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ]),
        "fix the build without the `compiler` feature shown above (`cargo clippy -p wasgo --no-default-features -- -D warnings`)",
    )
}

/// `libwasgo.so`, `libwasgo.dylib` or `wasgo.dll`, as cargo names a cdylib on this platform.
pub fn library_file_name() -> String {
    format!(
        "{}wasgo.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    )
}

/// Copies `from` to `to` through a temporary file and a rename, so a Godot that still has the old
/// library mapped keeps its (unlinked) copy instead of seeing it rewritten in place.
/// [`copy_replacing`], with a failure that names both paths and says what to check.
pub fn install(built: &Path, dest: &Path, fix: &str) -> Result<()> {
    copy_replacing(built, dest).map_err(|e| {
        Failure::new(
            format!(
                "could not copy `{}` to `{}`: {e}",
                built.display(),
                dest.display()
            ),
            fix,
        )
    })
}

pub fn copy_replacing(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut temp = PathBuf::from(to);
    temp.as_mut_os_string().push(".part");
    fs::copy(from, &temp)?;
    fs::rename(&temp, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_name_matches_the_gdextension_file_on_linux() {
        if cfg!(target_os = "linux") {
            assert_eq!(library_file_name(), "libwasgo.so");
        }
    }

    #[test]
    fn copy_replacing_overwrites_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("xtask-copy-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("from"), dir.join("sub/to"));
        fs::write(&from, b"new").unwrap();
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(&to, b"old contents").unwrap();
        copy_replacing(&from, &to).unwrap();
        assert_eq!(fs::read(&to).unwrap(), b"new");
        assert!(!dir.join("sub/to.part").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
