//! waPC guests (`mods/tests/wapc_echo`, built with the published `wapc-guest` crate): `invoke`,
//! host operations registered by the game, the built-in `wasgo` binding, levels, limits, traps.

mod guest_mods;

#[path = "support/recording_host.rs"]
mod recording_host;

use recording_host::RecordingHost;
use std::sync::Arc;
use std::time::Duration;
use wasgo_core::wapc::{InvokeError, WapcHandler, WapcOperation, MAX_NAME, MAX_PAYLOAD};
use wasgo_core::*;

/// Records object ops; the node at any path is handle 3, its `blob` 2 MiB of bytes.
fn fake_host() -> Arc<RecordingHost> {
    RecordingHost::new(|op| match op {
        ObjectOp::GetNode { .. } => Ok(ObjectReply::Int(3)),
        ObjectOp::Get { name, .. } if name == "blob" => Ok(ObjectReply::Value(
            WireVariant::PackedByteArray(vec![1; 2 << 20]),
        )),
        // Objects in a reply: handles 7 and 8.
        ObjectOp::Get { name, .. } if name == "things" => {
            Ok(ObjectReply::Value(WireVariant::Array(vec![
                WireVariant::Object(7),
                WireVariant::Dictionary(vec![(
                    WireVariant::String("k".into()),
                    WireVariant::Object(8),
                )]),
                WireVariant::Int(5),
            ])))
        }
        ObjectOp::Set { name, .. } if name == "secret" => Err(ObjectError::Denied {
            member: "Node2D.secret".into(),
        }),
        _ => Ok(ObjectReply::Int(0)),
    })
}

