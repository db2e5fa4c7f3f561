//! The `WasmEngine` singleton and the process-wide runtime behind it.

use crate::game_calls;
use crate::live;
use crate::module_res::WasmModule;
use crate::settings;
use godot::classes::FileAccess;
use godot::prelude::*;
use parking_lot::RwLock;
use std::sync::Arc;
use wasgo_core::{Hosts, Runtime, RuntimeConfig, WasgoError};

static RUNTIME: RwLock<Option<Arc<Runtime>>> = RwLock::new(None);

/// The runtime, if the extension started it.
pub fn runtime() -> Option<Arc<Runtime>> {
    RUNTIME.read().clone()
}

/// Starts the runtime on the main thread (extension init).
pub fn start_runtime() -> Result<(), WasgoError> {
    let cache_dir = settings::string(settings::CACHE_DIR, "user://wasgo_cache");
    let config = RuntimeConfig {
        debug_info: settings::boolean(settings::DEBUG_INFO, false),
        cache_dir: (!cache_dir.is_empty()).then(|| settings::globalize(&cache_dir).into()),
        ..RuntimeConfig::default()
    };
    let hosts = Hosts::new(
        Arc::new(crate::objects::GodotObjectHost),
        Arc::new(crate::http::GodotHttpHost),
        Arc::new(game_calls::GodotGameCalls),
    );
    let runtime = Runtime::new(config, hosts)?;
    *RUNTIME.write() = Some(runtime);
    Ok(())
}

/// Stops the runtime (extension deinit): its ticker thread ends once the last user lets go.
pub fn stop_runtime() {
    game_calls::clear();
    RUNTIME.write().take();
}

