// leaderboard — the demo's announcer, in AssemblyScript: every two seconds it ranks the players
// by score and posts the leaderboard to the game as `mod_event("leaderboard", [{name, score}, ...])`
// (where this WasGo has `wasgo.emit`; otherwise it logs it).
import { emit, hasFunction, info, outString, VariantWriter } from "../../../sdk/assemblyscript/wasgo";

@external("game", "player_count")
declare function player_count(): i32;
@external("game", "player_score")
declare function player_score(index: i32): i32;
// A "string" result: (out_ptr, out_cap) -> full length.
@external("game", "player_name")
declare function player_name(index: i32, out_ptr: i32, out_cap: i32): i32;

const EVERY_S: f64 = 2.0;
let sinceLastPost: f64 = 0.0;
let posts: i32 = 0;

function playerName(index: i32): string {
  const buf = new ArrayBuffer(64);
  const name = outString(buf, player_name(index, changetype<usize>(buf) as i32, buf.byteLength));
  return name === null ? "?" : name;
}

export function ready(): void {
  info("leaderboard ready: posting the standings every " + EVERY_S.toString() + " s");
}

export function process(delta: f64): void {
  sinceLastPost += delta;
  if (sinceLastPost < EVERY_S) return;
  sinceLastPost -= EVERY_S;

  const count = player_count();
  if (count <= 0) return;
  const order = new Array<i32>(count);
  const scores = new Array<i32>(count);
  for (let i = 0; i < count; i++) {
    order[i] = i;
    scores[i] = player_score(i);
  }
  // Insertion sort, best first (the arena holds a handful of players).
  for (let i = 1; i < count; i++) {
    const current = order[i];
    let j = i - 1;
    while (j >= 0 && scores[order[j]] < scores[current]) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = current;
  }

  let text = "";
  const payload = new VariantWriter().array(count);
  for (let rank = 0; rank < count; rank++) {
    const i = order[rank];
    const name = playerName(i);
    if (rank > 0) text += ", ";
    text += (rank + 1).toString() + ". " + name + " " + scores[i].toString();
    payload.dictionary(2).string("name").string(name).string("score").int(scores[i]);
  }
  posts++;
  if (hasFunction("wasgo", "emit")) {
    emit("leaderboard", payload);
    info("leaderboard #" + posts.toString() + " posted: " + text);
  } else {
    info("leaderboard #" + posts.toString() + ": " + text);
  }
}

// Text with a lone surrogate (half of a UTF-16 pair, as cutting "😀" in two leaves) is not
// UTF-8, and the host stops a mod that passes such text: the SDK sends U+FFFD in its place.
// (The Godot suite calls this export: tests/test_examples.gd.)
export function half_emoji(): void {
  const half = String.fromCharCode(0xD83D);
  info("leaderboard: half an emoji " + half);
  if (hasFunction("wasgo", "emit" + half)) info("leaderboard: half-emoji function?");
  emit("half" + half, new VariantWriter().string("emoji " + half));
}
