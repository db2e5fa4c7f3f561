//! `godot_api`: exercises the Godot-object functions with raw imports and a small hand-written
//! Variant encoder (the SDK has the full one). A reactor (`cdylib`): WasGo calls `_initialize`,
//! then `ready`, `process`, `native_callback` and the exports the tests call.
//!
//! The scene it expects (see `godot_project/tests/test_godot_api.gd`): its node has a sibling
//! `Target` (a Node2D with `signal poked(a, b)`), a `Timer` child of the test root named `Tick`,
//! and an `HTTPRequest` named `Net`.

use std::cell::Cell;

#[link(wasm_import_module = "wasgo")]
extern "C" {
    fn log(level: i32, ptr: *const u8, len: usize);
    #[link_name = "self"]
    fn self_handle() -> i32;
    fn get_node(from: i32, ptr: *const u8, len: usize) -> i32;
    fn singleton(ptr: *const u8, len: usize) -> i32;
    fn release(handle: i32);
    fn get(h: i32, np: *const u8, nl: usize, out: *mut u8, cap: usize) -> i32;
    fn set(h: i32, np: *const u8, nl: usize, vp: *const u8, vl: usize) -> i32;
    fn call(h: i32, mp: *const u8, ml: usize, ap: *const u8, al: usize, out: *mut u8, cap: usize) -> i32;
    fn connect(h: i32, sp: *const u8, sl: usize, id: i32) -> i32;
    fn callback_args(out: *mut u8, cap: usize) -> i32;
    fn emit(np: *const u8, nl: usize, pp: *const u8, pl: usize) -> i32;
    fn set_vec2(h: i32, np: *const u8, nl: usize, x: f32, y: f32) -> i32;
    fn get_vec2(h: i32, np: *const u8, nl: usize, out: *mut f32) -> i32;
    fn set_float(h: i32, np: *const u8, nl: usize, v: f64) -> i32;
    fn get_float(h: i32, np: *const u8, nl: usize, out: *mut f64) -> i32;
    fn call_float(h: i32, mp: *const u8, ml: usize, args: *const f64, argc: i32, out: *mut f64) -> i32;
}

// SAFETY (for every `unsafe` call below): each pointer/length pair is a live slice of this
// module's memory for the duration of the call, as the `wasgo` ABI requires.

fn say(text: &str) {
    unsafe { log(1, text.as_ptr(), text.len()) }
}

fn node(path: &str) -> i32 {
    unsafe { get_node(0, path.as_ptr(), path.len()) }
}

// ---- a tiny Variant encoder/decoder (Godot's binary format) ----
fn enc_str(out: &mut Vec<u8>, ty: u32, s: &str) {
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    while out.len() % 4 != 0 {
        out.push(0);
    }
}
fn enc_int(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&v.to_le_bytes());
}
fn enc_vec2(out: &mut Vec<u8>, x: f32, y: f32) {
    out.extend_from_slice(&5u32.to_le_bytes());
    out.extend_from_slice(&x.to_le_bytes());
    out.extend_from_slice(&y.to_le_bytes());
}
fn enc_nil(out: &mut Vec<u8>) {
    out.extend_from_slice(&0u32.to_le_bytes());
}
fn array_header(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// `get` into a growing buffer (the caller-buffer convention).
fn get_bytes(h: i32, name: &str) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; 16];
    loop {
        let n = unsafe { get(h, name.as_ptr(), name.len(), buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return Err(n);
        }
        if n as usize <= buf.len() {
            buf.truncate(n as usize);
            return Ok(buf);
        }
        buf.resize(n as usize, 0);
    }
}

fn call_bytes(h: i32, method: &str, args: &[u8]) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; 8];
    loop {
        let n = unsafe { call(h, method.as_ptr(), method.len(), args.as_ptr(), args.len(), buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return Err(n);
        }
        if n as usize <= buf.len() {
            buf.truncate(n as usize);
            return Ok(buf);
        }
        buf.resize(n as usize, 0);
    }
}

thread_local! {
    static TARGET: Cell<i32> = const { Cell::new(0) };
    static FRAMES: Cell<i32> = const { Cell::new(0) };
    static TICKS: Cell<i32> = const { Cell::new(0) };
}

#[no_mangle]
pub extern "C" fn ready() {
    let target = node("../Target");
    TARGET.with(|t| t.set(target));
    let tick = node("../Tick");
    let r1 = unsafe { connect(tick, "timeout".as_ptr(), 7, 1) };
    let r2 = unsafe { connect(target, "poked".as_ptr(), 5, 2) };
    say(&format!("ready target={} connect timeout={r1} poked={r2}", target > 0));
}

