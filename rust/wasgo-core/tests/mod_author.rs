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

/// Imports of the modules WasGo reserves (no game function can be registered there) that link
/// to a stub at every level are warned about, each saying why: the old WASI, a known name with
/// another signature, an unknown `wapc` name. A game module's import is no finding.
#[test]
fn a_reserved_modules_import_no_level_provides_is_found_with_its_reason() {
    let rt = runtime();
    let wat = r#"(module
      (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "wasgo" "log" (func (param i32 i32)))
      (import "wasi_snapshot_preview1" "no_such_call" (func))
      (import "mygame" "award" (func (param i32)))
      (memory (export "memory") 1))"#;
    let module = rt.compile(wat.as_bytes(), "reserved_stubs").unwrap();
    let findings = diagnose(&module, rt.hosts(), SafetyLevel::Safe);
    let text: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
    assert_eq!(findings.len(), 3, "{text:?}");
    assert!(
        text[0].contains("wasi_unstable.fd_write") && text[0].contains("wasi_snapshot_preview1"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("wasgo.log") && text[1].contains("signature"),
        "{}",
        text[1]
    );
    assert!(
        matches!(&findings[2], Finding::UnknownImport { import } if import == "wasi_snapshot_preview1.no_such_call"),
        "{findings:?}"
    );
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
fn an_export_wasgo_calls_with_another_signature_is_found() {
    let rt = runtime();
    let wat = r#"(module
      (func (export "main"))
      (func (export "process") (param f32))
      (func (export "ready"))
      (func (export "native_callback") (param i32)))"#;
    let module = rt.compile(wat.as_bytes(), "odd_signatures").unwrap();
    let findings = diagnose(&module, rt.hosts(), SafetyLevel::Safe);
    let text: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
    assert_eq!(findings.len(), 2, "{text:?}");
    assert!(
        text[0].contains("exports `main` as `() -> ()`")
            && text[0].contains("`() -> i32` or `(i32, i32) -> i32`")
            && text[0].contains("never run"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("exports `process` as `(f32) -> ()`") && text[1].contains("`(f64) -> ()`"),
        "{}",
        text[1]
    );
    // A `main` beside a `_start` is not WasGo's to run: no finding.
    let with_start = r#"(module (func (export "_start")) (func (export "main")))"#;
    let module = rt.compile(with_start.as_bytes(), "with_start").unwrap();
    assert_eq!(diagnose(&module, rt.hosts(), SafetyLevel::Safe), vec![]);
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
    let cfg = small_config("mangled", 500);
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
    let cfg = small_config("grows", 500);
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
    let cfg = small_config("traps", 2000);
    let mut inst = ModInstance::new(&rt, &module, cfg).unwrap();
    let err = inst.call("_start", &[]).expect_err("traps");
    let message = err.to_string();
    assert!(message.contains(": traps::fault"), "{message}");
    assert!(
        message.contains(&format!("src/main.rs:{line}")),
        "no `src/main.rs:{line}` in:\n{message}"
    );
}

/// Hot reload's `save_state`/`load_state` pair: what the host asks of the old instance and
/// hands the new one, and how it refuses a mod that breaks the protocol.
mod carry_state {
    use super::*;

    /// A counter with the pair: `add(n)`, `count()`, a bump `malloc` and a `free` that counts
    /// its calls (`frees()`). `$SAVE_LEN` is what the first `save_state` call (the length
    /// query) answers, `$SECOND_LEN` what the later ones answer (4 and 4 are honest).
    const COUNTER: &str = r#"(module
      (memory (export "memory") 1)
      (global $count (mut i32) (i32.const 0))
      (global $next (mut i32) (i32.const 1024))
      (global $frees (mut i32) (i32.const 0))
      (global $saves (mut i32) (i32.const 0))
      (func (export "add") (param i32) (global.set $count (i32.add (global.get $count) (local.get 0))))
      (func (export "count") (result i32) (global.get $count))
      (func (export "frees") (result i32) (global.get $frees))
      (func (export "malloc") (param i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next (i32.add (global.get $next) (local.get 0)))
        (local.get $p))
      (func (export "free") (param i32 i32 i32) (global.set $frees (i32.add (global.get $frees) (i32.const 1))))
      (func (export "save_state") (param $ptr i32) (param $cap i32) (result i32)
        (global.set $saves (i32.add (global.get $saves) (i32.const 1)))
        (if (i32.ge_u (local.get $cap) (i32.const 4)) (then (i32.store (local.get $ptr) (global.get $count))))
        (if (result i32) (i32.eq (global.get $saves) (i32.const 1))
          (then (i32.const $SAVE_LEN)) (else (i32.const $SECOND_LEN))))
      (func (export "load_state") (param $ptr i32) (param $len i32)
        (if (i32.eq (local.get $len) (i32.const 4)) (then (global.set $count (i32.load (local.get $ptr)))))))"#;

    fn counter(rt: &Arc<Runtime>, save_len: i32, second_len: i32) -> ModInstance {
        // The first call is the length query (0, 0), the second the copy: `$saves` counts them.
        let wat = COUNTER
            .replace("$SAVE_LEN", &save_len.to_string())
            .replace("$SECOND_LEN", &second_len.to_string());
        instance(rt, &wat, "counter")
    }

    fn instance(rt: &Arc<Runtime>, wat: &str, name: &str) -> ModInstance {
        let module = rt.compile(wat.as_bytes(), name).unwrap();
        let cfg = small_config(name, 500);
        ModInstance::new(rt, &module, cfg).unwrap()
    }

    fn count(inst: &mut ModInstance) -> i32 {
        match inst.call("count", &[]).unwrap()[..] {
            [Val::I32(n)] => n,
            ref other => panic!("count() answered {other:?}"),
        }
    }

    fn frees(inst: &mut ModInstance) -> i32 {
        match inst.call("frees", &[]).unwrap()[..] {
            [Val::I32(n)] => n,
            ref other => panic!("frees() answered {other:?}"),
        }
    }

    #[test]
    fn the_state_the_old_instance_saves_is_what_the_new_one_loads() {
        let rt = runtime();
        let mut old = counter(&rt, 4, 4);
        old.call("add", &[Val::I32(41)]).unwrap();
        let state = old.save_state().unwrap().expect("a state");
        assert_eq!(state, 41i32.to_le_bytes());
        assert_eq!(frees(&mut old), 1, "the buffer went back with `free`");
        let mut new = counter(&rt, 4, 4);
        assert_eq!(count(&mut new), 0);
        assert!(
            new.load_state(&state).unwrap(),
            "the new instance has `load_state`"
        );
        assert_eq!(count(&mut new), 41);
        assert_eq!(
            frees(&mut new),
            1,
            "the state's buffer is freed after `load_state`"
        );
    }

    #[test]
    fn a_mod_without_the_pair_carries_nothing() {
        let rt = runtime();
        let plain = instance(
            &rt,
            r#"(module (memory (export "memory") 1) (func (export "process") (param f64)))"#,
            "plain",
        );
        assert_eq!(plain.save_state().unwrap(), None);
        assert!(
            !plain.load_state(b"state").unwrap(),
            "no `load_state`: dropped"
        );
        assert!(plain.status().is_live());
    }

    #[test]
    fn a_negative_length_carries_nothing_and_zero_carries_an_empty_state() {
        let rt = runtime();
        let declines = counter(&rt, -1, -1);
        assert_eq!(declines.save_state().unwrap(), None);
        assert!(declines.status().is_live());
        let empty = counter(&rt, 0, 0);
        assert_eq!(empty.save_state().unwrap(), Some(Vec::new()));
        let mut new = counter(&rt, 4, 4);
        assert!(new.load_state(&[]).unwrap());
        assert_eq!(count(&mut new), 0);
    }

    #[test]
    fn an_oversized_state_traps_the_old_instance_naming_the_limit() {
        let rt = runtime();
        let greedy = counter(&rt, i32::MAX, 4);
        let Err(WasgoError::Trap(info)) = greedy.save_state() else {
            panic!("an oversized state must trap");
        };
        assert!(
            info.message.contains("`save_state`") && info.message.contains("16 MiB"),
            "{}",
            info.message
        );
        assert_eq!(greedy.status(), ModStatus::Trapped);
    }

    #[test]
    fn a_state_that_grows_between_the_two_calls_traps() {
        let rt = runtime();
        let fickle = counter(&rt, 4, 5000);
        let Err(WasgoError::Trap(info)) = fickle.save_state() else {
            panic!("a longer second answer must trap");
        };
        assert!(info.message.contains("must not change"), "{}", info.message);
    }

    #[test]
    fn loading_a_state_into_a_mod_without_malloc_traps_saying_so() {
        let rt = runtime();
        let wat = r#"(module (memory (export "memory") 1)
          (func (export "load_state") (param i32 i32)))"#;
        let no_malloc = instance(&rt, wat, "no_malloc");
        let Err(WasgoError::Trap(info)) = no_malloc.load_state(b"abc") else {
            panic!("a state for a mod without `malloc` must trap");
        };
        assert!(info.message.contains("`malloc"), "{}", info.message);
        assert!(info.message.contains("`load_state`"), "{}", info.message);
    }
}

