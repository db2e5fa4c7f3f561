;; `call_export` with text and bytes: a bump `malloc`, a `free` that counts its calls, and
;; exports taking (ptr, len) pairs.
(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (global $frees (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $at))
  (func (export "free") (param i32 i32 i32)
    (global.set $frees (i32.add (global.get $frees) (i32.const 1))))
  (func (export "frees") (result i32) (global.get $frees))
  ;; Logs the text it is given; returns its length in bytes.
  (func (export "say") (param $ptr i32) (param $len i32) (result i32)
    (call $log (i32.const 1) (local.get $ptr) (local.get $len))
    (local.get $len))
  ;; The sum of the bytes, times `scale`.
  (func (export "sum") (param $ptr i32) (param $len i32) (param $scale f64) (result f64)
    (local $i i32) (local $total i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $total (i32.add (local.get $total)
          (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f64.mul (f64.convert_i32_u (local.get $total)) (local.get $scale))))
