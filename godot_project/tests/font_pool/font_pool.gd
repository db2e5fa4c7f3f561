## Run in its own Godot process by `test_engine_work.gd` (the font-size pool is one per game, so
## filling it inside the suite's process would refuse later tests' sizes): a `create` mod sets 16
## different font sizes, then a 17th; a second instance, started after the first is gone, tries
## a new size and an old one. Prints one `size N -> RESULT` line per call, then `done`.
extends SceneTree

const CREATE := "res://tests/mods/create.wasm"


func _initialize() -> void:
	_run.call_deferred()


func _mod() -> WasmScript:
	var node := WasmScript.new()
	node.autostart = false
	node.module = WasmEngine.load_module(CREATE)
	node.output.connect(func(text: String) -> void: print("[mod] ", text))
	root.add_child(node)
	print("start ", node.start())
	return node


func _size(node: WasmScript, size: int) -> void:
	print("size %d -> %d" % [size, node.call_export("font_size", [size])])


func _run() -> void:
	await process_frame
	var first := _mod()
	await process_frame
	for size in range(10, 26):
		_size(first, size)
	_size(first, 99)
	_size(first, 12)
	first.kill()
	first.free()
	var second := _mod()
	await process_frame
	_size(second, 99)
	_size(second, 20)
	second.kill()
	second.free()
	for i in 3:
		await process_frame
	print("done")
	quit(0)
