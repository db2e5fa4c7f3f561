;; Connects `renamed` of its own node (`connect_self(n)`) or of its child `Child`
;; (`connect_child(n)`) n times; returns how many connects succeeded before the first failure,
;; whose `wasgo.last_error` it logs (level 3). An instance has at most 1024 live connections, 16
;; to one signal of one object.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 4096) "renamed")
  (data (i32.const 4112) "Child")
  (func $flood (param $handle i32) (param $n i32) (result i32)
    (local $i i32) (local $result i32) (local $len i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $result (call $connect (local.get $handle) (i32.const 4096) (i32.const 7) (i32.const 1)))
        (if (i32.lt_s (local.get $result) (i32.const 0))
          (then
            (local.set $len (call $last_error (i32.const 0) (i32.const 4096)))
            (if (i32.le_u (local.get $len) (i32.const 4096))
              (then (call $log (i32.const 3) (i32.const 0) (local.get $len))))
            (br $done)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))
  (func (export "connect_self") (param $n i32) (result i32)
    (call $flood (call $self) (local.get $n)))
  (func (export "connect_child") (param $n i32) (result i32)
    (call $flood (call $get_node (i32.const 0) (i32.const 4112) (i32.const 5)) (local.get $n)))
  (func (export "native_callback") (param i32)))
