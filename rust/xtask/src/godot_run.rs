//! Running Godot: in its own process group, under a timeout (Godot can hang instead of exiting),
//! with its output streamed to the console as it comes and kept for scanning afterwards.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crate::command::describe;
use crate::{Failure, Repo, Result};

/// Lines that fail a run wherever they appear in Godot's output (gdext's own CI does the same).
pub const FATAL_PATTERNS: &[&str] = &[
    "SCRIPT ERROR:",
    "Can't open dynamic library",
    "Error loading extension",
    "ObjectDB instances leaked",
    "Leaked instance",
    "resources still in use at exit",
];

/// How long the headless Godot suite may take in all.
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long the demo may take.
const DEMO_TIMEOUT: Duration = Duration::from_secs(300);
/// After Godot exits, how long to wait for the rest of its output (a child it spawned may
/// still hold the pipes open).
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// How a Godot run ended.
#[derive(Debug)]
pub enum Outcome {
    Exited(ExitStatus),
    /// Killed (with its whole process group) when the timeout ran out.
    TimedOut(Duration),
}

/// A finished Godot run: how it ended and every line it printed (stdout and stderr, in arrival order).
#[derive(Debug)]
pub struct GodotRun {
    pub command: String,
    pub outcome: Outcome,
    pub lines: Vec<String>,
}

impl GodotRun {
    /// `Some(reason)` unless Godot exited with status 0 in time.
    pub fn exit_problem(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Exited(status) if status.success() => None,
            Outcome::Exited(status) => Some(format!("`{}` exited with {status}", self.command)),
            Outcome::TimedOut(limit) => Some(format!(
                "`{}` did not finish within {} s and was killed",
                self.command,
                limit.as_secs()
            )),
        }
    }

    /// One problem per output line that contains one of `patterns`.
    pub fn lines_matching(&self, patterns: &[&str]) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|line| {
                patterns
                    .iter()
                    .find(|p| line.contains(**p))
                    .map(|p| format!("Godot printed `{p}`: {}", line.trim()))
            })
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Runs `godot args...` in `cwd`, killing its process group after `timeout`. With `echo`, each
/// line goes to the console as it arrives (stdout to stdout, stderr to stderr).
pub fn run_godot(godot: &Path, args: &[&str], timeout: Duration, echo: bool) -> Result<GodotRun> {
    let mut cmd = Command::new(godot);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let command = describe(&cmd);
    if echo {
        println!("xtask: $ {command}   (timeout {} s)", timeout.as_secs());
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::new(format!("could not start `{command}`: {e}"), "set GODOT to a working Godot 4.5+ binary, or delete target/godot to provision it again"))?;

    let (tx, rx) = mpsc::channel();
    spawn_reader(child.stdout.take(), Stream::Out, tx.clone());
    spawn_reader(child.stderr.take(), Stream::Err, tx);

    let started = Instant::now();
    let mut lines = Vec::new();
    let mut status: Option<ExitStatus> = None;
    let mut exited_at: Option<Instant> = None;
    let mut timed_out = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok((stream, line)) => {
                if echo {
                    match stream {
                        Stream::Out => println!("{line}"),
                        Stream::Err => eprintln!("{line}"),
                    }
                }
                lines.push(line);
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if status.is_none() {
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
                exited_at = Some(Instant::now());
            }
        }
        if exited_at.is_some_and(|t| t.elapsed() > OUTPUT_GRACE) {
            break;
        }
        if status.is_none() && started.elapsed() >= timeout {
            kill_process_group(&mut child);
            timed_out = true;
            break;
        }
    }
    let status = match status {
        Some(s) => s,
        None => child
            .wait()
            .map_err(|e| Failure::new(format!("lost track of `{command}`: {e}"), ""))?,
    };
    // Whatever is still buffered (after a kill, the last words before it).
    let drain_until = Instant::now() + Duration::from_millis(500);
    while let Ok((_, line)) = rx.recv_timeout(drain_until.saturating_duration_since(Instant::now()))
    {
        if echo {
            println!("{line}");
        }
        lines.push(line);
    }
    let outcome = if timed_out {
        Outcome::TimedOut(timeout)
    } else {
        Outcome::Exited(status)
    };
    Ok(GodotRun {
        command,
        outcome,
        lines,
    })
}

fn spawn_reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    stream: Stream,
    tx: Sender<(Stream, String)>,
) {
    let Some(pipe) = pipe else { return };
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf)
                        .trim_end_matches(['\n', '\r'])
                        .to_owned();
                    if tx.send((stream, line)).is_err() {
                        break;
                    }
                }
            }
        }
    });
}

/// Kills Godot and anything it started (it runs as the leader of its own process group).
fn kill_process_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
    }
    let _ = child.kill();
}

/// The Godot suite's result.
#[derive(Default)]
pub struct SuiteReport {
    pub passed: usize,
    pub failed: usize,
    /// Everything that fails the run: failed tests, fatal output lines, a bad exit.
    pub problems: Vec<String>,
}

