//! Godot objects as handles: [`Object`] owns one handle of the instance's handle table and
//! releases it when dropped.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::callbacks::{self, CallbackId};
use crate::local::Local;
use crate::variant::{Vector2, Vector3};
use crate::{buffer, check, len, ptr, sys, Error, Result, Variant};

/// A Godot object (usually a node) the mod holds a handle to.
///
/// WasGo gives the same handle each time the same object crosses, and `wasgo.release` forgets
/// it for all its holders; so the SDK counts the `Object`s holding each handle and releases it
/// when the last one is dropped. Cloning an `Object` is cheap. The game may free the object
/// meanwhile: every call then fails with [`Error::InvalidHandle`], never a crash.
#[derive(Debug)]
pub struct Object {
    handle: i32,
}

/// How many `Object`s hold each handle.
static HOLDERS: Local<BTreeMap<i32, u32>> = Local::new(BTreeMap::new());

/// The handles a group pass handed the mod ([`Object::pinned`]): the pass owns them, so an
/// `Object` of the mod's own for the same node never releases them when dropped (the next pass
/// then had another number for the node, whose per-node state the mod kept by handle). Handle
/// numbers are the host table's slots, so this holds at most one entry per slot.
static PINNED: Local<alloc::collections::BTreeSet<i32>> =
    Local::new(alloc::collections::BTreeSet::new());

fn hold(handle: i32) -> Object {
    HOLDERS.with(|h| *h.entry(handle).or_insert(0) += 1);
    Object { handle }
}

/// The node running this mod (the `WasmScript`).
///
/// # Errors
/// [`Error::NotFound`] when there is none (e.g. a module run outside a node).
pub fn self_node() -> Result<Object> {
    // SAFETY: no arguments.
    Object::owned(unsafe { sys::self_() })
}

/// An engine singleton allowed at this level (`"Input"`, `"Time"`, ...).
///
/// # Errors
/// [`Error::NotFound`] for an unknown singleton; a denied one traps the mod.
pub fn singleton(name: &str) -> Result<Object> {
    // SAFETY: the name is live for the call; the host only reads it.
    Object::owned(unsafe { sys::singleton(ptr(name.as_bytes()), len(name.as_bytes())) })
}

impl Object {
    /// Takes ownership of `handle`, as returned by the host (for instance inside a
    /// [`Variant::Object`]); it is released on drop. `None` for the null handle 0.
    pub fn from_handle(handle: i32) -> Option<Object> {
        (handle > 0).then(|| hold(handle))
    }

    /// A node a group pass hands the mod (`process_node`, [`Nodes`]): the pass owns the handle
    /// and gives the same one every frame, so it is counted as held once, whatever the number of
    /// frames (counting it at every call grew its count without end), and never released by the
    /// returned borrow. `None` for the null handle 0.
    #[doc(hidden)]
    pub fn pinned(handle: i32) -> Option<core::mem::ManuallyDrop<Object>> {
        (handle > 0).then(|| {
            PINNED.with(|p| {
                p.insert(handle);
            });
            core::mem::ManuallyDrop::new(Object { handle })
        })
    }

    /// The object a creating function returned (`wasgo.new`, ...): its handle, or the error.
    pub(crate) fn from_code(code: i32) -> Result<Object> {
        Object::owned(code)
    }

    fn owned(code: i32) -> Result<Object> {
        match check(code)? {
            0 => Err(Error::NotFound),
            handle => Ok(hold(handle)),
        }
    }

    /// The raw handle (valid while this `Object` lives).
    pub fn handle(&self) -> i32 {
        self.handle
    }

    /// Gives the handle up without releasing it (it stays held, for good).
    pub fn into_handle(self) -> i32 {
        let handle = self.handle;
        core::mem::forget(self);
        handle
    }

    /// The node at `path`, relative to this node (`"Sprite"`, `"../Arena/Players"`).
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such node, [`Error::InvalidHandle`] when this node is gone.
    pub fn get_node(&self, path: &str) -> Result<Object> {
        // SAFETY: the path is live for the call; the host only reads it.
        Object::owned(unsafe {
            sys::get_node(self.handle, ptr(path.as_bytes()), len(path.as_bytes()))
        })
    }

