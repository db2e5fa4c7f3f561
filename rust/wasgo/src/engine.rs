//! The `WasmEngine` singleton class. The runtime it fronts and its helpers live in `runtime.rs`.

use crate::compiles::WasmModuleRequest;
use crate::game_calls;
use crate::live;
use crate::module_res::WasmModule;
use crate::runtime::{self, name_from_path, read_file, report, runtime, runtime_or_report};
use godot::prelude::*;

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
    /// failure, with the error printed and kept for [method get_last_error]. Blocks until
    /// compiled (a large module takes seconds); [method load_module_async] does not. Modules over
    /// `wasgo/limits/module_mb` and compiles longer than `wasgo/limits/compile_timeout_ms` are
    /// refused.
    #[func]
    fn load_module(&self, path: GString) -> Option<Gd<WasmModule>> {
        let path = path.to_string();
        match read_file(&path) {
            Ok(bytes) => WasmModule::compile(&bytes, &name_from_path(&path), &path),
            Err(e) => {
                report(e);
                None
            }
        }
    }

    /// Like [method load_module], but compiles on a background thread and returns at once:
    /// `var module = await WasmEngine.load_module_async(path).completed` keeps the game's frames
    /// coming while a large module compiles. The module is `null` on failure (a missing file, an
    /// invalid module, one over `wasgo/limits/module_mb`, or a compile longer than
    /// `wasgo/limits/compile_timeout_ms`), with [method WasmModuleRequest.get_error] and
    /// [method get_last_error] saying why. The file itself is read before this returns.
    #[func]
    fn load_module_async(&self, path: GString) -> Gd<WasmModuleRequest> {
        let path = path.to_string();
        let name = name_from_path(&path);
        match read_file(&path) {
            Ok(bytes) => WasmModuleRequest::start(&bytes, &name, &path),
            Err(e) => WasmModuleRequest::refused(e, &name, &path),
        }
    }

    /// Like [method compile_module], but compiles on a background thread and returns at once;
    /// `await` the request's `completed` signal for the module (see [method load_module_async]).
    #[func]
    fn compile_module_async(
        &self,
        bytes: PackedByteArray,
        #[opt(default = "")] name: GString,
    ) -> Gd<WasmModuleRequest> {
        let name = if name.is_empty() {
            "module".to_string()
        } else {
            name.to_string()
        };
        WasmModuleRequest::start(bytes.as_slice(), &name, "")
    }

    /// Compiles a module from bytes: a wasm binary or WAT text. [param name] names the mod in
    /// messages (default "module"). Returns `null` on failure, see [method get_last_error].
    /// Blocks until compiled; [method compile_module_async] does not.
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
        WasmModule::compile(bytes.as_slice(), &name, "")
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

    /// Exposes a waPC host operation to waPC mods: a guest's `host_call(binding, namespace,
    /// operation, payload)` calls [param callable] with the payload (a `PackedByteArray`) on the
    /// main thread; it returns a `PackedByteArray` (the reply) or a `String` (a host error the
    /// guest receives). Mods below safety [param level] get a host error naming the operation and
    /// the level, and the node emits `unexposed_call`, as for an unregistered operation. The
    /// binding `wasgo` is WasGo's own (the Godot API for waPC mods) and is refused. Registering
    /// the same operation again replaces it.
    #[func]
    fn register_wapc_handler(
        &self,
        binding: GString,
        namespace: GString,
        operation: GString,
        callable: Callable,
        #[opt(default = 1)] level: i64,
    ) -> godot::global::Error {
        crate::wapc_calls::register(
            &binding.to_string(),
            &namespace.to_string(),
            &operation.to_string(),
            callable,
            level,
        )
    }

    /// Removes an operation registered with [method register_wapc_handler]; returns whether it
    /// was registered. Calls to it then get a host error.
    #[func]
    fn unregister_wapc_handler(
        &self,
        binding: GString,
        namespace: GString,
        operation: GString,
    ) -> bool {
        crate::wapc_calls::unregister(
            &binding.to_string(),
            &namespace.to_string(),
            &operation.to_string(),
        )
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
    /// `cache_hits`, `live_scripts` (the `WasmScript` nodes the frame driver visits each frame:
    /// those with a live instance; a freed node or an ended mod leaves at once), and `mode`
    /// (`"compiled"` or `"interpreter"`: how mods' code runs, chosen by `wasgo/runtime/mode` when
    /// the extension started).
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
            "live_scripts" => live::count() as i64,
            "mode" => runtime.execution_mode().name(),
        }
    }

    /// The message of the last failed `WasmEngine` call.
    #[func]
    fn get_last_error(&self) -> GString {
        GString::from(runtime::last_error_text().as_str())
    }
}
