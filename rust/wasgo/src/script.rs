//! The `WasmScript` node: runs one mod in the scene.

use crate::convert;
use crate::engine::{self, runtime};
use crate::live;
use crate::module_res::WasmModule;
use crate::objects;
use crate::permissions;
use crate::settings;
use godot::classes::{Engine, INode, Node};
use godot::global::Error;
use godot::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use wasgo_core::{
    InstanceConfig, InstanceKey, Limits, ModEvent, ModInstance, ModStatus, Permission, Permissions,
    SafetyLevel, Val, WasgoError, WasiDirs,
};

/// Runs a WebAssembly mod in the scene.
///
/// Point [member wasm_file] (or [member module]) at a `.wasm` file. When the node is ready (with
/// [member autostart]) or when [method start] is called, the mod is instantiated at the node's
/// safety level: its imports are linked to the engine functions that level exposes, everything
/// else to error stubs that trap only when called. Its `init` export runs at once, `ready` once
/// the node is ready, and `main` (or WASI `_start`) on a worker thread that [method kill] stops
/// within milliseconds. While `main` is not running, the exports `process(delta)` and
/// `physics_process(delta)` run every frame on the main thread under the callback budget
/// (`wasgo/limits/callback_budget_ms`). Every signal is emitted on the main thread.
#[derive(GodotClass)]
#[class(base = Node, init)]
pub struct WasmScript {
    /// The `.wasm` file to run (`res://` or `user://`). Ignored when [member module] is set.
    #[export(file = "*.wasm")]
    wasm_file: GString,
    /// The compiled module to run; takes precedence over [member wasm_file].
    #[export]
    module: Option<Gd<WasmModule>>,
    /// 0 uses the project setting `wasgo/safety/level`; 1 Safe, 2 Safe with wrappers, 3 Unsafe.
    /// A node never runs above the project setting: a higher value is clamped, with a warning.
    #[export(enum = (ProjectSetting = 0, Safe = 1, SafeWithWrappers = 2, Unsafe = 3))]
    safety_level: i64,
    /// Instantiate and run `main` when the node is ready.
    #[export]
    #[init(val = true)]
    autostart: bool,
    /// `main`'s arguments (WASI `args_get` sees the mod's name first, then these).
    #[export]
    args: PackedStringArray,
    /// Linear memory cap in MiB; 0 uses `wasgo/limits/memory_mb`.
    #[export(range = (0.0, 4096.0, 1.0, or_greater, suffix = "MiB"))]
    memory_limit_mb: i64,
    /// How long `main` may run, in ms; 0 uses `wasgo/limits/main_timeout_ms` (whose 0 means no
    /// limit).
    #[export(range = (0.0, 3600000.0, 1.0, or_greater, suffix = "ms"))]
    main_timeout_ms: i64,

    instance: Option<ModInstance>,
    /// The current instance's key in the object tables.
    key: Option<InstanceKey>,
    /// STATUS_* before any instance exists, or after it is gone.
    idle_status: i64,
    /// Whether the current instance's `ready` export has run.
    ready_called: bool,
    last_error: String,
    #[init(val = Permissions::new())]
    permissions: Arc<Permissions>,
    /// Grants given before the mod's id was known (no module set yet); saved at `start()`.
    unsaved_grants: Vec<String>,
    /// Kinds WasGo's own permission dialog is asking the player about now.
    asking: Vec<String>,
    /// Kinds denied for this run of the mod (the player said no, or nobody could be asked).
    denied: Vec<String>,
    base: Base<Node>,
}

#[godot_api]
impl INode for WasmScript {
    fn ready(&mut self) {
        if Engine::singleton().is_editor_hint() {
            return;
        }
        if self.autostart {
            // Errors are reported by start() itself.
            let _ = self.start();
        } else {
            self.call_ready_export();
        }
    }

    fn process(&mut self, delta: f64) {
        self.frame_callback("process", delta);
    }

    fn physics_process(&mut self, delta: f64) {
        self.frame_callback("physics_process", delta);
    }
}

