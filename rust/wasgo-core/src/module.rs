//! A compiled module and what it imports and exports.

use crate::abi::ImportKind;
use crate::error::WasgoError;
use crate::guest_kind::{GuestKind, GuestKindError};
use crate::hosts::Hosts;
use crate::level::SafetyLevel;
use crate::linking::{self, LinkWarning};
use crate::manifest::{Manifest, ManifestError};
use crate::mod_config::{ConfigError, ConfigValue};
use crate::prefetch::MemoryHints;
use crate::state::InstanceState;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use wasmtime::{ExternType, InstancePre, ModuleExport, ValType};

/// One import of a module, as `WasmModule.get_imports()` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
    /// `(i32, i32) -> i32` for functions, a short description otherwise.
    pub signature: String,
    /// The lowest safety level that exposes it; `None` when none does (it links to a stub).
    pub level: Option<SafetyLevel>,
}

/// One export of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    pub name: String,
    pub kind: ImportKind,
    pub signature: String,
    /// When WasGo itself calls this export (the catalog's description of it, `GUEST_EXPORTS`);
    /// `None` for an export only the game may call (`call_export`).
    pub called: Option<&'static str>,
}

/// Where export `name` is in a plan ([`CompiledModule::export_plan`], sorted by name).
pub(crate) fn find_planned(plan: &[PlannedExport], name: &str) -> Option<usize> {
    plan.binary_search_by(|planned| (*planned.name).cmp(name))
        .ok()
}

/// One exported function of a module as every instance of it has it, found once per module
/// ([`CompiledModule::export_plan`]): an instance then takes its functions by index, without
/// a name lookup, a type query or an allocation per export.
pub(crate) struct PlannedExport {
    pub(crate) name: Box<str>,
    pub(crate) index: ModuleExport,
    /// Its signature in ABI types, when every parameter and result is a number.
    pub(crate) sig: Option<wasgo_catalog::Signature>,
    pub(crate) shape: EntryShape,
}

/// The signatures an entry calls through a typed handle (no per-call type check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryShape {
    /// `() -> ()`: an empty `call_export`, `ready`, callbacks without arguments.
    Unit,
    /// `(f64) -> ()`: `process(delta)`, `physics_process(delta)`.
    F64,
    /// Any other signature.
    Other,
}

impl EntryShape {
    fn of(ty: &wasmtime::FuncType) -> EntryShape {
        if ty.results().len() != 0 {
            return EntryShape::Other;
        }
        let mut params = ty.params();
        match (params.next(), params.next()) {
            (None, _) => EntryShape::Unit,
            (Some(wasmtime::ValType::F64), None) => EntryShape::F64,
            _ => EntryShape::Other,
        }
    }
}

/// A pre-linked module and the warnings its linking produced.
#[derive(Clone)]
pub(crate) struct Prelinked {
    pub(crate) pre: InstancePre<InstanceState>,
    pub(crate) warnings: Arc<[LinkWarning]>,
    /// The function imports linked to stubs.
    pub(crate) stubbed: linking::Stubbed,
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
    /// A Go `GOOS=js` program's `run(argc, argv)` and its timeouts (see [`crate::gojs`]); when
    /// it returns without exiting, the program lives on its callbacks.
    GoJs,
}

/// The entry point of `module`, if it has one of the shapes [`MainKind`] lists (`_start`
/// first), read from its exports' types: the same for every instance, so a module answers it
/// once ([`CompiledModule::main_kind`]) instead of two lookups by name and a
/// type check per instance.
fn find_main(module: &wasmtime::Module) -> Option<MainKind> {
    let func = |name: &str| module.get_export(name).and_then(|ty| ty.func().cloned());
    let shape = |f: &wasmtime::FuncType| {
        let params: Vec<ValType> = f.params().collect();
        let results: Vec<ValType> = f.results().collect();
        (params, results)
    };
    if let Some(f) = func("_start") {
        let (params, results) = shape(&f);
        if params.is_empty() && results.is_empty() {
            return Some(MainKind::Start);
        }
    }
    match shape(&func("main")?) {
        (p, r) if p.is_empty() && matches!(r[..], [ValType::I32]) => Some(MainKind::MainNoArgs),
        (p, r)
            if matches!(p[..], [ValType::I32, ValType::I32]) && matches!(r[..], [ValType::I32]) =>
        {
            Some(MainKind::MainArgs)
        }
        _ => None,
    }
}

