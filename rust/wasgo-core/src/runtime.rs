//! The runtime: one wasmtime engine for the whole game, its epoch ticker, the module cache, the
//! game's [`Hosts`] and the counters. It is the top layer of the core: it builds the
//! [`EngineContext`] instances run in, and no module below imports it.

use crate::bridge::MainThreadBridge;
use crate::cache::{CompileTicket, ModuleCache};
use crate::engine::EngineContext;
use crate::error::WasgoError;
use crate::game::GameFunctions;
use crate::guest_kind::GuestKind;
use crate::hosts::Hosts;
use crate::ids::InstanceKey;
use crate::instance::{InstanceConfig, ModInstance};
use crate::instance_pool::InstancePool;
use crate::kill::KillSwitch;
use crate::memory_layout::MemoryLayout;
use crate::mod_config::{ConfigError, ConfigValue};
use crate::mode::{ExecutionMode, RuntimeMode};
use crate::module::CompiledModule;
use crate::stats::Stats;
use crate::ticker::EpochTicker;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How the engine is set up. Fixed when the runtime starts.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Generate DWARF for native debuggers (`wasgo/runtime/debug_info`, default false). Function
    /// names appear in trap backtraces either way.
    pub debug_info: bool,
    /// Where compiled modules are cached between runs (`wasgo/runtime/cache_dir`); `None` (the
    /// default) keeps the cache in memory only.
    pub cache_dir: Option<PathBuf>,
    /// The file holding the install's random key that authenticates the disk cache (see
    /// [`cache::install_key`](crate::cache::install_key)); `None` (the default) keeps it in
    /// `cache_dir` as `cache.key`. The glue keeps it in `user://wasgo/cache.key`.
    pub cache_key_file: Option<PathBuf>,
    /// Larger modules are refused before compiling (`wasgo/limits/module_mb`, default
    /// [`RuntimeConfig::DEFAULT_MODULE_MB`] MiB).
    pub max_module_bytes: usize,
    /// A compile request that has not finished after this long is refused
    /// (`wasgo/limits/compile_timeout_ms`, default [`RuntimeConfig::DEFAULT_COMPILE_TIMEOUT_MS`]).
    /// See [`cache`](crate::cache) for what happens to the compile itself.
    pub compile_timeout: Duration,
    /// Compiled modules nobody uses that the cache keeps (the most recent ones; default
    /// [`ModuleCache::DEFAULT_MAX_UNUSED`]).
    pub max_unused_modules: usize,
    /// Compiled or interpreted execution (`wasgo/runtime/mode`, default [`RuntimeMode::Auto`]:
    /// the interpreter only where native code cannot run; see [`mode`](crate::mode)).
    pub mode: RuntimeMode,
    /// How much address space each instance's linear memory reserves
    /// (`wasgo/runtime/memory_reservation_mb`; default [`MemoryLayout::default`]; see
    /// [`memory_layout`](crate::memory_layout) for the trade-off).
    pub memory_layout: MemoryLayout,
    /// A pool of instance slots reserved at start (`wasgo/runtime/instance_pool_size`; default
    /// `None`, each instance maps its own memory; see [`instance_pool`](crate::instance_pool)).
    pub instance_pool: Option<InstancePool>,
}

