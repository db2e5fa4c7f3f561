//! The host-function side of the object functions: reads names and values from the mod's memory,
//! hands an [`ObjectOp`] to the game's [`ObjectHost`](crate::objects::ObjectHost) on the main
//! thread, and turns the reply into the mod's return value, a recorded error or a trap.
//!
//! # Queued calls from `main`
//!
//! From `main`'s worker thread, the calls whose result a mod does not need — `set`, `set_float`,
//! `set_vec2`, `set_vec3` and `release` — are queued ([`queue`]): they return 0 at once and run
//! on the main thread in order with every other call of the instance, so a `get` after a `set`
//! always reads the value set. A queued call that fails is kept (the first; later failures are
//! counted) and surfaces at the next object call that returns a value (`get_node`, `get`, `call`,
//! `get_float`, `connect`, ...): that call is not run; it returns the queued call's error code,
//! and `wasgo.last_error` names the queued call, so the mod can handle it and make the call
//! again. A queued call that traps (a member the allowlist denies, a malformed name) traps the
//! mod at that point too. `wasgo.last_error` first waits for the queued calls to have run, so it
//! always reports their failure. When `main` returns, its queued calls are waited for and a
//! failure nobody saw is written to the mod's output as a warning (a trap still traps `main`).

use crate::error::{HostTrap, KilledTrap, TrapKind};
use crate::events::{ModEvent, OutputSource};
use crate::guest;
use crate::level::SafetyLevel;
use crate::objects::{ObjectError, ObjectOp, ObjectReply, MAX_NAME_BYTES};
use crate::state::InstanceState;
use crate::variant::WireVariant;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::Caller;

/// Runs `op` for the calling instance and turns failures into codes or traps.
pub(crate) fn run(
    caller: &mut Caller<'_, InstanceState>,
    op: ObjectOp,
) -> wasmtime::Result<Result<ObjectReply, i32>> {
    let state = caller.data_mut();
    state.object_calls += 1;
    let (key, level) = (state.key, state.level);
    let host = state.hosts.objects.clone();
    let queued = state.queued.clone();
    let outcome = on_main_thread(state, move || {
        // Queued calls posted before this one have run (the bridge keeps the order).
        match queued.take_failure() {
            Some(failure) => Err(surfaced(failure)),
            None => run_sized(&*host, key, level, op),
        }
    })?;
    match outcome {
        Ok(reply) => Ok(Ok(reply)),
        Err(e) => Ok(Err(settle(caller, Err(e))?)),
    }
}

/// `wasgo.get_node`: the answer kept from an earlier identical call while the game's lookup
/// stamp says it still holds (see `found_nodes.rs`), else the game's answer (kept when the game
/// says it lasts). Kept answers are used only when every call `main` queued has run (a queued
/// `set` may rename a node or run a setter that changes the tree), and a queued call's failure
/// still surfaces here as at any call that returns a value.
pub(crate) fn get_node(
    caller: &mut Caller<'_, InstanceState>,
    from: i32,
    path_ptr: i32,
    path_len: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasgo.get_node";
    let state = caller.data();
    // The queue first, then the stamp: a queued job that changes the stamp (a release) bumps
    // it before the queue counts it done, so a stamp read after an empty queue includes it
    // (read the other way round, a release running in between left a stale answer in use).
    let queue_empty = state.queued.waiting() == 0;
    let stamp = state.hosts.objects.lookup_stamp();
    if queue_empty && state.found_nodes.holds_under(stamp) {
        let memory = guest::memory(caller, F)?;
        let path = guest::bytes_in(&memory, &*caller, F, path_ptr, path_len)?;
        if let Some(handle) = caller.data().found_nodes.get(from, path, stamp) {
            let state = caller.data_mut();
            state.object_calls += 1;
            return match state.queued.take_failure() {
                Some(failure) => settle(caller, Err(surfaced(failure))),
                None => Ok(handle),
            };
        }
    }
    let path = guest::read_str(caller, F, path_ptr, path_len)?;
    let state = caller.data_mut();
    state.object_calls += 1;
    let (key, level) = (state.key, state.level);
    let host = state.hosts.objects.clone();
    let queued = state.queued.clone();
    let (outcome, path) = on_main_thread(state, move || {
        let outcome = match queued.take_failure() {
            Some(failure) => Err(surfaced(failure)),
            None => {
                let refused = crate::objects::name_refusal(F, "path", &path, level);
                match refused {
                    Some(error) => Err(error),
                    None => host.get_node(key, level, from, &path),
                }
            }
        };
        (outcome, path)
    })?;
    match outcome {
        Ok(found) => {
            caller.data_mut().found_nodes.keep(
                from,
                path.as_bytes(),
                found.handle,
                found.holds_under,
            );
            Ok(found.handle)
        }
        Err(e) => settle(caller, Err(e)),
    }
}

