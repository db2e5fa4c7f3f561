//! The checks the level-2 WASI wrappers run before they hand a call to wasmtime-wasi: the
//! sandbox's quota, entry cap, name rules and the `files` grant. Each refusal returns an errno
//! and sets the mod's `wasgo.last_error` message.
//!
//! Every check fails closed: a file whose size or position cannot be learned, or a sandbox that
//! cannot be counted, refuses the call instead of letting it through unchecked.

use super::C;
use crate::guest;
use crate::level::SafetyLevel;
use crate::sandbox::{check_name, Held, Sandbox, SandboxError, MAX_PATH_BYTES};
use crate::wasi::errno::{
    ACCES as ERRNO_ACCES, BADF as ERRNO_BADF, DQUOT as ERRNO_DQUOT, INVAL as ERRNO_INVAL,
    NAMETOOLONG as ERRNO_NAMETOOLONG,
};
use wasmtime::AsContextMut;
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self as p1, WasiSnapshotPreview1};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::runtime::in_tokio;
use wiggle::GuestMemory;

const FILETYPE_REGULAR_FILE: u8 = 4;
const FDFLAGS_APPEND: u16 = 1;
/// Where results land in the scratch memory of [`query`] calls (8-byte aligned).
const OUT: i32 = 8;

/// Runs one of wasmtime-wasi's WASI functions on the mod's memory, the way its own linker
/// glue does.
pub(super) fn delegate(
    c: &mut C<'_>,
    function: &str,
    call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let memory = guest::memory(c, function)?;
    let fuel = c.as_context_mut().hostcall_fuel();
    let (bytes, state) = memory.data_and_store_mut(&mut *c);
    let ctx = state.wasi_ctx();
    ctx.set_hostcall_fuel(fuel);
    call(ctx, &mut GuestMemory::Unshared(bytes))
}