/// A level-1 instance with 16 MiB of memory, no `main` timeout and a callback budget of
/// `budget_ms`.
fn small_config(name: &str, budget_ms: u64) -> InstanceConfig {
    InstanceConfig {
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(budget_ms),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        ..InstanceConfig::new(name, SafetyLevel::Safe, 0)
    }
}

/// A module whose `config` answers `json` (out-buffer convention, a bump `malloc`), importing
/// `wasgo.log` and calling it from `config` when `call_import` is set, or spinning when `spin`.
fn config_module(json: &str, call_import: bool, spin: bool) -> String {
    let escaped: String = json.bytes().map(|b| format!("\\{b:02x}")).collect();
    let len = json.len();
    let before = match (call_import, spin) {
        (true, _) => "(call $log (i32.const 1) (i32.const 0) (i32.const 0))",
        (_, true) => "(loop $l (br $l))",
        _ => "",
    };
    format!(
        r#"(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 4096))
  (data (i32.const 1024) "{escaped}")
  (func (export "malloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $p))
  (func (export "config") (param $ptr i32) (param $cap i32) (result i32)
    {before}
    (if (i32.ge_u (local.get $cap) (i32.const {len}))
      (then (memory.copy (local.get $ptr) (i32.const 1024) (i32.const {len}))))
    (i32.const {len}))
  (func (export "main") (result i32) (i32.const 0)))"#
    )
}

#[test]
fn config_answers_its_dictionary_from_a_throwaway_instance() {
    let rt = runtime();
    let module = rt
        .compile(
            config_module(
                r#"{"waves": 3, "speed": 1.5, "name": "arena", "tags": ["a"]}"#,
                false,
                false,
            )
            .as_bytes(),
            "configured",
        )
        .unwrap();
    let pairs = rt
        .run_config(&module, "configured", 16 << 20)
        .unwrap()
        .expect("the module has a config");
    use wasgo_core::mod_config::ConfigValue;
    assert!(
        pairs.contains(&("waves".into(), ConfigValue::Int(3))),
        "{pairs:?}"
    );
    assert!(pairs.contains(&("speed".into(), ConfigValue::Float(1.5))));
    assert!(pairs.contains(&("name".into(), ConfigValue::Text("arena".into()))));
    assert_eq!(
        rt.stats().instances,
        0,
        "the throwaway instance is not counted or kept"
    );
    // A module without `config` has none.
    let plain = rt.compile(MISTAKES.as_bytes(), "plain").unwrap();
    assert_eq!(rt.run_config(&plain, "plain", 16 << 20).unwrap(), None);
}

/// A `config` that first grows (`grow`: WAT instructions leaving nothing on the stack) then
/// answers `{}`.
fn growing_config(extra: &str, grow: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  {extra}
  (func (export "malloc") (param i32 i32) (result i32) (i32.const 4096))
  (func (export "config") (param $ptr i32) (param $cap i32) (result i32)
    {grow}
    (if (i32.ge_u (local.get $cap) (i32.const 2))
      (then (i32.store16 (local.get $ptr) (i32.const 0x7d7b))))
    (i32.const 2)))"#
    )
}

