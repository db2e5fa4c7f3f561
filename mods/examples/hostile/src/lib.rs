//! `hostile` — the demo's troublemaker. Each export tries one thing a mod must not get away
//! with; the demo calls each on its own node (`call_export`) and shows that WasGo contains it
//! while the other mods and the game go on:
//!
//! - `steal_file`: reads the player's save file at safety level 1, where `wasgo.file_read` is
//!   not exposed (the call traps: ``call to `wasgo.file_read`, which is not exposed at safety
//!   level 1``);
//! - `spin_forever`: never returns (the callback budget traps it);
//! - `eat_memory`: allocates without bound (the instance's memory limit stops it).
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use wasgo_sdk::{files, info, safety_level};

#[no_mangle]
pub extern "C" fn steal_file() {
    info!("hostile: reading the player's savegame.dat at safety level {}", safety_level());
    let read = files::read("savegame.dat");
    // Not reached at level 1: the stub traps inside the call.
    info!("hostile: file_read returned {} bytes", read.map_or(0, |b| b.len()));
}

#[no_mangle]
pub extern "C" fn spin_forever() {
    info!("hostile: spinning forever");
    let mut n: u64 = 0;
    loop {
        // `black_box` keeps the optimizer from proving the loop useless.
        n = core::hint::black_box(n.wrapping_add(1));
    }
}

#[no_mangle]
pub extern "C" fn eat_memory() {
    info!("hostile: allocating until something gives");
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    let mut total: usize = 0;
    loop {
        let chunk = alloc::vec![0xAB_u8; 1 << 20];
        total += chunk.len();
        hoard.push(core::hint::black_box(chunk));
        if total % (16 << 20) == 0 {
            info!("hostile: holding {} MiB", total >> 20);
        }
    }
}
