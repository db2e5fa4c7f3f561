//! The example mods in `mods/examples/<language>/`, one per language, built small into
//! `godot_project/demo/mods/<name>.wasm`, where the demo and the Godot suite load them.
//!
//! Each build installs its toolchain first if it is missing ([`crate::toolchains`]), uses the
//! language's size options (release profile, `-Oz`, `ReleaseSmall`, stripped symbols), and then
//! runs `wasm-opt -Oz` when binaryen is installed. The Rust, C, Zig and AssemblyScript builds and
//! `wasm-opt` drop DWARF but keep the name section, so a trap's backtrace names the mod's
//! functions (demangled by WasGo). The sizes are printed at the end.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cargo_steps::{copy_replacing, ensure_target};
use crate::command::{self, cargo};
use crate::toolchains;
use crate::{Failure, Repo, Result};

/// The Rust examples are `no_std` mods for the smallest target.
const RUST_TARGET: &str = "wasm32-unknown-unknown";

/// One example mod.
pub struct Example {
    /// The mod's name: the `.wasm` file's name, and its `mod_id` in WasGo.
    pub name: &'static str,
    pub language: &'static str,
    /// Its folder under `mods/examples/`.
    pub dir: &'static str,
    build: fn(&Repo, &Path, &Path) -> Result<()>,
    /// Whether its build keeps the wasm name section (checked after every build, so a trap's
    /// backtrace keeps naming the mod's functions).
    keeps_names: bool,
}

/// Every example, in the order the sizes are printed.
pub const EXAMPLES: &[Example] = &[
    Example {
        name: "mover",
        language: "Rust",
        dir: "rust",
        build: build_rust,
        keeps_names: true,
    },
    Example {
        name: "decorator",
        language: "Rust",
        dir: "rust_decorator",
        build: build_rust,
        keeps_names: true,
    },
    Example {
        name: "hostile",
        language: "Rust",
        dir: "hostile",
        build: build_rust,
        keeps_names: true,
    },
    Example {
        name: "scorekeeper",
        language: "C",
        dir: "c",
        build: build_c,
        keeps_names: true,
    },
    Example {
        name: "greeter",
        language: "Zig",
        dir: "zig",
        build: build_zig,
        keeps_names: true,
    },
    Example {
        name: "leaderboard",
        language: "AssemblyScript",
        dir: "assemblyscript",
        build: build_assemblyscript,
        keeps_names: true,
    },
    Example {
        name: "archivist",
        language: "Go",
        dir: "go",
        build: build_go,
        keeps_names: true,
    },
    Example {
        name: "announcer",
        language: "Go (GOOS=js)",
        dir: "gojs",
        build: build_gojs,
        keeps_names: true,
    },
    Example {
        name: "ranker",
        language: "Rust (waPC)",
        dir: "wapc",
        build: build_rust,
        keeps_names: true,
    },
    Example {
        name: "bonus",
        language: "WAT",
        dir: "wat",
        build: build_wat,
        keeps_names: false,
    },
];

/// Where the built examples go.
pub fn output_dir(repo: &Repo) -> PathBuf {
    repo.project().join("demo/mods")
}

/// Builds every example (installing toolchains as needed), shrinks it and prints the sizes.
pub fn build(repo: &Repo) -> Result<()> {
    ensure_target(RUST_TARGET)?;
    toolchains::ensure_apt_packages()?;
    let work = repo.root.join("mods/target/examples-build");
    fs::create_dir_all(&work).map_err(|e| io_failure(&work, e))?;
    let wasm_opt = toolchains::wasm_opt();
    let mut sizes = Vec::new();
    for example in EXAMPLES {
        let source = repo.root.join("mods/examples").join(example.dir);
        let raw = work.join(format!("{}.wasm", example.name));
        (example.build)(repo, &source, &raw)?;
        let dest = output_dir(repo).join(format!("{}.wasm", example.name));
        // The manifest is appended after shrinking, so an edited `manifest.json` must make the
        // next run shrink (and embed) again even when the module itself did not change.
        let manifest = fs::read(source.join("manifest.json")).unwrap_or_default();
        shrink(wasm_opt.as_deref(), &raw, &manifest, &dest)?;
        embed_manifest(&source, &dest)?;
        if example.keeps_names && !has_name_section(&fs::read(&dest).unwrap_or_default()) {
            return Err(Failure::new(
                format!(
                    "`{}` has no wasm name section: trap backtraces would show `<function #N>`",
                    dest.display()
                ),
                "keep the name section in the example's build (strip DWARF only)",
            ));
        }
        let size = fs::metadata(&dest).map_err(|e| io_failure(&dest, e))?.len();
        sizes.push((example, size));
    }
    println!("xtask: example mods in {}:", output_dir(repo).display());
    for (example, size) in sizes {
        println!(
            "  {:<18} {:<15} {:>9} bytes",
            format!("{}.wasm", example.name),
            example.language,
            size
        );
    }
    if wasm_opt.is_none() {
        println!(
            "xtask: wasm-opt (binaryen) is not installed, so the mods were not shrunk further"
        );
    }
    Ok(())
}

