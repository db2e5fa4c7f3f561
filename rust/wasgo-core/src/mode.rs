//! How mods' code is executed: compiled to native code by Cranelift, or compiled to Pulley
//! bytecode and run by wasmtime's interpreter.
//!
//! Consoles and iOS forbid memory that is written and then executed, so a JIT cannot run there;
//! a library built for a CPU Cranelift has no native backend for cannot compile natively either.
//! The interpreter needs neither: Cranelift still compiles the module, but to Pulley, a portable
//! bytecode, and wasmtime's interpreter runs it. Everything else stays the same: the same
//! linker and stubs, the same epoch-based budgets and kill switch (Pulley checks the epoch at the
//! same points compiled code does), the same memory limiter. What differs inside wasmtime:
//! out-of-bounds accesses are caught by explicit bounds checks instead of guard pages and signal
//! handlers, the wasm stack is the interpreter's own (sized by the same `max_wasm_stack`), and
//! native debuggers see the interpreter, not the mod (`debug_info` DWARF is for compiled code).
//!
//! [`RuntimeMode`] is what the game asks for (`wasgo/runtime/mode`); [`ExecutionMode`] is what
//! the runtime then uses, decided once when it starts ([`RuntimeMode::resolve`]).

use std::fmt;

/// What the game asks for (`wasgo/runtime/mode`, default [`RuntimeMode::Auto`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RuntimeMode {
    /// The interpreter where a JIT cannot run ([`native_compiler_available`] is false), the
    /// compiler elsewhere.
    #[default]
    Auto,
    /// Always compile to native code (fails to start where there is no native backend).
    Compiled,
    /// Always interpret (Pulley), even where native code could run.
    Interpreter,
}

impl RuntimeMode {
    /// The names the setting takes, in the order of its enum hint.
    pub const NAMES: [&'static str; 3] = ["auto", "compiled", "interpreter"];

    /// The mode a setting's text names (`auto`, `compiled`, `interpreter`; case and surrounding
    /// spaces ignored), or `None`.
    pub fn from_name(name: &str) -> Option<RuntimeMode> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(RuntimeMode::Auto),
            "compiled" => Some(RuntimeMode::Compiled),
            "interpreter" => Some(RuntimeMode::Interpreter),
            _ => None,
        }
    }

    /// The command-line user argument (after Godot's `--`) that overrides the setting for one
    /// run: `--wasgo-mode=interpreter`.
    pub const ARG_PREFIX: &'static str = "--wasgo-mode=";

    /// The mode a game asks for: the last `--wasgo-mode=NAME` among the command line's user
    /// arguments, else the setting's text. A value that names no mode is skipped (the setting,
    /// then [`RuntimeMode::Auto`], applies) and described in the returned warnings.
    pub fn choose<S: AsRef<str>>(user_args: &[S], setting: &str) -> (RuntimeMode, Vec<String>) {
        let mut warnings = Vec::new();
        let names = RuntimeMode::NAMES.join("`, `");
        let from_args = user_args
            .iter()
            .filter_map(|a| a.as_ref().strip_prefix(RuntimeMode::ARG_PREFIX))
            .filter_map(|value| {
                let mode = RuntimeMode::from_name(value);
                if mode.is_none() {
                    warnings.push(format!(
                        "command-line argument `{}{value}` names no runtime mode; use `{names}`",
                        RuntimeMode::ARG_PREFIX
                    ));
                }
                mode
            })
            .last();
        if let Some(mode) = from_args {
            return (mode, warnings);
        }
        let mode = RuntimeMode::from_name(setting).unwrap_or_else(|| {
            warnings.push(format!(
                "project setting `wasgo/runtime/mode` is `{setting}`, which names no runtime \
                 mode; use `{names}` (using `auto`)"
            ));
            RuntimeMode::Auto
        });
        (mode, warnings)
    }

    /// The setting's text for this mode.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeMode::Auto => "auto",
            RuntimeMode::Compiled => "compiled",
            RuntimeMode::Interpreter => "interpreter",
        }
    }

    /// The execution mode this request means on this build: [`RuntimeMode::Auto`] follows
    /// [`native_compiler_available`].
    pub fn resolve(self) -> ExecutionMode {
        self.resolve_for(native_compiler_available())
    }

    /// [`RuntimeMode::resolve`] for a platform where native code can (or cannot) run.
    pub fn resolve_for(self, native_available: bool) -> ExecutionMode {
        match self {
            RuntimeMode::Compiled => ExecutionMode::Compiled,
            RuntimeMode::Interpreter => ExecutionMode::Interpreter,
            RuntimeMode::Auto if native_available => ExecutionMode::Compiled,
            RuntimeMode::Auto => ExecutionMode::Interpreter,
        }
    }
}

