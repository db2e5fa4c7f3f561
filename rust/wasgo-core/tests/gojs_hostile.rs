//! Hostile modules that import the `gojs` functions directly (they need not be built by Go):
//! a deep chain of nested objects, values the host made without counting them, cycles the
//! program drops, and timeouts by the hundred thousand. None may crash the process, get past
//! the memory limit or freeze an entry.

#[path = "support/serve_main.rs"]
mod serve_main;

use serve_main::{serve_to_end, trap_message};
use std::sync::Arc;
use std::time::Duration;
use wasgo_core::*;

const PRELUDE: &str = r#"
  (import "gojs" "syscall/js.valueGet" (func $valueGet (param i32)))
  (import "gojs" "syscall/js.valueSet" (func $valueSet (param i32)))
  (import "gojs" "syscall/js.valueNew" (func $valueNew (param i32)))
  (import "gojs" "syscall/js.valueCall" (func $valueCall (param i32)))
  (import "gojs" "syscall/js.valueInvoke" (func $valueInvoke (param i32)))
  (import "gojs" "syscall/js.finalizeRef" (func $finalizeRef (param i32)))
  (import "gojs" "runtime.scheduleTimeoutEvent" (func $sched (param i32)))
  (import "gojs" "runtime.wasmExit" (func $wasmExit (param i32)))
  (import "gojs" "runtime.wasmWrite" (func $wasmWrite (param i32)))
  (import "gojs" "syscall/js.valuePrepareString" (func $prepare (param i32)))
  (memory (export "mem") 2)
  (global $sp (mut i32) (i32.const 0x4000))
  (func (export "getsp") (result i32) (global.get $sp))
  (data (i32.const 0x100) "Array")
  (data (i32.const 0x110) "godot")
  (data (i32.const 0x120) "vec2")
  (data (i32.const 0x130) "x")
  (data (i32.const 0x140) "_makeFuncWrapper")
  (data (i32.const 0x160) "Uint8Array")
  (func $get (param $o i64) (param $p i32) (param $l i32) (result i64)
    (i64.store (i32.const 0x4008) (local.get $o))
    (i64.store (i32.const 0x4010) (i64.extend_i32_u (local.get $p)))
    (i64.store (i32.const 0x4018) (i64.extend_i32_u (local.get $l)))
    (call $valueGet (i32.const 0x4000))
    (i64.load (i32.const 0x4020)))
  (func $set (param $o i64) (param $p i32) (param $l i32) (param $v i64)
    (i64.store (i32.const 0x4008) (local.get $o))
    (i64.store (i32.const 0x4010) (i64.extend_i32_u (local.get $p)))
    (i64.store (i32.const 0x4018) (i64.extend_i32_u (local.get $l)))
    (i64.store (i32.const 0x4020) (local.get $v))
    (call $valueSet (i32.const 0x4000)))
  (func $new (param $c i64) (param $a i32) (param $n i32) (result i64)
    (i64.store (i32.const 0x4008) (local.get $c))
    (i64.store (i32.const 0x4010) (i64.extend_i32_u (local.get $a)))
    (i64.store (i32.const 0x4018) (i64.extend_i32_u (local.get $n)))
    (call $valueNew (i32.const 0x4000))
    (i64.load (i32.const 0x4028)))
  (func $call (param $o i64) (param $p i32) (param $l i32) (param $a i32) (param $n i32) (result i64)
    (i64.store (i32.const 0x4008) (local.get $o))
    (i64.store (i32.const 0x4010) (i64.extend_i32_u (local.get $p)))
    (i64.store (i32.const 0x4018) (i64.extend_i32_u (local.get $l)))
    (i64.store (i32.const 0x4020) (i64.extend_i32_u (local.get $a)))
    (i64.store (i32.const 0x4028) (i64.extend_i32_u (local.get $n)))
    (call $valueCall (i32.const 0x4000))
    (i64.load (i32.const 0x4038)))
  (func $invoke (param $f i64) (param $a i32) (param $n i32) (result i64)
    (i64.store (i32.const 0x4008) (local.get $f))
    (i64.store (i32.const 0x4010) (i64.extend_i32_u (local.get $a)))
    (i64.store (i32.const 0x4018) (i64.extend_i32_u (local.get $n)))
    (call $valueInvoke (i32.const 0x4000))
    (i64.load (i32.const 0x4028)))
  (func $fin (param $v i64)
    (i64.store (i32.const 0x4008) (local.get $v))
    (call $finalizeRef (i32.const 0x4000)))
