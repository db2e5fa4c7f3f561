;; `main` calls the game's `t.probe(9)` (which the test makes slow), then `t.probe(10)`.
(module
  (import "t" "probe" (func $probe (param i32)))
  (func (export "main") (result i32)
    (call $probe (i32.const 9))
    (call $probe (i32.const 10))
    (i32.const 0)))
