//! Events an instance reports to its owner (the `WasmScript` node), drained on the main thread.
//!
//! Any thread may send; the receiver turns them into signals. Output is bounded: a line longer
//! than [`MAX_OUTPUT_LINE_BYTES`] is cut there and ends with [`CUT_MARKER`] (`wasgo.log` text and
//! WASI stdout/stderr alike), and a mod that prints faster than the game drains loses lines once
//! [`MAX_PENDING_OUTPUT_LINES`] lines or [`MAX_PENDING_OUTPUT_BYTES`] bytes wait (and is told
//! how many in one line), so output never grows the game's memory without bound.

use crate::level::SafetyLevel;
use crate::permissions::Permission;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Output lines that may wait undelivered before further lines are dropped.
pub const MAX_PENDING_OUTPUT_LINES: usize = 10_000;
/// Output bytes that may wait undelivered before further lines are dropped.
pub const MAX_PENDING_OUTPUT_BYTES: usize = 4 << 20;
/// A longer output line keeps this many bytes (at most) and ends with [`CUT_MARKER`].
pub const MAX_OUTPUT_LINE_BYTES: usize = 8 * 1024;
/// What ends an output line cut at [`MAX_OUTPUT_LINE_BYTES`].
pub const CUT_MARKER: &str = " [wasgo: line cut at 8 KiB]";

/// Cuts `text` to at most [`MAX_OUTPUT_LINE_BYTES`] (on a character boundary) followed by
/// [`CUT_MARKER`]; a line within the limit is left alone.
pub fn cut_line(text: &mut String) {
    if text.len() <= MAX_OUTPUT_LINE_BYTES {
        return;
    }
    let end = crate::text::prefix(text, MAX_OUTPUT_LINE_BYTES).len();
    text.truncate(end);
    text.push_str(CUT_MARKER);
}

/// Where an output line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputSource {
    /// `wasgo.log` with its level (0 debug, 1 info, 2 warning, 3 error).
    Log(i32),
    /// WASI stdout.
    Stdout,
    /// WASI stderr.
    Stderr,
}

/// Something the owner of an instance should hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum ModEvent {
    /// One line of output, without its newline.
    Output { source: OutputSource, text: String },
    /// The mod called the stub of an import that exists at a higher safety level (it traps
    /// right after).
    UnexposedCall {
        function: String,
        level: SafetyLevel,
    },
    /// Sent once at instantiation for each import that links to a stub although no level gates
    /// it: unknown, with the wrong signature, or not implemented yet. Calling it traps.
    LinkWarning { function: String, message: String },
    /// A main-thread entry ran past its callback budget but under the wall-clock backstop; it
    /// was let finish. After `Limits::budget_strikes` of these, an overrun traps.
    BudgetWarning {
        /// The export that was running.
        export: String,
        /// CPU time the entry's thread spent, in ms.
        cpu_ms: u64,
        /// Wall-clock time of the entry, in ms.
        wall_ms: u64,
        /// The callback budget, in ms.
        budget_ms: u64,
        /// Overruns so far, this one included.
        strikes: u32,
    },
    /// `main` returned (or the mod called `proc_exit`).
    Finished { exit_code: i32 },
    /// The instance trapped and has ended.
    Trapped { message: String },
    /// The instance was killed and has ended.
    Killed { reason: String },
    /// The mod asked for a permission it does not have.
    PermissionRequested { kind: Permission, detail: String },
}

/// What both sides of one channel count of its output lines (one allocation for the three).
#[derive(Default)]
struct OutputCounts {
    /// Output lines queued and not yet drained.
    pending_output: AtomicUsize,
    /// Their bytes.
    pending_bytes: AtomicUsize,
    /// Lines dropped since the last drain (the queue was full).
    dropped_output: AtomicUsize,
}

/// The sending side, shared by the host functions, the WASI streams and the worker.
#[derive(Clone)]
pub struct EventSink {
    tx: Sender<ModEvent>,
    counts: Arc<OutputCounts>,
}

/// The receiving side, owned by the instance's owner.
pub struct EventQueue {
    rx: Receiver<ModEvent>,
    counts: Arc<OutputCounts>,
}

/// A connected sink and queue.
pub fn event_channel() -> (EventSink, EventQueue) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let counts = Arc::new(OutputCounts::default());
    (
        EventSink {
            tx,
            counts: counts.clone(),
        },
        EventQueue { rx, counts },
    )
}

/// Counts everything that leaves an owner something to deliver, across all instances: events
/// sent (also dropped output, which is reported), HTTP answers queued. An owner that delivers
/// for many instances once a frame may skip the whole round while the count has not moved
/// since its last round began; what arrives during a round moves it, so the next round looks.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// The activity count now (see [`note_activity`]).
pub fn activity() -> u64 {
    ACTIVITY.load(Ordering::Acquire)
}

/// Counts one more thing to deliver; called after it was queued.
pub fn note_activity() {
    ACTIVITY.fetch_add(1, Ordering::Release);
}

impl EventSink {
    /// Sends a control event (never dropped).
    pub fn send(&self, event: ModEvent) {
        let _ = self.tx.send(event);
        note_activity();
    }