impl RuntimeConfig {
    /// `wasgo/limits/module_mb`.
    pub const DEFAULT_MODULE_MB: usize = 64;
    /// `wasgo/limits/compile_timeout_ms`.
    pub const DEFAULT_COMPILE_TIMEOUT_MS: u64 = 30_000;
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            debug_info: false,
            cache_dir: None,
            cache_key_file: None,
            max_module_bytes: RuntimeConfig::DEFAULT_MODULE_MB << 20,
            compile_timeout: Duration::from_millis(RuntimeConfig::DEFAULT_COMPILE_TIMEOUT_MS),
            max_unused_modules: ModuleCache::DEFAULT_MAX_UNUSED,
            mode: RuntimeMode::Auto,
            memory_layout: MemoryLayout::default(),
            instance_pool: None,
        }
    }
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Distinct compiled modules held in the cache (in use, or among the recent unused ones).
    pub modules: u64,
    /// Live instances: instances whose store (and memory) still exists.
    pub instances: u64,
    /// `main`s running now.
    pub running: u64,
    /// Worker threads alive now.
    pub workers: u64,
    pub traps: u64,
    pub kills: u64,
    /// Compile requests answered without compiling (memory, disk cache, or another request's
    /// compile).
    pub cache_hits: u64,
    /// Modules compiled from bytes.
    pub compiles: u64,
    /// Modules loaded from the game's precompiled artifacts ([`Runtime::load_precompiled`]),
    /// without compiling.
    pub precompiled_loads: u64,
    /// Times a `main` waited because its calls into Godot took more than its share of the main
    /// thread ([`crate::main_share`]).
    pub main_share_waits: u64,
    /// Disk cache files refused (corrupted, altered, another key) and deleted; each is
    /// recompiled.
    pub cache_rejects: u64,
    /// Compile threads alive now (compiles under way in the background, also ones whose
    /// request already timed out or was dropped).
    pub compiling: u64,
}

/// The one engine of the game. Create it once with [`Runtime::new`]; share the `Arc`.
pub struct Runtime {
    ctx: Arc<EngineContext>,
    cache: Arc<ModuleCache>,
    /// `RuntimeConfig::max_module_bytes`, changeable with [`Runtime::set_compile_limits`].
    max_module_bytes: AtomicUsize,
    /// `RuntimeConfig::compile_timeout` in ms, changeable with [`Runtime::set_compile_limits`].
    compile_timeout_ms: AtomicU64,
    next_key: AtomicU64,
    /// How this engine runs mods, resolved from `RuntimeConfig::mode` at start.
    mode: ExecutionMode,
    /// Why the configured instance pool is not in use (see [`Runtime::pool_note`]).
    pool_note: Option<String>,
    /// An engine that only validates, on the calling thread (see [`Runtime::inspect`]); made at
    /// the first scan.
    validator: std::sync::OnceLock<Result<wasmtime::Engine, String>>,
    /// What the engine was made from, for [`Runtime::shipping_engine`].
    recipe: (RuntimeConfig, Option<InstancePool>),
    /// The engine artifacts are compiled with (see [`Runtime::shipping_engine`]); made at the
    /// first `precompile`.
    shipping: std::sync::OnceLock<Result<wasmtime::Engine, String>>,
}

/// [`WasgoError::NewerAbi`] when the manifest in `bytes` (a module, or the manifest sections an
/// artifact carries) targets a newer WasGo ABI than this one.
pub(crate) fn refuse_newer_abi(bytes: &[u8], name: &str) -> Result<(), WasgoError> {
    crate::manifest::abi_of_module(bytes).map_err(|mismatch| WasgoError::NewerAbi {
        name: name.into(),
        reason: mismatch.to_string(),
    })
}

/// Which processors an engine's native code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cpu {
    /// This one: wasmtime uses every feature it detects (AVX-512 where there is AVX-512).
    Host,
    /// Any processor Godot itself runs on: on x86-64 the features of x86-64-v2 (SSE4.2 and
    /// POPCNT: Godot's own minimum for x86-64 is SSE4.2), on other architectures their baseline.
    /// Artifacts the game ships are made for it: code made for the developer's processor is
    /// refused by wasmtime on a player's that lacks one of its features.
    Baseline,
}

impl Cpu {
    /// The x86-64 features of [`Cpu::Baseline`] (Cranelift's flag names).
    #[cfg(feature = "compiler")]
    const X86_64_BASELINE: [&'static str; 5] = [
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
    ];

    /// Sets `c`'s target to this platform without the features wasmtime would detect, then
    /// enables the baseline's. Without a compiler nothing is compiled and this does nothing.
    #[cfg(not(feature = "compiler"))]
    fn apply(self, _c: &mut wasmtime::Config) -> Result<(), WasgoError> {
        Ok(())
    }

