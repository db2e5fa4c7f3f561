//! What is wrong with a `WasmScript`'s set-up before Play: the node's configuration warnings,
//! and the `.wasm` file checks behind them and behind the resource loader. No class here.
//!
//! # One check per change of a file
//!
//! The editor asks for a node's warnings whenever its dock redraws, and loads a dropped `.wasm`
//! several times; a bad file must not be read, compiled and reported each time. A file is
//! checked once per *stamp* (its modification time and length): the outcome is kept in the
//! `file_checks` part of the main-thread state, a failure with whether it was reported already.
//! A changed file has a new stamp and is checked (and reported) again. Compiled modules are kept
//! only weakly, so the check never holds a module in memory that nothing uses; the engine's
//! module cache makes a repeated compile of the same bytes cheap. Off the main thread (Godot's
//! loader threads) there is no state, and each load is checked and reported on its own.
//!
//! # The warnings
//!
//! [`warnings`] lists, for a node's `wasm_file`, `module` and `safety_level` and the project
//! settings as they are now: nothing to run, a missing file, a file that is not WebAssembly (or
//! does not compile), a level above the project's, a malformed manifest or one asking for more
//! than the node's effective level gives, and the findings of
//! `wasgo_core::diagnose` (imports above the effective level or unknown, unsupported imports,
//! misspelled callback exports), and a `process_group` on a module without `process_node` or
//! `physics_process_node`. `script.rs` returns them from `_get_configuration_warnings` and
//! refreshes them when one of those properties changes; the editor plugin refreshes every
//! `WasmScript` of the edited scene when the project settings or the file system change.

use crate::runtime;
use crate::settings;
use crate::state::{self, Part};
use godot::classes::{FileAccess, ProjectSettings};
use godot::obj::Singleton;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use wasgo_catalog::abi::export;
use wasgo_core::diagnose::diagnose;
use wasgo_core::{CompiledModule, SafetyLevel, WasgoError};

/// The checks made so far, by path (the `file_checks` part of the main-thread state).
#[derive(Default)]
pub struct FileChecks(RefCell<HashMap<String, Checked>>);

impl Part for FileChecks {}

/// The outcome of checking one file at one stamp.
struct Checked {
    stamp: Stamp,
    outcome: Result<Weak<CompiledModule>, Failure>,
    /// Whether the failure was printed already.
    reported: bool,
}

/// Why a file gave no module, and whether that holds for these bytes whatever happens (they
/// are no WebAssembly, do not compile, need a newer WasGo): only such a failure is given again
/// without compiling. One that depends on the moment or the settings (a compile timeout on a
/// busy machine, a read refused while another program holds the file, a size or cost limit)
/// is tried again at the next ask: kept, a single timeout made every later `load()` of the
/// file fail until it changed.
#[derive(Clone)]
struct Failure {
    reason: String,
    lasts: bool,
}

/// A file's modification time (nanoseconds where the file system gives them, else seconds)
/// and length: a change of either is a new file (a rebuild of the same length within the same
/// second was not, and its old outcome was given again).
type Stamp = (u128, u64);

fn stamp(path: &str) -> Option<Stamp> {
    if !FileAccess::file_exists(path) {
        return None;
    }
    // The file system's own answer where the file is one of its files (both figures in one
    // look); else (a file inside an exported pack) Godot's, in seconds.
    let global = ProjectSettings::singleton()
        .globalize_path(path)
        .to_string();
    let fine = std::fs::metadata(&global).ok().and_then(|m| {
        let modified = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some((modified.as_nanos(), m.len()))
    });
    Some(fine.unwrap_or_else(|| {
        let length = FileAccess::open(path, godot::classes::file_access::ModeFlags::READ)
            .map(|f| f.get_length())
            .unwrap_or(0);
        (
            u128::from(FileAccess::get_modified_time(path)) * 1_000_000_000,
            length,
        )
    }))
}

fn with_checks<R>(f: impl FnOnce(&FileChecks) -> R) -> Option<R> {
    state::with_part(|s| &s.file_checks, f)
}

