;; `main` never returns; `add` exists, but `call_export` must refuse it as busy while `main` runs.
(module
  (func (export "main") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