    /// Reads the property `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown property; a property denied at this level traps the mod.
    pub fn get(&self, name: &str) -> Result<Variant> {
        let bytes = buffer::read_with(|out, cap| {
            // SAFETY: the name is live for the call; `out..out+cap` is a buffer `read_with` owns.
            unsafe {
                sys::get(
                    self.handle,
                    ptr(name.as_bytes()),
                    len(name.as_bytes()),
                    out,
                    cap,
                )
            }
        })?;
        Ok(Variant::decode(&bytes)?)
    }

    /// Sets the property `name` to `value`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown property, [`Error::InvalidArgument`] for a value of the wrong type.
    pub fn set(&self, name: &str, value: impl Into<Variant>) -> Result<()> {
        let bytes = value.into().encode();
        // SAFETY: both slices are live for the call; the host only reads them.
        check(unsafe {
            sys::set(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                ptr(&bytes),
                len(&bytes),
            )
        })
        .map(drop)
    }

    /// Calls the method `method` with `args` and returns its result.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown method, [`Error::CallFailed`] when Godot reports an
    /// error; a method denied at this level traps the mod.
    pub fn call(&self, method: &str, args: &[Variant]) -> Result<Variant> {
        let encoded = Variant::Array(args.to_vec()).encode();
        let bytes = buffer::read_with(|out, cap| {
            // SAFETY: the name and the arguments are live for the call; `out..out+cap` is a
            // buffer `read_with` owns.
            unsafe {
                sys::call(
                    self.handle,
                    ptr(method.as_bytes()),
                    len(method.as_bytes()),
                    ptr(&encoded),
                    len(&encoded),
                    out,
                    cap,
                )
            }
        })?;
        Ok(Variant::decode(&bytes)?)
    }

    /// Whether this object is of class `class` or a subclass of it (`"InputEventKey"`,
    /// `"Node2D"`, ...).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the object is gone.
    pub fn is_class(&self, class: &str) -> Result<bool> {
        let answer = self.call("is_class", &[Variant::from(class)])?;
        answer.as_bool().ok_or(Error::CallFailed)
    }

    /// On an input event (the handle [`export_input!`](crate::export_input) passes): whether it
    /// is the game's input-map action `action` pressed (`"ui_accept"`, `"jump"`, ...).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the object is not an input event.
    pub fn is_action_pressed(&self, action: &str) -> Result<bool> {
        let answer = self.call("is_action_pressed", &[Variant::StringName(action.into())])?;
        answer.as_bool().ok_or(Error::CallFailed)
    }

    /// Connects the signal `signal` to `callback`, which receives the signal's arguments. The
    /// closure lives as long as the instance (or until [`CallbackId::forget`]; the connection
    /// itself lasts until the object or the instance ends, and its id is never reused).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown signal.
    pub fn connect(
        &self,
        signal: &str,
        callback: impl FnMut(&[Variant]) + 'static,
    ) -> Result<CallbackId> {
        let id = callbacks::register(callback);
        // SAFETY: the signal name is live for the call; the host only reads it.
        match check(unsafe {
            sys::connect(
                self.handle,
                ptr(signal.as_bytes()),
                len(signal.as_bytes()),
                id.raw(),
            )
        }) {
            Ok(_) => Ok(id),
            Err(e) => {
                id.forget_refused();
                Err(e)
            }
        }
    }

    // ---- typed fast paths: no Variant encoding, for per-frame work ---------------------------

    /// Reads a numeric property (`rotation`, `scale` is not one: use [`Object::get_vec2`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown property, [`Error::InvalidArgument`] when it is not a number.
    pub fn get_float(&self, name: &str) -> Result<f64> {
        let mut out = 0.0f64;
        // SAFETY: the name is live for the call and `out` is a writable, aligned f64.
        check(unsafe {
            sys::get_float(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                (&mut out as *mut f64).cast(),
            )
        })?;
        Ok(out)
    }

    /// Sets a float property.
    pub fn set_float(&self, name: &str, value: f64) -> Result<()> {
        // SAFETY: the name is live for the call; the host only reads it.
        check(unsafe {
            sys::set_float(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                value,
            )
        })
        .map(drop)
    }

