//! `cargo xtask bench`: the speed benchmarks, measured side by side in one release run.

use crate::cargo_steps::{self, Profile};
use crate::godot_run::{run_godot, FATAL_PATTERNS};
use crate::{godot, mods, Failure, Repo, Result};
use std::time::Duration;

/// The benchmark scripts, each a `SceneTree` script that prints its figures and ratios.
const BENCHES: &[&str] = &[
    "res://bench/bench_position.gd",
    "res://bench/bench_guests.gd",
    "res://bench/bench_crossings.gd",
    "res://bench/bench_frame.gd",
];

pub fn run(repo: &Repo) -> Result<()> {
    cargo_steps::ensure_wasm_target()?;
    let godot = godot::locate_or_provision(repo)?;
    cargo_steps::build_extension(repo, Profile::Release)?;
    mods::build(repo)?;
    godot::import_project(&godot, repo)?;
    let project = repo.project();
    let project = project.to_string_lossy();
    for script in BENCHES {
        let run = run_godot(
            &godot,
            &["--headless", "--path", &project, "-s", script],
            Duration::from_secs(600),
            true,
        )?;
        let mut problems: Vec<String> = run.exit_problem().into_iter().collect();
        problems.extend(run.lines_matching(FATAL_PATTERNS));
        if !problems.is_empty() {
            return Err(Failure::new(
                format!(
                    "the benchmark `{script}` failed:\n  - {}",
                    problems.join("\n  - ")
                ),
                "read Godot's output above",
            ));
        }
    }
    Ok(())
}
