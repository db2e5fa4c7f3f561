//! The runtime: one wasmtime engine for the whole game, its epoch ticker, the module cache, the
//! game's functions, the main-thread bridge and the counters.

use crate::bridge::MainThreadBridge;
use crate::error::WasgoError;
use crate::game::{GameCallHandler, GameFunctions};
use crate::module::CompiledModule;
use crate::ticker::EpochTicker;
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How the engine is set up. Fixed when the runtime starts.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Generate DWARF for native debuggers (`wasgo/runtime/debug_info`, default false). Function
    /// names appear in trap backtraces either way.
    pub debug_info: bool,
    /// Where compiled modules are cached between runs (`wasgo/runtime/cache_dir`); `None` keeps
    /// the cache in memory only.
    pub cache_dir: Option<PathBuf>,
}

/// Counters for `WasmEngine.get_stats()`.
#[derive(Debug, Default)]
pub struct Stats {
    pub instances: AtomicU64,
    pub running: AtomicU64,
    pub workers: AtomicU64,
    pub traps: AtomicU64,
    pub kills: AtomicU64,
    pub cache_hits: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Distinct compiled modules held in the cache.
    pub modules: u64,
    /// Live instances.
    pub instances: u64,
    /// `main`s running now.
    pub running: u64,
    /// Worker threads alive now.
    pub workers: u64,
    pub traps: u64,
    pub kills: u64,
    pub cache_hits: u64,
}

/// The one engine of the game. Create it once with [`Runtime::new`]; share the `Arc`.
pub struct Runtime {
    engine: wasmtime::Engine,
    ticker: EpochTicker,
    bridge: MainThreadBridge,
    games: GameFunctions,
    game_handler: RwLock<Option<Arc<dyn GameCallHandler>>>,
    object_host: std::sync::OnceLock<Arc<dyn crate::objects::ObjectHost>>,
    http_host: std::sync::OnceLock<Arc<dyn crate::http::HttpHost>>,
    next_key: AtomicU64,
    cache: Mutex<HashMap<String, Arc<CompiledModule>>>,
    cache_dir: Option<PathBuf>,
    pub(crate) stats: Stats,
}

