//! The batched frame path (`ModInstance::call_each`): one entry calls an `(i32, f64)` export for
//! every handle the owner hands it, under one callback budget.

use std::cell::Cell;
use std::time::Duration;
use wasgo_core::*;

/// `process_node(node, delta)` adds `node` to a sum and counts its calls; node 13 spins;
/// `wrong_shape(node)` has the wrong signature.
const GROUP_MOD: &str = r#"(module
  (global $sum (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))
  (func (export "process_node") (param i32 f64)
    (if (i32.eq (local.get 0) (i32.const 13)) (then (loop $l (br $l))))
    (global.set $sum (i32.add (global.get $sum) (local.get 0)))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  (func (export "wrong_shape") (param i32))
  (func (export "sum") (result i32) (global.get $sum))
  (func (export "calls") (result i32) (global.get $calls)))"#;

fn instance(budget_ms: u64) -> (std::sync::Arc<Runtime>, ModInstance) {
    instance_of(GROUP_MOD, "group", budget_ms)
}

/// An instance of `source` named `name` whose callback budget is `budget_ms` (one strike).
fn instance_of(source: &str, name: &str, budget_ms: u64) -> (std::sync::Arc<Runtime>, ModInstance) {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let module = rt.compile(source.as_bytes(), name).unwrap();
    let config = InstanceConfig {
        limits: Limits {
            callback_budget: Duration::from_millis(budget_ms),
            callback_wall_backstop_factor: 4,
            budget_strikes: 1,
            ..Limits::default()
        },
        ..InstanceConfig::new(name, SafetyLevel::Safe, rt.next_instance_key())
    };
    let inst = ModInstance::new(&rt, &module, config).unwrap();
    (rt, inst)
}

fn read(inst: &ModInstance, export: &str) -> i32 {
    inst.call_shared(export, &[]).unwrap()[0].unwrap_i32()
}

/// The handles of `list`, one per call, then the end of the pass.
fn handles(list: &[i32]) -> impl FnMut() -> Option<i32> + '_ {
    let mut it = list.iter().copied();
    move || it.next()
}

#[test]
fn every_handle_given_is_called_once_in_one_entry() {
    let (_rt, inst) = instance(500);
    let calls = inst
        .call_each("process_node", 0.016, handles(&[1, 2, 3, 40]))
        .unwrap();
    assert_eq!(calls, 4);
    assert_eq!(read(&inst, "sum"), 46);
    assert_eq!(read(&inst, "calls"), 4);
    // An empty pass calls nothing and leaves the instance as it was.
    assert_eq!(inst.call_each("process_node", 0.016, || None).unwrap(), 0);
    assert_eq!(read(&inst, "calls"), 4);
}

#[test]
fn a_missing_or_misshapen_export_is_refused_without_ending_the_instance() {
    let (_rt, inst) = instance(500);
    let missing = inst
        .call_each("physics_process_node", 0.016, handles(&[1]))
        .unwrap_err();
    assert!(
        matches!(&missing, WasgoError::NoSuchExport { export, .. } if export == "physics_process_node"),
        "{missing:?}"
    );
    let shape = inst
        .call_each("wrong_shape", 0.016, handles(&[1]))
        .unwrap_err();
    assert!(matches!(shape, WasgoError::BadArguments(_)), "{shape:?}");
    assert!(inst.status().is_live());
    assert_eq!(read(&inst, "calls"), 0);
}

#[test]
fn a_spinning_call_traps_at_the_callback_budget_and_ends_the_pass_and_the_instance() {
    let (_rt, inst) = instance(20);
    let err = inst
        .call_each("process_node", 0.016, handles(&[1, 2, 13, 4]))
        .unwrap_err();
    assert!(matches!(err, WasgoError::Trap(_)), "{err:?}");
    assert_eq!(inst.status(), ModStatus::Trapped);
    assert!(matches!(
        inst.call_each("process_node", 0.016, handles(&[1])),
        Err(WasgoError::Ended { .. })
    ));
}

