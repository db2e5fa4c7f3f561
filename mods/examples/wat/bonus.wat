;; bonus — the demo's crowd-pleaser, in hand-written WebAssembly text.
;;
;; Every 1.5 s of game time it gives the newest player 5 points through the game's `game.award`
;; and logs it with `wasgo.log`. No toolchain needed: WasGo compiles WAT itself, and
;; `cargo xtask mods` turns it into a binary `.wasm` with the `wat` crate.
(module
  (import "wasgo" "log" (func $log (param $level i32) (param $ptr i32) (param $len i32)))
  (import "game" "player_count" (func $player_count (result i32)))
  (import "game" "award" (func $award (param $player i32) (param $points i32) (result i32)))

  (memory (export "memory") 1)
  (data (i32.const 0) "bonus ready: +5 for the newest player every 1.5 s")        ;; 49 bytes
  (data (i32.const 64) "bonus: +5 for the newest player, the crowd cheers")      ;; 49 bytes

  ;; Game time not yet spent on bonuses, in seconds.
  (global $pending (mut f64) (f64.const 0))

  (func (export "ready")
    (call $log (i32.const 1) (i32.const 0) (i32.const 49)))

  (func (export "process") (param $delta f64)
    (local $count i32)
    (global.set $pending (f64.add (global.get $pending) (local.get $delta)))
    (if (f64.lt (global.get $pending) (f64.const 1.5)) (then (return)))
    (global.set $pending (f64.sub (global.get $pending) (f64.const 1.5)))
    (local.set $count (call $player_count))
    (if (i32.le_s (local.get $count) (i32.const 0)) (then (return)))
    (drop (call $award (i32.sub (local.get $count) (i32.const 1)) (i32.const 5)))
    (call $log (i32.const 1) (i32.const 64) (i32.const 49)))
)
