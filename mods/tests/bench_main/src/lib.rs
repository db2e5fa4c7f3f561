//! `bench_main`: the mod side of `cargo xtask bench`'s crossing benchmarks.
//!
//! - `main` with the argument `N` does `N` round trips from its worker thread, each a
//!   `get_node("../Bench")`, a `set` of its `position` and a `get` of it (checked), and returns
//!   how many failed (0 expected); with no argument it returns at once. Every 1000 round trips
//!   it prints `done K` (so a benchmark that stops waiting still knows how far it got).
//! - `noop` is an empty export: `call_export("noop", [])` measures the cost of entering a mod.

#[link(wasm_import_module = "wasgo")]
extern "C" {
    fn get_node(from: i32, ptr: *const u8, len: usize) -> i32;
    fn set(h: i32, np: *const u8, nl: usize, vp: *const u8, vl: usize) -> i32;
    fn get(h: i32, np: *const u8, nl: usize, out: *mut u8, cap: usize) -> i32;
}

const NAME: &str = "position";
const PATH: &str = "../Bench";

/// A Vector2 as Godot's binary Variant encoding (type 5, two f32).
fn vector2(x: f32, y: f32) -> [u8; 12] {
    let mut v = [0u8; 12];
    v[..4].copy_from_slice(&5u32.to_le_bytes());
    v[4..8].copy_from_slice(&x.to_le_bytes());
    v[8..].copy_from_slice(&y.to_le_bytes());
    v
}

#[no_mangle]
pub extern "C" fn main() -> i32 {
    let n: i32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let mut failed = 0;
    for i in 0..n {
        // SAFETY: every pointer is a live slice of this module's memory for the call.
        unsafe {
            let h = get_node(0, PATH.as_ptr(), PATH.len());
            let value = vector2(i as f32, 2.0 * i as f32);
            set(h, NAME.as_ptr(), NAME.len(), value.as_ptr(), value.len());
            let mut out = [0u8; 16];
            let len = get(h, NAME.as_ptr(), NAME.len(), out.as_mut_ptr(), out.len());
            if h <= 0 || len != 12 || out[..12] != value {
                failed += 1;
            }
        }
        if (i + 1) % 1000 == 0 {
            println!("done {}", i + 1);
        }
    }
    failed
}

/// Does nothing: the cost of `call_export` itself.
#[no_mangle]
pub extern "C" fn noop() {}