/// Moves the target by (1, 0.5) every frame through the fast path.
#[no_mangle]
pub extern "C" fn process(_delta: f64) {
    let target = TARGET.with(|t| t.get());
    if target <= 0 {
        return;
    }
    let mut xy = [0f32; 2];
    let r = unsafe { get_vec2(target, "position".as_ptr(), 8, xy.as_mut_ptr()) };
    if r != 0 {
        say(&format!("get_vec2 failed: {r}"));
        return;
    }
    unsafe { set_vec2(target, "position".as_ptr(), 8, xy[0] + 1.0, xy[1] + 0.5) };
    FRAMES.with(|f| f.set(f.get() + 1));
}

#[no_mangle]
pub extern "C" fn frames() -> i32 {
    FRAMES.with(|f| f.get())
}

/// Signal callbacks: 1 = the Timer's timeout, 2 = the Target's `poked(a, b)`.
#[no_mangle]
pub extern "C" fn native_callback(id: i32) {
    let mut buf = vec![0u8; 256];
    let n = unsafe { callback_args(buf.as_mut_ptr(), buf.len()) };
    buf.truncate(n.max(0) as usize);
    let count = if buf.len() >= 8 { u32_at(&buf, 4) } else { 0 };
    match id {
        1 => {
            TICKS.with(|t| t.set(t.get() + 1));
            say(&format!("timeout args={count}"));
        }
        2 => {
            // Expect [int a, String b]: forward them in a Dictionary payload.
            let a = if buf.len() >= 16 && u32_at(&buf, 8) == 2 { u32_at(&buf, 12) as i32 } else { -1 };
            let blen = if buf.len() >= 24 { u32_at(&buf, 20) as usize } else { 0 };
            let b = if blen > 0 { String::from_utf8_lossy(&buf[24..24 + blen]).into_owned() } else { String::new() };
            say(&format!("poked args={count} a={a} b={b}"));
            let mut payload = Vec::new();
            payload.extend_from_slice(&27u32.to_le_bytes());
            payload.extend_from_slice(&3u32.to_le_bytes());
            enc_str(&mut payload, 4, "a");
            enc_int(&mut payload, a);
            enc_str(&mut payload, 4, "b");
            enc_str(&mut payload, 4, &b);
            enc_str(&mut payload, 4, "where");
            enc_vec2(&mut payload, 1.5, -2.0);
            let r = unsafe { emit("poked_seen".as_ptr(), 10, payload.as_ptr(), payload.len()) };
            say(&format!("emit={r}"));
        }
        _ => say(&format!("unknown callback {id}")),
    }
}

/// `main` (on its worker thread) does what the node's first argument says: `walk` walks the tree,
/// `chatty` calls into the game forever (for kill-while-waiting); anything else returns at once.
#[no_mangle]
pub extern "C" fn main() -> i32 {
    match std::env::args().nth(1).as_deref() {
        Some("walk") => walk(),
        Some("chatty") => chatty(),
        _ => 0,
    }
}

/// Walks the tree 2000 times with get_node/set/get; returns the number of round trips that gave
/// the expected value.
fn walk() -> i32 {
    let mut ok = 0;
    let n = 2000;
    for i in 0..n {
        let target = node("../Target");
        if target <= 0 {
            say(&format!("walk: get_node failed {target}"));
            return -1;
        }
        let mut v = Vec::new();
        enc_vec2(&mut v, i as f32, 2.0 * i as f32);
        unsafe { set(target, "position".as_ptr(), 8, v.as_ptr(), v.len()) };
        if let Ok(bytes) = get_bytes(target, "position") {
            if bytes.len() == 12 && u32_at(&bytes, 0) == 5 && f32_at(&bytes, 4) == i as f32 && f32_at(&bytes, 8) == 2.0 * i as f32 {
                ok += 1;
            }
        }
        // Handles of the same node are reused; releasing and asking again is fine too.
        unsafe { release(target) };
    }
    say(&format!("walk ok {ok} of {n}"));
    ok
}

/// Calls into the game forever, so `kill()` usually finds it waiting for the main thread.
fn chatty() -> i32 {
    let target = node("../Target");
    let mut xy = [0f32; 2];
    loop {
        unsafe { get_vec2(target, "position".as_ptr(), 8, xy.as_mut_ptr()) };
    }
}

/// Handle of the Target, to check it after the game frees the node.
#[no_mangle]
pub extern "C" fn target_handle() -> i32 {
    TARGET.with(|t| t.get())
}