#[test]
fn config_grows_under_the_instance_rules_memories_and_tables_counted_together() {
    use wasgo_core::mod_config::ConfigError;
    let rt = runtime();
    // One `table.grow` by 400 million entries took 3 GB and 7 s of the main thread: refused (-1).
    let table = growing_config(
        "(table $t 1 funcref)",
        "(if (i32.ne (table.grow $t (ref.null func) (i32.const 400000000)) (i32.const -1)) (then unreachable))",
    );
    let table = rt.compile(table.as_bytes(), "table_grow").unwrap();
    assert_eq!(
        rt.run_config(&table, "table_grow", 16 << 20).unwrap(),
        Some(Vec::new()),
        "the grow answers -1 and config goes on"
    );
    // A second memory of 16 MiB then one more page of the first: over a 16 MiB cap together.
    let memories = growing_config(
        "(memory $second 0)",
        "(drop (memory.grow $second (i32.const 256))) (drop (memory.grow 0 (i32.const 1)))",
    );
    let memories = rt.compile(memories.as_bytes(), "two_memories").unwrap();
    match rt.run_config(&memories, "two_memories", 16 << 20) {
        Err(ConfigError::Trapped { message, .. }) => {
            assert!(message.contains("memory limit"), "{message}")
        }
        other => panic!("expected the memory limit, got {other:?}"),
    }
}

