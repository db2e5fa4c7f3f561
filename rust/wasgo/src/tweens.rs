//! Tweens made by mods. Main thread only.
//!
//! A mod may call `create_tween()` on a node it holds (owned or in its reach, like every
//! handle); the `Tween` is owned by its instance (counted against
//! `wasgo/limits/max_objects_per_mod`, killed when the instance ends). `Tween.tween_property`
//! is the one call that could set something the mod may not set, so it is checked here: its
//! target must be an object the mod holds (the handle conversion already refuses anything out
//! of reach, -1) and the tweened property — the first part of the property path,
//! `position` for `position:x` — must be allowlisted for the target's class, or the mod traps
//! like at any denied member (a tween can never set `script`), and a property with a range in
//! the allowlist (a particle node's `amount`) cannot be tweened at all (`as_relative`, `from`
//! and loops would take it past its range). Tween methods that take a Callable
//! (`tween_callback`, `tween_method`) stay closed: a mod cannot pass a Callable.
//!
//! A tween may animate only what the mod may change: a resource the game made (a shape, a
//! material, `LabelSettings`) is shared by every node that uses it, in reach or not, so a tween
//! of one is refused like a `set` of it; and a `global_*` property, which Godot refuses (with an
//! error, at every step) on a node outside the tree, is animated through its local twin.
//!
//! A looping tween must take time per loop (`wasgo_core::tween_plan`): the calls that change
//! its loops, speed or tweeners are followed, and one that would let Godot run its loops
//! without end inside a frame is refused and the tween killed. A property tweener's time
//! counts only when its target lives as long as the tween ([`tweener_kind`]).

use godot::classes::Tween;
use godot::prelude::*;
use wasgo_catalog::ErrorCode;
use wasgo_core::tween_plan::{TweenPlan, TweenRefusal, Tweener};
use wasgo_core::variant::range_value;
use wasgo_core::{ObjectError, WireVariant};

/// Whether calling `method` makes a tween the instance will own.
pub fn creates_tween(method: &str) -> bool {
    method == "create_tween"
}

/// Checks `Tween.tween_property(object, property, final_val, duration)` at levels 1 and 2:
/// `allowed(target, class, property)` says whether the property may be set on that object of
/// that class, `ranged` whether the allowlist bounds its values.
///
/// # Errors
/// -3 for a missing target or property, or a ranged property; the error of `allowed` for a
/// property the allowlist does not open (or the object refuses).
pub fn check_tween_property(
    args: &VarArray,
    allowed: impl FnOnce(&Gd<Object>, &StringName, &str) -> Result<(), ObjectError>,
    ranged: impl FnOnce(&StringName, &str) -> bool,
) -> Result<(), ObjectError> {
    let invalid = |why: &str| {
        Err(ObjectError::failed(
            ErrorCode::InvalidArgument.code(),
            why.to_string(),
        ))
    };
    let Some(target) = tween_target(args) else {
        return invalid("`tween_property` takes the target object's handle as its first argument");
    };
    let Some(path) = args.get(1).map(|v| v.to_string()) else {
        return invalid("`tween_property` takes the property name as its second argument");
    };
    let property = path.split(':').next().unwrap_or_default();
    if property.is_empty() {
        return invalid("`tween_property` was given an empty property name");
    }
    let class = StringName::from(&target.get_class());
    allowed(&target, &class, property)?;
    // A text animated into a name is set to it (`AnimatedSprite2D.animation`), as by `set`: it
    // is held to the rule for names (`crate::name_params`).
    if let Some(text) = args
        .get(2)
        .filter(|v| v.get_type() == VariantType::STRING)
        .map(|v| v.to_string())
    {
        if crate::name_params::property_takes_name(&class, property) {
            let what =
                || format!("the value `tween_property` animates `{class}.{property}` to (a name)");
            if let Some(refused) = wasgo_core::objects::hidden_text_refusal(&text, true, what) {
                return Err(refused);
            }
        }
    }
    if property.starts_with("global_") {
        return invalid(&format!(
            "`tween_property` cannot animate `{class}.{property}`: Godot refuses a global transform on a node outside the scene tree, with an error at every step of the tween; animate its local twin (`{}`) instead",
            property.trim_start_matches("global_")
        ));
    }
    let final_type = args.get(2).map_or(VariantType::NIL, |v| v.get_type());
    if final_type == VariantType::OBJECT {
        return invalid(&object_value_refusal(&format!("`{class}.{property}`")));
    }
    // A release build of Godot sets what it is given at the end of the tween (and at every step
    // of a value it cannot interpolate) without checking its type: `null` became the member's
    // default (black, 0, no resource), an array given to a text the text of all its elements.
    if final_type == VariantType::NIL {
        return invalid(&format!(
            "`tween_property` cannot animate `{class}.{property}` to null: a tween animates values; set it with `set` instead"
        ));
    }
    if !path.contains(':')
        && crate::convert::is_container_type(final_type)
        && crate::name_params::property_takes_text(&class, property)
    {
        return Err(crate::name_params::container_to_text_refusal(&format!(
            "the value `tween_property` animates `{class}.{property}` to"
        )));
    }
    // Members whose setters refuse values Godot would step through (a frame past the sheet, a
    // name no animation has, a timer's time of 0): Godot logs an error at every step of the
    // tween, in its tween processing, outside every mod call and its log allowance. A name is
    // not interpolated anyway; the others are set with `set`.
    let discrete = crate::name_params::property_takes_name(&class, property)
        || DISCRETE
            .iter()
            .any(|(c, p)| *p == property && target.is_class(*c));
    if discrete {
        return invalid(&format!(
            "`tween_property` cannot animate `{class}.{property}`: Godot refuses some of the values a tween steps through with an error at every step, outside every mod call; set it with `set` instead"
        ));
    }
    if ranged(&class, property) {
        return invalid(&format!(
            "`tween_property` cannot animate `{class}.{property}`: its values have a range in the allowlist; set it with `set` instead"
        ));
    }
    // A sub-path into a value (`position:x`) animates part of it; into an object
    // (`label_settings:font_size`, `mesh:rings`, `font:data`) it would set a member of another
    // object that no allowlist check, range or pool ever saw.
    // Decided by what the property may hold, not by what it holds now: Godot follows the path
    // at every step, into whatever object the property holds then (a property empty now could
    // be given the game's shared `LabelSettings` right after).
    if path.contains(':')
        && (target.get(property).get_type() == VariantType::OBJECT
            || crate::name_params::property_may_hold_object(&class, property))
    {
        return invalid(&format!(
            "`tween_property` cannot animate `{path}`: `{class}.{property}` holds an object, and a tween may animate only the target's own values (tween that object's property on it instead)"
        ));
    }
    Ok(())
}

