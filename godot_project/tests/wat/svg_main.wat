;; `main` hands the SVG text the game supplies (`test.svg`) to `wasgo.texture_from_bytes` six
;; times from the worker thread (each decode runs on the main thread), releasing each texture,
;; and logs `decoded` for each texture made (level 1).
(module
  (import "test" "svg" (func $svg (param i32 i32) (result i32)))
  (import "wasgo" "texture_from_bytes" (func $texture (param i32 i32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 100)
  (data (i32.const 0) "decoded")
  (func (export "main") (result i32)
    (local $len i32) (local $i i32) (local $handle i32)
    (local.set $len (call $svg (i32.const 65536) (i32.const 6000000)))
    (loop $again
      (local.set $handle (call $texture (i32.const 65536) (local.get $len)))
      (if (i32.gt_s (local.get $handle) (i32.const 0))
        (then
          (call $release (local.get $handle))
          (call $log (i32.const 1) (i32.const 0) (i32.const 7))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 6))))
    (i32.const 0)))
