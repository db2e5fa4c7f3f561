//! The object functions against a fake object host: what the core decodes, how denials and
//! failures reach the mod, and that calls from `main` go through the main-thread bridge.

#[path = "support/serve_main.rs"]
mod serve_main;

use parking_lot::Mutex;
use serve_main::{exit_code, serve_to_end};
use std::sync::Arc;
use std::time::Duration;
use wasgo_core::*;

/// Records every op; denies the property `secret`; knows one handle (7).
#[derive(Default)]
struct FakeHost {
    seen: Mutex<Vec<(ObjectOp, bool)>>,
}

impl ObjectHost for FakeHost {
    fn run(
        &self,
        _key: InstanceKey,
        _level: SafetyLevel,
        op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError> {
        let on_main = std::thread::current().name() != Some("wasgo-main-objmod");
        self.seen.lock().push((op.clone(), on_main));
        match op {
            ObjectOp::GetNode { .. } => Ok(ObjectReply::Int(7)),
            ObjectOp::Get { handle: 7, name } if name == "position" => Ok(ObjectReply::Value(
                WireVariant::Vector2(wasgo_core::variant::Vector2::new(1.5, 2.5)),
            )),
            ObjectOp::Set { name, .. } | ObjectOp::Get { name, .. } if name == "secret" => {
                Err(ObjectError::Denied {
                    member: "Node2D.secret".into(),
                })
            }
            ObjectOp::Set { handle: 7, .. } => Ok(ObjectReply::Int(0)),
            ObjectOp::Set { handle, .. } | ObjectOp::Get { handle, .. } => {
                Err(ObjectError::failed(
                    -4,
                    format!("handle {handle} refers to an object that was freed"),
                ))
            }
            _ => Ok(ObjectReply::Int(0)),
        }
    }
}

const MOD: &str = r#"(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "get_vec2" (func $get_vec2 (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "position")
  (data (i32.const 16) "secret")
  (data (i32.const 32) "../Target")
  (func (export "move") (result i32)
    (call $set_vec2 (call $get_node (i32.const 0) (i32.const 32) (i32.const 9)) (i32.const 0) (i32.const 8) (f32.const 3) (f32.const 4)))
  (func (export "read_x") (result f32)
    (drop (call $get_vec2 (i32.const 7) (i32.const 0) (i32.const 8) (i32.const 100)))
    (f32.load (i32.const 100)))
  (func (export "freed") (result i32) (call $set_vec2 (i32.const 9) (i32.const 0) (i32.const 8) (f32.const 0) (f32.const 0)))
  (func (export "error_len") (result i32) (call $last_error (i32.const 0) (i32.const 0)))
  (func (export "secret") (result i32) (call $set_vec2 (i32.const 7) (i32.const 16) (i32.const 6) (f32.const 0) (f32.const 0)))
  (func (export "main") (result i32) (call $set_vec2 (i32.const 7) (i32.const 0) (i32.const 8) (f32.const 5) (f32.const 6))))"#;

fn setup() -> (Arc<Runtime>, Arc<FakeHost>, ModInstance) {
    let host = Arc::new(FakeHost::default());
    let hosts = Hosts {
        objects: host.clone(),
        ..Hosts::detached()
    };
    let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
    let module = rt.compile(MOD.as_bytes(), "objmod").unwrap();
    let config = InstanceConfig {
        name: "objmod".into(),
        level: SafetyLevel::Safe,
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(100),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: rt.next_instance_key(),
        network: Default::default(),
    };
    let inst = ModInstance::new(&rt, &module, config).unwrap();
    (rt, host, inst)
}

#[test]
fn fast_path_set_reaches_the_host_with_name_and_value() {
    let (_rt, host, mut inst) = setup();
    assert_eq!(inst.call("move", &[]).unwrap()[0].unwrap_i32(), 0);
    let seen = host.seen.lock();
    assert_eq!(
        seen[0].0,
        ObjectOp::GetNode {
            from: 0,
            path: "../Target".into()
        }
    );
    assert_eq!(
        seen[1].0,
        ObjectOp::Set {
            handle: 7,
            name: "position".into(),
            value: WireVariant::Vector2(wasgo_core::variant::Vector2::new(3.0, 4.0))
        }
    );
}

#[test]
fn fast_path_get_writes_the_floats() {
    let (_rt, _host, mut inst) = setup();
    assert_eq!(inst.call("read_x", &[]).unwrap()[0].unwrap_f32(), 1.5);
}

#[test]
fn a_failure_is_a_negative_code_with_a_message() {
    let (_rt, _host, mut inst) = setup();
    assert_eq!(inst.call("freed", &[]).unwrap()[0].unwrap_i32(), -4);
    let len = inst.call("error_len", &[]).unwrap()[0].unwrap_i32();
    assert_eq!(
        len as usize,
        "handle 9 refers to an object that was freed".len()
    );
}

#[test]
fn a_denied_member_traps_like_an_unexposed_import() {
    let (_rt, _host, mut inst) = setup();
    let WasgoError::Trap(info) = inst.call("secret", &[]).unwrap_err() else {
        panic!("expected a trap")
    };
    assert!(
        info.message
            .starts_with("call to `Node2D.secret`, which is not exposed at safety level 1"),
        "{}",
        info.message
    );
    assert!(inst.drain_events().contains(&ModEvent::UnexposedCall {
        function: "Node2D.secret".into(),
        level: SafetyLevel::Safe
    }));
}

#[test]
fn calls_from_main_run_on_the_main_thread_through_the_bridge() {
    let (rt, host, mut inst) = setup();
    inst.start_main().unwrap();
    let events = serve_to_end(&rt, &mut inst);
    assert_eq!(exit_code(&events), Some(0), "{events:?}");
    let seen = host.seen.lock();
    let (op, on_main) = seen.last().unwrap();
    assert_eq!(
        op,
        &ObjectOp::Set {
            handle: 7,
            name: "position".into(),
            value: WireVariant::Vector2(wasgo_core::variant::Vector2::new(5.0, 6.0))
        }
    );
    assert!(on_main, "the host ran on the worker thread");
}

const CALLER: &str = r#"(module
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "rotate")
  ;; The same call twice, its result ignored (no buffer).
  (func (export "twice")
    (drop (call $call (i32.const 7) (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $call (i32.const 7) (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  ;; The length first (no buffer), then the retry with room: one call of the method.
  (func (export "retry") (result i32)
    (drop (call $call (i32.const 7) (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (call $call (i32.const 7) (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 64))))"#;

fn calls_seen(host: &FakeHost) -> usize {
    host.seen
        .lock()
        .iter()
        .filter(|(op, _)| matches!(op, ObjectOp::Call { .. }))
        .count()
}

/// A `call` whose result did not fit is kept for the retry only: the same call again with no
/// room (a mod that ignores results) runs the method again; it was skipped every time after the
/// first (`rotate(0.1)` every frame turned once).
#[test]
fn a_kept_call_result_answers_only_the_retry() {
    let (rt, host, _) = setup();
    let module = rt.compile(CALLER.as_bytes(), "caller").unwrap();
    let config = InstanceConfig::new("caller", SafetyLevel::Safe, rt.next_instance_key());
    let mut inst = ModInstance::new(&rt, &module, config).unwrap();
    inst.call("twice", &[]).unwrap();
    assert_eq!(calls_seen(&host), 2, "both calls ran");
    let len = inst.call("retry", &[]).unwrap()[0].unwrap_i32();
    assert!(len > 0);
    assert_eq!(
        calls_seen(&host),
        3,
        "the retry was answered from the kept result"
    );
}
