;; Grows its linear memory one 64 KiB page at a time, forever. The memory cap must trap it.
;; If a grow merely fails instead, `main` returns 1, which the test reports as "did not trap".
(module
  (memory 1)
  (func (export "main") (result i32)
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (i32.const 1)))
