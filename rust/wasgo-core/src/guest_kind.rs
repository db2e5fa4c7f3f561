//! Which guest convention a module follows, read from its imports and exports.
//!
//! WasGo runs three kinds of guest, each with its own host:
//!
//! - **WasGo/WASI** ([`GuestKind::Wasgo`]): imports `wasgo` and/or `wasi_snapshot_preview1`
//!   (or nothing); the default.
//! - **Go `GOOS=js`** ([`GuestKind::GoJs`]): what `GOOS=js GOARCH=wasm go build` produces. It
//!   imports module `gojs` and exports `run`, `resume`, `getsp` and its memory as `mem`; the host is
//!   [`gojs`](crate::gojs), a Rust port of Go's own `wasm_exec.js`.
//! - **waPC** ([`GuestKind::Wapc`]): exports `__guest_call` and imports module `wapc`; the host
//!   is [`wapc`](crate::wapc).
//!
//! A module is classified once, when it is compiled. One that mixes the import modules of two
//! kinds (a Go-js module importing `wasgo`, a waPC module importing `gojs`) or lacks an export its
//! kind needs is refused with a [`GuestKindError`] naming what is mixed or missing: such a module
//! could never run correctly, and failing at load says so where the modder looks first.

use crate::catalog::WASGO_MODULE;
use crate::events::OutputSource;
use std::fmt;

pub use crate::catalog::{GOJS_MODULE, WAPC_MODULE};

/// The exports every Go-js module has.
pub const GOJS_EXPORTS: [&str; 4] = ["run", "resume", "getsp", "mem"];
/// The export every waPC module has.
pub const WAPC_EXPORTS: [&str; 1] = ["__guest_call"];

/// Every import of Go 1.21+'s `gojs` module (each takes Go's stack pointer: `(i32) -> ()`);
/// [`gojs`](crate::gojs) implements each.
pub const GOJS_IMPORTS: [&str; 25] = [
    "runtime.wasmExit",
    "runtime.wasmWrite",
    "runtime.resetMemoryDataView",
    "runtime.nanotime1",
    "runtime.walltime",
    "runtime.scheduleTimeoutEvent",
    "runtime.clearTimeoutEvent",
    "runtime.getRandomData",
    "syscall/js.finalizeRef",
    "syscall/js.stringVal",
    "syscall/js.valueGet",
    "syscall/js.valueSet",
    "syscall/js.valueDelete",
    "syscall/js.valueIndex",
    "syscall/js.valueSetIndex",
    "syscall/js.valueCall",
    "syscall/js.valueInvoke",
    "syscall/js.valueNew",
    "syscall/js.valueLength",
    "syscall/js.valuePrepareString",
    "syscall/js.valueLoadString",
    "syscall/js.valueInstanceOf",
    "syscall/js.copyBytesToGo",
    "syscall/js.copyBytesToJS",
    "debug",
];

/// The imports of the `wapc` module: (name, number of i32 parameters, number of i32 results);
/// [`wapc`](crate::wapc) implements each.
pub const WAPC_IMPORTS: [(&str, usize, usize); 9] = [
    ("__guest_request", 2, 0),
    ("__guest_response", 2, 0),
    ("__guest_error", 2, 0),
    ("__host_call", 8, 1),
    ("__host_response_len", 0, 1),
    ("__host_response", 1, 0),
    ("__host_error_len", 0, 1),
    ("__host_error", 1, 0),
    ("__console_log", 2, 0),
];

/// Where a guest host writes the program's output: `Some(bytes)` appends (line-buffered),
/// `None` flushes a partial line. Built by the instance from its stdout/stderr sinks.
pub type GuestOutput = Box<dyn Fn(OutputSource, Option<&[u8]>) + Send + Sync>;

/// The guest convention of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestKind {
    /// A WasGo mod (imports `wasgo` and/or WASI preview 1).
    Wasgo,
    /// A Go `GOOS=js GOARCH=wasm` program (Go's `wasm_exec.js` ABI).
    GoJs,
    /// A waPC guest.
    Wapc,
}

