//! How much of what one mod causes the game's log to print (its output lines echoed to the
//! console, the errors Godot logs for its calls) per second.
//!
//! Godot writes its console to the player's disk too (`user://logs/godot.log` on desktop, no
//! size cap per file), so a mod that printed without end, or made a call Godot rejects with an
//! error in a loop, could fill the disk and slow every frame with console writes. A mod's
//! output still reaches the game whole (the `output` signal, with its own caps in
//! [`crate::events`]); what the console prints of one mod is held to [`LogBudget::LINES`] lines
//! and [`LogBudget::BYTES`] bytes per second, and the first line past either gets one notice.

use std::time::{Duration, Instant};

/// One mod's console allowance: a window of [`LogBudget::WINDOW`] and what was printed in it.
#[derive(Debug, Default)]
pub struct LogBudget {
    /// When the current window began (none before the first line).
    since: Option<Instant>,
    lines: u32,
    bytes: usize,
    /// Whether the notice for this window was given (what is past the allowance is held back).
    over: bool,
}

/// What to do with one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Print it.
    Print,
    /// The allowance is spent: print the notice (once per window) instead of the line.
    Notice,
    /// Hold it back (the notice for this window was printed).
    HoldBack,
}

impl LogBudget {
    /// Lines one mod may have printed per window.
    pub const LINES: u32 = 200;
    /// Bytes one mod may have printed per window.
    pub const BYTES: usize = 64 * 1024;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(1);

    /// Whether a line of `len` bytes may be printed at `now` (counted when it may).
    pub fn admit(&mut self, len: usize, now: Instant) -> Admit {
        self.roll(now);
        if self.over {
            return Admit::HoldBack;
        }
        if self.lines >= Self::LINES || self.bytes.saturating_add(len) > Self::BYTES {
            self.over = true;
            return Admit::Notice;
        }
        self.lines += 1;
        self.bytes += len;
        Admit::Print
    }

    /// Whether the allowance may be spent, without reading the clock: false for a mod that
    /// printed less than the allowance since its window began (then [`LogBudget::is_spent`]
    /// would answer false too).
    pub fn may_be_spent(&self) -> bool {
        self.over || self.lines >= Self::LINES || self.bytes >= Self::BYTES
    }

    /// Whether the allowance of the window holding `now` is spent (what a call made now logs is
    /// then held back).
    pub fn is_spent(&mut self, now: Instant) -> bool {
        self.roll(now);
        self.may_be_spent()
    }

    /// Counts `lines` of `bytes` in all printed at `now` without asking (they were printed
    /// already, e.g. errors Godot logged during a call); true when this spends the allowance for
    /// the first time in the window (the caller then prints the notice). Bytes count as for
    /// [`LogBudget::admit`]: an error echoing a mod's megabyte-long name is a megabyte.
    pub fn count(&mut self, lines: u32, bytes: usize, now: Instant) -> bool {
        self.roll(now);
        self.lines = self.lines.saturating_add(lines);
        self.bytes = self.bytes.saturating_add(bytes);
        if !self.over && (self.lines >= Self::LINES || self.bytes >= Self::BYTES) {
            self.over = true;
            return true;
        }
        false
    }

    /// Starts a new window when the current one is over.
    fn roll(&mut self, now: Instant) {
        match self.since {
            Some(since) if now.saturating_duration_since(since) < Self::WINDOW => {}
            _ => {
                *self = LogBudget {
                    since: Some(now),
                    ..LogBudget::default()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_allowance_get_one_notice_then_are_held_back_until_the_next_window() {
        let t0 = Instant::now();
        let mut b = LogBudget::default();
        for i in 0..LogBudget::LINES {
            assert_eq!(b.admit(10, t0), Admit::Print, "line {i}");
        }
        assert_eq!(b.admit(10, t0), Admit::Notice);
        assert_eq!(
            b.admit(10, t0 + Duration::from_millis(500)),
            Admit::HoldBack
        );
        assert_eq!(b.admit(10, t0 + LogBudget::WINDOW), Admit::Print);
    }

    #[test]
    fn bytes_past_the_allowance_count_like_lines() {
        let t0 = Instant::now();
        let mut b = LogBudget::default();
        assert_eq!(b.admit(LogBudget::BYTES - 1, t0), Admit::Print);
        assert_eq!(b.admit(1, t0), Admit::Print, "exactly the allowance");
        assert_eq!(b.admit(1, t0), Admit::Notice);
        // A single line longer than the allowance is never printed whole.
        let mut b = LogBudget::default();
        assert_eq!(b.admit(LogBudget::BYTES + 1, t0), Admit::Notice);
    }

    #[test]
    fn lines_counted_after_the_fact_spend_the_allowance_once_per_window() {
        let t0 = Instant::now();
        let mut b = LogBudget::default();
        assert!(!b.may_be_spent() && !b.is_spent(t0));
        assert!(!b.count(LogBudget::LINES - 1, 0, t0));
        assert!(!b.may_be_spent() && !b.is_spent(t0));
        assert!(
            b.count(5, 0, t0),
            "the first count past the allowance asks for the notice"
        );
        assert!(b.may_be_spent() && b.is_spent(t0));
        assert!(!b.count(5, 0, t0), "one notice per window");
        assert_eq!(b.admit(1, t0), Admit::HoldBack);
        let t1 = t0 + LogBudget::WINDOW;
        assert!(
            !b.is_spent(t1),
            "a new window starts with the whole allowance"
        );
        assert!(!b.count(1, 0, t1));
    }

    /// An error Godot logs may echo what a mod passed (an animation name of a megabyte): the
    /// bytes count too, not only the lines (200 such lines a second were 200 MB).
    #[test]
    fn bytes_counted_after_the_fact_spend_the_allowance() {
        let t0 = Instant::now();
        let mut b = LogBudget::default();
        assert!(!b.count(1, LogBudget::BYTES - 1, t0));
        assert!(!b.may_be_spent());
        assert!(
            b.count(1, 1 << 20, t0),
            "a megabyte line spends the allowance"
        );
        assert!(b.may_be_spent() && b.is_spent(t0));
    }
}
