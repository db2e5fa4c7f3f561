//! Reach in the glue: which nodes a mod may hold handles to, decided by the core's rule
//! ([`wasgo_core::reach`]) from facts read off the scene tree. Main thread only.
//!
//! A mod's roots are its reach root — the `WasmScript`'s `reach` property, else the project's
//! `wasgo/safety/default_reach`, whose empty default means the current scene (or, without one,
//! the `WasmScript`'s parent) — and its own node. The object table asks [`check`] before it makes
//! a handle to a node, and [`stamp`] before it uses one: a decision holds until the tree changes
//! (the `SceneTree`'s `tree_changed` and `node_renamed` signals bump [`generation`]), a `reach`
//! property is set, Godot reports a changed project setting (`settings_changed`, at the end
//! of the frame: the default reach may be another) or the current scene is another node
//! ([`notice_current_scene`], before every decision and at every frame's start), so a node
//! moved out of reach is refused at its next use while the fast paths pay one atomic load and
//! a compare.

use crate::own_ui;
use crate::settings;
use godot::classes::{Engine, Node, Object, SceneTree};
use godot::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use wasgo_catalog::ErrorCode;
use wasgo_core::handles::HandleError;
pub use wasgo_core::reach::Outside;
use wasgo_core::reach::{decide_walk, NodeFacts};
use wasgo_core::{ObjectError, SafetyLevel};

/// Bumped whenever a decision may have changed; starts at 1 (0 = "never decided").
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// The `SceneTree` whose changes bump [`GENERATION`] (its instance id; 0 = none watched yet).
static WATCHED_TREE: AtomicU64 = AtomicU64::new(0);
/// The watched tree's current scene as last seen (its instance id; 0 = none): the default reach
/// is the current scene, and setting `SceneTree.current_scene` to a node already in the tree
/// raises no signal, so [`notice_current_scene`] compares it.
static CURRENT_SCENE: AtomicU64 = AtomicU64::new(0);

/// The `reach` part of the main-thread state.
#[derive(Default)]
pub struct ReachPaths {
    /// The `reach` of each `WasmScript` that set one, by node (few entries: pruned on insert).
    paths: RefCell<HashMap<InstanceId, NodePath>>,
    /// The main loop as a `SceneTree`, with its instance id: a check asks for the tree twice,
    /// and a cast is a class-name comparison in Godot. Used only while the engine's main loop
    /// still has that id (ids are never reused), so it never outlives the tree.
    tree: RefCell<Option<(InstanceId, Gd<SceneTree>)>>,
    /// `wasgo/safety/default_reach` as last read, and its parse (parsing makes a StringName
    /// per part under Godot's global lock); read at every check, parsed when it changed.
    default_reach: RefCell<Option<(GString, NodePath)>>,
}

impl crate::state::Part for ReachPaths {}

/// Runs `f` with the reach state; the default answer when WasGo is not running on this thread.
fn with_reach<R: Default>(f: impl FnOnce(&ReachPaths) -> R) -> R {
    crate::state::with_part(|s| &s.reach, f).unwrap_or_default()
}

/// Runs `f` with the paths; the default answer when WasGo is not running on this thread.
fn with_paths<R: Default>(f: impl FnOnce(&RefCell<HashMap<InstanceId, NodePath>>) -> R) -> R {
    with_reach(|r| f(&r.paths))
}

/// The engine's main loop when it is a `SceneTree` (see `ReachPaths::tree`).
fn scene_tree() -> Option<Gd<SceneTree>> {
    let main_loop = Engine::singleton().get_main_loop()?;
    let id = main_loop.instance_id();
    let kept = with_reach(|r| {
        r.tree
            .borrow()
            .as_ref()
            .filter(|(kept, _)| *kept == id)
            .map(|(_, tree)| tree.clone())
    });
    if kept.is_some() {
        return kept;
    }
    let tree = main_loop.try_cast::<SceneTree>().ok()?;
    with_reach(|r| *r.tree.borrow_mut() = Some((id, tree.clone())));
    Some(tree)
}

