//! The Rust mods in `mods/` (their own cargo workspace, built for `wasm32-wasip1`), copied to
//! `godot_project/tests/mods/<name>.wasm` where the Godot suite and the demo load them; then the
//! example mods in every language ([`crate::examples`]).

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
    println!(
        "xtask: mods in {}: {}",
        dest_dir.display(),
        copied.join(", ")
    );
    crate::examples::build(repo)
}

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
            if entry.path().join("Cargo.toml").is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
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
}
