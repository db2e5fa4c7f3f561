//! The game as host functions see it: the [`Hosts`] context.
//!
//! A mod's host functions need the game's object host (handles, properties, signals), its HTTP
//! host, the registry of game functions and the handler that runs them, and the
//! [`MainThreadBridge`] that carries calls from a worker thread to the main thread. They get
//! exactly that, as an `Arc<Hosts>` in every store, and nothing of the runtime above them (the
//! engine, the module cache, the ticker), the way wasmtime-wasi hands its functions a `WasiView`
//! instead of the whole embedder.
//!
//! Every host is required when the runtime is built ([`Hosts::new`]); a runtime without a game
//! (tests, tools) uses [`Hosts::detached`], whose hosts answer "no game is attached".

use crate::bridge::MainThreadBridge;
use crate::catalog::{self, Availability, WASGO_MODULE, WASI_P1_MODULE};
use crate::game::{GameCallError, GameCallHandler, GameFunctions, GameValue};
use crate::guest_kind::{GOJS_MODULE, WAPC_MODULE};
use crate::http::{HttpCall, HttpHost};
use crate::ids::InstanceKey;
use crate::level::SafetyLevel;
use crate::objects::{ObjectError, ObjectHost, ObjectOp, ObjectReply};
use std::sync::Arc;

/// What host functions may reach of the game. Built once, before the runtime; shared by every
/// store.
pub struct Hosts {
    /// Runs the object functions (`get_node`, `get`, `set`, `call`, ...) on the main thread.
    pub objects: Arc<dyn ObjectHost>,
    /// Performs level-2 HTTP requests.
    pub http: Arc<dyn HttpHost>,
    /// Runs game functions by id on the main thread.
    pub game: Arc<dyn GameCallHandler>,
    /// The game's registered functions.
    pub games: GameFunctions,
    /// The queue through which worker threads run work on the main thread.
    pub bridge: MainThreadBridge,
    /// The game's waPC host operations (none by default).
    pub wapc: crate::wapc_handlers::WapcHandlers,
}

impl Hosts {
    /// The game's hosts; the calling thread becomes the main thread of the bridge.
    pub fn new(
        objects: Arc<dyn ObjectHost>,
        http: Arc<dyn HttpHost>,
        game: Arc<dyn GameCallHandler>,
    ) -> Hosts {
        Hosts {
            objects,
            http,
            game,
            games: GameFunctions::default(),
            bridge: MainThreadBridge::new(),
            wapc: Default::default(),
        }
    }

    /// Hosts of a runtime without a game: object functions return -5, HTTP requests fail with
    /// -5, game functions trap; each says that no game is attached. Replace single fields with
    /// struct update syntax (`Hosts { game, ..Hosts::detached() }`).
    pub fn detached() -> Hosts {
        let none = Arc::new(NoGame);
        Hosts::new(none.clone(), none.clone(), none)
    }

    /// The lowest level at which `module.name` is a real function; `None` if no level exposes
    /// it.
    pub fn lowest_level(&self, module: &str, name: &str) -> Option<SafetyLevel> {
        match module {
            WASGO_MODULE => catalog::wasgo_function(name)
                .filter(|f| f.availability == Availability::Ready)
                .map(|f| f.level),
            WASI_P1_MODULE => catalog::wasi_p1_function(name).map(|_| SafetyLevel::Safe),
            GOJS_MODULE | WAPC_MODULE => {
                crate::guest_kind::guest_import(module, name).map(|_| SafetyLevel::Safe)
            }
            _ => self.games.get(module, name).map(|f| f.level),
        }
    }
}

/// The hosts of [`Hosts::detached`].
struct NoGame;

const NO_GAME: &str = "no game is attached to this WasGo runtime";

impl ObjectHost for NoGame {
    fn run(
        &self,
        _key: InstanceKey,
        _level: SafetyLevel,
        _op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError> {
        Err(ObjectError::failed(
            wasgo_catalog::ErrorCode::CallFailed.code(),
            format!("{NO_GAME}, so there are no objects to reach"),
        ))
    }
}

impl HttpHost for NoGame {
    fn start(&self, _call: HttpCall) -> Result<(), crate::http::HttpStartError> {
        Err(crate::http::HttpStartError::Failed(format!(
            "{NO_GAME}, so there is no network"
        )))
    }
}

impl GameCallHandler for NoGame {
    fn call(
        &self,
        _key: InstanceKey,
        _id: u64,
        _args: Vec<GameValue>,
    ) -> Result<Vec<GameValue>, GameCallError> {
        Err(GameCallError::NoGame)
    }
}
