//! Functions the game exposes to mods (`WasmEngine.register_function`).
//!
//! The core keeps each function's name, types and level and links it like a catalog function;
//! the call itself goes to a [`GameCallHandler`] supplied by the glue, always on the main thread
//! (through the [`MainThreadBridge`](crate::bridge::MainThreadBridge) when `main` calls it).

use crate::catalog::{is_reserved_module, Abi, Signature};
use crate::error::WasgoError;
use crate::level::SafetyLevel;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A parameter or result type of a game function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameType {
    I32,
    I64,
    F32,
    F64,
    /// UTF-8 text: a `(ptr, len)` pair as a parameter; as the (only) result, the function takes
    /// an extra `(out_ptr, out_cap)` pair and returns the text's full length.
    String,
}

impl GameType {
    /// Parses `"i32" "i64" "f32" "f64" "string"`.
    pub fn parse(s: &str) -> Option<GameType> {
        Some(match s {
            "i32" => GameType::I32,
            "i64" => GameType::I64,
            "f32" => GameType::F32,
            "f64" => GameType::F64,
            "string" => GameType::String,
            _ => return None,
        })
    }
}

/// A value crossing between a mod and a game function.
#[derive(Debug, Clone, PartialEq)]
pub enum GameValue {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    String(String),
}

/// Why a game function call failed; the mod traps with the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameCallError {
    /// The function was unregistered (or never had a callable on the game side).
    #[error("it was unregistered")]
    Unregistered,
    /// No game is attached to the runtime (a runtime built with [`Hosts::detached`](crate::hosts::Hosts::detached)).
    #[error("no game is attached to this WasGo runtime")]
    NoGame,
    /// The game's function failed or returned values that do not fit its declared results.
    #[error("{0}")]
    Failed(String),
}

impl From<String> for GameCallError {
    fn from(message: String) -> GameCallError {
        GameCallError::Failed(message)
    }
}

impl From<&str> for GameCallError {
    fn from(message: &str) -> GameCallError {
        GameCallError::Failed(message.to_string())
    }
}

/// Calls game functions by id. Implemented by the Godot glue; `call` is only ever invoked on the
/// main thread.
pub trait GameCallHandler: Send + Sync {
    /// Calls function `id` for the instance `key` with arguments of its declared types; returns
    /// values of its declared result types.
    ///
    /// # Errors
    /// A [`GameCallError`] saying what went wrong; the calling mod traps with it.
    fn call(
        &self,
        key: crate::ids::InstanceKey,
        id: u64,
        args: Vec<GameValue>,
    ) -> Result<Vec<GameValue>, GameCallError>;
}

/// One registered game function.
#[derive(Debug, Clone)]
pub struct GameFunction {
    pub id: u64,
    /// The first id of the run of same-shape registrations of this name this one ends: mods
    /// linked to any id from it to `id` call this function (a registration of another shape,
    /// or one after `unregister`, starts a new run; the game's Callables follow the same rule).
    pub reaches_from: u64,
    pub module: String,
    pub name: String,
    pub params: Vec<GameType>,
    pub results: Vec<GameType>,
    pub level: SafetyLevel,
}

impl GameFunction {
    /// Whether `other` takes and gives the same types from the same level: a mod linked to one
    /// can call the other.
    pub fn same_shape(&self, other: &GameFunction) -> bool {
        self.params == other.params && self.results == other.results && self.level == other.level
    }

    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }

    pub(crate) fn returns_string(&self) -> bool {
        self.results == [GameType::String]
    }

    /// The wasm signature mods import it with.
    pub fn signature(&self) -> Signature {
        let mut params = Vec::new();
        for t in &self.params {
            match t {
                GameType::String => params.extend([Abi::I32, Abi::I32]),
                other => params.push(abi(*other)),
            }
        }
        let results = if self.returns_string() {
            params.extend([Abi::I32, Abi::I32]);
            vec![Abi::I32]
        } else {
            self.results.iter().map(|t| abi(*t)).collect()
        };
        Signature { params, results }
    }
}

fn abi(t: GameType) -> Abi {
    match t {
        GameType::I32 => Abi::I32,
        GameType::I64 => Abi::I64,
        GameType::F32 => Abi::F32,
        GameType::F64 => Abi::F64,
        GameType::String => unreachable!("strings are lowered to pointer pairs"),
    }
}

/// The registry of game functions. Every change bumps a generation so linkers built before it
/// are rebuilt.
#[derive(Default)]
pub struct GameFunctions {
    map: RwLock<HashMap<(String, String), Arc<GameFunction>>>,
    next_id: AtomicU64,
    generation: AtomicU64,
}

