// Behaviour tests of the Godot-free core, driven by small WAT mods: included by `../runtime.rs`
// once per execution mode, with `MODE` naming the mode (see there). Every runtime a case builds
// comes from `mode_config()`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use wasgo_core::*;

/// The runtime configuration of this pass: the defaults, in `MODE`.
fn mode_config() -> RuntimeConfig {
    RuntimeConfig {
        mode: MODE,
        ..RuntimeConfig::default()
    }
}

fn runtime() -> Arc<Runtime> {
    let rt = Runtime::new(mode_config(), Hosts::detached()).unwrap();
    assert_eq!(rt.execution_mode(), MODE.resolve(), "the runtime runs in the mode asked for");
    rt
}

fn config(name: &str, level: SafetyLevel) -> InstanceConfig {
    InstanceConfig {
        name: name.into(),
        level,
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(50),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: 0,
        network: Default::default(),
    }
}

fn instance(rt: &Arc<Runtime>, wat: &str, cfg: InstanceConfig) -> Result<ModInstance, WasgoError> {
    let module = rt.compile(wat.as_bytes(), &cfg.name).unwrap();
    ModInstance::new(rt, &module, cfg)
}

/// Waits until `main` is no longer running, draining events.
fn wait_main(inst: &mut ModInstance) -> Vec<ModEvent> {
    let start = Instant::now();
    let mut events = vec![];
    while inst.is_main_running() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "main did not end"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    inst.reap_worker();
    events.extend(inst.drain_events());
    events
}

fn outputs(events: &[ModEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| {
            if let ModEvent::Output { text, .. } = e {
                Some(text.clone())
            } else {
                None
            }
        })
        .collect()
}

fn trap_message(events: &[ModEvent]) -> Option<String> {
    events.iter().find_map(|e| {
        if let ModEvent::Trapped { message } = e {
            Some(message.clone())
        } else {
            None
        }
    })
}

const LOG_MAIN: &str = r#"(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasgo" "safety_level" (func $level (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from main")
  (func (export "main") (result i32)
    (call $log (i32.const 1) (i32.const 16) (i32.const 15))
    (call $level)))"#;

mod levels_and_stubs {
    use super::*;

