//! What a Go-js program's host objects cost, against the memory limit, and how they go when the
//! instance ends.
//!
//! JavaScript collects garbage; the host's objects are reference-counted (`Arc`), so a cycle —
//! the global object's `globalThis`, or any `o.self = o` a program makes — is never freed by
//! counting alone, and an object the program no longer reaches but that sits in a cycle would
//! outlive the instance (an 8-instance loop kept 470 MB) and escape the memory limit (which
//! measured only what Go still reached). So each instance keeps a [`Heap`]: a weak reference to
//! every object made while it runs (objects register themselves in [`JsRef::new`](super::value::JsRef::new) through the
//! heap the running thread has [entered](Heap::enter); both are part of the object model in
//! [`value`](super::value)). The memory limit ([`charge`]) measures every live object in it
//! ([`Heap::live_bytes`]), and when the instance ends [`Heap::clear`] empties every object it
//! made, which breaks every cycle.
//!
//! Freeing is iterative ([`drop_values`]): an object's `Drop` moves its contents onto a work
//! list instead of dropping them inside its own `Drop`, so a chain of 200,000 nested arrays is
//! freed without 200,000 stack frames (that overflowed the stack and aborted the game).

use super::value::{
    drop_values, props_bytes, Class, Heap, JsObject, JsValue, OBJECT_BYTES, VALUE_BYTES,
};
use super::Cx;
use crate::error::{HostTrap, TrapKind};
use std::collections::HashSet;

impl Heap {
    /// Host bytes of every live object and of the strings they and `roots` hold, each string
    /// once; counting stops past `cap`.
    pub fn live_bytes<'a>(&self, roots: impl Iterator<Item = &'a JsValue>, cap: usize) -> usize {
        let mut strings: HashSet<usize> = HashSet::new();
        let mut total = 0usize;
        let mut string = |v: &JsValue, total: &mut usize| {
            if let JsValue::String(s) = v {
                if strings.insert(s.as_ptr() as usize) {
                    *total += s.len();
                }
            }
        };
        for v in roots {
            total += VALUE_BYTES;
            string(v, &mut total);
        }
        for object in self.live() {
            if total > cap {
                break;
            }
            let obj = object.lock();
            total += object_bytes(&obj);
            for v in obj.props.values() {
                string(v, &mut total);
            }
            if let Class::Array(items) = &obj.class {
                for v in items {
                    string(v, &mut total);
                }
            }
        }
        total
    }

    /// Empties every live object the instance made (its properties and elements), breaking
    /// every cycle, so that all of them are freed once their last holder lets go.
    pub fn clear(&self) {
        let mut contents = Vec::new();
        for object in self.live() {
            contents.extend(object.lock().take_contents());
        }
        drop_values(contents);
    }
}

/// Measures what a Go-js program's JavaScript values take on the host now and counts that
/// beside its linear memory, in place of what was counted since the last measure (values Go
/// released are not taken back as it releases them): `true` when the count went down. The
/// memory's growth asks this before refusing a grow for the values' sake, so a program that made
/// and released many values is never refused memory on what it no longer holds.
pub(crate) fn remeasure(state: &mut crate::state::InstanceState) -> bool {
    let cap = state.limits.memory_bytes;
    let Some(go) = state
        .guest
        .as_mut()
        .and_then(|g| g.downcast_mut::<super::GoState>())
    else {
        return false;
    };
    let before = go.host_bytes;
    let live = go.heap.live_bytes(go.table.values(), cap);
    go.host_bytes = live;
    state.growth.set_host_bytes(live);
    live < before
}

