//! Objects a mod creates (`wasgo.new`, and the resources it makes from bytes), owned by its
//! instance. Main thread only.
//!
//! Ownership is what lets a mod add to the game without leaving a mess behind:
//!
//! - every object an instance creates is recorded here and counted against
//!   `wasgo/limits/max_objects_per_mod` ([`Limits::DEFAULT_MAX_OBJECTS_PER_MOD`]); past it,
//!   creating answers `ErrorCode::Busy` (-7) with a message naming the setting;
//! - nodes are recorded by id (the list never keeps one alive: a node the game or the mod frees
//!   simply stops counting); resources are held strongly, so what the mod made lives while the
//!   mod may still use it;
//! - when the instance ends (trap, kill, exit, its node freed) [`CreatedObjects::release_all`]
//!   queues every owned node that still exists for deletion and drops the resources (which then
//!   live on only where the game or an adopted node uses them), audio players are stopped and
//!   the tweens the mod made are killed; `queue_free` defers the deletion
//!   to the end of the frame, so no game code runs inside the release and a node busy in a
//!   signal handler is never freed under it;
//! - the game keeps an object past the instance with `WasmScript.adopt(object)`
//!   ([`CreatedObjects::adopt`]): from then on the mod reaches it like any game object (reach
//!   and the allowlist apply).
//!
//! Owned objects are exempt from reach (an owned node is the mod's own, also before it is in the
//! tree), and they are the only nodes the tree-changing calls accept: [`check_tree_call`] lets
//! `add_child(child)` through only for an owned, parentless `child` (the parent being any node
//! the mod holds: in its reach or owned), `remove_child(child)` only for an owned `child`, and
//! `queue_free()` only on an owned node.

use godot::classes::control::MouseFilter;
use godot::classes::{ClassDb, Control, Node, Object, RefCounted, Tween};
use godot::prelude::*;
use std::collections::HashMap;
use wasgo_catalog::ErrorCode;
use wasgo_core::{Limits, ObjectError, SafetyLevel};

/// The methods whose target or argument must be owned by the calling instance.
pub const TREE_METHODS: [&str; 3] = ["add_child", "remove_child", "queue_free"];

/// The player classes whose sound is stopped before they are freed.
const AUDIO_PLAYERS: [&str; 3] = [
    "AudioStreamPlayer",
    "AudioStreamPlayer2D",
    "AudioStreamPlayer3D",
];

/// What the instance holds of one owned object.
enum Held {
    /// A node or another manually managed object: by id only.
    ById,
    /// A resource (RefCounted): held strongly until the instance ends or lets it go.
    Strong(#[allow(dead_code)] Gd<RefCounted>),
}

/// The most collision objects (areas and bodies) and, apart, the most collision shapes one mod
/// may own at once, below level 3. Godot's physics step pairs every shape with every shape it
/// overlaps, after and outside every mod call: 510 areas a mod stacked on one spot held the game
/// at 2 to 7 fps, its own calls taking a millisecond a frame. 64 of each stay under a few
/// thousand pairs.
pub const MAX_COLLISION_NODES: usize = 64;

/// The most collision objects and, apart, collision shapes all mods together may have created
/// and alive below level 3: the bound above is each instance's, and eight nodes of one mod made
/// the 512 areas that held the game at a few frames a second.
pub const MAX_COLLISION_NODES_ALL: usize = 256;

thread_local! {
    /// The collision nodes of each kind mods created below level 3, of every instance (freed
    /// ones are let go at the next check).
    static ALL_COLLISION: std::cell::RefCell<[Vec<InstanceId>; 2]> =
        const { std::cell::RefCell::new([Vec::new(), Vec::new()]) };
}

/// The kinds of node [`MAX_COLLISION_NODES`] counts, each as the base classes that make one.
const COLLISION_KINDS: [(&str, &[&str]); 2] = [
    (
        "collision objects (areas and bodies)",
        &["CollisionObject2D", "CollisionObject3D"],
    ),
    (
        "collision shapes",
        &[
            "CollisionShape2D",
            "CollisionShape3D",
            "CollisionPolygon2D",
            "CollisionPolygon3D",
        ],
    ),
];

/// The objects one instance created and still owns.
#[derive(Default)]
pub struct CreatedObjects {
    owned: HashMap<InstanceId, Held>,
    /// Resources the mod made and let go of (released their handles) that may still live where
    /// something holds them: they count against the cap until they are freed. Counted only
    /// while owned, a mod could make any number: each made, put into a container it owns (a
    /// SpriteFrames holds 256 x 1024 frames) and released.
    released: Vec<InstanceId>,
    /// The owned nodes of each of [`COLLISION_KINDS`] (some may be freed since).
    collision: [Vec<InstanceId>; 2],
    /// The memory each asset the mod made takes, while the asset lives (also after the mod let
    /// it go: it still takes the memory where the game uses it).
    asset_bytes: HashMap<InstanceId, usize>,
}

impl CreatedObjects {
    /// Whether the instance owns the object `id`.
    pub fn owns(&self, id: InstanceId) -> bool {
        self.owned.contains_key(&id)
    }