fn config(rt: &Runtime, name: &str, level: SafetyLevel) -> InstanceConfig {
    InstanceConfig {
        name: name.into(),
        level,
        limits: Limits {
            memory_bytes: 64 << 20,
            callback_budget: Duration::from_millis(500),
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: rt.next_instance_key(),
        network: Default::default(),
    }
}

fn setup(level: SafetyLevel) -> Option<(Arc<Runtime>, Arc<RecordingHost>, ModInstance)> {
    setup_with(level, |_| {})
}

fn setup_with(
    level: SafetyLevel,
    adjust: impl FnOnce(&mut InstanceConfig),
) -> Option<(Arc<Runtime>, Arc<RecordingHost>, ModInstance)> {
    let bytes = guest_mods::test_mod("wapc_echo")?;
    let host = fake_host();
    let rt = runtime(&host);
    let rank: Arc<dyn WapcHandler> =
        Arc::new(|_k: InstanceKey, _op: &WapcOperation, p: Vec<u8>| {
            Ok::<_, String>(format!("rank of {}", String::from_utf8_lossy(&p)).into_bytes())
        });
    rt.hosts().wapc.register(
        WapcOperation::new("game", "scores", "rank"),
        SafetyLevel::Safe,
        rank,
    );
    let admin: Arc<dyn WapcHandler> =
        Arc::new(|_k: InstanceKey, _op: &WapcOperation, _p: Vec<u8>| {
            Ok::<_, String>(b"ok".to_vec())
        });
    rt.hosts().wapc.register(
        WapcOperation::new("game", "admin", "reset"),
        SafetyLevel::Unsafe,
        admin,
    );
    let module = rt.compile(&bytes, "wapc_echo").unwrap();
    assert_eq!(module.guest_kind(), GuestKind::Wapc);
    let mut config = config(&rt, "wapc_echo", level);
    adjust(&mut config);
    let inst = ModInstance::new(&rt, &module, config).unwrap();
    Some((rt, host, inst))
}

/// A runtime whose game is `host`.
fn runtime(host: &Arc<RecordingHost>) -> Arc<Runtime> {
    let hosts = Hosts {
        objects: host.clone(),
        ..Hosts::detached()
    };
    Runtime::new(RuntimeConfig::default(), hosts).unwrap()
}

fn call_payload(binding: &str, namespace: &str, operation: &str, bytes: &[u8]) -> Vec<u8> {
    let mut p = format!("{binding}\0{namespace}\0{operation}\0").into_bytes();
    p.extend_from_slice(bytes);
    p
}

fn guest_error(r: Result<Vec<u8>, InvokeError>) -> String {
    match r {
        Err(InvokeError::Guest { message, .. }) => message,
        other => panic!("expected a guest error, got {other:?}"),
    }
}

#[test]
fn invoke_answers_with_the_guest_response() {
    let Some((_rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    assert_eq!(inst.invoke("echo", b"hello waPC").unwrap(), b"hello waPC");
    assert_eq!(inst.invoke("echo", &[]).unwrap(), b"");
    let message = guest_error(inst.invoke("nope", b""));
    assert!(
        message.contains("No handler registered for function nope"),
        "{message}"
    );
}

#[test]
fn a_registered_host_operation_answers_the_guest() {
    let Some((_rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let reply = inst
        .invoke("call", &call_payload("game", "scores", "rank", b"ada"))
        .unwrap();
    assert_eq!(reply, b"rank of ada");
}

#[test]
fn unregistered_and_above_level_operations_are_host_errors_with_unexposed_call() {
    let Some((_rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let message = guest_error(inst.invoke("call", &call_payload("game", "scores", "missing", b"")));
    assert!(
        message.contains("`game/scores/missing` is not registered"),
        "{message}"
    );
    assert!(message.contains("safety level 1"), "{message}");
    let message = guest_error(inst.invoke("call", &call_payload("game", "admin", "reset", b"")));
    assert!(
        message.contains("`game/admin/reset` needs safety level 3"),
        "{message}"
    );
    let events = inst.drain_events();
    for function in ["game/scores/missing", "game/admin/reset"] {
        assert!(events.contains(&ModEvent::UnexposedCall {
            function: function.into(),
            level: SafetyLevel::Safe
        }));
    }
    // The instance lives on.
    assert_eq!(inst.invoke("echo", b"x").unwrap(), b"x");
}

/// An operation's names are the guest's bytes: in `unexposed_call` they are shown with hidden
/// characters escaped (a newline made a line of its own where a game logs the signal).
#[test]
fn an_unexposed_operations_names_are_escaped_in_unexposed_call() {
    let Some((_rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let _ = inst.invoke(
        "call",
        &call_payload("game", "scores", "x\nWasGo: fake\u{202e}", b""),
    );
    let events = inst.drain_events();
    let names: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            ModEvent::UnexposedCall { function, .. } => Some(function),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [&"game/scores/x\\u{a}WasGo: fake\\u{202e}".to_string()],
        "{events:?}"
    );
}

#[test]
fn the_wasgo_binding_sets_a_node_property() {
    let Some((_rt, host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let position = WireVariant::Vector2(wasgo_core::variant::Vector2::new(4.0, 5.0));
    let request = WireVariant::Array(vec![
        WireVariant::String("../Target".into()),
        WireVariant::String("position".into()),
        position.clone(),
    ]);
    let reply = inst
        .invoke(
            "call",
            &call_payload("wasgo", "node", "set", &request.encode()),
        )
        .unwrap();
    assert_eq!(WireVariant::decode(&reply).unwrap(), WireVariant::Nil);
    let seen = host.seen.lock().clone();
    assert!(seen.contains(&ObjectOp::Set {
        handle: 3,
        name: "position".into(),
        value: position
    }));
    assert!(seen.contains(&ObjectOp::Release { handle: 3 }));
    // A member the allowlist denies is a host error and an `UnexposedCall`.
    let denied = WireVariant::Array(vec![
        WireVariant::String("../Target".into()),
        WireVariant::String("secret".into()),
        WireVariant::Int(1),
    ]);
    let message = guest_error(inst.invoke(
        "call",
        &call_payload("wasgo", "node", "set", &denied.encode()),
    ));
    assert!(
        message.contains("`Node2D.secret` is not exposed at safety level 1"),
        "{message}"
    );
    assert!(inst.drain_events().contains(&ModEvent::UnexposedCall {
        function: "Node2D.secret".into(),
        level: SafetyLevel::Safe
    }));
}

/// A node path or member name past the limit every `wasgo` call has is refused before the game
/// sees it (a waPC `main` passing a 1 MB path took 38 ms of every frame).
#[test]
fn the_wasgo_binding_refuses_a_path_past_the_name_limit() {
    let Some((_rt, host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let long = "a/".repeat(wasgo_core::objects::MAX_NAME_BYTES);
    let request = WireVariant::Array(vec![
        WireVariant::String(long.clone()),
        WireVariant::String("position".into()),
    ]);
    let message = guest_error(inst.invoke(
        "call",
        &call_payload("wasgo", "node", "get", &request.encode()),
    ));
    assert!(message.contains("path"), "{message}");
    let seen = host.seen.lock().clone();
    assert!(
        !seen
            .iter()
            .any(|op| matches!(op, ObjectOp::GetNode { path, .. } if *path == long)),
        "the game saw the long path"
    );
}

#[test]
fn oversized_payloads_are_refused_and_the_instance_lives_on() {
    let Some((_rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let too_big = vec![0u8; MAX_PAYLOAD + 1];
    assert!(matches!(
        inst.invoke("echo", &too_big),
        Err(InvokeError::PayloadTooLarge { .. })
    ));
    // An over-long operation name is named as such (it was reported as a payload "2000 bytes,
    // over the waPC limit of 1048576 bytes").
    let long = "x".repeat(MAX_NAME + 1);
    match inst.invoke(&long, b"") {
        Err(e @ InvokeError::NameTooLong { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("1025 bytes") && message.contains("1024"),
                "{message}"
            );
            assert!(!message.contains("payload"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(inst.invoke("echo", b"still here").unwrap(), b"still here");
    let message = guest_error(inst.invoke("big", b""));
    assert!(message.contains("over the waPC limit"), "{message}");
    // A reply of the built-in binding is held to the same limit as the game's.
    let request = WireVariant::Array(vec![
        WireVariant::String("../Target".into()),
        WireVariant::String("blob".into()),
    ]);
    let message = guest_error(inst.invoke(
        "call",
        &call_payload("wasgo", "node", "get", &request.encode()),
    ));
    assert!(
        message.contains("the reply of `wasgo/node/get` is 2097160 bytes, over the waPC limit"),
        "{message}"
    );
    assert_eq!(inst.invoke("echo", b"still here").unwrap(), b"still here");
}

/// A game handler's error is held to the waPC limit too: an error text past it reached the
/// guest whatever its size.
#[test]
fn an_oversized_error_of_a_game_handler_is_refused() {
    let Some((rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let huge: Arc<dyn WapcHandler> =
        Arc::new(|_k: InstanceKey, _op: &WapcOperation, _p: Vec<u8>| {
            Err::<Vec<u8>, _>("e".repeat(MAX_PAYLOAD + 1))
        });
    rt.hosts().wapc.register(
        WapcOperation::new("game", "scores", "fail"),
        SafetyLevel::Safe,
        huge,
    );
    let message = guest_error(inst.invoke("call", &call_payload("game", "scores", "fail", b"")));
    assert!(
        message.contains("the error of `game/scores/fail` is 1048577 bytes, over the waPC limit"),
        "{message}"
    );
    assert_eq!(inst.invoke("echo", b"still here").unwrap(), b"still here");
}

/// A waPC guest names nodes by path and can neither use nor release a handle: the objects in a
/// reply of the built-in binding are released at once and reach the guest as null (each pinned
/// its object for the guest's life: a `create_tween` per call kept every tween).
#[test]
fn objects_in_a_built_in_reply_are_released_and_reach_the_guest_as_null() {
    let Some((_rt, host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let request = WireVariant::Array(vec![
        WireVariant::String("../Target".into()),
        WireVariant::String("things".into()),
    ]);
    let reply = inst
        .invoke(
            "call",
            &call_payload("wasgo", "node", "get", &request.encode()),
        )
        .unwrap();
    assert_eq!(
        WireVariant::decode(&reply).unwrap(),
        WireVariant::Array(vec![
            WireVariant::Nil,
            WireVariant::Dictionary(vec![(WireVariant::String("k".into()), WireVariant::Nil)]),
            WireVariant::Int(5),
        ])
    );
    let released: Vec<i32> = host
        .seen
        .lock()
        .iter()
        .filter_map(|op| match op {
            ObjectOp::Release { handle } => Some(*handle),
            _ => None,
        })
        .collect();
    for handle in [7, 8] {
        assert!(released.contains(&handle), "{released:?}");
    }
}

#[test]
fn a_trap_ends_the_instance_and_the_runtime_stays_usable() {
    let Some((rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    assert!(matches!(
        inst.invoke("trap", b""),
        Err(InvokeError::Failed(WasgoError::Trap(_)))
    ));
    assert_eq!(inst.status(), ModStatus::Trapped);
    assert!(matches!(
        inst.invoke("echo", b""),
        Err(InvokeError::Failed(WasgoError::Ended { .. }))
    ));
    // A new instance of the same module works.
    let bytes = guest_mods::test_mod("wapc_echo").unwrap();
    let module = rt.compile(&bytes, "wapc_echo").unwrap();
    let again = ModInstance::new(&rt, &module, config(&rt, "again", SafetyLevel::Safe)).unwrap();
    assert_eq!(again.invoke("echo", b"ok").unwrap(), b"ok");
}

#[test]
fn console_log_becomes_an_output_line() {
    let Some((_rt, _host, inst)) = setup(SafetyLevel::Safe) else {
        return;
    };
    inst.invoke("log", b"from the guest").unwrap();
    assert!(inst.drain_events().contains(&ModEvent::Output {
        source: OutputSource::Stdout,
        text: "from the guest".into()
    }));
}

#[test]
fn a_guest_error_is_kept_as_one_cut_line() {
    // 1 MiB of `A` with a line break in it, reported with `__guest_error`.
    const GUEST: &str = r#"(module
  (import "wapc" "__guest_error" (func $err (param i32 i32)))
  (memory (export "memory") 32)
  (func (export "__guest_call") (param i32 i32) (result i32)
    (memory.fill (i32.const 65536) (i32.const 65) (i32.const 1048576))
    (i32.store8 (i32.const 65600) (i32.const 10))
    (call $err (i32.const 65536) (i32.const 1048576))
    (i32.const 0)))"#;
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let module = rt.compile(GUEST.as_bytes(), "loud").unwrap();
    assert_eq!(module.guest_kind(), GuestKind::Wapc);
    let inst = ModInstance::new(&rt, &module, config(&rt, "loud", SafetyLevel::Safe)).unwrap();
    let message = guest_error(inst.invoke("x", b""));
    assert!(!message.contains('\n'), "one line");
    assert!(message.contains("\\u{a}"), "the break shown escaped");
    assert!(message.len() < 5000, "cut: {} bytes", message.len());
    assert!(message.ends_with('…'));
}

#[test]
fn invoke_on_a_module_that_cannot_take_it_is_refused_and_the_instance_lives_on() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let cases = [
        // A waPC guest whose `__guest_call` has another type.
        r#"(module
          (import "wapc" "__console_log" (func (param i32 i32)))
          (memory (export "memory") 1)
          (func (export "__guest_call") (param i32) (result i32) (i32.const 1)))"#,
        // A Go-js program that also exports a `__guest_call`.
        r#"(module
          (import "gojs" "runtime.wasmExit" (func (param i32)))
          (memory (export "mem") 1)
          (func (export "run") (param i32 i32))
          (func (export "resume"))
          (func (export "getsp") (result i32) (i32.const 0))
          (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#,
    ];
    for wat in cases {
        let module = rt.compile(wat.as_bytes(), "odd").unwrap();
        let inst = ModInstance::new(&rt, &module, config(&rt, "odd", SafetyLevel::Safe)).unwrap();
        let refused = inst.invoke("echo", b"hi");
        assert!(
            matches!(
                refused,
                Err(InvokeError::Failed(WasgoError::BadArguments(_)))
            ),
            "{refused:?}"
        );
        assert!(inst.status().is_live(), "{:?}", inst.status());
    }
}

/// The built-in binding has the level-2 wrappers a `wasgo` mod has: `perm/request` asks the game
/// for a permission, `file/*` reach the mod's sandbox with `files` granted. A waPC guest had no
/// way to ask or to reach its files.
#[test]
fn the_wasgo_binding_asks_for_permissions_and_reaches_the_sandbox_at_level_2() {
    let dir = std::env::temp_dir().join(format!("wasgo-wapc-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let permissions = Permissions::new();
    let kept = permissions.clone();
    let sandbox = dir.clone();
    let Some((_rt, _host, inst)) = setup_with(SafetyLevel::Wrapped, move |c| {
        c.dirs.sandbox = Some(sandbox);
        c.permissions = kept;
    }) else {
        return;
    };
    let op = |namespace: &str, operation: &str, items: Vec<WireVariant>| {
        inst.invoke(
            "call",
            &call_payload(
                "wasgo",
                namespace,
                operation,
                &WireVariant::Array(items).encode(),
            ),
        )
    };
    let text = |s: &str| WireVariant::String(s.into());
    let message = guest_error(op("file", "write", vec![text("a.txt"), text("hi")]));
    assert!(
        message.contains("has not been granted the `files` permission")
            && message.contains("wasgo/perm/request"),
        "{message}"
    );
    assert_eq!(
        op("perm", "request", vec![text("files")]).unwrap(),
        WireVariant::Bool(false).encode()
    );
    assert!(inst
        .drain_events()
        .iter()
        .any(|e| matches!(e, ModEvent::PermissionRequested { .. })));
    permissions.grant(Permission::Files);
    assert_eq!(
        op("perm", "request", vec![text("files")]).unwrap(),
        WireVariant::Bool(true).encode()
    );
    assert_eq!(
        op("file", "write", vec![text("a.txt"), text("hi")]).unwrap(),
        WireVariant::Nil.encode()
    );
    assert_eq!(
        op("file", "read", vec![text("a.txt")]).unwrap(),
        WireVariant::PackedByteArray(b"hi".to_vec()).encode()
    );
    assert_eq!(
        op("file", "list", vec![]).unwrap(),
        WireVariant::Array(vec![text("a.txt")]).encode()
    );
    let message = guest_error(op("file", "read", vec![text("../escape")]));
    assert!(message.contains("`wasgo/file/read` failed"), "{message}");
    assert_eq!(
        op("file", "delete", vec![text("a.txt")]).unwrap(),
        WireVariant::Nil.encode()
    );
    let message = guest_error(op("perm", "request", vec![text("magic")]));
    assert!(message.contains("not a permission kind"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
    // Level 1: not exposed, named as such.
    let Some((_rt, _host, low)) = setup(SafetyLevel::Safe) else {
        return;
    };
    let message = guest_error(low.invoke(
        "call",
        &call_payload(
            "wasgo",
            "file",
            "list",
            &WireVariant::Array(vec![]).encode(),
        ),
    ));
    assert!(
        message.contains("not exposed at safety level 1"),
        "{message}"
    );
}

/// A waPC guest as TinyGo builds one (`-target=wasi` with `wapc-guest-tinygo`): its `main`
/// (`_start`) registers the operations and, from TinyGo 0.35, ends with WASI `proc_exit(0)`;
/// `wapc_init` comes after it. `__guest_call` answers "not registered" until `_start` ran, and
/// "wrong order" when `wapc_init` ran before it; `last` echoes the host reply length the guest
/// reads before any host call of its own; `both` returns 1 after sending an error.
fn tinygo_like(exit_code: i32) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (memory (export "memory") 1)
  (global $registered (mut i32) (i32.const 0))
  (data (i32.const 0) "not registered")
  (data (i32.const 16) "wrong order")
  (data (i32.const 32) "game")
  (data (i32.const 40) "scores")
  (data (i32.const 48) "rank")
  (data (i32.const 56) "both")
  (data (i32.const 64) "call")
  (func (export "_start")
    (global.set $registered (i32.const 1))
    (call $exit (i32.const {exit_code})))
  (func (export "wapc_init")
    (global.set $registered (i32.mul (global.get $registered) (i32.const 2))))
  (func (export "__guest_call") (param $ol i32) (param $pl i32) (result i32)
    (if (i32.eqz (global.get $registered))
      (then (call $error (i32.const 0) (i32.const 14)) (return (i32.const 0))))
    (if (i32.ne (global.get $registered) (i32.const 2))
      (then (call $error (i32.const 16) (i32.const 11)) (return (i32.const 0))))
    (call $request (i32.const 1024) (i32.const 2048))
    ;; `both`: an error sent, and 1 returned.
    (if (i32.eq (i32.load (i32.const 1024)) (i32.load (i32.const 56)))
      (then (call $error (i32.const 56) (i32.const 4)) (return (i32.const 1))))
    ;; `call`: the host operation game/scores/rank.
    (if (i32.eq (i32.load (i32.const 1024)) (i32.load (i32.const 64)))
      (then
        (drop (call $host_call (i32.const 32) (i32.const 4) (i32.const 40) (i32.const 6)
          (i32.const 48) (i32.const 4) (i32.const 2048) (local.get $pl)))
        (return (i32.const 1))))
    ;; Anything else: the host reply length seen now, then the payload.
    (i32.store (i32.const 3000) (call $host_response_len))
    (memory.copy (i32.const 3004) (i32.const 2048) (local.get $pl))
    (call $response (i32.const 3000) (i32.add (local.get $pl) (i32.const 4)))
    (i32.const 1)))"#
    )
}

fn tinygo_instance(
    exit_code: i32,
) -> (
    Arc<Runtime>,
    Arc<wasgo_core::CompiledModule>,
    Result<ModInstance, WasgoError>,
) {
    let rt = runtime(&fake_host());
    let rank: Arc<dyn WapcHandler> =
        Arc::new(|_k: InstanceKey, _op: &WapcOperation, p: Vec<u8>| {
            Ok::<_, String>(vec![b'r'; p.len() + 3])
        });
    rt.hosts().wapc.register(
        WapcOperation::new("game", "scores", "rank"),
        SafetyLevel::Safe,
        rank,
    );
    let module = rt
        .compile(tinygo_like(exit_code).as_bytes(), "tinygo_like")
        .unwrap();
    let config = config(&rt, "tinygo_like", SafetyLevel::Safe);
    let inst = ModInstance::new(&rt, &module, config);
    (rt, module, inst)
}

/// The reference hosts (wapc-rs, wapc-go) run a guest's `_start` and then `wapc_init` when the
/// instance is made, and take TinyGo's `proc_exit(0)` at the end of `_start` as its end. WasGo
/// ran `_start` as the mod's `main` on the worker after `wapc_init`: the operations were not
/// registered when `wapc_init` ran, `invoke` was refused as busy while it ran, and its exit
/// ended the instance, so a TinyGo guest could never answer.
#[test]
fn a_tinygo_guest_is_set_up_by_its_start_then_wapc_init_and_answers() {
    let (_rt, module, inst) = tinygo_instance(0);
    assert_eq!(module.guest_kind(), GuestKind::Wapc);
    let inst = inst.expect("a guest whose _start exits with 0 is set up");
    assert_eq!(inst.main_kind(), None, "a waPC guest has no main");
    assert_eq!(inst.status(), ModStatus::Alive);
    assert!(
        !inst
            .drain_events()
            .iter()
            .any(|e| matches!(e, ModEvent::Finished { .. })),
        "no finished event for the set-up's exit"
    );
    let reply = inst.invoke("echo", b"hi").expect("invoke after set-up");
    assert_eq!(reply, [0, 0, 0, 0, b'h', b'i']);
}

/// A `_start` that exits with another code than 0 (a TinyGo guest whose `main` failed) ends the
/// instance with that code, as an exit from `init` does.
#[test]
fn a_tinygo_guest_whose_start_exits_with_an_error_does_not_start() {
    let (_rt, _module, inst) = tinygo_instance(3);
    match inst {
        Err(WasgoError::Exited { code, .. }) => assert_eq!(code, 3),
        Err(other) => panic!("expected the exit code, got {other}"),
        Ok(_) => panic!("a guest whose _start exits with 3 was set up"),
    }
}

/// Each invocation starts with no host reply (wapc-rs and wapc-go reset it per call): a guest
/// reading `__host_response_len` before its own first host call read the previous invocation's
/// reply length. And an error the guest sent fails the call even when `__guest_call` returns 1.
#[test]
fn host_replies_do_not_carry_over_and_a_sent_error_fails_the_call() {
    let (_rt, _module, inst) = tinygo_instance(0);
    let inst = inst.unwrap();
    inst.invoke("call", b"abcd").expect("the host call");
    let reply = inst.invoke("echo", b"x").unwrap();
    assert_eq!(
        reply[..4],
        [0, 0, 0, 0],
        "the last invocation's host reply length: {reply:?}"
    );
    match inst.invoke("both", b"") {
        Err(InvokeError::Guest { message, .. }) => assert_eq!(message, "both"),
        other => panic!("expected the guest's error, got {other:?}"),
    }
    assert_eq!(inst.invoke("echo", b"y").unwrap()[4..], *b"y");
}

/// A `_start` of another type than `() -> ()` is no entry point and is not run (the guest is
/// set up by `wapc_init` alone); one that spins is stopped by the callback budget and the
/// instance is not made.
#[test]
fn a_mistyped_start_is_skipped_and_a_spinning_one_is_stopped() {
    let rt = runtime(&fake_host());
    let mistyped = tinygo_like(0).replace(
        r#"(func (export "_start")
    (global.set $registered (i32.const 1))"#,
        r#"(func (export "_start") (result i32)
    (global.set $registered (i32.const 1)) (i32.const 0)"#,
    );
    assert!(mistyped.contains("(result i32)\n"), "the WAT was changed");
    let module = rt.compile(mistyped.as_bytes(), "mistyped").unwrap();
    let inst = ModInstance::new(&rt, &module, config(&rt, "mistyped", SafetyLevel::Safe))
        .expect("a guest with a mistyped _start is made");
    // `_start` did not run, so `wapc_init` left the guest unregistered.
    assert_eq!(guest_error(inst.invoke("echo", b"x")), "not registered");
    let spinning = tinygo_like(0).replace(
        r#"(global.set $registered (i32.const 1))
    (call $exit"#,
        r#"(global.set $registered (i32.const 1))
    (loop $l (br $l))
    (call $exit"#,
    );
    assert!(spinning.contains("(loop $l"), "the WAT was changed");
    let module = rt.compile(spinning.as_bytes(), "spinning").unwrap();
    let mut config = config(&rt, "spinning", SafetyLevel::Safe);
    config.limits.callback_budget = Duration::from_millis(20);
    match ModInstance::new(&rt, &module, config) {
        Err(e) => assert!(e.to_string().contains("budget"), "{e}"),
        Ok(_) => panic!("a guest whose _start spins was made"),
    }
}

/// A guest that asks for the request outside an invocation (here in `wapc_init`) gets nothing
/// written and lives on, as with wapc-rs and wapc-go; WasGo trapped, so such a guest never
/// started.
#[test]
fn a_request_asked_for_outside_an_invocation_writes_nothing() {
    let rt = runtime(&fake_host());
    let asking = tinygo_like(0).replace(
        r#"(func (export "wapc_init")
"#,
        r#"(func (export "wapc_init")
    (i32.store (i32.const 1024) (i32.const 0x5a5a5a5a))
    (call $request (i32.const 1024) (i32.const 2048))
    (if (i32.ne (i32.load (i32.const 1024)) (i32.const 0x5a5a5a5a)) (then unreachable))
"#,
    );
    assert!(asking.contains("0x5a5a5a5a"), "the WAT was changed");
    let module = rt.compile(asking.as_bytes(), "asking").unwrap();
    let inst = ModInstance::new(&rt, &module, config(&rt, "asking", SafetyLevel::Safe))
        .expect("a guest asking for the request in wapc_init is set up");
    assert_eq!(inst.invoke("echo", b"ok").unwrap()[4..], *b"ok");
}

/// A guest the game kills from a host operation's handler logs nothing more: `__console_log`
/// after the kill traps as killed (it reached the game after its `kill()`, where `wasgo.log`
/// and WASI `fd_write` trap).
#[test]
fn a_guest_killed_in_a_host_call_logs_nothing_after() {
    let wat = r#"(module
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__console_log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 32) "game")
  (data (i32.const 40) "admin")
  (data (i32.const 48) "stop")
  (data (i32.const 64) "before the kill")
  (data (i32.const 80) "after the kill")
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $log (i32.const 64) (i32.const 15))
    (drop (call $host_call (i32.const 32) (i32.const 4) (i32.const 40) (i32.const 5)
      (i32.const 48) (i32.const 4) (i32.const 0) (i32.const 0)))
    (call $log (i32.const 80) (i32.const 14))
    (i32.const 1)))"#;
    let rt = runtime(&fake_host());
    let target = Arc::new(std::sync::OnceLock::<usize>::new());
    let stop: Arc<dyn WapcHandler> = {
        let target = target.clone();
        Arc::new(move |_k: InstanceKey, _op: &WapcOperation, _p: Vec<u8>| {
            let at = *target.get().expect("the instance");
            // SAFETY: `at` is the address of the test's `inst`, which lives on the test's stack
            // until after `invoke` (the only caller of this handler) returns, on this thread;
            // `request_kill` takes `&self`, as the glue calls it from a game handler inside one
            // of the instance's calls.
            unsafe { &*(at as *const ModInstance) }.request_kill("by the game's handler");
            Ok::<_, String>(Vec::new())
        })
    };
    rt.hosts().wapc.register(
        WapcOperation::new("game", "admin", "stop"),
        SafetyLevel::Safe,
        stop,
    );
    let module = rt.compile(wat.as_bytes(), "killed_guest").unwrap();
    let inst =
        ModInstance::new(&rt, &module, config(&rt, "killed_guest", SafetyLevel::Safe)).unwrap();
    target.set(&inst as *const ModInstance as usize).unwrap();
    let outcome = inst.invoke("go", b"");
    assert!(outcome.is_err(), "{outcome:?}");
    let lines: Vec<String> = inst
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            ModEvent::Output { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(lines, ["before the kill"]);
}
