;; `init` logs a line, then calls `wasgo.file_write`, which level 1 does not expose: the start
;; fails, and the line and the `unexposed_call` must still reach the node.
(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasgo" "file_write" (func $file_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hi from init")
  (func (export "init")
    (call $log (i32.const 1) (i32.const 0) (i32.const 12))
    (drop (call $file_write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))))