#[godot_api]
impl WasmScript {
    /// No instance yet (or it was discarded).
    #[constant]
    const STATUS_IDLE: i64 = 0;
    /// The instance is alive: `main` runs, or the mod lives on its callbacks.
    #[constant]
    const STATUS_RUNNING: i64 = 1;
    /// `main` returned (callbacks go on unless the mod called `exit`).
    #[constant]
    const STATUS_FINISHED: i64 = 2;
    /// The instance trapped and has ended.
    #[constant]
    const STATUS_TRAPPED: i64 = 3;
    /// The instance was killed and has ended.
    #[constant]
    const STATUS_KILLED: i64 = 4;

    /// `main` began running (emitted by [method start]).
    #[signal]
    fn started();
    /// `main` returned [param exit_code] (or the mod called WASI `proc_exit`).
    #[signal]
    fn finished(exit_code: i64);
    /// The mod trapped; [param message] gives the reason and the mod's wasm backtrace.
    #[signal]
    fn trapped(message: GString);
    /// The mod was killed ([method kill], `WasmEngine.kill_all()`, or a timeout).
    #[signal]
    fn killed(reason: GString);
    /// One line the mod wrote with `wasgo.log` or to WASI stdout/stderr.
    #[signal]
    fn output(text: GString);
    /// The mod called [param function], which is not exposed at safety [param level] (or does not
    /// exist); it traps right after.
    #[signal]
    fn unexposed_call(function: GString, level: i64);
    /// The mod emitted an event with `wasgo.emit`.
    #[signal]
    fn mod_event(name: GString, payload: Variant);
    /// The mod asked for a permission ([param kind] is `files` or `network`); answer with
    /// [method grant_permission]. While a request of one kind waits to be delivered, the mod's
    /// further requests of that kind are not queued again. When nothing is connected to this
    /// signal, WasGo asks the player itself with a dialog naming the mod and the power; in a
    /// headless run there is no one to ask and the request is denied (unless the kind is in
    /// `wasgo/safety/auto_grant`).
    #[signal]
    fn permission_requested(kind: GString, detail: GString);

    /// Instantiates the mod if needed and runs its `main` on a worker thread. A mod without
    /// `main` lives on its callbacks. Returns `OK`, or an error with [method get_last_error] set:
    /// `ERR_BUSY` while `main` runs, `ERR_CANT_OPEN` when there is no module, `ERR_CANT_CREATE`
    /// when it cannot be instantiated or its `init` traps.
    #[func]
    pub fn start(&mut self) -> Error {
        if let Some(instance) = &self.instance {
            match instance.status() {
                ModStatus::RunningMain => {
                    return self.fail(
                        Error::ERR_BUSY,
                        format!("`{}` is already running its `main`", instance.name()),
                    )
                }
                ModStatus::Alive if instance.main_kind().is_some() => return self.run_main(),
                // A callback-only mod that is alive is already started.
                ModStatus::Alive => return Error::OK,
                _ => {}
            }
        }
        // A fresh instance: drop the old one (its events are delivered first).
        self.pump();
        self.drop_instance();
        self.denied.clear();
        let Some(module) = self.resolve_module() else {
            return Error::ERR_CANT_OPEN;
        };
        let (name, compiled) = {
            let m = module.bind();
            (m.mod_name(), m.compiled())
        };
        let (Some(compiled), Some(runtime)) = (compiled, runtime()) else {
            return self.fail(
                Error::ERR_CANT_OPEN,
                "the module is empty or the WasGo runtime is not running".into(),
            );
        };
        let key = runtime.next_instance_key();
        let config = self.instance_config(&name, key);
        self.ready_called = false;
        objects::register(key, self.base().instance_id());
        self.key = Some(key);
        match ModInstance::new(&runtime, &compiled, config) {
            Ok(instance) => {
                self.instance = Some(instance);
                live::add(self.base().instance_id());
            }
            Err(WasgoError::Trap(info)) => {
                self.drop_instance();
                self.idle_status = Self::STATUS_TRAPPED;
                self.last_error = info.message.clone();
                godot_error!("WasGo: {}", info.message);
                self.signals()
                    .trapped()
                    .emit(&GString::from(info.message.as_str()));
                return Error::ERR_CANT_CREATE;
            }
            Err(e) => {
                self.drop_instance();
                return self.fail(Error::ERR_CANT_CREATE, e.to_string());
            }
        }
        self.pump();
        if self.base().is_node_ready() {
            self.call_ready_export();
        }
        if self
            .instance
            .as_ref()
            .is_some_and(|i| i.main_kind().is_some() && i.status().is_live())
        {
            return self.run_main();
        }
        self.signals().started().emit();
        Error::OK
    }