/// The compiled module of the file at `path`, or why there is none (a missing file, bytes that
/// are not WebAssembly, a module that does not compile or is over the size limit). Read and
/// compiled once per change of the file (see the module essay).
pub fn check_file(path: &str) -> Result<Arc<CompiledModule>, String> {
    let stamp = stamp(path);
    if let Some(known) = stamp.and_then(|stamp| known(path, stamp)) {
        return known;
    }
    let outcome = compile_file(path);
    record(path, stamp, &outcome);
    outcome.map_err(|failure| failure.reason)
}

/// [`check_file`] without waiting for the compiler: `None` while the file's module is being
/// compiled in the background (started by the first ask, joined by the later ones). For what
/// must not hold the main thread (configuration warnings, asked at every update of the editor's
/// scene dock and by a game's mod menu): a large module took the whole compile (up to the
/// compile time limit, again at every ask after a timeout).
pub fn check_file_now(path: &str) -> Option<Result<Arc<CompiledModule>, String>> {
    let stamp = stamp(path);
    if let Some(known) = stamp.and_then(|stamp| known(path, stamp)) {
        return Some(known);
    }
    let waiting = COMPILING.with(|c| c.borrow_mut().remove(path));
    // The grace is for the ask that starts the compile: one that finds it running looks and
    // goes (a watch asking every frame, or many nodes, would sleep the grace each time).
    let (ticket, grace) = match waiting {
        Some((was, ticket)) if Some(was) == stamp => (ticket, std::time::Duration::ZERO),
        _ => match crate::shipped::load_path(path) {
            Ok(load) => (load.ticket, NOWAIT_GRACE),
            Err(reason) => {
                let outcome = Err(Failure {
                    reason,
                    lasts: false,
                });
                record(path, stamp, &outcome);
                return Some(outcome.map_err(|f| f.reason));
            }
        },
    };
    // A small module compiles in a few milliseconds: answered at once. A larger one is left to
    // the compile thread, and asked again later.
    ticket.urge();
    let until = std::time::Instant::now() + grace;
    while !ticket.is_ready() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    match ticket.try_take() {
        Ok(done) => {
            let outcome = done.map_err(failure_of);
            record(path, stamp, &outcome);
            Some(outcome.map_err(|f| f.reason))
        }
        Err(ticket) => {
            if let Some(stamp) = stamp {
                COMPILING.with(|c| c.borrow_mut().insert(path.to_string(), (stamp, ticket)));
            }
            None
        }
    }
}

/// How long [`check_file_now`] waits for a compile it starts or joins before it answers that the
/// module is being compiled.
const NOWAIT_GRACE: std::time::Duration = std::time::Duration::from_millis(50);

/// Forgets the compiles [`check_file_now`] waits for and the nodes waiting for them (extension
/// end: a ticket holds the module cache).
pub fn clear() {
    COMPILING.with(|c| c.borrow_mut().clear());
    WATCHED.with(|w| w.borrow_mut().clear());
}

/// Whether the module of the file at `path` is being compiled for [`check_file_now`].
pub fn compiling(path: &str) -> bool {
    COMPILING.with(|c| c.borrow().contains_key(path))
}

/// Has node `node` update its configuration warnings once the compile of `path` that
/// [`check_file_now`] waits for has ended (looked at once a frame; one watch per node).
pub fn refresh_when_compiled(node: godot::obj::InstanceId, path: String) {
    if !WATCHED.with(|w| w.borrow_mut().insert(node)) {
        return;
    }
    crate::next_frame::at_next_frame("wasgo_warnings_compiled", move || {
        WATCHED.with(|w| w.borrow_mut().remove(&node));
        let Ok(mut target) = godot::prelude::Gd::<godot::classes::Node>::try_from_instance_id(node)
        else {
            return;
        };
        if check_file_now(&path).is_none() {
            refresh_when_compiled(node, path.clone());
        } else {
            target.update_configuration_warnings();
        }
    });
}