/// Counts `bytes` of JavaScript values about to be made on the host against the instance's
/// memory limit (`memory_limit_mb`, the same cap as its linear memory): once what was counted
/// since the last measure passes it, measures what Go really still holds, and traps when that
/// plus the new value is still over (a program calling `new Array(67108864)` twice took 3 GB).
///
/// One budget with the linear memory: the values may take what the memory leaves, and the
/// memory may grow only into what the values leave (`GrowthTally`; each could take the whole
/// limit, twice the limit together).
pub(super) fn charge(cx: &mut Cx<'_>, bytes: usize) -> wasmtime::Result<()> {
    let limit = cx.data().limits.memory_bytes;
    let budget = limit.saturating_sub(cx.data().growth.memory_bytes());
    let go = super::state_mut(cx.data_mut());
    go.host_bytes = go.host_bytes.saturating_add(bytes);
    if go.host_bytes > budget {
        let live = go.heap.live_bytes(go.table.values(), budget);
        go.host_bytes = live.saturating_add(bytes);
    }
    let host = go.host_bytes;
    cx.data_mut().growth.set_host_bytes(host);
    if host <= budget {
        return Ok(());
    }
    let linear = cx.data().growth.memory_bytes() >> 20;
    Err(HostTrap::new(
        TrapKind::HostCall,
        format!(
            "the program's JavaScript values would take {} MiB on the host, over its memory limit of {} MiB{} (`memory_limit_mb`); release the values it no longer needs, or make smaller arrays",
            host.div_ceil(1 << 20),
            limit >> 20,
            if linear > 0 {
                format!(" together with its {linear} MiB of linear memory")
            } else {
                String::new()
            }
        ),
    )
    .into_error())
}

/// The host bytes `v` itself takes (an object's own properties and elements, not what they
/// refer to), counted when Go first holds it.
pub fn own_bytes(v: &JsValue) -> usize {
    match v {
        JsValue::String(s) => VALUE_BYTES + s.len(),
        JsValue::Object(o) => object_bytes(&o.0.lock()),
        _ => VALUE_BYTES,
    }
}

/// The host bytes an object itself takes: its own properties (their names and map nodes) and
/// elements (what an array holds room for: grown by index, it doubles), not the strings they
/// hold.
fn object_bytes(obj: &JsObject) -> usize {
    let names: usize = obj.props.keys().map(String::len).sum();
    OBJECT_BYTES
        + props_bytes(obj.props.len())
        + names
        + match &obj.class {
            Class::Array(items) => items.capacity() * VALUE_BYTES,
            Class::Bytes(b) => b.len(),
            _ => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gojs::value::JsRef;
    use std::sync::Arc;

    #[test]
    fn a_chain_of_nested_arrays_is_freed_without_deep_recursion() {
        // Run on a small stack: recursive drops need a frame per level.
        let dropped = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let mut head = JsValue::array(vec![]);
                for _ in 0..200_000 {
                    head = JsValue::array(vec![head]);
                }
                drop(head);
                let mut head = JsValue::plain(&[]);
                for _ in 0..200_000 {
                    head = JsValue::plain(&[("next", head)]);
                }
                drop(head);
            })
            .unwrap()
            .join();
        assert!(dropped.is_ok());
    }

    #[test]
    fn clearing_a_heap_frees_the_cycles_its_instance_made_and_live_bytes_sees_them() {
        let heap = Arc::new(Heap::default());
        let weak = {
            let _in = Heap::enter(&heap);
            let o = JsRef::new(Class::Plain);
            o.set("self", JsValue::Object(o.clone()));
            o.set("big", JsValue::array(vec![JsValue::Null; 1000]));
            Arc::downgrade(&o.0)
        };
        // Nothing reaches the cycle any more, yet it lives and counts.
        assert!(weak.upgrade().is_some());
        let counted = heap.live_bytes(std::iter::empty(), usize::MAX);
        assert!(counted >= 1000 * VALUE_BYTES, "{counted}");
        heap.clear();
        assert!(weak.upgrade().is_none(), "the cycle was freed");
        assert_eq!(heap.live_bytes(std::iter::empty(), usize::MAX), 0);
        // Made outside any entered heap: registered nowhere.
        let _loose = JsRef::new(Class::Plain);
        assert_eq!(heap.live_bytes(std::iter::empty(), usize::MAX), 0);
    }
}
