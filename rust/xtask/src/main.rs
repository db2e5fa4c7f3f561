//! `cargo xtask` — WasGo's build, provisioning and test driver (std, the catalog, and `wat`).
//!
//! - `cargo xtask test` — everything a fresh machine needs to run every test: the wasm target,
//!   Godot 4 (found or provisioned), the extension and the test mods, `cargo test`, then the
//!   headless Godot suite (twice: compiled, then interpreted), the demo (also interpreted), the
//!   exported game ([`export_check`]) and the templates built
//!   outside the repository ([`template_check`]). Fails on any test
//!   failure, script error, extension load failure, leaked object or timeout; ends with
//!   `N passed, M failed` for the Godot suite.
//! - `cargo xtask run [--windowed] [--interpreter]` — release build of the extension and the mods,
//!   then the demo (`--interpreter`: mods run in wasmtime's interpreter).
//! - `cargo xtask mods` — only the mods.
//! - `cargo xtask cross [--release]` — the extension for Windows x86_64 and Linux arm64
//!   ([`cross`], which also holds the platform table `wasgo.gdextension` is checked against).
//! - `cargo xtask bindings [--check]` — the guest bindings and `docs/abi.md`, generated from the
//!   host-function catalog ([`bindings`]); `--check` fails on stale files (`test` runs it too).
//!
//! Each step lives in its own module: [`cargo_steps`] (Rust builds and tests), [`mods`] (wasm
//! mods), [`godot`] (finding, provisioning and importing Godot; the provisioned copy in
//! [`godot_provision`]), [`godot_run`] (running Godot under a timeout while streaming and scanning
//! its output), [`demo_check`] and [`export_check`] (the demo, played in place and exported);
//! [`step_times`] times the steps of `test`.

mod bench;
mod bench_compute;
mod bench_targets;
mod bindings;
mod cargo_steps;
mod command;
mod cross;
mod demo_check;
mod disk;
mod doc_check;
mod editor_live;
mod examples;
mod export_check;
mod fuzz;
mod godot;
mod godot_provision;
mod godot_run;
mod mods;
mod step_times;
mod template_check;
mod toolchains;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use cargo_steps::Profile;
use step_times::StepTimes;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test [--skip-cargo-test] [--filter TEXT]
        install the wasm target, find or provision Godot 4, build the extension (dev profile)
        and the test mods, run `cargo test --workspace` and the code gates (`cargo fmt --all
        --check`, `cargo clippy --workspace --all-targets -- -D warnings`; both skipped with
        --skip-cargo-test), import the Godot project and run the
        headless Godot suite (only tests whose `file::name` contains TEXT with --filter; the
        editor plugin's tests in tests/editor/ when TEXT contains `editor`), then play the demo
        headless, started by Godot's own executable path like the editor's Play, and check its
        transcript, then play it again under a CPU hog on two cores, where no example mod may
        trap, and again with mods interpreted (none of the demo runs with --filter); the Godot
        suite also runs a second time with mods interpreted (`--wasgo-mode=interpreter`, less
        test_soak); then export the project as a .pck and play the arena
        from it with the library beside the executable (without --filter, or when TEXT
        contains `export`), and copy each Rust and C example with its SDK folder outside the
        repository and build it there with its README command (without --filter, or when
        TEXT contains `template`); `cargo check` the extension for Windows x86_64 and Linux
        arm64, installing their Rust targets and C cross compilers (without --filter, or when
        TEXT contains `cross`). Prints how long each step took, and a table of them at the end
  cross [--release]
        build the extension for Windows x86_64 and Linux arm64 (installing their Rust targets
        and C cross compilers) and copy the libraries into godot_project/addons/wasgo/bin/
        under their wasgo.gdextension names
  run [--windowed] [--interpreter]
        build the extension (release) and the mods, then run the demo (headless unless --windowed;
        --interpreter runs the mods in wasmtime's interpreter: `-- --wasgo-mode=interpreter`)
  mods  build the test mods into godot_project/tests/mods/ and the example mods (Rust, C, Zig,
        AssemblyScript, Go, WAT) into godot_project/demo/mods/, installing their toolchains
  toolchains
        install the example mods' toolchains (clang and wasi-libc, binaryen, Zig, AssemblyScript,
        Go 1.24) where missing; `mods` does this by itself
  bindings [--check]
        regenerate the guest bindings (mods/sdk/) and docs/abi.md from the host-function
        catalog; with --check, only fail if a checked-in file is stale
  fuzz [--seconds N]
        run every fuzz target (rust/wasgo-core/tests/fuzz/) for N seconds (default 60) from a
        random seed and print executions and failures; `cargo test` runs a short pass of each
  bench
        build the extension (release) and the mods, then run the speed benchmarks headless;
        each prints its figures and ratios (recorded in BENCHMARKS.md)
  help  show this text

environment:
  GODOT             a Godot 4.5+ binary to use instead of searching PATH or provisioning one
  CARGO_TARGET_DIR  honoured for the extension build (default: target/)";

/// A step that failed: what went wrong and what the user can do about it.
#[derive(Debug)]
pub struct Failure {
    what: String,
    fix: String,
}

impl Failure {
    /// `what` says what failed; `fix` says what to do (may be empty).
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.what)?;
        if !self.fix.is_empty() {
            write!(f, "\n  what to do: {}", self.fix)?;
        }
        Ok(())
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Where things are in the repository.
pub struct Repo {
    pub root: PathBuf,
}

impl Repo {
    fn locate() -> Self {
        // rust/xtask → the repository root, fixed at compile time.
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = manifest
            .ancestors()
            .nth(2)
            .map(PathBuf::from)
            .unwrap_or(manifest);
        Self { root }
    }

    /// The Godot project (`godot_project/`).
    pub fn project(&self) -> PathBuf {
        self.root.join("godot_project")
    }

    /// Cargo's target directory for the main workspace (`$CARGO_TARGET_DIR` or `target/`).
    pub fn target_dir(&self) -> PathBuf {
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => self.root.join(dir),
            _ => self.root.join("target"),
        }
    }
}

