//! The `WasmEngine` singleton class. The runtime it fronts and its helpers live in `runtime.rs`.

use crate::compiles::WasmModuleRequest;
use crate::game_calls;
use crate::live;
use crate::module_res::WasmModule;
use crate::runtime::{self, name_from_path, report, runtime, runtime_or_report};
use godot::prelude::*;

/// The one WebAssembly engine of the game (engine singleton `WasmEngine`).
///
/// Every module and mod instance goes through it: it loads and compiles modules (cached by
/// content hash, also on disk in `wasgo/runtime/cache_dir`), lets the game expose its own
/// functions to mods, and can kill every running mod at once. Its methods work on the main thread
/// only: called from another thread they do nothing and log an error naming the method (use
/// `call_deferred`).
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
    /// refused. For a `res://` path, a precompiled `<name>.cwasm` beside the `.wasm` (the export
    /// option ships one) is loaded instead of compiling when it authenticates under
    /// `wasgo/runtime/precompile_key` and was made from that very `.wasm` (or the `.wasm` is not
    /// shipped); otherwise the `.wasm` is compiled, with a warning saying why the artifact was
    /// passed over. Mods' paths (`user://`) never use an artifact.
    #[func]
    fn load_module(&self, path: GString) -> Option<Gd<WasmModule>> {
        if !crate::runtime::on_main_thread("WasmEngine.load_module") {
            return None;
        }
        WasmModule::load_path(&path.to_string())
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
        if !crate::runtime::on_main_thread("WasmEngine.load_module_async") {
            return WasmModuleRequest::refused_off_main_thread(
                "WasmEngine.load_module_async",
                &name,
            );
        }
        match crate::shipped::load_path(&path) {
            Ok(load) => WasmModuleRequest::waiting(load.ticket, &name, &path),
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
        if !crate::runtime::on_main_thread("WasmEngine.compile_module_async") {
            return WasmModuleRequest::refused_off_main_thread(
                "WasmEngine.compile_module_async",
                &name,
            );
        }
        WasmModuleRequest::start(bytes.as_slice(), &name, "")
    }

    /// Compiles a module from bytes: a wasm binary or WAT text. [param name] names the mod in
    /// messages (default "module"). Returns `null` on failure, see [method get_last_error].
    /// Blocks until compiled; [method compile_module_async] does not. Anything that is not
    /// WebAssembly is refused, a precompiled artifact by name (load those with
    /// [method load_precompiled]), so native code never runs as a mod.
    #[func]
    fn compile_module(
        &self,
        bytes: PackedByteArray,
        #[opt(default = "")] name: GString,
    ) -> Option<Gd<WasmModule>> {
        if !crate::runtime::on_main_thread("WasmEngine.compile_module") {
            return None;
        }
        let name = if name.is_empty() {
            "module".to_string()
        } else {
            name.to_string()
        };
        WasmModule::compile(bytes.as_slice(), &name, "")
    }

    /// Compiles [param bytes] (a wasm binary or WAT text) and returns it as a precompiled
    /// artifact the game can ship (e.g. as a `.cwasm` file beside the `.wasm`) and load with
    /// [method load_precompiled] without compiling. The artifact is native code for this
    /// platform and this build of WasGo, authenticated with HMAC-SHA256 under [param key] (at
    /// least 16 bytes), or when it is empty under the project setting
    /// `wasgo/runtime/precompile_key` (hex). Returns an empty array on failure (no key, bytes
    /// that are not WebAssembly, a library built without the compiler), see
    /// [method get_last_error].
    #[func]
    fn precompile(
        &self,
        bytes: PackedByteArray,
        #[opt(default = &PackedByteArray::new())] key: PackedByteArray,
    ) -> PackedByteArray {
        if !crate::runtime::on_main_thread("WasmEngine.precompile") {
            return PackedByteArray::new();
        }
        let outcome = crate::shipped::game_key(key.as_slice()).and_then(|key| {
            let runtime = runtime::runtime_for_compile()
                .ok_or_else(|| "the WasGo runtime is not running".to_string())?;
            runtime
                .precompile(bytes.as_slice(), "module", &key)
                .map_err(|e| e.to_string())
        });
        match outcome {
            Ok(artifact) => PackedByteArray::from(artifact.as_slice()),
            Err(e) => {
                report(format!("cannot precompile: {e}"));
                PackedByteArray::new()
            }
        }
    }

    /// Loads an artifact made by [method precompile] without compiling it (see `get_stats()`'s
    /// `precompiled_loads`). It must authenticate under [param key], or when that is empty under
    /// `wasgo/runtime/precompile_key`, and come from this platform and build of WasGo; anything
    /// else (another key, a changed byte, a truncated file, WebAssembly, an artifact of another
    /// build) is refused: `null`, with [method get_last_error] saying why. [param name] names the
    /// mod (default "module"). Only load artifacts the game itself shipped: never bytes a mod or
    /// a player supplied.
    #[func]
    fn load_precompiled(
        &self,
        bytes: PackedByteArray,
        #[opt(default = "")] name: GString,
        #[opt(default = &PackedByteArray::new())] key: PackedByteArray,
    ) -> Option<Gd<WasmModule>> {
        if !crate::runtime::on_main_thread("WasmEngine.load_precompiled") {
            return None;
        }
        let name = if name.is_empty() {
            "module".to_string()
        } else {
            name.to_string()
        };
        let outcome = crate::shipped::game_key(key.as_slice()).and_then(|key| {
            let runtime = runtime::runtime_for_compile()
                .ok_or_else(|| "the WasGo runtime is not running".to_string())?;
            runtime
                .load_precompiled(bytes.as_slice(), &name, &key)
                .map_err(|e| e.to_string())
        });
        match outcome {
            Ok(compiled) => Some(WasmModule::from_compiled(compiled, &name, "")),
            Err(e) => {
                report(if e.starts_with("cannot load precompiled") {
                    e
                } else {
                    format!("cannot load precompiled `{name}`: {e}")
                });
                None
            }
        }
    }

    /// Exposes a game function to mods as the import [param module].[param name]. Parameter and
    /// result types are "i32", "i64", "f32", "f64" and "string" (a `(ptr, len)` pair in; as the
    /// only result, an extra `(out_ptr, out_cap)` pair and the full length returned). The function
    /// is exposed from safety [param level] up and is an error stub below it. The reserved module
    /// names `wasgo` and `wasi_*` are refused. Registering the same name again replaces it, also
    /// for mods already running: with the same types and level they call the new Callable, with
    /// others a call traps as after [method unregister_function].
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
        if !crate::runtime::on_main_thread("WasmEngine.register_function") {
            return godot::global::Error::ERR_UNAVAILABLE;
        }
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
        let previous = runtime.games().get(&module.to_string(), &name.to_string());
        match runtime.games().register(
            &module.to_string(),
            &name.to_string(),
            &to_vec(&params),
            &to_vec(&results),
            level,
        ) {
            Ok(f) => {
                game_calls::insert(&f, previous.as_deref(), callable);
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
        if !crate::runtime::on_main_thread("WasmEngine.unregister_function") {
            return;
        }
        if let Some(runtime) = runtime() {
            if let Some(f) = runtime.games().get(&module.to_string(), &name.to_string()) {
                game_calls::remove(&f);
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
    /// binding `wasgo` is WasGo's own (the Godot API for waPC mods) and is refused; the binding
    /// and the namespace may be empty (a guest that uses no bindings passes an empty one), the
    /// operation may not. Registering the same operation again replaces it.
    #[func]
    fn register_wapc_handler(
        &self,
        binding: GString,
        namespace: GString,
        operation: GString,
        callable: Callable,
        #[opt(default = 1)] level: i64,
    ) -> godot::global::Error {
        if !crate::runtime::on_main_thread("WasmEngine.register_wapc_handler") {
            return godot::global::Error::ERR_UNAVAILABLE;
        }
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
        if !crate::runtime::on_main_thread("WasmEngine.unregister_wapc_handler") {
            return false;
        }
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
    /// added: such a name, and a class Godot does not have, are warned about. Returns
    /// `ERR_INVALID_PARAMETER` for an unknown kind.
    #[func]
    fn extend_allowlist(
        &self,
        class: GString,
        kind: GString,
        names: PackedStringArray,
    ) -> godot::global::Error {
        if !crate::runtime::on_main_thread("WasmEngine.extend_allowlist") {
            return godot::global::Error::ERR_UNAVAILABLE;
        }
        let names: Vec<String> = names.as_slice().iter().map(|s| s.to_string()).collect();
        let kind = kind.to_string();
        // What cannot take effect is said, not silently kept: a member no allowlist opens, a
        // class Godot does not have (a typo such as `Sprite2d`).
        let warn_closed = |class: &str, kind: Option<wasgo_core::allowlist::MemberKind>| {
            for name in &names {
                if let Some(reason) = wasgo_core::allowlist::never_opened(class, kind, name) {
                    godot_warn!("WasGo: extend_allowlist: {reason}");
                }
            }
        };
        if kind == "singletons" {
            warn_closed("", None);
            crate::objects::extend_allowlist("", None, names);
            return godot::global::Error::OK;
        }
        match wasgo_core::allowlist::MemberKind::parse(&kind) {
            Some(k) => {
                let class = class.to_string();
                if !godot::classes::ClassDb::singleton().class_exists(&class) {
                    godot_warn!("WasGo: extend_allowlist: there is no Godot class `{class}` (names are matched against an object's engine classes, e.g. `Sprite2D`); nothing it lists reaches a mod");
                }
                warn_closed(&class, Some(k));
                crate::objects::extend_allowlist(&class, Some(k), names);
                godot::global::Error::OK
            }
            None => {
                report(format!("extend_allowlist: `{kind}` is not \"methods\", \"properties\", \"signals\" or \"singletons\""));
                godot::global::Error::ERR_INVALID_PARAMETER
            }
        }
    }

    /// Kills every mod instance (running or living on callbacks); each emits `killed`. A start
    /// waiting for its module's compile ([constant WasmScript.STATUS_LOADING]) is cancelled, as
    /// by [method WasmScript.kill], and the mods [method start_mods] has yet to start are not
    /// started. A mod stopped this way is not restarted by a change of its
    /// file, and a node in the middle of
    /// a reload (this called from a handler of the `killed` its reload emits) stays stopped:
    /// its reload is cancelled.
    #[func]
    fn kill_all(&self) {
        if !crate::runtime::on_main_thread("WasmEngine.kill_all") {
            return;
        }
        const REASON: &str = "killed by WasmEngine.kill_all()";
        // The mods `start_mods` has yet to start stay stopped.
        KILL_ALLS.with(|k| k.set(k.get() + 1));
        live::kill_all(REASON);
        // A mod whose `init` runs now (game code it called asked for this) is in no live list
        // yet: it is killed once its `init` returns, like a `kill()` of its own node from there.
        for core in crate::cores::all() {
            core.kill_if_in_init(REASON);
            // A node waiting for its module's compile (a `start()`, `start_mods`) or owed a
            // start by a changed file started anyway once the compile ended.
            core.kill_if_starting(REASON);
        }
    }

    /// Counters: `modules` (compiled modules in the cache), `instances` (live instances),
    /// `running` (`main`s running), `workers` (worker threads alive), `traps`, `kills`,
    /// `cache_hits` (module requests answered without compiling: from memory, the disk cache or
    /// another request's compile), `compiles` (modules compiled by Cranelift),
    /// `precompiled_loads` (modules loaded from the game's precompiled artifacts, not compiled),
    /// `cache_rejects` (disk cache files that failed authentication and were deleted and
    /// recompiled), `compiling` (compiles running in the background now, also ones whose request
    /// timed out), `compiler` (whether this build can compile: false in a library built without
    /// the `compiler` feature), `live_scripts` (the `WasmScript` nodes with a live instance,
    /// whether or not it exports frame callbacks; a freed node or an ended mod leaves at once), `mode`
    /// (`"compiled"` or `"interpreter"`: how mods' code runs, chosen by `wasgo/runtime/mode` when
    /// the extension started), `instance_pool_slots` (the slots of the instance pool,
    /// `wasgo/runtime/instance_pool_size`; 0 without one), and `main_share_waits` (times a mod's
    /// `main` was made to wait because its calls into Godot took more than its share, 30%, of
    /// the main thread).
    #[func]
    fn get_stats(&self) -> VarDictionary {
        if !crate::runtime::on_main_thread("WasmEngine.get_stats") {
            return VarDictionary::new();
        }
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
            "compiles" => s.compiles as i64,
            "precompiled_loads" => s.precompiled_loads as i64,
            "cache_rejects" => s.cache_rejects as i64,
            "compiling" => s.compiling as i64,
            "compiler" => cfg!(feature = "compiler"),
            "live_scripts" => live::count() as i64,
            "mode" => runtime.execution_mode().name(),
            "instance_pool_slots" => runtime.instance_pool().map_or(0, |p| p.slots as i64),
            "main_share_waits" => s.main_share_waits as i64,
        }
    }

    /// What the WasGo project setting [param setting] (e.g. `"wasgo/safety/level"`) means, as the
    /// editor shows it in Project Settings; an empty string for a name WasGo does not register.
    #[func]
    fn get_setting_description(&self, setting: GString) -> GString {
        GString::from(crate::settings_help::description(&setting.to_string()).unwrap_or(""))
    }

    /// Lists the mods in [param dir] (default `user://mods`) without running any of their code:
    /// one Dictionary per `.wasm` file directly in it or per folder `name/` holding
    /// `name/name.wasm`, in load order (see [method set_mod_order]), with `id` (the name the
    /// enabled list, load order, saved permissions and sandbox use), `path`, `folder` (bool),
    /// `sandbox` (`user://mods/<id>-files/` for a folder mod, `user://mods/<id>/` for a single
    /// file: where it may write at level 2), `size`, `sha256` (also as `hash`),
    /// `guest_kind`, `manifest` (as [method WasmModule.get_manifest] gives it), `level` (the one
    /// its manifest asks for, 0 for none), `problems` (a PackedStringArray: a broken file, a file
    /// over `wasgo/limits/module_mb` (never read), a symbolic link (never followed), a newer
    /// ABI, a malformed manifest, a level or permissions above the game's, an id or sandbox
    /// another mod has), `startable` (false when a problem stops it: all but a malformed
    /// manifest and claims above the level) and `enabled`. Sandbox folders WasGo made are never
    /// listed, so nothing a mod writes becomes a mod. Each module is compiled (and cached) to
    /// check it. Returns an empty Array on failure, see [method get_last_error].
    #[func]
    fn scan_mods(&self, #[opt(default = "user://mods")] dir: GString
    ) -> Array<VarDictionary> {
        if !crate::runtime::on_main_thread("WasmEngine.scan_mods") {
            return Array::new();
        }
        match crate::mods_folder::scan(&dir.to_string()) {
            Ok(found) => found
                .iter()
                .map(|(m, enabled)| crate::mods_folder::to_dictionary(m, *enabled))
                .collect(),
            Err(e) => {
                report(format!("scan_mods: {e}"));
                Array::new()
            }
        }
    }

    /// Enables or disables the mod [param id] (as [method scan_mods] lists it), saved in
    /// `user://wasgo/mods.cfg` (written atomically). A mod never enabled or disabled follows the
    /// project setting `wasgo/mods/enable_new` (default false: a mod a player drops in waits
    /// until the game enables it). Returns `ERR_INVALID_PARAMETER` for an id that is not one.
    #[func]
    fn set_mod_enabled(&self, id: GString, enabled: bool) -> godot::global::Error {
        if !crate::runtime::on_main_thread("WasmEngine.set_mod_enabled") {
            return godot::global::Error::ERR_UNAVAILABLE;
        }
        match crate::mods_folder::set_enabled(&id.to_string(), enabled) {
            Ok(()) => godot::global::Error::OK,
            Err(e) => {
                report(format!("set_mod_enabled: {e}"));
                godot::global::Error::ERR_INVALID_PARAMETER
            }
        }
    }

    /// Puts the mods [param ids] first in load order, in that order (saved in
    /// `user://wasgo/mods.cfg`); mods ordered before keep their order after them, and mods never
    /// ordered come last, by id. Returns `ERR_INVALID_PARAMETER` (nothing changed) when an entry
    /// is not a mod id.
    #[func]
    fn set_mod_order(&self, ids: PackedStringArray) -> godot::global::Error {
        if !crate::runtime::on_main_thread("WasmEngine.set_mod_order") {
            return godot::global::Error::ERR_UNAVAILABLE;
        }
        let ids: Vec<String> = ids.as_slice().iter().map(|s| s.to_string()).collect();
        match crate::mods_folder::set_order(&ids) {
            Ok(()) => godot::global::Error::OK,
            Err(e) => {
                report(format!("set_mod_order: {e}"));
                godot::global::Error::ERR_INVALID_PARAMETER
            }
        }
    }

    /// The saved load order (ids, first first), as [method set_mod_order] left it.
    #[func]
    fn get_mod_order(&self) -> PackedStringArray {
        if !crate::runtime::on_main_thread("WasmEngine.get_mod_order") {
            return PackedStringArray::new();
        }
        match crate::mods_folder::order() {
            Ok(ids) => ids.iter().map(|s| GString::from(s.as_str())).collect(),
            Err(e) => {
                report(format!("get_mod_order: {e}"));
                PackedStringArray::new()
            }
        }
    }

    /// Scans [param dir] (see [method scan_mods]) and adds one `WasmScript` per enabled mod
    /// that may start under [param parent], in load order, named after the mod's id and
    /// returned in that order. They start one after another in that order, the first at the
    /// end of the frame (`autostart` is off): each `start()` once the mod before it has started
    /// or failed (its module compiled first when it is not in the cache), so a mod's `init`
    /// never runs before an earlier mod's. They run at the level the game allows (the project's
    /// `wasgo/safety/level`), or at the lower level their manifest asks for. Enabled mods that
    /// cannot start are skipped with a warning.
    #[func]
    fn start_mods(
        &self,
        parent: Option<Gd<Node>>,
        #[opt(default = "user://mods")] dir: GString,
    ) -> Array<Gd<crate::script::WasmScript>> {
        if !crate::runtime::on_main_thread("WasmEngine.start_mods") {
            return Array::new();
        }
        // `$Mods` when the scene has no such node is null: an error that says so, not a crash
        // of the caller's function.
        let Some(mut parent) = parent else {
            report(
                "start_mods: the parent node is null; pass the node the mods' `WasmScript`s go \
                 under (does the path you gave exist?)"
                    .into(),
            );
            return Array::new();
        };
        match crate::mods_folder::to_start(&dir.to_string()) {
            Ok(mods) => {
                let nodes: Array<Gd<crate::script::WasmScript>> = mods
                    .into_iter()
                    .map(|m| {
                        let mut node = crate::script::WasmScript::new_alloc();
                        node.set_name(m.id.as_str());
                        node.set("wasm_file", &m.path.to_variant());
                        node.set("safety_level", &m.level.to_variant());
                        node.set("autostart", &false.to_variant());
                        add_child_now_or_deferred(&mut parent, node.clone().upcast());
                        node
                    })
                    .collect();
                // Started once this call has returned (no engine borrow is held while a mod
                // runs), one after another in load order: each `start()` once the mod before
                // it has started or failed. Started all at once, each mod began when its own
                // background compile ended, so a later mod could run its `init` first.
                let ids: std::rc::Rc<[InstanceId]> =
                    nodes.iter_shared().map(|n| n.instance_id()).collect();
                let chain = KILL_ALLS.with(std::cell::Cell::get);
                Callable::from_fn("wasgo_start_mods", move |_| {
                    start_in_order(ids.clone(), 0, chain);
                })
                .call_deferred(&[]);
                nodes
            }
            Err(e) => {
                report(format!("start_mods: {e}"));
                Array::new()
            }
        }
    }

    /// The message of the last failed `WasmEngine` call.
    #[func]
    fn get_last_error(&self) -> GString {
        if !crate::runtime::on_main_thread("WasmEngine.get_last_error") {
            return GString::new();
        }
        GString::from(runtime::last_error_text().as_str())
    }
}

/// Adds `child` (a new node) under `parent`; while the parent is busy setting up its children
/// (`start_mods` called from an autoload's or a child's `_ready`), where Godot refuses
/// `add_child` with an error, at the end of the frame instead, before the mods start (their
/// chain is deferred after it). Left out of the tree, the nodes started outside it and leaked.
fn add_child_now_or_deferred(parent: &mut Gd<Node>, child: Gd<Node>) {
    // Godot's refusal is the only way to learn the parent is busy; it is not printed (a game
    // calling `start_mods` from `_ready` did nothing wrong).
    let mut engine = godot::classes::Engine::singleton();
    let printing = engine.is_printing_error_messages();
    engine.set_print_error_messages(false);
    parent.add_child(&child);
    engine.set_print_error_messages(printing);
    if child.get_parent().as_ref() != Some(&*parent) {
        parent.call_deferred("add_child", &[child.to_variant()]);
    }
}

/// Starts the nodes `ids[from..]` (of `start_mods`) in order: each with `start()`, the next once
/// it is no longer loading (its background compile ended and it started or failed: checked at
/// each frame's start). A node the game freed or that is gone is passed over; one the game
/// started meanwhile is not started again (`start()` of a live mod only reports `OK`).
///
/// `kill_all()` ends the chain (the mods after the one it stopped are not started), and a node
/// the game killed before its turn is passed over.
fn start_in_order(ids: std::rc::Rc<[InstanceId]>, from: usize, chain: u64) {
    for (i, id) in ids.iter().enumerate().skip(from) {
        // Before each start: game code an earlier start ran (a `trapped` or `started` handler,
        // a game function its `init` called) may have called `kill_all()`.
        if KILL_ALLS.with(std::cell::Cell::get) != chain {
            return;
        }
        let Ok(node) = Gd::<crate::script::WasmScript>::try_from_instance_id(*id) else {
            continue;
        };
        let core = crate::script::WasmScript::core_of(&node);
        if core.killed_by_game.get() {
            continue;
        }
        node.upcast::<Node>().call("start", &[]);
        // Game code `start()` ran may have freed the node: looked up again.
        if is_loading(*id) {
            wait_for_load(ids, i, chain);
            return;
        }
    }
}

thread_local! {
    /// How many times `kill_all()` ran: a `start_mods` chain begun before the last one stops.
    static KILL_ALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether the `start_mods` node `id` (still there) is loading its module.
fn is_loading(id: InstanceId) -> bool {
    Gd::<crate::script::WasmScript>::try_from_instance_id(id)
        .is_ok_and(|node| crate::script::WasmScript::core_of(&node).is_loading())
}

/// Goes on with [`start_in_order`] after node `ids[i]` once it is no longer loading.
fn wait_for_load(ids: std::rc::Rc<[InstanceId]>, i: usize, chain: u64) {
    crate::next_frame::at_next_frame("wasgo_start_mods_next", move || {
        if is_loading(ids[i]) {
            wait_for_load(ids.clone(), i, chain);
        } else {
            start_in_order(ids.clone(), i + 1, chain);
        }
    });
}
