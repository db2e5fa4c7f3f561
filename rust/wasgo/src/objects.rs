//! The object side of the mod ABI: per-instance handle tables, Variant conversion, the allowlist
//! check, signal connections and `mod_event`s. Main thread only.
//!
//! Handles: nodes and other plain objects are held by instance id, so a handle never keeps a node
//! alive and a freed node answers -4; RefCounted objects (resources) are held strongly while the
//! mod holds their handle. Handles are per instance and die with it, as do its connections and
//! the timers it made (`owned.rs`).
//!
//! Reach: the table makes every handle (`handle_for`), so it is where a node outside the mod's
//! reach is refused (see `reach.rs`), whatever way the mod found it: a path, a search, a
//! method's or property's value, a signal argument. Each use re-checks a node's handle when the
//! tree changed since it was last found inside.

use crate::assets;
use crate::convert::{from_wire, to_wire, Handles};
use crate::created::{self, CreatedObjects};
use crate::drawing::{self, DrawLists};
use crate::log_gate;
use crate::own_ui;
use crate::owned::OwnedTimers;
use crate::reach;
use crate::settings;
use crate::state::{self, Part};
use crate::tweens;
use godot::classes::mesh::{ArrayType, PrimitiveType};
use godot::classes::{
    ArrayMesh, ClassDb, Engine, FileAccess, Mesh, Node, Node2D, Node3D, Object, PrimitiveMesh,
    RefCounted, SphereMesh,
};
use godot::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasgo_catalog::ErrorCode;
use wasgo_core::allowlist::{Allowlist, DistinctPools, MemberKind, RangeKind, ValueRange};
use wasgo_core::delivery::DeliveryQueue;
use wasgo_core::handles::{DecisionCache, HandleError, HandleTable, TextCache};
use wasgo_core::objects::{FoundNode, KeptName};
use wasgo_core::tween_plan::{TweenPlan, Tweener};
use wasgo_core::{
    InstanceKey, ObjectError, ObjectHost, ObjectOp, ObjectReply, SafetyLevel, WireVariant,
};

/// Where the allowlist ships in the addon.
pub const ALLOWLIST_PATH: &str = "res://addons/wasgo/allowlist.cfg";

/// The longest member name whose allowlist decision is kept (longer ones are decided each time).
const MAX_DECIDED_NAME: usize = 256;

/// The most allowlist decisions kept (the table starts over past it).
const MAX_DECISIONS: usize = 65_536;

/// Bumped whenever the allowlist changes, so cached decisions are made again. (An atomic, not a
/// part of the main-thread state: it is read on every fast-path call, and a `cdylib`'s
/// thread-locals are slow. It only ever grows, so it stays valid across a restart of the
/// extension.)
static ALLOWLIST_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn allowlist_generation() -> u64 {
    ALLOWLIST_GENERATION.load(std::sync::atomic::Ordering::Relaxed)
}

fn bump_allowlist_generation() {
    ALLOWLIST_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

use wasgo_core::fast_hash::FastMap;

/// The classes whose hot properties have typed setters (the fast paths' ptrcalls), cast once.
enum Typed {
    Node2D(Gd<Node2D>),
    Node3D(Gd<Node3D>),
    Other,
}

/// Which of the [`Typed`] node classes a node class is (or inherits), asked of `ClassDB` once per
/// class (see `ObjectsState::node_kinds`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Node2D,
    Node3D,
    Plain,
}

/// The mod's node kept as `node` (its id `id`), unless it was freed; looked up by id when none
/// was kept.
fn valid_script_node(node: &Option<Gd<Node>>, id: InstanceId) -> Option<Gd<Node>> {
    match node {
        Some(node) if node.is_instance_valid() => Some(node.clone()),
        Some(_) => None,
        None => Gd::try_from_instance_id(id).ok(),
    }
}

/// The [`NodeKind`] of the node class `class`.
fn node_kind(class: &StringName) -> NodeKind {
    if let Some(kind) = with_objects(|o| o.node_kinds.borrow().get(class).copied()).flatten() {
        return kind;
    }
    let db = ClassDb::singleton();
    let kind = if db.is_parent_class(class, "Node2D") {
        NodeKind::Node2D
    } else if db.is_parent_class(class, "Node3D") {
        NodeKind::Node3D
    } else {
        NodeKind::Plain
    };
    with_objects(|o| o.node_kinds.borrow_mut().insert(class.clone(), kind));
    kind
}

/// What a handle stands for; the class is looked up and the object cast once, when the handle
/// is made. A `Gd` of a non-RefCounted object does not keep it alive: every use checks
/// `is_instance_valid()` first, so a freed object answers -4.
struct Slot {
    obj: Gd<Object>,
    /// Set for RefCounted objects, which the mod keeps alive while it holds the handle.
    _strong: Option<Gd<RefCounted>>,
    class: StringName,
    typed: Typed,
    /// Properties the mod used on this object: decided and resolved once, then found by a short
    /// linear scan (cheaper than hashing the name on every fast-path call).
    props: Vec<PropEntry>,
    /// The allowlist generation `props` were decided under.
    props_generation: u64,
    /// Set for nodes, whose reach is checked.
    node: Option<Gd<Node>>,
    /// The reach generation the node was last found inside under (see `reach.rs`).
    reach: Cell<u64>,
}

/// Most properties a slot remembers; more are decided again each time.
const MAX_CACHED_PROPS: usize = 16;

/// Entries of the ranges' totals kept before those of freed objects are dropped.
const MAX_WORK_ENTRIES: usize = 4096;

/// Tween plans kept before those of freed tweens are dropped.
const MAX_TWEEN_PLANS: usize = 1024;

/// What the table keeps of a tween the mod made: its plan, and the node it is bound to (the one
/// `create_tween` was called on).
#[derive(Debug, Clone, Copy, Default)]
struct ModTween {
    plan: TweenPlan,
    bound: Option<InstanceId>,
}

/// One property of one object, as the fast paths need it.
struct PropEntry {
    name: KeptName,
    allowed: bool,
    /// For a property the list does not allow: whether the object has no such property at all
    /// (then -1, "not found", like a missing method; a denied one that exists traps).
    missing: bool,
    sname: StringName,
    hot: Hot,
    /// Whether the name is one a secret `LineEdit` refuses ([`refuse_secret_text`]): decided
    /// once per entry, so the hot properties skip that check.
    secret_text: bool,
    /// Whether setting it may hide a node or take its focus (`wasgo_core::typing::ends_focus`).
    ends_focus: bool,
    /// The allowlist's range for the property on this object's class (levels 1 and 2).
    range: Option<ValueRange>,
    /// Below level 3, for an allowed property: whether its type is a name (a StringName or a
    /// NodePath), so a `String` set to it is held to the rule for names
    /// (`crate::name_params`).
    takes_name: bool,
    /// Below level 3, for an allowed property: whether its type is a text (a `String` or a
    /// name), so an array or a dictionary is not set to it
    /// (`crate::name_params::container_to_text_refusal`).
    takes_text: bool,
}

/// Hot properties with typed accessors on Node2D and Node3D.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hot {
    Position,
    GlobalPosition,
    Scale,
    Rotation,
    None,
}

impl Hot {
    fn of(name: &str) -> Hot {
        match name {
            "position" => Hot::Position,
            "global_position" => Hot::GlobalPosition,
            "scale" => Hot::Scale,
            "rotation" => Hot::Rotation,
            _ => Hot::None,
        }
    }
}

/// A signal connection a mod made: the object, the signal, what it calls and the mod's callback
/// id.
type Connection = (InstanceId, StringName, Callable, i32);

/// Whether a connection still holds: its object is there and the game did not disconnect it.
fn connection_live((id, signal, callable, _): &Connection) -> bool {
    Gd::<Object>::try_from_instance_id(*id).is_ok_and(|obj| obj.is_connected(signal, callable))
}

/// How many signal connections one instance may have at once (each one is a call on every
/// emission: a mod connecting `process_frame` a million times made every frame 320 ms).
pub const MAX_CONNECTIONS_PER_INSTANCE: usize = 1024;

/// How many of one instance's connections may be to one signal of one object: each is a call
/// on every emission, so 1024 connections to `SceneTree.node_added` made every node the game
/// added cost a thousand deliveries, charged to no mod. A mod fans one delivery out itself.
pub const MAX_CONNECTIONS_PER_SIGNAL: usize = 16;

/// One instance's objects.
pub struct InstanceObjects {
    script: InstanceId,
    /// The mod's node as a `Node`, from its core (no lookup or class check per use; handed out
    /// only after a validity check, see [`InstanceObjects::script_node`]).
    script_node: Option<Gd<Node>>,
    /// The instance's safety level (set by every call in; it never changes).
    level: SafetyLevel,
    /// The mod's handles (the core's table: checked handle arithmetic, one handle per object).
    slots: HandleTable<InstanceId, Slot>,
    /// The signal connections the mod made (at most [`MAX_CONNECTIONS_PER_INSTANCE`] live),
    /// with the callback id each calls.
    connections: Vec<Connection>,
    /// The `SceneTreeTimer`s the mod made (released when the instance ends).
    timers: OwnedTimers,
    /// The objects the mod created (`created.rs`; freed when the instance ends).
    created: CreatedObjects,
    /// What the mod draws on its CanvasItems (`drawing.rs`).
    drawing: DrawLists,
    callback_args: Vec<Variant>,
    /// Allowlist decisions per handle and member kind (cleared when a handle is released or
    /// the allowlist changes).
    decisions: DecisionCache<MemberKind>,
    /// How many handles were released so far (by the mod, or swept for freed objects; the
    /// group pass's cache looks at it).
    releases: u64,
    /// The handle count at which the handles of freed objects are next swept (see
    /// [`InstanceObjects::sweep_freed`]).
    sweep_at: usize,
    /// What Godot logged for the mod's calls this second, all its instances together
    /// (`log_gate.rs`).
    godot_errors: log_gate::Allowance,
    /// The loops, speed and tweeners of the tweens the mod changed (`tweens.rs`).
    tween_plans: HashMap<InstanceId, ModTween>,
    /// The game's nodes the mod's tweens animate (below level 3), by tween: a tween whose
    /// target the game moves out of the mod's reach is killed ([`sweep_tween_targets`]), as a
    /// handle to it answers -1 at its next use.
    tween_targets: HashMap<InstanceId, Vec<InstanceId>>,
    /// The mod's own nodes its tweens animate, by tween: a node the game adopts joins
    /// `tween_targets` then (an adopted node is the game's, and a tween of it is killed once
    /// the game moves it out of the mod's reach, as for any game node).
    own_tween_targets: HashMap<InstanceId, Vec<InstanceId>>,
    /// The values the mod gave ranged properties that have a `total`, by object and property.
    work: HashMap<(InstanceId, String), f64>,
}

/// Whether a method only reads (by Godot's naming: `get_*`, `has_*`, `is_*`, `can_*`,
/// `sample*`): such calls on the game's resources are allowed; any other call changes them.
fn reads_only(method: &str) -> bool {
    ["get_", "has_", "is_", "can_", "sample"]
        .iter()
        .any(|p| method.starts_with(p))
}

/// Whether `obj` is a RichTextLabel that parses BBCode in its text (a `[font_size=N]` tag makes
/// Godot keep a glyph cache per size, outside the font-size pool: 400 sizes took 825 MB).
fn bbcode_on(obj: &Gd<Object>) -> bool {
    obj.is_class("RichTextLabel") && obj.get("bbcode_enabled").try_to::<bool>().unwrap_or(false)
}

/// The node kinds whose `mesh` a mod sets counts against its triangles per frame.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DrawsMesh {
    /// A `CPUParticles3D`: its mesh, `amount` times.
    Particles,
    /// A `MeshInstance3D`: its mesh once.
    Instance,
}

/// The key under which the work table keeps what an object draws per frame (no property has
/// this name).
const TRIANGLES_MEMBER: &str = "<triangles per frame>";

/// The key under which the work table keeps how many frames a SpriteFrames holds.
const SPRITE_FRAMES_MEMBER: &str = "<sprite frames>";

/// The SpriteFrames methods that change how many frames it holds.
const SPRITE_FRAMES_METHODS: [&str; 5] = [
    "add_frame",
    "remove_frame",
    "clear",
    "remove_animation",
    "clear_all",
];

/// The most animation frames all of one mod's SpriteFrames may hold together (below level 3).
pub const MAX_MOD_SPRITE_FRAMES: f64 = 65_536.0;

/// How many frames `frames` (a SpriteFrames) holds over all its animations.
fn sprite_frames_of(frames: &Gd<Object>) -> f64 {
    let Ok(frames) = frames.clone().try_cast::<godot::classes::SpriteFrames>() else {
        return 0.0;
    };
    frames
        .get_animation_names()
        .as_slice()
        .iter()
        .map(|name| frames.get_frame_count(&StringName::from(name)) as f64)
        .sum()
}

/// What the mesh `value` (null or not a mesh: nothing) a mod sets on a node of `kind` counts
/// for against its triangles per frame, once per draw. Refused: a kind of mesh WasGo cannot
/// count, and on a `CPUParticles3D` (drawn once per particle every frame) a mesh of more than
/// [`wasgo_core::mesh_cost::PARTICLE_MESH_MAX_TRIANGLES`].
fn mesh_triangles_for(value: &Variant, kind: DrawsMesh) -> Result<u64, ObjectError> {
    let Ok(mesh) = value.try_to::<Gd<Mesh>>() else {
        return Ok(0);
    };
    let class = mesh.get_class().to_string();
    let refuse = |message: String| {
        Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            message,
        ))
    };
    let what = match kind {
        DrawsMesh::Particles => "CPUParticles3D.mesh",
        DrawsMesh::Instance => "MeshInstance3D.mesh",
    };
    let Some(triangles) = mesh_triangles(&mesh) else {
        return refuse(wasgo_core::mesh_cost::uncounted_mesh_refusal(what, &class));
    };
    if kind == DrawsMesh::Particles {
        if let Some(message) = wasgo_core::mesh_cost::particle_mesh_refusal(&class, triangles) {
            return refuse(message);
        }
    }
    Ok(triangles)
}

