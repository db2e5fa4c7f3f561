//! The instance pool (`wasgo/runtime/instance_pool_size`, [`InstancePool`]): a pool's slots
//! cap the instances alive at once with an error that names the setting, a slot given back is
//! taken again, a reused slot never shows the last instance's bytes (same module or another), a
//! memory cap above the slot is refused, the memory cap still traps inside a slot, and a pool
//! that cannot be reserved leaves the engine running without it.

use std::sync::Arc;
use wasgo_core::*;

/// One page of memory with data; `peek(addr)` loads a word, `poke(addr, v)` stores one,
/// `grow(pages)` grows the memory and answers the old size (or -1).
const TINY: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 16) "tiny module data")
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// Another module with the same functions and no data: it must see zeros where TINY wrote.
const BLANK: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

fn pooled(slots: i64, memory_mb: u64, layout: MemoryLayout, mode: RuntimeMode) -> Arc<Runtime> {
    let (pool, note) = InstancePool::from_setting(slots, memory_mb);
    assert_eq!(note, None);
    let config = RuntimeConfig {
        memory_layout: layout,
        mode,
        instance_pool: pool,
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(config, Hosts::detached()).unwrap();
    assert_eq!(rt.instance_pool(), pool, "{:?}", rt.pool_note());
    rt
}

fn instance(rt: &Arc<Runtime>, wat: &str, memory_mb: usize) -> Result<ModInstance, WasgoError> {
    let module = rt.compile(wat.as_bytes(), "pooled").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: memory_mb << 20,
            ..Limits::default()
        },
        ..InstanceConfig::new("pooled", SafetyLevel::Safe, rt.next_instance_key())
    };
    ModInstance::new(rt, &module, config)
}

/// The error `instance` answers for a start that must be refused; panics naming `why` if it
/// starts.
fn refusal(rt: &Arc<Runtime>, memory_mb: usize, why: &str) -> String {
    match instance(rt, TINY, memory_mb) {
        Err(err) => err.to_string(),
        Ok(_) => panic!("{why}"),
    }
}

/// Bytes of memory the first instance of the reuse test writes a word into every 4 KiB of.
const SPRAYED: i32 = 8 * 65_536;

fn i32s(vals: Vec<Val>) -> i32 {
    vals[0].unwrap_i32()
}

fn layouts() -> [(MemoryLayout, RuntimeMode); 3] {
    [
        (MemoryLayout::GuardPages, RuntimeMode::Compiled),
        (MemoryLayout::from_mb(0), RuntimeMode::Compiled),
        (MemoryLayout::from_mb(0), RuntimeMode::Interpreter),
    ]
}

#[test]
fn a_full_pool_refuses_the_next_start_by_name_and_a_freed_slot_is_taken_again() {
    for (layout, mode) in layouts() {
        let rt = pooled(3, 4, layout, mode);
        let mut live: Vec<ModInstance> = (0..3)
            .map(|_| instance(&rt, TINY, 4).expect("a free slot"))
            .collect();
        let err = refusal(
            &rt,
            4,
            &format!("a fourth instance in a pool of three ({layout:?}, {mode:?})"),
        );
        assert!(
            err.contains("instance_pool_size") && err.contains("3 slots"),
            "{err}"
        );
        // The three that live are unharmed, and a slot given back is taken again.
        for inst in &mut live {
            assert_eq!(
                i32s(inst.call("peek", &[Val::I32(16)]).unwrap()),
                i32::from_le_bytes(*b"tiny")
            );
        }
        drop(live.pop());
        let mut again = instance(&rt, TINY, 4).expect("the freed slot");
        assert_eq!(
            i32s(again.call("peek", &[Val::I32(16)]).unwrap()),
            i32::from_le_bytes(*b"tiny")
        );
    }
}

#[test]
fn a_reused_slot_never_shows_the_last_instances_bytes() {
    for (layout, mode) in layouts() {
        // One slot: every instance below takes the same one.
        let rt = pooled(1, 4, layout, mode);
        let far = 3 * 65_536 + 8;
        {
            let mut first = instance(&rt, TINY, 4).unwrap();
            first
                .call("poke", &[Val::I32(0), Val::I32(0x5ec2e7)])
                .unwrap();
            first
                .call("poke", &[Val::I32(16), Val::I32(0x5ec2e7)])
                .unwrap();
            // Grown pages too: the next instance's memory is one page again. Every host page
            // of 512 KiB dirtied: more than a slot keeps resident and resets in place
            // (`InstancePool::KEEP_RESIDENT`), so both ways of resetting a page are taken.
            assert_eq!(i32s(first.call("grow", &[Val::I32(7)]).unwrap()), 1);
            for addr in (0..SPRAYED).step_by(4096) {
                first
                    .call("poke", &[Val::I32(addr + 8), Val::I32(0x5ec2e7)])
                    .unwrap();
            }
            first
                .call("poke", &[Val::I32(far), Val::I32(0x5ec2e7)])
                .unwrap();
        }
        {
            // The same module: its data image again, not the last instance's writes.
            let mut same = instance(&rt, TINY, 4).unwrap();
            assert_eq!(i32s(same.call("peek", &[Val::I32(0)]).unwrap()), 0);
            assert_eq!(
                i32s(same.call("peek", &[Val::I32(16)]).unwrap()),
                i32::from_le_bytes(*b"tiny"),
                "{layout:?} {mode:?}"
            );
            // The grown pages are gone: the memory is one page again, and zeros once grown.
            assert_eq!(i32s(same.call("grow", &[Val::I32(7)]).unwrap()), 1);
            assert_eq!(i32s(same.call("peek", &[Val::I32(far)]).unwrap()), 0);
            for addr in (0..SPRAYED).step_by(4096) {
                assert_eq!(
                    i32s(same.call("peek", &[Val::I32(addr + 8)]).unwrap()),
                    0,
                    "{layout:?} {mode:?} at {}",
                    addr + 8
                );
            }
            same.call("poke", &[Val::I32(4), Val::I32(0x5ec2e7)])
                .unwrap();
        }
        // Another module in the slot: zeros everywhere.
        let mut other = instance(&rt, BLANK, 4).unwrap();
        for addr in [0, 4, 16, 20, 65_532] {
            assert_eq!(
                i32s(other.call("peek", &[Val::I32(addr)]).unwrap()),
                0,
                "{layout:?} {mode:?} at {addr}"
            );
        }
    }
}

