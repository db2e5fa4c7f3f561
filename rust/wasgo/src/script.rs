//! The `WasmScript` node: runs one mod in the scene.
//!
//! This file holds only the class: its exported properties and its methods, each of which
//! copies what it needs out of the node and hands over to the node's [`ScriptCore`]
//! (`script_core.rs`). Every method that can run the mod or emit one of the node's signals is
//! `#[func(gd_self)]`, so no gdext borrow of the node is held while the mod runs: that is what
//! lets a game function, a setter or a signal handler free the node, kill it or call into it
//! again (the invariant is stated in `script_core.rs`). For the same reason the node overrides
//! no frame virtual: `process`, `physics_process` and `ready` reach the mod through Callables
//! (`live.rs`, [`WasmScript::enter_tree`]).

use crate::compiles;
use crate::convert;
use crate::file_checks;
use crate::module_res::{self, WasmModule};
use crate::runtime;
use crate::script_core::{
    status, NodeHooks, NodeProps, Resolution, ResolvedModule, ScriptCore, ScriptProps,
};
use godot::classes::{Engine, INode, InputEvent, Node, Resource};
use godot::global::Error;
use godot::prelude::*;
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// The Array of arguments of [`WasmScript::call_export`], as a type that can have a default:
/// the contract writes `call_export(name, args := [])`, and gdext 0.5 gives a default only to
/// parameters of types it knows cannot be changed through it (`GodotImmutable`), which an
/// untyped Array is not. It holds an [`AnyArray`] so that a typed Array (`Array[int]`) is taken
/// on every kind of call: gdext converts a dynamic call's (`callv`, a `Node`-typed variable,
/// `call_deferred`) Variant to a `VarArray` only when the Array is untyped.
#[derive(Debug, Clone)]
pub struct ExportArgs(pub AnyArray);

impl GodotConvert for ExportArgs {
    type Via = AnyArray;

    fn godot_shape() -> godot::meta::shape::GodotShape {
        AnyArray::godot_shape()
    }
}

impl ToGodot for ExportArgs {
    // By reference, as an Array is passed (gdext's defaults need it); the type is not exported
    // by name.
    type Pass = <VarArray as ToGodot>::Pass;

    fn to_godot(&self) -> godot::meta::ToArg<'_, AnyArray, Self::Pass> {
        &self.0
    }
}

impl FromGodot for ExportArgs {
    fn try_from_godot(via: AnyArray) -> Result<Self, godot::meta::error::ConvertError> {
        Ok(ExportArgs(via))
    }
}

impl Default for ExportArgs {
    fn default() -> Self {
        ExportArgs(VarArray::new().upcast_any_array())
    }
}

// SAFETY: the only value gdext keeps of this type is the default, an empty Array made read-only
// by `into_runtime_immutable`: a call that gets it cannot change it (Godot refuses writes to a
// read-only Array), and a read-only Array's clones share nothing writable, so the default is the
// same for every call on any thread.
unsafe impl godot::meta::GodotImmutable for ExportArgs {
    fn into_runtime_immutable(self) -> Self {
        match self.0.try_cast_var_array() {
            Ok(untyped) => ExportArgs(untyped.into_read_only().upcast_any_array()),
            // Not reached: the default is untyped. A typed Array is left as it is.
            Err(typed) => ExportArgs(typed),
        }
    }
}

/// Runs a WebAssembly mod in the scene.
///
/// Point [member wasm_file] (or [member module]) at a `.wasm` file. When the node is ready (with
/// [member autostart]) or when [method start] is called, a [member wasm_file] is compiled on a
/// background thread ([constant STATUS_LOADING], then [signal loaded]; frames keep coming), and
/// the mod is instantiated at the node's
/// safety level: its imports are linked to the engine functions that level exposes, everything
/// else to error stubs that trap only when called. Its `init` export runs at once, `ready` once
/// the node is ready, and `main` (or WASI `_start`) on a worker thread that [method kill] stops
/// within milliseconds. While `main` is not running, the exports `process(delta)` and
/// `physics_process(delta)` run every frame on the main thread under the callback budget
/// (`wasgo/limits/callback_budget_ms`). With [member process_group] set, one mod drives every node
/// of a group: its `process_node(node, delta)` runs for each of them every frame, in one call.
/// Every signal is emitted on the main thread. The node's methods work on the main thread only:
/// called from another thread they do nothing and log an error naming the method (use
/// `call_deferred`); its properties may be set from any thread until the node is ready or
/// started (a scene built on a worker thread), then only on the main thread (`set_deferred`).
///
/// In the editor the node shows configuration warnings for what would go wrong at Play: no file,
/// a missing file or one that is not WebAssembly, a level above the project's, imports its level
/// leaves as stubs or that no level provides, and exports one or two letters away from a callback WasGo
/// calls (`proces`). In the remote inspector of a running game, [member status],
/// [member last_error], [member memory_in_use] and [member frame_time_usec] show how it runs.
#[derive(GodotClass)]
#[class(base = Node, tool)]
pub struct WasmScript {
    /// The `.wasm` file to run (`res://` or `user://`). Ignored when [member module] is set.
    #[export(file = "*.wasm")]
    #[var(get = get_wasm_file, set = set_wasm_file)]
    wasm_file: PhantomVar<GString>,
    /// The compiled module to run; takes precedence over [member wasm_file].
    #[export]
    #[var(get = get_module, set = set_module)]
    module: PhantomVar<Option<Gd<WasmModule>>>,
    /// 0 uses the project setting `wasgo/safety/level`; 1 Safe, 2 Safe with wrappers, 3 Unsafe.
    /// A node never runs above the project setting: a higher value is clamped, with a warning; a
    /// number that is no level (negative, 4 and up) runs the mod at level 1, with a warning.
    #[export(enum = (ProjectSetting = 0, Safe = 1, SafeWithWrappers = 2, Unsafe = 3))]
    #[var(get = get_safety_level, set = set_safety_level)]
    safety_level: PhantomVar<i64>,
    /// Instantiate and run `main` when the node is ready.
    #[export]
    #[var(get = get_autostart, set = set_autostart)]
    autostart: PhantomVar<bool>,
    /// `main`'s arguments (WASI `args_get` sees the mod's name first, then these).
    #[export]
    #[var(get = get_args, set = set_args)]
    args: PhantomVar<PackedStringArray>,
    /// Linear memory cap in MiB; 0 uses `wasgo/limits/memory_mb`.
    #[export(range = (0.0, 4096.0, 1.0, or_greater, suffix = "MiB"))]
    #[var(get = get_memory_limit_mb, set = set_memory_limit_mb)]
    memory_limit_mb: PhantomVar<i64>,
    /// How long `main` may run, in ms; 0 uses `wasgo/limits/main_timeout_ms` (whose 0 means no
    /// limit).
    #[export(range = (0.0, 3600000.0, 1.0, or_greater, suffix = "ms"))]
    #[var(get = get_main_timeout_ms, set = set_main_timeout_ms)]
    main_timeout_ms: PhantomVar<i64>,
    /// The part of the scene tree the mod may touch at levels 1 and 2: this node and everything
    /// under it, plus the mod's own node and its subtree. Empty uses the project setting
    /// `wasgo/safety/default_reach`, whose empty default is the current scene (or this node's
    /// parent when there is no current scene). Any way a mod obtains a handle to a node outside
    /// — a path, [code]get_parent[/code], a search, a group, a method's or property's value, a
    /// signal argument — answers "not found" (-1); inside an Array or Dictionary such a node
    /// becomes null. WasGo's own UI and internal children are never inside. Level 3 reaches
    /// everything.
    #[export]
    #[var(get = get_reach, set = set_reach)]
    reach: PhantomVar<NodePath>,
    /// The batched frame path: when set, the mod's `process_node(node, delta)` export runs every
    /// frame (after its `process`) once for each node of this SceneTree group, and
    /// `physics_process_node(node, delta)` every physics tick, all in one call into the mod, so
    /// one mod drives many nodes for far less than a [WasmScript] per node. [code]node[/code] is
    /// the mod's handle for the node (the one [code]get_node[/code] gives, the same every frame);
    /// nodes outside [member reach] are skipped. It runs while this node processes and
    /// [code]main[/code] is not running; once the frame budget (`wasgo/limits/frame_budget_ms`)
    /// is spent the rest of the group waits for the next frame, which resumes where this one
    /// stopped. One callback budget covers the whole pass. A mod that exports
    /// `process_nodes(nodes_ptr, count, delta)` (`physics_process_nodes`) instead gets the
    /// handles in bulk, up to 256 per call as an i32 array in its memory, and loops over them
    /// itself: the cheapest way to drive many nodes. A mod that exports none of these is warned
    /// about once ([member last_error]). Empty (the default) turns it off.
    #[export]
    #[var(get = get_process_group, set = set_process_group)]
    process_group: StringName,