"#;
const GLOBAL: &str = "(i64.const 0x7FF8000100000005)";

fn rt() -> Arc<Runtime> {
    Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap()
}

fn rt_in(mode: RuntimeMode) -> Arc<Runtime> {
    Runtime::new(
        RuntimeConfig {
            mode,
            ..RuntimeConfig::default()
        },
        Hosts::detached(),
    )
    .unwrap()
}

fn inst(rt: &Arc<Runtime>, body: &str, mem_mb: usize) -> ModInstance {
    let wat = format!("(module {PRELUDE} {body})");
    let module = rt.compile(wat.as_bytes(), "hostile").unwrap();
    assert_eq!(module.guest_kind(), GuestKind::GoJs);
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: mem_mb << 20,
            main_timeout: Some(Duration::from_secs(120)),
            ..Limits::default()
        },
        ..InstanceConfig::new("hostile", SafetyLevel::Safe, rt.next_instance_key())
    };
    ModInstance::new(rt, &module, config).unwrap()
}

/// Runs `main` to its end (a bound for a hung test, not a timing assertion) and returns how it
/// ended, with the message of a trap.
fn run(rt: &Runtime, mut i: ModInstance) -> (ModStatus, String) {
    assert!(i.start_main().unwrap());
    let events = serve_to_end(rt, &mut i);
    (i.status(), trap_message(&events).unwrap_or_default())
}

/// A chain of 200,000 arrays, each holding the previous one, only the head held, then released:
/// freeing it recursively overflowed the stack and aborted the process.
#[test]
fn a_deep_chain_of_objects_is_freed_without_overflowing_the_stack() {
    let body = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $ctor i64) (local $i i32) (local $new i64)
    (local.set $ctor (call $get {GLOBAL} (i32.const 0x100) (i32.const 5)))
    (i64.store (i32.const 0x9000) (i64.const 0))
    (loop $l
      (local.set $new (call $new (local.get $ctor) (i32.const 0x9000) (i32.const 1)))
      (if (i32.gt_u (local.get $i) (i32.const 0)) (then (call $fin (i64.load (i32.const 0x9000)))))
      (i64.store (i32.const 0x9000) (local.get $new))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000))))
    (call $fin (i64.load (i32.const 0x9000))))"#
    );
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &body, 64));
    assert_eq!(status, ModStatus::Finished, "{trap}");
}

/// `godot.vec2()` a million times under an 8 MiB limit: the results were never counted (800 MB).
#[test]
fn values_the_host_makes_count_against_the_memory_limit() {
    let body = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $g i64) (local $i i32)
    (local.set $g (call $get {GLOBAL} (i32.const 0x110) (i32.const 5)))
    (loop $l
      (drop (call $call (local.get $g) (i32.const 0x120) (i32.const 4) (i32.const 0x9000) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1040000)))))"#
    );
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &body, 8));
    assert_eq!(status, ModStatus::Trapped);
    assert!(trap.contains("over its memory limit of 8 MiB"), "{trap}");
}

/// Objects in a cycle (`o.self = o`) that Go let go of: freed by no count, they were also not
/// measured (only what Go still reached was), so a loop making them took any amount of memory.
#[test]
fn cycles_the_program_dropped_still_count_against_the_memory_limit() {
    let body = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $ctor i64) (local $o i64) (local $i i32)
    (local.set $ctor (call $get {GLOBAL} (i32.const 0x100) (i32.const 5)))
    (i64.store (i32.const 0x9000) (i64.reinterpret_f64 (f64.const 1000)))
    (loop $l
      (local.set $o (call $new (local.get $ctor) (i32.const 0x9000) (i32.const 1)))
      (call $set (local.get $o) (i32.const 0x130) (i32.const 1) (local.get $o))
      (call $fin (local.get $o))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 20000)))))"#
    );
    let rt = rt();
    // 20,000 arrays of 1000 slots: 480 MB if nothing counted them.
    let (status, trap) = run(&rt, inst(&rt, &body, 16));
    assert_eq!(status, ModStatus::Trapped);
    assert!(trap.contains("over its memory limit of 16 MiB"), "{trap}");
}

const GO_OBJECT: &str = "(i64.const 0x7FF8000100000006)";

