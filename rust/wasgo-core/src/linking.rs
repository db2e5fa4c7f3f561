//! Linking a module's imports at a safety level: real functions where exposed, error stubs
//! everywhere else.
//!
//! Every function import is resolved at instantiation, so a mod that imports something it may
//! not use still instantiates; only a *call* to the stub traps, with a message naming the
//! function and the level, and an `UnexposedCall` event.

use crate::catalog::{self, Availability, Signature, WASGO_MODULE, WASI_P1_MODULE};
use crate::error::{TrapKind, WasgoError};
use crate::events::ModEvent;
use crate::game;
use crate::hostfns::{self, guarded};
use crate::level::SafetyLevel;
use crate::runtime::Runtime;
use crate::state::{HostTrap, InstanceState};
use crate::wasi;
use std::sync::Arc;
use wasmtime::{ExternType, Linker};

/// The lowest level at which `module.name` is a real function; `None` if no level exposes it.
pub fn lowest_level(runtime: &Runtime, module: &str, name: &str) -> Option<SafetyLevel> {
    match module {
        WASGO_MODULE => catalog::wasgo_function(name)
            .filter(|f| f.availability == Availability::Ready)
            .map(|f| f.level),
        WASI_P1_MODULE => catalog::WASI_P1_FUNCTIONS
            .contains(&name)
            .then_some(SafetyLevel::Safe),
        _ => runtime.games().get(module, name).map(|f| f.level),
    }
}

/// Why an import links to a stub.
enum StubReason {
    NotExposed,
    Unknown,
    Planned,
    Mismatch { imported: String, defined: String },
}

fn stub_message(function: &str, level: SafetyLevel, reason: &StubReason) -> String {
    match reason {
        StubReason::NotExposed => format!(
            "call to `{function}`, which is not exposed at safety level {level} (the project setting `wasgo/safety/level` and the node's `safety_level` decide the level)"
        ),
        StubReason::Unknown => format!("call to `{function}`, which does not exist in WasGo (no engine or game function has that name)"),
        StubReason::Planned => format!("call to `{function}`, which this version of WasGo does not implement yet"),
        StubReason::Mismatch { imported, defined } => {
            format!("call to `{function}`, imported with the signature {imported} but defined as {defined}; rebuild the mod against the current bindings")
        }
    }
}

/// What the import `module.name` of type `imported` should link to at `level`: `Ok(())` for the
/// real function (already in the linker), `Err(reason)` for a stub.
fn resolve(
    runtime: &Runtime,
    module: &str,
    name: &str,
    imported: &Signature,
    level: SafetyLevel,
) -> Result<(), StubReason> {
    let defined = match module {
        WASGO_MODULE => {
            let f = catalog::wasgo_function(name).ok_or(StubReason::Unknown)?;
            if f.level > level {
                return Err(StubReason::NotExposed);
            }
            if f.availability == Availability::Planned {
                return Err(StubReason::Planned);
            }
            f.signature()
        }
        // wasmtime-wasi checks WASI signatures itself when pre-linking.
        WASI_P1_MODULE => {
            return if catalog::WASI_P1_FUNCTIONS.contains(&name) {
                Ok(())
            } else {
                Err(StubReason::Unknown)
            }
        }
        _ => {
            let f = runtime
                .games()
                .get(module, name)
                .ok_or(StubReason::Unknown)?;
            if f.level > level {
                return Err(StubReason::NotExposed);
            }
            f.signature()
        }
    };
    if &defined != imported {
        return Err(StubReason::Mismatch {
            imported: imported.to_string(),
            defined: defined.to_string(),
        });
    }
    Ok(())
}

/// Builds the linker for `module` at `level`.
pub(crate) fn build_linker(
    runtime: &Arc<Runtime>,
    module: &wasmtime::Module,
    level: SafetyLevel,
    mod_name: &str,
) -> Result<Linker<InstanceState>, WasgoError> {
    let host = |e: wasmtime::Error| WasgoError::Host(format!("linking `{mod_name}`: {e:#}"));
    let mut linker: Linker<InstanceState> = Linker::new(runtime.engine());
    linker.allow_shadowing(true);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut InstanceState| &mut s.wasi)
        .map_err(host)?;
    linker
        .func_wrap(WASI_P1_MODULE, "poll_oneoff", wasi::poll_oneoff)
        .map_err(host)?;
    // Interruptible WASI reads and writes at every level; at level 2 also the sandbox's quota
    // and name rules (level 3 has no such limits).
    crate::wasi_sandbox::add_to_linker(&mut linker, level).map_err(host)?;
    for f in catalog::WASGO_FUNCTIONS
        .iter()
        .filter(|f| f.availability == Availability::Ready && f.level <= level)
    {
        if !hostfns::define(&mut linker, f.name).map_err(host)? {
            return Err(WasgoError::Host(format!(
                "`wasgo.{}` is marked ready in the catalog but has no implementation",
                f.name
            )));
        }
    }

    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        let function = format!("{m}.{n}");
        let ExternType::Func(ty) = import.ty() else {
            let (kind, _) = crate::module::kind_and_signature(&import.ty());
            return Err(WasgoError::Instantiate {
                name: mod_name.into(),
                reason: format!("it imports a {kind} `{function}`; WasGo mods must define their own memory, tables and globals (build with default linker flags)"),
            });
        };
        let Some(imported) = crate::abi::signature_of(&ty) else {
            return Err(WasgoError::Instantiate { name: mod_name.into(), reason: format!("the import `{function}` uses reference types, which the WasGo ABI does not have") });
        };
        match resolve(runtime, m, n, &imported, level) {
            Ok(()) => {
                if let Some(f) = runtime
                    .games()
                    .get(m, n)
                    .filter(|_| m != WASGO_MODULE && m != WASI_P1_MODULE)
                {
                    let qname = function.clone();
                    linker
                        .func_new(m, n, ty.clone(), move |mut caller, params, results| {
                            guarded(&qname, || {
                                game::call_from_wasm(&f, &mut caller, params, results)
                            })
                        })
                        .map_err(host)?;
                }
            }
            Err(reason) => {
                let message = stub_message(&function, level, &reason);
                let fname = function.clone();
                linker
                    .func_new(m, n, ty.clone(), move |caller, _params, _results| {
                        caller.data().emit(ModEvent::UnexposedCall {
                            function: fname.clone(),
                            level,
                        });
                        Err(HostTrap::new(
                            TrapKind::Unexposed {
                                function: fname.clone(),
                                level,
                            },
                            message.clone(),
                        )
                        .into_error())
                    })
                    .map_err(host)?;
            }
        }
    }
    Ok(linker)
}
