//! What an instance costs without Godot (issue 14 item 5): instantiates N instances of a module
//! (with its `_initialize`/`init`) through `ModInstance::new`, keeps them alive, and prints the
//! time per 1000, the resident memory and kernel mappings each idle instance adds, then drops
//! them; twice per memory layout (see `wasgo_core::memory_layout`), with and without an
//! instance pool (`wasgo_core::instance_pool`): the second round (`again`) takes what the
//! first gave back, which is where a pool's slots are reused.
//!
//! ```text
//! cargo run --release -p wasgo-core --example instance_study -- [N] [module.wasm] [level]
//! ```
//!
//! The instances run at safety `level` (1, the default project level, unless given). Without a
//! module it uses a tiny one (one 64 KiB page of memory, a 16-byte data segment, an
//! `init` that writes one word). Linux only (it reads `/proc/self/statm` and `/proc/self/maps`).

use std::sync::Arc;
use std::time::Instant;
use wasgo_core::hosts::Hosts;
use wasgo_core::instance::{InstanceConfig, ModInstance};
use wasgo_core::instance_pool::InstancePool;
use wasgo_core::level::SafetyLevel;
use wasgo_core::memory_layout::MemoryLayout;
use wasgo_core::mode::RuntimeMode;
use wasgo_core::module::CompiledModule;
use wasgo_core::runtime::{Runtime, RuntimeConfig};

const TINY: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 16) "tiny module data")
  (global $n (mut i32) (i32.const 0))
  (func (export "init") (i32.store (i32.const 0) (i32.const 42)))
  (func (export "process") (param f64) (global.set $n (i32.add (global.get $n) (i32.const 1)))))"#;

/// Resident bytes of this process.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Kernel mappings (VMAs) of this process.
fn maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().count())
        .unwrap_or(0)
}

fn study(label: &str, layout: MemoryLayout, pool: bool, mode: RuntimeMode, bytes: &[u8], n: usize) {
    let config = RuntimeConfig {
        memory_layout: layout,
        mode,
        // Slots of 64 MiB (the default memory cap), one more than the instances.
        instance_pool: pool
            .then(|| InstancePool::from_setting(n as i64 + 1, 64).0)
            .flatten(),
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(config, Hosts::detached()).expect("the engine starts");
    if let Some(note) = rt.pool_note() {
        println!("{label}: {note}");
        return;
    }
    let module = rt.compile(bytes, "study").expect("the module compiles");
    // One instance first: linking and the first allocations are not what is measured.
    let level = study_level();
    drop(ModInstance::new(
        &rt,
        &module,
        InstanceConfig::new("study", level, rt.next_instance_key()),
    ));
    for round in ["first", "again"] {
        one_round(&format!("{label}, {round}"), &rt, &module, n);
    }
}

/// Makes `n` instances of `module`, keeps them, prints what they cost and drops them.
fn one_round(label: &str, rt: &Arc<Runtime>, module: &Arc<CompiledModule>, n: usize) {
    let level = study_level();
    let (rss0, maps0) = (rss(), maps());
    let mut live = Vec::with_capacity(n);
    let t = Instant::now();
    let mut failed = None;
    for i in 0..n {
        let config = InstanceConfig::new("study", level, rt.next_instance_key());
        match ModInstance::new(rt, module, config) {
            Ok(instance) => live.push(instance),
            Err(e) => {
                failed = Some(format!("instance {i} failed: {e}"));
                break;
            }
        }
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let made = live.len().max(1) as f64;
    let (rss1, maps1) = (rss(), maps());
    let t = Instant::now();
    drop(live);
    let drop_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{label:<44} {:>8.2} ms/1000  {:>7.1} KiB RSS/instance  {:>5.2} maps/instance  drop {:>7.1} ms{}",
        ms / made * 1000.0,
        (rss1.saturating_sub(rss0)) as f64 / made / 1024.0,
        (maps1.saturating_sub(maps0)) as f64 / made,
        drop_ms,
        failed.map(|f| format!("  ({f})")).unwrap_or_default()
    );
}

/// The level of the third argument (1 when there is none or it names no level).
fn study_level() -> SafetyLevel {
    std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .and_then(SafetyLevel::from_number)
        .unwrap_or(SafetyLevel::Safe)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let bytes = match args.next() {
        Some(path) => std::fs::read(&path).expect("the module file is readable"),
        None => TINY.as_bytes().to_vec(),
    };
    println!(
        "{n} live instances, level {}, best layout first to last:",
        study_level().number()
    );
    for (label, layout, pool) in [
        (
            "guard pages (4 GiB + guards)",
            MemoryLayout::GuardPages,
            false,
        ),
        ("compact, 0 MiB growth", MemoryLayout::from_mb(0), false),
        ("compact, 1 MiB growth", MemoryLayout::from_mb(1), false),
        ("compact, 64 MiB growth", MemoryLayout::from_mb(64), false),
        ("pool, guard pages", MemoryLayout::GuardPages, true),
        (
            "pool, compact (64 MiB slots)",
            MemoryLayout::from_mb(0),
            true,
        ),
    ] {
        study(label, layout, pool, RuntimeMode::Auto, &bytes, n);
    }
    study(
        "interpreter, compact 0",
        MemoryLayout::from_mb(0),
        false,
        RuntimeMode::Interpreter,
        &bytes,
        n,
    );
}
