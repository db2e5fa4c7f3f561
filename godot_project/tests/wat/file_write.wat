;; Calls `wasgo.file_write` (a level-2 function) from `main`, then logs and returns 0.
;; At level 1 the call must trap as unexposed (and the log line must never appear);
;; at level 2 it must not trap as unexposed.
(module
  (import "wasgo" "file_write" (func $file_write (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "note.txt")
  (data (i32.const 16) "hello")
  (data (i32.const 32) "file_write returned")
  (func (export "main") (result i32)
    (drop (call $file_write (i32.const 0) (i32.const 8) (i32.const 16) (i32.const 5)))
    (call $log (i32.const 1) (i32.const 32) (i32.const 19))
    (i32.const 0)))
