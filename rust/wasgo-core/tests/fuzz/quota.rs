//! The level-2 WASI quota wrappers: random sequences of writes (any iovec count, appends, far
//! offsets), truncations, size changes, allocations, renames, directory creations and deletions
//! never leave the sandbox over its quota.

use super::harness::run;
use arbitrary::Unstructured;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasgo_core::sandbox::Sandbox;
use wasgo_core::*;

const QUOTA: u64 = 64 << 10;

const OPS: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_allocate" (func $allocate (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 8)
  (data (i32.const 0) "f0")
  (data (i32.const 16) "f1")
  (data (i32.const 32) "f2")
  (data (i32.const 48) "d0")
  (data (i32.const 64) "d0/f3")
  (func $len (param $i i32) (result i32) (if (result i32) (i32.eq (local.get $i) (i32.const 4)) (then (i32.const 5)) (else (i32.const 2))))
  (func $open (param $i i32) (param $oflags i32) (param $fdflags i32) (result i32)
    (if (call $path_open (i32.const 3) (i32.const 0) (i32.shl (local.get $i) (i32.const 4)) (call $len (local.get $i))
          (local.get $oflags) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (local.get $fdflags) (i32.const 300))
      (then (return (i32.const -1))))
    (i32.load (i32.const 300)))
  ;; `len` bytes from 65536 behind `n - 1` empty iovecs.
  (func $iovecs (param $n i32) (param $len i32)
    (local $i i32)
    (loop $fill
      (i64.store (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 3))) (i64.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $i (i32.add (i32.const 4096) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 3))))
    (i32.store (local.get $i) (i32.const 65536))
    (i32.store offset=4 (local.get $i) (local.get $len)))
  (func (export "write") (param $i i32) (param $n i32) (param $len i32) (param $append i32) (result i32)
    (local $fd i32) (local $e i32)
    (local.set $fd (call $open (local.get $i) (i32.const 1) (local.get $append)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (call $iovecs (local.get $n) (local.get $len))
    (local.set $e (call $fd_write (local.get $fd) (i32.const 4096) (local.get $n) (i32.const 304)))
    (drop (call $close (local.get $fd)))
    (local.get $e))
  (func (export "pwrite") (param $i i32) (param $at i64) (param $len i32) (result i32)
    (local $fd i32) (local $e i32)
    (local.set $fd (call $open (local.get $i) (i32.const 1) (i32.const 0)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (call $iovecs (i32.const 1) (local.get $len))
    (local.set $e (call $fd_pwrite (local.get $fd) (i32.const 4096) (i32.const 1) (local.get $at) (i32.const 304)))
    (drop (call $close (local.get $fd)))
    (local.get $e))
  (func (export "seek_write") (param $i i32) (param $at i64) (param $len i32) (result i32)
    (local $fd i32) (local $e i32)
    (local.set $fd (call $open (local.get $i) (i32.const 1) (i32.const 0)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (drop (call $fd_seek (local.get $fd) (local.get $at) (i32.const 0) (i32.const 312)))
    (call $iovecs (i32.const 1) (local.get $len))
    (local.set $e (call $fd_write (local.get $fd) (i32.const 4096) (i32.const 1) (i32.const 304)))
    (drop (call $close (local.get $fd)))
    (local.get $e))
  (func (export "set_size") (param $i i32) (param $size i64) (result i32)
    (local $fd i32) (local $e i32)
    (local.set $fd (call $open (local.get $i) (i32.const 1) (i32.const 0)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (local.set $e (call $set_size (local.get $fd) (local.get $size)))
    (drop (call $close (local.get $fd)))
    (local.get $e))
  (func (export "allocate") (param $i i32) (param $at i64) (param $len i64) (result i32)
    (local $fd i32) (local $e i32)
    (local.set $fd (call $open (local.get $i) (i32.const 1) (i32.const 0)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (local.set $e (call $allocate (local.get $fd) (local.get $at) (local.get $len)))
    (drop (call $close (local.get $fd)))
    (local.get $e))
  (func (export "truncate") (param $i i32) (result i32)
    (local $fd i32)
    (local.set $fd (call $open (local.get $i) (i32.const 9) (i32.const 0)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (call $close (local.get $fd)))
  (func (export "rename") (param $a i32) (param $b i32) (result i32)
    (call $rename (i32.const 3) (i32.shl (local.get $a) (i32.const 4)) (call $len (local.get $a))
      (i32.const 3) (i32.shl (local.get $b) (i32.const 4)) (call $len (local.get $b))))
  (func (export "mkdir") (param $i i32) (result i32)
    (call $mkdir (i32.const 3) (i32.shl (local.get $i) (i32.const 4)) (call $len (local.get $i))))
  (func (export "unlink") (param $i i32) (result i32)
    (call $unlink (i32.const 3) (i32.shl (local.get $i) (i32.const 4)) (call $len (local.get $i)))))"#;

fn runtime() -> &'static Arc<Runtime> {
    static RT: OnceLock<Arc<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::new(RuntimeConfig::default(), wasgo_core::Hosts::detached()).unwrap()
    })
}

fn size(u: &mut Unstructured<'_>) -> i32 {
    *u.choose(&[0, 1, 4096, 30_000, 65_535, 65_536, 65_537, 200_000])
        .unwrap_or(&1)
}

fn offset(u: &mut Unstructured<'_>) -> i64 {
    *u.choose(&[
        0i64,
        1,
        10_000,
        60_000,
        65_536,
        1 << 20,
        1 << 40,
        -1,
        i64::MAX,
    ])
    .unwrap_or(&0)
}

#[test]
fn wasi_quota_holds() {
    let rt = runtime();
    let module = rt.compile(OPS.as_bytes(), "quota_ops").unwrap();
    let mut case = 0u64;
    run("wasi_quota", 300, 128, |u| {
        case += 1;
        let dir =
            std::env::temp_dir().join(format!("wasgo-fuzz-quota-{}-{case}", std::process::id()));
        let cfg = InstanceConfig {
            name: "quota".into(),
            level: SafetyLevel::Wrapped,
            limits: Limits {
                memory_bytes: 16 << 20,
                callback_budget: Duration::from_secs(10),
                main_timeout: None,
                storage_bytes: QUOTA,
                ..Limits::default()
            },
            args: vec![],
            dirs: WasiDirs {
                sandbox: Some(dir.clone()),
                ..WasiDirs::default()
            },
            permissions: Permissions::new(),
            key: 0,
            network: NetworkConfig::default(),
        };
        cfg.permissions.grant(wasgo_core::Permission::Files);
        let mut inst = ModInstance::new(rt, &module, cfg).unwrap();
        let sandbox = Sandbox::new(dir.clone(), QUOTA);
        let mut log = Vec::new();
        for _ in 0..u.int_in_range(1..=24).unwrap_or(1) {
            let file = Val::I32(u.int_in_range(0..=4).unwrap_or(0));
            let (name, args) = match u.int_in_range(0..=8).unwrap_or(0) {
                0 => {
                    let n = *u.choose(&[1, 2, 1024, 1025, 3000]).unwrap_or(&1);
                    let append = u.int_in_range(0..=1).unwrap_or(0);
                    (
                        "write",
                        vec![file, Val::I32(n), Val::I32(size(u)), Val::I32(append)],
                    )
                }
                1 => ("pwrite", vec![file, Val::I64(offset(u)), Val::I32(size(u))]),
                2 => (
                    "seek_write",
                    vec![file, Val::I64(offset(u)), Val::I32(size(u))],
                ),
                3 => ("set_size", vec![file, Val::I64(offset(u))]),
                4 => (
                    "allocate",
                    vec![file, Val::I64(offset(u)), Val::I64(offset(u))],
                ),
                5 => ("truncate", vec![file]),
                6 => {
                    let to = Val::I32(u.int_in_range(0..=4).unwrap_or(0));
                    ("rename", vec![file, to])
                }
                7 => ("mkdir", vec![Val::I32(3)]),
                _ => ("unlink", vec![file]),
            };
            let outcome = inst.call(name, &args);
            log.push(format!("{name}{args:?} -> {outcome:?}"));
            if let Err(WasgoError::Trap(info)) = &outcome {
                assert!(!info.message.contains("host bug"), "{log:#?}");
            }
            let usage = sandbox.measure().expect("a shallow sandbox can be counted");
            assert!(usage.bytes <= QUOTA, "{} bytes after {log:#?}", usage.bytes);
        }
        drop(inst);
        let _ = std::fs::remove_dir_all(&dir);
    });
}
