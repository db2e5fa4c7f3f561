//! Turning a `wasmtime::Error` from a mod into a [`TrapInfo`]: the kind, the reason and the
//! mod's wasm backtrace with function names.

use std::fmt;

use crate::error::{HostTrap, TrapInfo, TrapKind};

/// Builds the message of a trap: the reason, then the mod's wasm backtrace with function names.
pub fn describe_trap(name: &str, err: &wasmtime::Error) -> TrapInfo {
    let (kind, reason) = if let Some(h) = err.downcast_ref::<HostTrap>() {
        (h.kind.clone(), h.message.clone())
    } else if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        let kind = match trap {
            wasmtime::Trap::StackOverflow => TrapKind::StackOverflow,
            _ => TrapKind::Wasm,
        };
        let hint = match trap {
            wasmtime::Trap::StackOverflow => {
                " (the wasm call stack is exhausted: unbounded recursion?)"
            }
            wasmtime::Trap::UnreachableCodeReached => {
                " (a Rust panic or C abort compiles to this; check the mod's own output)"
            }
            _ => "",
        };
        (kind, format!("`{name}` trapped: {trap}{hint}"))
    } else {
        (
            TrapKind::Wasm,
            format!("`{name}` failed: {}", err.root_cause()),
        )
    };
    let mut message = reason;
    if let Some(bt) = err.downcast_ref::<wasmtime::WasmBacktrace>() {
        let frames: Vec<String> = bt
            .frames()
            .iter()
            .take(MAX_FRAMES)
            .enumerate()
            .map(|(i, f)| describe_frame(i, f))
            .collect();
        if !frames.is_empty() {
            message.push_str("\nwasm backtrace:\n");
            message.push_str(&frames.join("\n"));
            if bt.frames().len() > MAX_FRAMES {
                message.push_str(&format!(
                    "\n  ... {} more frames",
                    bt.frames().len() - MAX_FRAMES
                ));
            }
        }
    }
    TrapInfo { kind, message }
}

/// Frames a trap message lists; the rest are counted.
const MAX_FRAMES: usize = 24;

/// The most bytes of a function or file name a backtrace line shows.
const MAX_NAME: usize = 256;

/// One backtrace line: `  3: mover::spin` (the name-section name, demangled), followed by
/// `at src/lib.rs:42:9` for each source location wasmtime found in the module's DWARF (only
/// with `wasgo/runtime/debug_info` on and a mod built with debug info).
fn describe_frame(i: usize, frame: &wasmtime::FrameInfo) -> String {
    // Names and file names come from the module: shown on one line, hidden characters escaped.
    let func = frame
        .func_name()
        .map(|n| crate::text::shown(&demangle(n), MAX_NAME))
        .unwrap_or_else(|| format!("<function #{}>", frame.func_index()));
    let mut line = format!("  {i}: {func}");
    for symbol in frame.symbols() {
        let Some(file) = symbol.file() else {
            continue;
        };
        line.push_str(&format!(
            "\n       at {}",
            crate::text::shown(file, MAX_NAME)
        ));
        if let Some(n) = symbol.line() {
            line.push_str(&format!(":{n}"));
            if let Some(c) = symbol.column() {
                line.push_str(&format!(":{c}"));
            }
        }
    }
    line
}

/// A function name as a person reads it: Rust (legacy and v0 mangling) and C++ (Itanium)
/// symbols demangled, Rust's trailing hash dropped; any other name as it is.
///
/// The names come from the mod's name section, so their size is the mod's choice: a name
/// longer than [`MAX_MANGLED`] is not demangled, and a demangled text stops at
/// [`MAX_DEMANGLED`] bytes (an Itanium name can refer back to its own parts, so a few kilobytes
/// of name can demangle to gigabytes), when the name is shown as it is.
pub fn demangle(name: &str) -> String {
    if name.len() > MAX_MANGLED {
        return name.to_string();
    }
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        let mut out = Capped::default();
        if fmt::Write::write_fmt(&mut out, format_args!("{d:#}")).is_ok() {
            return out.text;
        }
    } else if name.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(name) {
            let mut out = Capped::default();
            let options = cpp_demangle::DemangleOptions::default();
            if sym.structured_demangle(&mut out, &options).is_ok() {
                return out.text;
            }
        }
    }
    name.to_string()
}

/// The longest name [`demangle`] demangles.
const MAX_MANGLED: usize = 4096;

/// The most bytes of demangled text [`demangle`] builds before it gives up.
const MAX_DEMANGLED: usize = 4096;

/// A text that refuses to grow past [`MAX_DEMANGLED`] bytes (the demangler stops at the error).
#[derive(Default)]
struct Capped {
    text: String,
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.text.len() + s.len() > MAX_DEMANGLED {
            return Err(fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::demangle;

    #[test]
    fn rust_legacy_names_are_demangled_without_their_hash() {
        assert_eq!(
            demangle("_ZN5mover4spin17h0123456789abcdefE"),
            "mover::spin"
        );
    }

    #[test]
    fn rust_v0_names_are_demangled() {
        assert_eq!(demangle("_RNvCs1234_5mover4spin"), "mover::spin");
    }

    #[test]
    fn cpp_names_are_demangled() {
        assert_eq!(demangle("_Z7computei"), "compute(int)");
    }

    #[test]
    fn a_name_that_demangles_to_gigabytes_is_shown_as_it_is() {
        // Each parameter list refers back to the one before: 300^3 copies of `int*` in the last.
        let n = 300;
        let name = format!(
            "_Z1fPiPFv{}EPFv{}EPFv{}E",
            "S_".repeat(n),
            "S1_".repeat(n),
            "S3_".repeat(n)
        );
        assert!(name.len() <= super::MAX_MANGLED, "{}", name.len());
        assert_eq!(demangle(&name), name);
        // Past the length a name is not demangled at all.
        let long = format!("_Z1fPi{}", "Pi".repeat(super::MAX_MANGLED));
        assert_eq!(demangle(&long), long);
    }

    #[test]
    fn plain_names_stay_as_they_are() {
        assert_eq!(demangle("process"), "process");
        assert_eq!(demangle("_Zgarbage"), "_Zgarbage");
    }
}
