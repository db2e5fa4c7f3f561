//! `decorator` — a mod that adds to the arena instead of only moving what is there: it spawns a
//! sprite from a PNG embedded in the mod, plays a sound embedded in the mod whenever a player
//! scores, and draws a live minimap of the players.
//!
//! Everything it creates (`new_object`, `texture_from_bytes`, `audio_from_bytes`) is owned by its
//! instance: counted against the game's per-mod cap and freed when the mod ends. Its minimap is a
//! Node2D of its own whose `draw` signal it connects: the `draw_*` calls it makes in that callback
//! are what Godot draws.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use wasgo_sdk::{
    audio_from_bytes, export_process, export_ready, info, new_object, self_node,
    texture_from_bytes, warn, Color, Object, Variant, Vector2,
};

wasgo_sdk::import_game_functions! {
    "game" {
        /// How many players are in the arena.
        fn player_count() -> i32;
        /// Player `index`'s score.
        fn player_score(index: i32) -> i32;
    }
}

/// A 16 x 16 gold diamond, shown as a sprite.
const BANNER_PNG: &[u8] = include_bytes!("../assets/banner.png");
/// A 0.2 s ding, played when a player scores.
const DING_WAV: &[u8] = include_bytes!("../assets/ding.wav");
/// The arena's size in pixels, and the minimap's.
const ARENA: Vector2 = Vector2::new(640.0, 360.0);
const MAP: Vector2 = Vector2::new(96.0, 54.0);
/// How often the minimap is redrawn, in seconds.
const REDRAW_EVERY_S: f64 = 0.25;
/// How many scores are announced in the transcript (the sound plays for every one).
const ANNOUNCED_SCORES: u32 = 3;

/// What the mod keeps between calls.
struct State {
    player: RefCell<Option<Object>>,
    minimap: RefCell<Option<Object>>,
    total_score: Cell<i32>,
    announced: Cell<u32>,
    since_redraw: Cell<f64>,
    drawn_players: Cell<i32>,
}
// SAFETY: a wasm instance runs on one thread at a time.
unsafe impl Sync for State {}
static STATE: State = State {
    player: RefCell::new(None),
    minimap: RefCell::new(None),
    total_score: Cell::new(0),
    announced: Cell::new(0),
    since_redraw: Cell::new(0.0),
    drawn_players: Cell::new(-1),
};

fn ready() {
    let me = match self_node() {
        Ok(me) => me,
        Err(e) => return warn!("decorator: no node of its own ({e})"),
    };
    if let Err(e) = spawn_banner(&me) {
        warn!("decorator: cannot spawn its sprite ({e}: {})", wasgo_sdk::last_error());
    }
    if let Err(e) = load_ding(&me) {
        warn!("decorator: cannot load its sound ({e}: {})", wasgo_sdk::last_error());
    }
    if let Err(e) = build_minimap(&me) {
        warn!("decorator: cannot build its minimap ({e}: {})", wasgo_sdk::last_error());
    }
}

/// A Sprite2D with the embedded PNG, in the arena's top-right corner.
fn spawn_banner(me: &Object) -> wasgo_sdk::Result<()> {
    let texture = texture_from_bytes(BANNER_PNG)?;
    let size = texture.call("get_size", &[])?.as_vector2().unwrap_or(Vector2::new(0.0, 0.0));
    let sprite = new_object("Sprite2D")?;
    sprite.set("texture", Variant::from(&texture))?;
    sprite.set("name", Variant::from("Banner"))?;
    sprite.set_position(Vector2::new(610.0, 30.0))?;
    sprite.set("scale", Variant::Vector2(Vector2::new(2.0, 2.0)))?;
    me.add_child(&sprite)?;
    info!("decorator: spawned a sprite from its own PNG ({}x{} pixels)", size.x as i32, size.y as i32);
    Ok(())
}

/// An AudioStreamPlayer with the embedded WAV.
fn load_ding(me: &Object) -> wasgo_sdk::Result<()> {
    let stream = audio_from_bytes(DING_WAV)?;
    let seconds = stream.call("get_length", &[])?.as_float().unwrap_or(0.0);
    let player = new_object("AudioStreamPlayer")?;
    player.set("stream", Variant::from(&stream))?;
    player.set("name", Variant::from("Ding"))?;
    me.add_child(&player)?;
    info!("decorator: loaded its own sound ({:.2} s)", seconds);
    *STATE.player.borrow_mut() = Some(player);
    Ok(())
}

/// A Node2D in the bottom-right corner whose `draw` the mod handles.
fn build_minimap(me: &Object) -> wasgo_sdk::Result<()> {
    let map = new_object("Node2D")?;
    map.set("name", Variant::from("Minimap"))?;
    map.set_position(Vector2::new(ARENA.x - MAP.x - 8.0, ARENA.y - MAP.y - 8.0))?;
    let canvas = map.clone();
    map.connect("draw", move |_args| draw_minimap(&canvas))?;
    me.add_child(&map)?;
    *STATE.minimap.borrow_mut() = Some(map);
    Ok(())
}

fn color(r: f32, g: f32, b: f32, a: f32) -> Color {
    Color { r, g, b, a }
}

/// Draws the arena's outline and a dot per player (runs inside the minimap's `draw`).
fn draw_minimap(canvas: &Object) {
    let _ = canvas.draw_rect([0.0, 0.0, MAP.x, MAP.y], color(0.05, 0.05, 0.1, 0.8), true);
    let _ = canvas.draw_rect([0.0, 0.0, MAP.x, MAP.y], color(0.8, 0.8, 0.9, 1.0), false);
    let players: Vec<Object> = self_node()
        .and_then(|me| me.get_node("../../Players"))
        .and_then(|p| p.children())
        .unwrap_or_default();
    for player in &players {
        let Ok(at) = player.position() else { continue };
        let dot = Vector2::new(at.x * MAP.x / ARENA.x, at.y * MAP.y / ARENA.y);
        let _ = canvas.draw_circle(dot, 2.5, color(1.0, 0.85, 0.2, 1.0));
    }
    let count = players.len() as i32;
    if STATE.drawn_players.replace(count) != count {
        info!("decorator: minimap drawn with {count} players");
    }
}

fn process(delta: f64) {
    let total: i32 = (0..player_count().max(0)).map(player_score).filter(|s| *s > 0).sum();
    if total > STATE.total_score.replace(total) {
        if let Some(player) = STATE.player.borrow().as_ref() {
            let _ = player.call("play", &[]);
        }
        let announced = STATE.announced.get();
        if announced < ANNOUNCED_SCORES {
            STATE.announced.set(announced + 1);
            info!("decorator: a player scored (total {total}), played its own sound");
        }
    }
    let since = STATE.since_redraw.get() + delta;
    if since >= REDRAW_EVERY_S {
        STATE.since_redraw.set(0.0);
        if let Some(map) = STATE.minimap.borrow().as_ref() {
            let _ = map.call("queue_redraw", &[]);
        }
    } else {
        STATE.since_redraw.set(since);
    }
}

export_ready!(ready);
export_process!(process);