impl fmt::Display for RuntimeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the running engine executes mods (`WasmEngine.get_stats()["mode"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionMode {
    /// Cranelift compiles each module to native code for this CPU.
    Compiled,
    /// Cranelift compiles each module to Pulley bytecode, which wasmtime's interpreter runs.
    Interpreter,
}

impl ExecutionMode {
    /// `"compiled"` or `"interpreter"`.
    pub fn name(self) -> &'static str {
        match self {
            ExecutionMode::Compiled => "compiled",
            ExecutionMode::Interpreter => "interpreter",
        }
    }

    /// The compilation target for wasmtime's `Config::target`: `None` for the host (native
    /// code), else the Pulley flavour matching this host's pointer width and byte order (wasm
    /// memories are addressed with host pointers, so the bytecode must match them).
    pub fn target(self) -> Option<&'static str> {
        match self {
            ExecutionMode::Compiled => None,
            ExecutionMode::Interpreter => Some(PULLEY_HOST),
        }
    }
}

impl fmt::Display for ExecutionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Pulley target triple for this host.
const PULLEY_HOST: &str = match (
    cfg!(target_pointer_width = "64"),
    cfg!(target_endian = "big"),
) {
    (true, false) => "pulley64",
    (true, true) => "pulley64be",
    (false, false) => "pulley32",
    (false, true) => "pulley32be",
};

/// Whether this build can run natively compiled mods: Cranelift has a native backend for the
/// CPU (x86-64, AArch64, RISC-V 64, s390x, as in wasmtime's own build script) and the platform
/// allows writable executable memory (not iOS, tvOS, watchOS or visionOS, nor the consoles'
/// operating systems Rust names: Nintendo's `horizon`, Sony's `psp`/`vita`).
pub const fn native_compiler_available() -> bool {
    let backend = cfg!(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "s390x"
    ));
    let jit_forbidden = cfg!(any(
        target_os = "ios",
        target_os = "tvos",
        target_os = "watchos",
        target_os = "visionos",
        target_os = "horizon",
        target_os = "psp",
        target_os = "vita"
    ));
    backend && !jit_forbidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_mode() {
        for name in RuntimeMode::NAMES {
            assert_eq!(RuntimeMode::from_name(name).unwrap().name(), name);
        }
        assert_eq!(
            RuntimeMode::from_name(" Interpreter "),
            Some(RuntimeMode::Interpreter)
        );
        assert_eq!(RuntimeMode::from_name("jit"), None);
        assert_eq!(RuntimeMode::from_name(""), None);
    }

    #[test]
    fn the_command_line_overrides_the_setting_and_bad_values_are_reported() {
        let none: [&str; 0] = [];
        assert_eq!(
            RuntimeMode::choose(&none, "compiled"),
            (RuntimeMode::Compiled, vec![])
        );
        let (mode, warnings) =
            RuntimeMode::choose(&["--x", "--wasgo-mode=interpreter"], "compiled");
        assert_eq!((mode, warnings.len()), (RuntimeMode::Interpreter, 0));
        let (mode, warnings) = RuntimeMode::choose(&["--wasgo-mode=fast"], "compiled");
        assert_eq!(mode, RuntimeMode::Compiled);
        assert!(warnings[0].contains("`--wasgo-mode=fast`"), "{warnings:?}");
        let (mode, warnings) = RuntimeMode::choose(&none, "jit");
        assert_eq!(mode, RuntimeMode::Auto);
        assert!(
            warnings[0].contains("`wasgo/runtime/mode` is `jit`"),
            "{warnings:?}"
        );
    }

    #[test]
    fn auto_interprets_only_where_native_code_cannot_run() {
        assert_eq!(RuntimeMode::Auto.resolve_for(true), ExecutionMode::Compiled);
        assert_eq!(
            RuntimeMode::Auto.resolve_for(false),
            ExecutionMode::Interpreter
        );
        for native in [true, false] {
            assert_eq!(
                RuntimeMode::Compiled.resolve_for(native),
                ExecutionMode::Compiled
            );
            assert_eq!(
                RuntimeMode::Interpreter.resolve_for(native),
                ExecutionMode::Interpreter
            );
        }
    }

    #[test]
    fn the_pulley_target_matches_the_host_pointer_width() {
        let target = ExecutionMode::Interpreter.target().unwrap();
        assert!(target.starts_with("pulley"));
        let width = if cfg!(target_pointer_width = "64") {
            "64"
        } else {
            "32"
        };
        assert!(target.contains(width), "{target}");
        assert_eq!(ExecutionMode::Compiled.target(), None);
    }
}
