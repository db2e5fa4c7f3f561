//! The WASI context of one instance: what it is made of (the program name and arguments, the
//! output lines, the monotonic clock, the folders of its level) and when it is made
//! ([`WasiSlot`]). Below `state`, which holds it; the WASI functions WasGo replaces are in
//! `wasi`.

use crate::events::{EventSink, OutputSource, MAX_OUTPUT_LINE_BYTES};
use crate::level::SafetyLevel;
use bytes::Bytes;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
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
            let ends = match self.events.output_full() {
                true => bytes.iter().filter(|b| **b == b'\n').count(),
                false => 0,
            };
            if ends > 0 {
                // Every complete line left would be dropped: count them at once (the one being
                // assembled is the first); what follows the last newline starts a new line.
                self.events.drop_output(ends);
                let last = bytes.iter().rposition(|b| *b == b'\n').unwrap_or(0);
                bytes = &bytes[last + 1..];
                partial.bytes.clear();
                partial.skipping = false;
                continue;
            }
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

/// Builds the WASI context of one instance; its monotonic clock counts from `created` (see
/// [`SinceCreated`]).
pub(crate) fn build_ctx(
    program: &str,
    args: &[String],
    created: Instant,
    level: SafetyLevel,
    dirs: &WasiDirs,
    stdio: &[LineSink; 2],
) -> Result<wasmtime_wasi::p1::WasiP1Ctx, String> {
    let mut b = builder(program, args, created, stdio);
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
        b.inherit_env();
    }
    Ok(b.build_p1())
}

/// What every level's context has: the program name and arguments, the output lines, the
/// clock; no folder and no environment (level 1's whole context).
fn builder(
    program: &str,
    args: &[String],
    created: Instant,
    stdio: &[LineSink; 2],
) -> WasiCtxBuilder {
    let mut b = WasiCtxBuilder::new();
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(program);
    argv.extend(args.iter().map(String::as_str));
    b.args(&argv)
        .stdout(stdio[0].clone())
        .stderr(stdio[1].clone())
        .monotonic_clock(SinceCreated::new(created));
    // A mod's WASI calls already run on its own worker thread (or in a main-thread entry under
    // its budget): file operations block that thread instead of hopping to tokio's blocking pool
    // and back, which made each file call several times slower.
    b.allow_blocking_current_thread(true);
    b
}

/// One instance's WASI context: made with the instance at levels 2 and 3 (whose folders must
/// be there, or the start fails saying why), at level 1 only when the mod first calls a WASI
/// function.
///
/// Many mods never do (one built for `wasm32-unknown-unknown` or freestanding, like the Rust,
/// Zig and AssemblyScript SDK examples, imports no WASI function; a WASI mod living on callbacks
/// may call none), and making a context was about a twentieth of a pooled instance's start
/// (`BENCHMARKS.md`, "Tenth pass"). Made late, it is the one the start would have made: level 1
/// has no folder and no environment to fail on, the program name, arguments and output lines are
/// the instance's, and the monotonic clock counts from the instance's creation either way
/// ([`SinceCreated`]).
pub(crate) struct WasiSlot(Option<wasmtime_wasi::p1::WasiP1Ctx>);

impl WasiSlot {
    /// A slot with the context made at the start.
    pub(crate) fn made(ctx: wasmtime_wasi::p1::WasiP1Ctx) -> WasiSlot {
        WasiSlot(Some(ctx))
    }

    /// A slot whose context is made when it is first asked for (level 1 only, see above).
    pub(crate) fn unmade() -> WasiSlot {
        WasiSlot(None)
    }

    /// The context, made now (as at level 1) when it was not made at the start.
    pub(crate) fn get(
        &mut self,
        program: &str,
        args: &[String],
        created: Instant,
        stdio: &[LineSink; 2],
    ) -> &mut wasmtime_wasi::p1::WasiP1Ctx {
        self.0
            .get_or_insert_with(|| builder(program, args, created, stdio).build_p1())
    }

    /// Whether the context exists.
    #[cfg(test)]
    pub(crate) fn is_made(&self) -> bool {
        self.0.is_some()
    }
}

