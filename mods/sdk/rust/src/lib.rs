//! # wasgo-sdk — write WasGo mods in Rust
//!
//! A `no_std` + `alloc` crate for mods built for `wasm32-unknown-unknown` (the smallest mods) or any
//! other wasm32 target. It wraps the `wasgo` imports (generated into [`sys`] from the host-function
//! catalog by `cargo xtask bindings`) in safe Rust:
//!
//! - logging: [`log!`], [`info!`], [`warn!`], [`error!`], [`debug!`];
//! - the instance: [`safety_level`], [`has_function`], [`last_error`], [`emit`];
//! - Godot values: [`Variant`], encoded in Godot's binary format (`docs/variant-encoding.md`);
//! - Godot objects: [`Object`] handles (released on drop), [`self_node`], [`Object::get_node`],
//!   [`Object::get`], [`Object::set`], [`Object::call`], [`Object::connect`] with a closure;
//! - exports: [`export_ready!`], [`export_process!`], [`export_physics_process!`], [`export_main!`],
//!   [`export_init!`], and (built in) `native_callback`, `malloc` and `free`;
//! - functions the game registers: [`import_game_functions!`].
//!
//! ```ignore
//! #![no_std]
//! use wasgo_sdk::{export_process, info, self_node, Variant};
//!
//! fn process(delta: f64) {
//!     let Ok(me) = self_node() else { return };
//!     if let Ok(sprite) = me.get_node("../Sprite") {
//!         let x = sprite.get("position").ok().and_then(|p| p.as_vector2()).map_or(0.0, |p| p.x);
//!         let _ = sprite.set("position", Variant::from(wasgo_sdk::Vector2::new(x + 60.0 * delta as f32, 0.0)));
//!     }
//! }
//! export_process!(process);
//! ```
//!
//! Features (both on by default): `allocator` (a global allocator and the `malloc`/`free`
//! exports) and `panic-handler` (a panic stops the mod with its message through `wasgo.abort`).
//! Turn both off in a mod that uses `std`.
#![no_std]

extern crate alloc;

pub mod sys;

mod buffer;
mod callbacks;
mod exports;
mod local;
mod object;
/// The Variant codec, shared with the WasGo host.
use wasgo_variant as variant;

#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
mod allocator;
#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
mod panic;

use alloc::string::String;
use core::fmt;

pub use callbacks::CallbackId;
pub use object::{self_node, singleton, Object};
pub use variant::{Color, DecodeError, Variant, Vector2, Vector3};

/// A failed `wasgo` call: the negative code the ABI returned (see `docs/abi.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// -1: the node, property, method or file does not exist.
    NotFound,
    /// -3: an argument was refused (a bad path, an undecodable Variant, ...).
    InvalidArgument,
    /// -4: the handle is unknown or its object was freed.
    InvalidHandle,
    /// -5: Godot reported an error for the call.
    CallFailed,
    /// -6: the permission the function needs is not granted (yet).
    PermissionDenied,
    /// -7: the instance is busy.
    Busy,
    /// The host answered with bytes this SDK cannot decode.
    Decode(DecodeError),
    /// Any other negative code.
    Other(i32),
}

impl Error {
    /// The error for a negative ABI return code.
    pub fn from_code(code: i32) -> Self {
        match code {
            -1 => Error::NotFound,
            -3 => Error::InvalidArgument,
            -4 => Error::InvalidHandle,
            -5 => Error::CallFailed,
            -6 => Error::PermissionDenied,
            -7 => Error::Busy,
            other => Error::Other(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str("not found"),
            Error::InvalidArgument => f.write_str("invalid argument"),
            Error::InvalidHandle => f.write_str("invalid handle"),
            Error::CallFailed => f.write_str("the Godot call failed"),
            Error::PermissionDenied => f.write_str("permission not granted"),
            Error::Busy => f.write_str("busy"),
            Error::Decode(e) => write!(f, "cannot decode the host's answer: {e}"),
            Error::Other(code) => write!(f, "error code {code}"),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

/// The result of a `wasgo` call.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// `Ok(code)` for a non-negative return, else the matching [`Error`].
pub(crate) fn check(code: i32) -> Result<i32> {
    if code < 0 {
        Err(Error::from_code(code))
    } else {
        Ok(code)
    }
}

/// A pointer as the ABI passes it (`i32`).
pub(crate) fn ptr(bytes: &[u8]) -> i32 {
    bytes.as_ptr() as usize as i32
}

/// A length as the ABI passes it (`i32`).
pub(crate) fn len(bytes: &[u8]) -> i32 {
    bytes.len() as i32
}

/// Log levels of [`log()`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

/// Writes one line to the game's output and the node's `output` signal.
pub fn log(level: Level, text: &str) {
    // SAFETY: `text` is a live UTF-8 slice in this module's memory for the whole call.
    unsafe { sys::log(level as i32, ptr(text.as_bytes()), len(text.as_bytes())) }
}

/// Formats and logs a line: `log!(Level::Warning, "{} left", name)`.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)*) => {
        $crate::log($level, &$crate::__format(format_args!($($arg)*)))
    };
}

/// Logs at [`Level::Info`]: `info!("hello {}", name)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log!($crate::Level::Info, $($arg)*) };
}

/// Logs at [`Level::Warning`].
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log!($crate::Level::Warning, $($arg)*) };
}

