//! Tweens made by mods. Main thread only.
//!
//! A mod may call `create_tween()` on a node it holds (owned or in its reach, like every
//! handle); the `Tween` is owned by its instance (counted against
//! `wasgo/limits/max_objects_per_mod`, killed when the instance ends). `Tween.tween_property`
//! is the one call that could set something the mod may not set, so it is checked here: its
//! target must be an object the mod holds (the handle conversion already refuses anything out
//! of reach, -1) and the tweened property — the first part of the property path,
//! `position` for `position:x` — must be allowlisted for the target's class, or the mod traps
//! like at any denied member (a tween can never set `script`). Tween methods that take a
//! Callable (`tween_callback`, `tween_method`) stay closed: a mod cannot pass a Callable.

use godot::prelude::*;
use wasgo_catalog::ErrorCode;
use wasgo_core::{ObjectError, SafetyLevel};

/// Whether calling `method` makes a tween the instance will own.
pub fn creates_tween(method: &str) -> bool {
    method == "create_tween"
}

/// Checks `Tween.tween_property(object, property, final_val, duration)`: `allowed(class,
/// property)` says whether the property may be set on that class.
///
/// # Errors
/// -3 for a missing target or property; the `Denied` of `allowed` for a property the allowlist
/// does not open.
pub fn check_tween_property(
    level: SafetyLevel,
    args: &VarArray,
    allowed: impl FnOnce(&StringName, &str) -> Result<(), ObjectError>,
) -> Result<(), ObjectError> {
    if level == SafetyLevel::Unsafe {
        return Ok(());
    }
    let invalid = |why: &str| {
        Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            why.to_string(),
        ))
    };
    let Some(target) = args
        .get(0)
        .and_then(|v| v.try_to::<Option<Gd<Object>>>().ok().flatten())
    else {
        return invalid("`tween_property` takes the target object's handle as its first argument");
    };
    let Some(path) = args.get(1).map(|v| v.to_string()) else {
        return invalid("`tween_property` takes the property name as its second argument");
    };
    let property = path.split(':').next().unwrap_or_default();
    if property.is_empty() {
        return invalid("`tween_property` was given an empty property name");
    }
    allowed(&StringName::from(&target.get_class()), property)
}