    const WRITES_FILE: &str = r#"(module
      (import "wasgo" "file_write" (func $fw (param i32 i32 i32 i32) (result i32)))
      (import "env" "nope" (func $nope (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "write") (result i32) (call $fw (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))
      (func (export "nope") (result i32) (call $nope (i32.const 7)))
      (func (export "ok") (result i32) (i32.const 42)))"#;

    #[test]
    fn unexposed_import_traps_only_when_called() {
        let rt = runtime();
        let mut inst = instance(&rt, WRITES_FILE, config("writer", SafetyLevel::Safe))
            .expect("instantiates despite unexposed imports");
        assert_eq!(inst.call("ok", &[]).unwrap()[0].unwrap_i32(), 42);
        let err = inst.call("write", &[]).unwrap_err();
        let WasgoError::Trap(info) = err else {
            panic!("expected a trap, got {err}")
        };
        assert!(
            info.message
                .starts_with("call to `wasgo.file_write`, which is not exposed at safety level 1"),
            "{}",
            info.message
        );
        assert_eq!(
            info.kind,
            TrapKind::Unexposed {
                function: "wasgo.file_write".into(),
                level: SafetyLevel::Safe
            }
        );
        let events = inst.drain_events();
        assert!(
            matches!(&events[0], ModEvent::LinkWarning { function, .. } if function == "env.nope"),
            "the unknown import is reported at load: {events:?}"
        );
        assert_eq!(
            events[1],
            ModEvent::UnexposedCall {
                function: "wasgo.file_write".into(),
                level: SafetyLevel::Safe
            }
        );
        assert!(trap_message(&events).is_some());
        assert_eq!(inst.status(), ModStatus::Trapped);
    }

    #[test]
    fn unknown_import_warns_at_load_and_traps_with_its_own_kind_and_an_unexposed_call() {
        let rt = runtime();
        let mut inst = instance(&rt, WRITES_FILE, config("writer", SafetyLevel::Unsafe)).unwrap();
        let warnings: Vec<ModEvent> = inst.drain_events();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let ModEvent::LinkWarning { function, message } = &warnings[0] else {
            panic!("expected a link warning, got {warnings:?}")
        };
        assert_eq!(function, "env.nope");
        assert!(message.contains("does not exist in WasGo"), "{message}");
        let WasgoError::Trap(info) = inst.call("nope", &[]).unwrap_err() else {
            panic!()
        };
        assert!(
            info.message
                .contains("call to an unresolved import at safety level 3: `env.nope` does not exist in WasGo"),
            "{}",
            info.message
        );
        assert_eq!(
            info.kind,
            TrapKind::UnresolvedImport {
                function: "env.nope".into(),
                problem: ImportProblem::Unknown
            }
        );
        // The contract's stub emits `unexposed_call` for an import that exists at no level too.
        let events = inst.drain_events();
        assert!(
            events.contains(&ModEvent::UnexposedCall {
                function: "env.nope".into(),
                level: SafetyLevel::Unsafe
            }),
            "{events:?}"
        );
    }

    #[test]
    fn signature_mismatch_is_a_link_warning_and_its_call_an_unexposed_call() {
        let rt = runtime();
        let wat = r#"(module
          (import "wasgo" "safety_level" (func $level (param i32) (result i32)))
          (func (export "go") (result i32) (call $level (i32.const 1))))"#;
        // Exposed at no level: the module's import list and its unexposed imports say so
        // (it was listed as a level-1 function, and the editor and `get_setup_warnings` trusted
        // that).
        let module = rt.compile(wat.as_bytes(), "old").unwrap();
        let imports = module.imports(rt.hosts());
        assert_eq!(imports[0].level, None, "{imports:?}");
        assert_eq!(
            module.unexposed_imports(rt.hosts(), SafetyLevel::Unsafe),
            vec!["wasgo.safety_level"]
        );
        let mut inst = instance(&rt, wat, config("old", SafetyLevel::Unsafe)).unwrap();
        let events = inst.drain_events();
        assert!(
            matches!(&events[..], [ModEvent::LinkWarning { function, .. }] if function == "wasgo.safety_level"),
            "{events:?}"
        );
        let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
            panic!()
        };
        assert!(
            matches!(
                info.kind,
                TrapKind::UnresolvedImport {
                    problem: ImportProblem::SignatureMismatch { .. },
                    ..
                }
            ),
            "{:?}",
            info.kind
        );
        assert!(info.message.contains("at safety level 3"), "{}", info.message);
        assert!(inst.drain_events().contains(&ModEvent::UnexposedCall {
            function: "wasgo.safety_level".into(),
            level: SafetyLevel::Unsafe
        }));
    }

    #[test]
    fn proc_exit_is_exited_not_killed() {
        let rt = runtime();
        let wat = r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "quit") (call $exit (i32.const 7))))"#;
        let mut inst = instance(&rt, wat, config("quitter", SafetyLevel::Safe)).unwrap();
        let err = inst.call("quit", &[]).unwrap_err();
        assert!(
            matches!(&err, WasgoError::Exited { code: 7, name } if name == "quitter"),
            "{err:?}"
        );
        assert_eq!(inst.status(), ModStatus::Exited);
        assert_eq!(
            inst.drain_events(),
            vec![ModEvent::Finished { exit_code: 7 }]
        );
        assert_eq!(rt.stats().kills, 0);
    }

    #[test]
    fn level_two_file_write_is_real_at_level_two_and_gated_by_permission() {
        let rt = runtime();
        let dir = std::env::temp_dir().join(format!("wasgo-l2-{}-{MODE}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = config("writer", SafetyLevel::Wrapped);
        cfg.dirs.sandbox = Some(dir.clone());
        let permissions = cfg.permissions.clone();
        let wat = r#"(module
          (import "wasgo" "file_write" (func $fw (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "note.txt") (data (i32.const 16) "saved")
          (func (export "write") (result i32) (call $fw (i32.const 0) (i32.const 8) (i32.const 16) (i32.const 5)))
          (func (export "escape") (result i32) (call $fw (i32.const 16) (i32.const 0) (i32.const 16) (i32.const 5))))"#;
        let mut inst = instance(&rt, wat, cfg).unwrap();
        assert_eq!(
            inst.call("write", &[]).unwrap()[0].unwrap_i32(),
            -6,
            "not granted yet"
        );
        assert!(
            inst.drain_events().is_empty(),
            "no unexposed_call at level 2"
        );
        permissions.grant(Permission::Files);
        assert_eq!(inst.call("write", &[]).unwrap()[0].unwrap_i32(), 0);
        assert_eq!(std::fs::read(dir.join("note.txt")).unwrap(), b"saved");
        assert_eq!(
            inst.call("escape", &[]).unwrap()[0].unwrap_i32(),
            -3,
            "an empty path is refused"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn imports_report_their_lowest_level() {
        let rt = runtime();
        let module = rt.compile(WRITES_FILE.as_bytes(), "writer").unwrap();
        let imports = module.imports(rt.hosts());
        let level = |n: &str| imports.iter().find(|i| i.name == n).unwrap().level;
        assert_eq!(level("file_write"), Some(SafetyLevel::Wrapped));
        assert_eq!(level("nope"), None);
        assert_eq!(
            module.unexposed_imports(rt.hosts(), SafetyLevel::Safe),
            vec!["wasgo.file_write", "env.nope"]
        );
        assert_eq!(
            module.unexposed_imports(rt.hosts(), SafetyLevel::Wrapped),
            vec!["env.nope"]
        );
    }

    #[test]
    fn wrong_signature_links_to_a_stub_that_names_both() {
        let rt = runtime();
        let wat = r#"(module (import "wasgo" "log" (func $log (param i32)))
            (func (export "go") (call $log (i32.const 1))))"#;
        let mut inst = instance(&rt, wat, config("bad", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
            panic!()
        };
        assert!(
            info.message.contains("(i32) -> ()") && info.message.contains("(i32, i32, i32) -> ()"),
            "{}",
            info.message
        );
    }

    #[test]
    fn the_same_mod_gives_the_same_results_at_every_level() {
        let rt = runtime();
        let mut seen = vec![];
        for level in SafetyLevel::ALL {
            let mut inst = instance(&rt, LOG_MAIN, config("same", level)).unwrap();
            assert!(inst.start_main().unwrap());
            let events = wait_main(&mut inst);
            assert!(events.contains(&ModEvent::Finished {
                exit_code: level.number()
            }));
            seen.push(outputs(&events));
        }
        assert!(
            seen.iter()
                .all(|o| o == &seen[0] && o == &vec!["hello from main".to_string()]),
            "{seen:?}"
        );
    }

    #[test]
    fn every_ready_catalog_function_matches_its_signature() {
        let rt = runtime();
        for f in catalog::WASGO_FUNCTIONS
            .iter()
            .filter(|f| f.availability == catalog::Availability::Ready)
        {
            let sig = f.signature();
            let ty = |v: &[catalog::Abi]| v.iter().map(|a| a.name()).collect::<Vec<_>>().join(" ");
            let wat = format!(
                r#"(module (import "wasgo" "{}" (func (param {}) (result {}))) (memory (export "memory") 1))"#,
                f.name,
                ty(&sig.params),
                ty(&sig.results)
            );
            let module = rt.compile(wat.as_bytes(), f.name).unwrap();
            // A matching import instantiates and is not a stub at the function's level.
            assert!(
                module.unexposed_imports(rt.hosts(), f.level).is_empty(),
                "{}",
                f.name
            );
            ModInstance::new(&rt, &module, config(f.name, f.level))
                .unwrap_or_else(|e| panic!("`wasgo.{}`: {e}", f.name));
        }
    }

    #[test]
    fn every_wasi_function_matches_its_catalog_signature_at_every_level() {
        let rt = runtime();
        let ty = |v: &[catalog::Abi]| v.iter().map(|a| a.name()).collect::<Vec<_>>().join(" ");
        for level in SafetyLevel::ALL {
            for f in catalog::WASI_P1_FUNCTIONS {
                let wat = format!(
                    r#"(module (import "wasi_snapshot_preview1" "{}" (func (param {}) (result {}))) (memory (export "memory") 1))"#,
                    f.name,
                    ty(f.params),
                    ty(f.results)
                );
                let module = rt.compile(wat.as_bytes(), f.name).unwrap();
                assert!(
                    module.unexposed_imports(rt.hosts(), level).is_empty(),
                    "{}",
                    f.name
                );
                // The real function (a stub would have the import's type too, but the import
                // resolves, so this is wasmtime-wasi's or WasGo's own definition).
                ModInstance::new(&rt, &module, config(f.name, level))
                    .unwrap_or_else(|e| panic!("`{}` at level {level}: {e}", f.name));
            }
        }
    }

    #[test]
    fn a_wasi_import_with_another_signature_links_to_a_stub() {
        let rt = runtime();
        // `fd_write` is (i32, i32, i32, i32) -> i32; a mod built against something else still
        // instantiates (contract section 2), is warned about, and only the call traps.
        let wat = r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "ok") (result i32) (i32.const 5))
          (func (export "go") (result i32) (call $w (i32.const 1))))"#;
        for level in SafetyLevel::ALL {
            let module = rt.compile(wat.as_bytes(), "oddwasi").unwrap();
            assert_eq!(
                module.unexposed_imports(rt.hosts(), level),
                vec!["wasi_snapshot_preview1.fd_write"]
            );
            let mut inst = instance(&rt, wat, config("oddwasi", level))
                .unwrap_or_else(|e| panic!("level {level}: {e}"));
            let events = inst.drain_events();
            assert!(
                matches!(&events[..], [ModEvent::LinkWarning { function, message }]
                    if function == "wasi_snapshot_preview1.fd_write"
                        && message.contains("(i32) -> i32")
                        && message.contains("(i32, i32, i32, i32) -> i32")),
                "{events:?}"
            );
            assert_eq!(inst.call("ok", &[]).unwrap()[0].unwrap_i32(), 5);
            let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
                panic!()
            };
            assert!(
                matches!(
                    info.kind,
                    TrapKind::UnresolvedImport {
                        problem: ImportProblem::SignatureMismatch { .. },
                        ..
                    }
                ),
                "{:?}",
                info.kind
            );
        }
    }

    #[test]
    fn a_wasi_unstable_import_is_named_as_the_old_snapshot() {
        let rt = runtime();
        let wat = r#"(module
          (import "wasi_unstable" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "go") (result i32)
            (call $w (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))))"#;
        let mut inst = instance(&rt, wat, config("oldwasi", SafetyLevel::Unsafe)).unwrap();
        let events = inst.drain_events();
        assert!(
            matches!(&events[..], [ModEvent::LinkWarning { function, message }]
                if function == "wasi_unstable.fd_write"
                    && message.contains("wasi_snapshot_preview1")
                    && message.contains("wasm32-wasip1")),
            "{events:?}"
        );
        let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
            panic!()
        };
        assert!(
            matches!(
                info.kind,
                TrapKind::UnresolvedImport {
                    problem: ImportProblem::OldWasi,
                    ..
                }
            ),
            "{:?}",
            info.kind
        );
    }
}

