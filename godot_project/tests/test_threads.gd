## WasGo's nodes and engine are main-thread objects. Game code on another thread (a `Thread`,
## the `WorkerThreadPool`) that calls them is refused with an error saying so, instead of running
## a mod off the main thread (which raced the main thread's state, or waited for it for ever when
## the mod called into Godot) or quietly doing nothing (`kill()`, `start()`, `kill_all()`); a
## signal the game emits on another thread reaches the mod's callback from the main thread
## (before, it was dropped). The mod is `mods/tests/create` (Rust, SDK).
extends "res://tests/lib/wasgo_test.gd"

const CREATE := MODS + "create.wasm"


func _started(node_name: String) -> ModProbe:
	var probe := new_mod(node_name, {"wasm_file": CREATE, "safety_level": 1})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	return probe


## Runs `work` on a new thread and returns what it returned.
func _on_thread(work: Callable) -> Variant:
	var thread := Thread.new()
	thread.start(work)
	return thread.wait_to_finish()


func test_calls_from_another_thread_are_refused_and_change_nothing() -> void:
	var probe := _started("ThreadCalls")
	var node: WasmScript = probe.node
	expect_eq(_on_thread(func() -> Variant: return node.call_export("inputs", [])), null, "call_export from a thread")
	expect_eq(_on_thread(func() -> Variant: return node.has_export("inputs")), false, "has_export from a thread")
	_on_thread(func() -> void: node.kill())
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "the mod after kill() from a thread")
	_on_thread(func() -> void: WasmEngine.kill_all())
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "the mod after kill_all() from a thread")
	expect_eq(_on_thread(func() -> Variant: return node.start()), ERR_UNAVAILABLE, "start() from a thread")
	var request: WasmModuleRequest = _on_thread(func() -> Variant: return WasmEngine.load_module_async(CREATE))
	expect(request.is_done(), "a request made on a thread is answered at once")
	expect_contains(request.get_error(), "main thread", "its error")
	expect_eq(request.get_module(), null, "its module")
	# On the main thread everything works as before.
	expect_eq(node.call_export("inputs", []), 0, "call_export on the main thread: %s" % node.get_last_error())
	node.kill()
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "kill() on the main thread")


## Once the main thread uses a node (it is ready or started), another thread may not read or
## set its properties: the main thread reads them without locks (a thread setting
## `process_group` on a running node corrupted them: every mod's frames stopped, and freeing
## the node aborted Godot). The refused access says so and changes nothing.
func test_properties_of_a_started_node_are_refused_on_another_thread() -> void:
	var probe := _started("ThreadProps")
	var node: WasmScript = probe.node
	for i in 20:
		_on_thread(func() -> void:
			node.process_group = &"somewhere"
			node.args = PackedStringArray(["x"])
			node.memory_limit_mb = 3)
	expect_eq(node.process_group, &"", "process_group after sets from a thread")
	expect_eq(node.args, PackedStringArray(), "args after sets from a thread")
	expect_eq(node.memory_limit_mb, 0, "memory_limit_mb after sets from a thread")
	expect_eq(_on_thread(func() -> Variant: return node.wasm_file), "", "wasm_file read from a thread")
	node.process_group = &"threads_read"
	expect_eq(_on_thread(func() -> Variant: return node.process_group), &"", "process_group read from a thread")
	node.process_group = &""
	# The main thread sets them as ever, and the node goes on.
	node.args = PackedStringArray(["y"])
	expect_eq(node.args, PackedStringArray(["y"]), "args set on the main thread")
	expect_eq(node.call_export("inputs", []), 0, "call_export: %s" % node.get_last_error())


## A node made and set up on a worker thread (a scene instantiated off the main thread) starts
## once it is in the tree: its properties are settable from any thread.
func test_properties_set_on_a_thread_are_kept() -> void:
	var node: WasmScript = _on_thread(func() -> Variant:
		var made := WasmScript.new()
		made.autostart = false
		made.wasm_file = CREATE
		made.safety_level = 1
		return made)
	_nodes.append(node)
	tree.root.add_child(node)
	expect_eq(node.wasm_file, CREATE, "wasm_file set on the thread")
	expect_eq(node.start(), OK, "start() on the main thread: %s" % node.get_last_error())
	await wait_until(func() -> bool: return node.get_status() == WasmScript.STATUS_RUNNING, 5000)
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "the node runs")


func test_a_signal_emitted_on_another_thread_reaches_the_mod() -> void:
	var probe := _started("ThreadSignal")
	var field := LineEdit.new()
	field.name = "Field"
	probe.node.add_child(field)
	expect_eq(probe.node.call_export("watch_field", []), 0, "connect text_changed")
	# Godot lets another thread emit a node's signal only while the node is outside the tree.
	probe.node.remove_child(field)
	_on_thread(func() -> void: field.text_changed.emit("from a thread"))
	var got: bool = await wait_until(func() -> bool: return probe.has_output("TYPED [from a thread]"), 2000)
	expect(got, "the callback ran on the main thread: %s" % probe.describe())
	field.free()
