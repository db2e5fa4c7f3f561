## Base of every headless WasGo test file (`res://tests/test_*.gd`).
##
## The runner makes a fresh instance for each `test_*` method, sets `tree`, awaits the method and
## then `cleanup()`. Assertions record failures instead of stopping the test; a test passes only
## if none were recorded. Nodes made with `new_mod()`, project settings changed with
## `set_setting()` and functions registered with `register_game_function()` are undone in
## `cleanup()`, so no test leaks into the next.
extends RefCounted

const ModProbe := preload("res://tests/lib/mod_probe.gd")
const MODS := "res://tests/mods/"
const WAT := "res://tests/wat/"
const SAFETY_LEVEL := "wasgo/safety/level"

var tree: SceneTree
var failures: PackedStringArray = []

var _nodes: Array[Node] = []
var _saved_settings := {}
var _registered: Array = []
## Modules `new_mod()` compiled ahead, held so that the engine keeps them compiled.
var _modules: Array[WasmModule] = []


# --- assertions ---------------------------------------------------------------------------

## Records a failure.
func fail(message: String) -> void:
	failures.append(message)


## Records `message` unless `condition` holds; returns `condition`.
func expect(condition: bool, message: String) -> bool:
	if not condition:
		fail(message)
	return condition


## Records a failure unless `got` equals `want` (numbers compare across int/float).
func expect_eq(got: Variant, want: Variant, what: String) -> bool:
	if want == null or got == null:
		# A typed variable holding no object is TYPE_OBJECT, not TYPE_NIL: compare nullness.
		if (want == null) == (got == null):
			return true
	elif (typeof(got) == typeof(want) or (_is_number(got) and _is_number(want))) and got == want:
		return true
	fail("%s: expected %s, got %s" % [what, var_to_str(want), var_to_str(got)])
	return false


## Records a failure unless `text` contains `part`.
func expect_contains(text: String, part: String, what: String) -> bool:
	return expect(text.contains(part), "%s: expected it to contain %s, got %s" % [what, var_to_str(part), var_to_str(text)])


func _is_number(value: Variant) -> bool:
	return typeof(value) == TYPE_INT or typeof(value) == TYPE_FLOAT


# --- waiting ------------------------------------------------------------------------------

## Waits `count` frames.
func frames(count: int) -> void:
	for i in count:
		await tree.process_frame


## Waits (frame by frame) until `condition` returns true; false if `timeout_ms` ran out first.
func wait_until(condition: Callable, timeout_ms := 5000) -> bool:
	var deadline := Time.get_ticks_msec() + timeout_ms
	while not condition.call():
		if Time.get_ticks_msec() > deadline:
			return false
		await tree.process_frame
	return true


## Waits until the mod finished, trapped or was killed, then two more frames for signals that
## arrive right after; false on timeout.
func wait_for_end(probe: ModProbe, timeout_ms := 10000) -> bool:
	var ended: bool = await wait_until(probe.ended, timeout_ms)
	await frames(2)
	return ended


## A value of this process's `/proc/<pid>/status` (`VmRSS` in KiB, `Threads`), or -1 where there
## is none. (`FileAccess` sees /proc files as empty, so `cat` reads it.)
func proc_status(key: String) -> int:
	var output := []
	if OS.execute("cat", ["/proc/%d/status" % OS.get_process_id()], output) != 0 or output.is_empty():
		return -1
	var text: String = output[0]
	for line in text.split("\n"):
		if line.begins_with(key + ":"):
			return line.trim_prefix(key + ":").strip_edges().split(" ")[0].to_int()
	return -1


## Waits for the engine to have no worker thread left (earlier mods winding down).
func wait_for_no_workers(timeout_ms := 2000) -> bool:
	return await wait_until(func() -> bool: return WasmEngine.get_stats()["workers"] == 0, timeout_ms)


# --- mods ---------------------------------------------------------------------------------

