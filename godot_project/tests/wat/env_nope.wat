;; Imports a function no level provides (`env.nope`) and calls it from `main`.
;; Instantiation must succeed; the call must trap naming `env.nope`.
(module
  (import "env" "nope" (func $nope (param i32) (result i32)))
  (func (export "main") (result i32)
    (call $nope (i32.const 7))))
