;; `init` logs a line and calls WASI `exit(3)`: the mod ended as it chose, reported as
;; `finished(3)` (STATUS_FINISHED), not as a failed start.
(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bye from init")
  (func (export "init")
    (call $log (i32.const 1) (i32.const 0) (i32.const 13))
    (call $exit (i32.const 3)))
  (func (export "main") (result i32) (unreachable)))