## A new `WasmScript` named `node_name` with `autostart = false` and the given properties, wrapped
## in a probe that records its signals. Freed in `cleanup()`. A `wasm_file` is compiled here
## first (and held), so `start()` finds it compiled and starts at once instead of loading it in
## the background (`test_async_compile.gd` tests that path, with `precompile` false).
func new_mod(node_name: String, properties := {}, precompile := true) -> ModProbe:
	if precompile and properties.has("wasm_file") and not properties.has("module"):
		var compiled := WasmEngine.load_module(properties["wasm_file"])
		if compiled != null:
			_modules.append(compiled)
	var node := WasmScript.new()
	node.name = node_name
	node.autostart = false
	for key: String in properties:
		node.set(key, properties[key])
	_nodes.append(node)
	return ModProbe.new(node)


## Makes `count` nodes running `module` (autostart off), each added under the tree's root and
## started; appends them to `nodes` and returns how many of the starts failed.
func start_nodes(module: WasmModule, count: int, nodes: Array[WasmScript]) -> int:
	var failed := 0
	for i in count:
		var node := WasmScript.new()
		node.autostart = false
		node.module = module
		tree.root.add_child(node)
		if node.start() != OK:
			failed += 1
		nodes.append(node)
	return failed


## Kills and frees every node of `nodes`, then empties it.
func free_nodes(nodes: Array[WasmScript]) -> void:
	for node in nodes:
		node.kill()
		node.free()
	nodes.clear()


## Adds the probe's node to the tree (if needed) and calls `start()`; returns its result.
func start(probe: ModProbe) -> int:
	if not probe.node.is_inside_tree():
		tree.root.add_child(probe.node)
	return probe.node.start()


## Starts the mod and waits for it to end; records a failure if `start()` fails or it hangs.
func run_to_end(probe: ModProbe, timeout_ms := 10000) -> bool:
	if not expect_eq(start(probe), OK, "start() of %s" % probe.node.name):
		return false
	return expect(await wait_for_end(probe, timeout_ms),
		"%s did not end within %d ms: %s" % [probe.node.name, timeout_ms, probe.describe()])


## The WAT fixture `res://tests/wat/<file_name>.wat`, compiled; records a failure if it does not.
func wat_module(file_name: String) -> WasmModule:
	var path := WAT + file_name + ".wat"
	var bytes := FileAccess.get_file_as_bytes(path)
	expect(not bytes.is_empty(), "cannot read %s" % path)
	var module := WasmEngine.compile_module(bytes, file_name)
	expect(module != null, "compile_module(%s) failed: %s" % [path, WasmEngine.get_last_error()])
	return module


## Checks that the game still runs frames after something hostile happened.
func expect_frames_go_on(context: String) -> void:
	var before := Engine.get_process_frames()
	var went_on: bool = await wait_until(func() -> bool: return Engine.get_process_frames() >= before + 3, 2000)
	expect(went_on, "%s: the game stopped running frames" % context)


## Checks that an ordinary mod (`hello`) still runs to the end after something hostile happened.
func expect_hello_still_works(context: String) -> void:
	var probe := new_mod("hello_after_" + context.validate_node_name(), {"wasm_file": MODS + "hello.wasm"})
	if await run_to_end(probe):
		expect(probe.finished == [0] and probe.has_output("hello from wasi"),
			"%s: a normal mod no longer works afterwards: %s" % [context, probe.describe()])


# --- settings and registrations -----------------------------------------------------------

## Sets a project setting for this test only.
func set_setting(setting: String, value: Variant) -> void:
	if not _saved_settings.has(setting):
		_saved_settings[setting] = ProjectSettings.get_setting(setting)
	ProjectSettings.set_setting(setting, value)


## `WasmEngine.register_function` for this test only; returns its result.
func register_game_function(module: String, function: String, callable: Callable,
		params: PackedStringArray, results: PackedStringArray, level: int) -> int:
	var error: int = WasmEngine.register_function(module, function, callable, params, results, level)
	if error == OK:
		_registered.append([module, function])
	return error


## Undoes what the test set up: kills and frees its nodes, restores settings and registrations.
func cleanup() -> void:
	for node in _nodes:
		if is_instance_valid(node):
			if node.is_running():
				node.kill()
			node.free()
	_nodes.clear()
	_modules.clear()
	for pair in _registered:
		WasmEngine.unregister_function(pair[0], pair[1])
	_registered.clear()
	for setting: String in _saved_settings:
		ProjectSettings.set_setting(setting, _saved_settings[setting])
	_saved_settings.clear()
