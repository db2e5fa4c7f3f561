//! The process-wide runtime handle, engine-level error reporting, the `.wasm` loader's
//! registration and file reading: plain helpers the class files (`engine.rs`, `module_res.rs`,
//! `script.rs`) build on. No class here.
//!
//! The runtime handle is the one global the glue keeps outside its main-thread state
//! (`state.rs`): Godot may call the `.wasm` resource loader on a loader thread, and that path
//! compiles through [`runtime`], so the handle must stay `Send + Sync` and reachable from any
//! thread. It is set and cleared at the same two points as the state (extension init and
//! deinit). The last error and the registered loader are main-thread parts of the state.

use crate::game_calls;
use crate::settings;
use crate::state::{self, Part};
use godot::classes::{FileAccess, ResourceFormatLoader, ResourceLoader};
use godot::prelude::*;
use parking_lot::RwLock;
use std::cell::RefCell;
use std::sync::Arc;
use wasgo_core::memory_layout::MemoryLayout;
use wasgo_core::{Hosts, Runtime, RuntimeConfig, WasgoError};

/// The runtime (read from any thread: see the module essay).
static RUNTIME: RwLock<Option<Arc<Runtime>>> = RwLock::new(None);

/// The runtime, if the extension started it.
pub fn runtime() -> Option<Arc<Runtime>> {
    RUNTIME.read().clone()
}

/// Where the install's random key that authenticates the disk cache is kept (see
/// `wasgo_core::cache::install_key`).
pub const CACHE_KEY_FILE: &str = "user://wasgo/cache.key";

/// Starts the runtime on the main thread (extension init).
pub fn start_runtime() -> Result<(), WasgoError> {
    let cache_dir = settings::string(settings::CACHE_DIR, "user://wasgo_cache");
    let (max_module_bytes, compile_timeout) = settings::compile_limits();
    let config = RuntimeConfig {
        debug_info: settings::boolean(settings::DEBUG_INFO, false),
        max_module_bytes,
        compile_timeout,
        cache_dir: (!cache_dir.is_empty()).then(|| settings::globalize(&cache_dir).into()),
        // The install's key for the disk cache, kept apart from the cache files it authenticates.
        cache_key_file: Some(settings::globalize(CACHE_KEY_FILE).into()),
        mode: settings::runtime_mode(),
        memory_layout: MemoryLayout::from_mb(settings::non_negative(
            settings::MEMORY_RESERVATION_MB,
            settings::DEFAULT_MEMORY_RESERVATION_MB,
        ) as u64),
        instance_pool: settings::instance_pool(),
        ..RuntimeConfig::default()
    };
    let hosts = Hosts::new(
        Arc::new(crate::objects::GodotObjectHost),
        Arc::new(crate::http::GodotHttpHost),
        Arc::new(game_calls::GodotGameCalls),
    );
    let runtime = Runtime::new(config, hosts)?;
    if let Some(note) = runtime.pool_note() {
        godot_warn!("WasGo: {note}");
    }
    *RUNTIME.write() = Some(runtime);
    Ok(())
}

/// Stops the runtime (extension deinit): its ticker thread ends once the last user lets go. A
/// compile still running (a background one, or one whose request timed out) runs code of this
/// library: when the library could not be pinned (`resident.rs`), which Godot then unloads,
/// it is waited for, up to the compile time limit. A pinned library stays mapped, so the
/// compile (pure Rust, touching nothing of Godot's) is left to end with the process: a game
/// quitting while a large mod compiled waited for it, up to 30 s.
pub fn stop_runtime() {
    if let Some(runtime) = runtime() {
        if !crate::resident::pinned() {
            let (_, limit) = runtime.compile_limits();
            if !runtime.wait_for_compiles(limit) {
                godot_error!("WasGo: a module compile was still running at shutdown");
            }
        }
        // The `main`s killed at this stage end on their worker threads, which run the
        // library's code until their last step: the library must not be unloaded under them
        // (a game quitting with a leaked node spinning in `main` crashed at exit, now and then,
        // on a loaded machine). They are given up to a second.
        if !runtime.wait_for_workers(std::time::Duration::from_secs(1)) {
            godot_error!("WasGo: a mod's `main` was still running at shutdown");
        }
        // A `WasmScript` the game leaked (never freed) still holds the runtime: its ticker
        // thread is stopped here, not when the last holder lets go, which may be never.
        runtime.stop_ticker();
    }
    game_calls::clear();
    RUNTIME.write().take();
}

/// The last engine error (`state.rs`'s `last_error` part).
#[derive(Default)]
pub struct LastError(RefCell<String>);

impl Part for LastError {}

fn with_last_error<R>(f: impl FnOnce(&LastError) -> R) -> Option<R> {
    state::with_part(|s| &s.last_error, f)
}