thread_local! {
    /// The compiles [`check_file_now`] started and has not seen end, by path.
    static COMPILING: RefCell<HashMap<String, (Stamp, wasgo_core::CompileTicket)>> =
        RefCell::new(HashMap::new());
    /// The nodes [`refresh_when_compiled`] watches.
    static WATCHED: RefCell<std::collections::HashSet<godot::obj::InstanceId>> =
        RefCell::new(std::collections::HashSet::new());
}

/// What is known of the file at `path` as it is now (`stamp`): its module while it lives, or a
/// failure that holds for these bytes whatever happens.
fn known(path: &str, stamp: Stamp) -> Option<Result<Arc<CompiledModule>, String>> {
    let known = with_checks(|c| {
        c.0.borrow()
            .get(path)
            .filter(|k| k.stamp == stamp)
            .map(|k| k.outcome.clone())
    })
    .flatten()?;
    match known {
        Ok(weak) => weak.upgrade().map(Ok),
        Err(failure) if failure.lasts => Some(Err(failure.reason)),
        Err(_) => None,
    }
}

/// Keeps the outcome of a check of the file at `path` (`stamp`).
fn record(path: &str, stamp: Option<Stamp>, outcome: &Result<Arc<CompiledModule>, Failure>) {
    let Some(stamp) = stamp else {
        return;
    };
    let kept = match outcome {
        Ok(module) => Ok(Arc::downgrade(module)),
        Err(failure) => Err(failure.clone()),
    };
    with_checks(|c| {
        let mut checks = c.0.borrow_mut();
        let reported = checks
            .get(path)
            .is_some_and(|k| k.stamp == stamp && k.reported);
        checks.insert(
            path.to_string(),
            Checked {
                stamp,
                outcome: kept,
                reported,
            },
        );
    });
}

/// A compile's failure, and whether it holds for these bytes whatever happens.
fn failure_of(e: WasgoError) -> Failure {
    Failure {
        lasts: matches!(
            e,
            WasgoError::Compile { .. }
                | WasgoError::NotWasm { .. }
                | WasgoError::NewerAbi { .. }
                | WasgoError::Precompiled { .. }
        ),
        reason: e.to_string(),
    }
}

fn compile_file(path: &str) -> Result<Arc<CompiledModule>, Failure> {
    // Reading (a missing file, one another program holds, one over `module_mb`) is tried again.
    let load = crate::shipped::load_path(path).map_err(|reason| Failure {
        reason,
        lasts: false,
    })?;
    load.ticket.wait().map_err(failure_of)
}

/// Prints `message` about the file at `path` as an error, once per change of the file: a bad
/// file the editor loads six times is reported once. Always kept as the engine's last error.
pub fn report_once(path: &str, message: String) {
    let stamp = stamp(path);
    let first = with_checks(|c| {
        let mut checks = c.0.borrow_mut();
        match (checks.get_mut(path), stamp) {
            (Some(k), Some(stamp)) if k.stamp == stamp => !std::mem::replace(&mut k.reported, true),
            _ => true,
        }
    })
    .unwrap_or(true);
    if first {
        runtime::report(message);
    } else {
        runtime::remember(message);
    }
}

/// What [`warnings`] needs of a `WasmScript`.
pub struct WarningInputs {
    pub wasm_file: String,
    /// The `module` property: its name and compiled code (`None` for an empty `WasmModule`).
    pub module: Option<(String, Option<Arc<CompiledModule>>)>,
    pub safety_level: i64,
    /// The `process_group` property (empty when the batched frame path is off).
    pub process_group: String,
}

/// The node's configuration warnings, each saying what is wrong and what to do (empty when the
/// node is set up right); at most [`MAX_WARNINGS`], the rest counted in a last line (a module
/// can have any number of wrong imports, and Godot's scene dock joins every warning into one
/// tooltip at each tree update).
pub fn warnings(node: &WarningInputs) -> Vec<String> {
    let mut out = all_warnings(node);
    if out.len() > MAX_WARNINGS {
        let more = out.len() - (MAX_WARNINGS - 1);
        out.truncate(MAX_WARNINGS - 1);
        out.push(format!(
            "... and {more} more findings like these; the WasGo section of the inspector lists \
             every import and export of the module"
        ));
    }
    out
}

