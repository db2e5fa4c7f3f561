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
    /// to it ([`LevelRequest::Clamped`]); a number that is no level (negative, 4 and up) gives
    /// the safest level, never the ceiling ([`LevelRequest::NotALevel`]): a typo must not hand a
    /// mod the most the project allows. The caller warns for both.
    pub fn resolve(requested: i64, ceiling: SafetyLevel) -> (SafetyLevel, LevelRequest) {
        if requested == 0 {
            return (ceiling, LevelRequest::AsAsked);
        }
        match SafetyLevel::from_number(requested) {
            Some(level) if level <= ceiling => (level, LevelRequest::AsAsked),
            Some(_) => (ceiling, LevelRequest::Clamped),
            None => (SafetyLevel::Safe, LevelRequest::NotALevel),
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

/// How a node's requested level was resolved (see [`SafetyLevel::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelRequest {
    /// The level asked for (or the project's, for 0).
    AsAsked,
    /// Above the project's ceiling: the ceiling.
    Clamped,
    /// Not 0 to 3: level 1.
    NotALevel,
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
            (SafetyLevel::Wrapped, LevelRequest::AsAsked)
        );
        assert_eq!(
            SafetyLevel::resolve(1, SafetyLevel::Wrapped),
            (SafetyLevel::Safe, LevelRequest::AsAsked)
        );
        assert_eq!(
            SafetyLevel::resolve(3, SafetyLevel::Safe),
            (SafetyLevel::Safe, LevelRequest::Clamped)
        );
        // A number that is no level never gives the ceiling.
        for bad in [-2, -1, 4, 99, i64::MIN, i64::MAX] {
            assert_eq!(
                SafetyLevel::resolve(bad, SafetyLevel::Unsafe),
                (SafetyLevel::Safe, LevelRequest::NotALevel),
                "{bad}"
            );
        }
    }
}