impl GameFunctions {
    /// Registers (or replaces) `module.name`.
    ///
    /// # Errors
    /// [`WasgoError::BadRegistration`] when the module is reserved, a name is empty, a type is
    /// unknown, or a `string` result is not the only result.
    pub fn register(
        &self,
        module: &str,
        name: &str,
        params: &[String],
        results: &[String],
        level: i64,
    ) -> Result<Arc<GameFunction>, WasgoError> {
        let bad = |m: String| WasgoError::BadRegistration(m);
        if module.is_empty() || name.is_empty() {
            return Err(bad(format!(
                "cannot register `{module}.{name}`: module and function names must not be empty"
            )));
        }
        if is_reserved_module(module) {
            return Err(bad(format!("cannot register `{module}.{name}`: module `{module}` is reserved for WasGo (`wasgo`, `wasi_*`, and `gojs` and `wapc`, whose imports make a module a Go or waPC guest); pick another module name such as `game`")));
        }
        let parse = |list: &[String]| -> Result<Vec<GameType>, WasgoError> {
            list.iter()
                .map(|t| GameType::parse(t).ok_or_else(|| bad(format!("cannot register `{module}.{name}`: unknown type `{t}`; use \"i32\", \"i64\", \"f32\", \"f64\" or \"string\""))))
                .collect()
        };
        let params = parse(params)?;
        let results = parse(results)?;
        if results.contains(&GameType::String) && results.len() > 1 {
            return Err(bad(format!(
                "cannot register `{module}.{name}`: a \"string\" result must be the only result"
            )));
        }
        let level = SafetyLevel::from_number(level)
            .ok_or_else(|| bad(format!("cannot register `{module}.{name}`: level {level} is not a safety level; use 1, 2 or 3")))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut f = GameFunction {
            id,
            reaches_from: id,
            module: module.to_string(),
            name: name.to_string(),
            params,
            results,
            level,
        };
        let mut map = self.map.write();
        if let Some(previous) = map
            .get(&(module.to_string(), name.to_string()))
            .filter(|p| p.same_shape(&f))
        {
            f.reaches_from = previous.reaches_from;
        }
        let f = Arc::new(f);
        map.insert((module.to_string(), name.to_string()), f.clone());
        drop(map);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(f)
    }

    /// Removes `module.name`; returns whether it was registered.
    pub fn unregister(&self, module: &str, name: &str) -> bool {
        let removed = self
            .map
            .write()
            .remove(&(module.to_string(), name.to_string()))
            .is_some();
        if removed {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        removed
    }

    /// Whether a mod linked to function `id` of `module.name` reaches the function registered
    /// now (see [`GameFunction::reaches_from`]).
    pub fn reaches(&self, module: &str, name: &str, id: u64) -> bool {
        self.get(module, name)
            .is_some_and(|f| (f.reaches_from..=f.id).contains(&id))
    }

    pub fn get(&self, module: &str, name: &str) -> Option<Arc<GameFunction>> {
        self.map
            .read()
            .get(&(module.to_string(), name.to_string()))
            .cloned()
    }

    /// Every registered function.
    pub fn all(&self) -> Vec<Arc<GameFunction>> {
        self.map.read().values().cloned().collect()
    }

    /// Changes whenever a function is registered or removed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn registration_validates_names_types_and_levels() {
        let reg = GameFunctions::default();
        for reserved in ["wasgo", "gojs", "wapc", "wasi_unstable"] {
            assert!(
                reg.register(reserved, "x", &[], &[], 1).is_err(),
                "{reserved}"
            );
        }
        assert!(reg
            .register("wasi_snapshot_preview1", "x", &[], &[], 1)
            .is_err());
        assert!(reg.register("game", "", &[], &[], 1).is_err());
        assert!(reg.register("game", "x", &s(&["u8"]), &[], 1).is_err());
        assert!(reg
            .register("game", "x", &[], &s(&["string", "i32"]), 1)
            .is_err());
        assert!(reg.register("game", "x", &[], &[], 4).is_err());
        let g0 = reg.generation();
        let f = reg
            .register("game", "add", &s(&["i32", "i32"]), &s(&["i32"]), 2)
            .unwrap();
        assert_eq!(f.level, SafetyLevel::Wrapped);
        assert!(reg.generation() > g0);
        assert!(reg.unregister("game", "add"));
        assert!(!reg.unregister("game", "add"));
    }

    #[test]
    fn strings_lower_to_pointer_pairs() {
        let reg = GameFunctions::default();
        let f = reg
            .register("game", "greet", &s(&["string", "f64"]), &s(&["string"]), 1)
            .unwrap();
        assert_eq!(
            f.signature().to_string(),
            "(i32, i32, f64, i32, i32) -> i32"
        );
        let g = reg
            .register("game", "pos", &s(&["i64"]), &s(&["f32", "f32"]), 1)
            .unwrap();
        assert_eq!(g.signature().to_string(), "(i64) -> (f32, f32)");
    }
}
