//! The working state of one `WasmScript` node and every entry into its mod.
//!
//! # The borrow-free invariant
//!
//! gdext guards every `&self`/`&mut self` method of a class (a `bind()`/`bind_mut()` held for the
//! whole call). If Godot frees the node while such a guard is active, gdext aborts the game (debug
//! builds) or frees it twice (release builds); a nested `bind_mut()` on the same node panics. A
//! mod's code runs game code all the time — game functions, setters, signal handlers — and that
//! code may free the node, kill it or call into it again. So:
//!
//! **No gdext borrow of a `WasmScript` is held while its mod runs or while one of its signals is
//! emitted.** The node's state lives here, in a [`ScriptCore`] behind an `Rc` the node holds;
//! every public method that can enter the mod is `#[func(gd_self)]` and binds the node only to
//! clone that `Rc` (and copy its exported properties), then drops the guard before working. The
//! cells below are borrowed only for a statement or two, never across a call into the mod or an
//! emit. Frame callbacks (`process`, `physics_process`), `ready` and signal callbacks reach a
//! core through Callables that hold an `InstanceId` or a `Weak<ScriptCore>`, never through a
//! gdext virtual.
//!
//! # Re-entrancy
//!
//! [`ScriptCore::depth`] counts the entries into the mod in progress. While it is above zero:
//! a nested call into the same instance fails at once with a clear error (the store is busy);
//! `kill()` throws the kill switch (the running entry traps at its next check) and the kill is
//! completed, with its `killed` signal, when the outermost entry returns ([`ScriptCore::settle`]);
//! `reload()` is done then too; freeing the node marks the core gone and the same settle step
//! drops the instance and its object table (the `Rc` the caller holds keeps the core alive).
//! Events raised during a call are delivered after it returns, and only by the outermost delivery
//! loop ([`ScriptCore::pump`]): a handler that calls into the mod again raises its events into the
//! queue the loop is draining, which it drains a bounded number of rounds per frame.

use crate::frame_time::FrameTime;
use crate::group_pass::GroupPass;
use crate::live::{self, LiveScript};
use crate::objects;
use crate::permissions;
use crate::runtime::runtime;
use crate::settings;
use crate::settings_kept::StartSettings;
use godot::global::Error;
use godot::prelude::*;
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use wasgo_core::kill::KillSwitch;
use wasgo_core::prefetch::HotAddresses;
use wasgo_core::Permission;
use wasgo_core::{
    CompiledModule, InstanceConfig, InstanceKey, ModInstance, ModStatus, Permissions, SafetyLevel,
    Val, WasgoError, WasiDirs,
};

/// The node's exported properties that `start()` reads, kept here rather than in the node:
/// the node's getters and setters read and write them in `ScriptCore::node_props`, so `start()`
/// reads them without a `bind()` of the node (every gdext guard costs a futex wake as it drops,
/// with `experimental-threads`, and games that spawn mods call `start()` many times a frame).
#[derive(Clone, Default)]
pub struct NodeProps {
    pub wasm_file: GString,
    /// The node's `module`, a `WasmModule` kept as its `Resource` base (this layer names no
    /// class; `script.rs` casts it where it needs the class, and reads a module's facts by id).
    pub module: Option<Gd<godot::classes::Resource>>,
    pub safety_level: i64,
    pub args: PackedStringArray,
    pub memory_limit_mb: i64,
    pub main_timeout_ms: i64,
    /// Read at the node's `ready` (without a `bind()` of the node, like the others).
    pub autostart: bool,
    /// The node's `reach` (its getter reads it here), also recorded in the main thread's reach
    /// table by its setter; a node set up on another thread (a scene instantiated there), whose
    /// setter could not reach that table, has it recorded at its `ready` and at `start()`.
    pub reach: NodePath,
}

/// What the core needs of the node's exported properties when it starts an instance.
#[derive(Clone, Default)]
pub struct ScriptProps {
    pub safety_level: i64,
    pub args: PackedStringArray,
    pub memory_limit_mb: i64,
    pub main_timeout_ms: i64,
    /// The mod's id (from its module's name or its file name), if either is set.
    pub mod_id: Option<String>,
    /// The file the mod's code comes from (the module's source path, else `wasm_file`; empty
    /// when compiled from bytes): a mod whose code lies in `user://mods/<mod_id>/` gets its
    /// sandbox elsewhere (`mods_folder::code_inside_id_folder`).
    pub source_path: String,
}

/// A module ready to instantiate: its name and compiled code.
pub struct ResolvedModule {
    pub name: String,
    pub compiled: Arc<CompiledModule>,
}

/// What `start()` found when it looked for the module to run.
pub enum Resolution {
    Ready(ResolvedModule),
    /// A background compile was started ([`ScriptCore::begin_loading`]); the mod starts when it
    /// ends.
    Loading,
    /// Nothing to run; the failure was recorded.
    Failed,
}

/// How the core reaches back to its node's class without naming it (so `script_core` sits
/// below `script.rs`): plain functions of the node's id.
#[derive(Clone, Copy)]
pub struct NodeHooks {
    /// What `start()` needs of the node's properties (`script.rs` reads its module's facts).
    pub props: fn(&NodeProps) -> ScriptProps,
    /// `WasmScript.reload()` on the node (a reload asked for inside an entry runs after it).
    pub reload: fn(InstanceId),
    /// Whether the node still runs from the file at the path given (its `wasm_file`, or its
    /// `module`'s source): a hot reload of a file the node no longer names is dropped.
    pub runs_from: fn(InstanceId, &str) -> bool,
    /// Starts the node again with a module hot reload compiled from the file at the path given
    /// (a `module` property from that file is replaced by the new module); what `start()`
    /// returned.
    pub restart: fn(InstanceId, ResolvedModule, &str) -> Error,
    /// Runs the node's batched `process_group` pass for this frame (`script_group::run`;
    /// physics or not, delta).
    pub group_pass: fn(&Rc<ScriptCore>, bool, f64),
}

/// The status constants of `WasmScript`.
pub mod status {
    pub const IDLE: i64 = 0;
    pub const RUNNING: i64 = 1;
    pub const FINISHED: i64 = 2;
    pub const TRAPPED: i64 = 3;
    pub const KILLED: i64 = 4;
    pub const LOADING: i64 = 5;
}