/// Runs a WASI call against a scratch memory of the host's own (so nothing the mod owns is
/// touched); returns the errno.
pub(super) fn query(
    c: &mut C<'_>,
    scratch: &mut [u8],
    call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let ctx = c.data_mut().wasi_ctx();
    ctx.set_hostcall_fuel(scratch.len().saturating_mul(2).max(1 << 20));
    call(ctx, &mut GuestMemory::Unshared(scratch))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// What a descriptor a write goes to is, from its `fd_fdstat_get` (read without the lock: its
/// type and flags are the instance's own and do not change under it).
enum Kind {
    /// Not a regular file (stdout, a directory, a closed descriptor): the quota does not apply,
    /// wasmtime-wasi answers, and no lock is waited for (a mod printing at level 2 waited for
    /// another instance's write).
    NotAFile,
    /// A regular file, written at its end when `append`.
    File { append: bool },
}

/// What `fd` is; `Err(errno)` when that cannot be learned (fail closed).
fn kind(c: &mut C<'_>, fd: i32) -> wasmtime::Result<Result<Kind, i32>> {
    let mut scratch = [0u8; 40];
    let errno = query(c, &mut scratch, |ctx, mem| {
        in_tokio(p1::fd_fdstat_get(ctx, mem, fd, OUT))
    })?;
    // fdstat: filetype u8, flags u16 (at 2), rights
    let at = OUT as usize;
    Ok(match errno {
        ERRNO_BADF => Ok(Kind::NotAFile),
        0 if scratch[at] != FILETYPE_REGULAR_FILE => Ok(Kind::NotAFile),
        0 => Ok(Kind::File {
            append: u16::from_le_bytes([scratch[at + 2], scratch[at + 3]]) & FDFLAGS_APPEND != 0,
        }),
        errno => Err(errno),
    })
}

/// The regular file `fd` (opened for appending when `append`), read under the sandbox's lock:
/// its size, the position a write goes to (its end when `append`), and whether it is still
/// linked (false once deleted or replaced while open); `Err(errno)` when they cannot be learned
/// (fail closed).
fn size_and_position(
    c: &mut C<'_>,
    fd: i32,
    append: bool,
) -> wasmtime::Result<Result<(u64, u64, bool), i32>> {
    let mut scratch = [0u8; 80];
    let errno = query(c, &mut scratch, |ctx, mem| {
        in_tokio(p1::fd_filestat_get(ctx, mem, fd, OUT))
    })?;
    if errno != 0 {
        return Ok(Err(errno));
    }
    // filestat: dev u64, ino u64, filetype u8 (at 16), nlink u64, size u64 (at 32), times
    let at = OUT as usize;
    let size = u64_at(&scratch, at + 32);
    let linked = u64_at(&scratch, at + 24) > 0;
    if append {
        return Ok(Ok((size, size, linked)));
    }
    let errno = query(c, &mut scratch, |ctx, mem| p1::fd_tell(ctx, mem, fd, OUT))?;
    if errno != 0 {
        return Ok(Err(errno));
    }
    Ok(Ok((size, u64_at(&scratch, at), linked)))
}

/// A sandbox refusal as an errno, with `last_error` set.
pub(super) fn refuse(c: &mut C<'_>, function: &str, e: &SandboxError) -> i32 {
    let errno = if e.is_space() {
        ERRNO_DQUOT
    } else {
        ERRNO_INVAL
    };
    c.data_mut().fail(errno, format!("`{function}`: {e}"))
}

/// At level 2, checks a write-like call on `fd` that would make the file at least
/// `end_of(size, position, append)` bytes long against the sandbox's quota (the growth counts
/// holes too), holding the sandbox's lock from reading the file's size on: `Ok(held)` lets the
/// call through (keep the lock until it has made its change, so no other instance's
/// measurement or truncation falls between the size read here and the write); `Err(errno)`
/// refuses it. Other levels have no quota, and a descriptor that is not a regular file needs
/// no lock (`Ok(None)`).
///
/// A file deleted or replaced while open may not grow: the sandbox's count no longer sees it.
pub(super) fn hold_for_growth(
    c: &mut C<'_>,
    function: &str,
    fd: i32,
    end_of: impl FnOnce(u64, u64, bool) -> u64,
) -> wasmtime::Result<Result<Option<Held>, i32>> {
    if c.data().level != SafetyLevel::Wrapped {
        return Ok(Ok(None));
    }
    if c.data().sandbox.is_none() {
        return Ok(Ok(None));
    }
    let unknown = |c: &mut C<'_>, errno: i32| {
        let message = format!("`{function}`: the size of file descriptor {fd} could not be learned (errno {errno}), so the write is refused");
        c.data_mut().fail(errno, message)
    };
    let append = match kind(c, fd)? {
        Ok(Kind::NotAFile) => return Ok(Ok(None)),
        Ok(Kind::File { append }) => append,
        Err(errno) => return Ok(Err(unknown(c, errno))),
    };
    let Some(mut held) = c.data().sandbox.as_ref().map(Sandbox::hold) else {
        return Ok(Ok(None));
    };
    let (size, position, linked) = match size_and_position(c, fd, append)? {
        Ok(found) => found,
        Err(errno) => {
            drop(held);
            return Ok(Err(unknown(c, errno)));
        }
    };
    let growth = end_of(size, position, append).saturating_sub(size);
    if growth == 0 {
        return Ok(Ok(Some(held)));
    }
    if !linked {
        let message = format!("`{function}`: file descriptor {fd} is a file that was deleted or replaced while open; it no longer counts in the mod's sandbox, so it may not grow (open the file again by its name)");
        return Ok(Err(c.data_mut().fail(ERRNO_DQUOT, message)));
    }
    match held.admit(growth) {
        Ok(()) => Ok(Ok(Some(held))),
        Err(e) => {
            drop(held);
            Ok(Err(refuse(c, function, &e)))
        }
    }
}

