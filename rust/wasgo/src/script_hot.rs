//! `WasmScript`'s hooks for hot reload (kept apart from `script.rs`): which file a node runs
//! from, starting it again with a module a changed file compiled to, and registering the file
//! with the watcher. When and how a reload happens is in `hot_reload.rs` and
//! `script_reload.rs`.

use crate::compiles;
use crate::hot_reload::{self, Due};
use crate::module_res::WasmModule;
use crate::runtime;
use crate::script::WasmScript;
use crate::script_core::{ResolvedModule, ScriptCore};
use godot::classes::Node;
use godot::global::Error;
use godot::prelude::*;
use std::rc::Rc;

impl WasmScript {
    /// Whether the node with id `id` still runs from the file at `path` (its `wasm_file`, or its
    /// `module`'s source file).
    pub(crate) fn runs_from(id: InstanceId, path: &str) -> bool {
        Gd::<WasmScript>::try_from_instance_id(id).is_ok_and(|node| node.bind().source().0 == path)
    }

    /// Starts the node with id `id` again with `module`, compiled from the changed file at
    /// `path`. A `module` property loaded from that file is replaced by the new module (a
    /// `wasm_file` node keeps its properties). Returns what `start()` returned.
    pub(crate) fn hot_restart(id: InstanceId, module: ResolvedModule, path: &str) -> Error {
        let Ok(mut node) = Gd::<WasmScript>::try_from_instance_id(id) else {
            return Error::ERR_UNAVAILABLE;
        };
        let (_, from_module) = node.bind().source();
        if from_module {
            let resource = WasmModule::from_compiled(module.compiled.clone(), &module.name, path);
            node.bind_mut().set_reloaded_module(resource);
        }
        let core = Self::core_of(&node);
        core.set_loaded(module);
        let ready = node.upcast_ref::<Node>().is_node_ready();
        Self::start_now(&node, ready)
    }

    /// Reads the changed file of a reload that is due and compiles it in the background; the
    /// swap (`ScriptCore::hot_swap`), or the report of why not, happens when the compile ends,
    /// at a later frame, unless a newer change or a start of the node's own superseded it.
    pub(crate) fn begin_hot_reload(due: Due) {
        let Due { core, path, reload } = due;
        // A player's mod replaced by a symbolic link is not followed (as `scan_mods` never
        // follows one): the new code would come from wherever the link points.
        if path.starts_with("user://") {
            let file = crate::settings::globalize(&path);
            if std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink()) {
                hot_reload::report(
                    &core,
                    &path,
                    "it is now a symbolic link, which WasGo does not follow in `user://`; copy the new module there instead",
                );
                return;
            }
        }
        let load = match crate::shipped::load_path(&path) {
            Ok(load) => load,
            Err(e) => {
                hot_reload::report(&core, &path, &e);
                return;
            }
        };
        let name = runtime::name_from_path(&path);
        let weak = Rc::downgrade(&core);
        let module_name = name.clone();
        let done: compiles::Completion = Box::new(move |outcome| {
            let Some(core) = weak.upgrade() else {
                return;
            };
            if !hot_reload::is_current(&core, reload) {
                return;
            }
            match outcome {
                Ok(compiled) => core.hot_swap(
                    ResolvedModule {
                        name: module_name,
                        compiled,
                    },
                    &path,
                ),
                Err(e) => hot_reload::report(&core, &path, &e.to_string()),
            }
        });
        compiles::wait_for(load.ticket, done);
    }

    /// Watches `path` for hot reload on behalf of the node whose core is `core`, about to run
    /// what it reads there; an empty path (a module compiled from bytes), or `hot_reload` off
    /// (`wasgo/runtime/hot_reload` as the start read it), ends the watch.
    pub(crate) fn watch_source(core: &Rc<ScriptCore>, path: &str, hot_reload: bool) {
        if path.is_empty() || !hot_reload {
            hot_reload::forget(core);
        } else {
            hot_reload::watch(core, path);
        }
    }
}
