//! Keeps the library mapped until the process ends.
//!
//! Threads outside WasGo's control run the library's code (it is statically linked in) after
//! Godot unloads its extensions at exit: wasmtime-wasi's tokio runtime (its blocking-pool
//! threads wake 10 s after their last job, to end), wasmtime's compilation pool, and the
//! thread-local destructors of every thread that ran a mod. A thread that wakes after the code
//! was unmapped jumps into nothing: the test suite's process crashed with SIGSEGV at exit, now
//! and then, after every test had passed. [`pin`] takes a reference to the library that is never
//! given back (`RTLD_NODELETE` on Unix, `GET_MODULE_HANDLE_EX_FLAG_PIN` on Windows), so its code
//! stays where it is until the operating system ends those threads with the process.
//!
//! The price: the editor cannot swap a rebuilt library in while it runs, so `wasgo.gdextension`
//! says `reloadable = false` (restart the editor after rebuilding WasGo).

/// Pins the library that holds this code.
///
/// # Errors
/// Why the loader refused (the library then unloads at exit as before).
#[cfg(unix)]
fn pin_library() -> Result<(), String> {
    // SAFETY: `Dl_info` is plain data (pointers and nothing else); all zeroes is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let here = pin_library as *const libc::c_void;
    // SAFETY: `dladdr` only reads the address (a function of this library) and writes `info`.
    let found = unsafe { libc::dladdr(here, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return Err("the loader does not know which library WasGo's code is in".into());
    }
    // SAFETY: `dli_fname` is the loader's NUL-terminated path of this library, valid while it is
    // loaded (it is: this code runs in it). `RTLD_NOLOAD` only looks the library up and adds a
    // reference, marked `RTLD_NODELETE`; the handle is deliberately never closed.
    let handle = unsafe {
        libc::dlopen(
            info.dli_fname,
            libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
        )
    };
    if handle.is_null() {
        // SAFETY: `dlerror` returns the loader's message for the failed call, or null.
        let why = unsafe { libc::dlerror() };
        let why = if why.is_null() {
            "no reason given".to_string()
        } else {
            // SAFETY: a non-null `dlerror` result is a NUL-terminated string.
            unsafe { std::ffi::CStr::from_ptr(why) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(format!("the loader would not pin the library: {why}"));
    }
    Ok(())
}

/// Pins the library that holds this code.
///
/// # Errors
/// Why Windows refused (the library then unloads at exit as before).
#[cfg(windows)]
fn pin_library() -> Result<(), String> {
    #[link(name = "kernel32")]
    extern "system" {
        fn GetModuleHandleExW(
            flags: u32,
            module_name: *const u16,
            module: *mut *mut std::ffi::c_void,
        ) -> i32;
    }
    const FROM_ADDRESS: u32 = 0x4;
    const PIN: u32 = 0x1;
    let mut module = std::ptr::null_mut();
    // SAFETY: with `FROM_ADDRESS` the name argument is an address inside the module (this
    // function); `PIN` keeps the module loaded until the process ends; `module` is written.
    let ok =
        unsafe { GetModuleHandleExW(FROM_ADDRESS | PIN, pin_library as *const u16, &mut module) };
    if ok == 0 {
        return Err(format!(
            "Windows would not pin the library: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Elsewhere the library unloads at exit as before.
#[cfg(not(any(unix, windows)))]
fn pin_library() -> Result<(), String> {
    Err("this platform cannot pin a library".into())
}

/// Whether [`pin`] succeeded.
static PINNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Pins the library that holds this code (see the module essay).
///
/// # Errors
/// Why the platform refused (the library then unloads at exit as before).
pub fn pin() -> Result<(), String> {
    pin_library()?;
    PINNED.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// Whether the library stays mapped until the process ends: then a thread still running its
/// code at exit (a compile) is no danger and need not be waited for.
pub fn pinned() -> bool {
    PINNED.load(std::sync::atomic::Ordering::Relaxed)
}
