//! The game's waPC host operations: handlers registered per (binding, namespace, operation) with
//! a safety level, mirroring the registry of game functions ([`GameFunctions`](crate::game::GameFunctions)).
//!
//! The glue implements [`WapcHandler`] (e.g. around a Godot `Callable` taking and returning a
//! `PackedByteArray`) and registers it with [`WapcHandlers::register`]; handlers only ever run on
//! the main thread.

use crate::ids::InstanceKey;
use crate::level::SafetyLevel;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The name of a waPC host operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WapcOperation {
    pub binding: String,
    pub namespace: String,
    pub operation: String,
}

impl WapcOperation {
    pub fn new(binding: &str, namespace: &str, operation: &str) -> WapcOperation {
        WapcOperation {
            binding: binding.into(),
            namespace: namespace.into(),
            operation: operation.into(),
        }
    }
}

impl fmt::Display for WapcOperation {
    /// `binding/namespace/operation`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.binding, self.namespace, self.operation)
    }
}

/// A game-side waPC host operation. `call` runs on the main thread; an `Err` becomes the
/// guest's host error.
pub trait WapcHandler: Send + Sync {
    fn call(
        &self,
        key: InstanceKey,
        op: &WapcOperation,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, String>;
}

/// Any `Fn` is a handler (tests, simple games).
impl<F> WapcHandler for F
where
    F: Fn(InstanceKey, &WapcOperation, Vec<u8>) -> Result<Vec<u8>, String> + Send + Sync,
{
    fn call(
        &self,
        key: InstanceKey,
        op: &WapcOperation,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        self(key, op, payload)
    }
}

/// One registered operation.
#[derive(Clone)]
pub struct WapcEntry {
    /// The lowest safety level at which mods may call it.
    pub level: SafetyLevel,
    pub handler: Arc<dyn WapcHandler>,
}

/// The registered waPC host operations (empty by default: nothing is exposed).
#[derive(Default)]
pub struct WapcHandlers {
    map: RwLock<HashMap<WapcOperation, WapcEntry>>,
}

impl WapcHandlers {
    /// Registers (or replaces) `op`, callable by mods at `level` and above.
    pub fn register(&self, op: WapcOperation, level: SafetyLevel, handler: Arc<dyn WapcHandler>) {
        self.map.write().insert(op, WapcEntry { level, handler });
    }

    /// Removes `op`; returns whether it was registered.
    pub fn unregister(&self, op: &WapcOperation) -> bool {
        self.map.write().remove(op).is_some()
    }

    pub fn get(&self, op: &WapcOperation) -> Option<WapcEntry> {
        self.map.read().get(op).cloned()
    }

    /// Every registered operation with its level.
    pub fn all(&self) -> Vec<(WapcOperation, SafetyLevel)> {
        self.map
            .read()
            .iter()
            .map(|(op, e)| (op.clone(), e.level))
            .collect()
    }
}
