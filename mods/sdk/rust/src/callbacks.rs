//! Closures behind `wasgo.connect`: the host calls the export `native_callback(id)` and this
//! module runs the closure registered under `id` with the signal's arguments.
// Off wasm32 (the SDK's own unit tests) nothing calls the export that reads the registry.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::local::Local;
use crate::{buffer, sys, Variant};

type Callback = Box<dyn FnMut(&[Variant])>;

/// The id of a connected closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackId(i32);

impl CallbackId {
    /// The id as the ABI passes it.
    pub fn raw(self) -> i32 {
        self.0
    }

    /// Drops the closure; later deliveries to this id are ignored. The host has no disconnect:
    /// the connection stays (and counts against the game's connection caps) until the object
    /// or the instance ends. Its slot is used again under a new generation, so the old
    /// connection's deliveries, which carry the old id, never run the slot's next closure.
    pub fn forget(self) {
        let (index, generation) = split(self.0);
        // The closure (if it is not the one running) is dropped after the borrow ends.
        let _dropped = REGISTRY.with(|r| {
            let (slot_generation, slot) = r.slots.get_mut(index)?;
            if *slot_generation != generation {
                return None;
            }
            match slot {
                Slot::Running | Slot::ForgottenWhileRunning => {
                    Some(core::mem::replace(slot, Slot::ForgottenWhileRunning))
                }
                Slot::Empty => None,
                Slot::Ready(_) => {
                    let old = core::mem::replace(slot, Slot::Empty);
                    r.retire(index);
                    Some(old)
                }
            }
        });
    }

    /// Drops the closure of a connection the host refused (as [`CallbackId::forget`]).
    pub(crate) fn forget_refused(self) {
        self.forget();
    }
}

enum Slot {
    Empty,
    Ready(Callback),
    /// The closure is running (taken out so it may connect or forget other callbacks).
    Running,
    /// Forgotten while it ran: drop it when it returns.
    ForgottenWhileRunning,
}

/// Bits of an id that name its slot; the bits above are the slot's generation.
const INDEX_BITS: u32 = 20;
/// Slots there may be: a million closures alive at once.
const MAX_SLOTS: usize = 1 << INDEX_BITS;
/// Generations an id tells apart before they repeat (an old connection still alive after a
/// slot was used this many times again would run the newest closure).
const GENERATIONS: u32 = 1 << (31 - INDEX_BITS);

/// The slot index and generation an id names.
fn split(id: i32) -> (usize, u32) {
    let id = id as u32;
    ((id as usize) & (MAX_SLOTS - 1), id >> INDEX_BITS)
}

/// The closures by slot (slot 0 is never used, so no id is 0), each with the generation of the
/// id it was registered under, and the slots free for the next closures. Closures run outside
/// the borrow (taken out of their slot), so they may register and forget callbacks.
struct Registry {
    slots: Vec<(u32, Slot)>,
    free: Vec<usize>,
}

impl Registry {
    /// Slot `index`'s closure is gone: its next id is of the next generation. A slot whose
    /// generations ran out is not used again (its next id would be its first: an old
    /// connection still alive would run the newest closure); one slot in 2048 uses.
    fn retire(&mut self, index: usize) {
        if let Some((generation, _)) = self.slots.get_mut(index) {
            if *generation + 1 < GENERATIONS {
                *generation += 1;
                self.free.push(index);
            }
        }
    }
}

static REGISTRY: Local<Registry> = Local::new(Registry {
    slots: Vec::new(),
    free: Vec::new(),
});

pub(crate) fn register(callback: impl FnMut(&[Variant]) + 'static) -> CallbackId {
    let callback: Callback = Box::new(callback);
    REGISTRY.with(|r| {
        if r.slots.is_empty() {
            r.slots.push((0, Slot::Empty));
        }
        let index = match r.free.pop() {
            Some(index) => index,
            None => {
                assert!(
                    r.slots.len() < MAX_SLOTS,
                    "wasgo: more than a million signal callbacks alive at once"
                );
                r.slots.push((0, Slot::Empty));
                r.slots.len() - 1
            }
        };
        let (generation, slot) = &mut r.slots[index];
        *slot = Slot::Ready(callback);
        CallbackId(((*generation << INDEX_BITS) | index as u32) as i32)
    })
}

/// Runs the closure registered under `id` with `args`; unknown or forgotten ids are ignored.
pub(crate) fn dispatch(id: i32, args: &[Variant]) {
    let (index, generation) = split(id);
    let taken = REGISTRY.with(|r| match r.slots.get_mut(index) {
        Some((g, slot @ Slot::Ready(_))) if *g == generation => {
            match core::mem::replace(slot, Slot::Running) {
                Slot::Ready(f) => Some(f),
                _ => None,
            }
        }
        _ => None,
    });
    let Some(mut callback) = taken else { return };
    callback(args);
    let forgotten = REGISTRY.with(|r| {
        let (_, slot) = r.slots.get_mut(index)?;
        match slot {
            Slot::Running => {
                *slot = Slot::Ready(callback);
                None
            }
            Slot::ForgottenWhileRunning => {
                *slot = Slot::Empty;
                r.retire(index);
                Some(callback)
            }
            // Not reachable: only `forget` changes a running slot, to the state above.
            Slot::Empty | Slot::Ready(_) => Some(callback),
        }
    });
    drop(forgotten);
}