/// Runs `work` (a call into the game for the instance) on the main thread as every guest kind's
/// calls run: in the instance's order on the bridge, a long call counted against `main`'s share
/// of the main thread, and `main` made to wait once past it (the Go-js and waPC hosts' calls
/// too: a waPC `main` calling with a 1 MB node path took 38 ms of every frame unthrottled).
///
/// # Errors
/// The instance was killed while it waited.
pub(crate) fn on_main_thread<R: Send + 'static>(
    state: &mut InstanceState,
    work: impl FnOnce() -> R + Send + 'static,
) -> wasmtime::Result<R> {
    let (hosts, kill) = (state.hosts.clone(), state.kill.clone());
    let main_time = state.main_time.clone();
    let outcome = hosts
        .bridge
        .run(&kill, move || {
            let start = Instant::now();
            let outcome = work();
            count_long(&main_time, start);
            outcome
        })
        .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    keep_share(state)?;
    crate::budget::after_host_call(state)?;
    Ok(outcome)
}

/// Runs `op` on the game's object host unless a name or path in it is past the size limit
/// ([`ObjectOp::oversized`]) or, below level 3, a name or text in it holds a character WasGo
/// does not pass Godot ([`ObjectOp::hidden_text`]): -3 before Godot sees it. Main thread
/// (inside [`on_main_thread`]).
pub(crate) fn run_sized(
    host: &dyn crate::objects::ObjectHost,
    key: crate::InstanceKey,
    level: SafetyLevel,
    op: ObjectOp,
) -> Result<ObjectReply, ObjectError> {
    let refused = op
        .oversized()
        .or_else(|| (level != SafetyLevel::Unsafe).then(|| op.hidden_text())?);
    match refused {
        Some(error) => Err(error),
        None => host.run(key, level, op),
    }
}

/// Adds the main-thread time of a call that started at `start` to `main_time` when it was a
/// long one ([`LONG_CALL`](crate::main_share::LONG_CALL)); whether it was.
fn count_long(main_time: &AtomicU64, start: Instant) -> bool {
    let took = start.elapsed();
    if took < crate::main_share::LONG_CALL {
        return false;
    }
    let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
    main_time.fetch_add(nanos, Ordering::Relaxed);
    true
}

/// From `main`'s worker: charges the main-thread time the instance's long calls took since the
/// last charge to its [`MainShare`](crate::main_share::MainShare) and, past its share, waits
/// (killably) until it is back within it. Nothing on the main thread (the callback budget counts
/// that time).
fn keep_share(state: &mut InstanceState) -> wasmtime::Result<()> {
    if state.on_main_thread {
        return Ok(());
    }
    let used = Duration::from_nanos(state.main_time.swap(0, Ordering::Relaxed));
    if used.is_zero() {
        // Nothing long ran: the allowance only grows, which the next charge counts from its
        // last one anyway (no clock read on a cheap call's path).
        return Ok(());
    }
    let now = Instant::now();
    let wait = state
        .main_share
        .charge(used, now)
        .max(crate::main_share::charge_all(used, now));
    if wait.is_zero() {
        return Ok(());
    }
    let kill = state.kill.clone();
    // `main`'s own timeout comes first: a wait for the share (seconds after a long call) ran
    // `main` past it, on to more calls into the game.
    let deadline = state.main_deadline;
    let wait = match deadline {
        Some(deadline) => wait.min(deadline.saturating_duration_since(now)),
        None => wait,
    };
    // Ends at the deadline, or at once when the instance is killed.
    let _ = crate::ticker::idle_while(|| kill.wake().recv_timeout(wait));
    if kill.is_killed() {
        return Err(wasmtime::Error::new(KilledTrap));
    }
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(
            crate::budget::deadline_trap(state, crate::state::DeadlineKind::Main).into_error(),
        );
    }
    Ok(())
}

