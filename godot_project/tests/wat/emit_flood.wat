;; `flood(n)` emits `n` mod_events, each with a 6 MiB PackedByteArray payload, in one call and
;; returns how many were accepted, or on the first refusal `accepted * 1000 - code` (2007: two
;; accepted, then -7).
(module
  (import "wasgo" "emit" (func $emit (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 112)
  (data (i32.const 0) "flood")
  ;; Wire header at 16: type 29 (PackedByteArray), then its length (6 MiB); the bytes follow.
  (data (i32.const 16) "\1d\00\00\00\00\00\60\00")
  (func (export "flood") (param $n i32) (result i32)
    (local $i i32) (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $r (call $emit (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 6291464)))
        (if (i32.lt_s (local.get $r) (i32.const 0))
          (then (return (i32.sub (i32.mul (local.get $i) (i32.const 1000)) (local.get $r)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i)))