/// Members (by class) whose setters refuse part of the values between two valid ones, or which
/// are no quantity to animate: not tweened (see [`check_tween_property`]).
const DISCRETE: &[(&str, &str)] = &[
    ("Sprite2D", "frame"),
    ("Sprite2D", "frame_coords"),
    ("Sprite2D", "hframes"),
    ("Sprite2D", "vframes"),
    ("Sprite3D", "frame"),
    ("Sprite3D", "frame_coords"),
    ("Sprite3D", "hframes"),
    ("Sprite3D", "vframes"),
    ("Timer", "wait_time"),
    ("Timer", "time_left"),
];

/// Whether a `tween_property` of `target` always takes its duration, for a tween bound to the
/// node `bound` (the node `create_tween` was called on): a resource lives while its tweener
/// holds it, and freeing the bound node kills the tween; any other object can be freed while
/// the tween runs, and Godot then ends its tweener at once.
pub fn tweener_kind(target: &Gd<Object>, bound: Option<InstanceId>) -> Tweener {
    if target.is_class("RefCounted") || bound == Some(target.instance_id()) {
        Tweener::Kept
    } else {
        Tweener::MayEndAtOnce
    }
}

/// The first argument of a `tween_property` call, the target, once converted.
pub fn tween_target(args: &VarArray) -> Option<Gd<Object>> {
    args.get(0)
        .and_then(|v| v.try_to::<Option<Gd<Object>>>().ok().flatten())
}

/// Why a tween may not take an object as a value of `what`: it cannot be interpolated, so Godot
/// sets it once part of the tween's time passed, past every check a `set` of the property
/// makes (a particle node's mesh, for one). (A start value, `PropertyTweener.from`, must match
/// the final value's type: Godot refuses an object there once the final value is not one.)
pub(crate) fn object_value_refusal(what: &str) -> String {
    format!(
        "a tween cannot animate {what} to or from an object: a tween animates values, and it would set the object at some point of its time without the checks `set` makes; set it with `set` instead"
    )
}

/// The Tween methods that change what [`plan_after`] follows (or, `tween_property`, are
/// checked by [`check_tween_property`]): only these look at the object's class.
pub const PLANNED_METHODS: &[&str] = &[
    "set_loops",
    "set_speed_scale",
    "tween_interval",
    "tween_property",
];

/// The plan of a tween after `method(args)` on it (the arguments as the mod sent them; a
/// number is an int, a float or a bool, never a text): `Ok(None)` for a call that changes none of
/// its loops, speed or tweeners, `Ok(Some(next))` for one that keeps the rule. `property` is
/// what a `tween_property` adds ([`tweener_kind`] of its target).
///
/// # Errors
/// The refusal of a call that would break the rule.
pub fn plan_after(
    mut plan: TweenPlan,
    method: &str,
    args: &[WireVariant],
    property: Tweener,
) -> Result<Option<TweenPlan>, TweenRefusal> {
    // A missing argument is Godot's default: `set_loops()` loops forever.
    let arg = |i: usize| args.get(i).and_then(|v| range_value(v).number());
    let not_a_number = |what: &str| {
        TweenRefusal(format!(
            "`{method}` takes a number as its {what}, and was given something else."
        ))
    };
    match method {
        "set_loops" => {
            let loops = match args.first() {
                None => 0.0,
                Some(_) => arg(0).ok_or_else(|| not_a_number("loop count"))?,
            };
            if loops.fract() != 0.0 || loops.abs() > i64::MAX as f64 {
                return Err(not_a_number("loop count"));
            }
            plan.set_loops(loops as i64)?;
        }
        "set_speed_scale" => plan.set_speed(arg(0).ok_or_else(|| not_a_number("speed scale"))?)?,
        "tween_interval" => {
            let time = arg(0).ok_or_else(|| not_a_number("time"))?;
            plan.add_tweener(method, time, Tweener::Kept)?;
        }
        "tween_property" => {
            let duration = arg(3).ok_or_else(|| not_a_number("duration"))?;
            plan.add_tweener(method, duration, property)?;
        }
        _ => return Ok(None),
    }
    Ok(Some(plan))
}

/// Kills a tween whose call was refused, so that Godot never runs what was set up so far.
pub fn kill(obj: &Gd<Object>) {
    if let Ok(mut tween) = obj.clone().try_cast::<Tween>() {
        tween.kill();
    }
}