impl GuestKind {
    /// `"wasgo"`, `"gojs"` or `"wapc"`, as `WasmModule.get_guest_kind()` returns it.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestKind::Wasgo => "wasgo",
            GuestKind::GoJs => "gojs",
            GuestKind::Wapc => "wapc",
        }
    }

    /// Classifies a module by the names of its import modules and its exports.
    ///
    /// # Errors
    /// [`GuestKindError::Mixed`] when the imports belong to two kinds (or a `wasgo` module
    /// exports waPC's `__guest_call`),
    /// [`GuestKindError::MissingExports`] when a Go-js or waPC module lacks a required export.
    pub fn classify<'a>(
        import_modules: impl IntoIterator<Item = &'a str>,
        exports: impl IntoIterator<Item = &'a str>,
    ) -> Result<GuestKind, GuestKindError> {
        let mut gojs = false;
        let mut wapc = false;
        let mut wasgo = false;
        for m in import_modules {
            match m {
                GOJS_MODULE => gojs = true,
                WAPC_MODULE => wapc = true,
                WASGO_MODULE => wasgo = true,
                _ => {}
            }
        }
        let exports: Vec<&str> = exports.into_iter().collect();
        let mixed = |a: &'static str, b: &'static str| GuestKindError::Mixed {
            first: a,
            second: b,
        };
        if gojs && wasgo {
            return Err(mixed(GOJS_MODULE, WASGO_MODULE));
        }
        if gojs && wapc {
            return Err(mixed(GOJS_MODULE, WAPC_MODULE));
        }
        // A `wasgo` module exporting waPC's entry (`__guest_call`) is as mixed as one importing
        // `wapc` too: it was run as waPC, its `wasgo` imports beside the point.
        if wasgo && (wapc || exports.contains(&"__guest_call")) {
            return Err(mixed(WAPC_MODULE, WASGO_MODULE));
        }
        let (kind, required): (GuestKind, &[&'static str]) = if gojs {
            (GuestKind::GoJs, &GOJS_EXPORTS)
        } else if wapc || exports.contains(&"__guest_call") {
            (GuestKind::Wapc, &WAPC_EXPORTS)
        } else {
            return Ok(GuestKind::Wasgo);
        };
        let missing: Vec<&'static str> = required
            .iter()
            .copied()
            .filter(|r| !exports.contains(r))
            .collect();
        if !missing.is_empty() {
            return Err(GuestKindError::MissingExports { kind, missing });
        }
        Ok(kind)
    }

    /// Classifies a binary module from its bytes, without compiling it (see
    /// [`GuestKind::classify`]); for a mods-folder scan, after wasmtime's validator accepted
    /// the bytes.
    ///
    /// # Errors
    /// As [`GuestKind::classify`], or the parser's message for a malformed import or export
    /// section.
    pub fn of_binary(bytes: &[u8]) -> Result<GuestKind, String> {
        let mut modules: Vec<&str> = Vec::new();
        let mut exports: Vec<&str> = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| e.to_string())? {
                wasmparser::Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        modules.push(import.map_err(|e| e.to_string())?.module);
                    }
                }
                wasmparser::Payload::ExportSection(reader) => {
                    for export in reader {
                        exports.push(export.map_err(|e| e.to_string())?.name);
                    }
                }
                // Past the sections that name imports and exports: no need to walk the code.
                wasmparser::Payload::CodeSectionStart { .. } | wasmparser::Payload::End(_) => break,
                _ => {}
            }
        }
        GuestKind::classify(modules, exports).map_err(|e| e.to_string())
    }

    /// Classifies a compiled module (see [`GuestKind::classify`]).
    ///
    /// # Errors
    /// As [`GuestKind::classify`].
    pub fn of_module(module: &wasmtime::Module) -> Result<GuestKind, GuestKindError> {
        GuestKind::classify(
            module.imports().map(|i| i.module()),
            module.exports().map(|e| e.name()),
        )
    }
}

impl fmt::Display for GuestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a module cannot be classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestKindError {
    /// The module imports the modules of two guest kinds.
    Mixed {
        first: &'static str,
        second: &'static str,
    },
    /// A Go-js or waPC module lacks exports its kind needs.
    MissingExports {
        kind: GuestKind,
        missing: Vec<&'static str>,
    },
}

impl fmt::Display for GuestKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestKindError::Mixed { first, second } if *first == WAPC_MODULE => write!(
                f,
                "the module uses both `{first}` (its imports or waPC's `__guest_call` export) and `{second}`, which belong to different guest kinds; build it for one of them"
            ),
            GuestKindError::Mixed { first, second } => write!(
                f,
                "the module imports both `{first}` and `{second}`, which belong to different guest kinds; build it for one of them"
            ),
            GuestKindError::MissingExports { kind, missing } => {
                let names: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                let hint = match kind {
                    GuestKind::GoJs => "build it with `GOOS=js GOARCH=wasm go build` (TinyGo's js/wasm output is not supported)",
                    GuestKind::Wapc => "build it with a waPC guest SDK",
                    GuestKind::Wasgo => "",
                };
                write!(
                    f,
                    "the module looks like a `{kind}` guest but does not export {}; {hint}",
                    names.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for GuestKindError {}

/// The signature of import `module.name` of a guest kind's own module (`gojs` or `wapc`), or
/// `None` if that module has no such function.
pub fn guest_import(module: &str, name: &str) -> Option<crate::catalog::Signature> {
    use crate::catalog::{Abi, Signature};
    let sig = |p: usize, r: usize| Signature {
        params: vec![Abi::I32; p],
        results: vec![Abi::I32; r],
    };
    match module {
        GOJS_MODULE => GOJS_IMPORTS.contains(&name).then(|| sig(1, 0)),
        WAPC_MODULE => WAPC_IMPORTS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, p, r)| sig(*p, *r)),
        _ => None,
    }
}