    /// Read-only: one of the STATUS_* constants (what the mod is doing now; [method is_running]
    /// asks for one of them). Read with `get_status()`; shown in the remote inspector.
    #[var(get = get_status, no_set, usage_flags = [EDITOR, READ_ONLY], hint = ENUM, hint_string = "Idle,Running,Finished,Trapped,Killed,Loading")]
    status: PhantomVar<i64>,
    /// Read-only: the message of the node's last failure (a refused call, a trap, a failed
    /// start), empty when there was none. Read with `get_last_error()`; shown in the remote
    /// inspector.
    #[var(get = get_last_error, no_set, usage_flags = [EDITOR, READ_ONLY], hint = MULTILINE_TEXT, hint_string = "")]
    last_error: PhantomVar<GString>,
    /// Read-only, for the remote inspector: the bytes of linear memory the running instance
    /// holds (what counts against `memory_limit_mb`); 0 when no instance is alive.
    #[var(get = get_memory_in_use, no_set, usage_flags = [EDITOR, READ_ONLY], hint = RANGE, hint_string = "0,1,1,or_greater,suffix:bytes")]
    memory_in_use: PhantomVar<i64>,
    /// Read-only, for the remote inspector: how many microseconds the mod's main-thread calls
    /// (`process`, `physics_process`, signal callbacks, [method call_export], ...) took in the
    /// last complete frame; 0 when it did not run then.
    #[var(get = get_frame_time_usec, no_set, usage_flags = [EDITOR, READ_ONLY], hint = RANGE, hint_string = "0,1,1,or_greater,suffix:µs")]
    frame_time_usec: PhantomVar<i64>,

    /// The node's working state; see `script_core.rs`. Dropped by hand in `Drop`: on the main
    /// thread (an `Rc`'s counts are not atomic, and the core's tables live there).
    core: ManuallyDrop<Rc<ScriptCore>>,
    base: Base<Node>,
}

#[godot_api]
impl INode for WasmScript {
    fn init(base: Base<Node>) -> Self {
        let base_node = base.to_init_gd();
        let id = base_node.instance_id();
        let script = WasmScript {
            wasm_file: PhantomVar::default(),
            module: PhantomVar::default(),
            safety_level: PhantomVar::default(),
            autostart: PhantomVar::default(),
            args: PhantomVar::default(),
            memory_limit_mb: PhantomVar::default(),
            main_timeout_ms: PhantomVar::default(),
            reach: PhantomVar::default(),
            process_group: StringName::default(),
            status: PhantomVar::default(),
            last_error: PhantomVar::default(),
            memory_in_use: PhantomVar::default(),
            frame_time_usec: PhantomVar::default(),
            core: ManuallyDrop::new(ScriptCore::new(
                id,
                NodeHooks {
                    props: script_props,
                    reload: |id| {
                        if let Ok(node) = Gd::<WasmScript>::try_from_instance_id(id) {
                            WasmScript::reload(node);
                        }
                    },
                    runs_from: WasmScript::runs_from,
                    restart: WasmScript::hot_restart,
                    group_pass: crate::script_group::run,
                },
            )),
            base,
        };
        // `ready` comes through the node's own signal, so that no gdext borrow is held while
        // the mod's `init` and `ready` run (connecting runs no game code). Connected here, not
        // in an `enter_tree` override: Godot would enter that virtual, borrowed (a futex wake as
        // the guard drops), every time the node enters the tree. A node may be made on another
        // thread and added on the main one, hence a callable any thread may hold.
        if !Engine::singleton().is_editor_hint() {
            let on_ready = Callable::from_sync_fn("wasgo_ready", move |_args: &[&Variant]| {
                if let Ok(node) = Gd::<WasmScript>::try_from_instance_id(id) {
                    WasmScript::on_ready(node);
                }
            });
            let mut base_node = base_node.clone();
            base_node.connect("ready", &on_ready);
        }
        script.core.know_node(base_node);
        crate::cores::register(id.to_i64(), &script.core);
        script
    }

    /// Passes input the game did not handle to a mod with an `input` export, when
    /// `wasgo/safety/input_events` is on (after this returns: see `script_input.rs`).
    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        crate::script_input::on_unhandled_input(&self.core, &event);
    }

    /// What would go wrong at Play (see the class description); refreshed when
    /// [member wasm_file], [member module] or [member safety_level] change.
    fn get_configuration_warnings(&self) -> PackedStringArray {
        self.get_setup_warnings()
    }
}

