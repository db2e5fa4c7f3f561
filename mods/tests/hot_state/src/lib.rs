//! Hot reload's test mod, version 1 (`hot_state_v2` is version 2 of the same code): the Godot
//! suite runs it from a copy in `user://`, replaces the file with version 2 and checks that the
//! count went across through `save_state`/`load_state`.
#![no_std]

extern crate alloc;

/// What `version()` answers.
const VERSION: i32 = 1;

include!("counter.rs");