/// The triangles `mesh` counts for against the mod's triangles per frame: a `SphereMesh` from its
/// segments (at least at what a mod may make of it later), an `ArrayMesh` from its surfaces'
/// lengths, another `PrimitiveMesh` from the arrays Godot makes to draw it (their segments are
/// not a mod's to set: only the game's own can be large); `None` for other meshes.
fn mesh_triangles(mesh: &Gd<Mesh>) -> Option<u64> {
    if let Ok(sphere) = mesh.clone().try_cast::<SphereMesh>() {
        return Some(wasgo_core::mesh_cost::counted_sphere_triangles(
            sphere.get_radial_segments() as i64,
            sphere.get_rings() as i64,
        ));
    }
    if let Ok(array_mesh) = mesh.clone().try_cast::<ArrayMesh>() {
        let triangles = (0..array_mesh.get_surface_count())
            .map(|i| {
                let indices = array_mesh.surface_get_array_index_len(i);
                let vertices = array_mesh.surface_get_array_len(i);
                let drawn = (if indices > 0 { indices } else { vertices }).max(0) as u64;
                let strip =
                    array_mesh.surface_get_primitive_type(i) == PrimitiveType::TRIANGLE_STRIP;
                wasgo_core::mesh_cost::surface_triangles(drawn, strip)
            })
            .sum();
        return Some(triangles);
    }
    let primitive = mesh.clone().try_cast::<PrimitiveMesh>().ok()?;
    let arrays = primitive.get_mesh_arrays();
    let count = |slot: ArrayType| {
        arrays
            .get(slot.ord() as usize)
            .map(|v| match v.get_type() {
                VariantType::PACKED_INT32_ARRAY => v.to::<PackedInt32Array>().len(),
                VariantType::PACKED_VECTOR3_ARRAY => v.to::<PackedVector3Array>().len(),
                _ => 0,
            })
            .unwrap_or(0)
    };
    let indices = count(ArrayType::INDEX);
    let used = if indices > 0 {
        indices
    } else {
        count(ArrayType::VERTEX)
    };
    Some(used as u64 / 3)
}

/// Below level 3, the refusal of a member that reads or writes a secret `LineEdit`'s text
/// (`wasgo_core::typing`).
fn refuse_secret_text(
    level: SafetyLevel,
    obj: &Gd<Object>,
    member: &[u8],
) -> Result<(), ObjectError> {
    if level != SafetyLevel::Unsafe
        && wasgo_core::typing::is_secret_text_member(member)
        && crate::typing::is_secret_field(obj)
    {
        return Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            wasgo_core::typing::secret_refusal(&String::from_utf8_lossy(member)),
        ));
    }
    Ok(())
}

/// The refusal of a member that would hide the text field the player types in or take its focus
/// away (`crate::typing::refuse_ending_focus`); the caller checks the level.
fn refuse_ending_focus(obj: &Gd<Object>, member: &[u8]) -> Result<(), ObjectError> {
    crate::typing::refuse_ending_focus(obj, &String::from_utf8_lossy(member))
        .map_err(|message| ObjectError::failed(ErrorCode::InvalidArgument.code(), message))
}

/// What a mod's signal connection delivers to (the Callable `wasgo.connect` connects): plain
/// data, so the Callable may be called on any thread.
#[derive(Clone, Copy)]
struct SignalCallback {
    key: InstanceKey,
    callback_id: i32,
    /// The `LineEdit` whose text signal this is (below level 3): its text is blanked while it
    /// is secret (`wasgo_core::typing`).
    secret_source: Option<InstanceId>,
}

impl SignalCallback {
    /// The signal was emitted: its arguments go to the mod's outbox. A signal the game emitted on
    /// another thread is delivered from the main thread (the mod's tables live there), at the end
    /// of the frame; before, it was dropped without a word.
    fn emitted(self, args: &[&Variant]) {
        if !godot::init::is_main_thread() {
            let args: Vec<Variant> = args.iter().map(|v| (*v).clone()).collect();
            Callable::from_sync_fn(
                "wasgo_native_callback_from_thread",
                move |args: &[&Variant]| {
                    self.deliver(args);
                    Variant::nil()
                },
            )
            .call_deferred(&args);
            return;
        }
        self.deliver(args);
    }

    fn deliver(self, args: &[&Variant]) {
        let mut args: Vec<Variant> = args.iter().map(|v| (*v).clone()).collect();
        if let Some(id) = self.secret_source {
            let secret = Gd::<Object>::try_from_instance_id(id)
                .is_ok_and(|o| crate::typing::is_secret_field(&o));
            if secret {
                wasgo_core::typing::blank_secret_text(
                    &mut args,
                    |v| v.get_type() == VariantType::STRING,
                    || GString::new().to_variant(),
                );
            }
        }
        let callback_id = self.callback_id;
        post(self.key, |o| o.callbacks.push((callback_id, args)));
    }
}

/// Handles an instance holds before the first sweep of freed objects' handles.
const SWEEP_FLOOR: usize = 4096;

impl InstanceObjects {
    fn new(
        script: InstanceId,
        script_node: Option<Gd<Node>>,
        godot_errors: log_gate::Allowance,
    ) -> InstanceObjects {
        InstanceObjects {
            script,
            script_node,
            level: SafetyLevel::Safe,
            slots: HandleTable::default(),
            connections: Vec::new(),
            timers: OwnedTimers::default(),
            created: CreatedObjects::default(),
            drawing: DrawLists::default(),
            callback_args: Vec::new(),
            decisions: DecisionCache::default(),
            releases: 0,
            sweep_at: SWEEP_FLOOR,
            godot_errors,
            tween_plans: HashMap::new(),
            tween_targets: HashMap::new(),
            own_tween_targets: HashMap::new(),
            work: HashMap::new(),
        }
    }

    /// The handle for `obj`, reusing an existing one; 0 (null) for what the mod may not reach
    /// (inside Arrays and Dictionaries a refused object becomes null).
    pub fn handle_of(&mut self, obj: &Gd<Object>) -> i32 {
        self.handle_for(obj).unwrap_or(0)
    }

    /// The handle for `obj`, reusing an existing one: the one place handles are made, so the
    /// one place reach is checked. WasGo's own UI is refused at every level.
    ///
    /// # Errors
    /// Why the mod may not hold it.
    pub fn handle_for(&mut self, obj: &Gd<Object>) -> Result<i32, reach::Refused> {
        self.make_handle(obj, None)
    }

    /// Keeps a tween's plan after a call Godot accepted; forgets the plans of freed tweens
    /// when many were kept (a mod may make tweens without end, one at a time).
    fn remember_tween_plan(&mut self, tween: InstanceId, plan: ModTween) {
        if self.tween_plans.len() >= MAX_TWEEN_PLANS && !self.tween_plans.contains_key(&tween) {
            forget_freed(&mut self.tween_plans, |id| *id);
        }
        self.tween_plans.insert(tween, plan);
    }

    /// The mod's node, unless it was freed.
    fn script_node(&self) -> Option<Gd<Node>> {
        valid_script_node(&self.script_node, self.script)
    }

    /// [`InstanceObjects::handle_for`] a node already known as one (no class check for it).
    ///
    /// # Errors
    /// Why the mod may not hold it.
    pub fn handle_for_node(&mut self, node: &Gd<Node>) -> Result<i32, reach::Refused> {
        self.make_handle(&node.clone().upcast(), Some(node.clone()))
    }

    /// The handle for `obj`, which is `known_node` when the caller knows it as a `Node`.
    fn make_handle(
        &mut self,
        obj: &Gd<Object>,
        known_node: Option<Gd<Node>>,
    ) -> Result<i32, reach::Refused> {
        let id = obj.instance_id();
        if let Some(h) = self.slots.find(id) {
            self.in_reach(h).map_err(reach::Refused::Outside)?;
            return Ok(h);
        }
        if own_ui::contains(obj) {
            return Err(reach::Refused::Outside(reach::Outside::OwnUi));
        }
        // Each cast is a class-name comparison in Godot: a node gets at most the one cast its
        // class needs (`node_kind`), anything else is asked only whether it is ref-counted (no
        // node is).
        let as_node = known_node.or_else(|| obj.clone().try_cast::<Node>().ok());
        // The mod's own objects are exempt from reach (also before they are in the tree).
        let node = as_node.clone().filter(|_| !self.created.owns(id));
        let stamp = match &node {
            Some(n) => reach::check(self.level, || self.script_node(), n)
                .map_err(reach::Refused::Outside)?,
            None => 0,
        };
        let class = StringName::from(&obj.get_class());
        let (typed, strong) = match &as_node {
            // The one cast the class needs (a plain node needs none).
            Some(n) => {
                let typed = match node_kind(&class) {
                    NodeKind::Node2D => n.clone().try_cast::<Node2D>().ok().map(Typed::Node2D),
                    NodeKind::Node3D => n.clone().try_cast::<Node3D>().ok().map(Typed::Node3D),
                    NodeKind::Plain => None,
                };
                (typed.unwrap_or(Typed::Other), None)
            }
            None => (Typed::Other, obj.clone().try_cast::<RefCounted>().ok()),
        };
        let slot = Slot {
            obj: obj.clone(),
            _strong: strong,
            class,
            typed,
            props: Vec::new(),
            props_generation: 0,
            node,
            reach: Cell::new(stamp),
        };
        if self.slots.len() >= self.sweep_at {
            self.sweep_freed();
        }
        // A full table (a million live handles) is refused.
        self.slots
            .insert_with(id, || slot)
            .map_err(|_| reach::Refused::Full)
    }

    /// Refuses (below level 3) changing a resource (any ref-counted object) the mod did not
    /// create: the game's resources are shared by every node that uses them, inside the mod's
    /// reach or not, and loaded ones stay cached for later scenes (setting an in-reach label's
    /// `label_settings.font_color` hid the text of labels outside reach). `what` says what the
    /// mod tried.
    fn refuse_shared_write(
        &self,
        level: SafetyLevel,
        handle: i32,
        what: impl FnOnce() -> String,
    ) -> Result<(), ObjectError> {
        if level == SafetyLevel::Unsafe {
            return Ok(());
        }
        let Ok(slot) = self.slots.get(handle) else {
            return Ok(()); // the caller answers the bad handle
        };
        if slot._strong.is_none() || self.created.owns(slot.obj.instance_id_unchecked()) {
            return Ok(());
        }
        Err(shared_write_refusal(&what(), &slot.class))
    }

    /// The tweener steps per second this instance's looping tweens still running make Godot
    /// run, but for the tween `except`.
    fn looping_steps(&self, except: Option<InstanceId>) -> f64 {
        self.tween_plans
            .iter()
            .filter(|(id, other)| {
                Some(**id) != except
                    && other.plan.steps_per_second() > 0.0
                    && Gd::<godot::classes::Tween>::try_from_instance_id(**id)
                        .is_ok_and(|t| t.is_valid())
            })
            .map(|(_, other)| other.plan.steps_per_second())
            .sum()
    }

