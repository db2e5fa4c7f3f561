;; Holds handles of nodes the game may free: `hold()` gets the handle of the child `Target`,
;; `drop(h)` releases it, `rotation(h)` reads its rotation (x1000) with `get_float` (or the
;; error code), `again()` gets `Target`'s handle anew (-1 once it is gone), `unknown(h)` reads
;; a property no Node2D has and `denied(h)` one level 1 refuses (`script`), each with `get_float`.
(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (import "wasgo" "get_float" (func $get_float (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Target")
  (data (i32.const 16) "rotation")
  (data (i32.const 32) "no_such_prop")
  (data (i32.const 48) "script")
  (func (export "hold") (result i32) (call $get_node (i32.const 0) (i32.const 0) (i32.const 6)))
  (func (export "drop") (param $h i32) (call $release (local.get $h)))
  (func (export "again") (result i32) (call $get_node (i32.const 0) (i32.const 0) (i32.const 6)))
  (func (export "rotation") (param $h i32) (result i32)
    (local $r i32)
    (local.set $r (call $get_float (local.get $h) (i32.const 16) (i32.const 8) (i32.const 64)))
    (if (result i32) (local.get $r)
      (then (local.get $r))
      (else (i32.trunc_f64_s (f64.mul (f64.load (i32.const 64)) (f64.const 1000))))))
  (func (export "unknown") (param $h i32) (result i32)
    (call $get_float (local.get $h) (i32.const 32) (i32.const 12) (i32.const 64)))
  (func (export "denied") (param $h i32) (result i32)
    (call $get_float (local.get $h) (i32.const 48) (i32.const 6) (i32.const 64))))
