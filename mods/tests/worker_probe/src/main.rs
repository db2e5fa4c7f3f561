//! `worker_probe`: `main` stays busy for about 300 ms (measured with WASI clocks), then prints
//! `done`. Used to check that Godot's frames keep coming while `main` runs on its worker thread.

use std::time::{Duration, Instant};

const BUSY_FOR: Duration = Duration::from_millis(300);

fn main() {
    let start = Instant::now();
    let mut spins: u64 = 0;
    while start.elapsed() < BUSY_FOR {
        spins = core::hint::black_box(spins.wrapping_add(1));
    }
    println!("done");
}
