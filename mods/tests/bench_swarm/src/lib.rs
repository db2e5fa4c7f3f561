//! `bench_swarm`: the mod side of the bulk rows of `cargo xtask bench`'s frame benchmark. Its
//! `process` counts the frame; `process_nodes` (ABI 1.3, the SDK's `export_process_nodes!`) moves
//! every node of each batch one pixel to the right, with `wasgo.set_vec2` or, after the game
//! called the export `use_generic()`, with `wasgo.set` and an encoded Vector2: what
//! `bench_mover` does per node from `process_node`, over the raw handles so that the rows
//! measure the host's side, not the SDK's.
#![no_std]

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use wasgo_sdk::{sys, Nodes};

const NAME: &str = "position";

static GENERIC: AtomicBool = AtomicBool::new(false);
/// This frame's x, as f32 bits.
static X: AtomicU32 = AtomicU32::new(0);

/// Moves the nodes with the generic `set` from now on.
#[no_mangle]
pub extern "C" fn use_generic() {
    GENERIC.store(true, Ordering::Relaxed);
}

fn process(_delta: f64) {
    let x = f32::from_bits(X.load(Ordering::Relaxed)) + 1.0;
    X.store(x.to_bits(), Ordering::Relaxed);
}
wasgo_sdk::export_process!(process);

fn process_nodes(nodes: Nodes<'_>, _delta: f64) {
    let x = f32::from_bits(X.load(Ordering::Relaxed));
    if GENERIC.load(Ordering::Relaxed) {
        let mut v = [0u8; 12];
        v[..4].copy_from_slice(&5u32.to_le_bytes());
        v[4..8].copy_from_slice(&x.to_le_bytes());
        for &h in nodes.handles() {
            // SAFETY: both slices are live in this module's memory for the call.
            unsafe { sys::set(h, NAME.as_ptr(), NAME.len(), v.as_ptr(), v.len()) };
        }
    } else {
        for &h in nodes.handles() {
            // SAFETY: the name is a live slice of this module's memory for the call.
            unsafe { sys::set_vec2(h, NAME.as_ptr(), NAME.len(), x, 0.0) };
        }
    }
}
wasgo_sdk::export_process_nodes!(process_nodes);
