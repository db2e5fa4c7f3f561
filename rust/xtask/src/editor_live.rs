//! The editor plugin inside a real editor: a headless `godot --editor` on a copy of the project
//! whose `project.godot` adds one autoload, `tests/editor_live/settings_help_probe.gd`, which
//! opens Project Settings and checks the plugin's help lines, printing `PASS`/`FAIL` lines and a
//! summary like the suites (judged by [`godot_run::judge_suite`]).
//!
//! The copy (`target/editor-live/project/`, with the project's import data so the editor starts
//! as it does for a developer — a project never imported gets its autoloads only at the next
//! start — and the built library linked rather than copied) keeps the repository's project
//! untouched, whatever happens to the run.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::godot_run::{self, run_godot, SuiteReport};
use crate::{Failure, Repo, Result};

/// The probe, added as an autoload of the copy.
pub const PROBE: &str = "res://tests/editor_live/settings_help_probe.gd";
/// A headless editor imports the copy, starts and runs the probe in well under this.
const TIMEOUT: Duration = Duration::from_secs(300);
/// The built library's folder, linked into the copy instead of copied (hundreds of MB).
const LIBRARY_DIR: &str = "addons/wasgo/bin";

/// Copies the project, adds the probe and runs the editor on the copy.
pub fn run(godot: &Path, repo: &Repo) -> Result<SuiteReport> {
    let copy = repo.target_dir().join("editor-live/project");
    let _ = fs::remove_dir_all(&copy);
    let project = repo.project();
    copy_project(&project, &copy, Path::new(""))?;
    let settings = copy.join("project.godot");
    let text = fs::read_to_string(&settings).map_err(|e| io(&settings, e))?;
    fs::write(
        &settings,
        format!("{text}\n[autoload]\n\nWasgoEditorLiveProbe=\"*{PROBE}\"\n"),
    )
    .map_err(|e| io(&settings, e))?;
    let copy_arg = copy.to_string_lossy();
    let run = run_godot(
        godot,
        &["--editor", "--headless", "--path", &copy_arg],
        TIMEOUT,
        true,
    )?;
    Ok(godot_run::judge_suite(&run))
}

/// Copies `from` (the project, imported by then) to `to`, linking [`LIBRARY_DIR`];
/// `rel` is the path below the project being copied.
fn copy_project(from: &Path, to: &Path, rel: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| io(from, e))?.flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        let (dest, rel) = (to.join(&name), rel.join(&name));
        if rel == Path::new(LIBRARY_DIR) {
            std::os::unix::fs::symlink(&path, &dest).map_err(|e| io(&dest, e))?;
        } else if path.is_dir() {
            copy_project(&path, &dest, &rel)?;
        } else {
            fs::copy(&path, &dest).map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> Failure {
    Failure::new(
        format!(
            "cannot prepare the editor's copy of the project at `{}`: {e}",
            path.display()
        ),
        "check the disk space and that target/ is writable",
    )
}