/// The project's default reach path now (`wasgo/safety/default_reach`; see
/// `ReachPaths::default_reach`).
fn default_reach() -> NodePath {
    let text = settings::text(settings::DEFAULT_REACH);
    let kept = with_reach(|r| {
        r.default_reach
            .borrow()
            .as_ref()
            .filter(|(kept, _)| *kept == text)
            .map(|(_, path)| path.clone())
    });
    if let Some(path) = kept {
        return path;
    }
    let path = NodePath::from(&text);
    with_reach(|r| *r.default_reach.borrow_mut() = Some((text, path.clone())));
    path
}

/// The generation decisions are made under now.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// A project setting changed (Godot reports it at the end of the frame): the default reach may
/// be another, so every decision is made again at its handle's next use. (A handle made before
/// that report reads the setting as it is.)
pub fn settings_changed() {
    bump();
}

fn bump() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Bumps the generation when the watched tree's current scene is another node than when last
/// seen: decisions made under the default reach named the old one. Called before every reach
/// decision and by the frame driver at the start of every process frame, so a handle held from
/// before a game set `current_scene` (with no other change to the tree) is decided again from
/// the next frame on, and a new handle at once.
pub fn notice_current_scene() {
    if WATCHED_TREE.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Some(tree) = scene_tree() else {
        return;
    };
    let id = tree
        .get_current_scene()
        .map_or(0, |scene| scene.instance_id().to_i64() as u64);
    if CURRENT_SCENE.swap(id, Ordering::Relaxed) != id {
        bump();
    }
}

/// Records the `reach` property of the `WasmScript` `node` (empty = the project default).
pub fn set_path(node: InstanceId, path: NodePath) {
    with_paths(|p| {
        let mut paths = p.borrow_mut();
        paths.retain(|id, _| Gd::<Object>::try_from_instance_id(*id).is_ok());
        if path.is_empty() {
            paths.remove(&node);
        } else {
            paths.insert(node, path);
        }
    });
    bump();
}

/// Records `path` as the `reach` of `node` when the table holds something else for it (a node
/// whose setter ran on another thread, where the table cannot be reached); nothing changes, and
/// no decision is made again, when it already holds it.
pub fn ensure_path(node: InstanceId, path: &NodePath) {
    let recorded = with_paths(|p| p.borrow().get(&node).cloned());
    let same = match recorded {
        Some(recorded) => recorded == *path,
        None => path.is_empty(),
    };
    if !same {
        set_path(node, path.clone());
    }
}

/// The generation, when the current `SceneTree`'s changes are watched (`None` without a tree):
/// what is found in the tree holds while it stays the same.
pub fn tree_generation() -> Option<u64> {
    watch().then(generation)
}

/// Makes sure the current `SceneTree`'s changes bump the generation; false when there is no
/// tree to watch (then no decision may be cached).
fn watch() -> bool {
    let Some(tree) = scene_tree() else {
        return false;
    };
    let id = tree.instance_id().to_i64() as u64;
    if WATCHED_TREE.load(Ordering::Relaxed) == id {
        return true;
    }
    let mut tree = tree;
    let on_change = Callable::from_fn("wasgo_reach_changed", |_args: &[&Variant]| {
        bump();
        Variant::nil()
    });
    for signal in ["tree_changed", "node_renamed"] {
        tree.connect(signal, &on_change);
    }
    WATCHED_TREE.store(id, Ordering::Relaxed);
    bump();
    true
}