/// A module compiled by the runtime's engine. Cheap to share; instances are made from it.
pub struct CompiledModule {
    pub(crate) module: wasmtime::Module,
    sha256: String,
    kind: GuestKind,
    /// The module's `wasgo.manifest` (read from its bytes when it was compiled): none, the
    /// manifest, or why it is malformed.
    manifest: Result<Option<Manifest>, ManifestError>,
    /// Pre-linked forms, one per (safety level, game-function generation).
    pre: Mutex<HashMap<(SafetyLevel, u64), Prelinked>>,
    /// The answers of the `config` export, by memory cap (see [`CompiledModule::config_answer`]).
    config: Mutex<HashMap<usize, ConfigAnswer>>,
    /// How many times `config` overran its budget, by memory cap (see
    /// [`CompiledModule::config_answer`]).
    config_overruns: Mutex<HashMap<usize, u32>>,
    /// The exported functions, found at the first instance (see [`PlannedExport`]).
    plan: OnceLock<Arc<[PlannedExport]>>,
    /// The entry point and the `memory` export, found at the first instance (see
    /// [`CompiledModule::main_kind`], [`CompiledModule::memory_export`]).
    entry: OnceLock<(Option<MainKind>, Option<ModuleExport>)>,
    /// Where in its memory the module's code likely touches at every entry, for the frame
    /// driver's prefetch (read from the bytes it was compiled from; none without them).
    memory_hints: MemoryHints,
}

/// What a module's `config` export answered (see [`crate::mod_config`]).
pub(crate) type ConfigAnswer = Result<Option<Vec<(String, ConfigValue)>>, ConfigError>;

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModule")
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

fn signature(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => crate::abi::signature_of(f)
            .map(|s| s.to_string())
            .unwrap_or_else(|| f.to_string()),
        ExternType::Memory(m) => format!(
            "{} pages min{}",
            m.minimum(),
            m.maximum()
                .map(|x| format!(", {x} max"))
                .unwrap_or_default()
        ),
        ExternType::Table(t) => format!("{} min", t.minimum()),
        ExternType::Global(g) => format!("{}", g.content()),
        ExternType::Tag(_) => String::new(),
    }
}

impl CompiledModule {
    /// Wraps a compiled module after classifying it.
    ///
    /// # Errors
    /// The module mixes guest kinds or lacks an export of its kind.
    pub(crate) fn new(
        module: wasmtime::Module,
        sha256: String,
    ) -> Result<CompiledModule, GuestKindError> {
        let kind = GuestKind::of_module(&module)?;
        Ok(CompiledModule {
            module,
            sha256,
            kind,
            manifest: Ok(None),
            pre: Mutex::new(HashMap::new()),
            config: Mutex::new(HashMap::new()),
            config_overruns: Mutex::new(HashMap::new()),
            plan: OnceLock::new(),
            entry: OnceLock::new(),
            memory_hints: MemoryHints::default(),
        })
    }

    /// The same module with the [`MemoryHints`] read from the bytes it was compiled from.
    pub(crate) fn with_memory_hints(mut self, hints: MemoryHints) -> CompiledModule {
        self.memory_hints = hints;
        self
    }

    /// Where in its memory the module's code likely touches at every entry (see
    /// [`crate::prefetch`]).
    pub fn memory_hints(&self) -> MemoryHints {
        self.memory_hints
    }

