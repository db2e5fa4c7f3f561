//! The module cache: compiled modules by the SHA-256 of their bytes, in memory and optionally on
//! disk, with one compile per key at a time and a bound on what nobody uses.
//!
//! - **In use**: a module is found again for as long as anything holds its
//!   `Arc<CompiledModule>` (a `WasmModule` resource, a node): the cache keeps only a weak entry.
//! - **Unused**: besides, the cache holds the [`ModuleCache::max_unused`] most recently compiled
//!   or found modules strongly, so a `reload()` or a second node finds them; older ones are freed
//!   when their last user lets go. [`ModuleCache::trim`] drops all of those.
//! - **Single flight**: a compile runs on its own thread; a second request for the same bytes
//!   while it runs waits for that compile instead of starting another.
//! - **Limits**: bytes over `max_module_bytes` are refused before anything else; a caller stops
//!   waiting after `compile_timeout` and gets [`WasgoError::CompileTimeout`]. The compile thread
//!   itself cannot be interrupted: it runs to its end in the background and its module *is*
//!   cached (so the work is not lost and a later load of the same bytes is instant), but the
//!   request that timed out is refused.
//! - **Disk**: with a cache directory, compiled code is written as an authenticated artifact
//!   ([`artifact`](crate::artifact)) under the install's own random key ([`install_key`], a file
//!   in `user://` created once) with [`write_atomic`](crate::atomic_file::write_atomic), and loaded
//!   instead of compiling. A cache file that does not authenticate (corrupted, altered, written
//!   under another key) or that wasmtime refuses is never run: it is deleted, counted in
//!   `cache_rejects`, and the module is compiled and written again.
//! - **Precompiled**: [`ModuleCache::insert_precompiled`] adds a module loaded from the game's
//!   own artifact under its source's hash, so the same module compiled from its `.wasm` later is
//!   a hit, and vice versa.
//! - **No compiler**: in a build without the `compiler` feature, a request that is not a hit in
//!   memory is refused with [`WasgoError::NoCompiler`].

use crate::artifact::ArtifactKey;
use crate::error::WasgoError;
use crate::module::CompiledModule;
use crate::precompiled::{self, EngineFacts};
use crate::prefetch::MemoryHints;
use parking_lot::{Condvar, Mutex};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

type Outcome = Result<Arc<CompiledModule>, Failure>;

/// Why a compile thread answered without a module (named by the waiter: one compile may serve
/// loads under several names).
#[derive(Clone, Debug)]
enum Failure {
    /// Not valid WebAssembly (or WAT), or the compiler refused it: [`WasgoError::Compile`].
    Invalid(String),
    /// Refused before compiling: [`WasgoError::CompileTooCostly`].
    #[cfg_attr(not(feature = "compiler"), allow(dead_code))]
    TooCostly(crate::compile_cost::TooCostly),
}

impl Failure {
    fn named(self, name: String) -> WasgoError {
        match self {
            Failure::Invalid(reason) => WasgoError::Compile { name, reason },
            Failure::TooCostly(reason) => WasgoError::CompileTooCostly { name, reason },
        }
    }
}

/// The largest cache file read (compiled code of a module at the largest size limits).
const MAX_CACHE_FILE_BYTES: u64 = 1 << 30;

