//! The demo as a test: `cargo xtask test` plays `res://demo/arena.tscn` headless and reads its
//! transcript. It starts the demo by Godot's own executable path, like the editor's Play, so a
//! Godot that cannot relaunch itself fails here. It passes only if Godot exits 0 (the demo's own verdict held), nothing fatal was
//! printed, each language's mod did its job, no example mod trapped, and the hostile mod was
//! stopped all three ways.
//!
//! [`check_under_load`] plays it a second time while [`CpuHog`] keeps both cores busy: WasGo's
//! budgets count a mod's own CPU time, so a loaded machine must not make a healthy mod trap.
//! [`check_interpreted`] plays it with the engine in interpreter mode (`--wasgo-mode=interpreter`):
//! every example mod must act there too.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::godot_run::{run_godot, GodotRun, DEMO_SCENE, FATAL_PATTERNS};
use crate::{Failure, Repo, Result};

/// The round lasts seconds; start-up and shutdown a few more.
const DEMO_TIMEOUT: Duration = Duration::from_secs(60);
/// The demo under load may take longer to start.
const LOADED_DEMO_TIMEOUT: Duration = Duration::from_secs(120);
/// Busy threads of the loaded run: one per core of the 2-core machines the issue measured.
const HOG_THREADS: usize = 2;
/// The examples' transcript names (the hostile mod is expected to trap).
const EXAMPLE_MODS: &[&str] = &[
    "mover (Rust): ",
    "decorator (Rust): ",
    "scorekeeper (C): ",
    "greeter (Zig): ",
    "leaderboard (AssemblyScript): ",
    "archivist (Go): ",
    "bonus (WAT): ",
    "announcer (Go-js): ",
    "ranker (waPC Rust): ",
];

/// A line each mod must have put in the transcript: (who, what it says when it acts).
const EXPECTED: &[(&str, &str)] = &[
    ("mover (Rust): ", "joined, into the circle you go"),
    (
        "decorator (Rust): ",
        "decorator: spawned a sprite from its own PNG (16x16 pixels)",
    ),
    (
        "decorator (Rust): ",
        "decorator: loaded its own sound (0.20 s)",
    ),
    ("decorator (Rust): ", "played its own sound"),
    ("decorator (Rust): ", "decorator: minimap drawn with "),
    ("scorekeeper (C): ", "scorekeeper: +10 to "),
    ("greeter (Zig): ", "welcome to the arena, "),
    ("greeter (Zig): ", "finished with exit code 0"),
    ("leaderboard (AssemblyScript): ", "mod_event leaderboard: "),
    ("archivist (Go): ", "new record, "),
    ("bonus (WAT): ", "bonus: +5 for the newest player"),
    ("announcer (Go-js): ", "announcer: now entering the arena, "),
    ("announcer (Go-js): ", "takes the crown with "),
    ("ranker (waPC Rust): ", "rank: 1. "),
    ("ranker (waPC Rust): ", "banner: "),
    (
        "hostile: files (Rust): ",
        "trapped: call to `wasgo.file_read`, which is not exposed at safety level 1",
    ),
    (
        "hostile: files (Rust): ",
        "unexposed_call wasgo.file_read at level 1",
    ),
    (
        "hostile: spin (Rust): ",
        "trapped: `hostile` overran its callback budget",
    ),
    ("hostile: memory (Rust): ", "trapped: memory limit exceeded"),
    (
        "verdict: ",
        "every mod acted and the hostile mod was contained",
    ),
];

/// Busy-loops on some threads (a CPU hog) until dropped, or at the latest until its time limit
/// has passed.
pub struct CpuHog {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl CpuHog {
    /// Starts `threads` busy threads that stop when the hog is dropped or after `limit`.
    pub fn start(threads: usize, limit: Duration) -> CpuHog {
        let stop = Arc::new(AtomicBool::new(false));
        let end = Instant::now() + limit;
        let threads = (0..threads)
            .filter_map(|i| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name(format!("xtask-cpu-hog-{i}"))
                    .spawn(move || {
                        let mut x = 1u64;
                        while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                            for _ in 0..100_000 {
                                x = std::hint::black_box(x.wrapping_mul(6364136223846793005) ^ 1);
                            }
                        }
                    })
                    .ok()
            })
            .collect();
        CpuHog { stop, threads }
    }

    /// How many busy threads run.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Plays the demo headless while a [`CpuHog`] keeps both cores busy, and checks its transcript
/// like [`check`]: no example mod may trap because the machine is loaded.
pub fn check_under_load(godot: &Path, repo: &Repo) -> Result<()> {
    let hog = CpuHog::start(HOG_THREADS, LOADED_DEMO_TIMEOUT);
    println!(
        "xtask: playing the demo again under load ({} busy threads)",
        hog.threads()
    );
    let outcome = play_and_judge(godot, repo, LOADED_DEMO_TIMEOUT, &[]);
    drop(hog);
    outcome.map_err(|problems| {
        Failure::new(
            format!(
                "the demo's run under a CPU hog failed:\n  - {}",
                problems.join("\n  - ")
            ),
            "a mod that traps only on a loaded machine points at a wall-clock budget; see `wasgo/limits/callback_wall_backstop_factor` and `wasgo/limits/budget_strikes`",
        )
    })?;
    println!("xtask: under load too, every example mod acted and none trapped");
    Ok(())
}

