//! Kept `get_node` answers (`found_nodes.rs`): the same lookup is answered without asking the
//! game while the game's lookup stamp stays the same, from `main` (no round trip) and from the
//! main thread; never past a change, a queued call that has not run, or a queued failure.

#[path = "support/serve_main.rs"]
mod serve_main;

use parking_lot::Mutex;
use serve_main::{exit_code, serve_to_end};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasgo_core::objects::FoundNode;
use wasgo_core::*;

/// A game whose tree changes when the mod calls `rename` or sets `name`, or releases a handle
/// (each bumps the stamp); `../Target` is handle 7, `../Other` handle 8, and anything under
/// `Outside` is found below a node outside the tree (an answer that may not be kept). Setting
/// anything on handle 9 fails (a freed node).
#[derive(Default)]
struct Game {
    stamp: AtomicU64,
    seen: Mutex<Vec<String>>,
    /// `lookup_stamp` takes 20 us after its read (widens the window a race would need).
    slow_stamp: std::sync::atomic::AtomicBool,
}

impl Game {
    fn new() -> Arc<Game> {
        Arc::new(Game {
            stamp: AtomicU64::new(1),
            ..Game::default()
        })
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().clone()
    }

    fn lookups(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.starts_with("get_node"))
            .count()
    }
}

