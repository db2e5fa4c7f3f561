//! `bench_position`: the mod side of `cargo xtask bench`. Each export sets the position of the
//! node at `../Bench` `n` times and returns how many calls failed (0 expected).

#[link(wasm_import_module = "wasgo")]
extern "C" {
    fn get_node(from: i32, ptr: *const u8, len: usize) -> i32;
    fn set(h: i32, np: *const u8, nl: usize, vp: *const u8, vl: usize) -> i32;
    fn set_vec2(h: i32, np: *const u8, nl: usize, x: f32, y: f32) -> i32;
}

const NAME: &str = "position";

fn target() -> i32 {
    let path = "../Bench";
    // SAFETY: `path` is a live slice of this module's memory for the call.
    unsafe { get_node(0, path.as_ptr(), path.len()) }
}

/// `n` calls of the typed fast path `wasgo.set_vec2`.
#[no_mangle]
pub extern "C" fn bench_fast(n: i32) -> i32 {
    let h = target();
    let mut failed = 0;
    for i in 0..n {
        // SAFETY: `NAME` is a live slice of this module's memory for the call.
        if unsafe { set_vec2(h, NAME.as_ptr(), NAME.len(), i as f32, i as f32) } != 0 {
            failed += 1;
        }
    }
    failed
}

/// `n` calls of the generic `wasgo.set` with a Variant-encoded Vector2.
#[no_mangle]
pub extern "C" fn bench_set(n: i32) -> i32 {
    let h = target();
    let mut failed = 0;
    let mut value = [0u8; 12];
    value[..4].copy_from_slice(&5u32.to_le_bytes()); // Variant type VECTOR2
    for i in 0..n {
        value[4..8].copy_from_slice(&(i as f32).to_le_bytes());
        value[8..12].copy_from_slice(&(i as f32).to_le_bytes());
        // SAFETY: both slices are live in this module's memory for the call.
        if unsafe { set(h, NAME.as_ptr(), NAME.len(), value.as_ptr(), value.len()) } != 0 {
            failed += 1;
        }
    }
    failed
}
