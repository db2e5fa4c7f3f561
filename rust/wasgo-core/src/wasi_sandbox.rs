//! WASI at level 2: the mod's sandbox (`/sandbox`) under the rules of the level-2 file functions.
//!
//! wasmtime-wasi already confines a preopened directory (through `cap-std`): no path may leave
//! it, by `..`, an absolute path or a symlink. What it does not know about is WasGo's permission,
//! quota and name rules, so at level 2 a few WASI functions are wrapped; each wrapper checks,
//! then calls wasmtime-wasi's own implementation:
//!
//! - every call that names a path (`path_*`) and `fd_readdir` fail with `EACCES` until the game
//!   grants the mod `files`, like the file functions' -6 (a file the mod opened while it had the
//!   grant stays usable after a revoke, as on any OS);
//! - `fd_write`, `fd_pwrite`, `fd_allocate`, `fd_filestat_set_size` on a regular file: the bytes
//!   the call would add to the file (past its current size, holes included) are checked against
//!   the sandbox's quota (`wasgo/limits/storage_mb`); over it, the call fails with `EDQUOT`
//!   and writes nothing. Overwriting bytes inside a file adds nothing and is never refused.
//! - `path_open` with `O_CREAT` and `path_create_directory`: a name breaking the file functions'
//!   rules (over 128 bytes, `\`, `:`, control characters, `* ? " < > |`; whole path over 512
//!   bytes) fails with `EINVAL` (`ENAMETOOLONG` for length); creating an entry past
//!   [`MAX_ENTRIES`](crate::sandbox::MAX_ENTRIES) fails with `EDQUOT`. `path_rename` checks its
//!   new name the same way.
//! - `path_symlink` and `path_link` fail with `EPERM`: the sandbox holds no links, so nothing
//!   the game later reads there can point elsewhere.
//!
//! Unlike `wasgo.file_write`, WASI writes are not atomic: a mod killed in the middle of its own
//! write loop leaves what it had written so far (as it would on any OS).
//!
//! Every refusal also sets the mod's `wasgo.last_error` message.

use crate::catalog::WASI_P1_MODULE;
use crate::guest;
use crate::hostfns::guarded;
use crate::sandbox::{check_name, MAX_PATH_BYTES};
use crate::state::InstanceState;
use wasmtime::{AsContextMut, Caller, Linker};
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self as p1, WasiSnapshotPreview1};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::runtime::in_tokio;
use wiggle::GuestMemory;

use crate::wasi::errno::{
    ACCES as ERRNO_ACCES, DQUOT as ERRNO_DQUOT, INVAL as ERRNO_INVAL,
    NAMETOOLONG as ERRNO_NAMETOOLONG, PERM as ERRNO_PERM,
};
const FILETYPE_REGULAR_FILE: u8 = 4;
const OFLAGS_CREAT: i32 = 1;
const FDFLAGS_APPEND: u16 = 1;
/// More iovecs than this are left to wasmtime-wasi to judge (it refuses them).
const MAX_IOVECS: i32 = 1024;
/// Where results land in the scratch memory of [`query`] calls (8-byte aligned).
const OUT: i32 = 8;

type C<'a> = Caller<'a, InstanceState>;

/// Runs one of wasmtime-wasi's WASI functions on the mod's memory, the way its own linker
/// glue does.
fn delegate(
    c: &mut C<'_>,
    function: &str,
    call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let memory = guest::memory(c, function)?;
    let fuel = c.as_context_mut().hostcall_fuel();
    let (bytes, state) = memory.data_and_store_mut(&mut *c);
    state.wasi.set_hostcall_fuel(fuel);
    call(&mut state.wasi, &mut GuestMemory::Unshared(bytes))
}

