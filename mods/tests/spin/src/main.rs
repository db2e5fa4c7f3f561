//! `spin`: `main` never returns. Used to check that `WasmScript.kill()` stops a busy worker
//! thread within 10 ms.

fn main() {
    let mut counter: u64 = 0;
    loop {
        // `black_box` keeps the loop (and its side effect) from being optimised away.
        counter = core::hint::black_box(counter.wrapping_add(1));
    }
}