impl ObjectHost for Game {
    fn run(
        &self,
        _key: InstanceKey,
        _level: SafetyLevel,
        op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError> {
        match op {
            ObjectOp::Set { handle: 9, .. } => {
                self.seen.lock().push("set 9".into());
                Err(ObjectError::failed(
                    -4,
                    "handle 9 refers to an object that was freed",
                ))
            }
            ObjectOp::Set { handle, name, .. } => {
                self.seen.lock().push(format!("set {handle} {name}"));
                if name == "name" {
                    self.stamp.fetch_add(1, Ordering::SeqCst);
                }
                Ok(ObjectReply::Int(0))
            }
            ObjectOp::Call { method, .. } => {
                self.seen.lock().push(format!("call {method}"));
                if method == "rename" {
                    self.stamp.fetch_add(1, Ordering::SeqCst);
                }
                Ok(ObjectReply::Value(WireVariant::Nil))
            }
            ObjectOp::Release { handle } => {
                self.seen.lock().push(format!("release {handle}"));
                self.stamp.fetch_add(1, Ordering::SeqCst);
                Ok(ObjectReply::Int(0))
            }
            other => panic!("not expected here: {other:?}"),
        }
    }

    fn lookup_stamp(&self) -> u64 {
        let stamp = self.stamp.load(Ordering::SeqCst);
        if self.slow_stamp.load(Ordering::Relaxed) {
            let until = std::time::Instant::now() + Duration::from_micros(20);
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        stamp
    }

    fn get_node(
        &self,
        _key: InstanceKey,
        _level: SafetyLevel,
        from: i32,
        path: &str,
    ) -> Result<FoundNode, ObjectError> {
        self.seen.lock().push(format!("get_node {from} {path}"));
        let stamp = self.stamp.load(Ordering::SeqCst);
        let handle = match path {
            "../Target" => 7,
            "../Other" => 8,
            // A node whose handle the mod releases: looked up again it has a new number.
            "../Fresh" => 1000 + stamp as i32,
            p if p.starts_with("Outside") => 11,
            _ => {
                return Err(ObjectError::failed(
                    -1,
                    format!("there is no node at `{path}`"),
                ))
            }
        };
        Ok(FoundNode {
            handle,
            holds_under: if path.starts_with("Outside") {
                0
            } else {
                stamp
            },
        })
    }
}

/// A module with `main` running `body`. `$find` looks up `../Target` from the mod's node,
/// `$find_from(h)` from handle `h`, `$other` `../Other`, `$outside` `Outside/X`, `$missing`
/// `../Nothing`, `$fresh` `../Fresh` (a new number after every release); `$rename` calls a method that changes the tree; `$set_name(h)` sets `name`
/// (queued from `main`), `$set(h)` sets `position`; `$release(h)` releases; `$spin` is busy for
/// tens of milliseconds. The exports `find`
/// and `main` are callable from the test (the main thread).
fn module(body: &str) -> String {
    format!(
        r#"(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "set" (func $wasgo_set (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "position")
  (data (i32.const 16) "name")
  (data (i32.const 32) "../Target")
  (data (i32.const 48) "../Other")
  (data (i32.const 64) "Outside/X")
  (data (i32.const 80) "../Nothing")
  (data (i32.const 96) "rename")
  (data (i32.const 128) "../Fresh")
  ;; a String variant "B": type 4, length 1, "B" padded to 4 bytes
  (data (i32.const 112) "\04\00\00\00\01\00\00\00B\00\00\00")
  (func $find (export "find") (result i32) (call $get_node (i32.const 0) (i32.const 32) (i32.const 9)))
  (func $find_from (param i32) (result i32) (call $get_node (local.get 0) (i32.const 32) (i32.const 9)))
  (func $fresh (result i32) (call $get_node (i32.const 0) (i32.const 128) (i32.const 8)))
  ;; 2,000 times: look ../Fresh up, release it (queued), look it up again; how many second
  ;; lookups gave the released number.
  (func $release_loop (result i32) (local $i i32) (local $h i32) (local $stale i32)
    (loop $l
      (local.set $h (call $fresh))
      (call $release (local.get $h))
      (if (i32.eq (call $fresh) (local.get $h))
        (then (local.set $stale (i32.add (local.get $stale) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2000))))
    (local.get $stale))
  (func $other (result i32) (call $get_node (i32.const 0) (i32.const 48) (i32.const 8)))
  (func $outside (result i32) (call $get_node (i32.const 0) (i32.const 64) (i32.const 9)))
  (func $missing (result i32) (call $get_node (i32.const 0) (i32.const 80) (i32.const 10)))
  (func $rename (result i32)
    (call $call (i32.const 7) (i32.const 96) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 512) (i32.const 64)))
  (func $set_name (param i32) (result i32)
    (call $wasgo_set (local.get 0) (i32.const 16) (i32.const 4) (i32.const 112) (i32.const 12)))
  (func $set (param i32) (result i32)
    (call $set_vec2 (local.get 0) (i32.const 0) (i32.const 8) (f32.const 1) (f32.const 2)))
  ;; Busy for a while (tens of milliseconds): the main thread runs what was queued meanwhile.
  (func $spin (local i32)
    (local.set 0 (i32.const 30000000))
    (loop (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if 0 (local.get 0))))
  (func (export "main") (result i32) {body}))"#
    )
}

fn instance(body: &str) -> (Arc<Game>, ModInstance, Arc<Runtime>) {
    let game = Game::new();
    let hosts = Hosts {
        objects: game.clone(),
        ..Hosts::detached()
    };
    let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
    let module = rt.compile(module(body).as_bytes(), "found").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(500),
            main_timeout: None,
            ..Limits::default()
        },
        ..InstanceConfig::new("found", SafetyLevel::Safe, rt.next_instance_key())
    };
    let inst = ModInstance::new(&rt, &module, config).unwrap();
    (game, inst, rt)
}

/// Runs `main` (`body`) on its worker, serving the bridge from the test thread; its exit code.
fn run_main(body: &str) -> (Arc<Game>, Option<i32>, Vec<ModEvent>) {
    run_main_with(body, false)
}

/// [`run_main`], with a game whose `lookup_stamp` is slow when `slow_stamp`.
fn run_main_with(body: &str, slow_stamp: bool) -> (Arc<Game>, Option<i32>, Vec<ModEvent>) {
    let (game, mut inst, rt) = instance(body);
    game.slow_stamp.store(slow_stamp, Ordering::Relaxed);
    inst.start_main().unwrap();
    let events = serve_to_end(&rt, &mut inst);
    (game, exit_code(&events), events)
}

#[test]
fn main_asks_the_game_once_for_the_same_lookup_while_nothing_changes() {
    let (game, code, events) = run_main(
        "(drop (call $find)) (drop (call $find)) (drop (call $other)) (drop (call $other)) \
         (i32.add (call $find) (i32.mul (i32.const 100) (call $other)))",
    );
    assert_eq!(code, Some(807), "{events:?}");
    assert_eq!(game.seen(), ["get_node 0 ../Target", "get_node 0 ../Other"]);
}