/// At level 2, the sandbox's lock, for a call that must not fall inside another instance's
/// `wasgo.file_write` (`path_open`: a file opened between that write's look at the open files
/// and its rename stayed open uncounted).
pub(super) fn hold_sandbox(c: &C<'_>) -> Option<Held> {
    if c.data().level != SafetyLevel::Wrapped {
        return None;
    }
    c.data().sandbox.as_ref().map(Sandbox::hold)
}

/// The mod's path bytes at `ptr..ptr+len`, `None` when out of its memory (wasmtime-wasi then
/// answers `EFAULT`).
fn path_bytes(
    c: &mut C<'_>,
    function: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Option<Vec<u8>>> {
    let memory = guest::memory(c, function)?;
    Ok(memory
        .data(&*c)
        .get(ptr as u32 as usize..)
        .and_then(|d| d.get(..len as u32 as usize))
        .map(|b| b.to_vec()))
}

/// A path a WASI call would create something at, checked against the file functions' name
/// rules (`.` and `..` are left to wasmtime-wasi, which keeps them inside the sandbox).
pub(super) fn refuse_name(
    c: &mut C<'_>,
    function: &str,
    path_ptr: i32,
    path_len: i32,
) -> wasmtime::Result<Option<i32>> {
    let Some(bytes) = path_bytes(c, function, path_ptr, path_len)? else {
        return Ok(None);
    };
    let Ok(path) = String::from_utf8(bytes) else {
        return Ok(None);
    };
    if path.len() > MAX_PATH_BYTES {
        let message = format!("`{function}`: a path may be at most {MAX_PATH_BYTES} bytes");
        return Ok(Some(c.data_mut().fail(ERRNO_NAMETOOLONG, message)));
    }
    let rule = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .find_map(|s| check_name(s).err());
    Ok(rule.map(|rule| {
        let errno = if rule.is_length() {
            ERRNO_NAMETOOLONG
        } else {
            ERRNO_INVAL
        };
        let e = SandboxError::Path { path, rule };
        c.data_mut().fail(errno, format!("`{function}`: {e}"))
    }))
}

/// `Err(EDQUOT)` when one more entry would break the sandbox's entry limit (or the sandbox
/// cannot be counted) and `path` does not exist yet (relative to directory `fd`). Looked at under
/// the sandbox's lock, `held` (see [`hold_sandbox`]), which the caller keeps until it has made
/// the entry: looked at before it, a file another instance renamed away in between was made
/// again uncounted.
pub(super) fn refuse_new_entry(
    c: &mut C<'_>,
    held: &mut Option<Held>,
    function: &str,
    fd: i32,
    path_ptr: i32,
    path_len: i32,
) -> wasmtime::Result<Result<(), i32>> {
    let Some(held) = held.as_mut() else {
        return Ok(Ok(()));
    };
    let Some(path) = path_bytes(c, function, path_ptr, path_len)? else {
        return Ok(Ok(()));
    };
    // Scratch: the path at 128, the filestat result at 8.
    let mut scratch = vec![0u8; 128 + path.len()];
    scratch[128..].copy_from_slice(&path);
    let exists = query(c, &mut scratch, |ctx, mem| {
        in_tokio(p1::path_filestat_get(
            ctx,
            mem,
            fd,
            0,
            128,
            path.len() as i32,
            OUT,
        ))
    })? == 0;
    if exists {
        return Ok(Ok(()));
    }
    Ok(held.admit_entries(1).map_err(|e| refuse(c, function, &e)))
}

/// `EACCES` (with `last_error` set) until the mod has the `files` permission.
pub(super) fn refuse_without_grant(c: &mut C<'_>, function: &str) -> Option<i32> {
    if c.data()
        .permissions
        .has(crate::permissions::Permission::Files)
    {
        return None;
    }
    let message = format!(
        "`{function}`: `{}` has not been granted the `files` permission, which WASI's `/sandbox` needs too; call `wasgo.request_permission(\"files\")`",
        c.data().name
    );
    Some(c.data_mut().fail(ERRNO_ACCES, message))
}
