//! Linking a module's imports at a safety level: real functions where exposed, error stubs
//! everywhere else.
//!
//! Every function import is resolved at instantiation, so a mod that imports something it may
//! not use still instantiates; only a *call* to the stub traps. Two kinds of stub:
//!
//! - an import that exists at a higher level (a `wasgo` or game function above the instance's
//!   level): the call traps with [`TrapKind::Unexposed`] and sends an `UnexposedCall` event;
//! - an import WasGo does not have (unknown name, wrong signature, not implemented yet): the
//!   linker reports it as a [`LinkWarning`] (sent once per instance at instantiation as a
//!   `LinkWarning` event), and a call traps with [`TrapKind::UnresolvedImport`], no event.

use crate::abi::ImportKind;
use crate::catalog::{self, Availability, Signature, WASGO_MODULE, WASI_P1_MODULE};
use crate::error::{HostTrap, ImportProblem, TrapKind, WasgoError};
use crate::events::ModEvent;
use crate::game_calls;
use crate::guest_kind::{GuestKind, GOJS_MODULE, WAPC_MODULE};
use crate::hostfns::{self, guarded};
use crate::hosts::Hosts;
use crate::level::SafetyLevel;
use crate::state::InstanceState;
use crate::wasi;
use wasmtime::{ExternType, Linker};

/// An import that links to a stub although no safety level gates it, found when linking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWarning {
    /// `module.name`.
    pub function: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Why an import links to a stub.
enum StubReason {
    NotExposed,
    Unresolved(ImportProblem),
}

fn problem_text(function: &str, problem: &ImportProblem) -> String {
    match problem {
        ImportProblem::Unknown => format!("`{function}` does not exist in WasGo (no engine or game function has that name)"),
        ImportProblem::Planned => format!("`{function}` is not implemented by this version of WasGo yet"),
        ImportProblem::OldWasi => format!("`{function}` belongs to `wasi_unstable`, the WASI snapshot before preview 1, which WasGo does not implement; build the mod for `wasi_snapshot_preview1` (Rust `wasm32-wasip1`, a current wasi-sdk, Zig `wasm32-wasi`)"),
        ImportProblem::SignatureMismatch { imported, defined } => format!(
            "`{function}` is imported with the signature {imported} but defined as {defined}; rebuild the mod against the current bindings"
        ),
    }
}

fn stub_message(function: &str, level: SafetyLevel, reason: &StubReason) -> String {
    match reason {
        StubReason::NotExposed => format!(
            "call to `{function}`, which is not exposed at safety level {level} (the project setting `wasgo/safety/level` and the node's `safety_level` decide the level)"
        ),
        StubReason::Unresolved(problem) => format!(
            "call to an unresolved import at safety level {level}: {}",
            problem_text(function, problem)
        ),
    }
}

/// The lowest safety level at which the function import `module.name` of type `imported`
/// links to the real function (`None`: a stub at every level: unknown, not implemented, or
/// imported with another signature), as [`build_linker`] decides it.
pub(crate) fn lowest_level(
    hosts: &Hosts,
    module: &str,
    name: &str,
    imported: &Signature,
) -> Option<SafetyLevel> {
    SafetyLevel::ALL
        .into_iter()
        .find(|&level| resolve(hosts, module, name, imported, level).is_ok())
}

/// Why the import `module.name` of type `imported`, in a module WasGo reserves (`wasgo`, WASI,
/// `gojs`, `wapc`: no game function can be registered there), links to a stub at every level
/// (its name unknown, its signature another, an old WASI); `None` when a level provides it or
/// the module is the game's.
pub(crate) fn reserved_import_problem(
    hosts: &Hosts,
    module: &str,
    name: &str,
    imported: &Signature,
) -> Option<ReservedImportProblem> {
    if !catalog::is_reserved_module(module) {
        return None;
    }
    match resolve(hosts, module, name, imported, SafetyLevel::Unsafe) {
        Err(StubReason::Unresolved(problem)) => Some(ReservedImportProblem {
            unknown_name: matches!(problem, ImportProblem::Unknown),
            why: problem_text(&format!("{module}.{name}"), &problem),
        }),
        _ => None,
    }
}

