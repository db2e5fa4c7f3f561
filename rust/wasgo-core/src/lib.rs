//! # wasgo-core — the Godot-free runtime of WasGo
//!
//! WasGo runs WebAssembly mods inside a Godot game. This crate holds everything that does not
//! need Godot, so it can be tested with `cargo test`; the `wasgo` crate is a thin GDExtension
//! layer on top. Data flows one way: Godot → glue → core → wasm. The core never calls Godot;
//! when a mod needs the game, the core calls the hosts the glue supplied, on the main thread.
//!
//! ## Layers
//!
//! The modules form layers: a module imports modules of lower layers (or, without cycles, of its
//! own), never one above, so there is no import cycle (`tests/layering.rs` reads every
//! `crate::` reference and fails on a cycle, printing it). Bottom to top:
//!
//! 1. **Foundations**: [`error`] (`WasgoError`, `TrapKind`, `HostTrap`, `KilledTrap`), [`kill`]
//!    (the kill switch), `mod_status` (`ModStatus` and the cell that holds it: changed under a
//!    lock, read without one), [`clock`] (entries' cheap `Stamp` clock), [`limits`], [`mode`]
//!    (compiled or interpreted), [`memory_layout`] and
//!    [`instance_pool`] (how instances' memories are reserved), [`ids`] (`InstanceKey`),
//!    [`stats`], [`worker_reaper`] (finished workers joined off the caller's thread), [`abi`] (ABI types, `ImportKind`), [`variant`], [`permissions`]
//!    (`Permission`), [`wasm_sections`] (a binary module's sections, walked without parsing),
//!    [`manifest`] (a mod's `wasgo.manifest` section and the ABI rule), [`prefetch`] (the
//!    addresses an entry touches first, and where in its memory a module's code works),
//!    [`atomic_file`], [`mesh_cost`] (what a particle node's mesh costs the GPU), [`typing`] (what a mod may see of what the player types), [`wat_text`] (WAT text to a binary, its cost bounded first), [`artifact`] (the
//!    authenticated frame of precompiled modules, HMAC-SHA256), [`reach`]
//!    (which nodes a mod may hold handles to), and the catalog and levels from `wasgo-catalog`.
//! 2. **Services**, each testable alone: [`bridge`] (worker → main thread), [`ticker`] (the
//!    epoch thread), [`events`], [`sandbox`], [`urls`], [`http`] (the request table and the
//!    `HttpHost` trait), [`objects`] (the `ObjectHost` trait), [`allowlist`], [`grants`], [`game`]
//!    (the game-function registry and the `GameCallHandler` trait), [`assets`] (what a mod's
//!    image, sound or font bytes are, and whether they fit the caps, before Godot decodes them),
//!    [`file_watch`] (when a changed `.wasm` file is ready to hot-reload), [`mod_list`] (the
//!    enabled list, load order and remembered sandboxes in `user://wasgo/`), [`discovery`]
//!    (what a mods folder holds, for `WasmEngine.scan_mods`), [`mod_config`] (a mod's `config`
//!    export, run in a throwaway instance whose imports are all stubs).
//! 3. **[`Hosts`]** ([`hosts`]): the game as host functions see it: object host, HTTP host,
//!    game-function handler and registry, and the bridge. All are required when the runtime is
//!    built; [`Hosts::detached`] stands in for a runtime without a game.
//! 4. **Instance state** ([`state`]): what a store carries, holding `Arc<Hosts>`, not the
//!    runtime; [`budget`] (the epoch callback and the time limits of an entry).
//! 5. **Host functions**: [`hostfns`] (the `wasgo` functions), the object, HTTP and game-call
//!    functions, [`wasi`] and the level-2 WASI wrappers, reading the mod's memory through a
//!    checked guest-memory layer.
//! 6. **[`linking`]**: a module's imports at a [`SafetyLevel`]: exposed functions to their
//!    implementations, functions above the level to stubs that trap with `Unexposed` and send
//!    `UnexposedCall`, unknown or mismatched imports to stubs that trap with `UnresolvedImport`
//!    and are reported once at instantiation as a `LinkWarning` event.
//! 7. **[`module`]** (`CompiledModule`, pre-linked per level), [`diagnose`] (what the editor
//!    warns about before a module runs, and the "not a WebAssembly module" reason) and [`cache`] (the module cache:
//!    weak entries for modules in use, a bound on unused ones, one compile per key at a time, a
//!    disk cache authenticated under the install's key, compile size and time limits, background
//!    compiles), [`precompiled`] (wasmtime modules in and out of artifacts, the compatibility
//!    hash: the one `Module::deserialize`).
//! 8. **[`instance`]** (`ModInstance`): one running mod: a store behind a mutex, `main` on a
//!    worker thread that owns the store while it runs, main-thread entries under a CPU-time
//!    budget, and a `kill()` that never waits for the worker. It reports what happens as
//!    [`ModEvent`]s, which the glue turns into signals. [`engine`] is what instances need of the
//!    runtime (engine, ticker, counters, hosts). `carry_state` adds the hot-reload pair
//!    (`ModInstance::save_state`, `ModInstance::load_state`) on top of the instance's entry path.
//! 9. **[`runtime`]** (`Runtime`): the one engine of the game, on top; nothing imports it.
//!    `aot` adds `Runtime::precompile` and `Runtime::load_precompiled` beside it.

