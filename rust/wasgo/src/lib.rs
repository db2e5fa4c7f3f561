//! # wasgo — the WasGo GDExtension
//!
//! A thin Godot layer over [`wasgo_core`]: the `WasmEngine` singleton, the `WasmModule`
//! resource (and its `.wasm` loader) and the `WasmScript` node. Everything that can be done
//! without Godot lives in the core; this crate converts values, reads project settings, keeps
//! Godot objects on the main thread and turns core events into signals.
//!
//! Layout (each module imports only modules below it; `tests/layering.rs` fails on a cycle):
//! - classes, and nothing else: `engine.rs` (`WasmEngine`), `module_res.rs` (`WasmModule` and its
//!   loader), `script.rs` (`WasmScript`, with `script_owned.rs` and `script_hot.rs`: its
//!   ownership methods and hot-reload hooks), `bench.rs` (`WasgoBench`);
//! - the script's working state: `script_core.rs` (entries into the mod, the borrow-free
//!   invariant, re-entrancy), `script_delivery.rs` (events, callbacks, HTTP answers),
//!   `script_calls.rs` (`call_export`), `script_reload.rs` (swapping the instance on a hot
//!   reload, carrying the mod's state), `file_checks.rs` (configuration warnings and `.wasm`
//!   file checks, once per change of a file), `frame_time.rs` (a mod's main-thread time per
//!   frame, for the remote inspector);
//! - services: `live.rs` (live scripts, the frame driver, the frame budget), `hot_reload.rs`
//!   (watching the files running mods came from, a few times per second), `mods_folder.rs`
//!   (`scan_mods`, `start_mods`, the enabled list and load order), `sandboxes.rs` (where a
//!   mod's sandbox is, and the record of those WasGo made), `compiles.rs`
//!   (background compiles polled every frame, the `WasmModuleRequest` awaitable), `permissions.rs`
//!   (grants and WasGo's dialog, answering through a closure), `own_ui.rs` (WasGo's UI no mod may
//!   reach), `owned.rs` (the timers a mod made, released when it ends), `reach.rs`
//!   (which nodes a mod may hold handles to), `objects.rs`, `http.rs`, `game_calls.rs` (the core's hosts), `runtime.rs` (the
//!   runtime handle, engine errors, the loader's registration, file reading), `shipped.rs` (the
//!   game's precompile key, a `.wasm` with its `.cwasm` beside it), `settings.rs` (with
//!   `settings_help.rs`, each setting's description), `doc_export.rs` (the class reference for
//!   Godot's doctool), `convert.rs`;
//! - at the bottom, `state.rs`: the one main-thread state holding every module's former
//!   globals, made at init and dropped at deinit (below), named by no module it holds.
//!
//! Threads: Godot objects (`Gd`, `Callable`, `Variant`) never leave the main thread. Worker
//! threads running a mod's `main` reach Godot only through the core's main-thread bridge, which
//! [`WasgoExtension::on_main_loop_frame`] drains every frame, together with each script's events.
//! No gdext borrow of a node is held while its mod runs (see `script_core.rs`).
//!
//! Lifetime: [`WasgoExtension::on_stage_init`] starts the state (`state.rs`) and the runtime at
//! `InitStage::Scene`; [`WasgoExtension::on_stage_deinit`] tears everything down in one place, in
//! this order, while the engine still runs: every mod killed, every HTTP request closed, the
//! loader and the singleton unregistered, game functions dropped, the state dropped part by part,
//! the runtime stopped. Nothing the glue holds outlives Godot's leak check.

use godot::classes::Engine;
use godot::init::{gdextension, ExtensionLibrary, InitStage};
use godot::prelude::*;

/// The extension's Rust allocations (wasmtime's, the glue's, the core's) go to mimalloc, not
/// glibc's malloc. A mod's `main` calling Godot allocates on its worker thread what the main
/// thread frees (the posted job, names) and the other way round (replies); glibc hands such
/// chunks back through the allocating thread's arena lock, and with the two threads on two
/// cores they contended for it at every call (16% of both threads' samples in
/// `__lll_lock_wait`; `main` round trips fell from about 85,000/s to 7,000–35,000/s depending on
/// timing). mimalloc frees another thread's memory through a lock-free list. Its thread-local
/// state uses the local-dynamic TLS model, as a library Godot loads with `dlopen` must.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `arena_eager_commit` option (its place in `mi_option_e`, mimalloc 2's
/// `include/mimalloc.h`; `libmimalloc-sys` names no constant for it).
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Turns off mimalloc's eagerly committed arenas, before anything is allocated. On Linux
/// mimalloc commits its 1 GiB arenas up front and advises transparent huge pages for them, so
/// the first touch of any 4 KiB of a large allocation brings in a whole 2 MiB page: every
/// interpreted instance's Pulley stack (512 KiB, reserved, touched only at its top) cost 650 KiB
/// of resident memory (1,000 interpreted instances: 651 MB; compiled ones: 12.7 MB), kept after
/// they were freed, and a first `start()` paid the kernel zeroing those pages. Committed on
/// demand, the same 1,000 cost 20 MB. It runs from `.init_array` when Godot loads the library
/// (after mimalloc's own constructor, which reads the options, and before the first allocation,
/// which reserves the first arena); a `MIMALLOC_ARENA_EAGER_COMMIT` set in the environment is
/// overridden.
#[cfg(target_os = "linux")]
extern "C" fn commit_arenas_on_demand() {
    // SAFETY: `mi_option_set` only stores a value in mimalloc's option table (no allocation, no
    // lock); the option exists in the mimalloc this crate links (`libmimalloc-sys` 0.1.49,
    // mimalloc 2) and 0 is one of its documented values.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
}

