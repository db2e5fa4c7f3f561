//! The host of Go's `GOOS=js GOARCH=wasm` programs: a Rust port of Go's own `wasm_exec.js`.
//!
//! A program built with the stock toolchain imports the `gojs` module ([`imports`]) and talks to
//! "JavaScript" through `syscall/js`. This module gives it a small JavaScript world instead:
//! a value model and Go's reference table ([`value`]), the globals Go's runtime and standard
//! library expect ([`builtins`]) and a `godot` object that reaches the game with the powers and
//! safety levels of a `wasgo` mod ([`godot`]).
//!
//! The files are layered, each using only those below it: [`native`] (the names of the host's
//! functions), [`value`] (the object model, the reference table and the per-instance heap objects
//! register in), [`heap`] (what the objects cost against the memory limit, and their end),
//! [`godot`], [`builtins`] (which dispatches a native call, the `godot` object's included) and
//! [`imports`] (the `gojs` imports themselves); this file, the runtime of one program, sits on top.
//!
//! ## Scheduling
//!
//! `run(argc, argv)` is the mod's `main`, on the worker thread ([`run_main`]). Go's runtime
//! returns from `run` (and from `resume`) whenever every goroutine is blocked; if it scheduled a
//! timeout (`time.Sleep`, a timer) the worker sleeps until the earliest one — killably, on the
//! kill switch's wake channel, and never past `main`'s timeout — and calls `resume`. When `run`
//! returns with nothing scheduled, the program waits for events (`select {}` after registering
//! `js.FuncOf` callbacks): `main` is over (status `Finished`, without a `Finished` event, because
//! the program has not exited) and the program lives on its callbacks, which the owner runs on
//! the main thread under the callback budget: `ModInstance::call_js` calls a function the
//! program set on the global object, `ModInstance::call_js_callback` delivers a signal to the
//! function connected with `godot.connect`, and `ModInstance::run_js_timers` resumes timeouts
//! that fall due after `main` (call it every frame). A call of a `js.FuncOf` function works as in
//! `wasm_exec.js`'s `_makeFuncWrapper`: the host sets `go._pendingEvent` and calls `resume`, and
//! Go leaves the result in the event's `result`.
//!
//! `runtime.wasmExit(code)` ends the instance like WASI's `proc_exit` (status `Exited`, a
//! `Finished{exit_code}` event); exit code 2 after `panic: ...` or `fatal error: ...` on stderr
//! is a Go panic and ends it as a trap with Go's message.

pub mod builtins;
pub mod godot;
pub(crate) mod heap;
pub mod imports;
pub mod native;
pub mod panic_watch;
pub mod shapes;
pub mod value;

use crate::error::{HostTrap, KilledTrap, TrapKind, WasgoError};
use crate::events::OutputSource;
use crate::guest_kind::{GuestKind, GuestOutput};
use crate::state::InstanceState;
use crate::variant::WireVariant;
use builtins::call_native;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use value::{Class, JsRef, JsResult, JsValue, Kind, ValueTable};
use wasmtime::{AsContextMut, Instance, Memory, Store, StoreContextMut, TypedFunc};

pub use crate::guest_kind::GOJS_MODULE;

/// What the `gojs` functions work on: the store of the instance.
pub type Cx<'a> = StoreContextMut<'a, InstanceState>;

/// Longest array or `Uint8Array` a program may create through the host.
pub const MAX_COLLECTION: usize = 64 << 20;
/// Most timeouts a program may have scheduled at once.
const MAX_TIMEOUTS: usize = 100_000;
/// Most `godot.connect` callbacks one instance may hold.
const MAX_CALLBACKS: usize = 100_000;
/// Slots in the callback table past which a `godot.connect` that finds no free slot first asks
/// the game which connections still hold, and gives back the slots of the others (twice the
/// connections one instance may have live, so a compaction frees at least half the table).
const COMPACT_CALLBACKS_AT: usize = 2048;
/// HTTP callbacks kept before those of requests that can no longer answer are let go of (more
/// than the requests in flight, kept and notified together).
const MAX_HTTP_CALLBACKS: usize = 64;
/// How deep the host may call into the program's callbacks from inside one of them (each level
/// is a `resume` on the wasm stack holding its event and arguments).
pub const MAX_CALLBACK_DEPTH: u32 = 64;
/// The stack a nested callback must find left on the thread to be run (its host frames and, in
/// the interpreter, nothing of wasm's own stack limit bounds them).
const CALLBACK_STACK_BYTES: usize = 256 << 10;