/// One node's working state (see the module docs for how it is borrowed).
pub struct ScriptCore {
    /// The `WasmScript` node (looked up, never held: it may be freed at any time).
    pub node: InstanceId,
    pub(crate) hooks: NodeHooks,
    /// The instance; an entry clones the `Rc` for the duration of one call.
    pub(crate) instance: RefCell<Option<Rc<ModInstance>>>,
    /// What entering the instance touches first, for the frame driver to prefetch while the
    /// script before this one runs (`wasgo_core::prefetch`; never dereferenced, so it may be
    /// stale).
    hot: Cell<HotAddresses>,
    /// The current instance's key in the object tables.
    pub(crate) key: Cell<Option<InstanceKey>>,
    /// STATUS_* before any instance exists, or after it is gone.
    pub(crate) idle_status: Cell<i64>,
    /// Whether the current instance's `ready` export has run.
    pub(crate) ready_called: Cell<bool>,
    /// The node became ready while the instance, started before it entered the tree, ran its
    /// `main`: `ready` runs at the first delivery after `main` returns.
    pub(crate) ready_owed: Cell<bool>,
    /// What a failed `init` raised and its end (`trapped`, `killed`, `finished`) are being
    /// emitted from `start()` (see `end_failed_start`).
    emitting_init_end: Cell<bool>,
    /// The kill switch of the instance being made while its `init` runs (the instance is not
    /// held yet): the game's `kill()` or `kill_all()` from game code `init` calls throws it, and
    /// `init` stops at its next check instead of running to its end.
    init_kill: RefCell<Option<Arc<KillSwitch>>>,
    pub(crate) last_error: RefCell<String>,
    pub(crate) permissions: Arc<Permissions>,
    /// Grants given before the mod's id was known (no module set yet); saved at `start()`.
    pub(crate) unsaved_grants: RefCell<Vec<String>>,
    /// Kinds WasGo's own permission dialog is asking the player about now (one dialog per kind
    /// at a time, across restarts of the node's mod; the answer removes the kind).
    pub(crate) asking: RefCell<Vec<String>>,
    /// The mod id of the instance running now (`None` without one, or for a module without an
    /// id): what a permission request names and a grant is saved under, whatever the node's
    /// properties say by then.
    pub(crate) running_mod_id: RefCell<Option<String>>,
    /// A start the node's new source owes the game (its `start()` waited for the old source's
    /// compile when the game set another): cleared by `start()` and `kill()` meanwhile.
    restart_owed: Cell<bool>,
    /// The reason of a `kill()` that cancelled a start on its way (a compile `start()` waited
    /// for, an owed start or reload): `killed(reason)` goes out at the next frame unless the
    /// node is started again before.
    killed_owed: RefCell<Option<String>>,
    /// Kinds denied for this run of the mod (the player said no, or nobody could be asked).
    pub(crate) denied: RefCell<Vec<String>>,
    /// Entries into the mod in progress (nested ones fail; see the module docs).
    pub(crate) depth: Cell<u32>,
    /// Set once the main thread uses the node (it was ready, or started): from then on its
    /// properties are read there without locks, and another thread may not touch them
    /// (`WasmScript::props_here`). Before, a scene built on a worker thread sets them freely.
    pub(crate) main_thread_owned: std::sync::atomic::AtomicBool,
    /// Whether a delivery loop runs now (nested pumps leave their events to it).
    pub(crate) delivering: Cell<bool>,
    /// [`objects::posts`] when this core last took its outbox: while the count is the same,
    /// nothing was posted to anyone's outbox since, so the delivery step skips the lookup.
    pub(crate) outbox_seen: Cell<u64>,
    /// `wasgo_core::events::activity()` when the instance was last found with nothing to
    /// deliver: while the count is the same, nothing was raised for any instance since, so the
    /// check after an entry looks no further (no look into the instance's queues).
    pub(crate) quiet_at: Cell<Option<u64>>,
    /// Which frame exports the instance has (the `FRAME_*` bits), read once when it starts:
    /// the frame driver asks for every node every frame, and the export names live in separate
    /// allocations. The driver's list (`wants_frames`) and the processing flags
    /// (`give_processing`) are derived from it.
    frame_exports: Cell<u8>,
    /// A kill asked for while an entry ran; completed when the outermost one returns.
    pending_kill: RefCell<Option<String>>,
    /// A reload asked for while an entry ran.
    pending_reload: Cell<bool>,
    /// A deferred reload is running (its new instance's `init` may ask for another).
    reloading: Cell<bool>,
    /// A reload asked for by the `init` of a deferred reload's instance waits for the next frame
    /// (a game function that always reloads recursed a thousand reloads deep until Godot
    /// crashed); a `kill()` by the game before then drops it.
    reload_next_frame: Cell<bool>,
    /// `started` is being emitted (its handlers run): a `reload()` or `start()` they ask for
    /// waits for the next frame (`start_next_frame` or `reload_next_frame`), since each would
    /// emit `started` again from inside the handler: a handler that always restarts recursed
    /// one start deeper per start until the stack ran out.
    announcing: Cell<u32>,
    /// The events this frame's pumps may still emit (`script_delivery::MAX_EVENTS_PER_PUMP`
    /// at the frame's first pump; the drains after each callback draw from it too).
    pub(crate) event_allowance: Cell<usize>,
    /// The process frame whose allowances `event_allowance` and `mod_event_allowance` are
    /// (a pump in a later frame starts them afresh; one in the same frame draws on what is
    /// left: per pump, two mods whose events a game relayed to each other got a fresh
    /// allowance at every relayed call, a thousand times a thousand deliveries a frame).
    pub(crate) allowance_frame: Cell<u64>,
    /// The `mod_event`s the pump in progress may still emit, apart from `event_allowance`: a
    /// mod printing a thousand lines a frame spent the shared allowance on its output, and its
    /// `mod_event`s waited for good.
    pub(crate) mod_event_allowance: Cell<usize>,
    /// The keys whose press this node's mod was handed (below level 3, `script_input.rs`): a
    /// release is handed only for one of them, so the release of a key pressed into a text
    /// field, which came after the field had lost the focus (a fast typist's last letter,
    /// still held when Enter hid the login panel), spells out nothing.
    pub(crate) pressed_keys: RefCell<std::collections::HashSet<(i64, i64)>>,
    /// The time of this mod's entries made from inside another mod's entry, which were charged
    /// to its frame tally as they ended (see `enter_at`).
    nested_charged: Cell<wasgo_core::clock::Span>,
    /// A `start()` asked for by a `started` handler, run at the next frame; a `kill()` by the game
    /// before then drops it.
    start_next_frame: Cell<bool>,
    /// A `start()` is past its instance's `init` and has yet to run `main` (or emit `started`):
    /// a `start()` from game code it runs meanwhile (a handler of the events `init` raised)
    /// leaves that to it. Run there, `main` started early, the `ready` export was refused as
    /// busy and the outer `start()` failed with ERR_BUSY although the mod ran.
    finishing_start: Cell<bool>,
    /// The node was freed: nothing is emitted any more, the instance goes at the next settle.
    gone: Cell<bool>,
    /// Where the core sits in the list of live scripts (O(1) removal).
    pub(crate) live_slot: Cell<Option<usize>>,
    /// WasGo's own dialogs open for this node (closed when it goes).
    pub(crate) dialogs: RefCell<Vec<InstanceId>>,
    /// The background compile `start()` waits for (its number), 0 when none.
    loading: Cell<u64>,
    /// The number of the last background compile started.
    loads: Cell<u64>,
    /// A module whose background compile ended, for the `start()` that follows.
    loaded: RefCell<Option<ResolvedModule>>,
    /// The main-thread time of the mod's entries per frame (`frame_time_usec`).
    pub(crate) frame_time: FrameTime,
    /// The frame budget, kept from the first entry on so that an entry does not look for it.
    budget: OnceCell<live::BudgetRef>,
    /// The state a hot reload saved of the old instance, for the next instance that starts
    /// (see `script_reload.rs`).
    pub(crate) carried_state: RefCell<Option<Vec<u8>>>,
    /// Whether the last instance started was given a carried state by its `load_state`.
    pub(crate) state_loaded: Cell<bool>,
    /// The game stopped the mod with `kill()`: a change of its file does not restart it.
    pub(crate) killed_by_game: Cell<bool>,
    /// How many times the game killed the mod (`kill()`, `WasmEngine.kill_all()`), whether or
    /// not it was still running: what a `start()` compares across the handlers of the old
    /// instance's last signals.
    pub(crate) game_kills: Cell<u64>,
    /// How many of those ended a live instance: what a batch of the mod's signals compares
    /// across its handlers (the rest of a batch goes with the instance the game killed; a
    /// kill of an instance that had trapped already leaves its `trapped` to be emitted).
    pub(crate) live_kills: Cell<u64>,
    /// What the mod's `config` export answered when it last started (`get_mod_config()`);
    /// `None` when it answered nothing (no Dictionary is made for the many mods without one).
    pub(crate) mod_config: RefCell<Option<VarDictionary>>,
    /// The node as a `Gd`, made once: `Gd::try_from_instance_id` asks Godot whether the object
    /// is a `Node` (a class name formatted into a `String` and a call) every time, and the frame
    /// driver and every delivery need the node. Only handed out after a validity check.
    node_gd: RefCell<Option<Gd<Node>>>,
    /// The node's `process_group` and its passes (`script_group.rs`).
    pub(crate) group: GroupPass,
    /// Whether [`ScriptCore::give_processing`] turned the node's processing on already
    /// ([idle, physics]); from then on the flags are the game's.
    processing_given: [Cell<bool>; 2],
    /// Whether [`ScriptCore::give_input`] turned the node's unhandled-input processing on
    /// already; from then on the flag is the game's.
    input_given: Cell<bool>,
    /// Changes of the node's [member module] or [member wasm_file] so far (see
    /// [`ScriptCore::note_source_change`]): `start()` reads both with the other properties
    /// and uses that read when it looks for the module unless this moved in between.
    source_changes: Cell<u64>,
    /// The node's exported properties that `start()` reads (see [`NodeProps`]). Borrowed only
    /// to copy a value in or out: no game code runs while it is.
    pub(crate) node_props: RefCell<NodeProps>,
}