    /// Refuses (below level 3) changing the bounds or the mode of a game's control: a slider's
    /// `min_value`/`max_value` widened to 1e30 let a mod set `value` past what the game's own
    /// handler expects (a volume slider's `linear_to_db(value)` at hundreds of decibels), and
    /// a plain button made a toggle emits `toggled` for the player. The mod's own controls
    /// take them.
    fn refuse_game_control_bounds(
        &self,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<(), ObjectError> {
        if level == SafetyLevel::Unsafe || !GAME_CONTROL_BOUNDS.contains(&name) {
            return Ok(());
        }
        let Ok(slot) = self.slots.get(handle) else {
            return Ok(()); // the caller answers the bad handle
        };
        if self.created.owns(slot.obj.instance_id_unchecked()) || !slot.obj.is_class("Control") {
            return Ok(());
        }
        Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            format!(
                "`{}` of the game's `{}` is the game's to set: it bounds what the player's control takes (a mod sets `value` within it, or makes its own control with `wasgo.new`)",
                String::from_utf8_lossy(name),
                slot.class
            ),
        ))
    }

    /// Below level 3 a mod's own collision objects stay out of Godot's object picking (as its
    /// Controls let the mouse through, `created.rs`): a pickable area of its own, huge and on
    /// top (2D, sorted by z-index) or in front of the camera (3D), took every click the game's
    /// physics picking hands out. The game's own objects keep what the allowlist gives.
    fn refuse_own_pickable(
        &self,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<(), ObjectError> {
        if level == SafetyLevel::Unsafe
            || !matches!(name, b"input_pickable" | b"input_ray_pickable")
        {
            return Ok(());
        }
        let Ok(slot) = self.slots.get(handle) else {
            return Ok(()); // the caller answers the bad handle
        };
        if !self.created.owns(slot.obj.instance_id_unchecked()) {
            return Ok(());
        }
        Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            format!(
                "a mod's own collision objects are not pickable: `{}` cannot be set on its `{}` (the mod reads the pointer through its `input` export)",
                String::from_utf8_lossy(name),
                slot.class
            ),
        ))
    }

    /// Releases the handles of objects the game freed. A mod need not release a node's handle
    /// (a `process_group` pass hands out one per member and says not to), so a group whose
    /// nodes come and go (bullets) filled the table for good: a slot per node that ever
    /// joined, then -7 for every new one. Done when the table has doubled since the last sweep,
    /// so its cost is spread over the handles made; the numbers released answer -4 (their
    /// slots come back under new numbers).
    fn sweep_freed(&mut self) {
        let dead = self
            .slots
            .dead_handles(|slot| slot._strong.is_none() && !slot.obj.is_instance_valid());
        for handle in dead {
            self.release(handle);
        }
        self.sweep_at = (self.slots.len() * 2).clamp(SWEEP_FLOOR, wasgo_core::handles::MAX_HANDLES);
    }

    /// How many handles the mod has released (see the field).
    pub fn releases(&self) -> u64 {
        self.releases
    }

    /// The handle for the live object with id `id`, made as [`InstanceObjects::handle_for`]
    /// makes one (the table keeps one handle per object, so it is the handle `get_node` gives
    /// and the same every time); `None` for an object that was freed or that the mod may not
    /// reach. When the mod already holds the handle this is one table lookup, one validity check
    /// and the reach stamp: the per-node step of a `process_group` pass (`script_group.rs`).
    pub fn handle_for_id(&mut self, id: InstanceId) -> Option<i32> {
        if let Some(h) = self.slots.find(id) {
            let slot = self.slots.get(h).ok()?;
            if !slot.obj.is_instance_valid() {
                return None;
            }
            return self.in_reach(h).ok().map(|()| h);
        }
        let obj = Gd::<Object>::try_from_instance_id(id).ok()?;
        self.handle_for(&obj).ok()
    }

    /// Whether the node behind a live `handle` is still inside the mod's reach (re-decided
    /// only when the tree changed since it last was).
    fn in_reach(&self, handle: i32) -> Result<(), reach::Outside> {
        match self.slots.get(handle) {
            Ok(Slot {
                node: Some(node),
                reach,
                ..
            }) => reach::stamp(reach, self.level, || self.script_node(), node),
            _ => Ok(()),
        }
    }

    /// The object behind a handle; -4 if the handle is unknown or its object was freed, -1 if
    /// its node left the mod's reach.
    pub fn object(&self, handle: i32) -> Result<Gd<Object>, ObjectError> {
        let slot = self.slot(handle)?;
        if !slot.obj.is_instance_valid() {
            return Err(freed(handle));
        }
        self.in_reach(handle)
            .map_err(|r| reach::left_reach(handle, r))?;
        Ok(slot.obj.clone())
    }

    fn slot(&self, handle: i32) -> Result<&Slot, ObjectError> {
        self.slots.get(handle).map_err(handle_error)
    }

    /// Whether `member` may be reached on the object behind `handle` (cached per handle).
    fn allowed(
        &mut self,
        handle: i32,
        level: SafetyLevel,
        kind: MemberKind,
        member: &str,
    ) -> Result<(), ObjectError> {
        if level == SafetyLevel::Unsafe {
            return Ok(());
        }
        self.slot(handle)?;
        let slots = &self.slots;
        let ok = self
            .decisions
            .decide(allowlist_generation(), handle, kind, member, || {
                slots
                    .get(handle)
                    .is_ok_and(|s| check(&s.class, level, kind, member).is_ok())
            });
        if ok {
            Ok(())
        } else {
            let class = &self.slot(handle)?.class;
            Err(ObjectError::Denied {
                member: format!("{class}.{member}"),
            })
        }
    }

    /// The live slot behind `handle` and the index of its cached entry for property `name`
    /// (made on first use). Denied properties answer `Denied`; freed objects -4.
    fn prop(
        &mut self,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<(&mut Slot, usize), ObjectError> {
        let generation = allowlist_generation();
        let slot = self.slots.get_mut(handle).map_err(handle_error)?;
        // First: the checks below ask the object (its property list) when the name is new.
        if !slot.obj.is_instance_valid() {
            return Err(freed(handle));
        }
        if slot.props_generation != generation {
            slot.props.clear();
            slot.props_generation = generation;
        }
        let index = match slot.props.iter().position(|p| p.name.is(name)) {
            Some(i) => i,
            None => {
                let name = wasgo_core::objects::utf8_name(name)?;
                // Below level 3 a name holds no control or invisible formatting character (the
                // README's "Names and paths"): -3, not a denial of a member nobody lists.
                if level != SafetyLevel::Unsafe {
                    let what = || "the property name".to_string();
                    if let Some(refused) =
                        wasgo_core::objects::hidden_text_refusal(name, true, what)
                    {
                        return Err(refused);
                    }
                }
                // Level 3 reaches any name, so a typo was set without a word (Godot's `set`
                // ignores a name the object does not have) and a mod got 0: -1, as at the
                // other levels. Not kept: the name is looked up again at its next use (a script
                // may give the object that property later). `metadata/...` makes a new entry.
                if level == SafetyLevel::Unsafe
                    && !name.starts_with("metadata/")
                    && !has_property(&slot.obj, name)
                {
                    return Err(ObjectError::failed(
                        ErrorCode::NotFound.code(),
                        format!("there is no property `{}.{name}`", slot.class),
                    ));
                }
                let allowed = level == SafetyLevel::Unsafe
                    || check(&slot.class, level, MemberKind::Property, name).is_ok();
                let range = if allowed {
                    property_range(&slot.class, level, name)
                } else {
                    None
                };
                let missing = !allowed && !has_property(&slot.obj, name);
                let takes_name = allowed
                    && level != SafetyLevel::Unsafe
                    && crate::name_params::property_takes_name(&slot.class, name);
                let takes_text = allowed
                    && level != SafetyLevel::Unsafe
                    && crate::name_params::property_takes_text(&slot.class, name);
                let entry = PropEntry {
                    name: KeptName::new(name.as_bytes()),
                    allowed,
                    missing,
                    sname: name_arg(name)?,
                    hot: Hot::of(name),
                    secret_text: wasgo_core::typing::is_secret_text_member(name.as_bytes()),
                    ends_focus: wasgo_core::typing::ends_focus(name.as_bytes()),
                    range,
                    takes_name,
                    takes_text,
                };
                if slot.props.len() >= MAX_CACHED_PROPS {
                    slot.props.remove(0);
                }
                slot.props.push(entry);
                slot.props.len() - 1
            }
        };
        if !slot.props[index].allowed {
            let member = format!("{}.{}", slot.class, String::from_utf8_lossy(name));
            if slot.props[index].missing {
                return Err(ObjectError::failed(
                    ErrorCode::NotFound.code(),
                    format!("there is no property `{member}`"),
                ));
            }
            return Err(ObjectError::Denied { member });
        }
        if let Some(node) = &slot.node {
            // The fields, not `self`: `slot` borrows the table.
            reach::stamp(
                &slot.reach,
                level,
                || valid_script_node(&self.script_node, self.script),
                node,
            )
            .map_err(|r| reach::left_reach(handle, r))?;
        }
        Ok((slot, index))
    }

    /// `wasgo.set` and its fast paths: the allowlist, then a typed setter for the hot
    /// properties of Node2D and Node3D, else `Object.set`.
    pub fn set_property(
        &mut self,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
        value: &WireVariant,
    ) -> Result<(), ObjectError> {
        self.refuse_shared_write(level, handle, || {
            format!("set `{}`", String::from_utf8_lossy(name))
        })?;
        self.refuse_game_control_bounds(level, handle, name)?;
        self.refuse_own_pickable(level, handle, name)?;
        let (slot, index) = self.prop(level, handle, name)?;
        if slot.props[index].takes_text && wasgo_core::variant::is_container(value) {
            return Err(crate::name_params::container_to_text_refusal(&format!(
                "`{}.{}`",
                slot.class,
                String::from_utf8_lossy(name)
            )));
        }
        if let (true, WireVariant::String(text)) = (slot.props[index].takes_name, value) {
            let what = || {
                format!(
                    "the value set to `{}.{}` (a name)",
                    slot.class,
                    String::from_utf8_lossy(name)
                )
            };
            if let Some(refused) = wasgo_core::objects::hidden_text_refusal(text, true, what) {
                return Err(refused);
            }
        }
        if slot.props[index].secret_text {
            refuse_secret_text(level, &slot.obj, name)?;
        }
        if slot.props[index].ends_focus && level != SafetyLevel::Unsafe {
            refuse_ending_focus(&slot.obj, name)?;
        }
        if level != SafetyLevel::Unsafe && name == b"name" && slot.obj.is_class("WasmScript") {
            // A mod renaming its own node to another mod's name (after renaming that one)
            // would take its place wherever the game finds mods by name (`$Mods.get_node(id)`
            // to grant a permission) and in WasGo's messages naming nodes. A name it already
            // has changes nothing; a value that is no name is refused below like any.
            let renames = match value {
                WireVariant::String(new) | WireVariant::StringName(new) => {
                    *new != slot.obj.get("name").to_string()
                }
                _ => false,
            };
            if renames {
                return Err(ObjectError::failed(
                    ErrorCode::InvalidArgument.code(),
                    "a mod may not rename a `WasmScript` node (its own or another mod's): the game tells mods apart by their nodes' names".to_string(),
                ));
            }
        }
        if level != SafetyLevel::Unsafe && name == b"text" && bbcode_on(&slot.obj) {
            return Err(ObjectError::failed(
                ErrorCode::InvalidArgument.code(),
                "`RichTextLabel.text` cannot be set while the label's `bbcode_enabled` is on: its tags (`[font_size]`, `[img]`, `[url]`) would reach past every limit WasGo keeps; the game turns BBCode off for a label mods write".to_string(),
            ));
        }
        if value.as_str().is_some()
            && level != SafetyLevel::Unsafe
            && slot.props[index].range.is_none()
        {
            let what = || format!("{}.{}", slot.class, String::from_utf8_lossy(name));
            if let Some(refused) = wasgo_core::objects::unranged_text_refusal(value, what) {
                return Err(refused);
            }
        }
        if let Some(range) = slot.props[index].range {
            let what = format!("{}.{}", slot.class, String::from_utf8_lossy(name));
            let target = (slot.obj.clone(), slot.props[index].sname.clone());
            return self.set_ranged(name, value, range, target, &what);
        }
        let draws_mesh = if level != SafetyLevel::Unsafe && name == b"mesh" {
            if slot.obj.is_class("CPUParticles3D") {
                Some(DrawsMesh::Particles)
            } else if slot.obj.is_class("MeshInstance3D") {
                Some(DrawsMesh::Instance)
            } else {
                None
            }
        } else {
            None
        };
        let hot = slot.props[index].hot;
        let handled = match (&mut slot.typed, hot, value) {
            (
                Typed::Node2D(node),
                Hot::Position,
                WireVariant::Vector2(wasgo_core::variant::Vector2 { x, y }),
            ) => {
                node.set_position(Vector2::new(*x, *y));
                true
            }
            (
                Typed::Node2D(node),
                Hot::GlobalPosition,
                WireVariant::Vector2(wasgo_core::variant::Vector2 { x, y }),
            ) => {
                node.set_global_position(Vector2::new(*x, *y));
                true
            }
            (
                Typed::Node2D(node),
                Hot::Scale,
                WireVariant::Vector2(wasgo_core::variant::Vector2 { x, y }),
            ) => {
                node.set_scale(Vector2::new(*x, *y));
                true
            }
            (Typed::Node2D(node), Hot::Rotation, WireVariant::Float(r)) => {
                node.set_rotation(*r as f32);
                true
            }
            (
                Typed::Node3D(node),
                Hot::Position,
                WireVariant::Vector3(wasgo_core::variant::Vector3 { x, y, z }),
            ) => {
                node.set_position(Vector3::new(*x, *y, *z));
                true
            }
            (
                Typed::Node3D(node),
                Hot::GlobalPosition,
                WireVariant::Vector3(wasgo_core::variant::Vector3 { x, y, z }),
            ) => {
                node.set_global_position(Vector3::new(*x, *y, *z));
                true
            }
            (
                Typed::Node3D(node),
                Hot::Scale,
                WireVariant::Vector3(wasgo_core::variant::Vector3 { x, y, z }),
            ) => {
                node.set_scale(Vector3::new(*x, *y, *z));
                true
            }
            (
                Typed::Node3D(node),
                Hot::Rotation,
                WireVariant::Vector3(wasgo_core::variant::Vector3 { x, y, z }),
            ) => {
                node.set_rotation(Vector3::new(*x, *y, *z));
                true
            }
            _ => false,
        };
        if handled {
            return Ok(());
        }
        let mut obj = slot.obj.clone();
        let sname = slot.props[index].sname.clone();
        let value = from_wire(value, self)?;
        let counted = match draws_mesh {
            Some(kind) => {
                let triangles = mesh_triangles_for(&value, kind)?;
                let amount = match kind {
                    DrawsMesh::Particles => obj.get("amount").try_to::<i64>().unwrap_or(1),
                    DrawsMesh::Instance => 1,
                };
                let what = format!("{}.mesh", obj.get_class());
                Some(self.admit_triangles(obj.instance_id(), triangles, amount, &what)?)
            }
            None => None,
        };
        let id = obj.instance_id();
        // A script's setter may free the object: nothing of it is asked after the set.
        obj.set(&sname, &value);
        if let Some(drawn) = counted {
            self.note_work(TRIANGLES_MEMBER.to_string(), id, drawn as f64);
        }
        Ok(())
    }

    /// What `object` would draw per frame with a mesh of `triangles` `amount` times, if the
    /// mod's meshes may draw that much with it
    /// ([`wasgo_core::mesh_cost::MOD_TRIANGLES_PER_FRAME`]).
    fn admit_triangles(
        &mut self,
        object: InstanceId,
        triangles: u64,
        amount: i64,
        what: &str,
    ) -> Result<u64, ObjectError> {
        let drawn = triangles.saturating_mul(amount.max(0) as u64);
        self.admit_work(TRIANGLES_MEMBER, object, drawn as f64, |sum| {
            wasgo_core::mesh_cost::frame_triangles_refusal(what, sum as u64)
        })?;
        Ok(drawn)
    }

    /// A property with a range in the allowlist, on `target` (the object and the property's
    /// name; `what` reads `Class.property` for messages): the value is checked against the
    /// range and, with a `total`, against what the mod gave the property on its other objects,
    /// then set.
    fn set_ranged(
        &mut self,
        name: &[u8],
        value: &WireVariant,
        range: ValueRange,
        target: (Gd<Object>, StringName),
        what: &str,
    ) -> Result<(), ObjectError> {
        let (mut obj, sname) = target;
        let id = obj.instance_id();
        let refuse =
            |message: String| ObjectError::failed(ErrorCode::InvalidArgument.code(), message);
        let measured = range
            .check(what, wasgo_core::variant::range_value(value))
            .map_err(refuse)?;
        // An array's size is its element count, but Godot turns an array given to a text
        // property into the text of all its elements: one element could hold any length.
        if range.kind == RangeKind::Size
            && !wasgo_core::variant::is_text(value)
            && crate::convert::is_text_type(obj.get(&sname).get_type())
        {
            return Err(refuse(format!(
                "`{what}` is a text: pass a String, not an array or another kind of value (Godot would turn it into a text its range does not measure)"
            )));
        }
        let member = String::from_utf8_lossy(name).into_owned();
        admit_distinct(&range, what, measured)?;
        if let Some(total) = range.total {
            self.admit_work(&member, id, measured, |sum| {
                (sum > total).then(|| range.over_total(what, sum))
            })?;
        }
        // A particle node's amount multiplies what its mesh draws.
        let particles = (name == b"amount" && obj.is_class("CPUParticles3D"))
            .then(|| {
                // A mesh WasGo cannot count (only the game can have put one there) counts 0.
                let mesh = obj.get("mesh").try_to::<Gd<Mesh>>().ok();
                let triangles = mesh.as_ref().and_then(mesh_triangles).unwrap_or(0);
                self.admit_triangles(id, triangles, measured as i64, what)
            })
            .transpose()?;
        let value = from_wire(value, self)?;
        obj.set(&sname, &value);
        if let Some(drawn) = particles {
            self.note_work(TRIANGLES_MEMBER.to_string(), id, drawn as f64);
        }
        if range.total.is_some() {
            self.note_work(member, id, measured);
        }
        Ok(())
    }

    /// Counts a new object's own values of the members whose range has a per-mod total (a new
    /// GradientTexture1D is 256 wide before any `set`: a thousand of them were 16 times the
    /// documented total, each rebuilt whenever their Gradient changed). Refused (-3, nothing
    /// counted) when one would pass its total.
    fn charge_defaults(&mut self, obj: &Gd<Object>) -> Result<(), ObjectError> {
        let chain = class_chain(&StringName::from(&obj.get_class()));
        let totals =
            with_objects(|o| o.allowlist.borrow().property_totals(&chain)).unwrap_or_default();
        let id = obj.instance_id();
        let mut counted = Vec::new();
        for (member, range) in totals {
            let Some(measured) = measure_default(&obj.get(member.as_str())) else {
                continue;
            };
            let what = format!(
                "`wasgo.new(\"{}\")`",
                chain.first().map_or("", |c| c.as_str())
            );
            self.admit_work(&member, id, measured, |sum| {
                (sum > range.total.unwrap_or(f64::INFINITY)).then(|| {
                    format!(
                        "{what} refused: its `{member}` of {measured} would take this mod's values of `{member}` to {sum}, over the {} one mod may give it over all its objects (the allowlist's `ranges`); lower it on other objects first or free some",
                        range.total.unwrap_or(f64::INFINITY)
                    )
                })
            })?;
            counted.push((member, measured));
        }
        for (member, measured) in counted {
            self.note_work(member, id, measured);
        }
        Ok(())
    }

    /// Admits `measured` as `object`'s value of the work table's `member` if `refusal` (given
    /// the sum with the mod's other objects) has nothing against it; objects freed since count
    /// no more.
    fn admit_work(
        &mut self,
        member: &str,
        object: InstanceId,
        measured: f64,
        refusal: impl Fn(f64) -> Option<String>,
    ) -> Result<(), ObjectError> {
        let mut sum = self.work_sum(member, object) + measured;
        if refusal(sum).is_some() {
            forget_freed(&mut self.work, |(obj, _)| *obj);
            sum = self.work_sum(member, object) + measured;
        }
        match refusal(sum) {
            None => Ok(()),
            Some(message) => Err(ObjectError::failed(
                ErrorCode::InvalidArgument.code(),
                message,
            )),
        }
    }

    /// For a call of `method` (one of [`SPRITE_FRAMES_METHODS`]) on the SpriteFrames `obj`:
    /// the frames it will hold after an `add_frame` (refused, -3, when all of the mod's
    /// SpriteFrames would hold more than [`MAX_MOD_SPRITE_FRAMES`]), or its count now for a
    /// call that may remove frames.
    fn sprite_frames_after(&mut self, obj: &Gd<Object>, method: &str) -> Result<f64, ObjectError> {
        let id = obj.instance_id();
        let now = match self.work.get(&(id, SPRITE_FRAMES_MEMBER.to_string())) {
            Some(n) => *n,
            None => sprite_frames_of(obj),
        };
        if method != "add_frame" {
            return Ok(now);
        }
        let after = now + 1.0;
        self.admit_work(SPRITE_FRAMES_MEMBER, id, after, |sum| {
            (sum > MAX_MOD_SPRITE_FRAMES).then(|| {
                format!(
                    "`SpriteFrames.add_frame` refused: this mod's SpriteFrames would hold {sum} frames together, over {MAX_MOD_SPRITE_FRAMES} (remove frames or SpriteFrames it no longer uses)"
                )
            })
        })?;
        Ok(after)
    }

    /// Records `measured` as `object`'s value of `member` once it was set. Bounded: nothing is
    /// kept for a value of 0, and freed objects' entries go once many were kept (a mod may make
    /// and free objects without end).
    fn note_work(&mut self, member: String, object: InstanceId, measured: f64) {
        if self.work.len() >= MAX_WORK_ENTRIES {
            forget_freed(&mut self.work, |(obj, _)| *obj);
        }
        if measured > 0.0 {
            self.work.insert((object, member), measured);
        } else {
            self.work.remove(&(object, member));
        }
    }

    /// What the mod gave `member` on its objects other than `except` (the ranges' totals).
    fn work_sum(&self, member: &str, except: InstanceId) -> f64 {
        self.work
            .iter()
            .filter(|((obj, m), _)| m == member && *obj != except)
            .map(|(_, v)| v)
            .sum()
    }

    /// `wasgo.get` and its fast paths.
    pub fn get_property(
        &mut self,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<WireVariant, ObjectError> {
        let (slot, index) = self.prop(level, handle, name)?;
        if slot.props[index].secret_text {
            refuse_secret_text(level, &slot.obj, name)?;
        }
        match (&slot.typed, slot.props[index].hot) {
            (Typed::Node2D(node), Hot::Position) => {
                let p = node.get_position();
                return Ok(WireVariant::Vector2(wasgo_core::variant::Vector2::new(
                    p.x, p.y,
                )));
            }
            (Typed::Node3D(node), Hot::Position) => {
                let p = node.get_position();
                return Ok(WireVariant::Vector3(wasgo_core::variant::Vector3::new(
                    p.x, p.y, p.z,
                )));
            }
            _ => {}
        }
        let obj = slot.obj.clone();
        let sname = slot.props[index].sname.clone();
        let value = obj.get(&sname);
        // Godot answers null for a property an object does not have: at level 3, which reaches
        // any name, a null is looked into (below it the list names only real properties).
        // (A script's getter may have freed the object: then there is no list to look into.)
        if level == SafetyLevel::Unsafe
            && value.is_nil()
            && obj.is_instance_valid()
            && !has_property(&obj, &sname.to_string())
        {
            return Err(ObjectError::failed(
                ErrorCode::NotFound.code(),
                format!("there is no property `{}.{sname}`", obj.get_class()),
            ));
        }
        self.reply(&value, || format!("the value of `{sname}`"))
    }

    /// A value for the mod, where an object at the top must be one it may reach (-1 if not);
    /// inside Arrays and Dictionaries a refused object becomes null.
    fn reply(
        &mut self,
        value: &Variant,
        what: impl FnOnce() -> String,
    ) -> Result<WireVariant, ObjectError> {
        if value.get_type() == VariantType::OBJECT {
            if let Ok(Some(obj)) = value.try_to::<Option<Gd<Object>>>() {
                return self
                    .handle_for(&obj)
                    .map(WireVariant::Object)
                    .map_err(|r| r.into_error(&what()));
            }
        }
        to_wire(value, self)
    }

    fn release(&mut self, handle: i32) {
        if let Ok(slot) = self.slots.get(handle) {
            // The object may be gone (a freed node's handle): its id as last known.
            self.created
                .forget_resource(slot.obj.instance_id_unchecked());
        }
        if self.slots.release(handle).is_some() {
            self.decisions.forget(handle);
            self.releases += 1;
            handles_changed();
        }
    }

    /// Gives the owned object `id` to the game: from now on reach applies to it like to any
    /// game node. False when the instance does not own it.
    fn adopt(&mut self, id: InstanceId) -> bool {
        let adopted = self.created.adopt(id);
        if !adopted.is_empty() {
            // Reach now applies to them: a kept `get_node` answer may no longer hold.
            handles_changed();
        }
        // A tween of an adopted node is judged as one of any game node's from now on, at the
        // next frame's sweep even if the tree does not change before it (the game may have
        // moved the node out of reach before adopting it).
        let mut judged_now = false;
        for (tween, targets) in &self.own_tween_targets {
            for id in targets.iter().filter(|t| adopted.contains(t)) {
                let judged = self.tween_targets.entry(*tween).or_default();
                if !judged.contains(id) {
                    judged.push(*id);
                    judged_now = true;
                }
            }
        }
        if judged_now {
            TWEEN_SWEEP_GENERATION.store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
        }
        for id in &adopted {
            self.drawing.release_item(*id);
            if let Some(h) = self.slots.find(*id) {
                if let Ok(slot) = self.slots.get_mut(h) {
                    if !slot.obj.is_instance_valid() {
                        continue;
                    }
                    slot.node = slot.obj.clone().try_cast::<Node>().ok();
                    slot.reach.set(0);
                }
            }
        }
        !adopted.is_empty()
    }

    /// Refuses a new connection to `signal` (`name`) of `object` when [`MAX_CONNECTIONS_PER_INSTANCE`]
    /// of the instance's are live, or [`MAX_CONNECTIONS_PER_SIGNAL`] to that signal of that object
    /// (connections to objects since freed, or that the game disconnected, are dropped first).
    ///
    /// # Errors
    /// `ErrorCode::Busy` with a message naming the limit.
    fn check_connection_room(
        &mut self,
        object: InstanceId,
        signal: &StringName,
        name: &str,
    ) -> Result<(), ObjectError> {
        let same = |c: &&Connection| c.0 == object && c.1 == *signal;
        if self.connections.iter().filter(same).count() >= MAX_CONNECTIONS_PER_SIGNAL {
            self.connections.retain(connection_live);
            if self.connections.iter().filter(same).count() >= MAX_CONNECTIONS_PER_SIGNAL {
                return Err(ObjectError::failed(
                    ErrorCode::Busy.code(),
                    format!("`wasgo.connect` refused: this mod already has {MAX_CONNECTIONS_PER_SIGNAL} connections to `{name}` of this object, the most one mod may have to one signal (each is a call on every emission); connect once and share the callback"),
                ));
            }
        }
        if self.connections.len() >= MAX_CONNECTIONS_PER_INSTANCE {
            self.connections.retain(connection_live);
        }
        if self.connections.len() >= MAX_CONNECTIONS_PER_INSTANCE {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!("`wasgo.connect` refused: this mod already has {MAX_CONNECTIONS_PER_INSTANCE} signal connections, the most one mod may have; connect one handler to a signal and share it, or let objects you connected to go first"),
            ));
        }
        Ok(())
    }

    /// Disconnects what the mod connected, then makes the tree drop the timers it made.
    fn release_engine_objects(&mut self) {
        for (id, signal, callable, _) in self.connections.drain(..) {
            if let Ok(mut obj) = Gd::<Object>::try_from_instance_id(id) {
                if obj.is_connected(&signal, &callable) {
                    obj.disconnect(&signal, &callable);
                }
            }
        }
        self.timers.release_all();
        self.drawing.release_all();
        self.created.release_all();
    }
}

