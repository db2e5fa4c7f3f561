;; Started with `start()` before its node enters the tree: `init` logs "init", `ready` logs
;; "ready" (once the node is ready).
;; No `main`: the mod lives on its callbacks.
(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "init")
  (data (i32.const 8) "ready")
  (data (i32.const 16) "main")
  (data (i32.const 24) "name")
  (func (export "init") (call $log (i32.const 1) (i32.const 0) (i32.const 4)))
  (func (export "ready") (call $log (i32.const 1) (i32.const 8) (i32.const 5)))
)
