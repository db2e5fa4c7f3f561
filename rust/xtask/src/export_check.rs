//! Shipping as a test: `cargo xtask test` exports the project the way a game ships and plays the
//! arena from the export.
//!
//! 1. `godot --headless --path godot_project --export-pack Linux <dir>/arena.pck` exports the
//!    `Linux` preset of `export_presets.cfg` ("export all resources") as a pack; no export
//!    templates are needed for a pack. The addon's export plugin
//!    (`addons/wasgo/editor/wasgo_export_plugin.gd`) adds every `.wasm` and the allowlists.
//! 2. The pack is laid out like a shipped game: the Godot executable named after the pack
//!    (`arena` beside `arena.pck`), and the extension library beside both, where an exported game
//!    looks for its GDExtension libraries (Godot resolves a library that is not at its `res://`
//!    path by its file name next to the executable).
//!    The preset turns the plugin's `wasgo/precompile` option on: each `.wasm` is shipped with its
//!    precompiled `.cwasm` beside it, and the export must say it precompiled some.
//! 3. `<dir>/arena --headless --main-pack <dir>/arena.pck` plays the main scene, the arena; its
//!    transcript is judged like the demo's ([`demo_check::judge`]): every mod must act, which
//!    needs the `.wasm` files and `allowlist.cfg` inside the pack, and no shipped `.cwasm` may be
//!    passed over (WasGo warns ``WasGo: `res://....cwasm`: ...`` when it is).
//!
//! The executable is hard-linked when it can be (same file system), else copied.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::godot_run::{run_godot, FATAL_PATTERNS};
use crate::{cargo_steps, demo_check, godot, Failure, Repo, Result};

/// The preset in `godot_project/export_presets.cfg` that is exported.
pub const PRESET: &str = "Linux";
/// Exporting re-scans the project in a headless editor first.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(300);
/// The round lasts seconds; start-up and shutdown a few more.
const PLAY_TIMEOUT: Duration = Duration::from_secs(60);

/// Exports the pack, lays out a shipped game in `target/export-check/` and plays it.
pub fn check(godot: &Path, repo: &Repo) -> Result<()> {
    let dir = repo.target_dir().join("export-check");
    let fix_dir = "make target/ writable";
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| io_failure("create", &dir, e, fix_dir))?;
    let pack = dir.join("arena.pck");
    export_pack(godot, repo, &pack)?;

    let executable = godot::executable_path(godot, repo)?;
    let shipped = dir.join("arena");
    link_or_copy(&executable, &shipped).map_err(|e| io_failure("copy", &executable, e, fix_dir))?;
    let library_name = cargo_steps::library_file_name();
    let library = repo.project().join("addons/wasgo/bin").join(&library_name);
    cargo_steps::install(
        &library,
        &dir.join(&library_name),
        "build the extension first (`cargo xtask test` does)",
    )?;

    println!(
        "xtask: playing the arena from the exported pack: {} --headless --main-pack {}",
        shipped.display(),
        pack.display()
    );
    let pack_arg = pack.to_string_lossy();
    let run = run_godot(
        &shipped,
        &["--headless", "--main-pack", &pack_arg],
        PLAY_TIMEOUT,
        false,
    )?;
    demo_check::print_transcript(&run);
    let mut problems = demo_check::judge(&run);
    // Every mod's `.cwasm` was shipped beside its `.wasm`: one passed over is a failure.
    problems.extend(
        run.lines
            .iter()
            .filter(|l| l.contains(".cwasm`:"))
            .map(|l| format!("a shipped artifact was not used: {l}")),
    );
    if problems.is_empty() {
        println!("xtask: the exported arena ran with every mod acting");
        return Ok(());
    }
    Err(Failure::new(
        format!(
            "the arena exported as `{}` failed:\n  - {}",
            pack.display(),
            problems.join("\n  - ")
        ),
        "check the export plugin (addons/wasgo/editor/wasgo_export_plugin.gd) and the preset in godot_project/export_presets.cfg",
    ))
}

/// `godot --headless --path godot_project --export-pack PRESET pack`.
fn export_pack(godot: &Path, repo: &Repo, pack: &Path) -> Result<()> {
    let project = repo.project();
    let (project_arg, pack_arg) = (project.to_string_lossy(), pack.to_string_lossy());
    let run = run_godot(
        godot,
        &[
            "--headless",
            "--path",
            &project_arg,
            "--export-pack",
            PRESET,
            &pack_arg,
        ],
        EXPORT_TIMEOUT,
        true,
    )?;
    let mut problems: Vec<String> = run.exit_problem().into_iter().collect();
    problems.extend(run.lines_matching(FATAL_PATTERNS));
    if !pack.is_file() {
        problems.push(format!("no pack was written at `{}`", pack.display()));
    }
    // The preset turns the export plugin's `wasgo/precompile` option on.
    let precompiled = run.lines.iter().find_map(|l| {
        l.strip_prefix("WasGo export: precompiled ")?
            .split(' ')
            .next()?
            .parse::<u32>()
            .ok()
    });
    if precompiled.unwrap_or(0) == 0 {
        problems.push("the export plugin precompiled no module (no `WasGo export: precompiled N module(s)` line with N > 0)".into());
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        format!(
            "exporting the `{PRESET}` preset failed:\n  - {}",
            problems.join("\n  - ")
        ),
        "read Godot's output above; the preset is in godot_project/export_presets.cfg",
    ))
}

/// A hard link to `from` at `to`, else a copy (another file system).
fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    fs::hard_link(from, to).or_else(|_| fs::copy(from, to).map(|_| ()))
}

fn io_failure(what: &str, path: &Path, e: io::Error, fix: &str) -> Failure {
    Failure::new(format!("could not {what} `{}`: {e}", path.display()), fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_executable_is_the_same_bytes_under_the_packs_name() {
        let dir = std::env::temp_dir().join(format!("xtask-ship-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("godot"), dir.join("arena"));
        fs::write(&from, b"\x7fELF pretend").unwrap();
        link_or_copy(&from, &to).unwrap();
        assert_eq!(fs::read(&to).unwrap(), b"\x7fELF pretend");
        fs::remove_dir_all(&dir).unwrap();
    }
}