impl Handles for InstanceObjects {
    fn handle_of(&mut self, obj: &Gd<Object>) -> i32 {
        InstanceObjects::handle_of(self, obj)
    }

    fn object(&self, handle: i32) -> Result<Gd<Object>, ObjectError> {
        InstanceObjects::object(self, handle)
    }
}

/// What an instance's node must deliver: signals that fired for the mod and its `mod_event`s.
/// Kept apart from the object tables because signals fire in the middle of object calls.
#[derive(Default)]
pub struct Outbox {
    /// (callback id, signal arguments), in firing order.
    pub callbacks: DeliveryQueue<(i32, Vec<Variant>)>,
    /// `wasgo.emit` calls waiting to become `mod_event` signals, with what each takes of
    /// `mod_event_bytes`.
    pub mod_events: DeliveryQueue<(GString, Variant, usize)>,
    /// What `mod_events`' payloads take (see [`MAX_QUEUED_EVENT_BYTES`]).
    pub mod_event_bytes: usize,
}

/// The most bytes of `mod_event` payloads (`wasgo_core::variant::held_bytes`) one instance may have
/// waiting for delivery, beyond one payload of any size: past it `wasgo.emit` answers -7 until
/// the node has delivered them (after the mod's call returns). The queue's count alone let one
/// call queue seven 60 MiB payloads, half a gigabyte the game held for a mod of 64 MiB.
pub const MAX_QUEUED_EVENT_BYTES: usize = 16 << 20;

/// The members of a control that bound what the player's input takes, which a mod sets only on
/// its own controls below level 3 (see `InstanceObjects::refuse_game_control_bounds`).
const GAME_CONTROL_BOUNDS: [&[u8]; 3] = [b"min_value", b"max_value", b"toggle_mode"];

/// The object side's main-thread state (`state.rs`'s `objects` part; formerly the
/// thread-locals `INSTANCES`, `OUTBOX`, `ALLOWLIST` and `DECISIONS`).
pub struct ObjectsState {
    // Each table sits in its own RefCell so that Godot code run by one op (a setter, a method)
    // can use other instances' tables; the same instance cannot re-enter (its store is busy).
    instances: RefCell<FastMap<InstanceKey, Rc<RefCell<InstanceObjects>>>>,
    /// Tables of instances dropped while one of their calls held them (game code the call ran
    /// killed or freed the mod): their connections, timers and tweens are released as soon as
    /// the call lets go ([`release_waiting`]).
    waiting_release: RefCell<Vec<Rc<RefCell<InstanceObjects>>>>,
    outbox: RefCell<FastMap<InstanceKey, Outbox>>,
    allowlist: RefCell<Allowlist>,
    /// (class, kind, member) → allowed, for levels 1 and 2.
    decisions: RefCell<HashMap<(StringName, MemberKind, String), bool>>,
    /// Member names mods used, as StringNames (made once for every instance: making one
    /// takes Godot's global lock), within `TextCache::shared`'s bounds.
    names: RefCell<TextCache<StringName>>,
    /// Node paths mods looked up, parsed (parsing one makes a StringName per part, each under
    /// Godot's global lock; a `main` loop asks for the same path again and again, and every
    /// instance of a module asks for the paths the others asked for). A NodePath is a value:
    /// what it names is looked up and reach-checked at each use.
    paths: RefCell<TextCache<NodePath>>,
    /// The [`NodeKind`] of each node class a handle was made for (one entry per class: a
    /// `ClassDB` question instead of one or two class-name comparisons per new handle).
    node_kinds: RefCell<FastMap<StringName, NodeKind>>,
    /// The values mods gave `distinct` pools (font sizes), for the whole game.
    distinct: RefCell<DistinctPools>,
    /// Each instance's looping tweener steps per second as last counted (see
    /// [`looping_steps_elsewhere`]).
    looping_known: RefCell<FastMap<InstanceKey, f64>>,
}

impl Default for ObjectsState {
    fn default() -> Self {
        ObjectsState {
            instances: RefCell::default(),
            waiting_release: RefCell::default(),
            outbox: RefCell::default(),
            allowlist: RefCell::default(),
            decisions: RefCell::default(),
            names: RefCell::new(TextCache::shared()),
            paths: RefCell::new(TextCache::shared()),
            node_kinds: RefCell::default(),
            distinct: RefCell::default(),
            looping_known: RefCell::default(),
        }
    }
}

/// The StringName for a member name a mod passed (see `ObjectsState::names`).
fn member_name(name: &str) -> Result<StringName, ObjectError> {
    if let Some(kept) = with_objects(|o| o.names.borrow().get(name)).flatten() {
        return Ok(kept);
    }
    // Made outside the borrow (it calls into Godot).
    let made = name_arg(name)?;
    with_objects(|o| o.names.borrow_mut().keep(name, &made));
    Ok(made)
}

/// `path` as a NodePath (see `ObjectsState::paths`).
fn node_path(path: &str) -> NodePath {
    if let Some(kept) = with_objects(|o| o.paths.borrow().get(path)).flatten() {
        return kept;
    }
    let made = NodePath::from(path);
    with_objects(|o| o.paths.borrow_mut().keep(path, &made));
    made
}

impl Part for ObjectsState {}