/// Runs a WASI query against a scratch memory of the host's own (so nothing the mod owns is
/// touched); returns the errno and the scratch bytes.
fn query(
    c: &mut C<'_>,
    scratch: &mut [u8],
    call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let ctx = &mut c.data_mut().wasi;
    ctx.set_hostcall_fuel(1 << 20);
    call(ctx, &mut GuestMemory::Unshared(scratch))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// `(size, position, append)` of `fd` when it is an open regular file.
fn file_state(c: &mut C<'_>, fd: i32) -> wasmtime::Result<Option<(u64, u64, bool)>> {
    let mut scratch = [0u8; 80];
    if query(c, &mut scratch, |ctx, mem| {
        in_tokio(p1::fd_filestat_get(ctx, mem, fd, OUT))
    })? != 0
    {
        return Ok(None);
    }
    // filestat: dev u64, ino u64, filetype u8 (at 16), nlink u64, size u64 (at 32), times
    let at = OUT as usize;
    if scratch[at + 16] != FILETYPE_REGULAR_FILE {
        return Ok(None);
    }
    let size = u64_at(&scratch, at + 32);
    // fdstat: filetype u8, flags u16 (at 2), rights
    if query(c, &mut scratch, |ctx, mem| {
        in_tokio(p1::fd_fdstat_get(ctx, mem, fd, OUT))
    })? != 0
    {
        return Ok(None);
    }
    let append = u16::from_le_bytes([scratch[at + 2], scratch[at + 3]]) & FDFLAGS_APPEND != 0;
    if append {
        return Ok(Some((size, size, true)));
    }
    if query(c, &mut scratch, |ctx, mem| p1::fd_tell(ctx, mem, fd, OUT))? != 0 {
        return Ok(None);
    }
    Ok(Some((size, u64_at(&scratch, at), append)))
}

/// `EDQUOT` (with `last_error` set) when growing the sandbox by `growth` bytes breaks its quota.
fn refuse_growth(c: &mut C<'_>, growth: u64) -> Option<i32> {
    if growth == 0 {
        return None;
    }
    let outcome = c.data().sandbox.as_ref()?.check_growth(growth);
    outcome
        .err()
        .map(|e| c.data_mut().fail(ERRNO_DQUOT, e.message().to_string()))
}

/// Checks a write-like call on `fd` that would make the file at least `end_of(size, pos,
/// append)` bytes long.
fn check_file_growth(
    c: &mut C<'_>,
    fd: i32,
    end_of: impl FnOnce(u64, u64, bool) -> u64,
) -> wasmtime::Result<Option<i32>> {
    let Some((size, pos, append)) = file_state(c, fd)? else {
        return Ok(None);
    };
    let growth = end_of(size, pos, append).saturating_sub(size);
    Ok(refuse_growth(c, growth))
}

/// The total length of `iovs_len` iovecs at `iovs`, or `None` when wasmtime-wasi should judge
/// them (out of range, too many).
fn iovec_total(
    c: &mut C<'_>,
    function: &str,
    iovs: i32,
    iovs_len: i32,
) -> wasmtime::Result<Option<u64>> {
    if !(0..=MAX_IOVECS).contains(&iovs_len) {
        return Ok(None);
    }
    let memory = guest::memory(c, function)?;
    let data = memory.data(&*c);
    let start = iovs as u32 as usize;
    let Some(raw) = data.get(start..start + iovs_len as usize * 8) else {
        return Ok(None);
    };
    Ok(Some(
        raw.chunks_exact(8)
            .map(|iov| u32::from_le_bytes(iov[4..8].try_into().unwrap()) as u64)
            .sum(),
    ))
}

/// A path a WASI call would create something at, checked against the file functions' name
/// rules (`.` and `..` are left to wasmtime-wasi, which keeps them inside the sandbox).
fn refuse_name(
    c: &mut C<'_>,
    function: &str,
    path_ptr: i32,
    path_len: i32,
) -> wasmtime::Result<Option<i32>> {
    let memory = guest::memory(c, function)?;
    let Some(bytes) = memory
        .data(&*c)
        .get(path_ptr as u32 as usize..)
        .and_then(|d| d.get(..path_len as u32 as usize))
        .map(|b| b.to_vec())
    else {
        return Ok(None);
    };
    let Ok(path) = String::from_utf8(bytes) else {
        return Ok(None);
    };
    if path.len() > MAX_PATH_BYTES {
        let message = format!("`{function}`: a path may be at most {MAX_PATH_BYTES} bytes");
        return Ok(Some(c.data_mut().fail(ERRNO_NAMETOOLONG, message)));
    }
    let why = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .find_map(|s| check_name(s).err());
    Ok(why.map(|why| {
        let message = format!(
            "`{function}`: path `{}` is refused: {why}",
            path.escape_debug()
        );
        c.data_mut().fail(
            if why.contains("longer") {
                ERRNO_NAMETOOLONG
            } else {
                ERRNO_INVAL
            },
            message,
        )
    }))
}

/// `EDQUOT` when one more entry would break the sandbox's entry limit and `path` does not exist
/// yet (relative to directory `fd`).
fn refuse_new_entry(
    c: &mut C<'_>,
    function: &str,
    fd: i32,
    path_ptr: i32,
    path_len: i32,
) -> wasmtime::Result<Option<i32>> {
    let memory = guest::memory(c, function)?;
    let Some(path) = memory
        .data(&*c)
        .get(path_ptr as u32 as usize..)
        .and_then(|d| d.get(..path_len as u32 as usize))
        .map(|p| p.to_vec())
    else {
        return Ok(None);
    };
    // Scratch: the path at 64, the filestat result at 8.
    let mut scratch = vec![0u8; 64 + path.len()];
    scratch[64..].copy_from_slice(&path);
    let exists = query(c, &mut scratch, |ctx, mem| {
        in_tokio(p1::path_filestat_get(
            ctx,
            mem,
            fd,
            0,
            64,
            path.len() as i32,
            OUT,
        ))
    })? == 0;
    if exists {
        return Ok(None);
    }
    let outcome = match c.data().sandbox.as_ref() {
        Some(sandbox) => sandbox.check_new_entries(1),
        None => return Ok(None),
    };
    Ok(outcome
        .err()
        .map(|e| c.data_mut().fail(ERRNO_DQUOT, e.message().to_string())))
}

/// `EACCES` (with `last_error` set) until the mod has the `files` permission.
fn refuse_without_grant(c: &mut C<'_>, function: &str) -> Option<i32> {
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

fn refuse_link(c: &mut C<'_>, function: &str) -> i32 {
    c.data_mut().fail(
        ERRNO_PERM,
        format!("`{function}`: links are not allowed in the mod's sandbox at safety level 2"),
    )
}

/// Shadows wasmtime-wasi's file-system writers with the checked ones (level 2 only).
pub(crate) fn add_to_linker(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    const M: &str = WASI_P1_MODULE;
    linker.func_wrap(
        M,
        "fd_write",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_write";
            guarded(F, || {
                if let Some(len) = iovec_total(&mut c, F, iovs, iovs_len)? {
                    if let Some(errno) = check_file_growth(&mut c, fd, |size, pos, append| {
                        if append { size } else { pos }.saturating_add(len)
                    })? {
                        return Ok(errno);
                    }
                }
                delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::fd_write(ctx, mem, fd, iovs, iovs_len, nwritten))
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_pwrite",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_pwrite";
            guarded(F, || {
                if let Some(len) = iovec_total(&mut c, F, iovs, iovs_len)? {
                    if let Some(errno) = check_file_growth(&mut c, fd, |_, _, _| {
                        (offset as u64).saturating_add(len)
                    })? {
                        return Ok(errno);
                    }
                }
                delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::fd_pwrite(
                        ctx, mem, fd, iovs, iovs_len, offset, nwritten,
                    ))
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_allocate",
        |mut c: C<'_>, fd: i32, offset: i64, len: i64| {
            const F: &str = "wasi_snapshot_preview1.fd_allocate";
            guarded(F, || {
                if let Some(errno) = check_file_growth(&mut c, fd, |_, _, _| {
                    (offset as u64).saturating_add(len as u64)
                })? {
                    return Ok(errno);
                }
                delegate(&mut c, F, |ctx, mem| {
                    p1::fd_allocate(ctx, mem, fd, offset, len)
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_filestat_set_size",
        |mut c: C<'_>, fd: i32, size: i64| {
            const F: &str = "wasi_snapshot_preview1.fd_filestat_set_size";
            guarded(F, || {
                if let Some(errno) = check_file_growth(&mut c, fd, |_, _, _| size as u64)? {
                    return Ok(errno);
                }
                delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::fd_filestat_set_size(ctx, mem, fd, size))
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_open",
        |mut c: C<'_>,
         fd: i32,
         dirflags: i32,
         path: i32,
         path_len: i32,
         oflags: i32,
         rights_base: i64,
         rights_inheriting: i64,
         fdflags: i32,
         opened: i32| {
            const F: &str = "wasi_snapshot_preview1.path_open";
            guarded(F, || {
                if let Some(errno) = refuse_without_grant(&mut c, F) {
                    return Ok(errno);
                }
                if oflags & OFLAGS_CREAT != 0 {
                    if let Some(errno) = refuse_name(&mut c, F, path, path_len)? {
                        return Ok(errno);
                    }
                    if let Some(errno) = refuse_new_entry(&mut c, F, fd, path, path_len)? {
                        return Ok(errno);
                    }
                }
                delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_open(
                        ctx,
                        mem,
                        fd,
                        dirflags,
                        path,
                        path_len,
                        oflags,
                        rights_base,
                        rights_inheriting,
                        fdflags,
                        opened,
                    ))
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_create_directory",
        |mut c: C<'_>, fd: i32, path: i32, path_len: i32| {
            const F: &str = "wasi_snapshot_preview1.path_create_directory";
            guarded(F, || {
                if let Some(errno) = refuse_without_grant(&mut c, F) {
                    return Ok(errno);
                }
                if let Some(errno) = refuse_name(&mut c, F, path, path_len)? {
                    return Ok(errno);
                }
                if let Some(errno) = refuse_new_entry(&mut c, F, fd, path, path_len)? {
                    return Ok(errno);
                }
                delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_create_directory(ctx, mem, fd, path, path_len))
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_rename",
        |mut c: C<'_>, fd: i32, old: i32, old_len: i32, new_fd: i32, new: i32, new_len: i32| {
            const F: &str = "wasi_snapshot_preview1.path_rename";
            guarded(F, || {
                if let Some(errno) = refuse_without_grant(&mut c, F) {
                    return Ok(errno);
                }
                if let Some(errno) = refuse_name(&mut c, F, new, new_len)? {
                    return Ok(errno);
                }
                delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_rename(
                        ctx, mem, fd, old, old_len, new_fd, new, new_len,
                    ))
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_readdir",
        |mut c: C<'_>, fd: i32, buf: i32, buf_len: i32, cookie: i64, used: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_readdir";
            guarded(F, || match refuse_without_grant(&mut c, F) {
                Some(errno) => Ok(errno),
                None => delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::fd_readdir(ctx, mem, fd, buf, buf_len, cookie, used))
                }),
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_filestat_get",
        |mut c: C<'_>, fd: i32, flags: i32, path: i32, path_len: i32, out: i32| {
            const F: &str = "wasi_snapshot_preview1.path_filestat_get";
            guarded(F, || match refuse_without_grant(&mut c, F) {
                Some(errno) => Ok(errno),
                None => delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_filestat_get(
                        ctx, mem, fd, flags, path, path_len, out,
                    ))
                }),
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_filestat_set_times",
        |mut c: C<'_>,
         fd: i32,
         flags: i32,
         path: i32,
         path_len: i32,
         atim: i64,
         mtim: i64,
         fst_flags: i32| {
            const F: &str = "wasi_snapshot_preview1.path_filestat_set_times";
            guarded(F, || match refuse_without_grant(&mut c, F) {
                Some(errno) => Ok(errno),
                None => delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_filestat_set_times(
                        ctx, mem, fd, flags, path, path_len, atim, mtim, fst_flags,
                    ))
                }),
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_readlink",
        |mut c: C<'_>, fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, used: i32| {
            const F: &str = "wasi_snapshot_preview1.path_readlink";
            guarded(F, || match refuse_without_grant(&mut c, F) {
                Some(errno) => Ok(errno),
                None => delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_readlink(
                        ctx, mem, fd, path, path_len, buf, buf_len, used,
                    ))
                }),
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_remove_directory",
        |mut c: C<'_>, fd: i32, path: i32, path_len: i32| {
            const F: &str = "wasi_snapshot_preview1.path_remove_directory";
            guarded(F, || match refuse_without_grant(&mut c, F) {
                Some(errno) => Ok(errno),
                None => delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_remove_directory(ctx, mem, fd, path, path_len))
                }),
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_unlink_file",
        |mut c: C<'_>, fd: i32, path: i32, path_len: i32| {
            const F: &str = "wasi_snapshot_preview1.path_unlink_file";
            guarded(F, || match refuse_without_grant(&mut c, F) {
                Some(errno) => Ok(errno),
                None => delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_unlink_file(ctx, mem, fd, path, path_len))
                }),
            })
        },
    )?;
    linker.func_wrap(
        M,
        "path_symlink",
        |mut c: C<'_>, _old: i32, _old_len: i32, _fd: i32, _new: i32, _new_len: i32| {
            Ok(refuse_link(&mut c, "wasi_snapshot_preview1.path_symlink"))
        },
    )?;
    linker.func_wrap(
        M,
        "path_link",
        |mut c: C<'_>,
         _old_fd: i32,
         _flags: i32,
         _old: i32,
         _old_len: i32,
         _new_fd: i32,
         _new: i32,
         _new_len: i32| { Ok(refuse_link(&mut c, "wasi_snapshot_preview1.path_link")) },
    )?;
    Ok(())
}