/// Records an engine-level error: printed to Godot's output and kept for `get_last_error()`
/// (kept only on the main thread, as before: other threads have no state).
pub fn report(message: String) {
    godot_error!("WasGo: {message}");
    with_last_error(|e| *e.0.borrow_mut() = message);
}

/// Keeps `message` for `get_last_error()` without printing it (a failure printed before).
pub fn remember(message: String) {
    with_last_error(|e| *e.0.borrow_mut() = message);
}

pub fn runtime_or_report() -> Option<Arc<Runtime>> {
    let r = runtime();
    if r.is_none() {
        report("the WasGo runtime is not running (see the first WasGo error in the log)".into());
    }
    r
}

/// Whether a call of `what` (a public method, `Class.method`) may go on: WasGo's nodes and engine
/// are main-thread objects (their state lives in the main thread's cells, and a mod entered
/// from another thread would wait for the main thread for ever), so a call from another thread
/// is refused with an error saying so. Properties stay settable from any thread (a scene
/// instantiated on a worker thread sets them before it joins the tree).
pub fn on_main_thread(what: &str) -> bool {
    if godot::init::is_main_thread() {
        return true;
    }
    godot_error!(
        "WasGo: `{what}` was called from a thread other than the main thread and did nothing; WasGo's nodes and engine work on the main thread: call it there (from a thread, with `call_deferred`)"
    );
    false
}

/// Reads a file through Godot's `FileAccess` (so `res://` works inside exported games), when
/// it is at most `max` bytes: a larger one is refused by its length, never read (a file of
/// zeros many GB large, a few MB zipped, took the memory before the size limits were checked).
pub fn read_file(path: &str, max: usize) -> Result<Vec<u8>, String> {
    // Named in the messages as shown (a mod file's name is its author's choice).
    let shown = wasgo_core::text::printable_line(path);
    if !FileAccess::file_exists(path) {
        return Err(format!(
            "cannot read `{shown}`: no such file (use a `res://` or `user://` path to a .wasm file)"
        ));
    }
    let Some(mut f) = FileAccess::open(path, godot::classes::file_access::ModeFlags::READ) else {
        return Err(format!(
            "cannot read `{shown}`: {:?}",
            FileAccess::get_open_error()
        ));
    };
    let size = usize::try_from(f.get_length()).unwrap_or(usize::MAX);
    if size > max {
        let too_large = wasgo_core::WasgoError::ModuleTooLarge {
            name: shown.to_string(),
            size,
            limit: max,
        };
        return Err(too_large.to_string());
    }
    // From the handle whose length was checked (a file reopened could have grown meanwhile).
    let bytes = f.get_buffer(size as i64);
    if bytes.len() != size {
        return Err(format!(
            "cannot read `{shown}`: {} of its {size} bytes could be read ({:?})",
            bytes.len(),
            f.get_error()
        ));
    }
    Ok(bytes.to_vec())
}

/// The mod name a path gives: its file name without extension.
pub fn name_from_path(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = wasgo_core::discovery::wasm_stem(file)
        .or_else(|| file.strip_suffix(".wat"))
        .unwrap_or(file);
    // The name prefixes the module's console lines and names it in every message: a line break
    // or a bidi override in a file's name is kept escaped.
    wasgo_core::text::printable_line(stem).into_owned()
}

/// The last engine error as text (for nodes that report it as their own).
pub fn last_error_text() -> String {
    with_last_error(|e| e.0.borrow().clone()).unwrap_or_default()
}

/// The `.wasm` loader while it is registered (`state.rs`'s `loader` part).
#[derive(Default)]
pub struct RegisteredLoader(RefCell<Option<Gd<ResourceFormatLoader>>>);

impl Part for RegisteredLoader {}

/// Registers `loader` with Godot's `ResourceLoader` and keeps it for [`unregister_loader`].
pub fn register_loader(loader: Gd<ResourceFormatLoader>) {
    ResourceLoader::singleton().add_resource_format_loader(&loader);
    state::with_part(
        |s| &s.loader,
        |l: &RegisteredLoader| *l.0.borrow_mut() = Some(loader),
    );
}

/// Removes the loader [`register_loader`] registered (extension deinit).
pub fn unregister_loader() {
    let loader = state::with_part(
        |s| &s.loader,
        |l: &RegisteredLoader| l.0.borrow_mut().take(),
    );
    if let Some(loader) = loader.flatten() {
        ResourceLoader::singleton().remove_resource_format_loader(&loader);
    }
}

/// The runtime with the compile limits of the project settings as they are now
/// (`wasgo/limits/module_mb`, `wasgo/limits/compile_timeout_ms`), so a game may change them at
/// any time; `None` (reported) when the runtime is not running.
pub fn runtime_for_compile() -> Option<Arc<Runtime>> {
    let runtime = runtime_or_report()?;
    let (max_bytes, timeout) = settings::compile_limits();
    runtime.set_compile_limits(max_bytes, timeout);
    Some(runtime)
}
