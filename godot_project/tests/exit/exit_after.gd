## Run in its own Godot process by `test_exit.gd`: sets up what a game may leave behind at exit
## (`-- orphan`: started mods on nodes never added to the tree nor freed, one spinning in `main`;
## `-- orphan_handlers`: the same with a GDScript lambda connected to each node's `killed`;
## `-- lambdas`: a GDScript lambda registered as a game function and as a waPC handler, never
## unregistered), then quits. The process must end with exit code 0.
extends SceneTree

const CALLBACKS := """(module
  (func (export "process") (param f64))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"""
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
		"lambdas":
			print("function ", WasmEngine.register_function("game", "get", func(x: int) -> int: return x + 1,
				PackedStringArray(["i32"]), PackedStringArray(["i32"]), 1))
			print("wapc ", WasmEngine.register_wapc_handler("game", "ns", "op",
				func(payload: PackedByteArray) -> PackedByteArray: return payload, 1))
	_quit_soon.call_deferred()


func _quit_soon() -> void:
	for i in 3:
		await process_frame
	print("quitting")
	quit(0)
