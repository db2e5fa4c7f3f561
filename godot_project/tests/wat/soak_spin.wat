;; For the soak test: `main` spins until it is killed.
(module
  (memory (export "memory") 1)
  (func (export "main") (result i32)
    (loop $l (br $l))
    (i32.const 0)))
