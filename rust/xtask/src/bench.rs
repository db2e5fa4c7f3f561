//! `cargo xtask bench`: the speed benchmarks, measured side by side in one release run.
//!
//! The runtime mode is fixed when the engine starts, so the compiled/interpreter comparison
//! plays `bench/bench_modes.gd` twice in the same run, once per mode (the interpreter one with
//! `--wasgo-mode=interpreter`), and prints both modes' figures with their ratio; the disk-cache
//! figure needs two processes as well (`bench/bench_lifecycle.gd`, a cold phase and a warm one),
//! and 1000 instances are measured without and with an instance pool (`bench_instances.gd`
//! twice).

use crate::cargo_steps::{self, Profile};
use crate::godot_run::{run_godot, GodotRun, FATAL_PATTERNS, INTERPRETER_ARG};
use crate::{bench_compute, bench_targets, godot, mods, Failure, Repo, Result};
use std::time::{Duration, Instant};

/// The benchmark scripts, each a `SceneTree` script that prints its figures and ratios.
const BENCHES: &[&str] = &[
    "res://bench/bench_position.gd",
    "res://bench/bench_guests.gd",
    "res://bench/bench_crossings.gd",
    "res://bench/bench_frame.gd",
    INSTANCES_BENCH,
];

/// 1000 instances of one module, played a second time with an instance pool
/// (`wasgo/runtime/instance_pool_size`, fixed when the engine starts).
const INSTANCES_BENCH: &str = "res://bench/bench_instances.gd";

/// The pool [`INSTANCES_BENCH`]'s second play runs with: room for its 1000 instances.
const POOL_ARG: &str = "--wasgo-instance-pool=2000";

/// The disk cache against a cold compile, and kill latency: played twice, as a game is started
/// twice (the first play empties the cache and compiles, the second loads from the disk).
const LIFECYCLE_BENCH: &str = "res://bench/bench_lifecycle.gd";

/// The Rust compute kernels as a mod, against the same source compiled natively.
const COMPUTE_BENCH: &str = "res://bench/bench_compute.gd";

/// The compute kernels and the property benchmark, played once per runtime mode.
const MODES_BENCH: &str = "res://bench/bench_modes.gd";

pub fn run(repo: &Repo) -> Result<()> {
    cargo_steps::ensure_wasm_target()?;
    let godot = godot::locate_or_provision(repo)?;
    cargo_steps::build_extension(repo, Profile::Release)?;
    mods::build(repo)?;
    godot::import_project(&godot, repo)?;
    let measuring = Instant::now();
    let project = repo.project();
    let project = project.to_string_lossy();
    let mut runs = Vec::new();
    for script in BENCHES {
        runs.push(play(&godot, &project, script, &[])?);
    }
    runs.push(play(&godot, &project, INSTANCES_BENCH, &["--", POOL_ARG])?);
    for phase in ["--phase=cold", "--phase=warm"] {
        runs.push(play(&godot, &project, LIFECYCLE_BENCH, &["--", phase])?);
    }
    let compiled = play(&godot, &project, MODES_BENCH, &[])?;
    let interpreted = play(&godot, &project, MODES_BENCH, &["--", INTERPRETER_ARG])?;
    let compute = play(&godot, &project, COMPUTE_BENCH, &[])?;
    let native = bench_compute::run_native(repo)?;
    print_modes(&mode_figures(&compiled), &mode_figures(&interpreted))?;
    let (mods, unrolled) = bench_compute::mod_figures(&compute);
    bench_compute::print_table(&mods, &unrolled, &native)?;
    let mut targets: Vec<_> = runs
        .iter()
        .flat_map(|run| run.lines.iter())
        .filter_map(|line| bench_targets::parse_line(line))
        .collect();
    targets.extend(bench_targets::compute_targets(&mods, &native));
    let targets = bench_targets::in_order(&targets)?;
    bench_targets::print_summary(&targets, measuring.elapsed());
    Ok(())
}

/// Plays one benchmark script; fails on a bad exit or a fatal output line.
fn play(godot: &std::path::Path, project: &str, script: &str, extra: &[&str]) -> Result<GodotRun> {
    let mut args = vec!["--headless", "--path", project, "-s", script];
    args.extend_from_slice(extra);
    let run = run_godot(godot, &args, Duration::from_secs(600), true)?;
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
    Ok(run)
}

