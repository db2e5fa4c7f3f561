//! Behaviour tests of the Godot-free core, driven by small WAT mods, in both execution modes.
//!
//! `support/runtime_cases.rs` holds the cases (levels and stubs, every limit, kills of spinning and
//! sleeping `main`s, stack exhaustion, WASI output, game functions, the disk cache). It is
//! included once per mode, so each case runs natively compiled (`compiled::...`) and under
//! wasmtime's Pulley interpreter (`interpreter::...`): a limit or a kill path that worked in one
//! mode only fails here. `modes` below checks what is specific to the modes themselves.

mod compiled {
    const MODE: wasgo_core::RuntimeMode = wasgo_core::RuntimeMode::Compiled;
    include!("support/runtime_cases.rs");
}

mod interpreter {
    const MODE: wasgo_core::RuntimeMode = wasgo_core::RuntimeMode::Interpreter;
    include!("support/runtime_cases.rs");

    /// Wasm faults a native build catches with guard pages and signal handlers are explicit
    /// checks in Pulley bytecode: they must still trap (never read the host's memory), and with
    /// the same kind as compiled code.
    #[test]
    fn out_of_bounds_accesses_trap_under_the_interpreter() {
        let rt = runtime();
        let wat = r#"(module (memory 1)
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "store") (param i32) (i32.store (local.get 0) (i32.const 1)))
            (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0))))"#;
        let mut inst = instance(&rt, wat, config("oob", SafetyLevel::Safe)).unwrap();
        for (export, arg) in [
            ("load", 65_533),
            ("load", -1),
            ("store", 65_536),
            ("store", i32::MAX),
            ("div", 0),
        ] {
            let mut inst2 = instance(&rt, wat, config("oob", SafetyLevel::Safe)).unwrap();
            let WasgoError::Trap(info) = inst2.call(export, &[Val::I32(arg)]).unwrap_err() else {
                panic!("`{export}({arg})` did not trap")
            };
            assert_eq!(
                info.kind,
                TrapKind::Wasm,
                "{export}({arg}): {}",
                info.message
            );
        }
        assert_eq!(
            inst.call("load", &[Val::I32(65_532)]).unwrap()[0].unwrap_i32(),
            0,
            "the last word in bounds reads"
        );
    }
}

mod modes {
    use std::sync::Arc;
    use wasgo_core::*;

    const ANSWER: &str = r#"(module (func (export "main") (result i32) (i32.const 42)))"#;

    fn in_mode(mode: RuntimeMode, cache_dir: Option<std::path::PathBuf>) -> Arc<Runtime> {
        let cfg = RuntimeConfig {
            mode,
            cache_dir,
            ..RuntimeConfig::default()
        };
        Runtime::new(cfg, Hosts::detached()).unwrap()
    }

    #[test]
    fn the_runtime_reports_the_mode_it_runs_in() {
        assert_eq!(
            in_mode(RuntimeMode::Compiled, None).execution_mode(),
            ExecutionMode::Compiled
        );
        assert_eq!(
            in_mode(RuntimeMode::Interpreter, None).execution_mode(),
            ExecutionMode::Interpreter
        );
        // This test machine has a native backend and allows a JIT: `auto` compiles.
        assert!(mode::native_compiler_available());
        assert_eq!(
            in_mode(RuntimeMode::Auto, None).execution_mode(),
            ExecutionMode::Compiled
        );
    }

