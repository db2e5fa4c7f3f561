//! The `WasmModule` resource and the `.wasm` resource loader. This file holds only the two
//! classes; the loader's registration is kept by `runtime.rs`.

use crate::file_checks;
use crate::runtime;
use godot::classes::{IResourceFormatLoader, ResourceFormatLoader};
use godot::prelude::*;
use parking_lot::Mutex;
use std::sync::Arc;
use wasgo_core::fast_hash::FastMap;
use wasgo_core::{CompiledModule, SafetyLevel};

/// A compiled WebAssembly module: what a `WasmScript` runs. Get one with
/// `WasmEngine.load_module(path)`, `WasmEngine.compile_module(bytes)`, or `load("res://mod.wasm")`.
/// Compiling is done once per content; instances are cheap to make from it.
///
/// A module runs nothing by itself: it describes what the mod needs and offers. Its imports
/// (`get_imports`, with the lowest safety level exposing each) and exports (`get_exports`) can be
/// read before any code runs, and `get_unexposed_imports(level)` lists what would be an error
/// stub at a level. The same bytes always give the same module (cached by their SHA-256).
#[derive(GodotClass)]
#[class(base = Resource, init, tool)]
pub struct WasmModule {
    compiled: Option<Arc<CompiledModule>>,
    /// The mod's name (its file name without extension, or the name given to `compile_module`).
    #[var(no_set)]
    name: GString,
    /// Hex SHA-256 of the module's bytes.
    #[var(no_set)]
    sha256: GString,
    /// Where it was loaded from (empty when compiled from bytes).
    #[var(pub, no_set)]
    source_path: GString,
    /// Why the last `get_config()` gave no Dictionary (empty when it did, or was never asked).
    config_error: String,
    /// The key of this module's [`ModuleFacts`] (its instance id), when it has code.
    facts_key: Option<i64>,
    /// The code's content hash, kept as the resource's one stored property so that Godot's
    /// `reload_from_file()` (what the editor does when a `.wasm` changes on disk) hands the
    /// module the rebuilt code: Godot loads the file again and copies the stored properties of
    /// the new resource onto this one, and the code is no property. Hidden; not for games.
    #[var(get = _get_code_sha256, set = _set_code_sha256, usage_flags = [STORAGE, INTERNAL])]
    _code_sha256: PhantomVar<GString>,
    /// The name and source path, kept as stored properties too, so that a copy
    /// (`duplicate()`, a scene saved and loaded again) keeps them: without them a copy ran as
    /// mod `mod`, with that id's sandbox and grants, and hot reload lost its file. Hidden.
    #[var(get = _get_stored_name, set = _set_stored_name, usage_flags = [STORAGE, INTERNAL])]
    _stored_name: PhantomVar<GString>,
    #[var(get = _get_stored_source_path, set = _set_stored_source_path, usage_flags = [STORAGE, INTERNAL])]
    _stored_source_path: PhantomVar<GString>,
    base: Base<Resource>,
}

/// What starting a `WasmScript` needs of its module, read without a `bind()` of it: the name,
/// the code and the source path. They never change once a module is made (they have no
/// setters, and an empty `WasmModule.new()` stays empty), so [`WasmModule::from_compiled`]
/// records them under the module's instance id and the module's drop removes them. A `bind()`
/// costs a lock and a futex wake when its guard drops (gdext's `experimental-threads`), and
/// `start()` read the module twice.
pub struct ModuleFacts {
    pub name: String,
    pub compiled: Arc<CompiledModule>,
    pub source_path: String,
}

/// Every module's facts, by instance id (modules are made and dropped on any thread).
static FACTS: std::sync::LazyLock<Mutex<FastMap<i64, Arc<ModuleFacts>>>> =
    std::sync::LazyLock::new(Default::default);

/// The facts of the module whose instance id is `id`; `None` for an empty module (made with
/// `WasmModule.new()`) or an id that is not a module's.
pub fn facts_of(id: InstanceId) -> Option<Arc<ModuleFacts>> {
    FACTS.lock().get(&id.to_i64()).cloned()
}

impl Drop for WasmModule {
    fn drop(&mut self) {
        if let Some(key) = self.facts_key {
            FACTS.lock().remove(&key);
        }
    }
}

