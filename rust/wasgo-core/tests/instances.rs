//! Instances cheaply (issue 14 item 5): the compact memory layout
//! ([`MemoryLayout`](wasgo_core::MemoryLayout)) keeps a mod's memory behaving as the guard-page
//! layout does (bounds, growth, the memory cap, both execution modes), artifacts never cross
//! layouts, and 100,000 small instances live at once.

use std::path::PathBuf;
use std::sync::Arc;
use wasgo_core::*;

/// One page of memory with data; `init` writes a word; `peek(addr)` loads one; `grow(pages)`
/// grows the memory and answers the old size (or -1).
const TINY: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 16) "tiny module data")
  (func (export "init") (i32.store (i32.const 0) (i32.const 42)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// `main` returns 42.
const ANSWER: &str = r#"(module (func (export "main") (result i32) i32.const 42))"#;

fn runtime(layout: MemoryLayout, mode: RuntimeMode) -> Arc<Runtime> {
    let config = RuntimeConfig {
        memory_layout: layout,
        mode,
        ..RuntimeConfig::default()
    };
    Runtime::new(config, Hosts::detached()).unwrap()
}

fn compact() -> MemoryLayout {
    MemoryLayout::from_mb(0)
}

fn tiny(rt: &Arc<Runtime>, memory_mb: usize) -> ModInstance {
    let module = rt.compile(TINY.as_bytes(), "tiny").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            memory_bytes: memory_mb << 20,
            ..Limits::default()
        },
        ..InstanceConfig::new("tiny", SafetyLevel::Safe, rt.next_instance_key())
    };
    ModInstance::new(rt, &module, config).unwrap()
}

fn i32s(vals: Vec<Val>) -> i32 {
    vals[0].unwrap_i32()
}

#[test]
fn a_compact_memory_reads_writes_grows_past_its_reservation_and_keeps_its_bytes() {
    for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
        let rt = runtime(compact(), mode);
        let mut inst = tiny(&rt, 16);
        assert_eq!(i32s(inst.call("peek", &[Val::I32(0)]).unwrap()), 42);
        // The data segment is there (b"tiny" little-endian).
        assert_eq!(
            i32s(inst.call("peek", &[Val::I32(16)]).unwrap()),
            i32::from_le_bytes(*b"tiny")
        );
        inst.call("poke", &[Val::I32(65_532), Val::I32(7)]).unwrap();
        // Nothing was reserved to grow into: the memory moves, its bytes with it.
        for _ in 0..20 {
            assert!(i32s(inst.call("grow", &[Val::I32(3)]).unwrap()) > 0);
        }
        assert_eq!(i32s(inst.call("peek", &[Val::I32(65_532)]).unwrap()), 7);
        assert_eq!(i32s(inst.call("peek", &[Val::I32(0)]).unwrap()), 42);
        let last = 61 * 65_536 - 4;
        inst.call("poke", &[Val::I32(last), Val::I32(9)]).unwrap();
        assert_eq!(i32s(inst.call("peek", &[Val::I32(last)]).unwrap()), 9);
        assert_eq!(inst.memory_in_use(), 61 * 65_536, "{mode:?}");
    }
}

#[test]
fn a_compact_memory_traps_on_an_access_past_its_end_in_both_modes() {
    for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
        let rt = runtime(compact(), mode);
        let mut inst = tiny(&rt, 16);
        // The last word is in bounds, one byte further is not.
        inst.call("peek", &[Val::I32(65_532)]).unwrap();
        match inst.call("peek", &[Val::I32(65_533)]) {
            Err(WasgoError::Trap(info)) => {
                assert!(info.message.contains("out of bounds"), "{}", info.message)
            }
            other => panic!("{mode:?}: expected an out-of-bounds trap, got {other:?}"),
        }
        assert_eq!(inst.status(), ModStatus::Trapped);
    }
}

