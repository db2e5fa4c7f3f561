;; Calls `game.work(id)` from `physics_process` and from `process` (the game's function records
;; the call and takes as long as the test wants): `set_id` gives the mod its id, `kinds` picks
;; which frame callbacks do the work (1 physics, 2 process, 3 both).
(module
  (import "game" "work" (func $work (param i32)))
  (global $id (mut i32) (i32.const 0))
  (global $kinds (mut i32) (i32.const 0))
  (func (export "set_id") (param i32 i32)
    (global.set $id (local.get 0))
    (global.set $kinds (local.get 1)))
  (func (export "physics_process") (param f64)
    (if (i32.and (global.get $kinds) (i32.const 1)) (then (call $work (global.get $id)))))
  (func (export "process") (param f64)
    (if (i32.and (global.get $kinds) (i32.const 2)) (then (call $work (i32.add (global.get $id) (i32.const 100)))))))
