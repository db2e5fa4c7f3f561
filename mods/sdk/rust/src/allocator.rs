//! The global allocator and the `malloc`/`free` exports `call_export` uses to hand the mod
//! strings and bytes (compiled only for wasm32 with the `allocator` feature).

use core::alloc::{GlobalAlloc, Layout};

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// `malloc(size, align) -> ptr`: 0 when the request is invalid or memory is exhausted.
#[no_mangle]
extern "C" fn malloc(size: i32, align: i32) -> i32 {
    let Ok(layout) = Layout::from_size_align(size.max(1) as usize, align.max(1) as usize) else {
        return 0;
    };
    // SAFETY: the layout has a non-zero size.
    unsafe { ALLOCATOR.alloc(layout) as usize as i32 }
}

/// `free(ptr, size, align)`: gives back what `malloc(size, align)` returned; 0 is ignored.
#[no_mangle]
extern "C" fn free(ptr: i32, size: i32, align: i32) {
    let Ok(layout) = Layout::from_size_align(size.max(1) as usize, align.max(1) as usize) else {
        return;
    };
    if ptr != 0 {
        // SAFETY: the caller (the host's `call_export`) passes back a pointer this `malloc`
        // returned with the same size and alignment, as the ABI requires.
        unsafe { ALLOCATOR.dealloc(ptr as usize as *mut u8, layout) }
    }
}
