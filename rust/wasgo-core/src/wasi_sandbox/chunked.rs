//! WASI reads and writes in interruptible chunks, at every level.
//!
//! wasmtime-wasi performs one `fd_read`/`fd_write` (and the `p` variants) as one blocking
//! system call on the first non-empty buffer, however large: a 64 MiB write held the mod's
//! worker for 50–100 ms, and `kill()` with it. WasGo's versions move the same buffer through a
//! host scratch buffer [`CHUNK_BYTES`] at a time, each chunk through wasmtime-wasi's own
//! function, and between chunks check the instance's kill switch and the entry's deadline: a
//! killed write ends with the kill trap within one chunk's time (well under a millisecond).
//!
//! The semantics stay those of wasmtime-wasi: only the first non-empty iovec is used (a short
//! count tells the mod to call again), the position advances by what was written, an error
//! after some bytes were moved reports the bytes instead. What differs: the whole iovec array
//! and the buffer must lie in the mod's memory (`EFAULT` otherwise), whatever the iovec count,
//! and at level 2 the quota is checked for the whole buffer before the first byte moves.

use super::checks::{delegate, hold_for_growth, query};
use super::C;
use crate::budget::deadline_trap;
use crate::error::KilledTrap;
use crate::guest;
use crate::wasi::errno::FAULT as ERRNO_FAULT;
use std::time::Instant;
use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;
use wasmtime_wasi::runtime::in_tokio;

/// The most bytes one system call moves; the kill switch is checked between chunks.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Scratch layout: the one iovec at 0, the count at 8, the data from 16.
const HEADER: usize = 16;
/// Empty iovecs skipped between two kill checks.
const IOVECS_PER_CHECK: u32 = 1 << 16;

/// Ends the call with the kill trap or the deadline trap when either is due.
pub(super) fn interrupt_point(c: &C<'_>) -> wasmtime::Result<()> {
    let state = c.data();
    if state.kill.is_killed() {
        return Err(wasmtime::Error::new(KilledTrap));
    }
    if let Some((deadline, kind)) = state.deadline() {
        if Instant::now() >= deadline {
            return Err(deadline_trap(state, kind).into_error());
        }
    }
    Ok(())
}