/// The program's exports the host calls.
#[derive(Clone)]
pub(crate) struct GoExports {
    run: TypedFunc<(i32, i32), ()>,
    resume: TypedFunc<(), ()>,
    pub(crate) getsp: TypedFunc<(), i32>,
    mem: Memory,
}

/// The Go-js state of one instance (in [`InstanceState::gojs`]).
pub struct GoState {
    pub(crate) table: ValueTable,
    global: JsRef,
    go: JsRef,
    /// Scheduled timeouts: id → when it falls due, and the same ordered by when (the next one
    /// due is the first, not a scan of them all for each that fires).
    timeouts: BTreeMap<i32, Instant>,
    due: std::collections::BTreeSet<(Instant, i32)>,
    /// Every object the host made for the program (see [`heap`]).
    heap: std::sync::Arc<value::Heap>,
    next_timeout: i32,
    output: GuestOutput,
    /// Whether stderr showed a Go panic (see [`panic_watch`]).
    stderr: panic_watch::PanicWatch,
    pub(crate) start: Instant,
    /// Nanoseconds from the Unix epoch to `start` (Go's `nanotime` is `timeOrigin + now()`).
    pub(crate) time_origin_ns: i64,
    /// Functions connected with `godot.connect`; the callback id is the index + 1.
    callbacks: Vec<JsValue>,
    /// Slots of `callbacks` given back (their connection ended), taken before the table grows.
    free_callbacks: Vec<usize>,
    /// The callbacks of `godot.httpRequest` by request id (at most the requests in flight).
    http_callbacks: std::collections::HashMap<i32, JsValue>,
    exports: Option<GoExports>,
    /// Host bytes of JavaScript values made since their live size was last measured (see
    /// `heap::charge`).
    pub(crate) host_bytes: usize,
    /// How many callbacks of the program the host is inside ([`MAX_CALLBACK_DEPTH`]).
    depth: u32,
    /// The host is inside a call of the program's `getsp` (see `imports::getsp`).
    pub(crate) in_getsp: bool,
}

impl GoState {
    pub(crate) fn new(output: GuestOutput) -> GoState {
        let heap = std::sync::Arc::new(value::Heap::default());
        let (global, go) = {
            let _in = value::Heap::enter(&heap);
            builtins::globals(godot::object())
        };
        let origin = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        GoState {
            table: ValueTable::new(global.clone(), go.clone()),
            global,
            go,
            timeouts: BTreeMap::new(),
            due: std::collections::BTreeSet::new(),
            heap,
            next_timeout: 1,
            output,
            stderr: panic_watch::PanicWatch::default(),
            start: Instant::now(),
            time_origin_ns: origin.as_nanos() as i64,
            callbacks: Vec::new(),
            free_callbacks: Vec::new(),
            http_callbacks: std::collections::HashMap::new(),
            exports: None,
            host_bytes: 0,
            depth: 0,
            in_getsp: false,
        }
    }

    /// The program's exports, attached after instantiation.
    ///
    /// # Errors
    /// A trap before then: a `gojs` import called by the module's start function, which runs
    /// inside instantiation (Go's own programs have none).
    pub(crate) fn exports(&self) -> wasmtime::Result<&GoExports> {
        self.exports.as_ref().ok_or_else(|| {
            HostTrap::new(
                TrapKind::HostCall,
                "a `gojs` import was called while the module was being instantiated (by its start function); a Go-js program calls into the host only from `run`, `resume` and its callbacks".to_string(),
            )
            .into_error()
        })
    }

    /// The program's memory (see [`GoState::exports`]).
    ///
    /// # Errors
    /// As [`GoState::exports`].
    pub(crate) fn memory(&self) -> wasmtime::Result<Memory> {
        Ok(self.exports()?.mem)
    }

    /// Writes program output (line-buffered, bounded like WASI output).
    pub(crate) fn write_output(&mut self, source: OutputSource, bytes: &[u8]) {
        if source == OutputSource::Stderr {
            self.stderr.write(bytes);
        }
        (self.output)(source, Some(bytes));
    }

