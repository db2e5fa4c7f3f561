;; `main` recurses without end; the call stack limit must trap it (the message mentions the stack,
;; the backtrace names `dive`).
(module
  (func $dive (param $depth i32) (result i32)
    (i32.add (call $dive (i32.add (local.get $depth) (i32.const 1))) (i32.const 1)))
  (func (export "main") (result i32)
    (call $dive (i32.const 0))))
