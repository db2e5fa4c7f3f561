//! One running mod: its store, its worker thread for `main`, its main-thread entries and its
//! kill switch.
//!
//! The store lives behind a mutex. `main` holds it on the worker thread for as long as it runs;
//! a main-thread entry (`init`, `process`, `call_export`, ...) only *tries* the lock and reports
//! [`WasgoError::Busy`] when `main` has it, so the game never blocks on a mod. Any trap ends the
//! instance and frees its memory; `kill()` ends it from outside within about one epoch tick.

use crate::catalog::Signature;
use crate::error::{TrapInfo, TrapKind, WasgoError};
use crate::events::{event_channel, EventQueue, EventSink, ModEvent, OutputSource};
use crate::level::SafetyLevel;
use crate::limits::Limits;
use crate::module::CompiledModule;
use crate::runtime::Runtime;
use crate::state::{DeadlineKind, HostTrap, InstanceState, KillSwitch, KilledTrap};
use crate::wasi::{self, LineSink, WasiDirs};
use parking_lot::Mutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::{Func, Instance, Store, UpdateDeadline, Val, ValType};

/// Stack of a worker thread. wasm itself is capped by wasmtime's `max_wasm_stack` (512 KiB);
/// the rest is room for host calls.
const WORKER_STACK_BYTES: usize = 8 << 20;
/// How long `kill()` waits for a worker to end before it gives up on it.
const KILL_JOIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How one instance is set up.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The mod's name, used in messages and as WASI's program name.
    pub name: String,
    pub level: SafetyLevel,
    pub limits: Limits,
    /// `main`'s arguments (after the program name).
    pub args: Vec<String>,
    pub dirs: WasiDirs,
    /// The grants of this mod, shared with its owner.
    pub permissions: Arc<crate::permissions::Permissions>,
    /// Identifies the instance to the object host ([`Runtime::next_instance_key`]).
    pub key: crate::objects::InstanceKey,
    /// What level-2 HTTP may reach (default: nothing).
    pub network: crate::http::NetworkConfig,
}

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModStatus {
    /// Instantiated, living on callbacks; `main` is not running.
    Alive,
    /// `main` runs on the worker thread.
    RunningMain,
    /// `main` returned; callbacks go on.
    Finished,
    /// The mod called `proc_exit`; the instance has ended.
    Exited,
    /// A trap ended the instance.
    Trapped,
    /// `kill()` ended the instance.
    Killed,
}

impl ModStatus {
    /// Whether the instance can still run code.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            ModStatus::Alive | ModStatus::RunningMain | ModStatus::Finished
        )
    }

    fn describe(self) -> &'static str {
        match self {
            ModStatus::Alive | ModStatus::RunningMain | ModStatus::Finished => "alive",
            ModStatus::Exited => "it exited",
            ModStatus::Trapped => "it trapped",
            ModStatus::Killed => "it was killed",
        }
    }
}

/// The shape of the mod's entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainKind {
    /// WASI command `_start()`.
    Start,
    /// `main() -> i32`.
    MainNoArgs,
    /// `main(argc, argv) -> i32`.
    MainArgs,
}

struct Live {
    store: Store<InstanceState>,
    instance: Instance,
}

struct Shared {
    name: String,
    runtime: Arc<Runtime>,
    live: Mutex<Option<Live>>,
    status: Mutex<ModStatus>,
    kill: Arc<KillSwitch>,
    events: EventSink,
    stdio: [LineSink; 2],
}

