;; For the soak test: no `main`; `process` counts frames, `frames` reads the count.
(module
  (memory (export "memory") 1)
  (global $frames (mut i32) (i32.const 0))
  (func (export "process") (param f64)
    (global.set $frames (i32.add (global.get $frames) (i32.const 1))))
  (func (export "frames") (result i32) (global.get $frames)))