    /// Ends the mod: a running `main` stops within milliseconds (also inside a host call), its
    /// thread is joined, its memory freed, and `killed` is emitted before this returns.
    #[func]
    pub fn kill(&mut self) {
        self.kill_with("killed by kill()");
    }

    /// True while the instance is alive ([constant STATUS_RUNNING]).
    #[func]
    pub fn is_running(&self) -> bool {
        self.get_status() == Self::STATUS_RUNNING
    }

    /// One of the STATUS_* constants.
    #[func]
    pub fn get_status(&self) -> i64 {
        match self.instance.as_ref().map(|i| i.status()) {
            None => self.idle_status,
            Some(ModStatus::Alive | ModStatus::RunningMain) => Self::STATUS_RUNNING,
            Some(ModStatus::Finished | ModStatus::Exited) => Self::STATUS_FINISHED,
            Some(ModStatus::Trapped) => Self::STATUS_TRAPPED,
            Some(ModStatus::Killed) => Self::STATUS_KILLED,
        }
    }

    /// Calls the mod's export [param name] on the main thread (under the callback budget) with
    /// numbers from [param args]; returns its result (`null` for none, an Array for several).
    /// While `main` runs the store is busy: the call fails at once with a "busy" error instead of
    /// waiting. On failure returns `null` and sets [method get_last_error]. Pass `[]` when the
    /// export takes no arguments (gdext 0.5 cannot give an Array parameter a default).
    #[func]
    pub fn call_export(&mut self, name: GString, args: VarArray) -> Variant {
        let name = name.to_string();
        let Some(instance) = self.instance.as_mut() else {
            return self.fail_value(format!(
                "cannot call `{name}`: the mod is not started (call start() first)"
            ));
        };
        let Some(sig) = instance.export_signature(&name) else {
            let message = format!(
                "`{}` has no exported function `{name}` with number arguments",
                instance.name()
            );
            return self.fail_value(message);
        };
        if sig.params.len() != args.len() {
            return self.fail_value(format!(
                "`{name}` takes {} arguments, {} were given",
                sig.params.len(),
                args.len()
            ));
        }
        let mut vals = Vec::with_capacity(args.len());
        for (i, (v, t)) in args.iter_shared().zip(&sig.params).enumerate() {
            match convert::variant_to_val(&v, *t) {
                Ok(val) => vals.push(val),
                Err(e) => return self.fail_value(format!("argument {} of `{name}`: {e}", i + 1)),
            }
        }
        let Some(instance) = self.instance.as_mut() else {
            return Variant::nil();
        };
        let result = instance.call(&name, &vals);
        self.pump();
        match result {
            Ok(results) => match results.len() {
                0 => Variant::nil(),
                1 => convert::val_to_variant(&results[0]),
                _ => results
                    .iter()
                    .map(convert::val_to_variant)
                    .collect::<VarArray>()
                    .to_variant(),
            },
            // A trap was reported (printed, `trapped` emitted) by pump() already.
            Err(WasgoError::Trap(info)) => {
                self.last_error = info.message;
                Variant::nil()
            }
            Err(e) => self.fail_value(e.to_string()),
        }
    }

    /// Whether the module exports a function called [param name].
    #[func]
    pub fn has_export(&self, name: GString) -> bool {
        if let Some(i) = &self.instance {
            return i.has_export(&name.to_string());
        }
        self.module_for_inspection().is_some_and(|m| {
            m.bind().compiled().is_some_and(|c| {
                c.exports().iter().any(|e| {
                    e.name == name.to_string() && e.kind == wasgo_core::ImportKind::Function
                })
            })
        })
    }