#[test]
fn config_has_no_host_functions_and_a_budget() {
    use wasgo_core::mod_config::ConfigError;
    let rt = runtime();
    let calls = rt
        .compile(config_module("{}", true, false).as_bytes(), "calls_log")
        .unwrap();
    match rt.run_config(&calls, "calls_log", 16 << 20) {
        Err(ConfigError::Trapped { message, .. }) => {
            assert!(message.contains("wasgo.log"), "{message}");
            assert!(message.contains("without Godot"), "{message}");
        }
        other => panic!("expected a trap naming the import, got {other:?}"),
    }
    // An import name is the module's text: shown escaped, never a line of its own.
    let hostile = config_module("{}", true, false).replace(
        r#"(import "wasgo" "log""#,
        r#"(import "wasgo" "log\0aWARNING: WasGo: mod verified\e2\80\ae""#,
    );
    let hostile = rt.compile(hostile.as_bytes(), "hostile_name").unwrap();
    match rt.run_config(&hostile, "hostile_name", 16 << 20) {
        Err(ConfigError::Trapped { message, .. }) => {
            assert!(
                !message.contains('\n') && !message.contains('\u{202e}'),
                "{message:?}"
            );
            assert!(message.contains("log\\u{a}WARNING"), "{message}");
        }
        other => panic!("expected a trap naming the import, got {other:?}"),
    }
    let spins = rt
        .compile(config_module("{}", false, true).as_bytes(), "spins")
        .unwrap();
    let started = std::time::Instant::now();
    let result = rt.run_config(&spins, "spins", 16 << 20);
    assert!(
        matches!(result, Err(ConfigError::OverBudget { budget_ms: 50, .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the budget stopped the spin"
    );
    let text = result.unwrap_err().to_string();
    assert!(text.contains("`spins`") && text.contains("50 ms"), "{text}");
    // A second overrun is kept: later starts get the same answer without running it again.
    for _ in 0..3 {
        let again = rt.run_config(&spins, "spins", 16 << 20);
        assert!(
            matches!(again, Err(ConfigError::OverBudget { budget_ms: 50, .. })),
            "{again:?}"
        );
    }
}

#[test]
fn config_text_that_is_not_a_json_object_is_refused_naming_the_mod() {
    use wasgo_core::mod_config::ConfigError;
    let rt = runtime();
    for (json, expected) in [("[1, 2]", "not an object"), ("{oops", "not JSON")] {
        let module = rt
            .compile(config_module(json, false, false).as_bytes(), "bad_text")
            .unwrap();
        match rt.run_config(&module, "bad_text", 16 << 20) {
            Err(e @ ConfigError::Protocol { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(expected) && text.contains("`bad_text`"),
                    "{text}"
                );
            }
            other => panic!("{json}: expected a protocol error, got {other:?}"),
        }
    }
}

#[test]
fn config_memory_is_capped_and_its_text_bounded() {
    use wasgo_core::mod_config::ConfigError;
    let rt = runtime();
    // Grows its memory by 64 MiB inside `config`: over a 16 MiB cap the grow traps.
    let grows = r#"(module
  (memory (export "memory") 1)
  (func (export "config") (param i32 i32) (result i32)
    (drop (memory.grow (i32.const 1024)))
    (i32.const 2)))"#;
    let module = rt.compile(grows.as_bytes(), "grows").unwrap();
    match rt.run_config(&module, "grows", 16 << 20) {
        Err(ConfigError::Trapped { name, .. }) => assert_eq!(name, "grows"),
        other => panic!("expected the grow over the cap to trap, got {other:?}"),
    }
    // Announces 1 MiB of text: over the 64 KiB bound, refused before any buffer is made.
    let long = r#"(module
  (memory (export "memory") 1)
  (func (export "config") (param i32 i32) (result i32) (i32.const 1048576)))"#;
    let module = rt.compile(long.as_bytes(), "long").unwrap();
    match rt.run_config(&module, "long", 16 << 20) {
        Err(e @ ConfigError::Protocol { .. }) => {
            assert!(e.to_string().contains("64 KiB"), "{e}")
        }
        other => panic!("expected the length to be refused, got {other:?}"),
    }
    // A wrong signature is named, not called.
    let wrong = r#"(module (func (export "config") (result i32) (i32.const 0)))"#;
    let module = rt.compile(wrong.as_bytes(), "wrong").unwrap();
    match rt.run_config(&module, "wrong", 16 << 20) {
        Err(e @ ConfigError::Protocol { .. }) => {
            assert!(
                e.to_string()
                    .contains("config(out_ptr: i32, out_cap: i32) -> i32"),
                "{e}"
            )
        }
        other => panic!("expected the signature to be refused, got {other:?}"),
    }
}

/// A name a letter or two from an export WasGo calls is flagged only when it looks meant as it
/// (it takes what that export takes, or differs only in case or a leading underscore):
/// ordinary exports (`read`, `frees`, `confirm`, `gain`) were flagged for good.
#[test]
fn ordinary_exports_near_a_called_name_are_no_finding() {
    let rt = runtime();
    let wat = r#"(module
      (memory (export "memory") 1)
      (func (export "read") (param i32 i32) (result i32) i32.const 0)
      (func (export "frees") (param i32))
      (func (export "confirm") (param i32))
      (func (export "gain") (param f32) (result f32) local.get 0)
      (func (export "proces") (param f64))
      (func (export "Ready"))
      (func (export "native_calback") (param i32)))"#;
    let module = rt.compile(wat.as_bytes(), "ordinary").unwrap();
    let flagged: Vec<String> = diagnose(&module, rt.hosts(), SafetyLevel::Safe)
        .into_iter()
        .filter_map(|f| match f {
            Finding::MisspelledExport { found, .. } => Some(found),
            _ => None,
        })
        .collect();
    assert_eq!(flagged, ["proces", "Ready", "native_calback"]);
}

/// `connect` without a `native_callback` export (or `http_request` without `http_response`):
/// `connect` answered 0 and every signal was dropped at delivery without a word.
#[test]
fn an_import_that_delivers_to_a_missing_export_is_found() {
    let rt = runtime();
    let without = r#"(module
      (import "wasgo" "connect" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1))"#;
    let module = rt.compile(without.as_bytes(), "without").unwrap();
    let findings = diagnose(&module, rt.hosts(), SafetyLevel::Safe);
    assert_eq!(
        findings,
        vec![Finding::MissingCompanion {
            import: "connect",
            export: "native_callback"
        }]
    );
    assert!(findings[0]
        .to_string()
        .contains("exports no `native_callback`"));
    let with = r#"(module
      (import "wasgo" "connect" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "native_callback") (param i32)))"#;
    let module = rt.compile(with.as_bytes(), "with").unwrap();
    assert_eq!(diagnose(&module, rt.hosts(), SafetyLevel::Safe), vec![]);
}