    /// The owned objects that still exist (for `WasmScript.get_owned_objects`).
    pub fn live_objects(&mut self) -> Vec<Gd<Object>> {
        self.prune();
        self.owned
            .keys()
            .filter_map(|id| Gd::<Object>::try_from_instance_id(*id).ok())
            .collect()
    }

    /// Refuses a new object when the instance already owns `cap` live ones.
    ///
    /// # Errors
    /// `ErrorCode::Busy` with a message naming the limit and what to do.
    pub fn check_room(&mut self, cap: usize, what: &str) -> Result<(), ObjectError> {
        if self.counted() >= cap {
            self.prune();
        }
        if self.counted() >= cap {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!(
                    "{what} refused: this mod already has {cap} objects it made, the most `wasgo/limits/max_objects_per_mod` allows; free some (`queue_free`), let go of resources (release their handles and stop using them: a released resource counts until it is freed) or let tweens end and release their handles (a tween counts until it ends, released or not, and after it ends while a handle holds it) before creating more"
                ),
            ));
        }
        Ok(())
    }

    /// What counts against the cap: the owned objects and the released resources (some of
    /// either may be freed since the last [`CreatedObjects::prune`]).
    fn counted(&self) -> usize {
        self.owned.len() + self.released.len()
    }

    /// Refuses a new `class` object below level 3 when it is a collision object or shape and
    /// the instance already owns [`MAX_COLLISION_NODES`] of that kind; the kind's index
    /// otherwise (for [`CreatedObjects::track_collision`]), `None` for other classes.
    ///
    /// # Errors
    /// `ErrorCode::Busy` naming the kind and the limit.
    pub fn check_collision_room(
        &mut self,
        level: SafetyLevel,
        class: &str,
    ) -> Result<Option<usize>, ObjectError> {
        if level == SafetyLevel::Unsafe {
            return Ok(None);
        }
        let db = ClassDb::singleton();
        let name = StringName::from(class);
        let Some(kind) = COLLISION_KINDS.iter().position(|(_, bases)| {
            bases
                .iter()
                .any(|base| db.is_parent_class(&name, &StringName::from(*base)))
        }) else {
            return Ok(None);
        };
        let owned = &self.owned;
        let nodes = &mut self.collision[kind];
        nodes
            .retain(|id| owned.contains_key(id) && Gd::<Object>::try_from_instance_id(*id).is_ok());
        if nodes.len() >= MAX_COLLISION_NODES {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!(
                    "`wasgo.new` of a `{class}` refused: this mod already owns {MAX_COLLISION_NODES} {}, the most a mod may own below safety level 3 (Godot's physics pairs every overlapping shape at every step, outside the mod's budget); free some (`queue_free`) first",
                    COLLISION_KINDS[kind].0
                ),
            ));
        }
        let all = ALL_COLLISION.with(|all| {
            let mut all = all.borrow_mut();
            all[kind].retain(|id| Gd::<Object>::try_from_instance_id(*id).is_ok());
            all[kind].len()
        });
        if all >= MAX_COLLISION_NODES_ALL {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!(
                    "`wasgo.new` of a `{class}` refused: the mods together already made {MAX_COLLISION_NODES_ALL} {} that are alive, the most all mods may make below safety level 3 (Godot's physics pairs every overlapping shape at every step); free some (`queue_free`) first",
                    COLLISION_KINDS[kind].0
                ),
            ));
        }
        Ok(Some(kind))
    }

    /// Counts the new node `obj` as one of collision kind `kind`.
    pub fn track_collision(&mut self, kind: usize, obj: &Gd<Object>) {
        self.collision[kind].push(obj.instance_id());
        ALL_COLLISION.with(|all| all.borrow_mut()[kind].push(obj.instance_id()));
    }

    /// Refuses an asset of `cost` bytes when the instance's live assets already take so much
    /// that it would pass `budget` (`wasgo/limits/assets_mb`).
    ///
    /// # Errors
    /// `ErrorCode::Busy` naming the setting and the figures.
    pub fn check_asset_budget(
        &mut self,
        cost: usize,
        budget: usize,
        function: &str,
    ) -> Result<(), ObjectError> {
        self.asset_bytes
            .retain(|id, _| Gd::<Object>::try_from_instance_id(*id).is_ok());
        let live: usize = self.asset_bytes.values().sum();
        if live.saturating_add(cost) > budget {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!(
                    "`{function}` refused: this mod's images, sounds and fonts already take {} KiB and this one would take {} KiB more, over the game's {} MiB (`wasgo/limits/assets_mb`); let go of some (release their handles and stop using them) or use smaller assets",
                    live / 1024,
                    cost.div_ceil(1024),
                    budget >> 20
                ),
            ));
        }
        Ok(())
    }

    /// Records the memory a new asset takes.
    pub fn track_asset(&mut self, obj: &Gd<Object>, cost: usize) {
        self.asset_bytes.insert(obj.instance_id(), cost);
    }

    /// Records a new object as owned.
    pub fn track(&mut self, obj: &Gd<Object>) {
        let held = match obj.clone().try_cast::<RefCounted>() {
            Ok(strong) => Held::Strong(strong),
            Err(_) => Held::ById,
        };
        self.owned.insert(obj.instance_id(), held);
    }

    /// The mod released its handle to `id`: an owned resource is let go (it lives on where the
    /// game uses it); nodes stay owned (they are freed with the instance or by `queue_free`), and
    /// so do tweens while they run (the tree runs a tween nobody holds: a released looping tween
    /// escaped the object cap and ran on after the mod ended).
    pub fn forget_resource(&mut self, id: InstanceId) {
        if let Some(Held::Strong(resource)) = self.owned.get(&id) {
            if !resource.is_class("Tween") {
                self.owned.remove(&id);
                self.released.push(id);
            }
        }
    }

    /// Gives the object `id` to the game, with the owned nodes above it (a parent the mod made,
    /// its parent, ...: freed with the instance, they would free the adopted node with them)
    /// and below it (an adopted enemy kept its node but lost the sprite and the collision shape
    /// the mod had made under it). Returns what was adopted; empty when the instance does not
    /// own `id`.
    pub fn adopt(&mut self, id: InstanceId) -> Vec<InstanceId> {
        if self.owned.remove(&id).is_none() {
            return Vec::new();
        }
        let mut adopted = vec![id];
        let node = Gd::<Node>::try_from_instance_id(id).ok();
        let mut below: Vec<Gd<Node>> = node.iter().cloned().collect();
        while let Some(node) = below.pop() {
            for child in node
                .get_children_ex()
                .include_internal(true)
                .done()
                .iter_shared()
            {
                let child_id = child.instance_id();
                if self.owned.remove(&child_id).is_some() {
                    adopted.push(child_id);
                }
                below.push(child);
            }
        }
        let mut parent = node.and_then(|node| node.get_parent());
        while let Some(node) = parent {
            let above = node.instance_id();
            if self.owned.remove(&above).is_none() {
                break;
            }
            adopted.push(above);
            parent = node.get_parent();
        }
        // The game's now: no mod's collision nodes any more (they counted against the bound of
        // all mods for as long as they lived).
        ALL_COLLISION.with(|all| {
            for kind in all.borrow_mut().iter_mut() {
                kind.retain(|id| !adopted.contains(id));
            }
        });
        adopted
    }

    /// Frees what the instance still owns: nodes are queued for deletion (at the end of the
    /// frame, so no game code runs here), other manually managed objects are freed, resources
    /// are dropped.
    pub fn release_all(&mut self) {
        for (id, held) in self.owned.drain() {
            if let Held::Strong(resource) = &held {
                // A tween the mod made stops with it (the tree would otherwise run it on).
                if let Ok(mut tween) = resource.clone().try_cast::<Tween>() {
                    tween.kill();
                }
                continue;
            }
            if let Held::ById = held {
                let Ok(obj) = Gd::<Object>::try_from_instance_id(id) else {
                    continue;
                };
                match obj.try_cast::<Node>() {
                    Ok(mut node) => {
                        if AUDIO_PLAYERS.iter().any(|c| node.is_class(*c)) {
                            // Stopped now, so the audio thread lets go of the sound before the
                            // node is deleted.
                            node.call("stop", &[]);
                        }
                        if !node.is_queued_for_deletion() {
                            node.queue_free();
                        }
                    }
                    // Only level 3 can create such objects (the allowlist marks nodes and
                    // resources only); nothing else refers to them by design.
                    Err(obj) => obj.free(),
                }
            }
        }
    }

    /// Drops the entries of nodes that were freed; a tween that ended counts on as a released
    /// resource until it is freed (a handle the mod keeps holds it: `create_tween` + `kill`
    /// in a loop, handles kept, pinned tweens past the cap).
    fn prune(&mut self) {
        let released = &mut self.released;
        self.owned.retain(|id, held| match held {
            Held::Strong(resource) => {
                let ended = resource
                    .clone()
                    .try_cast::<Tween>()
                    .is_ok_and(|tween| !tween.is_valid());
                if ended {
                    released.push(*id);
                }
                !ended
            }
            Held::ById => Gd::<Object>::try_from_instance_id(*id).is_ok(),
        });
        self.released
            .retain(|id| Gd::<Object>::try_from_instance_id(*id).is_ok());
    }
}

