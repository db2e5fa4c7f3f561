;; `lines(n)` logs `n` lines (`line`) through `wasgo.log` in one call, then traps when `trap` is
;; not 0: the node's signals for them are emitted together once the call returns.
(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "line")
  (func (export "lines") (param $n i32) (param $trap i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $log (i32.const 1) (i32.const 0) (i32.const 4))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (local.get $trap) (then unreachable))))
