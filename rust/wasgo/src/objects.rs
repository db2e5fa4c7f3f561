//! The object side of the mod ABI: per-instance handle tables, Variant conversion, the allowlist
//! check, signal connections and `mod_event`s. Main thread only.
//!
//! Handles: nodes and other plain objects are held by instance id, so a handle never keeps a node
//! alive and a freed node answers -4; RefCounted objects (resources) are held strongly while the
//! mod holds their handle. Handles are per instance and die with it, as do its connections.

use crate::convert::{from_wire, to_wire};
use crate::settings;
use godot::classes::{ClassDb, Engine, FileAccess, Node, Object, RefCounted};
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use wasgo_core::allowlist::{Allowlist, MemberKind};
use wasgo_core::{InstanceKey, ObjectError, ObjectHost, ObjectOp, ObjectReply, SafetyLevel, WireVariant};

/// Where the allowlist ships in the addon.
pub const ALLOWLIST_PATH: &str = "res://addons/wasgo/allowlist.cfg";

enum Slot {
    /// Held by id: never kept alive by the mod.
    Weak(InstanceId),
    /// A RefCounted object the mod holds a reference to.
    Strong(Gd<RefCounted>),
}

/// One instance's objects.
pub struct InstanceObjects {
    script: InstanceId,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    by_id: HashMap<InstanceId, i32>,
    connections: Vec<(InstanceId, StringName, Callable)>,
    callback_args: Vec<Variant>,
}

impl InstanceObjects {
    fn new(script: InstanceId) -> InstanceObjects {
        InstanceObjects { script, slots: Vec::new(), free: Vec::new(), by_id: HashMap::new(), connections: Vec::new(), callback_args: Vec::new() }
    }

