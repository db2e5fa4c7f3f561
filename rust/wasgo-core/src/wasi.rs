//! WASI preview 1 for mods, through `wasmtime-wasi`, with WasGo's own output streams and a
//! killable `poll_oneoff`.
//!
//! - stdout and stderr become `output` lines (never the game's own stdout directly);
//! - `args` are the node's `args` with the mod's name first;
//! - the file system grows with the level: none at 1, the mod's sandbox at 2, `res://` and
//!   `user://` (and the environment) at 3;
//! - `poll_oneoff` (what `sleep` compiles to) sleeps in a way `kill()` interrupts at once and
//!   never sleeps a main-thread callback past its budget.
//!
//! The context the first three come from is `wasi_ctx`'s (made at a level-1 mod's first WASI
//! call); this module has the functions WasGo answers itself.

use crate::budget::deadline_trap;
use crate::error::KilledTrap;
use crate::guest;
use crate::state::InstanceState;
use std::time::{Duration, Instant, SystemTime};
use wasmtime::Caller;

pub use crate::wasi_ctx::WasiDirs;

/// WASI `args_sizes_get(argc_ptr, argv_buf_size_ptr) -> errno`: the number of arguments (the
/// mod's name first, then the node's `args`) and the bytes they take with a NUL after each.
///
/// Answered from the instance's own name and arguments, which are what its WASI context holds
/// (`wasi_ctx::builder`), so that reading `main`'s arguments does not make a level-1 instance's
/// context (see `wasi_ctx::WasiSlot`; a mod that reads them in `init` paid about a tenth of its
/// start for the context). As in wasmtime-wasi, a result pointer outside the mod's memory or
/// not 4-byte aligned traps.
pub(crate) fn args_sizes_get(
    mut caller: Caller<'_, InstanceState>,
    argc_ptr: i32,
    size_ptr: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasi_snapshot_preview1.args_sizes_get";
    let (count, size) = argv(caller.data()).fold((0u64, 0u64), |(n, size), a| {
        (n + 1, size + a.len() as u64 + 1)
    });
    let (Ok(count), Ok(size)) = (u32::try_from(count), u32::try_from(size)) else {
        return Ok(errno::OVERFLOW);
    };
    write_u32s(&mut caller, F, &[(argc_ptr, count), (size_ptr, size)])?;
    Ok(ERRNO_SUCCESS)
}

/// WASI `args_get(argv_ptr, argv_buf_ptr) -> errno`: each argument's bytes with a NUL after
/// it, one after the other at `argv_buf_ptr`, and a pointer to each at `argv_ptr` (see
/// [`args_sizes_get`]). Both ranges are checked before anything is written.
pub(crate) fn args_get(
    mut caller: Caller<'_, InstanceState>,
    argv_ptr: i32,
    buf_ptr: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasi_snapshot_preview1.args_get";
    let mut buf = Vec::new();
    let mut pointers = Vec::new();
    for arg in argv(caller.data()) {
        let at = (buf_ptr as u32).wrapping_add(buf.len() as u32);
        pointers.extend_from_slice(&at.to_le_bytes());
        buf.extend_from_slice(arg.as_bytes());
        buf.push(0);
    }
    aligned(F, argv_ptr)?;
    let memory = guest::memory(&mut caller, F)?;
    let size = memory.data_size(&caller);
    for (ptr, len) in [(argv_ptr, pointers.len()), (buf_ptr, buf.len())] {
        if (ptr as u32 as usize).saturating_add(len) > size {
            return Err(guest::out_of_range(F, ptr, len as i32, size));
        }
    }
    guest::write_bytes(&memory, &mut caller, F, buf_ptr, &buf)?;
    guest::write_bytes(&memory, &mut caller, F, argv_ptr, &pointers)?;
    Ok(ERRNO_SUCCESS)
}

/// WASI `environ_sizes_get(count_ptr, buf_size_ptr) -> errno` at levels 1 and 2, whose
/// environment is empty (level 3's is the game's, from its context): 0 and 0, without making
/// the context (see [`args_sizes_get`]).
pub(crate) fn environ_sizes_get(
    mut caller: Caller<'_, InstanceState>,
    count_ptr: i32,
    size_ptr: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasi_snapshot_preview1.environ_sizes_get";
    write_u32s(&mut caller, F, &[(count_ptr, 0), (size_ptr, 0)])?;
    Ok(ERRNO_SUCCESS)
}