    /// A module cached by one mode is never handed to the other: each mode compiles its own
    /// (no cache hit) and runs it, and both files then sit side by side.
    #[test]
    fn the_disk_cache_keeps_each_modes_modules_apart() {
        let dir = std::env::temp_dir().join(format!("wasgo-mode-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = |name: &str| InstanceConfig::new(name, SafetyLevel::Safe, 1);
        for (round, mode) in [
            RuntimeMode::Compiled,
            RuntimeMode::Interpreter,
            RuntimeMode::Compiled,
        ]
        .into_iter()
        .enumerate()
        {
            let rt = in_mode(mode, Some(dir.clone()));
            let module = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
            let expected_hits = u64::from(round == 2);
            assert_eq!(
                rt.stats().cache_hits,
                expected_hits,
                "round {round} ({mode}): only the compiled mode's own file is a hit"
            );
            let mut inst = ModInstance::new(&rt, &module, config("answer")).unwrap();
            assert_eq!(inst.call("main", &[]).unwrap()[0].unwrap_i32(), 42);
        }
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".cwasm"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "{files:?}");
        assert!(
            files[0].contains("-native-") && files[1].contains("-pulley-"),
            "{files:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A cached interpreter module renamed to the compiled mode's name is refused by the
    /// compiled engine (its target differs) and recompiled, never run as native code.
    #[test]
    fn a_pulley_artifact_under_a_native_name_is_recompiled() {
        let dir = std::env::temp_dir().join(format!("wasgo-mode-swap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file_of = |tag: &str| {
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().contains(tag))
        };
        // Find the compiled mode's file name, then put the interpreter's bytes under it.
        in_mode(RuntimeMode::Compiled, Some(dir.clone()))
            .compile(ANSWER.as_bytes(), "answer")
            .unwrap();
        let native = file_of("-native-").expect("the compiled mode wrote its cache file");
        in_mode(RuntimeMode::Interpreter, Some(dir.clone()))
            .compile(ANSWER.as_bytes(), "answer")
            .unwrap();
        let pulley = file_of("-pulley-").expect("the interpreter wrote its cache file");
        std::fs::copy(&pulley, &native).unwrap();

        let rt = in_mode(RuntimeMode::Compiled, Some(dir.clone()));
        let module = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
        assert_eq!(rt.stats().cache_hits, 0, "the swapped file was not used");
        assert_eq!(rt.stats().compiles, 1);
        let config = InstanceConfig::new("answer", SafetyLevel::Safe, 1);
        let mut inst = ModInstance::new(&rt, &module, config).unwrap();
        assert_eq!(inst.call("main", &[]).unwrap()[0].unwrap_i32(), 42);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_info_is_accepted_in_both_modes() {
        for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
            let cfg = RuntimeConfig {
                mode,
                debug_info: true,
                ..RuntimeConfig::default()
            };
            let rt = Runtime::new(cfg, Hosts::detached()).unwrap();
            let module = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
            let config = InstanceConfig::new("answer", SafetyLevel::Safe, 1);
            let mut inst = ModInstance::new(&rt, &module, config).unwrap();
            assert_eq!(
                inst.call("main", &[]).unwrap()[0].unwrap_i32(),
                42,
                "{mode}"
            );
        }
    }
}

/// The engine's WebAssembly features, in both modes: the threads proposal (shared memory),
/// exceptions and GC types are refused (WasGo's engine is built without them, and the README
/// says so); memory64 and multiple memories compile (their growth shares one limit).
#[test]
fn shared_memory_exceptions_and_gc_are_refused_in_both_modes() {
    use wasgo_core::{Hosts, Runtime, RuntimeConfig, RuntimeMode};
    for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
        let rt = Runtime::new(
            RuntimeConfig {
                mode,
                ..RuntimeConfig::default()
            },
            Hosts::detached(),
        )
        .unwrap();
        for (what, wat) in [
            ("shared memory", "(module (memory 1 1 shared))"),
            ("exceptions", "(module (tag $t) (func (throw $t)))"),
            ("GC types", "(module (type (struct (field i32))))"),
        ] {
            assert!(
                rt.compile(wat.as_bytes(), what).is_err(),
                "{what} in {mode:?}"
            );
        }
        for (what, wat) in [
            ("memory64", "(module (memory i64 1))"),
            ("two memories", "(module (memory 1) (memory 1))"),
        ] {
            assert!(
                rt.compile(wat.as_bytes(), what).is_ok(),
                "{what} in {mode:?}"
            );
        }
    }
}
