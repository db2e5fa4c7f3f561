//! WASI's file functions under WasGo's rules: interruptible at every level, the mod's sandbox
//! (`/sandbox`) under the level-2 file functions' rules at level 2.
//!
//! At every level, `fd_read`, `fd_pread`, `fd_write` and `fd_pwrite` move their buffer in chunks
//! that `kill()` and the entry's deadline can stop between ([`chunked`]).
//!
//! wasmtime-wasi already confines a preopened directory (through `cap-std`): no path may leave
//! it, by `..`, an absolute path or a symlink. What it does not know about is WasGo's permission,
//! quota and name rules, so at level 2 a few more WASI functions are wrapped; each wrapper
//! checks ([`checks`]), then calls wasmtime-wasi's own implementation:
//!
//! - every call that names a path (`path_*`) and `fd_readdir` fail with `EACCES` until the game
//!   grants the mod `files`, like the file functions' -6 (a file the mod opened while it had the
//!   grant stays usable after a revoke, as on any OS);
//! - `fd_write`, `fd_pwrite`, `fd_allocate`, `fd_filestat_set_size` on a regular file: the bytes
//!   the call would add to the file (past its current size, holes included, whatever the iovec
//!   count) are checked against the sandbox's quota (`wasgo/limits/storage_mb`); over it, or
//!   when the file's size or the sandbox's content cannot be learned, the call fails with
//!   `EDQUOT` (or the errno that hid the size) and writes nothing. The file's size is read, the
//!   growth checked and the change made under the sandbox's lock, for each 256 KiB chunk of a
//!   write ([`chunked`]): a truncation by another instance of the mod between chunks is seen (a
//!   write checked once regrew the truncated file uncounted), and a chunk that no longer fits
//!   ends the write short, with the count of what was written. `path_open` takes the lock too,
//!   so no file is opened between `wasgo.file_write`'s last count and its rename (which holds
//!   the lock for those two steps only, not while it writes and syncs its bytes). A descriptor
//!   that is not a regular file (standard output) never waits for the lock. A file deleted or replaced
//!   while open (its link count is 0) may not grow at all: no count of the directory sees it. Overwriting bytes inside a
//!   file adds nothing and is never refused. `path_open` with `O_TRUNC` and renames inside the
//!   sandbox (its only preopen at level 2) never add bytes.
//! - `path_open` with `O_CREAT` and `path_create_directory`: a name breaking the file functions'
//!   rules (over 128 bytes, `\`, `:`, control characters, `* ? " < > |`; whole path over 512
//!   bytes) fails with `EINVAL` (`ENAMETOOLONG` for length); creating an entry past
//!   [`MAX_ENTRIES`](crate::sandbox::MAX_ENTRIES), counted at any depth, fails with `EDQUOT`.
//!   `path_rename` checks its new name the same way.
//! - `path_symlink` and `path_link` fail with `EPERM`: the sandbox holds no links, so nothing
//!   the game later reads there can point elsewhere.
//! - `path_open` fails with `EMFILE` while the instance has
//!   [`MAX_OPEN_FILES`](crate::open_files::MAX_OPEN_FILES) descriptors open through it, and with
//!   `ENFILE` while all instances together have
//!   [`MAX_OPEN_FILES_ALL`](crate::open_files::MAX_OPEN_FILES_ALL)
//!   (`fd_close` and `fd_renumber` give them back, and so does the instance's end): a mod that
//!   opened files in a loop took 20,000 descriptors in 200 ms, after which the game itself could
//!   open no file.
//!
//! Unlike `wasgo.file_write`, WASI writes are not atomic: a mod killed in the middle of its own
//! write loop, or of one large write, leaves what it had written so far (as it would on any OS).
//!
//! Every refusal also sets the mod's `wasgo.last_error` message.

mod checks;
pub mod chunked;

use crate::catalog::WASI_P1_MODULE;
use crate::guest;
use crate::hostfns::guarded;
use crate::level::SafetyLevel;
use crate::sandbox::Held;
use crate::state::InstanceState;
use checks::{
    delegate, hold_for_growth, hold_sandbox, refuse, refuse_name, refuse_new_entry,
    refuse_without_grant,
};
use wasmtime::{Caller, Linker};
use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;
use wasmtime_wasi::runtime::in_tokio;

use crate::wasi::errno::PERM as ERRNO_PERM;
const OFLAGS_CREAT: i32 = 1;

type C<'a> = Caller<'a, InstanceState>;

fn refuse_link(c: &mut C<'_>, function: &str) -> i32 {
    c.data_mut().fail(
        ERRNO_PERM,
        format!("`{function}`: links are not allowed in the mod's sandbox at safety level 2"),
    )
}