    /// The error that ends the instance at `wasmExit(code)`: a Go panic becomes a trap with its
    /// message, any other exit an `I32Exit`.
    pub(crate) fn exit(&mut self, code: i32) -> wasmtime::Error {
        (self.output)(OutputSource::Stdout, None);
        (self.output)(OutputSource::Stderr, None);
        if code == 2 {
            if let Some(message) = self.stderr.panic() {
                // Printed as WasGo's own error, like `wasgo.abort`'s text: one line, hidden
                // characters escaped (a panic's text is the program's: a newline in it wrote
                // a line of its own into the game's log, posing as WasGo's).
                let message = crate::text::shown(message, crate::text::MAX_TRAP_TEXT);
                return HostTrap::new(TrapKind::Abort, message).into_error();
            }
        }
        wasmtime::Error::new(wasmtime_wasi::I32Exit(code))
    }

    pub(crate) fn schedule_timeout(&mut self, delay_ms: i64) -> i32 {
        let id = self.next_timeout;
        self.next_timeout = self.next_timeout.wrapping_add(1).max(1);
        if self.timeouts.len() < MAX_TIMEOUTS {
            let delay = Duration::from_millis(delay_ms.clamp(0, i64::from(u32::MAX)) as u64);
            let at = Instant::now() + delay;
            self.timeouts.insert(id, at);
            self.due.insert((at, id));
        }
        id
    }

    pub(crate) fn clear_timeout(&mut self, id: i32) {
        if let Some(at) = self.timeouts.remove(&id) {
            self.due.remove(&(at, id));
        }
    }

    /// The earliest scheduled timeout.
    fn next_due(&self) -> Option<(i32, Instant)> {
        self.due.first().map(|(at, id)| (*id, *at))
    }

    /// Keeps the callback of HTTP request `id` until its answer is delivered. Callbacks of
    /// requests that can no longer answer (`may_still_answer` says no: their notification was
    /// pushed out of the bounded queue while `main` held the instance) are let go of once the
    /// table has grown past [`MAX_HTTP_CALLBACKS`]: they piled up for the instance's life.
    pub(crate) fn add_http_callback(
        &mut self,
        id: i32,
        func: JsValue,
        may_still_answer: impl Fn(i32) -> bool,
    ) {
        if self.http_callbacks.len() >= MAX_HTTP_CALLBACKS {
            self.http_callbacks.retain(|id, _| may_still_answer(*id));
        }
        self.http_callbacks.insert(id, func);
    }

    /// Gives back the slot of callback `id` (1-based) whose connection failed: the last one
    /// is removed, one with later ones after it is cleared (never called again).
    pub(crate) fn drop_callback(&mut self, id: i32) {
        let Some(index) = usize::try_from(id).ok().and_then(|i| i.checked_sub(1)) else {
            return;
        };
        if index + 1 == self.callbacks.len() {
            self.callbacks.pop();
        } else if let Some(slot) = self.callbacks.get_mut(index) {
            *slot = JsValue::Undefined;
            self.free_callbacks.push(index);
        }
    }

    pub(crate) fn add_callback(&mut self, func: JsValue) -> Option<i32> {
        if let Some(index) = self.free_callbacks.pop() {
            self.callbacks[index] = func;
            return Some(index as i32 + 1);
        }
        if self.callbacks.len() >= MAX_CALLBACKS {
            return None;
        }
        self.callbacks.push(func);
        Some(self.callbacks.len() as i32)
    }

    /// Whether the next [`GoState::add_callback`] should first give back the slots of
    /// connections that ended ([`GoState::keep_callbacks`]).
    pub(crate) fn wants_compaction(&self) -> bool {
        // Not from inside a callback: the game's delivery loop holds the batch it is delivering
        // (their ids are in no outbox any more), and a slot given back now could take the next
        // one's arguments.
        self.depth == 0
            && self.free_callbacks.is_empty()
            && self.callbacks.len() >= COMPACT_CALLBACKS_AT
    }