#[godot_api]
impl WasmScript {
    /// No instance yet (or it was discarded).
    #[constant]
    const STATUS_IDLE: i64 = status::IDLE;
    /// The instance is alive: `main` runs, or the mod lives on its callbacks.
    #[constant]
    const STATUS_RUNNING: i64 = status::RUNNING;
    /// `main` returned (callbacks go on unless the mod called `exit`).
    #[constant]
    const STATUS_FINISHED: i64 = status::FINISHED;
    /// The instance trapped and has ended.
    #[constant]
    const STATUS_TRAPPED: i64 = status::TRAPPED;
    /// The instance was killed and has ended.
    #[constant]
    const STATUS_KILLED: i64 = status::KILLED;
    /// [member wasm_file] is being compiled on a background thread; the mod starts when it is
    /// compiled ([signal loaded]).
    #[constant]
    const STATUS_LOADING: i64 = status::LOADING;

    /// The `.wasm` file the node runs (see [member wasm_file]).
    #[func]
    pub fn get_wasm_file(&self) -> GString {
        if !self.props_here("get_wasm_file") {
            return GString::new();
        }
        self.core.node_props.borrow().wasm_file.clone()
    }

    /// Sets [member wasm_file]; in the editor, the configuration warnings follow.
    #[func]
    fn set_wasm_file(&mut self, wasm_file: GString) {
        if !self.props_here("set_wasm_file") {
            return;
        }
        self.core.node_props.borrow_mut().wasm_file = wasm_file;
        self.core.note_new_source();
        self.refresh_warnings();
    }

    /// The compiled module the node runs (see [member module]).
    #[func]
    pub fn get_module(&self) -> Option<Gd<WasmModule>> {
        if !self.props_here("get_module") {
            return None;
        }
        let module = self.core.node_props.borrow().module.clone();
        module.and_then(as_module)
    }

    /// Sets [member module]; in the editor, the configuration warnings follow.
    #[func]
    pub(crate) fn set_module(&mut self, module: Option<Gd<WasmModule>>) {
        if !self.props_here("set_module") {
            return;
        }
        self.replace_module(module, true);
    }

    /// Sets [member module] to the module a hot reload compiled from the node's own file: the
    /// state the old instance saved stays for the new one (see `set_module`).
    pub(crate) fn set_reloaded_module(&mut self, module: Gd<WasmModule>) {
        self.replace_module(Some(module), false);
    }

    fn replace_module(&mut self, module: Option<Gd<WasmModule>>, new_source: bool) {
        // The old module is dropped after the borrow ends (dropping runs no game code, but a
        // borrow is never held longer than the copy).
        let module = module.map(Gd::upcast::<Resource>);
        let _old = std::mem::replace(&mut self.core.node_props.borrow_mut().module, module);
        if new_source {
            self.core.note_new_source();
        } else {
            self.core.note_source_change();
        }
        self.refresh_warnings();
    }

    /// The node's safety level (see [member safety_level]).
    #[func]
    pub fn get_safety_level(&self) -> i64 {
        if !self.props_here("get_safety_level") {
            return 0;
        }
        self.core.node_props.borrow().safety_level
    }

    /// Sets [member safety_level]; in the editor, the configuration warnings follow.
    #[func]
    fn set_safety_level(&mut self, safety_level: i64) {
        if !self.props_here("set_safety_level") {
            return;
        }
        self.core.node_props.borrow_mut().safety_level = safety_level;
        self.refresh_warnings();
    }

    /// Whether the node starts when it is ready (see [member autostart]).
    #[func]
    pub fn get_autostart(&self) -> bool {
        if !self.props_here("get_autostart") {
            return false;
        }
        self.core.node_props.borrow().autostart
    }

    /// Sets [member autostart]; read when the node is ready.
    #[func]
    fn set_autostart(&mut self, autostart: bool) {
        if !self.props_here("set_autostart") {
            return;
        }
        self.core.node_props.borrow_mut().autostart = autostart;
    }

    /// `main`'s arguments (see [member args]).
    #[func]
    pub fn get_args(&self) -> PackedStringArray {
        if !self.props_here("get_args") {
            return PackedStringArray::new();
        }
        self.core.node_props.borrow().args.clone()
    }

    /// Sets [member args]; the next [method start] passes them.
    #[func]
    fn set_args(&mut self, args: PackedStringArray) {
        if !self.props_here("set_args") {
            return;
        }
        self.core.node_props.borrow_mut().args = args;
    }

    /// The node's linear memory cap in MiB (see [member memory_limit_mb]).
    #[func]
    pub fn get_memory_limit_mb(&self) -> i64 {
        if !self.props_here("get_memory_limit_mb") {
            return 0;
        }
        self.core.node_props.borrow().memory_limit_mb
    }

    /// Sets [member memory_limit_mb]; the next [method start] uses it.
    #[func]
    fn set_memory_limit_mb(&mut self, memory_limit_mb: i64) {
        if !self.props_here("set_memory_limit_mb") {
            return;
        }
        self.core.node_props.borrow_mut().memory_limit_mb = memory_limit_mb;
    }

    /// How long `main` may run, in ms (see [member main_timeout_ms]).
    #[func]
    pub fn get_main_timeout_ms(&self) -> i64 {
        if !self.props_here("get_main_timeout_ms") {
            return 0;
        }
        self.core.node_props.borrow().main_timeout_ms
    }

    /// Sets [member main_timeout_ms]; the next [method start] uses it.
    #[func]
    fn set_main_timeout_ms(&mut self, main_timeout_ms: i64) {
        if !self.props_here("set_main_timeout_ms") {
            return;
        }
        self.core.node_props.borrow_mut().main_timeout_ms = main_timeout_ms;
    }

