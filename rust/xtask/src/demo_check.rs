//! The demo as a test: `cargo xtask test` plays `res://demo/arena.tscn` headless and reads its
//! transcript. It starts the demo by Godot's own executable path, like the editor's Play, so a
//! Godot that cannot relaunch itself fails here. It passes only if Godot exits 0 (the demo's own verdict held), nothing fatal was
//! printed, each language's mod did its job, and the hostile mod was stopped all three ways.

use std::path::Path;
use std::time::Duration;

use crate::godot_run::{run_godot, GodotRun, FATAL_PATTERNS};
use crate::{Failure, Repo, Result};

/// The scene `cargo xtask run` plays.
pub const DEMO_SCENE: &str = "res://demo/arena.tscn";
/// The round lasts seconds; start-up and shutdown a few more.
const DEMO_TIMEOUT: Duration = Duration::from_secs(60);

/// A line each mod must have put in the transcript: (who, what it says when it acts).
const EXPECTED: &[(&str, &str)] = &[
    ("mover (Rust): ", "joined, into the circle you go"),
    ("scorekeeper (C): ", "scorekeeper: +10 to "),
    ("greeter (Zig): ", "welcome to the arena, "),
    ("greeter (Zig): ", "finished with exit code 0"),
    ("leaderboard (AssemblyScript): ", "mod_event leaderboard: "),
    ("archivist (Go): ", "new record, "),
    ("bonus (WAT): ", "bonus: +5 for the newest player"),
    (
        "hostile: files (Rust): ",
        "trapped: call to `wasgo.file_write`, which is not exposed at safety level 1",
    ),
    (
        "hostile: files (Rust): ",
        "unexposed_call wasgo.file_write at level 1",
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

/// Plays the demo headless and checks its transcript; prints the transcript. It is started the
/// way the editor's Play starts a game: by Godot's own executable path (what the running `godot`
/// reports as `OS.get_executable_path()`) with `--path` and no scene, so the main scene plays.
pub fn check(godot: &Path, repo: &Repo) -> Result<()> {
    let project = repo.project();
    let project = project.to_string_lossy();
    let executable = crate::godot::executable_path(godot, repo)?;
    println!(
        "xtask: playing the demo headless ({DEMO_SCENE}, the main scene) the way the editor's Play does: {} --headless --path {project}",
        executable.display()
    );
    let run = run_godot(
        &executable,
        &["--headless", "--path", &project],
        DEMO_TIMEOUT,
        false,
    )?;
    print_transcript(&run);
    let problems = judge(&run);
    if problems.is_empty() {
        println!("xtask: the demo ran, every example mod acted and the hostile mod was contained");
        return Ok(());
    }
    Err(Failure::new(
        format!(
            "the demo's headless run failed:\n  - {}",
            problems.join("\n  - ")
        ),
        "play it with `cargo xtask run` and read its transcript",
    ))
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
