//! Hot reload while developing: a running `WasmScript` whose `.wasm` file changes on disk
//! reloads it, keeping the node, and emits `reloaded`. Main thread only; no class here.
//!
//! # Watching cheaply
//!
//! A node that starts from a file (`wasm_file`, or a `module` loaded from a file) is watched
//! from then on ([`watch`], called by the class just before it reads the file, with the stamp the
//! file has then). The frame hook calls [`poll`] every frame, but it does nothing until
//! [`CHECK_INTERVAL`] has passed since the last check, and nothing at all while no node is
//! watched or the project setting `wasgo/runtime/hot_reload` is off. A check makes one `stat`
//! per distinct file (ten nodes running the same mod: one call), never an open or a read, and
//! hands each stamp to the node's `wasgo_core::FileWatch`, which answers "reload" only once a
//! changed file has held still for one check (a file still being written is never read).
//! Starting a node costs one `stat` of its file, shared by the nodes of the same file started in
//! the same frame (a level that starts a thousand nodes of one mod stats it once), and no scan
//! of the other watched nodes (they are kept by node).
//!
//! # Reloading
//!
//! A change due is read and compiled in the background by `WasmScript::begin_hot_reload`
//! (`script_hot.rs`; the frame goes on, and the engine's module cache answers at once for bytes
//! it knows). Then, at a later frame:
//!
//! - **The new file compiles:** the old instance is asked for its state (`save_state`, when it
//!   exports it and its `main` is not running), killed (`killed("reloading: ...")`) and dropped;
//!   the node starts again with the new module, which gets the state through `load_state`
//!   right after `init`, then `reloaded(carried_state)` is emitted (see
//!   `ScriptCore::hot_swap`).
//! - **It does not** (a half-saved file, a build error, a text file): nothing is stopped. The
//!   error is printed once, starting with the node's path, and kept as the node's
//!   `get_last_error()`; the old instance goes on as it was, and the next change of the file is
//!   tried again. A new module that compiles but fails to start (its `init` traps) leaves the
//!   node without an instance, reported the same way; the state the old instance saved is kept
//!   and handed to the next instance that starts.
//!
//! A node the game stopped with `kill()` is not restarted by a change of its file; one that
//! trapped is (that is usually the bug being fixed). A newer change while the previous one still
//! compiles supersedes it.

use crate::script_core::ScriptCore;
use crate::settings;
use crate::state::{self, Part};
use godot::global::Error;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};
use wasgo_core::fast_hash::FastMap;
use wasgo_core::{FileStamp, FileWatch};

/// How often watched files are checked: a reload comes one or two intervals after the last
/// write of the file.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// One watched node.
struct Watched {
    core: Weak<ScriptCore>,
    /// The file as the game named it (`res://...`, `user://...`); shared by the nodes started
    /// from it in one frame, as is `file`.
    path: Rc<str>,
    /// The same file on disk.
    file: Rc<Path>,
    watch: FileWatch,
    /// The number of the reload being compiled for this node (superseded ones are dropped).
    reload: u64,
}

/// The file `watch` stamped last, and the process frame it did so in.
struct Stamped {
    frame: u64,
    path: Rc<str>,
    file: Rc<Path>,
    stamp: FileStamp,
}

/// The watched nodes (the `hot_reload` part of the main-thread state).
#[derive(Default)]
pub struct HotReload {
    /// By node: the address of its core (see [`key`]).
    watched: RefCell<FastMap<usize, Watched>>,
    /// What the last [`watch`] read of its file, reused by the next ones in the same frame.
    stamped: RefCell<Option<Stamped>>,
    last_check: Cell<Option<Instant>>,
    /// The number of the last reload begun.
    reloads: Cell<u64>,
}

impl Part for HotReload {}

fn with_hot<R>(f: impl FnOnce(&HotReload) -> R) -> Option<R> {
    state::with_part(|s| &s.hot_reload, f)
}

/// Whether `wasgo/runtime/hot_reload` is on now.
pub fn enabled() -> bool {
    settings::hot_reload()
}

/// Watches the file at `path` for the node whose core is `core`, which is about to read it
/// (replacing what the node watched before); called when hot reload is on. Nothing (the node
/// is no longer watched) when the file is not a file on disk (e.g. inside an exported game's
/// pack).
pub fn watch(core: &Rc<ScriptCore>, path: &str) {
    let stamped = with_hot(|h| stamp_now(h, path)).flatten();
    let Some((path, file, stamp)) = stamped else {
        forget(core);
        return;
    };
    // Replaces what the node watched before.
    with_hot(|h| {
        h.watched.borrow_mut().insert(
            key(core),
            Watched {
                core: Rc::downgrade(core),
                path,
                file,
                watch: FileWatch::new(Some(stamp)),
                reload: 0,
            },
        )
    });
}

