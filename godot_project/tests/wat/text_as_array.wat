;; Sets the `text` of its child `Text` (a Label) to `n` characters 'A' given as `kind` 0 a String,
;; 1 an Array holding that String, 2 a PackedStringArray holding it; answers `wasgo.set`'s code.
(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "Text")
  (data (i32.const 16) "text")
  (func (export "set_text") (param $kind i32) (param $n i32) (result i32)
    (local $at i32)
    (local $len i32)
    ;; The header at 1024: [container tag, 1 element,] String tag (not for packed), length.
    (local.set $at (i32.const 1024))
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then
        (i32.store (local.get $at) (i32.const 28))
        (i32.store offset=4 (local.get $at) (i32.const 1))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))))
    (if (i32.eq (local.get $kind) (i32.const 2))
      (then
        (i32.store (local.get $at) (i32.const 34))
        (i32.store offset=4 (local.get $at) (i32.const 1))
        (local.set $at (i32.add (local.get $at) (i32.const 8))))
      (else
        (i32.store (local.get $at) (i32.const 4))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))))
    (i32.store (local.get $at) (local.get $n))
    (local.set $at (i32.add (local.get $at) (i32.const 4)))
    (memory.fill (local.get $at) (i32.const 65) (local.get $n))
    ;; Strings are padded to four bytes.
    (local.set $len
      (i32.sub
        (i32.add (local.get $at) (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)))
        (i32.const 1024)))
    (call $set
      (call $get_node (i32.const 0) (i32.const 0) (i32.const 4))
      (i32.const 16) (i32.const 4) (i32.const 1024) (local.get $len))))
