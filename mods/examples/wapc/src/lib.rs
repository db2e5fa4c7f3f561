//! `ranker`: the arena's ranking service, a waPC guest built with the published `wapc-guest`
//! crate (no WasGo code in it: any waPC host could run it).
//!
//! | operation | payload | reply |
//! |---|---|---|
//! | `rank` | `name=score` lines | `1. Ada 30, 2. Bo 20, ...` (highest first, ties by name) |
//!
//! For each ranking it tells the game who leads through the host operation
//! `arena/hud/banner` (registered by the game with `WasmEngine.register_wapc_handler`), and it
//! logs through waPC's console.

use wapc_guest::{self as wapc, CallResult};

#[no_mangle]
pub fn wapc_init() {
    wapc::register_function("rank", rank);
}

fn rank(payload: &[u8]) -> CallResult {
    let text = core::str::from_utf8(payload).map_err(|_| "the payload must be UTF-8 text")?;
    let mut players: Vec<(&str, i64)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, score) = line
            .split_once('=')
            .ok_or_else(|| format!("`{line}` is not a `name=score` line"))?;
        let score = score
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("the score of `{name}` is not a number"))?;
        players.push((name.trim(), score));
    }
    if players.is_empty() {
        return Ok(b"nobody to rank".to_vec());
    }
    players.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let (leader, best) = players[0];
    let banner = format!("{leader} leads with {best} points");
    if let Err(e) = wapc::host_call("arena", "hud", "banner", banner.as_bytes()) {
        wapc::console_log(&format!("ranker: the banner was refused: {e}"));
    }
    let ranking: Vec<String> = players
        .iter()
        .enumerate()
        .map(|(i, (name, score))| format!("{}. {name} {score}", i + 1))
        .collect();
    Ok(ranking.join(", ").into_bytes())
}
