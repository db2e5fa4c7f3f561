//! The host-function catalog: the single source of truth for every `wasgo` import.
//!
//! Each entry names a function, the lowest safety level that exposes it, its wasm signature and
//! its documentation. The linker links implemented entries at their level and error stubs
//! elsewhere; the docs and the guest bindings are generated from the same table. A unit test
//! checks that every implementation the linker installs has exactly the signature written here.

use crate::level::SafetyLevel;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The import module of the engine functions.
pub const WASGO_MODULE: &str = "wasgo";
/// The import module of WASI preview 1.
pub const WASI_P1_MODULE: &str = "wasi_snapshot_preview1";
/// The import module of Go's `GOOS=js` target (its imports make a module a Go-js guest).
pub const GOJS_MODULE: &str = "gojs";
/// The import module of waPC guests (its imports make a module a waPC guest).
pub const WAPC_MODULE: &str = "wapc";

/// A wasm value type as the ABI uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Abi {
    I32,
    I64,
    F32,
    F64,
}

impl Abi {
    /// The type's name in WAT (`i32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Abi::I32 => "i32",
            Abi::I64 => "i64",
            Abi::F32 => "f32",
            Abi::F64 => "f64",
        }
    }
}

/// A function signature written with ABI types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<Abi>,
    pub results: Vec<Abi>,
}

impl fmt::Display for Signature {
    /// `(i32, i32) -> i32`, `() -> ()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |v: &[Abi]| v.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
        match self.results.len() {
            0 => write!(f, "({}) -> ()", join(&self.params)),
            1 => write!(f, "({}) -> {}", join(&self.params), self.results[0].name()),
            _ => write!(f, "({}) -> ({})", join(&self.params), join(&self.results)),
        }
    }
}

/// Whether this version of WasGo implements a catalog function yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Linked to its implementation at its level and above.
    Ready,
    /// Part of the ABI but not implemented in this version: linked to an error stub that says so.
    Planned,
}

/// What a parameter means, beyond its wasm type: generators turn pointers and lengths into the
/// language's natural types (`*const u8` and `usize` in Rust, `const uint8_t *` and `size_t` in
/// C, ...). Every kind but [`ParamKind::Value`] is an `i32` on the wire, so the wasm signature
/// never depends on the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// A number passed as is.
    Value(Abi),
    /// An object handle of the instance (0 = null).
    Handle,
    /// The address of bytes the host reads (UTF-8 text, an encoded Variant, an array of numbers).
    In,
    /// The length in bytes of the [`ParamKind::In`] before it.
    Len,
    /// The address of a buffer the host writes.
    Out,
    /// The capacity in bytes of the [`ParamKind::Out`] before it (the caller-buffer convention).
    Cap,
}

impl ParamKind {
    /// The parameter's wasm type.
    pub const fn abi(self) -> Abi {
        match self {
            ParamKind::Value(abi) => abi,
            _ => Abi::I32,
        }
    }
}

/// One parameter of a host function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
}

/// The group of host functions one host module implements (`wasgo-core`'s `hostfns/<area>.rs`).
/// The generated host interface has one trait per area, so each module implements exactly its
/// own functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// Logging, errors and what the instance may call.
    Basic,
    /// Handles, properties, methods, signals and events.
    Objects,
    /// The typed fast paths (no Variant encoding).
    Fast,
    /// The mod's sandbox directory.
    Files,
    /// Whitelisted HTTP.
    Http,
    /// Asking the game for permissions.
    Permissions,
    /// Objects and assets the mod creates (owned by its instance).
    Create,
}

impl Area {
    /// Every area, in catalog order.
    pub const ALL: [Area; 7] = [
        Area::Basic,
        Area::Objects,
        Area::Fast,
        Area::Files,
        Area::Http,
        Area::Permissions,
        Area::Create,
    ];