#[test]
fn the_memory_cap_holds_in_the_compact_layout() {
    let rt = runtime(compact(), RuntimeMode::Compiled);
    let mut inst = tiny(&rt, 1);
    // 1 MiB is 16 pages: 15 more fit, the 16th is over the cap and the grow fails or traps.
    assert_eq!(i32s(inst.call("grow", &[Val::I32(15)]).unwrap()), 1);
    match inst.call("grow", &[Val::I32(1)]) {
        Ok(v) => assert_eq!(i32s(v), -1),
        Err(WasgoError::Trap(_)) => {}
        Err(e) => panic!("expected the grow to fail, got {e}"),
    }
    assert!(inst.memory_in_use() <= 1 << 20);
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasgo-instances-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_disk_cache_never_loads_code_compiled_for_the_other_memory_layout() {
    let dir = temp_dir("layouts");
    let disk = |layout: MemoryLayout| RuntimeConfig {
        cache_dir: Some(dir.join("cache")),
        cache_key_file: Some(dir.join("cache.key")),
        memory_layout: layout,
        ..RuntimeConfig::default()
    };
    let run = |rt: &Arc<Runtime>| {
        let module = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
        let cfg = InstanceConfig::new("answer", SafetyLevel::Safe, rt.next_instance_key());
        let mut inst = ModInstance::new(rt, &module, cfg).unwrap();
        assert_eq!(i32s(inst.call("main", &[]).unwrap()), 42);
        let s = rt.stats();
        (s.compiles, s.cache_hits, s.cache_rejects)
    };
    let guard = Runtime::new(disk(MemoryLayout::GuardPages), Hosts::detached()).unwrap();
    assert_eq!(run(&guard), (1, 0, 0));
    drop(guard);
    // The other layout compiles its own code and keeps it beside the first.
    let compact_rt = Runtime::new(disk(compact()), Hosts::detached()).unwrap();
    assert_eq!(run(&compact_rt), (1, 0, 0));
    drop(compact_rt);
    // Each layout finds its own file again.
    for layout in [MemoryLayout::GuardPages, compact()] {
        let rt = Runtime::new(disk(layout), Hosts::detached()).unwrap();
        assert_eq!(run(&rt), (0, 1, 0), "{layout:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_precompiled_artifact_of_the_other_memory_layout_is_refused() {
    let key = ArtifactKey::new(&[3; 32]).unwrap();
    let maker = runtime(MemoryLayout::GuardPages, RuntimeMode::Compiled);
    let artifact = maker.precompile(ANSWER.as_bytes(), "answer", &key).unwrap();
    let other = runtime(compact(), RuntimeMode::Compiled);
    match other.load_precompiled(&artifact, "answer", &key) {
        Err(WasgoError::Precompiled { .. }) => {}
        Ok(_) => panic!("an artifact of the guard-page layout loaded in a compact engine"),
        Err(e) => panic!("expected a precompiled-artifact refusal, got {e}"),
    }
    let same = runtime(MemoryLayout::GuardPages, RuntimeMode::Compiled);
    assert!(same.load_precompiled(&artifact, "answer", &key).is_ok());
}

/// 100,000 instances of a small module alive at once, then dropped. The guard-page layout cannot:
/// it runs out of kernel mappings near 21,800 instances (three per memory against the default
/// `vm.max_map_count` of 65,530) and out of address space near 31,000 (128 TiB over 4 GiB plus
/// guards). About 13 s and 1.4 GB of resident memory in a debug build on two idle cores.
#[test]
fn a_hundred_thousand_small_instances_live_at_once_in_the_compact_layout() {
    const N: usize = 100_000;
    let rt = runtime(compact(), RuntimeMode::Compiled);
    let module = rt.compile(TINY.as_bytes(), "tiny").unwrap();
    let mut live = Vec::with_capacity(N);
    for i in 0..N {
        let config = InstanceConfig::new("tiny", SafetyLevel::Safe, rt.next_instance_key());
        match ModInstance::new(&rt, &module, config) {
            Ok(inst) => live.push(inst),
            Err(e) => panic!("instance {i} of {N} could not be made: {e}"),
        }
    }
    assert_eq!(rt.stats().instances, N as u64);
    // Every one is usable: its own memory, its `init` ran.
    for i in [0, N / 2, N - 1] {
        assert_eq!(i32s(live[i].call("peek", &[Val::I32(0)]).unwrap()), 42);
    }
    drop(live);
    assert_eq!(rt.stats().instances, 0);
}

/// The frame driver's prefetch (`wasgo_core::prefetch`): an instance of a module built the way
/// LLVM builds one (a mutable `i32` shadow-stack global, data segments) names the places in its
/// memory its entries touch first, at the module's offsets from the memory's start, in both
/// layouts; an instance of a module without them names only its own state.
#[test]
fn an_instance_names_the_places_in_its_memory_its_entries_touch_first() {
    let llvm_like = wat::parse_str(
        r#"(module
          (memory (export "memory") 2)
          (global $sp (mut i32) (i32.const 65536))
          (data (i32.const 65536) "statics")
          (data (i32.const 70000) "bss")
          (func (export "init")))"#,
    )
    .unwrap();
    let plain =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "init")))"#).unwrap();
    for layout in [MemoryLayout::GuardPages, compact()] {
        let rt = runtime(layout, RuntimeMode::Compiled);
        let module = rt.compile(&llvm_like, "llvm_like").unwrap();
        assert_eq!(
            module.memory_hints(),
            prefetch::MemoryHints {
                stack_top: Some(65536),
                first_data: Some(65536),
                last_data: Some(70000),
            }
        );
        let config = InstanceConfig::new("llvm_like", SafetyLevel::Safe, rt.next_instance_key());
        let inst = ModInstance::new(&rt, &module, config).unwrap();
        let hot: Vec<usize> = inst.hot_addresses().addresses().collect();

        let module = rt.compile(&plain, "plain").unwrap();
        assert_eq!(module.memory_hints(), prefetch::MemoryHints::default());
        let config = InstanceConfig::new("plain", SafetyLevel::Safe, rt.next_instance_key());
        let plain_inst = ModInstance::new(&rt, &module, config).unwrap();
        let own = plain_inst.hot_addresses().addresses().count();
        assert!(own > 0, "{layout:?}: the instance's own state is named");

        // The memory's places come last: the line under the stack's top, the two segments.
        assert_eq!(hot.len(), own + 3, "{layout:?}: {hot:x?}");
        let memory = &hot[own..];
        assert_eq!(memory[1] - memory[0], 64, "{layout:?}");
        assert_eq!(memory[2] - memory[1], (70000 & !63) - 65536, "{layout:?}");
    }
}

