//! What a mod author sees of mistakes: the findings behind the editor's configuration warnings,
//! the compile error of a file that is not WebAssembly, and readable trap backtraces.

use std::sync::Arc;
use std::time::Duration;
use wasgo_core::diagnose::{diagnose, Finding};
use wasgo_core::*;

fn runtime() -> Arc<Runtime> {
    Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap()
}

/// Imports `wasgo.log` (level 1), `wasgo.file_write` (level 2), a misspelled `wasgo.fle_read`
/// and a game function; exports `main`, a misspelled `proces` and an unrelated `score`.
const MISTAKES: &str = r#"(module
  (import "wasgo" "log" (func (param i32 i32 i32)))
  (import "wasgo" "file_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "fle_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "game" "player_count" (func (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (i32.const 0))
  (func (export "proces") (param f64))
  (func (export "score") (result i32) (i32.const 1)))"#;

#[test]
fn each_mistake_of_a_module_is_found_at_its_level() {
    let rt = runtime();
    let module = rt.compile(MISTAKES.as_bytes(), "mistakes").unwrap();
    let findings = diagnose(&module, rt.hosts(), SafetyLevel::Safe);
    assert_eq!(
        findings,
        vec![
            Finding::AboveLevel {
                import: "wasgo.file_write".into(),
                needs: SafetyLevel::Wrapped,
                level: SafetyLevel::Safe,
            },
            Finding::UnknownImport {
                import: "wasgo.fle_read".into()
            },
            Finding::MisspelledExport {
                found: "proces".into(),
                meant: "process",
            },
        ]
    );
    let text: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
    assert!(text[0].contains("needs safety level 2"), "{}", text[0]);
    assert!(text[2].contains("did you mean `process`?"), "{}", text[2]);
}

#[test]
fn an_import_allowed_at_the_level_is_no_finding() {
    let rt = runtime();
    let module = rt.compile(MISTAKES.as_bytes(), "mistakes").unwrap();
    let findings = diagnose(&module, rt.hosts(), SafetyLevel::Wrapped);
    assert!(
        !findings
            .iter()
            .any(|f| matches!(f, Finding::AboveLevel { .. })),
        "{findings:?}"
    );
}

#[test]
fn an_imported_memory_is_found_as_unsupported() {
    let rt = runtime();
    let wat = r#"(module (import "env" "memory" (memory 1)))"#;
    let module = rt.compile(wat.as_bytes(), "imports_memory").unwrap();
    let findings = diagnose(&module, rt.hosts(), SafetyLevel::Unsafe);
    assert_eq!(
        findings,
        vec![Finding::UnsupportedImport {
            import: "env.memory".into(),
            kind: ImportKind::Memory,
        }]
    );
}

#[test]
fn a_text_file_is_refused_as_not_a_module_not_as_bad_wat() {
    let rt = runtime();
    let err = rt
        .compile(b"just some notes, renamed to .wasm\n", "notes")
        .expect_err("refused");
    assert!(matches!(err, WasgoError::NotWasm { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("`notes` is not a WebAssembly module (no `\\0asm` header)"),
        "{err}"
    );
}

#[test]
fn trap_backtraces_show_demangled_rust_and_cpp_names() {
    let rt = runtime();
    // The WAT `$names` become the module's name section, as rustc and clang write them.
    let wat = r#"(module
      (func $_ZN5mover4spin17h0123456789abcdefE unreachable)
      (func $_Z7computei (call $_ZN5mover4spin17h0123456789abcdefE))
      (func (export "main") (result i32) (call $_Z7computei) (i32.const 0)))"#;
    let module = rt.compile(wat.as_bytes(), "mangled").unwrap();
    let cfg = InstanceConfig {
        name: "mangled".into(),
        level: SafetyLevel::Safe,
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(500),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: 0,
        network: Default::default(),
    };
    let mut inst = ModInstance::new(&rt, &module, cfg).unwrap();
    let err = inst.call("main", &[]).expect_err("traps");
    let message = err.to_string();
    assert!(message.contains("0: mover::spin\n"), "{message}");
    assert!(message.contains("1: compute(int)\n"), "{message}");
    assert!(!message.contains("_ZN5mover"), "{message}");
}

#[test]
fn memory_in_use_follows_growth_and_is_zero_once_the_instance_ended() {
    let rt = runtime();
    let wat = r#"(module
      (memory 2)
      (func (export "grow") (drop (memory.grow (i32.const 3))))
      (func (export "crash") unreachable))"#;
    let module = rt.compile(wat.as_bytes(), "grows").unwrap();
    let cfg = InstanceConfig {
        name: "grows".into(),
        level: SafetyLevel::Safe,
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(500),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: 0,
        network: Default::default(),
    };
    let mut inst = ModInstance::new(&rt, &module, cfg).unwrap();
    assert_eq!(inst.memory_in_use(), 2 * 65536);
    inst.call("grow", &[]).unwrap();
    assert_eq!(inst.memory_in_use(), 5 * 65536);
    inst.call("crash", &[]).expect_err("traps");
    assert_eq!(inst.memory_in_use(), 0);
}

/// Builds the `traps` test mod (`mods/tests/traps`, kept with debug info) with cargo for
/// `wasm32-wasip1` and returns its bytes and the line of its `unreachable`.
fn build_traps_mod() -> (Vec<u8>, usize) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mods = repo.join("mods");
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(&mods)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1",
            "-p",
            "traps",
        ])
        .arg("--target-dir")
        .arg(mods.join("target"))
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building mods/tests/traps failed (is the `wasm32-wasip1` target installed? `rustup target add wasm32-wasip1`)"
    );
    let wasm = std::fs::read(mods.join("target/wasm32-wasip1/release/traps.wasm")).unwrap();
    let source = std::fs::read_to_string(mods.join("tests/traps/src/main.rs")).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("// the trap"))
        .expect("the marked line")
        + 1;
    (wasm, line)
}

#[test]
fn with_debug_info_a_rust_trap_names_its_source_line() {
    let (wasm, line) = build_traps_mod();
    let config = RuntimeConfig {
        debug_info: true,
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(config, Hosts::detached()).unwrap();
    let module = rt.compile(&wasm, "traps").unwrap();
    let cfg = InstanceConfig {
        name: "traps".into(),
        level: SafetyLevel::Safe,
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(2000),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: 0,
        network: Default::default(),
    };
    let mut inst = ModInstance::new(&rt, &module, cfg).unwrap();
    let err = inst.call("_start", &[]).expect_err("traps");
    let message = err.to_string();
    assert!(message.contains(": traps::fault"), "{message}");
    assert!(
        message.contains(&format!("src/main.rs:{line}")),
        "no `src/main.rs:{line}` in:\n{message}"
    );
}
