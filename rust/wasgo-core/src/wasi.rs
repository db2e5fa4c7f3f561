//! WASI preview 1 for mods, through `wasmtime-wasi`, with WasGo's own output streams and a
//! killable `poll_oneoff`.
//!
//! - stdout and stderr become `output` lines (never the game's own stdout directly);
//! - `args` are the node's `args` with the mod's name first;
//! - the file system grows with the level: none at 1, the mod's sandbox at 2, `res://` and
//!   `user://` (and the environment) at 3;
//! - `poll_oneoff` (what `sleep` compiles to) sleeps in a way `kill()` interrupts at once and
//!   never sleeps a main-thread callback past its budget.

use crate::budget::deadline_trap;
use crate::error::KilledTrap;
use crate::events::{EventSink, OutputSource, MAX_OUTPUT_LINE_BYTES};
use crate::guest;
use crate::level::SafetyLevel;
use crate::state::InstanceState;
use bytes::Bytes;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use wasmtime::Caller;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Host directories WASI may preopen, by level. Paths are real file-system paths (the Godot
/// glue globalizes `res://` and `user://`).
#[derive(Debug, Clone, Default)]
pub struct WasiDirs {
    /// Preopened read-write as `/sandbox` at level 2 (and 3). Created if missing.
    pub sandbox: Option<PathBuf>,
    /// Preopened read-write as `/res` at level 3.
    pub res: Option<PathBuf>,
    /// Preopened read-write as `/user` at level 3.
    pub user: Option<PathBuf>,
}

/// Turns a byte stream into output lines; a line longer than [`MAX_OUTPUT_LINE_BYTES`] is sent
/// cut (like `wasgo.log` text) and the rest of it, up to its newline, is dropped.
#[derive(Clone)]
pub(crate) struct LineSink {
    source: OutputSource,
    events: EventSink,
    partial: Arc<Mutex<Partial>>,
}

/// The line being assembled.
#[derive(Default)]
struct Partial {
    bytes: Vec<u8>,
    /// The current line was already sent cut: drop bytes up to its newline.
    skipping: bool,
}

impl LineSink {
    pub(crate) fn new(source: OutputSource, events: EventSink) -> LineSink {
        LineSink {
            source,
            events,
            partial: Arc::new(Mutex::new(Partial::default())),
        }
    }

    fn send(&self, mut line: Vec<u8>) {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.events
            .output(self.source, String::from_utf8_lossy(&line).into_owned());
    }

    pub(crate) fn push(&self, mut bytes: &[u8]) {
        let mut partial = self.partial.lock();
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|b| *b == b'\n');
            let (piece, ended) = match newline {
                Some(pos) => (&bytes[..pos], true),
                None => (bytes, false),
            };
            bytes = &bytes[piece.len() + usize::from(ended)..];
            if !partial.skipping {
                // One byte past the limit is enough for `cut_line` to add the marker.
                let room = (MAX_OUTPUT_LINE_BYTES + 1).saturating_sub(partial.bytes.len());
                partial
                    .bytes
                    .extend_from_slice(&piece[..piece.len().min(room)]);
                if partial.bytes.len() > MAX_OUTPUT_LINE_BYTES {
                    let line = std::mem::take(&mut partial.bytes);
                    self.send(line);
                    partial.skipping = true;
                } else if ended {
                    let line = std::mem::take(&mut partial.bytes);
                    self.send(line);
                }
            }
            if ended {
                partial.skipping = false;
            }
        }
    }

    /// Sends a last line that has no newline yet.
    pub(crate) fn flush_partial(&self) {
        let mut partial = self.partial.lock();
        partial.skipping = false;
        let line = std::mem::take(&mut partial.bytes);
        if !line.is_empty() {
            self.send(line);
        }
    }
}

impl IsTerminal for LineSink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LineSink {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for LineSink {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineSink {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LineSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Builds the WASI context of one instance.
pub(crate) fn build_ctx(
    program: &str,
    args: &[String],
    level: SafetyLevel,
    dirs: &WasiDirs,
    stdout: LineSink,
    stderr: LineSink,
) -> Result<wasmtime_wasi::p1::WasiP1Ctx, String> {
    let mut b = WasiCtxBuilder::new();
    let mut argv = vec![program.to_string()];
    argv.extend(args.iter().cloned());
    b.args(&argv).stdout(stdout).stderr(stderr);
    // A mod's WASI calls already run on its own worker thread (or in a main-thread entry under
    // its budget): file operations block that thread instead of hopping to tokio's blocking pool
    // and back, which made each file call several times slower.
    b.allow_blocking_current_thread(true);
    let mut preopen = |host: &PathBuf, guest: &str| -> Result<(), String> {
        std::fs::create_dir_all(host)
            .map_err(|e| format!("cannot create `{}` for WASI: {e}", host.display()))?;
        b.preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| format!("cannot preopen `{}` as `{guest}`: {e}", host.display()))?;
        Ok(())
    };
    if level >= SafetyLevel::Wrapped {
        if let Some(sandbox) = &dirs.sandbox {
            preopen(sandbox, "/sandbox")?;
        }
    }
    if level >= SafetyLevel::Unsafe {
        if let Some(res) = &dirs.res {
            preopen(res, "/res")?;
        }
        if let Some(user) = &dirs.user {
            preopen(user, "/user")?;
        }
    }
    if level >= SafetyLevel::Unsafe {
        b.inherit_env();
    }
    Ok(b.build_p1())
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
    pub const INVAL: i32 = 28;
    pub const NAMETOOLONG: i32 = 37;
    pub const NOTSUP: i32 = 58;
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