/// One compile in progress; waiters block on `done`.
struct Flight {
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
    /// Someone blocks on this compile ([`CompileTicket::wait`]): it does not wait for a compile
    /// slot (a `load_module` on the main thread must not queue behind background compiles).
    urgent: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Entries {
    live: HashMap<String, Weak<CompiledModule>>,
    /// Most recently used last.
    recent: VecDeque<Arc<CompiledModule>>,
    flights: HashMap<String, Arc<Flight>>,
}

/// The compiled modules of one engine. See the module documentation.
pub struct ModuleCache {
    engine: wasmtime::Engine,
    facts: EngineFacts,
    /// The disk cache's directory and the install's key; `None` keeps modules in memory only.
    disk: Option<(PathBuf, ArtifactKey)>,
    max_unused: usize,
    entries: Mutex<Entries>,
    /// Requests answered without compiling (memory, disk, or another thread's compile).
    pub(crate) hits: AtomicU64,
    /// Modules compiled from bytes.
    pub(crate) compiles: AtomicU64,
    /// Modules loaded from the game's precompiled artifacts (not compiled).
    pub(crate) precompiled_loads: AtomicU64,
    /// Disk cache files refused (not authenticated, or refused by wasmtime) and deleted.
    pub(crate) cache_rejects: AtomicU64,
    /// Compile threads alive now.
    threads: AtomicUsize,
    /// Cranelift runs under way, at most `compile_slots()` at once (each holds the compiler's
    /// working memory; a game asking for 200 modules at once had 200 run together).
    #[cfg_attr(not(feature = "compiler"), allow(dead_code))]
    compiling: (Mutex<usize>, Condvar),
}

/// How many modules Cranelift compiles at once: the machine's cores, at least two. (Cranelift
/// compiles one module's functions in parallel already.)
#[cfg(feature = "compiler")]
fn compile_slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
}

/// A compile requested with [`Runtime::compile_in_background`](crate::runtime::Runtime::compile_in_background).
/// Poll it every frame with [`CompileTicket::try_take`], or block with [`CompileTicket::wait`].
pub struct CompileTicket {
    name: String,
    state: TicketState,
    deadline: Instant,
    timeout: Duration,
}

enum TicketState {
    Ready(Result<Arc<CompiledModule>, WasgoError>),
    Waiting {
        flight: Arc<Flight>,
        cache: Arc<ModuleCache>,
    },
}

impl CompileTicket {
    pub(crate) fn ready(
        name: &str,
        outcome: Result<Arc<CompiledModule>, WasgoError>,
    ) -> CompileTicket {
        CompileTicket {
            name: name.into(),
            state: TicketState::Ready(outcome),
            deadline: Instant::now(),
            timeout: Duration::ZERO,
        }
    }

    /// The name given with the request.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether [`CompileTicket::try_take`] would return the outcome now (the compile ended, or
    /// the time limit has passed). Never blocks.
    pub fn is_ready(&self) -> bool {
        self.finished() || Instant::now() >= self.deadline
    }

    /// Whether the request was answered without a compile under way (a cache hit, a refusal
    /// before compiling) or its compile has ended, whatever the time limit says. Never blocks.
    pub(crate) fn finished(&self) -> bool {
        match &self.state {
            TicketState::Ready(_) => true,
            TicketState::Waiting { flight, .. } => flight.outcome.lock().is_some(),
        }
    }

    /// The outcome if it is ready, else the ticket back. Never blocks.
    ///
    /// # Errors
    /// The ticket itself (`Err`) while the compile runs; inside `Ok`, the errors of
    /// [`CompileTicket::wait`].
    #[allow(clippy::result_large_err)]
    pub fn try_take(self) -> Result<Result<Arc<CompiledModule>, WasgoError>, CompileTicket> {
        if self.is_ready() {
            Ok(self.wait())
        } else {
            Err(self)
        }
    }

    /// Has the compile run as soon as a compile thread is free, as [`CompileTicket::wait`] does,
    /// without waiting for it (a compile nobody waits for yields to those somebody does).
    pub fn urge(&self) {
        if let TicketState::Waiting { flight, cache } = &self.state {
            if !flight.urgent.load(Ordering::Relaxed) {
                // Under the slots' lock, so a compile thread checking before it sleeps sees it.
                let _slots = cache.compiling.0.lock();
                flight.urgent.store(true, Ordering::Relaxed);
                cache.compiling.1.notify_all();
            }
        }
    }