    /// The message of the last failure of this node (a refused call, a trap).
    #[func]
    pub fn get_last_error(&self) -> GString {
        self.last_error.as_str().into()
    }

    /// Grants this mod a permission kind (`files`, `network`); it takes effect at once, also
    /// for a running instance. Level-2 functions return -6 until their permission is granted.
    /// The grant is saved under the mod's id in `user://wasgo/permissions.cfg` and applies again
    /// whenever the game starts this mod (in any node, in later runs) until
    /// [method revoke_permission].
    #[func]
    pub fn grant_permission(&mut self, kind: GString) {
        let kind = kind.to_string();
        let Some(permission) = Permission::parse(&kind) else {
            godot_warn!(
                "WasGo: `{kind}` is not a permission kind WasGo checks ({})",
                Permission::names()
            );
            return;
        };
        self.permissions.grant(permission);
        self.denied.retain(|k| *k != kind);
        match self.mod_id() {
            Some(id) => permissions::save(&id, &kind),
            None if !self.unsaved_grants.contains(&kind) => self.unsaved_grants.push(kind),
            None => {}
        }
    }

    /// Takes a permission back; it takes effect at once, and the saved grant is removed.
    /// (A kind in `wasgo/safety/auto_grant` is granted again at the next [method start].)
    #[func]
    pub fn revoke_permission(&mut self, kind: GString) {
        let kind = kind.to_string();
        if let Some(permission) = Permission::parse(&kind) {
            self.permissions.revoke(permission);
        }
        self.unsaved_grants.retain(|k| *k != kind);
        if let Some(id) = self.mod_id() {
            permissions::forget(&id, &kind);
        }
    }

    /// Kills the current instance (emitting `killed` if it was alive), reads the module again from
    /// [member wasm_file] (picking up a changed file) and starts it.
    #[func]
    pub fn reload(&mut self) -> Error {
        self.kill_with("reloading");
        self.pump();
        self.drop_instance();
        if !self.wasm_file.is_empty()
            && self
                .module
                .as_ref()
                .is_none_or(|m| !m.bind().get_source_path().is_empty())
        {
            // Re-read the file: a changed file has a new hash and compiles anew.
            let path = if let Some(m) = &self.module {
                m.bind().get_source_path()
            } else {
                self.wasm_file.clone()
            };
            match engine::read_file(&path.to_string()) {
                Ok(bytes) => match engine::compile_to_resource(
                    &bytes,
                    &engine::name_from_path(&path.to_string()),
                    &path.to_string(),
                ) {
                    Some(m) => self.module = Some(m),
                    None => {
                        return self.fail(
                            Error::ERR_CANT_CREATE,
                            format!("cannot reload `{path}`: see WasmEngine.get_last_error()"),
                        )
                    }
                },
                Err(e) => return self.fail(Error::ERR_CANT_OPEN, e),
            }
        }
        self.start()
    }
}

impl WasmScript {
    fn fail(&mut self, code: Error, message: String) -> Error {
        godot_error!("WasGo: {message}");
        self.last_error = message;
        code
    }

    fn fail_value(&mut self, message: String) -> Variant {
        self.fail(Error::FAILED, message);
        Variant::nil()
    }

    fn module_for_inspection(&self) -> Option<Gd<WasmModule>> {
        self.module.clone()
    }

    /// The module to run: [member module], else [member wasm_file] loaded through the engine.
    fn resolve_module(&mut self) -> Option<Gd<WasmModule>> {
        if let Some(m) = &self.module {
            return Some(m.clone());
        }
        if self.wasm_file.is_empty() {
            self.fail(
                Error::ERR_CANT_OPEN,
                format!(
                    "`{}` has neither `module` nor `wasm_file` set; point it at a .wasm file",
                    self.base().get_name()
                ),
            );
            return None;
        }
        let path = self.wasm_file.to_string();
        let loaded = match engine::read_file(&path) {
            Ok(bytes) => engine::compile_to_resource(&bytes, &engine::name_from_path(&path), &path),
            Err(e) => {
                self.fail(Error::ERR_CANT_OPEN, e);
                return None;
            }
        };
        if loaded.is_none() {
            self.last_error = engine::WasmEngine::last_error_text();
        }
        loaded
    }