impl ScriptCore {
    pub fn new(node: InstanceId, hooks: NodeHooks) -> Rc<ScriptCore> {
        Rc::new(ScriptCore {
            node,
            hooks,
            instance: RefCell::new(None),
            hot: Cell::new(HotAddresses::NONE),
            key: Cell::new(None),
            idle_status: Cell::new(status::IDLE),
            ready_called: Cell::new(false),
            ready_owed: Cell::new(false),
            emitting_init_end: Cell::new(false),
            init_kill: RefCell::new(None),
            last_error: RefCell::new(String::new()),
            permissions: Permissions::new(),
            unsaved_grants: RefCell::new(Vec::new()),
            asking: RefCell::new(Vec::new()),
            running_mod_id: RefCell::new(None),
            restart_owed: Cell::new(false),
            killed_owed: RefCell::new(None),
            denied: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            main_thread_owned: std::sync::atomic::AtomicBool::new(false),
            delivering: Cell::new(false),
            outbox_seen: Cell::new(u64::MAX),
            quiet_at: Cell::new(None),
            frame_exports: Cell::new(0),
            pending_kill: RefCell::new(None),
            mod_config: RefCell::new(None),
            pending_reload: Cell::new(false),
            reloading: Cell::new(false),
            reload_next_frame: Cell::new(false),
            announcing: Cell::new(0),
            event_allowance: Cell::new(usize::MAX),
            allowance_frame: Cell::new(u64::MAX),
            mod_event_allowance: Cell::new(usize::MAX),
            pressed_keys: RefCell::new(std::collections::HashSet::new()),
            nested_charged: Cell::new(wasgo_core::clock::Span::ZERO),
            start_next_frame: Cell::new(false),
            finishing_start: Cell::new(false),
            gone: Cell::new(false),
            live_slot: Cell::new(None),
            processing_given: [Cell::new(false), Cell::new(false)],
            input_given: Cell::new(false),
            dialogs: RefCell::new(Vec::new()),
            loading: Cell::new(0),
            loads: Cell::new(0),
            frame_time: FrameTime::default(),
            budget: OnceCell::new(),
            loaded: RefCell::new(None),
            carried_state: RefCell::new(None),
            state_loaded: Cell::new(false),
            killed_by_game: Cell::new(false),
            game_kills: Cell::new(0),
            live_kills: Cell::new(0),
            source_changes: Cell::new(0),
            node_props: RefCell::new(NodeProps {
                autostart: true,
                ..NodeProps::default()
            }),
            node_gd: RefCell::new(None),
            group: GroupPass::default(),
        })
    }

    /// Gives the core its node as a `Node` (the node's `init`, from its base: no lookup or
    /// class check later; see `node_gd`).
    pub fn know_node(&self, node: Gd<Node>) {
        *self.node_gd.borrow_mut() = Some(node);
    }

    /// The node, unless it was freed.
    pub fn node(&self) -> Option<Gd<Node>> {
        if self.gone.get() {
            return None;
        }
        if let Some(node) = self.node_gd.borrow().as_ref() {
            // The id is checked against Godot's object table: a freed node answers false.
            if node.is_instance_valid() {
                return Some(node.clone());
            }
            return None;
        }
        let node = Gd::<Node>::try_from_instance_id(self.node).ok()?;
        *self.node_gd.borrow_mut() = Some(node.clone());
        Some(node)
    }

    /// Emits one of the node's signals (nothing once it is freed). No borrow is held: the
    /// handlers may do anything, freeing the node included.
    pub fn emit(&self, signal: &'static str, args: &[Variant]) {
        if let Some(mut node) = self.node() {
            crate::convert::emit(&mut node, signal, args);
        }
    }

    /// What `start()` needs of the node's properties now (`None` once it is freed).
    pub fn props(&self) -> Option<ScriptProps> {
        if self.gone.get() {
            return None;
        }
        let props = self.node_props.borrow().clone();
        Some((self.hooks.props)(&props))
    }

    /// Whether the node was freed.
    pub fn is_gone(&self) -> bool {
        self.gone.get()
    }

    /// The node as error messages name it: its path in the tree, else its name.
    pub fn label(&self) -> String {
        match self.node() {
            Some(node) if node.is_inside_tree() => node.get_path().to_string(),
            Some(node) => node.get_name().to_string(),
            None => "<freed WasmScript>".into(),
        }
    }

    /// The node's name (for messages).
    pub fn node_name(&self) -> String {
        self.node()
            .map(|n| n.get_name().to_string())
            .unwrap_or_else(|| "<freed WasmScript>".into())
    }

    /// The instance, cloned out of its cell (drop it before the next settle).
    pub fn instance(&self) -> Option<Rc<ModInstance>> {
        self.instance.borrow().clone()
    }

    /// Records a failure: printed to Godot's output and kept for `get_last_error()`.
    pub fn fail(&self, code: Error, message: String) -> Error {
        godot_error!("WasGo: {message}");
        *self.last_error.borrow_mut() = message;
        code
    }

    pub fn fail_value(&self, message: String) -> Variant {
        self.fail(Error::FAILED, message);
        Variant::nil()
    }

    pub fn set_last_error(&self, message: String) {
        *self.last_error.borrow_mut() = message;
    }

    /// The message a refused nested entry reports.
    fn nested_message(&self, what: &str) -> String {
        format!(
            "cannot {what} on `{}` from inside one of its own calls (a game function, setter, signal handler or callback of the mod is running); use `call_deferred` to do it after the call",
            self.node_name()
        )
    }

    /// Calls export `name` with the entry counted (see the module docs): the instance's `Rc`
    /// is held for the call only, and pending kills and reloads are settled when the outermost
    /// entry returns.
    pub fn enter(
        self: &Rc<Self>,
        name: &str,
        args: &[Val],
    ) -> Option<Result<Vec<Val>, WasgoError>> {
        self.enter_at(name, |instance, started| {
            instance.call_from(name, args, started)
        })
    }

    /// Runs `call` on the instance as one counted entry, like [`ScriptCore::enter`] (the entries
    /// of the other guest kinds: Go-js functions and callbacks, waPC `invoke`, the state
    /// exports of a reload). A nested entry is refused with [`WasgoError::BadArguments`] (in the
    /// caller's error type) instead of calling.
    pub fn enter_with<T, E: From<WasgoError>>(
        self: &Rc<Self>,
        what: &str,
        call: impl FnOnce(&ModInstance) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        self.enter_at(what, |instance, _| call(instance))
    }

    /// [`ScriptCore::enter_with`] for a `call` that arms the callback budget itself: it gets
    /// the clock reading the entry's measure began with.
    pub fn enter_at<T, E: From<WasgoError>>(
        self: &Rc<Self>,
        what: &str,
        call: impl FnOnce(&ModInstance, wasgo_core::clock::Stamp) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let instance = self.instance()?;
        if self.depth.get() > 0 {
            // Refused like a call with bad arguments: the caller's mistake, shown verbatim.
            let message = self.nested_message(&format!("call `{what}`"));
            return Some(Err(WasgoError::BadArguments(message).into()));
        }
        self.depth.set(self.depth.get() + 1);
        // One pair of clock reads serves the frame budget and the node's frame time.
        let budget = self.budget();
        let nested = budget.is_nested();
        let (result, took) = budget.measure(|started| call(&instance, started));
        self.frame_time.add(took);
        if nested {
            // Called from inside another mod's entry (a game function or handler calling this
            // mod): the frame driver charges each mod its own turn's time, so this entry is
            // charged here, and left out of the time its turns take (`own_time`: it may run
            // inside this mod's own turn too, from a handler of what the turn delivered).
            let script: Rc<dyn LiveScript> = self.clone();
            live::charge_entry(&script, took);
            self.nested_charged
                .set(self.nested_charged.get().saturating_add(took));
        }
        drop(instance);
        self.depth.set(self.depth.get() - 1);
        if self.depth.get() == 0 {
            self.settle();
        }
        Some(result)
    }

    /// The frame budget an entry is measured against: the one kept, else the main thread's
    /// (kept once found; never kept off the main thread, where there is none).
    fn budget(&self) -> live::BudgetRef {
        if let Some(budget) = self.budget.get() {
            return budget.clone();
        }
        let budget = live::frame_budget();
        if budget.is_connected() {
            let _ = self.budget.set(budget.clone());
        }
        budget
    }