mod limits {
    use super::*;

    #[test]
    fn memory_bomb_traps_with_the_limit_in_the_message() {
        let rt = runtime();
        let wat = r#"(module (memory (export "memory") 1)
            (func (export "main") (result i32)
              (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
              (i32.const 0)))"#;
        let mut inst = instance(&rt, wat, config("bomb", SafetyLevel::Safe)).unwrap();
        inst.start_main().unwrap();
        let msg = trap_message(&wait_main(&mut inst)).expect("trapped");
        assert!(
            msg.contains("memory limit exceeded") && msg.contains("16 MiB"),
            "{msg}"
        );
    }

    #[test]
    fn initial_memory_over_the_limit_fails_instantiation() {
        let rt = runtime();
        let err = instance(
            &rt,
            r#"(module (memory 1000))"#,
            config("big", SafetyLevel::Safe),
        )
        .err()
        .expect("refused");
        assert!(err.to_string().contains("memory limit"), "{err}");
    }

    #[test]
    fn endless_callback_overruns_its_budget_and_the_next_call_is_refused_cleanly() {
        let rt = runtime();
        let wat = r#"(module (func (export "process") (param f64) (loop $l (br $l))))"#;
        let mut inst = instance(&rt, wat, config("spin", SafetyLevel::Safe)).unwrap();
        let t = Instant::now();
        let WasgoError::Trap(info) = inst.call("process", &[Val::F64(0)]).unwrap_err() else {
            panic!()
        };
        assert_eq!(info.kind, TrapKind::CallbackBudget);
        // How soon is the benchmark's business; here only that it ends (no timed assertion).
        eprintln!("the endless callback was stopped after {:?}", t.elapsed());
        assert!(matches!(
            inst.call("process", &[Val::F64(0)]),
            Err(WasgoError::Ended { .. })
        ));
    }