    /// Blocks until the compile ends or the time limit passes.
    ///
    /// # Errors
    /// [`WasgoError::Compile`] for invalid bytes, [`WasgoError::ModuleTooLarge`],
    /// [`WasgoError::CompileTimeout`] when the limit passed first.
    pub fn wait(self) -> Result<Arc<CompiledModule>, WasgoError> {
        let (flight, cache) = match self.state {
            TicketState::Ready(outcome) => return outcome,
            TicketState::Waiting { flight, cache } => (flight, cache),
        };
        if !flight.urgent.load(Ordering::Relaxed) {
            // Under the slots' lock, so a compile thread checking before it sleeps sees it.
            let _slots = cache.compiling.0.lock();
            flight.urgent.store(true, Ordering::Relaxed);
            cache.compiling.1.notify_all();
        }
        let mut outcome = flight.outcome.lock();
        while outcome.is_none() {
            if flight
                .done
                .wait_until(&mut outcome, self.deadline)
                .timed_out()
                && outcome.is_none()
            {
                return Err(WasgoError::CompileTimeout {
                    name: self.name,
                    limit_ms: self.timeout.as_millis(),
                });
            }
        }
        match outcome.clone().expect("checked above") {
            Ok(module) => {
                cache.touch(&module);
                Ok(module)
            }
            Err(failure) => Err(failure.named(self.name)),
        }
    }
}

impl ModuleCache {
    /// The default bound on unused modules held.
    pub const DEFAULT_MAX_UNUSED: usize = 32;

    pub(crate) fn new(
        engine: wasmtime::Engine,
        facts: EngineFacts,
        disk: Option<(PathBuf, ArtifactKey)>,
        max_unused: usize,
    ) -> Self {
        if let Some((dir, _)) = &disk {
            // Off the caller's thread: the folder may hold thousands of files.
            let dir = dir.clone();
            let _ = std::thread::Builder::new()
                .name("wasgo-cache-sweep".into())
                .spawn(move || {
                    crate::budget::lower_thread_priority();
                    sweep_disk_cache(&dir, MAX_DISK_CACHE_BYTES, STALE_TEMP_AGE);
                });
        }
        ModuleCache {
            engine,
            facts,
            disk,
            max_unused,
            entries: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            compiles: AtomicU64::new(0),
            precompiled_loads: AtomicU64::new(0),
            cache_rejects: AtomicU64::new(0),
            threads: AtomicUsize::new(0),
            compiling: (Mutex::new(0), Condvar::new()),
        }
    }

