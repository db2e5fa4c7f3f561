//! Typed errors at WasGo's boundaries.
//!
//! Callers branch on the variant, never on the text. Messages are lowercase, name things in
//! backticks and say what to do.

use crate::level::SafetyLevel;

/// Everything that can go wrong when loading, linking or running a mod.
#[derive(Debug, thiserror::Error)]
pub enum WasgoError {
    /// The bytes are not a valid WebAssembly module (or WAT text).
    #[error("`{name}` is not a valid WebAssembly module: {reason}")]
    Compile { name: String, reason: String },

    /// The bytes are neither a binary module (no `\0asm` header) nor WAT text: a file of
    /// another kind, e.g. a text file renamed `.wasm` (see `diagnose::not_wasm`).
    #[error("`{name}` is {reason}")]
    NotWasm { name: String, reason: String },

    /// The module's manifest targets a WasGo ABI this host does not run (see
    /// `manifest::check_abi`); it is refused before compiling.
    #[error("`{name}` {reason}")]
    NewerAbi { name: String, reason: String },

    /// The module cannot be instantiated (e.g. it imports a memory, or its initial memory is
    /// larger than the limit).
    #[error("cannot instantiate `{name}`: {reason}")]
    Instantiate { name: String, reason: String },

    /// The mod trapped: a wasm fault, an unexposed call, an exhausted limit, `wasgo.abort`.
    #[error("{0}")]
    Trap(TrapInfo),

    /// The instance was killed (by `kill()`, `kill_all()` or a timeout) while running.
    #[error("`{name}` was killed: {reason}")]
    Killed { name: String, reason: String },

    /// The mod ended itself with WASI `proc_exit(code)`: not a fault and not a kill.
    #[error("`{name}` exited with code {code}")]
    Exited { name: String, code: i32 },

    /// The module is larger than `RuntimeConfig::max_module_bytes`.
    #[error("`{name}` is {size} bytes, over the module size limit of {limit} bytes (raise the project setting `wasgo/limits/module_mb` if the game really needs modules this large)")]
    ModuleTooLarge {
        name: String,
        size: usize,
        limit: usize,
    },

    /// Compiling the module could take more memory than WasGo allows
    /// ([`crate::compile_cost`]): refused before the compiler saw it.
    #[error("cannot compile `{name}`: {reason}")]
    CompileTooCostly {
        name: String,
        reason: crate::compile_cost::TooCostly,
    },

    /// Compiling the module took longer than `RuntimeConfig::compile_timeout`.
    #[error("compiling `{name}` took longer than the limit of {limit_ms} ms and was refused (raise the project setting `wasgo/limits/compile_timeout_ms`, or make the module smaller)")]
    CompileTimeout { name: String, limit_ms: u128 },

    /// A precompiled artifact was refused (not one, not authenticated, made for another
    /// engine, refused by wasmtime) or could not be made.
    #[error("cannot load precompiled `{name}`: {reason}")]
    Precompiled { name: String, reason: String },

    /// This build of WasGo has no compiler (the `compiler` feature is off), so WebAssembly
    /// cannot be compiled or precompiled here.
    #[error("cannot compile `{name}`: this build of WasGo has no compiler (built without the `compiler` feature); ship the module precompiled (`WasmEngine.precompile`, or the export option) and load it with `WasmEngine.load_precompiled`, or use a library built with the default features")]
    NoCompiler { name: String },