    /// The bytes of linear memory the running instance holds; 0 when none is alive (see
    /// [member memory_in_use]).
    #[func]
    pub fn get_memory_in_use(&self) -> i64 {
        if !crate::runtime::on_main_thread("WasmScript.get_memory_in_use") {
            return 0;
        }
        self.core
            .instance()
            .map(|i| i64::try_from(i.memory_in_use()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    /// Microseconds the mod's main-thread calls took in the last complete frame (see
    /// [member frame_time_usec]).
    #[func]
    pub fn get_frame_time_usec(&self) -> i64 {
        if !crate::runtime::on_main_thread("WasmScript.get_frame_time_usec") {
            return 0;
        }
        self.core.frame_time.last_frame_usec()
    }

    /// The configuration warnings the editor shows on this node: what would go wrong at Play
    /// (no file, a missing file or one that is not WebAssembly, a level above the project's,
    /// imports the node's level leaves as stubs or that no level provides, an export one or two
    /// letters away from a callback WasGo calls, an export WasGo calls with another signature). Each says what to do; empty when the node is set up
    /// right. Reads the project settings as they are now; a file is checked once per change,
    /// and never waited for: while its module is being compiled in the background the one
    /// warning says so, and the node's configuration warnings are updated when it is done.
    #[func]
    pub fn get_setup_warnings(&self) -> PackedStringArray {
        if !crate::runtime::on_main_thread("WasmScript.get_setup_warnings") {
            return PackedStringArray::new();
        }
        let props = self.core.node_props.borrow().clone();
        let inputs = file_checks::WarningInputs {
            wasm_file: props.wasm_file.to_string(),
            module: props.module.and_then(as_module).map(|m| {
                let m = m.bind();
                (m.mod_name(), m.compiled())
            }),
            safety_level: props.safety_level,
            process_group: self.process_group.to_string(),
        };
        let warnings = file_checks::warnings(&inputs);
        // Answered without waiting for the compiler: the warnings are updated once it is done.
        if inputs.module.is_none() && file_checks::compiling(&inputs.wasm_file) {
            file_checks::refresh_when_compiled(self.base().instance_id(), inputs.wasm_file);
        }
        warnings.iter().map(|w| GString::from(w.as_str())).collect()
    }

    /// The node's reach (see [member reach]).
    #[func]
    fn get_reach(&self) -> NodePath {
        if !self.props_here("get_reach") {
            return NodePath::default();
        }
        self.core.node_props.borrow().reach.clone()
    }

    #[func]
    fn set_reach(&mut self, reach: NodePath) {
        if !self.props_here("set_reach") {
            return;
        }
        // Off the main thread this records nothing: `ready` and `start()` record it then.
        crate::reach::set_path(self.base().instance_id(), reach.clone());
        self.core.node_props.borrow_mut().reach = reach;
    }

    /// The node's group (see [member process_group]).
    #[func]
    fn get_process_group(&self) -> StringName {
        if !self.props_here("get_process_group") {
            return StringName::default();
        }
        self.process_group.clone()
    }

    /// Sets [member process_group]; the next pass starts at the group's first node. In the
    /// editor, the configuration warnings follow.
    #[func]
    fn set_process_group(&mut self, group: StringName) {
        if !self.props_here("set_process_group") {
            return;
        }
        self.core.group.set_group(group.clone());
        crate::live::refresh(&**self.core);
        self.core.give_processing();
        self.process_group = group;
        self.refresh_warnings();
    }

    /// The mod started: its instance was made and `init` ran, and its `main`, if it has one,
    /// began running on its worker thread (emitted by [method start], also for a mod without
    /// `main`).
    #[signal]
    fn started();
    /// The background compile [method start] began for [member wasm_file] has ended, and the mod
    /// was started with it: [param error] is what [method start] would have returned (`OK`, or an
    /// error with [member last_error] set, e.g. when the module is over
    /// `wasgo/limits/module_mb` or took longer than `wasgo/limits/compile_timeout_ms` to compile).
    /// `await node.loaded` after [method start] waits for the mod to run. Not emitted when
    /// [method kill] cancelled the compile, or when the module was already compiled
    /// ([member module] set).
    #[signal]
    fn loaded(error: i64);
    /// `main` returned [param exit_code] (or the mod called WASI `proc_exit`).
    #[signal]
    fn finished(exit_code: i64);
    /// The mod trapped; [param message] gives the reason and the mod's wasm backtrace.
    #[signal]
    fn trapped(message: GString);
    /// The mod was stopped from outside: [method kill], `WasmEngine.kill_all()`, or a reload
    /// replacing its instance; [param reason] says which. A mod that overruns a time limit
    /// (`main`'s timeout, the callback budget) traps instead: see [signal trapped].
    #[signal]
    fn killed(reason: GString);
    /// One line the mod wrote with `wasgo.log` or to WASI stdout/stderr.
    #[signal]
    fn output(text: GString);
    /// The mod called [param function] (an import, or a Godot class, singleton or member the
    /// allowlist denies), which is not exposed at safety [param level]; the mod traps right
    /// after (a waPC guest gets an error and lives on). An import that exists at no level (a
    /// typo, another host's function, a wrong signature) emits it too when called, and its trap
    /// message says why; a Godot member that exists at no level is -1 and emits nothing.
    #[signal]
    fn unexposed_call(function: GString, level: i64);
    /// The node's [member wasm_file] (or the file its [member module] was loaded from) changed
    /// on disk while the mod ran, and the node now runs the new module: hot reload, on when the
    /// project setting `wasgo/runtime/hot_reload` is (by default in debug builds, off in
    /// release exports). The node is the same object; the old instance was killed (`killed`
    /// with a reason starting `reloading`) and the new one started (`started`).
    /// [param carried_state] is true when the old instance's `save_state` export gave bytes that
    /// the new instance's `load_state` export took. A file that does not compile reloads
    /// nothing: the error (starting with the node's path) is printed and kept in
    /// [member last_error], the old instance goes on, and the next save of the file is tried.
    #[signal]
    fn reloaded(carried_state: bool);
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
    /// `main` lives on its callbacks. A [member wasm_file] (with no [member module] set) is read
    /// and then compiled on a background thread: `start()` returns `OK` with the status
    /// [constant STATUS_LOADING], and the mod starts when the compile ends ([signal loaded]);
    /// calling `start()` again meanwhile returns `OK`. Returns `OK`, or an error with
    /// [member last_error] set:
    /// `ERR_BUSY` while `main` runs (or when called from inside one of the mod's own calls to
    /// make a new instance), `ERR_CANT_OPEN` when there is no module (or it cannot be read, is
    /// not valid, is over `wasgo/limits/module_mb` or took longer than
    /// `wasgo/limits/compile_timeout_ms` to compile), `ERR_CANT_CREATE` when it
    /// cannot be instantiated, its `init` traps, or game code its `init` calls kills it
    /// ([method kill], `WasmEngine.kill_all()`: `init` stops, [signal killed] is emitted).
    #[func(gd_self)]
    pub fn start(this: Gd<Self>) -> Error {
        if !crate::runtime::on_main_thread("WasmScript.start") {
            return Error::ERR_UNAVAILABLE;
        }
        let core = Self::core_of(&this);
        if core.announcing() {
            // From a `started` handler: at the next frame (each start emits `started` again).
            let id = this.instance_id();
            core.start_at_next_frame(move || {
                if let Ok(node) = Gd::<Self>::try_from_instance_id(id) {
                    let ready = node.upcast_ref::<Node>().is_node_ready();
                    Self::start_now(&node, ready);
                }
            });
            return Error::OK;
        }
        let ready = this.upcast_ref::<Node>().is_node_ready();
        Self::start_now(&this, ready)
    }

    /// Ends the mod: a running `main` stops within milliseconds (also inside a host call), its
    /// memory is freed (by the worker, when a slow host call it is in returns), and `killed` is
    /// emitted before this returns; this never waits for the worker (an ended worker's thread
    /// is joined by a reaper thread). While
    /// the module is being compiled ([constant STATUS_LOADING]), the start is cancelled. Called
    /// from inside one of the mod's own calls (a game function, a setter, a signal handler), the
    /// mod stops at its next check and `killed` is emitted once that call has returned.
    #[func(gd_self)]
    pub fn kill(this: Gd<Self>) {
        if !crate::runtime::on_main_thread("WasmScript.kill") {
            return;
        }
        let core = Self::core_of(&this);
        // A change of the mod's file does not bring back a mod the game stopped.
        core.kill_by_game("killed by kill()");
        core.pump();
    }

    /// Whether the status is [constant STATUS_RUNNING]: `main` runs, or the instance lives on
    /// its callbacks without a `main`. False once `main` returned ([constant STATUS_FINISHED]:
    /// the instance still takes `call_export` and its frame callbacks), and once it ended.
    #[func(gd_self)]
    pub fn is_running(this: Gd<Self>) -> bool {
        if !crate::runtime::on_main_thread("WasmScript.is_running") {
            return false;
        }
        Self::core_of(&this).status() == status::RUNNING
    }

    /// One of the STATUS_* constants. (A shared borrow only: it never runs the mod.)
    #[func]
    pub fn get_status(&self) -> i64 {
        if !crate::runtime::on_main_thread("WasmScript.get_status") {
            return status::IDLE;
        }
        self.core.status()
    }

    /// Calls the mod's export [param name] on the main thread (under the callback budget) with
    /// the numbers, Strings and PackedByteArrays of [param args] (a String, as UTF-8, or a
    /// PackedByteArray fills two of the export's `i32` parameters, a pointer and a length, in a
    /// buffer from the mod's `malloc`, given back with its `free` after the call); returns its
    /// result (`null` for none, an Array for several).
    /// While `main` runs the store is busy: the call fails at once with a "busy" error instead of
    /// waiting; so does a call made from inside one of the mod's own calls. The signals the call
    /// raises are emitted after it returns (from inside a handler of one of the node's signals,
    /// by the delivery already in progress). On failure returns `null` and sets
    /// [member last_error]. [param args] may be left out when the export takes none
    /// (`call_export("noop")`). For a Go `GOOS=js` mod, [param name] is a function
    /// its program set on the global object with `js.FuncOf` (`js.Global().Set(name, ...)`),
    /// called with any Variants (objects become handles the mod may use) once `main` has
    /// returned to wait for events (e.g. in `select {}`); its return value converts back.
    #[func(gd_self)]
    pub fn call_export(
        this: Gd<Self>,
        name: GString,
        #[opt(default = &ExportArgs::default())] args: ExportArgs,
    ) -> Variant {
        if !crate::runtime::on_main_thread("WasmScript.call_export") {
            return Variant::nil();
        }
        let core = Self::core_of(&this);
        crate::convert::with_str(&name, |name| {
            let args: Vec<Variant> = args.0.iter_shared().collect();
            crate::script_calls::call_export(&core, name, &args)
        })
    }

    /// A [Callable] that calls the mod's export [param name], as [method call_export] does,
    /// with the Callable's arguments: `var step := mod.get_export_callable("step")` once, then
    /// `step.call(delta)` as often as needed. It is the cheapest way to call a mod from
    /// GDScript (no Array is built and no name converted per call), and it can be connected to
    /// a signal (the signal's arguments become the export's arguments). Failures are reported
    /// as by [method call_export]: `null` and [member last_error]. It holds only the node's
    /// id: it stays valid across [method start], [method kill] and reloads (it calls whatever
    /// instance runs then), [method Callable.is_valid] answers false once the node is freed,
    /// and it must be called on the main thread. The export need not exist yet when the
    /// Callable is made.
    #[func(gd_self)]
    pub fn get_export_callable(this: Gd<Self>, name: GString) -> Callable {
        if !crate::runtime::on_main_thread("WasmScript.get_export_callable") {
            return Callable::invalid();
        }
        crate::export_callable::make(this.instance_id(), &name.to_string())
    }

    /// Invokes waPC operation [param operation] with [param payload] on a waPC mod (a module
    /// whose [method WasmModule.get_guest_kind] is `"wapc"`), on the main thread under the
    /// callback budget, and returns the guest's response bytes. On failure returns an empty
    /// array and sets [member last_error]: the guest answered with an error (the mod lives
    /// on), the payload is over the waPC limit (nothing runs), the mod is busy in `main`, not
    /// started or not a waPC guest; a trap also emits `trapped` and ends the instance. Host
    /// calls the guest makes meanwhile reach the handlers registered with
    /// [method WasmEngine.register_wapc_handler].
    #[func(gd_self)]
    pub fn invoke(this: Gd<Self>, operation: GString, payload: PackedByteArray) -> PackedByteArray {
        if !crate::runtime::on_main_thread("WasmScript.invoke") {
            return PackedByteArray::new();
        }
        let core = Self::core_of(&this);
        crate::convert::with_str(&operation, |operation| {
            crate::script_calls::invoke(&core, operation, &payload)
        })
    }

    /// Whether [method call_export] can call [param name]: a function the module exports (the
    /// running instance's module, else [member module], else the module in [member wasm_file],
    /// compiled now if no compile of that file is kept, as [method WasmEngine.load_module]
    /// would; false for a file that is missing or no module). For a Go [code]GOOS=js[/code]
    /// program it is a function the running program set on its global object with
    /// [code]js.FuncOf[/code] (false before it runs: the program makes them).
    #[func(gd_self)]
    pub fn has_export(this: Gd<Self>, name: GString) -> bool {
        if !crate::runtime::on_main_thread("WasmScript.has_export") {
            return false;
        }
        let name = name.to_string();
        let core = Self::core_of(&this);
        if let Some(i) = core.instance() {
            return i.has_callable(&name);
        }
        let exports_it = |c: &wasgo_core::CompiledModule| {
            c.guest_kind() != wasgo_core::GuestKind::GoJs
                && c.exports()
                    .iter()
                    .any(|e| e.name == name && e.kind == wasgo_core::ImportKind::Function)
        };
        let (module, file) = {
            let props = core.node_props.borrow();
            (props.module.clone(), props.wasm_file.to_string())
        };
        if let Some(module) = module {
            return as_module(module)
                .is_some_and(|m| m.bind().compiled().is_some_and(|c| exports_it(&c)));
        }
        !file.is_empty() && crate::file_checks::check_file(&file).is_ok_and(|c| exports_it(&c))
    }

    /// The Dictionary the mod's optional `config` export answered when it last started: it runs
    /// before `init`, in a throwaway instance without any host function, under a 50 ms CPU
    /// budget (see [method WasmModule.get_config]). Empty when the mod has no `config`, has not
    /// started, or its `config` failed (the reason is a warning and [member last_error]; the
    /// mod starts anyway). Each call returns a copy: changing it changes nothing else.
    #[func]
    pub fn get_mod_config(&self) -> VarDictionary {
        if !crate::runtime::on_main_thread("WasmScript.get_mod_config") {
            return VarDictionary::new();
        }
        self.core
            .mod_config
            .borrow()
            .as_ref()
            .map(|config| config.duplicate_deep())
            .unwrap_or_default()
    }

    /// The message of the last failure of this node (a refused call, a trap).
    #[func]
    pub fn get_last_error(&self) -> GString {
        if !crate::runtime::on_main_thread("WasmScript.get_last_error") {
            return GString::new();
        }
        self.core.last_error.borrow().as_str().into()
    }

    /// Grants this mod a permission kind (`files`, `network`); it takes effect at once, also
    /// for a running instance. Level-2 functions return -6 until their permission is granted.
    /// The grant is saved under the mod's id in `user://wasgo/permissions.cfg` and applies again
    /// whenever the game starts this mod (in any node, in later runs) until
    /// [method revoke_permission].
    #[func(gd_self)]
    pub fn grant_permission(this: Gd<Self>, kind: GString) {
        if !crate::runtime::on_main_thread("WasmScript.grant_permission") {
            return;
        }
        Self::core_of(&this).grant(&kind.to_string());
    }

    /// Takes a permission back; it takes effect at once, and the saved grant is removed.
    /// (A kind in `wasgo/safety/auto_grant` is granted again at the next [method start].)
    #[func(gd_self)]
    pub fn revoke_permission(this: Gd<Self>, kind: GString) {
        if !crate::runtime::on_main_thread("WasmScript.revoke_permission") {
            return;
        }
        Self::core_of(&this).revoke(&kind.to_string());
    }

    /// Kills the current instance (emitting `killed` if it was alive), reads the module again from
    /// [member wasm_file] (picking up a changed file) and starts it. Called from inside one of the
    /// mod's own calls, it returns `OK` and reloads once that call has returned (a [method kill]
    /// later in that call cancels it). Called from a handler of [signal started], it returns `OK`
    /// and reloads at the next frame (each reload emits `started` again; a [method kill] before
    /// then cancels it). A [method kill] or `WasmEngine.kill_all()` from a handler of
    /// the `killed` this emits cancels the reload: `ERR_UNAVAILABLE`, the mod stays killed.
    #[func(gd_self)]
    pub fn reload(this: Gd<Self>) -> Error {
        if !crate::runtime::on_main_thread("WasmScript.reload") {
            return Error::ERR_UNAVAILABLE;
        }
        let core = Self::core_of(&this);
        // The game asks for the mod to run again: a kill from before does not stand in the way
        // (one from a `killed` handler during this reload does, below).
        core.killed_by_game.set(false);
        if core.announcing() {
            // From a `started` handler: at the next frame (each reload emits `started` again).
            core.reload_at_next_frame();
            return Error::OK;
        }
        if !core.begin_reload() {
            // Inside one of the mod's own calls: done when it returns, or the node is gone.
            return if core.is_gone() {
                Error::ERR_UNAVAILABLE
            } else {
                Error::OK
            };
        }
        if core.killed_by_game.get() {
            core.idle_status.set(crate::script_core::status::KILLED);
            // The game's own doing: kept for `get_last_error()`, not printed.
            core.set_last_error(format!(
                "the reload of `{}` was cancelled: the game killed the mod while it reloaded (`kill()` or `WasmEngine.kill_all()` from a `killed` handler)",
                core.label()
            ));
            return Error::ERR_UNAVAILABLE;
        }
        let (wasm_file, module) = {
            let p = core.node_props.borrow();
            (p.wasm_file.clone(), p.module.clone().and_then(as_module))
        };
        // A node started from `wasm_file` alone reads and compiles it again in the background.
        let from_file = module
            .as_ref()
            .is_some_and(|m| !m.bind().get_source_path().is_empty());
        if !wasm_file.is_empty() && from_file {
            // Re-read the file: a changed file has a new hash and compiles anew.
            let path = match &module {
                Some(m) => m.bind().get_source_path().to_string(),
                None => wasm_file.to_string(),
            };
            if !godot::classes::FileAccess::file_exists(&path)
                && wasgo_core::precompiled::artifact_beside(&path)
                    .is_none_or(|a| !godot::classes::FileAccess::file_exists(&a))
            {
                return core.fail(
                    Error::ERR_CANT_OPEN,
                    format!("cannot reload `{path}`: no such file"),
                );
            }
            match WasmModule::load_path(&path) {
                Some(m) => {
                    let _old = core.node_props.borrow_mut().module.replace(m.upcast());
                    core.note_source_change();
                }
                None => {
                    return core.fail(
                        Error::ERR_CANT_CREATE,
                        format!("cannot reload `{path}`: {}", runtime::last_error_text()),
                    )
                }
            }
        }
        let ready = this.upcast_ref::<Node>().is_node_ready();
        Self::start_now(&this, ready)
    }
}

impl WasmScript {
    /// The current instance's key in the object tables (`script_owned.rs`).
    pub(crate) fn core_key(&self) -> Option<wasgo_core::InstanceKey> {
        self.core.key.get()
    }

    /// In the editor, asks Godot to read the configuration warnings again, deferred: Godot may
    /// read them at once, which would bind this node while the setter still holds it.
    fn refresh_warnings(&mut self) {
        if Engine::singleton().is_editor_hint() {
            self.base_mut()
                .call_deferred("update_configuration_warnings", &[]);
        }
    }

    /// The node as messages name it: its path in the tree, else its name.
    fn label(this: &Gd<Self>) -> String {
        let node = this.upcast_ref::<Node>();
        if node.is_inside_tree() {
            node.get_path().to_string()
        } else {
            node.get_name().to_string()
        }
    }

    /// The node's core: from the main thread's table when it is there (no `bind()`, see
    /// `cores.rs`), else through a bind.
    pub(crate) fn core_of(this: &Gd<Self>) -> Rc<ScriptCore> {
        crate::cores::find(this.instance_id().to_i64())
            .unwrap_or_else(|| Rc::clone(&this.bind().core))
    }

    /// The file the node runs from: its [member module]'s source file when [member module] is
    /// set (empty for a module compiled from bytes), else [member wasm_file]; and whether it is
    /// [member module]'s.
    pub(crate) fn source(&self) -> (String, bool) {
        let (wasm_file, module) = {
            let p = self.core.node_props.borrow();
            (p.wasm_file.clone(), p.module.clone().and_then(as_module))
        };
        match module {
            Some(m) => (m.bind().get_source_path().to_string(), true),
            None => (wasm_file.to_string(), false),
        }
    }

    /// The node's [member wasm_file] and [member module] for [`WasmScript::resolve_module`]:
    /// read from the core, with no `bind()` of the node or of its [member module] (see
    /// [`crate::script_core::NodeProps`]). (The core reads the other properties itself, once
    /// the old instance's events have been delivered.)
    fn source_of(core: &ScriptCore) -> Source {
        let props = core.node_props.borrow();
        Source {
            wasm_file: props.wasm_file.clone(),
            module: props.module.clone(),
            changes: core.source_changes(),
        }
    }

    /// `start()`, with the module resolved only when a new instance is made. `this` is not used
    /// once the core has the call: the mod may free the node.
    pub(crate) fn start_now(this: &Gd<Self>, ready: bool) -> Error {
        let core = Self::core_of(this);
        core.main_thread_owned.store(true, Ordering::Release);
        // (Also here: a node made on another thread and started before it is ever ready.)
        crate::cores::register(this.instance_id().to_i64(), &core);
        crate::reach::ensure_path(this.instance_id(), &core.node_props.borrow().reach);
        let source = Self::source_of(&core);
        let node = this.clone();
        core.start(ready, move |core, kept| {
            Self::resolve_module(&node, core, source, kept.hot_reload)
        })
    }

    /// The module to run: one a background compile just made, [member module], else
    /// [member wasm_file], read now and compiled in the background.
    /// `source` is what [`WasmScript::source_of`] read: used unless the node's source changed
    /// since (the old instance's events, delivered in between, run game code), else read again.
    /// `hot_reload`: whether the source is watched (`wasgo/runtime/hot_reload`, as this start
    /// read it).
    fn resolve_module(
        this: &Gd<Self>,
        core: &Rc<ScriptCore>,
        source: Source,
        hot_reload: bool,
    ) -> Resolution {
        if let Some(module) = core.take_loaded() {
            return Resolution::Ready(module);
        }
        let (wasm_file, module) = if source.changes == core.source_changes() {
            (source.wasm_file, source.module)
        } else {
            let p = core.node_props.borrow();
            (p.wasm_file.clone(), p.module.clone())
        };
        let module = match module {
            Some(m) => m,
            None if wasm_file.is_empty() => {
                core.fail(
                    Error::ERR_CANT_OPEN,
                    format!(
                        "`{}` has neither `module` nor `wasm_file` set; point it at a .wasm file",
                        Self::label(this)
                    ),
                );
                return Resolution::Failed;
            }
            None => {
                return Self::load_in_background(this, core, &convert::text(&wasm_file), hot_reload)
            }
        };
        // Without a bind of the module, or a cast (see `source_of`). Watched for hot reload when
        // it came from a file (else no longer watched).
        let (name, compiled) = match module_res::facts_of(module.instance_id()) {
            Some(facts) => {
                Self::watch_source(core, &facts.source_path, hot_reload);
                (facts.name.clone(), Some(facts.compiled.clone()))
            }
            None => match as_module(module) {
                Some(module) => {
                    let (name, compiled, source) = {
                        let m = module.bind();
                        (m.mod_name(), m.compiled(), m.get_source_path())
                    };
                    Self::watch_source(core, &convert::text(&source), hot_reload);
                    (name, compiled)
                }
                None => {
                    Self::watch_source(core, "", hot_reload);
                    (String::new(), None)
                }
            },
        };
        let Some(compiled) = compiled else {
            core.fail(
                Error::ERR_CANT_OPEN,
                format!(
                    "`{}`: its `module` holds no code (a `WasmModule.new()`, or a module saved in a scene or resource file, which keeps no code); set one from `WasmEngine.load_module(path)` or `WasmEngine.compile_module(bytes)`, or give the node its `wasm_file`",
                    Self::label(this)
                ),
            );
            return Resolution::Failed;
        };
        Resolution::Ready(ResolvedModule { name, compiled })
    }

    /// Reads `path` and compiles it on a background thread; when it ends (at a later frame),
    /// the node starts with it and emits `loaded`. A module the engine holds compiled already
    /// (the same bytes are in use or were used recently) is answered at once: the mod starts
    /// now, as with [member module].
    fn load_in_background(
        this: &Gd<Self>,
        core: &Rc<ScriptCore>,
        path: &str,
        hot_reload: bool,
    ) -> Resolution {
        let label = Self::label(this);
        // Watched from the version about to be read (a change during the read reloads again).
        Self::watch_source(core, path, hot_reload);
        let load = match crate::shipped::load_path(path) {
            Ok(load) => load,
            Err(e) => {
                core.fail(Error::ERR_CANT_OPEN, format!("`{label}`: {e}"));
                return Resolution::Failed;
            }
        };
        let name = runtime::name_from_path(path);
        let ticket = match load.ticket.try_take() {
            Ok(Ok(compiled)) => return Resolution::Ready(ResolvedModule { name, compiled }),
            Ok(Err(e)) => {
                core.fail(Error::ERR_CANT_OPEN, format!("`{label}`: {e}"));
                return Resolution::Failed;
            }
            Err(ticket) => ticket,
        };
        let load = core.begin_loading();
        let weak = core.weak();
        let id = this.instance_id();
        let module_name = name.clone();
        let done: compiles::Completion = Box::new(move |outcome| {
            let Some(core) = weak.upgrade() else {
                return;
            };
            if !core.end_loading(load) {
                return;
            }
            let error = match outcome {
                Ok(compiled) => match Gd::<WasmScript>::try_from_instance_id(id) {
                    Ok(node) => {
                        core.set_loaded(ResolvedModule {
                            name: module_name,
                            compiled,
                        });
                        let ready = node.upcast_ref::<Node>().is_node_ready();
                        Self::start_now(&node, ready)
                    }
                    Err(_) => return,
                },
                Err(e) => core.fail(Error::ERR_CANT_OPEN, format!("`{label}`: {e}")),
            };
            core.emit("loaded", &[(error.ord() as i64).to_variant()]);
        });
        compiles::wait_for(ticket, done);
        Resolution::Loading
    }

    /// Whether this thread may read or set the node's properties (`what` names the accessor in
    /// the error): the main thread always; another thread only until the main thread uses the
    /// node (a scene built on a worker thread), since the main thread then reads them without
    /// locks (a thread setting `process_group` on a running node corrupted them: every mod's
    /// frames stopped, and freeing the node aborted Godot).
    fn props_here(&self, what: &str) -> bool {
        if godot::init::is_main_thread() || !self.core.main_thread_owned.load(Ordering::Acquire) {
            return true;
        }
        godot_error!(
            "WasGo: `WasmScript.{what}` was called from a thread other than the main thread on a node that is ready or started, and did nothing; from a thread, use `set_deferred` (or `call_deferred`)"
        );
        false
    }

    /// The node is ready (its own `ready` signal): start the mod, or run its `ready` export.
    fn on_ready(this: Gd<Self>) {
        // Processing is turned on when a mod that uses frames starts (`give_processing`), not
        // here: a node whose mod has no frame export is then never visited by Godot per frame.
        // The same for unhandled input, which Godot has just turned on (`give_input`).
        let core = Self::core_of(&this);
        core.main_thread_owned.store(true, Ordering::Release);
        // A node made on another thread could not register its core there (the table is the
        // main thread's): its Callables and the input settings would never find it.
        crate::cores::register(this.instance_id().to_i64(), &core);
        // And its `reach`, set there, in the main thread's reach table (it was dropped: the mod
        // reached the whole default area).
        crate::reach::ensure_path(this.instance_id(), &core.node_props.borrow().reach);
        core.hold_back_input();
        let autostart = core.node_props.borrow().autostart;
        // Ready again (`request_ready()` and a new place in the tree) while `main` runs: the
        // mod is started; starting it again would be refused as busy, with an error.
        let status = core.instance().map(|i| i.status());
        let main_running = status == Some(wasgo_core::ModStatus::RunningMain);
        // Started before it entered the tree (`start()` on a new node): this is the node's
        // first ready for that instance, so the mod is not started again; its `ready` runs
        // now, or once `main` has returned (entries wait while `main` runs).
        if !core.ready_called.get() && status.is_some_and(|s| s.is_live()) {
            if main_running {
                core.ready_owed.set(true);
            } else {
                core.call_ready_export();
            }
            return;
        }
        if autostart && main_running {
            return;
        }
        if autostart {
            // Errors are reported by start() itself.
            let _ = Self::start_now(&this, true);
        } else {
            core.call_ready_export();
        }
    }
}

impl Drop for WasmScript {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once and nothing reads `self.core` after this line.
        let core = unsafe { ManuallyDrop::take(&mut self.core) };
        if godot::init::is_main_thread() {
            node_freed(core);
            return;
        }
        // Game code freed the node on another thread (a node outside the tree may be): the core
        // goes to the main thread untouched, as a plain address (its `Rc` counts change only
        // there, where the frame driver and the tables hold it too), and is let go of there at the
        // end of the frame. Before, its instance was dropped here and its entries in the
        // main-thread tables stayed.
        // Not by a deferred call: one made while a resource loads on a thread runs on that
        // thread when the load ends (Godot gives the loader its own call queue), and the core
        // was lost there. The frame driver takes it on the main thread.
        FREED_ON_THREADS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Rc::into_raw(core) as usize);
    }
}

/// The cores of nodes freed on other threads, as the addresses `Rc::into_raw` gave, waiting for
/// the main thread ([`let_go_of_cores_freed_on_threads`]).
static FREED_ON_THREADS: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// Lets go of the cores of nodes freed on other threads (the frame driver, main thread).
pub(crate) fn let_go_of_cores_freed_on_threads() {
    let freed = {
        let mut queue = FREED_ON_THREADS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if queue.is_empty() {
            return;
        }
        std::mem::take(&mut *queue)
    };
    for address in freed {
        // SAFETY: each address is an `Rc::into_raw` of `WasmScript::drop`, queued once and
        // taken out of the queue once (above): this gives up the one count `into_raw` kept, on
        // the main thread, where the core's counts change.
        let core = unsafe { Rc::from_raw(address as *const ScriptCore) };
        node_freed(core);
    }
}

/// What a freed node's core lets go of (main thread): its entry in the core table, its
/// properties (its module among them, also while a call into the mod keeps the core alive) and
/// its instance (killed now; dropped when a call into the mod that is under way returns).
fn node_freed(core: Rc<ScriptCore>) {
    crate::cores::unregister(core.node.to_i64());
    let props = core
        .node_props
        .try_borrow_mut()
        .map(|mut p| std::mem::take(&mut *p));
    drop(props);
    core.node_freed();
}

/// The node's [member WasmScript.wasm_file] and [member WasmScript.module] as `start()` read
/// them, and [`ScriptCore::source_changes`] then.
struct Source {
    wasm_file: GString,
    module: Option<Gd<Resource>>,
    changes: u64,
}

/// The node's [member WasmScript.module] as the `WasmModule` it is (the core keeps it as its
/// `Resource` base; only a `WasmModule` is ever set).
fn as_module(module: Gd<Resource>) -> Option<Gd<WasmModule>> {
    module.try_cast::<WasmModule>().ok()
}

/// What `start()` needs of the node's properties: a [member WasmScript.module]'s facts are read
/// by its id (no `bind()` and no cast, unless it is an empty module).
fn script_props(props: &NodeProps) -> ScriptProps {
    let module = props
        .module
        .as_ref()
        .map(|m| match module_res::facts_of(m.instance_id()) {
            Some(facts) => (facts.name.clone(), facts.source_path.clone()),
            // An empty module (`WasmModule.new()`): start() reports it.
            None => match as_module(m.clone()) {
                Some(m) => {
                    let m = m.bind();
                    (m.mod_name(), convert::text(&m.get_source_path()))
                }
                None => (String::new(), String::new()),
            },
        });
    // The mod's id (see `wasgo_core::grants::mod_id`): from [member module]'s name, else from
    // [member wasm_file]'s file name; `None` when neither is set.
    let (mod_id, source_path) = match module {
        Some((name, source)) => (Some(wasgo_core::grants::mod_id(&name)), source),
        None => {
            let file = convert::text(&props.wasm_file);
            let id = (!file.is_empty())
                .then(|| wasgo_core::grants::mod_id(&runtime::name_from_path(&file)));
            (id, file)
        }
    };
    ScriptProps {
        safety_level: props.safety_level,
        args: props.args.clone(),
        memory_limit_mb: props.memory_limit_mb,
        main_timeout_ms: props.main_timeout_ms,
        mod_id,
        source_path,
    }
}