    /// The handle for `obj`, reusing an existing one.
    pub fn handle_of(&mut self, obj: &Gd<Object>) -> i32 {
        let id = obj.instance_id();
        if let Some(h) = self.by_id.get(&id) {
            return *h;
        }
        let slot = match obj.clone().try_cast::<RefCounted>() {
            Ok(rc) => Slot::Strong(rc),
            Err(_) => Slot::Weak(id),
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        let h = index as i32 + 1;
        self.by_id.insert(id, h);
        h
    }

    /// The object behind a handle; -4 if the handle is unknown or its object was freed.
    pub fn object(&self, handle: i32) -> Result<Gd<Object>, ObjectError> {
        let slot = usize::try_from(handle - 1).ok().and_then(|i| self.slots.get(i)).and_then(|s| s.as_ref());
        match slot {
            Some(Slot::Strong(rc)) => Ok(rc.clone().upcast()),
            Some(Slot::Weak(id)) => Gd::<Object>::try_from_instance_id(*id).map_err(|_| ObjectError::failed(-4, format!("handle {handle} refers to an object that was freed"))),
            None => Err(ObjectError::failed(-4, format!("{handle} is not a live handle (released, or never given)"))),
        }
    }

    fn release(&mut self, handle: i32) {
        let Some(index) = usize::try_from(handle - 1).ok().filter(|i| *i < self.slots.len()) else { return };
        if let Some(slot) = self.slots[index].take() {
            let id = match &slot {
                Slot::Weak(id) => *id,
                Slot::Strong(rc) => rc.instance_id(),
            };
            self.by_id.remove(&id);
            self.free.push(index);
        }
    }

    fn disconnect_all(&mut self) {
        for (id, signal, callable) in self.connections.drain(..) {
            if let Ok(mut obj) = Gd::<Object>::try_from_instance_id(id) {
                if obj.is_connected(&signal, &callable) {
                    obj.disconnect(&signal, &callable);
                }
            }
        }
    }
}

/// What an instance's node must deliver: signals that fired for the mod and its `mod_event`s.
/// Kept apart from the object tables because signals fire in the middle of object calls.
#[derive(Default)]
pub struct Outbox {
    /// (callback id, signal arguments), in firing order.
    pub callbacks: VecDeque<(i32, Vec<Variant>)>,
    /// `wasgo.emit` calls waiting to become `mod_event` signals.
    pub mod_events: Vec<(GString, Variant)>,
}

thread_local! {
    // Each table sits in its own RefCell so that Godot code run by one op (a setter, a method)
    // can use other instances' tables; the same instance cannot re-enter (its store is busy).
    static INSTANCES: RefCell<HashMap<InstanceKey, Rc<RefCell<InstanceObjects>>>> = RefCell::new(HashMap::new());
    static OUTBOX: RefCell<HashMap<InstanceKey, Outbox>> = RefCell::new(HashMap::new());
    static ALLOWLIST: RefCell<Allowlist> = RefCell::new(Allowlist::default());
    /// (class, kind, member) → allowed, for levels 1 and 2.
    static DECISIONS: RefCell<HashMap<(StringName, MemberKind, String), bool>> = RefCell::new(HashMap::new());
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
    ALLOWLIST.with(|a| *a.borrow_mut() = list);
    DECISIONS.with(|d| d.borrow_mut().clear());
}

/// Allows more members at levels 1 and 2 (`WasmEngine.extend_allowlist`).
pub fn extend_allowlist(class: &str, kind: Option<MemberKind>, names: Vec<String>) {
    ALLOWLIST.with(|a| match kind {
        Some(kind) => a.borrow_mut().extend(class, kind, names),
        None => a.borrow_mut().extend_singletons(names),
    });
    DECISIONS.with(|d| d.borrow_mut().clear());
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

/// Whether `member` of `kind` may be reached on `obj` at `level`; Denied names `Class.member`.
fn check(obj: &Gd<Object>, level: SafetyLevel, kind: MemberKind, member: &str) -> Result<(), ObjectError> {
    if level == SafetyLevel::Unsafe {
        return Ok(());
    }
    let class = StringName::from(&obj.get_class());
    let key = (class.clone(), kind, member.to_string());
    let allowed = DECISIONS.with(|d| d.borrow().get(&key).copied()).unwrap_or_else(|| {
        let chain = class_chain(&class);
        // The game's own signals (declared in its scripts or with add_user_signal) only deliver
        // data, so a mod may listen to them; engine signals go through the allowlist.
        let game_signal = kind == MemberKind::Signal && !ClassDb::singleton().class_has_signal(&class, member);
        let ok = game_signal || ALLOWLIST.with(|a| a.borrow().allows(&chain, kind, member));
        DECISIONS.with(|d| d.borrow_mut().insert(key, ok));
        ok
    });
    if allowed {
        Ok(())
    } else {
        Err(ObjectError::Denied { member: format!("{class}.{member}") })
    }
}

/// Starts the object table of a new instance run by the node `script`.
pub fn register(key: InstanceKey, script: InstanceId) {
    INSTANCES.with(|i| i.borrow_mut().insert(key, Rc::new(RefCell::new(InstanceObjects::new(script)))));
    OUTBOX.with(|o| o.borrow_mut().insert(key, Outbox::default()));
}

/// Drops an instance's handles and connections (what is still in its outbox is dropped too).
pub fn unregister(key: InstanceKey) {
    let removed = INSTANCES.with(|i| i.borrow_mut().remove(&key));
    OUTBOX.with(|o| o.borrow_mut().remove(&key));
    if let Some(objects) = removed {
        // Disconnecting runs no user code; the borrow is ours alone here.
        if let Ok(mut objects) = objects.try_borrow_mut() {
            objects.disconnect_all();
        }
    }
}

fn table(key: InstanceKey) -> Option<Rc<RefCell<InstanceObjects>>> {
    INSTANCES.with(|i| i.borrow().get(&key).cloned())
}

/// Takes what the instance's node must deliver now.
pub fn take_outbox(key: InstanceKey) -> Outbox {
    OUTBOX.with(|o| o.borrow_mut().get_mut(&key).map(std::mem::take).unwrap_or_default())
}

fn post(key: InstanceKey, f: impl FnOnce(&mut Outbox)) {
    OUTBOX.with(|o| {
        if let Some(outbox) = o.borrow_mut().get_mut(&key) {
            f(outbox);
        }
    });
}

/// Most signal deliveries that may wait for a busy instance; later ones are dropped.
const MAX_WAITING_CALLBACKS: usize = 10_000;

/// Puts callbacks back (in front, keeping their order) while `main` holds the instance.
pub fn requeue_callbacks(key: InstanceKey, mut callbacks: VecDeque<(i32, Vec<Variant>)>) {
    post(key, |o| {
        callbacks.extend(o.callbacks.drain(..));
        if callbacks.len() > MAX_WAITING_CALLBACKS {
            godot_warn!("WasGo: {} signal deliveries to a mod busy in `main` were dropped", callbacks.len() - MAX_WAITING_CALLBACKS);
            callbacks.truncate(MAX_WAITING_CALLBACKS);
        }
        o.callbacks = callbacks;
    });
}

/// Sets the arguments `wasgo.callback_args` returns during one `native_callback`.
pub fn set_callback_args(key: InstanceKey, args: Vec<Variant>) {
    if let Some(t) = table(key) {
        if let Ok(mut t) = t.try_borrow_mut() {
            t.callback_args = args;
        }
    }
}

/// The game side of the object functions.
pub struct GodotObjectHost;

impl ObjectHost for GodotObjectHost {
    fn run(&self, key: InstanceKey, level: SafetyLevel, op: ObjectOp) -> Result<ObjectReply, ObjectError> {
        let table = table(key).ok_or_else(|| ObjectError::failed(-5, "this instance has no object table (its node is gone)"))?;
        let mut objects = table.try_borrow_mut().map_err(|_| ObjectError::failed(-7, "the instance's objects are busy with another call"))?;
        run_op(&mut objects, key, level, op)
    }
}

fn name_arg(name: &str) -> Result<StringName, ObjectError> {
    if name.is_empty() {
        return Err(ObjectError::failed(-3, "the name is empty"));
    }
    Ok(StringName::from(name))
}

fn run_op(objects: &mut InstanceObjects, key: InstanceKey, level: SafetyLevel, op: ObjectOp) -> Result<ObjectReply, ObjectError> {
    match op {
        ObjectOp::SelfNode => {
            let node = Gd::<Object>::try_from_instance_id(objects.script).map_err(|_| ObjectError::failed(-4, "the mod's node was freed"))?;
            Ok(ObjectReply::Int(objects.handle_of(&node)))
        }
        ObjectOp::GetNode { from, path } => {
            let base = if from == 0 { Gd::<Object>::try_from_instance_id(objects.script).map_err(|_| ObjectError::failed(-4, "the mod's node was freed"))? } else { objects.object(from)? };
            let base: Gd<Node> = base.try_cast::<Node>().map_err(|_| ObjectError::failed(-3, format!("handle {from} is not a Node")))?;
            let node = base.get_node_or_null(&NodePath::from(path.as_str())).ok_or_else(|| ObjectError::failed(-1, format!("there is no node at `{path}`")))?;
            Ok(ObjectReply::Int(objects.handle_of(&node.upcast())))
        }
        ObjectOp::Singleton { name } => {
            let allowed = level == SafetyLevel::Unsafe || ALLOWLIST.with(|a| a.borrow().allows_singleton(&name));
            if !allowed {
                return Err(ObjectError::Denied { member: name });
            }
            let engine = Engine::singleton();
            let sname = name_arg(&name)?;
            if !engine.has_singleton(&sname) {
                return Err(ObjectError::failed(-1, format!("there is no singleton `{name}`")));
            }
            let obj = engine.get_singleton(&sname).ok_or_else(|| ObjectError::failed(-1, format!("there is no singleton `{name}`")))?;
            Ok(ObjectReply::Int(objects.handle_of(&obj)))
        }
        ObjectOp::Release { handle } => {
            objects.release(handle);
            Ok(ObjectReply::Int(0))
        }
        ObjectOp::Get { handle, name } => {
            let obj = objects.object(handle)?;
            check(&obj, level, MemberKind::Property, &name)?;
            let value = obj.get(&name_arg(&name)?);
            to_wire(&value, objects).map(ObjectReply::Value)
        }
        ObjectOp::Set { handle, name, value } => {
            let mut obj = objects.object(handle)?;
            check(&obj, level, MemberKind::Property, &name)?;
            let value = from_wire(&value, objects)?;
            obj.set(&name_arg(&name)?, &value);
            Ok(ObjectReply::Int(0))
        }
        ObjectOp::Call { handle, method, args } => {
            let mut obj = objects.object(handle)?;
            check(&obj, level, MemberKind::Method, &method)?;
            let sname = name_arg(&method)?;
            if !obj.has_method(&sname) {
                return Err(ObjectError::failed(-1, format!("`{}` has no method `{method}`", obj.get_class())));
            }
            let args: VarArray = args.iter().map(|a| from_wire(a, objects)).collect::<Result<_, _>>()?;
            let result = obj.callv(&sname, &args);
            to_wire(&result, objects).map(ObjectReply::Value)
        }
        ObjectOp::Connect { handle, signal, callback_id } => {
            let mut obj = objects.object(handle)?;
            check(&obj, level, MemberKind::Signal, &signal)?;
            let sname = name_arg(&signal)?;
            if !obj.has_signal(&sname) {
                return Err(ObjectError::failed(-1, format!("`{}` has no signal `{signal}`", obj.get_class())));
            }
            let callable = Callable::from_fn("wasgo_native_callback", move |args: &[&Variant]| {
                let args: Vec<Variant> = args.iter().map(|v| (*v).clone()).collect();
                post(key, |o| o.callbacks.push_back((callback_id, args)));
                Variant::nil()
            });
            let err = obj.connect(&sname, &callable);
            if err != godot::global::Error::OK {
                return Err(ObjectError::failed(-5, format!("connecting `{signal}` failed: {err:?}")));
            }
            objects.connections.push((obj.instance_id(), sname, callable));
            Ok(ObjectReply::Int(0))
        }
        ObjectOp::CallbackArgs => {
            let args: Vec<Variant> = objects.callback_args.clone();
            let items = args.iter().map(|v| to_wire(v, objects)).collect::<Result<Vec<_>, _>>()?;
            Ok(ObjectReply::Value(WireVariant::Array(items)))
        }
        ObjectOp::Emit { name, payload } => {
            let payload = from_wire(&payload, objects)?;
            post(key, |o| o.mod_events.push((GString::from(name.as_str()), payload)));
            Ok(ObjectReply::Int(0))
        }
    }
}
