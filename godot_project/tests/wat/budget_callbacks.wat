;; For the frame-budget test: `connect_ticks(n)` connects the node's user signals `tick0` ..
;; `tick3` n times in all (callback ids 0 .. n-1: ids 0-9 to `tick0`, 10-19 to `tick1`, ...; a mod
;; has at most 16 connections to one signal); each `native_callback(id)` calls the game's
;; `game.slow(id)`, which takes a known time.
(module
  (import "game" "slow" (func $slow (param i32)))
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "tick0")
  (data (i32.const 8) "tick1")
  (data (i32.const 16) "tick2")
  (data (i32.const 24) "tick3")
  (func (export "connect_ticks") (param $n i32) (result i32)
    (local $i i32)
    (local $node i32)
    (local $failed i32)
    (local.set $node (call $self))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (call $connect (local.get $node) (i32.mul (i32.div_u (local.get $i) (i32.const 10)) (i32.const 8)) (i32.const 5) (local.get $i)) (i32.const 0))
          (then (local.set $failed (i32.add (local.get $failed) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $failed))
  (func (export "native_callback") (param $id i32)
    (call $slow (local.get $id))))
