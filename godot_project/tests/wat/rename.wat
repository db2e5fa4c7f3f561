;; `rename_self` sets the mod's own node's `name` to "bad"; `rename(path)` sets it on the node at
;; the NodePath `../Other` (another mod's node, or a plain node). Both return `wasgo.set`'s code.
(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "name")
  ;; A String Variant, Godot's encoding: type 4, length 3, "bad", padded to 4 bytes.
  (data (i32.const 16) "\04\00\00\00\03\00\00\00bad\00")
  (data (i32.const 32) "../Other")
  (func (export "rename_self") (result i32)
    (call $set (call $self) (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 12)))
  (func (export "rename_other") (result i32)
    (call $set (call $get_node (call $self) (i32.const 32) (i32.const 8))
      (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 12))))