/// Creates an object of `class` for an instance at `level`; `allowed(class)` says whether the
/// allowlist marks it instantiable (asked only at levels 1 and 2). The caller records it as owned
/// (after [`CreatedObjects::check_room`]) and makes its handle.
///
/// # Errors
/// -1 for a class Godot does not have; -3 for one the mod may not create, naming what to do.
pub fn instantiate(
    level: SafetyLevel,
    class: &str,
    allowed: impl FnOnce(&StringName) -> bool,
) -> Result<Gd<Object>, ObjectError> {
    let db = ClassDb::singleton();
    let name = StringName::from(class);
    if !db.class_exists(&name) {
        return Err(ObjectError::failed(
            ErrorCode::NotFound.code(),
            format!("`wasgo.new`: there is no class `{class}`; check the spelling (class names are case-sensitive, e.g. `Sprite2D`)"),
        ));
    }
    if level != SafetyLevel::Unsafe && !allowed(&name) {
        return Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            format!("`wasgo.new`: `{class}` is not instantiable by mods at safety level {level}; the allowlist must mark it `instantiable = true` (the game can add a `[{class}]` section to `addons/wasgo/allowlist.cfg` or a file in `wasgo/safety/allowlist_files`)"),
        ));
    }
    if !db.can_instantiate(&name) {
        return Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            format!("`wasgo.new`: `{class}` cannot be instantiated (it is abstract or a singleton); create one of its concrete subclasses"),
        ));
    }
    let made = db.instantiate(&name).try_to::<Gd<Object>>().map_err(|_| {
        ObjectError::failed(
            ErrorCode::CallFailed.code(),
            format!("`wasgo.new`: Godot did not create a `{class}`"),
        )
    })?;
    if level != SafetyLevel::Unsafe {
        if let Ok(mut control) = made.clone().try_cast::<Control>() {
            // A Control takes the clicks over its rectangle from every control drawn below it:
            // an invisible one a mod made the size of the screen swallowed the player's clicks
            // on the game's own UI, outside the mod's reach. A mod's Controls show, never take
            // the mouse (a mod reads the pointer through its `input` export).
            control.set_mouse_filter(MouseFilter::IGNORE);
            // So do the Controls it makes for itself (a RichTextLabel's scroll bar): Godot
            // hands a click to the topmost Control that does not ignore it, whatever its
            // parent's filter, and a mod can stretch its label (and that bar) over the screen.
            ignore_mouse_inside(&control.clone().upcast::<Node>());
        }
        // The physics twin of the above: Godot's object picking hands a click to the pickable
        // collision object on top (2D, sorted by z-index) or nearest the camera (3D), and a
        // mod's huge area in front took every click meant for the game's own objects.
        if let Ok(mut area) = made.clone().try_cast::<godot::classes::CollisionObject2D>() {
            area.set_pickable(false);
        } else if let Ok(mut area) = made.clone().try_cast::<godot::classes::CollisionObject3D>() {
            area.set_ray_pickable(false);
        }
    }
    Ok(made)
}