/// Reads `rotation` of handle `h` through `get_float`: the return code (-4 once freed).
#[no_mangle]
pub extern "C" fn read_rotation(h: i32) -> i32 {
    let mut out = 0f64;
    unsafe { get_float(h, "rotation".as_ptr(), 8, &mut out) }
}

/// Sets `rotation` with `set_float` and calls `rotate(0.5)` with `call_float`; returns the
/// rotation read back, times 1000.
#[no_mangle]
pub extern "C" fn spin_target() -> i32 {
    let t = TARGET.with(|t| t.get());
    unsafe { set_float(t, "rotation".as_ptr(), 8, 0.25) };
    let arg = [0.5f64];
    let r = unsafe { call_float(t, "rotate".as_ptr(), 6, arg.as_ptr(), 1, std::ptr::null_mut()) };
    if r != 0 {
        return r;
    }
    let mut out = 0f64;
    unsafe { get_float(t, "rotation".as_ptr(), 8, &mut out) };
    (out * 1000.0).round() as i32
}

/// An encoded Array holding one string-like value of Variant type `ty` (4 String, 21 StringName).
fn one_string(ty: u32, s: &str) -> Vec<u8> {
    let mut args = Vec::new();
    array_header(&mut args, 1);
    enc_str(&mut args, ty, s);
    args
}

/// What a `call` returned: 0 for any value, else its negative code.
fn code(result: Result<Vec<u8>, i32>) -> i32 {
    result.map(|_| 0).unwrap_or_else(|e| e)
}

fn singleton_named(name: &str) -> i32 {
    unsafe { singleton(name.as_ptr(), name.len()) }
}

/// Tries one escape hatch; returns what the call returned (a trap ends the mod instead).
#[no_mangle]
pub extern "C" fn hatch(which: i32) -> i32 {
    let me = unsafe { self_handle() };
    let mut args = Vec::new();
    match which {
        0 => code(call_bytes(me, "call", &one_string(4, "queue_free"))),
        1 => code(call_bytes(me, "callv", &one_string(4, "queue_free"))),
        2 => code(call_bytes(me, "call_deferred", &one_string(4, "queue_free"))),
        3 => code(call_bytes(me, "propagate_call", &one_string(21, "queue_free"))),
        4 => {
            array_header(&mut args, 1);
            enc_nil(&mut args);
            code(call_bytes(me, "set_script", &args))
        }
        5 => {
            enc_nil(&mut args);
            unsafe { set(me, "script".as_ptr(), 6, args.as_ptr(), args.len()) }
        }
        6 => singleton_named("OS"),
        7 => singleton_named("Engine"),
        8 => singleton_named("ClassDB"),
        9 => singleton_named("ResourceLoader"),
        10 => singleton_named("ProjectSettings"),
        11 => singleton_named("JavaScriptBridge"),
        12 => code(call_bytes(node("../Net"), "request", &one_string(4, "http://127.0.0.1:9/"))),
        13 => {
            let tree = call_bytes(me, "get_tree", &[28, 0, 0, 0, 0, 0, 0, 0]).ok();
            let h = tree.filter(|b| b.len() == 12).map(|b| u32_at(&b, 4) as i32).unwrap_or(0);
            code(call_bytes(h, "quit", &[]))
        }
        14 => {
            // A Callable smuggled in a Variant (type 25) is refused by the decoder: -3, no trap.
            let v = 25u32.to_le_bytes();
            unsafe { set(me, "name".as_ptr(), 4, v.as_ptr(), v.len()) }
        }
        15 => {
            // Harmless through the same route: OS.get_name at level 3.
            let os = singleton_named("OS");
            match call_bytes(os, "get_name", &[]) {
                Ok(bytes) if bytes.len() > 8 && u32_at(&bytes, 0) == 4 => {
                    let len = u32_at(&bytes, 4) as usize;
                    say(&format!("os name {}", String::from_utf8_lossy(&bytes[8..8 + len])));
                    0
                }
                Ok(_) => -100,
                Err(e) => e,
            }
        }
        _ => -3,
    }
}

/// Calls `get_children` on the stage (a typed `Array[Node]` in Godot) and returns how many
/// elements the decoded Array has.
#[no_mangle]
pub extern "C" fn stage_children() -> i32 {
    let stage = node("..");
    match call_bytes(stage, "get_children", &[28, 0, 0, 0, 0, 0, 0, 0]) {
        Ok(bytes) if bytes.len() >= 8 && u32_at(&bytes, 0) == 28 => u32_at(&bytes, 4) as i32,
        Ok(_) => -100,
        Err(e) => e,
    }
}