/// A `js.FuncOf` wrapper whose every call calls it again from `resume`, with `args` undefined
/// arguments each time.
fn nested_invokes(args: u32) -> String {
    format!(
        r#"
  (global $f (mut i64) (i64.const 0))
  (func (export "resume")
    (drop (call $invoke (global.get $f) (i32.const 0x9000) (i32.const {args}))))
  (func (export "run") (param i32 i32)
    (i64.store (i32.const 0x8000) (i64.reinterpret_f64 (f64.const 1)))
    (global.set $f (call $call {GO_OBJECT} (i32.const 0x140) (i32.const 16) (i32.const 0x8000) (i32.const 1)))
    (drop (call $invoke (global.get $f) (i32.const 0x9000) (i32.const {args}))))"#
    )
}

/// Each level of callbacks calling back held its argument list (three times its size in the
/// program's memory) uncounted: 40 levels of a million arguments took a gigabyte past a 16 MiB
/// limit. The lists are counted as they are read.
#[test]
fn argument_lists_of_nested_callbacks_count_against_the_memory_limit() {
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &nested_invokes(8192), 1));
    assert_eq!(status, ModStatus::Trapped);
    assert!(trap.contains("over its memory limit of 1 MiB"), "{trap}");
}

/// Callbacks calling back without end are stopped at a depth, with a message that says so; in
/// both modes (interpreted, nothing but that depth bounds the thread's stack between levels).
#[test]
fn callbacks_nested_past_the_depth_limit_trap() {
    for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
        let rt = rt_in(mode);
        let (status, trap) = run(&rt, inst(&rt, &nested_invokes(1), 64));
        assert_eq!(status, ModStatus::Trapped, "{mode:?}");
        assert!(
            trap.contains("more than 64 levels deep"),
            "{mode:?}: {trap}"
        );
    }
}

/// A `gojs` import called by a start function (inside instantiation, before the host found the
/// program's exports) panicked in the host; now it is a trap that says what happened.
#[test]
fn an_import_called_by_a_start_function_fails_instantiation_with_a_message() {
    let wat = format!(
        r#"(module {PRELUDE}
  (func (export "resume"))
  (func (export "run") (param i32 i32))
  (func $early (drop (call $get {GLOBAL} (i32.const 0x100) (i32.const 5))))
  (start $early))"#
    );
    let rt = rt();
    let module = rt.compile(wat.as_bytes(), "early").unwrap();
    let config = InstanceConfig::new("early", SafetyLevel::Safe, rt.next_instance_key());
    let Err(e) = ModInstance::new(&rt, &module, config) else {
        panic!("instantiation should fail")
    };
    let message = e.to_string();
    assert!(message.contains("being instantiated"), "{message}");
    assert!(!message.contains("host bug"), "{message}");
}

/// A stack pointer near the top of the address space: `sp + 8` overflowed (a panic in a debug
/// build, a wrapped read of the program's low memory in a release build). It is out of range.
#[test]
fn a_stack_pointer_at_the_top_of_the_address_space_is_out_of_range() {
    let body = r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (call $valueGet (i32.const -4)))"#;
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, body, 16));
    assert_eq!(status, ModStatus::Trapped);
    assert!(!trap.contains("host bug"), "{trap}");
    assert!(trap.contains("outside the program's memory"), "{trap}");
}

/// The text of a 2 MB `Uint8Array` ("0,0,0,..."): made number by number on the host, beyond the
/// reach of every budget (a 15 MB one held the frame 1.2 s). Past 1 MiB it is refused.
#[test]
fn the_text_of_a_large_array_is_refused_past_a_mebibyte() {
    let body = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $bytes i64)
    (i64.store (i32.const 0x9000) (i64.reinterpret_f64 (f64.const 2000000)))
    (local.set $bytes (call $new (call $get {GLOBAL} (i32.const 0x160) (i32.const 10)) (i32.const 0x9000) (i32.const 1)))
    (i64.store (i32.const 0x4008) (local.get $bytes))
    (call $prepare (i32.const 0x4000)))"#
    );
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &body, 64));
    assert_eq!(status, ModStatus::Trapped);
    assert!(trap.contains("longer than 1 MiB"), "{trap}");
}