    /// Runs `compile` once fewer than `compile_slots()` compiles run (waiting on this compile
    /// thread for a slot; disk-cache loads never wait), or at once when someone blocks on it
    /// (`urgent`, set by [`CompileTicket::wait`]).
    #[cfg(feature = "compiler")]
    fn in_compile_slot<R>(
        &self,
        urgent: &std::sync::atomic::AtomicBool,
        compile: impl FnOnce() -> R,
    ) -> R {
        let (count, freed) = &self.compiling;
        {
            let mut n = count.lock();
            let slots = compile_slots();
            while *n >= slots && !urgent.load(Ordering::Relaxed) {
                freed.wait(&mut n);
            }
            *n += 1;
        }
        /// Gives the slot back also when the compile panicked.
        struct Slot<'a>(&'a (Mutex<usize>, Condvar));
        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                *self.0 .0.lock() -= 1;
                self.0 .1.notify_one();
            }
        }
        let _slot = Slot(&self.compiling);
        compile()
    }

    /// Compile threads alive now (a compile whose request timed out still runs to its end).
    pub fn threads(&self) -> usize {
        self.threads.load(Ordering::Acquire)
    }

    /// Waits until no compile thread is alive, or `limit` has passed; returns whether none is.
    /// For shutdown: a compile thread runs code of the library that holds WasGo, which the game
    /// may unload once it has shut WasGo down.
    pub fn wait_for_threads(&self, limit: Duration) -> bool {
        crate::clock::wait_until(limit, Duration::from_millis(5), || self.threads() == 0)
    }

    /// How many unused modules are kept (the most recently used ones).
    pub fn max_unused(&self) -> usize {
        self.max_unused
    }

    /// Starts (or joins) the compile of `bytes`; the ticket answers within `timeout`. When
    /// answering needs a new compile thread and `may_compile` is false: `None` (nothing started;
    /// every check before it was passed).
    pub(crate) fn start_if(
        self: &Arc<Self>,
        bytes: &[u8],
        name: &str,
        max_bytes: usize,
        timeout: Duration,
        may_compile: bool,
    ) -> Option<CompileTicket> {
        if bytes.len() > max_bytes {
            let too_large = WasgoError::ModuleTooLarge {
                name: name.into(),
                size: bytes.len(),
                limit: max_bytes,
            };
            return Some(CompileTicket::ready(name, Err(too_large)));
        }
        if bytes.is_empty() {
            let empty = WasgoError::Compile {
                name: name.into(),
                reason: "the file is empty".into(),
            };
            return Some(CompileTicket::ready(name, Err(empty)));
        }
        // Bytes that are neither binary nor WAT get this reason, not a WAT parse error.
        if let Some(reason) = crate::diagnose::not_wasm(bytes) {
            let not_wasm = WasgoError::NotWasm {
                name: name.into(),
                reason,
            };
            return Some(CompileTicket::ready(name, Err(not_wasm)));
        }
        let sha = hex(&Sha256::digest(bytes));
        let mut entries = self.entries.lock();
        if let Some(found) = entries.live.get(&sha).and_then(Weak::upgrade) {
            drop(entries);
            self.hits.fetch_add(1, Ordering::Relaxed);
            self.touch(&found);
            return Some(CompileTicket::ready(name, Ok(found)));
        }
        let waiting = |flight: Arc<Flight>| CompileTicket {
            name: name.into(),
            state: TicketState::Waiting {
                flight,
                cache: self.clone(),
            },
            deadline: Instant::now() + timeout,
            timeout,
        };
        if let Some(flight) = entries.flights.get(&sha) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(waiting(flight.clone()));
        }
        if !cfg!(feature = "compiler") {
            drop(entries);
            let no_compiler = WasgoError::NoCompiler { name: name.into() };
            return Some(CompileTicket::ready(name, Err(no_compiler)));
        }
        if !may_compile {
            return None;
        }
        let flight = Arc::new(Flight {
            outcome: Mutex::new(None),
            done: Condvar::new(),
            urgent: std::sync::atomic::AtomicBool::new(false),
        });
        entries.flights.insert(sha.clone(), flight.clone());
        drop(entries);
        let cache = self.clone();
        let job_flight = flight.clone();
        let bytes = bytes.to_vec();
        self.threads.fetch_add(1, Ordering::AcqRel);
        let spawned = std::thread::Builder::new()
            .name("wasgo-compile".into())
            .spawn(move || {
                crate::budget::lower_thread_priority();
                // A panic inside the compiler (wasmtime, the WAT parser) must still answer the
                // waiters and free the flight: a dead flight made every later load of the same
                // bytes wait out the compile timeout, for the rest of the session.
                let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    cache.compile_now(&sha, &bytes, &job_flight, max_bytes)
                }));
                if compiled.is_err() {
                    cache.entries.lock().flights.remove(&sha);
                    *job_flight.outcome.lock() = Some(Err(Failure::Invalid(
                        "wasgo host bug: the compiler panicked on this module; please report it"
                            .to_string(),
                    )));
                    job_flight.done.notify_all();
                }
                // The last thing the thread does with the cache.
                cache.threads.fetch_sub(1, Ordering::AcqRel);
            });
        if let Err(e) = spawned {
            self.threads.fetch_sub(1, Ordering::AcqRel);
            let reason = format!("cannot start a compile thread: {e}");
            return Some(CompileTicket::ready(name, Err(WasgoError::Host(reason))));
        }
        Some(waiting(flight))
    }

    /// The body of a compile thread: disk or compiler, then publish to the cache and waiters.
    fn compile_now(&self, sha: &str, bytes: &[u8], flight: &Flight, max_bytes: usize) {
        let manifest = crate::manifest::manifest_of_module(bytes);
        let mut compiled = false;
        let outcome = match self.load_from_disk(sha) {
            Some(module) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(module)
            }
            None => {
                let module = self.compile_bytes(sha, bytes, &flight.urgent, max_bytes);
                compiled = module.is_ok();
                module
            }
        };
        let outcome = outcome.and_then(|m| {
            CompiledModule::new(m, sha.to_string())
                .map(|c| {
                    Arc::new(
                        c.with_manifest(manifest)
                            .with_memory_hints(MemoryHints::of_module(bytes)),
                    )
                })
                .map_err(|e| Failure::Invalid(e.to_string()))
        });
        {
            let mut entries = self.entries.lock();
            entries.flights.remove(sha);
            if let Ok(module) = &outcome {
                entries.live.insert(sha.to_string(), Arc::downgrade(module));
                entries.recent.push_back(module.clone());
                self.evict(&mut entries);
            }
            // Counted once the module is published: whoever sees the count finds it cached
            // (the disk write and the manifest read come before, not between the two).
            if compiled {
                self.compiles.fetch_add(1, Ordering::Relaxed);
            }
        }
        *flight.outcome.lock() = Some(outcome);
        flight.done.notify_all();
    }

    #[cfg(feature = "compiler")]
    fn compile_bytes(
        &self,
        sha: &str,
        bytes: &[u8],
        urgent: &std::sync::atomic::AtomicBool,
        max_bytes: usize,
    ) -> Result<wasmtime::Module, Failure> {
        let binary = crate::wat_text::to_binary(bytes).map_err(Failure::Invalid)?;
        crate::compile_cost::check(&binary, max_bytes).map_err(Failure::TooCostly)?;
        let module = self
            .in_compile_slot(urgent, || wasmtime::Module::new(&self.engine, &binary))
            .map_err(|e| Failure::Invalid(format!("{e:#}")))?;
        self.store_on_disk(sha, &module);
        Ok(module)
    }

    /// Compiles `bytes` with `engine` (this cache's, or one of the same settings) on the calling
    /// thread without looking in or adding to the cache (for precompiling: an artifact made now
    /// and loaded right after must really be loaded), under the size limit and the checks of
    /// [`ModuleCache::start_if`]; counted in `compiles`. Returns the module and the hex SHA-256
    /// of `bytes`.
    #[cfg(feature = "compiler")]
    pub(crate) fn compile_uncached(
        &self,
        engine: &wasmtime::Engine,
        bytes: &[u8],
        name: &str,
        max_bytes: usize,
    ) -> Result<(wasmtime::Module, String), WasgoError> {
        if bytes.len() > max_bytes {
            return Err(WasgoError::ModuleTooLarge {
                name: name.into(),
                size: bytes.len(),
                limit: max_bytes,
            });
        }
        if let Some(reason) = crate::diagnose::not_wasm(bytes) {
            return Err(WasgoError::NotWasm {
                name: name.into(),
                reason,
            });
        }
        let compile_error = |reason: String| WasgoError::Compile {
            name: name.into(),
            reason,
        };
        let binary = crate::wat_text::to_binary(bytes).map_err(compile_error)?;
        crate::compile_cost::check(&binary, max_bytes).map_err(|reason| {
            WasgoError::CompileTooCostly {
                name: name.into(),
                reason,
            }
        })?;
        let module =
            wasmtime::Module::new(engine, &binary).map_err(|e| compile_error(format!("{e:#}")))?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        Ok((module, hex(&Sha256::digest(bytes))))
    }

    #[cfg(not(feature = "compiler"))]
    fn compile_bytes(
        &self,
        _sha: &str,
        _bytes: &[u8],
        _urgent: &std::sync::atomic::AtomicBool,
        _max_bytes: usize,
    ) -> Result<wasmtime::Module, Failure> {
        Err(Failure::Invalid(
            "this build of WasGo has no compiler".into(),
        ))
    }

    /// The module held for the WebAssembly whose hex SHA-256 is `sha`, if any (counted as a
    /// hit).
    pub(crate) fn find(&self, sha: &str) -> Option<Arc<CompiledModule>> {
        let found = self.entries.lock().live.get(sha).and_then(Weak::upgrade)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        self.touch(&found);
        Some(found)
    }

    /// Adds a module loaded from a precompiled artifact of the WebAssembly whose hex SHA-256 is
    /// `sha`; a module of the same source held already wins (the new one is dropped).
    pub(crate) fn insert_precompiled(
        &self,
        sha: &str,
        module: CompiledModule,
    ) -> Arc<CompiledModule> {
        let mut entries = self.entries.lock();
        if let Some(found) = entries.live.get(sha).and_then(Weak::upgrade) {
            drop(entries);
            self.touch(&found);
            return found;
        }
        let module = Arc::new(module);
        self.precompiled_loads.fetch_add(1, Ordering::Relaxed);
        entries
            .live
            .insert(sha.to_string(), Arc::downgrade(&module));
        entries.recent.push_back(module.clone());
        self.evict(&mut entries);
        module
    }

    /// What makes an artifact loadable by this cache's engine.
    pub(crate) fn facts(&self) -> EngineFacts {
        self.facts
    }

    /// Marks `module` as the most recently used.
    fn touch(&self, module: &Arc<CompiledModule>) {
        let mut entries = self.entries.lock();
        if let Some(i) = entries.recent.iter().position(|m| Arc::ptr_eq(m, module)) {
            entries.recent.remove(i);
        }
        entries.recent.push_back(module.clone());
        self.evict(&mut entries);
    }

    fn evict(&self, entries: &mut Entries) {
        while entries.recent.len() > self.max_unused {
            entries.recent.pop_front();
        }
        entries.live.retain(|_, m| m.strong_count() > 0);
    }

    /// Drops every module nothing else holds.
    pub fn trim(&self) {
        let mut entries = self.entries.lock();
        entries.recent.clear();
        entries.live.retain(|_, m| m.strong_count() > 0);
    }

    /// Compiled modules held now (in use or among the recent unused ones).
    pub fn len(&self) -> usize {
        let mut entries = self.entries.lock();
        entries.live.retain(|_, m| m.strong_count() > 0);
        entries.live.len()
    }

    /// Whether no compiled module is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `<dir>/<sha>-<native or pulley>-<first 8 bytes of the compatibility hash>.cwasm`.
    fn cache_path(&self, sha: &str) -> Option<PathBuf> {
        let (dir, _) = self.disk.as_ref()?;
        let compat = self.facts.compatibility_hash();
        // The compatibility hash already covers the target, but the mode is named in the file
        // name too, so a module compiled for one mode can never be handed to the other.
        let mode = if self.engine.is_pulley() {
            "pulley"
        } else {
            "native"
        };
        Some(dir.join(format!("{sha}-{mode}-{}.cwasm", hex(&compat[..8]))))
    }

    /// The cached module of `sha`, if its file exists and authenticates. A file that is refused
    /// is deleted and counted; the caller compiles (and writes the file again).
    fn load_from_disk(&self, sha: &str) -> Option<wasmtime::Module> {
        let (_, key) = self.disk.as_ref()?;
        let path = self.cache_path(sha)?;
        // Only a plain file of a plausible size is read: a link to `/dev/zero`, a pipe or a
        // huge file put in its place would be read without end or block the compile thread.
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_CACHE_FILE_BYTES {
            self.cache_rejects.fetch_add(1, Ordering::Relaxed);
            let _ = std::fs::remove_file(&path);
            return None;
        }
        let Some(bytes) = read_cache_file(&path, meta.len()) else {
            self.cache_rejects.fetch_add(1, Ordering::Relaxed);
            let _ = std::fs::remove_file(&path);
            return None;
        };
        match precompiled::load(&self.engine, self.facts, key, &bytes) {
            // The manifest is read from the bytes being compiled, which are at hand.
            Ok(loaded) if hex(&loaded.source_sha256) == sha => Some(loaded.module),
            _ => {
                self.cache_rejects.fetch_add(1, Ordering::Relaxed);
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    #[cfg(feature = "compiler")]
    fn store_on_disk(&self, sha: &str, module: &wasmtime::Module) {
        let (Some((_, key)), Some(path)) = (self.disk.as_ref(), self.cache_path(sha)) else {
            return;
        };
        let Some(source) = unhex32(sha) else {
            return;
        };
        let Ok(bytes) = precompiled::seal_module(module, self.facts, key, &source, &[]) else {
            return;
        };
        // Larger than a cache file may be read back (or than a tenth of the whole cache): not
        // written, so that one module cannot fill the disk or push every other file out.
        if bytes.len() as u64 > MAX_CACHE_FILE_BYTES.min(MAX_DISK_CACHE_BYTES / 10) {
            return;
        }
        if let Some(dir) = path.parent() {
            if std::fs::create_dir_all(dir).is_err() {
                return;
            }
        }
        // A cache that cannot be written only costs a compile next time.
        let _ = crate::atomic_file::write_atomic(&path, &bytes);
    }
}

/// The most bytes the disk cache keeps (512 MiB): past it, the files written longest ago are
/// deleted when a runtime starts (every mod version, hot-reload build and WasGo upgrade left a
/// file there for good).
pub const MAX_DISK_CACHE_BYTES: u64 = 512 << 20;

/// How old a temporary file of an unfinished cache write must be before the sweep deletes it
/// (one left by a crash mid-write; a younger one may be another game process's write).
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Keeps the disk cache in `dir` within `cap` bytes: deletes temporary files of its writes older
/// than `stale`, then compiled-module files, those written longest ago first, until the rest
/// fit. Only files named as WasGo names them are touched ([`is_cache_module_name`]: a
/// `wasgo/runtime/cache_dir` pointed at a folder of other files, `user://` or one holding a
/// developer's own `.cwasm` artifacts, had every `*.tmp` and `*.cwasm` there deleted). Other
/// files (the key) are left alone; what cannot be read or deleted is skipped. Returns the bytes
/// deleted.
pub fn sweep_disk_cache(dir: &Path, cap: u64, stale: std::time::Duration) -> u64 {
    let Ok(read) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut deleted = 0;
    let mut modules = Vec::new();
    for entry in read.flatten() {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let written = meta.modified().unwrap_or(now);
        if is_cache_temp_name(&name) {
            let age = now.duration_since(written).unwrap_or_default();
            if age >= stale && std::fs::remove_file(entry.path()).is_ok() {
                deleted += meta.len();
            }
        } else if is_cache_module_name(&name) {
            modules.push((written, meta.len(), entry.path()));
        }
    }
    let mut total: u64 = modules.iter().map(|(_, len, _)| len).sum();
    modules.sort();
    for (_, len, path) in modules {
        if total <= cap {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
            deleted += len;
        }
    }
    deleted
}

/// Whether `name` is a compiled-module file as the cache names it: `<64 hex digits (the
/// module's SHA-256)>-<native or pulley>-<16 hex digits>.cwasm` ([`ModuleCache`] names them so).
pub fn is_cache_module_name(name: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(stem) = name.strip_suffix(".cwasm") else {
        return false;
    };
    let mut parts = stem.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(sha), Some("native" | "pulley"), Some(compat), None) if hex(sha, 64) && hex(compat, 16)
    )
}