    /// Gives back the slot of every callback whose id is not in `live` (the connections the game
    /// still holds and the deliveries still waiting): a program connecting to a signal of every
    /// object it spawns reached the table's end after 100,000 connects, none of them live.
    pub(crate) fn keep_callbacks(&mut self, live: &[i32]) {
        let live: std::collections::HashSet<usize> = live
            .iter()
            .filter_map(|id| usize::try_from(*id).ok()?.checked_sub(1))
            .collect();
        self.free_callbacks.clear();
        for (index, slot) in self.callbacks.iter_mut().enumerate() {
            if !live.contains(&index) {
                *slot = JsValue::Undefined;
                self.free_callbacks.push(index);
            }
        }
        // The lowest ids are taken first.
        self.free_callbacks.reverse();
    }
}

impl Drop for GoState {
    /// The instance ended: empties every object it made, so the cycles among them are freed too.
    fn drop(&mut self) {
        self.heap.clear();
    }
}

/// Makes the program's heap the one objects made on this thread register in (nothing for other
/// mods), for one entry of the host.
pub(crate) fn enter_heap(state: &InstanceState) -> Option<value::Entered> {
    state_ref(state).map(|g| value::Heap::enter(&g.heap))
}

/// `Reflect.get(v, name)`.
pub(crate) fn get_prop(v: &JsValue, name: &str) -> JsValue {
    match v {
        JsValue::String(s) if name == "length" => JsValue::Number(s.encode_utf16().count() as f64),
        JsValue::Object(o) => {
            let method = {
                let obj = o.0.lock();
                if let Some(own) = own_prop(&obj, name) {
                    return own;
                }
                builtins::prototype_method(&obj.class, name)
            };
            // Made after the object's lock is let go (a new object registers in the heap).
            method.map_or(JsValue::Undefined, |n| JsValue::object(Class::Native(n)))
        }
        _ => JsValue::Undefined,
    }
}

/// An object's own property `name` (an element, an array's `length`, a property), if it has it.
fn own_prop(obj: &value::JsObject, name: &str) -> Option<JsValue> {
    Some(match (&obj.class, name) {
        (Class::Array(items), "length") => JsValue::Number(items.len() as f64),
        (Class::Bytes(b), "length" | "byteLength") => JsValue::Number(b.len() as f64),
        (Class::Array(items), _) if array_index(name).is_some() => items
            .get(array_index(name).unwrap_or(usize::MAX))
            .cloned()
            .unwrap_or_default(),
        (Class::Bytes(b), _) if array_index(name).is_some() => b
            .get(array_index(name).unwrap_or(usize::MAX))
            .map(|x| JsValue::Number(f64::from(*x)))
            .unwrap_or_default(),
        _ => return obj.props.get(name).cloned(),
    })
}

/// The element index a property name is in JavaScript: a canonical decimal (`"0"`, `"12"`;
/// not `"01"`, `"+1"` or `"-1"`, which are plain properties).
pub(crate) fn array_index(name: &str) -> Option<usize> {
    let n: usize = name.parse().ok()?;
    (n.to_string() == name).then_some(n)
}

/// Calls function value `f` with `this` and `args`; `Ok(Err(thrown))` when it throws.
///
/// # Errors
/// A trap inside Go or the host ends the instance.
pub fn call_function(
    cx: &mut Cx<'_>,
    f: &JsValue,
    this: &JsValue,
    args: Vec<JsValue>,
) -> wasmtime::Result<JsResult> {
    match f.kind() {
        Some(Kind::Native(n)) => call_native(cx, n, this, &args),
        Some(Kind::GoFunc(id)) => {
            if state(cx).depth >= MAX_CALLBACK_DEPTH {
                return Err(HostTrap::new(
                    TrapKind::HostCall,
                    format!("the program's callbacks called each other more than {MAX_CALLBACK_DEPTH} levels deep (a `js.FuncOf` function whose call reaches the host, which calls a `js.FuncOf` function again); return from a callback before calling the next"),
                )
                .into_error());
            }
            // Each nested callback re-enters the program on this thread's stack (in the
            // interpreter, outside wasm's own stack limit): refused before the thread runs out.
            if crate::stack_room::room().is_some_and(|room| room < CALLBACK_STACK_BYTES) {
                return Err(HostTrap::new(
                    TrapKind::HostCall,
                    "the program's callbacks called each other deeper than the thread's stack allows; return from a callback before calling the next".to_string(),
                )
                .into_error());
            }
            let event = JsValue::plain(&[
                ("id", JsValue::Number(id)),
                ("this", this.clone()),
                ("args", JsValue::array(args)),
            ]);
            let go = state(cx).go.clone();
            go.set("_pendingEvent", event.clone());
            state(cx).depth += 1;
            let resumed = resume(cx);
            state(cx).depth -= 1;
            resumed?;
            let result = event.as_object().map(|e| e.get_own("result"));
            Ok(Ok(result.unwrap_or_default()))
        }
        _ => Ok(Err(value::error("the value is not a function", None))),
    }
}