/// Runs `f` with the object state; `None` when WasGo is stopped. `f` never runs Godot code.
/// The reach generation at the last [`sweep_tween_targets`].
static TWEEN_SWEEP_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Kills the mods' tweens whose game-node targets are no longer in their mod's reach (the game
/// moved or removed the node since `tween_property`), once per change of the tree: reach is
/// checked when a tween is made, and a looping tween kept animating a node the mod could no
/// longer reach. Called by the frame driver at the start of every frame.
pub fn sweep_tween_targets() {
    let generation = crate::reach::generation();
    if TWEEN_SWEEP_GENERATION.swap(generation, std::sync::atomic::Ordering::Relaxed) == generation {
        return;
    }
    // Only the tables that have targets (a table busy with a call is passed over: this runs
    // between calls, but never waits on one).
    let tables: Vec<Rc<RefCell<InstanceObjects>>> = with_objects(|o| {
        o.instances
            .borrow()
            .values()
            .filter(|t| t.try_borrow().is_ok_and(|t| !t.tween_targets.is_empty()))
            .cloned()
            .collect()
    })
    .unwrap_or_default();
    let mut to_kill = Vec::new();
    for table in tables {
        let Ok(mut objects) = table.try_borrow_mut() else {
            continue;
        };
        let level = objects.level;
        let script = valid_script_node(&objects.script_node, objects.script);
        let mut gone = Vec::new();
        for (tween, targets) in &objects.tween_targets {
            if Gd::<Object>::try_from_instance_id(*tween).is_err() {
                gone.push(*tween);
                continue;
            }
            let outside = targets.iter().any(|target| {
                Gd::<Node>::try_from_instance_id(*target)
                    .is_ok_and(|node| crate::reach::check(level, || script.clone(), &node).is_err())
            });
            if outside {
                gone.push(*tween);
                to_kill.push(*tween);
            }
        }
        for tween in gone {
            objects.tween_targets.remove(&tween);
        }
    }
    // With no table borrowed: killing a tween runs no game code, but nothing is held anyway.
    for tween in to_kill {
        if let Ok(tween) = Gd::<Object>::try_from_instance_id(tween) {
            tweens::kill(&tween);
        }
    }
}

thread_local! {
    /// Tweens mods made since the last [`kill_empty_tweens`] (instance, tween); `None` while no
    /// check is queued.
    static NEW_TWEENS: RefCell<Option<Vec<(InstanceKey, InstanceId)>>> = const { RefCell::new(None) };
}

/// A mod made `tween` (below level 3): checked once the frame's scripts ran, before Godot runs
/// the tweens (a deferred call: Godot flushes them after the nodes' `_process`, before it steps
/// tweens).
fn note_new_tween(key: InstanceKey, tween: InstanceId) {
    let first = NEW_TWEENS.with(|n| {
        let mut n = n.borrow_mut();
        let first = n.is_none();
        n.get_or_insert_with(Vec::new).push((key, tween));
        first
    });
    if first {
        Callable::from_fn("wasgo_kill_empty_tweens", |_| kill_empty_tweens()).call_deferred(&[]);
    }
}

/// Kills the tweens mods made that still have no tweener. Godot logs "started with no
/// Tweeners" for each when it steps it, outside every mod call, where the mod's log budget
/// sees nothing: a mod making a thousand empty tweens a frame wrote 60,000 error lines a
/// second. A killed tween is never stepped (and no longer counts against the mod's objects).
fn kill_empty_tweens() {
    let Some(made) = NEW_TWEENS.with(|n| n.borrow_mut().take()) else {
        return;
    };
    let empty: Vec<InstanceId> = with_objects(|o| {
        let instances = o.instances.borrow();
        made.iter()
            .filter(|(key, tween)| {
                instances.get(key).is_some_and(|table| {
                    table.try_borrow().is_ok_and(|t| {
                        t.tween_plans
                            .get(tween)
                            .is_none_or(|plan| plan.plan.tweeners() == 0)
                    })
                })
            })
            .map(|(_, tween)| *tween)
            .collect()
    })
    .unwrap_or_default();
    for tween in empty {
        if let Ok(tween) = Gd::<godot::classes::Tween>::try_from_instance_id(tween) {
            if tween.is_valid() {
                tweens::kill(&tween.upcast());
            }
        }
    }
}

fn with_objects<R>(f: impl FnOnce(&ObjectsState) -> R) -> Option<R> {
    state::with_part(|s| &s.objects, f)
}

/// Loads the addon's allowlist and the game's extra files (`wasgo/safety/allowlist_files`).
pub fn load_allowlist() {
    let mut list = Allowlist::default();
    let mut files = vec![ALLOWLIST_PATH.to_string()];
    files.extend(settings::strings(settings::ALLOWLIST_FILES));
    for path in files {
        if !FileAccess::file_exists(&path) {
            godot_error!("WasGo: the allowlist `{path}` is missing; level-1 mods reach nothing it would allow");
            continue;
        }
        let text = FileAccess::get_file_as_string(&path).to_string();
        if let Err(e) = list.merge(&text) {
            godot_error!("WasGo: `{path}`: {e}");
        }
    }
    with_objects(|o| {
        *o.allowlist.borrow_mut() = list;
        o.decisions.borrow_mut().clear();
    });
    bump_allowlist_generation();
}

/// Allows more members at levels 1 and 2 (`WasmEngine.extend_allowlist`).
pub fn extend_allowlist(class: &str, kind: Option<MemberKind>, names: Vec<String>) {
    with_objects(|o| {
        match kind {
            Some(kind) => o.allowlist.borrow_mut().extend(class, kind, names),
            None => o.allowlist.borrow_mut().extend_singletons(names),
        }
        o.decisions.borrow_mut().clear();
    });
    bump_allowlist_generation();
}

fn class_chain(class: &StringName) -> Vec<String> {
    let db = ClassDb::singleton();
    let mut chain = Vec::new();
    let mut c = class.clone();
    while !c.is_empty() && chain.len() < 64 {
        chain.push(c.to_string());
        c = db.get_parent_class(&c);
    }
    chain
}

/// Whether `obj` has the property `name` (its class's, its script's or one it lists itself); a
/// sub-path (`position:x`) is its base property's. Asked when the answer decides between "not
/// found" and "denied", or for a null read: never on a call's ordinary path.
/// -3 for a text or array over [`wasgo_core::tween_plan::MAX_TWEENED_SIZE`] given to a tween
/// to animate to (`tween_property`'s final value) or from (`PropertyTweener.from`), and for an
/// object to animate from.
fn refuse_oversized_tween_value(
    obj: &Gd<Object>,
    method: &str,
    args: &[WireVariant],
) -> Result<(), ObjectError> {
    let animated = match method {
        "tween_property" if obj.is_class("Tween") => args.get(2),
        "from" if obj.is_class("PropertyTweener") => args.first(),
        _ => None,
    };
    // An object start value: Godot refuses it (with an error in the game's log) unless the
    // final value is an object too, which `tween_property` already refuses.
    if method == "from" && matches!(animated, Some(WireVariant::Object(_))) {
        return Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            tweens::object_value_refusal("a property"),
        ));
    }
    match animated.and_then(|v| wasgo_core::tween_plan::oversized_value(method, v)) {
        Some(refusal) => Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            refusal.0,
        )),
        None => Ok(()),
    }
}

/// The theme overrides a mod may add, each with the Control method that says whether the
/// control's themes (the project's, Godot's default) have an item of that name.
const THEME_OVERRIDES: [(&str, &str); 3] = [
    ("add_theme_color_override", "has_theme_color"),
    ("add_theme_font_override", "has_theme_font"),
    ("add_theme_font_size_override", "has_theme_font_size"),
];

/// -1 for a theme override of an item the control's themes do not have: it would change
/// nothing, and every new name was kept on the control (a mod added gigabytes of names to a
/// game's Label, kept after the mod ended).
fn refuse_unknown_theme_item(
    obj: &Gd<Object>,
    method: &str,
    args: &VarArray,
) -> Result<(), ObjectError> {
    let Some((_, has)) = THEME_OVERRIDES.iter().find(|(m, _)| *m == method) else {
        return Ok(());
    };
    let Some(name) = args.get(0) else {
        return Ok(()); // Godot refuses the call itself
    };
    let mut control = obj.clone();
    let known = control
        .try_call(*has, std::slice::from_ref(&name))
        .is_ok_and(|v| v.try_to::<bool>().unwrap_or(false));
    if known {
        return Ok(());
    }
    Err(ObjectError::failed(
        ErrorCode::NotFound.code(),
        format!(
            "`{method}`: `{}` has no theme item `{name}` of that kind (in its theme or Godot's default theme), so overriding it would change nothing; see the class's Theme Properties in Godot's docs",
            obj.get_class()
        ),
    ))
}

/// -5 for a call Godot refused before running it, naming the method and Godot's reason.
fn call_refused(obj: &Gd<Object>, method: &str, e: &godot::meta::error::CallError) -> ObjectError {
    // The message is the call written out, then its reason: only the reason is kept (the
    // arguments may be large).
    let message = e.message(false);
    let reason = message
        .rfind("Reason: ")
        .map_or("Godot did not accept the arguments", |at| {
            &message[at + "Reason: ".len()..]
        });
    let class = if obj.is_instance_valid() {
        obj.get_class().to_string()
    } else {
        "Object".to_string()
    };
    ObjectError::failed(
        ErrorCode::CallFailed.code(),
        format!("Godot refused the call `{class}.{method}`: {reason} (see the method's parameters in Godot's class reference)"),
    )
}

fn has_property(obj: &Gd<Object>, name: &str) -> bool {
    let base = name.split(':').next().unwrap_or(name);
    obj.get_property_list().iter_shared().any(|p| {
        p.get("name")
            .is_some_and(|n| n.try_to::<GString>().is_ok_and(|n| n == base))
    })
}

/// Whether `member` of `kind` may be reached on `obj` at `level`; Denied names `Class.member`.
fn check(
    class: &StringName,
    level: SafetyLevel,
    kind: MemberKind,
    member: &str,
) -> Result<(), ObjectError> {
    if level == SafetyLevel::Unsafe {
        return Ok(());
    }
    let class = class.clone();
    let key = (class.clone(), kind, member.to_string());
    let allowed = with_objects(|o| o.decisions.borrow().get(&key).copied())
        .flatten()
        .unwrap_or_else(|| {
            // Asked of Godot's ClassDb with the state not lent.
            let chain = class_chain(&class);
            // The game's own signals (declared in its scripts or with add_user_signal) only deliver
            // data, so a mod may listen to them; engine signals go through the allowlist.
            let game_signal = kind == MemberKind::Signal
                && !ClassDb::singleton().class_has_signal(&class, member);
            let ok = game_signal
                || with_objects(|o| o.allowlist.borrow().allows(&chain, kind, member))
                    .unwrap_or(false);
            // Kept for names a member can have, in a table of bounded size: every made-up name
            // (a `connect` of 4 KB names, ignored -1 after -1) was kept for good, shared by
            // every mod, hundreds of MB a second.
            if member.len() <= MAX_DECIDED_NAME {
                with_objects(|o| {
                    let mut decisions = o.decisions.borrow_mut();
                    if decisions.len() >= MAX_DECISIONS {
                        decisions.clear();
                    }
                    decisions.insert(key, ok);
                });
            }
            ok
        });
    if allowed {
        Ok(())
    } else {
        Err(ObjectError::Denied {
            member: format!("{class}.{member}"),
        })
    }
}

/// The -3 for a mod changing (`what`: "set `radius`", "tween `font_color`") a resource of
/// `class` the game made (see `InstanceObjects::refuse_shared_write`).
fn shared_write_refusal(what: &str, class: &StringName) -> ObjectError {
    ObjectError::failed(
        ErrorCode::InvalidArgument.code(),
        format!(
            "cannot {what} on the game's `{class}`: a resource the game made is shared by every node that uses it; a mod changes only resources it made (make one with `wasgo.new`, set it up, and assign it)"
        ),
    )
}

/// Drops the entries of `map` whose object (`object_of` its key) was freed.
fn forget_freed<K, V>(map: &mut HashMap<K, V>, object_of: impl Fn(&K) -> InstanceId) {
    map.retain(|key, _| Gd::<Object>::try_from_instance_id(object_of(key)).is_ok());
}

/// The allowlist's range of property `name` on objects of `class`, at levels 1 and 2.
/// A value as a range measures it: a number, or a text's characters or an array's elements;
/// `None` for any other kind.
fn measure_default(value: &Variant) -> Option<f64> {
    match value.get_type() {
        VariantType::INT => value.try_to::<i64>().ok().map(|n| n as f64),
        VariantType::FLOAT => value.try_to::<f64>().ok(),
        VariantType::BOOL => value.try_to::<bool>().ok().map(|b| f64::from(u8::from(b))),
        VariantType::STRING | VariantType::STRING_NAME | VariantType::NODE_PATH => {
            Some(value.to_string().chars().count() as f64)
        }
        t if t == VariantType::ARRAY || t.ord() >= VariantType::PACKED_BYTE_ARRAY.ord() => value
            .call("size", &[])
            .try_to::<i64>()
            .ok()
            .map(|n| n as f64),
        _ => None,
    }
}

fn property_range(class: &StringName, level: SafetyLevel, name: &str) -> Option<ValueRange> {
    if level == SafetyLevel::Unsafe
        || !with_objects(|o| o.allowlist.borrow().has_property_ranges(name)).unwrap_or(false)
    {
        return None;
    }
    let chain = class_chain(class);
    with_objects(|o| o.allowlist.borrow().property_range(&chain, name)).flatten()
}

/// Whether some class has a range for an argument of `method` (one hash lookup: almost no
/// method has one).
fn has_argument_ranges(method: &str) -> bool {
    with_objects(|o| o.allowlist.borrow().has_argument_ranges(method)).unwrap_or(false)
}

/// Refuses a call whose argument (as the mod sent it) is outside the allowlist's range for it
/// (levels 1 and 2): -3 naming the method, the argument and the range.
fn check_argument_ranges(
    class: &StringName,
    method: &str,
    args: &[WireVariant],
) -> Result<(), ObjectError> {
    let chain = class_chain(class);
    let ranges =
        with_objects(|o| o.allowlist.borrow().argument_ranges(&chain, method)).unwrap_or_default();
    let mut measured = Vec::with_capacity(ranges.len());
    for (index, range) in ranges {
        // A missing argument takes Godot's default.
        let Some(arg) = args.get(index) else {
            continue;
        };
        let what = format!("{class}.{method}[{index}]");
        let value = range
            .check(&what, wasgo_core::variant::range_value(arg))
            .map_err(|m| ObjectError::failed(ErrorCode::InvalidArgument.code(), m))?;
        measured.push((range, what, value));
    }
    // Only a call whose every argument is in range adds to a `distinct` pool.
    for (range, what, value) in measured {
        admit_distinct(&range, &what, value)?;
    }
    Ok(())
}

