;; `font_size(size)` sets `font_size` on the LabelSettings of the child Label `Target` (a resource
;; the game made, shared with every label using it) and returns what `set` returned; it returns
;; -100 when the label's settings could not be read as a handle.
(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Target")
  (data (i32.const 16) "label_settings")
  (data (i32.const 32) "font_size")
  (func (export "font_size") (param $size i32) (result i32)
    (local $label i32) (local $settings i32)
    (local.set $label (call $get_node (i32.const 0) (i32.const 0) (i32.const 6)))
    ;; An object arrives as type 24 with flag 1<<16, then its handle as a u64.
    (if (i32.ne (call $get (local.get $label) (i32.const 16) (i32.const 14) (i32.const 1024) (i32.const 64)) (i32.const 12))
      (then (return (i32.const -100))))
    (local.set $settings (i32.load (i32.const 1028)))
    (i32.store (i32.const 2048) (i32.const 2))
    (i32.store (i32.const 2052) (local.get $size))
    (call $set (local.get $settings) (i32.const 32) (i32.const 9) (i32.const 2048) (i32.const 8))))