fn state<'a>(cx: &'a mut Cx<'_>) -> &'a mut GoState {
    state_mut(cx.data_mut())
}

/// The Go-js state of an instance that is a Go-js program.
pub(crate) fn state_mut(s: &mut InstanceState) -> &mut GoState {
    s.guest
        .as_mut()
        .and_then(|g| g.downcast_mut::<GoState>())
        .expect("a Go-js instance")
}

/// The Go-js state, if the instance is a Go-js program.
pub(crate) fn state_ref(s: &InstanceState) -> Option<&GoState> {
    s.guest.as_ref().and_then(|g| g.downcast_ref::<GoState>())
}

/// A look at the functions a Go-js program set on its global object, kept by the instance so
/// that `has_callable` answers without the store (also while `main` runs on its worker).
pub(crate) struct GlobalPeek {
    global: JsRef,
    heap: std::sync::Arc<value::Heap>,
}

impl GlobalPeek {
    /// Whether the program's global object has a function called `name` (what
    /// `ModInstance::call_js` calls).
    pub(crate) fn has_function(&self, name: &str) -> bool {
        // The value is taken out under the global object's lock and looked at after it (it may
        // be the global object itself); the heap is entered as for any value the host drops.
        let _in = value::Heap::enter(&self.heap);
        let f = self.global.get_own(name);
        f.is_go_function()
    }
}

/// The [`GlobalPeek`] of an instance's state; `None` for other guests.
pub(crate) fn global_peek(s: &InstanceState) -> Option<GlobalPeek> {
    state_ref(s).map(|go| GlobalPeek {
        global: go.global.clone(),
        heap: go.heap.clone(),
    })
}

/// The guest state of a new instance of a `kind` module: a [`GoState`] for Go-js programs.
pub(crate) fn new_guest_state(
    kind: GuestKind,
    output: GuestOutput,
) -> Option<Box<dyn std::any::Any + Send>> {
    (kind == GuestKind::GoJs)
        .then(|| Box::new(GoState::new(output)) as Box<dyn std::any::Any + Send>)
}

/// Calls Go's `resume` export.
fn resume(cx: &mut Cx<'_>) -> wasmtime::Result<()> {
    let f = state(cx).exports()?.resume.clone();
    f.call(&mut *cx, ())
}

/// Finds the program's exports after instantiation.
pub(crate) fn attach(
    store: &mut Store<InstanceState>,
    instance: &Instance,
) -> Result<(), WasgoError> {
    let missing = |what: &str| {
        WasgoError::Host(format!(
            "the Go-js export `{what}` has an unexpected type; build the mod with Go 1.21 or newer"
        ))
    };
    let exports = GoExports {
        run: instance
            .get_typed_func(&mut *store, "run")
            .map_err(|_| missing("run"))?,
        resume: instance
            .get_typed_func(&mut *store, "resume")
            .map_err(|_| missing("resume"))?,
        getsp: instance
            .get_typed_func(&mut *store, "getsp")
            .map_err(|_| missing("getsp"))?,
        mem: instance
            .get_memory(&mut *store, "mem")
            .ok_or_else(|| missing("mem"))?,
    };
    state_mut(store.data_mut()).exports = Some(exports);
    Ok(())
}

