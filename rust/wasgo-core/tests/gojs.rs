//! Go `GOOS=js` programs built with the stock toolchain (`mods/tests/gojs_*`): output, sleeping,
//! exit codes, panics, `js.FuncOf` functions called from the host, the `godot` object against a
//! fake object host, safety levels and kills.

mod guest_mods;

#[path = "support/recording_host.rs"]
mod recording_host;

use parking_lot::Mutex;
use recording_host::RecordingHost;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasgo_core::variant::Vector2;
use wasgo_core::*;

/// Records every op; node handle 7 is a Node2D at (1.5, 2.5).
fn fake_host() -> Arc<RecordingHost> {
    RecordingHost::new(|op| match op {
        ObjectOp::GetNode { .. } => Ok(ObjectReply::Int(7)),
        ObjectOp::Get { handle: 7, name } if name == "position" => Ok(ObjectReply::Value(
            WireVariant::Vector2(Vector2::new(1.5, 2.5)),
        )),
        _ => Ok(ObjectReply::Int(0)),
    })
}

fn runtime(host: Arc<RecordingHost>) -> Arc<Runtime> {
    runtime_with(host, None)
}

fn runtime_with(host: Arc<RecordingHost>, instance_pool: Option<InstancePool>) -> Arc<Runtime> {
    let hosts = Hosts {
        objects: host,
        ..Hosts::detached()
    };
    // Go modules are large: compile each once (serialised, into a shared disk cache), and give
    // the compile all the time a loaded test machine needs.
    let config = RuntimeConfig {
        cache_dir: Some(guest_mods::repo_root().join("target/test-mods/cache")),
        compile_timeout: Duration::from_secs(600),
        instance_pool,
        ..RuntimeConfig::default()
    };
    Runtime::new(config, hosts).unwrap()
}

static COMPILING: Mutex<()> = Mutex::new(());

fn start(rt: &Arc<Runtime>, name: &str, args: &[&str]) -> Option<ModInstance> {
    let bytes = guest_mods::test_mod(name)?;
    let module = {
        let _one_at_a_time = COMPILING.lock();
        rt.compile(&bytes, name).unwrap()
    };
    assert_eq!(module.guest_kind(), GuestKind::GoJs);
    let config = InstanceConfig {
        name: name.into(),
        level: SafetyLevel::Safe,
        limits: Limits {
            memory_bytes: 256 << 20,
            callback_budget: Duration::from_millis(500),
            main_timeout: None,
            ..Limits::default()
        },
        args: args.iter().map(|a| a.to_string()).collect(),
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: rt.next_instance_key(),
        network: Default::default(),
    };
    let mut inst = ModInstance::new(rt, &module, config).unwrap();
    assert_eq!(inst.main_kind(), Some(MainKind::GoJs));
    assert!(inst.start_main().unwrap());
    Some(inst)
}

