;; For the re-entrancy tests: `init` calls the game's `game.poke(2)` (which may reload the node
;; from inside `init`); `main` spins until it is killed.
(module
  (import "game" "poke" (func $poke (param i32)))
  (memory (export "memory") 1)
  (func (export "init")
    (call $poke (i32.const 2)))
  (func (export "main") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
