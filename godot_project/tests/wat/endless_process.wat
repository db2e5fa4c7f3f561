;; No `main`: lives on callbacks. Its `process` never returns, so the callback budget must trap it
;; and the game's frame must go on.
(module
  (func (export "process") (param f64)
    (loop $forever (br $forever))))
