;; No `main`: `start()` instantiates it and it lives on callbacks. `add` is for `call_export`.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