/// A module with exports of every entry shape: `() -> ()`, `(f64) -> ()`, numbers, a trap.
const SHAPES: &str = r#"(module
  (global $g (mut f64) (f64.const 0))
  (func (export "unit") (global.set $g (f64.add (global.get $g) (f64.const 1))))
  (func (export "step") (param f64) (global.set $g (f64.add (global.get $g) (local.get 0))))
  (func (export "total") (result f64) (global.get $g))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "boom") unreachable)
  (func (export "never") (result i32) i32.const 7))"#;

/// An instance resolves each export at its first call, not when it is made: every shape, called
/// first after others and with wrong arguments first, answers as it would have; a name the
/// module lacks is `NoSuchExport`; after a trap, an export never called before reports the end
/// (not a host bug).
#[test]
fn exports_resolved_at_their_first_call_answer_as_before_and_after_the_end() {
    for mode in [RuntimeMode::Compiled, RuntimeMode::Interpreter] {
        let rt = runtime(MemoryLayout::GuardPages, mode);
        let module = rt.compile(SHAPES.as_bytes(), "shapes").unwrap();
        let config = InstanceConfig::new("shapes", SafetyLevel::Safe, rt.next_instance_key());
        let mut inst = ModInstance::new(&rt, &module, config).unwrap();
        let wrong = inst.call("add", &[Val::I32(2)]).unwrap_err();
        assert!(
            matches!(wrong, WasgoError::BadArguments(_)),
            "{mode:?}: {wrong}"
        );
        assert_eq!(
            i32s(inst.call("add", &[Val::I32(2), Val::I32(3)]).unwrap()),
            5
        );
        inst.call("step", &[Val::F64(2.5f64.to_bits())]).unwrap();
        inst.call("unit", &[]).unwrap();
        inst.call("unit", &[]).unwrap();
        let total = inst.call("total", &[]).unwrap();
        assert_eq!(total[0].unwrap_f64(), 4.5, "{mode:?}");
        let missing = inst.call("nothing", &[]).unwrap_err();
        assert!(
            matches!(missing, WasgoError::NoSuchExport { .. }),
            "{mode:?}: {missing}"
        );
        let trap = inst.call("boom", &[]).unwrap_err();
        assert!(matches!(trap, WasgoError::Trap(_)), "{mode:?}: {trap}");
        let after = inst.call("never", &[]).unwrap_err();
        assert!(
            matches!(after, WasgoError::Ended { .. }),
            "{mode:?}: {after}"
        );
    }
}

