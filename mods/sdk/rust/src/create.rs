//! Objects the mod creates: [`new_object`] and the tree helpers on [`Object`]
//! ([`Object::add_child`], [`Object::remove_child`], [`Object::queue_free`]).
//!
//! What a mod creates is owned by its instance: it counts against the game's
//! `wasgo/limits/max_objects_per_mod` ([`Error::Busy`] past it) and is freed when the instance
//! ends unless the game adopts it. Only owned nodes may be added, removed or freed, and only under
//! nodes the mod may reach (its own node, or what the game's `reach` lets it see).
//!
//! ```ignore
//! let me = wasgo_sdk::self_node()?;
//! let label = wasgo_sdk::new_object("Label")?;
//! label.set("text", "hello from a mod")?;
//! me.add_child(&label)?;
//! ```

use crate::{len, ptr, sys, Object, Result, Variant};
#[allow(unused_imports)] // named by the docs
use crate::Error;

/// Creates an object of a class the game's allowlist marks `instantiable` (`"Sprite2D"`,
/// `"Label"`, `"Timer"`, `"StandardMaterial3D"`, ...), owned by this instance.
///
/// # Errors
/// [`Error::NotFound`] for a class Godot does not have, [`Error::InvalidArgument`] for one the
/// mod may not create (the message, in [`crate::last_error`], says why), [`Error::Busy`] past the
/// game's per-mod object cap.
pub fn new_object(class: &str) -> Result<Object> {
    // SAFETY: the name is live for the call; the host only reads it.
    let code = unsafe { sys::new(ptr(class.as_bytes()), len(class.as_bytes())) };
    Object::from_code(code)
}

impl Object {
    /// Adds `child` (a node this mod created, without a parent yet) under this node.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `child` is not the mod's own or already has a parent;
    /// [`Error::NotFound`] when this node left the mod's reach.
    pub fn add_child(&self, child: &Object) -> Result<()> {
        self.call("add_child", &[Variant::from(child)]).map(|_| ())
    }

    /// Removes `child` (a node this mod created) from this node; it stays owned (free it with
    /// [`Object::queue_free`] or add it elsewhere).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `child` is not the mod's own or not a child of this node.
    pub fn remove_child(&self, child: &Object) -> Result<()> {
        self.call("remove_child", &[Variant::from(child)]).map(|_| ())
    }

    /// Frees this node (one the mod created) at the end of the frame.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a node the mod did not create.
    pub fn queue_free(&self) -> Result<()> {
        self.call("queue_free", &[]).map(|_| ())
    }
}
