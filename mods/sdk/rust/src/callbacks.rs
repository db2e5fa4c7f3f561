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
    /// or the instance ends, so the id is never given to another closure (the old signal would
    /// run it).
    pub fn forget(self) {
        self.drop_closure(Slot::Retired);
    }

    /// Drops the closure of a connection the host refused: no signal will ever name the id, so
    /// its slot may be used again.
    pub(crate) fn forget_refused(self) {
        self.drop_closure(Slot::Empty);
    }

    fn drop_closure(self, then: Slot) {
        // The closure (if it is not the one running) is dropped after the borrow ends.
        let _dropped = REGISTRY.with(|slots| {
            let slot = slots.get_mut(self.0 as usize)?;
            let next = match slot {
                Slot::Running | Slot::ForgottenWhileRunning => Slot::ForgottenWhileRunning,
                _ => then,
            };
            Some(core::mem::replace(slot, next))
        });
    }
}

enum Slot {
    Empty,
    /// Forgotten: the host may still deliver to this id, which no other closure gets.
    Retired,
    Ready(Callback),
    /// The closure is running (taken out so it may connect or forget other callbacks).
    Running,
    /// Forgotten while it ran: drop it when it returns.
    ForgottenWhileRunning,
}

/// The closures, indexed by id (index 0 is never used, so no id is 0). Closures run outside
/// the borrow (taken out of their slot), so they may register and forget callbacks.
static REGISTRY: Local<Vec<Slot>> = Local::new(Vec::new());

pub(crate) fn register(callback: impl FnMut(&[Variant]) + 'static) -> CallbackId {
    let callback: Callback = Box::new(callback);
    REGISTRY.with(|slots| {
        if slots.is_empty() {
            slots.push(Slot::Empty);
        }
        let id = match slots.iter().skip(1).position(|s| matches!(s, Slot::Empty)) {
            Some(i) => i + 1,
            None => {
                slots.push(Slot::Empty);
                slots.len() - 1
            }
        };
        slots[id] = Slot::Ready(callback);
        CallbackId(id as i32)
    })
}

/// Runs the closure registered under `id` with `args`; unknown ids are ignored.
pub(crate) fn dispatch(id: i32, args: &[Variant]) {
    let taken = REGISTRY.with(|slots| match slots.get_mut(id as usize) {
        Some(slot @ Slot::Ready(_)) => match core::mem::replace(slot, Slot::Running) {
            Slot::Ready(f) => Some(f),
            _ => None,
        },
        _ => None,
    });
    let Some(mut callback) = taken else { return };
    callback(args);
    let forgotten = REGISTRY.with(|slots| {
        let slot = slots.get_mut(id as usize)?;
        match slot {
            Slot::Running => {
                *slot = Slot::Ready(callback);
                None
            }
            Slot::ForgottenWhileRunning => {
                *slot = Slot::Retired;
                Some(callback)
            }
            // Not reachable: only `forget` changes a running slot, to the state above.
            Slot::Empty | Slot::Retired | Slot::Ready(_) => Some(callback),
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

    /// A connection the host refused never gets a delivery: its slot is used again.
    #[test]
    fn a_refused_connections_slot_is_used_again() {
        let _turn = serial();
        let refused = register(|_| {});
        refused.forget_refused();
        let next = register(|_| {});
        assert_eq!(next, refused);
        next.forget_refused();
    }
}
