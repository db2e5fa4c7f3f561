;; `read` gets its own node's `metadata/loop` (a value the game set) into a 60,000-byte buffer
;; and returns what `get` returned: the length written, or an error code.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "metadata/loop")
  (func (export "read") (result i32)
    (call $get (call $self) (i32.const 0) (i32.const 13) (i32.const 1024) (i32.const 60000))))
