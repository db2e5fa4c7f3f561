// The counter both versions of the hot-reload test mod share (included by each `lib.rs`, which
// defines `VERSION`).

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering::Relaxed};

/// Frames counted, plus what the game added: the state carried across a reload.
static COUNT: AtomicI32 = AtomicI32::new(0);

/// `count() -> i32`: the count now.
#[no_mangle]
pub extern "C" fn count() -> i32 {
    COUNT.load(Relaxed)
}

/// `add(n) -> i32`: adds `n` to the count and returns it.
#[no_mangle]
pub extern "C" fn add(n: i32) -> i32 {
    COUNT.fetch_add(n, Relaxed).wrapping_add(n)
}

/// `version() -> i32`: which build runs.
#[no_mangle]
pub extern "C" fn version() -> i32 {
    VERSION
}

fn process(_delta: f64) {
    COUNT.fetch_add(1, Relaxed);
}

fn save() -> Vec<u8> {
    COUNT.load(Relaxed).to_le_bytes().to_vec()
}

fn load(bytes: &[u8]) {
    if let Ok(bytes) = <[u8; 4]>::try_from(bytes) {
        COUNT.store(i32::from_le_bytes(bytes), Relaxed);
    }
}

wasgo_sdk::export_process!(process);
wasgo_sdk::export_state!(save, load);

/// What the mod says of itself before it starts (`WasmModule.get_config()`).
fn config() -> String {
    alloc::format!(r#"{{"counts": "frames", "version": {VERSION}, "carries": ["count"]}}"#)
}

wasgo_sdk::export_config!(config);