/// The export the host calls when a connected signal fires.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
extern "C" fn native_callback(id: i32) {
    let args = buffer::read_with(|out, cap| {
        // SAFETY: `out..out+cap` is a buffer `read_with` owns for the call.
        unsafe { sys::callback_args(out, cap) }
    });
    // The arguments are handed on as the game sent them, or not at all, said why: a closure
    // given `&[]` for arguments that did not convert could not tell them from none.
    let args = match args {
        Ok(bytes) => match Variant::decode(&bytes) {
            Ok(args) => Some(args),
            Err(e) => {
                crate::log(crate::Level::Error, &alloc::format!("wasgo: the arguments of signal callback {id} do not decode ({e}); the callback gets none"));
                None
            }
        },
        Err(code) => {
            crate::log(crate::Level::Error, &alloc::format!("wasgo: the arguments of signal callback {id} could not be read (error {code}); the callback gets none"));
            None
        }
    };
    let args = match &args {
        Some(Variant::Array(items)) => items.as_slice(),
        _ => &[],
    };
    dispatch(id, args);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::Cell;

    extern crate std;
    /// The registry is one static, as in a mod; tests run on several threads, so take turns.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn closures_run_with_their_arguments_and_can_be_forgotten() {
        let _turn = serial();
        let seen = Rc::new(Cell::new(0i64));
        let s = seen.clone();
        let id = register(move |args| s.set(s.get() + args[0].as_int().unwrap()));
        dispatch(id.raw(), &[Variant::Int(5)]);
        dispatch(id.raw(), &[Variant::Int(2)]);
        assert_eq!(seen.get(), 7);
        id.forget();
        dispatch(id.raw(), &[Variant::Int(100)]);
        assert_eq!(seen.get(), 7);
        dispatch(9999, &[]);
    }

    #[test]
    fn a_closure_may_register_another_while_it_runs() {
        let _turn = serial();
        let inner_id = Rc::new(Cell::new(0));
        let i = inner_id.clone();
        let outer = register(move |_| i.set(register(|_| {}).raw()));
        dispatch(outer.raw(), &[]);
        assert_ne!(inner_id.get(), 0);
        assert_ne!(inner_id.get(), outer.raw());
        // The outer closure is still registered afterwards.
        dispatch(outer.raw(), &[]);
    }

    #[test]
    fn a_closure_may_forget_itself_without_dropping_a_newer_one() {
        let _turn = serial();
        let me = Rc::new(Cell::new(0));
        let m = me.clone();
        let id = register(move |_| CallbackId(m.get()).forget());
        me.set(id.raw());
        dispatch(id.raw(), &[]);
        let hits = Rc::new(Cell::new(0));
        let h = hits.clone();
        let newer = register(move |_| h.set(h.get() + 1));
        assert_ne!(newer, id, "a forgotten id is never given again");
        dispatch(newer.raw(), &[]);
        assert_eq!(hits.get(), 1);
    }

    /// The host still delivers to a forgotten connection (there is no disconnect): a new
    /// closure given the old id ran on the old signal, and twice when it was connected to the
    /// same one.
    #[test]
    fn a_forgotten_id_never_runs_a_newer_closure() {
        let _turn = serial();
        let old = register(|_| {});
        old.forget();
        let hits = Rc::new(Cell::new(0));
        let h = hits.clone();
        let newer = register(move |_| h.set(h.get() + 1));
        dispatch(old.raw(), &[]);
        assert_eq!(
            hits.get(),
            0,
            "the old connection's delivery ran the new closure"
        );
        dispatch(newer.raw(), &[]);
        assert_eq!(hits.get(), 1);
    }

    /// A forgotten closure's slot is used again, under another id: connecting and forgetting
    /// without end neither grows the registry nor slows `register` down.
    #[test]
    fn a_forgotten_slot_is_used_again_under_another_id() {
        let _turn = serial();
        let first = register(|_| {});
        first.forget_refused();
        let next = register(|_| {});
        assert_ne!(next, first);
        assert_eq!(split(next.raw()).0, split(first.raw()).0);
        next.forget();
        let size = REGISTRY.with(|r| r.slots.len());
        for _ in 0..1000 {
            register(|_| {}).forget();
        }
        assert_eq!(REGISTRY.with(|r| r.slots.len()), size);
    }

    /// A slot used as many times as ids have generations is not used again: its next id would
    /// be one an old connection may still deliver to.
    #[test]
    fn no_id_comes_back_when_a_slots_generations_run_out() {
        let _turn = serial();
        let first = register(|_| {});
        first.forget();
        let mut seen = alloc::collections::BTreeSet::new();
        seen.insert(first.raw());
        for _ in 0..(GENERATIONS * 2) {
            let id = register(|_| {});
            assert!(seen.insert(id.raw()), "id {} came back", id.raw());
            id.forget();
        }
    }
}
