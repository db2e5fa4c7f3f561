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
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let module = rt.compile(GROUP_MOD.as_bytes(), "group").unwrap();
    let config = InstanceConfig {
        limits: Limits {
            callback_budget: Duration::from_millis(budget_ms),
            callback_wall_backstop_factor: 4,
            budget_strikes: 1,
            ..Limits::default()
        },
        ..InstanceConfig::new("group", SafetyLevel::Safe, rt.next_instance_key())
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
