;; `make(kind, n)` creates `n` objects of one class (kind 0 Area2D, 1 CollisionShape2D, 2 Node2D)
;; with `wasgo.new` and answers how many it made, or -1000 - k with the code of the refused k-th
;; in `last_code`.
(module
  (import "wasgo" "new" (func $new (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Area2D")
  (data (i32.const 16) "CollisionShape2D")
  (data (i32.const 48) "Node2D")
  (global $code (mut i32) (i32.const 0))
  (func (export "last_code") (result i32) (global.get $code))
  (func (export "make") (param $kind i32) (param $n i32) (result i32)
    (local $k i32)
    (local $h i32)
    (block $done
      (loop $more
        (br_if $done (i32.ge_s (local.get $k) (local.get $n)))
        (local.set $h
          (if (result i32) (i32.eqz (local.get $kind))
            (then (call $new (i32.const 0) (i32.const 6)))
            (else (if (result i32) (i32.eq (local.get $kind) (i32.const 1))
              (then (call $new (i32.const 16) (i32.const 16)))
              (else (call $new (i32.const 48) (i32.const 6)))))))
        (if (i32.lt_s (local.get $h) (i32.const 0))
          (then
            (global.set $code (local.get $h))
            (return (i32.sub (i32.const -1000) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $more)))
    (local.get $n)))