/// The name of the custom section a mod's manifest lives in.
const MANIFEST_SECTION: &str = wasgo_catalog::MANIFEST_SECTION;

/// Appends `source/manifest.json` to the built module `dest` as its `wasgo.manifest` custom
/// section (the build step for languages without a section attribute: Zig, AssemblyScript, Go,
/// WAT, and the Rust examples that do not use `wasgo_sdk::manifest!`). A module that already has
/// the section (the SDK macro put it there) is left alone; either way every example must end up
/// with one.
fn embed_manifest(source: &Path, dest: &Path) -> Result<()> {
    let mut wasm = fs::read(dest).map_err(|e| io_failure(dest, e))?;
    if custom_section_count(&wasm, MANIFEST_SECTION) == 0 {
        let json_path = source.join("manifest.json");
        let json = fs::read(&json_path).map_err(|_| {
            Failure::new(
                format!("`{}` has no `{MANIFEST_SECTION}` section and `{}` does not exist", dest.display(), json_path.display()),
                "give the example a manifest (the SDK's manifest macro, or a manifest.json beside its source)",
            )
        })?;
        wasm.extend_from_slice(&custom_section(MANIFEST_SECTION, &json));
        fs::write(dest, &wasm).map_err(|e| io_failure(dest, e))?;
    }
    if custom_section_count(&wasm, MANIFEST_SECTION) != 1 {
        return Err(Failure::new(
            format!(
                "`{}` has more than one `{MANIFEST_SECTION}` section",
                dest.display()
            ),
            "embed the manifest once (the macro or manifest.json, not both)",
        ));
    }
    Ok(())
}

fn leb128(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A custom section: id 0, its size, the name (length-prefixed) and the bytes.
pub fn custom_section(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    leb128(&mut payload, name.len());
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(bytes);
    let mut out = vec![0u8];
    leb128(&mut out, payload.len());
    out.extend_from_slice(&payload);
    out
}

/// How many custom sections named `name` the module has (0 for bytes that do not parse).
pub fn custom_section_count(wasm: &[u8], name: &str) -> usize {
    fn leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
        let mut v = 0usize;
        for shift in (0..35).step_by(7) {
            let b = *bytes.get(*at)?;
            *at += 1;
            v |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return 0;
    }
    let (mut at, mut count) = (8, 0);
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let Some(size) = leb(wasm, &mut at) else {
            return count;
        };
        let end = at.saturating_add(size).min(wasm.len());
        if id == 0 {
            let mut inner = at;
            if let Some(n) = leb(wasm, &mut inner) {
                if wasm.get(inner..inner + n) == Some(name.as_bytes()) {
                    count += 1;
                }
            }
        }
        at = end;
    }
    count
}

fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure::new(
        format!("cannot use `{}`: {e}", path.display()),
        "check that the checkout is writable",
    )
}

