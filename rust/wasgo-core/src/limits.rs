//! The per-instance limits and their defaults: the one place the defaults are written. The glue
//! registers its project settings with these values and falls back to them.

use std::time::Duration;

/// The per-instance limits, fixed at instantiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory cap in bytes (all memories together). Default [`Limits::DEFAULT_MEMORY_MB`].
    pub memory_bytes: usize,
    /// Time one main-thread entry may run. Default [`Limits::DEFAULT_CALLBACK_BUDGET_MS`].
    pub callback_budget: Duration,
    /// Time `main` may run; `None` = no limit (the default, [`Limits::DEFAULT_MAIN_TIMEOUT_MS`]
    /// is 0).
    pub main_timeout: Option<Duration>,
    /// Bytes the mod's sandbox directory may hold. Default [`Limits::DEFAULT_STORAGE_MB`].
    pub storage_bytes: u64,
}

impl Limits {
    /// `wasgo/limits/memory_mb`.
    pub const DEFAULT_MEMORY_MB: u64 = 64;
    /// `wasgo/limits/callback_budget_ms`.
    pub const DEFAULT_CALLBACK_BUDGET_MS: u64 = 50;
    /// `wasgo/limits/main_timeout_ms` (0 = no limit).
    pub const DEFAULT_MAIN_TIMEOUT_MS: u64 = 0;
    /// `wasgo/limits/storage_mb`.
    pub const DEFAULT_STORAGE_MB: u64 = 16;
    /// `wasgo/limits/http_response_kb`.
    pub const DEFAULT_HTTP_RESPONSE_KB: u64 = 1024;

    /// The limits from settings in the units the project settings use; 0 for `main_timeout_ms`
    /// means no limit, 0 elsewhere means the default.
    pub fn from_settings(
        memory_mb: u64,
        callback_budget_ms: u64,
        main_timeout_ms: u64,
        storage_mb: u64,
    ) -> Limits {
        let or = |v: u64, d: u64| if v == 0 { d } else { v };
        Limits {
            memory_bytes: (or(memory_mb, Self::DEFAULT_MEMORY_MB) as usize) << 20,
            callback_budget: Duration::from_millis(or(
                callback_budget_ms,
                Self::DEFAULT_CALLBACK_BUDGET_MS,
            )),
            main_timeout: (main_timeout_ms > 0).then(|| Duration::from_millis(main_timeout_ms)),
            storage_bytes: or(storage_mb, Self::DEFAULT_STORAGE_MB) << 20,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from_settings(0, 0, Self::DEFAULT_MAIN_TIMEOUT_MS, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_settings() {
        let l = Limits::default();
        assert_eq!(l.memory_bytes, 64 << 20);
        assert_eq!(l.callback_budget, Duration::from_millis(50));
        assert_eq!(l.main_timeout, None);
        assert_eq!(l.storage_bytes, 16 << 20);
    }

    #[test]
    fn zero_means_default_except_for_the_main_timeout() {
        let l = Limits::from_settings(0, 0, 0, 0);
        assert_eq!(l, Limits::default());
        let l = Limits::from_settings(8, 10, 250, 2);
        assert_eq!(l.memory_bytes, 8 << 20);
        assert_eq!(l.callback_budget, Duration::from_millis(10));
        assert_eq!(l.main_timeout, Some(Duration::from_millis(250)));
        assert_eq!(l.storage_bytes, 2 << 20);
    }
}
