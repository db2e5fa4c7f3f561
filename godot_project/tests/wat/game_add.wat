;; Calls the game's own `game.add(40, 2)` (registered with `WasmEngine.register_function`) and
;; logs `game.add returned <n>` (n printed as an unsigned decimal).
(module
  (import "game" "add" (func $add (param i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "game.add returned ")
  ;; Writes $value in decimal at $at; returns the number of bytes written.
  (func $write_decimal (param $value i32) (param $at i32) (result i32)
    (local $digits i32)
    (local $rest i32)
    (local.set $digits (i32.const 1))
    (local.set $rest (local.get $value))
    (block $counted
      (loop $count
        (br_if $counted (i32.lt_u (local.get $rest) (i32.const 10)))
        (local.set $rest (i32.div_u (local.get $rest) (i32.const 10)))
        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
        (br $count)))
    (local.set $rest (local.get $value))
    (local.set $at (i32.add (local.get $at) (local.get $digits)))
    (loop $write
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (local.get $rest) (i32.const 10))))
      (local.set $rest (i32.div_u (local.get $rest) (i32.const 10)))
      (br_if $write (i32.ne (local.get $rest) (i32.const 0))))
    (local.get $digits))
  (func (export "main") (result i32)
    (call $log (i32.const 1) (i32.const 0)
      (i32.add (i32.const 18)
        (call $write_decimal (call $add (i32.const 40) (i32.const 2)) (i32.const 18))))
    (i32.const 0)))
