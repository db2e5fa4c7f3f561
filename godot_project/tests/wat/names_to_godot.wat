;; Passes Godot a name or a text the test chooses: `call_on(h, method, args)` calls `method` on
;; handle `h` with `args` (an Array as `var_to_bytes` encodes it), `get_node(path)` and
;; `emit(name)` pass a path and an event name, `set_on(h, property, value)` sets a property to a
;; value (a Variant as `var_to_bytes` encodes it) and `set_on(h, property, value)` on handle `h`,
;; `input()` is the `Input` singleton's handle, `label()` and `sprite()` a new Label's and
;; AnimatedSprite2D's, `make(class)` a new object of that class, `tween()` a new Tween's (from
;; `create_tween` on the mod's node).
;; On failure each logs `wasgo.last_error` (level 3), read into the first 4 KiB. Strings and bytes from `call_export` arrive
;; through `malloc` (a bump allocator from 64 KiB; nothing is freed).
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "singleton" (func $singleton (param i32 i32) (result i32)))
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "emit" (func $emit (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "new" (func $new (param i32 i32) (result i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 4)
  (global $next (mut i32) (i32.const 65536))
  (data (i32.const 5000) "Input")
  (data (i32.const 5040) "Label")
  (data (i32.const 5060) "AnimatedSprite2D")
  (data (i32.const 5080) "create_tween")
  ;; `[]` as `var_to_bytes` encodes it: the arguments of `create_tween`.
  (data (i32.const 5100) "\1c\00\00\00\00\00\00\00")
  ;; `null` as `var_to_bytes` encodes it: the payload of `emit`.
  (data (i32.const 5020) "\00\00\00\00")
  (func (export "malloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.and (i32.add (i32.add (local.get $at) (local.get $size)) (i32.const 7))
      (i32.const -8)))
    (local.get $at))
  (func $report (param $result i32) (result i32)
    (local $len i32)
    (if (i32.lt_s (local.get $result) (i32.const 0))
      (then
        (local.set $len (call $last_error (i32.const 0) (i32.const 4096)))
        (if (i32.le_u (local.get $len) (i32.const 4096))
          (then (call $log (i32.const 3) (i32.const 0) (local.get $len))))))
    (local.get $result))
  (func (export "input") (result i32)
    (call $report (call $singleton (i32.const 5000) (i32.const 5))))
  (func (export "call_on") (param $h i32) (param $mp i32) (param $ml i32) (param $ap i32) (param $al i32) (result i32)
    (call $report (call $call (local.get $h) (local.get $mp) (local.get $ml) (local.get $ap) (local.get $al)
      (i32.const 8192) (i32.const 4096))))
  (func (export "make") (param $p i32) (param $l i32) (result i32)
    (call $report (call $new (local.get $p) (local.get $l))))
  (func (export "label") (result i32)
    (call $report (call $new (i32.const 5040) (i32.const 5))))
  (func (export "sprite") (result i32)
    (call $report (call $new (i32.const 5060) (i32.const 16))))
  ;; The reply is the Tween as an object id: its tag, then the handle (low word first).
  (func (export "tween") (result i32)
    (local $r i32)
    (local.set $r (call $report (call $call (call $self) (i32.const 5080) (i32.const 12)
      (i32.const 5100) (i32.const 8) (i32.const 8192) (i32.const 4096))))
    (if (result i32) (i32.lt_s (local.get $r) (i32.const 0))
      (then (local.get $r))
      (else (i32.load (i32.const 8196)))))
  (func (export "set_on") (param $h i32) (param $np i32) (param $nl i32) (param $vp i32) (param $vl i32) (result i32)
    (call $report (call $set (local.get $h) (local.get $np) (local.get $nl) (local.get $vp) (local.get $vl))))
  (func (export "set_self") (param $np i32) (param $nl i32) (param $vp i32) (param $vl i32) (result i32)
    (call $report (call $set (call $self) (local.get $np) (local.get $nl) (local.get $vp) (local.get $vl))))
  (func (export "get_node") (param $p i32) (param $l i32) (result i32)
    (call $report (call $get_node (call $self) (local.get $p) (local.get $l))))
  (func (export "emit") (param $p i32) (param $l i32) (result i32)
    (call $report (call $emit (local.get $p) (local.get $l) (i32.const 5020) (i32.const 4)))))
