;; `ping` emits the node's `mod_event("ping", null)`: a handler that calls `ping` again makes an
;; endless ping-pong, which WasGo must spread over frames instead of recursing.
(module
  (import "wasgo" "emit" (func $emit (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ping")
  (data (i32.const 8) "\00\00\00\00")
  (func (export "ping") (result i32)
    (call $emit (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4))))
