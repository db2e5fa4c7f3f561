;; `main` sets its own node's `name` to values the engine cannot hold: a Plane whose normal is
;; (0, 0, 0), a Quaternion holding NaN, a Basis of infinities, an Array holding the zero Plane.
;; Each must come back as -3 (never a host panic); then a valid String must still be set (0).
;; The sets are queued (see `$try`), so each -3 is read at the next call that returns a value.
;; Returns one bit per expectation met (31 when all are).
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "name")
  ;; Plane: normal (0, 0, 0), d 1
  (data (i32.const 16) "\0e\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\80\3f")
  ;; Quaternion (0, NaN, 0, 1)
  (data (i32.const 48) "\0f\00\00\00\00\00\00\00\00\00\c0\7f\00\00\00\00\00\00\80\3f")
  ;; Basis of nine infinities
  (data (i32.const 80) "\11\00\00\00\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f")
  ;; Array of one zero-normal Plane
  (data (i32.const 128) "\1c\00\00\00\01\00\00\00\0e\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\80\3f")
  ;; String "variant_hostile_ok" (18 bytes, padded to 20)
  (data (i32.const 160) "\04\00\00\00\12\00\00\00variant_hostile_ok\00\00")
  ;; A `set` from `main` is queued and returns 0: its failure surfaces at the next call that
  ;; returns a value (here `self`, which is then not run and returns the set's code).
  (func $try (param $ptr i32) (param $len i32) (result i32)
    (local $r i32)
    (local.set $r (call $set (call $self) (i32.const 0) (i32.const 4) (local.get $ptr) (local.get $len)))
    (if (result i32) (local.get $r)
      (then (local.get $r))
      (else
        (local.set $r (call $self))
        (select (local.get $r) (i32.const 0) (i32.lt_s (local.get $r) (i32.const 0))))))
  (func $bit (param $got i32) (param $want i32) (param $bit i32) (result i32)
    (select (local.get $bit) (i32.const 0) (i32.eq (local.get $got) (local.get $want))))
  (func (export "main") (result i32)
    (i32.or
      (i32.or
        (i32.or
          (call $bit (call $try (i32.const 16) (i32.const 20)) (i32.const -3) (i32.const 1))
          (call $bit (call $try (i32.const 48) (i32.const 20)) (i32.const -3) (i32.const 2)))
        (i32.or
          (call $bit (call $try (i32.const 80) (i32.const 40)) (i32.const -3) (i32.const 4))
          (call $bit (call $try (i32.const 128) (i32.const 28)) (i32.const -3) (i32.const 8))))
      (call $bit (call $try (i32.const 160) (i32.const 28)) (i32.const 0) (i32.const 16)))))