/// Logs at [`Level::Error`].
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log!($crate::Level::Error, $($arg)*) };
}

/// Logs at [`Level::Debug`].
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log!($crate::Level::Debug, $($arg)*) };
}

#[doc(hidden)]
pub fn __format(args: fmt::Arguments<'_>) -> String {
    alloc::fmt::format(args)
}

/// Stops the mod now with a trap carrying `message` (the node emits `trapped`).
pub fn abort(message: &str) -> ! {
    // SAFETY: `message` is a live UTF-8 slice in this module's memory for the whole call.
    unsafe { sys::abort(ptr(message.as_bytes()), len(message.as_bytes())) };
    // `wasgo.abort` never returns; should a host ever let it, trap here.
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("{message}")
}

/// The safety level this instance runs at: 1, 2 or 3.
pub fn safety_level() -> i32 {
    // SAFETY: no arguments; the import only reads host state.
    unsafe { sys::safety_level() }
}

/// Whether the import `module.name` is a real function at this instance's level (not a stub
/// that would trap). Use it to adapt to the level, or to a WasGo version that lacks a function.
pub fn has_function(module: &str, name: &str) -> bool {
    let (m, n) = (module.as_bytes(), name.as_bytes());
    // SAFETY: both slices are live for the call; the host only reads them.
    unsafe { sys::has_function(ptr(m), len(m), ptr(n), len(n)) == 1 }
}

/// The message of the last failed `wasgo` call (empty if none failed).
pub fn last_error() -> String {
    let bytes = buffer::read_with(|out, cap| {
        // SAFETY: `out..out+cap` is a writable buffer owned by `read_with` for the call.
        unsafe { sys::last_error(out, cap) }
    })
    .unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Emits the node's `mod_event(name, payload)` signal in the game.
pub fn emit(name: &str, payload: &Variant) -> Result<()> {
    let bytes = payload.encode();
    // SAFETY: both slices are live for the call; the host only reads them.
    check(unsafe { sys::emit(ptr(name.as_bytes()), len(name.as_bytes()), ptr(&bytes), len(&bytes)) }).map(drop)
}

/// Level-2 files inside the mod's sandbox `user://mods/<mod_id>/` (need the `files` permission).
pub mod files {
    use super::{buffer, check, len, ptr, sys, Result};
    use alloc::vec::Vec;

    /// Writes `data` to `path` atomically.
    pub fn write(path: &str, data: &[u8]) -> Result<()> {
        // SAFETY: both slices are live for the call; the host only reads them.
        check(unsafe { sys::file_write(ptr(path.as_bytes()), len(path.as_bytes()), ptr(data), len(data)) }).map(drop)
    }

    /// Reads the whole file at `path`.
    pub fn read(path: &str) -> Result<Vec<u8>> {
        // SAFETY: the path is live for the call and `out..out+cap` is a buffer `read_with` owns.
        buffer::read_with(|out, cap| unsafe { sys::file_read(ptr(path.as_bytes()), len(path.as_bytes()), out, cap) })
    }

    /// Deletes the file at `path`.
    pub fn delete(path: &str) -> Result<()> {
        // SAFETY: the path is live for the call; the host only reads it.
        check(unsafe { sys::file_delete(ptr(path.as_bytes()), len(path.as_bytes())) }).map(drop)
    }

    /// Asks for a permission (`"files"`, `"network"`): `true` if granted, `false` if the game was asked.
    pub fn request_permission(kind: &str) -> Result<bool> {
        // SAFETY: the slice is live for the call; the host only reads it.
        check(unsafe { sys::request_permission(ptr(kind.as_bytes()), len(kind.as_bytes())) }).map(|r| r == 1)
    }
}

/// Declares functions the game registered with `WasmEngine.register_function`, as safe Rust
/// functions (scalar parameters and results only: `i32`, `i64`, `f32`, `f64`).
///
/// ```ignore
/// wasgo_sdk::import_game_functions! {
///     "game" {
///         fn player_count() -> i32;
///         fn award(player: i32, points: i32) -> i32;
///     }
/// }
/// let n = player_count();
/// ```
#[macro_export]
macro_rules! import_game_functions {
    ($module:literal { $( $(#[$meta:meta])* fn $name:ident ( $($param:ident : $ty:ident),* $(,)? ) $(-> $ret:ident)? ; )* }) => {
        $(
            $(#[$meta])*
            #[allow(clippy::too_many_arguments)]
            pub fn $name($($param: $ty),*) $(-> $ret)? {
                #[link(wasm_import_module = $module)]
                extern "C" {
                    #[link_name = stringify!($name)]
                    fn import($($param: $ty),*) $(-> $ret)?;
                }
                // SAFETY: every parameter and result is a scalar (the macro accepts only type
                // names), so the host cannot be handed or hand back a pointer into this module.
                unsafe { import($($param),*) }
            }
        )*
    };
}