/// One `bench-mode <mode> <name> <time> <unit> <result>` line of `bench_modes.gd`.
#[derive(Debug, PartialEq)]
struct ModeFigure {
    mode: String,
    name: String,
    time: f64,
    unit: String,
    result: String,
}

fn mode_figures(run: &GodotRun) -> Vec<ModeFigure> {
    run.lines
        .iter()
        .filter_map(|l| parse_mode_line(l))
        .collect()
}

fn parse_mode_line(line: &str) -> Option<ModeFigure> {
    let mut words = line.strip_prefix("bench-mode ")?.split_whitespace();
    let figure = ModeFigure {
        mode: words.next()?.to_string(),
        name: words.next()?.to_string(),
        time: words.next()?.parse().ok()?,
        unit: words.next()?.to_string(),
        result: words.next()?.to_string(),
    };
    words.next().is_none().then_some(figure)
}

/// Prints the two runs side by side with the interpreter/compiled ratio; fails when a run did
/// not run in the mode it was meant to, a figure is missing, or the modes computed different
/// results.
fn print_modes(compiled: &[ModeFigure], interpreted: &[ModeFigure]) -> Result<()> {
    let wrong_mode = compiled
        .iter()
        .find(|f| f.mode != "compiled")
        .or_else(|| interpreted.iter().find(|f| f.mode != "interpreter"));
    if let Some(f) = wrong_mode {
        return Err(Failure::new(
            format!(
                "`{MODES_BENCH}` measured `{}` in {} mode, not the mode its run asked for",
                f.name, f.mode
            ),
            "check `wasgo/runtime/mode` in project.godot (the benchmark needs `auto`)",
        ));
    }
    if compiled.is_empty() || compiled.len() != interpreted.len() {
        return Err(Failure::new(
            format!(
                "`{MODES_BENCH}` printed {} compiled and {} interpreted figures",
                compiled.len(),
                interpreted.len()
            ),
            "read Godot's output above",
        ));
    }
    println!("\ncompute kernels and property benchmark, both runtime modes (release, headless, best of 3):");
    println!(
        "{:<12} {:>14} {:>14} {:>22}",
        "benchmark", "compiled", "interpreter", "interpreter/compiled"
    );
    for (c, i) in compiled.iter().zip(interpreted) {
        if c.name != i.name || c.result != i.result {
            return Err(Failure::new(
                format!(
                    "the modes disagree: compiled `{}` gave {}, interpreted `{}` gave {}",
                    c.name, c.result, i.name, i.result
                ),
                "a kernel must compute the same result in both modes",
            ));
        }
        println!(
            "{:<12} {:>11.2} {:<5} {:>11.2} {:<5} {:>21.1}x",
            c.name,
            c.time,
            c.unit,
            i.time,
            i.unit,
            i.time / c.time
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_lines_parse_and_other_lines_do_not() {
        assert_eq!(
            parse_mode_line("bench-mode interpreter fib 412.50 ms 832040"),
            Some(ModeFigure {
                mode: "interpreter".into(),
                name: "fib".into(),
                time: 412.5,
                unit: "ms".into(),
                result: "832040".into(),
            })
        );
        assert_eq!(parse_mode_line("bench-mode compiled fib fast ms 1"), None);
        assert_eq!(
            parse_mode_line("bench-mode compiled fib 1.0 ms 1 extra"),
            None
        );
        assert_eq!(parse_mode_line("fib 1.0 ms 1"), None);
    }

    #[test]
    fn modes_that_disagree_on_a_result_fail() {
        let figure = |mode: &str, result: &str| ModeFigure {
            mode: mode.into(),
            name: "fib".into(),
            time: 1.0,
            unit: "ms".into(),
            result: result.into(),
        };
        assert!(print_modes(&[figure("compiled", "1")], &[figure("interpreter", "1")]).is_ok());
        assert!(print_modes(&[figure("compiled", "1")], &[figure("interpreter", "2")]).is_err());
        assert!(print_modes(&[figure("compiled", "1")], &[figure("compiled", "1")]).is_err());
        assert!(print_modes(&[], &[]).is_err());
    }
}
