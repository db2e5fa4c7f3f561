//! Instance and module lifecycles: a kill that never waits on the worker, the module cache's
//! bound and single flight, compile limits, and the CPU-time callback budget.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasgo_core::*;

fn config(name: &str, limits: Limits) -> InstanceConfig {
    InstanceConfig {
        name: name.into(),
        level: SafetyLevel::Safe,
        limits,
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: 0,
        network: Default::default(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Polls `done` for up to 10 s (a bound for a hung test, not a timing assertion).
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

mod kill {
    use super::*;

    /// `game.nap()`: sleeps 2 s on the thread serving the bridge.
    struct Napper {
        entered: Arc<AtomicBool>,
    }

    impl GameCallHandler for Napper {
        fn call(
            &self,
            _key: InstanceKey,
            _id: u64,
            _args: Vec<GameValue>,
        ) -> Result<Vec<GameValue>, GameCallError> {
            self.entered.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(2));
            Ok(vec![])
        }
    }

    /// A runtime whose bridge is served by another thread, as Godot's main thread would.
    fn napping_runtime() -> (Arc<Runtime>, Arc<AtomicBool>, Arc<AtomicBool>) {
        let entered = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (rt_tx, rt_rx) = crossbeam_channel::bounded::<Arc<Runtime>>(1);
        let (id_tx, id_rx) = crossbeam_channel::bounded(1);
        let serving_stop = stop.clone();
        std::thread::spawn(move || {
            id_tx.send(std::thread::current().id()).unwrap();
            let rt = rt_rx.recv().unwrap();
            while !serving_stop.load(Ordering::SeqCst) {
                rt.bridge().run_pending(Duration::from_millis(5));
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let hosts = Hosts {
            game: Arc::new(Napper {
                entered: entered.clone(),
            }),
            bridge: MainThreadBridge::with_main_thread(id_rx.recv().unwrap()),
            ..Hosts::detached()
        };
        let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
        rt.games().register("game", "nap", &[], &[], 1).unwrap();
        rt_tx.send(rt.clone()).unwrap();
        (rt, entered, stop)
    }

    const NAPS_IN_MAIN: &str = r#"(module
      (import "game" "nap" (func $nap))
      (memory (export "memory") 4)
      (func (export "main") (result i32) (call $nap) (i32.const 0)))"#;

    #[test]
    fn kill_returns_at_once_while_main_waits_in_a_slow_game_function_and_the_store_is_freed() {
        let (rt, entered, stop) = napping_runtime();
        let module = rt.compile(NAPS_IN_MAIN.as_bytes(), "napper").unwrap();
        let mut inst = ModInstance::new(&rt, &module, config("napper", Limits::default())).unwrap();
        assert_eq!(rt.stats().instances, 1);
        assert!(inst.start_main().unwrap());
        assert!(
            eventually(|| entered.load(Ordering::SeqCst)),
            "the game function was never called"
        );

        let t = Instant::now();
        assert!(inst.kill("test"));
        let took = t.elapsed();
        // Not a speed claim: the game function naps for seconds, and kill() must not wait for it.
        assert!(took < Duration::from_secs(1), "kill() took {took:?}");

        assert_eq!(inst.status(), ModStatus::Killed);
        let killed = inst
            .drain_events()
            .into_iter()
            .filter(|e| matches!(e, ModEvent::Killed { .. }))
            .count();
        assert_eq!(killed, 1, "one `Killed` event when kill() returned");
        assert!(
            !inst.kill("again"),
            "a second kill reports that it had ended"
        );
        assert!(
            eventually(|| rt.stats().instances == 0),
            "the store was not freed after the call returned: {:?}",
            rt.stats()
        );
        assert!(eventually(|| {
            inst.reap_worker();
            rt.stats().workers == 0
        }));
        assert!(inst.drain_events().is_empty(), "nothing after `Killed`");
        stop.store(true, Ordering::SeqCst);
    }

    #[test]
    fn dropping_an_instance_whose_main_waits_in_a_game_function_returns_at_once() {
        let (rt, entered, stop) = napping_runtime();
        let module = rt.compile(NAPS_IN_MAIN.as_bytes(), "napper").unwrap();
        let mut inst = ModInstance::new(&rt, &module, config("napper", Limits::default())).unwrap();
        inst.start_main().unwrap();
        assert!(eventually(|| entered.load(Ordering::SeqCst)));
        let t = Instant::now();
        drop(inst);
        // Not a speed claim: the game function naps for seconds, and drop must not wait for it.
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "drop took {:?}",
            t.elapsed()
        );
        assert!(eventually(
            || rt.stats().instances == 0 && rt.stats().workers == 0
        ));
        stop.store(true, Ordering::SeqCst);
    }
}

mod cache {
    use super::*;

    fn numbered(n: usize) -> String {
        format!(r#"(module (func (export "n") (result i32) (i32.const {n})))"#)
    }

    #[test]
    fn unused_modules_are_evicted_down_to_the_bound_and_used_ones_stay() {
        let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
        let held: Vec<_> = (0..40)
            .map(|n| rt.compile(numbered(n).as_bytes(), "held").unwrap())
            .collect();
        for n in 40..240 {
            drop(rt.compile(numbered(n).as_bytes(), "dropped").unwrap());
        }
        assert_eq!(rt.stats().compiles, 240);
        assert!(
            eventually(|| rt.stats().modules <= 40 + 32),
            "the cache holds {} modules",
            rt.stats().modules
        );
        let again = rt.compile(numbered(3).as_bytes(), "held").unwrap();
        assert!(
            Arc::ptr_eq(&again, &held[3]),
            "a module in use is found again"
        );
        assert_eq!(rt.stats().compiles, 240);
        drop((held, again));
        for n in 240..440 {
            drop(rt.compile(numbered(n).as_bytes(), "dropped").unwrap());
        }
        // The last compile thread lets go of its module just after handing it over.
        assert!(eventually(|| rt.stats().modules <= 32), "{:?}", rt.stats());
        rt.trim_cache();
        assert!(eventually(|| rt.stats().modules == 0), "{:?}", rt.stats());
    }

    #[test]
    fn threads_compiling_the_same_bytes_at_once_share_one_compile() {
        let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
        let mut wat = String::from("(module");
        for i in 0..400 {
            wat.push_str(&format!(
                "(func (export \"f{i}\") (param i32) (result i32) (i32.mul (i32.add (local.get 0) (i32.const {i})) (i32.const 7)))"
            ));
        }
        wat.push(')');
        let barrier = Arc::new(std::sync::Barrier::new(6));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (rt, wat, barrier) = (rt.clone(), wat.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    rt.compile(wat.as_bytes(), "shared").unwrap()
                })
            })
            .collect();
        let modules: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(modules.iter().all(|m| Arc::ptr_eq(m, &modules[0])));
        assert_eq!(rt.stats().compiles, 1, "{:?}", rt.stats());
        assert_eq!(rt.stats().cache_hits, 5);
    }
}

mod compile_limits {
    use super::*;

    #[test]
    fn a_module_over_the_size_limit_is_refused_naming_the_size_and_the_setting() {
        let cfg = RuntimeConfig {
            max_module_bytes: 16,
            ..RuntimeConfig::default()
        };
        let rt = Runtime::new(cfg, Hosts::detached()).unwrap();
        let err = rt.compile(b"(module (memory 1))", "big").unwrap_err();
        assert!(
            matches!(
                err,
                WasgoError::ModuleTooLarge {
                    size: 19,
                    limit: 16,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("19 bytes") && text.contains("wasgo/limits/module_mb"),
            "{text}"
        );
        assert_eq!(rt.stats().compiles, 0);
    }

    /// `err`'s message, once it is a [`WasgoError::CompileTooCostly`].
    fn too_costly(err: WasgoError) -> String {
        assert!(
            matches!(err, WasgoError::CompileTooCostly { .. }),
            "{err:?}"
        );
        err.to_string()
    }

    /// A function whose compile would take gigabytes (locals × blocks, see
    /// `wasgo_core::compile_cost`) is refused before the compiler sees it, when compiling to run
    /// and when precompiling; one at the limit compiles.
    #[test]
    fn a_module_whose_compile_would_take_gigabytes_is_refused_before_compiling() {
        let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
        let bomb = wasgo_core::compile_cost::bomb(20_000, 50_000);
        let text = too_costly(rt.compile(&bomb, "bomb").unwrap_err());
        assert!(
            text.contains("`bomb`") && text.contains("function #0 has 20000 locals"),
            "{text}"
        );
        assert_eq!(rt.stats().compiles, 0, "nothing was compiled");
        let key = wasgo_core::ArtifactKey::new(&[7; 32]).unwrap();
        too_costly(rt.precompile(&bomb, "bomb", &key).unwrap_err());
        rt.compile(&wasgo_core::compile_cost::bomb(8192, 8192), "at_the_limit")
            .expect("a module at the limit compiles");
    }

    /// The compiler keeps about 5.5 KB per function however small (a million empty ones: 5.5 GB):
    /// a module of more functions than the size limit allows is refused, naming the setting.
    #[test]
    fn a_module_of_a_million_empty_functions_is_refused_before_compiling() {
        let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
        let n: u32 = 1_000_000;
        let leb = wasgo_core::wasm_sections::push_uleb32;
        let mut module = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0".to_vec();
        let mut functions = Vec::new();
        leb(&mut functions, n);
        functions.resize(functions.len() + n as usize, 0);
        module.push(3);
        leb(&mut module, functions.len() as u32);
        module.extend(functions);
        let mut code = Vec::new();
        leb(&mut code, n);
        for _ in 0..n {
            code.extend_from_slice(&[2, 0, 0x0b]);
        }
        module.push(10);
        leb(&mut module, code.len() as u32);
        module.extend(code);
        let text = too_costly(rt.compile(&module, "many").unwrap_err());
        assert!(
            text.contains("defines 1000000 functions, over the limit of 104857")
                && text.contains("wasgo/limits/module_mb"),
            "{text}"
        );
        assert_eq!(rt.stats().compiles, 0, "nothing was compiled");
    }

    #[test]
    fn a_compile_past_the_time_limit_is_refused_and_its_module_is_cached_later() {
        let cfg = RuntimeConfig {
            compile_timeout: Duration::ZERO,
            ..RuntimeConfig::default()
        };
        let rt = Runtime::new(cfg, Hosts::detached()).unwrap();
        let mut wat = String::from("(module");
        for i in 0..300 {
            wat.push_str(&format!(
                "(func (export \"f{i}\") (result i32) (i32.const {i}))"
            ));
        }
        wat.push(')');
        let err = rt.compile(wat.as_bytes(), "slow").unwrap_err();
        assert!(matches!(err, WasgoError::CompileTimeout { .. }), "{err:?}");
        assert!(
            err.to_string().contains("wasgo/limits/compile_timeout_ms"),
            "{err}"
        );
        assert!(
            eventually(|| rt.stats().compiles == 1),
            "the compile never finished"
        );
        assert!(
            rt.compile(wat.as_bytes(), "slow").is_ok(),
            "the finished compile is cached"
        );
    }

    #[test]
    fn a_background_compile_is_polled_without_blocking_and_shares_the_cache() {
        let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
        let wat = r#"(module (func (export "f") (result i32) (i32.const 5)))"#;
        let mut ticket = rt.compile_in_background(wat.as_bytes(), "bg");
        assert_eq!(ticket.name(), "bg");
        let module = loop {
            match ticket.try_take() {
                Ok(outcome) => break outcome.unwrap(),
                Err(back) => ticket = back,
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let hit = rt.compile_in_background(wat.as_bytes(), "again");
        assert!(hit.is_ready(), "a cached module is ready at once");
        assert!(Arc::ptr_eq(&hit.wait().unwrap(), &module));
        let bad = rt.compile_in_background(b"not wasm", "bad").wait();
        // Bytes that are neither binary nor WAT are refused before compiling.
        assert!(matches!(bad, Err(WasgoError::NotWasm { .. })), "{bad:?}");
    }
}

mod budget {
    use super::*;

    /// `game.burn(ms)`: uses `ms` of CPU time on the calling thread (a main-thread entry's).
    struct Burner;

    impl GameCallHandler for Burner {
        fn call(
            &self,
            _key: InstanceKey,
            _id: u64,
            args: Vec<GameValue>,
        ) -> Result<Vec<GameValue>, GameCallError> {
            let [GameValue::I32(ms)] = args[..] else {
                return Err("burn takes one i32".into());
            };
            let start = wasgo_core::budget::thread_cpu_time();
            while wasgo_core::budget::thread_cpu_time() - start < Duration::from_millis(ms as u64) {
                std::hint::spin_loop();
            }
            Ok(vec![])
        }
    }

    const BURNS: &str = r#"(module
      (import "game" "burn" (func $burn (param i32)))
      (func $after)
      (func (export "work") (param i32)
        (call $burn (local.get 0))
        (call $after)
        (loop $l (br_if $l (i32.const 0))))
      (func (export "process") (param f64) (loop $l (br $l))))"#;

    fn limits(budget_ms: u64, factor: u32, strikes: u32) -> Limits {
        Limits {
            callback_budget: Duration::from_millis(budget_ms),
            callback_wall_backstop_factor: factor,
            budget_strikes: strikes,
            ..Limits::default()
        }
    }

    fn burner(limits: Limits) -> (Arc<Runtime>, ModInstance) {
        let hosts = Hosts {
            game: Arc::new(Burner),
            ..Hosts::detached()
        };
        let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
        rt.games()
            .register("game", "burn", &strings(&["i32"]), &[], 1)
            .unwrap();
        let module = rt.compile(BURNS.as_bytes(), "burner").unwrap();
        let inst = ModInstance::new(&rt, &module, config("burner", limits)).unwrap();
        (rt, inst)
    }

    #[test]
    fn a_busy_looping_process_traps_at_the_wall_clock_backstop() {
        let (_rt, mut inst) = burner(limits(10, 4, 3));
        let WasgoError::Trap(info) = inst.call("process", &[Val::F64(0)]).unwrap_err() else {
            panic!("expected a trap")
        };
        assert_eq!(info.kind, TrapKind::CallbackBudget);
        assert!(
            info.message
                .contains("overran its callback budget of 10 ms"),
            "{}",
            info.message
        );
        assert!(info.message.contains("wall-clock"), "{}", info.message);
        assert_eq!(inst.status(), ModStatus::Trapped);
    }

    #[test]
    fn a_first_overrun_is_a_warning_with_the_figures_and_the_call_completes() {
        let (_rt, mut inst) = burner(limits(10, 100, 3));
        inst.call("work", &[Val::I32(30)])
            .expect("the overrun is let finish");
        let events = inst.drain_events();
        let warning = events
            .iter()
            .find_map(|e| match e {
                ModEvent::BudgetWarning {
                    export,
                    cpu_ms,
                    budget_ms,
                    strikes,
                    wall_ms,
                } => Some((export.clone(), *cpu_ms, *wall_ms, *budget_ms, *strikes)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no budget warning: {events:?}"));
        let (export, cpu_ms, wall_ms, budget_ms, strikes) = warning;
        assert_eq!((export.as_str(), budget_ms, strikes), ("work", 10, 1));
        assert!(
            cpu_ms >= 10 && wall_ms >= cpu_ms.min(30) / 2,
            "cpu {cpu_ms} ms, wall {wall_ms} ms"
        );
        assert_eq!(inst.status(), ModStatus::Alive);
        inst.call("work", &[Val::I32(0)]).expect("still alive");
    }

    #[test]
    fn the_entry_after_an_overrun_starts_with_a_fresh_clock() {
        // The budget clock is one per store, re-armed in place at every entry: what an overrun
        // marked on it must not carry into the next entry.
        let (_rt, mut inst) = burner(limits(10, 100, 3));
        inst.call("work", &[Val::I32(30)])
            .expect("the overrun is let finish");
        let warnings = |inst: &mut ModInstance| {
            inst.drain_events()
                .into_iter()
                .filter(|e| matches!(e, ModEvent::BudgetWarning { .. }))
                .count()
        };
        assert_eq!(warnings(&mut inst), 1);
        for _ in 0..3 {
            inst.call("work", &[Val::I32(0)]).expect("a short entry");
        }
        assert_eq!(
            warnings(&mut inst),
            0,
            "a short entry after an overrun warned"
        );
        // Two more overruns: the strikes were kept (the third traps), not the overrun mark.
        inst.call("work", &[Val::I32(30)])
            .expect("the second overrun is let finish");
        assert_eq!(warnings(&mut inst), 1);
        assert!(inst.call("work", &[Val::I32(30)]).is_err());
    }

    #[test]
    fn repeated_overruns_trap_at_the_budget() {
        let (_rt, mut inst) = burner(limits(10, 100, 3));
        for _ in 0..2 {
            inst.call("work", &[Val::I32(30)])
                .expect("warned, not stopped");
        }
        let WasgoError::Trap(info) = inst.call("work", &[Val::I32(30)]).unwrap_err() else {
            panic!("expected a trap")
        };
        assert_eq!(info.kind, TrapKind::CallbackBudget);
        assert!(
            info.message.contains("overran its callback budget"),
            "{}",
            info.message
        );
        assert!(info.message.contains("3rd time"), "{}", info.message);
        let warnings = inst
            .drain_events()
            .into_iter()
            .filter(|e| matches!(e, ModEvent::BudgetWarning { .. }))
            .count();
        assert_eq!(warnings, 2);
    }

    #[test]
    fn one_strike_restores_the_trap_at_the_first_overrun() {
        let (_rt, mut inst) = burner(limits(10, 100, 1));
        let WasgoError::Trap(info) = inst.call("work", &[Val::I32(30)]).unwrap_err() else {
            panic!("expected a trap")
        };
        assert_eq!(info.kind, TrapKind::CallbackBudget);
    }
}

/// An entry right after `start_main` (or from a `started` handler) ran before `main` had taken
/// the store: the export ran while the status said `main` runs. It is busy from the start.
#[test]
fn an_entry_right_after_start_main_is_busy() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let wat = r#"(module
      (global $n (mut i32) (i32.const 0))
      (func (export "_start")
        (loop $spin
          (global.set $n (i32.add (global.get $n) (i32.const 1)))
          (br $spin)))
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;
    let module = rt.compile(wat.as_bytes(), "spinner").unwrap();
    for _ in 0..20 {
        let mut inst =
            ModInstance::new(&rt, &module, config("spinner", Limits::default())).unwrap();
        assert!(inst.start_main().unwrap());
        match inst.call("add", &[Val::I32(1), Val::I32(2)]) {
            Err(WasgoError::Busy { .. }) => {}
            other => panic!("an entry while `main` starts: {other:?}"),
        }
        inst.kill("done");
    }
}

/// `random_get` of 63 MiB, 40 times in a row with no loop between (so no epoch check): the host
/// made each buffer whole before looking at anything, and a killed `main` ran on for seconds.
/// It now fills the mod's memory a chunk at a time, checking the kill switch between chunks;
/// a range outside the memory is `EFAULT` (21).
#[test]
fn random_get_fills_the_memory_in_chunks_and_stops_at_a_kill() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let calls = "(drop (call $r (i32.const 0) (i32.const 0x3F00000)))\n".repeat(40);
    let wat = format!(
        r#"(module
      (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
      (memory (export "memory") 1024)
      (func (export "fill") (result i32)
        (drop (call $r (i32.const 0) (i32.const 4096)))
        (i32.or (i32.load (i32.const 0)) (i32.load (i32.const 4092))))
      (func (export "outside") (result i32) (call $r (i32.const 0x3FFFFF0) (i32.const 64)))
      (func (export "_start") {calls}))"#
    );
    let module = rt.compile(wat.as_bytes(), "randoms").unwrap();
    let limits = Limits {
        memory_bytes: 128 << 20,
        ..Limits::default()
    };
    let mut inst = ModInstance::new(&rt, &module, config("randoms", limits)).unwrap();
    match inst.call("outside", &[]).unwrap().as_slice() {
        [Val::I32(errno)] => assert_eq!(*errno, 21),
        other => panic!("{other:?}"),
    }
    match inst.call("fill", &[]).unwrap().as_slice() {
        [Val::I32(bits)] => assert_ne!(*bits, 0, "random bytes were written"),
        other => panic!("{other:?}"),
    }
    assert!(inst.start_main().unwrap());
    std::thread::sleep(Duration::from_millis(30));
    inst.kill("stop");
    assert!(
        eventually(|| rt.stats().workers == 0),
        "the worker ended after the kill"
    );
}

/// A mod's `main` runs below the game's threads (`budget::BACKGROUND_NICE`, as compiles do):
/// twenty spinning `main`s at the game's own priority left Godot's main thread a twenty-first
/// of the cores.
#[cfg(target_os = "linux")]
#[test]
fn a_mods_main_runs_at_the_background_priority() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let wat = r#"(module (func (export "_start") (loop $spin (br $spin))))"#;
    let module = rt.compile(wat.as_bytes(), "nice_probe").unwrap();
    let mut inst = ModInstance::new(&rt, &module, config("nice_probe", Limits::default())).unwrap();
    assert!(inst.start_main().unwrap());
    // The worker's thread, by its name (`wasgo-main-<name>`, cut to 15 bytes by the kernel).
    let nice_of_worker = || -> Option<i64> {
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim_end() == "wasgo-main-nice" {
                let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
                // Field 19 is the nice value; the fields after the `)` that ends the name.
                let after = &stat[stat.rfind(')')? + 2..];
                return after.split(' ').nth(16)?.parse().ok();
            }
        }
        None
    };
    let mut nice = None;
    assert!(
        eventually(|| {
            nice = nice_of_worker();
            nice == Some(i64::from(wasgo_core::budget::BACKGROUND_NICE))
        }),
        "the worker's nice value: {nice:?}"
    );
    inst.kill("done");
}
