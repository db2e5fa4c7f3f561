;; For the owned-objects test: `flood(n)` creates up to n SceneTreeTimers of an hour each with
;; `SceneTree.create_timer` and connects each one's `timeout` to `native_callback`. It returns 0
;; when all were made, else the error code of the first refusal (and logs `wasgo.last_error`).
;; `created()` counts the timers made so far; `use_nan_delay()` makes the next ones NaN seconds long,
;; `use_zero_delay()` zero seconds (they fire at the next frame; `flood` keeps their handles, and
;; connects only the first);
;; `fired()` counts the timeouts delivered.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $created (mut i32) (i32.const 0))
  (data (i32.const 0) "get_tree")
  (data (i32.const 16) "create_timer")
  (data (i32.const 32) "timeout")
  ;; [] : Array header 28, count 0
  (data (i32.const 64) "\1c\00\00\00\00\00\00\00")
  ;; [3600.0] : Array header 28, count 1, float header 3, f32 3600.0 (0x45610000)
  (data (i32.const 96) "\1c\00\00\00\01\00\00\00\03\00\00\00\00\00\61\45")
  ;; [NaN] : the same with the f32 NaN (0x7fc00000), for `use_nan_delay`.
  (data (i32.const 128) "\1c\00\00\00\01\00\00\00\03\00\00\00\00\00\c0\7f")
  ;; [0.0]
  (data (i32.const 160) "\1c\00\00\00\01\00\00\00\03\00\00\00\00\00\00\00")
  ;; The arguments `flood` gives `create_timer` (an hour, or NaN after `use_nan_delay`).
  (global $args (mut i32) (i32.const 96))
  (func (export "use_nan_delay") (global.set $args (i32.const 128)))
  ;; Connects only the first timer (connections count against their own cap).
  (global $connect_all (mut i32) (i32.const 1))
  (func (export "use_zero_delay") (global.set $args (i32.const 160)) (global.set $connect_all (i32.const 0)))
  (func (export "created") (result i32) (global.get $created))
  (func (export "flood") (param $n i32) (result i32)
    (local $tree i32)
    (local $r i32)
    (local $len i32)
    ;; get_tree() -> Object: header at 256, the handle's low 32 bits at 260.
    (local.set $r (call $call (call $self) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 8) (i32.const 256) (i32.const 64)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.set $tree (i32.load (i32.const 260)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (global.get $created) (local.get $n)))
        (local.set $r (call $call (local.get $tree) (i32.const 16) (i32.const 12) (global.get $args) (i32.const 16) (i32.const 256) (i32.const 64)))
        (if (i32.lt_s (local.get $r) (i32.const 0))
          (then
            (local.set $len (call $last_error (i32.const 1024) (i32.const 4096)))
            (call $log (i32.const 1) (i32.const 1024) (local.get $len))
            (return (local.get $r))))
        (if (i32.or (global.get $connect_all) (i32.eqz (global.get $created)))
          (then
            (local.set $r (call $connect (i32.load (i32.const 260)) (i32.const 32) (i32.const 7) (global.get $created)))
            (if (i32.ne (local.get $r) (i32.const 0)) (then (return (local.get $r))))))
        (global.set $created (i32.add (global.get $created) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (global $fired (mut i32) (i32.const 0))
  (func (export "fired") (result i32) (global.get $fired))
  (func (export "native_callback") (param $id i32)
    (global.set $fired (i32.add (global.get $fired) (i32.const 1)))))