    /// Sets `c`'s target to this platform without the features wasmtime would detect, then
    /// enables the baseline's.
    #[cfg(feature = "compiler")]
    fn apply(self, c: &mut wasmtime::Config) -> Result<(), WasgoError> {
        let host = target_lexicon::HOST.to_string();
        // An explicit target turns off wasmtime's detection of this processor's features.
        c.target(&host)
            .map_err(|e| WasgoError::Host(format!("cannot select the target `{host}`: {e:#}")))?;
        if cfg!(target_arch = "x86_64") {
            for flag in Self::X86_64_BASELINE {
                // SAFETY: wasmtime marks this unsafe because code compiled with a feature the
                // running processor lacks would fault. Code compiled here runs only through an
                // artifact, and `Module::deserialize` refuses an artifact that needs a feature
                // the loading processor does not have (wasmtime's `check_compatible_with_isa_flag`
                // runs on every load); these are x86-64-v2's, which Godot itself requires.
                unsafe {
                    c.cranelift_flag_enable(flag);
                }
            }
        }
        Ok(())
    }
}

impl Runtime {
    /// Starts the engine and its ticker with the game's `hosts`. The thread that built `hosts`
    /// is the main thread of their bridge.
    ///
    /// # Errors
    /// [`WasgoError::Host`] if the engine cannot be configured (e.g. [`RuntimeMode::Compiled`]
    /// on a build without a native backend) or the ticker thread cannot start.
    pub fn new(config: RuntimeConfig, hosts: Hosts) -> Result<Arc<Runtime>, WasgoError> {
        // The entries' clock is chosen (and the processor's counter measured) now, not at the
        // first entry.
        crate::clock::calibrate();
        let mode = config.mode.resolve();
        let mut pool = config.instance_pool;
        let mut pool_note = None;
        let engine = match Runtime::engine_for(&config, mode, pool, Cpu::Host) {
            Ok(engine) => engine,
            // The pool's reservation did not fit (address space, kernel limits): run without
            // it rather than without mods, and say so.
            Err(err) if pool.is_some() => {
                let shape = pool.take().map(|p| p.describe()).unwrap_or_default();
                pool_note = Some(format!(
                    "the instance pool ({shape}) could not be reserved, so instances map their \
                     own memory: {err} (lower `wasgo/runtime/instance_pool_size`, or \
                     `wasgo/runtime/memory_reservation_mb` below 4096 for smaller slots)"
                ));
                Runtime::engine_for(&config, mode, None, Cpu::Host)?
            }
            Err(err) => return Err(err),
        };
        let ticker = EpochTicker::start(engine.clone())
            .map_err(|e| WasgoError::Host(format!("cannot start the epoch ticker thread: {e}")))?;
        let facts = crate::precompiled::EngineFacts {
            pulley: engine.is_pulley(),
            debug_info: config.debug_info,
            memory_layout: config.memory_layout,
            compact_slot_bytes: pool.and_then(|p| p.compact_slot_bytes(config.memory_layout)),
        };
        // Without a key the disk cache is off: an unauthenticated cache file is never loaded.
        let recipe = (config.clone(), pool);
        let disk = config.cache_dir.and_then(|dir| {
            let key_file = config
                .cache_key_file
                .unwrap_or_else(|| dir.join("cache.key"));
            crate::cache::install_key(&key_file)
                .ok()
                .map(|key| (dir, key))
        });
        let cache = ModuleCache::new(engine.clone(), facts, disk, config.max_unused_modules);
        Ok(Arc::new(Runtime {
            ctx: Arc::new(EngineContext {
                engine,
                ticker,
                stats: Stats::default(),
                hosts: Arc::new(hosts),
                pool,
            }),
            cache: Arc::new(cache),
            max_module_bytes: AtomicUsize::new(config.max_module_bytes),
            compile_timeout_ms: AtomicU64::new(config.compile_timeout.as_millis() as u64),
            next_key: AtomicU64::new(1),
            mode,
            pool_note,
            validator: std::sync::OnceLock::new(),
            recipe,
            shipping: std::sync::OnceLock::new(),
        }))
    }

