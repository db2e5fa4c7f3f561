//! The Rust mods in `mods/` (their own cargo workspace, built for `wasm32-wasip1`), copied to
//! `godot_project/tests/mods/<name>.wasm` where the Godot suite and the demo load them, with the
//! Go `GOOS=js` and waPC test mods of the other guest kinds; then the example mods in every
//! language ([`crate::examples`]).

use std::fs;
use std::path::PathBuf;

use crate::cargo_steps::{install, WASM_TARGET};
use crate::command::{self, cargo};
use crate::{Failure, Repo, Result};

/// Folders under `mods/` whose every sub-folder is one mod package named like the folder.
const MOD_GROUPS: &[&str] = &["tests"];

/// Builds every mod (release profile) and copies the `.wasm` files into the Godot project.
pub fn build(repo: &Repo) -> Result<()> {
    let mods_dir = repo.root.join("mods");
    let target_dir = mods_dir.join("target");
    command::run(
        cargo()
            .current_dir(&mods_dir)
            .args([
                "build",
                "--release",
                "--target",
                WASM_TARGET,
                "--manifest-path",
            ])
            .arg(mods_dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir),
        "fix the mod build error shown above",
    )?;
    let out_dir = target_dir.join(WASM_TARGET).join("release");
    let dest_dir = repo.project().join("tests/mods");
    let mut copied = Vec::new();
    for name in mod_names(repo)? {
        let built = out_dir.join(format!("{name}.wasm"));
        let dest = dest_dir.join(format!("{name}.wasm"));
        install(
            &built,
            &dest,
            "a mod's package name must match its folder name and it must build a .wasm (`src/main.rs`, or a `cdylib`)",
        )?;
        copied.push(name);
    }
    copied.extend(build_guest_kind_mods(repo, &dest_dir)?);
    println!(
        "xtask: mods in {}: {}",
        dest_dir.display(),
        copied.join(", ")
    );
    crate::examples::build(repo)
}

/// The Go `GOOS=js` test mods (Go modules under `mods/tests/`, built with the stock toolchain and
/// no WasGo changes).
pub const GOJS_TEST_MODS: &[&str] = &["gojs_basic", "gojs_panic", "gojs_callback"];
/// The C test mods (a folder of `.c` files under `mods/tests/`, built against the C SDK with
/// the examples' clang command).
pub const C_TEST_MODS: &[&str] = &["c_sdk"];
/// The Rust test mods that are each a workspace of their own, built for
/// [`OWN_WORKSPACE_TARGET`]: the waPC guest (the published `wapc-guest` crate) and the `no_std`
/// SDK mods of the hot-reload test (the SDK's allocator and panic handler would clash with the
/// `std` test mods' if they shared the `mods/` workspace's feature set), and the benchmark's
/// compute kernels (their own release profile, opt-level 3) and the bulk frame rows' SDK mod.
pub const OWN_WORKSPACE_TEST_MODS: &[&str] = &[
    "wapc_echo",
    "hot_state",
    "hot_state_v2",
    "bench_compute",
    "bench_swarm",
];
/// The target those test mods are built for.
const OWN_WORKSPACE_TARGET: &str = "wasm32-unknown-unknown";

/// Builds the Go-js test mods, the C test mods and the test mods with a workspace of their own
/// into `dest_dir`; returns their names.
fn build_guest_kind_mods(repo: &Repo, dest_dir: &std::path::Path) -> Result<Vec<String>> {
    let mut built = Vec::new();
    for name in GOJS_TEST_MODS {
        let dir = repo.root.join("mods/tests").join(name);
        let mut cmd = crate::toolchains::go_build(repo, &dir, "js")?;
        cmd.arg("-o")
            .arg(dest_dir.join(format!("{name}.wasm")))
            .arg(".");
        command::run(&mut cmd, "fix the Go build error shown above")?;
        built.push(name.to_string());
    }
    if !C_TEST_MODS.is_empty() {
        crate::toolchains::ensure_apt_packages()?;
    }
    for name in C_TEST_MODS {
        let dir = repo.root.join("mods/tests").join(name);
        crate::examples::build_c(repo, &dir, &dest_dir.join(format!("{name}.wasm")))?;
        built.push(name.to_string());
    }
    crate::cargo_steps::ensure_target(OWN_WORKSPACE_TARGET)?;
    let target_dir = repo.root.join("mods/target");
    for name in OWN_WORKSPACE_TEST_MODS {
        build_own_workspace_mod(
            repo,
            name,
            &target_dir,
            &[],
            &dest_dir.join(format!("{name}.wasm")),
        )?;
        built.push(name.to_string());
    }
    for (name, built_as) in UNROLLED_TEST_MODS {
        let dest = dest_dir.join(format!("{built_as}.wasm"));
        build_own_workspace_mod(
            repo,
            name,
            &target_dir.join("unrolled"),
            LOOP_UNROLL_FLAGS,
            &dest,
        )?;
        built.push(built_as.to_string());
    }
    Ok(built)
}