    /// The host module's name (`basic`, ...).
    pub const fn module(self) -> &'static str {
        match self {
            Area::Basic => "basic",
            Area::Objects => "objects",
            Area::Fast => "fast",
            Area::Files => "files",
            Area::Http => "http",
            Area::Permissions => "permissions",
            Area::Create => "create",
        }
    }

    /// The generated host trait's name (`BasicFunctions`, ...).
    pub const fn trait_name(self) -> &'static str {
        match self {
            Area::Basic => "BasicFunctions",
            Area::Objects => "ObjectFunctions",
            Area::Fast => "FastFunctions",
            Area::Files => "FileFunctions",
            Area::Http => "HttpFunctions",
            Area::Permissions => "PermissionFunctions",
            Area::Create => "CreateFunctions",
        }
    }
}

/// One `wasgo` engine function.
#[derive(Debug, Clone, Copy)]
pub struct HostFunction {
    /// The import name inside module `wasgo`.
    pub name: &'static str,
    /// The lowest safety level that exposes it.
    pub level: SafetyLevel,
    pub params: &'static [Param],
    pub results: &'static [Abi],
    /// The host module that implements it.
    pub area: Area,
    pub availability: Availability,
    /// One paragraph for the ABI reference and the bindings' doc comments.
    pub doc: &'static str,
}

impl HostFunction {
    /// The function's signature.
    pub fn signature(&self) -> Signature {
        Signature {
            params: self.params.iter().map(|p| p.kind.abi()).collect(),
            results: self.results.to_vec(),
        }
    }

    /// `wasgo.name`.
    pub fn qualified_name(&self) -> String {
        format!("{WASGO_MODULE}.{}", self.name)
    }
}

use Abi::{F32, F64, I32};
use Area::{Basic, Create, Fast, Files, Http, Objects, Permissions};
use Availability::Ready;
use ParamKind::{Cap, Handle, In, Len, Out, Value};
use SafetyLevel::{Safe, Wrapped};

macro_rules! host_fn {
    ($name:literal, $level:expr, $avail:expr, $area:expr, ($($p:ident : $k:expr),*) -> [$($r:ident),*], $doc:literal) => {
        HostFunction {
            name: $name,
            level: $level,
            params: &[$(Param { name: stringify!($p), kind: $k }),*],
            results: &[$($r),*],
            area: $area,
            availability: $avail,
            doc: $doc,
        }
    };
}

