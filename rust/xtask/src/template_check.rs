//! The templates survive being copied: `cargo xtask test` copies each Rust and C example (its
//! folder under `mods/examples/` plus every SDK folder it names, `../../sdk/<language>`, in the
//! same relative layout) to a directory outside the repository and builds it there with the
//! command its README gives, unchanged. A template that reaches into the repository (a path
//! dependency on `rust/...`, an include path that only resolves inside the checkout) fails here.
//!
//! The copies live in the system's temporary directory (`wasgo-template-check/`), made afresh
//! each run. Cargo builds run offline (the registry is warm after `cargo xtask mods`) and share
//! one target directory, `mods/target/template-check/` (only build artifacts: the sources and the
//! manifests cargo reads are the copies), so dependencies compile once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{self, cargo};
use crate::examples::EXAMPLES;
use crate::{Failure, Repo, Result};

/// The languages whose templates are checked, with the program their README command starts
/// with.
const CHECKED: &[(&str, &str)] = &[("Rust", "cargo build"), ("C", "clang ")];

/// The program a template in `language` ("Rust", "Rust (waPC)", "C", ...) is built with, when
/// it is checked.
fn program_of(language: &str) -> Option<&'static str> {
    CHECKED
        .iter()
        .find(|(checked, _)| language.starts_with(checked))
        .map(|(_, program)| *program)
}

/// Copies and builds every Rust and C template outside the repository.
pub fn check(repo: &Repo) -> Result<()> {
    let outside = std::env::temp_dir().join("wasgo-template-check");
    if outside.starts_with(&repo.root) {
        return Err(Failure::new(
            format!(
                "the temporary directory `{}` is inside the repository",
                outside.display()
            ),
            "set TMPDIR to a directory outside the checkout",
        ));
    }
    let _ = fs::remove_dir_all(&outside);
    let target_dir = repo.root.join("mods/target/template-check");
    let mut checked = Vec::new();
    for example in EXAMPLES {
        let Some(program) = program_of(example.language) else {
            continue;
        };
        let source = repo.root.join("mods/examples").join(example.dir);
        let readme = read(&source.join("README.md"))?;
        let line = readme_command(&readme, program).ok_or_else(|| {
            Failure::new(
                format!(
                    "`mods/examples/{}/README.md` gives no `{}...` command to build the template",
                    example.dir,
                    program.trim()
                ),
                "write the one command that builds the folder into its README",
            )
        })?;
        let copy = outside.join("mods/examples").join(example.dir);
        copy_tree(&source, &copy)?;
        let manifest = fs::read_to_string(source.join("Cargo.toml")).unwrap_or_default();
        for sdk in sdk_folders(&format!("{manifest}\n{line}")) {
            let from = repo.root.join("mods/sdk").join(&sdk);
            if !from.is_dir() {
                return Err(Failure::new(
                    format!(
                        "`mods/examples/{}` names `../../sdk/{sdk}`, which does not exist",
                        example.dir
                    ),
                    "point the template at an SDK folder under mods/sdk",
                ));
            }
            copy_tree(&from, &outside.join("mods/sdk").join(&sdk))?;
        }
        let mut cmd = command_from(&line)?;
        cmd.current_dir(&copy)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("CARGO_NET_OFFLINE", "true");
        command::run(
            &mut cmd,
            &format!(
                "make `mods/examples/{}` build on its own with the command in its README (copied with the SDK folder it names to {})",
                example.dir,
                copy.display()
            ),
        )?;
        let built = match output_of(&line) {
            Some(out) => copy.join(out),
            None => target_dir
                .join("wasm32-unknown-unknown/release")
                .join(format!("{}.wasm", example.name)),
        };
        let bytes = fs::read(&built).unwrap_or_default();
        if !bytes.starts_with(b"\0asm") {
            return Err(Failure::new(
                format!(
                    "the template `mods/examples/{}` built, but `{}` is not a WebAssembly module",
                    example.dir,
                    built.display()
                ),
                "check the package name and the `-o` of its README command",
            ));
        }
        checked.push(example.dir);
    }
    let _ = fs::remove_dir_all(&outside);
    println!(
        "xtask: templates built outside the repository with their README commands: {}",
        checked.join(", ")
    );
    Ok(())
}

