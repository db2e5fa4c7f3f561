;; `init` asks for the `files` permission, then traps: the request must not stay "asked" for the
;; node's next instance, which asks again.
(module
  (import "wasgo" "request_permission" (func $ask (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "files")
  (func (export "init")
    (drop (call $ask (i32.const 0) (i32.const 5)))
    unreachable))