    /// The instance is busy on another thread (its `main` runs); try again when it has finished.
    /// `hint` says more for a guest kind whose `main` lasts in a way its author may not expect.
    #[error("`{name}` is busy: its `main` is running on a worker thread{hint}; call again when it has finished")]
    Busy { name: String, hint: &'static str },

    /// Entering the mod now would leave the thread too little stack: mods were entered inside
    /// each other's calls (through game functions, signals, `call_export`) too deep.
    #[error("cannot call `{name}`: {depth} calls into mods already run inside each other on this thread (a game function, signal or call_export of one mod calling the next){room}, too little for one more; let the outer calls return first (e.g. `call_deferred`)", room = match room { Some(bytes) => format!(" and {} KiB of its stack are left", bytes >> 10), None => String::new() })]
    TooDeep {
        name: String,
        depth: u32,
        room: Option<usize>,
    },

    /// Entering the mod now, inside calls into other mods, would go on holding the main thread
    /// after the outermost of those calls has held it past its hard stop (twice the wall-clock
    /// backstop): the chain of calls ends at the outermost one, which is stopped once control
    /// comes back to it; the mod asked for now is not entered (and not stopped).
    #[error("cannot call `{name}`: the calls into mods it would run inside have held the main thread for {held_ms} ms, past the {limit_ms} ms one call may hold it together with the calls nested in it; let the outer calls return first (e.g. `call_deferred`)")]
    ChainTooLong {
        name: String,
        held_ms: u128,
        limit_ms: u128,
    },

    /// The instance has ended (trapped, killed or exited) and cannot run code any more.
    #[error("`{name}` has ended ({state}); call `start()` again to make a new instance")]
    Ended { name: String, state: &'static str },

    /// The module has no export with that name (or it is not a function).
    #[error("`{module}` has no exported function `{export}`")]
    NoSuchExport { module: String, export: String },

    /// Arguments do not fit the export's or function's signature.
    #[error("{0}")]
    BadArguments(String),

    /// A game function registration was refused.
    #[error("{0}")]
    BadRegistration(String),

    /// Something on the host side failed (file system, threads): not the mod's fault.
    #[error("wasgo host error: {0}")]
    Host(String),
}

/// Why an instance stopped with a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrapKind {
    /// A call reached the stub of an import that exists at a higher safety level than the
    /// instance's (a `wasgo` function or a game function above the level).
    Unexposed {
        function: String,
        level: SafetyLevel,
    },
    /// A call reached the stub of an import that WasGo does not have at any level, or has with
    /// another signature (`defined` is then `Some`), or has not implemented yet.
    UnresolvedImport {
        function: String,
        problem: ImportProblem,
    },
    /// The memory limit was hit.
    MemoryLimit,
    /// A main-thread entry overran `wasgo/limits/callback_budget_ms`.
    CallbackBudget,
    /// `main` overran `main_timeout_ms`.
    MainTimeout,
    /// The wasm call stack was exhausted (deep recursion).
    StackOverflow,
    /// The mod called `wasgo.abort`.
    Abort,
    /// A malformed call into the host (bad pointer, bad UTF-8, ...).
    HostCall,
    /// Any other wasm fault (unreachable, out of bounds, division by zero, ...).
    Wasm,
}

/// Why an import links to a stub although no safety level gates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportProblem {
    /// No engine or game function has that name.
    Unknown,
    /// The function exists with another signature.
    SignatureMismatch { imported: String, defined: String },
    /// The catalog lists it, but this version of WasGo does not implement it yet.
    Planned,
    /// An import of `wasi_unstable`, the WASI snapshot before preview 1.
    OldWasi,
}

/// A trap with its human-readable message (reason plus the mod's wasm backtrace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapInfo {
    pub kind: TrapKind,
    pub message: String,
}

impl std::fmt::Display for TrapInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Short alias used across the crate.
pub type Result<T, E = WasgoError> = std::result::Result<T, E>;

/// A trap raised by the host (an error stub, a limit, `wasgo.abort`, a bad call), carried inside
/// `wasmtime::Error` so it can be told apart from wasm faults.
#[derive(Debug, Clone)]
pub struct HostTrap {
    pub kind: TrapKind,
    pub message: String,
}

impl HostTrap {
    pub fn new(kind: TrapKind, message: impl Into<String>) -> HostTrap {
        HostTrap {
            kind,
            message: message.into(),
        }
    }

    /// As a `wasmtime::Error` for returning from a host function.
    pub fn into_error(self) -> wasmtime::Error {
        wasmtime::Error::new(self)
    }
}

impl std::fmt::Display for HostTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostTrap {}

/// Raised inside wasm when the instance's kill switch is thrown.
#[derive(Debug, Clone)]
pub struct KilledTrap;

impl std::fmt::Display for KilledTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("killed")
    }
}

impl std::error::Error for KilledTrap {}
