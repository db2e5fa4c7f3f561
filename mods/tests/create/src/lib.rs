//! `create`: exercises `wasgo.new` and ownership through the Rust SDK. A reactor (`cdylib`):
//! the tests in `godot_project/tests/test_create.gd` call its exports with `call_export`.
//!
//! Every failure is logged as `FAIL <what>: <last_error>` so the tests can check the message.
//! Created objects are kept in [`KEPT`] so their handles stay alive until `drop_all`.

use std::cell::RefCell;
use wasgo_sdk::{last_error, new_object, self_node, Error, Object, Variant};

/// The default instantiable classes (`addons/wasgo/allowlist.cfg`), nodes first.
const NODES: &[&str] = &[
    "Node", "Node2D", "Node3D", "Control", "Sprite2D", "AnimatedSprite2D", "Label",
    "RichTextLabel", "ColorRect", "TextureRect", "Panel", "Line2D", "Polygon2D",
    "CPUParticles2D", "CPUParticles3D", "Area2D", "Area3D", "CollisionShape2D",
    "CollisionShape3D", "Timer", "AudioStreamPlayer", "AudioStreamPlayer2D",
    "AudioStreamPlayer3D", "MeshInstance3D",
];
const RESOURCES: &[&str] = &[
    "CircleShape2D", "RectangleShape2D", "CapsuleShape2D", "SegmentShape2D", "SphereShape3D",
    "BoxShape3D", "CapsuleShape3D", "CylinderShape3D", "BoxMesh", "SphereMesh", "CylinderMesh",
    "CapsuleMesh", "PlaneMesh", "QuadMesh", "PrismMesh", "TorusMesh", "StandardMaterial3D",
    "Gradient", "GradientTexture1D", "Curve",
];

thread_local! {
    static KEPT: RefCell<Vec<Object>> = const { RefCell::new(Vec::new()) };
}

fn say(text: &str) {
    wasgo_sdk::log(wasgo_sdk::Level::Info, text);
}

/// The code of `e`, after logging it with the host's message.
fn failed(what: &str, e: Error) -> i32 {
    say(&format!("FAIL {what}: {}", last_error()));
    match e {
        Error::NotFound => -1,
        Error::InvalidArgument => -3,
        Error::InvalidHandle => -4,
        Error::CallFailed => -5,
        Error::PermissionDenied => -6,
        Error::Busy => -7,
        Error::Decode(_) => -100,
        Error::Other(c) => c,
    }
}

fn keep(o: Object) {
    KEPT.with(|k| k.borrow_mut().push(o));
}

/// Creates one object of every default class, adding the nodes under the mod's own node;
/// returns how many it created, or the first failure's code.
#[no_mangle]
pub extern "C" fn create_defaults() -> i32 {
    let me = match self_node() {
        Ok(me) => me,
        Err(e) => return failed("self", e),
    };
    let mut made = 0;
    for class in NODES {
        let node = match new_object(class) {
            Ok(n) => n,
            Err(e) => return failed(class, e),
        };
        if let Err(e) = node.set("name", Variant::from(format!("Made{class}").as_str())) {
            return failed(&format!("{class}.name"), e);
        }
        if let Err(e) = me.add_child(&node) {
            return failed(&format!("add_child {class}"), e);
        }
        keep(node);
        made += 1;
    }
    for class in RESOURCES {
        match new_object(class) {
            Ok(r) => keep(r),
            Err(e) => return failed(class, e),
        }
        made += 1;
    }
    // A resource used by a node: a shape on a collision shape.
    let (Ok(shape), Ok(holder)) = (new_object("CircleShape2D"), new_object("CollisionShape2D")) else {
        return failed("shape pair", Error::CallFailed);
    };
    if let Err(e) = holder.set("shape", Variant::from(&shape)) {
        return failed("CollisionShape2D.shape", e);
    }
    if let Err(e) = me.add_child(&holder) {
        return failed("add_child holder", e);
    }
    keep(shape);
    keep(holder);
    made + 2
}

/// Tries a class that is not marked instantiable (`which`: 0 `Window`, 1 `HTTPRequest`,
/// 2 `NoSuchClass`, 3 `Object`).
#[no_mangle]
pub extern "C" fn create_denied(which: i32) -> i32 {
    let class = ["Window", "HTTPRequest", "NoSuchClass", "Object"][which.clamp(0, 3) as usize];
    match new_object(class) {
        Ok(o) => {
            keep(o);
            0
        }
        Err(e) => failed(class, e),
    }
}

