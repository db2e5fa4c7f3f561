//! The rest of the mod ABI besides the host functions: the error codes `wasgo` functions return
//! and the exports the host calls. Host, docs and every SDK read these tables; nothing else types
//! the numbers or the names.

use crate::catalog::Abi;

/// A negative return of a `wasgo` function (ABI v1). `wasgo.last_error` gives the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// No such node, property, method, signal, singleton, file or request.
    NotFound = -1,
    /// An argument the host cannot use (a bad Variant, a value of the wrong type, a refused URL).
    InvalidArgument = -3,
    /// A handle that is unknown to the instance or names an object that was freed.
    InvalidHandle = -4,
    /// Godot (or the game's function, or the network) reported a failure.
    CallFailed = -5,
    /// The permission the function needs is not granted (yet).
    PermissionDenied = -6,
    /// Not now: the resource is in use or not ready (try again later).
    Busy = -7,
}

impl ErrorCode {
    /// Every code, in numeric order (closest to zero first).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::NotFound,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidHandle,
        ErrorCode::CallFailed,
        ErrorCode::PermissionDenied,
        ErrorCode::Busy,
    ];

    /// The number a `wasgo` function returns.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The code a number stands for, if it is one.
    pub fn from_code(code: i32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// `SCREAMING_SNAKE` name for the generated constants (`NOT_FOUND`, ...).
    pub const fn constant_name(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidHandle => "INVALID_HANDLE",
            ErrorCode::CallFailed => "CALL_FAILED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::Busy => "BUSY",
        }
    }

    /// One line for the docs and the bindings' comments.
    pub const fn doc(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not found: no such node, member, singleton, file or request",
            ErrorCode::InvalidArgument => "invalid argument: a value the host cannot use",
            ErrorCode::InvalidHandle => "invalid handle: unknown, or its object was freed",
            ErrorCode::CallFailed => "the Godot call (or game function, or network request) failed",
            ErrorCode::PermissionDenied => "permission not granted (yet)",
            ErrorCode::Busy => "busy: in use or not ready, try again later",
        }
    }
}

/// On which thread the host calls a guest export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportThread {
    /// Godot's main thread, under the callback budget.
    Main,
    /// The instance's worker thread (`main`).
    Worker,
    /// Whichever thread holds the instance at the time.
    Either,
}

/// One export the host may call (all optional for a mod).
#[derive(Debug, Clone, Copy)]
pub struct GuestExport {
    pub name: &'static str,
    /// The parameter types; `None` for an export with several accepted shapes (see `doc`).
    pub params: Option<&'static [Abi]>,
    pub results: &'static [Abi],
    pub thread: ExportThread,
    pub doc: &'static str,
}

/// Names of the exports the host calls, for code that calls them.
pub mod export {
    pub const START: &str = "_start";
    pub const INITIALIZE: &str = "_initialize";
    pub const MAIN: &str = "main";
    pub const INIT: &str = "init";
    pub const READY: &str = "ready";
    pub const PROCESS: &str = "process";
    pub const PHYSICS_PROCESS: &str = "physics_process";
    /// Called once per node of the `WasmScript`'s `process_group`, every frame (ABI 1.2).
    pub const PROCESS_NODE: &str = "process_node";
    /// Called once per node of the `WasmScript`'s `process_group`, every physics tick (ABI 1.2).
    pub const PHYSICS_PROCESS_NODE: &str = "physics_process_node";
    /// Called with a batch of the `process_group`'s nodes at once, every frame (ABI 1.3).
    pub const PROCESS_NODES: &str = "process_nodes";
    /// Called with a batch of the `process_group`'s nodes at once, every physics tick (ABI 1.3).
    pub const PHYSICS_PROCESS_NODES: &str = "physics_process_nodes";
    pub const NATIVE_CALLBACK: &str = "native_callback";
    pub const HTTP_RESPONSE: &str = "http_response";
    pub const MALLOC: &str = "malloc";
    pub const FREE: &str = "free";
    pub const MEMORY: &str = "memory";
    pub const INPUT: &str = "input";
    pub const SAVE_STATE: &str = "save_state";
    pub const LOAD_STATE: &str = "load_state";
    pub const CONFIG: &str = "config";
}

