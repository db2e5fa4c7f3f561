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
    "Gradient", "GradientTexture1D", "Curve", "SpriteFrames", "LabelSettings",
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

/// A Node2D `Outer` under the mod's node with a Node2D `Inner` under it, both kept.
#[no_mangle]
pub extern "C" fn nested_pair() -> i32 {
    let outer = match new_child("Node2D", "Outer") {
        Ok(n) => n,
        Err(code) => return code,
    };
    let inner = match new_object("Node2D") {
        Ok(n) => n,
        Err(e) => return failed("new Node2D", e),
    };
    let outcome = inner
        .set("name", Variant::from("Inner"))
        .and_then(|()| outer.add_child(&inner));
    keep(inner);
    match outcome {
        Ok(()) => 0,
        Err(e) => failed("Inner", e),
    }
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

// ---- assets from the mod's own bytes ----

const PNG: &[u8] = include_bytes!("../assets/red_blue_8x4.png");
const WAV: &[u8] = include_bytes!("../assets/beep_250ms.wav");
/// The same beep as Ogg Vorbis (`oggenc -q -1`).
const OGG: &[u8] = include_bytes!("../assets/beep.ogg");
const FONT: &[u8] = include_bytes!("../assets/test_font.ttf");
/// A font FreeType takes for "tricky" (its family name contains `MingLiU`), so it runs the
/// font's bytecode whatever the hinting: every glyph's program loops (see `test_assets.gd`).
const TRICKY_FONT: &[u8] = include_bytes!("../assets/tricky_hinted.ttf");
/// A font with CFF outlines whose charstrings nest subroutine calls 60 wide and 6 deep (about
/// 0.2 s per glyph in FreeType); refused.
const CFF_FONT: &[u8] = include_bytes!("../assets/cff_nested_subrs.otf");
/// A font with CFF outlines whose subroutines nest three deep, three calls each; taken.
const CFF_ORDINARY: &[u8] = include_bytes!("../assets/cff_ordinary.otf");
/// A TrueType font whose glyph is 100 components of 100 components, four levels deep (10^8
/// points; 17 s in FreeType); refused.
const COMPOSITE_FONT: &[u8] = include_bytes!("../assets/composite_bomb.ttf");

/// `PNG` with its pixel data scrambled (the signature and header intact).
fn corrupt_png() -> Vec<u8> {
    let mut b = PNG.to_vec();
    for byte in b.iter_mut().skip(41).take(20) {
        *byte ^= 0x5A;
    }
    b
}

/// A PNG header that declares 60000 x 60000 pixels (a decompression bomb's first bytes).
fn bomb_png() -> Vec<u8> {
    let mut b = PNG[..33].to_vec();
    b[16..20].copy_from_slice(&60000u32.to_be_bytes());
    b[20..24].copy_from_slice(&60000u32.to_be_bytes());
    b
}

/// Adds `node` (named `name`) under the mod's node, keeping its handle.
fn add_named(node: Object, name: &str) -> i32 {
    let outcome = node
        .set("name", Variant::from(name))
        .and_then(|()| self_node())
        .and_then(|me| me.add_child(&node));
    keep(node);
    match outcome {
        Ok(()) => 0,
        Err(e) => failed(name, e),
    }
}

/// 0: a Sprite2D `ModSprite` showing the embedded PNG; 1: a corrupt PNG; 2: a bomb header;
/// 3: bytes that are no image; 4: an SVG of 600 x 600 pixels (1.4 MiB decoded).
#[no_mangle]
pub extern "C" fn texture(which: i32) -> i32 {
    let bytes = match which {
        0 => PNG.to_vec(),
        1 => corrupt_png(),
        2 => bomb_png(),
        4 => br#"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600"><rect width="600" height="600" fill="red"/></svg>"#.to_vec(),
        _ => b"GIF89a not supported".to_vec(),
    };
    let texture = match wasgo_sdk::texture_from_bytes(&bytes) {
        Ok(t) => t,
        Err(e) => return failed(&format!("texture {which}"), e),
    };
    let sprite = match new_object("Sprite2D") {
        Ok(s) => s,
        Err(e) => return failed("new Sprite2D", e),
    };
    if let Err(e) = sprite.set("texture", Variant::from(&texture)) {
        return failed("Sprite2D.texture", e);
    }
    keep(texture);
    add_named(sprite, "ModSprite")
}

/// 0: an AudioStreamPlayer `ModPlayer` playing the embedded WAV; 1: a WAV whose format chunk
/// is garbage; 2: bytes that are no sound; 3: an Ogg stream that is not Vorbis; 4: the
/// embedded Ogg Vorbis sound (the same beep).
#[no_mangle]
pub extern "C" fn sound(which: i32) -> i32 {
    let bytes = match which {
        0 => WAV.to_vec(),
        1 => {
            let mut b = WAV[..44].to_vec();
            b[20..36].fill(0xEE);
            b
        }
        2 => b"definitely not audio".to_vec(),
        4 => OGG.to_vec(),
        _ => b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead".to_vec(),
    };
    let stream = match wasgo_sdk::audio_from_bytes(&bytes) {
        Ok(s) => s,
        Err(e) => return failed(&format!("sound {which}"), e),
    };
    let player = match new_object("AudioStreamPlayer") {
        Ok(p) => p,
        Err(e) => return failed("new AudioStreamPlayer", e),
    };
    if let Err(e) = player.set("stream", Variant::from(&stream)) {
        return failed("AudioStreamPlayer.stream", e);
    }
    keep(stream);
    let code = add_named(player.clone(), "ModPlayer");
    if code != 0 {
        return code;
    }
    match player.call("play", &[]) {
        Ok(_) => 0,
        Err(e) => failed("play", e),
    }
}

/// 0: a Label `ModLabel` using the embedded font; 1: the font cut short; 2: bytes that are no
/// font; 3: a Label `TrickyLabel` using the tricky font with looping hinting programs; 4: a font
/// with CFF outlines whose subroutines multiply; 5: a font of composite glyphs that multiply;
/// 6: a Label `CffLabel` using an ordinary font with CFF outlines.
#[no_mangle]
pub extern "C" fn font(which: i32) -> i32 {
    let bytes = match which {
        0 => FONT.to_vec(),
        1 => FONT[..200].to_vec(),
        3 => TRICKY_FONT.to_vec(),
        4 => CFF_FONT.to_vec(),
        5 => COMPOSITE_FONT.to_vec(),
        6 => CFF_ORDINARY.to_vec(),
        _ => b"\0\x01\0\0 garbage that only starts like a font".to_vec(),
    };
    let font = match wasgo_sdk::font_from_bytes(&bytes) {
        Ok(f) => f,
        Err(e) => return failed(&format!("font {which}"), e),
    };
    let label = match new_object("Label") {
        Ok(l) => l,
        Err(e) => return failed("new Label", e),
    };
    let outcome = label
        .call("add_theme_font_override", &[Variant::from("font"), Variant::from(&font)])
        .and_then(|_| label.set("text", Variant::from("A A")));
    keep(font);
    if let Err(e) = outcome {
        return failed("Label font", e);
    }
    add_named(
        label,
        match which {
            3 => "TrickyLabel",
            6 => "CffLabel",
            _ => "ModLabel",
        },
    )
}

/// Loads one of the paths `test_assets.gd` checks (0 an image, 1 a material with a script,
/// 2 outside the folders, 3 a path climbing out of them, 4 a material, 5 a material depending
/// on a scene whose node has a script).
#[no_mangle]
pub extern "C" fn load(which: i32) -> i32 {
    let path = [
        "res://tests/mod_assets/pixel.png",
        "res://tests/mod_assets/scripted.tres",
        "res://tests/run_tests.gd",
        "res://tests/mod_assets/../run_tests.gd",
        "res://tests/mod_assets/material.tres",
        "res://tests/mod_assets/via_scene.tres",
    ][which.clamp(0, 5) as usize];
    match wasgo_sdk::load_resource(path) {
        Ok(r) => {
            keep(r);
            0
        }
        Err(e) => failed(&format!("load {which}"), e),
    }
}

// ---- drawing and tweens ----

thread_local! {
    static CANVAS: RefCell<Option<Object>> = const { RefCell::new(None) };
    static DRAWS: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    static DRAW_FAILURE: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

fn color(r: f32, g: f32, b: f32) -> Variant {
    Variant::Color(wasgo_sdk::Color { r, g, b, a: 1.0 })
}

/// A Node2D `Canvas` under the mod's node whose `draw` callback draws a green square, a red
/// dot and a white line.
#[no_mangle]
pub extern "C" fn draw_setup() -> i32 {
    let canvas = match new_object("Node2D") {
        Ok(c) => c,
        Err(e) => return failed("new Node2D", e),
    };
    let drawn = canvas.clone();
    let connected = canvas.connect("draw", move |_args| {
        DRAWS.with(|d| d.set(d.get() + 1));
        let outcome = drawn
            .call("draw_rect", &[Variant::Rect2([0.0, 0.0, 10.0, 10.0]), color(0.0, 1.0, 0.0)])
            .and_then(|_| drawn.call("draw_circle", &[Variant::Vector2(wasgo_sdk::Vector2::new(20.0, 5.0)), Variant::Float(3.0), color(1.0, 0.0, 0.0)]))
            .and_then(|_| drawn.call("draw_line", &[Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 0.0)), Variant::Vector2(wasgo_sdk::Vector2::new(30.0, 0.0)), color(1.0, 1.0, 1.0)]));
        if let Err(e) = outcome {
            DRAW_FAILURE.with(|f| f.set(failed("draw", e)));
        }
        // The SDK's typed helpers, each of the six drawing methods once (`draw_with_helpers`).
        if HELPERS.with(|h| h.get()) {
            if let Err(e) = draw_helpers(&drawn) {
                say(&format!("helper draw refused: {}", last_error()));
                DRAW_FAILURE.with(|f| f.set(failed("helper draw", e)));
            } else {
                HELPER_DRAWS.with(|d| d.set(d.get() + 1));
            }
        }
        // A call Godot would refuse at every redraw: refused when recorded.
        let bad = BAD.with(|b| b.replace(0));
        let refused = match bad {
            1 => Some(drawn.call("draw_line", &[Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 0.0)), Variant::Vector2(wasgo_sdk::Vector2::new(1.0, 1.0))])),
            2 => Some(drawn.call("draw_texture", &[Variant::Int(3), Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 0.0))])),
            // Text drawn at 100x oversampling: glyphs rendered 100 times their size.
            3 => Some(drawn.call("draw_string", &[Variant::Int(0), Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 20.0)), Variant::String("big".into()), Variant::Int(0), Variant::Float(-1.0), Variant::Int(16), color(1.0, 1.0, 1.0), Variant::Int(3), Variant::Int(0), Variant::Int(0), Variant::Float(100.0)])),
            // Calls of the right types that Godot warns or errs about at every redraw: a filled
            // rectangle given a width, an antialiased thin outline, a polyline of one point,
            // a colour name that is none.
            4 => Some(drawn.call("draw_rect", &[Variant::Rect2([0.0, 0.0, 10.0, 10.0]), color(1.0, 1.0, 1.0), Variant::Bool(true), Variant::Float(2.0)])),
            5 => Some(drawn.call("draw_circle", &[Variant::Vector2(wasgo_sdk::Vector2::new(5.0, 5.0)), Variant::Float(3.0), color(1.0, 1.0, 1.0), Variant::Bool(false), Variant::Float(-1.0), Variant::Bool(true)])),
            6 => Some(drawn.call("draw_polyline", &[Variant::PackedVector2Array(vec![wasgo_sdk::Vector2::new(0.0, 0.0)]), color(1.0, 1.0, 1.0)])),
            7 => Some(drawn.call("draw_polyline", &[Variant::PackedVector2Array(vec![wasgo_sdk::Vector2::new(0.0, 0.0), wasgo_sdk::Vector2::new(1.0, 1.0)]), color(1.0, 1.0, 1.0), Variant::Float(-1.0), Variant::Bool(true)])),
            8 => Some(drawn.call("draw_line", &[Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 0.0)), Variant::Vector2(wasgo_sdk::Vector2::new(1.0, 1.0)), Variant::String("zz".into())])),
            // A text justified to fill a huge width (Godot repeats elongation glyphs up to 255
            // times each at every redraw).
            9 => Some(wasgo_sdk::font_from_bytes(FONT).and_then(|font| {
                drawn.call("draw_string", &[Variant::from(&font), Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 20.0)), Variant::String("a\u{640}b".into()), Variant::Int(3), Variant::Float(1e7), Variant::Int(16), color(1.0, 1.0, 1.0), Variant::Int(3), Variant::Int(1)])
            })),
            // A polyline of 2000 points, each segment 100,000 pixels wide: 1999 screens filled
            // at every frame.
            10 => {
                let points = (0..2000).map(|i| wasgo_sdk::Vector2::new(if i % 2 == 0 { 0.0 } else { 1920.0 }, 540.0)).collect();
                Some(drawn.call("draw_polyline", &[Variant::PackedVector2Array(points), color(1.0, 1.0, 1.0), Variant::Float(100_000.0)]))
            }
            _ => None,
        };
        if let Some(Err(e)) = refused {
            say(&format!("bad draw refused: {}", last_error()));
            DRAW_FAILURE.with(|f| f.set(failed("bad draw", e)));
        }
        // The flood tests the host's cap, not the mod's encoder: the arguments are encoded once
        // and `wasgo.call` is called raw (5000 encodings take longer than the callback budget
        // when the mod is interpreted).
        let flood = FLOOD.with(|f| f.replace(0)).max(KEEP_FLOOD.with(|k| k.get()));
        let args = Variant::Array(vec![Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 0.0)), Variant::Vector2(wasgo_sdk::Vector2::new(1.0, 1.0)), color(1.0, 1.0, 1.0)]).encode();
        let method = b"draw_line";
        let mut result = [0u8; 64];
        for _ in 0..flood {
            // SAFETY: the name and the arguments are live for the call; `result` is a live
            // buffer of `result.len()` bytes (a nil result takes 4).
            let code = unsafe { wasgo_sdk::sys::call(drawn.handle(), method.as_ptr(), method.len(), args.as_ptr(), args.len(), result.as_mut_ptr(), result.len()) };
            if code < 0 {
                say(&format!("FAIL flood: {}", last_error()));
                DRAW_FAILURE.with(|f| f.set(code));
                break;
            }
        }
    });
    if let Err(e) = connected {
        return failed("connect draw", e);
    }
    CANVAS.with(|c| *c.borrow_mut() = Some(canvas.clone()));
    add_named(canvas, "Canvas")
}