    fn instance_config(&mut self, name: &str, key: InstanceKey) -> InstanceConfig {
        let ceiling = settings::level_ceiling();
        let (level, clamped) = SafetyLevel::resolve(self.safety_level, ceiling);
        if clamped {
            godot_warn!(
                "WasGo: `{}` asks for safety level {}, but the project allows at most {} (`{}`); running at {}",
                self.base().get_name(),
                self.safety_level,
                ceiling,
                settings::LEVEL,
                level
            );
        }
        let memory_mb = if self.memory_limit_mb > 0 {
            self.memory_limit_mb
        } else {
            settings::positive(settings::MEMORY_MB, 64)
        };
        let timeout_ms = if self.main_timeout_ms > 0 {
            self.main_timeout_ms
        } else {
            settings::int(settings::MAIN_TIMEOUT_MS, 0).max(0)
        };
        let budget_ms = settings::positive(settings::CALLBACK_BUDGET_MS, 50);
        let storage_mb = settings::positive(settings::STORAGE_MB, 16);
        let network = settings::network();
        // The mod's grants: what was saved for its id, plus the project's auto-granted kinds.
        let mod_id = wasgo_core::grants::mod_id(name);
        for kind in std::mem::take(&mut self.unsaved_grants) {
            permissions::save(&mod_id, &kind);
        }
        let mut granted = permissions::saved(&mod_id);
        granted.extend(settings::strings(settings::AUTO_GRANT));
        self.permissions
            .replace(granted.iter().filter_map(|k| Permission::parse(k)));
        InstanceConfig {
            name: name.to_string(),
            level,
            limits: Limits {
                memory_bytes: (memory_mb as usize) << 20,
                callback_budget: Duration::from_millis(budget_ms as u64),
                main_timeout: (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms as u64)),
                storage_bytes: (storage_mb as u64) << 20,
                ..Limits::default()
            },
            permissions: self.permissions.clone(),
            key,
            network,
            args: self.args.as_slice().iter().map(|s| s.to_string()).collect(),
            dirs: WasiDirs {
                sandbox: Some(settings::globalize(&format!("user://mods/{mod_id}")).into()),
                res: Some(settings::globalize("res://").into()),
                user: Some(settings::globalize("user://").into()),
            },
        }
    }

    fn run_main(&mut self) -> Error {
        let Some(instance) = self.instance.as_mut() else {
            return Error::ERR_UNCONFIGURED;
        };
        match instance.start_main() {
            Ok(_) => {
                self.signals().started().emit();
                Error::OK
            }
            Err(WasgoError::Busy { name }) => self.fail(
                Error::ERR_BUSY,
                format!("`{name}` is already running its `main`"),
            ),
            Err(e) => self.fail(Error::ERR_CANT_CREATE, e.to_string()),
        }
    }

    fn call_ready_export(&mut self) {
        if self.ready_called {
            return;
        }
        let Some(instance) = self.instance.as_mut() else {
            return;
        };
        if !instance.status().is_live() {
            return;
        }
        self.ready_called = true;
        if instance.has_export("ready") {
            if let Err(e) = instance.call("ready", &[]) {
                self.last_error = e.to_string();
            }
            self.pump();
        }
    }

    fn frame_callback(&mut self, export: &str, delta: f64) {
        let Some(instance) = self.instance.as_mut() else {
            return;
        };
        if !instance.status().is_live()
            || instance.is_main_running()
            || !instance.has_export(export)
        {
            return;
        }
        if let Err(e) = instance.call(export, &[Val::F64(delta.to_bits())]) {
            self.last_error = e.to_string();
        }
        self.pump();
    }

    /// Kills the instance with `reason` and delivers `killed` now.
    pub fn kill_with(&mut self, reason: &str) {
        if let Some(instance) = self.instance.as_mut() {
            instance.kill(reason);
        }
        self.pump();
    }

    /// Delivers the instance's pending events as signals, then what its outbox holds.
    pub fn pump(&mut self) {
        let ended = self.emit_events();
        self.deliver_outbox();
        self.deliver_http_responses();
        if ended
            && self
                .instance
                .as_ref()
                .is_some_and(|i| !i.status().is_live())
        {
            live::remove(self.base().instance_id());
            if let Some(key) = self.key.take() {
                objects::unregister(key);
            }
        }
    }

    /// Emits the core's events as signals; returns whether the instance has ended.
    fn emit_events(&mut self) -> bool {
        let Some(instance) = self.instance.as_mut() else {
            return false;
        };
        instance.reap_worker();
        let events = instance.drain_events();
        let name = instance.name().to_string();
        let ended = !instance.status().is_live();
        let echo = !events.is_empty() && settings::boolean(settings::PRINT_OUTPUT, true);
        for event in events {
            match event {
                ModEvent::Output { source, text } => {
                    if echo {
                        match source {
                            wasgo_core::OutputSource::Log(3) => godot_error!("[{name}] {text}"),
                            wasgo_core::OutputSource::Log(2) => godot_warn!("[{name}] {text}"),
                            _ => godot_print!("[{name}] {text}"),
                        }
                    }
                    self.signals().output().emit(&GString::from(text.as_str()));
                }
                ModEvent::UnexposedCall { function, level } => {
                    self.signals()
                        .unexposed_call()
                        .emit(&GString::from(function.as_str()), level.number() as i64);
                }
                ModEvent::Finished { exit_code } => {
                    self.signals().finished().emit(exit_code as i64);
                }
                ModEvent::Trapped { message } => {
                    godot_error!("WasGo: {message}");
                    self.last_error = message.clone();
                    self.signals()
                        .trapped()
                        .emit(&GString::from(message.as_str()));
                }
                ModEvent::Killed { reason } => {
                    self.signals()
                        .killed()
                        .emit(&GString::from(reason.as_str()));
                }
                ModEvent::LinkWarning {
                    function: _,
                    message,
                } => {
                    godot_warn!("WasGo: `{name}`: {message}");
                }
                ModEvent::BudgetWarning {
                    export,
                    cpu_ms,
                    wall_ms,
                    budget_ms,
                    strikes,
                } => {
                    godot_warn!("WasGo: `{name}`.`{export}` overran its callback budget of {budget_ms} ms ({cpu_ms} ms of CPU time, {wall_ms} ms on the wall clock; overrun {strikes}); it was let finish, a later overrun traps");
                }
                ModEvent::PermissionRequested { kind, detail } => {
                    self.permissions.request_delivered(kind);
                    let kind = kind.name().to_string();
                    let handled = !self
                        .base()
                        .get_signal_connection_list("permission_requested")
                        .is_empty();
                    self.signals().permission_requested().emit(
                        &GString::from(kind.as_str()),
                        &GString::from(detail.as_str()),
                    );
                    if !handled
                        && !Permission::parse(&kind).is_some_and(|p| self.permissions.has(p))
                    {
                        self.ask_player(&name, &kind);
                    }
                }
            }
        }
        ended
    }

    /// Delivers signals that fired for the mod (to its `native_callback` export) and its
    /// `mod_event`s. Callbacks wait while `main` holds the instance.
    fn deliver_outbox(&mut self) {
        let Some(key) = self.key else { return };
        // Callbacks can fire more signals; a bounded number of rounds keeps a ping-pong finite.
        for _ in 0..16 {
            let mut outbox = objects::take_outbox(key);
            for (name, payload) in outbox.mod_events.drain(..) {
                self.signals().mod_event().emit(&name, &payload);
            }
            if outbox.callbacks.is_empty() {
                return;
            }
            let Some(instance) = self.instance.as_mut() else {
                return;
            };
            if !instance.status().is_live() || !instance.has_export("native_callback") {
                return;
            }
            if instance.is_main_running() {
                objects::requeue_callbacks(key, outbox.callbacks);
                return;
            }
            while let Some((id, args)) = outbox.callbacks.pop_front() {
                objects::set_callback_args(key, args);
                let Some(instance) = self.instance.as_mut() else {
                    return;
                };
                let result = instance.call("native_callback", &[Val::I32(id)]);
                objects::set_callback_args(key, Vec::new());
                self.emit_events();
                if let Err(e) = result {
                    self.last_error = e.to_string();
                    return;
                }
            }
        }
    }

    /// Drops the instance (killing it if alive, without a signal) and its object table.
    fn drop_instance(&mut self) {
        if self.instance.take().is_some() {
            live::remove(self.base().instance_id());
        }
        if let Some(key) = self.key.take() {
            objects::unregister(key);
        }
    }
}

