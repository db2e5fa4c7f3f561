//! Turning a `wasmtime::Error` from a mod into a [`TrapInfo`]: the kind, the reason and the
//! mod's wasm backtrace with function names.

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
            .take(24)
            .enumerate()
            .map(|(i, f)| {
                let func = f
                    .func_name()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| format!("<function #{}>", f.func_index()));
                format!("  {i}: {func}")
            })
            .collect();
        if !frames.is_empty() {
            message.push_str("\nwasm backtrace:\n");
            message.push_str(&frames.join("\n"));
            if bt.frames().len() > 24 {
                message.push_str(&format!("\n  ... {} more frames", bt.frames().len() - 24));
            }
        }
    }
    TrapInfo { kind, message }
}