/// What the SDK's drawing helpers draw: a rectangle, a circle, a line, a polyline, a text in the
/// embedded font and the embedded texture.
fn draw_helpers(item: &Object) -> wasgo_sdk::Result<()> {
    use wasgo_sdk::{Color, Vector2};
    let white = Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 };
    // Made once: a new texture each time would change the drawing, which redraws the item.
    let (font, texture) = match HELPER_ASSETS.with(|a| a.borrow().clone()) {
        Some(made) => made,
        None => {
            let made = (wasgo_sdk::font_from_bytes(FONT)?, wasgo_sdk::texture_from_bytes(PNG)?);
            HELPER_ASSETS.with(|a| *a.borrow_mut() = Some(made.clone()));
            made
        }
    };
    item.draw_rect([40.0, 0.0, 8.0, 8.0], white, false)?;
    item.draw_circle(Vector2::new(60.0, 4.0), 4.0, white)?;
    item.draw_line(Vector2::new(40.0, 12.0), Vector2::new(70.0, 12.0), white, 2.0)?;
    let zigzag = [Vector2::new(40.0, 20.0), Vector2::new(50.0, 30.0), Vector2::new(60.0, 20.0)];
    item.draw_polyline(&zigzag, white, 1.0)?;
    item.draw_string(&font, Vector2::new(40.0, 48.0), "hello", 12, white)?;
    item.draw_texture(&texture, Vector2::new(80.0, 0.0))
}