/// Permissions and HTTP answers (level 2).
impl WasmScript {
    /// The id of the mod this node runs (see `wasgo_core::grants::mod_id`): from [member module]'s
    /// name, else from [member wasm_file]'s file name; `None` when neither is set.
    fn mod_id(&self) -> Option<String> {
        let name = match &self.module {
            Some(m) => m.bind().mod_name(),
            None if !self.wasm_file.is_empty() => {
                engine::name_from_path(&self.wasm_file.to_string())
            }
            None => return None,
        };
        Some(wasgo_core::grants::mod_id(&name))
    }

    /// Nothing handles `permission_requested`: ask the player with WasGo's own dialog, or deny
    /// when there is no display.
    fn ask_player(&mut self, mod_name: &str, kind: &str) {
        if self.asking.iter().chain(&self.denied).any(|k| k == kind) {
            return;
        }
        if !permissions::has_display() {
            godot_warn!(
                "WasGo: `{mod_name}` asks for the `{kind}` permission, but nothing is connected to `permission_requested` and this run has no display to ask the player on, so it is denied (grant it with grant_permission() or `{}`)",
                settings::AUTO_GRANT
            );
            self.denied.push(kind.to_string());
            return;
        }
        let id = self
            .mod_id()
            .unwrap_or_else(|| wasgo_core::grants::mod_id(mod_name));
        let mut dialog = permissions::dialog(self.base().instance_id(), &id, kind);
        self.asking.push(kind.to_string());
        // A child of the node: it goes when the node goes.
        self.base_mut().add_child(&dialog);
        dialog.popup_centered();
    }

