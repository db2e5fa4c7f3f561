//! `mover` — the demo's dancer: every frame it moves each player around the arena on a circle,
//! and it greets each player that joins through the arena's `player_joined` signal.
//!
//! It uses the Godot objects (`get_node`, `get`/`set`, `connect`) where this WasGo has them, and
//! otherwise the functions the demo game registers (`game.player_count`, `game.move_player`):
//! `has_function` tells which.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::cell::Cell;
use wasgo_sdk::{export_process, export_ready, has_function, info, self_node, warn, Object, Vector2};

wasgo_sdk::manifest!(
    r#"{"id": "mover", "name": "Mover", "version": "1.0.0", "authors": ["WasGo examples"],
        "description": "moves every player each frame and greets joiners", "level": 1}"#
);

wasgo_sdk::import_game_functions! {
    "game" {
        /// How many players are in the arena.
        fn player_count() -> i32;
        /// Moves player `index` to (`x`, `y`); 0 on success.
        fn move_player(index: i32, x: f32, y: f32) -> i32;
    }
}

/// Where the players dance, in arena pixels.
const CENTER: Vector2 = Vector2::new(320.0, 180.0);
const RADIUS: f32 = 120.0;
/// Radians per second.
const SPEED: f32 = 0.8;

/// Seconds since the mod started (the mod runs one thread at a time, so a `Cell` is enough).
struct Clock(Cell<f64>);
// SAFETY: a wasm instance runs on one thread at a time.
unsafe impl Sync for Clock {}
static CLOCK: Clock = Clock(Cell::new(0.0));

fn godot_api() -> bool {
    ["self", "get_node", "get", "set", "call", "connect"].iter().all(|f| has_function("wasgo", f))
}

fn ready() {
    if !godot_api() {
        info!("mover ready: moving players through game.move_player (this WasGo has no Godot object API yet)");
        return;
    }
    info!("mover ready: moving the player nodes directly");
    let arena = match self_node().and_then(|me| me.get_node("../..")) {
        Ok(arena) => arena,
        Err(e) => return warn!("mover: no arena node ({e})"),
    };
    let connected = arena.connect("player_joined", |args| {
        let name = args.first().and_then(|v| v.as_str()).unwrap_or("someone");
        info!("mover: {name} joined, into the circle you go");
    });
    if let Err(e) = connected {
        warn!("mover: cannot connect to `player_joined` ({e})");
    }
}

/// Where player `index` of `count` stands at time `t`.
fn spot(index: usize, count: usize, t: f64) -> Vector2 {
    let angle = SPEED * t as f32 + index as f32 * core::f32::consts::TAU / count.max(1) as f32;
    Vector2::new(CENTER.x + RADIUS * cos(angle), CENTER.y + RADIUS * sin(angle))
}

fn process(delta: f64) {
    let t = CLOCK.0.get() + delta;
    CLOCK.0.set(t);
    if godot_api() {
        move_nodes(t);
    } else {
        let count = player_count().max(0) as usize;
        for i in 0..count {
            let p = spot(i, count, t);
            move_player(i as i32, p.x, p.y);
        }
    }
}

fn move_nodes(t: f64) {
    let Ok(players) = self_node().and_then(|me| me.get_node("../../Players")) else { return };
    let nodes: Vec<Object> = players.children().unwrap_or_default();
    for (i, node) in nodes.iter().enumerate() {
        let target = spot(i, nodes.len(), t);
        // Read the property back as well: glide halfway there each frame.
        let now = node.position().unwrap_or(target);
        let _ = node.set_position(Vector2::new((now.x + target.x) / 2.0, (now.y + target.y) / 2.0));
    }
}

// `core` has no trigonometry without `std`; these are good to about 1e-6 on [-π, π].
fn sin(x: f32) -> f32 {
    let tau = core::f32::consts::TAU;
    let mut x = x % tau;
    if x > core::f32::consts::PI {
        x -= tau;
    } else if x < -core::f32::consts::PI {
        x += tau;
    }
    let x2 = x * x;
    x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0 * (1.0 - x2 / 156.0))))))
}

fn cos(x: f32) -> f32 {
    sin(x + core::f32::consts::FRAC_PI_2)
}

export_ready!(ready);
export_process!(process);