/// WASI's monotonic clock for one instance: nanoseconds since the instance was made
/// (`InstanceState::created`, from which `poll_oneoff` counts absolute monotonic deadlines),
/// whenever its context is made. The resolution is the host's.
struct SinceCreated {
    created: Instant,
    host: wasmtime_wasi::clocks::MonotonicClock,
}

impl SinceCreated {
    fn new(created: Instant) -> SinceCreated {
        SinceCreated {
            created,
            host: wasmtime_wasi::clocks::MonotonicClock::new(),
        }
    }
}

impl wasmtime_wasi::HostMonotonicClock for SinceCreated {
    fn resolution(&self) -> u64 {
        self.host.resolution()
    }

    fn now(&self) -> u64 {
        u64::try_from(self.created.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;
    use wiggle::GuestMemory;

    fn stdio() -> [LineSink; 2] {
        let (sink, _queue) = crate::events::event_channel();
        [
            LineSink::new(OutputSource::Stdout, sink.clone()),
            LineSink::new(OutputSource::Stderr, sink),
        ]
    }

    /// WASI's monotonic clock and arguments as `ctx` answers them.
    fn ask(ctx: &mut wasmtime_wasi::p1::WasiP1Ctx) -> (u64, u32, u32) {
        let mut scratch = [0u8; 32];
        let mut mem = GuestMemory::Unshared(&mut scratch);
        assert_eq!(p1::clock_time_get(ctx, &mut mem, 1, 0, 0).unwrap(), 0);
        assert_eq!(p1::args_sizes_get(ctx, &mut mem, 8, 12).unwrap(), 0);
        let word = |at: usize| u32::from_le_bytes(scratch[at..at + 4].try_into().unwrap());
        let clock = u64::from_le_bytes(scratch[0..8].try_into().unwrap());
        (clock, word(8), word(12))
    }

    #[test]
    fn lines_past_the_waiting_limit_are_counted_dropped_at_once() {
        use crate::events::{ModEvent, MAX_PENDING_OUTPUT_LINES};
        let (sink, queue) = crate::events::event_channel();
        let out = LineSink::new(OutputSource::Stdout, sink);
        out.push("line\n".repeat(MAX_PENDING_OUTPUT_LINES + 500).as_bytes());
        out.push(b"more\nand more\ntail");
        let events = queue.drain();
        assert_eq!(events.len(), 1 + MAX_PENDING_OUTPUT_LINES);
        match &events[0] {
            ModEvent::Output { text, .. } => {
                assert!(text.contains("502 output lines dropped"), "{text}")
            }
            other => panic!("{other:?}"),
        }
        // What followed the last newline is the next line.
        out.flush_partial();
        assert!(matches!(
            queue.drain().as_slice(),
            [ModEvent::Output { text, .. }] if text == "tail"
        ));
    }

    #[test]
    fn a_context_made_late_counts_from_the_instance_and_has_its_arguments() {
        let created = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let mut slot = WasiSlot::unmade();
        assert!(!slot.is_made());
        let args = ["one".to_string(), "two".to_string()];
        let io = stdio();
        let (clock, argc, argv_bytes) = ask(slot.get("late", &args, created, &io));
        assert!(slot.is_made());
        // The clock counts from `created` (30 ms before), not from when the context was made.
        let elapsed = created.elapsed().as_nanos() as u64;
        assert!(
            clock >= 30_000_000 && clock <= elapsed,
            "{clock} ns, {elapsed} ns elapsed"
        );
        assert_eq!((argc, argv_bytes), (3, 13), "late, one, two and their NULs");
        // Asked again: the same context (its clock goes on from the same start).
        let (again, _, _) = ask(slot.get("other", &[], Instant::now(), &io));
        assert!(again >= clock, "{again} < {clock}");
    }

    #[test]
    fn a_context_made_at_the_start_counts_from_the_instance_too() {
        let created = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let ctx = build_ctx(
            "early",
            &[],
            created,
            SafetyLevel::Safe,
            &WasiDirs::default(),
            &stdio(),
        );
        let mut slot = WasiSlot::made(ctx.unwrap());
        let (clock, argc, _) = ask(slot.get("unused", &[], Instant::now(), &stdio()));
        assert!(clock >= 30_000_000, "{clock} ns");
        assert_eq!(argc, 1);
    }
}