pub mod abi;
pub mod allowlist;
pub mod aot;
pub mod artifact;
pub mod assets;
pub mod atomic_file;
pub mod bridge;
pub mod budget;
pub mod cache;
mod call_each;
mod carry_state;
pub mod clock;
pub mod compile_cost;
pub mod delivery;
pub mod diagnose;
pub mod discovery;
pub mod draw_budget;
pub mod frame_overrun;
pub use wasgo_catalog::catalog;
pub mod engine;
mod entry;
pub mod error;
pub mod events;
pub mod export_args;
pub mod fast_hash;
pub mod file_watch;
pub mod font_cff;
pub mod font_strip;
pub mod found_nodes;
pub mod game;
mod game_calls;
pub mod gojs;
pub mod grants;
mod guest;
mod guest_entries;
pub mod guest_kind;
pub mod handles;
pub mod hostfns;
pub mod hosts;
pub mod http;
mod http_calls;
pub mod http_wire;
pub mod ids;
pub mod instance;
pub mod instance_pool;
pub mod kill;
pub mod ogg_vorbis;
pub use wasgo_catalog::level;
pub mod limits;
pub mod linking;
pub mod log_budget;
pub mod main_share;
pub mod manifest;
pub mod memory_layout;
pub mod mesh_cost;
pub mod mod_config;
pub mod mod_list;
mod mod_status;
pub mod mode;
pub mod module;
pub mod mp3;
mod object_calls;
pub mod objects;
mod open_files;
pub mod permissions;
pub mod precompiled;
pub mod prefetch;
pub mod reach;
pub mod redirect;
pub mod runtime;
pub mod sandbox;
pub mod stack_room;
pub mod state;
pub mod stats;
pub mod svg_cost;
pub mod text;
pub mod ticker;
mod trap;
pub mod tween_plan;
pub mod typing;
pub mod urls;
pub mod variant;
pub mod wapc;
pub mod wapc_handlers;
pub mod wasi;
mod wasi_ctx;
mod wasi_sandbox;
pub mod wasm_sections;
pub mod wat_text;
pub mod worker_reaper;

pub use abi::ImportKind;
pub use aot::{Shipped, ShippedLoad, ARTIFACT_SIZE_FACTOR};
pub use artifact::{ArtifactError, ArtifactKey};
pub use bridge::MainThreadBridge;
pub use cache::CompileTicket;
pub use call_each::BATCH_NODES;
pub use error::{ImportProblem, TrapInfo, TrapKind, WasgoError};
pub use events::{ModEvent, OutputSource};
pub use file_watch::{FileStamp, FileWatch};
pub use game::{GameCallError, GameCallHandler, GameFunctions, GameType, GameValue};
pub use guest_kind::{GuestKind, GuestKindError};
pub use hosts::Hosts;
pub use http::{HttpCall, HttpHost, HttpMethod, HttpOutcome, HttpStartError, NetworkConfig};
pub use ids::InstanceKey;
pub use instance::{InstanceConfig, MainKind, ModInstance, ModStatus};
pub use instance_pool::InstancePool;
pub use level::{LevelRequest, SafetyLevel};
pub use limits::Limits;
pub use linking::LinkWarning;
pub use memory_layout::MemoryLayout;
pub use mode::{ExecutionMode, RuntimeMode};
pub use module::{CompiledModule, ExportInfo, ImportInfo};
pub use objects::{AssetKind, ObjectError, ObjectHost, ObjectOp, ObjectReply};
pub use permissions::{Permission, Permissions};
pub use runtime::{Runtime, RuntimeConfig, StatsSnapshot};
pub use trap::describe_trap;
pub use variant::WireVariant;
pub use wasi::WasiDirs;
pub use wasmtime::Val;
