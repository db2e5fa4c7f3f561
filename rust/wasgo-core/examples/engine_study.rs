//! What each wasmtime setting WasGo chooses costs the compute kernels (issue 14's configuration
//! study): runs the exports `fib(30)`, `mixed_loop(10_000_000)` and `particles(1000)` of a
//! module (`mods/tests/bench_compute`, built by `cargo xtask mods`) under several engine
//! configurations, best of 5 each, and prints the times and the ratio to WasGo's own.
//!
//! ```text
//! cargo run --release -p wasgo-core --example engine_study -- godot_project/tests/mods/bench_compute.wasm [more.wasm]
//! ```
//!
//! Each configuration differs from WasGo's (`Runtime::new`: Cranelift at `Speed`, epoch
//! interruption on, default memory reservation with guard pages) in one setting. A ticker thread
//! advances the epoch every millisecond, as WasGo's does while mods run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, Instance, Module, OptLevel, Store, UpdateDeadline};

fn configs() -> Vec<(&'static str, Config)> {
    let wasgo = || {
        let mut c = Config::new();
        c.epoch_interruption(true);
        c.cranelift_opt_level(OptLevel::Speed);
        c
    };
    let mut no_epoch = wasgo();
    no_epoch.epoch_interruption(false);
    let mut bounds_checked = wasgo();
    // No virtual reservation beyond the memory itself: every access is bounds-checked in code.
    bounds_checked.memory_reservation(0);
    bounds_checked.memory_guard_size(0);
    bounds_checked.memory_reservation_for_growth(1 << 20);
    let mut small_guard = wasgo();
    small_guard.memory_reservation(1 << 30);
    small_guard.memory_guard_size(64 << 10);
    let mut no_opt = wasgo();
    no_opt.cranelift_opt_level(OptLevel::None);
    let mut fuel = wasgo();
    fuel.epoch_interruption(false);
    fuel.consume_fuel(true);
    vec![
        ("wasgo (epoch, 4 GiB reservation, Speed)", wasgo()),
        ("no epoch interruption", no_epoch),
        ("fuel instead of epochs", fuel),
        ("explicit bounds checks (no reservation)", bounds_checked),
        ("1 GiB reservation, 64 KiB guard", small_guard),
        ("Cranelift opt-level None", no_opt),
    ]
}

fn run(engine: &Engine, module: &Module, fuel: bool) -> Vec<f64> {
    let mut store = Store::new(engine, ());
    if fuel {
        store.set_fuel(u64::MAX).unwrap();
    }
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
    store.set_epoch_deadline(1);
    let instance = Instance::new(&mut store, module, &[]).expect("the kernels import nothing");
    let fib = instance
        .get_typed_func::<i32, i64>(&mut store, "fib")
        .unwrap();
    let mixed = instance
        .get_typed_func::<i32, f64>(&mut store, "mixed_loop")
        .unwrap();
    let particles = instance
        .get_typed_func::<i32, f64>(&mut store, "particles")
        .unwrap();
    let mut best = [f64::MAX; 3];
    for _ in 0..5 {
        let t = Instant::now();
        fib.call(&mut store, 30).unwrap();
        best[0] = best[0].min(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        mixed.call(&mut store, 10_000_000).unwrap();
        best[1] = best[1].min(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        particles.call(&mut store, 1000).unwrap();
        best[2] = best[2].min(t.elapsed().as_secs_f64() * 1e3);
    }
    best.to_vec()
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    assert!(!paths.is_empty(), "give the kernels' .wasm file(s)");
    for path in paths {
        let bytes = std::fs::read(&path).expect("read the module");
        println!("\n{path}: best of 5, ms (ratio to WasGo's configuration)");
        println!(
            "{:<42} {:>16} {:>16} {:>16}",
            "configuration", "fib(30)", "mixed_loop(1e7)", "particles(1000)"
        );
        let mut base: Option<Vec<f64>> = None;
        for (name, config) in configs() {
            let fuel = name.starts_with("fuel");
            let engine = Engine::new(&config).unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let ticker = {
                let (engine, stop) = (engine.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(1));
                        engine.increment_epoch();
                    }
                })
            };
            let module = Module::new(&engine, &bytes).unwrap();
            let times = run(&engine, &module, fuel);
            stop.store(true, Ordering::Relaxed);
            ticker.join().unwrap();
            let base = base.get_or_insert_with(|| times.clone());
            let cell = |i: usize| format!("{:.2} ({:.2}x)", times[i], times[i] / base[i]);
            println!("{name:<42} {:>16} {:>16} {:>16}", cell(0), cell(1), cell(2));
        }
    }
}