impl WasmModule {
    pub fn from_compiled(compiled: Arc<CompiledModule>, name: &str, path: &str) -> Gd<WasmModule> {
        let sha = compiled.sha256().to_string();
        if let Err(e) = compiled.manifest() {
            warn_manifest_once(
                &sha,
                &format!("`{name}`: {e}; the module loads without a manifest"),
            );
        }
        let facts = Arc::new(ModuleFacts {
            name: name.to_string(),
            compiled: compiled.clone(),
            source_path: path.to_string(),
        });
        let mut module = Gd::from_init_fn(|base| WasmModule {
            compiled: Some(compiled),
            name: name.into(),
            sha256: sha.as_str().into(),
            source_path: path.into(),
            config_error: String::new(),
            facts_key: None,
            _code_sha256: PhantomVar::default(),
            _stored_name: PhantomVar::default(),
            _stored_source_path: PhantomVar::default(),
            base,
        });
        let key = module.instance_id().to_i64();
        FACTS.lock().insert(key, facts);
        module.bind_mut().facts_key = Some(key);
        module
    }

    pub fn compiled(&self) -> Option<Arc<CompiledModule>> {
        self.compiled.clone()
    }

    pub fn mod_name(&self) -> String {
        crate::convert::text(&self.name)
    }

    /// Loads the module at `path` (its `.wasm`, or the precompiled `.cwasm` beside it: see
    /// `shipped.rs`) into a `WasmModule` resource, reporting failures. Blocks until compiled.
    pub fn load_path(path: &str) -> Option<Gd<WasmModule>> {
        let outcome = crate::shipped::load_path(path)
            .and_then(|load| load.ticket.wait().map_err(|e| e.to_string()));
        match outcome {
            Ok(compiled) => Some(WasmModule::from_compiled(
                compiled,
                &runtime::name_from_path(path),
                path,
            )),
            Err(e) => {
                runtime::report(e);
                None
            }
        }
    }

    /// Compiles bytes into a `WasmModule` resource, reporting failures.
    pub fn compile(bytes: &[u8], name: &str, path: &str) -> Option<Gd<WasmModule>> {
        let runtime = runtime::runtime_for_compile()?;
        match runtime.compile(bytes, name) {
            Ok(compiled) => Some(WasmModule::from_compiled(compiled, name, path)),
            Err(e) => {
                runtime::report(e.to_string());
                None
            }
        }
    }
}

#[godot_api]
impl WasmModule {
    /// Every import: `module`, `name`, `kind` ("function", "memory", ...), `signature` (e.g.
    /// "(i32, i32) -> i32") and `level`: the lowest safety level that exposes it, 0 when none does
    /// (the import links to an error stub that traps when called).
    #[func]
    fn get_imports(&self) -> Array<VarDictionary> {
        let (Some(compiled), Some(runtime)) = (&self.compiled, runtime::runtime()) else {
            return Array::new();
        };
        compiled
            .imports(runtime.hosts())
            .into_iter()
            .map(|i| {
                vdict! {
                    "module" => i.module.as_str(),
                    "name" => i.name.as_str(),
                    "kind" => i.kind.as_str(),
                    "signature" => i.signature.as_str(),
                    "level" => i.level.map(|l| l.number() as i64).unwrap_or(0),
                }
            })
            .collect()
    }

    /// Every export: `name`, `kind`, `signature` and `called`: when WasGo itself calls it (for
    /// `main`, `process`, `native_callback`, ... the ABI's description of the call), empty for an
    /// export only the game calls with `call_export`.
    #[func]
    fn get_exports(&self) -> Array<VarDictionary> {
        let Some(compiled) = &self.compiled else {
            return Array::new();
        };
        compiled
            .exports()
            .into_iter()
            .map(|e| {
                vdict! {
                    "name" => e.name.as_str(),
                    "kind" => e.kind.as_str(),
                    "signature" => e.signature.as_str(),
                    "called" => e.called.unwrap_or_default(),
                }
            })
            .collect()
    }

    /// The guest convention the module follows, read from its imports and exports when it was
    /// compiled: `"wasgo"` (imports `wasgo` and/or WASI, or nothing), `"gojs"` (built with Go's
    /// `GOOS=js GOARCH=wasm`: imports `gojs`, exports `run`, `resume`, `getsp`, `mem`) or `"wapc"`
    /// (a waPC guest: exports `__guest_call`, imports `wapc`). Empty for a module that failed to
    /// compile. A module mixing kinds, or missing an export its kind needs, does not load.
    #[func]
    fn get_guest_kind(&self) -> GString {
        self.compiled
            .as_ref()
            .map(|c| GString::from(c.guest_kind().as_str()))
            .unwrap_or_default()
    }

