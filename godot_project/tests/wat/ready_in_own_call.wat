;; Started outside the tree: `attach` calls the game's `game.poke(0)` (which puts the node in the
;; tree, so it becomes ready inside this call); `ready` logs "ready".
(module
  (import "game" "poke" (func $poke (param i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ready")
  (func (export "attach") (call $poke (i32.const 0)))
  (func (export "ready") (call $log (i32.const 1) (i32.const 0) (i32.const 5))))