    /// The same module with `manifest`, read from the bytes it was compiled from
    /// ([`manifest_of_module`](crate::manifest::manifest_of_module)).
    pub(crate) fn with_manifest(
        mut self,
        manifest: Result<Option<Manifest>, ManifestError>,
    ) -> CompiledModule {
        self.manifest = manifest;
        self
    }

    /// The module's manifest: `Ok(None)` without a `wasgo.manifest` section, an error naming
    /// the field when it is malformed (the module loads anyway).
    pub fn manifest(&self) -> Result<Option<&Manifest>, &ManifestError> {
        self.manifest.as_ref().map(Option::as_ref)
    }

    /// The guest convention the module follows (`WasmModule.get_guest_kind()`).
    pub fn guest_kind(&self) -> GuestKind {
        self.kind
    }

    /// Hex SHA-256 of the bytes the module was compiled from.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Every import with the lowest level that exposes it (game functions as registered in
    /// `hosts`, see [`Runtime::hosts`](crate::runtime::Runtime::hosts)), decided as the linker
    /// decides it: an import whose signature differs from the function's is exposed at no level
    /// (it links to a stub that traps).
    pub fn imports(&self, hosts: &Hosts) -> Vec<ImportInfo> {
        self.module
            .imports()
            .map(|i| {
                let kind = ImportKind::of(&i.ty());
                let level = match i.ty() {
                    wasmtime::ExternType::Func(ty) => {
                        crate::abi::signature_of(&ty).and_then(|sig| {
                            crate::linking::lowest_level(hosts, i.module(), i.name(), &sig)
                        })
                    }
                    _ => None,
                };
                ImportInfo {
                    module: i.module().into(),
                    name: i.name().into(),
                    kind,
                    signature: signature(&i.ty()),
                    level,
                }
            })
            .collect()
    }

    /// For each function import of a module WasGo reserves that no level provides (see
    /// `linking::reserved_import_problem`): its `module.name` and why.
    pub fn reserved_import_problems(
        &self,
        hosts: &Hosts,
    ) -> Vec<(String, crate::linking::ReservedImportProblem)> {
        self.module
            .imports()
            .filter_map(|i| {
                let wasmtime::ExternType::Func(ty) = i.ty() else {
                    return None;
                };
                let sig = crate::abi::signature_of(&ty)?;
                let why =
                    crate::linking::reserved_import_problem(hosts, i.module(), i.name(), &sig)?;
                Some((format!("{}.{}", i.module(), i.name()), why))
            })
            .collect()
    }

    fn entry_facts(&self) -> &(Option<MainKind>, Option<ModuleExport>) {
        self.entry.get_or_init(|| {
            let memory = self
                .module
                .get_export("memory")
                .filter(|ty| ty.memory().is_some())
                .and_then(|_| self.module.get_export_index("memory"));
            (find_main(&self.module), memory)
        })
    }

    /// The WASI or C entry point every instance has, if any (found once; a Go `GOOS=js`
    /// program's is attached per instance, see [`crate::gojs`]).
    pub(crate) fn main_kind(&self) -> Option<MainKind> {
        // A waPC guest's `_start` is start-up code, run when the instance is made
        // (`ModInstance::set_up`), and the protocol has no `main`: the guest answers `invoke`.
        if self.guest_kind() == GuestKind::Wapc {
            return None;
        }
        self.entry_facts().0
    }

    /// Whether the module exports a `_start` of the type of an entry point (`() -> ()`), as
    /// [`find_main`] reads it: what a waPC guest's set-up runs (its kind has no `main`).
    pub(crate) fn has_start_entry(&self) -> bool {
        self.entry_facts().0 == Some(MainKind::Start)
    }

    /// Where an instance finds its `memory` export without a lookup by name, if the module
    /// exports one.
    pub(crate) fn memory_export(&self) -> Option<ModuleExport> {
        self.entry_facts().1
    }