/// Why an import of a module WasGo reserves links to a stub at every level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedImportProblem {
    /// No function of that module has the name (else: its signature differs, it is planned,
    /// or its WASI is the old `wasi_unstable`).
    pub unknown_name: bool,
    /// The stub's message.
    pub why: String,
}

/// What the import `module.name` of type `imported` should link to at `level`: `Ok(())` for the
/// real function (already in the linker), `Err(reason)` for a stub.
fn resolve(
    hosts: &Hosts,
    module: &str,
    name: &str,
    imported: &Signature,
    level: SafetyLevel,
) -> Result<(), StubReason> {
    let defined = match module {
        WASGO_MODULE => {
            let f = catalog::wasgo_function(name)
                .ok_or(StubReason::Unresolved(ImportProblem::Unknown))?;
            if f.availability == Availability::Planned {
                return Err(StubReason::Unresolved(ImportProblem::Planned));
            }
            if f.level > level {
                return Err(StubReason::NotExposed);
            }
            f.signature()
        }
        GOJS_MODULE | WAPC_MODULE => {
            return match crate::guest_kind::guest_import(module, name) {
                None => Err(StubReason::Unresolved(ImportProblem::Unknown)),
                Some(defined) if &defined != imported => {
                    Err(StubReason::Unresolved(ImportProblem::SignatureMismatch {
                        imported: imported.to_string(),
                        defined: defined.to_string(),
                    }))
                }
                Some(_) => Ok(()),
            }
        }
        WASI_P1_MODULE => catalog::wasi_p1_function(name)
            .ok_or(StubReason::Unresolved(ImportProblem::Unknown))?
            .signature(),
        // The snapshot before preview 1: its own name, so that the mod's author learns which
        // target to build for.
        catalog::WASI_UNSTABLE_MODULE => {
            return Err(StubReason::Unresolved(ImportProblem::OldWasi))
        }
        _ => {
            let f = hosts
                .games
                .get(module, name)
                .ok_or(StubReason::Unresolved(ImportProblem::Unknown))?;
            if f.level > level {
                return Err(StubReason::NotExposed);
            }
            f.signature()
        }
    };
    if &defined != imported {
        return Err(StubReason::Unresolved(ImportProblem::SignatureMismatch {
            imported: imported.to_string(),
            defined: defined.to_string(),
        }));
    }
    Ok(())
}

/// What a linker links a module's function imports to (see `state::LinkedImports`).
pub(crate) type Stubbed = std::sync::Arc<crate::state::LinkedImports>;