/// Linear memory and JavaScript values share one limit: with 15 of 16 MiB of memory grown, five
/// `new Array(100000)` (about 14 MiB on the host) were allowed beside it (29 MiB under 16), and
/// values first then a grow likewise.
#[test]
fn linear_memory_and_javascript_values_share_one_limit() {
    let values_after_memory = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $ctor i64) (local $i i32)
    (drop (memory.grow (i32.const 238)))
    (local.set $ctor (call $get {GLOBAL} (i32.const 0x100) (i32.const 5)))
    (f64.store (i32.const 0x9000) (f64.const 100000))
    (loop $l
      (drop (call $new (local.get $ctor) (i32.const 0x9000) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 5)))))"#
    );
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &values_after_memory, 16));
    assert_eq!(status, ModStatus::Trapped);
    assert!(
        trap.contains("together with its 15 MiB of linear memory"),
        "{trap}"
    );

    let memory_after_values = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $ctor i64) (local $i i32)
    (local.set $ctor (call $get {GLOBAL} (i32.const 0x100) (i32.const 5)))
    (f64.store (i32.const 0x9000) (f64.const 100000))
    (loop $l
      (i64.store (i32.add (i32.const 0xa000) (i32.shl (local.get $i) (i32.const 3)))
        (call $new (local.get $ctor) (i32.const 0x9000) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 5))))
    ;; The values hold about 14 MiB: 2 MiB of memory fits beside them, 15 MiB traps.
    (if (i32.eq (memory.grow (i32.const 30)) (i32.const -1)) (then unreachable))
    (drop (memory.grow (i32.const 208))))"#
    );
    let (status, trap) = run(&rt, inst(&rt, &memory_after_values, 16));
    assert_eq!(status, ModStatus::Trapped);
    assert!(
        trap.contains("MiB of JavaScript values its program holds"),
        "{trap}"
    );
}

/// Values the program made and released are not held against its memory: they were counted as
/// made and taken back only at a later measure, which a grow of the linear memory never made,
/// so a program that had released every value was refused memory ("memory limit exceeded ...
/// beside the 14 MiB of JavaScript values its program holds") and killed.
#[test]
fn values_the_program_released_leave_its_memory_room_to_grow() {
    let body = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32) (local $ctor i64) (local $i i32)
    (local.set $ctor (call $get {GLOBAL} (i32.const 0x100) (i32.const 5)))
    (f64.store (i32.const 0x9000) (f64.const 100000))
    (loop $l
      (call $fin (call $new (local.get $ctor) (i32.const 0x9000) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 5))))
    ;; About 14 MiB were made and all released: 13 MiB of memory fits.
    (if (i32.eq (memory.grow (i32.const 208)) (i32.const -1)) (then unreachable)))"#
    );
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &body, 16));
    assert_eq!(trap, "");
    assert_ne!(status, ModStatus::Trapped);
}

/// A `getsp` that calls the host, which asks `getsp` for the stack pointer after every
/// `valueInvoke`: compiled, the recursion ended in wasmtime's stack-overflow trap; interpreted,
/// nothing bounded the thread's own stack and the process crashed. Refused at the second level
/// in both modes, with a message that says why.
#[test]
fn a_getsp_that_calls_the_host_traps_compiled_and_interpreted() {
    let wat = r#"(module
      (import "gojs" "syscall/js.valueInvoke" (func $valueInvoke (param i32)))
      (import "gojs" "runtime.wasmExit" (func $wasmExit (param i32)))
      (memory (export "mem") 2)
      (func (export "getsp") (result i32)
        (call $valueInvoke (i32.const 0x4000))
        (i32.const 0x4000))
      (func (export "resume"))
      (func (export "run") (param i32 i32)
        (call $valueInvoke (i32.const 0x4000))))"#;
    for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
        let rt = rt_in(mode);
        let module = rt.compile(wat.as_bytes(), "getsp").unwrap();
        assert_eq!(module.guest_kind(), GuestKind::GoJs, "{mode:?}");
        let config = InstanceConfig {
            limits: Limits {
                main_timeout: Some(Duration::from_secs(120)),
                ..Limits::default()
            },
            ..InstanceConfig::new("getsp", SafetyLevel::Safe, rt.next_instance_key())
        };
        let inst = ModInstance::new(&rt, &module, config).unwrap();
        let (status, trap) = run(&rt, inst);
        assert_eq!(status, ModStatus::Trapped, "{mode:?}: {trap}");
        assert!(
            trap.contains("`getsp` export called into the host"),
            "{mode:?}: {trap}"
        );
    }
}