/// Plays the demo headless and checks its transcript; prints the transcript. It is started the
/// way the editor's Play starts a game: by Godot's own executable path (what the running `godot`
/// reports as `OS.get_executable_path()`) with `--path` and no scene, so the main scene plays.
pub fn check(godot: &Path, repo: &Repo) -> Result<()> {
    match play_and_judge(godot, repo, DEMO_TIMEOUT, &[]) {
        Ok(()) => {
            println!(
                "xtask: the demo ran, every example mod acted and the hostile mod was contained"
            );
            Ok(())
        }
        Err(problems) => Err(Failure::new(
            format!(
                "the demo's headless run failed:\n  - {}",
                problems.join("\n  - ")
            ),
            "play it with `cargo xtask run` and read its transcript",
        )),
    }
}

/// Plays the demo headless with mods interpreted (`--wasgo-mode=interpreter`) and checks its
/// transcript like [`check`].
pub fn check_interpreted(godot: &Path, repo: &Repo) -> Result<()> {
    println!("xtask: playing the demo again in interpreter mode");
    let args = ["--", crate::godot_run::INTERPRETER_ARG];
    play_and_judge(godot, repo, DEMO_TIMEOUT, &args).map_err(|problems| {
        Failure::new(
            format!(
                "the demo's run in interpreter mode failed:\n  - {}",
                problems.join("\n  - ")
            ),
            "play it with `cargo xtask run --interpreter` and read its transcript",
        )
    })?;
    println!("xtask: in interpreter mode too, every example mod acted and none trapped");
    Ok(())
}

/// Plays the demo once (with `extra` arguments after the usual ones) and judges it: the
/// problems found, if any (a run that cannot start is one problem).
fn play_and_judge(
    godot: &Path,
    repo: &Repo,
    timeout: Duration,
    extra: &[&str],
) -> std::result::Result<(), Vec<String>> {
    let project = repo.project();
    let project = project.to_string_lossy();
    let executable = crate::godot::executable_path(godot, repo).map_err(|f| vec![f.to_string()])?;
    println!(
        "xtask: playing the demo headless ({DEMO_SCENE}, the main scene) the way the editor's Play does: {} --headless --path {project}",
        executable.display()
    );
    let mut args = vec!["--headless", "--path", &project];
    args.extend_from_slice(extra);
    let run = run_godot(&executable, &args, timeout, false).map_err(|f| vec![f.to_string()])?;
    print_transcript(&run);
    let problems = judge(&run);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Prints the transcript lines of a run of the arena.
pub fn print_transcript(run: &GodotRun) {
    for line in run.lines.iter().filter(|l| is_transcript(l)) {
        println!("  {line}");
    }
}

/// A transcript line: `[  1.20s] who: text`.
fn is_transcript(line: &str) -> bool {
    let Some((stamp, _)) = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
    else {
        return false;
    };
    stamp
        .trim()
        .strip_suffix('s')
        .is_some_and(|seconds| seconds.parse::<f64>().is_ok())
}

/// Everything wrong with a run of the arena (the demo, or the exported game).
pub fn judge(run: &GodotRun) -> Vec<String> {
    let mut problems: Vec<String> = run.exit_problem().into_iter().collect();
    problems.extend(run.lines_matching(FATAL_PATTERNS));
    for (who, what) in EXPECTED {
        let seen = run.lines.iter().filter(|l| is_transcript(l)).any(|l| {
            l.split_once("] ")
                .is_some_and(|(_, rest)| rest.starts_with(who) && rest.contains(what))
        });
        if !seen {
            problems.push(format!("no `{who}…{what}` line in the transcript"));
        }
    }
    for line in run.lines.iter().filter(|l| is_transcript(l)) {
        let Some((_, rest)) = line.split_once("] ") else {
            continue;
        };
        let example = EXAMPLE_MODS.iter().any(|who| rest.starts_with(who));
        if example && rest.contains("trapped: ") {
            problems.push(format!("an example mod trapped: {rest}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::godot_run::Outcome;

    fn run_with(lines: &[&str], code: i32) -> GodotRun {
        #[cfg(unix)]
        use std::os::unix::process::ExitStatusExt;
        GodotRun {
            command: "godot".into(),
            outcome: Outcome::Exited(std::process::ExitStatus::from_raw(code << 8)),
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn full_transcript() -> Vec<String> {
        EXPECTED
            .iter()
            .map(|(who, what)| format!("[  3.00s] {who}{what} (details)"))
            .collect()
    }

    #[test]
    fn a_complete_transcript_passes() {
        let lines = full_transcript();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(judge(&run_with(&refs, 0)), Vec::<String>::new());
    }

    #[test]
    fn a_silent_mod_or_a_bad_exit_fails() {
        let lines: Vec<String> = full_transcript()
            .into_iter()
            .filter(|l| !l.contains("bonus (WAT)"))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let problems = judge(&run_with(&refs, 1));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("exited with")));
        assert!(problems.iter().any(|p| p.contains("bonus (WAT)")));
    }

    #[test]
    fn an_example_mod_that_traps_fails_the_run() {
        let mut lines = full_transcript();
        lines.push("[  4.00s] mover (Rust): trapped: `mover` overran its callback budget".into());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let problems = judge(&run_with(&refs, 0));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("an example mod trapped: mover (Rust)"));
    }

    #[test]
    fn the_cpu_hog_stops_when_dropped() {
        // A hog that ignored its stop flag would keep this test (and `cargo test`) for an hour.
        let hog = CpuHog::start(2, Duration::from_secs(3600));
        assert_eq!(hog.threads(), 2);
        drop(hog);
    }

    #[test]
    fn the_mods_own_echo_is_not_the_transcript() {
        // WasGo echoes mod output as `[name] text`; only timestamped lines count.
        assert!(!is_transcript(
            "[greeter] greeter: welcome to the arena, Ada!"
        ));
        assert!(is_transcript(
            "[  0.30s] greeter (Zig): greeter: welcome to the arena, Ada!"
        ));
        assert!(is_transcript("[ 12.30s] game: Ada joins the arena"));
    }
}