/// The name of the custom section that carries a mod's manifest (JSON text, see `docs/abi.md`).
pub const MANIFEST_SECTION: &str = "wasgo.manifest";

/// The most bytes a `wasgo.manifest` section may hold (64 KiB); a larger one is reported as
/// malformed and ignored.
pub const MAX_MANIFEST_BYTES: usize = 64 << 10;

/// A version of this ABI: `major.minor`. Additions (a new host function, export, error code,
/// Variant tag or manifest field) bump `minor`; anything that changes or removes what a mod
/// already uses bumps `major`. A host runs a mod that targets the same `major` and a `minor` up
/// to its own ([`AbiVersion::runs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbiVersion {
    pub major: u16,
    pub minor: u16,
}

/// The ABI this catalog describes (contract v1; `1.0` is the first numbered release, including
/// the manifest section; `1.1` added the `config` export; `1.2` added `process_node` and
/// `physics_process_node`; `1.3` added `process_nodes` and `physics_process_nodes`).
pub const ABI_VERSION: AbiVersion = AbiVersion { major: 1, minor: 3 };

impl AbiVersion {
    /// Reads `"1"` (minor 0) or `"1.2"`; `None` for anything else (signs, spaces, more parts,
    /// numbers over 65535).
    pub fn parse(text: &str) -> Option<AbiVersion> {
        let number = |s: &str| -> Option<u16> {
            if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        match text.split_once('.') {
            Some((major, minor)) => Some(AbiVersion {
                major: number(major)?,
                minor: number(minor)?,
            }),
            None => Some(AbiVersion {
                major: number(text)?,
                minor: 0,
            }),
        }
    }

    /// Whether a host of this version runs a mod built against `target`: the same major, and a
    /// minor no newer than the host's.
    pub fn runs(self, target: AbiVersion) -> bool {
        target.major == self.major && target.minor <= self.minor
    }
}

impl core::fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The most bytes a mod may carry across a hot reload through `save_state` (16 MiB); a longer
/// state is refused and the new instance starts without one.
pub const MAX_CARRIED_STATE: usize = 16 << 20;

/// The wall-clock budget of a mod's `config` export, in milliseconds, for the whole throwaway
/// instance that runs it (start function, `_initialize` and both calls).
pub const CONFIG_BUDGET_MS: u64 = 50;

/// The most bytes of JSON text a mod's `config` may answer (64 KiB).
pub const MAX_CONFIG_BYTES: usize = 64 << 10;

use Abi::{F64, I32};

/// Every export the host calls, in the order of the contract.
pub static GUEST_EXPORTS: &[GuestExport] = &[
    GuestExport { name: export::START, params: Some(&[]), results: &[], thread: ExportThread::Worker,
        doc: "WASI command entry point; run by `start()` on the worker thread (a waPC guest's runs when it is set up, before `wapc_init`: see the README)." },
    GuestExport { name: export::MAIN, params: None, results: &[I32], thread: ExportThread::Worker,
        doc: "`main() -> i32` or `main(argc, argv) -> i32`; run by `start()` on the worker thread when there is no `_start` (never for a waPC guest). `argv` (program name first, then the node's `args`) is laid out through the mod's `malloc(size, align)` export; without `malloc` (or an exported `memory`) `main` gets `(0, 0)` and reads its arguments through WASI `args_get`." },
    GuestExport { name: export::INITIALIZE, params: Some(&[]), results: &[], thread: ExportThread::Main,
        doc: "WASI reactor set-up; runs right after instantiation, before `init`." },
    GuestExport { name: export::INIT, params: Some(&[]), results: &[], thread: ExportThread::Main,
        doc: "Runs right after instantiation, before `main`." },
    GuestExport { name: export::READY, params: Some(&[]), results: &[], thread: ExportThread::Main,
        doc: "Runs when the node is ready." },
    GuestExport { name: export::PROCESS, params: Some(&[F64]), results: &[], thread: ExportThread::Main,
        doc: "Every frame with the frame's delta in seconds, while `main` is not running." },
    GuestExport { name: export::PHYSICS_PROCESS, params: Some(&[F64]), results: &[], thread: ExportThread::Main,
        doc: "Every physics tick with its delta in seconds, while `main` is not running." },
    GuestExport { name: export::PROCESS_NODE, params: Some(&[I32, F64]), results: &[], thread: ExportThread::Main,
        doc: "`process_node(node, delta)`: the batched frame path (ABI 1.2). When the game sets the `WasmScript`'s `process_group`, this runs every frame, after `process`, once for each node of that SceneTree group the mod may reach, with the mod's handle for the node (the handle `get_node` gives for it, the same every frame; do not release it) and the frame's delta. The whole pass is one entry: one callback budget covers it, and once the frame budget is spent the rest of the group waits for the next frame, which starts where the pass stopped. Not while `main` is running." },
    GuestExport { name: export::PHYSICS_PROCESS_NODE, params: Some(&[I32, F64]), results: &[], thread: ExportThread::Main,
        doc: "`physics_process_node(node, delta)`: as `process_node`, every physics tick after `physics_process`, with the physics delta (ABI 1.2)." },
    GuestExport { name: export::PROCESS_NODES, params: Some(&[I32, I32, F64]), results: &[], thread: ExportThread::Main,
        doc: "`process_nodes(nodes_ptr, count, delta)`: the batched frame path with the nodes handed over in bulk (ABI 1.3). Used instead of `process_node` when the mod exports it (and `malloc`): every frame, after `process`, the host writes the handles of the `process_group`'s nodes (as `process_node` gets them: reachable nodes only, the same handle every frame, not to be released) as `count` little-endian i32s at `nodes_ptr`, in a buffer it allocated with the mod's `malloc` (freed with its `free` after the pass; copy what you keep), and calls it once per batch of at most 256 nodes. One entry and one callback budget cover the whole pass; once the frame budget is spent the remaining batches wait for the next frame, which starts where the pass stopped. A handle whose node is freed during the call answers -4 (freed). Not while `main` is running." },
    GuestExport { name: export::PHYSICS_PROCESS_NODES, params: Some(&[I32, I32, F64]), results: &[], thread: ExportThread::Main,
        doc: "`physics_process_nodes(nodes_ptr, count, delta)`: as `process_nodes`, every physics tick after `physics_process`, with the physics delta; used instead of `physics_process_node` (ABI 1.3)." },
    GuestExport { name: export::NATIVE_CALLBACK, params: Some(&[I32]), results: &[], thread: ExportThread::Main,
        doc: "A signal connected with `wasgo.connect` fired; the argument is the mod's callback id." },
    GuestExport { name: export::HTTP_RESPONSE, params: Some(&[I32, I32]), results: &[], thread: ExportThread::Main,
        doc: "A level-2 request finished: `(request id, HTTP status or negative error code)`." },
    GuestExport { name: export::MALLOC, params: Some(&[I32, I32]), results: &[I32], thread: ExportThread::Either,
        doc: "`malloc(size, align) -> ptr`, used to pass strings and bytes into the mod: a `String` or `PackedByteArray` argument of `call_export` (and of an export's Callable) becomes a `(ptr, len)` pair of the export's parameters, in a buffer from `malloc` that the host gives back with `free` after the call (copy what you keep); also states (`load_state`) and node lists (`process_nodes`)." },
    GuestExport { name: export::FREE, params: Some(&[I32, I32, I32]), results: &[], thread: ExportThread::Either,
        doc: "`free(ptr, size, align)`, the counterpart of `malloc`." },
    GuestExport { name: export::INPUT, params: Some(&[I32]), results: &[], thread: ExportThread::Main,
        doc: "An input event the game did not handle, as a handle to the mod's own copy (read its allowlisted properties: `keycode`, `pressed`, `position`, `button_index`, ..., and `is_action_pressed(action)`); only when the project setting `wasgo/safety/input_events` is on (off by default), delivered after the game's input handling and not while `main` runs; below level 3, key events are not delivered while the player types in a text field (a `LineEdit` or `TextEdit` has the focus)." },
    GuestExport { name: export::SAVE_STATE, params: Some(&[I32, I32]), results: &[I32], thread: ExportThread::Main,
        doc: "`save_state(out_ptr, out_cap) -> len`: hot reload (the mod's `.wasm` changed on disk while the game runs) asks the old instance for the state to carry over, before it ends. The out-buffer convention: the host first calls `save_state(0, 0)` for the length, then `save_state(ptr, len)` with a buffer it allocated with the mod's `malloc`; write the bytes when they fit and return their full length. A negative return carries nothing. At most 16 MiB; not called while `main` runs." },
    GuestExport { name: export::LOAD_STATE, params: Some(&[I32, I32]), results: &[], thread: ExportThread::Main,
        doc: "`load_state(ptr, len)`: hot reload hands the new instance the bytes the old one's `save_state` returned, right after `init` and before `ready` and `main`. The bytes sit in a buffer the host allocated with the mod's `malloc` and frees with its `free` when the call returns: copy what you keep." },
    GuestExport { name: export::CONFIG, params: Some(&[I32, I32]), results: &[I32], thread: ExportThread::Main,
        doc: "`config(out_ptr, out_cap) -> len`: dynamic metadata (W3CE's name), read by `WasmModule.get_config()` and by a `WasmScript` before `init` (`get_mod_config()`). It runs in a throwaway instance of the module in which every import is a stub that traps (no Godot, WASI or game functions), under a 50 ms budget for the whole instance, memory capped like the mod's; nothing it does reaches the instance that plays. Out-buffer convention as `save_state`: `config(0, 0)` for the length, then `config(ptr, len)` with a buffer from the mod's `malloc`. The bytes are UTF-8 JSON text of an object (at most 64 KiB), e.g. `{\"waves\": 3}`; it becomes a Dictionary (integers stay integers). A trap, an overrun or bad text is reported and the mod starts without a config." },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn error_codes_round_trip_and_are_negative() {
        for c in ErrorCode::ALL {
            assert!(c.code() < 0);
            assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
        }
        assert_eq!(ErrorCode::from_code(-2), None);
        assert_eq!(ErrorCode::from_code(0), None);
    }

    #[test]
    fn abi_versions_parse_strictly() {
        assert_eq!(
            AbiVersion::parse("1"),
            Some(AbiVersion { major: 1, minor: 0 })
        );
        assert_eq!(
            AbiVersion::parse("1.12"),
            Some(AbiVersion {
                major: 1,
                minor: 12
            })
        );
        for bad in [
            "", "1.", ".1", "1.2.3", "-1", "+1", " 1", "1.0 ", "v1", "99999999", "1.x",
        ] {
            assert_eq!(AbiVersion::parse(bad), None, "{bad:?}");
        }
        assert_eq!(format!("{}", AbiVersion::parse("2.5").unwrap()), "2.5");
    }

    #[test]
    fn a_host_runs_its_own_major_up_to_its_minor_only() {
        let host = AbiVersion { major: 1, minor: 2 };
        assert!(host.runs(AbiVersion { major: 1, minor: 0 }));
        assert!(host.runs(AbiVersion { major: 1, minor: 2 }));
        assert!(!host.runs(AbiVersion { major: 1, minor: 3 }));
        assert!(!host.runs(AbiVersion { major: 2, minor: 0 }));
        assert!(!host.runs(AbiVersion { major: 0, minor: 9 }));
        assert!(ABI_VERSION.runs(ABI_VERSION));
    }

    #[test]
    fn guest_export_names_are_unique() {
        let mut names: Vec<_> = GUEST_EXPORTS.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), GUEST_EXPORTS.len());
    }
}
