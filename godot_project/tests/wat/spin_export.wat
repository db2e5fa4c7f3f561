;; `spin` loops for ever (a mod that overruns any budget when the game calls it); `work(n)` spins
;; `n` iterations and returns.
(module
  (memory (export "memory") 1)
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "work") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i)))
