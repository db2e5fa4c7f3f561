;; An `input` export that calls `game.work` (which takes as long as the test wants) per event.
(module
  (import "game" "work" (func $work))
  (func (export "input") (param i32) (call $work)))
