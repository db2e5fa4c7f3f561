//! Whether a mod keeps taking more than its share of frames: the frame driver tells a
//! [`OverrunTally`] per mod, once a frame, whether the mod's callbacks took more than the
//! allowed multiple of the frame budget, and is told when to warn and when to kill.
//!
//! A frame over the limit adds two, a frame under it takes one back (never below zero). A mod
//! over the limit every frame is warned after [`OverrunTally::WARN_FRAMES`] frames and killed
//! after [`OverrunTally::KILL_FRAMES`], as when the count was of frames in a row; a mod over it
//! in more than a third of its frames climbs too, so one light frame now and then (a mod that
//! takes 40 ms of every other frame) no longer starts the count again.

/// One mod's standing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OverrunTally {
    score: u32,
    /// Whether the warning of the present run was given (until the score is back at zero).
    warned: bool,
}

/// What the frame driver does after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// Nothing.
    Fine,
    /// Warn (once per run of overruns).
    Warn,
    /// Kill the mod (the tally starts again).
    Kill,
}

impl OverrunTally {
    /// Frames over the limit in a row before the warning.
    pub const WARN_FRAMES: u32 = 30;
    /// Frames over the limit in a row before the kill.
    pub const KILL_FRAMES: u32 = 300;

    /// Counts one frame, `over` the limit or not.
    pub fn frame(&mut self, over: bool) -> Overrun {
        self.score = if over {
            self.score.saturating_add(2)
        } else {
            self.score.saturating_sub(1)
        };
        if self.score == 0 {
            self.warned = false;
        }
        if self.score >= 2 * Self::KILL_FRAMES {
            *self = OverrunTally::default();
            return Overrun::Kill;
        }
        if self.score >= 2 * Self::WARN_FRAMES && !self.warned {
            self.warned = true;
            return Overrun::Warn;
        }
        Overrun::Fine
    }
}

#[cfg(test)]
mod tests {
    use super::{Overrun, OverrunTally};

    /// The frames (1-based) at which `pattern`, repeated, warns and kills within `frames`.
    fn verdicts(pattern: &[bool], frames: usize) -> (Vec<usize>, Vec<usize>) {
        let mut tally = OverrunTally::default();
        let (mut warns, mut kills) = (Vec::new(), Vec::new());
        for i in 0..frames {
            match tally.frame(pattern[i % pattern.len()]) {
                Overrun::Warn => warns.push(i + 1),
                Overrun::Kill => kills.push(i + 1),
                Overrun::Fine => {}
            }
        }
        (warns, kills)
    }

    #[test]
    fn a_mod_over_the_limit_every_frame_is_warned_at_30_and_killed_at_300() {
        let (warns, kills) = verdicts(&[true], 300);
        assert_eq!((warns, kills), (vec![30], vec![300]));
    }

    #[test]
    fn one_light_frame_now_and_then_does_not_start_the_count_again() {
        // 29 frames over, one under: the count of frames in a row never reached 30.
        let mut pattern = vec![true; 29];
        pattern.push(false);
        let (warns, kills) = verdicts(&pattern, 400);
        assert_eq!(warns[0], 32, "{warns:?}");
        assert!(kills[0] < 330, "{kills:?}");
        // Every other frame over the limit: caught too, later.
        let (warns, kills) = verdicts(&[true, false], 1200);
        assert_eq!(warns, vec![117], "{warns:?}");
        assert_eq!(kills, vec![1197], "{kills:?}");
    }

    #[test]
    fn a_mod_over_the_limit_in_a_third_of_its_frames_or_fewer_is_let_be() {
        let (warns, kills) = verdicts(&[true, false, false], 100_000);
        assert!(warns.is_empty() && kills.is_empty(), "{warns:?} {kills:?}");
        // A burst now and then: warned once per burst at most, never killed.
        let mut pattern = vec![true; 40];
        pattern.extend(vec![false; 400]);
        let (warns, kills) = verdicts(&pattern, 4400);
        assert_eq!(warns.len(), 10, "{warns:?}");
        assert!(kills.is_empty(), "{kills:?}");
    }
}