/// Makes every `draw` callback from now on also draw with each of the SDK's typed helpers
/// (`draw_rect`, `draw_circle`, `draw_line`, `draw_polyline`, `draw_string`, `draw_texture`).
#[no_mangle]
pub extern "C" fn draw_with_helpers() {
    HELPERS.with(|h| h.set(true));
    if let Some(canvas) = CANVAS.with(|c| c.borrow().clone()) {
        let _ = canvas.call("queue_redraw", &[]);
    }
}

/// How many `draw` callbacks drew with every helper without an error.
#[no_mangle]
pub extern "C" fn helper_draws() -> i32 {
    HELPER_DRAWS.with(|d| d.get())
}

/// Makes the next `draw` callback try `n` lines (a flood past the per-callback cap).
#[no_mangle]
pub extern "C" fn draw_flood(n: i32) {
    FLOOD.with(|f| f.set(n));
    if let Some(canvas) = CANVAS.with(|c| c.borrow().clone()) {
        let _ = canvas.call("queue_redraw", &[]);
    }
}

/// Makes the next `draw` callback make one drawing call with arguments Godot would refuse (1: a
/// `draw_line` without its color, 2: a `draw_texture` given a number for the texture).
#[no_mangle]
pub extern "C" fn draw_bad(kind: i32) {
    BAD.with(|b| b.set(kind));
    if let Some(canvas) = CANVAS.with(|c| c.borrow().clone()) {
        let _ = canvas.call("queue_redraw", &[]);
    }
}

/// Makes every `draw` callback from now on (of every canvas of the mod) add `n` lines, and
/// forgets a failure `draws` reported.
#[no_mangle]
pub extern "C" fn draw_keep_flood(n: i32) {
    KEEP_FLOOD.with(|f| f.set(n));
    DRAW_FAILURE.with(|f| f.set(0));
    if let Some(canvas) = CANVAS.with(|c| c.borrow().clone()) {
        let _ = canvas.call("queue_redraw", &[]);
    }
}

thread_local! {
    static KEEP_FLOOD: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    static FLOOD: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    static BAD: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    static HELPERS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static HELPER_DRAWS: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    static HELPER_ASSETS: RefCell<Option<(Object, Object)>> = const { RefCell::new(None) };
}

/// How many `draw` callbacks ran (negative: the failure code of a drawing call in one).
#[no_mangle]
pub extern "C" fn draws() -> i32 {
    let failure = DRAW_FAILURE.with(|f| f.get());
    if failure != 0 {
        return failure;
    }
    DRAWS.with(|d| d.get())
}

/// A drawing call outside the `draw` callback (0: on the mod's Canvas, 1: on the game's node).
#[no_mangle]
pub extern "C" fn draw_outside(which: i32) -> i32 {
    let target = if which == 0 {
        CANVAS.with(|c| c.borrow().clone())
    } else {
        self_node().and_then(|me| me.get_node("../Game")).ok()
    };
    let Some(target) = target else {
        return -100;
    };
    match target.call("draw_line", &[Variant::Vector2(wasgo_sdk::Vector2::new(0.0, 0.0)), Variant::Vector2(wasgo_sdk::Vector2::new(1.0, 1.0)), color(1.0, 1.0, 1.0)]) {
        Ok(_) => 0,
        Err(e) => failed(&format!("draw_outside {which}"), e),
    }
}

/// Tweens `property` (0 `position`, 1 `script`, 2 `process_mode`, 3 `global_position`) of a target (0: a new Node2D
/// `Tweened` under the mod's node, 1: the game's `../Game`, looked up by `find_game` before)
/// to (100, 0) over 0.05 s, from a tween made on the mod's node.
#[no_mangle]
pub extern "C" fn tween(target: i32, property: i32) -> i32 {
    if let Err(e) = self_node() {
        return failed("self", e);
    }
    let target = if target == 0 {
        match new_child("Node2D", "Tweened") {
            Ok(n) => n,
            Err(code) => return code,
        }
    } else {
        match GAME.with(|g| g.borrow().clone()) {
            Some(g) => g,
            None => return -100,
        }
    };
    let name = ["position", "script", "process_mode", "global_position"][property.clamp(0, 3) as usize];
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let value = if property == 0 || property == 3 { Variant::Vector2(wasgo_sdk::Vector2::new(100.0, 0.0)) } else { Variant::Int(0) };
    let outcome = tween.call("tween_property", &[Variant::from(&target), Variant::NodePath(name.into()), value, Variant::Float(0.05)]);
    keep(tween);
    match outcome {
        Ok(_) => 0,
        Err(e) => failed(&format!("tween_property {name}"), e),
    }
}