/// The loader calls [`commit_arenas_on_demand`] when the library is loaded.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static COMMIT_ARENAS_ON_DEMAND: extern "C" fn() = commit_arenas_on_demand;

mod assets;
mod bench;
mod compiles;
mod convert;
mod cores;
mod created;
mod doc_export;
mod drawing;
mod engine;
mod error_watch;
mod export_callable;
mod file_checks;
mod frame_time;
mod game_calls;
mod group_pass;
mod hot_reload;
mod http;
mod live;
mod log_gate;
mod mods_folder;
mod module_res;
mod name_params;
mod next_frame;
mod objects;
mod own_ui;
mod owned;
mod permissions;
mod reach;
mod resident;
mod runtime;
mod sandboxes;
mod script;
mod script_calls;
mod script_core;
mod script_delivery;
mod script_group;
mod script_hot;
mod script_input;
mod script_owned;
mod script_reload;
mod settings;
mod settings_help;
mod settings_kept;
mod shipped;
mod state;
mod tweens;
mod typing;
mod wapc_calls;

pub use compiles::WasmModuleRequest;
pub use engine::WasmEngine;
pub use module_res::{WasmModule, WasmModuleLoader};
pub use script::WasmScript;

struct WasgoExtension;

/// What a reported change of the project's settings moves besides the settings `start()`
/// keeps: the default reach (held handles are checked again at their next use) and whether
/// running mods with an `input` export take input.
fn settings_changed() {
    reach::settings_changed();
    script_input::settings_changed();
}

/// How long one frame may spend serving worker threads' calls into Godot.
const BRIDGE_BUDGET_PER_FRAME: std::time::Duration = std::time::Duration::from_millis(4);

// SAFETY: gdext requires this impl to be unique per library and the entry symbol to match the
// `.gdextension` file (`gdext_rust_init`, the default); both hold.
#[gdextension]
unsafe impl ExtensionLibrary for WasgoExtension {
    fn on_stage_init(stage: InitStage) {
        if stage == InitStage::Scene {
            if let Err(e) = resident::pin() {
                godot_warn!("WasGo: {e}; a thread still running at exit may crash the game");
            }
            state::start();
            settings::register();
            settings_kept::watch(settings_changed);
            if let Err(e) = runtime::start_runtime() {
                godot_error!("WasGo: {e}; mods will not run");
            }
            let singleton = WasmEngine::new_alloc();
            Engine::singleton()
                .register_singleton(&WasmEngine::class_id().to_string_name(), &singleton);
            WasmModuleLoader::register();
            objects::load_allowlist();
            error_watch::install();
        }
        if stage == InitStage::Editor {
            doc_export::export_if_doctool();
        }
    }

    fn on_stage_deinit(stage: InitStage) {
        if stage == InitStage::MainLoop {
            // The game's Callables (game functions, waPC handlers) are dropped while the script
            // languages still run: a GDScript lambda dropped after GDScript shut down freed its
            // function a second time (the game crashed at exit when it had not unregistered it).
            game_calls::clear();
            wapc_calls::clear();
        }
        if stage == InitStage::Scene {
            // Stop what runs, then drop what is held, while the engine still runs.
            script::let_go_of_cores_freed_on_threads();
            live::kill_all("the game is shutting down");
            compiles::clear();
            file_checks::clear();
            http::close_all();
            permissions::close();
            own_ui::clear();
            runtime::unregister_loader();
            let name = WasmEngine::class_id().to_string_name();
            let mut engine = Engine::singleton();
            if let Some(singleton) = engine.get_singleton(&name) {
                engine.unregister_singleton(&name);
                singleton.free();
            }
            game_calls::clear();
            if !state::stop() {
                godot_error!("WasGo: its state was in use at shutdown and could not be dropped");
            }
            runtime::stop_runtime();
            settings_kept::unwatch();
            error_watch::uninstall();
            convert::forget_static_names();
        }
    }

    fn on_main_loop_frame() {
        // A setting cleared with `ProjectSettings.clear()` reports no change (Godot 4.6): what
        // `start()` kept is read again at least once a frame.
        settings_kept::forget();
        if let Some(runtime) = runtime::runtime() {
            runtime.bridge().run_pending(BRIDGE_BUDGET_PER_FRAME);
        }
        http::poll_all();
        script::let_go_of_cores_freed_on_threads();
        for due in hot_reload::poll() {
            WasmScript::begin_hot_reload(due);
        }
        compiles::poll();
        objects::release_waiting();
        live::pump_all();
    }
}