/// The file `path` names on disk and its stamp now: read (one `globalize`, one `stat`) unless
/// the last `watch` read the same path in this same process frame. `None` when it is not a
/// file on disk.
fn stamp_now(h: &HotReload, path: &str) -> Option<(Rc<str>, Rc<Path>, FileStamp)> {
    let frame = crate::live::process_frames();
    if let Some(s) = h.stamped.borrow().as_ref() {
        // Frame 0: the frame driver is not counting yet; nothing is reused then.
        if frame != 0 && s.frame == frame && *s.path == *path {
            return Some((s.path.clone(), s.file.clone(), s.stamp));
        }
    }
    let file: Rc<Path> = PathBuf::from(settings::globalize(path)).into();
    let stamp = FileStamp::of(&file)?;
    let path: Rc<str> = path.into();
    *h.stamped.borrow_mut() = Some(Stamped {
        frame,
        path: path.clone(),
        file: file.clone(),
        stamp,
    });
    Some((path, file, stamp))
}

/// The key of `core`'s node among the watched: its core's address (one core per node for the
/// node's life; a dead entry whose address is reused is replaced or removed like its node's).
fn key(core: &Rc<ScriptCore>) -> usize {
    Rc::as_ptr(core) as usize
}

/// Stops watching for `core`'s node (it now runs a module that did not come from a file).
pub fn forget(core: &Rc<ScriptCore>) {
    with_hot(|h| h.watched.borrow_mut().remove(&key(core)));
}

/// A reload that is due: the node's core, the file as the game names it, the reload's number.
pub struct Due {
    pub core: Rc<ScriptCore>,
    pub path: String,
    pub reload: u64,
}

/// Checks the watched files when [`CHECK_INTERVAL`] has passed; the reloads due now (the frame
/// hook calls it every frame and begins each with `WasmScript::begin_hot_reload`).
pub fn poll() -> Vec<Due> {
    let due = with_hot(|h| {
        if h.watched.borrow().is_empty() {
            return false;
        }
        let now = Instant::now();
        if h.last_check
            .get()
            .is_some_and(|t| now.duration_since(t) < CHECK_INTERVAL)
        {
            return false;
        }
        h.last_check.set(Some(now));
        true
    })
    .unwrap_or(false);
    // Reading the setting is a call into Godot: made only when a check is due.
    if !due || !enabled() {
        return Vec::new();
    }
    with_hot(check)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(core, path, reload)| {
            Some(Due {
                core: core.upgrade()?,
                path,
                reload,
            })
        })
        .collect()
}

/// One check of every watched file (one `stat` per distinct file); the reloads due.
fn check(h: &HotReload) -> Vec<(Weak<ScriptCore>, String, u64)> {
    let mut watched = h.watched.borrow_mut();
    watched.retain(|_, w| w.core.strong_count() > 0);
    let mut stamps: Vec<(Rc<Path>, Option<FileStamp>)> = Vec::new();
    let mut due = Vec::new();
    for w in watched.values_mut() {
        let stamp = match stamps.iter().find(|(file, _)| *file == w.file) {
            Some((_, stamp)) => *stamp,
            None => {
                let stamp = FileStamp::of(&w.file);
                stamps.push((w.file.clone(), stamp));
                stamp
            }
        };
        if w.watch.observe(stamp) {
            let reload = h.reloads.get() + 1;
            h.reloads.set(reload);
            w.reload = reload;
            due.push((w.core.clone(), w.path.to_string(), reload));
        }
    }
    due
}

/// Whether reload number `reload` is still the one wanted for `core`'s node (a newer change,
/// or a start of the node's own, supersedes it).
pub fn is_current(core: &Rc<ScriptCore>, reload: u64) -> bool {
    with_hot(|h| {
        h.watched
            .borrow()
            .get(&key(core))
            .is_some_and(|w| std::ptr::eq(w.core.as_ptr(), Rc::as_ptr(core)) && w.reload == reload)
    })
    .unwrap_or(false)
}

/// A changed file that cannot replace the running module: printed once (this version of the
/// file is not tried again) and kept as the node's last error.
pub fn report(core: &Rc<ScriptCore>, path: &str, reason: &str) {
    // A file's name is its author's choice: a line break in it would forge a log line.
    let path = wasgo_core::text::printable_line(path);
    core.fail(
        Error::FAILED,
        format!(
            "`{}`: cannot hot-reload `{path}`: {reason}; the node goes on as it was (save a fixed file to reload)",
            core.label()
        ),
    );
}
