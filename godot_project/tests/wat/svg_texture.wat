;; Hands the SVG text the game supplies (`test.svg`, registered by `test_assets.gd`) to
;; `wasgo.texture_from_bytes`; on failure logs `wasgo.last_error` (level 3). `go()` returns the
;; texture's handle or the error code.
(module
  (import "test" "svg" (func $svg (param i32 i32) (result i32)))
  (import "wasgo" "texture_from_bytes" (func $texture (param i32 i32) (result i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 100)
  (func (export "go") (result i32)
    (local $len i32) (local $result i32) (local $error_len i32)
    (local.set $len (call $svg (i32.const 65536) (i32.const 6000000)))
    (local.set $result (call $texture (i32.const 65536) (local.get $len)))
    (if (i32.lt_s (local.get $result) (i32.const 0))
      (then
        (local.set $error_len (call $last_error (i32.const 0) (i32.const 65536)))
        (call $log (i32.const 3) (i32.const 0) (local.get $error_len))))
    (local.get $result)))