/// `wasm-opt -Oz` from `raw` to `dest` (a plain copy without binaryen). Skipped when `raw` and
/// `also` (the bytes of whatever is added to `dest` afterwards: the example's `manifest.json`)
/// are unchanged since the last run, because shrinking the Go mod takes a while.
fn shrink(wasm_opt: Option<&Path>, raw: &Path, also: &[u8], dest: &Path) -> Result<()> {
    let stamp = raw.with_extension("wasm.shrunk-from");
    let raw_bytes = fs::read(raw).map_err(|e| io_failure(raw, e))?;
    let stamp_bytes = [raw_bytes.as_slice(), also].concat();
    // A stale `dest` from an older build that dropped the names is shrunk again.
    let names_kept = !has_name_section(&raw_bytes)
        || fs::read(dest).is_ok_and(|shrunk| has_name_section(&shrunk));
    if dest.is_file() && names_kept && fs::read(&stamp).is_ok_and(|old| old == stamp_bytes) {
        return Ok(());
    }
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| io_failure(dir, e))?;
    }
    let shrunk = match wasm_opt {
        Some(tool) => Command::new(tool)
            // `-g` keeps the name section (trap backtraces name the functions); DWARF goes.
            .args(["-Oz", "-g", "--strip-dwarf", "--strip-producers"])
            // The features today's toolchains emit by default; wasmtime supports them all.
            .args([
                "--enable-bulk-memory",
                "--enable-sign-ext",
                "--enable-nontrapping-float-to-int",
                "--enable-mutable-globals",
            ])
            .args(["--enable-multivalue", "--enable-reference-types"])
            .arg(raw)
            .arg("-o")
            .arg(dest)
            .status()
            .is_ok_and(|s| s.success()),
        None => false,
    };
    if !shrunk {
        if wasm_opt.is_some() {
            println!(
                "xtask: wasm-opt could not shrink {}; using it as built",
                raw.display()
            );
        }
        copy_replacing(raw, dest).map_err(|e| io_failure(dest, e))?;
    }
    fs::write(&stamp, &stamp_bytes).map_err(|e| io_failure(&stamp, e))
}

fn build_rust(repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    let target_dir = repo.root.join("mods/target/examples");
    command::run(
        cargo()
            .args([
                "build",
                "--release",
                "--quiet",
                "--target",
                RUST_TARGET,
                "--manifest-path",
            ])
            .arg(source.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir),
        "fix the Rust build error shown above",
    )?;
    let name = out.file_name().unwrap_or_default();
    let built = target_dir.join(RUST_TARGET).join("release").join(name);
    copy_replacing(&built, out).map_err(|e| io_failure(&built, e))
}

/// Builds the C mod whose `.c` files are in `source` against the C SDK into `out` (the
/// examples' and the C test mods' one command).
pub(crate) fn build_c(repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    let sdk = repo.root.join("mods/sdk/c");
    let mut cmd = Command::new("clang");
    cmd.current_dir(source)
        .args([
            "--target=wasm32-wasi",
            "--sysroot=/usr",
            "-Oz",
            "-Wall",
            "-Wextra",
            "-Werror",
        ])
        // `--strip-debug` drops DWARF but keeps the name section for trap backtraces.
        .args(["-nostartfiles", "-Wl,--no-entry", "-Wl,--strip-debug"])
        .arg("-I")
        .arg(&sdk)
        .arg("-o")
        .arg(out);
    cmd.args(sources_with_extension(source, "c")?);
    command::run(&mut cmd, "fix the C build error shown above (clang and wasi-libc come from `apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32`)")
}

fn build_zig(repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    let cache = toolchains::toolchains_dir(repo).join("zig-cache");
    let mut cmd = toolchains::zig(repo)?;
    cmd.current_dir(source)
        .args([
            "build-exe",
            "-target",
            "wasm32-freestanding",
            "-O",
            "ReleaseSmall",
            "-fno-entry",
            "-rdynamic",
            // Keeps the name section (and DWARF, which `wasm-opt -g --strip-dwarf` drops in
            // `shrink`): a trap's backtrace names the mod's functions.
            "-fno-strip",
        ])
        .args(["--dep", "wasgo", "-Mroot=src/main.zig"])
        .arg(format!(
            "-Mwasgo={}",
            repo.root.join("mods/sdk/zig/wasgo.zig").display()
        ))
        .arg("--cache-dir")
        .arg(cache.join("local"))
        .arg("--global-cache-dir")
        .arg(cache.join("global"))
        .arg(format!("-femit-bin={}", out.display()));
    command::run(&mut cmd, "fix the Zig build error shown above")
}

fn build_assemblyscript(repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    let sdk_abort = relative_module(source, &repo.root.join("mods/sdk/assemblyscript/wasgo"));
    let mut cmd = toolchains::asc(repo)?;
    cmd.current_dir(source)
        .args(["assembly/index.ts", "--outFile"])
        .arg(out)
        .args([
            "--optimize",
            "--shrinkLevel",
            "2",
            "--noAssert",
            "--runtime",
            "incremental",
            // Emits the name section (a trap's backtrace names the functions); the code is
            // optimized as without it.
            "--debug",
        ])
        .arg("--use")
        .arg(format!("abort={sdk_abort}/wasgoAbort"));
    command::run(&mut cmd, "fix the AssemblyScript build error shown above")
}