/// Collects events until `done` holds for them, for up to 20 s (a bound for a hung test, not a
/// timing assertion), serving the main-thread bridge meanwhile.
fn events_until(
    rt: &Runtime,
    inst: &ModInstance,
    done: impl Fn(&[ModEvent]) -> bool,
) -> Vec<ModEvent> {
    let mut all = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        rt.bridge().run_pending(Duration::from_millis(5));
        all.extend(inst.drain_events());
        if done(&all) {
            return all;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("timed out waiting; events so far: {all:#?}");
}

fn stdout(events: &[ModEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ModEvent::Output {
                source: OutputSource::Stdout,
                text,
            } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn has_line(events: &[ModEvent], line: &str) -> bool {
    stdout(events).iter().any(|l| l == line)
}

#[test]
fn a_stock_go_program_prints_sleeps_uses_goroutines_and_exits_with_its_code() {
    let rt = runtime(fake_host());
    let Some(inst) = start(&rt, "gojs_basic", &[]) else {
        return;
    };
    let events = events_until(&rt, &inst, |e| {
        e.iter().any(|e| matches!(e, ModEvent::Finished { .. }))
    });
    let out = stdout(&events);
    for line in [
        "hello from go",
        "slept: true",
        "year ok: true",
        "random: 32 true",
        "map: [a b c] 2",
        "sum: 14",
        "js: 5 2 7 <number: 1e+21> <number: 1e-7>",
        "array: 3 3 2 1-two 1,two 1 -1 true two true false true",
        "grown: 3 true true true",
        "instanceof: true true false made []",
    ] {
        assert!(out.iter().any(|l| l == line), "missing `{line}` in {out:?}");
    }
    assert!(events.contains(&ModEvent::Output {
        source: OutputSource::Stderr,
        text: "to stderr".into()
    }));
    assert!(events.contains(&ModEvent::Finished { exit_code: 3 }));
    assert_eq!(inst.status(), ModStatus::Exited);
}

#[test]
fn a_go_program_runs_in_an_instance_pool_slot_and_again_in_the_slot_it_gave_back() {
    // Slots as large as the 256 MiB cap `start` gives Go programs; two, one used at a time.
    let (pool, _) = InstancePool::from_setting(2, 256);
    let rt = runtime_with(fake_host(), pool);
    assert_eq!(rt.instance_pool(), pool, "{:?}", rt.pool_note());
    for round in 0..2 {
        let Some(inst) = start(&rt, "gojs_basic", &[]) else {
            return;
        };
        let events = events_until(&rt, &inst, |e| {
            e.iter().any(|e| matches!(e, ModEvent::Finished { .. }))
        });
        assert!(has_line(&events, "sum: 14"), "round {round}: {events:#?}");
        assert!(events.contains(&ModEvent::Finished { exit_code: 3 }));
    }
}

#[test]
fn a_go_panic_is_a_trap_with_the_go_message() {
    let rt = runtime(fake_host());
    let Some(inst) = start(&rt, "gojs_panic", &[]) else {
        return;
    };
    let events = events_until(&rt, &inst, |e| {
        e.iter().any(|e| matches!(e, ModEvent::Trapped { .. }))
    });
    assert!(has_line(&events, "about to panic"));
    let message = events
        .iter()
        .find_map(|e| match e {
            ModEvent::Trapped { message } => Some(message.clone()),
            _ => None,
        })
        .unwrap();
    assert!(message.contains("panic: boom from go"), "{message}");
    assert_eq!(inst.status(), ModStatus::Trapped);
}

/// Starts `gojs_callback` and waits until it blocks in `select {}`.
fn callback_mod(host: Arc<RecordingHost>) -> Option<(Arc<Runtime>, ModInstance)> {
    let rt = runtime(host);
    let inst = start(&rt, "gojs_callback", &[])?;
    events_until(&rt, &inst, |e| has_line(e, "ready"));
    // `run` has returned: the program lives on its callbacks.
    let t = Instant::now();
    while inst.is_main_running() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(inst.status(), ModStatus::Finished);
    Some((rt, inst))
}

#[test]
fn a_js_func_set_on_the_global_answers_call_js_after_main_blocks() {
    let Some((_rt, inst)) = callback_mod(fake_host()) else {
        return;
    };
    let sum = inst
        .call_js("add", vec![WireVariant::Int(2), WireVariant::Int(40)])
        .unwrap();
    assert_eq!(sum, WireVariant::Int(42));
    let greeting = inst
        .call_js("greet", vec![WireVariant::String("godot".into())])
        .unwrap();
    assert_eq!(greeting, WireVariant::String("hello, godot".into()));
    assert!(matches!(
        inst.call_js("missing", vec![]),
        Err(WasgoError::NoSuchExport { .. })
    ));
    // Still alive after all that.
    assert_eq!(
        inst.call_js("add", vec![WireVariant::Int(1), WireVariant::Int(1)])
            .unwrap(),
        WireVariant::Int(2)
    );
}

#[test]
fn the_godot_object_moves_a_node_through_the_object_host() {
    let host = fake_host();
    let Some((_rt, inst)) = callback_mod(host.clone()) else {
        return;
    };
    let x = inst
        .call_js(
            "move",
            vec![
                WireVariant::String("../Target".into()),
                WireVariant::Float(2.0),
            ],
        )
        .unwrap();
    assert_eq!(x, WireVariant::Float(3.5));
    let seen = host.seen.lock().clone();
    assert!(seen.contains(&ObjectOp::GetNode {
        from: 0,
        path: "../Target".into()
    }));
    assert!(seen.contains(&ObjectOp::Set {
        handle: 7,
        name: "position".into(),
        value: WireVariant::Vector2(Vector2::new(3.5, 2.5)),
    }));
}

#[test]
fn values_a_hostile_go_program_hands_the_host_are_refused_with_errors_not_hangs() {
    let host = fake_host();
    let Some((_rt, inst)) = callback_mod(host.clone()) else {
        return;
    };
    let said = |kind: &str| match inst.call_js("hostile", vec![WireVariant::String(kind.into())]) {
        Ok(WireVariant::String(s)) => s,
        other => panic!("{kind}: {other:?}"),
    };
    // Each of these froze (a lock taken twice), ran for ever (2^60 conversions) or asked for
    // 64 GiB (and aborted) before.
    for kind in ["selfArray", "selfObject"] {
        let s = said(kind);
        assert!(
            s.starts_with("threw: godot.emit: the value contains itself"),
            "{kind}: {s}"
        );
    }
    let s = said("wide");
    assert!(
        s.contains("would take more than 256 MiB as Godot values"),
        "{s}"
    );
    let s = said("errorText");
    assert!(s.starts_with("threw: Invalid string length"), "{s}");
    let s = said("longPath");
    assert!(
        s.contains("godot.getNode: argument 1 is longer than 65536 bytes"),
        "{s}"
    );
    // A part held twice is not a cycle: it is given twice.
    assert_eq!(said("twice"), "ok");
    let pair = WireVariant::Array(vec![WireVariant::Int(1), WireVariant::Int(2)]);
    assert!(host.seen.lock().contains(&ObjectOp::Emit {
        name: "twice".into(),
        payload: WireVariant::Array(vec![pair.clone(), pair]),
    }));
    // A function's result that holds itself is an error for the caller.
    match inst.call_js("selfRef", vec![]) {
        Err(WasgoError::BadArguments(m)) => assert!(m.contains("contains itself"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The program is still there.
    assert_eq!(
        inst.call_js("add", vec![WireVariant::Int(1), WireVariant::Int(2)])
            .unwrap(),
        WireVariant::Int(3)
    );
}

#[test]
fn a_connected_signal_reaches_its_js_func_callback() {
    let host = fake_host();
    let Some((_rt, inst)) = callback_mod(host.clone()) else {
        return;
    };
    inst.call_js(
        "listen",
        vec![
            WireVariant::String("Button".into()),
            WireVariant::String("pressed".into()),
        ],
    )
    .unwrap();
    let callback_id = host
        .seen
        .lock()
        .iter()
        .find_map(|op| match op {
            ObjectOp::Connect {
                handle: 7,
                signal,
                callback_id,
            } if signal == "pressed" => Some(*callback_id),
            _ => None,
        })
        .expect("a Connect op");
    // What the callback returns (`len(a)`) is nobody's to read: not converted, not given back.
    inst.call_js_callback(callback_id, vec![WireVariant::String("left".into())])
        .unwrap();
    assert!(has_line(&inst.drain_events(), "signal: left"));
    assert!(host.seen.lock().contains(&ObjectOp::Emit {
        name: "heard".into(),
        payload: WireVariant::String("left".into()),
    }));
    assert!(matches!(
        inst.call_js_callback(999, vec![]),
        Err(WasgoError::BadArguments(_))
    ));
}

#[test]
fn godot_file_write_at_level_1_traps_with_the_contract_error() {
    let Some((_rt, inst)) = callback_mod(fake_host()) else {
        return;
    };
    let err = inst.call_js("writeFile", vec![]).unwrap_err();
    let WasgoError::Trap(info) = err else {
        panic!("{err:?}")
    };
    assert!(
        info.message
            .contains("call to `godot.fileWrite`, which is not exposed at safety level 1"),
        "{}",
        info.message
    );
    assert!(inst.drain_events().contains(&ModEvent::UnexposedCall {
        function: "godot.fileWrite".into(),
        level: SafetyLevel::Safe,
    }));
    assert_eq!(inst.status(), ModStatus::Trapped);
}

#[test]
fn a_spinning_js_func_overruns_the_callback_budget() {
    let Some((_rt, inst)) = callback_mod(fake_host()) else {
        return;
    };
    let err = inst.call_js("spin", vec![]).unwrap_err();
    assert!(matches!(err, WasgoError::Trap(_)), "{err:?}");
}

fn kill_and_wait(arg: &str, line: &str) {
    let rt = runtime(fake_host());
    let Some(mut inst) = start(&rt, "gojs_basic", &[arg]) else {
        return;
    };
    events_until(&rt, &inst, |e| has_line(e, line));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(rt.stats().workers, 1);
    let t = Instant::now();
    assert!(inst.kill("test"));
    // The speed is the benchmark's to measure; here: killed when kill() returns, and the
    // worker thread gone soon after (a liveness bound, not a timing claim).
    eprintln!(
        "kill of a {line} Go program returned after {:?}",
        t.elapsed()
    );
    assert_eq!(inst.status(), ModStatus::Killed);
    let deadline = Instant::now() + Duration::from_secs(10);
    while rt.stats().workers != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(rt.stats().workers, 0, "the worker thread outlived the kill");
}

#[test]
fn kill_stops_a_sleeping_go_program() {
    kill_and_wait("sleep", "sleeping");
}

#[test]
fn kill_stops_a_spinning_go_program() {
    kill_and_wait("spin", "spinning");
}
