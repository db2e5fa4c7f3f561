//! Queued calls from `main` (see `object_calls.rs`): sets and `release` return at once, run on the
//! main thread in order with every other call, and a failure surfaces at the next call that
//! returns a value, through `last_error`, or after `main` returns.

#[path = "support/recording_host.rs"]
mod recording_host;
#[path = "support/serve_main.rs"]
mod serve_main;

use recording_host::RecordingHost;
use serve_main::{exit_code, serve_to_end};
use std::sync::Arc;
use std::time::Duration;
use wasgo_core::*;

/// Records every op; handle 7 is a live node, every other handle was freed; the property
/// `secret` is denied.
fn fake_host() -> Arc<RecordingHost> {
    RecordingHost::new(|op| match op {
        ObjectOp::GetNode { .. } => Ok(ObjectReply::Int(7)),
        ObjectOp::Set { name, .. } if name == "secret" => Err(ObjectError::Denied {
            member: "Node2D.secret".into(),
        }),
        ObjectOp::Set { handle: 7, .. } | ObjectOp::Release { .. } => Ok(ObjectReply::Int(0)),
        ObjectOp::Set { handle, .. } => Err(ObjectError::failed(
            -4,
            format!("handle {handle} refers to an object that was freed"),
        )),
        _ => Ok(ObjectReply::Int(0)),
    })
}

/// A module whose `main` runs `body`; `set(h)` sets `position` on handle `h`, `set_secret()`
/// the denied property, `get_node()` asks for `../Target`; `err_at(i)` reads byte `i` of the
/// `last_error` message (copied by `copy_error()`).
fn module(body: &str) -> String {
    format!(
        r#"(module
  (import "wasgo" "get_node" (func $wasgo_get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "position")
  (data (i32.const 16) "secret")
  (data (i32.const 32) "../Target")
  (func $set (param i32) (result i32)
    (call $set_vec2 (local.get 0) (i32.const 0) (i32.const 8) (f32.const 1) (f32.const 2)))
  (func $set_secret (result i32)
    (call $set_vec2 (i32.const 7) (i32.const 16) (i32.const 6) (f32.const 0) (f32.const 0)))
  (func $get_node (result i32) (call $wasgo_get_node (i32.const 0) (i32.const 32) (i32.const 9)))
  (func $copy_error (export "copy_error") (result i32) (call $last_error (i32.const 256) (i32.const 1024)))
  (func (export "err_at") (param i32) (result i32) (i32.load8_u (i32.add (i32.const 256) (local.get 0))))
  (func (export "main") (result i32) {body}))"#
    )
}

fn run_main(body: &str) -> (Arc<RecordingHost>, ModInstance, Vec<ModEvent>) {
    let host = fake_host();
    let hosts = Hosts {
        objects: host.clone(),
        ..Hosts::detached()
    };
    let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
    let module = rt.compile(module(body).as_bytes(), "queued").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(500),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        ..InstanceConfig::new("queued", SafetyLevel::Safe, rt.next_instance_key())
    };
    let mut inst = ModInstance::new(&rt, &module, config).unwrap();
    inst.start_main().unwrap();
    // The test thread is the main thread.
    let events = serve_to_end(&rt, &mut inst);
    (host, inst, events)
}

fn last_error(inst: &mut ModInstance) -> String {
    let len = inst.call("copy_error", &[]).unwrap()[0].unwrap_i32();
    let bytes: Vec<u8> = (0..len)
        .map(|i| inst.call("err_at", &[Val::I32(i)]).unwrap()[0].unwrap_i32() as u8)
        .collect();
    String::from_utf8(bytes).unwrap()
}

fn set(handle: i32) -> ObjectOp {
    ObjectOp::Set {
        handle,
        name: "position".into(),
        value: WireVariant::Vector2(wasgo_core::variant::Vector2::new(1.0, 2.0)),
    }
}