/// Whether some class limits `method` with `grows` (one hash lookup).
fn has_growth(method: &str) -> bool {
    with_objects(|o| o.allowlist.borrow().has_growth(method)).unwrap_or(false)
}

/// Refuses a call of a method that adds an element (the allowlist's `grows`) to an object that
/// already has the most elements allowed: -3 naming the method and the count.
fn check_growth(
    obj: &Gd<Object>,
    class: &StringName,
    method: &str,
    args: &VarArray,
) -> Result<(), ObjectError> {
    let chain = class_chain(class);
    let Some(growth) =
        with_objects(|o| o.allowlist.borrow().growth(&chain, method).cloned()).flatten()
    else {
        return Ok(());
    };
    let counter = StringName::from(growth.count_method.as_str());
    if !obj.has_method(&counter) {
        return Ok(());
    }
    let count_args: Vec<Variant> = match growth.argument {
        Some(i) => vec![args.get(i).unwrap_or_default()],
        None => Vec::new(),
    };
    // `try_call`: the mod's argument may not be what the counter takes (an Array where a
    // name goes: the range on it measures a text's or an array's size), and `call` panics on
    // any call Godot refuses. The call the mod asked for would be refused the same way.
    let result = obj
        .clone()
        .try_call(&counter, &count_args)
        .map_err(|e| call_refused(obj, method, &e))?;
    let count = match result.get_type() {
        VariantType::INT => result.try_to::<i64>().unwrap_or(0).max(0) as u64,
        // Typed or not (`get_children` answers an `Array[Node]`, which an untyped read refuses).
        VariantType::ARRAY => result
            .try_to::<godot::builtin::AnyArray>()
            .map_or(0, |a| a.len()) as u64,
        VariantType::PACKED_STRING_ARRAY => {
            result.try_to::<PackedStringArray>().map_or(0, |a| a.len()) as u64
        }
        _ => 0,
    };
    if count >= growth.max {
        return Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            growth.refusal(&format!("{class}.{method}"), count),
        ));
    }
    Ok(())
}

/// Admits a value for a range with `distinct` into the game's pool (-3 when the pool is full
/// and the value is new).
fn admit_distinct(range: &ValueRange, what: &str, value: f64) -> Result<(), ObjectError> {
    if range.distinct.is_none() {
        return Ok(());
    }
    with_objects(|o| o.distinct.borrow_mut().admit(range, what, value))
        .unwrap_or(Ok(()))
        .map_err(|m| ObjectError::failed(ErrorCode::InvalidArgument.code(), m))
}

/// Starts the object table of a new instance run by the node `script`.
pub fn register(
    key: InstanceKey,
    script: InstanceId,
    script_node: Option<Gd<Node>>,
    level: SafetyLevel,
    mod_id: &str,
) {
    let mut objects = InstanceObjects::new(script, script_node, log_gate::allowance_of(mod_id));
    objects.level = level;
    let table = Rc::new(RefCell::new(objects));
    // What a key used before held (none in practice) is dropped once the state is released.
    let _replaced = with_objects(|o| {
        let table = o.instances.borrow_mut().insert(key, table);
        let outbox = o.outbox.borrow_mut().insert(key, Outbox::default());
        (table, outbox)
    });
}

/// The safety level of the instance `key` (`None` once it is gone, or while its table is in use:
/// an input event re-entered from inside the mod's own call).
pub fn level_of(key: InstanceKey) -> Option<SafetyLevel> {
    table(key).and_then(|t| t.try_borrow().ok().map(|t| t.level))
}