impl SuiteReport {
    /// Adds another run's counts and problems, each problem prefixed with `label` (the run it
    /// came from: "interpreter mode", "after restart").
    pub fn absorb(&mut self, other: SuiteReport, label: &str) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.problems
            .extend(other.problems.into_iter().map(|p| format!("{label}: {p}")));
    }
}

/// The folder of the tests that run in a second Godot process, after the main suite: they
/// check what must survive a restart of the game (saved permission grants).
pub const AFTER_RESTART_DIR: &str = "res://tests/after_restart/";

/// The folder of the editor plugin's headless tests (its inspector data, without an editor).
pub const EDITOR_DIR: &str = "res://tests/editor/";

/// Runs `tests/run_tests.gd` headless and judges the run.
pub fn run_suite(godot: &Path, repo: &Repo, filter: Option<&str>) -> Result<SuiteReport> {
    run_suite_in(godot, repo, None, filter)
}

/// Runs `tests/run_tests.gd` headless on the tests of `dir` (default `res://tests/`) and judges
/// the run.
pub fn run_suite_in(
    godot: &Path,
    repo: &Repo,
    dir: Option<&str>,
    filter: Option<&str>,
) -> Result<SuiteReport> {
    run_suite_with(godot, repo, dir, filter, &[])
}

/// The command-line user argument that makes a run use wasmtime's interpreter
/// (`wasgo/runtime/mode` = `interpreter` for that run only).
pub const INTERPRETER_ARG: &str = "--wasgo-mode=interpreter";

/// The instance-pool tests (`wasgo/runtime/instance_pool_size`), run in their own Godot
/// process with [`POOL_ARG`]: the pool is fixed when the extension starts.
pub const POOL_DIR: &str = "res://tests/pool/";

/// The command-line user argument that gives the pool run its pool (the slot count
/// `tests/pool/test_instance_pool.gd` expects).
pub const POOL_ARG: &str = "--wasgo-instance-pool=8";

/// The tests of [`POOL_DIR`], with the engine's instance pool on ([`POOL_ARG`]).
pub fn run_pool_suite(godot: &Path, repo: &Repo, filter: Option<&str>) -> Result<SuiteReport> {
    run_suite_with(godot, repo, Some(POOL_DIR), filter, &[POOL_ARG])
}

/// The main suite's files the interpreter pass leaves out. `test_soak` starts and kills
/// hundreds of instances to find leaks at scale: the same start, trap and kill paths every
/// other file takes once, and minutes of interpreted work. Everything else runs in both modes,
/// so every host function, limit and kill path the suite reaches is reached by both.
pub const INTERPRETER_SKIPPED: &[&str] = &["test_soak"];

/// The main suite again, with the engine in interpreter mode ([`INTERPRETER_ARG`]), less
/// [`INTERPRETER_SKIPPED`].
pub fn run_interpreter_suite(
    godot: &Path,
    repo: &Repo,
    filter: Option<&str>,
) -> Result<SuiteReport> {
    let skip = format!("--skip={}", INTERPRETER_SKIPPED.join(","));
    run_suite_with(godot, repo, None, filter, &[INTERPRETER_ARG, &skip])
}

/// [`run_suite_in`] with more user arguments for the runner and the extension.
fn run_suite_with(
    godot: &Path,
    repo: &Repo,
    dir: Option<&str>,
    filter: Option<&str>,
    extra: &[&str],
) -> Result<SuiteReport> {
    let project = repo.project();
    let project = project.to_string_lossy();
    let filter_arg = filter.map(|f| format!("--filter={f}"));
    let dir_arg = dir.map(|d| format!("--dir={d}"));
    let mut args = vec![
        "--headless",
        "--path",
        &project,
        "-s",
        "res://tests/run_tests.gd",
    ];
    if filter_arg.is_some() || dir_arg.is_some() || !extra.is_empty() {
        args.push("--");
    }
    if let Some(f) = &filter_arg {
        args.push(f.as_str());
    }
    if let Some(d) = &dir_arg {
        args.push(d.as_str());
    }
    args.extend_from_slice(extra);
    let run = run_godot(godot, &args, SUITE_TIMEOUT, true)?;
    Ok(judge_suite(&run))
}

pub fn judge_suite(run: &GodotRun) -> SuiteReport {
    let mut problems: Vec<String> = run
        .lines
        .iter()
        .filter(|l| l.starts_with("FAIL "))
        .cloned()
        .collect();
    problems.extend(run.exit_problem());
    problems.extend(run.lines_matching(FATAL_PATTERNS));
    let (passed, failed) = match run.lines.iter().rev().find_map(|l| parse_summary(l)) {
        Some(counts) => counts,
        None => {
            problems.push("the suite printed no `N passed, M failed` line (it crashed or was killed); counts below are from its PASS/FAIL lines".into());
            let count = |prefix: &str| run.lines.iter().filter(|l| l.starts_with(prefix)).count();
            (count("PASS "), count("FAIL "))
        }
    };
    // A run in which no test ran is a problem only when no other phase runs one either: the
    // caller (`cargo xtask test`) checks the total over the main, after-restart and display runs.
    SuiteReport {
        passed,
        failed,
        problems,
    }
}