    /// Emits what a failed start's `init` raised (`output`, `unexposed_call`, ...), then
    /// `end` if any: `trapped(message)`, `killed(reason)`, `finished(code)`. A handler of any of
    /// them may call `start()` again: when that start's `init` fails too, what it raised and its
    /// end go out at the next frame, so each restart is a `start()` of its own (emitted here, a
    /// handler that started again inside this `start()` went a thousand starts deep until
    /// Godot crashed; the leftover signals did so after the end signal was guarded). The next
    /// frame, not the end of this one: Godot runs deferred calls made by deferred calls in the
    /// same flush, so a handler that always restarts would never let the frame end.
    fn end_failed_start(
        self: &Rc<Self>,
        leftover: Vec<wasgo_core::events::ModEvent>,
        name: &str,
        end: Option<(&'static str, Variant)>,
    ) {
        if !self.emitting_init_end.replace(true) {
            let before = self.key.get();
            self.emit_leftover(leftover, name);
            // A handler of those started the node again: the end of the failed start is not
            // the new instance's (a handler of it would stop or mark the healthy mod).
            if let Some((signal, arg)) = end.filter(|_| !self.started_since(before)) {
                self.emit(signal, &[arg]);
            }
            self.emitting_init_end.set(false);
            return;
        }
        let me = Rc::downgrade(self);
        let node = self.node;
        let name = name.to_string();
        let leftover = RefCell::new(Some(leftover));
        crate::next_frame::at_next_frame("wasgo_init_ended", move || {
            if let (Some(me), Some(events)) = (me.upgrade(), leftover.borrow_mut().take()) {
                me.emit_leftover(events, &name);
            }
            if let Some((signal, arg)) = &end {
                if let Ok(mut node) = Gd::<Node>::try_from_instance_id(node) {
                    crate::convert::emit(&mut node, signal, std::slice::from_ref(arg));
                }
            }
        });
    }

    /// A start whose `init` failed: a kill or reload game code asked for while it ran ends with
    /// it (the instance is gone). Left asked for, the next start that succeeded was killed or
    /// reloaded at once by its `settle`.
    fn forget_asked_in_failed_start(&self) {
        self.pending_kill.borrow_mut().take();
        self.pending_reload.set(false);
    }

    /// Completes what was asked for while an entry ran (outermost entry returned).
    fn settle(self: &Rc<Self>) {
        let kill = self.pending_kill.borrow_mut().take();
        if let Some(reason) = kill {
            self.kill_now(&reason);
        }
        if self.gone.get() {
            self.drop_instance();
            return;
        }
        if self.pending_reload.replace(false) {
            if self.reloading.get() {
                // Asked for by the new instance's `init` (or anything inside it): next frame.
                self.reload_at_next_frame();
                return;
            }
            self.run_deferred_reload();
        }
    }

    /// Reloads the node at the start of the next frame, unless the game kills it before then.
    pub fn reload_at_next_frame(self: &Rc<Self>) {
        if self.reload_next_frame.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        crate::next_frame::at_next_frame("wasgo_deferred_reload", move || {
            let Some(core) = weak.upgrade() else {
                return;
            };
            if core.reload_next_frame.replace(false) {
                core.run_deferred_reload();
            }
        });
    }

    /// Whether `started` is being emitted for this node (see `announcing`).
    pub fn announcing(&self) -> bool {
        self.announcing.get() > 0
    }

    /// Runs `start` at the start of the next frame, unless the game kills the node before then
    /// (a `start()` asked for by a `started` handler).
    pub fn start_at_next_frame(self: &Rc<Self>, start: impl Fn() + 'static) {
        if self.start_next_frame.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        crate::next_frame::at_next_frame("wasgo_deferred_start", move || {
            if weak
                .upgrade()
                .is_some_and(|core| core.start_next_frame.replace(false))
            {
                start();
            }
        });
    }

    /// Emits `started` (see `announcing`).
    fn announce_started(&self) {
        self.announcing.set(self.announcing.get() + 1);
        self.emit("started", &[]);
        self.announcing.set(self.announcing.get() - 1);
    }

    /// Runs a reload asked for inside an entry; one its new instance's `init` asks for in turn
    /// waits for the next frame (see `settle`). It reports its own failures through
    /// `get_last_error()`.
    fn run_deferred_reload(&self) {
        self.reloading.set(true);
        (self.hooks.reload)(self.node);
        self.reloading.set(false);
    }

    /// Turns the node's processing (idle, physics) on the first time its mod can use that kind
    /// of frame: it exports `process` (`physics_process`), or it has a `process_group` and
    /// exports `process_node` or `process_nodes` (`physics_process_node[s]`). As Godot does at `ready` for a script
    /// with `_process`, once: after that the flags are the game's, and `set_process(false)`
    /// stops the mod's `process` and group pass like any node's. A node whose mod uses no
    /// frames never processes, so Godot does not visit it every frame (measured: about 0.45 us
    /// per node per frame for a processing node that does nothing; `BENCHMARKS.md`).
    pub fn give_processing(&self) {
        let bits = self.frame_exports.get();
        let group = self.group.is_on();
        let kinds = [
            bits & FRAME_PROCESS != 0 || (group && bits & FRAME_PROCESS_NODE != 0),
            bits & FRAME_PHYSICS != 0 || (group && bits & FRAME_PHYSICS_NODE != 0),
        ];
        for (physics, wants) in kinds.into_iter().enumerate() {
            if !wants || self.processing_given[physics].get() {
                continue;
            }
            let Some(mut node) = self.node() else { return };
            self.processing_given[physics].set(true);
            if physics == 1 {
                node.set_physics_process(true);
            } else {
                node.set_process(true);
            }
        }
    }

    /// Turns the node's unhandled-input processing on, once, when its mod can take input: it
    /// exports `input` and `wasgo/safety/input_events` is on (read only for such a mod). Godot
    /// turns it on at `ready` for every `WasmScript` (the class overrides `_unhandled_input`),
    /// and each event then entered every node, borrowed (about 1 us per node: a game with
    /// 1000 mod nodes paid about a millisecond per input event, mods without `input`
    /// included); [`ScriptCore::hold_back_input`] turns it off at `ready` instead. After this
    /// the flag is the game's, as with [`ScriptCore::give_processing`].
    pub fn give_input(&self) {
        if self.input_given.get()
            || !self
                .instance()
                .is_some_and(|i| i.has_export(wasgo_catalog::abi::export::INPUT))
            || !settings::input_events()
        {
            return;
        }
        let Some(mut node) = self.node() else { return };
        self.input_given.set(true);
        node.set_process_unhandled_input(true);
    }

    /// At the node's `ready` (after Godot turned unhandled-input processing on for it, before
    /// an autostart): turns it off unless [`ScriptCore::give_input`] gave it already.
    pub fn hold_back_input(&self) {
        if self.input_given.get() {
            return;
        }
        if let Some(mut node) = self.node() {
            node.set_process_unhandled_input(false);
        }
    }

    /// Whether `start()` waits for a background compile ([`status::LOADING`]).
    pub fn is_loading(&self) -> bool {
        self.loading.get() != 0
    }

    /// A background compile for `start()` begins: the status is LOADING until it ends. Returns
    /// its number for [`ScriptCore::end_loading`].
    pub fn begin_loading(&self) -> u64 {
        let load = self.loads.get() + 1;
        self.loads.set(load);
        self.loading.set(load);
        self.idle_status.set(status::LOADING);
        load
    }

    /// The background compile number `load` ended: true if `start()` still waits for it (it
    /// was not cancelled by `kill()` or replaced), which then stops waiting.
    pub fn end_loading(&self, load: u64) -> bool {
        if self.loading.get() != load || self.gone.get() {
            return false;
        }
        self.loading.set(0);
        self.idle_status.set(status::IDLE);
        true
    }

    /// Stops waiting for a background compile (its module is dropped when it ends).
    fn cancel_loading(&self) {
        if self.loading.replace(0) != 0 {
            self.idle_status.set(status::IDLE);
        }
        self.loaded.borrow_mut().take();
    }

    /// Hands the module a background compile made to the next `start()`.
    pub fn set_loaded(&self, module: ResolvedModule) {
        *self.loaded.borrow_mut() = Some(module);
    }

    /// The module a background compile made, once.
    pub fn take_loaded(&self) -> Option<ResolvedModule> {
        self.loaded.borrow_mut().take()
    }

    /// Drops a module handed to `start()` that it did not use.
    pub(crate) fn clear_loaded(&self) {
        self.loaded.borrow_mut().take();
    }

    /// Ends the instance with `reason`; inside an entry, throws the switch and finishes the kill
    /// when the entry returns. `killed` is emitted by the next pump. A background compile
    /// `start()` waits for is cancelled.
    pub fn kill_with(self: &Rc<Self>, reason: &str) {
        self.cancel_loading();
        if self.depth.get() > 0 {
            if let Some(instance) = self.instance() {
                instance.request_kill(reason);
            }
            self.pending_kill
                .borrow_mut()
                .get_or_insert_with(|| reason.to_string());
            return;
        }
        self.kill_now(reason);
    }

    /// The game stopped the mod (`kill()`, `WasmEngine.kill_all()`): like
    /// [`ScriptCore::kill_with`], and the game's word is the last: a reload asked for earlier in
    /// the same mod call is dropped, the `killed` reason is this one, and a change of the
    /// mod's file does not bring it back.
    pub fn kill_by_game(self: &Rc<Self>, reason: &str) {
        // While `init` runs inside `start()` (game code it called asked), before the instance
        // is stored: it stops at its next check, and `start()` reports the kill. (A reload
        // asked for there waits for `init` to return instead: `settle` does it.)
        if let Some(switch) = self.init_kill.borrow().clone() {
            if switch.kill(reason) {
                if let Some(runtime) = runtime() {
                    runtime.engine().increment_epoch();
                }
            }
        }
        let cancels_start =
            self.instance().is_none() && self.init_kill.borrow().is_none() && self.is_starting();
        self.killed_by_game.set(true);
        self.game_kills.set(self.game_kills.get() + 1);
        if self.instance().is_some_and(|i| i.status().is_live()) {
            self.live_kills.set(self.live_kills.get() + 1);
        }
        self.pending_reload.set(false);
        self.reload_next_frame.set(false);
        self.start_next_frame.set(false);
        self.restart_owed.set(false);
        if let Some(pending) = self.pending_kill.borrow_mut().as_mut() {
            *pending = reason.to_string();
        }
        self.kill_with(reason);
        if cancels_start && !self.gone.get() {
            self.announce_cancelled_start(reason);
        }
    }

    /// [`ScriptCore::kill_by_game`] when the node has no live instance but one is on its way:
    /// its module is being compiled for a `start()` (LOADING), or a start or reload is owed (a
    /// changed source, a reload asked for the next frame). `WasmEngine.kill_all()` reaches live
    /// instances through the frame list; these started once their compile ended.
    pub fn kill_if_starting(self: &Rc<Self>, reason: &str) {
        if self.is_starting() && !self.gone.get() {
            self.kill_by_game(reason);
        }
    }

    /// Whether a start is on its way: the module is being compiled for a `start()`, or a start
    /// or reload is owed.
    fn is_starting(&self) -> bool {
        self.is_loading()
            || self.restart_owed.get()
            || self.pending_reload.get()
            || self.reload_next_frame.get()
            || self.start_next_frame.get()
    }

    /// A `kill()` that cancelled a start on its way with no instance to end: the mod is killed
    /// all the same (`STATUS_KILLED`), and `killed(reason)` is emitted at the next frame (after
    /// `kill()` returned, so a game that awaits the signal gets it), unless the node was
    /// started again by then.
    fn announce_cancelled_start(self: &Rc<Self>, reason: &str) {
        self.idle_status.set(status::KILLED);
        *self.killed_owed.borrow_mut() = Some(reason.to_string());
        let core = Rc::downgrade(self);
        crate::next_frame::at_next_frame("wasgo_killed_while_starting", move || {
            let Some(core) = core.upgrade() else { return };
            if core.gone.get() {
                return;
            }
            let Some(reason) = core.killed_owed.borrow_mut().take() else {
                return;
            };
            core.emit("killed", &[GString::from(reason.as_str()).to_variant()]);
        });
    }

    /// [`ScriptCore::kill_by_game`] when the node's instance is being made (its `init` runs):
    /// `WasmEngine.kill_all()` reaches live instances through the frame list, which this one
    /// joins only after `init`.
    pub fn kill_if_in_init(self: &Rc<Self>, reason: &str) {
        // `init_kill` is held exactly while `init` runs inside `start()`.
        if self.init_kill.borrow().is_some() && !self.gone.get() {
            self.kill_by_game(reason);
        }
    }

    fn kill_now(self: &Rc<Self>, reason: &str) {
        let mut slot = self.instance.borrow_mut();
        if let Some(instance) = slot.as_mut() {
            match Rc::get_mut(instance) {
                Some(instance) => {
                    instance.kill(reason);
                }
                // Someone up the stack still holds the instance outside any entry (game code
                // ran inside something WasGo did while holding it: a game's logger inside the
                // error printed for a failed `call_export`). The switch makes any entry trap
                // meanwhile; the kill completes at the next frame (status, `killed`), unless
                // another instance runs by then. Only asked for, the node said RUNNING for ever.
                None => {
                    instance.request_kill(reason);
                    let (me, key, reason) =
                        (Rc::downgrade(self), self.key.get(), reason.to_string());
                    crate::next_frame::at_next_frame("wasgo_held_kill", move || {
                        if let Some(core) = me.upgrade() {
                            if core.key.get() == key && !core.gone.get() && core.depth.get() == 0 {
                                core.kill_now(&reason);
                                core.pump();
                            }
                        }
                    });
                }
            }
        }
    }

    /// The node was freed (its `Drop`): nothing is emitted any more; the instance is killed,
    /// and dropped now or when the entry in progress returns.
    pub fn node_freed(self: &Rc<Self>) {
        self.gone.set(true);
        live::remove(&self.live_slot);
        for id in self.dialogs.borrow_mut().drain(..) {
            permissions::close_dialog(id);
        }
        if self.depth.get() > 0 {
            if let Some(instance) = self.instance() {
                instance.request_kill("its node was freed");
            }
            return;
        }
        self.drop_instance();
    }

    /// Drops the instance (killing it if alive, without a signal) and its object table.
    pub fn drop_instance(&self) {
        let instance = self.instance.borrow_mut().take();
        self.running_mod_id.borrow_mut().take();
        self.hot.set(HotAddresses::NONE);
        self.quiet_at.set(None);
        self.frame_exports.set(0);
        if let Some(key) = self.key.take() {
            objects::unregister(key);
        }
        live::remove(&self.live_slot);
        drop(instance);
    }

    /// The node's [member module] or [member wasm_file] was set (by its setters, or by a
    /// reload that loads the file again).
    pub fn note_source_change(&self) {
        self.source_changes
            .set(self.source_changes.get().wrapping_add(1));
    }

    /// The game pointed the node at another module (its [member module] or [member wasm_file]
    /// setter): state an old module saved for a reload is not the new one's to load (a hostile
    /// module whose reload failed could otherwise hand crafted bytes to whatever module the
    /// node runs next, announced by `reloaded(true)` as its own).
    ///
    /// A `start()` waiting for the old module's background compile starts the new one instead
    /// (at the end of the frame): before, the old module started when its compile ended, with
    /// the new source's properties and sandbox.
    pub fn note_new_source(self: &Rc<Self>) {
        self.note_source_change();
        // A node set up on another thread (a scene instantiated there) has no state of a run
        // to drop yet, and the main thread's cells are not this thread's to touch.
        if !godot::init::is_main_thread() {
            return;
        }
        let _dropped = self.carried_state.borrow_mut().take();
        if self.is_loading() {
            self.cancel_loading();
            self.restart_owed.set(true);
            let weak = self.weak();
            let node = self.node;
            Callable::from_fn("wasgo_start_new_source", move |_args: &[&Variant]| {
                let owed = weak.upgrade().is_some_and(|core| {
                    let has_source = {
                        let p = core.node_props.borrow();
                        !p.wasm_file.is_empty() || p.module.is_some()
                    };
                    core.restart_owed.replace(false) && !core.is_gone() && has_source
                });
                if owed {
                    if let Ok(mut node) = Gd::<Node>::try_from_instance_id(node) {
                        node.call("start", &[]);
                    }
                }
                Variant::nil()
            })
            .call_deferred(&[]);
        }
    }

    /// The number of [`ScriptCore::note_source_change`] calls so far.
    pub fn source_changes(&self) -> u64 {
        self.source_changes.get()
    }

    /// One of the STATUS_* constants.
    pub fn status(&self) -> i64 {
        match self.instance.borrow().as_ref().map(|i| i.status()) {
            None => self.idle_status.get(),
            Some(ModStatus::Alive | ModStatus::RunningMain) => status::RUNNING,
            Some(ModStatus::Finished | ModStatus::Exited) => status::FINISHED,
            Some(ModStatus::Trapped) => status::TRAPPED,
            Some(ModStatus::Killed) => status::KILLED,
        }
    }

    /// `start()`: instantiates the mod if needed (its module from `resolve`, called only then)
    /// and runs its `main`. While a background compile runs, the mod starts when it ends: `OK`.
    pub fn start(
        self: &Rc<Self>,
        node_ready: bool,
        resolve: impl FnOnce(&Rc<ScriptCore>, &StartSettings) -> Resolution,
    ) -> Error {
        // The game's own start stands for a start owed after a change of source, and a start
        // after a kill that cancelled one is announced instead of that kill.
        self.restart_owed.set(false);
        self.killed_owed.borrow_mut().take();
        if self.is_loading() {
            return Error::OK;
        }
        // Killed inside the mod call now running (the kill completes when it returns): not
        // alive any more, so this asks for a new instance, which waits for that call's end.
        let kill_pending = self.pending_kill.borrow().is_some();
        if let Some(instance) = self.instance().filter(|_| !kill_pending) {
            match instance.status() {
                // The start in progress runs `main` (or announces the mod) once it is done.
                ModStatus::Alive if self.finishing_start.get() => return Error::OK,
                ModStatus::RunningMain => {
                    return self.fail(
                        Error::ERR_BUSY,
                        format!("`{}` is already running its `main`", instance.name()),
                    )
                }
                ModStatus::Alive if instance.main_kind().is_some() => {
                    drop(instance);
                    return self.run_main();
                }
                // A callback-only mod that is alive is already started.
                ModStatus::Alive => return Error::OK,
                _ => {}
            }
        }
        if self.depth.get() > 0 {
            return self.fail(Error::ERR_BUSY, self.nested_message("start a new instance"));
        }
        // A fresh instance: drop the old one (its events are delivered first).
        let before = self.key.get();
        let kills = self.game_kills.get();
        self.deliver_before_drop();
        if self.gone.get() {
            return Error::ERR_UNAVAILABLE;
        }
        if self.game_kills.get() != kills && !self.started_since(before) {
            // A handler of those events killed the mod (`kill()`, `WasmEngine.kill_all()`): the
            // game's word is the last, as for a reload.
            self.drop_instance();
            self.idle_status.set(status::KILLED);
            self.set_last_error(format!(
                "the start of `{}` was cancelled: the game killed the mod from a handler of its last instance's signals (`kill()` or `WasmEngine.kill_all()`)",
                self.label()
            ));
            return Error::ERR_UNAVAILABLE;
        }
        if self.started_since(before) {
            // A handler of those events started the node: its start made the instance the node
            // runs (and announced it); a second one here would drop it unannounced.
            return match self.status() {
                status::RUNNING | status::FINISHED => Error::OK,
                _ => Error::ERR_CANT_CREATE,
            };
        }
        self.drop_instance();
        self.denied.borrow_mut().clear();
        // The settings this start reads, read now (no game code runs between here and the
        // instance's `init`).
        let kept = crate::settings_kept::for_start();
        let ResolvedModule { name, compiled } = match resolve(self, &kept) {
            Resolution::Ready(module) => module,
            Resolution::Loading => return Error::OK,
            Resolution::Failed => return Error::ERR_CANT_OPEN,
        };
        // The node's properties as they are now, with the module: the old instance's events,
        // delivered above, ran game code that may have changed them (a handler pointing the
        // node at another mod, at another level). Read before, the new mod ran under the old
        // one's level, limits and id (its grants saved under the old mod's name).
        let Some(props) = self.props() else {
            return Error::ERR_UNAVAILABLE;
        };
        let props = &props;
        let Some(runtime) = runtime() else {
            return self.fail(
                Error::ERR_CANT_OPEN,
                "the WasGo runtime is not running (see the first WasGo error in the log)".into(),
            );
        };
        let key = runtime.next_instance_key();
        let config = self.instance_config(props, &name, key, &kept);
        *self.running_mod_id.borrow_mut() = props.mod_id.clone();
        self.report_manifest(&compiled, config.level);
        self.run_config(&runtime, &compiled, &name, config.limits.memory_bytes);
        self.ready_called.set(false);
        self.ready_owed.set(false);
        objects::register(
            key,
            self.node,
            self.node(),
            config.level,
            &wasgo_core::grants::mod_id(&config.name),
        );
        self.key.set(Some(key));
        // `init` runs inside `new`: count it as an entry.
        let switch = KillSwitch::new();
        *self.init_kill.borrow_mut() = Some(switch.clone());
        self.depth.set(self.depth.get() + 1);
        let mut leftover = Vec::new();
        let made = ModInstance::new_killable(&runtime, &compiled, config, switch, &mut leftover);
        self.depth.set(self.depth.get() - 1);
        self.init_kill.borrow_mut().take();
        match made {
            Ok(instance) => {
                self.frame_exports.set(frame_exports_of(&instance));
                let instance = Rc::new(instance);
                let mut hot = instance.hot_addresses();
                hot.add(Rc::as_ptr(&instance) as usize, 1);
                self.hot.set(hot);
                *self.instance.borrow_mut() = Some(instance);
                self.quiet_at.set(None);
                self.killed_by_game.set(false);
                live::add(self.clone());
                self.give_processing();
                self.give_input();
            }
            Err(WasgoError::Trap(info)) => {
                self.drop_instance();
                self.forget_asked_in_failed_start();
                self.idle_status.set(status::TRAPPED);
                self.set_last_error(info.message.clone());
                godot_error!("WasGo: {}", info.message);
                let message = GString::from(&info.message).to_variant();
                self.end_failed_start(leftover, &name, Some(("trapped", message)));
                return Error::ERR_CANT_CREATE;
            }
            Err(WasgoError::Killed { reason, .. }) => {
                // Game code `init` called killed the mod (`kill()`, `WasmEngine.kill_all()`):
                // `init` stopped at its next check; the mod is killed, as the game asked.
                self.drop_instance();
                self.forget_asked_in_failed_start();
                self.idle_status.set(status::KILLED);
                self.set_last_error(format!(
                    "`{}` was killed while its `init` ran ({reason})",
                    self.label()
                ));
                let reason = GString::from(&reason).to_variant();
                self.end_failed_start(leftover, &name, Some(("killed", reason)));
                return Error::ERR_CANT_CREATE;
            }
            Err(WasgoError::Exited { code, .. }) => {
                // WASI `exit` from `init` (or a reactor's `_initialize`): the mod ended as it
                // chose, reported as from anywhere else, `finished(code)`, never as a failure.
                self.drop_instance();
                self.forget_asked_in_failed_start();
                self.idle_status.set(status::FINISHED);
                let code = (code as i64).to_variant();
                self.end_failed_start(leftover, &name, Some(("finished", code)));
                return Error::OK;
            }
            Err(e) => {
                self.drop_instance();
                self.forget_asked_in_failed_start();
                let failed = self.fail(Error::ERR_CANT_CREATE, e.to_string());
                self.end_failed_start(leftover, &name, None);
                return failed;
            }
        }
        self.finishing_start.set(true);
        let outcome = self.finish_start(key, node_ready);
        self.finishing_start.set(false);
        outcome
    }

    /// The steps of `start()` after its instance's `init`: what `init` asked for and raised,
    /// the carried state, `ready`, then `main` or `started`. Game code run by each step may
    /// have started the node again or killed it (see `taken_over`).
    fn finish_start(self: &Rc<Self>, key: InstanceKey, node_ready: bool) -> Error {
        // Game code run by `init` (a game function) and by each step after it (output and
        // event handlers in `pump`, the carried state, the `ready` export) may have started the
        // node again (`reload()`: that start made, started and announced the instance the node
        // now runs) or killed it: then nothing is left to do here, and no `started` follows a
        // `killed`. A reload left for the next frame is a start too (`OK`).
        let taken_over = || {
            if self.reload_next_frame.get() {
                return Some(Error::OK);
            }
            let live = self.instance().is_some_and(|i| i.status().is_live());
            match (self.key.get() == Some(key), live) {
                (true, true) => None,
                (false, true) => Some(Error::OK),
                (_, false) => Some(Error::ERR_CANT_CREATE),
            }
        };
        self.settle();
        if let Some(outcome) = taken_over() {
            return outcome;
        }
        self.pump();
        if let Some(outcome) = taken_over() {
            return outcome;
        }
        self.load_carried_state();
        if let Some(outcome) = taken_over() {
            return outcome;
        }
        if node_ready {
            self.call_ready_export();
            if let Some(outcome) = taken_over() {
                return outcome;
            }
        }
        if self
            .instance()
            .is_some_and(|i| i.main_kind().is_some() && i.status().is_live())
        {
            return self.run_main();
        }
        self.announce_started();
        Error::OK
    }

    fn run_main(&self) -> Error {
        let result = {
            let mut slot = self.instance.borrow_mut();
            let Some(instance) = slot.as_mut() else {
                return Error::ERR_UNCONFIGURED;
            };
            match Rc::get_mut(instance) {
                Some(instance) => instance.start_main(),
                None => return self.fail(Error::ERR_BUSY, self.nested_message("start `main`")),
            }
        };
        match result {
            Ok(_) => {
                self.announce_started();
                Error::OK
            }
            Err(WasgoError::Busy { name, .. }) => self.fail(
                Error::ERR_BUSY,
                format!("`{name}` is already running its `main`"),
            ),
            Err(e) => self.fail(Error::ERR_CANT_CREATE, e.to_string()),
        }
    }

    /// Runs the `ready` export once per instance.
    pub fn call_ready_export(self: &Rc<Self>) {
        if self.ready_called.get() {
            return;
        }
        let Some(instance) = self.instance() else {
            return;
        };
        if !instance.status().is_live() {
            return;
        }
        // Ready inside one of the mod's own calls (a game function it called put the node in the
        // tree): owed until the call returns, like a `ready` that waits for `main`. Entered now,
        // it was refused as a nested entry and never ran.
        if self.depth.get() > 0 {
            self.ready_owed.set(true);
            wasgo_core::events::note_activity();
            return;
        }
        self.ready_called.set(true);
        if instance.has_export(wasgo_catalog::abi::export::READY) {
            drop(instance);
            if let Some(Err(e)) = self.enter(wasgo_catalog::abi::export::READY, &[]) {
                self.set_last_error(e.to_string());
            }
            self.pump();
        }
    }

    /// `process`/`physics_process` for one frame. The frame driver calls it right after
    /// [`LiveScript::runs_frame_export`] said the mod runs `export` (nothing that can run game
    /// code comes between), so the instance is not checked again here; should it have changed
    /// all the same, the entry fails as any entry into a busy or ended instance does.
    pub fn frame_callback(self: &Rc<Self>, export: &str, delta: f64) {
        if let Some(Err(e)) = self.enter(export, &[Val::F64(delta.to_bits())]) {
            // A kill the game asked for from inside the call (a game function it called) ends
            // it at its next host call: the game knows, and its last call's own error (a
            // `start()` refused in there) stays the one `get_last_error()` tells.
            let asked = matches!(e, WasgoError::Killed { .. }) && self.killed_by_game.get();
            if !asked {
                self.set_last_error(e.to_string());
            }
        }
        self.pump();
    }

    /// The first half of `reload()`: kills the instance (emitting `killed`) and drops it.
    /// Returns false when called inside an entry: the reload is then done (through the node's
    /// `reload` hook) when the outermost entry returns; and when a `killed` handler started the
    /// node again (that start stands for the reload's).
    pub fn begin_reload(self: &Rc<Self>) -> bool {
        self.kill_with("reloading");
        if self.depth.get() > 0 {
            self.pending_reload.set(true);
            return false;
        }
        let before = self.key.get();
        self.deliver_before_drop();
        if self.started_since(before) {
            // A `killed` handler started the node: that start is the one the reload would make.
            return false;
        }
        self.drop_instance();
        !self.gone.get()
    }

    /// `grant_permission`: takes effect at once and is saved under the mod's id (or at the next
    /// `start()` when the id is not known yet).
    pub fn grant(&self, kind: &str) {
        self.grant_as(kind, self.mod_id().as_deref());
    }

    /// Grants `kind` now and saves it under `mod_id` (kept for the next `start()` without one).
    pub fn grant_as(&self, kind: &str, mod_id: Option<&str>) {
        let Some(permission) = Permission::parse(kind) else {
            godot_warn!(
                "WasGo: `{kind}` is not a permission kind WasGo checks ({})",
                Permission::names()
            );
            return;
        };
        self.permissions.grant(permission);
        self.denied.borrow_mut().retain(|k| k != kind);
        match mod_id {
            Some(id) => {
                permissions::forget_denial(id, kind);
                permissions::save(id, kind)
            }
            None => {
                if let Some(id) = self.unsaved_denial_id() {
                    permissions::forget_denial(&id, kind);
                }
                let mut unsaved = self.unsaved_grants.borrow_mut();
                if !unsaved.iter().any(|k| k == kind) {
                    unsaved.push(kind.to_string());
                }
            }
        }
    }

    /// `revoke_permission`: takes effect at once; the saved grant is removed.
    pub fn revoke(&self, kind: &str) {
        if let Some(permission) = Permission::parse(kind) {
            self.permissions.revoke(permission);
        }
        self.unsaved_grants.borrow_mut().retain(|k| k != kind);
        if let Some(id) = self.mod_id() {
            permissions::forget_denial(&id, kind);
            permissions::forget(&id, kind);
        } else if let Some(id) = self.unsaved_denial_id() {
            permissions::forget_denial(&id, kind);
        }
    }

    /// The id the player's Deny is kept under for a mod without an id (a module from bytes):
    /// the one WasGo's dialog derived from the running instance's name.
    fn unsaved_denial_id(&self) -> Option<String> {
        let instance = self.instance()?;
        let name = wasgo_core::text::printable_line(instance.name()).into_owned();
        Some(wasgo_core::grants::mod_id(&name))
    }

    /// The id grants are saved under: the running instance's mod (as it started), else the
    /// mod the node's properties name now.
    pub fn mod_id(&self) -> Option<String> {
        if self.instance.borrow().is_some() {
            if let Some(id) = self.running_mod_id.borrow().clone() {
                return Some(id);
            }
        }
        self.props().and_then(|p| p.mod_id)
    }

    fn instance_config(
        &self,
        props: &ScriptProps,
        name: &str,
        key: InstanceKey,
        kept: &StartSettings,
    ) -> InstanceConfig {
        let ceiling = kept.ceiling;
        let (level, request) = SafetyLevel::resolve(props.safety_level, ceiling);
        match request {
            wasgo_core::LevelRequest::AsAsked => {}
            wasgo_core::LevelRequest::Clamped => godot_warn!(
                "WasGo: `{}` asks for safety level {}, but the project allows at most {} (`{}`); running at {}",
                self.node_name(),
                props.safety_level,
                ceiling,
                settings::LEVEL,
                level
            ),
            wasgo_core::LevelRequest::NotALevel => godot_warn!(
                "WasGo: `{}` has `safety_level` {}, which is no level (0 follows the project, else 1, 2 or 3); running at level {} (the safest)",
                self.node_name(),
                props.safety_level,
                level
            ),
        }
        for (property, value) in [
            ("memory_limit_mb", props.memory_limit_mb),
            ("main_timeout_ms", props.main_timeout_ms),
        ] {
            // Once per property and value a run: a game spawning many such nodes, or starting
            // one again and again, is told once (naming the first node).
            thread_local! {
                static WARNED: RefCell<std::collections::HashSet<(&'static str, i64)>> =
                    RefCell::new(std::collections::HashSet::new());
            }
            let fresh = value < 0
                && WARNED.with(|w| {
                    let mut w = w.borrow_mut();
                    w.len() < 1024 && w.insert((property, value))
                });
            if fresh {
                godot_warn!(
                    "WasGo: `{}` has `{property}` {value}, which must be 0 (the project's setting) or positive; using the project's (said once for every node with this value)",
                    self.node_name()
                );
            }
        }
        // The sandbox quota and the network settings are level 2's: level 1 has no files and
        // no HTTP. A node's own memory cap and `main` timeout (above 0) win over the project's.
        let wrapped = level >= SafetyLevel::Wrapped;
        let limits = kept.limits(
            props.memory_limit_mb.max(0) as u64,
            props.main_timeout_ms.max(0) as u64,
            wrapped,
        );
        let network = if wrapped {
            kept.network()
        } else {
            wasgo_core::NetworkConfig::default()
        };
        // The mod's grants: what was saved for its id, plus the project's auto-granted kinds.
        let mod_id = wasgo_core::grants::mod_id(name);
        let unsaved = std::mem::take(&mut *self.unsaved_grants.borrow_mut());
        for kind in unsaved {
            permissions::save(&mod_id, &kind);
        }
        let mut granted = permissions::saved(&mod_id);
        granted.extend(kept.auto_grant.iter().cloned());
        self.permissions
            .replace(granted.iter().filter_map(|k| Permission::parse(k)));
        // Folders only from level 2 on: level 1 has no WASI folder and no file functions (they
        // are level 2's), so it needs none of these paths.
        let dirs = if wrapped {
            // A mod never writes over its own code: code inside `user://mods/<mod_id>/` (a
            // folder mod) gets `<mod_id>-files`. A sandbox a mod may write is remembered
            // before it runs, so `scan_mods` never lists what it writes.
            let inside = crate::sandboxes::code_inside_id_folder(&props.source_path, &mod_id);
            let sandbox = wasgo_core::mod_list::sandbox_name(&mod_id, inside);
            crate::sandboxes::remember_sandbox(&sandbox);
            WasiDirs {
                sandbox: Some(settings::globalize(&format!("user://mods/{sandbox}")).into()),
                res: Some(settings::globalize("res://").into()),
                user: Some(settings::globalize("user://").into()),
            }
        } else {
            WasiDirs::default()
        };
        InstanceConfig {
            name: name.to_string(),
            level,
            limits,
            permissions: self.permissions.clone(),
            key,
            network,
            args: props
                .args
                .as_slice()
                .iter()
                .map(crate::convert::text)
                .collect(),
            dirs,
        }
    }

    /// Reports, before the mod runs, what its manifest says that this start does not give: a
    /// malformed manifest, a level above `level` or permissions no mod gets at `level`. Kept as
    /// the node's last error and printed as a warning; the mod still starts (the manifest is a
    /// claim, the level is the game's).
    /// Runs the mod's `config` export before its instance is made (a throwaway instance without
    /// host functions, see `wasgo_core::mod_config`); a failure is warned about and kept as the
    /// last error, and the mod starts without a config.
    fn run_config(
        &self,
        runtime: &wasgo_core::Runtime,
        compiled: &CompiledModule,
        name: &str,
        max_memory: usize,
    ) {
        let answer = match runtime.run_config(compiled, name, max_memory) {
            Ok(Some(pairs)) => Some(crate::convert::config_dictionary(&pairs)),
            Ok(None) => None,
            Err(e) => {
                let message = format!("{e}; it starts without a config");
                godot_warn!("WasGo: {message}");
                self.set_last_error(message);
                None
            }
        };
        *self.mod_config.borrow_mut() = answer;
    }

    fn report_manifest(&self, compiled: &CompiledModule, level: SafetyLevel) {
        let problems = match compiled.manifest() {
            Ok(Some(m)) => wasgo_core::manifest::claims_above(m, level),
            Ok(None) => Vec::new(),
            Err(e) => vec![format!("{e}; it starts without a manifest")],
        };
        if problems.is_empty() {
            return;
        }
        let message = format!("`{}`: {}", self.node_name(), problems.join("; "));
        godot_warn!("WasGo: {message}");
        self.set_last_error(message);
    }

    /// A `Weak` for Callables that must not keep the core alive.
    pub fn weak(self: &Rc<Self>) -> Weak<ScriptCore> {
        Rc::downgrade(self)
    }
}

/// `ScriptCore::frame_exports`' bit for `process`.
const FRAME_PROCESS: u8 = 1;
/// `ScriptCore::frame_exports`' bit for `physics_process`.
const FRAME_PHYSICS: u8 = 2;
/// `ScriptCore::frame_exports`' bit for `process_node` or `process_nodes` (the `process_group`
/// pass).
const FRAME_PROCESS_NODE: u8 = 4;
/// `ScriptCore::frame_exports`' bit for `physics_process_node` or `physics_process_nodes`.
const FRAME_PHYSICS_NODE: u8 = 8;

/// The frame-export bit of `export` (`process` or `physics_process`), 0 for any other export.
fn frame_bit(export: &str) -> u8 {
    use wasgo_catalog::abi::export as names;
    if export == names::PROCESS {
        FRAME_PROCESS
    } else if export == names::PHYSICS_PROCESS {
        FRAME_PHYSICS
    } else {
        0
    }
}

/// The frame exports `instance` has, as `ScriptCore::frame_exports` bits.
fn frame_exports_of(instance: &ModInstance) -> u8 {
    use wasgo_catalog::abi::export as names;
    [
        (names::PROCESS, FRAME_PROCESS),
        (names::PHYSICS_PROCESS, FRAME_PHYSICS),
        (names::PROCESS_NODE, FRAME_PROCESS_NODE),
        (names::PHYSICS_PROCESS_NODE, FRAME_PHYSICS_NODE),
        (names::PROCESS_NODES, FRAME_PROCESS_NODE),
        (names::PHYSICS_PROCESS_NODES, FRAME_PHYSICS_NODE),
    ]
    .into_iter()
    .filter(|(name, _)| instance.has_export(name))
    .fold(0, |bits, (_, bit)| bits | bit)
}

impl LiveScript for ScriptCore {
    fn hot_addresses(&self) -> HotAddresses {
        self.hot.get()
    }

    fn own_time(&self) -> wasgo_core::clock::Span {
        self.frame_time
            .total()
            .saturating_sub(self.nested_charged.get())
    }

    fn live_slot(&self) -> &Cell<Option<usize>> {
        &self.live_slot
    }

    fn runs_frame_export(&self, export: &str) -> bool {
        // Borrowed, not cloned, and one status read: the driver asks this of every node every
        // frame. Live and not running `main`: alive, or `main` finished.
        let bit = frame_bit(export);
        if bit != 0 && self.frame_exports.get() & bit == 0 {
            return false;
        }
        self.instance.borrow().as_ref().is_some_and(|instance| {
            matches!(instance.status(), ModStatus::Alive | ModStatus::Finished)
                && (bit != 0 || instance.has_export(export))
        })
    }

    fn delivers_every_frame(&self) -> bool {
        self.instance
            .borrow()
            .as_ref()
            .is_some_and(|i| i.main_kind() == Some(wasgo_core::MainKind::GoJs))
    }

    fn wants_frames(&self) -> bool {
        self.group.is_on() || self.frame_exports.get() & (FRAME_PROCESS | FRAME_PHYSICS) != 0
    }

    fn frame_node(&self) -> Option<Gd<Node>> {
        self.node()
    }

    fn name(&self) -> String {
        self.node_name()
    }

    fn run_frame(self: Rc<Self>, export: &str, delta: f64) {
        self.frame_callback(export, delta);
    }

    fn runs_group_pass(&self) -> bool {
        self.group.is_on()
    }

    fn run_group_pass(self: Rc<Self>, physics: bool, delta: f64) {
        (self.hooks.group_pass)(&self, physics, delta);
    }

    fn deliver(self: Rc<Self>) {
        self.pump();
        if self.ready_owed.get() && self.depth.get() == 0 {
            let main_done = self
                .instance()
                .is_some_and(|i| i.status() != ModStatus::RunningMain);
            if main_done {
                self.ready_owed.set(false);
                self.call_ready_export();
            }
        }
    }

    fn end_trapped(self: Rc<Self>, message: &str) {
        // Outside every entry (the frame's end): the instance traps with the message. Inside
        // one (cannot happen from the frame driver), killed when it returns instead.
        let trapped = self.depth.get() == 0
            && self
                .instance
                .borrow_mut()
                .as_mut()
                .and_then(Rc::get_mut)
                .is_some_and(|instance| instance.end_trapped(message));
        if !trapped {
            self.kill_with(message);
        }
        self.pump();
    }

    fn end_for_game(self: Rc<Self>, reason: &str) {
        self.kill_by_game(reason);
        self.pump();
    }
}