/// Drops an instance's handles, connections and timers (what is still in its outbox is dropped
/// too).
pub fn unregister(key: InstanceKey) {
    let removed = with_objects(|o| {
        let table = o.instances.borrow_mut().remove(&key);
        let outbox = o.outbox.borrow_mut().remove(&key);
        o.looping_known.borrow_mut().remove(&key);
        (table, outbox)
    });
    // Dropped (Variants, Callables) with the state released.
    let (removed, _outbox) = removed.unwrap_or_default();
    if let Some(objects) = removed {
        // Disconnecting runs no user code. The table is busy when game code that one of its
        // calls ran dropped the instance (a `kill()` from a setter or a signal handler): it is
        // released once that call returns.
        let busy = match objects.try_borrow_mut() {
            Ok(mut objects) => {
                objects.release_engine_objects();
                false
            }
            Err(_) => true,
        };
        if busy {
            with_objects(|o| o.waiting_release.borrow_mut().push(objects));
            SOME_WAITING.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Whether a table waits for [`release_waiting`] (a load instead of a look into the state
/// after every object call).
static SOME_WAITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Releases the tables [`unregister`] found busy whose call has returned (after every object
/// call, and once a frame).
#[inline]
pub fn release_waiting() {
    // A plain load first: this runs after every object call, and a locked swap of a flag that
    // is almost always false costs more than the load.
    if SOME_WAITING.load(std::sync::atomic::Ordering::Relaxed) {
        release_waiting_now();
    }
}

/// [`release_waiting`] when some table waits.
#[cold]
fn release_waiting_now() {
    if !SOME_WAITING.swap(false, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let Some(waiting) = with_objects(|o| std::mem::take(&mut *o.waiting_release.borrow_mut()))
    else {
        return;
    };
    if waiting.is_empty() {
        return;
    }
    let mut still = Vec::new();
    for table in waiting {
        let free = match table.try_borrow_mut() {
            Ok(mut objects) => {
                objects.release_engine_objects();
                true
            }
            Err(_) => false,
        };
        if !free {
            still.push(table);
        }
    }
    if !still.is_empty() {
        with_objects(|o| o.waiting_release.borrow_mut().extend(still));
        SOME_WAITING.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The object table of the instance `key`, for a pass that finds many handles in a row
/// (`script_group.rs`); borrow it only between the mod's calls.
pub fn instance_table(key: InstanceKey) -> Option<Rc<RefCell<InstanceObjects>>> {
    table(key)
}

/// The tweener steps per second the looping tweens of every instance but `me` make Godot run.
/// An instance whose table is in use up the stack (its mod's call ran the game code that runs
/// this one) counts its total as last counted, which its own tween calls keep up to date (an
/// ended tween only lowers the real one): counted as none, a chain of mods calling each other
/// through the game passed the bound for all mods together.
fn looping_steps_elsewhere(me: InstanceKey) -> f64 {
    let tables: Vec<(InstanceKey, Rc<RefCell<InstanceObjects>>)> = with_objects(|o| {
        o.instances
            .borrow()
            .iter()
            .filter(|(key, _)| **key != me)
            .map(|(key, table)| (*key, table.clone()))
            .collect()
    })
    .unwrap_or_default();
    tables
        .iter()
        .map(|(key, t)| match t.try_borrow() {
            Ok(t) => {
                let steps = t.looping_steps(None);
                remember_looping_steps(*key, steps);
                steps
            }
            Err(_) => with_objects(|o| o.looping_known.borrow().get(key).copied().unwrap_or(0.0))
                .unwrap_or(0.0),
        })
        .sum()
}

/// Records `steps`, the looping tweener steps per second of instance `key`'s tweens.
fn remember_looping_steps(key: InstanceKey, steps: f64) {
    with_objects(|o| o.looping_known.borrow_mut().insert(key, steps));
}

fn table(key: InstanceKey) -> Option<Rc<RefCell<InstanceObjects>>> {
    with_objects(|o| o.instances.borrow().get(&key).cloned()).flatten()
}

/// Runs `f`, game code a mod's call runs (a game function), under the mod's allowance of Godot
/// errors, as its object calls run: a game function passing the mod's text on to Godot
/// (`load`, `get_node`, an action name) had Godot log without bound for it.
pub fn with_error_allowance<R>(key: InstanceKey, f: impl FnOnce() -> R) -> R {
    let found = table(key).and_then(|t| {
        t.try_borrow()
            .ok()
            .map(|t| (t.godot_errors.clone(), t.script_node.clone(), t.script))
    });
    let Some((allowance, script_node, script)) = found else {
        return f();
    };
    log_gate::within(&allowance, || node_label(&script_node, script), f)
}

/// The name of the mod's node for a notice, or its id once it is gone.
fn node_label(script_node: &Option<Gd<Node>>, script: InstanceId) -> String {
    valid_script_node(script_node, script)
        .map(|n| n.get_name().to_string())
        .unwrap_or_else(|| format!("node {script}"))
}

/// Game values handed to a mod that is not called through numbers (a Go-js function's
/// arguments, a signal's arguments for a Go-js callback): objects become handles the mod may use,
/// an object it may not reach becomes null, as in [`ObjectOp::CallbackArgs`].
pub fn values_for_mod(key: InstanceKey, values: &[Variant]) -> Vec<WireVariant> {
    let Some(table) = table(key) else {
        return vec![WireVariant::Nil; values.len()];
    };
    let Ok(mut objects) = table.try_borrow_mut() else {
        return vec![WireVariant::Nil; values.len()];
    };
    values
        .iter()
        .map(|v| objects.reply(v, String::new).unwrap_or(WireVariant::Nil))
        .collect()
}

/// As [`values_for_mod`], for arguments the game passes in a call (`call_export` of a Go-js
/// function): a value that does not convert (nested past the depth limit, too many elements, an
/// object out of reach) is an error naming the argument, not a silent null.
///
/// # Errors
/// The first argument that does not convert, numbered from 0, and why.
pub fn arguments_for_mod(key: InstanceKey, values: &[Variant]) -> Result<Vec<WireVariant>, String> {
    let table = table(key).ok_or("the mod has ended")?;
    let mut objects = table
        .try_borrow_mut()
        .map_err(|_| "the mod's objects are in use (a call from inside the mod's own call)")?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            objects
                .reply(v, || format!("argument {i}"))
                .map_err(|e| match e {
                    ObjectError::Failed { message, .. } | ObjectError::Trap(message) => {
                        format!("argument {i}: {message}")
                    }
                    ObjectError::Denied { member } => {
                        format!("argument {i}: `{member}` is not a mod's to hold")
                    }
                })
        })
        .collect()
}

/// A value a mod returned, for the game: handles become their objects.
///
/// # Errors
/// The message of a value the engine cannot hold or a handle that is not live.
pub fn value_from_mod(key: InstanceKey, value: &WireVariant) -> Result<Variant, String> {
    let table = table(key).ok_or("the mod has ended")?;
    let objects = table
        .try_borrow()
        .map_err(|_| "the mod's objects are in use".to_string())?;
    from_wire(value, &*objects).map_err(|e| match e {
        ObjectError::Failed { message, .. } | ObjectError::Trap(message) => message,
        ObjectError::Denied { member } => format!("`{member}` is not reachable by the mod"),
    })
}

/// What [`take_outbox`] takes: the `mod_event`s and the signal deliveries, oldest first.
pub type OutboxItems = (
    VecDeque<(GString, Variant, usize)>,
    VecDeque<(i32, Vec<Variant>)>,
);

/// Takes the `mod_event`s and the signal deliveries waiting, oldest first, in one table lookup
/// (what the delivery after every entry asks, usually to find both empty).
pub fn take_outbox(key: InstanceKey) -> OutboxItems {
    with_outbox(key, |o| {
        o.mod_event_bytes = 0;
        (o.mod_events.take(), o.callbacks.take())
    })
    .unwrap_or_default()
}

/// Puts `mod_event`s a delivery round had no allowance left for back in front, keeping their
/// order, for the next round (the next frame's at the latest).
pub fn requeue_mod_events(
    key: InstanceKey,
    events: VecDeque<(GString, Variant, usize)>,
    mod_name: &str,
) {
    POSTS.fetch_add(1, Ordering::Relaxed);
    let dropped = with_outbox(key, |o| {
        o.mod_events.requeue(events);
        // What the queue holds now (the oldest beyond its bound were dropped).
        o.mod_event_bytes = o.mod_events.iter().map(|(_, _, cost)| *cost).sum();
        o.mod_events.take_dropped()
    });
    let dropped = dropped.unwrap_or(0);
    if dropped > 0 {
        godot_warn!(
            "WasGo: {dropped} of `{mod_name}`'s `mod_event`s were dropped: more waited for delivery than its queue holds (emit fewer, or let its signals be delivered between calls)"
        );
    }
}

/// Takes the signal deliveries waiting for the mod's `native_callback`, oldest first.
pub fn take_callbacks(key: InstanceKey) -> VecDeque<(i32, Vec<Variant>)> {
    with_outbox(key, |o| o.callbacks.take()).unwrap_or_default()
}

fn with_outbox<R>(key: InstanceKey, f: impl FnOnce(&mut Outbox) -> R) -> Option<R> {
    with_objects(|o| o.outbox.borrow_mut().get_mut(&key).map(f)).flatten()
}

/// Counts every post to any outbox (main thread): a core whose last look saw the same count
/// has nothing in its outbox, so an entry's delivery step can skip the table lookup.
static POSTS: AtomicU64 = AtomicU64::new(0);

/// The number of posts so far (see [`POSTS`]); read it before [`take_outbox`].
pub fn posts() -> u64 {
    POSTS.load(Ordering::Relaxed)
}

fn post(key: InstanceKey, f: impl FnOnce(&mut Outbox)) {
    POSTS.fetch_add(1, Ordering::Relaxed);
    with_outbox(key, f);
}

/// Puts callbacks back (in front, keeping their order) while `main` holds the instance or the
/// frame's budget is spent; the queue is bounded, the oldest deliveries beyond it are dropped.
pub fn requeue_callbacks(key: InstanceKey, callbacks: VecDeque<(i32, Vec<Variant>)>) {
    POSTS.fetch_add(1, Ordering::Relaxed);
    let dropped = with_outbox(key, |o| {
        o.callbacks.requeue(callbacks);
        o.callbacks.take_dropped()
    });
    warn_dropped(dropped.unwrap_or(0));
}

/// Warns that signal deliveries were dropped: at once the first time, then at most once per
/// [`DROPPED_WARNING_EVERY`] with the count since (a mod flooding itself with signals every
/// frame wrote a warning every frame to the game's log).
fn warn_dropped(dropped: usize) {
    thread_local! {
        static HELD: std::cell::Cell<(Option<std::time::Instant>, usize)> =
            const { std::cell::Cell::new((None, 0)) };
    }
    if dropped == 0 {
        return;
    }
    let (last, held) = HELD.get();
    let held = held.saturating_add(dropped);
    let now = std::time::Instant::now();
    if last.is_some_and(|t| now.duration_since(t) < DROPPED_WARNING_EVERY) {
        HELD.set((last, held));
        return;
    }
    HELD.set((Some(now), 0));
    godot_warn!(
        "WasGo: {held} signal deliveries waiting for a mod were dropped{} (at most {} wait per mod)",
        if last.is_some() { " since the last such warning" } else { "" },
        wasgo_core::delivery::DEFAULT_CAPACITY
    );
}

/// How often at most the dropped-deliveries warning is printed.
const DROPPED_WARNING_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A handle to `obj` for the instance `key` (released with [`release_handle`]); `None` when
/// the instance has no table or the mod may not hold it.
pub fn lend_handle(key: InstanceKey, obj: &Gd<Object>) -> Option<i32> {
    let table = table(key)?;
    let mut table = table.try_borrow_mut().ok()?;
    table.handle_for(obj).ok()
}

/// Forgets a handle of the instance `key` (the game's side of `wasgo.release`).
pub fn release_handle(key: InstanceKey, handle: i32) {
    if let Some(table) = table(key) {
        if let Ok(mut table) = table.try_borrow_mut() {
            table.release(handle);
        }
    }
}

/// The mod's `native_callback(callback_id)` is about to run with the signal's `args`.
pub fn begin_callback(key: InstanceKey, callback_id: i32, args: Vec<Variant>) {
    if let Some(t) = table(key) {
        if let Ok(mut t) = t.try_borrow_mut() {
            t.callback_args = args;
            t.drawing.begin(callback_id);
        }
    }
}

/// The mod's `native_callback` returned.
pub fn end_callback(key: InstanceKey) {
    if let Some(t) = table(key) {
        if let Ok(mut t) = t.try_borrow_mut() {
            t.callback_args = Vec::new();
            t.drawing.end();
        }
    }
}

/// The game side of the object functions.
pub struct GodotObjectHost;

impl GodotObjectHost {
    fn with_table<R>(
        key: InstanceKey,
        level: SafetyLevel,
        f: impl FnOnce(&mut InstanceObjects) -> Result<R, ObjectError>,
    ) -> Result<R, ObjectError> {
        let table = table(key).ok_or_else(|| {
            ObjectError::failed(
                ErrorCode::CallFailed.code(),
                "this instance has no object table (its node is gone)",
            )
        })?;
        let mut objects = table.try_borrow_mut().map_err(|_| {
            ObjectError::failed(
                ErrorCode::Busy.code(),
                "the instance's objects are busy with another call",
            )
        })?;
        objects.level = level;
        // What Godot logs for the call counts against the mod's console allowance.
        let allowance = objects.godot_errors.clone();
        let (script_node, script) = (objects.script_node.clone(), objects.script);
        let result = log_gate::within(
            &allowance,
            || node_label(&script_node, script),
            || f(&mut objects),
        );
        drop(objects);
        release_waiting();
        result
    }
}

impl ObjectHost for GodotObjectHost {
    fn run(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError> {
        Self::with_table(key, level, |objects| run_op(objects, key, level, op))
    }

    fn set_property(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
        value: &WireVariant,
    ) -> Result<(), Box<ObjectError>> {
        Self::with_table(key, level, |objects| {
            objects.set_property(level, handle, name, value)
        })
        .map_err(Box::new)
    }

    fn get_property(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<WireVariant, ObjectError> {
        Self::with_table(key, level, |objects| {
            objects.get_property(level, handle, name)
        })
    }

    fn lookup_stamp(&self) -> u64 {
        lookup_stamp()
    }

    fn get_node(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        from: i32,
        path: &str,
    ) -> Result<FoundNode, ObjectError> {
        // Read before the lookup: a change during it (a sweep of freed handles) makes the
        // answer's stamp an old one, never kept past the change.
        let stamp = lookup_stamp();
        let (handle, lasts) =
            Self::with_table(key, level, |objects| find_node(objects, from, path))?;
        Ok(FoundNode {
            handle,
            holds_under: if lasts { stamp } else { 0 },
        })
    }
}

/// The mod's error for a handle the table refused (-4 for anything but a live handle).
fn handle_error(e: HandleError) -> ObjectError {
    ObjectError::failed(e.code().code(), e.to_string())
}

/// The handle of a node the mod looked up; what it may not reach answers "not found" (-1).
/// `what` names it for that error, and is only made then (a lookup is on `main`'s round trip).
fn found_handle(
    objects: &mut InstanceObjects,
    obj: &Gd<Object>,
    what: impl FnOnce() -> String,
) -> Result<i32, ObjectError> {
    objects
        .handle_for(obj)
        .map_err(|r| r.into_error(&format!("the {}", what())))
}

/// [`found_handle`] for a node known as one.
fn found_node_handle(
    objects: &mut InstanceObjects,
    node: &Gd<Node>,
    what: impl FnOnce() -> String,
) -> Result<i32, ObjectError> {
    objects
        .handle_for_node(node)
        .map_err(|r| r.into_error(&format!("the {}", what())))
}

fn freed(handle: i32) -> ObjectError {
    ObjectError::failed(
        ErrorCode::InvalidHandle.code(),
        format!("handle {handle} refers to an object that was freed"),
    )
}

fn name_arg(name: &str) -> Result<StringName, ObjectError> {
    if name.is_empty() {
        return Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            "the name is empty",
        ));
    }
    Ok(StringName::from(name))
}

/// `get_node(from, path)` for the mod: the node's handle, and whether the answer lasts while
/// the lookup stamp stays the same ([`lookup_stamp`]): it does when the node it was looked up
/// from is inside the watched scene tree (whose every change bumps the stamp) and the path has
/// no unique name (`%Name` also depends on the nodes' owners and `unique_name_in_owner`, which
/// no signal reports).
fn find_node(
    objects: &mut InstanceObjects,
    from: i32,
    path: &str,
) -> Result<(i32, bool), ObjectError> {
    // The mod's own node is a Node: looked up as one (one class check, not two).
    let base: Gd<Node> = if from == 0 {
        objects.script_node().ok_or_else(|| {
            ObjectError::failed(ErrorCode::InvalidHandle.code(), "the mod's node was freed")
        })?
    } else {
        objects.object(from)?.try_cast::<Node>().map_err(|_| {
            ObjectError::failed(
                ErrorCode::InvalidArgument.code(),
                format!("handle {from} is not a Node"),
            )
        })?
    };
    let in_tree = base.is_inside_tree();
    // An absolute path from a node outside the tree names nothing (Godot would log an error
    // for the game at every such call).
    if path.starts_with('/') && !in_tree {
        return Err(ObjectError::failed(
            ErrorCode::NotFound.code(),
            format!("there is no node at `{path}`: the node asked is outside the scene tree"),
        ));
    }
    let node = base.get_node_or_null(&node_path(path)).ok_or_else(|| {
        ObjectError::failed(
            ErrorCode::NotFound.code(),
            format!("there is no node at `{path}`"),
        )
    })?;
    let handle = found_node_handle(objects, &node, || format!("node at `{path}`"))?;
    let lasts = in_tree && !path.contains('%') && reach::tree_generation().is_some();
    Ok((handle, lasts))
}

/// Bumped when any instance's table releases a handle or gives an object it made to the game
/// (see [`lookup_stamp`]). Only ever grows.
static HANDLE_CHANGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn handles_changed() {
    HANDLE_CHANGES.fetch_add(1, std::sync::atomic::Ordering::Release);
}

/// The lookup stamp ([`ObjectHost::lookup_stamp`]): the reach generation (bumped by every
/// change of the watched scene tree, every rename, every `reach` set and every project
/// settings change) plus [`HANDLE_CHANGES`]. Both only grow, so the sum changes whenever
/// either does; never 0 (the reach generation starts at 1).
fn lookup_stamp() -> u64 {
    reach::generation()
        .wrapping_add(HANDLE_CHANGES.load(std::sync::atomic::Ordering::Acquire))
        .max(1)
}

fn run_op(
    objects: &mut InstanceObjects,
    key: InstanceKey,
    level: SafetyLevel,
    op: ObjectOp,
) -> Result<ObjectReply, ObjectError> {
    match op {
        ObjectOp::SelfNode => {
            let node = objects.script_node().ok_or_else(|| {
                ObjectError::failed(ErrorCode::InvalidHandle.code(), "the mod's node was freed")
            })?;
            found_node_handle(objects, &node, || "node for the mod".into()).map(ObjectReply::Int)
        }
        ObjectOp::GetNode { from, path } => {
            find_node(objects, from, &path).map(|(handle, _)| ObjectReply::Int(handle))
        }
        ObjectOp::Singleton { name } => {
            // One that does not exist is -1 (not found) before the list is asked.
            let engine = Engine::singleton();
            let sname = name_arg(&name)?;
            if !engine.has_singleton(&sname) {
                return Err(ObjectError::failed(
                    ErrorCode::NotFound.code(),
                    format!("there is no singleton `{name}`"),
                ));
            }
            let allowed = level == SafetyLevel::Unsafe
                || with_objects(|o| o.allowlist.borrow().allows_singleton(&name)).unwrap_or(false);
            if !allowed {
                return Err(ObjectError::Denied { member: name });
            }
            let obj = engine.get_singleton(&sname).ok_or_else(|| {
                ObjectError::failed(
                    ErrorCode::NotFound.code(),
                    format!("there is no singleton `{name}`"),
                )
            })?;
            found_handle(objects, &obj, || format!("singleton `{name}`")).map(ObjectReply::Int)
        }
        ObjectOp::Release { handle } => {
            objects.release(handle);
            Ok(ObjectReply::Int(0))
        }
        ObjectOp::Get { handle, name } => objects
            .get_property(level, handle, name.as_bytes())
            .map(ObjectReply::Value),
        ObjectOp::Set {
            handle,
            name,
            value,
        } => objects
            .set_property(level, handle, name.as_bytes(), &value)
            .map(|()| ObjectReply::Int(0)),
        ObjectOp::Call {
            handle,
            method,
            args: wire_args,
        } => {
            let mut obj = objects.object(handle)?;
            if !reads_only(&method) {
                objects.refuse_shared_write(level, handle, || format!("call `{method}`"))?;
            }
            // The tree-changing methods are decided by ownership (`created.rs`), not the list.
            let draws = drawing::DRAW_METHODS.contains(&method.as_str());
            // A method the object does not have is -1 (not found) before the list is asked: a
            // typo is not a denied call.
            let sname = member_name(&method)?;
            if !obj.has_method(&sname) {
                return Err(ObjectError::failed(
                    ErrorCode::NotFound.code(),
                    format!("`{}` has no method `{method}`", obj.get_class()),
                ));
            }
            if !created::TREE_METHODS.contains(&method.as_str()) && !draws {
                objects.allowed(handle, level, MemberKind::Method, &method)?;
            }
            if level != SafetyLevel::Unsafe {
                refuse_secret_text(level, &obj, method.as_bytes())?;
                if wasgo_core::typing::ends_focus(method.as_bytes()) {
                    refuse_ending_focus(&obj, method.as_bytes())?;
                }
                if wasgo_core::typing::moves_focus(&method) && obj.is_class("Control") {
                    // Into a text field never (a mod cannot make one: it would be the game's),
                    // anywhere while the player types.
                    if crate::typing::is_text_field(&obj) {
                        return Err(ObjectError::failed(
                            ErrorCode::InvalidArgument.code(),
                            wasgo_core::typing::field_focus_refusal(&method),
                        ));
                    }
                    if crate::typing::player_typing() {
                        return Err(ObjectError::failed(
                            ErrorCode::InvalidArgument.code(),
                            wasgo_core::typing::focus_refusal(&method),
                        ));
                    }
                }
                if let Some(quiet) = wasgo_core::typing::quiet_input_answer(&method) {
                    if obj.is_class("Input")
                        && (crate::typing::player_typing()
                            || crate::typing::keys_held_from_typing())
                    {
                        return Ok(ObjectReply::Value(quiet));
                    }
                }
            }
            if level != SafetyLevel::Unsafe && has_argument_ranges(&method) {
                let class = objects.slot(handle)?.class.clone();
                check_argument_ranges(&class, &method, &wire_args)?;
            }
            if level != SafetyLevel::Unsafe {
                let class = &objects.slot(handle)?.class;
                crate::name_params::refuse_bad_text_args(class, &method, &wire_args)?;
            }
            if level != SafetyLevel::Unsafe {
                refuse_oversized_tween_value(&obj, &method, &wire_args)?;
            }
            let args = crate::convert::args_from_wire(&wire_args, objects)?;
            if level != SafetyLevel::Unsafe {
                refuse_unknown_theme_item(&obj, &method, &args)?;
            }
            if level != SafetyLevel::Unsafe && has_growth(&method) {
                let class = objects.slot(handle)?.class.clone();
                check_growth(&obj, &class, &method, &args)?;
            }
            // The frames of all of the mod's SpriteFrames together, after this call if it adds
            // one (the allowlist's `grows` bounds each object; 1023 objects reached 268 million).
            // The method's name first: asking Godot the class is dear on every call.
            let frames_after = if level != SafetyLevel::Unsafe
                && SPRITE_FRAMES_METHODS.contains(&method.as_str())
                && obj.is_class("SpriteFrames")
            {
                Some(objects.sprite_frames_after(&obj, &method)?)
            } else {
                None
            };
            if draws {
                objects.drawing.record(&obj, &method, args)?;
                return Ok(ObjectReply::Value(WireVariant::Nil));
            }
            if created::TREE_METHODS.contains(&method.as_str()) {
                created::check_tree_call(&objects.created, level, &obj, &method, &args)?;
            }
            let is_tween = level != SafetyLevel::Unsafe
                && tweens::PLANNED_METHODS.contains(&method.as_str())
                && obj.is_class("Tween");
            if is_tween && method == "tween_property" {
                let created = &objects.created;
                tweens::check_tween_property(
                    &args,
                    |target, class, property| {
                        check(class, level, MemberKind::Property, property)?;
                        // A tween of a game's resource would change it for every node that
                        // uses it, as a `set` would (`refuse_shared_write`).
                        if target.is_class("RefCounted") && !created.owns(target.instance_id()) {
                            return Err(shared_write_refusal(
                                &format!("tween `{property}`"),
                                class,
                            ));
                        }
                        // A secret field's text members are not animated either (`max_length`
                        // to 1 would cut the player's password), nor is the player's field hidden.
                        refuse_secret_text(level, target, property.as_bytes())?;
                        // Nor those of a game's field that is not secret yet: the tween lands
                        // later (after its delay, up to a day), when the game may have made it
                        // a password field.
                        if level != SafetyLevel::Unsafe
                            && wasgo_core::typing::is_secret_text_member(property.as_bytes())
                            && target.is_class("LineEdit")
                            && !created.owns(target.instance_id())
                        {
                            return Err(ObjectError::failed(
                                ErrorCode::InvalidArgument.code(),
                                format!("tween `{property}` refused on a `LineEdit` the mod did not make: the game may make it a password field (`secret`) while the tween runs; set it with `set` instead"),
                            ));
                        }
                        // A tween hides later, when the player may be typing: refused on any
                        // node the mod did not make (checking the typing now let a tween made
                        // while nobody typed hide the field a second later).
                        if level != SafetyLevel::Unsafe
                            && wasgo_core::typing::ends_focus(property.as_bytes())
                            && !created.owns(target.instance_id())
                        {
                            return Err(ObjectError::failed(
                                ErrorCode::InvalidArgument.code(),
                                format!("tween `{property}` refused on a node the mod did not make: below level 3 a tween may not hide a game node or take its focus (it could hide the text field the player types in while it runs); set it with `set` instead"),
                            ));
                        }
                        // Nor is a mod's own collision object made pickable
                        // (`refuse_own_pickable`).
                        if level != SafetyLevel::Unsafe
                            && matches!(property, "input_pickable" | "input_ray_pickable")
                            && created.owns(target.instance_id())
                        {
                            return Err(ObjectError::failed(
                                ErrorCode::InvalidArgument.code(),
                                format!("tween `{property}` refused: a mod's own collision objects are not pickable"),
                            ));
                        }
                        // Nor are a game control's bounds (`refuse_game_control_bounds`).
                        if GAME_CONTROL_BOUNDS.contains(&property.as_bytes())
                            && target.is_class("Control")
                            && !created.owns(target.instance_id())
                        {
                            return Err(ObjectError::failed(
                                ErrorCode::InvalidArgument.code(),
                                format!("tween `{property}` refused: the bounds of the game's `{class}` are the game's to set"),
                            ));
                        }
                        Ok(())
                    },
                    |class, property| property_range(class, level, property).is_some(),
                )?;
            }
            // The tween's plan after this call, taken once Godot accepted the call.
            let tween_plan = if is_tween {
                let tween = objects
                    .tween_plans
                    .get(&obj.instance_id())
                    .copied()
                    .unwrap_or_default();
                let property = tweens::tween_target(&args).map_or(Tweener::Kept, |target| {
                    tweens::tweener_kind(&target, tween.bound)
                });
                let planned = tweens::plan_after(tween.plan, &method, &wire_args, property)
                    .and_then(|next| {
                        // Together with the mod's other looping tweens (those still running).
                        let Some(plan) = next else { return Ok(None) };
                        if plan.steps_per_second() == 0.0 {
                            return Ok(Some(plan));
                        }
                        let me = obj.instance_id();
                        let others = objects.looping_steps(Some(me));
                        let elsewhere = looping_steps_elsewhere(key);
                        match plan
                            .refused_with(others, || format!("`{method}`"))
                            .or_else(|| {
                                plan.refused_with_all(others + elsewhere, || format!("`{method}`"))
                            }) {
                            Some(refusal) => Err(refusal),
                            None => {
                                remember_looping_steps(key, others + plan.steps_per_second());
                                Ok(Some(plan))
                            }
                        }
                    });
                match planned {
                    Ok(next) => next.map(|plan| ModTween { plan, ..tween }),
                    Err(refusal) => {
                        objects.tween_plans.remove(&obj.instance_id());
                        tweens::kill(&obj);
                        return Err(ObjectError::failed(
                            ErrorCode::InvalidArgument.code(),
                            format!("{} The tween was killed.", refusal.0),
                        ));
                    }
                }
            } else {
                None
            };
            let creates_tween = tweens::creates_tween(&method);
            if creates_tween {
                objects
                    .created
                    .check_room(created::cap(), "`create_tween`")?;
            }
            // The PropertyTweener a mod's tween gives back is the mod's to shape (`set_delay`,
            // `from`, `as_relative`): owned like the tween, counted while it lives; so is the
            // IntervalTweener (a handle to it outlived its tween uncounted).
            let makes_tweener =
                is_tween && (method == "tween_property" || method == "tween_interval");
            if makes_tweener {
                objects
                    .created
                    .check_room(created::cap(), &format!("`{method}`"))?;
            }
            let creates_timer = OwnedTimers::creates_timer(&obj, &method);
            if creates_timer {
                OwnedTimers::check_delay(&wire_args)?;
                objects.timers.check_room()?;
            }
            // `try_call`, not `callv`: a call Godot refuses (an argument of the wrong type, a
            // wrong count) is the mod's -5, not a success with `null` and an error in the
            // game's log.
            let call_args: Vec<Variant> = args.iter_shared().collect();
            let result = obj
                .try_call(&sname, &call_args)
                .map_err(|e| call_refused(&obj, &method, &e))?;
            if let Some(frames) = frames_after {
                // An add counts one more (one Godot refused with an error, to a missing
                // animation, counts too until the next removal counts again); a call that may
                // remove frames is counted again over the object's animations.
                let frames = if method == "add_frame" {
                    frames
                } else {
                    sprite_frames_of(&obj)
                };
                objects.note_work(SPRITE_FRAMES_MEMBER.to_string(), obj.instance_id(), frames);
            }
            if let Some(next) = tween_plan {
                if !result.is_nil() {
                    objects.remember_tween_plan(obj.instance_id(), next);
                }
            }
            if creates_timer {
                objects.timers.track(&result);
            }
            if makes_tweener {
                if let Ok(tweener) = result.try_to::<Gd<Object>>() {
                    objects.created.track(&tweener);
                }
                if let Some(target) = tweens::tween_target(&args) {
                    let id = target.instance_id();
                    if level != SafetyLevel::Unsafe && target.is_class("Node") {
                        let owned = objects.created.owns(id);
                        let list = if owned {
                            &mut objects.own_tween_targets
                        } else {
                            &mut objects.tween_targets
                        };
                        // Bounded like the plans: a mod may make tweens without end.
                        if list.len() >= MAX_TWEEN_PLANS {
                            list.retain(|tween, _| {
                                Gd::<Object>::try_from_instance_id(*tween).is_ok()
                            });
                        }
                        let targets = list.entry(obj.instance_id()).or_default();
                        if !targets.contains(&id) {
                            targets.push(id);
                        }
                    }
                }
            }
            if creates_tween {
                if let Ok(tween) = result.try_to::<Gd<Object>>() {
                    objects.created.track(&tween);
                    if level != SafetyLevel::Unsafe {
                        note_new_tween(key, tween.instance_id());
                    }
                    // `Node.create_tween` binds the tween to the node: freeing it kills the
                    // tween (what lets a looping tween count that node's tweeners).
                    let bound = obj.is_class("Node").then(|| obj.instance_id());
                    objects.remember_tween_plan(
                        tween.instance_id(),
                        ModTween {
                            plan: TweenPlan::default(),
                            bound,
                        },
                    );
                }
            }
            objects
                .reply(&result, || format!("the node `{method}` returned"))
                .map(ObjectReply::Value)
        }
        ObjectOp::Connect {
            handle,
            signal,
            callback_id,
        } => {
            let mut obj = objects.object(handle)?;
            objects.allowed(handle, level, MemberKind::Signal, &signal)?;
            let sname = name_arg(&signal)?;
            objects.check_connection_room(obj.instance_id(), &sname, &signal)?;
            if !obj.has_signal(&sname) {
                return Err(ObjectError::failed(
                    ErrorCode::NotFound.code(),
                    format!("`{}` has no signal `{signal}`", obj.get_class()),
                ));
            }
            // A secret field's text never reaches the mod: checked at each emission (the game
            // may turn `secret` on after the mod connected).
            let secret_source = (level != SafetyLevel::Unsafe
                && wasgo_core::typing::carries_text(&signal)
                && obj.is_class("LineEdit"))
            .then(|| obj.instance_id());
            let target = SignalCallback {
                key,
                callback_id,
                secret_source,
            };
            let callable =
                Callable::from_sync_fn("wasgo_native_callback", move |args: &[&Variant]| {
                    target.emitted(args);
                    Variant::nil()
                });
            let err = obj.connect(&sname, &callable);
            if err != godot::global::Error::OK {
                return Err(ObjectError::failed(
                    ErrorCode::CallFailed.code(),
                    format!("connecting `{signal}` failed: {err:?}"),
                ));
            }
            if signal == "draw" && objects.created.owns(obj.instance_id()) {
                objects.drawing.watch(&obj, callback_id);
            }
            objects
                .connections
                .push((obj.instance_id(), sname, callable, callback_id));
            Ok(ObjectReply::Int(0))
        }
        ObjectOp::LiveCallbacks => {
            // With the ids of deliveries still waiting (their connection may have ended since
            // the signal fired): a slot given back and reused would get their arguments.
            objects.connections.retain(connection_live);
            let mut ids: Vec<i32> = objects.connections.iter().map(|c| c.3).collect();
            with_outbox(key, |o| ids.extend(o.callbacks.iter().map(|(id, _)| *id)));
            Ok(ObjectReply::Value(WireVariant::PackedInt32Array(ids)))
        }
        ObjectOp::CallbackArgs => {
            // Converted as the one Array the mod gets: one budget of elements and depth for all
            // the arguments (each had its own, so the mod's decoder refused what it was given).
            let args: VarArray = objects.callback_args.iter().cloned().collect();
            Ok(ObjectReply::Value(to_wire(&args.to_variant(), objects)?))
        }
        ObjectOp::Emit { name, payload } => {
            let cost = wasgo_core::variant::held_bytes(&payload).saturating_add(name.len());
            // A full queue refuses (-7) rather than drop its oldest event, which `emit` had
            // accepted, with no sign (its bytes were still counted as waiting).
            let (waiting, capacity, queued) = with_outbox(key, |o| {
                (
                    o.mod_events.len(),
                    o.mod_events.capacity(),
                    o.mod_event_bytes,
                )
            })
            .unwrap_or((0, usize::MAX, 0));
            if waiting >= capacity {
                return Err(ObjectError::failed(
                    ErrorCode::Busy.code(),
                    format!("`wasgo.emit` refused: {waiting} of this mod's `mod_event`s already wait for delivery, the most that may; they are delivered when the mod's call returns: emit again then"),
                ));
            }
            if queued > 0 && queued.saturating_add(cost) > MAX_QUEUED_EVENT_BYTES {
                return Err(ObjectError::failed(
                    ErrorCode::Busy.code(),
                    format!(
                        "`wasgo.emit` refused: this mod's `mod_event`s waiting for delivery already take {} KiB and this one {} KiB more, over {} MiB; they are delivered when the mod's call returns: emit again then (or send less)",
                        queued / 1024,
                        cost.div_ceil(1024),
                        MAX_QUEUED_EVENT_BYTES >> 20
                    ),
                ));
            }
            let payload = from_wire(&payload, objects)?;
            post(key, |o| {
                o.mod_events
                    .push((GString::from(name.as_str()), payload, cost));
                o.mod_event_bytes = o.mod_event_bytes.saturating_add(cost);
            });
            Ok(ObjectReply::Int(0))
        }
        ObjectOp::New { class } => {
            objects.created.check_room(created::cap(), "`wasgo.new`")?;
            let collision = objects.created.check_collision_room(level, &class)?;
            let obj = created::instantiate(level, &class, allows_new)?;
            if level != SafetyLevel::Unsafe {
                if let Err(refused) = objects.charge_defaults(&obj) {
                    // Never handed out: a node is freed now, a resource with its last reference.
                    if let Ok(node) = obj.clone().try_cast::<Node>() {
                        node.free();
                    }
                    return Err(refused);
                }
            }
            if let Some(kind) = collision {
                objects.created.track_collision(kind, &obj);
            }
            own(objects, obj).map(ObjectReply::Int)
        }
        ObjectOp::Asset { kind, bytes } => {
            objects
                .created
                .check_room(created::cap(), &format!("`{}`", kind.function()))?;
            let (info, cost) = assets::judge(kind, &bytes)?;
            objects
                .created
                .check_asset_budget(cost, assets::budget(), kind.function())?;
            let obj = assets::decode(kind, info, &bytes)?;
            objects.created.track_asset(&obj, cost);
            own(objects, obj).map(ObjectReply::Int)
        }
        ObjectOp::LoadResource { path } => {
            objects
                .created
                .check_room(created::cap(), "`wasgo.load_resource`")?;
            let obj = if level == SafetyLevel::Unsafe {
                assets::load_any(&path)?
            } else {
                assets::load_resource(&path)?
            };
            // Each load is a copy of its own (the cache is bypassed): counted against the
            // instance's asset memory like an asset made from bytes, for as long as it lives
            // (a 4096² texture loaded a thousand times took 64 GB).
            let cost = loaded_cost(&obj, &path);
            objects
                .created
                .check_asset_budget(cost, assets::budget(), "wasgo.load_resource")?;
            objects.created.track_asset(&obj, cost);
            own(objects, obj).map(ObjectReply::Int)
        }
    }
}

/// The memory a resource `load_resource` loaded from `path` is counted as: a texture's decoded
/// pixels (width x height x 4 bytes), anything else its file's size.
fn loaded_cost(obj: &Gd<Object>, path: &str) -> usize {
    if let Ok(texture) = obj.clone().try_cast::<godot::classes::Texture2D>() {
        let (w, h) = (texture.get_width().max(0), texture.get_height().max(0));
        return (w as usize).saturating_mul(h as usize).saturating_mul(4);
    }
    FileAccess::open(path, godot::classes::file_access::ModeFlags::READ)
        .map(|f| usize::try_from(f.get_length()).unwrap_or(usize::MAX))
        .unwrap_or(0)
}

/// Records a new object as owned by the instance and gives the mod its handle.
fn own(objects: &mut InstanceObjects, obj: Gd<Object>) -> Result<i32, ObjectError> {
    objects.created.track(&obj);
    objects
        .handle_for(&obj)
        .map_err(|r| r.into_error("the new object"))
}

/// Whether the allowlist lets mods create `class` (exactly that class).
fn allows_new(class: &StringName) -> bool {
    let chain = class_chain(class);
    with_objects(|o| o.allowlist.borrow().allows_new(&chain)).unwrap_or(false)
}

/// Gives the object `obj`, created by the instance `key`, to the game
/// (`WasmScript.adopt`); false when that instance does not own it (or has ended).
pub fn adopt(key: InstanceKey, obj: &Gd<Object>) -> bool {
    table(key)
        .and_then(|t| {
            t.try_borrow_mut()
                .ok()
                .map(|mut t| t.adopt(obj.instance_id()))
        })
        .unwrap_or(false)
}

/// The objects the instance `key` created that still exist and are not adopted.
pub fn owned_objects(key: InstanceKey) -> Vec<Gd<Object>> {
    table(key)
        .and_then(|t| {
            t.try_borrow_mut()
                .ok()
                .map(|mut t| t.created.live_objects())
        })
        .unwrap_or_default()
}