impl Shared {
    /// Ends the instance after `main` or an entry failed with `err`; returns what to report.
    fn fail(&self, live: &mut Option<Live>, err: wasmtime::Error) -> WasgoError {
        for s in &self.stdio {
            s.flush_partial();
        }
        *live = None;
        if self.kill.is_killed() {
            // `kill()` owns the status change, the event and the counter.
            return WasgoError::Killed {
                name: self.name.clone(),
                reason: self.kill.reason().unwrap_or_default(),
            };
        }
        if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
            *self.status.lock() = ModStatus::Exited;
            self.events.send(ModEvent::Finished { exit_code: exit.0 });
            return WasgoError::Killed {
                name: self.name.clone(),
                reason: format!("exited with code {}", exit.0),
            };
        }
        let info = describe_trap(&self.name, &err);
        *self.status.lock() = ModStatus::Trapped;
        self.runtime.stats.traps.fetch_add(1, Ordering::Relaxed);
        self.events.send(ModEvent::Trapped {
            message: info.message.clone(),
        });
        WasgoError::Trap(info)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.runtime.stats.instances.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A mod instance. Create it with [`ModInstance::new`] on the main thread.
pub struct ModInstance {
    shared: Arc<Shared>,
    events: EventQueue,
    worker: Option<JoinHandle<()>>,
    main: Option<MainKind>,
    /// Exported functions and their signatures (`None` for ones outside the ABI's types).
    export_funcs: Vec<(String, Option<Signature>)>,
    /// The store's HTTP table (gone once the store is).
    http: std::sync::Weak<crate::http::HttpTable>,
}

/// The epoch callback of every store: stop on kill or when the entry's time is up, else re-arm.
fn on_epoch(ctx: wasmtime::StoreContextMut<'_, InstanceState>) -> wasmtime::Result<UpdateDeadline> {
    let state = ctx.data();
    if state.kill.is_killed() {
        return Err(wasmtime::Error::new(KilledTrap));
    }
    if let Some((deadline, kind)) = state.deadline {
        if Instant::now() >= deadline {
            return Err(wasi::deadline_trap(state, kind).into_error());
        }
    }
    Ok(UpdateDeadline::Continue(1))
}

/// Arms the time limit of one entry.
fn arm(store: &mut Store<InstanceState>, kind: DeadlineKind) {
    let limit = match kind {
        DeadlineKind::Callback => Some(store.data().limits.callback_budget),
        DeadlineKind::Main => store.data().limits.main_timeout,
    };
    store.data_mut().deadline = limit.map(|d| (Instant::now() + d, kind));
    store.data_mut().on_main_thread = store.data().runtime.bridge().on_main_thread();
    store.set_epoch_deadline(1);
}

/// Builds the message of a trap: the reason, then the mod's wasm backtrace with function names.
pub fn describe_trap(name: &str, err: &wasmtime::Error) -> TrapInfo {
    let (kind, reason) = if let Some(h) = err.downcast_ref::<HostTrap>() {
        (h.kind.clone(), h.message.clone())
    } else if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        let kind = match trap {
            wasmtime::Trap::StackOverflow => TrapKind::StackOverflow,
            _ => TrapKind::Wasm,
        };
        let hint = match trap {
            wasmtime::Trap::StackOverflow => {
                " (the wasm call stack is exhausted: unbounded recursion?)"
            }
            wasmtime::Trap::UnreachableCodeReached => {
                " (a Rust panic or C abort compiles to this; check the mod's own output)"
            }
            _ => "",
        };
        (kind, format!("`{name}` trapped: {trap}{hint}"))
    } else {
        (
            TrapKind::Wasm,
            format!("`{name}` failed: {}", err.root_cause()),
        )
    };
    let mut message = reason;
    if let Some(bt) = err.downcast_ref::<wasmtime::WasmBacktrace>() {
        let frames: Vec<String> = bt
            .frames()
            .iter()
            .take(24)
            .enumerate()
            .map(|(i, f)| {
                let func = f
                    .func_name()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| format!("<function #{}>", f.func_index()));
                format!("  {i}: {func}")
            })
            .collect();
        if !frames.is_empty() {
            message.push_str("\nwasm backtrace:\n");
            message.push_str(&frames.join("\n"));
            if bt.frames().len() > 24 {
                message.push_str(&format!("\n  ... {} more frames", bt.frames().len() - 24));
            }
        }
    }
    TrapInfo { kind, message }
}

