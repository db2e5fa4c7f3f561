//! Finding Godot 4 (or provisioning it) and preparing the project for headless runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::find_on_path;
use crate::godot_provision;
use crate::godot_run::{run_godot, Outcome};
use crate::{Failure, Repo, Result};

/// The oldest Godot the extension supports (`compatibility_minimum` in `wasgo.gdextension`).
const MIN_MINOR: u32 = 5;
/// The line Godot needs in `.godot/extension_list.cfg` to load the extension outside the editor.
const EXTENSION_ENTRY: &str = "res://addons/wasgo/wasgo.gdextension";

/// A usable Godot: `$GODOT`, else `godot`/`godot4` on PATH, else the cached `target/godot/godot`
/// (when it is the binary patched for that folder, see [`godot_provision`]), else a fresh or
/// re-patched one from `tests/provision_godot.sh`.
pub fn locate_or_provision(repo: &Repo) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("GODOT").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return match version_of(&path) {
            Some(v) if is_supported(&v) => announce(path, &v),
            found => Err(Failure::new(
                format!("`$GODOT` ({}) is not Godot 4.{MIN_MINOR}+ (`--version` gave {found:?})", path.display()),
                "point GODOT at a Godot 4.5 or newer binary, or unset it to let xtask find or provision one",
            )),
        };
    }
    for name in ["godot", "godot4"] {
        if let Some(path) = find_on_path(name) {
            match version_of(&path) {
                Some(v) if is_supported(&v) => return announce(path, &v),
                found => println!(
                    "xtask: skipping {} (version {found:?}; needs 4.{MIN_MINOR}+)",
                    path.display()
                ),
            }
        }
    }
    let cached = godot_provision::cached_binary(repo);
    let dir = repo.root.join(godot_provision::DIR);
    if godot_provision::is_current(&dir) {
        if let Some(v) = version_of(&cached).filter(|v| is_supported(v)) {
            return announce(cached, &v);
        }
        println!(
            "xtask: the cached {} does not run; provisioning again",
            cached.display()
        );
    } else if cached.exists() {
        println!(
            "xtask: the cached {} is a loader wrapper or was patched for another folder; patching it again",
            cached.display()
        );
    }
    godot_provision::provision(repo)?;
    match version_of(&cached) {
        Some(v) if is_supported(&v) => announce(cached, &v),
        found => Err(Failure::new(
            format!("the provisioned Godot does not run (`--version` gave {found:?})"),
            "delete target/godot and try again, or set GODOT",
        )),
    }
}

fn announce(path: PathBuf, version: &str) -> Result<PathBuf> {
    println!("xtask: using Godot {version} at {}", path.display());
    Ok(path)
}

/// The version line Godot prints for `--version` (e.g. `4.6.3.stable.debian`), if it runs.
fn version_of(godot: &Path) -> Option<String> {
    let run = run_godot(
        godot,
        &["--headless", "--version"],
        Duration::from_secs(60),
        false,
    )
    .ok()?;
    match run.outcome {
        Outcome::Exited(status) if status.success() => {}
        _ => return None,
    }
    run.lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
}

/// `4.5` or newer within Godot 4.
fn is_supported(version: &str) -> bool {
    let mut parts = version.split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    major == Some(4) && minor.is_some_and(|m| m >= MIN_MINOR)
}

/// The script that prints the running Godot's `OS.get_executable_path()`.
const EXECUTABLE_PATH_SCRIPT: &str = "res://tests/editor/executable_path.gd";

/// The program a running `godot` reports as its own executable (`OS.get_executable_path()`):
/// what the editor's Play, the project manager and `OS.execute` relaunch. For a wrapper that runs
/// Godot through a dynamic loader, that is the loader, which cannot be relaunched with `--path`.
pub fn executable_path(godot: &Path, repo: &Repo) -> Result<PathBuf> {
    let project = repo.project();
    let project = project.to_string_lossy();
    let run = run_godot(
        godot,
        &[
            "--headless",
            "--path",
            &project,
            "-s",
            EXECUTABLE_PATH_SCRIPT,
        ],
        Duration::from_secs(60),
        false,
    )?;
    let found = run
        .lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("executable_path="))
        .map(PathBuf::from);
    match (run.exit_problem(), found) {
        (None, Some(path)) => Ok(path),
        (problem, _) => Err(Failure::new(
            format!(
                "could not learn Godot's executable path from `{EXECUTABLE_PATH_SCRIPT}` ({})",
                problem.unwrap_or_else(|| "it printed no `executable_path=` line".into())
            ),
            "run the script by hand: godot --headless --path godot_project -s res://tests/editor/executable_path.gd",
        )),
    }
}

/// Imports the project headless (the editor's scan writes `.godot/` and registers the
/// extension), then makes sure `.godot/extension_list.cfg` names the extension.
pub fn import_project(godot: &Path, repo: &Repo) -> Result<()> {
    let project = repo.project();
    // List the extension *before* the first editor scan: an extension the editor discovers in
    // the middle of its first scan is loaded late, and Godot 4.6.3 then crashes on exit (SIGSEGV
    // inside the engine, seen on a fresh checkout). Listed up front, it loads at start-up like in
    // every later editor session.
    ensure_extension_listed(&project)?;
    let project_arg = project.to_string_lossy();
    let run = run_godot(
        godot,
        &["--headless", "--path", &project_arg, "--import"],
        Duration::from_secs(600),
        true,
    )?;
    let mut problems: Vec<String> = run.exit_problem().into_iter().collect();
    problems.extend(run.lines_matching(&["Can't open dynamic library", "Error loading extension"]));
    if !problems.is_empty() {
        return Err(Failure::new(
            format!(
                "importing the Godot project failed:\n  - {}",
                problems.join("\n  - ")
            ),
            "check that godot_project/addons/wasgo/bin/ holds the library built for this platform",
        ));
    }
    ensure_extension_listed(&project)
}

/// Headless runs load extensions only from `.godot/extension_list.cfg`, which only an editor scan
/// writes; add the entry if the import did not.
fn ensure_extension_listed(project: &Path) -> Result<()> {
    let list = project.join(".godot/extension_list.cfg");
    let current = fs::read_to_string(&list).unwrap_or_default();
    if current.lines().any(|l| l.trim() == EXTENSION_ENTRY) {
        return Ok(());
    }
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(EXTENSION_ENTRY);
    text.push('\n');
    fs::create_dir_all(project.join(".godot"))
        .and_then(|()| fs::write(&list, text))
        .map_err(|e| {
            Failure::new(
                format!("could not write `{}`: {e}", list.display()),
                "make godot_project/.godot writable",
            )
        })?;
    println!("xtask: wrote {}", list.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_godot_4_5_and_newer_only() {
        assert!(is_supported("4.6.3.stable.debian"));
        assert!(is_supported("4.5.stable.official.876b29033"));
        assert!(!is_supported("4.4.1.stable"));
        assert!(!is_supported("3.5.2.stable"));
        assert!(!is_supported("garbage"));
    }

    #[test]
    fn extension_list_gets_the_entry_once() {
        let dir = std::env::temp_dir().join(format!("xtask-extlist-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        ensure_extension_listed(&dir).unwrap();
        ensure_extension_listed(&dir).unwrap();
        let text = fs::read_to_string(dir.join(".godot/extension_list.cfg")).unwrap();
        assert_eq!(text, format!("{EXTENSION_ENTRY}\n"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
