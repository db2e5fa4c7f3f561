//! Whether the thread has stack left for one more mod call inside the calls already running on
//! it. A leaf: it knows no other module.
//!
//! Each call into a mod may use up to wasmtime's `max_wasm_stack` (512 KiB) of the thread's
//! stack, counted from where it was entered; nothing bounds the sum. A game function that calls
//! the next mod from inside a mod's call (a broadcast across mods, each recursing near its own
//! limit) took Godot's 8 MiB main stack past its end at 16 or more mods: a crash of the game
//! instead of a refused call. A nested entry is therefore refused while the thread has less
//! than [`NEEDED_BYTES`] left (on Linux and macOS, where the thread's stack bounds are known),
//! or past [`MAX_NESTED_ENTRIES`] elsewhere.

/// What one more mod call may need: its wasm stack (wasmtime's default `max_wasm_stack`,
/// 512 KiB) and room for the host calls it makes (Godot and the glue).
pub const NEEDED_BYTES: usize = (512 + 256) << 10;

/// Mod calls one thread may have running inside each other where its stack bounds are not
/// known: eight of [`NEEDED_BYTES`] fit Godot's 8 MiB main thread stack.
pub const MAX_NESTED_ENTRIES: u32 = 8;

/// Why a nested entry is refused: `depth` calls already run; `room` bytes of stack are left
/// (`None` where the stack's bounds are not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub depth: u32,
    pub room: Option<usize>,
}

/// Whether one more mod call fits on this thread, `depth` calls into mods already running on
/// it. An outermost call (`depth` 0) is never refused.
pub fn check(depth: u32) -> Result<(), TooDeep> {
    if depth == 0 {
        return Ok(());
    }
    match room() {
        Some(room) if room < NEEDED_BYTES => Err(TooDeep {
            depth,
            room: Some(room),
        }),
        Some(_) => Ok(()),
        None if depth >= MAX_NESTED_ENTRIES => Err(TooDeep { depth, room: None }),
        None => Ok(()),
    }
}

/// The stack left on this thread when it is less than one more mod call may need, whatever
/// runs already (for a call whose nesting is not counted, such as a mod's `config`); `None`
/// when there is room, or where the stack's bounds are not known.
pub fn short() -> Option<usize> {
    room().filter(|room| *room < NEEDED_BYTES)
}

/// Bytes of stack left below the caller's frame; `None` where the bounds are not known.
pub fn room() -> Option<usize> {
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    LOW.with(|low| {
        let low = *low.get_or_init(stack_low);
        low.map(|low| here.saturating_sub(low))
    })
}

thread_local! {
    /// The lowest address of this thread's stack, found once per thread.
    static LOW: std::cell::OnceCell<Option<usize>> = const { std::cell::OnceCell::new() };
}

#[cfg(target_os = "linux")]
fn stack_low() -> Option<usize> {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is read and destroyed
    // once; `pthread_attr_getstack` only writes the two out-parameters, which live on this
    // frame. The calls have no other effect.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let found = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        (found && !addr.is_null()).then_some(addr as usize)
    }
}

#[cfg(target_os = "macos")]
fn stack_low() -> Option<usize> {
    // SAFETY: both functions only read the calling thread's own attributes.
    unsafe {
        let thread = libc::pthread_self();
        let top = libc::pthread_get_stackaddr_np(thread) as usize;
        let size = libc::pthread_get_stacksize_np(thread);
        top.checked_sub(size)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn stack_low() -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outermost_call_is_never_refused_and_a_thread_with_room_takes_nested_ones() {
        assert_eq!(check(0), Ok(()));
        // A fresh thread of 8 MiB has far more than one call needs.
        let nested = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(|| (room(), check(3)))
            .unwrap()
            .join()
            .unwrap();
        if cfg!(any(target_os = "linux", target_os = "macos")) {
            assert!(nested.0.unwrap() > NEEDED_BYTES, "{nested:?}");
        }
        assert_eq!(nested.1, Ok(()));
    }

    #[test]
    fn a_thread_short_of_stack_refuses_a_nested_call() {
        // A thread whose whole stack is less than one call needs.
        let outcome = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| check(1))
            .unwrap()
            .join()
            .unwrap();
        if cfg!(any(target_os = "linux", target_os = "macos")) {
            assert!(
                matches!(outcome, Err(TooDeep { depth: 1, room: Some(r) }) if r < NEEDED_BYTES)
            );
        } else {
            assert_eq!(outcome, Ok(()));
            assert!(check(MAX_NESTED_ENTRIES).is_err());
        }
    }
}
