//! Hot reload's test mod, version 2: `hot_state`'s counter with another `version()`, so its
//! bytes differ (the file that replaces version 1 on disk).
#![no_std]

extern crate alloc;

/// What `version()` answers.
const VERSION: i32 = 2;

include!("../../hot_state/src/counter.rs");