/// Shadows wasmtime-wasi's reads and writes with the chunked ones (every level) and, at level 2,
/// its file-system functions with the checked ones.
pub(crate) fn add_to_linker(
    linker: &mut Linker<InstanceState>,
    level: SafetyLevel,
) -> wasmtime::Result<()> {
    const M: &str = WASI_P1_MODULE;
    linker.func_wrap(M, "random_get", |mut c: C<'_>, buf: i32, len: i32| {
        guarded("wasi_snapshot_preview1.random_get", || {
            chunked::random_get(&mut c, buf, len)
        })
    })?;
    linker.func_wrap(
        M,
        "fd_write",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_write";
            guarded(F, || {
                chunked::write(&mut c, F, fd, iovs, iovs_len, None, nwritten)
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_pwrite",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_pwrite";
            guarded(F, || {
                chunked::write(&mut c, F, fd, iovs, iovs_len, Some(offset), nwritten)
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_read",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, nread: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_read";
            guarded(F, || {
                chunked::read(&mut c, F, fd, iovs, iovs_len, None, nread)
            })
        },
    )?;
    linker.func_wrap(
        M,
        "fd_pread",
        |mut c: C<'_>, fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32| {
            const F: &str = "wasi_snapshot_preview1.fd_pread";
            guarded(F, || {
                chunked::read(&mut c, F, fd, iovs, iovs_len, Some(offset), nread)
            })
        },
    )?;
    if level != SafetyLevel::Wrapped {
        return Ok(());
    }
    linker.func_wrap(
        M,
        "fd_allocate",
        |mut c: C<'_>, fd: i32, offset: i64, len: i64| {
            const F: &str = "wasi_snapshot_preview1.fd_allocate";
            guarded(F, || {
                // Held until the file has grown.
                let _held = match hold_for_growth(&mut c, F, fd, |_, _, _| {
                    (offset as u64).saturating_add(len as u64)
                })? {
                    Ok(held) => held,
                    Err(errno) => return Ok(errno),
                };
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
                // Held until the file has its new size.
                let _held = match hold_for_growth(&mut c, F, fd, |_, _, _| size as u64)? {
                    Ok(held) => held,
                    Err(errno) => return Ok(errno),
                };
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
                }
                // Held until the file is open (or made): not between another instance's
                // `wasgo.file_write`'s count and its rename, nor between the look at the entry
                // limit here and the creation.
                let mut held = hold_sandbox(&c);
                if oflags & OFLAGS_CREAT != 0 {
                    if let Err(errno) = refuse_new_entry(&mut c, &mut held, F, fd, path, path_len)?
                    {
                        return Ok(errno);
                    }
                }
                if let Err((errno, message)) = c.data().open_files.reserve(F) {
                    return Ok(c.data_mut().fail(errno, message));
                }
                let result = delegate(&mut c, F, |ctx, mem| {
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
                });
                drop(held);
                let new_fd = match result {
                    Ok(0) => guest::read_bytes(&mut c, F, opened, 4)
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .map(u32::from_le_bytes),
                    _ => None,
                };
                c.data_mut().open_files.settle(new_fd);
                result
            })
        },
    )?;
    linker.func_wrap(M, "fd_close", |mut c: C<'_>, fd: i32| {
        const F: &str = "wasi_snapshot_preview1.fd_close";
        guarded(F, || {
            let result = delegate(&mut c, F, |ctx, mem| in_tokio(p1::fd_close(ctx, mem, fd)));
            if matches!(result, Ok(0)) {
                c.data_mut().open_files.closed(fd as u32);
            }
            result
        })
    })?;
    linker.func_wrap(M, "fd_renumber", |mut c: C<'_>, from: i32, to: i32| {
        const F: &str = "wasi_snapshot_preview1.fd_renumber";
        guarded(F, || {
            let result = delegate(&mut c, F, |ctx, mem| {
                in_tokio(p1::fd_renumber(ctx, mem, from, to))
            });
            if matches!(result, Ok(0)) {
                c.data_mut().open_files.renumbered(from as u32, to as u32);
            }
            result
        })
    })?;
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
                // Held until the directory is made (see `path_open`).
                let mut held = hold_sandbox(&c);
                if let Err(errno) = refuse_new_entry(&mut c, &mut held, F, fd, path, path_len)? {
                    return Ok(errno);
                }
                let made = delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_create_directory(ctx, mem, fd, path, path_len))
                })?;
                // One level past what a count reads made every later write fail: taken back.
                if let (0, Some(Err(e))) = (made, held.as_ref().map(Held::countable)) {
                    delegate(&mut c, F, |ctx, mem| {
                        in_tokio(p1::path_remove_directory(ctx, mem, fd, path, path_len))
                    })?;
                    return Ok(refuse(&mut c, F, &e));
                }
                Ok(made)
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
                // Under the sandbox's lock: not between another instance's `wasgo.file_write`'s
                // recount and its rename (a file renamed away there and back was counted as
                // replaced while it stayed: 8 MiB in a 4 MiB quota).
                let held = hold_sandbox(&c);
                let result = delegate(&mut c, F, |ctx, mem| {
                    in_tokio(p1::path_rename(
                        ctx, mem, fd, old, old_len, new_fd, new, new_len,
                    ))
                })?;
                // A directory moved deeper than a count reads made every later write fail
                // (as `path_create_directory` one level too deep did): moved back.
                if let (0, Some(Err(e))) = (result, held.as_ref().map(Held::countable)) {
                    delegate(&mut c, F, |ctx, mem| {
                        in_tokio(p1::path_rename(
                            ctx, mem, new_fd, new, new_len, fd, old, old_len,
                        ))
                    })?;
                    drop(held);
                    return Ok(refuse(&mut c, F, &e));
                }
                drop(held);
                Ok(result)
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
