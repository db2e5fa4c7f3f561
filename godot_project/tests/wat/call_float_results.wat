;; `wasgo.call_float` on methods of the mod's own node with each kind of result: a bool
;; (`is_inside_tree`), nothing (`update_configuration_warnings`) and a NodePath (`get_path`).
;; Each export returns the call's code; `out` reads the f64 written at 64 (-1.0 before a call).
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "call_float" (func $call_float (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "is_inside_tree")
  (data (i32.const 16) "update_configuration_warnings")
  (data (i32.const 48) "get_path")
  (func $call (param $name i32) (param $len i32) (result i32)
    (f64.store (i32.const 64) (f64.const -1))
    (call $call_float (call $self) (local.get $name) (local.get $len) (i32.const 0) (i32.const 0) (i32.const 64)))
  (func (export "bool_result") (result i32) (call $call (i32.const 0) (i32.const 14)))
  (func (export "no_result") (result i32) (call $call (i32.const 16) (i32.const 29)))
  (func (export "path_result") (result i32) (call $call (i32.const 48) (i32.const 8)))
  (func (export "out") (result f64) (f64.load (i32.const 64))))