/// A mod that asks WASI for its arguments and environment: `sizes()` answers `argc * 1000 +
/// buffer bytes`, `args(at)` writes the pointers at 64 and the bytes at `at`, `env()` answers
/// `count * 1000 + bytes` of the environment, `bad_argc()` passes a misaligned result pointer and
/// `bad_buf()` a buffer past the end of memory.
const ARGS: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $env_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "sizes") (result i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 1000)) (i32.load (i32.const 4))))
  (func (export "args") (param i32) (result i32) (call $get (i32.const 64) (local.get 0)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "peek8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "env") (result i32)
    (i32.store (i32.const 8) (i32.const 77))
    (i32.store (i32.const 12) (i32.const 77))
    (drop (call $env_sizes (i32.const 8) (i32.const 12)))
    (drop (call $env_get (i32.const 16) (i32.const 32)))
    (i32.add (i32.mul (i32.load (i32.const 8)) (i32.const 1000)) (i32.load (i32.const 12))))
  (func (export "bad_argc") (result i32) (call $sizes (i32.const 2) (i32.const 4)))
  (func (export "bad_buf") (result i32) (call $get (i32.const 64) (i32.const 65530))))"#;

/// WASI's arguments are the mod's name, then its `args`, each with a NUL after it, pointed to
/// in order; the environment below level 3 is empty; a misaligned or out-of-memory pointer
/// traps, naming the function.
#[test]
fn wasi_arguments_are_the_name_then_the_args_and_the_environment_is_empty_below_level_3() {
    for (mode, level) in [
        (RuntimeMode::Compiled, SafetyLevel::Safe),
        (RuntimeMode::Compiled, SafetyLevel::Wrapped),
        (RuntimeMode::Interpreter, SafetyLevel::Safe),
    ] {
        let rt = runtime(MemoryLayout::GuardPages, mode);
        let module = rt.compile(ARGS.as_bytes(), "argsmod").unwrap();
        let start = |rt: &Arc<Runtime>| {
            let config = InstanceConfig {
                args: vec!["one".into(), "two words".into()],
                ..InstanceConfig::new("argsmod", level, rt.next_instance_key())
            };
            ModInstance::new(rt, &module, config).unwrap()
        };
        let mut inst = start(&rt);
        // argsmod, one, two words: 3 arguments, 8 + 4 + 10 bytes with their NULs.
        assert_eq!(i32s(inst.call("sizes", &[]).unwrap()), 3 * 1000 + 22);
        assert_eq!(i32s(inst.call("args", &[Val::I32(256)]).unwrap()), 0);
        let pointers: Vec<i32> = (0..3)
            .map(|i| i32s(inst.call("peek", &[Val::I32(64 + 4 * i)]).unwrap()))
            .collect();
        assert_eq!(pointers, [256, 264, 268], "{mode:?} {level:?}");
        let text: Vec<u8> = (256..278)
            .map(|at| i32s(inst.call("peek8", &[Val::I32(at)]).unwrap()) as u8)
            .collect();
        assert_eq!(text, b"argsmod\0one\0two words\0".to_vec());
        assert_eq!(i32s(inst.call("env", &[]).unwrap()), 0, "{level:?}");
        let misaligned = inst.call("bad_argc", &[]).unwrap_err().to_string();
        assert!(
            misaligned.contains("args_sizes_get") && misaligned.contains("aligned"),
            "{misaligned}"
        );
        let mut inst = start(&rt);
        let outside = inst.call("bad_buf", &[]).unwrap_err().to_string();
        assert!(
            outside.contains("args_get") && outside.contains("outside the mod's memory"),
            "{outside}"
        );
    }
}