    /// The wasmtime engine for `config` in `mode`, with `pool` as its allocation strategy, its
    /// native code for `cpu`.
    fn engine_for(
        config: &RuntimeConfig,
        mode: ExecutionMode,
        pool: Option<InstancePool>,
        cpu: Cpu,
    ) -> Result<wasmtime::Engine, WasgoError> {
        let mut c = wasmtime::Config::new();
        if let Some(target) = mode.target() {
            c.target(target).map_err(|e| {
                WasgoError::Host(format!(
                    "cannot select the interpreter target `{target}`: {e:#}"
                ))
            })?;
        } else if cpu == Cpu::Baseline {
            cpu.apply(&mut c)?;
        }
        c.epoch_interruption(true);
        // A memory image (copy-on-write initialization) is made for a memory only where its data
        // fills at least half of the range it spans, or the range is at most 1 MiB: at
        // wasmtime's default of 16 MiB a module of a few KB (many memories, each with a byte at
        // each end of 16 MiB) compiled to gigabytes, in memory and in the disk cache. A mod's
        // data is dense (its compiler lays it out in one run), so its image is unchanged.
        c.memory_guaranteed_dense_image_size(crate::compile_cost::MAX_SPARSE_IMAGE_BYTES);
        config.memory_layout.apply(&mut c);
        if let Some(pool) = pool {
            pool.apply(&mut c, config.memory_layout);
        }
        c.debug_info(config.debug_info);
        c.wasm_backtrace_details(if config.debug_info {
            wasmtime::WasmBacktraceDetails::Enable
        } else {
            wasmtime::WasmBacktraceDetails::Disable
        });
        #[cfg(feature = "compiler")]
        c.cranelift_opt_level(wasmtime::OptLevel::Speed);
        wasmtime::Engine::new(&c).map_err(|e| {
            WasgoError::Host(format!(
                "cannot start the wasm engine in {mode} mode: {e:#} (set `wasgo/runtime/mode` to \
                 `auto` to use the interpreter where native code cannot run)"
            ))
        })
    }

    /// The instance pool this engine runs with (`None`: no pool, or it could not be reserved;
    /// see [`Runtime::pool_note`]).
    pub fn instance_pool(&self) -> Option<InstancePool> {
        self.ctx.pool
    }

    /// Why the engine runs without the pool the configuration asked for, if it does.
    pub fn pool_note(&self) -> Option<&str> {
        self.pool_note.as_deref()
    }

    /// How this engine runs mods: compiled to native code or interpreted (fixed at start).
    pub fn execution_mode(&self) -> ExecutionMode {
        self.mode
    }

    pub fn engine(&self) -> &wasmtime::Engine {
        &self.ctx.engine
    }

    /// The game's hosts.
    pub fn hosts(&self) -> &Arc<Hosts> {
        &self.ctx.hosts
    }

    /// Whether the epoch ticker thread sleeps now: no wasm entry is under way (a `main` that
    /// sleeps or waits for the main thread does not count) and its linger time has passed. For
    /// tests and diagnostics.
    pub fn ticker_is_sleeping(&self) -> bool {
        self.ctx.ticker.is_sleeping()
    }

    /// Stops the epoch ticker's thread now, whoever still holds the runtime (extension
    /// shutdown: the thread must not outlive the library). See [`EpochTicker::stop`].
    pub fn stop_ticker(&self) {
        self.ctx.ticker.stop();
    }

    /// Lets go of the main thread's hold on the epoch ticker, which its callbacks share so that
    /// an entry costs no atomic read-modify-write (`ticker.rs`, "The main thread holds its
    /// entry"): call it once per frame on the main thread, so the ticker may sleep when no mod
    /// runs. Kept while one of those callbacks is under way; does nothing on other threads.
    pub fn release_main_ticker_hold(&self) {
        if self.bridge().on_main_thread() {
            self.ctx.ticker.release_hold();
        }
    }