    /// The player answered WasGo's permission dialog.
    pub(crate) fn answer_permission_dialog(&mut self, kind: &str, allowed: bool) {
        self.asking.retain(|k| k != kind);
        if allowed {
            self.grant_permission(kind.into());
        } else if !self.denied.iter().any(|k| k == kind) {
            self.denied.push(kind.to_string());
        }
    }

    /// Calls the mod's `http_response(id, status)` for each finished request (they wait while
    /// `main` holds the instance; without the export, the mod polls `http_body`).
    fn deliver_http_responses(&mut self) {
        let Some(instance) = self.instance.as_mut() else {
            return;
        };
        let pending = instance.take_http_responses();
        if pending.is_empty()
            || !instance.status().is_live()
            || !instance.has_export("http_response")
        {
            return;
        }
        if instance.is_main_running() {
            instance.requeue_http_responses(pending);
            return;
        }
        for (id, status) in pending {
            let Some(instance) = self.instance.as_mut() else {
                return;
            };
            let result = instance.call("http_response", &[Val::I32(id), Val::I32(status)]);
            self.emit_events();
            if let Err(e) = result {
                self.last_error = e.to_string();
                return;
            }
        }
    }
}

impl Drop for WasmScript {
    fn drop(&mut self) {
        // Dropping the instance kills it and joins its worker; no signal can be emitted any more.
        self.instance.take();
        if let Some(key) = self.key.take() {
            objects::unregister(key);
        }
    }
}
