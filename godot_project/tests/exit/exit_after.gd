## Run in its own Godot process by `test_exit.gd`: sets up what a game may leave behind at exit
## (`-- orphan`: started mods on nodes never added to the tree nor freed, one spinning in `main`;
## `-- orphan_handlers`: the same with a GDScript lambda connected to each node's `killed`;
## `-- lambdas`: a GDScript lambda registered as a game function and as a waPC handler, never
## unregistered; `-- compiling`: a large module compiling in the background; `-- config_thread`: a
## module's `config` read on another thread), then quits. The process must end with exit code 0.
extends SceneTree

const CALLBACKS := """(module
  (func (export "process") (param f64))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"""
const CONFIG := """(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{}")
  (func (export "malloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "config") (param $p i32) (param $cap i32) (result i32)
    (if (i32.ge_u (local.get $cap) (i32.const 2)) (then (memory.copy (local.get $p) (i32.const 0) (i32.const 2))))
    (i32.const 2)))"""
const SPIN := """(module
  (func (export "main") (result i32) (loop $l (br $l)) (i32.const 0)))"""


func _initialize() -> void:
	var mode: String = OS.get_cmdline_user_args()[0]
	match mode:
		"orphan", "orphan_handlers":
			for source in [CALLBACKS, SPIN]:
				var node := WasmScript.new()
				node.autostart = false
				node.module = WasmEngine.compile_module(source.to_utf8_buffer(), "exit_orphan")
				if mode == "orphan_handlers":
					node.killed.connect(func(reason: String) -> void: print("killed: ", reason))
				print("start ", node.start())
		"compiling":
			# A large module of its own (salted) compiling in the background when the game quits.
			var lines := PackedStringArray(["(module (func (export \"big\") (param i32) (result i32)"])
			lines.append("  (local.set 0 (i32.add (local.get 0) (i32.const %d)))" % ((Time.get_ticks_usec() + randi()) % 2147483647))
			for i in 400000:
				lines.append("  (local.set 0 (i32.add (local.get 0) (i32.const %d)))" % (i % 7))
			lines.append("  (local.get 0)))")
			var bytes := "\n".join(lines).to_utf8_buffer()
			var hashing := HashingContext.new()
			hashing.start(HashingContext.HASH_SHA256)
			hashing.update(bytes)
			print("sha256 ", hashing.finish().hex_encode())
			_request = WasmEngine.compile_module_async(bytes, "exit_compiling")
		"config_thread":
			# A module's `config` read on another thread (its settings' names made there).
			var module := WasmEngine.compile_module(CONFIG.to_utf8_buffer(), "exit_config")
			var thread := Thread.new()
			thread.start(func() -> Dictionary: return module.get_config())
			print("config ", thread.wait_to_finish())
		"lambdas":
			print("function ", WasmEngine.register_function("game", "get", func(x: int) -> int: return x + 1,
				PackedStringArray(["i32"]), PackedStringArray(["i32"]), 1))
			print("wapc ", WasmEngine.register_wapc_handler("game", "ns", "op",
				func(payload: PackedByteArray) -> PackedByteArray: return payload, 1))
	_quit_soon.call_deferred()


var _request: WasmModuleRequest


func _quit_soon() -> void:
	for i in 3:
		await process_frame
	if _request != null:
		print("compile done at quit: ", _request.is_done())
	print("quitting")
	quit(0)