/// A Go panic's text is the program's: printed as WasGo's own error, a newline in it wrote a
/// line of its own into the game's log (and an escape sequence recoloured it). It is shown on
/// one line with hidden characters escaped, as `wasgo.abort`'s text is.
#[test]
fn a_panic_message_is_one_line_with_hidden_characters_escaped() {
    // As Go prints a panic: the message, a blank line, the goroutine dump.
    let text = "panic: x\nWARNING: WasGo: fake\u{1b}[31m\u{202e}\n\ngoroutine 1 [running]:\n";
    let bytes: String = text.bytes().map(|b| format!("\\{b:02x}")).collect();
    let body = format!(
        r#"
  (data (i32.const 0x9000) "{bytes}")
  (func (export "resume"))
  (func (export "run") (param i32 i32)
    (i64.store (i32.const 0x4008) (i64.const 2))
    (i64.store (i32.const 0x4010) (i64.const 0x9000))
    (i32.store (i32.const 0x4018) (i32.const {len}))
    (call $wasmWrite (i32.const 0x4000))
    (i32.store (i32.const 0x4008) (i32.const 2))
    (call $wasmExit (i32.const 0x4000)))"#,
        len = text.len()
    );
    let rt = rt();
    let (status, trap) = run(&rt, inst(&rt, &body, 16));
    assert_eq!(status, ModStatus::Trapped, "{trap}");
    // WasGo's own backtrace follows on lines of its own.
    let message = trap.split("\nwasm backtrace").next().unwrap_or_default();
    assert!(
        message.contains("panic: x\\u{a}WARNING: WasGo: fake"),
        "{trap}"
    );
    assert!(
        !message.contains('\n') && !message.contains('\u{1b}') && !message.contains('\u{202e}'),
        "{trap:?}"
    );
}

/// `runtime.getRandomData` over most of the memory, call after call with no loop in between
/// (so no epoch check): each call made the whole buffer on the host in one go, nothing could
/// stop it, and `kill()` left the worker running for minutes. Now each call fills the memory a
/// chunk at a time, checking the kill switch between chunks.
#[test]
fn random_data_for_a_whole_memory_stops_at_a_kill() {
    let calls: String = "(call $rand (i32.const 0x4000))\n".repeat(2000);
    let body = format!(
        r#"
  (func (export "resume"))
  (func (export "run") (param i32 i32)
    (drop (memory.grow (i32.const 510)))
    (i64.store (i32.const 0x4008) (i64.const 0x10000))
    (i64.store (i32.const 0x4010) (i64.const 0x1F00000))
    {calls})"#
    );
    let wat = format!(
        r#"(module (import "gojs" "runtime.getRandomData" (func $rand (param i32))) {PRELUDE} {body})"#
    );
    let rt = rt();
    let module = rt.compile(wat.as_bytes(), "random").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: 64 << 20,
            main_timeout: Some(Duration::from_secs(600)),
            ..Limits::default()
        },
        ..InstanceConfig::new("random", SafetyLevel::Safe, rt.next_instance_key())
    };
    let mut i = ModInstance::new(&rt, &module, config).unwrap();
    assert!(i.start_main().unwrap());
    std::thread::sleep(Duration::from_millis(100));
    i.kill("stop");
    // A bound for a worker that never stops, not a timing assertion: 2000 calls of 31 MiB each
    // take minutes.
    let start = std::time::Instant::now();
    while rt.stats().workers > 0 && start.elapsed() < Duration::from_secs(30) {
        rt.bridge().run_pending(Duration::from_millis(2));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(rt.stats().workers, 0, "the worker ran on after the kill");
    assert_eq!(i.status(), ModStatus::Killed);
}

/// Callbacks nested inside each other on a thread with little stack left (a Go-js mod the game
/// calls from inside another mod's call), interpreted: each level's host frames are outside
/// wasm's own stack limit there, so the thread's stack is checked before each level; the
/// program traps, the thread lives.
#[test]
fn nested_callbacks_on_a_small_stack_trap_instead_of_overflowing() {
    for mode in [RuntimeMode::Interpreter, RuntimeMode::Compiled] {
        let outcome = std::thread::Builder::new()
            .stack_size(400 << 10)
            .spawn(move || {
                let rt = rt_in(mode);
                let mut i = inst(&rt, &nested_invokes(1), 64);
                match i.call("run", &[Val::I32(0), Val::I32(0)]) {
                    Err(WasgoError::Trap(info)) => info.message,
                    other => format!("no trap: {other:?}"),
                }
            })
            .unwrap()
            .join()
            .expect("the thread overflowed its stack");
        assert!(
            outcome.contains("levels deep") || outcome.contains("stack"),
            "{mode:?}: {outcome}"
        );
    }
}
