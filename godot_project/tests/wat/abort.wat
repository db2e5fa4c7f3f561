;; `main` gives up through `wasgo.abort` with its own message, which the trap must carry.
(module
  (import "wasgo" "abort" (func $abort (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "the mod gave up: reason 42")
  (func (export "main") (result i32)
    (call $abort (i32.const 0) (i32.const 26))
    (unreachable)))
