;; Property names that are not UTF-8, read in place on the main thread: `get` and `set_float`
;; must trap naming the function, as the same calls from `main` do.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "set_float" (func $set_float (param i32 i32 i32 f64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "\ff\fe")
  (func (export "bad_get") (result i32)
    (call $get (call $self) (i32.const 100) (i32.const 2) (i32.const 0) (i32.const 0)))
  (func (export "bad_set_float") (result i32)
    (call $set_float (call $self) (i32.const 100) (i32.const 2) (f64.const 1))))