/// Tweens the position of the mod's Node2D `Tweened` to (100, 0) over 1 s and shapes its
/// property tweener: 0 `set_delay(0.5)`, 1 `from((5, 5))`, 2 `as_relative()`, 3
/// `set_trans(1)`, 4 `from_current()`, 5 `from(an object)`. Returns 0 or the failure's code.
#[no_mangle]
pub extern "C" fn tweener_option(kind: i32) -> i32 {
    let target = match child("Node2D", "Tweened") {
        Ok(n) => n,
        Err(code) => return code,
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let to = Variant::Vector2(wasgo_sdk::Vector2::new(100.0, 0.0));
    let made = tween.call("tween_property", &[Variant::from(&target), Variant::NodePath("position".into()), to, Variant::Float(1.0)]);
    keep(tween);
    let tweener = match made {
        Ok(v) => match v.as_object_handle().and_then(Object::from_handle) {
            Some(t) => t,
            None => return -102,
        },
        Err(e) => return failed("tween_property", e),
    };
    let outcome = match kind {
        0 => tweener.call("set_delay", &[Variant::Float(0.5)]),
        1 => tweener.call("from", &[Variant::Vector2(wasgo_sdk::Vector2::new(5.0, 5.0))]),
        2 => tweener.call("as_relative", &[]),
        3 => tweener.call("set_trans", &[Variant::Int(1)]),
        4 => tweener.call("from_current", &[]),
        _ => tweener.call("from", &[Variant::from(&target)]),
    };
    match outcome {
        Ok(_) => 0,
        Err(e) => failed("tweener option", e),
    }
}

/// Tweens a sub-path on a new Label `SubLabel` with its own LabelSettings: 0 `position:x` (part
/// of a value), 1 `label_settings:font_size` (a member of another object, past its range), 2
/// the same while the label has no settings.
#[no_mangle]
pub extern "C" fn tween_sub(kind: i32) -> i32 {
    let label = match child("Label", "SubLabel") {
        Ok(l) => l,
        Err(code) => return code,
    };
    let settings = match new_object("LabelSettings") {
        Ok(s) => s,
        Err(e) => return failed("new LabelSettings", e),
    };
    // Kind 2: the label has no settings when the tween is made (a game's shared ones could be
    // given to it right after, and Godot follows the path at every step).
    let given = if kind == 2 {
        Variant::Nil
    } else {
        Variant::from(&settings)
    };
    if let Err(e) = label.set("label_settings", given) {
        return failed("set label_settings", e);
    }
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (path, value) = if kind == 0 {
        ("position:x", Variant::Float(100.0))
    } else {
        ("label_settings:font_size", Variant::Int(3000))
    };
    let outcome = tween.call("tween_property", &[Variant::from(&label), Variant::NodePath(path.into()), value, Variant::Float(0.05)]);
    keep(tween);
    match outcome {
        Ok(_) => 0,
        Err(e) => failed(&format!("tween_property {path}"), e),
    }
}

thread_local! {
    static GAME: RefCell<Option<Object>> = const { RefCell::new(None) };
    static PARTICLES: RefCell<Option<Object>> = const { RefCell::new(None) };
    static LOOPING: RefCell<Option<Object>> = const { RefCell::new(None) };
}

/// A tween made on the mod's node (-101 when the answer is no object, or the failure's code).
fn new_tween() -> Result<Object, i32> {
    match self_node().and_then(|me| me.call("create_tween", &[])) {
        Ok(v) => v.as_object_handle().and_then(Object::from_handle).ok_or(-101),
        Err(e) => Err(failed("create_tween", e)),
    }
}

// ---- ranges and looping tweens (`test_engine_work.gd`) ----

/// A new object of `class` added under the mod's node as `name` (or the failure's code).
fn new_child(class: &str, name: &str) -> Result<Object, i32> {
    let node = new_object(class).map_err(|e| failed(&format!("new {class}"), e))?;
    match add_named(node.clone(), name) {
        0 => Ok(node),
        code => Err(code),
    }
}

/// The mod's child `name`, made as a `class` on first use.
fn child(class: &str, name: &str) -> Result<Object, i32> {
    self_node()
        .and_then(|me| me.get_node(name))
        .or_else(|_| new_child(class, name))
}

/// Sets `amount` of the mod's CPUParticles2D `Particles` (made under its node on first use).
#[no_mangle]
pub extern "C" fn particles_amount(amount: i64) -> i32 {
    let particles = match child("CPUParticles2D", "Particles") {
        Ok(p) => p,
        Err(code) => return code,
    };
    PARTICLES.with(|p| *p.borrow_mut() = Some(particles.clone()));
    match particles.set("amount", Variant::Int(amount)) {
        Ok(()) => 0,
        Err(e) => failed("set amount", e),
    }
}

/// Sets `amount` of the particles to `amount` written as a text ("2147483647"): Godot would read
/// the number from it.
#[no_mangle]
pub extern "C" fn particles_amount_as_text(amount: i64) -> i32 {
    let Some(particles) = PARTICLES.with(|p| p.borrow().clone()) else {
        return -100;
    };
    match particles.set("amount", Variant::String(amount.to_string())) {
        Ok(()) => 0,
        Err(e) => failed("set amount as text", e),
    }
}

/// The mod's CPUParticles3D `Particles3D` (made under its node on first use), or the failure's
/// code.
fn particles3d() -> Result<Object, i32> {
    child("CPUParticles3D", "Particles3D")
}

/// The mesh of the game's MeshInstance3D `Model` under the mod's node, or the failure's code.
fn model_mesh() -> Result<Variant, i32> {
    self_node()
        .and_then(|me| me.get_node("Model"))
        .and_then(|m| m.get("mesh"))
        .map_err(|e| failed("Model.mesh", e))
}

/// Gives the mod's CPUParticles3D `Particles3D` (made under its node on first use) a mesh:
/// `which` 0 a SphereMesh the mod makes, its `radial_segments` set to `segments` and `rings` to
/// `segments / 2` first (unless `segments` is 0: Godot's defaults, 64 and 32); 1 the mesh of the
/// game's MeshInstance3D `Model` under the mod's node. Returns 0 or the first refusal's code.
#[no_mangle]
pub extern "C" fn particles_mesh(which: i32, segments: i64) -> i32 {
    let particles = match particles3d() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mesh = if which == 0 {
        let sphere = match new_object("SphereMesh") {
            Ok(s) => s,
            Err(e) => return failed("new SphereMesh", e),
        };
        if segments > 0 {
            if let Err(e) = sphere.set("radial_segments", Variant::Int(segments)) {
                return failed("set radial_segments", e);
            }
            if let Err(e) = sphere.set("rings", Variant::Int(segments / 2)) {
                return failed("set rings", e);
            }
        }
        let value = Variant::from(&sphere);
        keep(sphere);
        value
    } else {
        match model_mesh() {
            Ok(v) => v,
            Err(code) => return code,
        }
    };
    match particles.set("mesh", mesh) {
        Ok(()) => 0,
        Err(e) => failed("set particle mesh", e),
    }
}

/// Tweens the mesh of the mod's `Particles3D` (see `particles_mesh`) to the mesh of the game's
/// `Model` over 0.05 s. Returns 0 or the refusal's code.
#[no_mangle]
pub extern "C" fn particles_mesh_tween() -> i32 {
    let particles = match particles3d() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mesh = match model_mesh() {
        Ok(v) => v,
        Err(code) => return code,
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let outcome = tween.call(
        "tween_property",
        &[Variant::from(&particles), Variant::NodePath("mesh".into()), mesh, Variant::Float(0.05)],
    );
    keep(tween);
    match outcome {
        Ok(_) => 0,
        Err(e) => failed("tween_property mesh", e),
    }
}

/// Makes up to `count` MeshInstance3D nodes under the mod's node (`Shown<first>` on), each
/// showing the mesh of the game's `Model`; returns how many took the mesh before the first
/// refusal (logged as a FAIL).
#[no_mangle]
pub extern "C" fn mesh_nodes(count: i32, first: i32) -> i32 {
    let mesh = match model_mesh() {
        Ok(v) => v,
        Err(code) => return code,
    };
    for made in 0..count {
        let node = match new_child("MeshInstance3D", &format!("Shown{}", first + made)) {
            Ok(n) => n,
            Err(code) => return code,
        };
        if let Err(e) = node.set("mesh", mesh.clone()) {
            failed("set shown mesh", e);
            return made;
        }
    }
    count
}

/// Sets `amount` of the mod's `Particles3D` (see `particles_mesh`).
#[no_mangle]
pub extern "C" fn particles3d_amount(amount: i64) -> i32 {
    let particles = match particles3d() {
        Ok(p) => p,
        Err(code) => return code,
    };
    match particles.set("amount", Variant::Int(amount)) {
        Ok(()) => 0,
        Err(e) => failed("set 3D amount", e),
    }
}

/// Makes `count` more CPUParticles2D under the mod's node, each with `amount`; returns how many
/// took their amount before the first refusal (logged as a FAIL).
#[no_mangle]
pub extern "C" fn more_particles(count: i32, amount: i64) -> i32 {
    for made in 0..count {
        // Named More0, More1, ... across calls.
        let n = MORE_MADE.with(|m| m.replace(m.get() + 1));
        let node = match new_child("CPUParticles2D", &format!("More{n}")) {
            Ok(n) => n,
            Err(code) => return code,
        };
        if let Err(e) = node.set("amount", Variant::Int(amount)) {
            failed("set amount of more", e);
            return made;
        }
    }
    count
}

thread_local! {
    /// Particle nodes `more_particles` has named so far.
    static MORE_MADE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Sets `preprocess` of the particles (not in the default allowlist: the mod traps).
#[no_mangle]
pub extern "C" fn particles_preprocess() -> i32 {
    let Some(particles) = PARTICLES.with(|p| p.borrow().clone()) else {
        return -100;
    };
    match particles.set("preprocess", Variant::Float(1e9)) {
        Ok(()) => 0,
        Err(e) => failed("set preprocess", e),
    }
}

/// Tweens the particles' `amount` to `amount` over 0.1 s.
#[no_mangle]
pub extern "C" fn particles_tween(amount: i64) -> i32 {
    let Some(particles) = PARTICLES.with(|p| p.borrow().clone()) else {
        return -100;
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let outcome = tween.call(
        "tween_property",
        &[
            Variant::from(&particles),
            Variant::NodePath("amount".into()),
            Variant::Int(amount),
            Variant::Float(0.1),
        ],
    );
    keep(tween);
    match outcome {
        Ok(_) => 0,
        Err(e) => failed("tween_property amount", e),
    }
}

/// A tween on the mod's node that loops `loops` times (-1: `set_loops()`, forever) over one
/// `tween_interval(interval)`, the loops set before the interval (`loops_first` 1) or after,
/// then `set_speed_scale(speed)` unless it is 1. Returns 0 or the first refusal's code.
#[no_mangle]
pub extern "C" fn looping_tween(loops: i32, interval: f64, loops_first: i32, speed: f64) -> i32 {
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    LOOPING.with(|l| *l.borrow_mut() = Some(tween.clone()));
    let set_loops = || {
        let args: Vec<Variant> = if loops < 0 {
            Vec::new()
        } else {
            vec![Variant::Int(loops.into())]
        };
        tween
            .call("set_loops", &args)
            .map(|_| ())
            .map_err(|e| ("set_loops", e))
    };
    let interval = || {
        tween
            .call("tween_interval", &[Variant::Float(interval)])
            .map(|_| ())
            .map_err(|e| ("tween_interval", e))
    };
    let mut outcome = if loops_first == 1 {
        set_loops().and_then(|()| interval())
    } else {
        interval().and_then(|()| set_loops())
    };
    if outcome.is_ok() && speed != 1.0 {
        outcome = tween
            .call("set_speed_scale", &[Variant::Float(speed)])
            .map(|_| ())
            .map_err(|e| ("set_speed_scale", e));
    }
    match outcome {
        Ok(()) => 0,
        Err((what, e)) => failed(what, e),
    }
}

thread_local! {
    static STASH: RefCell<Option<Object>> = const { RefCell::new(None) };
}

/// Makes a SpriteFrames (kept) and `count` GradientTexture1Ds, each added to it as a frame and
/// let go of at once (the SDK releases the handle): the SpriteFrames keeps them alive. Returns
/// `count`, or the first failure's code (-7 past the object cap: a released resource counts
/// while it lives).
#[no_mangle]
pub extern "C" fn stash_textures(count: i32) -> i32 {
    let frames = match STASH.with(|s| s.borrow().clone()) {
        Some(frames) => frames,
        None => match new_object("SpriteFrames") {
            Ok(frames) => {
                STASH.with(|s| *s.borrow_mut() = Some(frames.clone()));
                frames
            }
            Err(e) => return failed("stash", e),
        },
    };
    for _ in 0..count {
        let texture = match new_object("GradientTexture1D") {
            Ok(t) => t,
            Err(e) => return failed("stash texture", e),
        };
        if let Err(e) = frames.call("add_frame", &[Variant::StringName("default".into()), Variant::from(&texture)]) {
            return failed("stash add_frame", e);
        }
        // `texture` is dropped here: its handle is released.
    }
    count
}

/// Calls `add_frame` of a new SpriteFrames with an Array where the animation's name goes (the
/// range on it measures an array's size as it does a text's). Returns 0 or the failure's code.
#[no_mangle]
pub extern "C" fn add_frame_array() -> i32 {
    let frames = match new_object("SpriteFrames") {
        Ok(f) => f,
        Err(e) => return failed("new SpriteFrames", e),
    };
    let texture = match new_object("GradientTexture1D") {
        Ok(t) => t,
        Err(e) => return failed("new GradientTexture1D", e),
    };
    match frames.call("add_frame", &[Variant::Array(vec![]), Variant::from(&texture)]) {
        Ok(_) => 0,
        Err(e) => failed("add_frame", e),
    }
}

thread_local! {
    /// `add_frames`' SpriteFrames being filled, its animation count, the frames of the current
    /// animation, the frames added in all, and the one texture every frame shows.
    static FILLING: RefCell<Option<(Object, i32, i32, i32, Object)>> = const { RefCell::new(None) };
}

/// Adds `n` frames (one texture) to SpriteFrames of the mod's, 1024 per animation and 256
/// animations per SpriteFrames (the allowlist's bounds of one object), making new ones as they
/// fill. Returns the frames added in all so far, or the first failure's code.
#[no_mangle]
pub extern "C" fn add_frames(n: i32) -> i32 {
    let filling = FILLING.with(|f| f.borrow().clone());
    let (mut frames, mut anims, mut in_anim, mut total, texture) = match filling {
        Some(state) => state,
        None => {
            let texture = match new_object("GradientTexture1D") {
                Ok(t) => t,
                Err(e) => return failed("add_frames texture", e),
            };
            match new_object("SpriteFrames") {
                Ok(f) => (f, 1, 0, 0, texture),
                Err(e) => return failed("add_frames SpriteFrames", e),
            }
        }
    };
    let mut outcome = 0;
    for _ in 0..n {
        if in_anim == 1024 {
            if anims == 256 {
                frames = match new_object("SpriteFrames") {
                    Ok(f) => f,
                    Err(e) => {
                        outcome = failed("add_frames SpriteFrames", e);
                        break;
                    }
                };
                anims = 1;
            } else {
                let name = format!("a{anims}");
                if let Err(e) = frames.call("add_animation", &[Variant::StringName(name)]) {
                    outcome = failed("add_animation", e);
                    break;
                }
                anims += 1;
            }
            in_anim = 0;
        }
        let name = if anims == 1 { "default".into() } else { format!("a{}", anims - 1) };
        if let Err(e) = frames.call("add_frame", &[Variant::StringName(name), Variant::from(&texture)]) {
            outcome = failed("add_frames add_frame", e);
            break;
        }
        in_anim += 1;
        total += 1;
    }
    FILLING.with(|f| *f.borrow_mut() = Some((frames, anims, in_anim, total, texture)));
    if outcome < 0 {
        outcome
    } else {
        total
    }
}

/// Lets go of the SpriteFrames of `stash_textures` (and so of every texture it held).
#[no_mangle]
pub extern "C" fn drop_stash() {
    STASH.with(|s| s.borrow_mut().take());
}

/// Makes `count` tweens on the mod's node, each moving the game's `../Game` (looked up by
/// `find_game` before) and waiting half a second, forever, and lets go of each handle at once (the SDK releases it).
/// Makes `count` GradientTexture1D resources (kept). Returns `count`, or the first failure's
/// code.
#[no_mangle]
pub extern "C" fn gradient_textures(count: i32) -> i32 {
    for _ in 0..count {
        match new_object("GradientTexture1D") {
            Ok(t) => keep(t),
            Err(e) => return failed("new GradientTexture1D", e),
        }
    }
    count
}

/// Makes `count` tweens on the mod's node and gives them no tweener (their handles released).
/// Returns `count`, or the first failure's code.
#[no_mangle]
pub extern "C" fn empty_tweens(count: i32) -> i32 {
    for _ in 0..count {
        if let Err(code) = new_tween() {
            return code;
        }
    }
    count
}

/// Makes `count` tweens on the mod's node, each one interval of `millis` ms looping forever,
/// keeping their handles. Returns `count`, or the first failure's code.
#[no_mangle]
pub extern "C" fn looping_tweens(count: i32, millis: f64) -> i32 {
    for _ in 0..count {
        let tween = match new_tween() {
            Ok(t) => t,
            Err(code) => return code,
        };
        let outcome = tween
            .call("tween_interval", &[Variant::Float(millis / 1000.0)])
            .and_then(|_| tween.call("set_loops", &[Variant::Int(0)]));
        if let Err(e) = outcome {
            return failed("looping tween", e);
        }
        keep(tween);
    }
    count
}

/// Makes `count` tweens, each given one interval and killed at once, keeping their handles.
/// Returns `count`, or the first failure's code (-7 past the object cap: a tween that ended
/// counts while a handle holds it).
#[no_mangle]
pub extern "C" fn killed_tweens_kept(count: i32) -> i32 {
    for _ in 0..count {
        let tween = match new_tween() {
            Ok(t) => t,
            Err(code) => return code,
        };
        if let Err(e) = tween.call("kill", &[]) {
            return failed("kill", e);
        }
        keep(tween);
    }
    count
}

/// Returns `count`, or the first failure's code (-7 past the object cap: a released tween stays
/// owned while it runs).
#[no_mangle]
pub extern "C" fn dropped_tweens(count: i32) -> i32 {
    let Some(game) = GAME.with(|g| g.borrow().clone()) else {
        return -100;
    };
    for _ in 0..count {
        let tween = match new_tween() {
            Ok(t) => t,
            Err(code) => return code,
        };
        let to = Variant::Vector2(wasgo_sdk::Vector2::new(100.0, 0.0));
        let outcome = tween
            .call("tween_property", &[Variant::from(&game), Variant::NodePath("position".into()), to, Variant::Float(1.0)])
            .and_then(|_| tween.call("tween_interval", &[Variant::Float(0.5)]))
            .and_then(|_| tween.call("set_loops", &[]));
        if let Err(e) = outcome {
            return failed("dropped tween", e);
        }
        // `tween` is dropped here: its handle is released.
    }
    count
}

/// Tweens `font_color` of a LabelSettings to transparent: `own` 0 the game's (the
/// `label_settings` of the game's Label `GameLabel` under the mod's node), 1 one the mod made.
/// Returns 0 or the refusal's code.
#[no_mangle]
pub extern "C" fn tween_label_settings(own: i32) -> i32 {
    let settings = if own == 1 {
        match new_object("LabelSettings") {
            Ok(s) => s,
            Err(e) => return failed("new LabelSettings", e),
        }
    } else {
        let found = self_node()
            .and_then(|me| me.get_node("GameLabel"))
            .and_then(|label| label.get("label_settings"));
        match found {
            Ok(v) => match v.as_object_handle().and_then(Object::from_handle) {
                Some(s) => s,
                None => return -101,
            },
            Err(e) => return failed("get label_settings", e),
        }
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let clear = Variant::Color(wasgo_sdk::Color { r: 0.0, g: 0.0, b: 0.0, a: 0.0 });
    let outcome = tween.call("tween_property", &[Variant::from(&settings), Variant::NodePath("font_color".into()), clear, Variant::Float(0.05)]);
    keep(settings);
    keep(tween);
    match outcome {
        Ok(_) => 0,
        Err(e) => failed("tween_property font_color", e),
    }
}

/// A tween of the `position` of the mod's Node2D `LoopTarget` (made on first use) for 1 s,
/// looping `loops` times (set after the tweener): `kind` 0 made on the mod's node, 1 made on
/// `LoopTarget` itself (bound to it), 2 as 0 with a 0.5 s `tween_interval` beside it. Returns 0
/// or the first refusal's code; `looping_tween_valid` tells on the tween after.
#[no_mangle]
pub extern "C" fn looping_node_tween(kind: i32, loops: i32) -> i32 {
    let target = match child("Node2D", "LoopTarget") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let made = if kind == 1 {
        target.call("create_tween", &[])
    } else {
        self_node().and_then(|me| me.call("create_tween", &[]))
    };
    let tween = match made {
        Ok(v) => match v.as_object_handle().and_then(Object::from_handle) {
            Some(t) => t,
            None => return -101,
        },
        Err(e) => return failed("create_tween", e),
    };
    LOOPING.with(|l| *l.borrow_mut() = Some(tween.clone()));
    let far = Variant::Vector2(wasgo_sdk::Vector2::new(100.0, 0.0));
    let mut outcome = tween
        .call("tween_property", &[Variant::from(&target), Variant::NodePath("position".into()), far, Variant::Float(1.0)])
        .map(|_| ())
        .map_err(|e| ("tween_property", e));
    if outcome.is_ok() && kind == 2 {
        outcome = tween
            .call("parallel", &[])
            .and_then(|_| tween.call("tween_interval", &[Variant::Float(0.5)]))
            .map(|_| ())
            .map_err(|e| ("tween_interval", e));
    }
    if outcome.is_ok() {
        outcome = tween
            .call("set_loops", &[Variant::Int(loops.into())])
            .map(|_| ())
            .map_err(|e| ("set_loops", e));
    }
    match outcome {
        Ok(()) => 0,
        Err((what, e)) => failed(what, e),
    }
}

/// Frees the mod's Node2D `LoopTarget` (`queue_free`); 0 or the failure's code.
#[no_mangle]
pub extern "C" fn free_loop_target() -> i32 {
    match self_node().and_then(|me| me.get_node("LoopTarget")) {
        Ok(target) => match target.queue_free() {
            Ok(()) => 0,
            Err(e) => failed("queue_free", e),
        },
        Err(e) => failed("LoopTarget", e),
    }
}

/// Whether the last `looping_tween`'s tween is still valid (1) or was killed (0).
#[no_mangle]
pub extern "C" fn looping_tween_valid() -> i32 {
    LOOPING.with(|l| {
        l.borrow()
            .as_ref()
            .and_then(|t| t.call("is_valid", &[]).ok())
            .and_then(|v| v.as_bool())
            .map_or(-1, i32::from)
    })
}

/// A Polygon2D `Shape` (made on first use) given a star of `points` points.
#[no_mangle]
pub extern "C" fn polygon_points(points: i32) -> i32 {
    let shape = match child("Polygon2D", "Shape") {
        Ok(shape) => shape,
        Err(code) => return code,
    };
    let n = points.max(0) as usize;
    let star: Vec<wasgo_sdk::Vector2> = (0..n)
        .map(|i| {
            let a = std::f32::consts::TAU * i as f32 / n as f32;
            let r = if i % 2 == 0 { 150.0 } else { 100.0 };
            wasgo_sdk::Vector2::new(a.cos() * r, a.sin() * r)
        })
        .collect();
    match shape.set("polygon", Variant::PackedVector2Array(star)) {
        Ok(()) => 0,
        Err(e) => failed("set polygon", e),
    }
}

/// Adds `points` points to a new Curve (kept); returns how many were added before the first
/// refusal (logged as `FAIL add_point`).
#[no_mangle]
pub extern "C" fn curve_points(points: i32) -> i32 {
    let curve = match new_object("Curve") {
        Ok(c) => c,
        Err(e) => return failed("new Curve", e),
    };
    let mut added = 0;
    for i in 0..points.max(0) {
        let at = wasgo_sdk::Vector2::new(i as f32 / points as f32, 0.5);
        if let Err(e) = curve.call("add_point", &[Variant::Vector2(at)]) {
            failed("add_point", e);
            break;
        }
        added += 1;
    }
    KEPT.with(|k| k.borrow_mut().push(curve));
    added
}

/// A Label `Text` (made on first use) given `chars` characters of text.
#[no_mangle]
pub extern "C" fn label_text(chars: i32) -> i32 {
    let label = match child("Label", "Text") {
        Ok(label) => label,
        Err(code) => return code,
    };
    let text: String = "ab cd ".chars().cycle().take(chars.max(0) as usize).collect();
    match label.set("text", Variant::String(text)) {
        Ok(()) => 0,
        Err(e) => failed("set text", e),
    }
}

/// A Label `Sized` under the mod's node with its font size overridden to `size`.
#[no_mangle]
pub extern "C" fn font_size(size: i64) -> i32 {
    let label = match new_child("Label", "Sized") {
        Ok(n) => n,
        Err(code) => return code,
    };
    match label.call(
        "add_theme_font_size_override",
        &[Variant::from("font_size"), Variant::Int(size)],
    ) {
        Ok(_) => 0,
        Err(e) => failed("add_theme_font_size_override", e),
    }
}

/// Looks up the game's `../Game` and keeps the handle.
#[no_mangle]
pub extern "C" fn find_game() -> i32 {
    match self_node().and_then(|me| me.get_node("../Game")) {
        Ok(g) => {
            GAME.with(|s| *s.borrow_mut() = Some(g));
            0
        }
        Err(e) => failed("find_game", e),
    }
}

// ---- input ----

thread_local! {
    static INPUTS: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// Receives input events (when the game turns `wasgo/safety/input_events` on): logs
/// `INPUT <class> keycode=<k> pressed=<p> jump=<is_action_pressed("ui_accept")>` and changes its
/// copy's `keycode` (which must not reach the game's event).
fn on_input(event: Object) {
    INPUTS.with(|i| i.set(i.get() + 1));
    let class = event.call("get_class", &[]).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let keycode = event.get("keycode").ok().and_then(|v| v.as_int()).unwrap_or(-1);
    let pressed = event.get("pressed").ok().and_then(|v| v.as_bool()).unwrap_or(false);
    // The SDK's typed input helpers.
    let accept = event.is_action_pressed("ui_accept").unwrap_or(false);
    if !event.is_class("InputEvent").unwrap_or(false) || event.is_class("Node").unwrap_or(true) {
        say("FAIL is_class on the event");
    }
    let _ = event.set("keycode", Variant::Int(0));
    say(&format!("INPUT {class} keycode={keycode} pressed={pressed} accept={accept}"));
}

wasgo_sdk::export_input!(on_input);

/// How many input events arrived.
#[no_mangle]
pub extern "C" fn inputs() -> i32 {
    INPUTS.with(|i| i.get())
}

// ---- what the player types ----

/// Reads the text of the mod's child `Field` (a LineEdit the game put there): logs
/// `FIELD <text>` and returns 0, or the failure's code.
#[no_mangle]
pub extern "C" fn read_field() -> i32 {
    match self_node().and_then(|me| me.get_node("Field")).and_then(|f| f.get("text")) {
        Ok(v) => {
            say(&format!("FIELD {}", v.as_str().unwrap_or("<not a text>")));
            0
        }
        Err(e) => failed("read Field.text", e),
    }
}

/// Connects `text_changed` of the child `Field`: each change logs `TYPED <text>`.
#[no_mangle]
pub extern "C" fn watch_field() -> i32 {
    let field = match self_node().and_then(|me| me.get_node("Field")) {
        Ok(f) => f,
        Err(e) => return failed("find Field", e),
    };
    match field.connect("text_changed", |args| {
        let text = args.first().and_then(|v| v.as_str()).unwrap_or("<not a text>");
        say(&format!("TYPED [{text}]"));
    }) {
        Ok(_) => 0,
        Err(e) => failed("connect text_changed", e),
    }
}

/// `Input.is_key_pressed(keycode)`: 1 or 0, or the failure's code.
#[no_mangle]
pub extern "C" fn key_pressed(keycode: i64) -> i32 {
    let answer = wasgo_sdk::singleton("Input")
        .and_then(|input| input.call("is_key_pressed", &[Variant::Int(keycode)]));
    match answer {
        Ok(v) => v.as_bool().map_or(-100, i32::from),
        Err(e) => failed("is_key_pressed", e),
    }
}

/// `grab_focus()` on the mod's child `name` (0 = `Chat`, 1 = `Field`, 2 = `Button`).
#[no_mangle]
pub extern "C" fn grab(which: i32) -> i32 {
    let name = match which {
        1 => "Field",
        2 => "Button",
        _ => "Chat",
    };
    match self_node().and_then(|me| me.get_node(name)).and_then(|c| c.call("grab_focus", &[])) {
        Ok(_) => 0,
        Err(e) => failed("grab_focus", e),
    }
}

/// Hides `Panel/Field` (`which` 0) or the child `Panel` (1): with `hide()` (`how` 0), by setting
/// `visible` to false (1), then shows it again (hiding the field the player types in dropped its
/// focus, and the keys typed next reached the mod).
#[no_mangle]
pub extern "C" fn hide_node(which: i32, how: i32) -> i32 {
    let name = if which == 0 { "Panel/Field" } else { "Panel" };
    let node = match self_node().and_then(|me| me.get_node(name)) {
        Ok(n) => n,
        Err(e) => return failed("find the node to hide", e),
    };
    let hidden = if how == 0 {
        node.call("hide", &[]).map(|_| ())
    } else {
        node.set("visible", Variant::Bool(false))
    };
    if let Err(e) = hidden {
        return failed("hide", e);
    }
    match node.call("show", &[]) {
        Ok(_) => 0,
        Err(e) => failed("show", e),
    }
}

/// Tweens `visible` to false: of the game's child `Panel` (`which` 0), or of a Node2D the mod
/// makes (1).
#[no_mangle]
pub extern "C" fn tween_visible(which: i32) -> i32 {
    let target = if which == 0 {
        match self_node().and_then(|me| me.get_node("Panel")) {
            Ok(n) => n,
            Err(e) => return failed("find Panel", e),
        }
    } else {
        match new_child("Node2D", "Hidden") {
            Ok(n) => n,
            Err(code) => return code,
        }
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let args = [Variant::from(&target), Variant::NodePath("visible".into()), Variant::Bool(false), Variant::Float(0.3)];
    match tween.call("tween_property", &args) {
        Ok(_) => 0,
        Err(e) => failed("tween_property visible", e),
    }
}

/// Tweens `max_length` of the child `Field` to 1 (a secret field's is refused).
#[no_mangle]
pub extern "C" fn tween_field_max_length() -> i32 {
    let field = match self_node().and_then(|me| me.get_node("Field")) {
        Ok(f) => f,
        Err(e) => return failed("find Field", e),
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let outcome = tween.call(
        "tween_property",
        &[Variant::from(&field), Variant::NodePath("max_length".into()), Variant::Int(1), Variant::Float(0.05)],
    );
    keep(tween);
    match outcome {
        Ok(_) => 0,
        Err(e) => failed("tween_property max_length", e),
    }
}

// ---- what the engine keeps for a mod (`test_engine_work.gd`) ----

/// Overrides a theme item of the mod's Label `Themed` (made on first use): `which` 0 its
/// `font_color`, 1 an item no Label has. Returns 0 or the failure's code.
#[no_mangle]
pub extern "C" fn theme_override(which: i32) -> i32 {
    let label = match child("Label", "Themed") {
        Ok(l) => l,
        Err(code) => return code,
    };
    let name = if which == 0 { "font_color" } else { "no_such_item" };
    match label.call("add_theme_color_override", &[Variant::from(name), color(1.0, 0.0, 0.0)]) {
        Ok(_) => 0,
        Err(e) => failed("add_theme_color_override", e),
    }
}

/// Adds `n` one-second intervals to a new tween of the mod's node. Returns how many were
/// added before the first refusal, as a negative count minus 1000 (-1000 - k), or `n`.
#[no_mangle]
pub extern "C" fn tweeners(n: i32) -> i32 {
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    for k in 0..n {
        if let Err(e) = tween.call("tween_interval", &[Variant::Float(1.0)]) {
            failed("tween_interval", e);
            return -1000 - k;
        }
    }
    n
}

/// Tweens the `animation` of the mod's AnimatedSprite2D `Sprite` (made on first use) to a name
/// of `len` characters. Returns 0 or the failure's code.
#[no_mangle]
pub extern "C" fn tween_long_value(len: i32) -> i32 {
    let sprite = match child("AnimatedSprite2D", "Sprite") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let tween = match new_tween() {
        Ok(t) => t,
        Err(code) => return code,
    };
    let name = "a".repeat(len.max(0) as usize);
    let args = [Variant::from(&sprite), Variant::from("animation"), Variant::from(name.as_str()), Variant::Float(1.0)];
    match tween.call("tween_property", &args) {
        Ok(_) => 0,
        Err(e) => failed("tween_property", e),
    }
}

/// Sets `animation` (a member the allowlist gives no range) of the mod's AnimatedSprite2D
/// `Sprite` to a name of `len` characters.
#[no_mangle]
pub extern "C" fn animation(len: i32) -> i32 {
    let sprite = match child("AnimatedSprite2D", "Sprite") {
        Ok(s) => s,
        Err(code) => return code,
    };
    match sprite.set("animation", Variant::from("a".repeat(len.max(0) as usize).as_str())) {
        Ok(()) => 0,
        Err(e) => failed("set animation", e),
    }
}

/// Sets `autoplay` of the mod's AnimatedSprite2D `Sprite` to a name of `len` characters.
#[no_mangle]
pub extern "C" fn autoplay(len: i32) -> i32 {
    let sprite = match child("AnimatedSprite2D", "Sprite") {
        Ok(s) => s,
        Err(code) => return code,
    };
    match sprite.set("autoplay", Variant::from("a".repeat(len.max(0) as usize).as_str())) {
        Ok(()) => 0,
        Err(e) => failed("set autoplay", e),
    }
}