/// Lays out `argv` (program name first, no environment) where `wasm_exec.js` does: from offset
/// 4096, below Go's data at 12288. Returns (argc, argv).
fn write_argv(cx: &mut Cx<'_>) -> wasmtime::Result<(i32, i32)> {
    let mut args = vec![cx.data().name.clone()];
    args.extend(cx.data().wasi_args.iter().cloned());
    let mut offset: u64 = 4096;
    let mut pointers = Vec::new();
    for a in &args {
        let mut bytes = a.as_bytes().to_vec();
        bytes.push(0);
        if offset + bytes.len() as u64 >= 12288 {
            return Err(HostTrap::new(
                TrapKind::HostCall,
                "the mod's arguments are longer than Go's 8 KiB limit for `GOOS=js` programs",
            )
            .into_error());
        }
        imports::write(cx, offset, &bytes)?;
        pointers.push(offset);
        offset = (offset + bytes.len() as u64).next_multiple_of(8);
    }
    pointers.push(0); // end of argv
    pointers.push(0); // end of the (empty) environment
    let argv = offset;
    let table: Vec<u8> = pointers.iter().flat_map(|p| p.to_le_bytes()).collect();
    if argv + table.len() as u64 >= 12288 {
        return Err(HostTrap::new(
            TrapKind::HostCall,
            "the mod's arguments are longer than Go's 8 KiB limit for `GOOS=js` programs",
        )
        .into_error());
    }
    imports::write(cx, argv, &table)?;
    Ok((args.len() as i32, argv as i32))
}

/// Sleeps until `at`, killably and never past the entry's deadline.
fn sleep_until(cx: &mut Cx<'_>, at: Instant) -> wasmtime::Result<()> {
    let mut wake = at;
    let mut overruns = None;
    if let Some((deadline, kind)) = cx.data().deadline() {
        if deadline < wake {
            wake = deadline;
            overruns = Some(kind);
        }
    }
    let kill = cx.data().kill.clone();
    let pause = wake.saturating_duration_since(Instant::now());
    if kill.is_killed() {
        return Err(wasmtime::Error::new(KilledTrap));
    }
    if !pause.is_zero() {
        if let Err(crossbeam_channel::RecvTimeoutError::Disconnected) =
            kill.wake().recv_timeout(pause)
        {
            return Err(wasmtime::Error::new(KilledTrap));
        }
    }
    if let Some(kind) = overruns {
        return Err(crate::budget::deadline_trap(cx.data(), kind).into_error());
    }
    Ok(())
}

/// Fires timeout `id`: `resume`, again if Go did not clear it (as `wasm_exec.js` does).
fn fire(cx: &mut Cx<'_>, id: i32) -> wasmtime::Result<()> {
    resume(cx)?;
    if state(cx).timeouts.contains_key(&id) {
        resume(cx)?;
        state(cx).clear_timeout(id);
    }
    Ok(())
}

/// `main` of a Go-js program, on the worker thread: `run`, then the timeouts until none is left.
/// Returns when the program waits for events only; exits and panics come back as errors.
pub(crate) fn run_main(store: &mut Store<InstanceState>) -> wasmtime::Result<()> {
    let mut cx = store.as_context_mut();
    let _in = enter_heap(cx.data());
    let (argc, argv) = write_argv(&mut cx)?;
    let run = state(&mut cx).exports()?.run.clone();
    run.call(&mut cx, (argc, argv))?;
    while let Some((id, at)) = state(&mut cx).next_due() {
        sleep_until(&mut cx, at)?;
        fire(&mut cx, id)?;
    }
    Ok(())
}

/// Resumes every timeout already due (on the main thread, inside an entry).
fn run_due(cx: &mut Cx<'_>) -> wasmtime::Result<()> {
    let now = Instant::now();
    while let Some((id, at)) = state(cx).next_due() {
        if at > now {
            break;
        }
        fire(cx, id)?;
    }
    Ok(())
}

/// Calls the function the program set on the global object as `name`; `None` when there is
/// none (or the mod is not a Go-js program). Runs timeouts that fell due meanwhile.
pub(crate) fn call_global(
    store: &mut Store<InstanceState>,
    name: &str,
    args: Vec<WireVariant>,
) -> wasmtime::Result<Option<JsResult>> {
    let mut cx = store.as_context_mut();
    let _in = enter_heap(cx.data());
    let Some(go) = state_ref(cx.data()) else {
        return Ok(None);
    };
    // Only what the program set with `js.FuncOf`: the host's own globals (`Array`, `Date`, ...)
    // are no exports of the mod.
    let f = go.global.get_own(name);
    if !f.is_go_function() {
        return Ok(None);
    }
    let args = args.into_iter().map(godot::from_wire).collect();
    let r = call_function(&mut cx, &f, &JsValue::Undefined, args)?;
    run_due(&mut cx)?;
    Ok(Some(r))
}