/// `to` as a path relative to `from`, with `/` separators, as `asc --use` wants module paths.
fn relative_module(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_string(), from.len() - common);
    let downs = to[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

fn build_go(repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    let mut cmd = toolchains::go_build(repo, source, "wasip1")?;
    // A WASI reactor: WasGo runs `_initialize`, then calls the `//go:wasmexport` functions.
    cmd.args(["-buildmode=c-shared", "-ldflags=-s -w", "-o"])
        .arg(out)
        .arg(".");
    command::run(&mut cmd, "fix the Go build error shown above")
}

/// A stock Go program for Go's JavaScript target (`GOOS=js`), run by WasGo's Go-js host.
fn build_gojs(repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    let mut cmd = toolchains::go_build(repo, source, "js")?;
    // `-w` drops DWARF; Go's symbol table stays, so the wasm name section names every function.
    cmd.args(["-ldflags=-w", "-o"]).arg(out).arg(".");
    command::run(&mut cmd, "fix the Go build error shown above")
}

fn build_wat(_repo: &Repo, source: &Path, out: &Path) -> Result<()> {
    // The first .wat file (in name order) is the mod.
    if let Some(file) = sources_with_extension(source, "wat")?.into_iter().next() {
        let bytes = wat::parse_file(&file).map_err(|e| {
            Failure::new(
                format!("`{}` is not valid WAT: {e}", file.display()),
                "fix the WAT file",
            )
        })?;
        return fs::write(out, bytes).map_err(|e| io_failure(out, e));
    }
    Err(Failure::new(
        format!("no .wat file in `{}`", source.display()),
        "add one",
    ))
}

/// Whether `wasm` (a binary module) has a custom section called `name`.
pub fn has_name_section(wasm: &[u8]) -> bool {
    custom_section_count(wasm, "name") > 0
}

/// The files in `dir` ending in `.ext`, sorted.
fn sources_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| io_failure(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_folder_exists_and_has_a_readme() {
        let repo = Repo::locate();
        for example in EXAMPLES {
            let dir = repo.root.join("mods/examples").join(example.dir);
            assert!(
                dir.join("README.md").is_file(),
                "{} has no README.md",
                dir.display()
            );
        }
    }

    #[test]
    fn the_name_section_is_found_among_the_custom_sections() {
        let with_names = wat::parse_str("(module (func $spin))").unwrap();
        assert!(has_name_section(&with_names));
        let mut without = b"\0asm\x01\0\0\0".to_vec();
        // A custom section called `other`, then a type section with no types.
        without.extend_from_slice(&[0, 6, 5, b'o', b't', b'h', b'e', b'r', 1, 1, 0]);
        assert!(!has_name_section(&without));
        assert!(!has_name_section(b"not wasm"));
    }

    #[test]
    fn an_appended_manifest_section_is_found_once() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        assert_eq!(custom_section_count(&wasm, MANIFEST_SECTION), 0);
        wasm.extend_from_slice(&custom_section(MANIFEST_SECTION, &vec![b' '; 300]));
        assert_eq!(custom_section_count(&wasm, MANIFEST_SECTION), 1);
        wasm.extend_from_slice(&custom_section("other", b"{}"));
        assert_eq!(custom_section_count(&wasm, MANIFEST_SECTION), 1);
    }

    #[test]
    fn an_edited_manifest_json_reaches_the_built_module_though_the_module_did_not_change() {
        let dir = std::env::temp_dir().join(format!("wasgo-xtask-manifest-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let (raw, dest) = (dir.join("raw.wasm"), dir.join("out/m.wasm"));
        fs::write(&raw, b"\0asm\x01\0\0\0").unwrap();
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        for name in ["first-name", "second-name"] {
            let json = format!("{{\"name\":\"{name}\"}}");
            fs::write(dir.join("manifest.json"), &json).unwrap();
            shrink(None, &raw, json.as_bytes(), &dest).unwrap();
            embed_manifest(&dir, &dest).unwrap();
            let built = fs::read(&dest).unwrap();
            assert!(
                contains(&built, json.as_bytes()),
                "{name} is not in the module"
            );
            assert_eq!(custom_section_count(&built, MANIFEST_SECTION), 1);
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn example_names_are_unique() {
        let mut names: Vec<&str> = EXAMPLES.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), EXAMPLES.len());
    }

    #[test]
    fn module_paths_are_relative_with_forward_slashes() {
        assert_eq!(
            relative_module(
                Path::new("/r/mods/examples/assemblyscript"),
                Path::new("/r/mods/sdk/assemblyscript/wasgo")
            ),
            "../../sdk/assemblyscript/wasgo"
        );
    }
}