impl Runtime {
    /// Starts the engine and its ticker. The calling thread becomes the runtime's main thread.
    ///
    /// # Errors
    /// [`WasgoError::Host`] if the engine cannot be configured or the ticker thread cannot start.
    pub fn new(config: RuntimeConfig) -> Result<Arc<Runtime>, WasgoError> {
        let mut c = wasmtime::Config::new();
        c.epoch_interruption(true);
        c.debug_info(config.debug_info);
        c.wasm_backtrace_details(if config.debug_info {
            wasmtime::WasmBacktraceDetails::Enable
        } else {
            wasmtime::WasmBacktraceDetails::Disable
        });
        c.cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine = wasmtime::Engine::new(&c)
            .map_err(|e| WasgoError::Host(format!("cannot start the wasm engine: {e:#}")))?;
        let ticker = EpochTicker::start(engine.clone())
            .map_err(|e| WasgoError::Host(format!("cannot start the epoch ticker thread: {e}")))?;
        Ok(Arc::new(Runtime {
            engine,
            ticker,
            bridge: MainThreadBridge::new(),
            games: GameFunctions::default(),
            game_handler: RwLock::new(None),
            object_host: std::sync::OnceLock::new(),
            http_host: std::sync::OnceLock::new(),
            next_key: AtomicU64::new(1),
            cache: Mutex::new(HashMap::new()),
            cache_dir: config.cache_dir,
            stats: Stats::default(),
        }))
    }

    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine
    }

    pub(crate) fn ticker(&self) -> &EpochTicker {
        &self.ticker
    }

    /// The queue through which worker threads run work on the main thread.
    pub fn bridge(&self) -> &MainThreadBridge {
        &self.bridge
    }

    /// The game's registered functions.
    pub fn games(&self) -> &GameFunctions {
        &self.games
    }

    /// Sets who runs game functions.
    pub fn set_game_handler(&self, handler: Arc<dyn GameCallHandler>) {
        *self.game_handler.write() = Some(handler);
    }

    /// Sets who runs the object functions (`get_node`, `get`, `set`, `call`, ...). Set once;
    /// later calls are ignored (returns false).
    pub fn set_object_host(&self, host: Arc<dyn crate::objects::ObjectHost>) -> bool {
        self.object_host.set(host).is_ok()
    }

    pub(crate) fn object_host(&self) -> Option<&Arc<dyn crate::objects::ObjectHost>> {
        self.object_host.get()
    }

    /// Sets who performs level-2 HTTP requests (once; returns false if one was already set).
    pub fn set_http_host(&self, host: Arc<dyn crate::http::HttpHost>) -> bool {
        self.http_host.set(host).is_ok()
    }

    pub(crate) fn http_host(&self) -> Option<&Arc<dyn crate::http::HttpHost>> {
        self.http_host.get()
    }

    /// A key no other instance of this runtime has (for [`InstanceConfig::key`](crate::InstanceConfig)).
    pub fn next_instance_key(&self) -> crate::objects::InstanceKey {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn game_handler(&self) -> Option<Arc<dyn GameCallHandler>> {
        self.game_handler.read().clone()
    }

    /// Compiles wasm binary or WAT text, or returns the cached module with the same content.
    ///
    /// # Errors
    /// [`WasgoError::Compile`] when the bytes are not a valid module.
    pub fn compile(&self, bytes: &[u8], name: &str) -> Result<Arc<CompiledModule>, WasgoError> {
        let sha = hex(&Sha256::digest(bytes));
        if let Some(found) = self.cache.lock().get(&sha) {
            self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(found.clone());
        }
        let module = match self.load_from_disk(&sha) {
            Some(module) => {
                self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
                module
            }
            None => {
                if bytes.is_empty() {
                    return Err(WasgoError::Compile {
                        name: name.into(),
                        reason: "the file is empty".into(),
                    });
                }
                let module = wasmtime::Module::new(&self.engine, bytes).map_err(|e| {
                    WasgoError::Compile {
                        name: name.into(),
                        reason: format!("{e:#}"),
                    }
                })?;
                self.store_on_disk(&sha, &module);
                module
            }
        };
        let compiled = Arc::new(CompiledModule::new(module, sha.clone()));
        self.cache.lock().insert(sha, compiled.clone());
        Ok(compiled)
    }

    /// Drops cached modules nothing else holds.
    pub fn trim_cache(&self) {
        self.cache.lock().retain(|_, m| Arc::strong_count(m) > 1);
    }

    fn cache_path(&self, sha: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        Some(dir.join(format!("{sha}-{:016x}.cwasm", h.finish())))
    }

    fn load_from_disk(&self, sha: &str) -> Option<wasmtime::Module> {
        let path = self.cache_path(sha)?;
        if !path.is_file() {
            return None;
        }
        // SAFETY: `deserialize_file` trusts the file to be wasmtime's own output. The file sits in
        // the game's private cache directory, is named by the source's SHA-256 and this engine's
        // compatibility hash, and was written by `store_on_disk` through a temp file and an atomic
        // rename, so it is never torn. Mods cannot reach it: level 1 has no file system, level 2
        // only `user://mods/<mod_id>/`; level 3 is trusted by definition. wasmtime still rejects
        // an artifact from another version or configuration.
        match unsafe { wasmtime::Module::deserialize_file(&self.engine, &path) } {
            Ok(module) => Some(module),
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    fn store_on_disk(&self, sha: &str, module: &wasmtime::Module) {
        let Some(path) = self.cache_path(sha) else {
            return;
        };
        let Ok(bytes) = module.serialize() else {
            return;
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .is_ok()
            && std::fs::write(&tmp, &bytes).is_ok()
            && std::fs::rename(&tmp, &path).is_ok();
        if !written {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// The counters now.
    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            modules: self.cache.lock().len() as u64,
            instances: get(&s.instances),
            running: get(&s.running),
            workers: get(&s.workers),
            traps: get(&s.traps),
            kills: get(&s.kills),
            cache_hits: get(&s.cache_hits),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