/// Calls the function connected as `callback_id` with a signal's arguments; `None` for an
/// unknown id.
pub(crate) fn call_callback(
    store: &mut Store<InstanceState>,
    callback_id: i32,
    args: Vec<WireVariant>,
) -> wasmtime::Result<Option<JsResult>> {
    let mut cx = store.as_context_mut();
    let _in = enter_heap(cx.data());
    let Some(go) = state_ref(cx.data()) else {
        return Ok(None);
    };
    let Some(f) = usize::try_from(callback_id.wrapping_sub(1))
        .ok()
        .and_then(|i| go.callbacks.get(i).cloned())
        .filter(JsValue::is_function)
    else {
        return Ok(None);
    };
    let r = godot::deliver(&mut cx, &f, args)?;
    run_due(&mut cx)?;
    Ok(Some(r))
}

/// Delivers the answer of HTTP request `id` to the callback given to `godot.httpRequest`:
/// `callback(status, body, error)` with the body as a `Uint8Array` (or `null` and the error's
/// message when the request failed). `None` when the request has no callback (not a Go-js mod,
/// or an unknown id).
pub(crate) fn call_http(
    store: &mut Store<InstanceState>,
    id: i32,
    status: i32,
) -> wasmtime::Result<Option<JsResult>> {
    let mut cx = store.as_context_mut();
    let _in = enter_heap(cx.data());
    if state_ref(cx.data()).is_none() {
        return Ok(None);
    }
    let Some(f) = state_mut(cx.data_mut()).http_callbacks.remove(&id) else {
        return Ok(None);
    };
    let args = match crate::http_calls::take_outcome(cx.data(), id) {
        Some(Ok(body)) => vec![
            JsValue::Number(f64::from(status)),
            JsValue::object(value::Class::Bytes(body)),
            JsValue::Null,
        ],
        Some(Err((code, message))) => vec![
            JsValue::Number(f64::from(code)),
            JsValue::Null,
            JsValue::str(&message),
        ],
        None => vec![
            JsValue::Number(f64::from(status)),
            JsValue::Null,
            JsValue::str("the answer was not kept"),
        ],
    };
    let r = call_function(&mut cx, &f, &JsValue::Undefined, args)?;
    run_due(&mut cx)?;
    Ok(Some(r))
}

/// Resumes the program for every timeout already due (nothing for other mods).
pub(crate) fn run_timers(store: &mut Store<InstanceState>) -> wasmtime::Result<()> {
    let mut cx = store.as_context_mut();
    let _in = enter_heap(cx.data());
    if state_ref(cx.data()).is_none() {
        return Ok(());
    }
    run_due(&mut cx)
}

/// Whether the program has a timeout scheduled.
pub(crate) fn has_timers(state: &InstanceState) -> bool {
    state_ref(state).is_some_and(|g| !g.timeouts.is_empty())
}

/// Longest thrown message passed on in an error.
const MAX_THROWN_MESSAGE: usize = 4096;

/// Turns a JavaScript call's outcome into the owner's result: the value converted as the
/// `godot` object converts (within the mod's memory limit), or the thrown error's message.
pub(crate) fn settle(
    state: &InstanceState,
    name: &str,
    outcome: JsResult,
) -> Result<WireVariant, WasgoError> {
    let value = thrown(name, outcome)?;
    godot::ToWire::new(state.limits.memory_bytes)
        .value(&value)
        .map_err(|why| {
            WasgoError::BadArguments(format!(
                "the Go-js function `{name}` returned a value Godot cannot take: {why}"
            ))
        })
}

/// A call's outcome whose value nobody reads (a signal's or an HTTP answer's callback): only
/// what it threw is an error. Its value was converted for Godot all the same, and one that does
/// not convert (an object holding functions) failed the delivery, which dropped the rest of the
/// frame's signals and HTTP answers for the mod.
///
/// # Errors
/// [`WasgoError::BadArguments`] with what the function threw.
pub(crate) fn settle_unread(name: &str, outcome: JsResult) -> Result<(), WasgoError> {
    thrown(name, outcome).map(drop)
}