/// Sets every Control among `node`'s internal descendants to ignore the mouse.
fn ignore_mouse_inside(node: &Gd<Node>) {
    for child in node
        .get_children_ex()
        .include_internal(true)
        .done()
        .iter_shared()
    {
        if let Ok(mut control) = child.clone().try_cast::<Control>() {
            control.set_mouse_filter(MouseFilter::IGNORE);
        }
        ignore_mouse_inside(&child);
    }
}

/// The per-instance cap on owned objects now (`wasgo/limits/max_objects_per_mod`).
pub fn cap() -> usize {
    crate::settings::positive(
        crate::settings::MAX_OBJECTS_PER_MOD,
        Limits::DEFAULT_MAX_OBJECTS_PER_MOD as i64,
    ) as usize
}

/// Checks a call of one of [`TREE_METHODS`] on `target` (a node the mod holds) with `args`:
/// the node it adds, removes or frees must be owned by the instance. Level 3 may call them on
/// anything.
///
/// # Errors
/// -3 naming the rule the call broke and what to do instead.
pub fn check_tree_call(
    created: &CreatedObjects,
    level: SafetyLevel,
    target: &Gd<Object>,
    method: &str,
    args: &VarArray,
) -> Result<(), ObjectError> {
    if level == SafetyLevel::Unsafe {
        return Ok(());
    }
    let refuse = |why: String| Err(ObjectError::failed(ErrorCode::InvalidArgument.code(), why));
    let Ok(target_node) = target.clone().try_cast::<Node>() else {
        return refuse(format!(
            "`{method}` is a Node method, and `{}` is not a Node",
            target.get_class()
        ));
    };
    if method == "queue_free" {
        if !created.owns(target.instance_id()) {
            return refuse(format!("`queue_free` refused: the mod may free only the nodes it created (`wasgo.new`), and `{}` is the game's", target_node.get_name()));
        }
        return Ok(());
    }
    let child = args
        .get(0)
        .and_then(|v| v.try_to::<Option<Gd<Node>>>().ok().flatten());
    let Some(child) = child else {
        return refuse(format!(
            "`{method}` takes the child node's handle as its first argument"
        ));
    };
    if !created.owns(child.instance_id()) {
        return refuse(format!("`{method}` refused: the mod may add and remove only the nodes it created (`wasgo.new`), and `{}` is the game's", child.get_name()));
    }
    if method == "remove_child" {
        if child.get_parent().as_ref() != Some(&target_node) {
            return refuse(format!(
                "`remove_child` refused: `{}` is not a child of `{}`",
                child.get_name(),
                target_node.get_name()
            ));
        }
        return Ok(());
    }
    // add_child(child, force_readable_name = false): the third parameter (`internal`) would hide
    // the node from the game's child lists.
    if args.len() > 2 {
        return refuse("`add_child` takes at most `child` and `force_readable_name` from a mod (internal children are the game's)".to_string());
    }
    if child.get_parent().is_some() {
        return refuse(format!(
            "`add_child` refused: `{}` already has a parent; `remove_child` it first",
            child.get_name()
        ));
    }
    if child == target_node || child.is_ancestor_of(&target_node) {
        return refuse(format!(
            "`add_child` refused: `{}` cannot be added under itself or its own descendant",
            child.get_name()
        ));
    }
    // A dialog or popup of the game's lays its plain children over its own message (an
    // AcceptDialog fills its content area with them): a mod's label there rewrote what the
    // player confirms ("Keep your save?" over "Delete your save?").
    // A layer over the windows: what is added there draws over WasGo's permission dialog
    // (checked now: a game may have raised the layer after the mod took its handle).
    if crate::reach::under_a_layer_over_windows(&target_node) {
        return refuse(format!(
            "`add_child` refused: `{}` is in a CanvasLayer at layer {} or above, which draws over WasGo's permission dialog",
            target_node.get_name(),
            wasgo_core::reach::WINDOWS_LAYER
        ));
    }
    // Anywhere inside one (a dialog's container lays its children over the message too); the
    // root window, which holds the whole game, is no dialog.
    let mut at = Some(target_node.clone());
    while let Some(node) = at {
        let parent = node.get_parent();
        if parent.is_some() && node.is_class("Window") && !created.owns(node.instance_id()) {
            let place = if node == target_node {
                format!("`{}` is", node.get_name())
            } else {
                format!(
                    "`{}` is inside `{}`,",
                    target_node.get_name(),
                    node.get_name()
                )
            };
            return refuse(format!(
                "`add_child` refused: {place} a window of the game's (a dialog, a popup), whose content the mod may not cover; add the node elsewhere"
            ));
        }
        at = parent;
    }
    Ok(())
}
