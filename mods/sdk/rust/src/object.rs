//! Godot objects as handles: [`Object`] owns one handle of the instance's handle table and
//! releases it when dropped.

use alloc::string::String;
use alloc::vec::Vec;

use crate::callbacks::{self, CallbackId};
use crate::variant::{Vector2, Vector3};
use crate::{buffer, check, len, ptr, sys, Error, Result, Variant};

/// A Godot object (usually a node) the mod holds a handle to.
///
/// The handle is released (`wasgo.release`) when the `Object` is dropped. The game may free the
/// object meanwhile: every call then fails with [`Error::InvalidHandle`], never a crash.
#[derive(Debug)]
pub struct Object {
    handle: i32,
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
        (handle > 0).then_some(Object { handle })
    }

    fn owned(code: i32) -> Result<Object> {
        match check(code)? {
            0 => Err(Error::NotFound),
            handle => Ok(Object { handle }),
        }
    }

    /// The raw handle (valid while this `Object` lives).
    pub fn handle(&self) -> i32 {
        self.handle
    }

    /// Gives the handle up without releasing it.
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
        Object::owned(unsafe { sys::get_node(self.handle, ptr(path.as_bytes()), len(path.as_bytes())) })
    }

    /// Reads the property `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown property; a property denied at this level traps the mod.
    pub fn get(&self, name: &str) -> Result<Variant> {
        let bytes = buffer::read_with(|out, cap| {
            // SAFETY: the name is live for the call; `out..out+cap` is a buffer `read_with` owns.
            unsafe { sys::get(self.handle, ptr(name.as_bytes()), len(name.as_bytes()), out, cap) }
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
        check(unsafe { sys::set(self.handle, ptr(name.as_bytes()), len(name.as_bytes()), ptr(&bytes), len(&bytes)) }).map(drop)
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
            unsafe { sys::call(self.handle, ptr(method.as_bytes()), len(method.as_bytes()), ptr(&encoded), len(&encoded), out, cap) }
        })?;
        Ok(Variant::decode(&bytes)?)
    }

    /// Connects the signal `signal` to `callback`, which receives the signal's arguments. The
    /// closure lives as long as the instance (or until [`CallbackId::forget`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown signal.
    pub fn connect(&self, signal: &str, callback: impl FnMut(&[Variant]) + 'static) -> Result<CallbackId> {
        let id = callbacks::register(callback);
        // SAFETY: the signal name is live for the call; the host only reads it.
        match check(unsafe { sys::connect(self.handle, ptr(signal.as_bytes()), len(signal.as_bytes()), id.raw()) }) {
            Ok(_) => Ok(id),
            Err(e) => {
                id.forget();
                Err(e)
            }
        }
    }

    // ---- conveniences over `get`/`set`/`call` for the most common node properties ----------

    /// `name` of a node.
    pub fn name(&self) -> Result<String> {
        self.get("name")?.as_str().map(String::from).ok_or(Error::InvalidArgument)
    }

    /// `position` of a Node2D or Control.
    pub fn position(&self) -> Result<Vector2> {
        self.get("position")?.as_vector2().ok_or(Error::InvalidArgument)
    }

    /// Sets `position` of a Node2D or Control.
    pub fn set_position(&self, position: Vector2) -> Result<()> {
        self.set("position", position)
    }

    /// `position` of a Node3D.
    pub fn position_3d(&self) -> Result<Vector3> {
        self.get("position")?.as_vector3().ok_or(Error::InvalidArgument)
    }

    /// The node's children (`get_children()`), each as an owned handle.
    pub fn children(&self) -> Result<Vec<Object>> {
        let list = self.call("get_children", &[])?;
        Ok(list.as_array().unwrap_or(&[]).iter().filter_map(|v| v.as_object_handle().and_then(Object::from_handle)).collect())
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: releasing a handle takes no pointers; an unknown handle is ignored by the host.
        unsafe { sys::release(self.handle) }
    }
}