    /// Reads a Vector2 property.
    pub fn get_vec2(&self, name: &str) -> Result<Vector2> {
        let mut out = [0.0f32; 2];
        // SAFETY: the name is live for the call and `out` has room for the two f32 written.
        check(unsafe {
            sys::get_vec2(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                out.as_mut_ptr().cast(),
            )
        })?;
        Ok(Vector2::new(out[0], out[1]))
    }

    /// Sets a Vector2 property.
    pub fn set_vec2(&self, name: &str, value: Vector2) -> Result<()> {
        // SAFETY: the name is live for the call; the host only reads it.
        check(unsafe {
            sys::set_vec2(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                value.x,
                value.y,
            )
        })
        .map(drop)
    }

    /// Reads a Vector3 property.
    pub fn get_vec3(&self, name: &str) -> Result<Vector3> {
        let mut out = [0.0f32; 3];
        // SAFETY: the name is live for the call and `out` has room for the three f32 written.
        check(unsafe {
            sys::get_vec3(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                out.as_mut_ptr().cast(),
            )
        })?;
        Ok(Vector3::new(out[0], out[1], out[2]))
    }

    /// Sets a Vector3 property.
    pub fn set_vec3(&self, name: &str, value: Vector3) -> Result<()> {
        // SAFETY: the name is live for the call; the host only reads it.
        check(unsafe {
            sys::set_vec3(
                self.handle,
                ptr(name.as_bytes()),
                len(name.as_bytes()),
                value.x,
                value.y,
                value.z,
            )
        })
        .map(drop)
    }

    /// Calls a method whose arguments are all numbers; returns its numeric result (0 when it
    /// returns nothing).
    pub fn call_float(&self, method: &str, args: &[f64]) -> Result<f64> {
        let mut out = 0.0f64;
        // SAFETY: the name and the arguments are live for the call; `out` is a writable f64.
        check(unsafe {
            sys::call_float(
                self.handle,
                ptr(method.as_bytes()),
                len(method.as_bytes()),
                args.as_ptr().cast(),
                args.len() as i32,
                (&mut out as *mut f64).cast(),
            )
        })?;
        Ok(out)
    }

    // ---- conveniences for the most common node properties --------------------------------

    /// `name` of a node.
    pub fn name(&self) -> Result<String> {
        self.get("name")?
            .as_str()
            .map(String::from)
            .ok_or(Error::InvalidArgument)
    }

    /// `position` of a Node2D or Control (through the fast path).
    pub fn position(&self) -> Result<Vector2> {
        self.get_vec2("position")
    }

    /// Sets `position` of a Node2D or Control (through the fast path).
    pub fn set_position(&self, position: Vector2) -> Result<()> {
        self.set_vec2("position", position)
    }

    /// `position` of a Node3D (through the fast path).
    pub fn position_3d(&self) -> Result<Vector3> {
        self.get_vec3("position")
    }

    /// The node's children, in order, each as an owned handle.
    pub fn children(&self) -> Result<Vec<Object>> {
        // `get_child_count` + `get_child` rather than `get_children`, whose typed `Array[Node]`
        // result this WasGo cannot pass yet.
        let count = self.call_float("get_child_count", &[])? as i64;
        (0..count)
            .map(|i| {
                let child = self.call("get_child", &[Variant::Int(i)])?;
                child
                    .as_object_handle()
                    .and_then(Object::from_handle)
                    .ok_or(Error::NotFound)
            })
            .collect()
    }
}

impl Clone for Object {
    fn clone(&self) -> Self {
        hold(self.handle)
    }
}

impl PartialEq for Object {
    /// The same handle is the same object.
    fn eq(&self, other: &Self) -> bool {
        self.handle == other.handle
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        if let_go(self.handle) {
            // SAFETY: releasing a handle takes no pointers; an unknown handle is ignored by the host.
            unsafe { sys::release(self.handle) }
        }
    }
}

/// One `Object` of `handle` is dropped: whether the handle is to be released now (it was the
/// last holder, and no group pass owns the handle).
fn let_go(handle: i32) -> bool {
    let last = HOLDERS.with(|h| match h.get_mut(&handle) {
        Some(1) | None => {
            h.remove(&handle);
            true
        }
        Some(n) => {
            *n -= 1;
            false
        }
    });
    last && !PINNED.with(|p| p.contains(&handle))
}