/// The mod's reach root: the node `reach` (or the project default) names, relative to the
/// `WasmScript`; with neither, the current scene, else the `WasmScript`'s parent unless that is
/// the root window or an autoload. `None` when the path names no node (or the parent may not
/// stand in): then only the mod's own subtree is inside.
fn reach_root(script: &Gd<Node>) -> Option<InstanceId> {
    let path = with_paths(|p| p.borrow().get(&script.instance_id()).cloned())
        .unwrap_or_else(default_reach);
    if path.is_empty() {
        let tree = scene_tree();
        if let Some(scene) = tree.as_ref().and_then(|t| t.get_current_scene()) {
            return Some(scene.instance_id());
        }
        // No current scene (none at all, or a scene change pending: Godot clears
        // `current_scene` at once and sets the new one at the end of the frame). The parent
        // stands in, unless it is the root window or an autoload: a mod kept across levels
        // under one reached every autoload (or the whole tree) for the rest of that frame.
        let parent = script.get_parent()?;
        let root = tree.and_then(|t| t.get_root()).map(|r| r.upcast::<Node>());
        if root.as_ref().is_some_and(|r| *r == parent) || is_autoload(&parent, root.as_ref()) {
            return None;
        }
        return Some(parent.instance_id());
    }
    if path.is_absolute() && !script.is_inside_tree() {
        return None;
    }
    let found = script.get_node_or_null(&path).map(|n| n.instance_id());
    if found.is_none() && script.is_inside_tree() {
        warn_no_reach_root(script, &path);
    }
    found
}

/// Warns, once per path and run, that a mod's reach (`reach`, or the project default) names no
/// node from its `WasmScript`: the mod then reaches only its own subtree, and its lookups got
/// -1 with nothing saying why (a typo such as `/root/Arenna` looked like a broken mod).
fn warn_no_reach_root(script: &Gd<Node>, path: &NodePath) {
    thread_local! {
        static WARNED: RefCell<std::collections::HashSet<String>> =
            RefCell::new(std::collections::HashSet::new());
    }
    let text = path.to_string();
    if WARNED.with(|w| w.borrow_mut().insert(text.clone())) {
        godot_warn!(
            "WasGo: the reach `{text}` of `{}` (its `reach`, else `{}`) names no node from it: the mod reaches only its own node and what is under it; fix the path",
            script.get_name(),
            settings::DEFAULT_REACH
        );
    }
}

/// Whether `node` is a `CanvasLayer` drawn over embedded windows (layer 1024 or above: what is
/// in it draws over WasGo's permission dialog).
pub fn is_over_windows(node: &Gd<Node>) -> bool {
    node.clone()
        .try_cast::<godot::classes::CanvasLayer>()
        .is_ok_and(|layer| i64::from(layer.get_layer()) >= wasgo_core::reach::WINDOWS_LAYER)
}

/// Whether `node` or a node above it is such a layer ([`is_over_windows`]), as it is now (the
/// reach decisions kept for handles do not see a layer raised later: no signal says so).
pub fn under_a_layer_over_windows(node: &Gd<Node>) -> bool {
    let mut at = Some(node.clone());
    while let Some(n) = at {
        if is_over_windows(&n) {
            return true;
        }
        at = n.get_parent();
    }
    false
}

/// Whether `node` is one of the project's autoloads (a child of the root window named after an
/// `autoload/` setting).
fn is_autoload(node: &Gd<Node>, root: Option<&Gd<Node>>) -> bool {
    let Some(root) = root else {
        return false;
    };
    if node.get_parent().as_ref() != Some(root) {
        return false;
    }
    godot::classes::ProjectSettings::singleton()
        .has_setting(&format!("autoload/{}", node.get_name()))
}

/// Whether `node` is an internal child of `parent` (internal children come first or last).
fn is_internal(parent: &Gd<Node>, node: &Gd<Node>) -> bool {
    let plain = parent.get_child_count();
    if parent.get_child_count_ex().include_internal(true).done() == plain {
        return false;
    }
    // Only internal children (a SpinBox's LineEdit): `get_child(0)` would log an error.
    if plain == 0 {
        return true;
    }
    let Some(first) = parent.get_child(0) else {
        return true;
    };
    let front = first.get_index_ex().include_internal(true).done();
    let index = node.get_index_ex().include_internal(true).done();
    index < front || index >= front + plain
}

