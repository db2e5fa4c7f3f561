;; Opens `f.txt` in its level-2 sandbox (the preopened directory, fd 3) with WASI `path_open`,
;; creating it, `n` times without closing (`open_many(n)`); returns how many opens succeeded.
;; `errno()` is the first failure's errno (33 EMFILE: the mod's own limit, 41 ENFILE: all mods'),
;; `close_last()` closes the last descriptor opened.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "f.txt")
  (global $errno (mut i32) (i32.const 0))
  (global $last (mut i32) (i32.const -1))
  (func (export "open_many") (param $n i32) (result i32)
    (local $i i32) (local $e i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 5)
          (i32.const 1) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 0)))
        (if (local.get $e) (then (global.set $errno (local.get $e)) (br $done)))
        (global.set $last (i32.load (i32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))
  (func (export "errno") (result i32) (global.get $errno))
  (func (export "close_last") (result i32) (call $fd_close (global.get $last))))