    #[test]
    fn deep_recursion_is_a_stack_overflow_with_function_names() {
        let rt = runtime();
        let wat = r#"(module (func $recurse (export "recurse") (param i32) (result i32)
            (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))"#;
        let mut inst = instance(&rt, wat, config("deep", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = inst.call("recurse", &[Val::I32(0)]).unwrap_err() else {
            panic!()
        };
        assert_eq!(info.kind, TrapKind::StackOverflow);
        assert!(
            info.message.contains("wasm backtrace") && info.message.contains("recurse"),
            "{}",
            info.message
        );
    }

    #[test]
    fn main_timeout_traps_main() {
        let rt = runtime();
        let mut cfg = config("slow", SafetyLevel::Safe);
        cfg.limits.main_timeout = Some(Duration::from_millis(30));
        let mut inst = instance(
            &rt,
            r#"(module (func (export "main") (result i32) (loop $l (br $l)) (i32.const 0)))"#,
            cfg,
        )
        .unwrap();
        inst.start_main().unwrap();
        let msg = trap_message(&wait_main(&mut inst)).expect("trapped");
        assert!(msg.contains("timeout of 30 ms"), "{msg}");
    }

    #[test]
    fn abort_traps_with_the_mods_message() {
        let rt = runtime();
        let wat = r#"(module (import "wasgo" "abort" (func $abort (param i32 i32)))
            (memory (export "memory") 1) (data (i32.const 0) "it broke")
            (func (export "go") (call $abort (i32.const 0) (i32.const 8))))"#;
        let mut inst = instance(&rt, wat, config("aborter", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
            panic!()
        };
        assert_eq!(info.kind, TrapKind::Abort);
        assert!(
            info.message.contains("`aborter` aborted: it broke"),
            "{}",
            info.message
        );
    }

    /// The abort text is printed as WasGo's own error: it cannot start a line of its own that
    /// reads like another of WasGo's messages, and it is cut.
    #[test]
    fn an_abort_text_stays_on_one_line_and_is_cut() {
        let rt = runtime();
        let wat = r#"(module (import "wasgo" "abort" (func $abort (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "x\0a\0aWARNING: WasGo: `trusted` was granted `network`")
            (func (export "go") (call $abort (i32.const 0) (i32.const 51)))
            (func (export "long") (call $abort (i32.const 0) (i32.const 60000))))"#;
        let mut inst = instance(&rt, wat, config("aborter", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
            panic!()
        };
        let first = info.message.lines().next().unwrap_or_default();
        assert!(first.contains("aborted: x\\u{a}\\u{a}WARNING"), "{}", info.message);
        assert!(!info.message.contains("\nWARNING"), "{}", info.message);
        let mut inst = instance(&rt, wat, config("aborter", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = inst.call("long", &[]).unwrap_err() else {
            panic!()
        };
        // 4 KiB kept, each hidden byte written as an escape.
        assert!(info.message.len() < 30_000, "{} bytes", info.message.len());
    }

    #[test]
    fn bad_pointer_traps_naming_the_function() {
        let rt = runtime();
        let wat = r#"(module (import "wasgo" "log" (func $log (param i32 i32 i32)))
            (memory (export "memory") 1)
            (func (export "go") (call $log (i32.const 1) (i32.const 65000) (i32.const 9999))))"#;
        let mut inst = instance(&rt, wat, config("ptr", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = inst.call("go", &[]).unwrap_err() else {
            panic!()
        };
        assert!(
            info.message.contains("`wasgo.log`")
                && info.message.contains("outside the mod's memory"),
            "{}",
            info.message
        );
    }

    #[test]
    fn malformed_bytes_are_a_compile_error() {
        let rt = runtime();
        let err = rt
            .compile(&[0, 97, 115, 109, 9, 9, 9], "junk")
            .expect_err("refused");
        assert!(matches!(err, WasgoError::Compile { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("`junk` is not a valid WebAssembly module"),
            "{err}"
        );
    }
}

mod workers {
    use super::*;

    const SPIN: &str =
        r#"(module (func (export "main") (result i32) (loop $l (br $l)) (i32.const 0)))"#;

    #[test]
    fn kill_stops_a_spinning_main_and_its_worker() {
        let rt = runtime();
        let mut inst = instance(&rt, SPIN, config("spin", SafetyLevel::Safe)).unwrap();
        inst.start_main().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(rt.stats().workers, 1);
        let t = Instant::now();
        assert!(inst.kill("test"));
        eprintln!("kill of a spinning main returned after {:?}", t.elapsed());
        assert_eq!(inst.status(), ModStatus::Killed);
        // The worker goes soon after; a liveness bound, not a timing claim.
        let deadline = Instant::now() + Duration::from_secs(10);
        while rt.stats().workers != 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(rt.stats().workers, 0, "the worker thread outlived the kill");
        assert!(inst.drain_events().contains(&ModEvent::Killed {
            reason: "test".into()
        }));
    }

    #[test]
    fn kill_interrupts_a_sleeping_main() {
        let rt = runtime();
        // poll_oneoff with one relative clock subscription of 60 s.
        let wat = r#"(module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "main") (result i32)
            (i64.store (i32.const 0) (i64.const 7))
            (i32.store8 (i32.const 8) (i32.const 0))
            (i32.store (i32.const 16) (i32.const 1))
            (i64.store (i32.const 24) (i64.const 60000000000))
            (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200))))"#;
        let mut inst = instance(&rt, wat, config("sleeper", SafetyLevel::Safe)).unwrap();
        inst.start_main().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let t = Instant::now();
        inst.kill("test");
        // Not a speed claim: the mod sleeps for a minute, and kill() must not wait for it.
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }

    /// `main` sleeps `$ns` nanoseconds (WASI `poll_oneoff`, one relative clock subscription),
    /// then spins.
    fn sleep_then_spin(ns: u64) -> String {
        format!(
            r#"(module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "main") (result i32)
            (i64.store (i32.const 0) (i64.const 7))
            (i32.store8 (i32.const 8) (i32.const 0))
            (i32.store (i32.const 16) (i32.const 1))
            (i64.store (i32.const 24) (i64.const {ns}))
            (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
            (loop $l (br $l))
            (i32.const 0)))"#
        )
    }

    /// Waits until `f` holds; false after 10 s (a liveness bound, not a timing claim).
    fn eventually(f: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !f() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    #[test]
    fn a_sleeping_main_lets_the_epoch_ticker_sleep() {
        let rt = runtime();
        let mut inst = instance(
            &rt,
            &sleep_then_spin(60_000_000_000),
            config("idle_sleeper", SafetyLevel::Safe),
        )
        .unwrap();
        inst.start_main().unwrap();
        assert!(
            eventually(|| rt.ticker_is_sleeping()),
            "the epoch ticker kept ticking for a main that sleeps"
        );
        assert_eq!(inst.status(), ModStatus::RunningMain);
        assert!(inst.kill("test"));
        assert!(eventually(|| rt.stats().workers == 0), "the worker outlived the kill");
    }

    #[test]
    fn a_main_that_slept_and_then_spins_is_still_stopped_by_kill() {
        let rt = runtime();
        let mut inst = instance(
            &rt,
            &sleep_then_spin(100_000_000),
            config("wake_then_spin", SafetyLevel::Safe),
        )
        .unwrap();
        inst.start_main().unwrap();
        // Past the sleep: it spins now, and the ticker must be ticking again for it.
        std::thread::sleep(Duration::from_millis(400));
        assert!(!rt.ticker_is_sleeping(), "the ticker sleeps while a main spins");
        assert!(inst.kill("test"));
        // Wasm notices the kill only at an epoch tick: a ticker left asleep would never stop it.
        assert!(eventually(|| rt.stats().workers == 0), "the spinning worker outlived the kill");
        assert_eq!(inst.status(), ModStatus::Killed);
    }

    #[test]
    fn main_thread_callbacks_share_one_ticker_hold_until_it_is_released() {
        let rt = runtime();
        let mut inst = instance(
            &rt,
            r#"(module (func (export "noop")))"#,
            config("holder", SafetyLevel::Safe),
        )
        .unwrap();
        assert!(eventually(|| rt.ticker_is_sleeping()), "the ticker never slept");
        // This thread made the runtime: it is its main thread, whose callbacks share a hold.
        for _ in 0..3 {
            inst.call("noop", &[]).unwrap();
        }
        assert!(eventually(|| !rt.ticker_is_sleeping()), "a callback did not wake the ticker");
        std::thread::sleep(wasgo_core::ticker::LINGER * 2);
        assert!(
            !rt.ticker_is_sleeping(),
            "the main thread's hold ended with its callback"
        );
        // Only the main thread lets it go.
        std::thread::scope(|s| {
            s.spawn(|| rt.release_main_ticker_hold());
        });
        std::thread::sleep(wasgo_core::ticker::LINGER * 2);
        assert!(!rt.ticker_is_sleeping(), "another thread let the hold go");
        rt.release_main_ticker_hold();
        assert!(
            eventually(|| rt.ticker_is_sleeping()),
            "the ticker kept ticking after the hold was let go"
        );
        // The next callback takes it again.
        inst.call("noop", &[]).unwrap();
        assert!(eventually(|| !rt.ticker_is_sleeping()));
        rt.release_main_ticker_hold();
        assert!(eventually(|| rt.ticker_is_sleeping()));
    }

    #[test]
    fn calls_while_main_runs_are_busy_not_blocked() {
        let rt = runtime();
        let wat = r#"(module (func (export "main") (result i32) (loop $l (br $l)) (i32.const 0))
            (func (export "ping") (result i32) (i32.const 1)))"#;
        let mut inst = instance(&rt, wat, config("busy", SafetyLevel::Safe)).unwrap();
        inst.start_main().unwrap();
        std::thread::sleep(Duration::from_millis(10));
        assert!(matches!(
            inst.call("ping", &[]),
            Err(WasgoError::Busy { .. })
        ));
        inst.kill("done");
    }

    #[test]
    fn main_runs_on_another_thread_and_reports_finished() {
        let rt = runtime();
        let mut inst = instance(&rt, LOG_MAIN, config("hello", SafetyLevel::Safe)).unwrap();
        inst.start_main().unwrap();
        let events = wait_main(&mut inst);
        assert_eq!(outputs(&events), vec!["hello from main"]);
        assert!(events.contains(&ModEvent::Finished { exit_code: 1 }));
        assert_eq!(inst.status(), ModStatus::Finished);
        assert_eq!(
            inst.call("main", &[]).unwrap()[0].unwrap_i32(),
            1,
            "callbacks go on after main returned"
        );
    }

    #[test]
    fn a_trap_in_one_mod_leaves_another_running() {
        let rt = runtime();
        let mut a = instance(
            &rt,
            r#"(module (func (export "go") unreachable))"#,
            config("a", SafetyLevel::Safe),
        )
        .unwrap();
        let mut b = instance(
            &rt,
            r#"(module (func (export "go") (result i32) (i32.const 5)))"#,
            config("b", SafetyLevel::Safe),
        )
        .unwrap();
        assert!(a.call("go", &[]).is_err());
        assert_eq!(b.call("go", &[]).unwrap()[0].unwrap_i32(), 5);
    }
}

mod wasi_output {
    use super::*;

    #[test]
    fn stdout_becomes_lines_and_exit_codes_finish() {
        let rt = runtime();
        let wat = r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "one\ntwo\nthr")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 11))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 3))))"#;
        let mut inst = instance(&rt, wat, config("printer", SafetyLevel::Safe)).unwrap();
        inst.start_main().unwrap();
        let events = wait_main(&mut inst);
        assert_eq!(outputs(&events), vec!["one", "two", "thr"]);
        assert!(events.contains(&ModEvent::Finished { exit_code: 3 }));
        assert_eq!(inst.status(), ModStatus::Exited);
    }
}

