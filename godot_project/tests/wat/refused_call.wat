;; Calls `get_child_count` on its own node through `wasgo.call`: `good()` passes one bool
;; (`include_internal` true) and answers the count, `wrong_type()` passes an empty Array where
;; Godot wants a bool, `too_many()` three bools; both answer the call's code.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "get_child_count")
  ;; [true]
  (data (i32.const 64) "\1c\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00")
  ;; [[]]
  (data (i32.const 96) "\1c\00\00\00\01\00\00\00\1c\00\00\00\00\00\00\00")
  ;; [true, true, true]
  (data (i32.const 128) "\1c\00\00\00\03\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00")
  (func $get_child_count (param $args i32) (param $len i32) (result i32)
    (call $call (call $self) (i32.const 0) (i32.const 15) (local.get $args) (local.get $len)
      (i32.const 256) (i32.const 64)))
  (func (export "good") (result i32)
    (local $r i32)
    (local.set $r (call $get_child_count (i32.const 64) (i32.const 16)))
    ;; A reply is the result's Variant: INT (2), then the number.
    (if (result i32) (i32.lt_s (local.get $r) (i32.const 0))
      (then (local.get $r))
      (else (i32.load (i32.const 260)))))
  (func (export "wrong_type") (result i32) (call $get_child_count (i32.const 96) (i32.const 16)))
  (func (export "too_many") (result i32) (call $get_child_count (i32.const 128) (i32.const 32))))