/// Whether the mod run by the `WasmScript` `script` at `level` may hold a handle to `node`;
/// the answer is the stamp to keep with the handle: the generation it holds for, or 0 when it
/// must be made again at every use (no tree is watched, or the node is outside the tree, where
/// moves raise no signal).
///
/// # Errors
/// Why the node is outside its reach.
pub fn check(
    level: SafetyLevel,
    script: impl FnOnce() -> Option<Gd<Node>>,
    node: &Gd<Node>,
) -> Result<u64, Outside> {
    let watched = watch();
    if watched {
        notice_current_scene();
    }
    let stamp = if watched && node.is_inside_tree() {
        generation()
    } else {
        0
    };
    if level == SafetyLevel::Unsafe {
        return Ok(stamp);
    }
    let node = node.clone();
    let Some(script) = script() else {
        // The mod's node is gone: nothing is inside any more.
        return Err(Outside::NotUnder);
    };
    let root = reach_root(&script);
    let script = script.instance_id();
    let ended = Cell::new(false);
    // Above the mod's roots only a layer over the windows matters (`decide`): the other facts,
    // each a call into Godot or two, are not read there.
    let inside = Cell::new(false);
    let mut current = Some(node);
    let chain = std::iter::from_fn(|| {
        let Some(n) = current.take() else {
            ended.set(true);
            return None;
        };
        let id = n.instance_id();
        let parent = n.get_parent();
        let is_over_windows = is_over_windows(&n);
        let facts = if inside.get() {
            NodeFacts {
                is_reach_root: false,
                is_mod_node: false,
                is_own_ui: false,
                is_internal: false,
                is_over_windows,
            }
        } else {
            NodeFacts {
                is_reach_root: Some(id) == root,
                is_mod_node: id == script,
                is_own_ui: own_ui::is_root(id),
                is_internal: parent.as_ref().is_some_and(|p| is_internal(p, &n)),
                is_over_windows,
            }
        };
        if facts.is_reach_root || facts.is_mod_node {
            inside.set(true);
        }
        current = parent;
        Some(facts)
    });
    decide_walk(level, chain, || ended.get()).map(|()| stamp)
}

/// Re-checks a handle's node when the tree changed since `stamp` (the generation it was last
/// found inside under), updating `stamp`; the fast path is one load and a compare.
///
/// # Errors
/// Why the node is now outside.
#[inline]
pub fn stamp(
    stamp: &Cell<u64>,
    level: SafetyLevel,
    script: impl FnOnce() -> Option<Gd<Node>>,
    node: &Gd<Node>,
) -> Result<(), Outside> {
    if stamp.get() == generation() {
        return Ok(());
    }
    stamp.set(check(level, script, node)?);
    Ok(())
}

/// Why the table gave no handle for an object.
#[derive(Debug, Clone, Copy)]
pub enum Refused {
    /// A node outside the mod's reach (or WasGo's own UI).
    Outside(Outside),
    /// The table is full.
    Full,
}

impl Refused {
    /// The mod's error: "not found" (-1) for what it may not reach, naming `what`.
    pub fn into_error(self, what: &str) -> ObjectError {
        match self {
            Refused::Outside(r) => {
                ObjectError::failed(ErrorCode::NotFound.code(), format!("{what} {r}"))
            }
            Refused::Full => ObjectError::failed(
                HandleError::Full.code().code(),
                HandleError::Full.to_string(),
            ),
        }
    }
}

/// The error for a handle whose node left the mod's reach since it got it.
pub fn left_reach(handle: i32, reason: Outside) -> ObjectError {
    ObjectError::failed(
        ErrorCode::NotFound.code(),
        format!(
            "the node behind handle {handle} {reason} (it was moved since the mod got the handle)"
        ),
    )
}
