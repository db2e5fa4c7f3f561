//! A compiled module and what it imports and exports.

use crate::error::WasgoError;
use crate::level::SafetyLevel;
use crate::linking;
use crate::runtime::Runtime;
use crate::state::InstanceState;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::{ExternType, InstancePre};

/// One import of a module, as `WasmModule.get_imports()` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    pub module: String,
    pub name: String,
    /// `function`, `memory`, `table`, `global` or `tag`.
    pub kind: &'static str,
    /// `(i32, i32) -> i32` for functions, a short description otherwise.
    pub signature: String,
    /// The lowest safety level that exposes it; `None` when none does (it links to a stub).
    pub level: Option<SafetyLevel>,
}

/// One export of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    pub name: String,
    pub kind: &'static str,
    pub signature: String,
}

/// A module compiled by the runtime's engine. Cheap to share; instances are made from it.
pub struct CompiledModule {
    pub(crate) module: wasmtime::Module,
    sha256: String,
    /// Pre-linked forms, one per (safety level, game-function generation).
    pre: Mutex<HashMap<(SafetyLevel, u64), InstancePre<InstanceState>>>,
}

pub(crate) fn kind_and_signature(ty: &ExternType) -> (&'static str, String) {
    match ty {
        ExternType::Func(f) => (
            "function",
            crate::abi::signature_of(f)
                .map(|s| s.to_string())
                .unwrap_or_else(|| f.to_string()),
        ),
        ExternType::Memory(m) => (
            "memory",
            format!(
                "{} pages min{}",
                m.minimum(),
                m.maximum()
                    .map(|x| format!(", {x} max"))
                    .unwrap_or_default()
            ),
        ),
        ExternType::Table(t) => ("table", format!("{} min", t.minimum())),
        ExternType::Global(g) => ("global", format!("{}", g.content())),
        ExternType::Tag(_) => ("tag", String::new()),
    }
}

impl CompiledModule {
    pub(crate) fn new(module: wasmtime::Module, sha256: String) -> CompiledModule {
        CompiledModule {
            module,
            sha256,
            pre: Mutex::new(HashMap::new()),
        }
    }

    /// Hex SHA-256 of the bytes the module was compiled from.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Every import with the lowest level that exposes it.
    pub fn imports(&self, runtime: &Runtime) -> Vec<ImportInfo> {
        self.module
            .imports()
            .map(|i| {
                let (kind, signature) = kind_and_signature(&i.ty());
                let level = if kind == "function" {
                    linking::lowest_level(runtime, i.module(), i.name())
                } else {
                    None
                };
                ImportInfo {
                    module: i.module().into(),
                    name: i.name().into(),
                    kind,
                    signature,
                    level,
                }
            })
            .collect()
    }

    /// Every export.
    pub fn exports(&self) -> Vec<ExportInfo> {
        self.module
            .exports()
            .map(|e| {
                let (kind, signature) = kind_and_signature(&e.ty());
                ExportInfo {
                    name: e.name().into(),
                    kind,
                    signature,
                }
            })
            .collect()
    }

    /// `module.name` of every function import that links to an error stub at `level`.
    pub fn unexposed_imports(&self, runtime: &Runtime, level: SafetyLevel) -> Vec<String> {
        self.imports(runtime)
            .into_iter()
            .filter(|i| i.kind == "function" && !i.level.is_some_and(|l| l <= level))
            .map(|i| format!("{}.{}", i.module, i.name))
            .collect()
    }

    /// The pre-linked module for `level`, linked once and reused until the game's functions change.
    pub(crate) fn instance_pre(
        &self,
        runtime: &Arc<Runtime>,
        level: SafetyLevel,
        name: &str,
    ) -> Result<InstancePre<InstanceState>, WasgoError> {
        let key = (level, runtime.games().generation());
        if let Some(pre) = self.pre.lock().get(&key) {
            return Ok(pre.clone());
        }
        let linker = linking::build_linker(runtime, &self.module, level, name)?;
        let pre = linker
            .instantiate_pre(&self.module)
            .map_err(|e| WasgoError::Instantiate {
                name: name.into(),
                reason: format!("{e:#}"),
            })?;
        let mut cache = self.pre.lock();
        cache.retain(|(_, generation), _| *generation == key.1);
        cache.insert(key, pre.clone());
        Ok(pre)
    }
}