/// Creates Node2Ds (kept, not in the tree) until one is refused; returns the refusal's code
/// (0 if all `n` were made).
#[no_mangle]
pub extern "C" fn flood(n: i32) -> i32 {
    for _ in 0..n {
        match new_object("Node2D") {
            Ok(o) => keep(o),
            Err(e) => return failed("flood", e),
        }
    }
    0
}

/// How many objects the mod holds.
#[no_mangle]
pub extern "C" fn kept() -> i32 {
    KEPT.with(|k| k.borrow().len() as i32)
}

/// Drops every kept handle (resources are let go; nodes stay owned).
#[no_mangle]
pub extern "C" fn drop_all() {
    KEPT.with(|k| k.borrow_mut().clear());
}

/// Queue-frees every kept node.
#[no_mangle]
pub extern "C" fn free_nodes() -> i32 {
    let nodes: Vec<Object> = KEPT.with(|k| k.borrow().clone());
    for n in nodes {
        if n.call("is_class", &[Variant::from("Node")]).ok() == Some(Variant::Bool(true)) {
            if let Err(e) = n.queue_free() {
                return failed("queue_free", e);
            }
        }
    }
    0
}

/// The game's node `../Game` (in reach, not the mod's): `attack` 0 adds it under the mod's
/// node, 1 queue-frees it, 2 removes it from its parent, 3 adds an owned node to it with the
/// `internal` argument.
#[no_mangle]
pub extern "C" fn attack_game_node(attack: i32) -> i32 {
    let (me, game) = match self_node().and_then(|me| me.get_node("../Game").map(|g| (me, g))) {
        Ok(pair) => pair,
        Err(e) => return failed("lookup", e),
    };
    let outcome = match attack {
        0 => me.add_child(&game),
        1 => game.queue_free(),
        2 => game
            .call("get_parent", &[])
            .map(|p| p.as_object_handle().and_then(Object::from_handle))
            .and_then(|p| p.ok_or(Error::NotFound))
            .and_then(|p| p.remove_child(&game)),
        _ => new_object("Node2D").and_then(|n| {
            let r = game
                .call("add_child", &[Variant::from(&n), Variant::Bool(false), Variant::Int(1)])
                .map(|_| ());
            keep(n);
            r
        }),
    };
    match outcome {
        Ok(()) => 0,
        Err(e) => failed(&format!("attack {attack}"), e),
    }
}

/// Looks up `../Spot` (a game node in reach) and keeps the handle.
#[no_mangle]
pub extern "C" fn find_spot() -> i32 {
    match self_node().and_then(|me| me.get_node("../Spot")) {
        Ok(spot) => {
            SPOT.with(|s| *s.borrow_mut() = Some(spot));
            0
        }
        Err(e) => failed("find_spot", e),
    }
}

thread_local! {
    static SPOT: RefCell<Option<Object>> = const { RefCell::new(None) };
}

/// Creates a Sprite2D named `ModSprite` and adds it under the Spot found before.
#[no_mangle]
pub extern "C" fn add_to_spot() -> i32 {
    let Some(spot) = SPOT.with(|s| s.borrow().clone()) else {
        return -100;
    };
    let sprite = match new_object("Sprite2D") {
        Ok(s) => s,
        Err(e) => return failed("new Sprite2D", e),
    };
    let _ = sprite.set("name", Variant::from("ModSprite"));
    let outcome = spot.add_child(&sprite);
    SPRITE.with(|s| *s.borrow_mut() = Some(sprite.clone()));
    keep(sprite);
    match outcome {
        Ok(()) => 0,
        Err(e) => failed("add_to_spot", e),
    }
}

/// Moves the sprite `add_to_spot` made to (`x`, 0) (to show whether the mod still reaches it).
#[no_mangle]
pub extern "C" fn touch_sprite(x: f64) -> i32 {
    let Some(sprite) = SPRITE.with(|s| s.borrow().clone()) else {
        return -100;
    };
    match sprite.set_vec2("position", wasgo_sdk::Vector2::new(x as f32, 0.0)) {
        Ok(()) => 0,
        Err(e) => failed("touch_sprite", e),
    }
}

thread_local! {
    static SPRITE: RefCell<Option<Object>> = const { RefCell::new(None) };
}