thread_local! {
    static LAST_ERROR: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Records an engine-level error: printed to Godot's output and kept for `get_last_error()`.
pub fn report(message: String) {
    godot_error!("WasGo: {message}");
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

fn runtime_or_report() -> Option<Arc<Runtime>> {
    let r = runtime();
    if r.is_none() {
        report("the WasGo runtime is not running (see the first WasGo error in the log)".into());
    }
    r
}

/// Reads a file through Godot's `FileAccess` (so `res://` works inside exported games).
pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    if !FileAccess::file_exists(path) {
        return Err(format!(
            "cannot read `{path}`: no such file (use a `res://` or `user://` path to a .wasm file)"
        ));
    }
    let bytes = FileAccess::get_file_as_bytes(path);
    if bytes.is_empty() {
        let err = FileAccess::get_open_error();
        if err != godot::global::Error::OK {
            return Err(format!("cannot read `{path}`: {err:?}"));
        }
    }
    Ok(bytes.to_vec())
}

/// The mod name a path gives: its file name without extension.
pub fn name_from_path(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    file.strip_suffix(".wasm")
        .or_else(|| file.strip_suffix(".wat"))
        .unwrap_or(file)
        .to_string()
}

/// Compiles bytes into a `WasmModule` resource, reporting failures.
pub fn compile_to_resource(bytes: &[u8], name: &str, path: &str) -> Option<Gd<WasmModule>> {
    let runtime = runtime_or_report()?;
    match runtime.compile(bytes, name) {
        Ok(compiled) => Some(WasmModule::from_compiled(compiled, name, path)),
        Err(e) => {
            report(e.to_string());
            None
        }
    }
}

/// The one WebAssembly engine of the game (engine singleton `WasmEngine`).
///
/// Every module and mod instance goes through it: it loads and compiles modules (cached by
/// content hash, also on disk in `wasgo/runtime/cache_dir`), lets the game expose its own
/// functions to mods, and can kill every running mod at once.
#[derive(GodotClass)]
#[class(base = Object, init, tool)]
pub struct WasmEngine {
    base: Base<Object>,
}

#[godot_api]
impl WasmEngine {
    /// Reads a `.wasm` (or `.wat`) file with `FileAccess` (`res://`, `user://`), compiles it and
    /// returns the module; modules with the same content are compiled once. Returns `null` on
    /// failure, with the error printed and kept for [method get_last_error].
    #[func]
    fn load_module(&self, path: GString) -> Option<Gd<WasmModule>> {
        let path = path.to_string();
        match read_file(&path) {
            Ok(bytes) => compile_to_resource(&bytes, &name_from_path(&path), &path),
            Err(e) => {
                report(e);
                None
            }
        }
    }

    /// Compiles a module from bytes: a wasm binary or WAT text. [param name] names the mod in
    /// messages (default "module"). Returns `null` on failure, see [method get_last_error].
    #[func]
    fn compile_module(
        &self,
        bytes: PackedByteArray,
        #[opt(default = "")] name: GString,
    ) -> Option<Gd<WasmModule>> {
        let name = if name.is_empty() {
            "module".to_string()
        } else {
            name.to_string()
        };
        compile_to_resource(bytes.as_slice(), &name, "")
    }

    /// Exposes a game function to mods as the import [param module].[param name]. Parameter and
    /// result types are "i32", "i64", "f32", "f64" and "string" (a `(ptr, len)` pair in; as the
    /// only result, an extra `(out_ptr, out_cap)` pair and the full length returned). The function
    /// is exposed from safety [param level] up and is an error stub below it. The reserved module
    /// names `wasgo` and `wasi_*` are refused. Registering the same name again replaces it.
    /// The callable always runs on the main thread.
    #[func]
    fn register_function(
        &self,
        module: GString,
        name: GString,
        callable: Callable,
        params: PackedStringArray,
        results: PackedStringArray,
        #[opt(default = 1)] level: i64,
    ) -> godot::global::Error {
        let Some(runtime) = runtime_or_report() else {
            return godot::global::Error::ERR_UNAVAILABLE;
        };
        if !callable.is_valid() {
            report(format!(
                "cannot register `{module}.{name}`: the Callable is not valid"
            ));
            return godot::global::Error::ERR_INVALID_PARAMETER;
        }
        let to_vec = |a: &PackedStringArray| {
            a.as_slice()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        match runtime.games().register(
            &module.to_string(),
            &name.to_string(),
            &to_vec(&params),
            &to_vec(&results),
            level,
        ) {
            Ok(f) => {
                game_calls::insert(&f, callable);
                godot::global::Error::OK
            }
            Err(e) => {
                report(e.to_string());
                godot::global::Error::ERR_INVALID_PARAMETER
            }
        }
    }

    /// Removes a function registered with [method register_function]. Mods already running keep
    /// the import; a call to it then traps.
    #[func]
    fn unregister_function(&self, module: GString, name: GString) {
        if let Some(runtime) = runtime() {
            if let Some(f) = runtime.games().get(&module.to_string(), &name.to_string()) {
                game_calls::remove(f.id);
            }
            runtime
                .games()
                .unregister(&module.to_string(), &name.to_string());
        }
    }

    /// Opens more of the Godot API to level-1 and level-2 mods, on top of
    /// `addons/wasgo/allowlist.cfg`: [param kind] is "methods", "properties", "signals" (members
    /// of [param class] and its subclasses) or "singletons" (then [param class] is ignored). The
    /// escape hatches (generic calls, scripts, files, network, quitting) stay closed whatever is
    /// added. Returns `ERR_INVALID_PARAMETER` for an unknown kind.
    #[func]
    fn extend_allowlist(
        &self,
        class: GString,
        kind: GString,
        names: PackedStringArray,
    ) -> godot::global::Error {
        let names: Vec<String> = names.as_slice().iter().map(|s| s.to_string()).collect();
        let kind = kind.to_string();
        if kind == "singletons" {
            crate::objects::extend_allowlist("", None, names);
            return godot::global::Error::OK;
        }
        match wasgo_core::allowlist::MemberKind::parse(&kind) {
            Some(k) => {
                crate::objects::extend_allowlist(&class.to_string(), Some(k), names);
                godot::global::Error::OK
            }
            None => {
                report(format!("extend_allowlist: `{kind}` is not \"methods\", \"properties\", \"signals\" or \"singletons\""));
                godot::global::Error::ERR_INVALID_PARAMETER
            }
        }
    }

    /// Kills every mod instance (running or living on callbacks); each emits `killed`.
    #[func]
    fn kill_all(&self) {
        live::kill_all("killed by WasmEngine.kill_all()");
    }

    /// Counters: `modules` (compiled modules in the cache), `instances` (live instances),
    /// `running` (`main`s running), `workers` (worker threads alive), `traps`, `kills`,
    /// `cache_hits`.
    #[func]
    fn get_stats(&self) -> VarDictionary {
        let Some(runtime) = runtime() else {
            return VarDictionary::new();
        };
        let s = runtime.stats();
        vdict! {
            "modules" => s.modules as i64,
            "instances" => s.instances as i64,
            "running" => s.running as i64,
            "workers" => s.workers as i64,
            "traps" => s.traps as i64,
            "kills" => s.kills as i64,
            "cache_hits" => s.cache_hits as i64,
        }
    }

    /// The message of the last failed `WasmEngine` call.
    #[func]
    fn get_last_error(&self) -> GString {
        LAST_ERROR.with(|e| GString::from(e.borrow().as_str()))
    }
}

impl WasmEngine {
    /// The last engine error as text (for nodes that report it as their own).
    pub fn last_error_text() -> String {
        LAST_ERROR.with(|e| e.borrow().clone())
    }
}
