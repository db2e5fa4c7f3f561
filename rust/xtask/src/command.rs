//! Running a plain command to completion, echoing it first, and turning a failure into a
//! [`Failure`] that says what to do.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Failure, Result};

/// `program arg arg ...` for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` with inherited stdio; fails with `fix` as the advice if it cannot start or exits
/// unsuccessfully.
pub fn run(cmd: &mut Command, fix: &str) -> Result<()> {
    let line = describe(cmd);
    println!("xtask: $ {line}");
    let status = cmd
        .status()
        .map_err(|e| Failure::new(format!("could not start `{line}`: {e}"), fix))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!("`{line}` failed ({status})"), fix))
    }
}

/// The `cargo` running this xtask (so the same toolchain builds everything), else `cargo`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The first executable file called `name` in a `PATH` directory.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