    /// The queue through which worker threads run work on the main thread.
    pub fn bridge(&self) -> &MainThreadBridge {
        &self.ctx.hosts.bridge
    }

    /// The game's registered functions.
    pub fn games(&self) -> &GameFunctions {
        &self.ctx.hosts.games
    }

    /// A key no other instance of this runtime has (for [`InstanceConfig::key`]).
    pub fn next_instance_key(&self) -> InstanceKey {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// Compiles wasm binary or WAT text, or returns the cached module with the same content;
    /// blocks until done (or until the compile timeout). Waits for a compile of the same bytes
    /// already under way instead of starting another.
    ///
    /// # Errors
    /// [`WasgoError::NotWasm`] when the bytes are neither a binary module nor WAT text,
    /// [`WasgoError::Compile`] when they are not a valid module,
    /// [`WasgoError::ModuleTooLarge`] over `max_module_bytes`, [`WasgoError::CompileTimeout`]
    /// after `compile_timeout`, [`WasgoError::NewerAbi`] when its manifest targets a newer ABI.
    pub fn compile(&self, bytes: &[u8], name: &str) -> Result<Arc<CompiledModule>, WasgoError> {
        self.compile_in_background(bytes, name).wait()
    }

    /// What a scan of a mods folder needs of a module, without compiling it on the calling
    /// thread: its guest kind once wasmtime's validator (linear in the module's size, under the
    /// engine's features) accepted it. The compile starts on a background thread as
    /// [`Runtime::compile_in_background`] would while fewer than two compiles run, so starting
    /// the mod later finds it compiled (or waits for the rest); a module the cache holds answers
    /// at once. A scan of a folder holding a module that takes Cranelift 30 s no longer holds the
    /// game for 30 s. WAT text is read after [`crate::wat_text::check`].
    ///
    /// Without the `compiler` feature this is [`Runtime::compile`] (its error says so).
    ///
    /// # Errors
    /// As [`Runtime::compile`], except [`WasgoError::CompileTimeout`]: a module that validates
    /// but fails in Cranelift (an implementation limit) shows when it starts.
    pub fn inspect(&self, bytes: &[u8], name: &str) -> Result<GuestKind, WasgoError> {
        /// The compiles a scan keeps running at once to have its mods compiled ahead.
        const WARM_COMPILES: usize = 2;
        // A scan of a folder of new mods starts a compile for each only while fewer than
        // `WARM_COMPILES` run (each holds the compiler's memory: forty at once could exhaust
        // it); the others compile when they start. Answered at once: a cache hit, and every
        // refusal before a compile (without the compiler, `NoCompiler`).
        let may_compile = self.cache.threads() < WARM_COMPILES;
        let ticket = match self.compile_in_background_if(bytes, name, may_compile) {
            Some(done) if done.finished() => return done.wait().map(|m| m.guest_kind()),
            under_way_or_not_started => under_way_or_not_started,
        };
        let invalid = |reason: String| WasgoError::Compile {
            name: name.into(),
            reason,
        };
        // `compile_in_background` answered at once for anything that is neither binary nor WAT.
        let binary = crate::wat_text::to_binary(bytes).map_err(invalid)?;
        self.validate(&binary).map_err(invalid)?;
        // The ticket is dropped: the compile goes on and is published to the cache.
        drop(ticket);
        GuestKind::of_binary(&binary).map_err(invalid)
    }

    /// The engine [`Runtime::precompile`] compiles with: this one's settings (the compatibility
    /// hash is the same), its native code for [`Cpu::Baseline`] rather than this processor, so
    /// that the artifacts a game ships load on its players' machines. In interpreter mode the
    /// code has no processor features and this is an engine like the runtime's.
    #[cfg_attr(not(feature = "compiler"), allow(dead_code))]
    pub(crate) fn shipping_engine(&self) -> Result<&wasmtime::Engine, WasgoError> {
        let (config, pool) = &self.recipe;
        self.shipping
            .get_or_init(|| {
                // One slot: the pool shapes the code's memory checks, not its size.
                let pool = pool.map(|p| InstancePool { slots: 1, ..p });
                Runtime::engine_for(config, self.mode, pool, Cpu::Baseline)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| WasgoError::Host(format!("cannot make the precompiling engine: {e}")))
    }

    /// Validates a binary module under this engine's features, on the calling thread: the
    /// engine's own `Module::validate` checks functions on the compile thread pool, where the
    /// check waited behind the compiles a scan had just started (its engine compiles in
    /// parallel), so a second engine made for this checks them one after another.
    fn validate(&self, binary: &[u8]) -> Result<(), String> {
        let engine = self.validator.get_or_init(|| {
            let mut c = wasmtime::Config::new();
            if let Some(target) = self.mode.target() {
                c.target(target).map_err(|e| format!("{e:#}"))?;
            }
            #[cfg(feature = "compiler")]
            c.parallel_compilation(false);
            wasmtime::Engine::new(&c).map_err(|e| format!("{e:#}"))
        });
        let engine = engine
            .as_ref()
            .map_err(|e| format!("the validator could not start: {e}"))?;
        wasmtime::Module::validate(engine, binary).map_err(|e| format!("{e:#}"))
    }

    /// Runs `module`'s `config` export in a throwaway instance whose imports all trap, under
    /// its own budget, with memory capped at `max_memory` bytes (see [`crate::mod_config`]);
    /// the answer is kept with the module, so later starts of the same module and cap do not run
    /// it again (its messages name the mod that asked first).
    /// `Ok(None)` when the module has no `config` or is not a `wasgo`-ABI guest.
    ///
    /// # Errors
    /// [`ConfigError`] naming the mod: a trap, an overrun, or an answer that breaks the
    /// convention.
    pub fn run_config(
        &self,
        module: &CompiledModule,
        name: &str,
        max_memory: usize,
    ) -> Result<Option<Vec<(String, ConfigValue)>>, ConfigError> {
        // Most mods have no `config`: answered without the kept answers' lock.
        if module.guest_kind() != crate::guest_kind::GuestKind::Wasgo
            || module
                .module
                .get_export(wasgo_catalog::export::CONFIG)
                .is_none()
        {
            return Ok(None);
        }
        module.config_answer(max_memory, || {
            crate::mod_config::run(
                &self.ctx.engine,
                &self.ctx.ticker,
                &module.module,
                name,
                max_memory,
            )
        })
    }

    /// Starts compiling on a background thread and returns at once (a cache hit, an empty or
    /// too large module are answered in the ticket straight away). Poll the ticket with
    /// [`CompileTicket::try_take`] (e.g. every frame) or block with [`CompileTicket::wait`]; it
    /// answers [`WasgoError::CompileTimeout`] once `compile_timeout` has passed.
    pub fn compile_in_background(&self, bytes: &[u8], name: &str) -> CompileTicket {
        self.compile_in_background_if(bytes, name, true)
            .expect("a compile may start")
    }

    /// As [`Runtime::compile_in_background`], but `None` when answering needs a new compile
    /// and `may_compile` is false (every check before the compile was passed).
    fn compile_in_background_if(
        &self,
        bytes: &[u8],
        name: &str,
        may_compile: bool,
    ) -> Option<CompileTicket> {
        let (max_bytes, timeout) = self.compile_limits();
        // A mod whose manifest targets a newer ABI is refused before anything is compiled.
        if bytes.len() <= max_bytes {
            if let Err(refused) = refuse_newer_abi(bytes, name) {
                return Some(CompileTicket::ready(name, Err(refused)));
            }
        }
        self.cache
            .start_if(bytes, name, max_bytes, timeout, may_compile)
    }

    /// Replaces the size and time limits of later compile requests (those under way keep
    /// theirs), e.g. when the game changed its project settings after the runtime started.
    pub fn set_compile_limits(&self, max_module_bytes: usize, compile_timeout: Duration) {
        self.max_module_bytes
            .store(max_module_bytes, Ordering::Relaxed);
        self.compile_timeout_ms
            .store(compile_timeout.as_millis() as u64, Ordering::Relaxed);
    }

    /// The size and time limits the next compile request gets.
    pub fn compile_limits(&self) -> (usize, Duration) {
        (
            self.max_module_bytes.load(Ordering::Relaxed),
            Duration::from_millis(self.compile_timeout_ms.load(Ordering::Relaxed)),
        )
    }

    /// Waits until no compile thread runs, or `limit` has passed (for shutdown: see
    /// [`ModuleCache::wait_for_threads`]); returns whether none runs.
    pub fn wait_for_compiles(&self, limit: Duration) -> bool {
        self.cache.wait_for_threads(limit)
    }

    /// Waits up to `limit` for the worker threads of `main`s to end (after a kill of every mod,
    /// at shutdown: a worker runs the library's code until its last step). False if some are
    /// still running.
    pub fn wait_for_workers(&self, limit: Duration) -> bool {
        let workers = &self.ctx.stats.workers;
        let started = std::time::Instant::now();
        let ended = crate::clock::wait_until(limit, Duration::from_millis(1), || {
            workers.load(Ordering::Relaxed) == 0
        });
        // The threads whose function ended are joined too (their thread-local destructors run
        // this library's code); with what is left of the limit, even if some still run.
        let joined = crate::worker_reaper::drain(limit.saturating_sub(started.elapsed()));
        ended && joined
    }

    /// The module cache (for the precompiled-module paths in `aot.rs`).
    pub(crate) fn cache(&self) -> &Arc<ModuleCache> {
        &self.cache
    }

    /// Drops cached modules nothing else holds.
    pub fn trim_cache(&self) {
        self.cache.trim();
    }

    /// The counters now.
    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.ctx.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            modules: self.cache.len() as u64,
            instances: get(&s.instances),
            running: get(&s.running),
            workers: get(&s.workers),
            traps: get(&s.traps),
            kills: get(&s.kills),
            cache_hits: get(&self.cache.hits),
            compiles: get(&self.cache.compiles),
            precompiled_loads: get(&self.cache.precompiled_loads),
            main_share_waits: get(&crate::main_share::WAITS),
            cache_rejects: get(&self.cache.cache_rejects),
            compiling: self.cache.threads() as u64,
        }
    }
}