#[test]
fn a_change_the_game_reports_makes_the_next_lookup_ask_again() {
    // A call that changes the tree, then a release (queued from `main`, run before the next
    // lookup is answered): each makes the next lookup ask the game.
    let (game, code, events) = run_main(
        "(drop (call $find)) (drop (call $rename)) (drop (call $find)) \
         (call $release (i32.const 8)) (drop (call $find)) (call $find)",
    );
    assert_eq!(code, Some(7), "{events:?}");
    assert_eq!(
        game.seen(),
        [
            "get_node 0 ../Target",
            "call rename",
            "get_node 0 ../Target",
            "release 8",
            "get_node 0 ../Target",
        ]
    );
}

#[test]
fn a_queued_set_that_changes_the_tree_is_seen_by_the_next_lookup() {
    // The `name` set is queued: whether or not the main thread has run it when the lookup
    // comes, the lookup must not answer from before it.
    for spin in ["", "(call $spin)"] {
        for _ in 0..10 {
            let (game, code, events) = run_main(&format!(
                "(drop (call $find)) (drop (call $set_name (i32.const 7))) {spin} (call $find)"
            ));
            assert_eq!(code, Some(7), "{events:?}");
            assert_eq!(
                game.seen(),
                ["get_node 0 ../Target", "set 7 name", "get_node 0 ../Target"]
            );
        }
    }
}

#[test]
fn a_queued_failure_surfaces_at_a_kept_lookup() {
    // Right after the failing set (most likely still queued) and once it has surely run.
    for spin in ["", "(call $spin)"] {
        for _ in 0..10 {
            let (game, code, events) = run_main(&format!(
                "(drop (call $find)) (drop (call $set (i32.const 9))) {spin} (call $find)"
            ));
            assert_eq!(code, Some(-4), "{events:?}");
            assert_eq!(game.seen(), ["get_node 0 ../Target", "set 9"]);
        }
    }
}

#[test]
fn answers_the_game_does_not_promise_and_failures_are_asked_every_time() {
    let (game, code, events) = run_main(
        "(drop (call $outside)) (drop (call $outside)) (drop (call $missing)) \
         (drop (call $missing)) (drop (call $find)) (drop (call $find_from (i32.const 7))) \
         (call $find_from (i32.const 8))",
    );
    assert_eq!(code, Some(7), "{events:?}");
    assert_eq!(
        game.seen(),
        [
            "get_node 0 Outside/X",
            "get_node 0 Outside/X",
            "get_node 0 ../Nothing",
            "get_node 0 ../Nothing",
            "get_node 0 ../Target",
            "get_node 7 ../Target",
            "get_node 8 ../Target",
        ]
    );
}

#[test]
fn callbacks_on_the_main_thread_keep_answers_too() {
    let (game, mut inst, _rt) = instance("(i32.const 0)");
    for _ in 0..3 {
        assert_eq!(inst.call("find", &[]).unwrap()[0].unwrap_i32(), 7);
    }
    assert_eq!(game.lookups(), 1);
    game.stamp.fetch_add(1, Ordering::SeqCst);
    assert_eq!(inst.call("find", &[]).unwrap()[0].unwrap_i32(), 7);
    assert_eq!(game.lookups(), 2);
}

#[test]
fn a_release_queued_just_before_a_lookup_is_never_missed() {
    // The release runs on the main thread while the next lookup decides whether its kept
    // answer holds: that lookup must never give the released number (it did, about once in
    // thousands, when the stamp was read before the queue was seen empty).
    // A game slow to give its stamp widens the window such a race needs.
    let (game, code, events) = run_main_with("(call $release_loop)", true);
    assert_eq!(
        code,
        Some(0),
        "lookups that gave a released handle: {events:?}"
    );
    assert_eq!(
        game.seen()
            .iter()
            .filter(|s| s.starts_with("release"))
            .count(),
        2_000
    );
}
