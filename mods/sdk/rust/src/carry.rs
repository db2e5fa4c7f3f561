//! The bodies behind [`export_state!`](crate::export_state): the mod's side of hot reload's
//! `save_state(out_ptr, out_cap) -> len` and `load_state(ptr, len)` (see `docs/abi.md`), and
//! behind [`export_config!`](crate::export_config): `config(out_ptr, out_cap) -> len`.
//!
//! The host asks `save_state(0, 0)` for the length first, then passes a buffer of that size: the
//! state is made once, at the first call, and kept here until it has been copied out.

use alloc::string::String;
use alloc::vec::Vec;

use crate::local::Local;

/// The state made by a `save_state` call whose buffer was too small, for the call that follows.
static PENDING: Local<Option<Vec<u8>>> = Local::new(None);

/// The text made by a `config` call whose buffer was too small, for the call that follows.
static PENDING_CONFIG: Local<Option<Vec<u8>>> = Local::new(None);

/// The out-buffer convention's answer: the bytes `make` gives (made at the first call and kept in
/// `pending` until copied out), copied to `out_ptr` when they fit; their length, or -1 when they
/// are over 2 GiB.
///
/// # Safety
/// As [`__save_state`].
unsafe fn answer(
    pending: &Local<Option<Vec<u8>>>,
    out_ptr: *mut u8,
    out_cap: usize,
    make: impl FnOnce() -> Vec<u8>,
) -> i32 {
    let bytes = pending.with(|p| p.take()).unwrap_or_else(make);
    let Ok(len) = i32::try_from(bytes.len()) else {
        return -1;
    };
    if bytes.is_empty() {
        return 0;
    }
    if bytes.len() <= out_cap && !out_ptr.is_null() {
        // SAFETY: the caller guarantees `out_ptr` is valid for `out_cap` bytes (the ABI's
        // out-buffer convention), `bytes` fits, and `bytes` is a separate allocation.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), out_ptr, bytes.len()) };
    } else {
        pending.with(|p| *p = Some(bytes));
    }
    len
}

/// `save_state(out_ptr, out_cap) -> len` with `save` making the state.
///
/// # Safety
/// `out_ptr` is null or valid for writes of `out_cap` bytes (the host passes a buffer it
/// allocated in the mod's memory with `malloc`, or `(0, 0)` to ask for the length).
#[doc(hidden)]
pub unsafe fn __save_state(out_ptr: *mut u8, out_cap: usize, save: fn() -> Vec<u8>) -> i32 {
    // SAFETY: the caller's guarantee, passed on.
    unsafe { answer(&PENDING, out_ptr, out_cap, save) }
}

/// `config(out_ptr, out_cap) -> len` with `make` giving the JSON object text.
///
/// # Safety
/// As [`__save_state`].
#[doc(hidden)]
pub unsafe fn __config(out_ptr: *mut u8, out_cap: usize, make: fn() -> String) -> i32 {
    // SAFETY: the caller's guarantee, passed on.
    unsafe { answer(&PENDING_CONFIG, out_ptr, out_cap, || make().into_bytes()) }
}

/// `load_state(ptr, len)` handing the bytes to `load`.
///
/// # Safety
/// `ptr` is null (with `len` 0) or valid for reads of `len` bytes for the length of the call
/// (the host's `malloc`ed buffer holding the state).
#[doc(hidden)]
pub unsafe fn __load_state(ptr: *const u8, len: usize, load: fn(&[u8])) {
    if len == 0 || ptr.is_null() {
        load(&[]);
        return;
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr` until this call returns;
    // `load` borrows them only for the call.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
    load(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn state() -> Vec<u8> {
        vec![1, 2, 3, 4, 5]
    }

    // One test: `PENDING` is a single mod's state, not meant for threads running side by side.
    #[test]
    fn the_length_query_keeps_the_state_for_the_copy_and_empty_states_cross_as_nothing() {
        // SAFETY: a null buffer with capacity 0 (the length query).
        assert_eq!(unsafe { __save_state(core::ptr::null_mut(), 0, state) }, 5);
        let mut buf = [0u8; 8];
        // A different maker now: the kept state must be the one copied.
        // SAFETY: a live local buffer passed with its own length.
        assert_eq!(
            unsafe { __save_state(buf.as_mut_ptr(), buf.len(), Vec::new) },
            5
        );
        assert_eq!(&buf[..5], &[1, 2, 3, 4, 5]);
        assert!(PENDING.with(|p| p.is_none()), "nothing kept once copied");

        // SAFETY: a null buffer with capacity 0.
        assert_eq!(
            unsafe { __save_state(core::ptr::null_mut(), 0, Vec::new) },
            0
        );
        fn expect_empty(bytes: &[u8]) {
            assert!(bytes.is_empty());
        }
        // SAFETY: null with length 0 is the empty state.
        unsafe { __load_state(core::ptr::null(), 0, expect_empty) };
        fn expect_state(bytes: &[u8]) {
            assert_eq!(bytes, &[1, 2, 3, 4, 5]);
        }
        let bytes = state();
        // SAFETY: a live local vector passed with its own length.
        unsafe { __load_state(bytes.as_ptr(), bytes.len(), expect_state) };
    }
}