/// WASI `environ_get(environ_ptr, buf_ptr) -> errno` at levels 1 and 2: there is nothing to
/// write (see [`environ_sizes_get`]).
pub(crate) fn environ_get(
    _caller: Caller<'_, InstanceState>,
    _environ_ptr: i32,
    _buf_ptr: i32,
) -> wasmtime::Result<i32> {
    Ok(ERRNO_SUCCESS)
}

/// The instance's WASI arguments: its name, then its `args`.
fn argv(state: &InstanceState) -> impl Iterator<Item = &str> {
    std::iter::once(state.name.as_str()).chain(state.wasi_args.iter().map(String::as_str))
}

/// Traps unless `ptr` is 4-byte aligned (WASI: a misaligned pointer traps).
fn aligned(function: &str, ptr: i32) -> wasmtime::Result<()> {
    if ptr % 4 == 0 {
        return Ok(());
    }
    Err(crate::error::HostTrap::new(
        crate::error::TrapKind::HostCall,
        format!(
            "`{function}` was given the pointer {}, which is not 4-byte aligned",
            ptr as u32
        ),
    )
    .into_error())
}

/// Writes little-endian `u32`s at their pointers, after checking every pointer (aligned, inside
/// the mod's memory).
fn write_u32s(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    values: &[(i32, u32)],
) -> wasmtime::Result<()> {
    let memory = guest::memory(caller, function)?;
    let size = memory.data_size(&*caller);
    for &(ptr, _) in values {
        aligned(function, ptr)?;
        if (ptr as u32 as usize).saturating_add(4) > size {
            return Err(guest::out_of_range(function, ptr, 4, size));
        }
    }
    for &(ptr, value) in values {
        guest::write_bytes(&memory, &mut *caller, function, ptr, &value.to_le_bytes())?;
    }
    Ok(())
}

const SUBSCRIPTION_SIZE: usize = 48;
const EVENT_SIZE: usize = 32;
/// The WASI preview 1 errno values WasGo's own WASI functions return.
pub(crate) mod errno {
    pub const SUCCESS: i32 = 0;
    pub const ACCES: i32 = 2;
    pub const BADF: i32 = 8;
    pub const DQUOT: i32 = 19;
    pub const FAULT: i32 = 21;
    pub const IO: i32 = 29;
    pub const INVAL: i32 = 28;
    pub const NAMETOOLONG: i32 = 37;
    pub const NOTSUP: i32 = 58;
    pub const OVERFLOW: i32 = 61;
    pub const PERM: i32 = 63;
}
use errno::{INVAL as ERRNO_INVAL, NOTSUP as ERRNO_NOTSUP, SUCCESS as ERRNO_SUCCESS};
/// More subscriptions than this in one call is refused with `EINVAL`.
const MAX_SUBSCRIPTIONS: i32 = 4096;