    /// The exported functions every instance has, sorted by name (found once): looked up by
    /// name with a binary search ([`find_planned`]), a module's export names being unique (a
    /// linear search per call and per input event took milliseconds for a module of a million
    /// exports).
    pub(crate) fn export_plan(&self) -> Arc<[PlannedExport]> {
        self.plan
            .get_or_init(|| {
                let mut plan: Vec<PlannedExport> = self
                    .module
                    .exports()
                    .filter_map(|e| {
                        let ty = e.ty();
                        let func = ty.func()?;
                        Some(PlannedExport {
                            name: e.name().into(),
                            index: self.module.get_export_index(e.name())?,
                            sig: crate::abi::signature_of(func),
                            shape: EntryShape::of(func),
                        })
                    })
                    .collect();
                plan.sort_unstable_by(|a, b| a.name.cmp(&b.name));
                plan.into()
            })
            .clone()
    }

    /// Every export.
    pub fn exports(&self) -> Vec<ExportInfo> {
        self.module
            .exports()
            .map(|e| {
                let kind = ImportKind::of(&e.ty());
                ExportInfo {
                    name: e.name().into(),
                    kind,
                    signature: signature(&e.ty()),
                    called: (kind == ImportKind::Function)
                        .then(|| {
                            wasgo_catalog::GUEST_EXPORTS
                                .iter()
                                .find(|g| g.name == e.name())
                                .map(|g| g.doc)
                        })
                        .flatten(),
                }
            })
            .collect()
    }

    /// `module.name` of every function import that links to an error stub at `level`.
    pub fn unexposed_imports(&self, hosts: &Hosts, level: SafetyLevel) -> Vec<String> {
        self.imports(hosts)
            .into_iter()
            .filter(|i| i.kind == ImportKind::Function && i.level.is_none_or(|l| l > level))
            .map(|i| format!("{}.{}", i.module, i.name))
            .collect()
    }

    /// The pre-linked module for `level`, linked once and reused until the game's functions
    /// change.
    pub(crate) fn prelinked(
        &self,
        engine: &wasmtime::Engine,
        hosts: &Hosts,
        level: SafetyLevel,
        name: &str,
    ) -> Result<Prelinked, WasgoError> {
        let key = (level, hosts.games.generation());
        if let Some(pre) = self.pre.lock().get(&key) {
            return Ok(pre.clone());
        }
        let (linker, warnings, stubbed) =
            linking::build_linker(engine, hosts, &self.module, self.kind, level, name)?;
        let pre = linker
            .instantiate_pre(&self.module)
            .map_err(|e| WasgoError::Instantiate {
                name: name.into(),
                reason: format!("{e:#}"),
            })?;
        let prelinked = Prelinked {
            pre,
            warnings: warnings.into(),
            stubbed,
        };
        let mut cache = self.pre.lock();
        cache.retain(|(_, generation), _| *generation == key.1);
        cache.insert(key, prelinked.clone());
        Ok(prelinked)
    }

    /// The `config` export's answer under memory cap `max_memory`: asked once with `ask` and
    /// kept, since `config` runs with every import trapping and is a pure function of the
    /// module's bytes and the cap. A failure to instantiate is not kept, nor a first overrun of
    /// the budget (it may have been the machine's load); a second overrun is kept, so a
    /// `config` that always spins costs its budget twice, not at every start (1000 nodes of
    /// such a mod cost 50 s of the main thread).
    pub(crate) fn config_answer(
        &self,
        max_memory: usize,
        ask: impl FnOnce() -> ConfigAnswer,
    ) -> ConfigAnswer {
        if let Some(answer) = self.config.lock().get(&max_memory) {
            return answer.clone();
        }
        let answer = ask();
        let keep = match &answer {
            Err(ConfigError::Instantiate { .. }) => false,
            Err(ConfigError::OverBudget { .. }) => {
                let mut overruns = self.config_overruns.lock();
                let n = overruns.entry(max_memory).or_insert(0);
                *n += 1;
                *n >= 2
            }
            _ => true,
        };
        if keep {
            self.config.lock().insert(max_memory, answer.clone());
        }
        answer
    }
}
