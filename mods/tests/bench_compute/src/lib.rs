//! `bench_compute`: the compute kernels as mod exports, each taking its size so nothing is
//! folded at compile time. `bench/bench_compute.gd` times them through `call_export`.

mod kernels;

/// `fib(n) -> i64`.
#[no_mangle]
pub extern "C" fn fib(n: i32) -> i64 {
    kernels::fib(n as u32) as i64
}

/// `mixed_loop(n) -> f64`.
#[no_mangle]
pub extern "C" fn mixed_loop(n: i32) -> f64 {
    kernels::mixed_loop(n as u32)
}

/// `particles(steps) -> f64`.
#[no_mangle]
pub extern "C" fn particles(steps: i32) -> f64 {
    kernels::particles(steps as u32)
}
