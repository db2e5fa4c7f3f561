//! Times each kernel (best of 3) with the sizes `bench/bench_compute.gd` uses and prints
//! `bench-native <name> <ms> ms <result>` lines for `cargo xtask bench`.

#[path = "../../src/kernels.rs"]
mod kernels;

use std::hint::black_box;
use std::time::Instant;

fn best_of_3<R: std::fmt::Display>(name: &str, run: impl Fn() -> R) {
    let mut best = f64::MAX;
    let mut result = String::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = run();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        result = r.to_string();
    }
    println!("bench-native {name} {best:.3} ms {result}");
}

fn main() {
    best_of_3("fib", || kernels::fib(black_box(30)));
    best_of_3("mixed_loop", || kernels::mixed_loop(black_box(10_000_000)));
    best_of_3("particles", || kernels::particles(black_box(1000)));
}
