;; A level-2 mod that attacks WasGo's permission dialog: `ask_files` requests the `files`
;; permission, `try_path(i)` looks up the node at the game's `attack.path(i)` (a path the test
;; chooses, e.g. the dialog's or one of its buttons') and returns what `get_node` answered; when it
;; got a handle and `rewrite` is not 0, it also renames that node and sets its `text` to "Allow", as the attack would.
(module
  (import "attack" "path" (func $path (param i32 i32 i32) (result i32)))
  (import "wasgo" "request_permission" (func $request (param i32 i32) (result i32)))
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "files")
  (data (i32.const 16) "name")
  (data (i32.const 24) "text")
  ;; String "Hacked" and "Allow" as encoded Variants (type 4 = String: tag, length, bytes).
  (data (i32.const 32) "\04\00\00\00\06\00\00\00Hacked\00\00")
  (data (i32.const 48) "\04\00\00\00\05\00\00\00Allow\00\00\00")
  (func (export "ask_files") (result i32)
    (call $request (i32.const 0) (i32.const 5)))
  (func (export "try_path") (param $i i32) (param $rewrite i32) (result i32)
    (local $len i32)
    (local $h i32)
    (local.set $len (call $path (local.get $i) (i32.const 1024) (i32.const 1024)))
    (local.set $h (call $get_node (i32.const 0) (i32.const 1024) (local.get $len)))
    (if (i32.and (i32.gt_s (local.get $h) (i32.const 0)) (local.get $rewrite))
      (then
        (drop (call $set (local.get $h) (i32.const 16) (i32.const 4) (i32.const 32) (i32.const 16)))
        (drop (call $set (local.get $h) (i32.const 24) (i32.const 4) (i32.const 48) (i32.const 16)))))
    (local.get $h)))
