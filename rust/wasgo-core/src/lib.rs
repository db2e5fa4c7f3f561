//! # wasgo-core — the Godot-free runtime of WasGo
//!
//! WasGo runs WebAssembly mods inside a Godot game. This crate holds everything that does not
//! need Godot, so it can be tested with `cargo test`; the `wasgo` crate is a thin GDExtension
//! layer on top.
//!
//! How the parts fit:
//!
//! - [`Runtime`] owns the one `wasmtime::Engine` of the game (with epoch interruption), the
//!   [`EpochTicker`](ticker::EpochTicker) thread that advances the epoch while wasm runs, the
//!   module cache (keyed by SHA-256, optionally persisted to a cache directory), the game's
//!   registered functions ([`GameFunctions`]) and the [`MainThreadBridge`].
//! - [`catalog`] lists every `wasgo` host function with its safety level and signature: the single
//!   source of truth the linker, the stubs, the docs and the guest bindings come from.
//! - [`linking`] links a module's imports at a [`SafetyLevel`]: exposed functions to their
//!   implementations ([`hostfns`], WASI via [`wasi`], game functions via [`game`]), everything
//!   else to an error stub that traps only when called.
//! - [`ModInstance`] is one running mod: a store behind a mutex, `main` on a killable worker
//!   thread, main-thread entries under a time budget, and a [`KillSwitch`](state::KillSwitch).
//!   It reports what happens as [`ModEvent`]s, which the glue turns into signals.
//!
//! Data flows one way: Godot → glue → core → wasm. The core never calls Godot; when a mod needs
//! the game, the core calls a [`GameCallHandler`] the glue supplies, on the main thread.

pub mod abi;
pub mod bridge;
pub mod delivery;
pub use wasgo_catalog::catalog;
pub mod error;
pub mod events;
pub mod game;
pub mod grants;
mod guest;
pub mod handles;
pub mod hostfns;
pub mod http;
pub mod instance;
pub use wasgo_catalog::level;
pub mod allowlist;
pub mod atomic_file;
pub mod limits;
pub mod linking;
pub mod module;
pub mod objects;
pub mod permissions;
pub mod redirect;
pub mod runtime;
pub mod sandbox;
pub mod state;
pub mod ticker;
pub mod urls;
pub mod variant;
pub mod wasi;
mod wasi_sandbox;

pub use bridge::MainThreadBridge;
pub use error::{TrapInfo, TrapKind, WasgoError};
pub use events::{ModEvent, OutputSource};
pub use game::{GameCallHandler, GameFunctions, GameType, GameValue};
pub use http::{HttpCall, HttpHost, HttpMethod, HttpOutcome, NetworkConfig};
pub use instance::{InstanceConfig, MainKind, ModInstance, ModStatus};
pub use level::SafetyLevel;
pub use limits::Limits;
pub use module::{CompiledModule, ExportInfo, ImportInfo};
pub use objects::{InstanceKey, ObjectError, ObjectHost, ObjectOp, ObjectReply};
pub use permissions::Permissions;
pub use runtime::{Runtime, RuntimeConfig, StatsSnapshot};
pub use variant::WireVariant;
pub use wasi::WasiDirs;
pub use wasmtime::Val;
