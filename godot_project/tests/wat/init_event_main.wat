;; `init` emits the node's `mod_event("init", null)`; `ready` emits `mod_event("ready", null)`;
;; `main` spins until killed. A handler of the `init` event that calls `start()` again must not
;; start `main` ahead of the start in progress (whose `ready` was then refused as busy).
(module
  (import "wasgo" "emit" (func $emit (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "init")
  (data (i32.const 8) "\00\00\00\00")
  (data (i32.const 16) "ready")
  (func (export "init")
    (drop (call $emit (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4))))
  (func (export "ready")
    (drop (call $emit (i32.const 16) (i32.const 5) (i32.const 8) (i32.const 4))))
  (func (export "main") (result i32)
    (loop $l (br $l))
    (i32.const 0)))