impl ModInstance {
    /// Instantiates `module` and runs its `_initialize` and `init` exports, if any, on the
    /// calling thread. Sends one `LinkWarning` event per import that links to a stub although
    /// no level gates it.
    ///
    /// # Errors
    /// [`WasgoError::Instantiate`] if it cannot be linked or its memory does not fit the limit,
    /// [`WasgoError::Trap`] if its start function or `init` traps.
    pub fn new(
        runtime: &Arc<Runtime>,
        module: &CompiledModule,
        config: InstanceConfig,
    ) -> Result<ModInstance, WasgoError> {
        ModInstance::instantiate(&runtime.ctx, module, config, KillSwitch::new(), None)
    }

    /// [`ModInstance::new`] with the kill switch its owner holds: the owner can stop the
    /// instance while it is being made (its `init` runs inside this call, before the owner
    /// holds the instance). Thrown then, with the engine's epoch advanced so that the next
    /// check comes at once, `init` stops and this answers [`WasgoError::Killed`].
    ///
    /// When `init` (or another setup export) ended the instance, what it raised until then
    /// (output lines, unexposed calls, link warnings, permission requests, and its last event)
    /// is added to `leftover`: the instance's queue goes with it.
    ///
    /// # Errors
    /// As [`ModInstance::new`]; [`WasgoError::Killed`] when the switch was thrown.
    pub fn new_killable(
        runtime: &Arc<Runtime>,
        module: &CompiledModule,
        config: InstanceConfig,
        kill: Arc<KillSwitch>,
        leftover: &mut Vec<crate::events::ModEvent>,
    ) -> Result<ModInstance, WasgoError> {
        ModInstance::instantiate(&runtime.ctx, module, config, kill, Some(leftover))
    }
}