/// Queues `op` (a call whose result the mod does not use) from `main`'s worker: it runs on the
/// main thread after everything the instance asked for before; a failure surfaces later (see the
/// module's documentation). `cost`: the bytes of the mod's data `op` holds (for the queue's
/// bound).
pub(crate) fn queue(
    caller: &mut Caller<'_, InstanceState>,
    op: ObjectOp,
    cost: usize,
) -> wasmtime::Result<()> {
    caller.data_mut().object_calls += 1;
    let state = caller.data();
    let hosts = state.hosts.clone();
    let (key, level, kill) = (state.key, state.level, state.kill.clone());
    let host = hosts.objects.clone();
    let main_time = state.main_time.clone();
    let slow_queue = state.slow_queue.clone();
    let slow = slow_queue.load(Ordering::Relaxed);
    hosts
        .bridge
        .post(&kill, &state.queued, cost, move || {
            let start = Instant::now();
            let outcome = run_sized(&*host, key, level, op).map(|_| ());
            if count_long(&main_time, start) {
                slow_queue.store(true, Ordering::Relaxed);
            }
            outcome
        })
        .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    if slow {
        hosts
            .bridge
            .flush(&kill)
            .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    }
    keep_share(caller.data_mut())
}

/// `wasgo.last_error` from `main`: waits for the queued calls, then records a failure among
/// them as the last error (a trap traps now).
pub(crate) fn settle_queued(caller: &mut Caller<'_, InstanceState>) -> wasmtime::Result<()> {
    let state = caller.data();
    if state.on_main_thread {
        return Ok(());
    }
    if state.queued.waiting() > 0 {
        let (hosts, kill) = (state.hosts.clone(), state.kill.clone());
        hosts
            .bridge
            .flush(&kill)
            .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    }
    if let Some(failure) = caller.data().queued.take_failure() {
        settle(caller, Err(surfaced(failure)))?;
    }
    Ok(())
}

/// When `main` returned: waits for its queued calls; a failure among them is written to the mod's
/// output as a warning (nobody is left to read `last_error`), a trap or a denied member traps.
pub(crate) fn settle_after_main(state: &mut InstanceState) -> wasmtime::Result<()> {
    if state.queued.waiting() > 0 {
        state
            .hosts
            .bridge
            .flush(&state.kill)
            .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    }
    let Some((error, more)) = state.queued.take_failure() else {
        return Ok(());
    };
    match error {
        ObjectError::Failed { message, .. } => {
            state.emit(ModEvent::Output {
                source: OutputSource::Log(2),
                text: format!(
                    "WasGo: a call queued by `main` failed after its last call that returns a value: {message}{}",
                    more_failed(more)
                ),
            });
            Ok(())
        }
        ObjectError::Trap(message) => Err(HostTrap::new(TrapKind::HostCall, message).into_error()),
        ObjectError::Denied { member } => {
            state.emit(ModEvent::UnexposedCall {
                function: member.clone(),
                level: state.level,
            });
            Err(denied_trap(&member, state.level))
        }
    }
}

/// The error a value-returning call reports for a queued call that failed before it.
fn surfaced((error, more): (ObjectError, usize)) -> ObjectError {
    let more = more_failed(more);
    match error {
        ObjectError::Failed { code, message } => ObjectError::Failed {
            code,
            message: format!(
                "a call queued earlier by `main` failed: {message}{more}; this call was not run, make it again"
            ),
        },
        other => other,
    }
}

fn more_failed(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (1 more queued call failed after it)".to_string(),
        n => format!(" ({n} more queued calls failed after it)"),
    }
}