/// Builds the linker for `module` at `level`, with the warnings about its unresolved imports
/// and the imports it links to stubs.
pub(crate) fn build_linker(
    engine: &wasmtime::Engine,
    hosts: &Hosts,
    module: &wasmtime::Module,
    kind: GuestKind,
    level: SafetyLevel,
    mod_name: &str,
) -> Result<(Linker<InstanceState>, Vec<LinkWarning>, Stubbed), WasgoError> {
    let host = |e: wasmtime::Error| WasgoError::Host(format!("linking `{mod_name}`: {e:#}"));
    let mut warnings = Vec::new();
    let mut links = crate::state::LinkedImports::default();
    let mut linker: Linker<InstanceState> = Linker::new(engine);
    linker.allow_shadowing(true);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, InstanceState::wasi_ctx).map_err(host)?;
    linker
        .func_wrap(WASI_P1_MODULE, "poll_oneoff", wasi::poll_oneoff)
        .map_err(host)?;
    // The arguments (and below level 3 the empty environment) without making the context.
    linker
        .func_wrap(WASI_P1_MODULE, "args_sizes_get", wasi::args_sizes_get)
        .map_err(host)?;
    linker
        .func_wrap(WASI_P1_MODULE, "args_get", wasi::args_get)
        .map_err(host)?;
    if level < SafetyLevel::Unsafe {
        linker
            .func_wrap(WASI_P1_MODULE, "environ_sizes_get", wasi::environ_sizes_get)
            .map_err(host)?;
        linker
            .func_wrap(WASI_P1_MODULE, "environ_get", wasi::environ_get)
            .map_err(host)?;
    }
    // Interruptible WASI reads and writes at every level; at level 2 also the sandbox's quota
    // and name rules (level 3 has no such limits).
    crate::wasi_sandbox::add_to_linker(&mut linker, level).map_err(host)?;
    hostfns::link(&mut linker, level).map_err(host)?;
    // Each guest kind's own import module gets its host; the stub rule below covers the rest.
    match kind {
        GuestKind::Wasgo => {}
        GuestKind::GoJs => crate::gojs::imports::link(&mut linker).map_err(host)?,
        GuestKind::Wapc => crate::wapc::link(&mut linker).map_err(host)?,
    }

    // An import repeated with the same type is linked once (200,000 copies of one made as many
    // stubs and warnings at every instantiation).
    let mut linked = std::collections::HashSet::new();
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        if !linked.insert((m, n, format!("{:?}", import.ty()))) {
            continue;
        }
        // Names the game reads (messages, `unexposed_call`): hidden characters escaped, cut.
        let function = format!(
            "{}.{}",
            crate::text::shown(m, crate::text::MAX_SHOWN_NAME),
            crate::text::shown(n, crate::text::MAX_SHOWN_NAME)
        );
        let ExternType::Func(ty) = import.ty() else {
            let kind = ImportKind::of(&import.ty());
            return Err(WasgoError::Instantiate {
                name: mod_name.into(),
                reason: format!("it imports a {kind} `{function}`; WasGo mods must define their own memory, tables and globals (build with default linker flags)"),
            });
        };
        let Some(imported) = crate::abi::signature_of(&ty) else {
            return Err(WasgoError::Instantiate { name: mod_name.into(), reason: format!("the import `{function}` uses reference types, which the WasGo ABI does not have") });
        };
        match resolve(hosts, m, n, &imported, level) {
            Ok(()) => {
                if let Some(f) = hosts.games.get(m, n).filter(|_| {
                    ![WASGO_MODULE, WASI_P1_MODULE, GOJS_MODULE, WAPC_MODULE].contains(&m)
                }) {
                    links.games.insert((m.to_string(), n.to_string()), f.id);
                    let qname = function.clone();
                    linker
                        .func_new(m, n, ty.clone(), move |mut caller, params, results| {
                            crate::hostfns::stop_if_killed(&caller)?;
                            guarded(&qname, || {
                                game_calls::call_from_wasm(&f, &mut caller, params, results)
                            })
                        })
                        .map_err(host)?;
                }
            }
            Err(reason) => {
                links.stubbed.insert((m.to_string(), n.to_string()));
                let message = stub_message(&function, level, &reason);
                let fname = function.clone();
                let kind = match reason {
                    StubReason::NotExposed => TrapKind::Unexposed {
                        function: function.clone(),
                        level,
                    },
                    StubReason::Unresolved(problem) => {
                        warnings.push(LinkWarning {
                            function: function.clone(),
                            message: format!(
                                "{}; it links to a stub that traps if the mod calls it",
                                problem_text(&function, &problem)
                            ),
                        });
                        TrapKind::UnresolvedImport {
                            function: function.clone(),
                            problem,
                        }
                    }
                };
                linker
                    .func_new(m, n, ty.clone(), move |caller, _params, _results| {
                        // Every stub says so, as the contract asks: one not exposed at this
                        // level, and one that exists at no level (its message tells which).
                        caller.data().emit(ModEvent::UnexposedCall {
                            function: fname.clone(),
                            level,
                        });
                        Err(HostTrap::new(kind.clone(), message.clone()).into_error())
                    })
                    .map_err(host)?;
            }
        }
    }
    if warnings.len() > MAX_LINK_WARNINGS {
        let more = warnings.len() - MAX_LINK_WARNINGS;
        warnings.truncate(MAX_LINK_WARNINGS);
        warnings.push(LinkWarning {
            function: "(more imports)".into(),
            message: format!("{more} more imports are unresolved and link to stubs that trap if the mod calls them (only the first {MAX_LINK_WARNINGS} are named)"),
        });
    }
    Ok((linker, warnings, std::sync::Arc::new(links)))
}

/// The most unresolved imports named one by one in link warnings (each is sent at every
/// instantiation and printed by the game); the rest are counted in one more warning.
pub const MAX_LINK_WARNINGS: usize = 64;
