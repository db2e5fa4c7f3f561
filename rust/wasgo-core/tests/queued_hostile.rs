//! A `main` and the main-thread bridge against a hostile mod and a game that kills it: a denied
//! call queued after a failed one still traps, a killed main's waiting game function and queued
//! calls never run, and queued calls that are slow on the main thread keep to the main-thread
//! share.

#[path = "support/recording_host.rs"]
mod recording_host;
#[path = "support/serve_main.rs"]
mod serve_main;

use recording_host::RecordingHost;
use serve_main::serve_to_end;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasgo_core::*;

fn fake_host() -> Arc<RecordingHost> {
    RecordingHost::new(|op| match op {
        ObjectOp::GetNode { .. } => Ok(ObjectReply::Int(7)),
        ObjectOp::Set { name, .. } if name == "secret" => Err(ObjectError::Denied {
            member: "Node2D.secret".into(),
        }),
        ObjectOp::Set { handle: 7, .. } | ObjectOp::Release { .. } => Ok(ObjectReply::Int(0)),
        ObjectOp::Set { handle, .. } => {
            Err(ObjectError::failed(-4, format!("handle {handle} freed")))
        }
        _ => Ok(ObjectReply::Int(0)),
    })
}

fn module(body: &str) -> String {
    format!(
        r#"(module
  (import "wasgo" "get_node" (func $wasgo_get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "set" (func $wset (param i32 i32 i32 i32 i32) (result i32)))
  (import "game" "give" (func $give))
  (memory (export "memory") 64)
  (data (i32.const 0) "position")
  (data (i32.const 16) "secret")
  (data (i32.const 32) "../Target")
  (func $set (param i32) (result i32)
    (call $set_vec2 (local.get 0) (i32.const 0) (i32.const 8) (f32.const 1) (f32.const 2)))
  (func $set_secret (result i32)
    (call $set_vec2 (i32.const 7) (i32.const 16) (i32.const 6) (f32.const 0) (f32.const 0)))
  (func $get_node (result i32) (call $wasgo_get_node (i32.const 0) (i32.const 32) (i32.const 9)))
  (func (export "main") (result i32) (local $i i32) {body}))"#
    )
}

struct Counter(Arc<AtomicUsize>);
impl GameCallHandler for Counter {
    fn call(
        &self,
        _key: InstanceKey,
        _id: u64,
        _a: Vec<GameValue>,
    ) -> Result<Vec<GameValue>, GameCallError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(vec![])
    }
}

fn setup(body: &str, host: Arc<dyn ObjectHost>) -> (Arc<Runtime>, ModInstance, Arc<AtomicUsize>) {
    let given = Arc::new(AtomicUsize::new(0));
    let hosts = Hosts {
        objects: host,
        game: Arc::new(Counter(given.clone())),
        ..Hosts::detached()
    };
    let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
    rt.games().register("game", "give", &[], &[], 1).unwrap();
    let module = rt.compile(module(body).as_bytes(), "atk").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(500),
            main_timeout: None,
            storage_bytes: 1 << 20,
            ..Limits::default()
        },
        ..InstanceConfig::new("atk", SafetyLevel::Safe, rt.next_instance_key())
    };
    let inst = ModInstance::new(&rt, &module, config).unwrap();
    (rt, inst, given)
}

#[test]
fn a_denied_queued_set_after_a_failed_one_still_traps() {
    let host = fake_host();
    let (rt, mut inst, _) = setup(
        "(drop (call $set (i32.const 9))) (drop (call $set_secret)) (call $get_node)",
        host.clone(),
    );
    inst.start_main().unwrap();
    let events = serve_to_end(&rt, &mut inst);
    assert!(
        events.iter().any(|e| matches!(e, ModEvent::Trapped { .. })),
        "{events:?}"
    );
    assert!(events.iter().any(
        |e| matches!(e, ModEvent::UnexposedCall { function, .. } if function == "Node2D.secret")
    ));
}

#[test]
fn a_killed_mains_waiting_game_function_and_queued_sets_never_run() {
    let host = fake_host();
    let (rt, mut inst, given) = setup(
        "(local.set $i (i32.const 0)) \
         (loop $l (drop (call $set (i32.const 7))) (local.set $i (i32.add (local.get $i) (i32.const 1))) \
           (br_if $l (i32.lt_u (local.get $i) (i32.const 100)))) \
         (call $give) (i32.const 0)",
        host.clone(),
    );
    inst.start_main().unwrap();
    // Nobody serves yet (the frame has not come): main queues 100 sets and waits in `give`.
    let t = Instant::now();
    while rt.bridge().pending() < 101 && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(inst.kill("the game stops it"));
    // The next frame.
    while rt.bridge().run_pending(Duration::from_millis(50)) > 0 {}
    assert_eq!(
        given.load(Ordering::SeqCst),
        0,
        "the game function ran after the kill"
    );
    assert_eq!(host.seen.lock().len(), 0, "queued sets ran after the kill");
}

/// Each set takes 20 ms of the main thread; main queues 40 of them, asks for a node, then
/// queues 40 more. The first batch is queued before any of it has run (nothing is known yet);
/// once a queued call was slow, each later one waits for the queue, so the share is checked
/// after each: the second batch ran whole (800 ms) before the next check.
#[test]
fn queued_sets_slow_on_the_main_thread_keep_to_the_share_once_seen_slow() {
    let slow = RecordingHost::new(|op| {
        if let ObjectOp::Set { .. } = op {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(ObjectReply::Int(7))
    });
    let batch = "(local.set $i (i32.const 0)) \
         (loop $l (drop (call $set (i32.const 7))) (local.set $i (i32.add (local.get $i) (i32.const 1))) \
           (br_if $l (i32.lt_u (local.get $i) (i32.const 40)))) ";
    let (rt, mut inst, _) = setup(
        &format!("{batch} (drop (call $get_node)) {batch} (call $get_node)"),
        slow.clone(),
    );
    inst.start_main().unwrap();
    let start = Instant::now();
    // Once the first batch and its `get_node` have run, the mod's calls waiting at any time.
    let mut most_waiting = 0;
    while inst.is_main_running() && start.elapsed() < Duration::from_secs(60) {
        rt.bridge().run_pending(Duration::from_millis(4));
        if slow.seen.lock().len() > 41 {
            most_waiting = most_waiting.max(rt.bridge().pending());
        }
        if slow.seen.lock().len() >= 60 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    inst.kill("done");
    assert!(
        most_waiting <= 2,
        "{most_waiting} slow sets waited at once after the mod was known slow"
    );
}