/// Whether `name` is the temporary file of a cache write (see
/// [`crate::atomic_file::temp_file_of`]).
pub fn is_cache_temp_name(name: &str) -> bool {
    crate::atomic_file::temp_file_of(name).is_some_and(is_cache_module_name)
}

/// The bytes of the cache file `path` (a plain file of `len` bytes), when its header is an
/// artifact's of that length ([`crate::artifact::header_fits`]); read whole only then.
fn read_cache_file(path: &Path, len: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let (mut file, _) = crate::atomic_file::open_plain(path).ok()?;
    let mut bytes = vec![0; crate::artifact::HEADER_LEN];
    file.read_exact(&mut bytes).ok()?;
    if !crate::artifact::header_fits(&bytes, len) {
        return None;
    }
    file.take(len).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 == len).then_some(bytes)
}

/// The install's disk-cache key, kept in the file `path` (in `user://`): read when it holds 32
/// bytes, else made from the system's random generator and written atomically (the directory is
/// created). Its bytes are never logged. A damaged key file is replaced, which only makes the
/// cache files written under the old key fail to authenticate (they are then recompiled).
///
/// # Errors
/// Why no key could be read or made (then the caller keeps the cache in memory only).
pub fn install_key(path: &Path) -> Result<ArtifactKey, String> {
    if let Ok(bytes) = crate::atomic_file::read_plain(path, 32) {
        if bytes.len() == 32 {
            return ArtifactKey::new(&bytes).map_err(|e| e.to_string());
        }
    }
    let key = ArtifactKey::random()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    crate::atomic_file::write_atomic(path, key.bytes())
        .map_err(|e| format!("cannot write the cache key file `{}`: {e}", path.display()))?;
    Ok(key)
}

/// Hex text of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The 32 bytes hex text `text` spells, if it does.
#[cfg(feature = "compiler")]
pub(crate) fn unhex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