mod game_functions {
    use super::*;

    struct Adder;
    impl GameCallHandler for Adder {
        fn call(&self, _key: InstanceKey, _id: u64, args: Vec<GameValue>) -> Result<Vec<GameValue>, GameCallError> {
            match args.as_slice() {
                [GameValue::I32(a), GameValue::I32(b)] => Ok(vec![GameValue::I32(a + b)]),
                [GameValue::String(s)] => Ok(vec![GameValue::String(s.to_uppercase())]),
                _ => Err("bad args".into()),
            }
        }
    }

    const USES_ADD: &str = r#"(module
      (import "game" "add" (func $add (param i32 i32) (result i32)))
      (func (export "main") (result i32) (call $add (i32.const 2) (i32.const 40))))"#;

    /// A game function `game.next() -> string` that answers "first message", "second
    /// message", ... and counts its calls.
    struct Queue(std::sync::atomic::AtomicU32);
    impl GameCallHandler for Queue {
        fn call(&self, _key: InstanceKey, _id: u64, args: Vec<GameValue>) -> Result<Vec<GameValue>, GameCallError> {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let word = ["first", "second", "third", "fourth"][n as usize % 4];
            let tag = match args.as_slice() {
                [GameValue::I32(t)] => format!(" {t}"),
                _ => String::new(),
            };
            Ok(vec![GameValue::String(format!("{word} message{tag}"))])
        }
    }

    #[test]
    fn a_string_result_too_large_for_the_buffer_is_kept_for_the_retry() {
        let queue = Arc::new(Queue(Default::default()));
        let rt = Runtime::new(
            mode_config(),
            Hosts {
                game: queue.clone(),
                ..Hosts::detached()
            },
        )
        .unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        rt.games()
            .register("game", "next", &s(&["i32"]), &s(&["string"]), 1)
            .unwrap();
        // `probe(tag)` asks with no room, then again with room (the contract's retry), and
        // returns the length; `again(tag)` asks with no room only.
        let wat = r#"(module
          (import "game" "next" (func $next (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "probe") (param i32) (result i32)
            (drop (call $next (local.get 0) (i32.const 0) (i32.const 0)))
            (call $next (local.get 0) (i32.const 64) (i32.const 64)))
          (func (export "small") (param i32) (result i32)
            (call $next (local.get 0) (i32.const 0) (i32.const 0)))
          (func (export "room") (param i32) (result i32)
            (call $next (local.get 0) (i32.const 64) (i32.const 64))))"#;
        let mut inst = instance(&rt, wat, config("queue", SafetyLevel::Safe)).unwrap();
        let len = inst.call("probe", &[Val::I32(7)]).unwrap()[0].unwrap_i32();
        assert_eq!(len, "first message 7".len() as i32);
        // The Callable ran once for the two calls.
        assert_eq!(queue.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        // An identical call with no room again runs it again (a mod that ignores results).
        inst.call("small", &[Val::I32(7)]).unwrap();
        inst.call("small", &[Val::I32(7)]).unwrap();
        assert_eq!(queue.0.load(std::sync::atomic::Ordering::SeqCst), 3);
        // A retry with other arguments is another call.
        let len = inst.call("probe", &[Val::I32(8)]).unwrap()[0].unwrap_i32();
        assert_eq!(len, "fourth message 8".len() as i32);
        assert_eq!(queue.0.load(std::sync::atomic::Ordering::SeqCst), 4);
        // A kept result answers only the retry in the same entry: asked with no room in one
        // call, then with room in the next, the Callable runs again.
        inst.call("small", &[Val::I32(9)]).unwrap();
        inst.call("room", &[Val::I32(9)]).unwrap();
        assert_eq!(queue.0.load(std::sync::atomic::Ordering::SeqCst), 6);
    }

    #[test]
    fn has_function_answers_for_the_imports_as_they_were_linked() {
        let rt = adder_runtime();
        // Imports `game.late` (registered after the instance is made) and `game.add` with
        // another signature; asks `has_function` about them and others.
        let wat = r#"(module
          (import "wasgo" "has_function" (func $has (param i32 i32 i32 i32) (result i32)))
          (import "game" "late" (func $late (result i32)))
          (import "game" "add" (func $add_wrong (param i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "gamelateaddwapc__guest_callgojsdebug")
          (func (export "late") (result i32) (call $has (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 4)))
          (func (export "add") (result i32) (call $has (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 3)))
          (func (export "wapc") (result i32) (call $has (i32.const 11) (i32.const 4) (i32.const 15) (i32.const 12)))
          (func (export "gojs") (result i32) (call $has (i32.const 27) (i32.const 4) (i32.const 31) (i32.const 5))))"#;
        let mut inst = instance(&rt, wat, config("late", SafetyLevel::Wrapped)).unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        rt.games()
            .register("game", "late", &[], &s(&["i32"]), 1)
            .unwrap();
        let ask = |inst: &mut ModInstance, f: &str| inst.call(f, &[]).unwrap()[0].unwrap_i32();
        assert_eq!(ask(&mut inst, "late"), 0, "registered after the instance was linked");
        assert_eq!(ask(&mut inst, "add"), 0, "imported with another signature");
        assert_eq!(ask(&mut inst, "wapc"), 0, "waPC's host in a wasgo mod");
        assert_eq!(ask(&mut inst, "gojs"), 0, "Go's host in a wasgo mod");
        // A new instance links `game.late` to the game's function.
        let mut again = instance(&rt, wat, config("late", SafetyLevel::Wrapped)).unwrap();
        assert_eq!(ask(&mut again, "late"), 1);
        // Registered again with the same shape: its calls reach the new one (yes).
        rt.games()
            .register("game", "late", &[], &s(&["i32"]), 1)
            .unwrap();
        assert_eq!(ask(&mut again, "late"), 1, "a same-shape registration");
        // Unregistered and registered again: the link is gone (its calls trap), so no.
        assert!(rt.games().unregister("game", "late"));
        assert_eq!(ask(&mut again, "late"), 0, "after unregister");
        rt.games()
            .register("game", "late", &[], &s(&["i32"]), 1)
            .unwrap();
        assert_eq!(ask(&mut again, "late"), 0, "registered again after unregister");
    }

    /// A runtime whose game registered `game.add(i32, i32) -> i32` at level 2 ([`Adder`]).
    fn adder_runtime() -> Arc<Runtime> {
        let rt = Runtime::new(
            mode_config(),
            Hosts {
                game: Arc::new(Adder),
                ..Hosts::detached()
            },
        )
        .unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        rt.games()
            .register("game", "add", &s(&["i32", "i32"]), &s(&["i32"]), 2)
            .unwrap();
        rt
    }

    #[test]
    fn a_main_waiting_for_the_main_thread_lets_the_epoch_ticker_sleep() {
        let rt = adder_runtime();
        let mut inst = instance(&rt, USES_ADD, config("waiter", SafetyLevel::Wrapped)).unwrap();
        inst.start_main().unwrap();
        // Nobody serves the bridge yet: `main` waits in `game.add`, running no wasm.
        let start = Instant::now();
        while !rt.ticker_is_sleeping() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            rt.ticker_is_sleeping(),
            "the epoch ticker kept ticking for a main waiting for the main thread"
        );
        assert!(inst.is_main_running());
        // Served now: it goes on and finishes as usual.
        let start = Instant::now();
        while inst.is_main_running() && start.elapsed() < Duration::from_secs(5) {
            rt.bridge().run_pending(Duration::from_millis(2));
        }
        assert!(wait_main(&mut inst).contains(&ModEvent::Finished { exit_code: 42 }));
    }

    #[test]
    fn registered_function_is_callable_at_its_level_from_main() {
        let rt = adder_runtime();
        // From main (a worker thread) the call is served by the main thread's bridge.
        let mut inst = instance(&rt, USES_ADD, config("adder", SafetyLevel::Wrapped)).unwrap();
        inst.start_main().unwrap();
        let start = Instant::now();
        while inst.is_main_running() && start.elapsed() < Duration::from_secs(5) {
            rt.bridge().run_pending(Duration::from_millis(2));
        }
        assert!(wait_main(&mut inst).contains(&ModEvent::Finished { exit_code: 42 }));

        let mut low = instance(&rt, USES_ADD, config("adder", SafetyLevel::Safe)).unwrap();
        let WasgoError::Trap(info) = low.call("main", &[]).unwrap_err() else {
            panic!()
        };
        assert!(
            info.message
                .contains("call to `game.add`, which is not exposed at safety level 1"),
            "{}",
            info.message
        );
    }

    #[test]
    fn string_results_use_the_caller_buffer() {
        let rt = Runtime::new(
            mode_config(),
            Hosts {
                game: Arc::new(Adder),
                ..Hosts::detached()
            },
        )
        .unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        rt.games()
            .register("game", "upper", &s(&["string"]), &s(&["string"]), 1)
            .unwrap();
        let wat = r#"(module
          (import "game" "upper" (func $up (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1) (data (i32.const 0) "mod")
          (func (export "small") (result i32) (call $up (i32.const 0) (i32.const 3) (i32.const 100) (i32.const 2)))
          (func (export "big") (result i32) (call $up (i32.const 0) (i32.const 3) (i32.const 100) (i32.const 16)))
          (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
        let mut inst = instance(&rt, wat, config("up", SafetyLevel::Safe)).unwrap();
        assert_eq!(inst.call("small", &[]).unwrap()[0].unwrap_i32(), 3);
        assert_eq!(
            inst.call("byte", &[Val::I32(100)]).unwrap()[0].unwrap_i32(),
            0,
            "nothing written when it does not fit"
        );
        assert_eq!(inst.call("big", &[]).unwrap()[0].unwrap_i32(), 3);
        assert_eq!(
            inst.call("byte", &[Val::I32(100)]).unwrap()[0].unwrap_i32(),
            b'M' as i32
        );
    }
}

mod cache {
    use super::*;

    #[test]
    fn same_bytes_compile_once_and_survive_a_restart_on_disk() {
        let dir = std::env::temp_dir().join(format!("wasgo-cache-test-{}-{MODE}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = RuntimeConfig {
            cache_dir: Some(dir.clone()),
            ..mode_config()
        };
        let rt = Runtime::new(cfg.clone(), Hosts::detached()).unwrap();
        let a = rt.compile(LOG_MAIN.as_bytes(), "a").unwrap();
        let b = rt.compile(LOG_MAIN.as_bytes(), "b").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(rt.stats().cache_hits, 1);
        drop(rt);
        let rt2 = Runtime::new(cfg, Hosts::detached()).unwrap();
        let c = rt2.compile(LOG_MAIN.as_bytes(), "c").unwrap();
        assert_eq!(rt2.stats().cache_hits, 1, "loaded from the disk cache");
        let mut inst = ModInstance::new(&rt2, &c, config("c", SafetyLevel::Safe)).unwrap();
        assert_eq!(inst.call("main", &[]).unwrap()[0].unwrap_i32(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A memory whose data spans more than 1 MiB gets no memory image unless the data fills half
/// of it: at wasmtime's default (16 MiB, whatever the data), four memories holding two bytes
/// each, 16 MiB apart, compiled to 64 MiB (a hundred, the gigabytes a scan of the mods folder
/// compiled and wrote to the disk cache). The data still arrives.
#[test]
fn sparse_data_makes_no_memory_image_and_still_arrives() {
    let rt = runtime();
    let mut wat = String::from("(module");
    for i in 0..4 {
        wat.push_str(&format!(
            " (memory $m{i} 256) (data (memory $m{i}) (i32.const 0) \"a\") (data (memory $m{i}) (i32.const 16777200) \"b\")"
        ));
    }
    wat.push_str(" (func (export \"last\") (result i32) (i32.load8_u $m3 (i32.const 16777200))))");
    let compiled = wasmtime::Module::new(rt.engine(), &wat).unwrap();
    let size = compiled.serialize().unwrap().len();
    assert!(size < 4 << 20, "compiled to {size} bytes");
    let mut cfg = config("sparse", SafetyLevel::Safe);
    cfg.limits.memory_bytes = 128 << 20;
    let mut inst = instance(&rt, &wat, cfg).unwrap();
    assert_eq!(inst.call("last", &[]).unwrap()[0].unwrap_i32(), i32::from(b'b'));
}

/// wasmtime builds each table's initial contents at compile time, 4 bytes an entry up to the
/// table's initial size, from a few bytes of the file: a 17-byte table and element segment
/// per 4 MiB, so a 40 KB module took gigabytes from a scan of the mods folder. A module whose
/// tables start with more entries together than an instance may hold (which could never be
/// started) is refused before compiling, naming the count; one at the limit compiles.
#[test]
fn tables_that_start_larger_than_an_instance_may_hold_are_refused_before_compiling() {
    let rt = runtime();
    let tables = |sizes: &[u64]| {
        let mut wat = String::from("(module (func $f)");
        for (i, size) in sizes.iter().enumerate() {
            wat.push_str(&format!(
                " (table $t{i} {size} funcref) (elem (table $t{i}) (i32.const {}) func $f)",
                size - 1
            ));
        }
        wat.push(')');
        wat
    };
    let max = wasgo_core::state::MAX_TABLE_ENTRIES as u64;
    let err = rt
        .compile(tables(&[max / 2, max / 2 + 1]).as_bytes(), "tables")
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains(&format!("its tables start with {} entries together", max + 1)),
        "{text}"
    );
    let err = rt
        .compile(tables(&[1 << 20; 3]).as_bytes(), "tables")
        .expect_err("refused");
    assert!(err.to_string().contains("over WasGo's limit"), "{err}");
    // At the limit: compiled, its table image bounded by the limit.
    let wat = tables(&[max]);
    rt.compile(wat.as_bytes(), "one_table").expect("compiles");
    let size = wasmtime::Module::new(rt.engine(), &wat)
        .unwrap()
        .serialize()
        .unwrap()
        .len();
    assert!(size < 8 << 20, "compiled to {size} bytes");
}