/// WASI `poll_oneoff(in, out, nsubscriptions, nevents_ptr) -> errno`, replacing wasmtime-wasi's
/// so that a sleeping mod can be killed at once.
///
/// File-descriptor subscriptions are reported ready at once (WASI treats files as always ready,
/// and a mod has no sockets or pipes other than stdio); when there are none, the call sleeps until
/// the earliest clock subscription, waking early if the instance is killed. A main-thread entry
/// never sleeps past its callback budget: it traps at the deadline instead.
pub(crate) fn poll_oneoff(
    mut caller: Caller<'_, InstanceState>,
    in_ptr: i32,
    out_ptr: i32,
    nsubscriptions: i32,
    nevents_ptr: i32,
) -> wasmtime::Result<i32> {
    const NAME: &str = "wasi_snapshot_preview1.poll_oneoff";
    if nsubscriptions <= 0 || nsubscriptions > MAX_SUBSCRIPTIONS {
        return Ok(ERRNO_INVAL);
    }
    let n = nsubscriptions as usize;
    let subs = guest::read_bytes(&mut caller, NAME, in_ptr, (n * SUBSCRIPTION_SIZE) as i32)?;
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes(b[at..at + 2].try_into().unwrap());

    let now = Instant::now();
    let created = caller.data().created;
    let mut fd_events = Vec::new();
    let mut clocks = Vec::new(); // (userdata, wake-up instant)
    for sub in subs.chunks_exact(SUBSCRIPTION_SIZE) {
        let userdata = u64_at(sub, 0);
        match sub[8] {
            0 => {
                let clock_id = u32_at(sub, 16);
                let timeout = Duration::from_nanos(u64_at(sub, 24));
                let absolute = u16_at(sub, 40) & 1 == 1;
                let wake = if !absolute {
                    now + timeout
                } else {
                    match clock_id {
                        // realtime: nanoseconds since the Unix epoch
                        0 => {
                            let since_epoch = SystemTime::now()
                                .duration_since(SystemTime::UNIX_EPOCH)
                                .unwrap_or_default();
                            now + timeout.saturating_sub(since_epoch)
                        }
                        // monotonic: wasmtime-wasi counts from the context's creation
                        1 => created + timeout,
                        _ => return Ok(ERRNO_NOTSUP),
                    }
                };
                clocks.push((userdata, wake));
            }
            kind @ (1 | 2) => fd_events.push((userdata, kind)),
            _ => return Ok(ERRNO_INVAL),
        }
    }

    let mut events: Vec<u8> = Vec::new();
    let mut push_event = |userdata: u64, kind: u8, nbytes: u64| {
        let mut e = [0u8; EVENT_SIZE];
        e[0..8].copy_from_slice(&userdata.to_le_bytes());
        e[8..10].copy_from_slice(&0u16.to_le_bytes());
        e[10] = kind;
        e[16..24].copy_from_slice(&nbytes.to_le_bytes());
        events.extend_from_slice(&e);
    };
    if !fd_events.is_empty() {
        for (userdata, kind) in fd_events {
            push_event(userdata, kind, if kind == 2 { 1 << 16 } else { 0 });
        }
    } else {
        let earliest = clocks
            .iter()
            .map(|(_, w)| *w)
            .min()
            .expect("at least one subscription");
        let mut wake = earliest;
        let mut overruns = None;
        if let Some((deadline, kind)) = caller.data().deadline() {
            if deadline < wake {
                wake = deadline;
                overruns = Some(kind);
            }
        }
        let kill = caller.data().kill.clone();
        let pause = wake.saturating_duration_since(Instant::now());
        if !pause.is_zero() {
            // Disconnected means the kill switch was thrown; a timeout means we slept enough.
            // No wasm runs while it sleeps: a `main` steps out of the epoch ticker meanwhile.
            if let Err(crossbeam_channel::RecvTimeoutError::Disconnected) =
                crate::ticker::idle_while(|| kill.wake().recv_timeout(pause))
            {
                return Err(wasmtime::Error::new(KilledTrap));
            }
        }
        if let Some(kind) = overruns {
            return Err(deadline_trap(caller.data(), kind).into_error());
        }
        let now = Instant::now();
        for (userdata, at) in clocks {
            if at <= now {
                push_event(userdata, 0, 0);
            }
        }
    }
    let memory = guest::memory(&mut caller, NAME)?;
    guest::write_bytes(&memory, &mut caller, NAME, out_ptr, &events)?;
    let count = (events.len() / EVENT_SIZE) as u32;
    guest::write_bytes(
        &memory,
        &mut caller,
        NAME,
        nevents_ptr,
        &count.to_le_bytes(),
    )?;
    Ok(ERRNO_SUCCESS)
}

/// How many random bytes [`fill_random`] makes between two checks of the kill switch.
pub(crate) const RANDOM_CHUNK_BYTES: usize = 256 * 1024;

/// Fills `len` bytes of `memory` at `start` (a range the caller checked) from the system's
/// secure random source, [`RANDOM_CHUNK_BYTES`] at a time, straight into the mod's memory, with
/// the kill switch and `main`'s timeout checked between chunks: a mod asking for its whole
/// memory at once, call after call, is stopped by `kill()`, and nothing is made on the host.
/// `Ok(false)` when the system gave no random bytes. Serves WASI's `random_get` and Go's
/// `getRandomData` and `crypto.getRandomValues`.
pub(crate) fn fill_random(
    mut store: impl wasmtime::AsContextMut<Data = InstanceState>,
    memory: &wasmtime::Memory,
    start: usize,
    len: usize,
) -> wasmtime::Result<bool> {
    let mut done = 0;
    while done < len {
        // A callback's budget is judged when the call returns, as for any one host call (its
        // first overrun is let finish).
        let state = store.as_context().data();
        if state.kill.is_killed() {
            return Err(wasmtime::Error::new(KilledTrap));
        }
        if let Some((deadline, kind @ crate::state::DeadlineKind::Main)) = state.deadline() {
            if std::time::Instant::now() >= deadline {
                return Err(deadline_trap(state, kind).into_error());
            }
        }
        let n = (len - done).min(RANDOM_CHUNK_BYTES);
        let at = start + done;
        let bytes = &mut memory.data_mut(&mut store)[at..at + n];
        if getrandom::fill(bytes).is_err() {
            return Ok(false);
        }
        done += n;
    }
    Ok(true)
}