    /// The mod's manifest, read from its `wasgo.manifest` custom section (JSON) without running
    /// any of its code: the fields it has among `id`, `name`, `version`, `authors`,
    /// `description`, `homepage`, `level` (the safety level it asks for), `permissions` (the
    /// kinds it asks for) and `abi` (the WasGo ABI it targets, "MAJOR.MINOR"). Empty when the
    /// module has none, or when it is malformed (see [method get_last_error]).
    #[func]
    fn get_manifest(&self) -> VarDictionary {
        match self.compiled.as_ref().map(|c| c.manifest()) {
            Some(Ok(Some(m))) => crate::convert::manifest_dictionary(m),
            _ => VarDictionary::new(),
        }
    }

    /// What is wrong with the module's manifest (a malformed `wasgo.manifest` section, naming
    /// the field and what it must be), else why the last [method get_config] gave no
    /// Dictionary; empty when neither went wrong. A malformed manifest does not stop the module
    /// from loading; it is printed once as a warning.
    #[func]
    fn get_last_error(&self) -> GString {
        match self.compiled.as_ref().map(|c| c.manifest()) {
            Some(Err(e)) => GString::from(format!("`{}`: {e}", self.name).as_str()),
            _ => GString::from(self.config_error.as_str()),
        }
    }

    /// Runs the mod's optional `config` export and returns the Dictionary it describes itself
    /// with (dynamic metadata, W3CE's name). It runs in a throwaway instance of the module in
    /// which every import traps (no Godot, WASI or game functions: nothing it does reaches the
    /// game or the instances that play), under a 50 ms CPU budget and the memory cap of
    /// `wasgo/limits/memory_mb`. The mod answers UTF-8 JSON text of an object (see `docs/abi.md`);
    /// integers stay integers. Empty when the module has no `config`, or when it trapped, ran
    /// past its budget or answered something else: [method get_last_error] says which.
    #[func]
    fn get_config(&mut self) -> VarDictionary {
        self.config_error.clear();
        let (Some(compiled), Some(runtime)) = (self.compiled.clone(), runtime::runtime()) else {
            return VarDictionary::new();
        };
        let memory = crate::settings::positive(
            crate::settings::MEMORY_MB,
            wasgo_core::Limits::DEFAULT_MEMORY_MB as i64,
        ) as usize;
        match runtime.run_config(
            &compiled,
            &self.name.to_string(),
            memory.saturating_mul(1 << 20),
        ) {
            Ok(Some(pairs)) => crate::convert::config_dictionary(&pairs),
            Ok(None) => VarDictionary::new(),
            Err(e) => {
                self.config_error = e.to_string();
                VarDictionary::new()
            }
        }
    }

    /// Records what starting a `WasmScript` reads of this module (its name, code and source
    /// path) under its instance id, when it has code.
    fn record_facts(&mut self) {
        let Some(compiled) = self.compiled.clone() else {
            return;
        };
        let key = self.base().instance_id().to_i64();
        FACTS.lock().insert(
            key,
            Arc::new(ModuleFacts {
                name: self.name.to_string(),
                compiled,
                source_path: self.source_path.to_string(),
            }),
        );
        self.facts_key = Some(key);
    }

    /// The name, the getter of a hidden stored property (see [member name]).
    #[func]
    fn _get_stored_name(&self) -> GString {
        self.name.clone()
    }

    /// Gives a module without a name the one stored with it (a copy of a named module: Godot's
    /// `duplicate()` or loading a saved scene sets the stored properties). A named module keeps
    /// its name. Hidden; not for games.
    #[func]
    fn _set_stored_name(&mut self, name: GString) {
        if self.name.is_empty() && !name.is_empty() {
            self.name = name;
            self.record_facts();
        }
    }

    /// The source path, the getter of a hidden stored property (see [member source_path]).
    #[func]
    fn _get_stored_source_path(&self) -> GString {
        self.source_path.clone()
    }

    /// Gives a module without a source path the one stored with it (see `_set_stored_name`).
    /// Hidden; not for games.
    #[func]
    fn _set_stored_source_path(&mut self, path: GString) {
        if self.source_path.is_empty() && !path.is_empty() {
            self.source_path = path;
            self.record_facts();
        }
    }

    /// The code's SHA-256 (hex), the getter of the hidden stored property that carries the
    /// code through `reload_from_file()`; the same as [member sha256].
    #[func]
    fn _get_code_sha256(&self) -> GString {
        self.sha256.clone()
    }