#[test]
fn a_kill_thrown_during_the_pass_stops_it_before_the_next_call() {
    let (_rt, inst) = instance(500);
    let given = Cell::new(0);
    let outcome = inst.call_each("process_node", 0.016, || {
        given.set(given.get() + 1);
        if given.get() == 3 {
            // As a signal handler's `kill()` during the second call would.
            inst.request_kill("from a handler");
        }
        (given.get() <= 5).then_some(1)
    });
    // The call handed out with the kill thrown is the last one asked for: it returns (the
    // pass then stops) or, should an epoch tick come first, traps as killed.
    match outcome {
        Ok(calls) => assert_eq!(calls, 3),
        Err(e) => assert!(matches!(e, WasgoError::Killed { .. }), "{e:?}"),
    }
    assert_eq!(given.get(), 3, "no handle was asked for after the kill");
}

/// `process_nodes(ptr, count, delta)` adds every handle of its batch to a sum, counts its calls
/// and the handles, records the largest batch, and spins when handed 13; `malloc` is a bump
/// allocator that counts its calls (`bad_malloc` answers 0 when the global says so); `free`
/// counts its calls.
const BULK_MOD: &str = r#"(module
  (memory (export "memory") 1)
  (global $sum (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))
  (global $handed (mut i32) (i32.const 0))
  (global $largest (mut i32) (i32.const 0))
  (global $mallocs (mut i32) (i32.const 0))
  (global $frees (mut i32) (i32.const 0))
  (global $next (mut i32) (i32.const 1024))
  (global $null (mut i32) (i32.const 0))
  (func (export "malloc") (param i32 i32) (result i32) (local $p i32)
    (global.set $mallocs (i32.add (global.get $mallocs) (i32.const 1)))
    (if (global.get $null) (then (return (i32.const 0))))
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 0)))
    (local.get $p))
  (func (export "free") (param i32 i32 i32)
    (global.set $frees (i32.add (global.get $frees) (i32.const 1))))
  (func (export "answer_null") (global.set $null (i32.const 1)))
  (func (export "process_nodes") (param $ptr i32) (param $n i32) (param f64) (local $i i32) (local $h i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.gt_s (local.get $n) (global.get $largest)) (then (global.set $largest (local.get $n))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $h (i32.load (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 4)))))
        (if (i32.eq (local.get $h) (i32.const 13)) (then (loop $l (br $l))))
        (global.set $sum (i32.add (global.get $sum) (local.get $h)))
        (global.set $handed (i32.add (global.get $handed) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
  (func (export "wrong_shape") (param i32 f64))
  (func (export "sum") (result i32) (global.get $sum))
  (func (export "calls") (result i32) (global.get $calls))
  (func (export "handed") (result i32) (global.get $handed))
  (func (export "largest") (result i32) (global.get $largest))
  (func (export "mallocs") (result i32) (global.get $mallocs))
  (func (export "frees") (result i32) (global.get $frees)))"#;

/// The bulk export without a `malloc` to receive its nodes.
const BULK_WITHOUT_MALLOC: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "process_nodes") (param i32 i32 f64)))"#;

fn bulk_instance(source: &str, budget_ms: u64) -> (std::sync::Arc<Runtime>, ModInstance) {
    instance_of(source, "bulk", budget_ms)
}

#[test]
fn the_bulk_form_hands_every_handle_over_in_batches_with_one_buffer_per_pass() {
    let (_rt, inst) = bulk_instance(BULK_MOD, 500);
    let list: Vec<i32> = (1..=600).filter(|h| *h != 13).collect();
    let handed = inst
        .call_batched("process_nodes", 0.016, handles(&list))
        .unwrap();
    assert_eq!(handed, list.len());
    assert_eq!(read(&inst, "sum"), list.iter().sum::<i32>());
    assert_eq!(read(&inst, "handed"), list.len() as i32);
    // 599 handles: two full batches and one of 87.
    assert_eq!(read(&inst, "calls"), 3);
    assert_eq!(read(&inst, "largest"), BATCH_NODES as i32);
    assert_eq!(read(&inst, "mallocs"), 1, "one buffer for the whole pass");
    assert_eq!(read(&inst, "frees"), 1, "and it is given back");
    // A pass with nothing to hand over calls nothing and allocates nothing.
    assert_eq!(
        inst.call_batched("process_nodes", 0.016, || None).unwrap(),
        0
    );
    assert_eq!(read(&inst, "calls"), 3);
    assert_eq!(read(&inst, "mallocs"), 1);
    // A small group: one call, a buffer its size.
    assert_eq!(
        inst.call_batched("process_nodes", 0.016, handles(&[7, 8]))
            .unwrap(),
        2
    );
    assert_eq!(read(&inst, "calls"), 4);
    assert_eq!(read(&inst, "largest"), BATCH_NODES as i32);
}

