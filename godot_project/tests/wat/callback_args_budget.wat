;; For the callback-arguments test: `listen()` connects the node's user signal `deep` to
;; `native_callback`, which reads the signal's arguments with `wasgo.callback_args` into a 1 MiB
;; buffer and keeps the result (the length, or a negative error code) for `last()`.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "callback_args" (func $callback_args (param i32 i32) (result i32)))
  (memory (export "memory") 17)
  (data (i32.const 0) "deep")
  (global $last (mut i32) (i32.const 12345))
  (func (export "listen") (result i32)
    (call $connect (call $self) (i32.const 0) (i32.const 4) (i32.const 1)))
  (func (export "last") (result i32) (global.get $last))
  (func (export "native_callback") (param $id i32)
    (global.set $last (call $callback_args (i32.const 65536) (i32.const 1048576)))))