/// The value of `outcome`, or what the function `name` threw as an error.
fn thrown(name: &str, outcome: JsResult) -> Result<JsValue, WasgoError> {
    outcome.map_err(|e| {
        let message = get_prop(&e, "message")
            .to_js_string_within(MAX_THROWN_MESSAGE)
            .unwrap_or_else(|| format!("(a message longer than {MAX_THROWN_MESSAGE} bytes)"));
        WasgoError::BadArguments(format!("the Go-js function `{name}` threw: {message}"))
    })
}

#[cfg(test)]
mod callback_slot_tests {
    use super::*;

    fn func() -> JsValue {
        JsValue::object(value::Class::GoFunc(1.0))
    }

    #[test]
    fn callbacks_of_requests_that_can_no_longer_answer_are_let_go_of() {
        let mut go = GoState::new(Box::new(|_, _| {}));
        let _in = value::Heap::enter(&go.heap.clone());
        // Requests 0..10,000, of which only the last 8 may still answer.
        for id in 0..10_000 {
            go.add_http_callback(id, func(), |i| i >= 10_000 - 8);
        }
        assert!(
            go.http_callbacks.len() <= MAX_HTTP_CALLBACKS,
            "{}",
            go.http_callbacks.len()
        );
        for id in 10_000 - 8..10_000 {
            assert!(
                go.http_callbacks.contains_key(&id),
                "a live request's callback went: {id}"
            );
        }
        // Requests that all may answer are never let go of.
        let mut all = GoState::new(Box::new(|_, _| {}));
        for id in 0..200 {
            all.add_http_callback(id, func(), |_| true);
        }
        assert_eq!(all.http_callbacks.len(), 200);
    }

    #[test]
    fn a_failed_connect_gives_its_slot_back() {
        let mut go = GoState::new(Box::new(|_, _| {}));
        let _in = value::Heap::enter(&go.heap.clone());
        let first = go.add_callback(func()).unwrap();
        let second = go.add_callback(func()).unwrap();
        assert_eq!((first, second), (1, 2));
        // The last slot is removed, so the next connect takes it again.
        go.drop_callback(second);
        assert_eq!(go.callbacks.len(), 1);
        assert_eq!(go.add_callback(func()), Some(2));
        // One with later slots after it is cleared: ids stay stable, the slot is never called.
        go.drop_callback(first);
        assert_eq!(go.callbacks.len(), 2);
        assert!(!go.callbacks[0].is_function());
        // Ids that are no slot's change nothing.
        go.drop_callback(0);
        go.drop_callback(-5);
        go.drop_callback(99);
        assert_eq!(go.callbacks.len(), 2);
        // The cleared slot is the next connect's.
        assert_eq!(go.add_callback(func()), Some(1));
    }

    /// Slots of connections that ended are given back once the table is large: a program
    /// connecting to each object it spawns reached the end of the table after 100,000 connects.
    #[test]
    fn the_slots_of_ended_connections_are_given_back() {
        let mut go = GoState::new(Box::new(|_, _| {}));
        let _in = value::Heap::enter(&go.heap.clone());
        for _ in 0..COMPACT_CALLBACKS_AT - 1 {
            go.add_callback(func()).unwrap();
        }
        assert!(!go.wants_compaction());
        go.add_callback(func()).unwrap();
        assert!(go.wants_compaction());
        // Never from inside a callback.
        go.depth = 1;
        assert!(!go.wants_compaction());
        go.depth = 0;
        // Ids 5 and 7 still hold, 7 twice (a connection and a waiting delivery); ids no slot has
        // change nothing.
        go.keep_callbacks(&[5, 7, 7, 0, -1, 99_999]);
        assert!(!go.wants_compaction());
        assert!(go.callbacks[4].is_function() && go.callbacks[6].is_function());
        assert!(!go.callbacks[0].is_function());
        // The lowest free ids come first; the held ones are never handed out.
        let next: Vec<i32> = (0..6).map(|_| go.add_callback(func()).unwrap()).collect();
        assert_eq!(next, [1, 2, 3, 4, 6, 8]);
        assert_eq!(go.callbacks.len(), COMPACT_CALLBACKS_AT);
        // Every free slot taken: the table asks again before it grows.
        while !go.wants_compaction() {
            go.add_callback(func()).unwrap();
        }
        assert_eq!(go.callbacks.len(), COMPACT_CALLBACKS_AT);
    }
}
