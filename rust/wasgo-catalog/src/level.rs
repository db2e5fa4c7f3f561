//! Safety levels: what a mod may reach.
//!
//! Each level contains the one below it unchanged: a function exposed at level 1 behaves the same
//! at levels 2 and 3, and no wrapper replaces a lower-level function.

use core::fmt;

/// How much of the engine a mod instance may reach.
///
/// The game picks the ceiling with the project setting `wasgo/safety/level` (default
/// [`SafetyLevel::Safe`]); a node may ask for less, never for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SafetyLevel {
    /// Level 1: the allowlisted engine API, WASI output, clocks, random and args. No files, no
    /// network, nothing that runs code or stops the game.
    Safe = 1,
    /// Level 2: level 1 plus safe wrappers — files inside the mod's own sandbox, URL-whitelisted
    /// HTTP, both behind permissions.
    Wrapped = 2,
    /// Level 3: everything — all of ClassDB, every singleton, WASI with `res://` and `user://`.
    Unsafe = 3,
}

impl SafetyLevel {
    /// All levels, lowest first.
    pub const ALL: [SafetyLevel; 3] =
        [SafetyLevel::Safe, SafetyLevel::Wrapped, SafetyLevel::Unsafe];

    /// The level with number `n` (1, 2 or 3), or `None`.
    pub fn from_number(n: i64) -> Option<SafetyLevel> {
        match n {
            1 => Some(SafetyLevel::Safe),
            2 => Some(SafetyLevel::Wrapped),
            3 => Some(SafetyLevel::Unsafe),
            _ => None,
        }
    }

    /// The level's number as mods and settings see it (1, 2 or 3).
    pub fn number(self) -> i32 {
        self as i32
    }

    /// Resolves a node's requested level against the project ceiling.
    ///
    /// `requested == 0` means "use the project setting". A request above the ceiling is clamped
    /// to it; the returned flag says so, so the caller can warn. An out-of-range request is
    /// treated as the ceiling, also flagged.
    pub fn resolve(requested: i64, ceiling: SafetyLevel) -> (SafetyLevel, bool) {
        if requested == 0 {
            return (ceiling, false);
        }
        match SafetyLevel::from_number(requested) {
            Some(level) if level <= ceiling => (level, false),
            _ => (ceiling, true),
        }
    }

    /// The name shown in Project Settings.
    pub fn title(self) -> &'static str {
        match self {
            SafetyLevel::Safe => "Safe",
            SafetyLevel::Wrapped => "Safe with wrappers",
            SafetyLevel::Unsafe => "Unsafe",
        }
    }
}

impl fmt::Display for SafetyLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_numbered() {
        assert!(
            SafetyLevel::Safe < SafetyLevel::Wrapped && SafetyLevel::Wrapped < SafetyLevel::Unsafe
        );
        for level in SafetyLevel::ALL {
            assert_eq!(SafetyLevel::from_number(level.number() as i64), Some(level));
        }
        assert_eq!(SafetyLevel::from_number(0), None);
        assert_eq!(SafetyLevel::from_number(4), None);
    }

    #[test]
    fn node_request_is_clamped_to_project_ceiling() {
        assert_eq!(
            SafetyLevel::resolve(0, SafetyLevel::Wrapped),
            (SafetyLevel::Wrapped, false)
        );
        assert_eq!(
            SafetyLevel::resolve(1, SafetyLevel::Wrapped),
            (SafetyLevel::Safe, false)
        );
        assert_eq!(
            SafetyLevel::resolve(3, SafetyLevel::Safe),
            (SafetyLevel::Safe, true)
        );
        assert_eq!(
            SafetyLevel::resolve(-2, SafetyLevel::Unsafe),
            (SafetyLevel::Unsafe, true)
        );
    }
}
