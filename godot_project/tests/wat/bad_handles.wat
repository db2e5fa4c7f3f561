;; Passes handles no table can hold — 0, -1, i32::MIN, i32::MAX — to `wasgo.get_node` (as `from`)
;; and `wasgo.release`; `probe(which)` returns what `get_node` answered for handle number `which`
;; of that list. Each must answer -4 (invalid handle), never overflow.
(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x")
  (func $handle (param $which i32) (result i32)
    (if (result i32) (i32.eq (local.get $which) (i32.const 0))
      (then (i32.const -1))
      (else
        (if (result i32) (i32.eq (local.get $which) (i32.const 1))
          (then (i32.const 0x80000000))
          (else (i32.const 0x7fffffff))))))
  (func (export "probe") (param $which i32) (result i32)
    (call $release (call $handle (local.get $which)))
    (call $get_node (call $handle (local.get $which)) (i32.const 0) (i32.const 1))))