/// `"12 passed, 0 failed"` → `(12, 0)`.
fn parse_summary(line: &str) -> Option<(usize, usize)> {
    let (passed, failed) = line.trim().split_once(" passed, ")?;
    Some((
        passed.parse().ok()?,
        failed.strip_suffix(" failed")?.parse().ok()?,
    ))
}

/// The folder of the tests that need a display (WasGo's permission dialog).
pub const DISPLAY_DIR: &str = "res://tests/display/";

/// Runs the tests of [`DISPLAY_DIR`] in a windowed Godot on a virtual X display (`xvfb-run`,
/// software OpenGL, dummy audio), installing `xvfb-run` when it is missing and this user can.
/// `None` when it cannot be had.
pub fn run_display_suite(
    godot: &Path,
    repo: &Repo,
    filter: Option<&str>,
) -> Result<Option<SuiteReport>> {
    let Some(xvfb) = crate::toolchains::ensure_xvfb_run() else {
        return Ok(None);
    };
    let project = repo.project();
    let project = project.to_string_lossy();
    let godot = godot.to_string_lossy();
    let dir_arg = format!("--dir={DISPLAY_DIR}");
    let filter_arg = filter.map(|f| format!("--filter={f}"));
    let mut args = vec![
        "-a",
        &godot,
        "--path",
        &project,
        "--rendering-driver",
        "opengl3",
        "--audio-driver",
        "Dummy",
        "-s",
        "res://tests/run_tests.gd",
        "--",
        &dir_arg,
    ];
    if let Some(f) = &filter_arg {
        args.push(f.as_str());
    }
    let run = run_godot(&xvfb, &args, SUITE_TIMEOUT, true)?;
    Ok(Some(judge_suite(&run)))
}

/// The scene `cargo xtask run` plays.
pub const DEMO_SCENE: &str = "res://demo/arena.tscn";

/// Runs the demo scene (with mods interpreted when `interpreter`); fails on a bad exit, a
/// timeout or a fatal output line.
pub fn run_demo(godot: &Path, repo: &Repo, windowed: bool, interpreter: bool) -> Result<()> {
    let project = repo.project();
    let project = project.to_string_lossy();
    let mut args = vec!["--path", &project, DEMO_SCENE];
    if !windowed {
        args.insert(0, "--headless");
    }
    if interpreter {
        args.extend(["--", INTERPRETER_ARG]);
    }
    let run = run_godot(godot, &args, DEMO_TIMEOUT, true)?;
    let mut problems: Vec<String> = run.exit_problem().into_iter().collect();
    problems.extend(run.lines_matching(FATAL_PATTERNS));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            format!("the demo failed:\n  - {}", problems.join("\n  - ")),
            "read Godot's output above",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(lines: &[&str], outcome: Outcome) -> GodotRun {
        GodotRun {
            command: "godot".into(),
            outcome,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn exited_ok() -> Outcome {
        #[cfg(unix)]
        use std::os::unix::process::ExitStatusExt;
        #[cfg(windows)]
        use std::os::windows::process::ExitStatusExt;
        Outcome::Exited(ExitStatus::from_raw(0))
    }

    #[test]
    fn parses_the_summary_line() {
        assert_eq!(parse_summary("12 passed, 3 failed"), Some((12, 3)));
        assert_eq!(parse_summary("PASS x"), None);
        assert_eq!(parse_summary("1 passed, many failed"), None);
    }

    #[test]
    fn a_clean_run_has_no_problems() {
        let report = judge_suite(&run_with(
            &["PASS a", "PASS b", "2 passed, 0 failed"],
            exited_ok(),
        ));
        assert_eq!((report.passed, report.failed), (2, 0));
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    #[test]
    fn script_errors_and_leaks_fail_a_run_whose_tests_passed() {
        let lines = [
            "SCRIPT ERROR: Invalid call",
            "PASS a",
            "1 passed, 0 failed",
            "WARNING: ObjectDB instances leaked at exit",
        ];
        let report = judge_suite(&run_with(&lines, exited_ok()));
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    }

    #[test]
    fn a_killed_run_is_counted_from_its_lines() {
        let report = judge_suite(&run_with(
            &["PASS a", "FAIL b: timed out"],
            Outcome::TimedOut(Duration::from_secs(1)),
        ));
        assert_eq!((report.passed, report.failed), (1, 1));
        assert!(report.problems.iter().any(|p| p.contains("was killed")));
        assert!(report.problems.iter().any(|p| p.starts_with("FAIL b")));
    }

    #[cfg(unix)]
    #[test]
    fn a_hanging_process_is_killed_at_the_timeout() {
        let started = Instant::now();
        let run = run_godot(
            Path::new("sh"),
            &["-c", "echo before; sleep 30; echo after"],
            Duration::from_millis(500),
            false,
        )
        .unwrap();
        assert!(matches!(run.outcome, Outcome::TimedOut(_)));
        assert_eq!(run.lines, vec!["before".to_string()]);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