/// Builds the test mod in folder `name` (a workspace of its own) for [`OWN_WORKSPACE_TARGET`]
/// into `target_dir` and installs its `.wasm` as `dest`. With `flags`, they are given to the
/// compiler for the mod's own crate only (`cargo rustc`), where its link-time optimization runs.
fn build_own_workspace_mod(
    repo: &Repo,
    name: &str,
    target_dir: &std::path::Path,
    flags: &[&str],
    dest: &std::path::Path,
) -> Result<()> {
    let manifest = repo.root.join("mods/tests").join(name).join("Cargo.toml");
    let mut cmd = cargo();
    if flags.is_empty() {
        cmd.arg("build");
    } else {
        cmd.args(["rustc", "--lib"]);
    }
    cmd.args([
        "--release",
        "--target",
        OWN_WORKSPACE_TARGET,
        "--manifest-path",
    ])
    .arg(&manifest)
    .arg("--target-dir")
    .arg(target_dir);
    if !flags.is_empty() {
        cmd.arg("--").args(flags);
    }
    command::run(&mut cmd, "fix the test mod build error shown above")?;
    let wasm = target_dir
        .join(OWN_WORKSPACE_TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    install(
        &wasm,
        dest,
        "a test mod with a workspace of its own is a `cdylib` named like its folder",
    )
}

/// The compiler flags of the README's recipe for loop-heavy Rust mods ("What is cheap and what
/// is not"): LLVM unrolls loops eight times, so the interruption check wasmtime puts at every
/// loop header (what lets `kill()` and the budgets stop a spinning mod) and the register spills
/// it causes are paid once per eight iterations. Measured in BENCHMARKS.md ("Twelfth pass").
pub const LOOP_UNROLL_FLAGS: &[&str] = &["-C", "llvm-args=-unroll-count=8"];

/// Test mods built a second time with [`LOOP_UNROLL_FLAGS`] (`cargo rustc`, so the flags reach
/// only the mod's own crate, where its link-time optimization runs), as (folder, installed
/// name): the benchmark prints the compute kernels both ways.
const UNROLLED_TEST_MODS: &[(&str, &str)] = &[("bench_compute", "bench_compute_unrolled")];

/// The mod packages: every folder with a `Cargo.toml` under the [`MOD_GROUPS`], sorted.
fn mod_names(repo: &Repo) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for group in MOD_GROUPS {
        let dir: PathBuf = repo.root.join("mods").join(group);
        let entries = fs::read_dir(&dir).map_err(|e| {
            Failure::new(
                format!("cannot list `{}`: {e}", dir.display()),
                "run xtask from a full checkout",
            )
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join("Cargo.toml").is_file()
                && !OWN_WORKSPACE_TEST_MODS.contains(&name.as_str())
            {
                names.push(name);
            }
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_mods_the_godot_suite_loads() {
        let names = mod_names(&Repo::locate()).unwrap();
        for needed in ["hello", "levels", "spin", "worker_probe"] {
            assert!(
                names.iter().any(|n| n == needed),
                "missing mod `{needed}` in {names:?}"
            );
        }
    }

    /// The recipe the benchmark measures is the one the mod authors' documents give.
    #[test]
    fn the_documents_give_the_loop_unrolling_flags_the_benchmark_uses() {
        let repo = Repo::locate();
        let flags = LOOP_UNROLL_FLAGS.join(" ");
        for doc in ["README.md", "mods/examples/rust/README.md"] {
            let text = fs::read_to_string(repo.root.join(doc)).unwrap();
            assert!(text.contains(&flags), "{doc} does not give `{flags}`");
        }
    }
}
