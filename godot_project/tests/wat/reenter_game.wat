;; For the re-entrancy tests: `process` and `native_callback` call the game's `game.poke(source)`
;; (0 from `process`, 1 from `native_callback`) and log `after poke` when it returns. `add` is for
;; `call_export`, `boom` traps, `connect_poke` connects the node's user signal `poke_me` to
;; `native_callback(1)`.
(module
  (import "game" "poke" (func $poke (param i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "after poke")
  (data (i32.const 16) "poke_me")
  (func (export "process") (param f64)
    (call $poke (i32.const 0))
    (call $log (i32.const 1) (i32.const 0) (i32.const 10)))
  (func (export "native_callback") (param i32)
    (call $poke (i32.const 1))
    (call $log (i32.const 1) (i32.const 0) (i32.const 10)))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "boom")
    unreachable)
  (func (export "connect_poke") (result i32)
    (call $connect (call $self) (i32.const 16) (i32.const 7) (i32.const 1))))