/// The most configuration warnings [`warnings`] gives, its last line counting the rest.
pub const MAX_WARNINGS: usize = 20;

fn all_warnings(node: &WarningInputs) -> Vec<String> {
    let mut out = Vec::new();
    let ceiling = settings::level_ceiling();
    let (level, request) = SafetyLevel::resolve(node.safety_level, ceiling);
    match request {
        wasgo_core::LevelRequest::AsAsked => {}
        wasgo_core::LevelRequest::Clamped => out.push(format!(
            "`safety_level` is {}, above the project setting `{}` ({}): the mod runs at level {}; \
             lower `safety_level` or raise the project setting",
            node.safety_level,
            settings::LEVEL,
            ceiling.number(),
            level.number()
        )),
        wasgo_core::LevelRequest::NotALevel => out.push(format!(
            "`safety_level` is {}, which is no level: the mod runs at level 1 (the safest); set \
             0 (follow the project setting `{}`), 1, 2 or 3",
            node.safety_level,
            settings::LEVEL
        )),
    }
    let compiled = match &node.module {
        Some((_, Some(compiled))) => compiled.clone(),
        Some((name, None)) => {
            out.push(format!(
                "`module` `{name}` holds no compiled code; load it with `load()` or \
                 `WasmEngine.load_module()`, or set `wasm_file` instead"
            ));
            return out;
        }
        None if node.wasm_file.is_empty() => {
            out.push(
                "no `wasm_file` (or `module`) is set: the node has nothing to run; point \
                 `wasm_file` at a .wasm file"
                    .into(),
            );
            return out;
        }
        None => match check_file_now(&node.wasm_file) {
            Some(Ok(compiled)) => compiled,
            Some(Err(reason)) => {
                out.push(format!("`wasm_file`: {reason}"));
                return out;
            }
            None => {
                out.push(format!(
                    "`wasm_file` `{}` is being compiled in the background; its checks show once it is done",
                    wasgo_core::text::printable_line(&node.wasm_file.to_string())
                ));
                return out;
            }
        },
    };
    let Some(runtime) = runtime::runtime() else {
        return out;
    };
    match compiled.manifest() {
        Ok(Some(m)) => out.extend(
            wasgo_core::manifest::claims_above(m, level)
                .into_iter()
                .map(|c| format!("the module: {c}; lower the manifest's claim or raise `safety_level` and `{}`", settings::LEVEL)),
        ),
        Ok(None) => {}
        Err(e) => out.push(format!("the module has a {e}; it loads without a manifest")),
    }
    out.extend(
        diagnose(&compiled, runtime.hosts(), level)
            .into_iter()
            .map(|f| format!("the module {f}")),
    );
    if !node.process_group.is_empty() {
        let exports = compiled.exports();
        let has = |name: &str| exports.iter().any(|e| e.name == name);
        let pass = crate::group_pass::PASS_EXPORTS;
        if !pass.iter().any(|e| has(e)) {
            out.push(format!(
                "`process_group` is `{}`, but the module exports none of `{}`: nothing runs for the group's nodes; export `{}(node: i32, delta: f64)` (or `{}(nodes_ptr: i32, count: i32, delta: f64)`) or clear `process_group`",
                node.process_group,
                pass.join("`, `"),
                export::PROCESS_NODE,
                export::PROCESS_NODES
            ));
        } else if (has(export::PROCESS_NODES) || has(export::PHYSICS_PROCESS_NODES))
            && !has(export::MALLOC)
        {
            out.push(format!(
                "the module exports `{}` but not `{}`, which the host needs to hand it the group's nodes: export `malloc(size, align) -> ptr` (the Rust SDK's `allocator` feature does)",
                export::PROCESS_NODES,
                export::MALLOC
            ));
        }
    }
    out
}
