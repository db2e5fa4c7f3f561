;; For the reach tests: every way a mod obtains a handle, driven by the test. Texts (paths,
;; method, property, signal and group names) come from the game's `reach.text(i)`.
;;   me()                      wasgo.self
;;   node(from, t)             wasgo.get_node(from, text(t))
;;   call_m(h, m, t, extra)    wasgo.call(h, text(m), args): [text(t)] (none when t < 0), then
;;                             the extra arguments: 0 none, 1 `true, false` (find_child's
;;                             recursive and owned), 2 `0, true` (get_child(0, include_internal)),
;;                             3 `true` (get_children(include_internal)); answers `result(...)`
;;   get_p(h, t)               wasgo.get(h, text(t)); answers `result(...)`
;;   move_x(h, x)              wasgo.set_vec2(h, "position", x, 0) (the fast path)
;;   listen(h, t, id)          wasgo.connect(h, text(t), id)
;;   last_cb()                 what the last native_callback saw: `result(callback_args)[0]`
;;   report_error()            hands wasgo.last_error to the game's `reach.report(text)`
;;   single(t)                 wasgo.singleton(text(t))
;;   release_h(h)              wasgo.release(h)
;; result(v): a negative code as is; nil → 0; an Object → its handle; an Array of objects →
;; (non-null elements) + 1000 × (null elements); anything else → -100.
(module
  (import "reach" "text" (func $text (param i32 i32 i32) (result i32)))
  (import "reach" "report" (func $report (param i32 i32)))
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "callback_args" (func $callback_args (param i32 i32) (result i32)))
  (import "wasgo" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "set_float" (func $set_float (param i32 i32 i32 f64) (result i32)))
  (import "wasgo" "singleton" (func $singleton (param i32 i32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (memory (export "memory") 1)
  (global $cb (mut i32) (i32.const -200))
  (data (i32.const 0) "position")
  ;; The extra arguments, at 512 + 64 × extra: element count, byte length, encoded elements
  ;; (bool: tag 1; int: tag 2, 32-bit).
  (data (i32.const 576) "\02\00\00\00\10\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00\00\00\00\00")
  (data (i32.const 640) "\02\00\00\00\10\00\00\00\02\00\00\00\00\00\00\00\01\00\00\00\01\00\00\00")
  (data (i32.const 704) "\01\00\00\00\08\00\00\00\01\00\00\00\01\00\00\00")
  ;; 1024: a text; 1536: a method name; 2048: encoded args; 4096: a reply (4 KiB);
  ;; 8192: last_error (1 KiB).

  ;; What the encoded value at $p says (see the header).
  (func $result (param $p i32) (result i32)
    (local $tag i32) (local $n i32) (local $i i32) (local $sum i32) (local $e i32)
    (local.set $tag (i32.and (i32.load (local.get $p)) (i32.const 0xffff)))
    (if (i32.eqz (local.get $tag)) (then (return (i32.const 0))))
    (if (i32.eq (local.get $tag) (i32.const 24))
      (then (return (i32.load offset=4 (local.get $p)))))
    (if (i32.ne (local.get $tag) (i32.const 28)) (then (return (i32.const -100))))
    (local.set $n (i32.load offset=4 (local.get $p)))
    (local.set $e (i32.add (local.get $p) (i32.const 8)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.and (i32.load (local.get $e)) (i32.const 0xffff)) (i32.const 24))
          (then (return (i32.const -100))))
        (local.set $sum (i32.add (local.get $sum)
          (select (i32.const 1) (i32.const 1000) (i32.load offset=4 (local.get $e)))))
        (local.set $e (i32.add (local.get $e) (i32.const 12)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  (func (export "me") (result i32) (call $self))

  (func (export "release_h") (param $h i32) (call $release (local.get $h)))

  (func (export "single") (param $t i32) (result i32)
    (call $singleton (i32.const 1024) (call $text (local.get $t) (i32.const 1024) (i32.const 512))))

  (func (export "node") (param $from i32) (param $t i32) (result i32)
    (call $get_node (local.get $from) (i32.const 1024)
      (call $text (local.get $t) (i32.const 1024) (i32.const 512))))

  (func (export "call_m") (param $h i32) (param $m i32) (param $t i32) (param $extra i32) (result i32)
    (local $mlen i32) (local $tlen i32) (local $alen i32) (local $r i32) (local $x i32)
    (local.set $mlen (call $text (local.get $m) (i32.const 1536) (i32.const 512)))
    (i32.store (i32.const 2048) (i32.const 28))
    (i32.store (i32.const 2052) (i32.const 0))
    (local.set $alen (i32.const 8))
    (if (i32.ge_s (local.get $t) (i32.const 0))
      (then
        (local.set $tlen (call $text (local.get $t) (i32.const 2064) (i32.const 1024)))
        (i32.store (i32.const 2052) (i32.const 1))
        (i32.store (i32.const 2056) (i32.const 4))
        (i32.store (i32.const 2060) (local.get $tlen))
        (i32.store (i32.add (i32.const 2064) (local.get $tlen)) (i32.const 0))
        (local.set $alen (i32.add (i32.const 16)
          (i32.and (i32.add (local.get $tlen) (i32.const 3)) (i32.const -4))))))
    (if (local.get $extra)
      (then
        (local.set $x (i32.add (i32.const 512) (i32.mul (local.get $extra) (i32.const 64))))
        (i32.store (i32.const 2052)
          (i32.add (i32.load (i32.const 2052)) (i32.load (local.get $x))))
        (memory.copy (i32.add (i32.const 2048) (local.get $alen))
          (i32.add (local.get $x) (i32.const 8)) (i32.load offset=4 (local.get $x)))
        (local.set $alen (i32.add (local.get $alen) (i32.load offset=4 (local.get $x))))))
    (local.set $r (call $call (local.get $h) (i32.const 1536) (local.get $mlen)
      (i32.const 2048) (local.get $alen) (i32.const 4096) (i32.const 4096)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (call $result (i32.const 4096)))

  (func (export "get_p") (param $h i32) (param $t i32) (result i32)
    (local $r i32)
    (local.set $r (call $get (local.get $h) (i32.const 1024)
      (call $text (local.get $t) (i32.const 1024) (i32.const 512)) (i32.const 4096) (i32.const 4096)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (call $result (i32.const 4096)))

  ;; Sets the property named by text $t to 1.0 with `set_float`; the call's code.
  (func (export "set_f") (param $h i32) (param $t i32) (result i32)
    (call $set_float (local.get $h) (i32.const 1024)
      (call $text (local.get $t) (i32.const 1024) (i32.const 512)) (f64.const 1)))

  (func (export "move_x") (param $h i32) (param $x f32) (result i32)
    (call $set_vec2 (local.get $h) (i32.const 0) (i32.const 8) (local.get $x) (f32.const 0)))

  (func (export "listen") (param $h i32) (param $t i32) (param $id i32) (result i32)
    (call $connect (local.get $h) (i32.const 1024)
      (call $text (local.get $t) (i32.const 1024) (i32.const 512)) (local.get $id)))

  (func (export "native_callback") (param $id i32)
    (local $r i32)
    (local.set $r (call $callback_args (i32.const 4096) (i32.const 4096)))
    (if (i32.lt_s (local.get $r) (i32.const 0))
      (then (global.set $cb (local.get $r)) (return)))
    ;; The Array's first element: an Object (12 bytes) right after the 8-byte header.
    (global.set $cb (call $result (i32.const 4104))))

  (func (export "last_cb") (result i32) (global.get $cb))

  (func (export "report_error")
    (call $report (i32.const 8192)
      (call $last_error (i32.const 8192) (i32.const 1024)))))
