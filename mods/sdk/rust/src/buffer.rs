//! The ABI's out-buffer protocol: a call writes into `(out_ptr, out_cap)` and returns the full
//! length; when that exceeds `out_cap` nothing was written and the call is made again with room.

use alloc::vec::Vec;

use crate::{check, Result};

/// The first buffer size tried; most answers (a property, a short string) fit.
const FIRST_TRY: usize = 256;

/// Calls `f(out_ptr, out_cap)` until the answer fits and returns it.
///
/// # Errors
/// The call's negative return code as an [`crate::Error`].
pub(crate) fn read_with(mut f: impl FnMut(*mut u8, usize) -> i32) -> Result<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::with_capacity(FIRST_TRY);
    loop {
        let cap = buf.capacity();
        let full = check(f(buf.as_mut_ptr(), cap))? as usize;
        if full <= cap {
            // SAFETY: the host wrote exactly `full` initialized bytes at the start of the buffer
            // (the ABI writes only when the whole answer fits in `out_cap`).
            unsafe { buf.set_len(full) };
            return Ok(buf);
        }
        buf.reserve_exact(full);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_with_the_announced_length() {
        let answer = [7u8; 1000];
        let mut calls = 0;
        let got = read_with(|ptr, cap| {
            calls += 1;
            if cap >= answer.len() {
                // SAFETY: the test plays the host and writes within the buffer it was given.
                unsafe { core::ptr::copy_nonoverlapping(answer.as_ptr(), ptr, answer.len()) };
            }
            answer.len() as i32
        });
        assert_eq!(got.unwrap(), answer.to_vec());
        assert_eq!(calls, 2);
    }

    #[test]
    fn negative_codes_become_errors() {
        let code = crate::sys::error::INVALID_HANDLE;
        assert_eq!(read_with(|_, _| code), Err(crate::Error::InvalidHandle));
    }
}