fn check_args(
    name: &str,
    export: &str,
    func: &Func,
    store: &Store<InstanceState>,
    args: &[Val],
) -> Result<usize, WasgoError> {
    let ty = func.ty(store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != args.len() {
        return Err(WasgoError::BadArguments(format!(
            "`{name}`.`{export}` takes {} arguments, {} were given",
            params.len(),
            args.len()
        )));
    }
    for (i, (p, a)) in params.iter().zip(args).enumerate() {
        if !a.ty(store).map(|t| t.matches(p)).unwrap_or(false) {
            return Err(WasgoError::BadArguments(format!(
                "argument {} of `{name}`.`{export}` must be {p}",
                i + 1
            )));
        }
    }
    let n_results = ty.results().len();
    Ok(n_results)
}

impl ModInstance {
    /// Instantiates `module` and runs its `init` export, if any, on the calling thread.
    ///
    /// # Errors
    /// [`WasgoError::Instantiate`] if it cannot be linked or its memory does not fit the limit,
    /// [`WasgoError::Trap`] if its start function or `init` traps.
    pub fn new(
        runtime: &Arc<Runtime>,
        module: &CompiledModule,
        config: InstanceConfig,
    ) -> Result<ModInstance, WasgoError> {
        let pre = module.instance_pre(runtime, config.level, &config.name)?;
        let (sink, queue) = event_channel();
        let stdio = [
            LineSink::new(OutputSource::Stdout, sink.clone()),
            LineSink::new(OutputSource::Stderr, sink.clone()),
        ];
        let wasi = wasi::build_ctx(
            &config.name,
            &config.args,
            config.level,
            &config.dirs,
            stdio[0].clone(),
            stdio[1].clone(),
        )
        .map_err(|reason| WasgoError::Instantiate {
            name: config.name.clone(),
            reason,
        })?;
        let kill = KillSwitch::new();
        let http = Arc::new(crate::http::HttpTable::new(config.network.clone()));
        let http_weak = Arc::downgrade(&http);
        let state = InstanceState {
            wasi,
            name: config.name.clone(),
            level: config.level,
            limits: config.limits.clone(),
            events: sink.clone(),
            kill: kill.clone(),
            runtime: runtime.clone(),
            last_error: String::new(),
            deadline: None,
            memory_used: 0,
            created: Instant::now(),
            wasi_args: config.args.clone(),
            sandbox: config
                .dirs
                .sandbox
                .clone()
                .map(|root| crate::sandbox::Sandbox::new(root, config.limits.storage_bytes)),
            permissions: config.permissions.clone(),
            key: config.key,
            on_main_thread: true,
            memory: None,
            stash: None,
            http,
        };
        let mut store = Store::new(runtime.engine(), state);
        store.limiter(|s| s as &mut dyn wasmtime::ResourceLimiter);
        store.epoch_deadline_callback(on_epoch);
        arm(&mut store, DeadlineKind::Callback);
        let instance = {
            let _tick = runtime.ticker().enter();
            pre.instantiate(&mut store)
        };
        store.data_mut().deadline = None;
        runtime.stats.instances.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            runtime: runtime.clone(),
            live: Mutex::new(None),
            status: Mutex::new(ModStatus::Alive),
            kill,
            events: sink,
            stdio,
        });
        let instance = match instance {
            Ok(instance) => instance,
            Err(err) => {
                if err.downcast_ref::<HostTrap>().is_some()
                    || err.downcast_ref::<wasmtime::Trap>().is_some()
                {
                    let mut none = None;
                    return Err(shared.fail(&mut none, err));
                }
                return Err(WasgoError::Instantiate {
                    name: config.name,
                    reason: format!("{err:#}"),
                });
            }
        };
        let main = Self::find_main(&mut store, &instance);
        store.data_mut().memory = instance.get_memory(&mut store, "memory");
        *shared.live.lock() = Some(Live { store, instance });
        let export_funcs = module
            .module
            .exports()
            .filter_map(|e| {
                e.ty()
                    .func()
                    .map(|f| (e.name().to_string(), crate::abi::signature_of(f)))
            })
            .collect();
        let mut this = ModInstance {
            shared,
            events: queue,
            worker: None,
            main,
            export_funcs,
            http: http_weak,
        };
        // WASI reactors (Rust and C `cdylib`s, Zig libraries) set up their runtime here.
        if this.has_export("_initialize") {
            this.call("_initialize", &[])?;
        }
        if this.has_export("init") {
            this.call("init", &[])?;
        }
        Ok(this)
    }

    fn find_main(store: &mut Store<InstanceState>, instance: &Instance) -> Option<MainKind> {
        if let Some(f) = instance.get_func(&mut *store, "_start") {
            if f.typed::<(), ()>(&*store).is_ok() {
                return Some(MainKind::Start);
            }
        }
        let f = instance.get_func(&mut *store, "main")?;
        if f.typed::<(), i32>(&*store).is_ok() {
            Some(MainKind::MainNoArgs)
        } else if f.typed::<(i32, i32), i32>(&*store).is_ok() {
            Some(MainKind::MainArgs)
        } else {
            None
        }
    }

    /// The mod's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The entry point `start_main` would run, if the mod has one.
    pub fn main_kind(&self) -> Option<MainKind> {
        self.main
    }

    pub fn status(&self) -> ModStatus {
        *self.shared.status.lock()
    }

    /// Whether `main` runs on the worker now.
    pub fn is_main_running(&self) -> bool {
        self.status() == ModStatus::RunningMain
    }

    /// Events since the last call, in order.
    pub fn drain_events(&self) -> Vec<ModEvent> {
        self.events.drain()
    }

    /// Finished HTTP requests whose `http_response(id, status)` the owner should call now, oldest
    /// first (empty once the instance has ended).
    pub fn take_http_responses(&self) -> Vec<(i32, i32)> {
        self.http
            .upgrade()
            .map(|t| t.take_notifications())
            .unwrap_or_default()
    }

    /// Puts back `http_response` calls that could not be made yet (while `main` runs).
    pub fn requeue_http_responses(&self, pending: Vec<(i32, i32)>) {
        if let Some(t) = self.http.upgrade() {
            t.requeue_notifications(pending);
        }
    }

    /// Whether the module exports a function called `name` (answered without touching the store,
    /// so it works while `main` runs).
    pub fn has_export(&self, name: &str) -> bool {
        self.export_funcs.iter().any(|(f, _)| f == name)
    }

    /// The signature of export `name`, if it is a function with ABI types.
    pub fn export_signature(&self, name: &str) -> Option<Signature> {
        self.export_funcs
            .iter()
            .find(|(f, _)| f == name)
            .and_then(|(_, s)| s.clone())
    }

    /// Calls export `name` on the calling (main) thread under the callback budget.
    ///
    /// # Errors
    /// [`WasgoError::Busy`] while `main` runs, [`WasgoError::Ended`] after the instance ended,
    /// [`WasgoError::NoSuchExport`], [`WasgoError::BadArguments`], or [`WasgoError::Trap`] (the
    /// instance has then ended and a `Trapped` event was sent).
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, WasgoError> {
        let shared = self.shared.clone();
        let Some(mut guard) = shared.live.try_lock() else {
            return Err(WasgoError::Busy {
                name: shared.name.clone(),
            });
        };
        let Some(live) = guard.as_mut() else {
            return Err(WasgoError::Ended {
                name: shared.name.clone(),
                state: self.status().describe(),
            });
        };
        let func = live
            .instance
            .get_func(&mut live.store, name)
            .ok_or_else(|| WasgoError::NoSuchExport {
                module: shared.name.clone(),
                export: name.into(),
            })?;
        let n_results = check_args(&shared.name, name, &func, &live.store, args)?;
        let mut results = vec![Val::I32(0); n_results];
        arm(&mut live.store, DeadlineKind::Callback);
        let outcome = {
            let _tick = shared.runtime.ticker().enter();
            func.call(&mut live.store, args, &mut results)
        };
        live.store.data_mut().deadline = None;
        match outcome {
            Ok(()) => Ok(results),
            Err(err) => Err(shared.fail(&mut guard, err)),
        }
    }

    /// Runs the mod's entry point on a new worker thread. Returns false when the mod has none
    /// (it then lives on its callbacks).
    ///
    /// # Errors
    /// [`WasgoError::Busy`] if `main` already runs, [`WasgoError::Ended`] after the instance
    /// ended, [`WasgoError::Host`] if no thread can be started.
    pub fn start_main(&mut self) -> Result<bool, WasgoError> {
        let Some(kind) = self.main else {
            return Ok(false);
        };
        {
            let mut status = self.shared.status.lock();
            match *status {
                ModStatus::RunningMain => {
                    return Err(WasgoError::Busy {
                        name: self.shared.name.clone(),
                    })
                }
                s if !s.is_live() => {
                    return Err(WasgoError::Ended {
                        name: self.shared.name.clone(),
                        state: s.describe(),
                    })
                }
                _ => *status = ModStatus::RunningMain,
            }
        }
        let stats = &self.shared.runtime.stats;
        stats.running.fetch_add(1, Ordering::Relaxed);
        stats.workers.fetch_add(1, Ordering::Relaxed);
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("wasgo-main-{}", self.shared.name))
            .stack_size(WORKER_STACK_BYTES)
            .spawn(move || {
                let outcome = catch_unwind(AssertUnwindSafe(|| run_main(&shared, kind)));
                if let Err(panic) = outcome {
                    let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
                    *shared.live.lock() = None;
                    *shared.status.lock() = ModStatus::Trapped;
                    shared.events.send(ModEvent::Trapped { message: format!("wasgo host bug while running `main` of `{}`: {what} (please report this)", shared.name) });
                }
                let runtime = shared.runtime.clone();
                runtime.stats.running.fetch_sub(1, Ordering::Relaxed);
                drop(shared);
                // Last thing the thread does: from here on it holds nothing of the instance.
                runtime.stats.workers.fetch_sub(1, Ordering::Relaxed);
            });
        match spawned {
            Ok(handle) => {
                self.worker = Some(handle);
                Ok(true)
            }
            Err(e) => {
                *self.shared.status.lock() = ModStatus::Alive;
                stats.running.fetch_sub(1, Ordering::Relaxed);
                stats.workers.fetch_sub(1, Ordering::Relaxed);
                Err(WasgoError::Host(format!(
                    "cannot start a worker thread for `{}`: {e}",
                    self.shared.name
                )))
            }
        }
    }

    /// Joins the worker if `main` has ended; call it now and then (every frame).
    pub fn reap_worker(&mut self) {
        if self.worker.as_ref().is_some_and(|w| w.is_finished()) {
            let _ = self.worker.take().map(|w| w.join());
        }
    }

    /// Ends the instance: stops a running `main` (also while it waits in a host call), joins its
    /// thread, frees its memory and sends a `Killed` event. Returns false if it had already ended.
    pub fn kill(&mut self, reason: &str) -> bool {
        if !self.status().is_live() {
            return false;
        }
        self.shared.kill.kill(reason);
        self.join_worker();
        if let Some(mut live) = self.shared.live.try_lock_for(KILL_JOIN_TIMEOUT) {
            *live = None;
        }
        for s in &self.shared.stdio {
            s.flush_partial();
        }
        let mut status = self.shared.status.lock();
        if status.is_live() {
            *status = ModStatus::Killed;
            self.shared
                .runtime
                .stats
                .kills
                .fetch_add(1, Ordering::Relaxed);
            self.shared.events.send(ModEvent::Killed {
                reason: reason.to_string(),
            });
            true
        } else {
            false
        }
    }

    fn join_worker(&mut self) {
        let Some(worker) = self.worker.take() else {
            return;
        };
        let start = Instant::now();
        while !worker.is_finished() {
            if start.elapsed() > KILL_JOIN_TIMEOUT {
                // The thread is stuck in a host call that ignores the kill switch; leave it
                // detached rather than freezing the game. It ends when that call returns.
                return;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        let _ = worker.join();
    }
}

impl Drop for ModInstance {
    fn drop(&mut self) {
        self.shared.kill.kill("the instance was dropped");
        self.join_worker();
    }
}

/// The body of the worker thread: runs the entry point and reports how it ended.
fn run_main(shared: &Shared, kind: MainKind) {
    let mut guard = shared.live.lock();
    let Some(live) = guard.as_mut() else { return };
    arm(&mut live.store, DeadlineKind::Main);
    let outcome = {
        let _tick = shared.runtime.ticker().enter();
        call_main(live, kind)
    };
    live.store.data_mut().deadline = None;
    match outcome {
        Ok(exit_code) => {
            for s in &shared.stdio {
                s.flush_partial();
            }
            let mut status = shared.status.lock();
            if *status == ModStatus::RunningMain {
                *status = ModStatus::Finished;
                shared.events.send(ModEvent::Finished { exit_code });
            }
        }
        Err(err) => {
            shared.fail(&mut guard, err);
        }
    }
}

fn call_main(live: &mut Live, kind: MainKind) -> wasmtime::Result<i32> {
    let store = &mut live.store;
    match kind {
        MainKind::Start => {
            live.instance
                .get_typed_func::<(), ()>(&mut *store, "_start")?
                .call(&mut *store, ())?;
            Ok(0)
        }
        MainKind::MainNoArgs => live
            .instance
            .get_typed_func::<(), i32>(&mut *store, "main")?
            .call(&mut *store, ()),
        MainKind::MainArgs => {
            let (argc, argv) = write_argv(live)?;
            let store = &mut live.store;
            live.instance
                .get_typed_func::<(i32, i32), i32>(&mut *store, "main")?
                .call(&mut *store, (argc, argv))
        }
    }
}

/// Lays out C-style `argv` (program name first) in the mod's memory through its `malloc(size,
/// align)` export. Without `malloc`, `main` gets `(0, 0)`: the arguments stay reachable through
/// WASI `args_get`.
fn write_argv(live: &mut Live) -> wasmtime::Result<(i32, i32)> {
    let store = &mut live.store;
    let Ok(malloc) = live
        .instance
        .get_typed_func::<(i32, i32), i32>(&mut *store, "malloc")
    else {
        return Ok((0, 0));
    };
    let Some(memory) = live.instance.get_memory(&mut *store, "memory") else {
        return Ok((0, 0));
    };
    let mut argv = vec![store.data().name.clone()];
    argv.extend(store.data().wasi_args.iter().cloned());
    let mut pointers = Vec::with_capacity(argv.len());
    for arg in &argv {
        let mut bytes = arg.as_bytes().to_vec();
        bytes.push(0);
        let ptr = malloc.call(&mut *store, (bytes.len() as i32, 1))?;
        crate::guest::write_bytes(&memory, &mut *store, "main", ptr, &bytes)?;
        pointers.extend_from_slice(&ptr.to_le_bytes());
    }
    pointers.extend_from_slice(&0i32.to_le_bytes());
    let table = malloc.call(&mut *store, (pointers.len() as i32, 4))?;
    crate::guest::write_bytes(&memory, &mut *store, "main", table, &pointers)?;
    Ok((argv.len() as i32, table))
}