/// The first command in `readme` that starts with `program`: a line of a fenced `sh` block
/// (lines ending in `\` continued, a trailing `# comment` dropped), or an inline code span.
pub fn readme_command(readme: &str, program: &str) -> Option<String> {
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_sh = !in_sh && trimmed.trim_start_matches('`').starts_with("sh");
            pending.clear();
            continue;
        }
        if in_sh {
            let code = trimmed.split(" #").next().unwrap_or("").trim();
            if let Some(start) = code.strip_suffix('\\') {
                pending.push_str(start.trim_end());
                pending.push(' ');
                continue;
            }
            let whole = format!("{pending}{code}");
            pending.clear();
            if whole.starts_with(program) {
                return Some(whole);
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with(program) {
                return Some(span.to_string());
            }
        }
    }
    None
}

/// The SDK folders `text` names as `../../sdk/<name>`.
fn sdk_folders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split("../../sdk/")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// A command line as a `Command` (`cargo` is the one running xtask). Quoting is refused: the
/// README commands are plain words.
fn command_from(line: &str) -> Result<Command> {
    if line.contains(['"', '\'', '$', '`']) {
        return Err(Failure::new(
            format!("the README command `{line}` uses quoting or variables"),
            "keep template build commands to plain words",
        ));
    }
    let mut words = line.split_whitespace();
    let program = words.next().unwrap_or_default();
    let mut cmd = if program == "cargo" {
        cargo()
    } else {
        Command::new(program)
    };
    cmd.args(words);
    Ok(cmd)
}

/// The file a command writes with `-o <file>`, if it names one.
fn output_of(line: &str) -> Option<PathBuf> {
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        if word == "-o" {
            return words.next().map(PathBuf::from);
        }
    }
    None
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| {
        Failure::new(
            format!("cannot read `{}`: {e}", path.display()),
            "run xtask from a full checkout",
        )
    })
}

/// Copies the folder `from` to `to` (made), leaving out build output (`target/`).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let fail = |path: &Path, e: std::io::Error| {
        Failure::new(
            format!("cannot copy `{}`: {e}", path.display()),
            "check the disk space and the temporary directory's permissions",
        )
    };
    fs::create_dir_all(to).map_err(|e| fail(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| fail(from, e))?.flatten() {
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&path, &dest)?;
            }
        } else {
            fs::copy(&path, &dest).map_err(|e| fail(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_commands_are_found_in_sh_blocks_with_continuations_and_in_code_spans() {
        let readme = "Intro.\n\n```sh\ncargo xtask mods   # from the root\n# or by hand:\nclang --target=wasm32-wasi -Oz \\\n      -I ../../sdk/c -o m.wasm m.c\n```\n\nOr `cargo build --release --target wasm32-unknown-unknown` here.\n";
        assert_eq!(
            readme_command(readme, "clang ").as_deref(),
            Some("clang --target=wasm32-wasi -Oz -I ../../sdk/c -o m.wasm m.c")
        );
        assert_eq!(
            readme_command(readme, "cargo build").as_deref(),
            Some("cargo build --release --target wasm32-unknown-unknown")
        );
        assert_eq!(readme_command(readme, "zig "), None);
    }

    #[test]
    fn sdk_folders_and_outputs_are_read_from_the_command() {
        assert_eq!(
            sdk_folders("wasgo-sdk = { path = \"../../sdk/rust\" }\nclang -I ../../sdk/c x"),
            vec!["c".to_string(), "rust".to_string()]
        );
        assert_eq!(
            output_of("clang -o scorekeeper.wasm scorekeeper.c"),
            Some(PathBuf::from("scorekeeper.wasm"))
        );
        assert!(command_from("cargo build \"quoted\"").is_err());
    }

    #[test]
    fn every_checked_template_has_a_readme_command() {
        let repo = Repo::locate();
        for example in EXAMPLES {
            let Some(program) = program_of(example.language) else {
                continue;
            };
            let readme = fs::read_to_string(
                repo.root
                    .join("mods/examples")
                    .join(example.dir)
                    .join("README.md"),
            )
            .unwrap();
            assert!(
                readme_command(&readme, program).is_some(),
                "{} has no `{program}` command",
                example.dir
            );
        }
    }
}
