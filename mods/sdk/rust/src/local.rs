//! `Local<T>`: module-level state of a mod, which runs on one thread at a time.

use core::cell::UnsafeCell;

/// A value a `static` can hold and the mod can change. Access goes through [`Local::with`],
/// whose closure must not call back into code that uses the same `Local` (it is not reentrant).
pub(crate) struct Local<T>(UnsafeCell<T>);

// SAFETY: a wasm instance runs one thread at a time (the host never enters an instance from two
// threads at once), and `with` hands out the only borrow for the length of its closure.
unsafe impl<T> Sync for Local<T> {}

impl<T> Local<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// Runs `f` with the value. `f` must not reach this same `Local` again (callers keep their
    /// closures free of user code and of calls into the host that could re-enter the mod).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: see the `Sync` impl; no other borrow exists while `f` runs, as `f` does not
        // re-enter this `Local`.
        f(unsafe { &mut *self.0.get() })
    }
}