enum Task {
    Test {
        skip_cargo_test: bool,
        filter: Option<String>,
    },
    Run {
        windowed: bool,
        /// Mods interpreted (`--wasgo-mode=interpreter`) instead of compiled.
        interpreter: bool,
    },
    Mods,
    Bindings {
        check: bool,
    },
    Toolchains,
    Cross {
        release: bool,
    },
    Bench,
    Fuzz {
        seconds: u64,
    },
    Help,
}

fn parse(args: &[String]) -> Result<Task> {
    let bad = |arg: &str| {
        Failure::new(
            format!("unknown argument `{arg}`"),
            "run `cargo xtask help`",
        )
    };
    let Some((command, rest)) = args.split_first() else {
        return Ok(Task::Help);
    };
    match command.as_str() {
        "test" => {
            let (mut skip_cargo_test, mut filter) = (false, None);
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--skip-cargo-test" => skip_cargo_test = true,
                    "--filter" => {
                        let text = rest.next().ok_or_else(|| {
                            Failure::new(
                                "`--filter` needs a value",
                                "e.g. `cargo xtask test --filter kill`",
                            )
                        })?;
                        filter = Some(text.clone());
                    }
                    other => return Err(bad(other)),
                }
            }
            Ok(Task::Test {
                skip_cargo_test,
                filter,
            })
        }
        "run" => {
            let (mut windowed, mut interpreter) = (false, false);
            for flag in rest {
                match flag.as_str() {
                    "--windowed" => windowed = true,
                    "--interpreter" => interpreter = true,
                    other => return Err(bad(other)),
                }
            }
            Ok(Task::Run {
                windowed,
                interpreter,
            })
        }
        "cross" => match rest {
            [] => Ok(Task::Cross { release: false }),
            [flag] if flag == "--release" => Ok(Task::Cross { release: true }),
            [other, ..] => Err(bad(other)),
        },
        "mods" if rest.is_empty() => Ok(Task::Mods),
        "toolchains" if rest.is_empty() => Ok(Task::Toolchains),
        "bench" if rest.is_empty() => Ok(Task::Bench),
        "fuzz" => match rest {
            [] => Ok(Task::Fuzz { seconds: 60 }),
            [flag, n] if flag == "--seconds" => n
                .parse()
                .map(|seconds| Task::Fuzz { seconds })
                .map_err(|_| {
                    Failure::new(
                        format!("`--seconds` needs a whole number, not `{n}`"),
                        "e.g. `cargo xtask fuzz --seconds 60`",
                    )
                }),
            [other, ..] => Err(bad(other)),
        },
        "bindings" => match rest {
            [] => Ok(Task::Bindings { check: false }),
            [flag] if flag == "--check" => Ok(Task::Bindings { check: true }),
            [other, ..] => Err(bad(other)),
        },
        "help" | "--help" | "-h" => Ok(Task::Help),
        other => Err(bad(other)),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = Repo::locate();
    let outcome = parse(&args).and_then(|task| match task {
        Task::Test {
            skip_cargo_test,
            filter,
        } => test(&repo, skip_cargo_test, filter.as_deref()),
        Task::Run {
            windowed,
            interpreter,
        } => run(&repo, windowed, interpreter),
        Task::Mods => cargo_steps::ensure_wasm_target().and_then(|()| mods::build(&repo)),
        Task::Bindings { check: false } => bindings::write(&repo),
        Task::Bindings { check: true } => bindings::check(&repo),
        Task::Toolchains => toolchains::ensure_all(&repo),
        Task::Cross { release } => cross::build(
            &repo,
            if release {
                Profile::Release
            } else {
                Profile::Dev
            },
        ),
        Task::Bench => bench::run(&repo),
        Task::Fuzz { seconds } => fuzz::fuzz(&repo, seconds),
        Task::Help => {
            println!("{USAGE}");
            Ok(())
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xtask: error: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask test`: [`test_steps`], timed; the table of step times is printed before the last
/// line, or at the end when a step stopped the run.
fn test(repo: &Repo, skip_cargo_test: bool, filter: Option<&str>) -> Result<()> {
    disk::warn_if_short(&repo.target_dir());
    let mut times = StepTimes::watching_disk_of(repo.target_dir());
    let outcome = test_steps(repo, skip_cargo_test, filter, &mut times);
    times.print_summary();
    outcome
}

/// Every step of `cargo xtask test`, each timed in `times`.
fn test_steps(
    repo: &Repo,
    skip_cargo_test: bool,
    filter: Option<&str>,
    times: &mut StepTimes,
) -> Result<()> {
    // Stale bindings fail the run, but the rest still runs: its results are worth seeing too.
    let bindings_check = times.time("bindings check", || bindings::check(repo));
    times.time("wasm target", cargo_steps::ensure_wasm_target)?;
    // The extension for the other platforms, checked without linking (`cargo xtask cross` links):
    // in the background, on the CPU the other steps leave idle, until the end of the run.
    let cross_check = if filter.is_none_or(|f| f.contains("cross")) {
        Some(times.time("cross check (start)", || cross::start_check(repo)))
    } else {
        None
    };
    let godot = times.time("find or provision godot", || {
        godot::locate_or_provision(repo)
    })?;
    times.time("build extension", || {
        cargo_steps::build_extension(repo, Profile::Dev)
    })?;
    times.time("build mods", || mods::build(repo))?;
    // The templates, copied out of the repository and built there (the registry is warm now).
    let templates = if filter.is_none_or(|f| f.contains("template")) {
        times.time("template check", || template_check::check(repo))
    } else {
        Ok(())
    };
    // A failing `cargo test` or lint gate does not stop the Godot suite: all results are worth
    // seeing.
    let cargo_tests = if skip_cargo_test {
        Ok(())
    } else {
        times.time("cargo test", || cargo_steps::test_workspace(repo))
    };
    let lints = if skip_cargo_test {
        Ok(())
    } else {
        times.time("fmt and clippy", || cargo_steps::lint_workspace(repo))
    };
    times.time("import project", || godot::import_project(&godot, repo))?;
    let mut suite = times.time("godot suite", || godot_run::run_suite(&godot, repo, filter))?;
    // The same suite with mods interpreted (Pulley): every limit and host function in both modes.
    let interpreted = times.time("godot suite interpreted", || {
        godot_run::run_interpreter_suite(&godot, repo, filter)
    })?;
    suite.absorb(interpreted, "interpreter mode");
    // What must survive a restart of the game is checked by a second Godot process.
    if filter.is_none_or(|f| f.contains("restart")) {
        let second = times.time("godot suite after restart", || {
            godot_run::run_suite_in(&godot, repo, Some(godot_run::AFTER_RESTART_DIR), filter)
        })?;
        suite.absorb(second, "after restart");
    }
    // The instance pool is chosen when the extension starts: its tests get their own process.
    if filter.is_none_or(|f| f.contains("pool")) {
        let pooled = times.time("godot suite with an instance pool", || {
            godot_run::run_pool_suite(&godot, repo, filter)
        })?;
        suite.absorb(pooled, "with an instance pool");
    }
    // The editor plugin's data logic, headless (`tests/editor/`).
    if filter.is_none_or(|f| f.contains("editor")) {
        let editor = times.time("editor tests", || {
            godot_run::run_suite_in(&godot, repo, Some(godot_run::EDITOR_DIR), filter)
        })?;
        suite.absorb(editor, "editor tests");
    }
    // The editor plugin inside a real headless editor (Project Settings help lines).
    if filter.is_none_or(|f| f.contains("editor")) {
        let live = times.time("editor live", || editor_live::run(&godot, repo))?;
        suite.absorb(live, "in the editor");
    }
    // WasGo's permission dialog needs a display: a virtual one (`xvfb-run`, installed if missing).
    if filter.is_none_or(|f| f.contains("dialog")) {
        match times.time("display tests", || {
            godot_run::run_display_suite(&godot, repo, filter)
        })? {
            Some(display) => {
                suite.absorb(display, "with a display");
            }
            None => println!(
                "xtask: skipping the display tests ({}): `xvfb-run` is not installed and cannot be installed here (not root, or no apt-get)",
                godot_run::DISPLAY_DIR
            ),
        }
    }
    // The demo plays in full runs only: a filtered run targets particular Godot tests.
    let demo = if filter.is_none() {
        times.time("demo", || demo_check::check(&godot, repo))
    } else {
        Ok(())
    };
    // The demo again with both cores busy: no example mod may trap because the machine is loaded.
    let demo_loaded = if filter.is_none() {
        times.time("demo under load", || {
            demo_check::check_under_load(&godot, repo)
        })
    } else {
        Ok(())
    };
    // The demo with mods interpreted: every example mod must act in both modes.
    let demo_interpreted = if filter.is_none() {
        times.time("demo interpreted", || {
            demo_check::check_interpreted(&godot, repo)
        })
    } else {
        Ok(())
    };
    // The class reference Godot's doctool writes for WasGo's classes, with every description.
    let docs = if filter.is_none_or(|f| f.contains("doc")) {
        times.time("doc check", || doc_check::check(&godot, repo))
    } else {
        Ok(())
    };
    // The shipped game: a `.pck` export played with the library beside the executable.
    let export = if filter.is_none_or(|f| f.contains("export")) {
        times.time("export check", || export_check::check(&godot, repo))
    } else {
        Ok(())
    };

    // The background cross check ends first: the release build and suite then have the CPU
    // to themselves.
    let cross_check = match cross_check {
        Some(Ok(running)) => times.time("cross check (wait for the end)", || running.finish()),
        Some(Err(failure)) => Err(failure),
        None => Ok(()),
    };

    // The library a game ships: the main suite again with the release build, last (the steps
    // above use the debug library). gdext's own runtime checks are off in release builds
    // (`safeguards-release-disengaged`), so a path that only they kept from crashing fails here.
    let release_suite = if filter.is_none() {
        times.time("godot suite, release library", || {
            cargo_steps::build_extension(repo, Profile::Release)?;
            godot_run::run_suite(&godot, repo, None)
        })
    } else {
        Ok(godot_run::SuiteReport::default())
    };
    let release_suite = match release_suite {
        Ok(report) => {
            suite.absorb(report, "release library");
            Ok(())
        }
        Err(failure) => Err(failure),
    };

    let mut problems = Vec::new();
    let outside_godot = filter.is_some_and(|f| {
        f.contains("export") || f.contains("template") || f.contains("doc") || f.contains("cross")
    });
    if suite.passed + suite.failed == 0 && !outside_godot {
        problems.push(match filter {
            Some(f) => format!("no Godot test matched `--filter {f}`"),
            None => "no Godot test ran".into(),
        });
    }
    for outcome in [
        bindings_check,
        cargo_tests,
        lints,
        cross_check,
        release_suite,
    ] {
        if let Err(failure) = outcome {
            problems.push(failure.to_string());
        }
    }
    problems.extend(suite.problems.iter().cloned());
    for outcome in [demo, demo_loaded, demo_interpreted, export, docs, templates] {
        if let Err(failure) = outcome {
            problems.push(failure.to_string());
        }
    }
    if !problems.is_empty() {
        eprintln!("\nxtask: the test run failed:");
        for problem in &problems {
            eprintln!("  - {problem}");
        }
    }
    times.print_summary();
    println!("{} passed, {} failed", suite.passed, suite.failed);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            format!("{} problem(s), listed above", problems.len()),
            "read the failing test's output above",
        ))
    }
}

/// `cargo xtask run`.
fn run(repo: &Repo, windowed: bool, interpreter: bool) -> Result<()> {
    cargo_steps::ensure_wasm_target()?;
    let godot = godot::locate_or_provision(repo)?;
    cargo_steps::build_extension(repo, Profile::Release)?;
    mods::build(repo)?;
    godot::import_project(&godot, repo)?;
    godot_run::run_demo(&godot, repo, windowed, interpreter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_test_options() {
        match parse(&args(&["test", "--filter", "kill", "--skip-cargo-test"])).unwrap() {
            Task::Test {
                skip_cargo_test,
                filter,
            } => {
                assert!(skip_cargo_test);
                assert_eq!(filter.as_deref(), Some("kill"));
            }
            _ => panic!("expected the test task"),
        }
    }

    #[test]
    fn run_takes_the_windowed_and_interpreter_flags_in_any_order() {
        match parse(&args(&["run", "--interpreter", "--windowed"])).unwrap() {
            Task::Run {
                windowed,
                interpreter,
            } => assert!(windowed && interpreter),
            _ => panic!("expected the run task"),
        }
        match parse(&args(&["run"])).unwrap() {
            Task::Run {
                windowed,
                interpreter,
            } => assert!(!windowed && !interpreter),
            _ => panic!("expected the run task"),
        }
    }

    #[test]
    fn parses_the_cross_profile() {
        assert!(matches!(
            parse(&args(&["cross"])).unwrap(),
            Task::Cross { release: false }
        ));
        assert!(matches!(
            parse(&args(&["cross", "--release"])).unwrap(),
            Task::Cross { release: true }
        ));
        assert!(parse(&args(&["cross", "--target", "x"])).is_err());
    }

    #[test]
    fn rejects_unknown_arguments() {
        assert!(parse(&args(&["run", "--fullscreen"])).is_err());
        assert!(parse(&args(&["frobnicate"])).is_err());
        assert!(parse(&args(&["test", "--filter"])).is_err());
    }

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        assert!(Repo::locate().root.join("Cargo.toml").is_file());
        assert!(Repo::locate().root.join("rust/xtask").is_dir());
    }
}