/// Every `wasgo` function of ABI v1, in the order of the contract.
pub static WASGO_FUNCTIONS: &[HostFunction] = &[
    // ---- level 1: safe ----
    host_fn!("log", Safe, Ready, Basic, (level: Value(I32), ptr: In, len: Len) -> [],
        "Writes a UTF-8 line to the game's output and the node's `output` signal. `level`: 0 debug, 1 info, 2 warning, 3 error."),
    host_fn!("abort", Safe, Ready, Basic, (ptr: In, len: Len) -> [],
        "Stops the mod with a trap carrying the given UTF-8 message."),
    host_fn!("last_error", Safe, Ready, Basic, (out_ptr: Out, out_cap: Cap) -> [I32],
        "Copies the message of the last failed `wasgo` call into the buffer; returns its full length (nothing is written when it exceeds `out_cap`)."),
    host_fn!("safety_level", Safe, Ready, Basic, () -> [I32],
        "The safety level this instance runs at: 1, 2 or 3."),
    host_fn!("has_function", Safe, Ready, Basic, (module_ptr: In, module_len: Len, name_ptr: In, name_len: Len) -> [I32],
        "1 if the import `module.name` is exposed (not a stub) at this instance's level, else 0. A function the mod imports is answered as it was linked when the instance was made (a game function registered later is still a stub for it); another name as the game's functions are now."),
    host_fn!("self", Safe, Ready, Objects, () -> [I32],
        "Handle of the `WasmScript` node running this mod."),
    host_fn!("get_node", Safe, Ready, Objects, (from: Handle, path_ptr: In, path_len: Len) -> [I32],
        "Handle of the node at the NodePath relative to handle `from` (0: the mod's own node); -1 if there is none. Looking the same path up again is cheap: the instance remembers the answer until the scene tree changes or a handle is released (from `main`, no round trip), except for `%Unique` paths and paths from a node outside the tree. -3 at levels 1 and 2 for a path holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
    host_fn!("singleton", Safe, Ready, Objects, (name_ptr: In, name_len: Len) -> [I32],
        "Handle of an engine singleton allowed at this level. -3 at levels 1 and 2 for a name holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
    host_fn!("release", Safe, Ready, Objects, (handle: Handle) -> [],
        "Forgets a handle for the whole instance. WasGo gives one handle per object (looking the same object up again returns the same number), so release it only when no part of the mod uses it any more; a later lookup gives a fresh handle, and the released number names nothing until its slot has been reused 1024 times (so per-object state a mod keeps by handle never passes to another object). Releasing 0, an unknown handle or a freed object's handle does nothing. From `main` it is queued in order with the other calls."),
    host_fn!("get", Safe, Ready, Objects, (handle: Handle, name_ptr: In, name_len: Len, out_ptr: Out, out_cap: Cap) -> [I32],
        "Reads a property as an encoded Variant into the buffer; returns its full length. -3 at levels 1 and 2 for a property name holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
    host_fn!("set", Safe, Ready, Objects, (handle: Handle, name_ptr: In, name_len: Len, val_ptr: In, val_len: Len) -> [I32],
        "Sets a property from an encoded Variant; 0 on success, -3 at levels 1 and 2 for a value outside the allowlist's range for the property (a number, or an array's or a text's size), and for a property name, a StringName or NodePath value, or a text set to a property that takes a name, holding a control or invisible formatting character, or any other text holding a control character but tab and line breaks (Godot would copy it into its log as it is). Called from `main` (the worker thread) it is queued and returns 0 at once; a failure surfaces at the mod's next call that returns a value, or through `last_error`."),
    host_fn!("call", Safe, Ready, Objects, (handle: Handle, method_ptr: In, method_len: Len, args_ptr: In, args_len: Len, out_ptr: Out, out_cap: Cap) -> [I32],
        "Calls a method with an encoded Array of arguments; writes the encoded result, returns its full length. -3 at levels 1 and 2 for an argument outside the allowlist's range for it, for a name argument (a StringName or NodePath, or a String given to a parameter that takes a name) with a control or invisible formatting character or a text argument with a control character but tab and line breaks (Godot would copy it into its log as it is), and for a tween call that would make a looping tween take less than 1 ms per loop (the tween is killed)."),
    host_fn!("connect", Safe, Ready, Objects, (handle: Handle, signal_ptr: In, signal_len: Len, callback_id: Value(I32)) -> [I32],
        "Connects a signal to the export `native_callback(callback_id)`; 0 on success, -7 when the instance already has 1024 live connections, or 16 to this signal of this object. -3 at levels 1 and 2 for a signal name holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
    host_fn!("callback_args", Safe, Ready, Objects, (out_ptr: Out, out_cap: Cap) -> [I32],
        "Inside `native_callback`: the signal's arguments as an encoded Array; returns the full length."),
    host_fn!("emit", Safe, Ready, Objects, (name_ptr: In, name_len: Len, payload_ptr: In, payload_len: Len) -> [I32],
        "Emits the node's `mod_event(name, payload)` with an encoded Variant payload; 0 on success, -7 while the events waiting for delivery (until the mod's call returns) take over 16 MiB. -3 at levels 1 and 2 for a event name holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
    // ---- level 1: typed fast paths (same allowlist as get/set/call, no Variant encoding) ----
    host_fn!("get_float", Safe, Ready, Fast, (handle: Handle, name_ptr: In, name_len: Len, out_ptr: Out) -> [I32],
        "Reads a numeric property and writes it as an f64 at `out_ptr`; 0 on success."),
    host_fn!("set_float", Safe, Ready, Fast, (handle: Handle, name_ptr: In, name_len: Len, value: Value(F64)) -> [I32],
        "Sets a float property; 0 on success. Called from `main` (the worker thread) it is queued and returns 0 at once; a failure surfaces at the mod's next call that returns a value, or through `last_error`."),
    host_fn!("get_vec2", Safe, Ready, Fast, (handle: Handle, name_ptr: In, name_len: Len, out_ptr: Out) -> [I32],
        "Reads a Vector2 property and writes x, y as two f32 at `out_ptr`; 0 on success."),
    host_fn!("set_vec2", Safe, Ready, Fast, (handle: Handle, name_ptr: In, name_len: Len, x: Value(F32), y: Value(F32)) -> [I32],
        "Sets a Vector2 property (e.g. `position`); 0 on success. Called from `main` (the worker thread) it is queued and returns 0 at once; a failure surfaces at the mod's next call that returns a value, or through `last_error`."),
    host_fn!("get_vec3", Safe, Ready, Fast, (handle: Handle, name_ptr: In, name_len: Len, out_ptr: Out) -> [I32],
        "Reads a Vector3 property and writes x, y, z as three f32 at `out_ptr`; 0 on success."),
    host_fn!("set_vec3", Safe, Ready, Fast, (handle: Handle, name_ptr: In, name_len: Len, x: Value(F32), y: Value(F32), z: Value(F32)) -> [I32],
        "Sets a Vector3 property; 0 on success. Called from `main` (the worker thread) it is queued and returns 0 at once; a failure surfaces at the mod's next call that returns a value, or through `last_error`."),
    host_fn!("call_float", Safe, Ready, Fast, (handle: Handle, method_ptr: In, method_len: Len, args_ptr: In, argc: Value(I32), out_ptr: Out) -> [I32],
        "Calls a method with `argc` f64 arguments read from `args_ptr`; a numeric result is written as an f64 at `out_ptr` (when not 0), a bool as 1.0 or 0.0, no result as 0.0; 0 on success, -3 when the result is anything else (the method has run: read such results with `call`)."),
    // ---- level 2: safe wrappers ----
    host_fn!("file_write", Wrapped, Ready, Files, (path_ptr: In, path_len: Len, data_ptr: In, data_len: Len) -> [I32],
        "Atomically writes a file inside the mod's sandbox `user://mods/<mod_id>/`; needs the `files` permission."),
    host_fn!("file_read", Wrapped, Ready, Files, (path_ptr: In, path_len: Len, out_ptr: Out, out_cap: Cap) -> [I32],
        "Reads a sandbox file into the buffer; returns its full length."),
    host_fn!("file_list", Wrapped, Ready, Files, (path_ptr: In, path_len: Len, out_ptr: Out, out_cap: Cap) -> [I32],
        "Lists a sandbox directory as newline-separated names; returns the full length."),
    host_fn!("file_delete", Wrapped, Ready, Files, (path_ptr: In, path_len: Len) -> [I32],
        "Deletes a sandbox file; 0 on success."),
    host_fn!("http_request", Wrapped, Ready, Http, (url_ptr: In, url_len: Len, method_ptr: In, method_len: Len, body_ptr: In, body_len: Len) -> [I32],
        "Starts an HTTP request (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`) to a URL matching `wasgo/safety/url_whitelist`; needs the `network` permission. Returns a request id (-3 refused URL, -6 no permission, -7 too many in flight). The answer arrives at the export `http_response(id, status)`: the HTTP status, or a negative code when the request failed (-3 redirect off the whitelist or body over `wasgo/limits/http_response_kb`, -5 network error)."),
    host_fn!("http_body", Wrapped, Ready, Http, (id: Value(I32), out_ptr: Out, out_cap: Cap) -> [I32],
        "Copies the body of a finished request into the buffer; returns its full length (-7 still in flight, -1 unknown id, or the request's failure code). The body is freed once read whole."),
    host_fn!("request_permission", Wrapped, Ready, Permissions, (kind_ptr: In, kind_len: Len) -> [I32],
        "Asks for a permission (`files`, `network`): 1 granted, 0 asked (the game decides later)."),
    // ---- level 1: objects and assets the mod creates (owned by its instance) ----
    host_fn!("new", Safe, Ready, Create, (class_ptr: In, class_len: Len) -> [I32],
        "Creates an object of a class the allowlist marks `instantiable` (e.g. `Sprite2D`, `Label`, `Timer`, `StandardMaterial3D`) and returns its handle. The object is owned by this instance: it counts against `wasgo/limits/max_objects_per_mod` (-7 past it), the mod may `add_child` it under a node in its reach, `remove_child` and `queue_free` it, and it is freed when the instance ends unless the game adopts it (`WasmScript.adopt`). -1 for a class that does not exist, -3 for one that is not instantiable. -3 at levels 1 and 2 for a class name holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
    host_fn!("texture_from_bytes", Safe, Ready, Create, (data_ptr: In, data_len: Len) -> [I32],
        "Makes an owned `ImageTexture` from PNG, JPEG, WebP or SVG bytes (the format is read from the bytes) and returns its handle. -3 for data that is not one of those formats or does not decode, that exceeds `wasgo/limits/asset_kb` or `wasgo/limits/texture_max_px` on a side, or an SVG whose estimated drawing exceeds `wasgo/limits/svg_draw_mpx` or that embeds an `<image>`; -7 past the object cap."),
    host_fn!("audio_from_bytes", Safe, Ready, Create, (data_ptr: In, data_len: Len) -> [I32],
        "Makes an owned `AudioStream` from Ogg Vorbis, WAV or MP3 bytes (the format is read from the bytes) and returns its handle. -3 for data that is not one of those formats or does not decode, or that exceeds `wasgo/limits/asset_kb`; -7 past the object cap."),
    host_fn!("font_from_bytes", Safe, Ready, Create, (data_ptr: In, data_len: Len) -> [I32],
        "Makes an owned `FontFile` from TTF or OTF bytes and returns its handle; the font reaches Godot without its TrueType instructions. -3 for data that is not a TrueType/OpenType font (CFF2 included), whose composite glyphs or CFF subroutines expand past the limits, or that does not load, or that exceeds `wasgo/limits/asset_kb`; -7 past the object cap."),
    host_fn!("load_resource", Safe, Ready, Create, (path_ptr: In, path_len: Len) -> [I32],
        "Loads a `res://` resource read-only and returns its handle: only from a folder listed in `wasgo/safety/resource_folders` (empty by default: nothing) and only a Texture2D, AudioStream, Font, SpriteFrames, Mesh or Material. -1 for a path outside those folders or a missing file, -3 for any other type. -3 at levels 1 and 2 for a path holding a control or invisible formatting character (Godot would copy it into its log as it is)."),
];

/// A WASI preview 1 function: its name and wasm signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasiFunction {
    pub name: &'static str,
    pub params: &'static [Abi],
    pub results: &'static [Abi],
}

impl WasiFunction {
    /// The function's wasm signature.
    pub fn signature(&self) -> Signature {
        Signature {
            params: self.params.to_vec(),
            results: self.results.to_vec(),
        }
    }
}

const fn wasi_fn(
    name: &'static str,
    params: &'static [Abi],
    results: &'static [Abi],
) -> WasiFunction {
    WasiFunction {
        name,
        params,
        results,
    }
}

/// Every function WASI preview 1 defines, with its wasm signature; all are linked from level 1
/// up (the file system they reach grows with the level: nothing at level 1, the mod's sandbox
/// at 2, `res://` and `user://` at 3). An import with another signature links to a stub. A
/// test in wasgo-core checks each signature against the implementation the linker installs.
pub static WASI_P1_FUNCTIONS: &[WasiFunction] = &[
    wasi_fn("args_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("args_sizes_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("environ_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("environ_sizes_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("clock_res_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn(
        "clock_time_get",
        &[Abi::I32, Abi::I64, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "fd_advise",
        &[Abi::I32, Abi::I64, Abi::I64, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn("fd_allocate", &[Abi::I32, Abi::I64, Abi::I64], &[Abi::I32]),
    wasi_fn("fd_close", &[Abi::I32], &[Abi::I32]),
    wasi_fn("fd_datasync", &[Abi::I32], &[Abi::I32]),
    wasi_fn("fd_fdstat_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("fd_fdstat_set_flags", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn(
        "fd_fdstat_set_rights",
        &[Abi::I32, Abi::I64, Abi::I64],
        &[Abi::I32],
    ),
    wasi_fn("fd_filestat_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("fd_filestat_set_size", &[Abi::I32, Abi::I64], &[Abi::I32]),
    wasi_fn(
        "fd_filestat_set_times",
        &[Abi::I32, Abi::I64, Abi::I64, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "fd_pread",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I64, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn("fd_prestat_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn(
        "fd_prestat_dir_name",
        &[Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "fd_pwrite",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I64, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "fd_read",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "fd_readdir",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I64, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn("fd_renumber", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn(
        "fd_seek",
        &[Abi::I32, Abi::I64, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn("fd_sync", &[Abi::I32], &[Abi::I32]),
    wasi_fn("fd_tell", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn(
        "fd_write",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_create_directory",
        &[Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_filestat_get",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_filestat_set_times",
        &[
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I64,
            Abi::I64,
            Abi::I32,
        ],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_link",
        &[
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
        ],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_open",
        &[
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I32,
            Abi::I64,
            Abi::I64,
            Abi::I32,
            Abi::I32,
        ],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_readlink",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_remove_directory",
        &[Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_rename",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_symlink",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "path_unlink_file",
        &[Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "poll_oneoff",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn("proc_exit", &[Abi::I32], &[]),
    wasi_fn("proc_raise", &[Abi::I32], &[Abi::I32]),
    wasi_fn("sched_yield", &[], &[Abi::I32]),
    wasi_fn("random_get", &[Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn("sock_accept", &[Abi::I32, Abi::I32, Abi::I32], &[Abi::I32]),
    wasi_fn(
        "sock_recv",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn(
        "sock_send",
        &[Abi::I32, Abi::I32, Abi::I32, Abi::I32, Abi::I32],
        &[Abi::I32],
    ),
    wasi_fn("sock_shutdown", &[Abi::I32, Abi::I32], &[Abi::I32]),
];

/// The WASI preview 1 function `name`.
pub fn wasi_p1_function(name: &str) -> Option<&'static WasiFunction> {
    WASI_P1_FUNCTIONS.iter().find(|f| f.name == name)
}

/// The import module of WASI's snapshot before preview 1, which WasGo does not implement.
pub const WASI_UNSTABLE_MODULE: &str = "wasi_unstable";

/// The catalog entry of `wasgo.name`.
pub fn wasgo_function(name: &str) -> Option<&'static HostFunction> {
    WASGO_FUNCTIONS.iter().find(|f| f.name == name)
}

/// Whether `module` is reserved for WasGo itself (games cannot register functions there).
pub fn is_reserved_module(module: &str) -> bool {
    module == WASGO_MODULE
        || module == GOJS_MODULE
        || module == WAPC_MODULE
        || module.starts_with("wasi_")
        || module.starts_with("wasi:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::prelude::rust_2021::*;

    #[test]
    fn catalog_names_are_unique_and_documented() {
        let mut seen = HashSet::new();
        for f in WASGO_FUNCTIONS {
            assert!(seen.insert(f.name), "`wasgo.{}` listed twice", f.name);
            assert!(!f.doc.is_empty());
        }
    }

    #[test]
    fn every_length_follows_its_pointer() {
        for f in WASGO_FUNCTIONS {
            for (i, p) in f.params.iter().enumerate() {
                let before = i.checked_sub(1).map(|j| f.params[j].kind);
                match p.kind {
                    Len => assert_eq!(before, Some(In), "`wasgo.{}`: `{}`", f.name, p.name),
                    Cap => assert_eq!(before, Some(Out), "`wasgo.{}`: `{}`", f.name, p.name),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn pointer_kinds_are_i32_on_the_wire() {
        for kind in [Handle, In, Len, Out, Cap] {
            assert_eq!(kind.abi(), Abi::I32);
        }
        assert_eq!(Value(F64).abi(), Abi::F64);
    }

    #[test]
    fn contract_level_two_functions_are_not_below_level_two() {
        for name in [
            "file_write",
            "file_read",
            "file_list",
            "file_delete",
            "http_request",
            "http_body",
            "request_permission",
        ] {
            assert_eq!(
                wasgo_function(name).unwrap().level,
                SafetyLevel::Wrapped,
                "{name}"
            );
        }
        assert_eq!(wasgo_function("log").unwrap().level, SafetyLevel::Safe);
    }

    #[test]
    fn signatures_print_like_wat() {
        assert_eq!(
            wasgo_function("log").unwrap().signature().to_string(),
            "(i32, i32, i32) -> ()"
        );
        assert_eq!(
            wasgo_function("safety_level")
                .unwrap()
                .signature()
                .to_string(),
            "() -> i32"
        );
    }

    #[test]
    fn reserved_modules() {
        assert!(is_reserved_module("wasgo"));
        assert!(is_reserved_module("wasi_snapshot_preview1"));
        assert!(!is_reserved_module("game"));
    }
}
