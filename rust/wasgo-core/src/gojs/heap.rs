//! Every object a Go-js program's host made, for the memory limit and for the end of the
//! instance.
//!
//! JavaScript collects garbage; the host's objects are reference-counted (`Arc`), so a cycle —
//! the global object's `globalThis`, or any `o.self = o` a program makes — is never freed by
//! counting alone, and an object the program no longer reaches but that sits in a cycle would
//! outlive the instance (an 8-instance loop kept 470 MB) and escape the memory limit (which
//! measured only what Go still reached). So each instance keeps a [`Heap`]: a weak reference to
//! every object made while it runs (objects register themselves in [`JsRef::new`] through the
//! heap the running thread has [entered](Heap::enter)). The memory limit measures every live
//! object in it ([`Heap::live_bytes`]), and when the instance ends [`Heap::clear`] empties every
//! object it made, which breaks every cycle.
//!
//! Freeing is iterative ([`drop_values`]): an object's `Drop` moves its contents onto a work
//! list instead of dropping them inside its own `Drop`, so a chain of 200,000 nested arrays is
//! freed without 200,000 stack frames (that overflowed the stack and aborted the game).

use super::value::{Class, JsObject, JsRef, JsValue, OBJECT_BYTES, PROP_BYTES, VALUE_BYTES};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Arc, Weak};

type Cell = Mutex<JsObject>;

/// The objects one instance's host made (see the module docs).
#[derive(Default)]
pub struct Heap {
    objects: Mutex<Objects>,
}

#[derive(Default)]
struct Objects {
    list: Vec<Weak<Cell>>,
    /// The list's length at which the references of freed objects are dropped from it next.
    compact_at: usize,
}

thread_local! {
    /// The heaps this thread has entered, innermost last.
    static ENTERED: RefCell<Vec<Arc<Heap>>> = const { RefCell::new(Vec::new()) };
}

/// While it lives, objects made on this thread register in the heap it entered.
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        ENTERED.with(|e| e.borrow_mut().pop());
    }
}

impl Heap {
    /// Makes `heap` the one objects made on this thread register in, until the guard drops.
    pub fn enter(heap: &Arc<Heap>) -> Entered {
        ENTERED.with(|e| e.borrow_mut().push(heap.clone()));
        Entered(())
    }

    /// Registers a new object in the heap this thread entered (none: the object is nobody's,
    /// such as a value made in a test).
    pub(super) fn register(object: &Arc<Cell>) {
        ENTERED.with(|e| {
            if let Some(heap) = e.borrow().last() {
                heap.add(object);
            }
        });
    }

    fn add(&self, object: &Arc<Cell>) {
        let mut objects = self.objects.lock();
        if objects.list.len() >= objects.compact_at {
            objects.list.retain(|w| w.strong_count() > 0);
            objects.compact_at = (objects.list.len() * 2).max(1024);
        }
        objects.list.push(Arc::downgrade(object));
    }

    /// The objects still alive.
    fn live(&self) -> Vec<Arc<Cell>> {
        self.objects
            .lock()
            .list
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

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
            total += OBJECT_BYTES;
            for (k, v) in &obj.props {
                total += PROP_BYTES + k.len();
                string(v, &mut total);
            }
            match &obj.class {
                Class::Array(items) => {
                    total += items.len() * VALUE_BYTES;
                    for v in items {
                        string(v, &mut total);
                    }
                }
                Class::Bytes(b) => total += b.len(),
                _ => {}
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

/// The host bytes `v` itself takes (an object's own properties and elements, not what they
/// refer to), counted when Go first holds it.
pub fn own_bytes(v: &JsValue) -> usize {
    match v {
        JsValue::String(s) => VALUE_BYTES + s.len(),
        JsValue::Object(o) => {
            let obj = o.0.lock();
            let props: usize = obj.props.keys().map(|k| PROP_BYTES + k.len()).sum();
            OBJECT_BYTES
                + props
                + match &obj.class {
                    Class::Array(items) => items.len() * VALUE_BYTES,
                    Class::Bytes(b) => b.len(),
                    _ => 0,
                }
        }
        _ => VALUE_BYTES,
    }
}

/// Drops `values` and everything only they hold without recursion (see the module docs).
pub(super) fn drop_values(mut work: Vec<JsValue>) {
    while let Some(v) = work.pop() {
        if let JsValue::Object(JsRef(cell)) = v {
            // The last holder: take the contents out before the object goes, so its own `Drop`
            // has nothing to free.
            if let Ok(cell) = Arc::try_unwrap(cell) {
                work.extend(cell.into_inner().take_contents());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