/// Decodes a value a mod passed, or records -3 for `last_error`.
pub(crate) fn decode(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Result<WireVariant, i32>> {
    // Decoded in place: the value is copied out once, into the `WireVariant`.
    let memory = guest::memory(caller, function)?;
    let decoded = WireVariant::decode(guest::bytes_in(&memory, &*caller, function, ptr, len)?);
    Ok(decoded.map_err(|e| {
        caller.data_mut().fail(
            wasgo_catalog::ErrorCode::InvalidArgument.code(),
            format!("`{function}` was given a value it cannot decode: {e}"),
        )
    }))
}

/// Writes a reply value to the caller's buffer (full length returned).
pub(crate) fn reply_value(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    out_ptr: i32,
    out_cap: i32,
    reply: ObjectReply,
) -> wasmtime::Result<i32> {
    match reply {
        ObjectReply::Int(i) => Ok(i),
        ObjectReply::Value(v) => guest::write_out(caller, function, out_ptr, out_cap, &v.encode()),
    }
}

/// Sets a property for the calling instance. On the main thread the name is read in place
/// and the host is called directly (no allocation, no queue); from `main` it is queued
/// ([`queue`]; `value_bytes` is the size of the encoded value, for the queue's bound).
#[inline(always)]
pub(crate) fn set_property(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    handle: i32,
    np: i32,
    nl: i32,
    value: WireVariant,
    value_bytes: usize,
) -> wasmtime::Result<i32> {
    if nl > 0 && nl as usize > MAX_NAME_BYTES {
        drop_value(value);
        let error = ObjectError::name_too_long(function, "property name", nl as usize);
        return settle(caller, Err(error));
    }
    // The variant first: the typed fast paths pass numbers and vectors, and this folds away.
    if value.as_str().is_some() && caller.data().level != SafetyLevel::Unsafe {
        let refused =
            crate::objects::hidden_value_refusal(&value, || format!("`{function}`'s value"));
        if let Some(error) = refused {
            drop_value(value);
            return settle(caller, Err(error));
        }
    }
    if let Some(memory) = main_thread_memory(caller, function)? {
        let outcome = {
            let state = caller.data();
            let host = &state.hosts.objects;
            let name = guest::bytes_in(&memory, &*caller, function, np, nl)?;
            host.set_property(state.key, state.level, handle, name, &value)
        };
        drop_value(value);
        // A setter may run game code (a signal to its handler): the entry's time limits.
        crate::budget::after_direct_call(caller.data_mut())?;
        return match outcome {
            Ok(()) => Ok(0),
            Err(err) => settle(caller, Err(named(function, *err))),
        };
    }
    let name = guest::read_str(caller, function, np, nl)?;
    let cost = name.len() + value_bytes.max(held_bytes(&value));
    queue(
        caller,
        ObjectOp::Set {
            handle,
            name,
            value,
        },
        cost,
    )?;
    Ok(0)
}

/// The host memory a queued value holds: a `WireVariant` per value plus its texts (the queue's
/// byte bound counts this, not the encoding alone: an Array of 262,000 Nils is 1 MiB encoded
/// and 18 MiB decoded). Packed arrays hold about what they encode.
fn held_bytes(v: &WireVariant) -> usize {
    const VALUE: usize = std::mem::size_of::<WireVariant>();
    match v {
        WireVariant::Array(items) => VALUE + items.iter().map(held_bytes).sum::<usize>(),
        WireVariant::Dictionary(pairs) => {
            VALUE
                + pairs
                    .iter()
                    .map(|(k, v)| held_bytes(k) + held_bytes(v))
                    .sum::<usize>()
        }
        WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s) => {
            VALUE + s.len()
        }
        WireVariant::PackedStringArray(texts) => {
            VALUE
                + texts
                    .iter()
                    .map(|t| std::mem::size_of::<String>() + t.len())
                    .sum::<usize>()
        }
        _ => VALUE,
    }
}