impl From<&Object> for crate::Variant {
    fn from(o: &Object) -> Self {
        crate::Variant::Object(o.handle())
    }
}

/// A batch of the `process_group`'s nodes handed to `process_nodes` (see
/// [`export_process_nodes!`](crate::export_process_nodes)): the handles `get_node` gives for
/// them, the same every frame, borrowed from the pass (never released by the view).
#[derive(Debug, Clone, Copy)]
pub struct Nodes<'a> {
    handles: &'a [i32],
}

impl<'a> Nodes<'a> {
    /// The view of `handles`.
    pub fn from_handles(handles: &'a [i32]) -> Nodes<'a> {
        Nodes { handles }
    }

    /// The view of the `count` handles the host wrote at `ptr` (what the export macros call).
    ///
    /// # Safety
    /// `ptr` must hold `count` i32s that stay untouched for `'a`; a count below 1 is empty.
    #[doc(hidden)]
    pub unsafe fn from_raw(ptr: i32, count: i32) -> Nodes<'a> {
        if count <= 0 || ptr == 0 {
            return Nodes { handles: &[] };
        }
        // SAFETY: the caller promises `count` live i32s at `ptr` (the host's buffer, aligned
        // to 4 by its `malloc(size, 4)`).
        let handles =
            unsafe { core::slice::from_raw_parts(ptr as usize as *const i32, count as usize) };
        Nodes { handles }
    }

    /// How many nodes this batch holds.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether this batch holds no node.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The raw handles (for the `sys` functions).
    pub fn handles(&self) -> &'a [i32] {
        self.handles
    }

    /// Each node as a borrowed [`Object`] (never released: the pass owns the handle).
    pub fn iter(&self) -> impl Iterator<Item = core::mem::ManuallyDrop<Object>> + 'a {
        self.handles.iter().filter_map(|h| Object::pinned(*h))
    }
}

#[cfg(test)]
mod nodes_tests {
    use super::Nodes;

    #[test]
    fn a_batch_lists_its_handles_and_an_empty_or_null_one_has_none() {
        let handles = [3, 5, 8];
        let nodes = Nodes::from_handles(&handles);
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes.handles(), &handles);
        assert_eq!(
            nodes
                .iter()
                .map(|o| o.handle())
                .collect::<alloc::vec::Vec<_>>(),
            handles
        );
        // SAFETY: a zero count or null pointer is never read.
        let empty = unsafe { Nodes::from_raw(0, 5) };
        assert!(empty.is_empty());
        // SAFETY: as above.
        assert!(unsafe { Nodes::from_raw(16, -1) }.is_empty());
    }

    /// A group pass gives the same handles every frame: they are pinned, never counted as held
    /// (the count grew by one per node per frame).
    #[test]
    fn handles_of_a_batch_are_pinned_not_held_whatever_the_frames() {
        let handles = [7001, 7002];
        let nodes = Nodes::from_handles(&handles);
        for _ in 0..1000 {
            nodes.iter().for_each(drop);
        }
        for h in handles {
            assert_eq!(super::HOLDERS.with(|m| m.get(&h).copied()), None);
            assert!(super::PINNED.with(|p| p.contains(&h)));
        }
    }

    /// The mod held a node before a pass handed it over: dropping its own `Object` later
    /// keeps the pass's handle (pinning added nothing to a held handle, and the drop released
    /// it: the next pass had another number for the node).
    #[test]
    fn dropping_the_mods_own_object_keeps_a_pinned_handle() {
        // Off wasm there is no host to release to: the `Object` is forgotten and its drop's
        // decision taken by hand.
        core::mem::forget(super::hold(7101));
        let _pass = Nodes::from_handles(&[7101]).iter().count();
        assert!(!super::let_go(7101), "the pass's handle was released");
        assert_eq!(super::HOLDERS.with(|m| m.get(&7101).copied()), None);
        core::mem::forget(super::hold(7102));
        assert!(
            super::let_go(7102),
            "a handle no pass owns is released by its last holder"
        );
    }
}