    /// Takes the code of the loaded module whose SHA-256 is [param sha256]: what Godot's
    /// `reload_from_file()` does to this module after loading its changed file again (it copies
    /// the new resource's stored properties). The name and source path stay; `changed` is
    /// emitted. A hash no loaded module has changes nothing, with a warning: a module's code
    /// is not saved inside a scene or resource; load the module from its `.wasm` file.
    #[func]
    fn _set_code_sha256(&mut self, sha256: GString) {
        let wanted = sha256.to_string();
        if self.compiled.as_ref().is_some_and(|c| c.sha256() == wanted) {
            return;
        }
        let found = FACTS
            .lock()
            .values()
            .find(|facts| facts.compiled.sha256() == wanted)
            .map(|facts| facts.compiled.clone());
        let Some(compiled) = found else {
            let shown = wasgo_core::text::printable_line(&wanted);
            godot_warn!(
                "WasGo: WasmModule `{}`: no loaded module has the code `{shown}`, so it keeps \
                 {}; a module's code is not saved inside a scene or resource: load the module \
                 from its .wasm file (load(\"res://mod.wasm\") or WasmEngine.load_module)",
                self.name,
                if self.compiled.is_some() {
                    "its code"
                } else {
                    "no code"
                }
            );
            return;
        };
        self.sha256 = compiled.sha256().into();
        self.compiled = Some(compiled);
        self.record_facts();
        self.config_error.clear();
        // Deferred: a handler of `changed` that reads this module must not find it bound.
        self.base_mut().call_deferred("emit_changed", &[]);
    }

    /// The function imports (as "module.name") that are error stubs at safety [param level].
    #[func]
    fn get_unexposed_imports(&self, level: i64) -> PackedStringArray {
        let (Some(compiled), Some(runtime)) = (&self.compiled, runtime::runtime()) else {
            return PackedStringArray::new();
        };
        let Some(level) = SafetyLevel::from_number(level) else {
            godot_error!("WasGo: get_unexposed_imports({level}): the level must be 1, 2 or 3");
            return PackedStringArray::new();
        };
        compiled
            .unexposed_imports(runtime.hosts(), level)
            .iter()
            .map(|s| GString::from(s.as_str()))
            .collect()
    }
}

/// Prints a malformed manifest's message once per module content (a module loaded ten times is
/// reported once).
pub fn warn_manifest_once(sha256: &str, message: &str) {
    static REPORTED: parking_lot::Mutex<Vec<String>> = parking_lot::Mutex::new(Vec::new());
    let mut reported = REPORTED.lock();
    if !reported.iter().any(|s| s == sha256) {
        reported.push(sha256.to_string());
        godot_warn!("WasGo: {message}");
    }
}

/// Loads `.wasm` files as `WasmModule` resources, so `load("res://mod.wasm")` works and the
/// editor's FileSystem dock lists them.
#[derive(GodotClass)]
#[class(base = ResourceFormatLoader, init, tool, internal)]
pub struct WasmModuleLoader {
    base: Base<ResourceFormatLoader>,
}

#[godot_api]
impl IResourceFormatLoader for WasmModuleLoader {
    fn get_recognized_extensions(&self) -> PackedStringArray {
        PackedStringArray::from(&[GString::from("wasm")])
    }

    fn handles_type(&self, type_: StringName) -> bool {
        type_ == "WasmModule" || type_ == "Resource"
    }

    fn get_resource_type(&self, path: GString) -> GString {
        if path.to_string().to_lowercase().ends_with(".wasm") {
            "WasmModule".into()
        } else {
            "".into()
        }
    }

    fn load(
        &self,
        path: GString,
        _original_path: GString,
        _use_sub_threads: bool,
        _cache_mode: i32,
    ) -> Variant {
        // Checked once per change of the file: the editor loads a dropped file several times,
        // and a bad one is reported once.
        let path = path.to_string();
        match file_checks::check_file(&path) {
            Ok(compiled) => {
                WasmModule::from_compiled(compiled, &runtime::name_from_path(&path), &path)
                    .to_variant()
            }
            Err(reason) => {
                let missing = !godot::classes::FileAccess::file_exists(&path);
                let shown = wasgo_core::text::printable_line(&path);
                file_checks::report_once(&path, format!("cannot load `{shown}`: {reason}"));
                if missing {
                    godot::global::Error::ERR_FILE_CANT_OPEN.to_variant()
                } else {
                    godot::global::Error::ERR_FILE_CORRUPT.to_variant()
                }
            }
        }
    }
}

impl WasmModuleLoader {
    /// Registers a loader with Godot's `ResourceLoader` (extension init); `runtime.rs` keeps it
    /// until `runtime::unregister_loader` (extension deinit).
    pub fn register() {
        runtime::register_loader(WasmModuleLoader::new_gd().upcast());
    }
}