    /// Sends one output line, cut with [`cut_line`], or counts it as dropped when too many
    /// lines or bytes are waiting.
    pub fn output(&self, source: OutputSource, mut text: String) {
        cut_line(&mut text);
        let len = text.len();
        let lines = self.counts.pending_output.fetch_add(1, Ordering::AcqRel);
        let bytes = self.counts.pending_bytes.fetch_add(len, Ordering::AcqRel);
        if lines >= MAX_PENDING_OUTPUT_LINES || bytes + len > MAX_PENDING_OUTPUT_BYTES {
            self.counts.pending_output.fetch_sub(1, Ordering::AcqRel);
            self.counts.pending_bytes.fetch_sub(len, Ordering::AcqRel);
            self.counts.dropped_output.fetch_add(1, Ordering::Relaxed);
            note_activity();
            return;
        }
        let _ = self.tx.send(ModEvent::Output { source, text });
        note_activity();
    }
}

impl EventSink {
    /// Whether the next output line would be dropped (as many lines or bytes wait as may): a
    /// writer with many lines left counts them dropped at once with [`EventSink::drop_output`]
    /// instead of offering each (60 MiB of newlines were 62 million offers, seconds of one call).
    pub fn output_full(&self) -> bool {
        self.counts.pending_output.load(Ordering::Acquire) >= MAX_PENDING_OUTPUT_LINES
            || self.counts.pending_bytes.load(Ordering::Acquire) >= MAX_PENDING_OUTPUT_BYTES
    }

    /// Counts `lines` output lines as dropped.
    pub fn drop_output(&self, lines: usize) {
        if lines > 0 {
            self.counts
                .dropped_output
                .fetch_add(lines, Ordering::Relaxed);
            note_activity();
        }
    }
}

impl EventQueue {
    /// Whether nothing waits (no event, no dropped-output notice); no allocation, no lock.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty() && self.counts.dropped_output.load(Ordering::Relaxed) == 0
    }

    /// Takes every event waiting now, in order. A notice of dropped output lines comes first
    /// when some were lost.
    pub fn drain(&self) -> Vec<ModEvent> {
        self.drain_at_most(usize::MAX).0
    }

    /// [`EventQueue::drain`], but at most `max` events (and the notice); the rest wait in order
    /// for the next drain, and the second value says some do (counted as activity again, so an
    /// owner that skips quiet rounds looks at them).
    pub fn drain_at_most(&self, max: usize) -> (Vec<ModEvent>, bool) {
        let mut events = Vec::new();
        let dropped = self.counts.dropped_output.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            events.push(ModEvent::Output {
                source: OutputSource::Stderr,
                text: format!("[wasgo: {dropped} output lines dropped: the mod printed faster than the game could show]"),
            });
        }
        for event in self.rx.try_iter().take(max) {
            if let ModEvent::Output { text, .. } = &event {
                self.counts.pending_output.fetch_sub(1, Ordering::AcqRel);
                self.counts
                    .pending_bytes
                    .fetch_sub(text.len(), Ordering::AcqRel);
            }
            events.push(event);
        }
        let more = !self.rx.is_empty();
        if more {
            note_activity();
        }
        (events, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drain_of_at_most_n_leaves_the_rest_in_order() {
        let (sink, queue) = event_channel();
        for i in 0..10 {
            sink.output(OutputSource::Stdout, i.to_string());
        }
        let before = activity();
        let (first, more) = queue.drain_at_most(4);
        assert!(more && activity() > before);
        let texts = |events: &[ModEvent]| -> Vec<String> {
            events
                .iter()
                .map(|e| match e {
                    ModEvent::Output { text, .. } => text.clone(),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(texts(&first), ["0", "1", "2", "3"]);
        assert_eq!(queue.counts.pending_output.load(Ordering::Relaxed), 6);
        let (rest, more) = queue.drain_at_most(100);
        assert!(!more);
        assert_eq!(texts(&rest), ["4", "5", "6", "7", "8", "9"]);
    }

    #[test]
    fn output_beyond_the_cap_is_dropped_and_reported() {
        let (sink, queue) = event_channel();
        for i in 0..MAX_PENDING_OUTPUT_LINES + 5 {
            sink.output(OutputSource::Stdout, i.to_string());
        }
        let events = queue.drain();
        assert_eq!(events.len(), MAX_PENDING_OUTPUT_LINES + 1);
        assert!(
            matches!(&events[0], ModEvent::Output { text, .. } if text.contains("5 output lines dropped"))
        );
        sink.output(OutputSource::Stdout, "again".into());
        assert_eq!(queue.counts.pending_bytes.load(Ordering::Relaxed), 5);
        assert_eq!(
            queue.drain(),
            vec![ModEvent::Output {
                source: OutputSource::Stdout,
                text: "again".into()
            }]
        );
    }

    #[test]
    fn a_long_line_is_cut_with_the_marker() {
        let (sink, queue) = event_channel();
        sink.output(OutputSource::Log(1), "é".repeat(MAX_OUTPUT_LINE_BYTES));
        let events = queue.drain();
        let ModEvent::Output { text, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert!(text.ends_with(CUT_MARKER));
        assert_eq!(text.len(), MAX_OUTPUT_LINE_BYTES + CUT_MARKER.len());
    }

    #[test]
    fn pending_output_is_bounded_in_bytes() {
        let (sink, queue) = event_channel();
        let line = "x".repeat(MAX_OUTPUT_LINE_BYTES);
        let fits = MAX_PENDING_OUTPUT_BYTES / MAX_OUTPUT_LINE_BYTES;
        for _ in 0..fits + 3 {
            sink.output(OutputSource::Stdout, line.clone());
        }
        let events = queue.drain();
        assert_eq!(events.len(), fits + 1);
        assert!(
            matches!(&events[0], ModEvent::Output { text, .. } if text.contains("3 output lines dropped"))
        );
    }
}
