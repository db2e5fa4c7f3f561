;; Calls `wasgo.file_write` (a level-2 function) from its export `write`, on the main thread; no
;; `main`. At level 1 the call traps as unexposed within the game's `call_export`.
(module
  (import "wasgo" "file_write" (func $file_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "note.txt")
  (data (i32.const 16) "hello")
  (func (export "write")
    (drop (call $file_write (i32.const 0) (i32.const 8) (i32.const 16) (i32.const 5)))))