/// Drops a value a setter was given, calling its drop glue only when it can hold memory: the
/// typed fast paths pass numbers, and after inlining the check folds away, where the glue was an
/// out-of-line call on every `set_vec2` (BENCHMARKS.md, "Seventh pass").
#[inline(always)]
fn drop_value(value: WireVariant) {
    if matches!(
        value,
        WireVariant::Nil
            | WireVariant::Bool(_)
            | WireVariant::Int(_)
            | WireVariant::Float(_)
            | WireVariant::Vector2(_)
            | WireVariant::Vector3(_)
            | WireVariant::Color(_)
            | WireVariant::Object(_)
    ) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// A trap the host raised for a name read in place (not UTF-8), naming the host function as a
/// trap for bad text from `main` does (`guest::read_str`).
#[cold]
fn named(function: &str, error: ObjectError) -> ObjectError {
    match error {
        ObjectError::Trap(message) => {
            ObjectError::Trap(format!("`{function}` was given {message}"))
        }
        other => other,
    }
}

/// Reads a property for the calling instance (see [`set_property`]).
#[inline]
pub(crate) fn get_property(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    handle: i32,
    np: i32,
    nl: i32,
) -> wasmtime::Result<Result<WireVariant, i32>> {
    if nl > 0 && nl as usize > MAX_NAME_BYTES {
        let error = ObjectError::name_too_long(function, "property name", nl as usize);
        return Ok(Err(settle(caller, Err(error))?));
    }
    if let Some(memory) = main_thread_memory(caller, function)? {
        let outcome = {
            let state = caller.data();
            let host = &state.hosts.objects;
            let name = guest::bytes_in(&memory, &*caller, function, np, nl)?;
            host.get_property(state.key, state.level, handle, name)
        };
        crate::budget::after_direct_call(caller.data_mut())?;
        return Ok(match outcome {
            Ok(v) => Ok(v),
            Err(e) => Err(settle(caller, Err(named(function, e)))?),
        });
    }
    let name = guest::read_str(caller, function, np, nl)?;
    Ok(match run(caller, ObjectOp::Get { handle, name })? {
        Ok(ObjectReply::Value(v)) => Ok(v),
        Ok(ObjectReply::Int(i)) => Ok(WireVariant::Int(i as i64)),
        Err(code) => Err(code),
    })
}

/// The mod's memory when the direct path applies: on the main thread.
fn main_thread_memory(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
) -> wasmtime::Result<Option<wasmtime::Memory>> {
    let state = caller.data();
    if !state.on_main_thread {
        return Ok(None);
    }
    guest::memory(caller, function).map(Some)
}

/// Turns a host outcome into the mod's return value, a recorded error, or a trap.
fn settle(
    caller: &mut Caller<'_, InstanceState>,
    outcome: Result<ObjectReply, ObjectError>,
) -> wasmtime::Result<i32> {
    let level = caller.data().level;
    match outcome {
        Ok(ObjectReply::Int(i)) => Ok(i),
        Ok(ObjectReply::Value(_)) => Ok(0),
        Err(ObjectError::Failed { code, message }) => {
            Ok(caller.data_mut().fail(code.min(-1), message))
        }
        Err(ObjectError::Trap(message)) => {
            Err(HostTrap::new(TrapKind::HostCall, message).into_error())
        }
        Err(ObjectError::Denied { member }) => {
            caller.data().emit(ModEvent::UnexposedCall {
                function: member.clone(),
                level,
            });
            Err(denied_trap(&member, level))
        }
    }
}

fn denied_trap(member: &str, level: SafetyLevel) -> wasmtime::Error {
    HostTrap::new(
        TrapKind::Unexposed { function: member.to_string(), level },
        format!("call to `{member}`, which is not exposed at safety level {level} (it is not in the WasGo allowlist; the game can extend `addons/wasgo/allowlist.cfg`)"),
    )
    .into_error()
}

#[cfg(test)]
mod held_tests {
    use super::*;

    #[test]
    fn a_queued_value_counts_what_it_holds_decoded() {
        let value = WireVariant::Array(vec![WireVariant::Nil; 1000]);
        // 1000 Nils encode in about 4 KB and hold 1000 values.
        assert!(held_bytes(&value) >= 1000 * std::mem::size_of::<WireVariant>());
        assert!(held_bytes(&value) > value.encode().len() * 10);
    }
}