/// The first non-empty buffer `(ptr, len)` of the `iovs_len` iovecs at `iovs` (`(0, 0)` when
/// all are empty), or `Err(EFAULT)` when the array or the buffer lies outside the mod's memory.
pub(super) fn first_buffer(
    c: &mut C<'_>,
    function: &str,
    iovs: i32,
    iovs_len: i32,
) -> wasmtime::Result<Result<(usize, usize), i32>> {
    let memory = guest::memory(c, function)?;
    let size = memory.data_size(&*c);
    let start = iovs as u32 as usize;
    let count = iovs_len as u32;
    let fits = (count as usize)
        .checked_mul(8)
        .and_then(|n| n.checked_add(start))
        .is_some_and(|end| end <= size);
    if !fits {
        return Ok(Err(ERRNO_FAULT));
    }
    for i in 0..count {
        if i > 0 && i.is_multiple_of(IOVECS_PER_CHECK) {
            interrupt_point(c)?;
        }
        let at = start + i as usize * 8;
        let raw = &memory.data(&*c)[at..at + 8];
        let ptr = u32::from_le_bytes(raw[0..4].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(raw[4..8].try_into().expect("4 bytes")) as usize;
        if len == 0 {
            continue;
        }
        return Ok(match ptr.checked_add(len) {
            Some(end) if end <= size => Ok((ptr, len)),
            _ => Err(ERRNO_FAULT),
        });
    }
    Ok(Ok((0, 0)))
}

/// Whether 4 bytes at `ptr` lie in the mod's memory (where a count is written back).
fn count_fits(c: &mut C<'_>, function: &str, ptr: i32) -> wasmtime::Result<bool> {
    let memory = guest::memory(c, function)?;
    Ok((ptr as u32 as usize).saturating_add(4) <= memory.data_size(&*c))
}

fn put_count(c: &mut C<'_>, function: &str, ptr: i32, n: u64) -> wasmtime::Result<()> {
    let memory = guest::memory(c, function)?;
    guest::write_bytes(&memory, &mut *c, function, ptr, &(n as u32).to_le_bytes())
}

fn scratch_iovec(scratch: &mut [u8], len: usize) {
    scratch[0..4].copy_from_slice(&(HEADER as u32).to_le_bytes());
    scratch[4..8].copy_from_slice(&(len as u32).to_le_bytes());
}

fn count_in(scratch: &[u8]) -> usize {
    u32::from_le_bytes(scratch[8..12].try_into().expect("4 bytes")) as usize
}

/// `fd_write` (`at: None`) or `fd_pwrite` (`at: Some(offset)`) in chunks.
pub(super) fn write(
    c: &mut C<'_>,
    function: &str,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    at: Option<i64>,
    written_ptr: i32,
) -> wasmtime::Result<i32> {
    let (ptr, len) = match first_buffer(c, function, iovs, iovs_len)? {
        Ok(buffer) => buffer,
        Err(errno) => return Ok(errno),
    };
    if !count_fits(c, function, written_ptr)? {
        return Ok(ERRNO_FAULT);
    }
    // Where the bytes from `done` on start in a file of `size` bytes at `position`.
    let from = move |size: u64, position: u64, append: bool, done: usize| match at {
        _ if append => size,
        Some(offset) => (offset as u64).saturating_add(done as u64),
        None => position,
    };
    // The whole write is checked first (so a write over the quota writes nothing); then each
    // chunk reads the file's size, is checked and is written under the sandbox's lock (at
    // level 2), so a truncation by another instance between chunks is seen.
    let whole = hold_for_growth(c, function, fd, |size, position, append| {
        from(size, position, append, 0).saturating_add(len as u64)
    })?;
    let mut held = match whole {
        Ok(held) => held,
        Err(errno) => return Ok(errno),
    };
    if len == 0 {
        return delegate(c, function, |ctx, mem| match at {
            None => in_tokio(p1::fd_write(ctx, mem, fd, iovs, iovs_len, written_ptr)),
            Some(offset) => in_tokio(p1::fd_pwrite(
                ctx,
                mem,
                fd,
                iovs,
                iovs_len,
                offset,
                written_ptr,
            )),
        });
    }
    let memory = guest::memory(c, function)?;
    let mut scratch = vec![0u8; HEADER + len.min(CHUNK_BYTES)];
    let mut done = 0usize;
    while done < len {
        let n = (len - done).min(CHUNK_BYTES);
        if done > 0 {
            drop(held.take());
            interrupt_point(c)?;
            held = match hold_for_growth(c, function, fd, |size, position, append| {
                from(size, position, append, done).saturating_add(n as u64)
            })? {
                Ok(held) => held,
                // What was written stays written; the count says how much.
                Err(_) => break,
            };
        } else {
            interrupt_point(c)?;
        }
        scratch_iovec(&mut scratch, n);
        scratch[HEADER..HEADER + n].copy_from_slice(&memory.data(&*c)[ptr + done..ptr + done + n]);
        let offset = at.map(|o| o.saturating_add(done as i64));
        let errno = query(c, &mut scratch[..HEADER + n], |ctx, mem| match offset {
            None => in_tokio(p1::fd_write(ctx, mem, fd, 0, 1, 8)),
            Some(offset) => in_tokio(p1::fd_pwrite(ctx, mem, fd, 0, 1, offset, 8)),
        })?;
        if errno != 0 {
            if done == 0 {
                return Ok(errno);
            }
            break;
        }
        let moved = count_in(&scratch).min(n);
        done += moved;
        if moved < n {
            break;
        }
    }
    put_count(c, function, written_ptr, done as u64)?;
    Ok(0)
}

/// `fd_read` (`at: None`) or `fd_pread` (`at: Some(offset)`) in chunks.
pub(super) fn read(
    c: &mut C<'_>,
    function: &str,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    at: Option<i64>,
    read_ptr: i32,
) -> wasmtime::Result<i32> {
    let (ptr, len) = match first_buffer(c, function, iovs, iovs_len)? {
        Ok(buffer) => buffer,
        Err(errno) => return Ok(errno),
    };
    if !count_fits(c, function, read_ptr)? {
        return Ok(ERRNO_FAULT);
    }
    if len == 0 {
        return delegate(c, function, |ctx, mem| match at {
            None => in_tokio(p1::fd_read(ctx, mem, fd, iovs, iovs_len, read_ptr)),
            Some(offset) => in_tokio(p1::fd_pread(ctx, mem, fd, iovs, iovs_len, offset, read_ptr)),
        });
    }
    let memory = guest::memory(c, function)?;
    let mut scratch = vec![0u8; HEADER + len.min(CHUNK_BYTES)];
    let mut done = 0usize;
    while done < len {
        interrupt_point(c)?;
        let n = (len - done).min(CHUNK_BYTES);
        scratch_iovec(&mut scratch, n);
        let offset = at.map(|o| o.saturating_add(done as i64));
        let errno = query(c, &mut scratch[..HEADER + n], |ctx, mem| match offset {
            None => in_tokio(p1::fd_read(ctx, mem, fd, 0, 1, 8)),
            Some(offset) => in_tokio(p1::fd_pread(ctx, mem, fd, 0, 1, offset, 8)),
        })?;
        if errno != 0 {
            if done == 0 {
                return Ok(errno);
            }
            break;
        }
        let moved = count_in(&scratch).min(n);
        memory.data_mut(&mut *c)[ptr + done..ptr + done + moved]
            .copy_from_slice(&scratch[HEADER..HEADER + moved]);
        done += moved;
        if moved < n {
            break;
        }
    }
    put_count(c, function, read_ptr, done as u64)?;
    Ok(0)
}

/// WASI `random_get(buf, len) -> errno`: the mod's buffer filled from the system's secure
/// random source [`CHUNK_BYTES`] at a time, straight into its memory, with the kill switch and
/// `main`'s timeout checked between chunks. wasmtime-wasi's made the whole buffer (up to
/// 64 MiB) on the host one byte per generator call before it checked the range, outside the
/// memory limit and past every kill: a function of back-to-back `random_get` calls (no loop, so
/// no epoch check) ran for minutes after `kill()`.
pub(super) fn random_get(c: &mut C<'_>, buf: i32, len: i32) -> wasmtime::Result<i32> {
    const F: &str = "wasi_snapshot_preview1.random_get";
    let memory = guest::memory(c, F)?;
    let start = buf as u32 as usize;
    let len = len as u32 as usize;
    if start
        .checked_add(len)
        .is_none_or(|end| end > memory.data_size(&*c))
    {
        return Ok(ERRNO_FAULT);
    }
    Ok(if crate::wasi::fill_random(&mut *c, &memory, start, len)? {
        crate::wasi::errno::SUCCESS
    } else {
        crate::wasi::errno::IO
    })
}