#[test]
fn the_memory_cap_traps_inside_a_slot_and_a_cap_above_the_slot_is_refused() {
    for (layout, mode) in layouts() {
        let rt = pooled(2, 4, layout, mode);
        let mut inst = instance(&rt, TINY, 2).unwrap();
        // 2 MiB = 32 pages: growing to it works, one page more is the memory-limit trap.
        assert_eq!(i32s(inst.call("grow", &[Val::I32(31)]).unwrap()), 1);
        let err = inst.call("grow", &[Val::I32(1)]).unwrap_err().to_string();
        assert!(err.contains("memory limit exceeded"), "{err}");
        // A node asking for more than the slot holds is refused before anything is made.
        let err = refusal(
            &rt,
            8,
            &format!("an 8 MiB cap in 4 MiB slots ({layout:?}, {mode:?})"),
        );
        assert!(
            err.contains("memory_limit_mb") && err.contains("wasgo/limits/memory_mb"),
            "{err}"
        );
        assert!(instance(&rt, TINY, 4).is_ok(), "the refusal took no slot");
    }
}

#[test]
fn a_pool_too_large_to_reserve_leaves_the_engine_running_without_it() {
    // A million slots of 4 GiB and guards is far more than a 47-bit address space.
    let (pool, _) = InstancePool::from_setting(1_000_000, 64);
    let config = RuntimeConfig {
        memory_layout: MemoryLayout::GuardPages,
        instance_pool: pool,
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(config, Hosts::detached()).unwrap();
    assert_eq!(rt.instance_pool(), None);
    let note = rt.pool_note().expect("why the pool is off");
    assert!(note.contains("instance_pool_size"), "{note}");
    let mut inst = instance(&rt, TINY, 64).unwrap();
    assert_eq!(
        i32s(inst.call("peek", &[Val::I32(16)]).unwrap()),
        i32::from_le_bytes(*b"tiny")
    );
}

/// Two modules taking turns in a pool with unused slots: each keeps its own slots (a slot that
/// changes module maps the other module's image again, 15–20 us more per start; BENCHMARKS.md,
/// "Nineteenth pass"). Wasmtime's default lets a new module take slots another one used as soon
/// as 100 such slots wait, even with never-used ones left. Wasmtime splits a pool this large
/// into one part per core (at most 16) and a thread takes from its own part first, so the pool
/// here holds both modules' instances in one part.
#[test]
fn modules_taking_turns_keep_their_slots_while_the_pool_has_unused_ones() {
    let parts = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(16);
    // More than wasmtime's default of 100 slots waiting for their module.
    let wave = 150;
    let rt = pooled(
        (parts * 2 * wave) as i64,
        1,
        MemoryLayout::from_mb(0),
        RuntimeMode::Compiled,
    );
    let modules = [
        rt.compile(TINY.as_bytes(), "tiny").unwrap(),
        rt.compile(BLANK.as_bytes(), "blank").unwrap(),
    ];
    let warm = |rt: &Arc<Runtime>| {
        rt.engine()
            .pooling_allocator_metrics()
            .expect("a pooled engine")
            .unused_warm_memories() as usize
    };
    for round in 0..3 {
        for (m, module) in modules.iter().enumerate() {
            let alive: Vec<ModInstance> = (0..wave)
                .map(|_| {
                    let config = InstanceConfig {
                        limits: Limits {
                            memory_bytes: 1 << 20,
                            ..Limits::default()
                        },
                        ..InstanceConfig::new("turns", SafetyLevel::Safe, rt.next_instance_key())
                    };
                    ModInstance::new(&rt, module, config).unwrap()
                })
                .collect();
            drop(alive);
            // Every slot either module used is still waiting for it: none changed module.
            let expected = if round == 0 && m == 0 { wave } else { 2 * wave };
            assert_eq!(
                warm(&rt),
                expected,
                "slots waiting for their module after round {round}, module {m}"
            );
        }
    }
}