#[test]
fn the_bulk_form_stops_between_batches_when_the_owner_has_no_more() {
    // The owner's `next` ends the pass after 300 handles (as the frame budget would).
    let (_rt, inst) = bulk_instance(BULK_MOD, 500);
    let given = Cell::new(0);
    let handed = inst
        .call_batched("process_nodes", 0.016, || {
            given.set(given.get() + 1);
            (given.get() <= 300).then_some(1)
        })
        .unwrap();
    assert_eq!(handed, 300);
    assert_eq!(read(&inst, "calls"), 2);
    assert_eq!(read(&inst, "handed"), 300);
}

#[test]
fn the_bulk_form_without_malloc_or_with_the_wrong_shape_is_refused_and_the_instance_goes_on() {
    let (_rt, inst) = bulk_instance(BULK_WITHOUT_MALLOC, 500);
    let err = inst
        .call_batched("process_nodes", 0.016, handles(&[1]))
        .unwrap_err();
    match &err {
        WasgoError::BadArguments(m) => assert!(m.contains("malloc"), "{m}"),
        e => panic!("{e:?}"),
    }
    assert!(inst.status().is_live());
    let (_rt, inst) = bulk_instance(BULK_MOD, 500);
    let shape = inst
        .call_batched("wrong_shape", 0.016, handles(&[1]))
        .unwrap_err();
    assert!(matches!(shape, WasgoError::BadArguments(_)), "{shape:?}");
    let missing = inst
        .call_batched("physics_process_nodes", 0.016, handles(&[1]))
        .unwrap_err();
    assert!(
        matches!(missing, WasgoError::NoSuchExport { .. }),
        "{missing:?}"
    );
    assert!(inst.status().is_live());
    assert_eq!(read(&inst, "calls"), 0);
}

#[test]
fn a_malloc_that_answers_null_traps_and_ends_the_instance() {
    let (_rt, inst) = bulk_instance(BULK_MOD, 500);
    inst.call_shared("answer_null", &[]).unwrap();
    let err = inst
        .call_batched("process_nodes", 0.016, handles(&[1, 2]))
        .unwrap_err();
    match &err {
        WasgoError::Trap(info) => assert!(info.message.contains("malloc"), "{info:?}"),
        e => panic!("{e:?}"),
    }
    assert_eq!(inst.status(), ModStatus::Trapped);
}

#[test]
fn a_spinning_bulk_call_traps_at_the_callback_budget() {
    let (_rt, inst) = bulk_instance(BULK_MOD, 20);
    let err = inst
        .call_batched("process_nodes", 0.016, handles(&[1, 2, 13, 4]))
        .unwrap_err();
    assert!(matches!(err, WasgoError::Trap(_)), "{err:?}");
    assert_eq!(inst.status(), ModStatus::Trapped);
}

#[test]
fn a_kill_thrown_during_a_bulk_call_stops_the_pass_before_the_next_batch() {
    let (_rt, inst) = bulk_instance(BULK_MOD, 500);
    let given = Cell::new(0);
    let outcome = inst.call_batched("process_nodes", 0.016, || {
        given.set(given.get() + 1);
        if given.get() == BATCH_NODES + 1 {
            // Filling the second batch: as if a handler run by the first call had killed it.
            inst.request_kill("from a handler");
        }
        (given.get() <= 3 * BATCH_NODES).then_some(1)
    });
    // The first batch was called; the second, filled with the kill thrown, is not.
    assert_eq!(outcome.unwrap(), BATCH_NODES);
    assert_eq!(given.get(), 2 * BATCH_NODES, "no third batch was filled");
}