#[test]
fn queued_sets_return_zero_and_run_in_order_before_the_next_value_call() {
    let (host, _inst, events) = run_main(
        "(drop (call $set (i32.const 7))) (call $release (i32.const 7)) \
         (drop (call $set (i32.const 7))) \
         (i32.add (call $set (i32.const 7)) (call $get_node))",
    );
    assert_eq!(exit_code(&events), Some(7), "{events:?}");
    assert_eq!(
        *host.seen.lock(),
        vec![
            set(7),
            ObjectOp::Release { handle: 7 },
            set(7),
            set(7),
            ObjectOp::GetNode {
                from: 0,
                path: "../Target".into()
            }
        ]
    );
}

#[test]
fn a_failed_queued_set_surfaces_at_the_next_value_call_which_is_not_run() {
    let (host, mut inst, events) = run_main(
        "(drop (call $set (i32.const 9))) (drop (call $set (i32.const 8))) \
         (drop (call $set (i32.const 7))) (call $get_node)",
    );
    assert_eq!(exit_code(&events), Some(-4), "{events:?}");
    // The queued sets after the failure still ran; the value call did not.
    assert_eq!(*host.seen.lock(), vec![set(9), set(8), set(7)]);
    let message = last_error(&mut inst);
    assert!(
        message.starts_with("a call queued earlier by `main` failed: handle 9 refers to an object that was freed (1 more queued call failed after it); this call was not run"),
        "{message}"
    );
}

#[test]
fn last_error_from_main_waits_for_the_queued_calls_and_reports_their_failure() {
    let (_host, mut inst, events) =
        run_main("(drop (call $set (i32.const 9))) (drop (call $copy_error)) (call $get_node)");
    // `last_error` took the failure: the value call after it ran normally.
    assert_eq!(exit_code(&events), Some(7), "{events:?}");
    assert!(last_error(&mut inst).contains("handle 9 refers to an object that was freed"));
}

#[test]
fn a_queued_failure_after_mains_last_value_call_is_written_as_a_warning() {
    let (host, _inst, events) = run_main("(drop (call $set (i32.const 9))) (i32.const 0)");
    assert_eq!(exit_code(&events), Some(0), "{events:?}");
    assert_eq!(*host.seen.lock(), vec![set(9)]);
    assert!(
        events.iter().any(|e| matches!(e,
            ModEvent::Output { source: OutputSource::Log(2), text }
                if text.contains("a call queued by `main` failed after its last call that returns a value: handle 9")
        )),
        "{events:?}"
    );
}

#[test]
fn a_denied_queued_set_traps_main_even_as_its_last_call() {
    let (_host, _inst, events) = run_main("(drop (call $set_secret)) (i32.const 0)");
    assert_eq!(exit_code(&events), None, "{events:?}");
    assert!(events.contains(&ModEvent::UnexposedCall {
        function: "Node2D.secret".into(),
        level: SafetyLevel::Safe
    }));
    assert!(
        events.iter().any(|e| matches!(e,
            ModEvent::Trapped { message } if message.contains("call to `Node2D.secret`, which is not exposed at safety level 1")
        )),
        "{events:?}"
    );
}

#[test]
fn wasi_exit_waits_for_the_queued_calls_and_judges_them_as_a_return_does() {
    // 200 queued sets, then WASI `exit(3)` (a C mod's non-zero return): every set runs, then
    // `finished(3)`. (They were dropped: the bridge stopped serving an instance that exited.)
    let sets = "(drop (call $set (i32.const 7))) ".repeat(200);
    let (host, _inst, events) =
        run_main(&format!("{sets} (call $exit (i32.const 3)) (i32.const 0)"));
    assert_eq!(exit_code(&events), Some(3), "{events:?}");
    assert_eq!(*host.seen.lock(), vec![set(7); 200]);
    // A denied set before the exit traps, as before a return.
    let (_host, _inst, events) =
        run_main("(drop (call $set_secret)) (call $exit (i32.const 0)) (i32.const 0)");
    assert_eq!(exit_code(&events), None, "{events:?}");
    assert!(events.contains(&ModEvent::UnexposedCall {
        function: "Node2D.secret".into(),
        level: SafetyLevel::Safe
    }));
}
